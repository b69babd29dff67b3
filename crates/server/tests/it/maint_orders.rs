//! Tests: checklist levels that nest (annual ⊃ quarterly ⊃ routine, exactly the seed's) and
//! refuse cycles; the service-order lifecycle through the API with its refusals; completion
//! refused while required items are unanswered; measured values outside their limits fail;
//! a failed item opens one repair order however often it is asked; first-time fix; parts used
//! once per form and never below stock; the work page keeps what was typed when stale and
//! shrugs off a re-sent form; permissions and organization isolation; the printed form.

use domain::auth::Role;
use serde_json::{Value, json};

use crate::helpers::*;

/// A 1×1 PNG as a data URL (a drawn signature).
const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

#[allow(dead_code)]
struct Setup {
    admin: Api,
    manager: Api,
    engineer: Api,
    engineer_id: i64,
    auditor: Api,
    customer: i64,
    unit: i64,
    routine: i64,
    quarterly: i64,
    annual: i64,
}

async fn template_id(app: &TestApp, code: &str) -> i64 {
    let mut h = app.st.db.acquire().await.unwrap();
    store::maintenance::checklists::template_id_by_code(&mut h.c(), app.org, code)
        .await
        .unwrap()
        .unwrap()
}

/// The seed's levels, a customer with one unit, and users by role.
async fn setup(app: &TestApp) -> Setup {
    let now = app.st.now();
    let mut tx = app.st.db.begin().await.unwrap();
    server::maintenance::checklists::seed_demo(&mut tx, app.org, now)
        .await
        .unwrap();
    let (customer,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(
        "INSERT INTO customers (org_id, name, kind, tags, address, consent_contact, consent_survey, active, created_at,
            updated_at, version)
         VALUES ($1, '华东水务集团', 'company', '[]', '上海市浦东新区张江路 88 号', FALSE, FALSE, TRUE, 0, 0, 1) RETURNING id")
        .bind(app.org).fetch_one(x).await)
    .unwrap();
    tx.commit().await.unwrap();
    let admin = app.api(&app.token(app.admin_id, app.org).await);
    let (st, p) = admin
        .post(
            "/api/v1/products",
            json!({"part_no": "PLC-900", "model": "PLC-900", "name": "泵站控制柜", "category": "控制柜",
                   "warranty_months": 12, "contract_levels": []}),
        )
        .await;
    assert_eq!(st, 201, "{p}");
    let (st, e) = admin
        .post(
            "/api/v1/equipment",
            json!({"serial": "SN-PLC-0001", "product_id": p["id"], "customer_id": customer,
                   "install_date": "2025-06-01"}),
        )
        .await;
    assert_eq!(st, 201, "{e}");
    let engineer_id = app.user(app.org, "eng", Role::Engineer).await;
    let manager_id = app.user(app.org, "mgr", Role::Manager).await;
    let auditor_id = app.user(app.org, "aud", Role::Auditor).await;
    Setup {
        manager: app.api(&app.token(manager_id, app.org).await),
        engineer: app.api(&app.token(engineer_id, app.org).await),
        auditor: app.api(&app.token(auditor_id, app.org).await),
        admin,
        engineer_id,
        customer,
        unit: e["id"].as_i64().unwrap(),
        routine: template_id(app, "routine").await,
        quarterly: template_id(app, "quarterly").await,
        annual: template_id(app, "annual").await,
    }
}

/// The message of a refused move (the API answers `invalid_transition` with the reason's text).
fn reason(body: &Value) -> Option<String> {
    assert_eq!(body["error"], "invalid_transition", "{body}");
    body["message"].as_str().map(String::from)
}

/// The English text of a refusal reason.
fn msg(code: &str) -> Option<String> {
    server::i18n::catalog(server::i18n::Lang::En)
        .get(&format!("transition.{code}"))
        .cloned()
}

fn fields(body: &Value) -> Vec<String> {
    let mut v: Vec<String> = body["fields"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Every item of an effective checklist, in order.
fn items(checklist: &Value) -> Vec<Value> {
    checklist["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["items"].as_array().unwrap().clone())
        .collect()
}

async fn create(api: &Api, body: Value) -> Value {
    let (st, o) = api.post("/api/v1/service-orders", body).await;
    assert_eq!(st, 201, "{o}");
    o
}

/// Applies a move with the order's current version; returns (status, body).
async fn act(api: &Api, id: i64, action: &str, mut body: Value) -> (u16, Value) {
    let (_, d) = api.get(&format!("/api/v1/service-orders/{id}")).await;
    body["version"] = d["order"]["version"].clone();
    api.post(
        &format!("/api/v1/service-orders/{id}/actions/{action}"),
        body,
    )
    .await
}

async fn ok(api: &Api, id: i64, action: &str, body: Value) -> Value {
    let (st, b) = act(api, id, action, body).await;
    assert_eq!(st, 200, "{action}: {b}");
    b
}

/// Schedules, dispatches to `engineer` and arrives.
async fn on_site(s: &Setup, id: i64) {
    ok(
        &s.manager,
        id,
        "schedule",
        json!({"scheduled_start": 1_780_000_000, "scheduled_end": 1_780_007_200}),
    )
    .await;
    ok(
        &s.manager,
        id,
        "dispatch",
        json!({"engineer_id": s.engineer_id}),
    )
    .await;
    ok(&s.engineer, id, "arrive", json!({})).await;
}

/// Answers every item: pass, a value inside the limits, a text; `motor` gets `motor_value`.
fn answers(detail: &Value, motor_value: f64) -> Vec<Value> {
    items(&detail["checklist"])
        .iter()
        .map(|i| match i["kind"].as_str().unwrap() {
            "measure" => json!({"item_id": i["id"], "value": motor_value}),
            "text" => json!({"item_id": i["id"], "note": "运行平稳，无报警"}),
            _ => json!({"item_id": i["id"], "outcome": "pass"}),
        })
        .collect()
}

async fn work(api: &Api, id: i64, body: Value) -> (u16, Value) {
    api.put(&format!("/api/v1/service-orders/{id}/work"), body)
        .await
}

#[tokio::test]
async fn checklist_levels_nest_exactly_as_the_seed_and_refuse_cycles() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        // Annual = routine + quarterly + annual, lower levels first, grouped A…E.
        let (st, ck) = s
            .engineer
            .get(&format!(
                "/api/v1/checklist-templates/{}/checklist",
                s.annual
            ))
            .await;
        assert_eq!(st, 200, "{ck}");
        let levels: Vec<&str> = ck["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        assert_eq!(levels, vec!["例行保养", "季度保养", "年度保养"]);
        let groups: Vec<(&str, &str, usize)> = ck["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["code"].as_str().unwrap(),
                    g["name"].as_str().unwrap(),
                    g["items"].as_array().unwrap().len(),
                )
            })
            .collect();
        assert_eq!(
            groups,
            vec![
                ("A", "基本检查", 5),
                ("B", "运行检查", 3),
                ("C", "保养", 5),
                ("D", "季度保养", 2),
                ("E", "年度保养", 4)
            ]
        );
        let texts: Vec<String> = items(&ck)
            .iter()
            .map(|i| i["text"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(texts.len(), 19);
        assert_eq!(texts[0], "供电电源测试");
        assert_eq!(texts[4], "线路检查及电缆接头紧固");
        assert_eq!(texts[12], "线路测试");
        assert_eq!(&texts[13..15], ["本季度运行情况总结", "数据库备份"]);
        assert_eq!(
            &texts[15..],
            [
                "本年度运行情况总结",
                "数据库备份",
                "主要设备全面检查",
                "功能测试"
            ]
        );
        let motor = items(&ck)
            .into_iter()
            .find(|i| i["kind"] == "measure")
            .unwrap();
        assert_eq!(
            (motor["unit"].as_str(), motor["min_value"].as_f64()),
            (Some("MΩ"), Some(0.5))
        );
        let (_, q) = s
            .engineer
            .get(&format!(
                "/api/v1/checklist-templates/{}/checklist",
                s.quarterly
            ))
            .await;
        assert_eq!(items(&q).len(), 15);
        // Seeding again changes nothing.
        let mut tx = app.st.db.begin().await.unwrap();
        server::maintenance::checklists::seed_demo(&mut tx, app.org, 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (_, all) = s.admin.get("/api/v1/checklist-templates").await;
        assert_eq!(all.as_array().unwrap().len(), 3);

        // A cycle is refused: routine including annual (which includes routine), or itself.
        let (_, r) = s
            .admin
            .get(&format!("/api/v1/checklist-templates/{}", s.routine))
            .await;
        let version = r["template"]["version"].clone();
        for inc in [s.annual, s.routine] {
            let (st, body) = s
                .admin
                .put(
                    &format!("/api/v1/checklist-templates/{}", s.routine),
                    json!({"code": "routine", "name": "例行保养", "includes_id": inc, "version": version}),
                )
                .await;
            assert_eq!(st, 422, "{body}");
            assert_eq!(fields(&body), vec!["includes_id"]);
        }
        // A new level on top, its items edited, moved and retired.
        let (st, t) = s
            .manager
            .post(
                "/api/v1/checklist-templates",
                json!({"code": "overhaul", "name": "大修", "includes_id": s.annual}),
            )
            .await;
        assert_eq!(st, 201, "{t}");
        let tid = t["id"].as_i64().unwrap();
        let (st, body) = s
            .manager
            .post(
                &format!("/api/v1/checklist-templates/{tid}/items"),
                json!({"group_code": "F", "group_name": "大修", "text": "绝缘", "kind": "measure",
                       "unit": "MΩ", "min_value": 5.0, "max_value": 1.0}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["max_value"]);
        let mut ids = vec![];
        for text in ["更换轴承", "更换密封件", "整机试运行"] {
            let (st, i) = s
                .manager
                .post(
                    &format!("/api/v1/checklist-templates/{tid}/items"),
                    json!({"group_code": "F", "group_name": "大修", "text": text, "kind": "pass_fail"}),
                )
                .await;
            assert_eq!(st, 201, "{i}");
            ids.push(i["id"].as_i64().unwrap());
        }
        let (st, m) = s
            .manager
            .post(
                &format!("/api/v1/checklist-templates/{tid}/items/{}/move", ids[2]),
                json!({"dir": "up"}),
            )
            .await;
        assert_eq!((st, m["position"].as_i64()), (200, Some(2)), "{m}");
        let (st, _) = s
            .manager
            .post(
                &format!("/api/v1/checklist-templates/{tid}/items/{}/active", ids[0]),
                json!({"active": false}),
            )
            .await;
        assert_eq!(st, 200);
        let (_, ck) = s
            .engineer
            .get(&format!("/api/v1/checklist-templates/{tid}/checklist"))
            .await;
        let texts: Vec<String> = items(&ck)
            .iter()
            .map(|i| i["text"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(texts.len(), 21);
        assert_eq!(&texts[19..], ["整机试运行", "更换密封件"]);
        // Engineers read, only managers and administrators edit.
        let (st, _) = s
            .engineer
            .post(
                "/api/v1/checklist-templates",
                json!({"code": "x", "name": "x"}),
            )
            .await;
        assert_eq!(st, 403);
        // The level's page shows the chain and the full checklist.
        let web = app.login("admin").await;
        let (st, html) = web
            .page(&format!("/maintenance/checklists/{}", s.annual))
            .await;
        assert_eq!(st, 200);
        assert!(html.contains("年度保养 ⊃ 季度保养 ⊃ 例行保养"), "{html}");
        assert!(html.contains("id=\"effective-count\">19<"));
        let r = web
            .post(
                &format!("/maintenance/checklists/{}", s.routine),
                &[
                    ("code", "routine"),
                    ("name", "例行保养"),
                    ("includes_id", &s.quarterly.to_string()),
                    ("version", &version.to_string()),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "includes_id").is_some(), "{html}");
        let (st, _) = web.page("/maintenance/checklists").await;
        assert_eq!(st, 200);
    }
}

#[tokio::test]
async fn order_lifecycle_through_the_api_with_its_refusals() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let o = create(
            &s.manager,
            json!({"kind": "repair", "serial": "SN-PLC-0001", "symptom": "主泵启动后跳闸"}),
        )
        .await;
        let id = o["id"].as_i64().unwrap();
        assert!(o["number"].as_str().unwrap().starts_with("SO-"), "{o}");
        assert_eq!(o["status"], "created");
        assert_eq!(o["equipment_id"].as_i64(), Some(s.unit));
        assert_eq!(o["customer_id"].as_i64(), Some(s.customer));
        assert_eq!(o["customer_name"], "华东水务集团");
        // A repair needs its symptom; an unknown serial is refused.
        let (st, body) = s
            .manager
            .post(
                "/api/v1/service-orders",
                json!({"kind": "repair", "serial": "SN-NOPE"}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["symptom"]);
        let (st, body) = s
            .manager
            .post(
                "/api/v1/service-orders",
                json!({"kind": "repair", "serial": "SN-NOPE", "symptom": "x"}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["serial"]);

        // Refusals name their reason.
        let (st, body) = act(&s.engineer, id, "arrive", json!({})).await;
        assert_eq!((st, reason(&body)), (409, msg("so_not_dispatched")));
        let (st, body) = act(&s.engineer, id, "complete", json!({})).await;
        assert_eq!((st, reason(&body)), (409, msg("so_not_on_site")));
        let (st, body) = act(&s.engineer, id, "accept", json!({"accepted_by": "王工"})).await;
        assert_eq!((st, reason(&body)), (409, msg("so_not_completed")));
        let (st, body) = act(
            &s.manager,
            id,
            "schedule",
            json!({"scheduled_start": 1_780_007_200, "scheduled_end": 1_780_000_000}),
        )
        .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["scheduled_end"]);
        let (st, body) = act(&s.manager, id, "dispatch", json!({"engineer_id": 999_999})).await;
        assert_eq!(st, 422, "{body}");
        let o = ok(
            &s.manager,
            id,
            "schedule",
            json!({"scheduled_start": 1_780_000_000, "scheduled_end": 1_780_007_200}),
        )
        .await;
        assert_eq!(o["status"], "scheduled");
        // A stale version is refused with who changed it.
        let (st, body) = s
            .manager
            .post(
                &format!("/api/v1/service-orders/{id}/actions/dispatch"),
                json!({"version": 1, "engineer_id": s.engineer_id}),
            )
            .await;
        assert_eq!((st, body["error"].as_str()), (409, Some("stale")));
        let o = ok(
            &s.manager,
            id,
            "dispatch",
            json!({"engineer_id": s.engineer_id}),
        )
        .await;
        assert_eq!(o["status"], "dispatched");
        assert_eq!(o["engineer_name"], "eng");
        // A new appointment keeps the engineer.
        let o = ok(
            &s.manager,
            id,
            "schedule",
            json!({"scheduled_start": 1_780_010_000, "scheduled_end": 1_780_017_200}),
        )
        .await;
        assert_eq!(o["status"], "dispatched");
        ok(&s.engineer, id, "arrive", json!({})).await;
        let (st, body) = act(&s.manager, id, "close", json!({})).await;
        assert_eq!((st, reason(&body)), (409, msg("so_not_completed")));
        let (st, _) = work(
            &s.engineer,
            id,
            json!({"version": o["version"].as_i64().unwrap() + 1, "diagnosis": "接触器触点烧蚀",
                   "cause": "频繁启停", "actions": "更换接触器", "labor_minutes": 90, "fee_fen": 30000}),
        )
        .await;
        assert_eq!(st, 200);
        let o = ok(&s.engineer, id, "complete", json!({})).await;
        assert_eq!(o["status"], "completed");
        assert_eq!(o["first_time_fix"], true);
        let (st, body) = act(&s.engineer, id, "cancel", json!({"reason": "客户取消"})).await;
        assert_eq!((st, reason(&body)), (409, msg("so_already_completed")));
        let (st, body) = act(&s.engineer, id, "close", json!({})).await;
        assert_eq!((st, reason(&body)), (409, msg("so_not_accepted")));
        let (st, body) = act(
            &s.engineer,
            id,
            "accept",
            json!({"accepted_by": " ", "signature": "data:text/plain;base64,aGk=", "rating": 9}),
        )
        .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["accepted_by", "rating", "signature"]);
        let o = ok(
            &s.engineer,
            id,
            "accept",
            json!({"accepted_by": "王工", "signature": PNG, "rating": 5}),
        )
        .await;
        assert_eq!(
            (
                &o["status"],
                &o["accepted_by"],
                &o["has_signature"],
                &o["rating"]
            ),
            (&json!("accepted"), &json!("王工"), &json!(true), &json!(5))
        );
        let o = ok(&s.manager, id, "close", json!({})).await;
        assert_eq!(o["status"], "closed");
        let (st, body) = act(&s.manager, id, "cancel", json!({"reason": "x"})).await;
        assert_eq!((st, reason(&body)), (409, msg("so_finished")));
        // The history and the audit trail hold every move.
        let (_, d) = s.manager.get(&format!("/api/v1/service-orders/{id}")).await;
        let events: Vec<&str> = d["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            events,
            vec![
                "create", "schedule", "dispatch", "schedule", "arrive", "work", "complete",
                "accept", "close"
            ]
        );
        let (_, audit) = s
            .admin
            .get(&format!(
                "/api/v1/audit?entity=service_order&entity_id={id}"
            ))
            .await;
        assert_eq!(audit["total"], 9, "{audit}");
        // The signature is served as an image.
        let web = app.login("admin").await;
        let r = web
            .get(&format!("/service-orders/{id}/signature.png"))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        // A cancelled order: only from an open state, with a reason.
        let c = create(
            &s.manager,
            json!({"kind": "installation", "customer_id": s.customer}),
        )
        .await;
        let cid = c["id"].as_i64().unwrap();
        assert_eq!(c["site"], "上海市浦东新区张江路 88 号");
        let (st, body) = act(&s.manager, cid, "cancel", json!({})).await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["reason"]);
        let c = ok(
            &s.manager,
            cid,
            "cancel",
            json!({"reason": "客户改期到下季度"}),
        )
        .await;
        assert_eq!(c["status"], "cancelled");

        // The list: views and filters in SQL.
        let past = create(
            &s.manager,
            json!({"kind": "maintenance", "equipment_id": s.unit, "template_id": s.routine,
                   "due_date": "2020-01-15"}),
        )
        .await;
        let (_, l) = s.engineer.get("/api/v1/service-orders?view=overdue").await;
        assert_eq!(l["total"], 1, "{l}");
        assert_eq!(l["items"][0]["id"], past["id"]);
        let (_, l) = s.engineer.get("/api/v1/service-orders?view=mine").await;
        assert_eq!(l["total"], 1);
        assert_eq!(l["items"][0]["id"].as_i64(), Some(id));
        let (_, l) = s
            .engineer
            .get("/api/v1/service-orders?status=cancelled")
            .await;
        assert_eq!(l["total"], 1);
        let (_, l) = s
            .engineer
            .get("/api/v1/service-orders?kind=repair&q=%E8%B7%B3%E9%97%B8")
            .await;
        assert_eq!(l["total"], 1);
        let (_, l) = s
            .engineer
            .get("/api/v1/service-orders?from=2020-01-01&to=2020-01-31")
            .await;
        assert_eq!(l["total"], 1);
        assert_eq!(l["items"][0]["id"], past["id"]);
        let (_, l) = s
            .engineer
            .get(&format!(
                "/api/v1/service-orders?equipment_id={}&sort=due",
                s.unit
            ))
            .await;
        assert_eq!(l["total"], 2);
        assert_eq!(l["items"][0]["id"], past["id"]);
        let (st, html) = web.page("/service-orders?view=overdue").await;
        assert_eq!(st, 200);
        assert_eq!(list_rows(&html).len(), 1);
        assert!(html.contains("so-overdue"));

        // The pages: a new order from the form (typed input kept when refused), its moves.
        let (st, html) = web
            .page(&format!("/service-orders/new?equipment_id={}", s.unit))
            .await;
        assert_eq!(st, 200);
        assert_eq!(input_value(&html, "serial").as_deref(), Some("SN-PLC-0001"));
        let unit = s.unit.to_string();
        let base = [
            ("kind", "repair"),
            ("equipment_id", unit.as_str()),
            ("serial", "SN-PLC-0001"),
            ("picked", "SN-PLC-0001 · PLC-900 · 华东水务集团"),
            ("site", "二号泵房"),
        ];
        let r = web.post("/service-orders", &base).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "symptom").is_some());
        assert_eq!(input_value(&html, "site").as_deref(), Some("二号泵房"));
        let mut full = base.to_vec();
        full.push(("symptom", "二号泵异响"));
        full.push(("reported_at", "2026-03-02T08:30"));
        let r = web.post("/service-orders", &full).await;
        assert_eq!(r.status(), 303);
        let page = location(&r);
        assert!(page.contains("ok=so_created"), "{page}");
        let nid = id_in(&page, "/service-orders/");
        let (_, n) = s.admin.get(&format!("/api/v1/service-orders/{nid}")).await;
        assert_eq!(n["order"]["site"], "二号泵房");
        assert_eq!(n["order"]["equipment_id"].as_i64(), Some(s.unit));
        let (st, html) = web.page(&format!("/service-orders/{nid}")).await;
        assert_eq!(st, 200);
        assert!(html.contains("id=\"move-schedule\""));
        let v = n["order"]["version"].to_string();
        let r = web
            .post(
                &format!("/service-orders/{nid}/act/schedule"),
                &[
                    ("version", v.as_str()),
                    ("scheduled_start", "2026-03-03T09:00"),
                    ("scheduled_end", "2026-03-03T08:00"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "scheduled_end").is_some(), "{html}");
        assert_eq!(
            input_value(&html, "scheduled_start").as_deref(),
            Some("2026-03-03T09:00")
        );
        let r = web
            .post(
                &format!("/service-orders/{nid}/act/arrive"),
                &[("version", v.as_str())],
            )
            .await;
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("id=\"banner\""));
        let eng = s.engineer_id.to_string();
        let r = web
            .post(
                &format!("/service-orders/{nid}/act/dispatch"),
                &[("version", v.as_str()), ("engineer_id", eng.as_str())],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).contains("ok=so_dispatch"));
    }
}

#[tokio::test]
async fn completion_needs_every_required_item_and_values_are_judged_by_their_limits() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let o = create(
            &s.manager,
            json!({"kind": "maintenance", "equipment_id": s.unit, "template_id": s.annual,
                   "due_date": "2026-06-30"}),
        )
        .await;
        let id = o["id"].as_i64().unwrap();
        assert_eq!(o["month"], "2026-06");
        on_site(&s, id).await;
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/service-orders/{id}"))
            .await;
        assert_eq!(d["missing"].as_array().unwrap().len(), 19);
        let (st, body) = act(&s.engineer, id, "complete", json!({})).await;
        assert_eq!((st, reason(&body)), (409, msg("so_checklist_incomplete")));
        // The motor's insulation below 0.5 MΩ fails, whatever outcome is sent with it.
        let mut all = answers(&d, 0.3);
        let motor = items(&d["checklist"])
            .into_iter()
            .find(|i| i["kind"] == "measure")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        for a in all.iter_mut() {
            if a["item_id"] == motor {
                a["outcome"] = json!("pass");
            }
        }
        // Everything but the last item first: still refused.
        let last = all.pop().unwrap();
        let v = d["order"]["version"].as_i64().unwrap();
        let (st, d2) = work(&s.engineer, id, json!({"version": v, "results": all})).await;
        assert_eq!(st, 200, "{d2}");
        assert_eq!(d2["missing"].as_array().unwrap().len(), 1);
        assert_eq!(d2["failed"], json!([motor]));
        let r = d2["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["item_id"] == motor)
            .unwrap()
            .clone();
        assert_eq!(
            (r["outcome"].as_str(), r["value"].as_f64()),
            (Some("fail"), Some(0.3))
        );
        let (st, body) = act(&s.engineer, id, "complete", json!({})).await;
        assert_eq!((st, reason(&body)), (409, msg("so_checklist_incomplete")));
        // Saving the same results again is harmless, even with the old version.
        let (st, d3) = work(&s.engineer, id, json!({"version": v, "results": all})).await;
        assert_eq!(st, 200, "{d3}");
        assert_eq!(d3["order"]["version"], d2["order"]["version"]);
        // A bad number is refused on the item's field; a value inside the limits passes.
        let (st, body) = work(
            &s.engineer,
            id,
            json!({"version": d2["order"]["version"], "results": [{"item_id": last["item_id"], "outcome": "maybe"}]}),
        )
        .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec![format!("r{}_outcome", last["item_id"])]);
        let (st, d4) = work(
            &s.engineer,
            id,
            json!({"version": d2["order"]["version"], "results": [last, {"item_id": motor, "value": 0.8}]}),
        )
        .await;
        assert_eq!(st, 200, "{d4}");
        assert!(d4["missing"].as_array().unwrap().is_empty());
        assert!(d4["failed"].as_array().unwrap().is_empty());
        // Back to a fail, then complete: a failed item is an answer.
        let (st, d5) = work(
            &s.engineer,
            id,
            json!({"version": d4["order"]["version"], "results": [{"item_id": motor, "value": 0.2, "note": "B 相绝缘偏低"}]}),
        )
        .await;
        assert_eq!(st, 200);
        assert_eq!(d5["failed"], json!([motor]));

        // The failed item opens one repair order, however often it is asked.
        let (st, r1) = s
            .engineer
            .post(
                &format!("/api/v1/service-orders/{id}/items/{motor}/repair"),
                json!({}),
            )
            .await;
        assert_eq!(st, 201, "{r1}");
        assert_eq!(
            (
                &r1["kind"],
                &r1["source_order_id"],
                &r1["equipment_id"],
                &r1["symptom"]
            ),
            (
                &json!("repair"),
                &json!(id),
                &json!(s.unit),
                &json!("电机测试（绝缘电阻）")
            )
        );
        let (st, r2) = s
            .engineer
            .post(
                &format!("/api/v1/service-orders/{id}/items/{motor}/repair"),
                json!({}),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(r2["id"], r1["id"]);
        let passed = items(&d["checklist"])[0]["id"].as_i64().unwrap();
        let (st, body) = s
            .engineer
            .post(
                &format!("/api/v1/service-orders/{id}/items/{passed}/repair"),
                json!({}),
            )
            .await;
        assert_eq!((st, reason(&body)), (409, msg("so_item_not_failed")));
        let (_, l) = s
            .engineer
            .get(&format!(
                "/api/v1/service-orders?kind=repair&equipment_id={}",
                s.unit
            ))
            .await;
        assert_eq!(l["total"], 1);

        let o = ok(&s.engineer, id, "complete", json!({})).await;
        assert_eq!(o["status"], "completed");
        assert_eq!(o["first_time_fix"], Value::Null);
        // Completed work is locked.
        let (st, body) = work(
            &s.engineer,
            id,
            json!({"version": o["version"], "diagnosis": "x"}),
        )
        .await;
        assert_eq!((st, reason(&body)), (409, msg("so_locked")));
        // The unit's timeline shows the order made and completed.
        let mut h = app.st.db.acquire().await.unwrap();
        let (n,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT COUNT(*) FROM timeline WHERE org_id = $1 AND equipment_id = $2 AND ref_id = $3
                AND kind IN ('service_order', 'service_order_completed')")
            .bind(app.org).bind(s.unit).bind(id).fetch_one(x).await)
        .unwrap();
        drop(h);
        assert_eq!(n, 2);

        // First-time fix: the repair is the first for the unit; a second repair within 30 days is not.
        let rid = r1["id"].as_i64().unwrap();
        on_site(&s, rid).await;
        let f1 = ok(&s.engineer, rid, "complete", json!({})).await;
        assert_eq!(f1["first_time_fix"], true);
        let again = create(
            &s.manager,
            json!({"kind": "repair", "equipment_id": s.unit, "symptom": "电机绝缘再次报警"}),
        )
        .await;
        let aid = again["id"].as_i64().unwrap();
        on_site(&s, aid).await;
        let f2 = ok(&s.engineer, aid, "complete", json!({})).await;
        assert_eq!(f2["first_time_fix"], false);
    }
}

/// The value of the first hidden `version` field of a page.
fn version_in(html: &str) -> String {
    let key = "name=\"version\" value=\"";
    let i = html.find(key).expect("version field") + key.len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn the_work_page_keeps_typed_input_when_stale_and_resends_are_harmless() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let o = create(
            &s.manager,
            json!({"kind": "maintenance", "equipment_id": s.unit, "template_id": s.routine}),
        )
        .await;
        let id = o["id"].as_i64().unwrap();
        let (_, d) = s.admin.get(&format!("/api/v1/service-orders/{id}")).await;
        let all = items(&d["checklist"]);
        let first = all[0]["id"].as_i64().unwrap().to_string();
        let motor = all.iter().find(|i| i["kind"] == "measure").unwrap()["id"]
            .as_i64()
            .unwrap()
            .to_string();
        let web = app.login("admin").await;
        let path = format!("/service-orders/{id}/work");
        let (st, html) = web.page(&path).await;
        assert_eq!(st, 200);
        assert!(html.contains("inputmode=\"decimal\""));
        assert!(html.contains("≥ 0.5 MΩ"));
        assert!(html.contains("id=\"save-bar\""));
        let v = version_in(&html);
        let outcome = format!("r{first}_outcome");
        let value = format!("r{motor}_value");
        let form = |ver: &str, pass: &str, val: &str, diag: &str| -> Vec<(String, String)> {
            vec![
                ("version".into(), ver.into()),
                ("client_key".into(), "k1".into()),
                ("items".into(), first.clone()),
                ("items".into(), motor.clone()),
                (outcome.clone(), pass.into()),
                (value.clone(), val.into()),
                ("diagnosis".into(), diag.into()),
                ("go".into(), "save".into()),
            ]
        };
        let post = |fields: Vec<(String, String)>| {
            let web = &web;
            let path = path.clone();
            async move {
                let refs: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                web.post(&path, &refs).await
            }
        };
        let r = post(form(&v, "pass", "1.5", "运行正常")).await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).contains("ok=so_saved"));
        // The same form again (a double tap, a retry after a dropped connection): harmless.
        let r = post(form(&v, "pass", "1.5", "运行正常")).await;
        assert_eq!(r.status(), 303);
        let (_, d) = s.admin.get(&format!("/api/v1/service-orders/{id}")).await;
        assert_eq!(
            d["order"]["version"].as_i64(),
            Some(v.parse::<i64>().unwrap() + 1)
        );
        assert_eq!(d["order"]["diagnosis"], "运行正常");
        assert_eq!(d["results"].as_array().unwrap().len(), 2);
        // Someone else saved meanwhile: the stale form comes back with everything typed.
        let r = post(form(&v, "fail", "0.2", "控制柜积尘严重")).await;
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"banner\""), "{html}");
        assert!(
            html.contains(&format!("id=\"r{first}-fail\" checked")),
            "{html}"
        );
        assert_eq!(
            input_value(&html, &format!("r{motor}-value")).as_deref(),
            Some("0.2")
        );
        assert_eq!(
            input_value(&html, "diagnosis").as_deref(),
            Some("控制柜积尘严重")
        );
        let v2 = version_in(&html);
        assert_eq!(v2, (v.parse::<i64>().unwrap() + 1).to_string());
        // Saving it again from the re-shown page goes through.
        let r = post(form(&v2, "fail", "0.2", "控制柜积尘严重")).await;
        assert_eq!(r.status(), 303);
        let (_, d) = s.admin.get(&format!("/api/v1/service-orders/{id}")).await;
        assert_eq!(d["failed"].as_array().unwrap().len(), 2);
        // A bad value is shown beside the item, typed values kept (422).
        let r = post(form(
            &version_in(&web.page(&path).await.1),
            "fail",
            "abc",
            "x",
        ))
        .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            field_error(&html, &format!("r{motor}-value")).is_some(),
            "{html}"
        );
        assert_eq!(input_value(&html, "diagnosis").as_deref(), Some("x"));
        // Completing too early is refused on the page, with the typed input saved and shown.
        let mut f = form(&version_in(&web.page(&path).await.1), "fail", "0.2", "y");
        f.retain(|(k, _)| k != "go");
        f.push(("go".into(), "complete".into()));
        let r = post(f).await;
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"banner\""));
        // The failed item offers its repair order in one step.
        let (_, html) = web.page(&path).await;
        assert!(html.contains(&format!("id=\"repair-{first}\"")), "{html}");
        let mut f = form(&version_in(&html), "fail", "0.2", "y");
        f.push(("repair".into(), first.clone()));
        let r = post(f.clone()).await;
        assert_eq!(r.status(), 303);
        let repair_page = location(&r);
        assert!(repair_page.contains("ok=so_repair_opened"), "{repair_page}");
        let r = post(f).await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).contains("ok=so_repair_exists"));
        assert_eq!(
            location(&r).split('?').next(),
            repair_page.split('?').next()
        );
        let (_, html) = web.page(&path).await;
        assert!(html.contains(&format!("id=\"repair-link-{first}\"")));
    }
}

#[tokio::test]
async fn parts_are_taken_once_per_form_and_never_below_stock() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let mut tx = app.st.db.begin().await.unwrap();
        let (part,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(
            "INSERT INTO parts (org_id, code, name, unit, unit_cost_fen, active, created_at, updated_at, version)
             VALUES ($1, 'CT-32', '交流接触器', '个', 12550, TRUE, 0, 0, 1) RETURNING id")
            .bind(app.org).fetch_one(x).await)
        .unwrap();
        let (loc,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(
            "INSERT INTO stock_locations (org_id, name, active, created_at) VALUES ($1, '上海仓', TRUE, 0) RETURNING id")
            .bind(app.org).fetch_one(x).await)
        .unwrap();
        store::run!(&mut tx.c(), x => sqlx::query(
            "INSERT INTO part_stock (part_id, location_id, org_id, qty, updated_at) VALUES ($1, $2, $3, 3, 0)")
            .bind(part).bind(loc).bind(app.org).execute(x).await)
        .unwrap();
        tx.commit().await.unwrap();
        let o = create(
            &s.manager,
            json!({"kind": "repair", "equipment_id": s.unit, "symptom": "接触器烧蚀"}),
        )
        .await;
        let id = o["id"].as_i64().unwrap();
        let path = format!("/api/v1/service-orders/{id}/parts");
        let body = json!({"part_id": part, "location_id": loc, "qty": 2, "client_key": "form-1"});
        let (st, p1) = s.engineer.post(&path, body.clone()).await;
        assert_eq!(st, 201, "{p1}");
        assert_eq!(p1["order"]["parts_cost_fen"], 25100);
        let (st, p2) = s.engineer.post(&path, body).await;
        assert_eq!((st, &p2["added"]), (200, &json!(false)));
        assert_eq!(p2["order"]["parts_cost_fen"], 25100);
        let on_hand = || async {
            let mut h = app.st.db.acquire().await.unwrap();
            store::maintenance::parts::on_hand(&mut h.c(), app.org, part, loc)
                .await
                .unwrap()
        };
        assert_eq!(on_hand().await, 1);
        let (st, body) = s
            .engineer
            .post(
                &path,
                json!({"part_id": part, "location_id": loc, "qty": 2, "client_key": "form-2"}),
            )
            .await;
        assert_eq!(st, 422, "{body}");
        assert_eq!(fields(&body), vec!["part_qty"]);
        assert_eq!(on_hand().await, 1);
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/service-orders/{id}"))
            .await;
        assert_eq!(d["parts"].as_array().unwrap().len(), 1);
        assert_eq!(d["parts"][0]["part_code"], "CT-32");
        // The work page adds a part with the rest of the form; a re-sent form adds nothing.
        let web = app.login("admin").await;
        let wpath = format!("/service-orders/{id}/work");
        let (_, html) = web.page(&wpath).await;
        assert!(html.contains(&format!("value=\"{part}:{loc}\"")), "{html}");
        let fields_of = |v: String| {
            vec![
                ("version".to_string(), v),
                ("client_key".into(), "page-key-1".into()),
                ("symptom".into(), "接触器烧蚀".into()),
                ("part_pick".into(), format!("{part}:{loc}")),
                ("part_qty".into(), "1".into()),
                ("go".into(), "save".into()),
            ]
        };
        let f = fields_of(version_in(&html));
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(web.post(&wpath, &refs).await.status(), 303);
        assert_eq!(web.post(&wpath, &refs).await.status(), 303);
        assert_eq!(on_hand().await, 0);
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/service-orders/{id}"))
            .await;
        assert_eq!(d["parts"].as_array().unwrap().len(), 2);
        assert_eq!(d["order"]["parts_cost_fen"], 37650);
    }
}

#[tokio::test]
async fn auditors_read_only_and_other_organizations_see_nothing() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let o = create(
            &s.engineer,
            json!({"kind": "maintenance", "equipment_id": s.unit, "template_id": s.quarterly}),
        )
        .await;
        let id = o["id"].as_i64().unwrap();
        let (st, _) = s.auditor.get(&format!("/api/v1/service-orders/{id}")).await;
        assert_eq!(st, 200);
        let (st, _) = s.auditor.get("/api/v1/service-orders").await;
        assert_eq!(st, 200);
        let (st, _) = s
            .auditor
            .post(
                "/api/v1/service-orders",
                json!({"kind": "repair", "equipment_id": s.unit, "symptom": "x"}),
            )
            .await;
        assert_eq!(st, 403);
        let (st, _) = act(&s.auditor, id, "cancel", json!({"reason": "x"})).await;
        assert_eq!(st, 403);
        let (st, _) = work(&s.auditor, id, json!({"version": 1, "diagnosis": "x"})).await;
        assert_eq!(st, 403);
        let (st, _) = s
            .auditor
            .post(
                &format!("/api/v1/checklist-templates/{}/items", s.routine),
                json!({"group_code": "A", "group_name": "x", "text": "x", "kind": "text"}),
            )
            .await;
        assert_eq!(st, 403);
        let aud = app.login("aud").await;
        let (st, _) = aud.page(&format!("/service-orders/{id}")).await;
        assert_eq!(st, 200);
        let (st, _) = aud.page("/service-orders/new").await;
        assert_eq!(st, 403);
        let r = aud
            .post(
                &format!("/service-orders/{id}/work"),
                &[("version", "1"), ("diagnosis", "x")],
            )
            .await;
        assert_eq!(r.status(), 403);

        let other = app.other_org("other", "boss").await;
        let boss_id = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::users::by_login(&mut h.c(), "boss")
                .await
                .unwrap()
                .unwrap()
                .0
                .id
        };
        let boss = app.api(&app.token(boss_id, other).await);
        let (st, _) = boss.get(&format!("/api/v1/service-orders/{id}")).await;
        assert_eq!(st, 404);
        let (st, _) = boss
            .get(&format!("/api/v1/checklist-templates/{}", s.annual))
            .await;
        assert_eq!(st, 404);
        let (st, _) = boss
            .post(
                &format!("/api/v1/service-orders/{id}/actions/cancel"),
                json!({"version": 1, "reason": "x"}),
            )
            .await;
        assert_eq!(st, 404);
        let (st, _) = boss
            .post(
                "/api/v1/service-orders",
                json!({"kind": "maintenance", "equipment_id": s.unit, "template_id": s.annual}),
            )
            .await;
        assert_eq!(st, 422);
        let (_, l) = boss.get("/api/v1/service-orders").await;
        assert_eq!(l["total"], 0);
    }
}

#[tokio::test]
async fn the_printed_form_carries_every_field_of_the_service_order() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let o = create(
            &s.manager,
            json!({"kind": "maintenance", "equipment_id": s.unit, "template_id": s.quarterly,
                   "due_date": "2026-09-30"}),
        )
        .await;
        let id = o["id"].as_i64().unwrap();
        on_site(&s, id).await;
        let (_, d) = s
            .engineer
            .get(&format!("/api/v1/service-orders/{id}"))
            .await;
        let (st, _) = work(
            &s.engineer,
            id,
            json!({"version": d["order"]["version"], "results": answers(&d, 0.3),
                   "symptom": "季度例行保养", "diagnosis": "电机绝缘偏低", "cause": "受潮",
                   "actions": "烘干电机并复测", "labor_minutes": 150, "fee_fen": 50000}),
        )
        .await;
        assert_eq!(st, 200);
        ok(&s.engineer, id, "complete", json!({})).await;
        ok(
            &s.engineer,
            id,
            "accept",
            json!({"accepted_by": "李主任", "signature": PNG, "rating": 4}),
        )
        .await;
        let web = app.login("admin").await;
        let (st, html) = web.page(&format!("/service-orders/{id}/print")).await;
        assert_eq!(st, 200);
        for want in [
            o["number"].as_str().unwrap(),
            "维修 / 保养服务单",
            "华东水务集团",
            "SN-PLC-0001",
            "PLC-900",
            "☑ 保养",
            "季度保养",
            "电机绝缘偏低",
            "受潮",
            "烘干电机并复测",
            "¥500.00",
            "供电电源测试",
            "电机测试（绝缘电阻）",
            "0.3 MΩ",
            "不合格",
            "运行平稳，无报警",
            "李主任",
            "/signature.png",
            "☑ 4",
            "id=\"f-appointment\"",
        ] {
            assert!(html.contains(want), "{want} missing from the printed form");
        }
        assert_eq!(html.matches("id=\"f-item-").count(), 15);
        // The detail and work pages show the result and the sign-off.
        let (st, html) = web.page(&format!("/service-orders/{id}")).await;
        assert_eq!(st, 200);
        assert!(html.contains("id=\"signature-img\""));
        let (st, html) = web.page(&format!("/service-orders/{id}/work")).await;
        assert_eq!(st, 200);
        assert!(html.contains("id=\"acceptance\""));
        assert!(!html.contains("id=\"work-form\""));
    }
}
