//! Tests: corrective actions (CAPA / 8D). Opened from a complaint (one open CAPA per
//! complaint, the complaint's history shows it), the 8D report with versions, actions with
//! owners and due dates, the effectiveness check (a matching complaint fails it; days or
//! units shipped pass it; two workers move it once), closing only when effective with D8,
//! overdue actions escalated once by two concurrent runs, the pages, the auditor's
//! read-only access and other organizations' 404.

use domain::auth::Role;
use serde_json::{Value, json};
use server::complaints::capa::{run_effectiveness, run_overdue};

use crate::helpers::*;

const DAY: i64 = 86_400;

async fn exec(app: &TestApp, sql: String) {
    let mut tx = app.st.db.begin().await.unwrap();
    store::run!(&mut tx.c(), x => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(x).await)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.commit().await.unwrap();
}

async fn scalar(app: &TestApp, sql: String) -> i64 {
    let mut tx = app.st.db.begin().await.unwrap();
    let (n,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_one(x).await)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.commit().await.unwrap();
    n
}

/// A complaint row with every NOT NULL column (the registration service is tested elsewhere).
#[allow(clippy::too_many_arguments)]
async fn complaint(
    app: &TestApp,
    org: i64,
    number: &str,
    part_no: Option<&str>,
    product: Option<i64>,
    fault: Option<&str>,
    received_at: i64,
    description: &str,
) -> i64 {
    let q = |v: Option<&str>| v.map(|s| format!("'{s}'")).unwrap_or("NULL".into());
    let product = product.map(|p| p.to_string()).unwrap_or("NULL".into());
    scalar(
        app,
        format!(
            "INSERT INTO complaints (org_id, number, channel, status, class, severity, fault_category, received_at,
                acknowledged_at, customer_name, product_id, part_no, description, approval_round, repeat_count,
                capa_required, reopen_count, month, created_at, updated_at, version)
             VALUES ({org}, '{number}', 'phone', 'analysing', 'quality', 'serious', {}, {received_at}, {received_at},
                '华东机械', {product}, {}, '{description}', 0, 0, TRUE, 0, '2026-01', {received_at}, {received_at}, 1)
             RETURNING id",
            q(fault),
            q(part_no)
        ),
    )
    .await
}

async fn product(app: &TestApp, part_no: &str) -> i64 {
    scalar(
        app,
        format!(
            "INSERT INTO products (org_id, part_no, model, name, warranty_months, contract_levels, active, created_at,
                updated_at, version)
             VALUES ({}, '{part_no}', 'M1', '液压泵', 12, '[]', TRUE, 0, 0, 1) RETURNING id",
            app.org
        ),
    )
    .await
}

/// An order shipped on `ship_date` with one line of `qty` units of `product`.
async fn shipped(app: &TestApp, product: i64, order_no: &str, ship_date: &str, qty: i64) {
    let org = app.org;
    let customer = scalar(
        app,
        format!(
            "INSERT INTO customers (org_id, name, kind, tags, consent_contact, consent_survey, active, created_at,
                updated_at, version)
             VALUES ({org}, '客户{order_no}', 'company', '[]', FALSE, FALSE, TRUE, 0, 0, 1) RETURNING id"
        ),
    )
    .await;
    let order = scalar(
        app,
        format!(
            "INSERT INTO orders (org_id, order_no, customer_id, ship_date, created_at, updated_at, version)
             VALUES ({org}, '{order_no}', {customer}, '{ship_date}', 0, 0, 1) RETURNING id"
        ),
    )
    .await;
    exec(
        app,
        format!(
            "INSERT INTO order_lines (org_id, order_id, product_id, quantity, unit_price_fen)
             VALUES ({org}, {order}, {product}, {qty}, 100)"
        ),
    )
    .await;
}

async fn today(app: &TestApp, now: i64) -> String {
    let mut h = app.st.db.acquire().await.unwrap();
    server::complaints::sla::calendar(&mut h.c(), app.org)
        .await
        .unwrap()
        .local_date(now)
}

async fn audit_actions(api: &Api, entity: &str, id: i64) -> Vec<String> {
    let (st, body) = api
        .get(&format!("/api/v1/audit?entity={entity}&entity_id={id}"))
        .await;
    assert_eq!(st, 200, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn capa(api: &Api, id: i64) -> Value {
    let (st, body) = api.get(&format!("/api/v1/capas/{id}")).await;
    assert_eq!(st, 200, "{body}");
    body
}

/// Fills the 8D core a check needs, at the CAPA's current version.
async fn fill_8d(api: &Api, id: i64, extra: Value) -> Value {
    let k = capa(api, id).await;
    let mut b = json!({
        "title": k["capa"]["title"],
        "owner_id": k["capa"]["owner_id"],
        "d1_team": "质量部 张工（组长）、生产部 李工",
        "d2_problem": k["capa"]["d2_problem"],
        "d3_containment": "冻结库存 120 台并全检",
        "d4_occurrence": "密封圈供应商更换材料，耐油性不足",
        "d4_escape": "进货检验未覆盖耐油测试",
        "d5_action": "恢复原材料并增加耐油试验",
        "version": k["capa"]["version"],
    });
    if let (Some(b), Some(x)) = (b.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            b.insert(k.clone(), v.clone());
        }
    }
    let (st, body) = api.put(&format!("/api/v1/capas/{id}"), b).await;
    assert_eq!(st, 200, "{body}");
    body
}

async fn start(api: &Api, id: i64) -> (u16, Value) {
    let v = capa(api, id).await["capa"]["version"].as_i64().unwrap();
    api.post(
        &format!("/api/v1/capas/{id}/start-check"),
        json!({"version": v}),
    )
    .await
}

#[tokio::test]
async fn capa_from_complaint_to_closure() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let now = server::now();
        // the CAPA's own complaint falls inside the check window: it must not count
        let a = complaint(
            &app,
            app.org,
            "TS-2026-000001",
            Some("P-100"),
            None,
            Some("漏油"),
            now - 100,
            "液压泵接口漏油",
        )
        .await;

        // opened from the complaint, copying what the check matches on
        let (st, k) = api
            .post(&format!("/api/v1/complaints/{a}/capa"), json!({}))
            .await;
        assert_eq!(st, 201, "{k}");
        let id = k["id"].as_i64().unwrap();
        let number = k["number"].as_str().unwrap().to_string();
        let year = &today(&app, now).await[0..4];
        assert_eq!(number, format!("CA-{year}-0001"));
        assert_eq!(k["status"], "open");
        assert_eq!(k["complaint_id"], a);
        assert_eq!(k["complaint_number"], "TS-2026-000001");
        assert_eq!(k["part_no"], "P-100");
        assert_eq!(k["fault_category"], "漏油");
        assert_eq!(k["d2_problem"], "液压泵接口漏油");
        assert_eq!(k["owner_id"], app.admin_id);
        assert_eq!(k["effect_days"], 90);
        assert_eq!(k["effect_units"], 0);
        // a second CAPA for the same complaint is refused: the open one is returned
        let (st, again) = api
            .post(&format!("/api/v1/complaints/{a}/capa"), json!({}))
            .await;
        assert_eq!(st, 200, "{again}");
        assert_eq!(again["capa"]["id"], id);
        assert_eq!(
            scalar(
                &app,
                format!("SELECT COUNT(*) FROM capas WHERE complaint_id = {a}")
            )
            .await,
            1
        );
        // the complaint's history shows it, and the complaint knows its CAPA
        assert_eq!(
            scalar(
                &app,
                format!(
                    "SELECT COUNT(*) FROM complaint_events WHERE complaint_id = {a} AND action = 'capa_opened'
                        AND note = '{number}'"
                )
            )
            .await,
            1
        );
        // the next CAPA takes the next number
        let a2 = complaint(
            &app,
            app.org,
            "TS-2026-000002",
            Some("P-200"),
            None,
            None,
            now - 50,
            "异响",
        )
        .await;
        let (st, k2) = api
            .post(&format!("/api/v1/complaints/{a2}/capa"), json!({}))
            .await;
        assert_eq!(st, 201, "{k2}");
        assert_eq!(k2["number"], format!("CA-{year}-0002"));

        // the check needs D2, D4 occurrence and D5
        let (st, body) = start(&api, id).await;
        assert_eq!(st, 422, "{body}");
        assert!(body["fields"]["d4_occurrence"].is_string(), "{body}");
        assert!(body["fields"]["d5_action"].is_string(), "{body}");
        assert!(body["fields"].get("d2_problem").is_none(), "{body}");

        // the 8D report, with optimistic versions
        let stale = capa(&api, id).await["capa"]["version"].as_i64().unwrap();
        let k = fill_8d(&api, id, json!({"due_date": "2026-12-31"})).await;
        assert_eq!(k["d4_occurrence"], "密封圈供应商更换材料，耐油性不足");
        assert_eq!(k["due_date"], "2026-12-31");
        let (st, body) = api
            .put(
                &format!("/api/v1/capas/{id}"),
                json!({"title": "x", "version": stale}),
            )
            .await;
        assert_eq!(st, 409, "{body}");
        assert_eq!(body["error"], "stale");
        let (st, body) = api
            .put(
                &format!("/api/v1/capas/{id}"),
                json!({"title": "", "due_date": "2026-13-01", "effect_days": 0, "effect_units": 0,
                    "owner_id": 999999, "version": k["version"]}),
            )
            .await;
        assert_eq!(st, 422, "{body}");
        assert!(body["fields"]["title"].is_string(), "{body}");
        assert!(body["fields"]["due_date"].is_string(), "{body}");
        assert!(body["fields"]["effect_days"].is_string(), "{body}");

        // actions: discipline, description, owner and due date required
        let (st, body) = api
            .post(
                &format!("/api/v1/capas/{id}/actions"),
                json!({"discipline": "d4", "description": ""}),
            )
            .await;
        assert_eq!(st, 422, "{body}");
        for f in ["discipline", "description", "owner_id", "due_date"] {
            assert!(body["fields"][f].is_string(), "{f}: {body}");
        }
        let (st, body) = api
            .post(
                &format!("/api/v1/capas/{id}/actions"),
                json!({"discipline": "D5", "description": "更换密封圈材料", "owner_id": 999999,
                    "due_date": "2026-06-30"}),
            )
            .await;
        assert_eq!(st, 422, "{body}");
        assert!(body["fields"]["owner_id"].is_string(), "{body}");
        let (st, act) = api
            .post(
                &format!("/api/v1/capas/{id}/actions"),
                json!({"discipline": "D5", "description": "更换密封圈材料", "owner_id": app.admin_id,
                    "due_date": "2099-06-30"}),
            )
            .await;
        assert_eq!(st, 201, "{act}");
        assert_eq!(act["discipline"], "d5");
        let aid = act["id"].as_i64().unwrap();
        // an open action blocks the check
        let (st, body) = start(&api, id).await;
        assert_eq!(st, 409, "{body}");
        assert_eq!(body["error"], "invalid_transition");
        let (st, body) = api
            .post(
                &format!("/api/v1/capas/{id}/actions/{aid}/finish"),
                json!({"result": "已切换材料"}),
            )
            .await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["result"], "已切换材料");
        assert!(body["done_at"].is_i64());
        let (st, _) = api
            .post(
                &format!("/api/v1/capas/{id}/actions/{aid}/finish"),
                json!({}),
            )
            .await;
        assert_eq!(st, 409);

        // closing is refused before the check passed
        let v = capa(&api, id).await["capa"]["version"].clone();
        let (st, body) = api
            .post(&format!("/api/v1/capas/{id}/close"), json!({"version": v}))
            .await;
        assert_eq!(st, 409, "{body}");
        // evaluating is refused before the check started
        let (st, _) = api
            .post(&format!("/api/v1/capas/{id}/evaluate"), json!({}))
            .await;
        assert_eq!(st, 409);

        // the check starts; nothing matches yet
        let (st, body) = start(&api, id).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["status"], "verifying");
        // the start is moved back so complaints can arrive "after" it in this test
        exec(
            &app,
            format!(
                "UPDATE capas SET effect_started_at = effect_started_at - 1000 WHERE id = {id}"
            ),
        )
        .await;
        let (st, body) = api
            .post(&format!("/api/v1/capas/{id}/evaluate"), json!({}))
            .await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["status"], "verifying");
        assert!(body["effect_checked_at"].is_i64());
        // another fault category, or a complaint received before the start, is no recurrence
        complaint(
            &app,
            app.org,
            "TS-2026-000003",
            Some("P-100"),
            None,
            Some("异响"),
            now - 600,
            "异响",
        )
        .await;
        complaint(
            &app,
            app.org,
            "TS-2026-000004",
            Some("P-100"),
            None,
            Some("漏油"),
            now - 5000,
            "早先的漏油",
        )
        .await;
        assert_eq!(run_effectiveness(&app.st.db, now).await.unwrap(), 0);
        assert_eq!(capa(&api, id).await["capa"]["status"], "verifying");
        let d = capa(&api, id).await;
        assert_eq!(d["effect"]["recurrence_count"], 0);
        assert_eq!(d["effect"]["outcome"], "pending");

        // a matching complaint after the start fails the check: back to open
        complaint(
            &app,
            app.org,
            "TS-2026-000005",
            Some("P-100"),
            None,
            Some("漏油"),
            now - 500,
            "又漏油了",
        )
        .await;
        let d = capa(&api, id).await;
        assert_eq!(d["effect"]["recurrence_count"], 1);
        assert_eq!(d["effect"]["recurrences"][0]["number"], "TS-2026-000005");
        assert_eq!(d["effect"]["outcome"], "failed");
        assert_eq!(run_effectiveness(&app.st.db, now).await.unwrap(), 1);
        let d = capa(&api, id).await;
        assert_eq!(d["capa"]["status"], "open");
        assert_eq!(d["capa"]["effect_result"], "failed");
        assert_eq!(
            scalar(
                &app,
                format!(
                    "SELECT COUNT(*) FROM notifications WHERE user_id = {} AND kind = 'capa_check_failed' AND ref_id = {id}",
                    app.admin_id
                )
            )
            .await,
            1
        );

        // a new start (after the recurrence): the days pass it, two workers move it once
        let (st, body) = start(&api, id).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["effect_result"], Value::Null);
        assert_eq!(
            run_effectiveness(&app.st.db, now + 89 * DAY).await.unwrap(),
            0
        );
        let db = app.st.db.clone();
        let (x, y) = tokio::join!(
            run_effectiveness(&db, now + 91 * DAY),
            run_effectiveness(&db, now + 91 * DAY)
        );
        assert_eq!(x.unwrap() + y.unwrap(), 1);
        let d = capa(&api, id).await;
        assert_eq!(d["capa"]["status"], "effective");
        assert_eq!(d["capa"]["effect_result"], "passed");

        // closing needs D8
        let v = d["capa"]["version"].clone();
        let (st, body) = api
            .post(&format!("/api/v1/capas/{id}/close"), json!({"version": v}))
            .await;
        assert_eq!(st, 422, "{body}");
        assert!(body["fields"]["d8_closure"].is_string(), "{body}");
        let k = fill_8d(&api, id, json!({"d8_closure": "措施有效，小组予以表彰"})).await;
        let (st, body) = api
            .post(
                &format!("/api/v1/capas/{id}/close"),
                json!({"version": k["version"]}),
            )
            .await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["status"], "closed");
        assert!(body["closed_at"].is_i64());
        // closed is final
        let (st, body) = api
            .put(
                &format!("/api/v1/capas/{id}"),
                json!({"title": "x", "version": body["version"]}),
            )
            .await;
        assert_eq!(st, 409, "{body}");
        assert_eq!(body["error"], "invalid_transition");
        let (st, _) = api
            .post(
                &format!("/api/v1/capas/{id}/actions"),
                json!({"discipline": "d7", "description": "x", "owner_id": app.admin_id, "due_date": "2099-01-01"}),
            )
            .await;
        assert_eq!(st, 409);
        // with its CAPA closed, the complaint may get a new one
        let (st, k3) = api
            .post(&format!("/api/v1/complaints/{a}/capa"), json!({}))
            .await;
        assert_eq!(st, 201, "{k3}");
        assert_eq!(k3["number"], format!("CA-{year}-0003"));

        // every change is audited
        let acts = audit_actions(&api, "capa", id).await;
        for want in [
            "create",
            "update",
            "capa_start_check",
            "capa_check_failed",
            "capa_effective",
            "capa_close",
        ] {
            assert!(acts.iter().any(|a| a == want), "{want} in {acts:?}");
        }
        assert_eq!(
            audit_actions(&api, "capa_action", aid).await,
            vec!["capa_finish", "create"]
        );

        // the list filters in SQL
        let (st, body) = api.get("/api/v1/capas?status=closed").await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["total"], 1);
        assert_eq!(body["items"][0]["id"], id);
        let (_, body) = api.get(&format!("/api/v1/capas?complaint_id={a}")).await;
        assert_eq!(body["total"], 2);
        let (_, body) = api.get("/api/v1/capas?q=P-200").await;
        assert_eq!(body["total"], 1);
        assert_eq!(body["items"][0]["id"], k2["id"]);
        let (_, body) = api.get("/api/v1/capas?q=ts-2026-000002").await;
        assert_eq!(body["total"], 1);
        let (_, body) = api.get("/api/v1/capas?per_page=1&page=2").await;
        assert_eq!(body["total"], 3);
        assert_eq!(body["items"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn units_shipped_pass_the_check_and_overdue_actions_escalate_once() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let eng = app.user(app.org, "eng", Role::Engineer).await;
        let mgr = app.user(app.org, "mgr", Role::Manager).await;
        let now = server::now();
        let p = product(&app, "P-300").await;
        let a = complaint(
            &app,
            app.org,
            "TS-2026-000010",
            Some("P-300"),
            Some(p),
            Some("烧机"),
            now - 100,
            "电机烧毁",
        )
        .await;
        let (st, k) = api
            .post(&format!("/api/v1/complaints/{a}/capa"), json!({}))
            .await;
        assert_eq!(st, 201, "{k}");
        let id = k["id"].as_i64().unwrap();
        assert_eq!(k["product_id"], p);

        // two requests at once: one CAPA per complaint, and distinct numbers across complaints
        let b1 = complaint(&app, app.org, "TS-2026-000011", None, None, None, now, "x").await;
        let b2 = complaint(&app, app.org, "TS-2026-000012", None, None, None, now, "y").await;
        let (p1, p2) = (
            format!("/api/v1/complaints/{b1}/capa"),
            format!("/api/v1/complaints/{b2}/capa"),
        );
        let (r1, r2, r3) = tokio::join!(
            api.post(&p1, json!({})),
            api.post(&p1, json!({})),
            api.post(&p2, json!({})),
        );
        let mut codes = [r1.0, r2.0];
        codes.sort();
        assert_eq!(codes, [200, 201], "{} {}", r1.1, r2.1);
        assert_eq!(r3.0, 201, "{}", r3.1);
        assert_eq!(
            scalar(
                &app,
                format!("SELECT COUNT(*) FROM capas WHERE complaint_id = {b1}")
            )
            .await,
            1
        );
        assert_eq!(
            scalar(&app, "SELECT COUNT(DISTINCT number) FROM capas".into()).await,
            3
        );

        // an action past its due date, owned by the engineer
        let (st, act) = api
            .post(
                &format!("/api/v1/capas/{id}/actions"),
                json!({"discipline": "d3", "description": "隔离在库电机", "owner_id": eng,
                    "due_date": "2020-01-01"}),
            )
            .await;
        assert_eq!(st, 201, "{act}");
        let aid = act["id"].as_i64().unwrap();
        let (_, list) = api.get("/api/v1/capas?overdue=true").await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["overdue_actions"], 1);
        assert!(
            capa(&api, id).await["actions"][0]["overdue"]
                .as_bool()
                .unwrap()
        );
        // two workers at once: one escalation, one notice each for the owner and the manager
        let db = app.st.db.clone();
        let (x, y) = tokio::join!(run_overdue(&db, now), run_overdue(&db, now));
        assert_eq!(x.unwrap() + y.unwrap(), 1);
        assert_eq!(run_overdue(&app.st.db, now).await.unwrap(), 0);
        let notices = |user: i64| {
            format!(
                "SELECT COUNT(*) FROM notifications WHERE user_id = {user} AND kind = 'capa_overdue' AND ref_id = {id}"
            )
        };
        assert_eq!(scalar(&app, notices(eng)).await, 1);
        assert_eq!(scalar(&app, notices(mgr)).await, 1);
        assert_eq!(scalar(&app, notices(app.admin_id)).await, 0);
        let d = capa(&api, id).await;
        assert!(d["actions"][0]["escalated_at"].is_i64());
        assert_eq!(
            audit_actions(&api, "capa_action", aid).await,
            vec!["capa_escalate", "create"]
        );
        // a done action is no longer overdue
        let (st, _) = api
            .post(
                &format!("/api/v1/capas/{id}/actions/{aid}/finish"),
                json!({}),
            )
            .await;
        assert_eq!(st, 200);
        let (_, list) = api.get("/api/v1/capas?overdue=true").await;
        assert_eq!(list["total"], 0);

        // units only: 100 units of the product shipped since the start pass the check
        fill_8d(&api, id, json!({"effect_days": 0, "effect_units": 100})).await;
        let (st, body) = start(&api, id).await;
        assert_eq!(st, 200, "{body}");
        exec(
            &app,
            format!(
                "UPDATE capas SET effect_started_at = effect_started_at - {} WHERE id = {id}",
                2 * DAY
            ),
        )
        .await;
        let day = today(&app, now).await;
        shipped(&app, p, "SO-1", &day, 60).await;
        shipped(&app, p, "SO-0", "2000-01-01", 500).await;
        assert_eq!(run_effectiveness(&app.st.db, now).await.unwrap(), 0);
        let d = capa(&api, id).await;
        assert_eq!(d["effect"]["units_shipped"], 60);
        assert_eq!(d["effect"]["days_elapsed"], 2);
        shipped(&app, p, "SO-2", &day, 50).await;
        assert_eq!(run_effectiveness(&app.st.db, now).await.unwrap(), 1);
        let d = capa(&api, id).await;
        assert_eq!(d["capa"]["status"], "effective");
        assert_eq!(d["effect"]["units_shipped"], 110);
    }
}

#[tokio::test]
async fn capa_pages_roles_and_other_organizations() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        let now = server::now();
        let a = complaint(
            &app,
            app.org,
            "TS-2026-000020",
            Some("P-400"),
            None,
            Some("漏电"),
            now - 100,
            "外壳漏电",
        )
        .await;

        // opened from the complaint page's button; a second press goes to the same CAPA
        let r = s.post(&format!("/complaints/{a}/capa"), &[]).await;
        assert_eq!(r.status(), 303);
        let loc = location(&r);
        assert!(loc.ends_with("?ok=capa_opened"), "{loc}");
        let id = id_in(&loc, "/capas/");
        let r = s.post(&format!("/complaints/{a}/capa"), &[]).await;
        assert_eq!(location(&r), format!("/capas/{id}?ok=capa_exists"));

        // the list and the detail
        let (st, html) = s.page("/capas").await;
        assert_eq!(st, 200);
        assert_eq!(list_rows(&html).len(), 1);
        assert!(html.contains("TS-2026-000020"));
        let (st, html) = s.page(&format!("/capas/{id}?ok=capa_opened")).await;
        assert_eq!(st, 200);
        assert!(html.contains("外壳漏电"), "D2 copied");
        assert!(html.contains("id=\"start-check\""));
        assert!(html.contains("id=\"add-action\""));

        // refused start: the detail again, with what is missing
        let (_, html) = s.page(&format!("/capas/{id}")).await;
        let version = html
            .split("name=\"version\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_string();
        let r = s
            .post(
                &format!("/capas/{id}/start-check"),
                &[("version", version.as_str())],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"missing\""), "{html}");

        // the 8D form: invalid input is kept with messages, valid input saves
        let (st, html) = s.page(&format!("/capas/{id}/edit")).await;
        assert_eq!(st, 200);
        assert_eq!(
            input_value(&html, "d2_problem").as_deref(),
            Some("外壳漏电")
        );
        let r = s
            .post(
                &format!("/capas/{id}"),
                &[
                    ("version", version.as_str()),
                    ("title", ""),
                    ("d4_occurrence", "接地线虚焊"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "title").is_some());
        assert_eq!(
            input_value(&html, "d4_occurrence").as_deref(),
            Some("接地线虚焊")
        );
        let r = s
            .post(
                &format!("/capas/{id}"),
                &[
                    ("version", version.as_str()),
                    ("title", "外壳漏电 8D"),
                    ("d2_problem", "外壳漏电"),
                    ("d4_occurrence", "接地线虚焊"),
                    ("d5_action", "增加接地电阻全检"),
                    ("effect_days", "30"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), format!("/capas/{id}?ok=saved"));
        // the same version again is stale: the form comes back with a banner
        let r = s
            .post(
                &format!("/capas/{id}"),
                &[("version", version.as_str()), ("title", "y")],
            )
            .await;
        assert_eq!(r.status(), 409);

        // actions through the page
        let r = s
            .post(
                &format!("/capas/{id}/actions"),
                &[("discipline", "d7"), ("description", "")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "description").is_some());
        assert!(field_error(&html, "due_date").is_some());
        let admin = app.admin_id.to_string();
        let r = s
            .post(
                &format!("/capas/{id}/actions"),
                &[
                    ("discipline", "d7"),
                    ("description", "修订检验规范"),
                    ("owner_id", admin.as_str()),
                    ("due_date", "2099-01-01"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = s.page(&format!("/capas/{id}")).await;
        assert!(html.contains("修订检验规范"));
        assert!(html.contains("增加接地电阻全检"));

        // the auditor reads, and changes nothing
        let aud_id = app.user(app.org, "aud", Role::Auditor).await;
        let aud = app.api(&app.token(aud_id, app.org).await);
        let (st, _) = aud.get(&format!("/api/v1/capas/{id}")).await;
        assert_eq!(st, 200);
        let (st, _) = aud.get("/api/v1/capas").await;
        assert_eq!(st, 200);
        let (st, _) = aud
            .put(
                &format!("/api/v1/capas/{id}"),
                json!({"title": "x", "version": 1}),
            )
            .await;
        assert_eq!(st, 403);
        let (st, _) = aud
            .post(&format!("/api/v1/complaints/{a}/capa"), json!({}))
            .await;
        assert_eq!(st, 403);
        let (st, _) = aud
            .post(
                &format!("/api/v1/capas/{id}/actions"),
                json!({"discipline": "d3", "description": "x", "owner_id": aud_id, "due_date": "2099-01-01"}),
            )
            .await;
        assert_eq!(st, 403);
        let (st, _) = aud
            .post(
                &format!("/api/v1/capas/{id}/start-check"),
                json!({"version": 1}),
            )
            .await;
        assert_eq!(st, 403);
        let (st, _) = aud
            .post(&format!("/api/v1/capas/{id}/evaluate"), json!({}))
            .await;
        assert_eq!(st, 403);
        let sa = app.login("aud").await;
        let (st, html) = sa.page(&format!("/capas/{id}")).await;
        assert_eq!(st, 200);
        assert!(!html.contains("id=\"start-check\""));
        assert!(!html.contains("id=\"add-action\""));
        let (st, _) = sa.page(&format!("/capas/{id}/edit")).await;
        assert_eq!(st, 403);
        let r = sa.post(&format!("/complaints/{a}/capa"), &[]).await;
        assert_eq!(r.status(), 403);

        // staff of another organization: as if it did not exist
        let other = app.other_org("beta", "boss").await;
        let ostaff = app.user(other, "ostaff", Role::Staff).await;
        let o = app.api(&app.token(ostaff, other).await);
        let (st, _) = o.get(&format!("/api/v1/capas/{id}")).await;
        assert_eq!(st, 404);
        let (st, body) = o.get("/api/v1/capas").await;
        assert_eq!(st, 200);
        assert_eq!(body["total"], 0);
        let (st, _) = o
            .post(&format!("/api/v1/complaints/{a}/capa"), json!({}))
            .await;
        assert_eq!(st, 404);
        let (st, _) = o
            .put(
                &format!("/api/v1/capas/{id}"),
                json!({"title": "x", "version": 1}),
            )
            .await;
        assert_eq!(st, 404);
        let (st, _) = o
            .post(
                &format!("/api/v1/capas/{id}/actions"),
                json!({"discipline": "d3", "description": "x", "owner_id": ostaff, "due_date": "2099-01-01"}),
            )
            .await;
        assert_eq!(st, 404);
        let (st, _) = o
            .post(&format!("/api/v1/capas/{id}/evaluate"), json!({}))
            .await;
        assert_eq!(st, 404);
        // and an owner from another organization is refused
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (st, body) = api
            .post(
                &format!("/api/v1/capas/{id}/actions"),
                json!({"discipline": "d3", "description": "x", "owner_id": ostaff, "due_date": "2099-01-01"}),
            )
            .await;
        assert_eq!(st, 422, "{body}");
        assert!(body["fields"]["owner_id"].is_string());
    }
}
