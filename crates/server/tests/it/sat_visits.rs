//! Tests: return visits. Generation runs exactly once with two workers at the same time; the
//! monthly sampling of completed service orders is systematic and reproducible (150 in a month
//! → 100 + 15); a complaint's visit closes it when satisfied and reopens it when not, in the
//! same transaction as the record; an unsatisfied service-order visit opens a complaint; the
//! low-score trigger in its task and complaint modes; permissions (auditor read-only, staff
//! see their own visits and their departments' complaints'); field errors; stale versions;
//! the pages and the API paths.

use domain::FieldErrors;
use domain::auth::Role;
use domain::org::UserDraft;
use serde_json::{Value, json};
use store::audit::Actor;
use store::{Db, on, run};

use crate::helpers::*;

/// A customer, and users by role (the staff member in a department of their own).
struct Setup {
    admin: Api,
    manager: Api,
    manager_id: i64,
    engineer_id: i64,
    staff: Api,
    staff_id: i64,
    auditor: Api,
    customer: i64,
}

async fn setup(app: &TestApp) -> Setup {
    let mut tx = app.st.db.begin().await.unwrap();
    let (customer,): (i64,) = on!(&mut tx.c(), x => sqlx::query_as(
        "INSERT INTO customers (org_id, name, kind, tags, address, consent_contact, consent_survey, active, created_at,
            updated_at, version)
         VALUES ($1, '华东水务集团', 'company', '[]', '上海市浦东新区张江路 88 号', FALSE, FALSE, TRUE, 0, 0, 1) RETURNING id")
        .bind(app.org).fetch_one(x).await)
    .unwrap();
    let dep = store::org::insert_department(
        &mut tx.c(),
        app.org,
        &store::org::DepartmentValues {
            code: Some("BIZ"),
            name: "业务部",
            parent_id: None,
            description: None,
        },
        0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let manager_id = app.user(app.org, "mgr", Role::Manager).await;
    let engineer_id = app.user(app.org, "eng", Role::Engineer).await;
    let d = UserDraft::parse(
        FieldErrors::default(),
        "stf",
        "stf",
        Role::Staff.as_str(),
        vec![dep],
    )
    .unwrap();
    let staff_id = server::admin::create_member(&app.st, &Actor::system("test"), app.org, d, PW)
        .await
        .unwrap();
    let auditor_id = app.user(app.org, "aud", Role::Auditor).await;
    Setup {
        admin: app.api(&app.token(app.admin_id, app.org).await),
        manager: app.api(&app.token(manager_id, app.org).await),
        manager_id,
        engineer_id,
        staff: app.api(&app.token(staff_id, app.org).await),
        staff_id,
        auditor: app.api(&app.token(auditor_id, app.org).await),
        customer,
    }
}

/// `n` completed service orders, completed one minute apart from `t0`, numbered from `from`.
async fn completed_orders(app: &TestApp, s: &Setup, from: usize, n: usize, t0: i64) {
    let mut tx = app.st.db.begin().await.unwrap();
    for i in from..from + n {
        let number = format!("SO-T-{i:05}");
        let t = t0 + i as i64 * 60;
        run!(&mut tx.c(), x => sqlx::query(
            "INSERT INTO service_orders (org_id, number, kind, status, customer_id, engineer_id, reported_at,
                completed_at, fee_fen, parts_cost_fen, month, created_by, created_at, updated_at, version)
             VALUES ($1, $2, 'repair', 'completed', $3, $4, $5, $5, 0, 0, '2026-03', $6, $5, $5, 1)")
            .bind(app.org).bind(number).bind(s.customer).bind(s.engineer_id).bind(t).bind(s.manager_id)
            .execute(x).await)
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// 2026-03-02 08:00 in China (a Monday): the month the test orders complete in.
const MARCH: i64 = 1_772_409_600;

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    let mut h = app.st.db.acquire().await.unwrap();
    let (n,): (i64,) = on!(&mut h.c(), x => sqlx::query_as(sql).fetch_one(x).await).unwrap();
    n
}

/// A minor complaint driven to its return visit through the API; returns its JSON.
async fn complaint_at_visit(api: &Api, customer: i64, text: &str) -> Value {
    let (st, c) = api
        .post(
            "/api/v1/complaints",
            json!({"channel": "phone", "class": "other", "severity": "minor", "customer_id": customer,
                   "description": text}),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let mut c = c;
    for (action, body) in [
        ("confirm", json!({})),
        (
            "analyse",
            json!({"class": "other", "responsibility": "not_established", "cause": "排班冲突"}),
        ),
        (
            "propose",
            json!({"remedy_type": "explanation", "detail": "致歉", "proposed_by": "售后"}),
        ),
        ("agree", json!({})),
        ("start", json!({})),
        ("complete", json!({"implementation": "已处理"})),
    ] {
        let mut body = body;
        body["version"] = c["version"].clone();
        let (st, b) = api
            .post(
                &format!("/api/v1/complaints/{}/actions/{action}", c["id"]),
                body,
            )
            .await;
        assert_eq!(st, 200, "{action}: {b}");
        c = b;
    }
    assert_eq!(c["status"], "return_visit");
    c
}

fn fields(body: &Value) -> Vec<String> {
    let mut v: Vec<String> = body["fields"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The visits of a list query.
async fn visits(api: &Api, query: &str) -> Vec<Value> {
    let (st, b) = api
        .get(&format!("/api/v1/visits?per_page=200&{query}"))
        .await;
    assert_eq!(st, 200, "{b}");
    b["items"].as_array().unwrap().clone()
}

/// The picked order numbers, in order.
async fn picked_numbers(app: &TestApp) -> Vec<String> {
    let mut h = app.st.db.acquire().await.unwrap();
    let r: Vec<(String,)> = on!(&mut h.c(), x => sqlx::query_as(
        "SELECT o.number FROM visit_order_marks m JOIN service_orders o ON o.id = m.service_order_id
         WHERE m.picked ORDER BY m.position")
        .fetch_all(x).await)
    .unwrap();
    r.into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn generation_runs_once_with_two_workers_and_samples_by_tiers() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let c = complaint_at_visit(&s.manager, s.customer, "工程师迟到").await;
        completed_orders(&app, &s, 0, 150, MARCH).await;
        // A run reads the unmarked orders a batch at a time, each batch after the last order
        // of the one before (completion time, then id): batches of 40 are the single read.
        {
            let mut h = app.st.db.acquire().await.unwrap();
            let unmarked = store::satisfaction::visits::orders_unmarked;
            let all: Vec<i64> = unmarked(&mut h.c(), app.org, None, 1000)
                .await
                .unwrap()
                .iter()
                .map(|o| o.id)
                .collect();
            assert_eq!(all.len(), 150, "{b:?}");
            let (mut paged, mut after) = (Vec::new(), None);
            loop {
                let page = unmarked(&mut h.c(), app.org, after, 40).await.unwrap();
                let Some(last) = page.last() else { break };
                after = Some((last.completed_at, last.id));
                paged.extend(page.iter().map(|o| o.id));
            }
            assert_eq!(paged, all, "{b:?}");
        }
        let other = Db::connect(&app.url, 2).await.unwrap();
        let now = app.st.now();
        let (a, z) = tokio::join!(
            server::satisfaction::visits::generate(&app.st.db, now),
            server::satisfaction::visits::generate(&other, now)
        );
        let (a, z) = (a.unwrap(), z.unwrap());
        assert_eq!(
            a.complaint_visits + z.complaint_visits,
            1,
            "{b:?}: {a:?} {z:?}"
        );
        assert_eq!(a.orders_considered + z.orders_considered, 150, "{b:?}");
        assert_eq!(
            a.order_visits + z.order_visits,
            115,
            "{b:?}: 100 + 30% of 50"
        );
        assert_eq!(count(&app, "SELECT COUNT(*) FROM return_visits").await, 116);
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM visit_order_marks").await,
            150
        );
        assert_eq!(
            count(&app, "SELECT seen * 1000 + picked FROM visit_sampling").await,
            150_115
        );
        // Nothing more to do on a second run.
        let again = server::satisfaction::visits::generate(&app.st.db, now)
            .await
            .unwrap();
        assert_eq!(again, Default::default());
        // The complaint's visit: due 3 working days after it reached its return visit,
        // assigned to whoever registered it, who was notified.
        let cv = visits(&s.manager, &format!("complaint_id={}", c["id"])).await;
        assert_eq!(cv.len(), 1);
        let cal = {
            let mut h = app.st.db.acquire().await.unwrap();
            server::complaints::sla::calendar(&mut h.c(), app.org)
                .await
                .unwrap()
        };
        let want = cal.add_working_days(&cal.local_date(now), 3).unwrap();
        assert_eq!(cv[0]["due_date"], want);
        assert_eq!(cv[0]["assignee_id"], s.manager_id);
        assert_eq!(cv[0]["source"], "complaint");
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM notifications WHERE kind = 'visit_assigned'"
            )
            .await,
            116
        );
        // Visits are inserted a batch per statement and their ids matched back to the rows:
        // every notice is about a visit of the user notified, and every order visit's audit
        // entry carries that visit's own order.
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM notifications n JOIN return_visits v ON v.id = n.ref_id
                 AND v.assignee_id = n.user_id WHERE n.kind = 'visit_assigned'"
            )
            .await,
            116
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log a JOIN return_visits v ON v.id = a.entity_id
                 WHERE a.entity = 'return_visit' AND a.action = 'create'
                 AND a.after_json LIKE '%\"service_order_id\":' || v.service_order_id || ',%'"
            )
            .await,
            115
        );
        // Systematic: all of the first 100, then the 4th, 7th and 10th of every ten.
        let picked = picked_numbers(&app).await;
        assert_eq!(picked.len(), 115);
        assert_eq!(picked[99], "SO-T-00099");
        assert_eq!(
            &picked[100..103],
            ["SO-T-00103", "SO-T-00106", "SO-T-00109"]
        );
        // Ten more orders continue the month's sequence: positions 151-160 pick 3.
        completed_orders(&app, &s, 150, 10, MARCH).await;
        let more = server::satisfaction::visits::generate(&app.st.db, now)
            .await
            .unwrap();
        assert_eq!((more.orders_considered, more.order_visits), (10, 3));
        // Reproducible: a fresh database with the same history picks the same orders.
        let app2 = spawn_app(b).await;
        let s2 = setup(&app2).await;
        completed_orders(&app2, &s2, 0, 160, MARCH).await;
        server::satisfaction::visits::generate(&app2.st.db, now)
            .await
            .unwrap();
        assert_eq!(picked_numbers(&app2).await, picked_numbers(&app).await);
        // Service-order visits carry the order's engineer.
        let ov = visits(&s.manager, "source=service_order").await;
        assert_eq!(ov[0]["engineer_id"], s.engineer_id);
        other.close().await;
    }
}

#[tokio::test]
async fn a_complaint_visit_closes_or_reopens_its_complaint() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let good = complaint_at_visit(&s.manager, s.customer, "安装延误").await;
        let bad = complaint_at_visit(&s.manager, s.customer, "报警未消除").await;
        let (st, g) = s.manager.post("/api/v1/visits/generate", json!({})).await;
        assert_eq!(st, 200, "{g}");
        assert_eq!(g["complaint_visits"], 2);
        let vg = visits(&s.manager, &format!("complaint_id={}", good["id"])).await[0].clone();
        let vb = visits(&s.manager, &format!("complaint_id={}", bad["id"])).await[0].clone();
        // Satisfied: the complaint closes in the same transaction.
        let (st, v) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/record", vg["id"]),
                json!({"version": vg["version"], "method": "phone", "rating": 5,
                       "customer_words": "很满意"}),
            )
            .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["status"], "done");
        assert_eq!(v["outcome"], "closed");
        assert_eq!(v["satisfied"], true);
        assert_eq!(v["visitor_id"], s.manager_id);
        let (_, k) = s
            .manager
            .get(&format!("/api/v1/complaints/{}", good["id"]))
            .await;
        assert_eq!(k["complaint"]["status"], "closed");
        assert_eq!(k["complaint"]["visit_result"], "satisfied");
        // Recording twice is refused: the visit is done.
        let (st, e) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/record", vg["id"]),
                json!({"version": v["version"], "method": "phone", "rating": 5}),
            )
            .await;
        assert_eq!(st, 409, "{e}");
        // A low rating is unsatisfied by default and needs the customer's words.
        let (st, e) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/record", vb["id"]),
                json!({"version": vb["version"], "method": "phone", "rating": 2}),
            )
            .await;
        assert_eq!(st, 422, "{e}");
        assert_eq!(fields(&e), ["customer_words"]);
        // A stale version is refused with 409 and changes nothing.
        let (st, e) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/record", vb["id"]),
                json!({"version": 99, "method": "phone", "rating": 2, "customer_words": "x"}),
            )
            .await;
        assert_eq!(st, 409, "{e}");
        let (st, v) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/record", vb["id"]),
                json!({"version": vb["version"], "method": "on_site", "rating": 2,
                       "problem_category": "维修质量", "customer_words": "报警还在，不满意"}),
            )
            .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["outcome"], "reopened");
        assert_eq!(v["satisfied"], false);
        let (_, k) = s
            .manager
            .get(&format!("/api/v1/complaints/{}", bad["id"]))
            .await;
        assert_eq!(k["complaint"]["status"], "reopened");
        assert_eq!(k["complaint"]["reopen_count"], 1);
        assert_eq!(k["complaint"]["visit_note"], "报警还在，不满意");
        // Audit rows and the customer's timeline.
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM audit_log WHERE entity = 'return_visit' AND action = 'visit_record'").await,
            2
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM timeline WHERE kind = 'return_visit'"
            )
            .await,
            2
        );
        // The reopened complaint, once back at its return visit, gets a new visit.
        let (st, g) = s.manager.post("/api/v1/visits/generate", json!({})).await;
        assert_eq!(st, 200);
        assert_eq!(g["complaint_visits"], 0, "reopened, not yet at its visit");
        // The visit page shows the record.
        let web = app.login("mgr").await;
        let (st, html) = web.page(&format!("/visits/{}", vb["id"])).await;
        assert_eq!(st, 200);
        assert!(html.contains("报警还在，不满意"));
        assert!(html.contains(&format!("/complaints/{}", bad["id"])));
    }
}

#[tokio::test]
async fn an_unsatisfied_service_order_visit_opens_a_complaint() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        completed_orders(&app, &s, 0, 2, MARCH).await;
        server::satisfaction::visits::generate(&app.st.db, app.st.now())
            .await
            .unwrap();
        let v = visits(&s.manager, "source=service_order").await;
        assert_eq!(v.len(), 2);
        let before = count(&app, "SELECT COUNT(*) FROM complaints").await;
        // Satisfied: nothing further.
        let (st, ok) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/record", v[0]["id"]),
                json!({"version": v[0]["version"], "method": "phone", "rating": 4}),
            )
            .await;
        assert_eq!(st, 200, "{ok}");
        assert_eq!(ok["outcome"], "none");
        // Rated 4 but the customer says no: unsatisfied, a complaint with their words.
        let (st, r) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/record", v[1]["id"]),
                json!({"version": v[1]["version"], "method": "phone", "rating": 4, "satisfied": false,
                       "customer_words": "更换的泵又漏水了", "follow_up": "安排复修"}),
            )
            .await;
        assert_eq!(st, 200, "{r}");
        assert_eq!(r["outcome"], "complaint_opened");
        let kid = r["outcome_complaint_id"].as_i64().unwrap();
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM complaints").await,
            before + 1
        );
        let (_, k) = s.manager.get(&format!("/api/v1/complaints/{kid}")).await;
        assert_eq!(k["complaint"]["status"], "received");
        assert_eq!(k["complaint"]["description"], "更换的泵又漏水了");
        assert_eq!(k["complaint"]["customer_id"], s.customer);
        assert_eq!(k["complaint"]["customer_name"], "华东水务集团");
        assert_eq!(k["complaint"]["recorded_by"], s.manager_id);
        let (_, d) = s
            .manager
            .get(&format!("/api/v1/visits/{}", v[1]["id"]))
            .await;
        assert_eq!(
            d["visit"]["outcome_complaint_number"],
            k["complaint"]["number"]
        );
    }
}

/// A survey template with a csat item (1-5), a study and one response scoring `score` with
/// csat `csat`; returns the response id.
async fn response(app: &TestApp, customer: i64, score: f64, csat: f64) -> i64 {
    let mut tx = app.st.db.begin().await.unwrap();
    let c = &mut tx.c();
    let tpl: Option<(i64,)> =
        on!(c, x => sqlx::query_as("SELECT id FROM survey_templates WHERE code = 'T'")
        .fetch_optional(x).await)
        .unwrap();
    let tpl = match tpl {
        Some((id,)) => id,
        None => {
            let (id,): (i64,) = on!(c, x => sqlx::query_as(
                "INSERT INTO survey_templates (org_id, code, version_no, name, status, created_at, updated_at, version)
                 VALUES ($1, 'T', 1, '售后满意度', 'active', 0, 0, 1) RETURNING id")
                .bind(app.org).fetch_one(x).await)
            .unwrap();
            run!(c, x => sqlx::query(
                "INSERT INTO survey_items (template_id, position, kind, text, scale_min, scale_max, weight, required)
                 VALUES ($1, 1, 'csat', '总体满意度', 1, 5, 1.0, TRUE), ($1, 2, 'text', '建议', NULL, NULL, 0.0, FALSE)")
                .bind(id).execute(x).await)
            .unwrap();
            id
        }
    };
    let (study,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO studies (org_id, template_id, name, period_start, period_end, population, population_size,
            confidence_percent, margin_percent, sample_size, seed, status, link_days, invited, responses, created_at,
            updated_at, version)
         VALUES ($1, $2, '2026 Q1', '2026-01-01', '2026-03-31', '{}', 10, 95, 5.0, 10, 1, 'open', 30, 0, 0, 0, 0, 1)
         RETURNING id")
        .bind(app.org).bind(tpl).fetch_one(x).await)
    .unwrap();
    let (rid,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO survey_responses (org_id, study_id, template_id, customer_id, channel, submitted_at, score)
         VALUES ($1, $2, $3, $4, 'link', 0, $5) RETURNING id")
        .bind(app.org).bind(study).bind(tpl).bind(customer).bind(score).fetch_one(x).await)
    .unwrap();
    run!(c, x => sqlx::query(
        "INSERT INTO survey_answers (response_id, item_id, study_id, value, text)
         SELECT $1, i.id, $2, CASE WHEN i.kind = 'csat' THEN $3 ELSE NULL END,
                CASE WHEN i.kind = 'text' THEN '等太久了' ELSE NULL END
         FROM survey_items i WHERE i.template_id = $4")
        .bind(rid).bind(study).bind(csat).bind(tpl).execute(x).await)
    .unwrap();
    tx.commit().await.unwrap();
    rid
}

async fn trigger(app: &TestApp, rid: i64) {
    let mut tx = app.st.db.begin().await.unwrap();
    server::satisfaction::visits::after_response(&mut tx, app.org, rid, app.st.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_low_score_opens_a_follow_up_visit_or_a_complaint() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        // Task mode (the default): a score at or below 40 plans a survey visit, once.
        let low = response(&app, s.customer, 35.0, 3.0).await;
        trigger(&app, low).await;
        trigger(&app, low).await;
        let v = visits(&s.manager, "source=survey").await;
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["response_id"], low);
        assert_eq!(v[0]["customer_id"], s.customer);
        assert_eq!(v[0]["response_score"], 35.0);
        // A good score with a good csat answer: nothing.
        let fine = response(&app, s.customer, 80.0, 4.0).await;
        trigger(&app, fine).await;
        assert_eq!(visits(&s.manager, "source=survey").await.len(), 1);
        // A good score but csat in the lowest two boxes: a visit.
        let csat = response(&app, s.customer, 80.0, 2.0).await;
        trigger(&app, csat).await;
        assert_eq!(visits(&s.manager, "source=survey").await.len(), 2);
        // Complaint mode.
        let (_, cur) = s.manager.get("/api/v1/visits/settings").await;
        let mut body = cur.clone();
        body["low_score_action"] = json!("complaint");
        let (st, saved) = s.manager.put("/api/v1/visits/settings", body).await;
        assert_eq!(st, 200, "{saved}");
        let before = count(&app, "SELECT COUNT(*) FROM complaints").await;
        let r = response(&app, s.customer, 20.0, 1.0).await;
        trigger(&app, r).await;
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM complaints").await,
            before + 1
        );
        assert_eq!(visits(&s.manager, "source=survey").await.len(), 2);
        let (_, list) = s
            .manager
            .get(&format!("/api/v1/complaints?customer_id={}", s.customer))
            .await;
        let k = list["items"][0].clone();
        let (_, k) = s
            .manager
            .get(&format!("/api/v1/complaints/{}", k["id"]))
            .await;
        let d = k["complaint"]["description"].as_str().unwrap();
        assert!(
            d.contains("满意度调查低分") && d.contains("等太久了"),
            "{d}"
        );
        assert!(k["complaint"]["recorded_by"].is_null());
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE actor = 'satisfaction.low_score'"
            )
            .await,
            3,
            "two visits and one complaint, by the system actor"
        );
    }
}

#[tokio::test]
async fn permissions_and_staff_scope() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        // The auditor reads and changes nothing.
        let (st, _) = s.auditor.get("/api/v1/visits").await;
        assert_eq!(st, 200);
        let (st, _) = s.auditor.get("/api/v1/visits/settings").await;
        assert_eq!(st, 200);
        let (st, _) = s
            .auditor
            .post("/api/v1/visits", json!({"customer_id": s.customer}))
            .await;
        assert_eq!(st, 403);
        let (st, _) = s.auditor.post("/api/v1/visits/generate", json!({})).await;
        assert_eq!(st, 403);
        let (_, cur) = s.auditor.get("/api/v1/visits/settings").await;
        let (st, _) = s.auditor.put("/api/v1/visits/settings", cur.clone()).await;
        assert_eq!(st, 403);
        // Engineers and staff record but do not set the rules or cancel.
        let eng = app.api(&app.token(s.engineer_id, app.org).await);
        let (st, _) = eng.put("/api/v1/visits/settings", cur).await;
        assert_eq!(st, 403);
        // Two visits by hand: one for the staff member, one for the manager.
        let (st, mine) = s
            .manager
            .post(
                "/api/v1/visits",
                json!({"customer_id": s.customer, "assignee_id": s.staff_id, "due_date": "2026-03-10"}),
            )
            .await;
        assert_eq!(st, 201, "{mine}");
        assert_eq!(mine["source"], "manual");
        let (st, theirs) = s
            .manager
            .post("/api/v1/visits", json!({"customer_id": s.customer}))
            .await;
        assert_eq!(st, 201, "{theirs}");
        assert_eq!(theirs["assignee_id"], s.manager_id);
        // Staff see the visits assigned to them (and their departments' complaints').
        let seen = visits(&s.staff, "").await;
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0]["id"], mine["id"]);
        let (st, _) = s
            .staff
            .get(&format!("/api/v1/visits/{}", theirs["id"]))
            .await;
        assert_eq!(st, 404);
        assert_eq!(visits(&s.manager, "").await.len(), 2);
        assert_eq!(visits(&s.staff, "view=mine").await.len(), 1);
        assert_eq!(visits(&s.manager, "view=mine").await.len(), 1);
        // The staff member was told; reassigning tells the new assignee.
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM notifications WHERE kind = 'visit_assigned'"
            )
            .await,
            1
        );
        let (st, r) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/reassign", theirs["id"]),
                json!({"version": theirs["version"], "assignee_id": s.engineer_id}),
            )
            .await;
        assert_eq!(st, 200, "{r}");
        assert_eq!(r["assignee_id"], s.engineer_id);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM notifications WHERE kind = 'visit_assigned'"
            )
            .await,
            2
        );
        // Staff may not cancel; the manager may, with a reason.
        let (st, _) = s
            .staff
            .post(
                &format!("/api/v1/visits/{}/cancel", mine["id"]),
                json!({"version": mine["version"], "reason": "顾客已搬迁"}),
            )
            .await;
        assert_eq!(st, 403);
        let (st, e) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/cancel", mine["id"]),
                json!({"version": mine["version"]}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&e), ["reason"]);
        let (st, c) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/cancel", mine["id"]),
                json!({"version": mine["version"], "reason": "顾客已搬迁"}),
            )
            .await;
        assert_eq!(st, 200, "{c}");
        assert_eq!(c["status"], "cancelled");
        // Staff record the visits assigned to them.
        let (_, again) = s
            .manager
            .post(
                "/api/v1/visits",
                json!({"customer_id": s.customer, "assignee_id": s.staff_id}),
            )
            .await;
        let (st, r) = s
            .staff
            .post(
                &format!("/api/v1/visits/{}/record", again["id"]),
                json!({"version": again["version"], "method": "phone", "rating": 5}),
            )
            .await;
        assert_eq!(st, 200, "{r}");
        let (st, _) = s
            .auditor
            .post(
                &format!("/api/v1/visits/{}/record", theirs["id"]),
                json!({"version": 1, "method": "phone", "rating": 5}),
            )
            .await;
        assert_eq!(st, 403);
        // Admin sees everything too.
        assert_eq!(visits(&s.admin, "").await.len(), 3);
    }
}

#[tokio::test]
async fn settings_and_forms_name_their_errors_and_refuse_stale_versions() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = setup(&app).await;
        let (st, cur) = s.manager.get("/api/v1/visits/settings").await;
        assert_eq!(st, 200);
        for (k, v) in [
            ("complaint_days", 3),
            ("order_days", 3),
            ("tier1_max", 100),
            ("tier1_percent", 100),
            ("tier2_max", 300),
            ("tier2_percent", 30),
            ("tier3_percent", 10),
            ("low_rating", 2),
            ("low_score", 40),
            ("link_days", 30),
        ] {
            assert_eq!(cur[k], v, "{k}");
        }
        assert_eq!(cur["low_score_action"], "task");
        let mut bad = cur.clone();
        bad["tier1_percent"] = json!(101);
        bad["tier2_max"] = json!(50);
        bad["low_rating"] = json!(5);
        bad["low_score_action"] = json!("email");
        let (st, e) = s.manager.put("/api/v1/visits/settings", bad).await;
        assert_eq!(st, 422, "{e}");
        assert_eq!(
            fields(&e),
            [
                "low_rating",
                "low_score_action",
                "tier1_percent",
                "tier2_max"
            ]
        );
        let mut good = cur.clone();
        good["complaint_days"] = json!(5);
        let (st, saved) = s.manager.put("/api/v1/visits/settings", good.clone()).await;
        assert_eq!(st, 200, "{saved}");
        assert_eq!(saved["complaint_days"], 5);
        // The same version again is stale.
        let (st, e) = s.manager.put("/api/v1/visits/settings", good).await;
        assert_eq!(st, 409, "{e}");
        // Manual creation: named fields.
        let (st, e) = s.manager.post("/api/v1/visits", json!({})).await;
        assert_eq!(st, 422);
        assert_eq!(fields(&e), ["customer_id"]);
        let (st, e) = s
            .manager
            .post(
                "/api/v1/visits",
                json!({"customer_id": 999_999, "due_date": "2026-02-30"}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&e), ["due_date"]);
        let (st, e) = s
            .manager
            .post("/api/v1/visits", json!({"customer_id": 999_999}))
            .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&e), ["customer_id"]);
        // The record form: every bad field named.
        let (_, v) = s
            .manager
            .post("/api/v1/visits", json!({"customer_id": s.customer}))
            .await;
        let (st, e) = s
            .manager
            .post(
                &format!("/api/v1/visits/{}/record", v["id"]),
                json!({"version": v["version"], "method": "fax", "rating": 6,
                       "visited_at": app.st.now() + 86_400}),
            )
            .await;
        assert_eq!(st, 422, "{e}");
        assert_eq!(fields(&e), ["method", "rating", "visited_at"]);
        // Pages: the rules form keeps what was typed and names the field.
        let web = app.login("mgr").await;
        let (st, html) = web.page("/visits/settings").await;
        assert_eq!(st, 200);
        let version = input_value(&html, "version").unwrap_or_default();
        let version = if version.is_empty() {
            saved["version"].to_string()
        } else {
            version
        };
        let form = |tier2: &'static str| {
            vec![
                ("version", version.clone()),
                ("complaint_days", "5".into()),
                ("order_days", "3".into()),
                ("tier1_max", "100".into()),
                ("tier1_percent", "100".into()),
                ("tier2_max", tier2.to_string()),
                ("tier2_percent", "30".into()),
                ("tier3_percent", "10".into()),
                ("low_rating", "2".into()),
                ("low_score", "40".into()),
                ("low_score_action", "task".into()),
                ("link_days", "30".into()),
            ]
        };
        let f = form("abc");
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = web.post("/visits/settings", &pairs).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "tier2_max").is_some());
        assert_eq!(input_value(&html, "tier2_max").as_deref(), Some("abc"));
        let f = form("400");
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = web.post("/visits/settings", &pairs).await;
        assert_eq!(r.status(), 303);
        let r = web.post("/visits/settings", &pairs).await;
        assert_eq!(r.status(), 409, "the same version again");
        // The by-hand form: an unknown customer is named, the typed text kept.
        let r = web
            .post(
                "/visits",
                &[("customer_name", "没有这个顾客"), ("due_date", "")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "customer_name").is_some());
        assert_eq!(
            input_value(&html, "customer_name").as_deref(),
            Some("没有这个顾客")
        );
        let r = web
            .post(
                "/visits",
                &[
                    ("customer_name", "华东水务集团"),
                    ("due_date", "2026-03-20"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let id = id_in(&location(&r), "/visits/");
        // The record form on the page: errors keep the typed words; a stale form is 409.
        let (_, html) = web.page(&format!("/visits/{id}")).await;
        let version = {
            let key = "name=\"version\" value=\"";
            let i = html.find(key).unwrap() + key.len();
            html[i..i + html[i..].find('"').unwrap()].to_string()
        };
        let r = web
            .post(
                &format!("/visits/{id}/record"),
                &[
                    ("version", version.as_str()),
                    ("visited_at", "2026-03-05T10:00"),
                    ("method", "phone"),
                    ("rating", "9"),
                    ("customer_words", "还行吧"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "rating").is_some());
        assert_eq!(
            input_value(&html, "customer_words").as_deref(),
            Some("还行吧")
        );
        let r = web
            .post(
                &format!("/visits/{id}/record"),
                &[
                    ("version", "999"),
                    ("visited_at", "2026-03-05T10:00"),
                    ("method", "phone"),
                    ("rating", "4"),
                ],
            )
            .await;
        assert_eq!(r.status(), 409);
        let r = web
            .post(
                &format!("/visits/{id}/record"),
                &[
                    ("version", version.as_str()),
                    ("visited_at", "2026-03-05T10:00"),
                    ("method", "phone"),
                    ("rating", "4"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), format!("/visits/{id}?ok=visit_recorded"));
        // The list pages.
        for view in ["mine", "due", "overdue", "done", "all"] {
            let (st, _) = web.page(&format!("/visits?view={view}")).await;
            assert_eq!(st, 200, "{view}");
        }
        let (st, html) = web.page("/visits?view=done").await;
        assert_eq!(st, 200);
        assert_eq!(list_rows(&html).len(), 1);
        let (st, _) = web.page("/visits/new").await;
        assert_eq!(st, 200);
    }
}

#[tokio::test]
async fn the_api_document_lists_the_visit_paths() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/visits",
        "/api/v1/visits/{id}",
        "/api/v1/visits/{id}/record",
        "/api/v1/visits/{id}/reassign",
        "/api/v1/visits/{id}/cancel",
        "/api/v1/visits/settings",
        "/api/v1/visits/generate",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
    // The demo: generation over whatever exists, a few visits recorded; harmless when empty.
    server::satisfaction::visits::seed_demo(&app.st, app.org)
        .await
        .unwrap();
}
