//! Tests: survey templates. Created through the editor (rows added and removed by submitting,
//! typed values kept, errors next to their row) and the API; validation errors named per row
//! (a scale outside 1-5 / 1-7 / 0-10, NPS not 0-10, no scale item with a positive weight); an
//! edit without answers changes the template in place, an edit with answers writes version 2
//! and leaves version 1 superseded and unchanged; stale versions are 409; the auditor reads
//! only; another organization gets 404; the default template is seeded once.

use domain::auth::Role;
use serde_json::{Value, json};

use crate::helpers::*;

async fn insert_id(app: &TestApp, q: String) -> i64 {
    let mut tx = app.st.db.begin().await.unwrap();
    let (id,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(sqlx::AssertSqlSafe(format!("{q} RETURNING id"))).fetch_one(x).await)
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    tx.commit().await.unwrap();
    id
}

async fn sql(app: &TestApp, q: String) {
    let mut tx = app.st.db.begin().await.unwrap();
    store::run!(&mut tx.c(), x => sqlx::query(sqlx::AssertSqlSafe(q.clone())).execute(x).await)
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    tx.commit().await.unwrap();
}

/// A response to `template` (a customer, a study using it, the response and one answer on
/// its first item), as the studies part would write it.
async fn answer(app: &TestApp, template: i64, item: i64) {
    let org = app.org;
    let customer = insert_id(
        app,
        format!(
            "INSERT INTO customers (org_id, name, kind, tags, consent_contact, consent_survey, active,
                created_at, updated_at, version)
             VALUES ({org}, '答卷客户', 'company', '[]', TRUE, TRUE, TRUE, 0, 0, 1)"
        ),
    )
    .await;
    let study = insert_id(
        app,
        format!(
            "INSERT INTO studies (org_id, template_id, name, period_start, period_end, population,
                population_size, confidence_percent, margin_percent, sample_size, seed, status, link_days,
                invited, responses, created_at, updated_at, version)
             VALUES ({org}, {template}, '2025 年一季度', '2025-01-01', '2025-03-31', '{{}}', 10, 95, 5.0,
                10, 1, 'open', 14, 1, 1, 0, 0, 1)"
        ),
    )
    .await;
    let response = insert_id(
        app,
        format!(
            "INSERT INTO survey_responses (org_id, study_id, template_id, customer_id, channel, submitted_at, score)
             VALUES ({org}, {study}, {template}, {customer}, 'phone', 0, 75.0)"
        ),
    )
    .await;
    sql(
        app,
        format!(
            "INSERT INTO survey_answers (response_id, item_id, study_id, value)
             VALUES ({response}, {item}, {study}, 4.0)"
        ),
    )
    .await;
}

/// A valid template body for the API.
fn body(code: &str) -> Value {
    json!({
        "code": code,
        "name": "年度满意度调查",
        "intro": "感谢您的配合",
        "dimensions": ["服务响应", "服务质量"],
        "items": [
            {"kind": "scale", "text": "响应及时", "dimension": 0, "scale_min": 1, "scale_max": 5, "weight": 3},
            {"kind": "scale", "text": "一次修复", "dimension": 1, "weight": 1},
            {"kind": "csat", "text": "总体满意度"},
            {"kind": "nps", "text": "推荐意愿"},
            {"kind": "text", "text": "意见建议", "required": false}
        ]
    })
}

#[tokio::test]
async fn create_via_form_and_api() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        let (st, html) = s.page("/surveys").await;
        assert_eq!(st, 200);
        assert!(html.contains("/surveys/new?from=default"));
        let (st, html) = s.page("/surveys/new").await;
        assert_eq!(st, 200);
        assert!(html.contains("name=\"items[0].text\""));

        // "add row" re-renders the form with one more row, keeping what was typed
        let typed = [
            ("code", "svc"),
            ("name", "服务回访问卷"),
            ("intro", ""),
            ("dimensions[0].name", "服务人员"),
            ("items[0].kind", "scale"),
            ("items[0].text", "态度"),
            ("items[0].dimension", "0"),
            ("items[0].scale", "1-7"),
            ("items[0].weight", "2"),
            ("items[0].required", "1"),
        ];
        let mut f = typed.to_vec();
        f.push(("op", "add_item"));
        let r = s.post("/surveys", &f).await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert_eq!(input_value(&html, "items[0].text").as_deref(), Some("态度"));
        assert_eq!(
            selected_value(&html, "items[0].scale").as_deref(),
            Some("1-7")
        );
        assert_eq!(
            selected_value(&html, "items[0].dimension").as_deref(),
            Some("0")
        );
        assert_eq!(input_value(&html, "items[1].text").as_deref(), Some(""));
        // removing the dimension row leaves the item without one
        let mut f = typed.to_vec();
        f.push(("op", "del_dim:0"));
        let html = s.post("/surveys", &f).await.text().await.unwrap();
        assert!(!html.contains("name=\"dimensions[0].name\""));
        assert_eq!(
            selected_value(&html, "items[0].dimension").as_deref(),
            Some("")
        );

        // save: the blank added row is ignored
        let mut f = typed.to_vec();
        f.extend([
            ("items[1].kind", "csat"),
            ("items[1].text", "总体满意度"),
            ("items[1].scale", ""),
            ("items[1].weight", ""),
            ("items[2].kind", "scale"),
            ("items[2].text", ""),
            ("items[2].weight", ""),
            ("op", "save"),
        ]);
        let r = s.post("/surveys", &f).await;
        assert_eq!(r.status(), 303);
        let id = id_in(&location(&r), "/surveys/");
        let (st, html) = s.page(&format!("/surveys/{id}")).await;
        assert_eq!(st, 200);
        assert!(html.contains("服务回访问卷") && html.contains("id=\"preview\""));
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (st, t) = api.get(&format!("/api/v1/survey-templates/{id}")).await;
        assert_eq!(st, 200);
        assert_eq!(t["template"]["code"], "svc");
        assert_eq!(t["template"]["version_no"], 1);
        assert_eq!(t["items"].as_array().unwrap().len(), 2);
        assert_eq!(t["items"][0]["scale_max"], 7);
        assert_eq!(t["items"][0]["weight"], 2.0);
        assert_eq!(t["items"][0]["dimension_id"], t["dimensions"][0]["id"]);
        assert_eq!(t["items"][1]["kind"], "csat");
        assert_eq!(t["items"][1]["scale_min"], 1);
        assert_eq!(t["items"][1]["scale_max"], 5);
        assert_eq!(t["items"][1]["weight"], 0.0);

        // the API
        let (st, t) = api.post("/api/v1/survey-templates", body("annual")).await;
        assert_eq!(st, 201, "{t}");
        assert_eq!(t["dimensions"].as_array().unwrap().len(), 2);
        assert_eq!(t["items"][1]["scale_min"], 1);
        assert_eq!(t["items"][3]["scale_max"], 10);
        assert_eq!(t["items"][4]["scale_min"], Value::Null);
        assert_eq!(t["items"][4]["required"], false);
        assert_eq!(t["items"][1]["dimension_id"], t["dimensions"][1]["id"]);
        // the code is unique
        let (st, e) = api.post("/api/v1/survey-templates", body("annual")).await;
        assert_eq!(st, 422);
        assert!(e["fields"]["code"].is_string());
        let (st, l) = api.get("/api/v1/survey-templates").await;
        assert_eq!(st, 200);
        assert_eq!(l["total"], 2);
        let codes: Vec<&str> = l["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"svc") && codes.contains(&"annual"));
        let (_, html) = s.page("/surveys").await;
        assert_eq!(list_rows(&html).len(), 2);

        // audited
        let mut h = app.st.db.acquire().await.unwrap();
        let n = store::audit::entities(&mut h.c(), app.org).await.unwrap();
        assert!(n.iter().any(|e| e == "survey_template"));
    }
}

#[tokio::test]
async fn validation_errors_are_named_by_row() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let mut bad = body("bad");
        bad["items"][0]["scale_max"] = json!(4);
        bad["items"][3]["scale_min"] = json!(1);
        bad["items"][1]["weight"] = json!(-1);
        bad["items"][2]["dimension"] = json!(5);
        let (st, e) = api.post("/api/v1/survey-templates", bad).await;
        assert_eq!(st, 422);
        let f = &e["fields"];
        assert_eq!(
            f["items[0].scale_max"],
            "Choose the scale 1-5, 1-7 or 0-10."
        );
        assert_eq!(
            f["items[3].scale_max"],
            "The recommendation question (NPS) uses the scale 0-10."
        );
        assert!(f["items[1].weight"].is_string());
        assert!(f["items[2].dimension"].is_string());
        // no scale item with a positive weight
        let mut zero = body("zero");
        zero["items"][0]["weight"] = json!(0);
        zero["items"][1]["weight"] = json!(0);
        let (st, e) = api.post("/api/v1/survey-templates", zero).await;
        assert_eq!(st, 422);
        assert_eq!(
            e["fields"]["items"],
            "Add at least one scale question with an importance weight above 0."
        );
        // a second NPS item, a duplicate dimension
        let mut two = body("two");
        two["items"]
            .as_array_mut()
            .unwrap()
            .push(json!({"kind": "nps", "text": "再问一次"}));
        two["dimensions"] = json!(["服务响应", "服务响应"]);
        let (st, e) = api.post("/api/v1/survey-templates", two).await;
        assert_eq!(st, 422);
        assert!(e["fields"]["items[5].kind"].is_string());
        assert!(e["fields"]["dimensions[1].name"].is_string());

        // the form shows each error next to its row and keeps the typed values
        let s = app.login("admin").await;
        let r = s
            .post(
                "/surveys",
                &[
                    ("code", "form"),
                    ("name", "表单"),
                    ("items[0].kind", "scale"),
                    ("items[0].text", "态度"),
                    ("items[0].scale", "2-6"),
                    ("items[0].weight", "abc"),
                    ("items[1].kind", "nps"),
                    ("items[1].text", "推荐"),
                    ("items[1].scale", "1-5"),
                    ("op", "save"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "items[0].scale_max").is_some());
        assert!(field_error(&html, "items[0].weight").is_some());
        assert!(field_error(&html, "items[1].scale_max").is_some());
        assert_eq!(
            input_value(&html, "items[0].weight").as_deref(),
            Some("abc")
        );
        assert_eq!(input_value(&html, "items[1].text").as_deref(), Some("推荐"));
        assert_eq!(input_value(&html, "code").as_deref(), Some("form"));
        let (_, l) = api.get("/api/v1/survey-templates").await;
        assert_eq!(l["total"], 0);
    }
}

#[tokio::test]
async fn edits_in_place_until_answered_then_versions() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (_, t) = api.post("/api/v1/survey-templates", body("annual")).await;
        let id = t["template"]["id"].as_i64().unwrap();
        let v = t["template"]["version"].as_i64().unwrap();

        // no answers: in place
        let mut edit = body("ignored");
        edit["name"] = json!("年度满意度调查（修订）");
        edit["items"][0]["text"] = json!("报修响应及时");
        edit["version"] = json!(v);
        let (st, r) = api
            .put(&format!("/api/v1/survey-templates/{id}"), edit.clone())
            .await;
        assert_eq!(st, 200, "{r}");
        assert_eq!(r["id"], id);
        assert_eq!(r["new_version"], false);
        assert_eq!(r["template"]["template"]["version_no"], 1);
        assert_eq!(r["template"]["template"]["code"], "annual");
        assert_eq!(r["template"]["items"][0]["text"], "报修响应及时");
        let v = r["template"]["template"]["version"].as_i64().unwrap();
        // the version read before is stale now
        let (st, _) = api
            .put(&format!("/api/v1/survey-templates/{id}"), edit.clone())
            .await;
        assert_eq!(st, 409);

        // answered: a new version; version 1 stays as it was, superseded
        let before = api.get(&format!("/api/v1/survey-templates/{id}")).await.1;
        let item = before["items"][0]["id"].as_i64().unwrap();
        answer(&app, id, item).await;
        let s = app.login("admin").await;
        let (_, html) = s.page(&format!("/surveys/{id}/edit")).await;
        assert!(html.contains("id=\"new-version-note\""));
        let mut edit2 = body("ignored");
        edit2["items"][0]["text"] = json!("响应速度");
        edit2["version"] = json!(v);
        let (st, r) = api
            .put(&format!("/api/v1/survey-templates/{id}"), edit2.clone())
            .await;
        assert_eq!(st, 200, "{r}");
        assert_eq!(r["new_version"], true);
        let id2 = r["id"].as_i64().unwrap();
        assert_ne!(id2, id);
        assert_eq!(r["template"]["template"]["version_no"], 2);
        assert_eq!(r["template"]["template"]["previous_id"], id);
        assert_eq!(r["template"]["template"]["status"], "active");
        assert_eq!(r["template"]["items"][0]["text"], "响应速度");
        let after = api.get(&format!("/api/v1/survey-templates/{id}")).await.1;
        assert_eq!(after["template"]["status"], "superseded");
        assert_eq!(after["items"], before["items"]);
        assert_eq!(after["dimensions"], before["dimensions"]);
        // a superseded version cannot be edited or retired
        let mut edit3 = edit2.clone();
        edit3["version"] = after["template"]["version"].clone();
        let (st, e) = api
            .put(&format!("/api/v1/survey-templates/{id}"), edit3)
            .await;
        assert_eq!(st, 409);
        assert_eq!(e["error"], "invalid_transition");
        // the list shows the newest version; all versions on request
        let (_, l) = api.get("/api/v1/survey-templates").await;
        assert_eq!(l["total"], 1);
        assert_eq!(l["items"][0]["id"], id2);
        let (_, l) = api.get("/api/v1/survey-templates?all_versions=true").await;
        assert_eq!(l["total"], 2);
        let v1 = l["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap();
        assert_eq!(v1["answers"], 1);
        // the pages: history links, superseded note
        let (_, html) = s.page(&format!("/surveys/{id}")).await;
        assert!(html.contains("id=\"superseded-note\""));
        assert!(html.contains(&format!("href=\"/surveys/{id2}\"")));
        assert!(!html.contains("id=\"edit\""));
        let (_, html) = s.page(&format!("/surveys/{id2}")).await;
        assert!(html.contains(&format!("href=\"/surveys/{id}\"")));

        // the form edits version 2 in place (it has no answers), 409 on a stale version
        let t2 = api.get(&format!("/api/v1/survey-templates/{id2}")).await.1;
        let v2 = t2["template"]["version"].as_i64().unwrap().to_string();
        let fields = |ver: &'static str| -> Vec<(&'static str, &'static str)> {
            vec![
                ("version", ver),
                ("name", "年度调查 v2"),
                ("items[0].kind", "scale"),
                ("items[0].text", "响应"),
                ("items[0].weight", "1"),
                ("op", "save"),
            ]
        };
        let v2s: &'static str = Box::leak(v2.into_boxed_str());
        let r = s.post(&format!("/surveys/{id2}"), &fields(v2s)).await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).starts_with(&format!("/surveys/{id2}?ok=saved")));
        let r = s.post(&format!("/surveys/{id2}"), &fields(v2s)).await;
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"banner\""));
        assert_eq!(input_value(&html, "items[0].text").as_deref(), Some("响应"));

        // retire and restore
        let t2 = api.get(&format!("/api/v1/survey-templates/{id2}")).await.1;
        let (st, r) = api
            .post(
                &format!("/api/v1/survey-templates/{id2}/retire"),
                json!({"version": t2["template"]["version"]}),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(r["status"], "retired");
        let (_, l) = api.get("/api/v1/survey-templates").await;
        assert_eq!(l["total"], 0);
        let (st, _) = api
            .post(
                &format!("/api/v1/survey-templates/{id2}/restore"),
                json!({"version": t2["template"]["version"]}),
            )
            .await;
        assert_eq!(st, 409);
        let (st, r) = api
            .post(
                &format!("/api/v1/survey-templates/{id2}/restore"),
                json!({"version": r["version"]}),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(r["status"], "active");
    }
}

#[tokio::test]
async fn auditor_reads_only_and_other_organizations_see_nothing() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (_, t) = api.post("/api/v1/survey-templates", body("annual")).await;
        let id = t["template"]["id"].as_i64().unwrap();
        let v = t["template"]["version"].clone();

        let aud = app.user(app.org, "aud", Role::Auditor).await;
        let a = app.api(&app.token(aud, app.org).await);
        assert_eq!(a.get("/api/v1/survey-templates").await.0, 200);
        assert_eq!(
            a.get(&format!("/api/v1/survey-templates/{id}")).await.0,
            200
        );
        assert_eq!(a.post("/api/v1/survey-templates", body("x")).await.0, 403);
        let mut e = body("x");
        e["version"] = v.clone();
        assert_eq!(
            a.put(&format!("/api/v1/survey-templates/{id}"), e).await.0,
            403
        );
        assert_eq!(
            a.post(
                &format!("/api/v1/survey-templates/{id}/retire"),
                json!({"version": v})
            )
            .await
            .0,
            403
        );
        let s = app.login("aud").await;
        assert_eq!(s.page(&format!("/surveys/{id}")).await.0, 200);
        let (_, html) = s.page("/surveys").await;
        assert!(!html.contains("/surveys/new"));
        assert_eq!(s.page("/surveys/new").await.0, 403);
        assert_eq!(s.page(&format!("/surveys/{id}/edit")).await.0, 403);

        let other = app.other_org("beta", "beta_admin").await;
        let bu = app.user(other, "beta_mgr", Role::Manager).await;
        let o = app.api(&app.token(bu, other).await);
        assert_eq!(
            o.get(&format!("/api/v1/survey-templates/{id}")).await.0,
            404
        );
        let (_, l) = o.get("/api/v1/survey-templates").await;
        assert_eq!(l["total"], 0);
        let mut e = body("x");
        e["version"] = v.clone();
        assert_eq!(
            o.put(&format!("/api/v1/survey-templates/{id}"), e).await.0,
            404
        );
        let s = app.login("beta_mgr").await;
        assert_eq!(s.page(&format!("/surveys/{id}")).await.0, 404);
    }
}

#[tokio::test]
async fn the_default_template_is_seeded_once() {
    for b in backends() {
        let app = spawn_app(b).await;
        let mut tx = app.st.db.begin().await.unwrap();
        let id = server::satisfaction::surveys::seed_default(&mut tx, app.org, None, 0)
            .await
            .unwrap();
        let again =
            server::satisfaction::surveys::seed_default(&mut tx, app.org, Some(app.admin_id), 0)
                .await
                .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(id, again);
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (_, t) = api.get(&format!("/api/v1/survey-templates/{id}")).await;
        assert_eq!(t["template"]["code"], "after_sales");
        assert_eq!(t["template"]["name"], "售后服务满意度调查");
        assert_eq!(t["dimensions"].as_array().unwrap().len(), 5);
        let kinds: Vec<&str> = t["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds.iter().filter(|k| **k == "scale").count(), 15);
        for k in ["csat", "nps", "ces", "text"] {
            assert_eq!(kinds.iter().filter(|x| **x == k).count(), 1, "{k}");
        }
        // "create from default" fills the editor; the code is taken, so it is left empty
        let s = app.login("admin").await;
        let (st, html) = s.page("/surveys/new?from=default").await;
        assert_eq!(st, 200);
        assert_eq!(input_value(&html, "code").as_deref(), Some(""));
        assert_eq!(
            input_value(&html, "dimensions[0].name").as_deref(),
            Some("服务响应")
        );
        assert!(html.contains("name=\"items[18].text\""));
        let (_, html) = s.page(&format!("/surveys/{id}")).await;
        assert!(html.contains("推荐意愿"));
    }
}
