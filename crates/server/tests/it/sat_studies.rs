//! Tests: satisfaction studies. The calculator's numbers; a sample reproducible with its
//! seed (same seed, same customers; another seed, others) drawn only from consenting active
//! customers, with its breakdown keys; the population filters; one answer per link (a
//! second submit refused, two concurrent submits make exactly one response); expired,
//! revoked, forged and not-yet-open links refused; required questions keep what was typed;
//! phone entry; counters and response rate; timeline and score; permissions and
//! organization isolation; the QR code and the printed sheet.

use std::collections::BTreeSet;

use domain::auth::Role;
use serde_json::{Value, json};

use crate::helpers::*;

/// A template: two dimensions with three weighted scale items (required), a CSAT item
/// (required), an optional NPS item and an optional free-text item.
struct Tpl {
    id: i64,
    /// scale items, weights 3, 2, 1
    s: [i64; 3],
    csat: i64,
    nps: i64,
    text: i64,
}

async fn one(app: &TestApp, sql: &str, binds: &[Value]) -> i64 {
    let mut tx = app.st.db.begin().await.unwrap();
    let id: i64 = store::on!(&mut tx.c(), x => {
        let mut q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql.to_string()));
        for b in binds {
            q = match b {
                Value::Number(n) if n.is_i64() => q.bind(n.as_i64()),
                Value::Number(n) => q.bind(n.as_f64()),
                Value::Bool(v) => q.bind(*v),
                Value::Null => q.bind(None::<i64>),
                v => q.bind(v.as_str().map(str::to_string)),
            };
        }
        q.fetch_one(x).await
    })
    .unwrap()
    .0;
    tx.commit().await.unwrap();
    id
}

async fn template(app: &TestApp, org: i64) -> Tpl {
    let t = one(
        app,
        "INSERT INTO survey_templates (org_id, code, version_no, name, intro, status, created_at, updated_at, version)
         VALUES ($1, 'svc', 1, '服务满意度问卷', '感谢您抽出时间填写问卷。', 'active', 0, 0, 1) RETURNING id",
        &[json!(org)],
    )
    .await;
    let d1 = one(
        app,
        "INSERT INTO survey_dimensions (template_id, position, name) VALUES ($1, 1, '响应速度') RETURNING id",
        &[json!(t)],
    )
    .await;
    let d2 = one(
        app,
        "INSERT INTO survey_dimensions (template_id, position, name) VALUES ($1, 2, '服务质量') RETURNING id",
        &[json!(t)],
    )
    .await;
    let item = |dim: Option<i64>,
                pos: i64,
                kind: &'static str,
                text: &'static str,
                min: Option<i64>,
                max: Option<i64>,
                w: f64,
                req: bool| { (dim, pos, kind, text, min, max, w, req) };
    let specs = [
        item(
            Some(d1),
            1,
            "scale",
            "工程师到达现场的及时性",
            Some(1),
            Some(5),
            3.0,
            true,
        ),
        item(
            Some(d2),
            2,
            "scale",
            "问题一次解决",
            Some(1),
            Some(5),
            2.0,
            true,
        ),
        item(
            Some(d2),
            3,
            "scale",
            "服务人员的专业程度",
            Some(1),
            Some(5),
            1.0,
            true,
        ),
        item(None, 4, "csat", "总体满意度", Some(1), Some(5), 1.0, true),
        item(
            None,
            5,
            "nps",
            "您向朋友推荐我们的可能性",
            Some(0),
            Some(10),
            1.0,
            false,
        ),
        item(None, 6, "text", "其他意见和建议", None, None, 0.0, false),
    ];
    let mut ids = vec![];
    for (dim, pos, kind, text, min, max, w, req) in specs {
        ids.push(
            one(
                app,
                "INSERT INTO survey_items (template_id, dimension_id, position, kind, text, scale_min, scale_max, weight, required)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                &[json!(t), json!(dim), json!(pos), json!(kind), json!(text), json!(min), json!(max), json!(w), json!(req)],
            )
            .await,
        );
    }
    Tpl {
        id: t,
        s: [ids[0], ids[1], ids[2]],
        csat: ids[3],
        nps: ids[4],
        text: ids[5],
    }
}

async fn customer(
    app: &TestApp,
    org: i64,
    code: &str,
    region: &str,
    consent: bool,
    active: bool,
) -> i64 {
    one(
        app,
        "INSERT INTO customers (org_id, code, name, kind, region, tags, consent_contact, consent_survey, active,
            created_at, updated_at, version)
         VALUES ($1, $2, $3, 'company', $4, '[]', TRUE, $5, $6, 0, 0, 1) RETURNING id",
        &[json!(org), json!(code), json!(format!("客户{code}")), json!(region), json!(consent), json!(active)],
    )
    .await
}

struct World {
    admin: Api,
    tpl: Tpl,
    /// consenting active customers, in id order
    good: Vec<i64>,
    /// not consenting or inactive
    bad: Vec<i64>,
    product: i64,
    engineer_id: i64,
    outlet: i64,
}

/// 40 consenting customers (half 华东, half 华南), 3 who did not consent and 1 inactive;
/// customer 0 has a contact, a unit of product P (contract level 金牌) and a completed
/// service order by the engineer in 2026-02; an outlet covers 华东.
async fn world(app: &TestApp) -> World {
    let org = app.org;
    let tpl = template(app, org).await;
    let mut good = vec![];
    for i in 0..40 {
        let region = if i % 2 == 0 { "华东" } else { "华南" };
        good.push(customer(app, org, &format!("C{i:03}"), region, true, true).await);
    }
    let mut bad = vec![];
    for i in 0..3 {
        bad.push(customer(app, org, &format!("N{i}"), "华东", false, true).await);
    }
    bad.push(customer(app, org, "X0", "华东", true, false).await);
    let c0 = good[0];
    one(
        app,
        "INSERT INTO customer_contacts (org_id, customer_id, name, mobile, created_at, updated_at, version)
         VALUES ($1, $2, '王经理', '13800000000', 0, 0, 1) RETURNING id",
        &[json!(org), json!(c0)],
    )
    .await;
    let product = one(
        app,
        "INSERT INTO products (org_id, part_no, model, name, warranty_months, contract_levels, active, created_at, updated_at, version)
         VALUES ($1, 'P-1', 'P-1', '水泵控制柜', 12, '[]', TRUE, 0, 0, 1) RETURNING id",
        &[json!(org)],
    )
    .await;
    one(
        app,
        "INSERT INTO equipment (org_id, serial, product_id, customer_id, install_date, warranty_overridden, contract_level,
            status, created_at, updated_at, version)
         VALUES ($1, 'SN-1', $2, $3, '2025-06-01', FALSE, '金牌', 'in_service', 0, 0, 1) RETURNING id",
        &[json!(org), json!(product), json!(c0)],
    )
    .await;
    let engineer_id = app.user(org, "eng", Role::Engineer).await;
    // 2026-02-10 00:00 UTC
    one(
        app,
        "INSERT INTO service_orders (org_id, number, kind, status, customer_id, engineer_id, reported_at, completed_at,
            fee_fen, parts_cost_fen, month, created_at, updated_at, version)
         VALUES ($1, 'SO-1', 'repair', 'completed', $2, $3, 1770681600, 1770681600, 0, 0, '2026-02', 0, 0, 1) RETURNING id",
        &[json!(org), json!(c0), json!(engineer_id)],
    )
    .await;
    let outlet = one(
        app,
        "INSERT INTO outlets (org_id, name, kind, regions, active, created_at, updated_at, version)
         VALUES ($1, '上海网点', 'own', '[\"华东\",\"华中\"]', TRUE, 0, 0, 1) RETURNING id",
        &[json!(org)],
    )
    .await;
    World {
        admin: app.api(&app.token(app.admin_id, org).await),
        tpl,
        good,
        bad,
        product,
        engineer_id,
        outlet,
    }
}

fn study_body(w: &World, name: &str, extra: Value) -> Value {
    let mut b = json!({
        "name": name, "template_id": w.tpl.id, "period_start": "2026-01-01", "period_end": "2026-03-31",
        "seed": 7,
    });
    if let (Some(b), Some(e)) = (b.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    b
}

async fn create(api: &Api, body: Value) -> Value {
    let (st, s) = api.post("/api/v1/studies", body).await;
    assert_eq!(st, 201, "{s}");
    s
}

/// Creates, draws and opens a study; returns it (after opening).
async fn open_study(w: &World, name: &str, extra: Value) -> Value {
    let s = create(&w.admin, study_body(w, name, extra)).await;
    let id = s["id"].as_i64().unwrap();
    let (st, d) = w
        .admin
        .post(&format!("/api/v1/studies/{id}/sample"), json!({}))
        .await;
    assert_eq!(st, 200, "{d}");
    let (st, o) = w
        .admin
        .post(
            &format!("/api/v1/studies/{id}/open"),
            json!({"version": d["version"]}),
        )
        .await;
    assert_eq!(st, 200, "{o}");
    o
}

async fn invitations(api: &Api, study: i64) -> Vec<Value> {
    let (st, l) = api
        .get(&format!("/api/v1/studies/{study}/invitations?per_page=200"))
        .await;
    assert_eq!(st, 200, "{l}");
    l["items"].as_array().unwrap().clone()
}

fn token(inv: &Value) -> String {
    inv["token"].as_str().unwrap().to_string()
}

fn customers(invs: &[Value]) -> BTreeSet<i64> {
    invs.iter()
        .map(|i| i["customer_id"].as_i64().unwrap())
        .collect()
}

/// The answers of a full form for the template.
fn full_answers(t: &Tpl, scale: [i64; 3]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        t.s.iter()
            .zip(scale)
            .map(|(id, x)| (format!("item_{id}"), x.to_string()))
            .collect();
    v.push((format!("item_{}", t.csat), "4".into()));
    v.push((format!("item_{}", t.nps), "9".into()));
    v.push((format!("item_{}", t.text), "工程师很专业".into()));
    v
}

/// An anonymous browser that opened the answer page (so it holds the CSRF cookie).
async fn visitor(app: &TestApp, tok: &str) -> (Session, String) {
    let s = Session::new(app);
    let (st, html) = s.page(&format!("/s/{tok}")).await;
    assert_eq!(st, 200, "{html}");
    let csrf = csrf_in(&html);
    assert_eq!(csrf.len(), 32);
    (s, csrf)
}

async fn submit(
    s: &Session,
    csrf: &str,
    tok: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let mut all: Vec<(&str, &str)> = vec![("_csrf", csrf)];
    all.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    s.post_no_csrf(&format!("/s/{tok}"), &all).await
}

#[tokio::test]
async fn calculator_numbers() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        // Expected values computed by hand from n0 = z² p(1-p)/e², n = n0/(1+(n0-1)/N) with
        // p = 0.5 (the same as the Raosoft calculator gives).
        for (q, want) in [
            ("population=1000&confidence=95&margin=5", 278),
            ("population=500", 218),
            ("population=100", 80),
            ("confidence=95&margin=5", 385),
            ("confidence=99&margin=5", 664),
            ("confidence=90&margin=5", 271),
            ("population=10000&confidence=95&margin=3", 965),
            ("population=20", 20),
        ] {
            let (st, r) = api.get(&format!("/api/v1/sample-size?{q}")).await;
            assert_eq!(st, 200, "{q}: {r}");
            assert_eq!(r["sample_size"], want, "{q}");
        }
        let (_, r) = api.get("/api/v1/sample-size").await;
        assert!((r["n0"].as_f64().unwrap() - 384.16).abs() < 1e-9);
        let (st, r) = api.get("/api/v1/sample-size?confidence=97").await;
        assert_eq!(st, 422, "{r}");
        assert!(r["fields"]["confidence"].is_string());
        let (st, _) = api.get("/api/v1/sample-size?margin=0").await;
        assert_eq!(st, 422);
    }
}

#[tokio::test]
async fn the_seed_reproduces_the_sample() {
    for b in backends() {
        let app = spawn_app(b).await;
        let w = world(&app).await;
        let a = create(&w.admin, study_body(&w, "A", json!({"sample_size": 10}))).await;
        assert_eq!(a["population_size"], 40, "only consenting active customers");
        assert_eq!(a["sample_size"], 10);
        assert_eq!(a["status"], "draft");
        // the calculator's size when none is given: N = 40 → 37 at 95% ±5%
        let auto = create(&w.admin, study_body(&w, "auto", json!({}))).await;
        assert_eq!(auto["sample_size"], 37);
        // too big a sample is refused on its field
        let (st, e) = w
            .admin
            .post(
                "/api/v1/studies",
                study_body(&w, "big", json!({"sample_size": 41})),
            )
            .await;
        assert_eq!(st, 422, "{e}");
        assert!(e["fields"]["sample_size"].as_str().unwrap().contains("40"));

        let mut samples = vec![];
        for (name, seed) in [("A2", 7), ("B", 7), ("C", 8)] {
            let s = create(
                &w.admin,
                study_body(&w, name, json!({"sample_size": 10, "seed": seed})),
            )
            .await;
            let id = s["id"].as_i64().unwrap();
            let (st, d) = w
                .admin
                .post(&format!("/api/v1/studies/{id}/sample"), json!({}))
                .await;
            assert_eq!(st, 200, "{d}");
            assert_eq!(d["invited"], 10);
            let invs = invitations(&w.admin, id).await;
            assert_eq!(invs.len(), 10);
            samples.push(customers(&invs));
            // tokens: 43 base64url characters, all different; links point at /s/{token}
            for i in &invs {
                let t = token(i);
                assert_eq!(t.len(), 43);
                assert!(
                    t.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
                );
                assert!(i["link"].as_str().unwrap().ends_with(&format!("/s/{t}")));
            }
            // drawing twice is refused
            let (st, _) = w
                .admin
                .post(&format!("/api/v1/studies/{id}/sample"), json!({}))
                .await;
            assert_eq!(st, 409);
        }
        assert_eq!(samples[0], samples[1], "same seed, same customers");
        assert_ne!(samples[0], samples[2], "another seed, another sample");
        // the whole population: exactly the consenting active customers
        let all = create(&w.admin, study_body(&w, "all", json!({"sample_size": 40}))).await;
        let id = all["id"].as_i64().unwrap();
        w.admin
            .post(&format!("/api/v1/studies/{id}/sample"), json!({}))
            .await;
        let invs = invitations(&w.admin, id).await;
        assert_eq!(customers(&invs), w.good.iter().copied().collect());
        assert!(w.bad.iter().all(|c| !customers(&invs).contains(c)));
        // breakdown keys and contact fixed at invitation
        let c0 = invs.iter().find(|i| i["customer_id"] == w.good[0]).unwrap();
        assert_eq!(c0["contact_name"], "王经理");
        assert_eq!(c0["contact_phone"], "13800000000");
        assert_eq!(c0["product_id"], w.product);
        assert_eq!(c0["engineer_id"], w.engineer_id);
        assert_eq!(c0["region"], "华东");
        assert_eq!(c0["outlet_id"], w.outlet);
        let c1 = invs.iter().find(|i| i["customer_id"] == w.good[1]).unwrap();
        assert_eq!(c1["region"], "华南");
        assert!(
            c1["outlet_id"].is_null() && c1["product_id"].is_null() && c1["engineer_id"].is_null()
        );
        // the audit trail has the draw, and no token
        let (_, a) = w
            .admin
            .get(&format!("/api/v1/audit?entity=study&entity_id={id}"))
            .await;
        assert!(
            a["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "study_draw")
        );
    }
}

#[tokio::test]
async fn population_filters() {
    for b in backends() {
        let app = spawn_app(b).await;
        let w = world(&app).await;
        for (extra, want) in [
            (json!({"region": "华东"}), 20),
            (json!({"region": "华南"}), 20),
            (json!({"product_id": w.product}), 1),
            (json!({"contract_level": "金牌"}), 1),
            (json!({"contract_level": "银牌"}), 0),
            (json!({"served": true}), 1),
            (json!({"served": true, "period_start": "2026-03-01"}), 0),
            (json!({"region": "华南", "served": true}), 0),
        ] {
            let s = create(&w.admin, study_body(&w, "f", extra.clone())).await;
            assert_eq!(s["population_size"], want, "{extra}");
        }
        // product filter: the product key is the filtered one
        let s = create(
            &w.admin,
            study_body(&w, "p", json!({"product_id": w.product})),
        )
        .await;
        let id = s["id"].as_i64().unwrap();
        let (st, _) = w
            .admin
            .post(&format!("/api/v1/studies/{id}/sample"), json!({}))
            .await;
        assert_eq!(st, 200);
        let invs = invitations(&w.admin, id).await;
        assert_eq!(customers(&invs), BTreeSet::from([w.good[0]]));
        // an empty population cannot be drawn
        let s = create(
            &w.admin,
            study_body(&w, "e", json!({"contract_level": "银牌"})),
        )
        .await;
        let (st, e) = w
            .admin
            .post(&format!("/api/v1/studies/{}/sample", s["id"]), json!({}))
            .await;
        assert_eq!(st, 409, "{e}");
        // the form's calculator shows N and n without saving
        let ses = app.login("admin").await;
        let r = ses
            .post(
                "/studies",
                &[
                    ("action", "calc"),
                    ("name", ""),
                    ("template_id", &w.tpl.id.to_string()),
                    ("period_start", "2026-01-01"),
                    ("period_end", "2026-03-31"),
                    ("region", "华东"),
                    ("confidence", "95"),
                    ("margin", "5"),
                    ("seed", "1"),
                    ("link_days", "30"),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("<strong id=\"population-size\">20</strong>"),
            "{html}"
        );
        assert!(html.contains("<strong id=\"computed-size\">20</strong>"));
        // saving from the form
        let r = ses
            .post(
                "/studies",
                &[
                    ("action", "save"),
                    ("name", "华东 2026 Q1"),
                    ("template_id", &w.tpl.id.to_string()),
                    ("period_start", "2026-01-01"),
                    ("period_end", "2026-03-31"),
                    ("region", "华东"),
                    ("confidence", "95"),
                    ("margin", "5"),
                    ("sample_size", "5"),
                    ("seed", "3"),
                    ("link_days", "30"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let id = id_in(&location(&r), "/studies/");
        let (st, html) = ses.page(&format!("/studies/{id}")).await;
        assert_eq!(st, 200);
        assert!(html.contains("<dd id=\"sample-size\">5</dd>"));
        // the page's pages render
        for p in ["/studies", "/studies/new", &format!("/studies/{id}/edit")] {
            let (st, html) = ses.page(p).await;
            assert_eq!(st, 200, "{p}: {html}");
        }
    }
}

#[tokio::test]
async fn one_answer_per_link() {
    for b in backends() {
        let app = spawn_app(b).await;
        let w = world(&app).await;
        let s = open_study(&w, "Q1", json!({"sample_size": 6})).await;
        let id = s["id"].as_i64().unwrap();
        let invs = invitations(&w.admin, id).await;
        let tok = token(&invs[0]);

        // the page: Chinese, the intro, the questions by dimension, radio buttons per point
        let (v, csrf) = visitor(&app, &tok).await;
        let (_, html) = v.page(&format!("/s/{tok}")).await;
        assert_eq!(html_lang(&html), "zh-CN");
        assert!(html.contains("感谢您抽出时间填写问卷。"));
        assert!(html.contains("响应速度") && html.contains("服务质量"));
        assert!(html.contains(&format!("id=\"item_{}_5\"", w.tpl.s[0])));
        assert!(html.contains(&format!("id=\"item_{}_10\"", w.tpl.nps)));
        assert!(html.contains(&format!("<textarea id=\"item_{}\"", w.tpl.text)));
        let (_, en) = v.page(&format!("/s/{tok}?lang=en")).await;
        assert_eq!(html_lang(&en), "en");

        // required questions missing: 422, messages beside them, everything typed kept
        let partial = vec![
            (format!("item_{}", w.tpl.s[0]), "4".to_string()),
            (format!("item_{}", w.tpl.nps), "7".to_string()),
            (format!("item_{}", w.tpl.text), "备件太慢".to_string()),
        ];
        let r = submit(&v, &csrf, &tok, &partial).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, &format!("item_{}", w.tpl.s[1])).is_some());
        assert!(field_error(&html, &format!("item_{}", w.tpl.csat)).is_some());
        assert!(field_error(&html, &format!("item_{}", w.tpl.s[0])).is_none());
        assert!(html.contains(&format!(
            "id=\"item_{}_4\" name=\"item_{}\" value=\"4\" checked",
            w.tpl.s[0], w.tpl.s[0]
        )));
        assert!(html.contains(&format!(
            "id=\"item_{}_7\" name=\"item_{}\" value=\"7\" checked",
            w.tpl.nps, w.tpl.nps
        )));
        assert_eq!(
            input_value(&html, &format!("item_{}", w.tpl.text)).as_deref(),
            Some("备件太慢")
        );
        // a value off the scale is refused too
        let mut off = full_answers(&w.tpl, [5, 3, 1]);
        off[0].1 = "6".into();
        assert_eq!(submit(&v, &csrf, &tok, &off).await.status(), 422);
        // without the CSRF value: refused
        let r = v
            .post_no_csrf(
                &format!("/s/{tok}"),
                &[(&format!("item_{}", w.tpl.s[0]), "4")],
            )
            .await;
        assert_eq!(r.status(), 403);

        // answered: to the thank-you page
        let r = submit(&v, &csrf, &tok, &full_answers(&w.tpl, [5, 3, 1])).await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), format!("/s/{tok}/thanks"));
        let (st, html) = v.page(&format!("/s/{tok}/thanks")).await;
        assert_eq!(st, 200);
        assert!(html.contains("id=\"thanks\""));
        // a second answer through the same link is refused, and so is the page
        let r = submit(&v, &csrf, &tok, &full_answers(&w.tpl, [1, 1, 1])).await;
        assert_eq!(r.status(), 410);
        let (st, html) = v.page(&format!("/s/{tok}")).await;
        assert_eq!(st, 410);
        assert!(html.contains("data-code=\"link_answered\""));

        // its score: (3×100 + 2×50 + 1×0) / 6 on the scale items only
        let (_, inv) = w
            .admin
            .get(&format!("/api/v1/studies/{id}/invitations?status=answered"))
            .await;
        assert_eq!(inv["total"], 1);
        let rid = inv["items"][0]["response_id"].as_i64().unwrap();
        let (st, resp) = w
            .admin
            .get(&format!("/api/v1/survey-responses/{rid}"))
            .await;
        assert_eq!(st, 200, "{resp}");
        assert!((resp["response"]["score"].as_f64().unwrap() - 400.0 / 6.0).abs() < 1e-9);
        assert_eq!(resp["response"]["channel"], "link");
        assert_eq!(resp["response"]["region"], invs[0]["region"]);
        assert_eq!(resp["answers"].as_array().unwrap().len(), 6);
        // the customer's timeline shows it
        let mut h = app.st.db.acquire().await.unwrap();
        let tl = store::timeline::for_customer(
            &mut h.c(),
            app.org,
            invs[0]["customer_id"].as_i64().unwrap(),
            store::PageReq::new(None, None),
        )
        .await
        .unwrap();
        drop(h);
        assert!(
            tl.items
                .iter()
                .any(|e| e.kind == "survey_response" && e.ref_id == rid)
        );

        // two concurrent submits of one link: exactly one response
        let tok2 = token(&invs[1]);
        let (v1, c1) = visitor(&app, &tok2).await;
        let (v2, c2) = visitor(&app, &tok2).await;
        let answers = full_answers(&w.tpl, [4, 4, 4]);
        let (r1, r2) = tokio::join!(
            submit(&v1, &c1, &tok2, &answers),
            submit(&v2, &c2, &tok2, &answers)
        );
        let mut codes = [r1.status().as_u16(), r2.status().as_u16()];
        codes.sort();
        assert_eq!(codes, [303, 410]);
        let (_, s) = w.admin.get(&format!("/api/v1/studies/{id}")).await;
        assert_eq!(s["responses"], 2);
        assert_eq!(s["invited"], 6);
        let mut h = app.st.db.acquire().await.unwrap();
        let (n,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT COUNT(*) FROM survey_responses WHERE study_id = $1").bind(id).fetch_one(x).await)
        .unwrap();
        assert_eq!(n, 2);

        // the JSON twin: questions, an answer, a second one refused
        let http = reqwest::Client::new();
        let tok3 = token(&invs[2]);
        let q: Value = http
            .get(app.url(&format!("/api/v1/answers/{tok3}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(q["items"].as_array().unwrap().len(), 6);
        assert_eq!(q["items"][4]["scale_max"], 10);
        let body = json!({"answers": [
            {"item_id": w.tpl.s[0], "value": 2}, {"item_id": w.tpl.s[1], "value": 2},
            {"item_id": w.tpl.s[2], "value": 2}, {"item_id": w.tpl.csat, "value": 1},
        ]});
        let missing = json!({"answers": [{"item_id": w.tpl.s[0], "value": 2}]});
        let r = http
            .post(app.url(&format!("/api/v1/answers/{tok3}")))
            .json(&missing)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let e: Value = r.json().await.unwrap();
        assert!(e["fields"][format!("item_{}", w.tpl.csat)].is_string());
        let r = http
            .post(app.url(&format!("/api/v1/answers/{tok3}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let r = http
            .post(app.url(&format!("/api/v1/answers/{tok3}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 410);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], "link_answered");

        // counters and response rate on the study page
        let ses = app.login("admin").await;
        let (st, html) = ses.page(&format!("/studies/{id}")).await;
        assert_eq!(st, 200);
        assert!(html.contains("<span class=\"tile-num\" id=\"count-responses\">3</span>"));
        assert!(html.contains("<span class=\"tile-num\" id=\"response-rate\">50.0%</span>"));
    }
}

#[tokio::test]
async fn refused_links() {
    for b in backends() {
        let app = spawn_app(b).await;
        let w = world(&app).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let status_of = |path: String| {
            let http = http.clone();
            let url = app.url(&path);
            async move {
                let r = http.get(url).send().await.unwrap();
                let st = r.status().as_u16();
                (st, r.text().await.unwrap())
            }
        };
        // forged or malformed tokens
        let forged = "A".repeat(43);
        for t in [forged.as_str(), "abc", "..%2F..%2Fetc"] {
            let (st, html) = status_of(format!("/s/{t}")).await;
            assert_eq!(st, 404, "{t}");
            assert!(html.contains("data-code=\"link_unknown\""));
        }
        let (st, _) = status_of(format!("/api/v1/answers/{forged}")).await;
        assert_eq!(st, 404);

        // a drawn study not open yet
        let s = create(&w.admin, study_body(&w, "draft", json!({"sample_size": 4}))).await;
        let id = s["id"].as_i64().unwrap();
        let (_, d) = w
            .admin
            .post(&format!("/api/v1/studies/{id}/sample"), json!({}))
            .await;
        let invs = invitations(&w.admin, id).await;
        let (st, html) = status_of(format!("/s/{}", token(&invs[0]))).await;
        assert_eq!(st, 404);
        assert!(html.contains("link_not_open"));
        assert!(!html.contains("draft"), "no detail of the study leaks");
        let (st, o) = w
            .admin
            .post(
                &format!("/api/v1/studies/{id}/open"),
                json!({"version": d["version"]}),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(status_of(format!("/s/{}", token(&invs[0]))).await.0, 200);

        // expired
        let mut tx = app.st.db.begin().await.unwrap();
        store::run!(&mut tx.c(), x => sqlx::query("UPDATE study_invitations SET expires_at = 1 WHERE id = $1")
            .bind(invs[1]["id"].as_i64().unwrap()).execute(x).await)
        .unwrap();
        tx.commit().await.unwrap();
        let (st, html) = status_of(format!("/s/{}", token(&invs[1]))).await;
        assert_eq!(st, 410);
        assert!(html.contains("link_expired"));
        // … an expired link can be extended
        let ses = app.login("admin").await;
        let r = ses
            .post(
                &format!("/studies/{id}/invitations/{}/extend", invs[1]["id"]),
                &[("days", "7")],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(status_of(format!("/s/{}", token(&invs[1]))).await.0, 200);

        // revoked (on the page), then an answer through it is refused
        let tok = token(&invs[2]);
        let (v, csrf) = visitor(&app, &tok).await;
        let r = ses
            .post(
                &format!("/studies/{id}/invitations/{}/revoke", invs[2]["id"]),
                &[],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (st, html) = status_of(format!("/s/{tok}")).await;
        assert_eq!(st, 410);
        assert!(html.contains("link_revoked"));
        assert_eq!(
            submit(&v, &csrf, &tok, &full_answers(&w.tpl, [5, 5, 5]))
                .await
                .status(),
            410
        );
        let (st, e) = w
            .admin
            .post(
                &format!("/api/v1/studies/{id}/invitations/{}/answers", invs[2]["id"]),
                json!({"answers": []}),
            )
            .await;
        assert_eq!(st, 409, "{e}");

        // closed
        let (st, _) = w
            .admin
            .post(
                &format!("/api/v1/studies/{id}/close"),
                json!({"version": o["version"]}),
            )
            .await;
        assert_eq!(st, 200);
        let (st, html) = status_of(format!("/s/{}", token(&invs[3]))).await;
        assert_eq!(st, 410);
        assert!(html.contains("link_closed"));
        let (st, e) = status_of(format!("/api/v1/answers/{}", token(&invs[3]))).await;
        assert_eq!(st, 410);
        assert!(e.contains("link_closed"));
    }
}

#[tokio::test]
async fn phone_entry_and_manual_invitations() {
    for b in backends() {
        let app = spawn_app(b).await;
        let w = world(&app).await;
        let s = open_study(&w, "Q1", json!({"sample_size": 3, "region": "华南"})).await;
        let id = s["id"].as_i64().unwrap();
        // a customer added by hand (by code); refused: unknown, not consenting, invited twice
        let (st, inv) = w
            .admin
            .post(
                &format!("/api/v1/studies/{id}/invitations"),
                json!({"customer": "C000"}),
            )
            .await;
        assert_eq!(st, 201, "{inv}");
        assert_eq!(inv["customer_id"], w.good[0]);
        assert_eq!(inv["engineer_id"], w.engineer_id);
        for (c, code) in [
            ("ZZZ", "customer"),
            ("N0", "customer"),
            ("C000", "customer"),
        ] {
            let (st, e) = w
                .admin
                .post(
                    &format!("/api/v1/studies/{id}/invitations"),
                    json!({"customer": c}),
                )
                .await;
            assert_eq!(st, 422, "{c}: {e}");
            assert!(e["fields"][code].is_string());
        }
        let (_, s2) = w.admin.get(&format!("/api/v1/studies/{id}")).await;
        assert_eq!(s2["invited"], 4);

        // the engineer enters answers taken by phone (API)
        let eng = app.api(&app.token(w.engineer_id, app.org).await);
        let inv_id = inv["id"].as_i64().unwrap();
        let body = json!({"answers": [
            {"item_id": w.tpl.s[0], "value": 1}, {"item_id": w.tpl.s[1], "value": 1},
            {"item_id": w.tpl.s[2], "value": 1}, {"item_id": w.tpl.csat, "value": 1},
            {"item_id": w.tpl.text, "text": "等待时间太长"},
        ]});
        let (st, r) = eng
            .post(
                &format!("/api/v1/studies/{id}/invitations/{inv_id}/answers"),
                body.clone(),
            )
            .await;
        assert_eq!(st, 201, "{r}");
        let (_, resp) = eng
            .get(&format!("/api/v1/survey-responses/{}", r["response_id"]))
            .await;
        assert_eq!(resp["response"]["channel"], "phone");
        assert_eq!(resp["response"]["entered_by"], w.engineer_id);
        assert_eq!(resp["response"]["score"], 0.0);
        // the low score set off the follow-up (a return visit or a complaint)
        let rid = r["response_id"].as_i64().unwrap();
        let mut h = app.st.db.acquire().await.unwrap();
        let (n,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM return_visits WHERE response_id = $1)
                  + (SELECT COUNT(*) FROM complaints WHERE customer_id = $2)")
            .bind(rid).bind(w.good[0]).fetch_one(x).await)
        .unwrap();
        drop(h);
        assert_eq!(n, 1, "one follow-up of the low score");
        let (st, _) = eng
            .post(
                &format!("/api/v1/studies/{id}/invitations/{inv_id}/answers"),
                body,
            )
            .await;
        assert_eq!(st, 409, "one answer per invitation, whatever the channel");

        // the phone form in the app: errors keep the input, then saved
        let other = invitations(&w.admin, id)
            .await
            .into_iter()
            .find(|i| i["status"] == "pending")
            .unwrap();
        let oid = other["id"].as_i64().unwrap();
        let ses = app.login("eng").await;
        let path = format!("/studies/{id}/invitations/{oid}/answer");
        let (st, html) = ses.page(&path).await;
        assert_eq!(st, 200, "{html}");
        let s0 = format!("item_{}", w.tpl.s[0]);
        let r = ses.post(&path, &[(s0.as_str(), "3")]).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains(&format!("id=\"{s0}_3\" name=\"{s0}\" value=\"3\" checked")));
        let fields = full_answers(&w.tpl, [3, 4, 5]);
        let f: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = ses.post(&path, &f).await;
        assert_eq!(r.status(), 303);
        let loc = location(&r);
        assert!(loc.starts_with("/survey-responses/"), "{loc}");
        let (st, html) = ses.page(&loc).await;
        assert_eq!(st, 200);
        assert!(html.contains("工程师很专业"));
        let (_, s3) = w.admin.get(&format!("/api/v1/studies/{id}")).await;
        assert_eq!(s3["responses"], 2);
    }
}

#[tokio::test]
async fn permissions_and_isolation() {
    for b in backends() {
        let app = spawn_app(b).await;
        let w = world(&app).await;
        let s = open_study(&w, "Q1", json!({"sample_size": 2})).await;
        let id = s["id"].as_i64().unwrap();
        let inv = invitations(&w.admin, id).await[0].clone();
        let aud_id = app.user(app.org, "aud", Role::Auditor).await;
        let staff_id = app.user(app.org, "stf", Role::Staff).await;
        let aud = app.api(&app.token(aud_id, app.org).await);
        let staff = app.api(&app.token(staff_id, app.org).await);
        // the auditor reads, never writes
        assert_eq!(aud.get(&format!("/api/v1/studies/{id}")).await.0, 200);
        assert_eq!(
            aud.get(&format!("/api/v1/studies/{id}/invitations"))
                .await
                .0,
            200
        );
        assert_eq!(
            aud.post("/api/v1/studies", study_body(&w, "x", json!({})))
                .await
                .0,
            403
        );
        assert_eq!(
            aud.post(&format!("/api/v1/studies/{id}/sample"), json!({}))
                .await
                .0,
            403
        );
        assert_eq!(
            aud.post(
                &format!("/api/v1/studies/{id}/close"),
                json!({"version": s["version"]})
            )
            .await
            .0,
            403
        );
        let ans = json!({"answers": []});
        assert_eq!(
            aud.post(
                &format!("/api/v1/studies/{id}/invitations/{}/answers", inv["id"]),
                ans.clone()
            )
            .await
            .0,
            403
        );
        // staff may take phone answers but not design studies
        assert_eq!(
            staff
                .post("/api/v1/studies", study_body(&w, "x", json!({})))
                .await
                .0,
            403
        );
        assert_eq!(
            staff
                .post(
                    &format!("/api/v1/studies/{id}/invitations/{}/answers", inv["id"]),
                    ans.clone()
                )
                .await
                .0,
            422
        );
        // another organization sees nothing
        let other = app.other_org("beta", "beta_admin").await;
        let mut h = app.st.db.acquire().await.unwrap();
        let beta_admin = store::users::by_login(&mut h.c(), "beta_admin")
            .await
            .unwrap()
            .unwrap()
            .0
            .id;
        drop(h);
        let beta = app.api(&app.token(beta_admin, other).await);
        assert_eq!(beta.get(&format!("/api/v1/studies/{id}")).await.0, 404);
        assert_eq!(
            beta.get(&format!("/api/v1/studies/{id}/invitations"))
                .await
                .0,
            404
        );
        assert_eq!(
            beta.post(&format!("/api/v1/studies/{id}/sample"), json!({}))
                .await
                .0,
            404
        );
        assert_eq!(
            beta.post(
                &format!("/api/v1/studies/{id}/invitations/{}/answers", inv["id"]),
                ans
            )
            .await
            .0,
            404
        );
        let (_, l) = beta.get("/api/v1/studies").await;
        assert_eq!(l["total"], 0);
        // a template of another organization cannot be used
        let (st, e) = beta
            .post("/api/v1/studies", study_body(&w, "x", json!({})))
            .await;
        assert_eq!(st, 422, "{e}");
        assert!(e["fields"]["template_id"].is_string());
        // pages: the auditor sees the study without the buttons
        let ses = app.login("aud").await;
        let (st, html) = ses.page(&format!("/studies/{id}")).await;
        assert_eq!(st, 200);
        assert!(!html.contains("id=\"close\""));
        assert_eq!(ses.page("/studies/new").await.0, 403);
    }
}

#[tokio::test]
async fn qr_codes_and_printed_sheet() {
    for b in backends() {
        let app = spawn_app(b).await;
        let w = world(&app).await;
        let s = open_study(&w, "Q1", json!({"sample_size": 3})).await;
        let id = s["id"].as_i64().unwrap();
        let inv = invitations(&w.admin, id).await[0].clone();
        let ses = app.login("admin").await;
        let r = ses
            .get(&format!("/studies/{id}/invitations/{}/qr.svg", inv["id"]))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        let svg = r.text().await.unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
        let (st, html) = ses.page(&format!("/studies/{id}/invitations/print")).await;
        assert_eq!(st, 200);
        assert_eq!(html.matches("<svg").count(), 3);
        assert!(html.contains(&format!("/s/{}", token(&inv))));
        let (st, html) = ses.page(&format!("/studies/{id}")).await;
        assert_eq!(st, 200);
        assert!(html.contains(&format!("id=\"qr-{}\"", inv["id"])));
        // another organization's QR code is not found
        let other = app.other_org("beta", "beta_admin").await;
        let _ = other;
        let beta = app.login("beta_admin").await;
        assert_eq!(
            beta.get(&format!("/studies/{id}/invitations/{}/qr.svg", inv["id"]))
                .await
                .status(),
            404
        );
    }
}

#[tokio::test]
async fn demo_study() {
    for b in backends() {
        let app = spawn_app(b).await;
        let w = world(&app).await;
        server::satisfaction::studies::seed_demo(&app.st, app.org, w.tpl.id)
            .await
            .unwrap();
        let (_, l) = w.admin.get("/api/v1/studies").await;
        let s = &l["items"][0];
        assert_eq!(s["status"], "open");
        assert_eq!(s["invited"], 37);
        let rate = s["responses"].as_f64().unwrap() / 37.0;
        assert!((0.4..=0.8).contains(&rate), "{s}");
    }
}
