//! Demo complaints: the seed's SLA targets, approval rules, responsibility matrix and 2026
//! calendar, then complaints in every state of the lifecycle, each moved through the real
//! service by the user whose job it is (so numbered, timed, audited and on the timelines).

use domain::FieldErrors;
use domain::auth::Role;
use domain::complaints::draft::{
    Analysis, AnalysisRaw, Registration, RegistrationRaw, Remedy, RemedyRaw,
};
use store::complaints::Complaint;

use crate::app::AppState;
use crate::auth::{Ctx, OrgCtx};
use crate::complaints::service::{self, Step};
use crate::error::AppResult;
use crate::i18n::Tr;

/// A demo user's id and role by login.
pub struct Who<'a> {
    pub login: &'a str,
    pub id: i64,
    pub role: Role,
}

fn ctx(org: i64, w: &Who<'_>) -> Ctx {
    Ctx {
        user_id: w.id,
        login: w.login.into(),
        name: w.login.into(),
        system_admin: false,
        org: Some(OrgCtx {
            id: org,
            name: String::new(),
            role: w.role,
        }),
        session_id: None,
        csrf: String::new(),
        tr: Tr::new(Default::default(), 480),
    }
}

const FAULTS: [&str; 8] = [
    "主控柜报警",
    "电机异响",
    "管路漏水",
    "通讯中断",
    "显示屏黑屏",
    "安装不规范",
    "服务响应慢",
    "发票错误",
];

/// Loads the settings and `n` complaints spread over every state; returns how many.
pub async fn generate(st: &AppState, org: i64, users: &[Who<'_>], n: usize) -> AppResult<usize> {
    {
        let now = st.now();
        let mut tx = st.db.begin().await?;
        crate::complaints::settings::seed_defaults(&mut tx, org, now).await?;
        tx.commit().await?;
    }
    let by = |login: &str| users.iter().find(|u| u.login == login).map(|u| ctx(org, u));
    let (Some(biz), Some(eng), Some(mgr), Some(prd)) = (
        by("business"),
        by("engineer"),
        by("manager"),
        by("production"),
    ) else {
        return Ok(0);
    };
    let units = {
        let mut h = st.db.acquire().await?;
        store::archives::equipment::sample(&mut h.c(), org, 64).await?
    };
    if units.is_empty() {
        return Ok(0);
    }
    let severities = service::severities(st, org).await?;
    let now = st.now();
    for i in 0..n {
        let (serial, customer) = &units[(i * 7) % units.len()];
        let fault = FAULTS[i % FAULTS.len()];
        let class = match i % 4 {
            0 | 1 => "quality",
            2 => "human",
            _ => "other",
        };
        let severity = if i % 3 == 0 { "serious" } else { "minor" };
        // A repeat every so often: the same unit and fault as four complaints earlier.
        let (serial, customer) = if i % 10 == 9 && i >= 4 {
            units[((i - 4) * 7) % units.len()].clone()
        } else {
            (serial.clone(), customer.clone())
        };
        let fault = if i % 10 == 9 && i >= 4 {
            FAULTS[(i - 4) % FAULTS.len()]
        } else {
            fault
        };
        let qty = format!("{}", 1 + i % 5);
        let r = Registration::parse(
            FieldErrors::default(),
            RegistrationRaw {
                channel: Some(["phone", "visit", "email", "web", "letter"][i % 5]),
                class: Some(class),
                severity: Some(severity),
                fault_category: Some(fault),
                customer_name: &customer,
                contact_name: Some("设备科"),
                contact_phone: Some("021-5555 0100"),
                serial: Some(&serial),
                batch_no: Some(&format!("B2026{:02}", 1 + i % 12)),
                quantity: Some(&qty),
                defective_quantity: Some("1"),
                demand: Some(["尽快上门维修", "更换不良部件", "退货退款", "书面说明原因"][i % 4]),
                description: &format!("{fault}：客户反映设备运行中出现{fault}，影响正常生产。"),
                ..Default::default()
            },
            &severities,
        )?;
        // Spread receipt over the last weeks, the newest last; a few are still fresh.
        let received = now - ((n - i) as i64) * 5 * 3600;
        let c = service::register(st, &biz, r, Some(received)).await?;
        let stage = i % 8;
        if stage == 0 {
            continue;
        }
        let mut c = step(st, &biz, &c, Step::Confirm).await?;
        if stage == 1 {
            continue;
        }
        let (resp, dep) = match (stage, class) {
            (6, _) => ("customer_use", None),
            (_, "quality") => ("ours", department(st, org, "PRD").await?),
            _ => ("supplier", None),
        };
        let an = Analysis::parse(
            FieldErrors::default(),
            AnalysisRaw {
                class: Some(if stage == 6 { "human" } else { class }),
                responsibility: Some(resp),
                responsible_department_id: dep,
                fault_category: Some(fault),
                investigation: Some("现场检查并调阅运行记录"),
                cause: Some(if stage == 6 {
                    "客户超负荷使用"
                } else {
                    "元器件批次不良"
                }),
                inspection_result: Some("检验报告 QA-2026-017"),
                inspection_basis: Some("GB/T 3797 及产品使用说明书"),
            },
        )?;
        c = step(st, &eng, &c, Step::Analyse(an)).await?;
        if stage == 2 {
            continue;
        }
        if stage == 6 {
            c = step(
                st,
                &eng,
                &c,
                Step::Explain("经检验为超负荷使用所致，已提供检验报告。".into()),
            )
            .await?;
            c = step(
                st,
                &biz,
                &c,
                Step::Respond {
                    accepted: true,
                    text: "认可".into(),
                },
            )
            .await?;
            step(
                st,
                &biz,
                &c,
                Step::Visit {
                    satisfied: true,
                    note: None,
                },
            )
            .await?;
            continue;
        }
        let remedy = Remedy::parse(
            FieldErrors::default(),
            RemedyRaw {
                remedy_type: Some(if i % 5 == 0 { "refund" } else { "replace" }),
                amount_fen: Some(if i % 5 == 0 { 680_000 } else { 0 }),
                detail: Some("更换主控板并承担运费"),
                proposed_by: Some("生产部、业务部"),
                agreed_reply_date: None,
            },
        )?;
        // Production proposes for its own quality problems; business for the rest.
        let proposer = if dep.is_some() { &prd } else { &biz };
        c = step(st, proposer, &c, Step::Propose(remedy)).await?;
        if stage == 3 {
            continue;
        }
        if c.status == "remedy_proposed" && severity != "minor" {
            // Every required approver approves, as the demo's departments would.
            let d = service::detail(st, &mgr, c.id).await?;
            for a in d.approvals.iter().filter(|a| a.decision.is_none()) {
                let who = match (&a.approver_role, a.approver_department_id) {
                    (Some(_), _) => &mgr,
                    (None, Some(d)) if Some(d) == department(st, org, "PRD").await? => &prd,
                    _ => &biz,
                };
                c = service::decide(st, who, c.id, a.id, true, Some("同意".into())).await?;
            }
        }
        c = step(st, &biz, &c, Step::Agree { note: None }).await?;
        c = step(st, &eng, &c, Step::Start { note: None }).await?;
        c = step(
            st,
            &eng,
            &c,
            Step::Progress("备件已发出，预计两天内到场".into()),
        )
        .await?;
        if stage == 4 || (c.capa_required && c.capa_id.is_none()) {
            continue;
        }
        c = step(st, &eng, &c, Step::Complete("已更换并调试正常".into())).await?;
        let satisfied = stage != 7;
        step(
            st,
            &biz,
            &c,
            Step::Visit {
                satisfied,
                note: (!satisfied).then(|| "问题复发，客户不满意".to_string()),
            },
        )
        .await?;
    }
    Ok(n)
}

async fn step(st: &AppState, ctx: &Ctx, c: &Complaint, s: Step) -> AppResult<Complaint> {
    service::act(st, ctx, c.id, c.version, s).await
}

async fn department(st: &AppState, org: i64, code: &str) -> AppResult<Option<i64>> {
    let mut h = st.db.acquire().await?;
    Ok(store::org::department_id_by_code(&mut h.c(), org, code).await?)
}
