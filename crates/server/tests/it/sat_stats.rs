//! Tests: satisfaction statistics (report, workbook, API, overview) against a reference data
//! set whose expected numbers were computed independently of this code, on both backends.
//!
//! Reference set R (the same as in domain::satisfaction::stats's tests): ten responses to a
//! template with dimension A (a1, a2, a3 on 1-5, weights 3, 2, 1), dimension B (b1, b2 on
//! 1-5, weights 2, 2), a csat item (1-5), an nps item (0-10), a ces item (1-7) and a text
//! item; response 10 skipped a3. 16 invitations are open or answered, one more is revoked.
//! Breakdown keys: product P1 for responses 1-6, P2 for 7-10; region 华东 for 1-5, 华南 for
//! 6-9, none for 10; engineer E for all; outlet O for 1-3.
//!
//! Every expected number below was printed by this Python 3.11 script (numpy 2.x, scipy,
//! statsmodels 0.14, pingouin; `pip install numpy scipy pingouin statsmodels`), never by the
//! code under test:
//!
//! ```python
//! import numpy as np, pandas as pd, pingouin as pg
//! from scipy.stats import norm
//! from statsmodels.stats.proportion import proportion_confint
//! Z = 1.96; ALPHA = 2 * (1 - norm.cdf(Z))   # z exactly 1.96 inside the Wilson interval
//! nan = np.nan
//! A1 = [4,5,3,4,2,5,4,3,5,4]; A2 = [4,4,3,5,2,5,3,3,4,4]; A3 = [5,4,2,4,1,5,4,3,4,nan]
//! B1 = [3,5,4,4,3,5,2,4,5,3]; B2 = [3,4,4,5,2,5,3,4,4,4]
//! CSAT = [4,5,3,4,2,5,4,3,5,4]; NPS = [9,10,7,8,3,10,6,7,9,8]; CES = [2,1,4,3,6,1,3,4,2,3]
//! W = {'a1':3,'a2':2,'a3':1,'b1':2,'b2':2}
//! def mean_ci(v, lo, hi):   # mean ± 1.96 s/√n, s = numpy.std(ddof=1), clipped to the scale
//!     v = np.array([x for x in v if not np.isnan(x)], float)
//!     m, s = v.mean(), v.std(ddof=1); h = Z * s / np.sqrt(len(v))
//!     return len(v), m, s, max(m-h, lo), min(m+h, hi)
//! # item score = (mean-1)/4*100; response score = Σ w·(v-1)/4·100 / Σ w over answered items
//! # CSI = Σ (w/Σw)·score, ± 1.96·sd(response scores)/√10
//! # CSAT: proportion_confint(top2, n, alpha=ALPHA, method='wilson')
//! # NPS: d = p₊ − p₋, ± 1.96·sqrt((p₊ + p₋ − d²)/n)
//! # alpha: pg.cronbach_alpha(data=pd.DataFrame({...}).dropna())
//! # IPA: importance = w/Σw, cut at the mean importance and the mean item score
//! # breakdowns: the same formulas over each group's responses
//! ```

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use domain::auth::Role;
use serde_json::Value;

use crate::helpers::*;

const A1: [f64; 10] = [4., 5., 3., 4., 2., 5., 4., 3., 5., 4.];
const A2: [f64; 10] = [4., 4., 3., 5., 2., 5., 3., 3., 4., 4.];
const A3: [f64; 9] = [5., 4., 2., 4., 1., 5., 4., 3., 4.];
const B1: [f64; 10] = [3., 5., 4., 4., 3., 5., 2., 4., 5., 3.];
const B2: [f64; 10] = [3., 4., 4., 5., 2., 5., 3., 4., 4., 4.];
const CSAT: [f64; 10] = [4., 5., 3., 4., 2., 5., 4., 3., 5., 4.];
const NPS: [f64; 10] = [9., 10., 7., 8., 3., 10., 6., 7., 9., 8.];
const CES: [f64; 10] = [2., 1., 4., 3., 6., 1., 3., 4., 2., 3.];
/// The responses' own scores, from the script ("response scores: …").
const SCORES: [f64; 10] = [
    67.5,
    87.5,
    57.5,
    85.0,
    27.5,
    100.0,
    55.0,
    60.0,
    87.5,
    69.44444444444444,
];

async fn id(app: &TestApp, sql: String) -> i64 {
    let mut tx = app.st.db.begin().await.unwrap();
    let (id,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(sqlx::AssertSqlSafe(format!("{sql} RETURNING id"))).fetch_one(x).await)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.commit().await.unwrap();
    id
}

async fn exec(app: &TestApp, sql: String) {
    let mut tx = app.st.db.begin().await.unwrap();
    store::run!(&mut tx.c(), x => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(x).await)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.commit().await.unwrap();
}

/// The items of the reference template.
#[derive(Clone, Copy)]
struct Tpl {
    id: i64,
    dim_a: i64,
    dim_b: i64,
    a: [i64; 3],
    b: [i64; 2],
    csat: i64,
    nps: i64,
    ces: i64,
    text: i64,
}

async fn template(app: &TestApp, org: i64, code: &str, version_no: i64) -> Tpl {
    let t = id(
        app,
        format!(
            "INSERT INTO survey_templates (org_id, code, version_no, name, status, created_at, updated_at, version)
             VALUES ({org}, '{code}', {version_no}, '售后服务满意度', 'active', 0, 0, 1)"
        ),
    )
    .await;
    let dim = |pos: i64, name: &str| {
        format!(
            "INSERT INTO survey_dimensions (template_id, position, name) VALUES ({t}, {pos}, '{name}')"
        )
    };
    let dim_a = id(app, dim(1, "响应")).await;
    let dim_b = id(app, dim(2, "服务")).await;
    let item = |dim: Option<i64>,
                pos: i64,
                kind: &str,
                text: &str,
                range: Option<(i64, i64)>,
                w: f64| {
        format!(
            "INSERT INTO survey_items (template_id, dimension_id, position, kind, text, scale_min, scale_max, weight, required)
             VALUES ({t}, {}, {pos}, '{kind}', '{text}', {}, {}, {w}, TRUE)",
            dim.map_or("NULL".to_string(), |d| d.to_string()),
            range.map_or("NULL".to_string(), |r| r.0.to_string()),
            range.map_or("NULL".to_string(), |r| r.1.to_string()),
        )
    };
    let s5 = Some((1, 5));
    Tpl {
        id: t,
        dim_a,
        dim_b,
        a: [
            id(app, item(Some(dim_a), 1, "scale", "响应速度", s5, 3.0)).await,
            id(app, item(Some(dim_a), 2, "scale", "电话态度", s5, 2.0)).await,
            id(app, item(Some(dim_a), 3, "scale", "预约方便", s5, 1.0)).await,
        ],
        b: [
            id(app, item(Some(dim_b), 4, "scale", "维修质量", s5, 2.0)).await,
            id(app, item(Some(dim_b), 5, "scale", "工程师专业", s5, 2.0)).await,
        ],
        csat: id(app, item(None, 6, "csat", "总体满意度", s5, 0.0)).await,
        nps: id(app, item(None, 7, "nps", "推荐意愿", Some((0, 10)), 0.0)).await,
        ces: id(app, item(None, 8, "ces", "办事省力", Some((1, 7)), 0.0)).await,
        text: id(app, item(None, 9, "text", "意见建议", None, 0.0)).await,
    }
}

async fn study(app: &TestApp, org: i64, t: &Tpl, name: &str, start: &str, end: &str) -> i64 {
    id(
        app,
        format!(
            "INSERT INTO studies (org_id, template_id, name, period_start, period_end, population, population_size,
                confidence_percent, margin_percent, sample_size, seed, status, link_days, invited, responses,
                created_at, updated_at, version)
             VALUES ({org}, {}, '{name}', '{start}', '{end}', '{{}}', 100, 95, 5.0, 20, 1, 'open', 14, 0, 0, 0, 0, 1)",
            t.id
        ),
    )
    .await
}

async fn customer(app: &TestApp, org: i64, name: &str) -> i64 {
    id(
        app,
        format!(
            "INSERT INTO customers (org_id, name, kind, tags, consent_contact, consent_survey, active,
                created_at, updated_at, version)
             VALUES ({org}, '{name}', 'company', '[]', TRUE, TRUE, TRUE, 0, 0, 1)"
        ),
    )
    .await
}

/// Breakdown keys of a response.
#[derive(Default, Clone)]
struct Keys {
    product: Option<i64>,
    engineer: Option<i64>,
    region: Option<&'static str>,
    outlet: Option<i64>,
}

fn opt(v: Option<i64>) -> String {
    v.map_or("NULL".into(), |v| v.to_string())
}

/// An answered invitation with its response and answers (`values`: item → value), and the
/// study's counters moved on as the answer transaction does.
#[allow(clippy::too_many_arguments)]
async fn respond(
    app: &TestApp,
    org: i64,
    study: i64,
    t: &Tpl,
    n: usize,
    values: &[(i64, f64)],
    text: Option<&str>,
    score: Option<f64>,
    k: &Keys,
) {
    let cust = customer(app, org, &format!("客户{study}-{n}")).await;
    let region = k.region.map_or("NULL".into(), |r| format!("'{r}'"));
    let at = 1_750_000_000 + n as i64 * 60;
    let inv = id(
        app,
        format!(
            "INSERT INTO study_invitations (org_id, study_id, customer_id, token, expires_at, status, answered_at,
                product_id, engineer_id, region, outlet_id, created_at)
             VALUES ({org}, {study}, {cust}, 'tok-{study}-{n}', 1900000000, 'answered', {at}, {}, {}, {region}, {}, 0)",
            opt(k.product),
            opt(k.engineer),
            opt(k.outlet)
        ),
    )
    .await;
    let resp = id(
        app,
        format!(
            "INSERT INTO survey_responses (org_id, study_id, invitation_id, template_id, customer_id, channel,
                submitted_at, score, product_id, engineer_id, region, outlet_id)
             VALUES ({org}, {study}, {inv}, {}, {cust}, 'link', {at}, {}, {}, {}, {region}, {})",
            t.id,
            score.map_or("NULL".into(), |s| format!("{s:?}")),
            opt(k.product),
            opt(k.engineer),
            opt(k.outlet)
        ),
    )
    .await;
    let mut rows: Vec<String> = values
        .iter()
        .map(|(item, v)| format!("({resp}, {item}, {study}, {v:?}, NULL)"))
        .collect();
    if let Some(s) = text {
        rows.push(format!("({resp}, {}, {study}, NULL, '{s}')", t.text));
    }
    exec(
        app,
        format!(
            "INSERT INTO survey_answers (response_id, item_id, study_id, value, text) VALUES {}",
            rows.join(", ")
        ),
    )
    .await;
    exec(
        app,
        format!(
            "UPDATE studies SET responses = responses + 1, invited = invited + 1 WHERE id = {study}"
        ),
    )
    .await;
}

async fn pending(app: &TestApp, org: i64, study: i64, n: usize, status: &str) {
    let cust = customer(app, org, &format!("未答{study}-{n}")).await;
    exec(
        app,
        format!(
            "INSERT INTO study_invitations (org_id, study_id, customer_id, token, expires_at, status, created_at)
             VALUES ({org}, {study}, {cust}, 'pend-{study}-{n}', 1900000000, '{status}', 0)"
        ),
    )
    .await;
}

struct Fixture {
    t: Tpl,
    study: i64,
    p1: i64,
    p2: i64,
}

/// The reference set R in `org`.
async fn reference(app: &TestApp, org: i64) -> Fixture {
    let t = template(app, org, "CS", 1).await;
    let study = study(app, org, &t, "2025 年一季度", "2025-01-01", "2025-03-31").await;
    let product = |part: &str| {
        format!(
            "INSERT INTO products (org_id, part_no, model, name, warranty_months, contract_levels, active,
                created_at, updated_at, version)
             VALUES ({org}, '{part}', 'M', '产品{part}', 12, '[]', TRUE, 0, 0, 1)"
        )
    };
    let p1 = id(app, product("P1")).await;
    let p2 = id(app, product("P2")).await;
    let engineer = app.user(org, &format!("eng{org}"), Role::Engineer).await;
    let outlet = id(
        app,
        format!(
            "INSERT INTO outlets (org_id, name, kind, regions, active, created_at, updated_at, version)
             VALUES ({org}, '上海网点', 'own', '[]', TRUE, 0, 0, 1)"
        ),
    )
    .await;
    for r in 0..10 {
        let mut v = vec![
            (t.a[0], A1[r]),
            (t.a[1], A2[r]),
            (t.b[0], B1[r]),
            (t.b[1], B2[r]),
            (t.csat, CSAT[r]),
            (t.nps, NPS[r]),
            (t.ces, CES[r]),
        ];
        if let Some(x) = A3.get(r) {
            v.push((t.a[2], *x));
        }
        let keys = Keys {
            product: Some(if r < 6 { p1 } else { p2 }),
            engineer: Some(engineer),
            region: match r {
                0..5 => Some("华东"),
                5..9 => Some("华南"),
                _ => None,
            },
            outlet: (r < 3).then_some(outlet),
        };
        let text = match r {
            1 => Some("工程师很专业"),
            4 => Some("等得太久了"),
            _ => None,
        };
        respond(app, org, study, &t, r + 1, &v, text, Some(SCORES[r]), &keys).await;
    }
    for n in 0..6 {
        pending(app, org, study, n, "pending").await;
    }
    pending(app, org, study, 99, "revoked").await;
    Fixture { t, study, p1, p2 }
}

#[track_caller]
fn near(v: &Value, want: f64) {
    let got = v
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {v}, want {want}"));
    assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
}

#[track_caller]
fn ci(c: &Value, n: i64, value: f64, low: f64, high: f64) {
    assert_eq!(c["n"], n, "{c}");
    near(&c["value"], value);
    near(&c["low"], low);
    near(&c["high"], high);
}

fn item(s: &Value, id: i64) -> &Value {
    s["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item_id"] == id)
        .unwrap_or_else(|| panic!("item {id}"))
}

fn group<'a>(s: &'a Value, by: &str, name: Option<&str>) -> &'a Value {
    s["breakdowns"][by]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"].as_str() == name)
        .unwrap_or_else(|| panic!("{by} {name:?}"))
}

#[tokio::test]
async fn report_numbers_equal_the_reference() {
    for b in backends() {
        let app = spawn_app(b).await;
        let f = reference(&app, app.org).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (st, s) = api.get(&format!("/api/v1/studies/{}/stats", f.study)).await;
        assert_eq!(st, 200, "{s}");
        assert_eq!(s["cached"], false);
        assert_eq!(s["responses"], 10);
        // headline figures (script lines "CSI=…", "CSAT: …", "NPS: …", "CES: …", "rate 10/16")
        ci(
            &s["csi"],
            10,
            69.63888888888889,
            56.522296767118505,
            82.75548101065927,
        );
        ci(&s["csat"], 10, 70.0, 39.67732199795653, 89.22107125137882);
        ci(&s["nps"], 10, 20.0, -26.38206549950099, 66.38206549950098);
        ci(&s["ces"], 10, 2.9, 1.9554869567396707, 3.844513043260329);
        ci(
            &s["response_rate"],
            16,
            62.5,
            38.64064709793481,
            81.5190174452472,
        );
        assert_eq!(
            (s["invited"].as_i64(), s["answered"].as_i64()),
            (Some(16), Some(10))
        );
        // "response scores: n=10 mean=69.69444444444444"
        near(&s["response_score"]["value"], 69.69444444444444);
        // items ("a1: n=10 mean=3.9 sd=… low=… high=… score=72.5 score_low=… score_high=…")
        let a1 = item(&s, f.t.a[0]);
        ci(&a1["mean"], 10, 3.9, 3.2836465660389687, 4.516353433961031);
        near(&a1["sd"], 0.9944289260117533);
        ci(
            &a1["score"],
            10,
            72.5,
            57.091164150974215,
            87.90883584902578,
        );
        near(&a1["importance"], 0.3);
        let a3 = item(&s, f.t.a[2]);
        ci(
            &a3["score"],
            9,
            63.888888888888886,
            42.11111111111111,
            85.66666666666667,
        );
        let b2 = item(&s, f.t.b[1]);
        ci(&b2["mean"], 10, 3.8, 3.230437204710685, 4.369562795289315);
        assert_eq!(item(&s, f.t.csat)["top_two"], 7);
        assert_eq!(item(&s, f.t.nps)["promoters"], 4);
        assert_eq!(item(&s, f.t.nps)["detractors"], 2);
        // dimensions: alpha A over 9 complete cases 0.9230769230769231, B 0.788732394366197;
        // scores "dim A score=69.39814814814815", "dim B score=70.0"
        let dims = s["dimensions"].as_array().unwrap();
        let da = dims
            .iter()
            .find(|d| d["dimension_id"] == f.t.dim_a)
            .unwrap();
        let db = dims
            .iter()
            .find(|d| d["dimension_id"] == f.t.dim_b)
            .unwrap();
        near(&da["alpha"], 0.9230769230769231);
        assert_eq!(da["complete_cases"], 9);
        near(&da["score"], 69.39814814814815);
        near(&db["alpha"], 0.788732394366197);
        assert_eq!(db["complete_cases"], 10);
        near(&db["score"], 70.0);
        assert_eq!(db["acceptable"], true);
        // IPA: "ipa cuts: importance=0.2 performance=68.77777777777779"
        let ipa = &s["ipa"];
        near(&ipa["importance_cut"], 0.2);
        near(&ipa["performance_cut"], 68.77777777777779);
        let quadrant = |item: i64| {
            ipa["points"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["item_id"] == item)
                .unwrap()["quadrant"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(quadrant(f.t.a[0]), "keep");
        assert_eq!(quadrant(f.t.a[1]), "fix_first");
        assert_eq!(quadrant(f.t.a[2]), "opportunity");
        assert_eq!(quadrant(f.t.b[0]), "keep");
        assert_eq!(quadrant(f.t.b[1]), "keep");
        // breakdowns ("product P1: responses=6 score_mean=… csat=… nps=…")
        let p1 = group(&s, "product", Some("产品P1"));
        assert_eq!(
            (p1["id"].as_i64(), p1["code"].as_str()),
            (Some(f.p1), Some("P1"))
        );
        assert_eq!(p1["responses"], 6);
        ci(
            &p1["score"],
            6,
            70.83333333333333,
            49.980329286487276,
            91.68633738017938,
        );
        ci(
            &p1["csat"],
            6,
            66.66666666666666,
            29.998832134152885,
            90.3230667440783,
        );
        ci(
            &p1["nps"],
            6,
            33.333333333333336,
            -26.307567372784746,
            92.97423403945142,
        );
        let p2 = group(&s, "product", Some("产品P2"));
        assert_eq!(p2["id"].as_i64(), Some(f.p2));
        ci(
            &p2["score"],
            4,
            67.98611111111111,
            53.95081801974698,
            82.02140420247525,
        );
        ci(&p2["csat"], 4, 75.0, 30.063605244263673, 95.44139373553637);
        ci(&p2["nps"], 4, 0.0, -69.29646455628166, 69.29646455628166);
        let south = group(&s, "region", Some("华南"));
        ci(
            &south["score"],
            4,
            75.625,
            54.41916845142198,
            96.83083154857802,
        );
        ci(&south["nps"], 4, 25.0, -56.2573073637073, 100.0);
        let east = group(&s, "region", Some("华东"));
        ci(&east["csat"], 5, 60.0, 23.07199322088372, 88.23817688407468);
        let none = group(&s, "region", None);
        assert_eq!(none["responses"], 1);
        ci(&none["csat"], 1, 100.0, 20.654329147389312, 100.0);
        assert_eq!(none["score"]["low"], Value::Null);
        assert_eq!(s["breakdowns"]["engineer"].as_array().unwrap().len(), 1);
        assert_eq!(s["breakdowns"]["engineer"][0]["responses"], 10);
        let outlets = s["breakdowns"]["outlet"].as_array().unwrap();
        assert_eq!(outlets.len(), 2);
        assert_eq!(group(&s, "outlet", Some("上海网点"))["responses"], 3);
        // free texts, newest first, with their response's score
        assert_eq!(s["texts_total"], 2);
        assert_eq!(s["texts"][0]["text"], "等得太久了");
        near(&s["texts"][0]["score"], 27.5);
        assert_eq!(s["texts"][1]["text"], "工程师很专业");
        let (st, t) = api
            .get(&format!(
                "/api/v1/studies/{}/stats/texts?per_page=1&page=2",
                f.study
            ))
            .await;
        assert_eq!(st, 200);
        assert_eq!(t["total"], 2);
        assert_eq!(t["items"][0]["text"], "工程师很专业");
        near(&t["items"][0]["score"], 87.5);

        // the printable report shows the same numbers, the matrix and its quadrant labels
        let web = app.login("admin").await;
        let (st, html) = web.page(&format!("/studies/{}/report", f.study)).await;
        assert_eq!(st, 200, "{html}");
        assert!(html.contains("id=\"ipa-chart\""));
        for q in ["优先改进", "继续保持", "机会", "维持"] {
            assert!(html.contains(q), "{q}");
        }
        assert!(html.contains(">69.6</span>"), "CSI tile");
        assert!(html.contains("[56.5, 82.8]"));
        assert!(html.contains("0.923") && html.contains("0.789"));
        assert!(html.contains("等得太久了"));
        assert!(html.contains("break-before: page"));
        assert!(
            html.contains("(缓存结果)"),
            "served from the cache the API filled"
        );
        // an alpha below 0.7 is flagged: none here
        assert!(!html.contains("class=\"alpha-low\""));
    }
}

#[tokio::test]
async fn the_cache_is_used_until_a_response_arrives() {
    for b in backends() {
        let app = spawn_app(b).await;
        let f = reference(&app, app.org).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let path = format!("/api/v1/studies/{}/stats", f.study);
        let (_, s1) = api.get(&path).await;
        assert_eq!(s1["cached"], false);
        let (_, s2) = api.get(&path).await;
        assert_eq!(s2["cached"], true);
        assert_eq!(s2["computed_at"], s1["computed_at"]);
        let mut a = s1.clone();
        let mut c = s2.clone();
        a["cached"] = Value::Null;
        c["cached"] = Value::Null;
        assert_eq!(a, c, "the cached body is the computed one");
        // a new invitation without a response: figures from the cache, rate counted afresh
        pending(&app, app.org, f.study, 50, "pending").await;
        let (_, s3) = api.get(&path).await;
        assert_eq!(s3["cached"], true);
        assert_eq!(s3["invited"], 17);
        // an eleventh response (all 5s, csat 5, nps 10): recomputed
        let t = f.t;
        let v = [
            (t.a[0], 5.0),
            (t.a[1], 5.0),
            (t.a[2], 5.0),
            (t.b[0], 5.0),
            (t.b[1], 5.0),
            (t.csat, 5.0),
            (t.nps, 10.0),
            (t.ces, 1.0),
        ];
        respond(
            &app,
            app.org,
            f.study,
            &t,
            11,
            &v,
            Some("非常好"),
            Some(100.0),
            &Keys::default(),
        )
        .await;
        let (_, s4) = api.get(&path).await;
        assert_eq!(s4["cached"], false);
        assert_eq!(s4["responses"], 11);
        assert_eq!(s4["csat"]["n"], 11);
        assert_eq!(item(&s4, t.nps)["promoters"], 5);
        // 8 of 11 in the top two boxes now: proportion_confint(8, 11, alpha=ALPHA,
        // method='wilson') → [43.43497069897539, 90.25411942607853]
        ci(
            &s4["csat"],
            11,
            8.0 / 11.0 * 100.0,
            43.43497069897539,
            90.25411942607853,
        );
        assert_eq!(s4["texts_total"], 3);
        assert_eq!(s4["texts"][0]["text"], "非常好");
        let (_, s5) = api.get(&path).await;
        assert_eq!(s5["cached"], true);
        assert_eq!(s5["responses"], 11);
    }
}

/// Cell (row, col) of a sheet as f64.
fn cell(r: &calamine::Range<Data>, row: u32, col: u32) -> Option<f64> {
    match r.get_value((row, col))? {
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    }
}

#[tokio::test]
async fn workbook_trends_visits_and_access() {
    for b in backends() {
        let app = spawn_app(b).await;
        let f = reference(&app, app.org).await;
        let web = app.login("admin").await;

        // the workbook opens and holds the same numbers
        let r = web.get(&format!("/studies/{}/report.xlsx", f.study)).await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("spreadsheetml")
        );
        let body = r.bytes().await.unwrap().to_vec();
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(body)).unwrap();
        let names = wb.sheet_names();
        assert_eq!(names.len(), 9, "{names:?}");
        assert_eq!(names[0], "概要");
        let sum = wb.worksheet_range(&names[0]).unwrap();
        // row 6: CSI n, value, low, high
        assert_eq!(cell(&sum, 6, 1), Some(10.0));
        assert!((cell(&sum, 6, 2).unwrap() - 69.63888888888889).abs() < 1e-9);
        assert!((cell(&sum, 6, 3).unwrap() - 56.522296767118505).abs() < 1e-9);
        let items = wb.worksheet_range(&names[1]).unwrap();
        assert_eq!(
            items.get_value((1, 1)),
            Some(&Data::String("响应速度".into()))
        );
        assert!((cell(&items, 1, 6).unwrap() - 3.9).abs() < 1e-12);
        let dims = wb.worksheet_range(&names[2]).unwrap();
        assert!((cell(&dims, 1, 4).unwrap() - 0.9230769230769231).abs() < 1e-9);
        let ipa = wb.worksheet_range(&names[3]).unwrap();
        assert_eq!(
            ipa.get_value((2, 3)),
            Some(&Data::String("优先改进".into()))
        );
        let texts = wb.worksheet_range(&names[8]).unwrap();
        assert_eq!(
            texts.get_value((1, 4)),
            Some(&Data::String("等得太久了".into()))
        );

        // a second study of the same code (template version 2): the trend has both, by period
        let t2 = template(&app, app.org, "CS", 2).await;
        let s2 = study(
            &app,
            app.org,
            &t2,
            "2025 年二季度",
            "2025-04-01",
            "2025-06-30",
        )
        .await;
        for n in 0..3 {
            let v = [
                (t2.a[0], 5.0),
                (t2.a[1], 5.0),
                (t2.a[2], 5.0),
                (t2.b[0], 5.0),
                (t2.b[1], 5.0),
                (t2.csat, 5.0),
                (t2.nps, 10.0),
                (t2.ces, 1.0),
            ];
            respond(
                &app,
                app.org,
                s2,
                &t2,
                n,
                &v,
                None,
                Some(100.0),
                &Keys::default(),
            )
            .await;
        }
        // a draft study is left out
        let draft = study(&app, app.org, &t2, "草稿", "2025-07-01", "2025-09-30").await;
        exec(
            &app,
            format!("UPDATE studies SET status = 'draft' WHERE id = {draft}"),
        )
        .await;
        // return visits of this month: ratings 5, 4, 2, satisfied 2 of 3; a planned one
        let month = {
            let mut h = app.st.db.acquire().await.unwrap();
            let cal = server::complaints::sla::calendar(&mut h.c(), app.org)
                .await
                .unwrap();
            cal.local_date(server::now())[..7].to_string()
        };
        for (status, rating, satisfied) in [
            ("done", "5", "TRUE"),
            ("done", "4", "TRUE"),
            ("done", "2", "FALSE"),
            ("planned", "NULL", "NULL"),
        ] {
            exec(
                &app,
                format!(
                    "INSERT INTO return_visits (org_id, source, status, due_date, rating, satisfied, month,
                        created_at, updated_at, version)
                     VALUES ({}, 'manual', '{status}', '{month}-01', {rating}, {satisfied}, '{month}', 0, 0, 1)",
                    app.org
                ),
            )
            .await;
        }
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (st, o) = api.get("/api/v1/satisfaction/trends").await;
        assert_eq!(st, 200, "{o}");
        let trends = o["trends"].as_array().unwrap();
        assert_eq!(trends.len(), 1);
        assert_eq!(trends[0]["code"], "CS");
        let pts = trends[0]["points"].as_array().unwrap();
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[0]["study"]["id"], f.study);
        ci(
            &pts[0]["csi"],
            10,
            69.63888888888889,
            56.522296767118505,
            82.75548101065927,
        );
        assert_eq!(pts[1]["study"]["id"], s2);
        assert_eq!(pts[1]["study"]["version_no"], 2);
        ci(&pts[1]["csi"], 3, 100.0, 100.0, 100.0);
        // Wilson 3 of 3: proportion_confint(3, 3, alpha=ALPHA, method='wilson') → [43.84939195509825, 100]
        ci(&pts[1]["csat"], 3, 100.0, 43.84939195509825, 100.0);
        // "visits: rating mean=3.6666666666666665 low=1.9381091434378008 high=5;
        //  satisfied=66.66666666666666 low=20.76549551264881 high=93.85096847238394"
        let v = o["visits"].as_array().unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["month"], month.as_str());
        assert_eq!(v[0]["done"], 3);
        ci(
            &v[0]["rating"],
            3,
            3.6666666666666665,
            1.9381091434378008,
            5.0,
        );
        ci(
            &v[0]["satisfied"],
            3,
            66.66666666666666,
            20.76549551264881,
            93.85096847238394,
        );
        let (st, html) = web.page("/satisfaction").await;
        assert_eq!(st, 200);
        assert!(html.contains("id=\"trend-0\"") && html.contains("2025 年二季度"));
        assert!(html.contains(&format!("/studies/{}/report", s2)));
        assert!(!html.contains("草稿"));

        // an auditor reads everything
        app.user(app.org, "auditor1", Role::Auditor).await;
        let aud = app.login("auditor1").await;
        assert_eq!(
            aud.page(&format!("/studies/{}/report", f.study)).await.0,
            200
        );
        assert_eq!(
            aud.get(&format!("/studies/{}/report.xlsx", f.study))
                .await
                .status(),
            200
        );
        assert_eq!(aud.page("/satisfaction").await.0, 200);

        // another organization sees none of it
        let other = app.other_org("beta", "beta_admin").await;
        let beta_id = {
            let mut h = app.st.db.acquire().await.unwrap();
            let (id,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as("SELECT id FROM users WHERE login = 'beta_admin'").fetch_one(x).await).unwrap();
            id
        };
        let beta = app.api(&app.token(beta_id, other).await);
        for path in [
            format!("/api/v1/studies/{}/stats", f.study),
            format!("/api/v1/studies/{}/stats/texts", f.study),
        ] {
            assert_eq!(beta.get(&path).await.0, 404, "{path}");
        }
        let (_, o) = beta.get("/api/v1/satisfaction/trends").await;
        assert_eq!(o["trends"].as_array().unwrap().len(), 0);
        assert_eq!(o["visits"].as_array().unwrap().len(), 0);
        let bweb = app.login("beta_admin").await;
        assert_eq!(
            bweb.page(&format!("/studies/{}/report", f.study)).await.0,
            404
        );
        assert_eq!(
            bweb.get(&format!("/studies/{}/report.xlsx", f.study))
                .await
                .status(),
            404
        );
        // and the English report is in English
        let (_, html) = web.page("/lang/en?next=/satisfaction").await;
        let _ = html;
        let (_, html) = web.page(&format!("/studies/{}/report", f.study)).await;
        assert!(html.contains("Fix first") && html.contains("Importance-performance matrix"));
    }
}

/// 2,000,000 numeric answers (250,000 responses × 8 items, and a free text on every 20th
/// response) in one study, inserted in bulk (multi-row INSERTs, several per transaction);
/// prints the time of the stats uncached and cached. Run with
/// `cargo test --release -p server --test it -- --ignored sat_stats::bench --nocapture`.
#[tokio::test]
#[ignore]
async fn bench() {
    for b in backends() {
        let app = spawn_app(b).await;
        let org = app.org;
        let t = template(&app, org, "BIG", 1).await;
        let s = study(&app, org, &t, "大样本", "2025-01-01", "2025-12-31").await;
        let product = id(
            &app,
            format!(
                "INSERT INTO products (org_id, part_no, model, name, warranty_months, contract_levels, active,
                    created_at, updated_at, version)
                 VALUES ({org}, 'BP', 'M', '产品', 12, '[]', TRUE, 0, 0, 1)"
            ),
        )
        .await;
        let cust = customer(&app, org, "大客户").await;
        const RESPONSES: i64 = 250_000;
        const CHUNK: i64 = 1_000;
        const CHUNKS_PER_TX: i64 = 25;
        // A cheap deterministic pseudo-random answer per (response, item).
        let val = |r: i64, k: i64, lo: i64, hi: i64| {
            let x = (r.wrapping_mul(2_654_435_761) ^ k.wrapping_mul(40_503)).rem_euclid(1_000_003);
            lo + x % (hi - lo + 1)
        };
        let items: [(i64, i64, i64); 8] = [
            (t.a[0], 1, 5),
            (t.a[1], 1, 5),
            (t.a[2], 1, 5),
            (t.b[0], 1, 5),
            (t.b[1], 1, 5),
            (t.csat, 1, 5),
            (t.nps, 0, 10),
            (t.ces, 1, 7),
        ];
        let regions = ["华东", "华南", "华北", "西南"];
        let started = std::time::Instant::now();
        let mut next = 0i64;
        while next < RESPONSES {
            let mut tx = app.st.db.begin().await.unwrap();
            for _ in 0..CHUNKS_PER_TX {
                if next >= RESPONSES {
                    break;
                }
                let end = (next + CHUNK).min(RESPONSES);
                let rows: Vec<String> = (next..end)
                    .map(|r| {
                        format!(
                            "({org}, {s}, {}, {cust}, 'link', {}, {}, {product}, '{}')",
                            t.id,
                            1_700_000_000 + r,
                            val(r, 99, 0, 100),
                            regions[(r % 4) as usize]
                        )
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO survey_responses (org_id, study_id, template_id, customer_id, channel,
                        submitted_at, score, product_id, region) VALUES {} RETURNING id",
                    rows.join(", ")
                );
                let ids: Vec<(i64,)> = store::on!(&mut tx.c(), x => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(x).await).unwrap();
                let mut ans = Vec::with_capacity(ids.len() * 9);
                for (k, (rid,)) in ids.iter().enumerate() {
                    let r = next + k as i64;
                    for (item, lo, hi) in &items {
                        ans.push(format!(
                            "({rid}, {item}, {s}, {}, NULL)",
                            val(r, *item, *lo, *hi)
                        ));
                    }
                    if r % 20 == 0 {
                        ans.push(format!("({rid}, {}, {s}, NULL, '意见{r}')", t.text));
                    }
                }
                let sql = format!(
                    "INSERT INTO survey_answers (response_id, item_id, study_id, value, text) VALUES {}",
                    ans.join(", ")
                );
                store::run!(&mut tx.c(), x => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(x).await).unwrap();
                next = end;
            }
            tx.commit().await.unwrap();
        }
        exec(
            &app,
            format!(
                "UPDATE studies SET responses = {RESPONSES}, invited = {RESPONSES} WHERE id = {s}"
            ),
        )
        .await;
        exec(&app, "ANALYZE".to_string()).await;
        println!(
            "[{b:?}] inserted {} answers in {:.1} s",
            RESPONSES * 8 + RESPONSES / 20,
            started.elapsed().as_secs_f64()
        );
        let api = app.api(&app.token(app.admin_id, org).await);
        let web = app.login("admin").await;
        let path = format!("/api/v1/studies/{s}/stats");
        let t0 = std::time::Instant::now();
        let (st, body) = api.get(&path).await;
        let uncached = t0.elapsed();
        assert_eq!(st, 200);
        assert_eq!(body["cached"], false);
        assert_eq!(body["csat"]["n"], RESPONSES);
        let mut cached = Vec::new();
        for _ in 0..5 {
            let t0 = std::time::Instant::now();
            let (st, body) = api.get(&path).await;
            cached.push(t0.elapsed());
            assert_eq!(st, 200);
            assert_eq!(body["cached"], true);
        }
        let mut report = Vec::new();
        for _ in 0..5 {
            let t0 = std::time::Instant::now();
            let (st, _) = web.page(&format!("/studies/{s}/report")).await;
            report.push(t0.elapsed());
            assert_eq!(st, 200);
        }
        let t0 = std::time::Instant::now();
        let (st, _) = api
            .get(&format!("/api/v1/studies/{s}/stats/texts?page=100"))
            .await;
        let texts = t0.elapsed();
        assert_eq!(st, 200);
        let ms = |d: &std::time::Duration| d.as_secs_f64() * 1000.0;
        let best = |v: &[std::time::Duration]| v.iter().map(ms).fold(f64::MAX, f64::min);
        let worst = |v: &[std::time::Duration]| v.iter().map(ms).fold(0.0, f64::max);
        println!(
            "[{b:?}] stats API uncached {:.0} ms; cached {:.1}-{:.1} ms; report page cached {:.1}-{:.1} ms; texts page 100 {:.1} ms",
            ms(&uncached),
            best(&cached),
            worst(&cached),
            best(&report),
            worst(&report),
            ms(&texts)
        );
        // the phases of an uncached computation, measured on their own
        let h = {
            let mut c = app.st.db.acquire().await.unwrap();
            store::satisfaction::stats::study(&mut c.c(), org, s)
                .await
                .unwrap()
                .unwrap()
        };
        let t0 = std::time::Instant::now();
        let mut c = app.st.db.acquire().await.unwrap();
        store::satisfaction::stats::item_sums(&mut c.c(), s)
            .await
            .unwrap();
        let t_items = t0.elapsed();
        let t0 = std::time::Instant::now();
        let scale: Vec<(i64, i64)> = vec![
            (t.a[0], t.dim_a),
            (t.a[1], t.dim_a),
            (t.a[2], t.dim_a),
            (t.b[0], t.dim_b),
            (t.b[1], t.dim_b),
        ];
        store::satisfaction::stats::cronbach_sums(&mut c.c(), s, h.template_id, &scale)
            .await
            .unwrap();
        let t_alpha = t0.elapsed();
        let t0 = std::time::Instant::now();
        store::satisfaction::stats::breakdown(
            &mut c.c(),
            s,
            store::satisfaction::stats::By::Region,
            Some((t.csat, 4.0)),
            Some(t.nps),
            100,
        )
        .await
        .unwrap();
        let t_by = t0.elapsed();
        println!(
            "[{b:?}] phases: item sums {:.0} ms; cronbach pivot {:.0} ms; one breakdown {:.0} ms",
            ms(&t_items),
            ms(&t_alpha),
            ms(&t_by)
        );
    }
}
