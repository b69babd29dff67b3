//! Tests: complaint settings through the pages and the API. The work calendar (built-in
//! default until saved, validation naming the field, the 2026 State Council schedule, a date
//! refused as both holiday and make-up day, the working-time calculator), SLA targets in
//! hours (a new severity level, stale versions), approval rules in yuan stored as fen, the
//! seed's responsibility matrix matched by department code, numbering round trip, the demo
//! defaults, roles (manager edits, engineer and auditor read only), and notifications.

use domain::archives::equipment::days_of;
use domain::auth::Role;
use serde_json::{Value, json};

use crate::helpers::*;

async fn admin_api(app: &TestApp) -> Api {
    app.api(&app.token(app.admin_id, app.org).await)
}

async fn delete(api: &Api, path: &str) -> (u16, Value) {
    api.send(reqwest::Method::DELETE, path, json!({})).await
}

/// Unix seconds of a local Beijing time.
fn beijing(date: &str, h: i64, m: i64) -> i64 {
    days_of(date).unwrap() * 86_400 + h * 3600 + m * 60 - 8 * 3600
}

fn day_kind(cal: &Value, day: &str) -> Option<String> {
    cal["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["day"] == day)
        .map(|d| d["kind"].as_str().unwrap().to_string())
}

/// Actions of the audit rows of one entity type, newest first.
async fn audit_actions(api: &Api, entity: &str) -> Vec<String> {
    let (st, body) = api.get(&format!("/api/v1/audit?entity={entity}")).await;
    assert_eq!(st, 200, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn department(api: &Api, code: &str, name: &str) -> i64 {
    let (st, d) = api
        .post("/api/v1/departments", json!({"code": code, "name": name}))
        .await;
    assert_eq!(st, 201, "{d}");
    d["id"].as_i64().unwrap()
}

#[tokio::test]
async fn calendar_save_validation_and_calculator() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;

        // nothing saved: the built-in default with the 2026 schedule
        let (st, cal) = api.get("/api/v1/calendar").await;
        assert_eq!(st, 200, "{b:?} {cal}");
        assert_eq!(cal["version"], 0);
        assert_eq!(cal["id"], 0);
        assert_eq!(cal["periods"], "09:00-12:00,13:00-18:00");
        assert_eq!(cal["weekdays"], "12345");
        assert_eq!(day_kind(&cal, "2026-10-01").as_deref(), Some("holiday"));
        assert_eq!(day_kind(&cal, "2026-10-10").as_deref(), Some("workday"));

        // each invalid part is named by its field (422)
        let good = json!({"name": "总部日历", "utc_offset_minutes": 480,
            "periods": "09:00-12:00,13:00-18:00", "weekdays": "12345", "version": 0});
        for (field, value, code_text) in [
            ("periods", json!("09:00-13:00,12:00-18:00"), "overlaps"),
            ("periods", json!("18:00-09:00"), "ends before"),
            ("periods", json!("nine to five"), "Cannot read"),
            ("weekdays", json!("1238"), "not a weekday"),
            ("weekdays", json!(""), "Required"),
            ("utc_offset_minutes", json!(9999), "Not a valid value"),
            ("name", json!(" "), "Required"),
        ] {
            let mut body = good.clone();
            body[field] = value;
            let (st, e) = api.put("/api/v1/calendar", body).await;
            assert_eq!(st, 422, "{field}: {e}");
            let msg = e["fields"][field].as_str().unwrap_or_default();
            assert!(msg.contains(code_text), "{field}: {e}");
        }
        // nothing was stored by the failures
        assert_eq!(api.get("/api/v1/calendar").await.1["version"], 0);

        // first save creates it, with the built-in days
        let (st, cal) = api.put("/api/v1/calendar", good.clone()).await;
        assert_eq!(st, 200, "{cal}");
        assert!(cal["id"].as_i64().unwrap() > 0);
        assert_eq!(cal["version"], 1);
        assert_eq!(cal["name"], "总部日历");
        assert_eq!(day_kind(&cal, "2026-10-01").as_deref(), Some("holiday"));
        // a stale version is refused
        let (st, _) = api.put("/api/v1/calendar", good.clone()).await;
        assert_eq!(st, 409);
        assert_eq!(audit_actions(&api, "work_calendar").await, ["create"]);

        // the page: invalid periods re-render with the message beside the field and the input kept
        let s = app.login("admin").await;
        let (st, html) = s.page("/complaints/settings/calendar?year=2026").await;
        assert_eq!(st, 200);
        assert!(html.contains("name=\"version\" value=\"1\""));
        let r = s
            .post(
                "/complaints/settings/calendar",
                &[
                    ("version", "1"),
                    ("name", "总部日历"),
                    ("utc_offset_minutes", "480"),
                    ("periods", "08:30-12:00,11:00-17:30"),
                    ("weekday", "1"),
                    ("weekday", "2"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            field_error(&html, "periods").unwrap().contains("重叠"),
            "{:?}",
            field_error(&html, "periods")
        );
        assert_eq!(
            input_value(&html, "periods").as_deref(),
            Some("08:30-12:00,11:00-17:30")
        );
        // a valid save, Saturday included
        let r = s
            .post(
                "/complaints/settings/calendar",
                &[
                    ("version", "1"),
                    ("name", "总部日历"),
                    ("utc_offset_minutes", "480"),
                    ("periods", "08:30-12:00, 13:00-17:30"),
                    ("weekday", "1"),
                    ("weekday", "2"),
                    ("weekday", "3"),
                    ("weekday", "4"),
                    ("weekday", "5"),
                    ("weekday", "6"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/complaints/settings/calendar?ok=saved");
        let (_, cal) = api.get("/api/v1/calendar").await;
        assert_eq!(cal["periods"], "08:30-12:00,13:00-17:30");
        assert_eq!(cal["weekdays"], "123456");
        assert_eq!(cal["version"], 2);
        // the same old version again: 409 with the banner, the typed input kept
        let r = s
            .post(
                "/complaints/settings/calendar",
                &[
                    ("version", "1"),
                    ("name", "改名"),
                    ("utc_offset_minutes", "480"),
                    ("periods", "09:00-17:00"),
                    ("weekday", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("class=\"error banner\""));
        assert_eq!(input_value(&html, "name").as_deref(), Some("改名"));

        // back to the standard week; the calculator crosses the National Day holiday
        let mut body = good.clone();
        body["version"] = json!(2);
        assert_eq!(api.put("/api/v1/calendar", body).await.0, 200);
        let from = beijing("2026-09-30", 16, 0);
        let (st, w) = api
            .get(&format!(
                "/api/v1/calendar/working-time?from={from}&minutes=240"
            ))
            .await;
        assert_eq!(st, 200, "{w}");
        assert_eq!(w["due"], beijing("2026-10-08", 11, 0), "{w}");
        let (st, html) = s
            .page("/complaints/settings/calendar?year=2026&from=2026-09-30T16:00&hours=4")
            .await;
        assert_eq!(st, 200);
        assert!(
            html.contains("id=\"calc-due\">2026-10-08 11:00"),
            "calculator"
        );
        let (_, html) = s
            .page("/complaints/settings/calendar?from=2026-09-30T16:00&hours=abc")
            .await;
        assert!(html.contains("id=\"calc-error\""));
        // the year view marks the listed dates
        let (_, html) = s.page("/complaints/settings/calendar?year=2026").await;
        assert!(html.contains("class=\"hol\" data-date=\"2026-10-01\""));
        assert!(html.contains("class=\"mk\" data-date=\"2026-10-10\""));
        assert!(html.contains("class=\"off\" data-date=\"2026-10-11\""));
        assert!(html.contains("class=\"wk\" data-date=\"2026-10-12\""));
    }
}

#[tokio::test]
async fn holidays_make_up_days_and_the_2026_schedule() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;

        // a date listed as a holiday cannot become a make-up working day as well
        let (st, e) = api
            .post(
                "/api/v1/calendar/days",
                json!({"day": "2026-10-01", "kind": "workday", "version": 0}),
            )
            .await;
        assert_eq!(st, 422, "{b:?} {e}");
        assert!(e["fields"]["day"].as_str().unwrap().contains("2026-10-01"));
        assert_eq!(
            api.get("/api/v1/calendar").await.1["version"],
            0,
            "rolled back"
        );

        // removing a built-in date stores the calendar first
        let (st, cal) = delete(&api, "/api/v1/calendar/days/2026-10-01?version=0").await;
        assert_eq!(st, 200, "{cal}");
        assert_eq!(day_kind(&cal, "2026-10-01"), None);
        let v = cal["version"].as_i64().unwrap();
        assert_eq!(v, 2);
        let (st, _) = delete(
            &api,
            &format!("/api/v1/calendar/days/2026-10-01?version={v}"),
        )
        .await;
        assert_eq!(st, 404);

        // now as a make-up day; then the holiday on the same date is refused
        let (st, cal) = api
            .post(
                "/api/v1/calendar/days",
                json!({"day": "2026-10-01", "kind": "workday", "name": "特别调休", "version": v}),
            )
            .await;
        assert_eq!(st, 201, "{cal}");
        assert_eq!(day_kind(&cal, "2026-10-01").as_deref(), Some("workday"));
        let v = cal["version"].as_i64().unwrap();
        let (st, e) = api
            .post(
                "/api/v1/calendar/days",
                json!({"day": "2026-10-01", "kind": "holiday", "version": v}),
            )
            .await;
        assert_eq!(st, 422);
        assert!(
            e["fields"]["day"]
                .as_str()
                .unwrap()
                .contains("cannot be both")
        );
        // invalid date, unknown kind, stale version
        let (st, e) = api
            .post(
                "/api/v1/calendar/days",
                json!({"day": "2026-02-30", "kind": "holiday", "version": v}),
            )
            .await;
        assert_eq!(st, 422);
        assert!(e["fields"]["day"].is_string(), "{e}");
        let (st, e) = api
            .post(
                "/api/v1/calendar/days",
                json!({"day": "2026-03-02", "kind": "party", "version": v}),
            )
            .await;
        assert_eq!(st, 422);
        assert!(e["fields"]["kind"].is_string(), "{e}");
        let (st, _) = api
            .post(
                "/api/v1/calendar/days",
                json!({"day": "2026-03-02", "kind": "holiday", "version": v - 1}),
            )
            .await;
        assert_eq!(st, 409);

        // one click loads the State Council schedule back: its dates replace the listed ones
        let (st, e) = api
            .post(
                "/api/v1/calendar/statutory",
                json!({"year": 2031, "version": v}),
            )
            .await;
        assert_eq!(st, 422);
        assert!(e["fields"]["year"].is_string());
        let s = app.login("admin").await;
        let r = s
            .post(
                "/complaints/settings/calendar/statutory",
                &[("version", &v.to_string()), ("year", "2026")],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            location(&r),
            "/complaints/settings/calendar?ok=schedule_loaded&year=2026"
        );
        let (_, cal) = api.get("/api/v1/calendar").await;
        assert_eq!(day_kind(&cal, "2026-10-01").as_deref(), Some("holiday"));
        assert_eq!(day_kind(&cal, "2026-02-14").as_deref(), Some("workday"));
        let holidays = cal["days"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"] == "holiday")
            .count();
        assert_eq!(holidays, 3 + 9 + 3 + 5 + 3 + 3 + 7);

        // the page: add a company holiday; a conflicting date comes back with the message
        let v = cal["version"].as_i64().unwrap().to_string();
        let (st, html) = s.page("/complaints/settings/calendar?year=2026").await;
        assert_eq!(st, 200);
        assert!(html.contains("id=\"load-statutory\""));
        assert!(html.contains("国庆节"));
        let r = s
            .post(
                "/complaints/settings/calendar/days",
                &[
                    ("version", &v),
                    ("day", "2026-12-31"),
                    ("kind", "holiday"),
                    ("day_name", "年会"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let v = (v.parse::<i64>().unwrap() + 1).to_string();
        let r = s
            .post(
                "/complaints/settings/calendar/days",
                &[("version", &v), ("day", "2026-12-31"), ("kind", "workday")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "day").unwrap().contains("调休"));
        assert_eq!(input_value(&html, "day").as_deref(), Some("2026-12-31"));
        let r = s
            .post(
                "/complaints/settings/calendar/days/remove",
                &[("version", &v), ("day", "2026-12-31")],
            )
            .await;
        assert_eq!(r.status(), 303);

        // the SLA clock sees the stored calendar
        let mut h = app.st.db.acquire().await.unwrap();
        let w = server::complaints::sla::calendar(&mut h.c(), app.org)
            .await
            .unwrap();
        assert!(!w.is_working_day("2026-10-01"));
        assert!(w.is_working_day("2026-10-10"));
        assert!(w.is_working_day("2026-12-31"));
        drop(h);
        let actions = audit_actions(&api, "work_calendar").await;
        for a in ["create", "remove_day", "add_day", "load_schedule"] {
            assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
        }
    }
}

#[tokio::test]
async fn sla_targets_in_hours_with_new_levels_and_versions() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let s = app.login("admin").await;

        let (st, html) = s.page("/complaints/settings/sla/new").await;
        assert_eq!(st, 200);
        assert!(html.contains("id=\"hours-hint\""));
        // hours with decimals or minutes, stored as minutes
        let r = s
            .post(
                "/complaints/settings/sla",
                &[
                    ("severity", "serious"),
                    ("contract_level", ""),
                    ("ack", "0.5"),
                    ("response", "2"),
                    ("remedy", "16"),
                    ("close", "2400m"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{b:?}");
        let (_, list) = api.get("/api/v1/sla-targets").await;
        let t = &list[0];
        assert_eq!(
            (
                &t["severity"],
                &t["ack_minutes"],
                &t["response_minutes"],
                &t["remedy_minutes"],
                &t["close_minutes"]
            ),
            (
                &json!("serious"),
                &json!(30),
                &json!(120),
                &json!(960),
                &json!(2400)
            )
        );
        let id = t["id"].as_i64().unwrap();
        // the list shows hours
        let (_, html) = s.page("/complaints/settings/sla").await;
        let rows = list_rows(&html);
        assert_eq!(rows.len(), 1);
        assert!(
            rows[0].contains(">0.5<") && rows[0].contains(">40<"),
            "{}",
            rows[0]
        );

        // bad hours and a taken (severity, contract level) pair
        let r = s
            .post(
                "/complaints/settings/sla",
                &[("severity", "serious"), ("ack", "soon"), ("close", "8")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "ack").is_some());
        assert_eq!(input_value(&html, "ack").as_deref(), Some("soon"));
        let (st, e) = api
            .post(
                "/api/v1/sla-targets",
                json!({"severity": "serious", "ack_minutes": 10}),
            )
            .await;
        assert_eq!(st, 422);
        assert!(e["fields"]["severity"].is_string());
        let (st, e) = api
            .post("/api/v1/sla-targets", json!({"severity": "very bad"}))
            .await;
        assert_eq!(st, 422, "{e}");

        // a new severity name adds that level
        let (st, t2) = api
            .post(
                "/api/v1/sla-targets",
                json!({"severity": "critical", "contract_level": "gold", "ack_minutes": 10, "close_minutes": 600}),
            )
            .await;
        assert_eq!(st, 201, "{t2}");
        let (_, all) = api.get("/api/v1/complaint-settings").await;
        assert_eq!(all["severities"], json!(["minor", "serious", "critical"]));

        // edit through the page, then a stale edit: 409 with what was typed
        let (st, html) = s.page(&format!("/complaints/settings/sla/{id}/edit")).await;
        assert_eq!(st, 200);
        assert_eq!(input_value(&html, "ack").as_deref(), Some("0.5"));
        assert_eq!(input_value(&html, "close").as_deref(), Some("40"));
        let r = s
            .post(
                &format!("/complaints/settings/sla/{id}"),
                &[
                    ("version", "1"),
                    ("severity", "serious"),
                    ("ack", "0.25"),
                    ("response", "2"),
                    ("remedy", "16"),
                    ("close", "40"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = s
            .post(
                &format!("/complaints/settings/sla/{id}"),
                &[("version", "1"), ("severity", "serious"), ("ack", "3")],
            )
            .await;
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert_eq!(input_value(&html, "ack").as_deref(), Some("3"));
        assert!(html.contains("name=\"version\" value=\"2\""));
        let (st, _) = api
            .put(
                &format!("/api/v1/sla-targets/{id}"),
                json!({"severity": "serious", "ack_minutes": 5, "version": 1}),
            )
            .await;
        assert_eq!(st, 409);
        let (st, t) = api
            .put(
                &format!("/api/v1/sla-targets/{id}"),
                json!({"severity": "serious", "ack_minutes": 5, "version": 2}),
            )
            .await;
        assert_eq!(st, 200, "{t}");
        assert_eq!(t["ack_minutes"], 5);
        assert_eq!(t["remedy_minutes"], Value::Null);

        // delete: stale refused, current removed
        let id2 = t2["id"].as_i64().unwrap();
        let (st, _) = delete(&api, &format!("/api/v1/sla-targets/{id2}?version=7")).await;
        assert_eq!(st, 409);
        let r = s
            .post(
                &format!("/complaints/settings/sla/{id2}/delete"),
                &[("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, list) = api.get("/api/v1/sla-targets").await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        let mut actions = audit_actions(&api, "sla_target").await;
        actions.sort();
        assert_eq!(actions, ["create", "create", "delete", "update", "update"]);
    }
}

#[tokio::test]
async fn approval_rules_in_yuan_stored_as_fen() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let biz = department(&api, "BIZ", "业务部").await;
        let s = app.login("admin").await;

        let (st, html) = s.page("/complaints/settings/approvals/new").await;
        assert_eq!(st, 200);
        assert_eq!(
            selected_value(&html, "approver").as_deref(),
            Some("role:manager")
        );
        assert!(html.contains(&format!("value=\"department:{biz}\"")));
        assert!(!html.contains("value=\"role:auditor\""));
        let r = s
            .post(
                "/complaints/settings/approvals",
                &[
                    ("remedy_type", "refund"),
                    ("min_amount", "¥5,000.50"),
                    ("approver", "role:manager"),
                    ("note", "大额退款"),
                    ("active", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{b:?}");
        let (_, rules) = api.get("/api/v1/approval-rules").await;
        let rule = &rules[0];
        assert_eq!(rule["min_amount_fen"], 500_050);
        assert_eq!(rule["remedy_type"], "refund");
        assert_eq!(rule["approver_role"], "manager");
        assert_eq!(rule["active"], true);
        let id = rule["id"].as_i64().unwrap();
        let (_, html) = s
            .page(&format!("/complaints/settings/approvals/{id}/edit"))
            .await;
        assert_eq!(
            input_value(&html, "min_amount").as_deref(),
            Some("5,000.50")
        );
        let (_, html) = s.page("/complaints/settings/approvals").await;
        assert!(list_rows(&html)[0].contains("¥5,000.50"));

        // invalid amount, a read-only approver, no approver: beside the fields
        let r = s
            .post(
                "/complaints/settings/approvals",
                &[("min_amount", "-5"), ("approver", "role:auditor")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "min_amount").is_some());
        assert!(field_error(&html, "approver").is_some());
        assert_eq!(input_value(&html, "min_amount").as_deref(), Some("-5"));
        let (st, e) = api
            .post(
                "/api/v1/approval-rules",
                json!({"severity": "nonexistent", "approver_role": "manager", "approver_department_id": biz}),
            )
            .await;
        assert_eq!(st, 422);
        assert!(e["fields"]["severity"].is_string() && e["fields"]["approver"].is_string());

        // a department approver for serious complaints, in yuan through the API
        let (st, r2) = api
            .post(
                "/api/v1/approval-rules",
                json!({"severity": "serious", "min_amount_yuan": "1000", "approver_department_id": biz}),
            )
            .await;
        assert_eq!(st, 201, "{r2}");
        assert_eq!(r2["min_amount_fen"], 100_000);
        assert_eq!(r2["approver_department"], "业务部");

        // deactivate on the page; activate with a stale version is refused
        let r = s
            .post(
                &format!("/complaints/settings/approvals/{id}/deactivate"),
                &[("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, rules) = api.get("/api/v1/approval-rules").await;
        assert_eq!(rules[0]["active"], false);
        let (st, _) = api
            .post(
                &format!("/api/v1/approval-rules/{id}/activate"),
                json!({"version": 1}),
            )
            .await;
        assert_eq!(st, 409);
        let (st, r) = api
            .post(
                &format!("/api/v1/approval-rules/{id}/activate"),
                json!({"version": 2}),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(r["active"], true);
        // the routing reads only active rules
        let mut h = app.st.db.acquire().await.unwrap();
        let active = store::complaints::settings::approval_rules(&mut h.c(), app.org, true)
            .await
            .unwrap();
        assert_eq!(active.len(), 2);
    }
}

#[tokio::test]
async fn the_seed_matrix_by_department_code_and_demo_defaults() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let s = app.login("admin").await;

        // no coded departments: refused with the reason
        let r = s.post("/complaints/settings/matrix/seed", &[]).await;
        assert_eq!(r.status(), 409, "{b:?}");
        assert!(r.text().await.unwrap().contains("BIZ"));

        let mut ids = std::collections::HashMap::new();
        for (code, name) in [
            ("BIZ", "业务部"),
            ("MKT", "营销部"),
            ("SVC", "售后服务部"),
            ("PRD", "生产部"),
            ("PUR", "采购部"),
        ] {
            ids.insert(code, department(&api, code, name).await);
        }
        let r = s.post("/complaints/settings/matrix/seed", &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/complaints/settings/matrix?ok=matrix_seeded");
        let (_, m) = api.get("/api/v1/responsibility-matrix").await;
        let rows = m.as_array().unwrap();
        assert_eq!(
            rows.len(),
            server::complaints::settings::service::SEED_MATRIX.len()
        );
        assert_eq!(rows[0]["step"], "register");
        assert_eq!(rows[0]["department_id"], ids["BIZ"]);
        assert_eq!(rows.last().unwrap()["step"], "visit");
        let at = |step: &str| -> Vec<i64> {
            rows.iter()
                .filter(|r| r["step"] == step)
                .map(|r| r["department_id"].as_i64().unwrap())
                .collect()
        };
        assert!(at("confirm").contains(&ids["MKT"]));
        assert!(at("remedy").contains(&ids["PRD"]) && at("remedy").contains(&ids["BIZ"]));
        let prevent = at("prevent");
        for c in ["SVC", "BIZ", "PUR"] {
            assert!(prevent.contains(&ids[c]), "prevent: {c}");
        }
        assert!(
            rows.iter()
                .any(|r| r["duty"].as_str().unwrap().contains("料号"))
        );
        // loading again adds nothing
        let r = s.post("/complaints/settings/matrix/seed", &[]).await;
        assert_eq!(
            location(&r),
            "/complaints/settings/matrix?ok=matrix_unchanged"
        );

        // add and remove a row by hand
        let r = s
            .post(
                "/complaints/settings/matrix",
                &[("step", "visit"), ("duty", "回访")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "department_id").is_some());
        assert_eq!(input_value(&html, "duty").as_deref(), Some("回访"));
        let svc = ids["SVC"].to_string();
        let r = s
            .post(
                "/complaints/settings/matrix",
                &[
                    ("step", "visit"),
                    ("department_id", &svc),
                    ("duty", "电话回访顾客"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, m) = api.get("/api/v1/responsibility-matrix").await;
        let added = m
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["duty"] == "电话回访顾客")
            .unwrap()
            .clone();
        assert_eq!(added["step"], "visit");
        let (st, _) = delete(
            &api,
            &format!("/api/v1/responsibility-matrix/{}", added["id"]),
        )
        .await;
        assert_eq!(st, 204);

        // the demo's defaults on a fresh organization with the same codes
        let org2 = app.other_org("demo2", "admin2").await;
        let admin2 = app.user(org2, "boss2", Role::Admin).await;
        let api2 = app.api(&app.token(admin2, org2).await);
        for (code, name) in [("BIZ", "业务部"), ("PRD", "生产部"), ("SVC", "售后服务部")]
        {
            department(&api2, code, name).await;
        }
        let mut tx = app.st.db.begin().await.unwrap();
        server::complaints::settings::seed_defaults(&mut tx, org2, server::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (_, all) = api2.get("/api/v1/complaint-settings").await;
        let targets = all["sla_targets"].as_array().unwrap();
        assert_eq!(targets.len(), 3);
        let gold = targets
            .iter()
            .find(|t| t["contract_level"] == "gold")
            .unwrap();
        assert_eq!(
            (&gold["ack_minutes"], &gold["remedy_minutes"]),
            (&json!(15), &json!(480))
        );
        let rules = all["approval_rules"].as_array().unwrap();
        assert_eq!(rules.len(), 4);
        assert!(
            rules
                .iter()
                .any(|r| r["remedy_type"] == "refund" && r["min_amount_fen"] == 500_000)
        );
        assert_eq!(
            rules
                .iter()
                .filter(|r| r["severity"] == "serious" && r["approver_department_id"].is_i64())
                .count(),
            2
        );
        // MKT and PUR do not exist there: their rows are skipped
        assert_eq!(all["responsibility_matrix"].as_array().unwrap().len(), 12);
        assert!(all["calendar"]["id"].as_i64().unwrap() > 0);
        assert_eq!(
            day_kind(&all["calendar"], "2026-10-01").as_deref(),
            Some("holiday")
        );
        // the first organization saw none of it
        let (_, mine) = api.get("/api/v1/complaint-settings").await;
        assert!(mine["sla_targets"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn numbering_and_windows_round_trip() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;

        let (_, all) = api.get("/api/v1/complaint-settings").await;
        let mut s = all["settings"].clone();
        assert_eq!(s["version"], 0);
        assert_eq!(s["number_prefix"], "TS");
        s["number_prefix"] = json!("KS");
        s["number_digits"] = json!(5);
        s["recurrence_days"] = json!(365);
        s["warn_percent"] = json!(25);
        s["attachment_max_bytes"] = json!(5 * 1024 * 1024);
        let (st, saved) = api.put("/api/v1/complaint-settings", s.clone()).await;
        assert_eq!(st, 200, "{b:?} {saved}");
        assert_eq!(saved["version"], 1);
        let (_, all) = api.get("/api/v1/complaint-settings").await;
        let mut expect = s.clone();
        expect["version"] = json!(1);
        assert_eq!(all["settings"], expect);
        // stale, out of range, missing
        let (st, _) = api.put("/api/v1/complaint-settings", s.clone()).await;
        assert_eq!(st, 409);
        let mut bad = expect.clone();
        bad["number_digits"] = json!(2);
        bad["number_prefix"] = json!("K S");
        let (st, e) = api.put("/api/v1/complaint-settings", bad).await;
        assert_eq!(st, 422);
        assert!(
            e["fields"]["number_digits"].is_string() && e["fields"]["number_prefix"].is_string()
        );
        let (st, e) = api
            .put(
                "/api/v1/complaint-settings",
                json!({"number_prefix": "KS", "version": 1}),
            )
            .await;
        assert_eq!(st, 422);
        assert!(e["fields"]["warn_percent"].is_string());

        // the page shows and saves the same values (attachment size in MB)
        let p = app.login("admin").await;
        let (st, html) = p.page("/complaints/settings/numbering").await;
        assert_eq!(st, 200);
        assert_eq!(input_value(&html, "number_prefix").as_deref(), Some("KS"));
        assert_eq!(input_value(&html, "attachment_mb").as_deref(), Some("5"));
        assert!(html.contains("KS-20"));
        let fields = |digits: &'static str, mb: &'static str| {
            vec![
                ("version", "1"),
                ("number_prefix", "KS"),
                ("number_digits", digits),
                ("recurrence_days", "365"),
                ("return_visit_days", "5"),
                ("warn_percent", "25"),
                ("capa_effect_days", "60"),
                ("capa_effect_units", "0"),
                ("attachment_mb", mb),
            ]
        };
        let r = p
            .post("/complaints/settings/numbering", &fields("11", "2048"))
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            field_error(&html, "number_digits")
                .unwrap()
                .contains("3 – 10")
        );
        assert!(field_error(&html, "attachment_mb").is_some());
        assert_eq!(input_value(&html, "number_digits").as_deref(), Some("11"));
        let r = p
            .post("/complaints/settings/numbering", &fields("8", "0.5"))
            .await;
        assert_eq!(r.status(), 303);
        let (_, all) = api.get("/api/v1/complaint-settings").await;
        assert_eq!(all["settings"]["number_digits"], 8);
        assert_eq!(all["settings"]["return_visit_days"], 5);
        assert_eq!(all["settings"]["attachment_max_bytes"], 512 * 1024);
        let r = p
            .post("/complaints/settings/numbering", &fields("8", "1"))
            .await;
        assert_eq!(r.status(), 409);
        let mut actions = audit_actions(&api, "complaint_settings").await;
        actions.sort();
        assert_eq!(actions, ["create", "update"]);

        // the API is described
        let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/api/v1/complaint-settings",
            "/api/v1/calendar",
            "/api/v1/calendar/days",
            "/api/v1/calendar/days/{day}",
            "/api/v1/calendar/statutory",
            "/api/v1/calendar/working-time",
            "/api/v1/sla-targets",
            "/api/v1/sla-targets/{id}",
            "/api/v1/approval-rules",
            "/api/v1/approval-rules/{id}/deactivate",
            "/api/v1/responsibility-matrix",
            "/api/v1/responsibility-matrix/seed",
        ] {
            assert!(paths.contains_key(p), "{p} documented");
        }
    }
}

#[tokio::test]
async fn managers_edit_engineers_and_auditors_only_read() {
    for b in backends() {
        let app = spawn_app(b).await;
        let manager = app.user(app.org, "mgr", Role::Manager).await;
        let engineer = app.user(app.org, "eng", Role::Engineer).await;
        let auditor = app.user(app.org, "aud", Role::Auditor).await;

        let m = app.api(&app.token(manager, app.org).await);
        let (st, _) = m
            .post(
                "/api/v1/sla-targets",
                json!({"severity": "minor", "ack_minutes": 60}),
            )
            .await;
        assert_eq!(st, 201, "{b:?}: the manager edits");

        for (uid, login) in [(engineer, "eng"), (auditor, "aud")] {
            let a = app.api(&app.token(uid, app.org).await);
            // reads
            for path in [
                "/api/v1/complaint-settings",
                "/api/v1/calendar",
                "/api/v1/sla-targets",
                "/api/v1/approval-rules",
                "/api/v1/responsibility-matrix",
            ] {
                assert_eq!(a.get(path).await.0, 200, "{login} reads {path}");
            }
            // never changes
            assert_eq!(
                a.post("/api/v1/sla-targets", json!({"severity": "serious"}))
                    .await
                    .0,
                403
            );
            assert_eq!(
                a.put(
                    "/api/v1/calendar",
                    json!({"name": "x", "utc_offset_minutes": 480, "periods": "09:00-17:00", "weekdays": "12345", "version": 0})
                )
                .await
                .0,
                403
            );
            assert_eq!(
                a.post(
                    "/api/v1/calendar/statutory",
                    json!({"year": 2026, "version": 0})
                )
                .await
                .0,
                403
            );
            assert_eq!(
                a.post(
                    "/api/v1/approval-rules",
                    json!({"approver_role": "manager"})
                )
                .await
                .0,
                403
            );
            assert_eq!(
                a.post("/api/v1/responsibility-matrix/seed", json!({}))
                    .await
                    .0,
                403
            );
            assert_eq!(
                a.put("/api/v1/complaint-settings", json!({"number_prefix": "X"}))
                    .await
                    .0,
                403
            );
            // the pages: readable, without edit controls; forms and posts refused
            let s = app.login(login).await;
            for path in [
                "/complaints/settings",
                "/complaints/settings/calendar",
                "/complaints/settings/sla",
                "/complaints/settings/approvals",
                "/complaints/settings/matrix",
                "/complaints/settings/numbering",
            ] {
                let (st, html) = s.page(path).await;
                assert_eq!(st, 200, "{login} {path}");
                assert!(!html.contains("id=\"new\""), "{login} {path}");
                assert!(!html.contains("id=\"save"), "{login} {path}");
                assert!(!html.contains("id=\"seed-matrix\""), "{login} {path}");
            }
            assert_eq!(s.page("/complaints/settings/sla/new").await.0, 403);
            assert_eq!(s.page("/complaints/settings/approvals/new").await.0, 403);
            let r = s
                .post(
                    "/complaints/settings/calendar/statutory",
                    &[("version", "0"), ("year", "2026")],
                )
                .await;
            assert_eq!(r.status(), 403, "{login}");
            let r = s
                .post("/complaints/settings/sla", &[("severity", "serious")])
                .await;
            assert_eq!(r.status(), 403, "{login}");
        }
        // nothing changed by the refused requests
        let (_, cal) = m.get("/api/v1/calendar").await;
        assert_eq!(cal["version"], 0);
    }
}

/// Sends a notice to some users of an organization.
async fn notify(app: &TestApp, org: i64, users: Vec<i64>, kind: &str, id: i64, args: Value) {
    let mut tx = app.st.db.begin().await.unwrap();
    let who = store::notifications::Audience {
        users,
        ..Default::default()
    };
    let n = store::notifications::notify(
        &mut tx.c(),
        org,
        &who,
        kind,
        if kind == "capa_overdue" {
            "capa"
        } else {
            "complaint"
        },
        id,
        &args.to_string(),
        server::now(),
    )
    .await
    .unwrap();
    assert!(n >= 1);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn notices_per_user_and_organization() {
    for b in backends() {
        let app = spawn_app(b).await;
        let alice = app.user(app.org, "alice", Role::Engineer).await;
        let bob = app.user(app.org, "bob", Role::Staff).await;
        let org2 = app.other_org("beta", "beta_admin").await;
        let carol = app.user(org2, "carol", Role::Manager).await;

        notify(
            &app,
            app.org,
            vec![alice],
            "sla_warning",
            11,
            json!({"number": "TS-2026-000011", "target": "ack"}),
        )
        .await;
        notify(
            &app,
            app.org,
            vec![alice, bob],
            "approval_waiting",
            12,
            json!({"number": "TS-2026-000012"}),
        )
        .await;
        notify(
            &app,
            app.org,
            vec![alice],
            "capa_overdue",
            3,
            json!({"number": "CAPA-2026-0003"}),
        )
        .await;
        notify(
            &app,
            org2,
            vec![carol],
            "sla_breach",
            99,
            json!({"number": "TS-2026-000099", "target": "close"}),
        )
        .await;

        let a = app.api(&app.token(alice, app.org).await);
        let (st, l) = a.get("/api/v1/notices").await;
        assert_eq!(st, 200, "{b:?} {l}");
        assert_eq!(l["total"], 3);
        assert_eq!(l["unread"], 3);
        let items = l["items"].as_array().unwrap();
        // newest first; messages filled from the arguments, links to the record
        assert_eq!(items[0]["kind"], "capa_overdue");
        assert_eq!(items[0]["link"], "/capas/3");
        assert_eq!(items[2]["link"], "/complaints/11");
        let warn = items[2]["message"].as_str().unwrap();
        assert!(
            warn.contains("TS-2026-000011") && warn.contains("受理确认"),
            "{warn}"
        );
        let ids: Vec<i64> = items.iter().map(|n| n["id"].as_i64().unwrap()).collect();

        // bob's and carol's are their own
        let bb = app.api(&app.token(bob, app.org).await);
        let (_, lb) = bb.get("/api/v1/notices").await;
        assert_eq!(lb["total"], 1);
        let bob_notice = lb["items"][0]["id"].as_i64().unwrap();
        let c = app.api(&app.token(carol, org2).await);
        let (_, lc) = c.get("/api/v1/notices").await;
        assert_eq!(lc["total"], 1);
        let carol_notice = lc["items"][0]["id"].as_i64().unwrap();
        // nobody marks another's notice
        assert_eq!(
            a.post("/api/v1/notices/read", json!({"id": bob_notice}))
                .await
                .0,
            404
        );
        assert_eq!(
            a.post("/api/v1/notices/read", json!({"id": carol_notice}))
                .await
                .0,
            404
        );

        // one read, then the unread filter, then all
        let (st, r) = a.post("/api/v1/notices/read", json!({"id": ids[1]})).await;
        assert_eq!(st, 200);
        assert_eq!(r, json!({"marked": 1, "unread": 2}));
        let (_, u) = a.get("/api/v1/notices?unread=true").await;
        assert_eq!(u["total"], 2);
        assert!(
            u["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["read_at"].is_null())
        );
        // the page: unread first-class, marking one read by form
        let s = app.login("alice").await;
        let (st, html) = s.page("/notices").await;
        assert_eq!(st, 200);
        assert_eq!(list_rows(&html).len(), 3);
        assert!(html.contains("id=\"unread-count\""));
        assert!(html.contains("href=\"/complaints/11\""));
        assert_eq!(html.matches("class=\"unread\"").count(), 2);
        let r = s
            .post(&format!("/notices/{}/read", ids[0]), &[("unread", "1")])
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/notices?ok=notices_read&unread=1");
        let (_, html) = s.page("/notices?unread=1").await;
        assert_eq!(list_rows(&html).len(), 1);
        let r = s.post("/notices/read", &[]).await;
        assert_eq!(r.status(), 303);
        let (_, l) = a.get("/api/v1/notices").await;
        assert_eq!(l["unread"], 0);
        assert_eq!(l["total"], 3);
        let (st, r) = a.post("/api/v1/notices/read", json!({})).await;
        assert_eq!((st, r["marked"].clone()), (200, json!(0)));
        // the others are untouched
        assert_eq!(bb.get("/api/v1/notices").await.1["unread"], 1);
        assert_eq!(c.get("/api/v1/notices").await.1["unread"], 1);
        // pagination
        let (_, p) = a.get("/api/v1/notices?per_page=2&page=2").await;
        assert_eq!(p["items"].as_array().unwrap().len(), 1);
        assert_eq!(p["total"], 3);
    }
}
