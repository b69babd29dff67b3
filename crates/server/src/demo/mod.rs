//! The demo company: the seed document's departments, posts with their duties (岗位职能),
//! staff, and one user per role, all written through the same services (so audited).

use domain::FieldErrors;
use domain::auth::Role;
use domain::org::{DepartmentDraft, PostDraft, StaffDraft, StaffRaw, UserDraft};
use store::audit::Actor;

use crate::app::AppState;
use crate::auth::{Ctx, OrgCtx};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;

pub mod archives;
pub mod complaints;
pub mod volume;

/// Code of the demo organization.
pub const DEMO_ORG: &str = "demo";

/// Departments from the seed: (code, name, description).
const DEPARTMENTS: &[(&str, &str, &str)] = &[
    (
        "SVC",
        "售后服务部",
        "负责售后服务体系运行：客户投诉处理、回访、满意度调查、设备维护保养与服务档案。",
    ),
    (
        "BIZ",
        "业务部",
        "客户投诉登记与确认、调查与提报、设计合理性调查、改善方案的提出与效果确认。",
    ),
    (
        "MKT",
        "营销部",
        "配合确认投诉，提供订单编号、料号、数量、交运日期，协助客户解决疑难。",
    ),
    (
        "PRD",
        "生产部",
        "对严重质量投诉提出产品解决措施，落实改善。",
    ),
    (
        "PUR",
        "采购部",
        "参与拟定改善方法，避免同类问题再次发生（供应商质量）。",
    ),
    (
        "QA",
        "质量部",
        "投诉质量的检验确认、原因分析、对策拟定与执行监督。",
    ),
];

/// Posts: (name, department code, duties, authority).
const POSTS: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "售后服务部经理",
        "SVC",
        &[
            "与相关部门协调实施售后服务及其计划",
            "确定售后各部门间关系，促进内部人员的团队精神",
            "建立工作档案，建立顾客服务记录",
            "组织负责顾客满意度调查和统计分析工作",
            "负责客户投诉内容的调查、处理及解决",
            "负责客户预约服务协调和客户跟踪服务",
            "建立工作设施、设备档案，保障设施正常运行",
            "随时与其他部门保持沟通联系",
        ],
        &["审批投诉处理方案", "调派服务工程师", "签发服务报告"],
    ),
    (
        "服务工程师",
        "SVC",
        &[
            "按计划完成客户设备的例行、季度、年度保养",
            "上门维修、安装调试与技术支持",
            "客户投诉质量问题的现场检验确认",
            "完成回访并如实记录客户意见",
        ],
        &["现场判定故障原因", "领用备件"],
    ),
    (
        "业务专员",
        "BIZ",
        &[
            "客户投诉案件的登记，了解客户投诉及投诉理由的确认",
            "客户投诉内容的审核、调查、提报及产品开发的缺陷",
            "客户投诉改善方案的提出、洽办、执行成果的督促及效果确认",
            "客户投诉处理中客户反映意见的提报",
        ],
        &["与客户协商处理办法"],
    ),
    (
        "营销专员",
        "MKT",
        &[
            "配合售后服务人员了解客户投诉及投诉理由的确认",
            "提供客户投诉产品的订单编号、料号、数量、交运日期",
            "协助客户解决疑难或提供必要的参考资料",
        ],
        &[],
    ),
    (
        "质量主管",
        "QA",
        &[
            "客户投诉质量的检验确认",
            "分析问题原因、拟定处理对策并监督执行",
            "纠正和预防措施的有效性验证",
        ],
        &["判定质量责任归属", "关闭纠正措施"],
    ),
];

/// Staff: (name, employee no, department code, post name, phone).
const STAFF: &[(&str, &str, &str, &str, &str)] = &[
    ("王建国", "E001", "SVC", "售后服务部经理", "13800000001"),
    ("李明", "E002", "SVC", "服务工程师", "13800000002"),
    ("张伟", "E003", "SVC", "服务工程师", "13800000003"),
    ("刘芳", "E004", "BIZ", "业务专员", "13800000004"),
    ("陈静", "E005", "MKT", "营销专员", "13800000005"),
    ("杨洋", "E006", "QA", "质量主管", "13800000006"),
    ("赵磊", "E007", "PRD", "", "13800000007"),
    ("周敏", "E008", "PUR", "", "13800000008"),
];

/// Demo users besides `admin`: (login, name, role, department code).
const USERS: &[(&str, &str, Role, &str)] = &[
    ("manager", "王建国", Role::Manager, "SVC"),
    ("engineer", "李明", Role::Engineer, "SVC"),
    ("business", "刘芳", Role::Staff, "BIZ"),
    ("production", "周强", Role::Staff, "PRD"),
    ("marketing", "陈静", Role::Staff, "MKT"),
    ("supervisor", "杨洋", Role::Supervisor, "QA"),
    ("auditor", "外部审核员", Role::Auditor, ""),
];

/// What loading the demo produced.
pub struct DemoReport {
    pub org_id: i64,
    pub users: Vec<String>,
    pub password: String,
    /// What `--volume` wrote, if asked.
    pub volume: Option<volume::Counts>,
}

fn as_admin(org: i64, user: i64) -> Ctx {
    Ctx {
        user_id: user,
        login: "demo".into(),
        name: "demo".into(),
        system_admin: true,
        org: Some(OrgCtx {
            id: org,
            name: String::new(),
            role: Role::Admin,
        }),
        session_id: None,
        csrf: String::new(),
        tr: Tr::new(Default::default(), 480),
    }
}

/// Loads the demo organization (if absent): the seed's departments, posts and staff plus
/// `scale` × 20 extra staff, and `max(scale, 1)` units of archives (see [`archives`]); `admin`
/// becomes its administrator. Demo users share one generated password, returned once.
pub async fn load(st: &AppState, admin: i64, scale: u32) -> AppResult<Option<DemoReport>> {
    load_with(st, admin, scale, false).await
}

/// [`load`], plus with `with_volume` the benchmark volume of [`volume`] for `max(scale, 1)` units.
pub async fn load_with(
    st: &AppState,
    admin: i64,
    scale: u32,
    with_volume: bool,
) -> AppResult<Option<DemoReport>> {
    {
        let mut h = st.db.acquire().await?;
        if store::tenants::by_code(&mut h.c(), DEMO_ORG)
            .await?
            .is_some()
        {
            return Ok(None);
        }
    }
    let actor = Actor::system("demo");
    let org =
        crate::admin::create_org(st, &actor, DEMO_ORG, "示例设备有限公司", Some(admin)).await?;
    let ctx = as_admin(org, admin);
    let mut deps = Vec::new();
    for (code, name, desc) in DEPARTMENTS {
        let d = DepartmentDraft::parse(FieldErrors::default(), Some(code), name, None, Some(desc))?;
        deps.push((
            *code,
            crate::org::service::create_department(st, &ctx, d)
                .await?
                .id,
        ));
    }
    let dep = |code: &str| deps.iter().find(|d| d.0 == code).map(|d| d.1);
    let mut posts = Vec::new();
    for (name, code, duties, authority) in POSTS {
        let d = PostDraft::parse(
            FieldErrors::default(),
            name,
            dep(code),
            duties.iter().map(|s| s.to_string()).collect(),
            authority.iter().map(|s| s.to_string()).collect(),
        )?;
        posts.push((
            *name,
            crate::org::service::create_post(st, &ctx, d).await?.id,
        ));
    }
    let post = |name: &str| posts.iter().find(|p| p.0 == name).map(|p| p.1);
    for (name, no, code, post_name, phone) in STAFF {
        let d = StaffDraft::parse(
            FieldErrors::default(),
            StaffRaw {
                name,
                employee_no: Some(no),
                department_id: dep(code),
                post_id: post(post_name),
                phone: Some(phone),
                email: None,
                hired_on: Some("2020-03-01"),
            },
        )?;
        crate::org::service::create_staff(st, &ctx, d).await?;
    }
    const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
    const GIVEN: [&str; 10] = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"];
    for i in 0..(scale as usize * 20) {
        let name = format!(
            "{}{}{}",
            SURNAMES[i % 10],
            GIVEN[(i / 10) % 10],
            i / 100 + 1
        );
        let no = format!("S{:05}", i + 1);
        let d = StaffDraft::parse(
            FieldErrors::default(),
            StaffRaw {
                name: &name,
                employee_no: Some(&no),
                department_id: Some(deps[i % deps.len()].1),
                post_id: None,
                phone: None,
                email: None,
                hired_on: None,
            },
        )?;
        crate::org::service::create_staff(st, &ctx, d).await?;
    }
    // Archives in bulk, one audit row for the whole load.
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let counts = archives::generate(&mut tx, org, scale.max(1) as usize, now).await?;
    store::audit::record(
        &mut tx.c(),
        store::audit::NewEntry {
            org_id: Some(org),
            at: now,
            actor: &actor,
            action: "create",
            entity: "demo_archives",
            entity_id: None,
            before: None,
            after: Some(serde_json::json!({
                "customers": counts.customers,
                "products": counts.products,
                "orders": counts.orders,
                "equipment": counts.equipment,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    st.db.optimize().await?;

    let password = crate::admin::generate_password();
    let mut users = Vec::new();
    let mut who = Vec::new();
    for (login, name, role, code) in USERS {
        let deps: Vec<i64> = dep(code).into_iter().collect();
        let d = UserDraft::parse(FieldErrors::default(), login, name, role.as_str(), deps)?;
        match crate::admin::create_member(st, &actor, org, d, &password).await {
            Ok(id) => {
                users.push(login.to_string());
                who.push(complaints::Who {
                    login,
                    id,
                    role: *role,
                });
            }
            // A login taken by an earlier, non-demo user is left alone.
            Err(AppError::Invalid(_)) => {}
            Err(e) => return Err(e),
        }
    }
    // Complaints through the real service: a few dozen, whatever the scale (bulk volume for
    // benchmarks is the bench's job).
    complaints::generate(st, org, &who, 40).await?;
    // Maintenance: the seed's three checklist levels, parts and stock, plans and their orders.
    {
        let now = st.now();
        let mut tx = st.db.begin().await?;
        crate::maintenance::checklists::seed_demo(&mut tx, org, now).await?;
        tx.commit().await?;
    }
    crate::maintenance::parts::seed_demo(st, org).await?;
    crate::maintenance::plans::seed_demo(st, org).await?;
    // Satisfaction: the default survey template, a study with answers, return visits.
    let template = {
        let now = st.now();
        let mut tx = st.db.begin().await?;
        let id = crate::satisfaction::surveys::seed_default(&mut tx, org, Some(admin), now).await?;
        tx.commit().await?;
        id
    };
    crate::satisfaction::studies::seed_demo(st, org, template).await?;
    crate::satisfaction::visits::seed_demo(st, org).await?;
    let volume = if with_volume {
        let counts =
            volume::generate(st, org, &who, volume::Sizes::per_scale(scale as usize)).await?;
        let now = st.now();
        let mut tx = st.db.begin().await?;
        store::audit::record(
            &mut tx.c(),
            store::audit::NewEntry {
                org_id: Some(org),
                at: now,
                actor: &actor,
                action: "create",
                entity: "demo_archives",
                entity_id: None,
                before: None,
                after: serde_json::to_value(counts).ok(),
            },
        )
        .await?;
        store::search::compact(&mut tx.c()).await?;
        tx.commit().await?;
        st.db.optimize().await?;
        Some(counts)
    } else {
        None
    };
    Ok(Some(DemoReport {
        org_id: org,
        users,
        password,
        volume,
    }))
}
