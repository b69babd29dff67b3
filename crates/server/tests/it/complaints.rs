//! Tests: complaint handling through every route of DOMAIN.md §4 (serious quality with
//! approvals, minor, not ours, unsatisfied return visit, repeat needing a CAPA), working-time
//! SLAs on the 2026 calendar, SLA alerts sent once by two workers, department and role
//! permissions, stale edits naming who changed the record, and the HTML pages.

use domain::FieldErrors;
use domain::auth::Role;
use domain::org::UserDraft;
use serde_json::{Value, json};
use store::audit::Actor;
use store::complaints::settings::{self as cs, ApprovalRule, SlaTarget};
use store::org::DepartmentValues;

use crate::helpers::*;

/// The organization's departments, users and rules used by every test here.
#[allow(dead_code)]
pub struct Setup {
    pub biz: i64,
    pub prd: i64,
    pub mkt: i64,
    pub svc: i64,
    /// API clients by role / department.
    pub admin: Api,
    pub manager: Api,
    pub engineer: Api,
    pub biz_staff: Api,
    pub prd_staff: Api,
    pub mkt_staff: Api,
    pub auditor: Api,
}

async fn member(app: &TestApp, login: &str, role: Role, deps: Vec<i64>) -> Api {
    let d = UserDraft::parse(FieldErrors::default(), login, login, role.as_str(), deps).unwrap();
    let id = server::admin::create_member(&app.st, &Actor::system("test"), app.org, d, PW)
        .await
        .unwrap();
    app.api(&app.token(id, app.org).await)
}

/// Departments BIZ/PRD/MKT/SVC, SLA targets, approval rules (serious → BIZ and PRD; refund
/// over ¥5,000 → manager) and a responsibility matrix, written through the store.
pub async fn setup(app: &TestApp) -> Setup {
    let now = app.st.now();
    let mut tx = app.st.db.begin().await.unwrap();
    let dep = |code: &'static str, name: &'static str| DepartmentValues {
        code: Some(code),
        name,
        parent_id: None,
        description: None,
    };
    let mut ids = Vec::new();
    for (code, name) in [
        ("BIZ", "业务部"),
        ("PRD", "生产部"),
        ("MKT", "市场部"),
        ("SVC", "售后服务部"),
    ] {
        ids.push(
            store::org::insert_department(&mut tx.c(), app.org, &dep(code, name), now)
                .await
                .unwrap(),
        );
    }
    let (biz, prd, mkt, svc) = (ids[0], ids[1], ids[2], ids[3]);
    for (sev, a, r, m, c) in [
        ("minor", 60, 240, 2400, 4800),
        ("serious", 30, 120, 960, 2400),
    ] {
        cs::put_sla_target(
            &mut tx.c(),
            app.org,
            &SlaTarget {
                id: 0,
                severity: sev.into(),
                contract_level: String::new(),
                ack_minutes: Some(a),
                response_minutes: Some(r),
                remedy_minutes: Some(m),
                close_minutes: Some(c),
                version: 0,
            },
            now,
        )
        .await
        .unwrap();
    }
    let rule = |severity: Option<&str>,
                t: Option<&str>,
                min: Option<i64>,
                role: Option<&str>,
                d: Option<i64>| ApprovalRule {
        id: 0,
        remedy_type: t.map(String::from),
        min_amount_fen: min,
        responsibility: None,
        severity: severity.map(String::from),
        approver_role: role.map(String::from),
        approver_department_id: d,
        approver_department: None,
        note: None,
        active: true,
        version: 0,
    };
    for r in [
        rule(Some("serious"), None, None, None, Some(biz)),
        rule(Some("serious"), None, None, None, Some(prd)),
        rule(None, Some("refund"), Some(500_000), Some("manager"), None),
    ] {
        cs::put_approval_rule(&mut tx.c(), app.org, &r, now)
            .await
            .unwrap();
    }
    for (step, d, duty) in [
        ("register", biz, "登记并确认投诉"),
        ("confirm", mkt, "提供订单编号、料号、数量和交运日期"),
        ("analyse", svc, "检验确认质量问题，分析原因"),
        ("remedy", prd, "提出处理方案"),
        ("implement", svc, "落实处理方案"),
        ("prevent", biz, "提出改善并确认效果"),
        ("visit", biz, "回访客户"),
    ] {
        cs::add_duty(&mut tx.c(), app.org, step, d, duty, 0, now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    Setup {
        biz,
        prd,
        mkt,
        svc,
        admin: app.api(&app.token(app.admin_id, app.org).await),
        manager: member(app, "mgr", Role::Manager, vec![svc]).await,
        engineer: member(app, "eng", Role::Engineer, vec![svc]).await,
        biz_staff: member(app, "bizs", Role::Staff, vec![biz]).await,
        prd_staff: member(app, "prds", Role::Staff, vec![prd]).await,
        mkt_staff: member(app, "mkts", Role::Staff, vec![mkt]).await,
        auditor: member(app, "aud", Role::Auditor, vec![]).await,
    }
}

fn quality(severity: &str) -> Value {
    json!({"channel": "phone", "class": "quality", "severity": severity, "customer_name": "华东机械有限公司",
           "contact_name": "王工", "description": "主控柜频繁报警", "fault_category": "主控柜报警"})
}

/// Registers a complaint; returns its JSON.
pub async fn register(api: &Api, body: Value) -> Value {
    let (st, c) = api.post("/api/v1/complaints", body).await;
    assert_eq!(st, 201, "{c}");
    c
}

/// Registrations of one organization sorted by number: numbered 1, 2, 3… of the year, and
/// each a repeat of all the earlier ones (same customer, fault and part).
fn numbered_repeats(sorted: &[Value], what: &str) {
    for (k, c) in sorted.iter().enumerate() {
        assert!(
            c["number"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{:06}", k + 1)),
            "{c}"
        );
        assert_eq!(c["repeat_count"], k as i64, "{what}: {c}");
    }
}

/// Applies a move with the current version; returns (status, body).
pub async fn act(api: &Api, c: &Value, action: &str, mut body: Value) -> (u16, Value) {
    body["version"] = c["version"].clone();
    api.post(
        &format!("/api/v1/complaints/{}/actions/{action}", c["id"]),
        body,
    )
    .await
}

/// Applies a move that must succeed; returns the complaint after it.
pub async fn ok(api: &Api, c: &Value, action: &str, body: Value) -> Value {
    let (st, b) = act(api, c, action, body).await;
    assert_eq!(st, 200, "{action}: {b}");
    b
}

fn fields(body: &Value) -> Vec<String> {
    let mut v: Vec<String> = body["fields"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Inserts a corrective action for a complaint directly (the CAPA module has its own tests).
async fn capa_for(app: &TestApp, complaint: i64) {
    let mut tx = app.st.db.begin().await.unwrap();
    store::run!(&mut tx.c(), x => sqlx::query(
        "INSERT INTO capas (org_id, number, complaint_id, title, status, effect_days, effect_units, created_at,
            updated_at, version) VALUES ($1, $2, $3, 'CAPA', 'open', 90, 0, 0, 0, 1)")
        .bind(app.org).bind(format!("CA-T-{complaint}")).bind(complaint).execute(x).await)
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn serious_quality_complaint_goes_through_approvals_to_closure() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let c = register(&s.biz_staff, quality("serious")).await;
        assert!(c["number"].as_str().unwrap().starts_with("TS-"), "{c}");
        assert_eq!(c["status"], "received");
        // The seed's six facts are needed to confirm a quality complaint.
        let (st, e) = act(&s.biz_staff, &c, "confirm", json!({})).await;
        assert_eq!(st, 422, "{e}");
        assert_eq!(
            fields(&e),
            [
                "defective_quantity",
                "demand",
                "order_no",
                "part_no",
                "quantity",
                "ship_date"
            ]
        );
        let mut full = quality("serious");
        for (k, v) in [
            ("order_no", json!("SO-2026-001")),
            ("part_no", json!("P-100")),
            ("ship_date", json!("2026-03-01")),
            ("quantity", json!(10)),
            ("defective_quantity", json!(2)),
            ("demand", json!("更换不良品")),
        ] {
            full[k] = v;
        }
        full["version"] = c["version"].clone();
        let (st, c) = s
            .biz_staff
            .put(&format!("/api/v1/complaints/{}", c["id"]), full)
            .await;
        assert_eq!(st, 200, "{c}");
        let c = ok(&s.biz_staff, &c, "confirm", json!({})).await;
        assert_eq!(c["status"], "confirmed");
        assert!(c["first_response_at"].is_i64());
        // Ours needs the responsible department.
        let an = json!({"class": "quality", "responsibility": "ours", "cause": "焊点虚焊"});
        let (st, e) = act(&s.engineer, &c, "analyse", an.clone()).await;
        assert_eq!(st, 422);
        assert_eq!(fields(&e), ["responsible_department_id"]);
        let mut an = an;
        an["responsible_department_id"] = json!(s.prd);
        let c = ok(&s.engineer, &c, "analyse", an).await;
        assert_eq!(c["status"], "analysing");
        assert_eq!(c["capa_required"], true);
        // Refund of ¥6,000 on a serious complaint: BIZ, PRD and the manager must approve.
        let c = ok(
            &s.prd_staff,
            &c,
            "propose",
            json!({"remedy_type": "refund", "amount_fen": 600_000, "detail": "退款并更换", "proposed_by": "生产部、业务部"}),
        )
        .await;
        assert_eq!(c["status"], "remedy_proposed");
        let (_, d) = s
            .manager
            .get(&format!("/api/v1/complaints/{}", c["id"]))
            .await;
        let approvals = d["approvals"].as_array().unwrap().clone();
        assert_eq!(approvals.len(), 3, "{d}");
        let (st, e) = act(&s.biz_staff, &c, "agree", json!({})).await;
        assert_eq!((st, e["error"].as_str()), (409, Some("invalid_transition")));
        // Waiting for my approval.
        let (_, mine) = s.manager.get("/api/v1/complaints?view=approvals").await;
        assert_eq!(mine["total"], 1);
        let (_, none) = s.mkt_staff.get("/api/v1/complaints?view=approvals").await;
        assert_eq!(none["total"], 0);
        let by = |pred: &dyn Fn(&Value) -> bool| {
            approvals.iter().find(|a| pred(a)).unwrap()["id"].clone()
        };
        let mgr_ap = by(&|a| a["approver_role"] == "manager");
        let biz_ap = by(&|a| a["approver_department_id"] == s.biz);
        let prd_ap = by(&|a| a["approver_department_id"] == s.prd);
        let url = |a: &Value| format!("/api/v1/complaints/{}/approvals/{}", c["id"], a);
        // An engineer cannot approve a refund for the manager.
        let (st, _) = s
            .engineer
            .post(&url(&mgr_ap), json!({"approve": true}))
            .await;
        assert_eq!(st, 403);
        let (st, _) = s
            .biz_staff
            .post(&url(&prd_ap), json!({"approve": true}))
            .await;
        assert_eq!(st, 403);
        let (st, _) = s
            .auditor
            .post(&url(&biz_ap), json!({"approve": true}))
            .await;
        assert_eq!(st, 403);
        for (api, ap) in [(&s.biz_staff, &biz_ap), (&s.prd_staff, &prd_ap)] {
            let (st, b) = api
                .post(&url(ap), json!({"approve": true, "comment": "同意"}))
                .await;
            assert_eq!(st, 200, "{b}");
            assert_eq!(b["status"], "remedy_proposed");
        }
        let (st, c) = s
            .manager
            .post(&url(&mgr_ap), json!({"approve": true}))
            .await;
        assert_eq!(st, 200);
        assert_eq!(c["status"], "remedy_approved");
        let (st, _) = s
            .manager
            .post(&url(&mgr_ap), json!({"approve": true}))
            .await;
        assert_eq!(st, 409, "decided once");
        let c = ok(&s.biz_staff, &c, "agree", json!({"note": "客户同意"})).await;
        assert_eq!(c["status"], "remedy_agreed");
        assert!(c["remedy_agreed_at"].is_i64());
        let c = ok(&s.engineer, &c, "start", json!({})).await;
        let c = ok(
            &s.engineer,
            &c,
            "progress",
            json!({"message": "备件已发出"}),
        )
        .await;
        // Our quality problem: the CAPA comes first.
        let (st, e) = act(
            &s.engineer,
            &c,
            "complete",
            json!({"implementation": "已更换"}),
        )
        .await;
        assert_eq!(st, 409);
        assert!(e["message"].as_str().unwrap().contains("CAPA"), "{e}");
        capa_for(&app, c["id"].as_i64().unwrap()).await;
        let c = ok(
            &s.engineer,
            &c,
            "complete",
            json!({"implementation": "已更换主板并退款"}),
        )
        .await;
        assert_eq!(c["status"], "return_visit");
        assert!(c["visit_due"].is_string());
        let c = ok(&s.biz_staff, &c, "visit", json!({"satisfied": true})).await;
        assert_eq!(c["status"], "closed");
        assert!(c["resolution_secs"].is_i64());
        assert_eq!(c["ack_met"], true);
        // Every move is in the history, with who and when.
        let (_, d) = s
            .auditor
            .get(&format!("/api/v1/complaints/{}", c["id"]))
            .await;
        let actions: Vec<&str> = d["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in [
            "register", "edit", "confirm", "analyse", "propose", "approve", "agree", "start",
            "progress", "complete", "visit",
        ] {
            assert!(actions.contains(&a), "{a} missing in {actions:?}");
        }
        assert!(
            d["events"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["at"].is_i64())
        );
        // Department tasks were created by the matrix at each step.
        let steps: Vec<&str> = d["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["step"].as_str().unwrap())
            .collect();
        for st in [
            "register",
            "confirm",
            "analyse",
            "remedy",
            "implement",
            "prevent",
            "visit",
        ] {
            assert!(steps.contains(&st), "{st} task missing: {steps:?}");
        }
        // Nothing more once closed.
        let (st, _) = act(&s.engineer, &c, "progress", json!({"message": "x"})).await;
        assert_eq!(st, 409);
        // Audit rows for the complaint.
        let (_, audit) = s
            .admin
            .get(&format!(
                "/api/v1/audit?entity=complaint&entity_id={}",
                c["id"]
            ))
            .await;
        assert!(audit["total"].as_i64().unwrap() >= 10, "{audit}");
    }
}

#[tokio::test]
async fn minor_complaint_needs_no_approval() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let mut body = quality("minor");
        body["class"] = json!("human");
        let c = register(&s.engineer, body).await;
        let c = ok(&s.engineer, &c, "confirm", json!({})).await;
        let c = ok(
            &s.engineer,
            &c,
            "analyse",
            json!({"class": "human", "responsibility": "supplier", "cause": "供应商来料"}),
        )
        .await;
        assert_eq!(c["capa_required"], false);
        let c = ok(
            &s.engineer,
            &c,
            "propose",
            json!({"remedy_type": "repair", "detail": "上门维修", "proposed_by": "售后"}),
        )
        .await;
        let c = ok(&s.engineer, &c, "agree", json!({})).await;
        let c = ok(&s.engineer, &c, "start", json!({})).await;
        let c = ok(
            &s.engineer,
            &c,
            "complete",
            json!({"implementation": "已修复"}),
        )
        .await;
        let c = ok(&s.engineer, &c, "visit", json!({"satisfied": true})).await;
        assert_eq!(c["status"], "closed");
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/complaints/{}", c["id"]))
            .await;
        assert!(d["approvals"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn not_ours_is_explained_and_closes_after_the_customers_response() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let mut body = quality("serious");
        body["class"] = json!("human");
        let c = register(&s.engineer, body).await;
        let c = ok(&s.engineer, &c, "confirm", json!({})).await;
        let (st, e) = act(
            &s.engineer,
            &c,
            "analyse",
            json!({"class": "human", "responsibility": "customer_use", "cause": "超负荷运行"}),
        )
        .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&e), ["inspection_basis", "inspection_result"]);
        let c = ok(&s.engineer, &c, "analyse", json!({"class": "human", "responsibility": "customer_use", "cause": "超负荷运行",
            "inspection_result": "电机绕组过热烧毁", "inspection_basis": "运行记录显示连续超载 150%"})).await;
        let (st, e) = act(
            &s.engineer,
            &c,
            "propose",
            json!({"remedy_type": "repair", "detail": "x", "proposed_by": "y"}),
        )
        .await;
        assert_eq!(st, 409, "{e}");
        let (st, _) = act(&s.engineer, &c, "explain", json!({})).await;
        assert_eq!(st, 422);
        let c = ok(
            &s.engineer,
            &c,
            "explain",
            json!({"explanation": "经检验为超负荷使用所致，附检验报告"}),
        )
        .await;
        assert_eq!(c["status"], "not_ours");
        // Disputed: back to analysis; accepted: return visit, then closed.
        let c = ok(
            &s.engineer,
            &c,
            "respond",
            json!({"accepted": false, "response": "不认可"}),
        )
        .await;
        assert_eq!(c["status"], "analysing");
        let c = ok(
            &s.engineer,
            &c,
            "explain",
            json!({"explanation": "复检结论相同"}),
        )
        .await;
        let c = ok(
            &s.engineer,
            &c,
            "respond",
            json!({"accepted": true, "response": "认可检验结论"}),
        )
        .await;
        assert_eq!(c["status"], "return_visit");
        let c = ok(&s.engineer, &c, "visit", json!({"satisfied": true})).await;
        assert_eq!(c["status"], "closed");
    }
}

#[tokio::test]
async fn unsatisfied_return_visit_reopens() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let c = register(
            &s.engineer,
            json!({"channel": "web", "class": "other", "severity": "minor",
            "customer_name": "某客户", "description": "工程师迟到"}),
        )
        .await;
        let c = ok(&s.engineer, &c, "confirm", json!({})).await;
        let c = ok(
            &s.engineer,
            &c,
            "analyse",
            json!({"class": "other", "responsibility": "not_established", "cause": "排班冲突"}),
        )
        .await;
        let c = ok(
            &s.engineer,
            &c,
            "propose",
            json!({"remedy_type": "explanation", "detail": "致歉", "proposed_by": "售后"}),
        )
        .await;
        let c = ok(&s.engineer, &c, "agree", json!({})).await;
        let c = ok(&s.engineer, &c, "start", json!({})).await;
        let c = ok(
            &s.engineer,
            &c,
            "complete",
            json!({"implementation": "已致歉"}),
        )
        .await;
        let (st, e) = act(&s.engineer, &c, "visit", json!({"satisfied": false})).await;
        assert_eq!(st, 422, "a reason is needed: {e}");
        let c = ok(
            &s.engineer,
            &c,
            "visit",
            json!({"satisfied": false, "note": "仍不满意"}),
        )
        .await;
        assert_eq!(c["status"], "reopened");
        assert_eq!(c["reopen_count"], 1);
        assert!(c["closed_at"].is_null());
        let c = ok(&s.engineer, &c, "analyse", json!({"class": "other", "responsibility": "ours", "responsible_department_id": s.svc, "cause": "调度失误"})).await;
        assert_eq!(c["status"], "analysing");
    }
}

/// The recurrence check of an archive customer reads the customer's index (migration 0008,
/// named by the statement on SQLite): same customer, fault and a shared key is a repeat;
/// another customer or no shared key is not.
#[tokio::test]
async fn a_repeat_of_an_archive_customer_is_found_through_its_index() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let mut customers = Vec::new();
        for name in ["华东机械有限公司", "华南机械有限公司"] {
            let (st, c) = s
                .admin
                .post("/api/v1/customers", json!({"name": name}))
                .await;
            assert_eq!(st, 201, "{b:?} {c}");
            customers.push(c["id"].as_i64().unwrap());
        }
        let body = |customer: i64, part: &str, serial: Option<&str>| {
            let mut v = quality("minor");
            v.as_object_mut().unwrap().remove("customer_name");
            v["customer_id"] = json!(customer);
            v["part_no"] = json!(part);
            if let Some(sn) = serial {
                v["serial"] = json!(sn);
            }
            v
        };
        let first = register(&s.engineer, body(customers[0], "P-300", None)).await;
        assert_eq!(first["customer_id"], customers[0], "{b:?} {first}");
        assert_eq!(first["repeat_count"], 0, "{b:?}");
        let no_key = register(&s.engineer, body(customers[0], "P-301", Some("SN-1"))).await;
        assert_eq!(no_key["repeat_count"], 0, "{b:?}: no shared key: {no_key}");
        let other = register(&s.engineer, body(customers[1], "P-300", None)).await;
        assert_eq!(other["repeat_count"], 0, "{b:?}: another customer: {other}");
        let by_serial = register(&s.engineer, body(customers[0], "P-302", Some("SN-1"))).await;
        assert_eq!(
            by_serial["repeat_count"], 1,
            "{b:?}: same serial: {by_serial}"
        );
        let again = register(&s.engineer, body(customers[0], "P-300", None)).await;
        assert_eq!(again["repeat_count"], 1, "{b:?}: same part: {again}");
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/complaints/{}", again["id"]))
            .await;
        assert_eq!(d["repeats_of"][0]["id"], first["id"], "{b:?} {d}");
        assert_eq!(
            d["repeats_of"].as_array().map(Vec::len),
            Some(1),
            "{b:?} {d}"
        );
    }
}

/// A complaint's receipt is on its customer's and its unit's timelines, read from the
/// complaint itself (migration 0011: no timeline row is written for it), merged newest first
/// with the timeline's own events (the unit's install, the complaint's status changes) across
/// pages, and counted in the total.
#[tokio::test]
async fn a_complaint_is_on_its_customers_and_units_timelines() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let (_, cu) = s
            .admin
            .post("/api/v1/customers", json!({"name": "华东机械有限公司"}))
            .await;
        let cid = cu["id"].as_i64().unwrap();
        let (_, p) = s
            .admin
            .post(
                "/api/v1/products",
                json!({"part_no": "P-9", "model": "m", "name": "n", "warranty_months": 12}),
            )
            .await;
        let (st, e) = s
            .admin
            .post(
                "/api/v1/equipment",
                json!({"serial": "SN-TL-1", "product_id": p["id"], "customer_id": cid,
                       "install_date": "2026-01-31"}),
            )
            .await;
        assert_eq!(st, 201, "{b:?} {e}");
        let eid = e["id"].as_i64().unwrap();
        let now = app.st.now();
        let mut made = Vec::new();
        for (k, ago) in [3 * 86_400, 86_400].into_iter().enumerate() {
            let mut v = quality("minor");
            v.as_object_mut().unwrap().remove("customer_name");
            v["customer_id"] = json!(cid);
            v["equipment_id"] = json!(eid);
            v["class"] = json!("human");
            v["received_at"] = json!(now - ago);
            v["description"] = json!(format!(
                "第{k}次：主控柜频繁报警，客户要求尽快派人上门检查处理，并说明原因和预防措施，以后每季度回访一次"
            ));
            made.push(register(&s.engineer, v).await);
        }
        // Not on these timelines: another customer's complaint.
        let mut other = quality("minor");
        other["customer_name"] = json!("华南机械有限公司");
        register(&s.engineer, other).await;
        let confirmed = ok(&s.engineer, &made[0], "confirm", json!({})).await;
        assert_eq!(confirmed["status"], "confirmed", "{b:?} {confirmed}");
        let rows: (i64,) = store::on!(&mut app.st.db.acquire().await.unwrap().c(), x =>
            sqlx::query_as("SELECT COUNT(*) FROM timeline WHERE kind = 'complaint'").fetch_one(x).await)
        .unwrap();
        assert_eq!(rows.0, 0, "{b:?}: no receipt rows are written");
        for path in [
            format!("/api/v1/customers/{cid}/timeline"),
            format!("/api/v1/equipment/{eid}/timeline"),
        ] {
            let (st, t) = s.admin.get(&path).await;
            assert_eq!(st, 200, "{b:?} {path} {t}");
            let kinds: Vec<(&str, i64)> = t["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["kind"].as_str().unwrap(), e["ref_id"].as_i64().unwrap()))
                .collect();
            let (c0, c1) = (
                made[0]["id"].as_i64().unwrap(),
                made[1]["id"].as_i64().unwrap(),
            );
            // Newest first: the confirmation (now), the second receipt (a day ago), the
            // first (three days ago), then the unit's install on 2026-01-31.
            assert_eq!(
                kinds[..3],
                [
                    ("complaint_confirmed", c0),
                    ("complaint", c1),
                    ("complaint", c0)
                ],
                "{b:?} {path} {t}"
            );
            assert_eq!(kinds.len(), 4, "{b:?} {path} {t}");
            assert_eq!(t["total"], 4, "{b:?} {path} {t}");
            let receipt = &t["items"][1];
            assert_eq!(receipt["at"], now - 86_400, "{b:?} {receipt}");
            assert_eq!(receipt["id"], -c1, "{b:?} {receipt}");
            let desc = made[1]["description"].as_str().unwrap();
            let start: String = desc.chars().take(40).collect();
            assert!(
                start.len() < desc.len(),
                "the description is longer than 40"
            );
            assert_eq!(
                receipt["summary"],
                format!("{} {start}", made[1]["number"].as_str().unwrap()),
                "{b:?}: number and the description's first 40 characters"
            );
            // One event a page, across both sources.
            let mut paged = Vec::new();
            for n in 1..=5 {
                let (_, t) = s.admin.get(&format!("{path}?page={n}&per_page=1")).await;
                assert_eq!(t["total"], 4, "{b:?} {path} page {n}");
                for e in t["items"].as_array().unwrap() {
                    paged.push((
                        e["kind"].as_str().unwrap().to_string(),
                        e["ref_id"].as_i64().unwrap(),
                    ));
                }
            }
            let all: Vec<(String, i64)> = kinds.iter().map(|(k, r)| (k.to_string(), *r)).collect();
            assert_eq!(paged, all, "{b:?} {path}");
        }
        // A complaint is history: a customer whose only record is one cannot be deleted
        // (it counted as a timeline row before migration 0011).
        let (_, lone) = s
            .admin
            .post("/api/v1/customers", json!({"name": "西北机械有限公司"}))
            .await;
        let mut v = quality("minor");
        v.as_object_mut().unwrap().remove("customer_name");
        v["customer_id"] = lone["id"].clone();
        register(&s.engineer, v).await;
        let (st, body) = s
            .admin
            .send(
                reqwest::Method::DELETE,
                &format!("/api/v1/customers/{}", lone["id"]),
                json!({}),
            )
            .await;
        assert_eq!(st, 409, "{b:?} {body}");
        assert_eq!(body["error"], "invalid_transition", "{b:?} {body}");
        // The customer page shows the receipt, linked to the complaint.
        let web = app.login("admin").await;
        let (st, html) = web.page(&format!("/archives/customers/{cid}")).await;
        assert_eq!(st, 200);
        assert!(
            html.contains(&format!("/complaints/{}", made[1]["id"])),
            "{b:?}: the timeline links the complaint"
        );
    }
}

#[tokio::test]
async fn a_long_series_links_its_newest_repeats() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let mut body = quality("minor");
        body["part_no"] = json!("P-400");
        let mut ids = Vec::new();
        for _ in 0..53 {
            ids.push(register(&s.engineer, body.clone()).await["id"].clone());
        }
        let last = ids.pop().unwrap();
        let (_, d) = s.engineer.get(&format!("/api/v1/complaints/{last}")).await;
        assert_eq!(d["complaint"]["repeat_count"], 50, "{b:?}");
        let linked: Vec<&serde_json::Value> = d["repeats_of"]
            .as_array()
            .map(|a| a.iter().map(|r| &r["id"]).collect())
            .unwrap_or_default();
        // The 50 just before it, not the 50 first of the series.
        assert_eq!(linked.len(), 50, "{b:?} {d}");
        assert!(
            linked.contains(&&ids[51]),
            "{b:?}: the previous one is linked"
        );
        assert!(!linked.contains(&&ids[0]), "{b:?}: the first one is not");
        assert!(!linked.contains(&&ids[1]), "{b:?}: nor the second");
    }
}

/// A row that refers to a complaint (an event, a task) locks the complaint against key
/// changes only (PostgreSQL's foreign-key check): writing its SLA clock meanwhile goes on.
/// The clock update once named `org_id`, a key column, and so waited for any transaction
/// that had written such a row; two confirmations whose recurrence links pointed at each
/// other's complaints deadlocked (the benchmark's move errors).
#[tokio::test]
async fn a_complaints_clock_is_written_while_a_row_refers_to_it() {
    for b in backends() {
        if b == Backend::Sqlite {
            continue; // one writer at a time: there is nothing to wait for
        }
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let id = register(&s.engineer, quality("minor")).await["id"]
            .as_i64()
            .unwrap();
        let mut referrer = app.st.db.begin().await.unwrap();
        let event = store::complaints::steps::NewEvent {
            complaint_id: id,
            at: app.st.now(),
            user_id: None,
            action: "sla_warning",
            from_status: None,
            to_status: None,
            note: None,
            data: None,
        };
        store::complaints::steps::add_event(&mut referrer.c(), app.org, &event)
            .await
            .unwrap();
        let mut clock = app.st.db.begin().await.unwrap();
        store::run!(&mut clock.c(), x => sqlx::query("SET LOCAL lock_timeout = '3s'").execute(x).await)
            .unwrap();
        let r = store::complaints::steps::set_clock(
            &mut clock.c(),
            app.org,
            id,
            &[("next_due", store::complaints::Val::I(Some(1)))],
        )
        .await;
        assert!(r.is_ok(), "the clock waited for the event: {r:?}");
        clock.commit().await.unwrap();
        referrer.commit().await.unwrap();
    }
}

/// Repeats are found when shown, both ways, and follow the records: a complaint registered by
/// name finds earlier ones by name (archive customer or not), and those find it as a later
/// repeat; a withdrawn one drops out of both lists.
#[tokio::test]
async fn repeats_are_found_both_ways_by_customer_id_and_by_name() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let mut body = quality("minor");
        body["part_no"] = json!("P-402");
        body["customer_name"] = json!("散户王先生");
        let first = register(&s.engineer, body.clone()).await;
        let second = register(&s.engineer, body.clone()).await;
        let third = register(&s.engineer, body).await;
        let ids = |v: &Value| -> Vec<Value> {
            v.as_array()
                .map(|a| a.iter().map(|r| r["id"].clone()).collect())
                .unwrap_or_default()
        };
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/complaints/{}", second["id"]))
            .await;
        assert_eq!(
            ids(&d["repeats_of"]),
            vec![first["id"].clone()],
            "{b:?} {d}"
        );
        assert_eq!(
            ids(&d["repeated_by"]),
            vec![third["id"].clone()],
            "{b:?} {d}"
        );
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/complaints/{}", first["id"]))
            .await;
        assert_eq!(
            ids(&d["repeated_by"]),
            vec![second["id"].clone(), third["id"].clone()],
            "{b:?}: oldest first"
        );
        assert_eq!(d["repeats_of"], json!([]), "{b:?}");
        assert_eq!(third["repeat_count"], 2, "{b:?}");
        // Withdrawn, the second is nobody's repeat and repeats nothing shown elsewhere.
        ok(
            &s.engineer,
            &second,
            "withdraw",
            json!({"reason": "重复登记"}),
        )
        .await;
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/complaints/{}", third["id"]))
            .await;
        assert_eq!(
            ids(&d["repeats_of"]),
            vec![first["id"].clone()],
            "{b:?} {d}"
        );
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/complaints/{}", first["id"]))
            .await;
        assert_eq!(
            ids(&d["repeated_by"]),
            vec![third["id"].clone()],
            "{b:?} {d}"
        );
    }
}

#[tokio::test]
async fn a_repeat_is_flagged_and_needs_a_capa() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let mut body = quality("minor");
        body["part_no"] = json!("P-200");
        let first = register(&s.engineer, body.clone()).await;
        assert_eq!(first["repeat_count"], 0);
        let second = register(&s.engineer, body.clone()).await;
        assert_eq!(second["repeat_count"], 1, "{second}");
        assert_eq!(second["capa_required"], true);
        // Another fault category or customer is not a repeat.
        let mut other = body.clone();
        other["fault_category"] = json!("电机异响");
        assert_eq!(register(&s.engineer, other).await["repeat_count"], 0);
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/complaints/{}", second["id"]))
            .await;
        assert_eq!(d["repeats_of"][0]["id"], first["id"]);
        let (_, d1) = s
            .engineer
            .get(&format!("/api/v1/complaints/{}", first["id"]))
            .await;
        assert_eq!(d1["repeated_by"][0]["id"], second["id"]);
        let (_, reps) = s.engineer.get("/api/v1/complaints?repeat=true").await;
        assert_eq!(reps["total"], 1);
        let mut c = second;
        let mut full = body;
        for (k, v) in [
            ("order_no", json!("SO-9")),
            ("ship_date", json!("2026-01-05")),
            ("quantity", json!(1)),
            ("defective_quantity", json!(1)),
            ("demand", json!("维修")),
        ] {
            full[k] = v;
        }
        full["version"] = c["version"].clone();
        c = s
            .engineer
            .put(&format!("/api/v1/complaints/{}", c["id"]), full)
            .await
            .1;
        c = ok(&s.engineer, &c, "confirm", json!({})).await;
        c = ok(
            &s.engineer,
            &c,
            "analyse",
            json!({"class": "quality", "responsibility": "supplier", "cause": "来料不良"}),
        )
        .await;
        c = ok(
            &s.engineer,
            &c,
            "propose",
            json!({"remedy_type": "repair", "detail": "维修", "proposed_by": "售后"}),
        )
        .await;
        c = ok(&s.engineer, &c, "agree", json!({})).await;
        c = ok(&s.engineer, &c, "start", json!({})).await;
        let (st, _) = act(&s.engineer, &c, "complete", json!({"implementation": "ok"})).await;
        assert_eq!(st, 409);
        capa_for(&app, c["id"].as_i64().unwrap()).await;
        ok(&s.engineer, &c, "complete", json!({"implementation": "ok"})).await;
    }
}

/// 2026-09-30 17:00 in Shanghai.
const SEP30_17H: i64 = 1_790_758_800;

#[tokio::test]
async fn sla_due_times_follow_the_2026_work_calendar() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let mut body = quality("serious");
        body["received_at"] = json!(SEP30_17H);
        let c = register(&s.engineer, body).await;
        // Ack 30 min: 17:30 the same day.
        assert_eq!(c["ack_due"], SEP30_17H + 1800);
        // Response 2 h: one hour on Sep 30, National Day Oct 1-7 off, one hour on Oct 8.
        assert_eq!(c["response_due"], SEP30_17H + 7 * 86_400 + 17 * 3600);
        // Acknowledged now, long after the due: not met.
        assert_eq!(c["ack_met"], false);
        assert!(c["next_due"].as_i64().unwrap() < app.st.now());
        let (_, over) = s.engineer.get("/api/v1/complaints?overdue=true").await;
        assert_eq!(over["total"], 1);
        // Waiting on the customer stops the clock: nothing is running, nothing overdue.
        let c = ok(
            &s.engineer,
            &c,
            "pause",
            json!({"reason": "等待客户提供照片"}),
        )
        .await;
        assert!(c["next_due"].is_null() || c["next_due"].as_i64() < Some(app.st.now()));
        let (st, _) = act(&s.engineer, &c, "pause", json!({"reason": "again"})).await;
        assert_eq!(st, 409);
        let c = ok(&s.engineer, &c, "resume", json!({})).await;
        assert!(c["paused_at"].is_null());
    }
}

#[tokio::test]
async fn sla_alerts_fire_once_with_two_workers() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        // Received a week ago (working days): every running target is past its warning and due.
        let mut body = quality("serious");
        body["received_at"] = json!(app.st.now() - 10 * 86_400);
        let c = register(&s.biz_staff, body).await;
        let id = c["id"].as_i64().unwrap();
        assert!(c["warn_at"].as_i64().unwrap() <= app.st.now());
        let now = app.st.now();
        let (a, b2) = tokio::join!(
            server::complaints::sla::run_alerts(&app.st.db, now),
            server::complaints::sla::run_alerts(&app.st.db, now)
        );
        let sent = a.unwrap() + b2.unwrap();
        // Response, remedy and close: a warning and a breach each (ack was met at registration? no: late,
        // but it is done, so it does not alert).
        assert_eq!(sent, 6, "each alert exactly once");
        let again = server::complaints::sla::run_alerts(&app.st.db, now + 60)
            .await
            .unwrap();
        assert_eq!(again, 0);
        let mut h = app.st.db.acquire().await.unwrap();
        let (n,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as("SELECT COUNT(*) FROM complaint_alerts WHERE complaint_id = $1")
            .bind(id).fetch_one(x).await).unwrap();
        assert_eq!(n, 6);
        // Breaches escalate to the manager; warnings reach the person who recorded it.
        let (nm,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.login = 'mgr' AND n.kind = 'sla_breach'")
            .fetch_one(x).await).unwrap();
        assert_eq!(nm, 3);
        let (nb,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.login = 'bizs' AND n.kind = 'sla_warning'")
            .fetch_one(x).await).unwrap();
        assert_eq!(nb, 3);
        drop(h);
        let (_, d) = s.manager.get(&format!("/api/v1/complaints/{id}")).await;
        assert!(
            d["complaint"]["warn_at"].is_null(),
            "nothing left to alert: {}",
            d["complaint"]
        );
        assert!(
            d["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "sla_breach")
        );
    }
}

#[tokio::test]
async fn departments_see_only_their_complaints_and_the_auditor_changes_nothing() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let c = register(
            &s.engineer,
            json!({"channel": "phone", "class": "other", "severity": "minor",
            "customer_name": "客户甲", "description": "发票错误"}),
        )
        .await;
        let path = format!("/api/v1/complaints/{}", c["id"]);
        // The register step gave BIZ a task: BIZ staff see it; production does not.
        assert_eq!(s.biz_staff.get(&path).await.0, 200);
        assert_eq!(s.prd_staff.get(&path).await.0, 404);
        assert_eq!(s.prd_staff.get("/api/v1/complaints").await.1["total"], 0);
        assert_eq!(s.biz_staff.get("/api/v1/complaints").await.1["total"], 1);
        let (_, tasks) = s.biz_staff.get("/api/v1/complaint-tasks").await;
        assert_eq!(tasks.as_array().unwrap().len(), 1);
        let task = tasks[0]["id"].clone();
        let (st, _) = s
            .prd_staff
            .post(&format!("/api/v1/complaint-tasks/{task}/done"), json!({}))
            .await;
        assert_eq!(st, 403);
        let (st, t) = s
            .biz_staff
            .post(
                &format!("/api/v1/complaint-tasks/{task}/done"),
                json!({"note": "已登记"}),
            )
            .await;
        assert_eq!((st, t["status"].as_str()), (200, Some("done")));
        // Confirming gives marketing a task, so marketing now sees it.
        let c = ok(&s.biz_staff, &c, "confirm", json!({})).await;
        assert_eq!(s.mkt_staff.get(&path).await.0, 200);
        // Search shows staff only the complaints they may see.
        index_now(&app).await;
        let (_, hits) = s
            .prd_staff
            .get("/api/v1/search?q=%E5%8F%91%E7%A5%A8%E9%94%99%E8%AF%AF")
            .await;
        assert!(
            !hits
                .to_string()
                .contains(&format!("\"ref_id\":{}", c["id"])),
            "production must not find it: {hits}"
        );
        let (_, hits) = s
            .mkt_staff
            .get("/api/v1/search?q=%E5%8F%91%E7%A5%A8%E9%94%99%E8%AF%AF")
            .await;
        assert!(
            hits.to_string()
                .contains(&format!("\"ref_id\":{}", c["id"])),
            "{hits}"
        );
        // The auditor reads everything and changes nothing.
        assert_eq!(s.auditor.get(&path).await.0, 200);
        let (st, _) = act(&s.auditor, &c, "progress", json!({"message": "x"})).await;
        assert_eq!(st, 403);
        let (st, _) = s.auditor.post("/api/v1/complaints", quality("minor")).await;
        assert_eq!(st, 403);
        // Another organization does not see it at all.
        let other = app.other_org("other", "otheradmin").await;
        let uid: i64 = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::on!(&mut h.c(), x => sqlx::query_as::<_, (i64,)>("SELECT id FROM users WHERE login = 'otheradmin'").fetch_one(x).await).unwrap().0
        };
        let o = app.api(&app.token(uid, other).await);
        assert_eq!(o.get(&path).await.0, 404);
        assert_eq!(o.get("/api/v1/complaints").await.1["total"], 0);
        let (st, _) = act(&o, &c, "progress", json!({"message": "x"})).await;
        assert_eq!(st, 404);
    }
}

#[tokio::test]
async fn a_stale_edit_names_who_changed_the_complaint() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let c = register(&s.engineer, quality("minor")).await;
        let c2 = ok(&s.manager, &c, "progress", json!({"message": "已联系客户"})).await;
        assert_eq!(c2["version"].as_i64(), c["version"].as_i64().map(|v| v + 1));
        let (st, e) = act(&s.engineer, &c, "confirm", json!({})).await;
        assert_eq!(st, 409, "{e}");
        assert_eq!(e["error"], "stale");
        assert_eq!(e["changed_by"], "mgr");
        assert!(e["message"].as_str().unwrap().contains("mgr"), "{e}");
        let mut edit = quality("serious");
        edit["version"] = c["version"].clone();
        let (st, _) = s
            .engineer
            .put(&format!("/api/v1/complaints/{}", c["id"]), edit)
            .await;
        assert_eq!(st, 409);
    }
}

#[tokio::test]
async fn pages_register_and_move_a_complaint() {
    for b in backends() {
        let app = spawn_app(b).await;
        let _s = setup(&app).await;
        let web = app.login("admin").await;
        let (st, html) = web.page("/complaints/new").await;
        assert_eq!(st, 200);
        assert!(html.contains("name=\"customer_name\""));
        let r = web
            .post(
                "/complaints",
                &[
                    ("channel", "phone"),
                    ("class", "quality"),
                    ("severity", "minor"),
                    ("customer_name", "华南客户"),
                    ("description", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            field_error(&html, "description").is_some(),
            "the field is named"
        );
        assert!(html.contains("华南客户"), "typed input kept");
        let r = web
            .post(
                "/complaints",
                &[
                    ("channel", "phone"),
                    ("class", "human"),
                    ("severity", "minor"),
                    ("customer_name", "华南客户"),
                    ("description", "服务态度差"),
                    ("received_at", "2026-11-02T09:30"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let loc = location(&r);
        let id = id_in(&loc, "/complaints/");
        let (st, html) = web.page(&format!("/complaints/{id}")).await;
        assert_eq!(st, 200);
        assert!(html.contains("TS-2026-"), "number shown");
        assert!(html.contains("2026-11-02 09:30"));
        let version = {
            let (_, c) = app
                .api(&app.token(app.admin_id, app.org).await)
                .get(&format!("/api/v1/complaints/{id}"))
                .await;
            c["complaint"]["version"].as_i64().unwrap().to_string()
        };
        let r = web
            .post(
                &format!("/complaints/{id}/act/confirm"),
                &[("version", &version)],
            )
            .await;
        assert_eq!(r.status(), 303);
        // A refused move re-renders with the reason, 409.
        let r = web
            .post(
                &format!("/complaints/{id}/act/agree"),
                &[(
                    "version",
                    &(version.parse::<i64>().unwrap() + 1).to_string(),
                )],
            )
            .await;
        assert_eq!(r.status(), 409);
        // Analysis missing its cause: 422 with the field named and the typed class kept.
        let v2 = (version.parse::<i64>().unwrap() + 1).to_string();
        let r = web
            .post(
                &format!("/complaints/{id}/act/analyse"),
                &[
                    ("version", &v2),
                    ("class", "human"),
                    ("responsibility", "ours"),
                    ("investigation", "查看记录"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("查看记录"));
        let (st, list) = web.page("/complaints?q=%E5%8D%8E%E5%8D%97").await;
        assert_eq!(st, 200);
        assert_eq!(list_rows(&list).len(), 1);
        let (st, _) = web.page("/complaints?view=overdue&sort=due").await;
        assert_eq!(st, 200);
        let (st, _) = web.page("/complaints/tasks").await;
        assert_eq!(st, 200);
        // The customer's timeline shows nothing for a typed customer, and the search finds it.
        index_now(&app).await;
        let (st, html) = web
            .page("/archives/search?q=%E6%9C%8D%E5%8A%A1%E6%80%81%E5%BA%A6")
            .await;
        assert_eq!(st, 200);
        assert!(
            html.contains(&format!("/complaints/{id}")),
            "search links the complaint"
        );
    }
}

/// Sorted by due time: running targets earliest first (ties by id), then those without one by
/// id, across pages; the list reads one row past the page instead of counting, so `total` is
/// exact on the last page and "page × per_page + 1" before it.
#[tokio::test]
async fn the_due_list_merges_running_and_stopped_targets_and_pages_without_counting() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let mut ids = Vec::new();
        for _ in 0..6 {
            ids.push(
                register(&s.admin, quality("minor")).await["id"]
                    .as_i64()
                    .unwrap(),
            );
        }
        let dues = [Some(300_i64), Some(100), Some(100), None, Some(200), None];
        let mut tx = app.st.db.begin().await.unwrap();
        for (id, due) in ids.iter().zip(dues) {
            store::run!(&mut tx.c(), x => sqlx::query("UPDATE complaints SET next_due = $1 WHERE id = $2")
                .bind(due).bind(*id).execute(x).await)
            .unwrap();
        }
        tx.commit().await.unwrap();
        let expect = vec![ids[1], ids[2], ids[4], ids[0], ids[3], ids[5]];
        for filter in ["status=received", "view=open", "q=%E4%B8%BB%E6%8E%A7"] {
            let mut seen = Vec::new();
            for page in 1..=3_i64 {
                let (st, body) = s
                    .admin
                    .get(&format!(
                        "/api/v1/complaints?{filter}&sort=due&per_page=2&page={page}"
                    ))
                    .await;
                assert_eq!(st, 200, "{body}");
                let items = body["items"].as_array().unwrap();
                seen.extend(items.iter().map(|c| c["id"].as_i64().unwrap()));
                let total = if page < 3 { page * 2 + 1 } else { 6 };
                assert_eq!(body["total"], total, "{filter}, page {page}: {body}");
            }
            assert_eq!(seen, expect, "{filter}");
        }
        let (st, body) = s
            .admin
            .get("/api/v1/complaints?sort=due&per_page=2&page=4")
            .await;
        assert_eq!((st, body["items"].as_array().map(Vec::len)), (200, Some(0)));
        let web = app.login("admin").await;
        let (st, html) = web.page("/complaints?sort=due").await;
        assert_eq!(st, 200);
        assert!(html.contains(&format!("/complaints/{}", ids[1])), "{html}");
    }
}

/// Registrations arriving together (written in groups on SQLite) each get their own number,
/// event, tasks and audit row; the chain stays intact, and each one sees the earlier ones of
/// its own group as repeats (same customer and fault).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_each_get_one_number_and_a_full_record() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let api = std::sync::Arc::new(s.admin);
        // A second organization registers at the same time: a group may mix them, and each
        // keeps its own numbers, repeats and audit chain.
        let beta = server::admin::create_org(&app.st, &Actor::system("test"), "beta", "beta", None)
            .await
            .unwrap();
        let beta_admin = app.user(beta, "beta-admin", Role::Admin).await;
        let beta_api = std::sync::Arc::new(app.api(&app.token(beta_admin, beta).await));
        let n = 40;
        let m = 10;
        // One receipt time for all: with "now" the clock can tick between two requests, and a
        // complaint received later is rightly no earlier one's repeat.
        let received = app.st.now() - 3600;
        let mut tasks = Vec::new();
        for k in 0..n + m {
            let api = if k % 5 == 4 {
                beta_api.clone()
            } else {
                api.clone()
            };
            tasks.push(tokio::spawn(async move {
                let mut body = quality("minor");
                body["part_no"] = json!("GT-100");
                body["received_at"] = json!(received);
                register(&api, body).await
            }));
        }
        let mut got = Vec::new();
        let mut got_beta = Vec::new();
        for (k, t) in tasks.into_iter().enumerate() {
            let c = t.await.unwrap();
            if k % 5 == 4 {
                got_beta.push(c);
            } else {
                got.push(c);
            }
        }
        got_beta.sort_by_key(|c| c["number"].as_str().unwrap().to_string());
        numbered_repeats(&got_beta, &format!("{b:?}: beta's own repeats"));
        let (_, listed) = beta_api.get("/api/v1/complaints?per_page=100").await;
        assert_eq!(listed["total"], m as i64, "{b:?}: beta sees its own only");
        got.sort_by_key(|c| c["number"].as_str().unwrap().to_string());
        let mut numbers: Vec<&str> = got.iter().map(|c| c["number"].as_str().unwrap()).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), n, "{b:?}: distinct numbers");
        numbered_repeats(&got, &format!("{b:?}: earlier ones are repeats"));
        let mut h = app.st.db.acquire().await.unwrap();
        let (complaints, events, tasks, audit): (i64, i64, i64, i64) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM complaints WHERE org_id = $1),
                    (SELECT COUNT(*) FROM complaint_events WHERE action = 'register' AND org_id = $1),
                    (SELECT COUNT(DISTINCT complaint_id) FROM complaint_tasks WHERE org_id = $1),
                    (SELECT COUNT(*) FROM audit_log WHERE entity = 'complaint' AND action = 'create' AND org_id = $1)")
            .bind(app.org).fetch_one(x).await)
        .unwrap();
        assert_eq!(
            (complaints, events, tasks, audit),
            (40, 40, 40, 40),
            "{b:?}"
        );
        let (beta_rows, beta_audit): (i64, i64) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM complaints WHERE org_id = $1),
                    (SELECT COUNT(*) FROM audit_log WHERE entity = 'complaint' AND action = 'create' AND org_id = $1)")
            .bind(beta).fetch_one(x).await)
        .unwrap();
        assert_eq!((beta_rows, beta_audit), (m as i64, m as i64), "{b:?}");
        let v = store::audit::verify(&mut h.c()).await.unwrap();
        assert!(v.broken.is_none(), "{b:?}: {v:?}");
        // Each has its search document once the queue is drained, in its own organization.
        index_now(&app).await;
        let (docs, beta_docs, left): (i64, i64, i64) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM search_docs WHERE kind = 'complaint' AND org_id = $1),
                    (SELECT COUNT(*) FROM search_docs WHERE kind = 'complaint' AND org_id = $2),
                    (SELECT COUNT(*) FROM search_pending)")
            .bind(app.org).bind(beta).fetch_one(x).await)
        .unwrap();
        assert_eq!((docs, beta_docs, left), (n as i64, m as i64, 0), "{b:?}");
        drop(h);
        // The figures' roll-ups counted each of them once, groups written together included.
        for org in [app.org, beta] {
            let today = crate::complaints_figures::today(&app, org).await;
            crate::complaints_figures::rollup_equals_raw_around(&app, org, today).await;
        }
        // The writer's counters: every registration, in fewer transactions than registrations
        // (they arrived together); PostgreSQL commits each alone, without the writer.
        let (written, groups, busy) = (
            metric(&app, "aftersales_registrations_written_total").await,
            metric(&app, "aftersales_registration_groups_total").await,
            metric(&app, "aftersales_registration_writer_busy_seconds_total").await,
        );
        if b == Backend::Sqlite {
            assert_eq!(written, (n + m) as f64, "{b:?}");
            assert!(groups >= 1.0 && groups < written, "{b:?}: {groups} groups");
            assert!(busy > 0.0, "{b:?}");
            // Its groups asked for the writer's CPU priority, and /metrics says what came of
            // it (raised as root or with CAP_SYS_NICE, refused elsewhere).
            let raised = store::priority::raised();
            assert!(raised.is_some(), "{b:?}: the writer never tried");
            assert_eq!(
                metric(&app, "aftersales_writer_priority_raised").await,
                f64::from(u8::from(raised == Some(true))),
                "{b:?}"
            );
        } else {
            assert_eq!((written, groups), (0.0, 0.0), "{b:?}");
        }
    }
}

/// Whether the archive search finds complaint `id` for `q` (URL-encoded).
async fn search_finds(api: &Api, q: &str, id: &Value) -> bool {
    let (st, hits) = api
        .get(&format!("/api/v1/search?q={q}&kind=complaint"))
        .await;
    assert_eq!(st, 200, "{hits}");
    hits.to_string().contains(&format!("\"ref_id\":{id}"))
}

/// A series' value on the instance's `/metrics`.
async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

/// Writes the queued search documents now, as the indexer does a moment after a registration.
pub async fn index_now(app: &TestApp) {
    server::complaints::index::drain(&app.st.db).await.unwrap();
}

async fn queued(app: &TestApp) -> usize {
    let mut h = app.st.db.acquire().await.unwrap();
    store::search::pending(&mut h.c(), "complaint", 100)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_registration_is_searchable_a_moment_later_and_queued_until_then() {
    // 蓝色齿轮异响 / 红色齿轮异响: the description before and after an edit.
    let (blue, red) = (
        "%E8%93%9D%E8%89%B2%E9%BD%BF%E8%BD%AE",
        "%E7%BA%A2%E8%89%B2%E9%BD%BF%E8%BD%AE",
    );
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let mut body = quality("minor");
        body["class"] = json!("other");
        body["description"] = json!("蓝色齿轮异响");
        let c = register(&s.admin, body).await;
        // The indexer writes it in the background, well within seconds.
        let mut found = false;
        for _ in 0..100 {
            if search_finds(&s.admin, blue, &c["id"]).await {
                found = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(found, "{b:?}: the indexer wrote the document");
        assert_eq!(queued(&app).await, 0, "{b:?}: nothing left queued");
        let written = metric(&app, "aftersales_complaint_search_documents_total").await;
        assert!(written >= 1.0, "{b:?}: counted on /metrics");
        // A queued complaint changed before the indexer came: the change wrote the newer
        // document, and the indexer keeps it.
        let mut c2 = quality("minor");
        c2["description"] = json!("蓝色齿轮异响");
        let k = register(&s.admin, c2.clone()).await;
        index_now(&app).await;
        app.exec("DELETE FROM search_docs WHERE kind = 'complaint'")
            .await;
        let mut tx = app.st.db.begin().await.unwrap();
        let org = app.org;
        let kid = k["id"].as_i64().unwrap();
        store::search::queue(&mut tx.c(), org, "complaint", &[kid])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        c2["description"] = json!("红色齿轮异响");
        c2["version"] = k["version"].clone();
        let (st, edited) = s
            .admin
            .put(&format!("/api/v1/complaints/{}", k["id"]), c2)
            .await;
        assert_eq!(st, 200, "{edited}");
        assert!(
            search_finds(&s.admin, red, &k["id"]).await,
            "{b:?}: the edit's document"
        );
        index_now(&app).await;
        assert!(search_finds(&s.admin, red, &k["id"]).await, "{b:?}: kept");
        assert!(
            !search_finds(&s.admin, blue, &k["id"]).await,
            "{b:?}: not the queued text"
        );
        assert_eq!(queued(&app).await, 0, "{b:?}");
        // A queue row left behind (a crash before the indexer ran) is written by the next
        // drain; a step that leaves the text alone does not need the document to exist.
        let mut tx = app.st.db.begin().await.unwrap();
        let cid = c["id"].as_i64().unwrap();
        store::search::queue(&mut tx.c(), org, "complaint", &[cid])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let c = ok(&s.admin, &c, "confirm", json!({})).await;
        assert_eq!(c["status"], "confirmed");
        index_now(&app).await;
        assert!(
            search_finds(&s.admin, blue, &c["id"]).await,
            "{b:?}: recovered"
        );
        assert_eq!(queued(&app).await, 0, "{b:?}");
    }
}

/// Not a test: registration throughput through the API with 32 concurrent clients.
/// `cargo test --release -p server --test it -- --ignored complaints::bench_register --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_register() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let api = std::sync::Arc::new(s.admin);
        for _ in 0..50 {
            register(&api, quality("minor")).await;
        }
        let per = 100;
        let t = std::time::Instant::now();
        let mut tasks = Vec::new();
        for i in 0..32 {
            let api = api.clone();
            tasks.push(tokio::spawn(async move {
                for j in 0..per {
                    let mut body = quality(if (i + j) % 5 == 0 { "serious" } else { "minor" });
                    body["fault_category"] = json!(format!("故障{}", (i * per + j) % 97));
                    register(&api, body).await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let dt = t.elapsed().as_secs_f64();
        println!(
            "{b:?}: {} registrations in {dt:.2} s = {:.0}/s",
            32 * per,
            (32 * per) as f64 / dt
        );
    }
}
