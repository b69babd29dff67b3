//! Tests: complaint figures and the printed forms. Figures over a small hand-made set of
//! complaint rows (known classes, months, resolution times, SLA flags): exact counts,
//! percentages, nearest-rank percentiles, Pareto order and running share, units shipped;
//! receipt-day boundaries, the part-number and department filters, both query plans giving
//! the same groups, staff refused, another organization's rows never counted. The printed
//! registration and handling forms show the complaint's values; another organization's
//! complaint is 404. The roll-ups (migration 0006) equal the raw aggregates after writes
//! through every path that changes a counted column (services, SLA job, raw SQL, the volume
//! generator), over intervals with whole and partial months; units shipped likewise.

use domain::auth::Role;
use serde_json::{Value, json};
use server::complaints::figures::local_day;
use store::complaints::figures::{self as repo, FigureFilter, Month, Plan, ShipFilter};

use crate::complaints::{ok, register, setup};
use crate::helpers::*;

async fn sql(app: &TestApp, q: String) {
    let mut tx = app.st.db.begin().await.unwrap();
    store::run!(&mut tx.c(), x => sqlx::query(sqlx::AssertSqlSafe(q.clone())).execute(x).await)
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    tx.commit().await.unwrap();
}

async fn insert_id(app: &TestApp, q: String) -> i64 {
    let mut tx = app.st.db.begin().await.unwrap();
    let (id,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(sqlx::AssertSqlSafe(format!("{q} RETURNING id"))).fetch_one(x).await)
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    tx.commit().await.unwrap();
    id
}

/// The local instant of `date` + `hms` on the organization's calendar.
async fn at(app: &TestApp, org: i64, date: &str, secs: i64) -> i64 {
    let mut h = app.st.db.acquire().await.unwrap();
    let cal = server::complaints::sla::calendar(&mut h.c(), org)
        .await
        .unwrap();
    cal.local_instant(date, 0).unwrap() + secs
}

/// One hand-made complaint row.
struct Row<'a> {
    number: &'a str,
    date: &'a str,
    secs: i64,
    class: &'a str,
    fault: Option<&'a str>,
    part: Option<&'a str>,
    dept: Option<i64>,
    resolution_h: Option<i64>,
    reopen: i64,
    repeat: i64,
    met: [Option<bool>; 4],
}

fn lit(v: Option<&str>) -> String {
    v.map_or("NULL".into(), |s| format!("'{s}'"))
}

fn b(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "TRUE",
        Some(false) => "FALSE",
        None => "NULL",
    }
}

async fn complaint(app: &TestApp, org: i64, r: &Row<'_>) -> i64 {
    let t = at(app, org, r.date, r.secs).await;
    let closed = r
        .resolution_h
        .map_or("NULL".into(), |_| (t + 86_400).to_string());
    insert_id(
        app,
        format!(
            "INSERT INTO complaints (org_id, number, channel, status, class, severity, fault_category,
                received_at, acknowledged_at, customer_name, part_no, responsible_department_id,
                description, approval_round, repeat_count, capa_required, reopen_count, closed_at,
                ack_met, response_met, remedy_met, close_met, resolution_secs, month,
                created_at, updated_at, version)
             VALUES ({org}, '{}', 'phone', '{}', '{}', 'minor', {}, {t}, {t}, '客户', {}, {}, '描述', 0,
                {}, FALSE, {}, {closed}, {}, {}, {}, {}, {}, '{}', {t}, {t}, 1)",
            r.number,
            if r.resolution_h.is_some() { "closed" } else { "analysing" },
            r.class,
            lit(r.fault),
            lit(r.part),
            r.dept.map_or("NULL".into(), |d| d.to_string()),
            r.repeat,
            r.reopen,
            b(r.met[0]),
            b(r.met[1]),
            b(r.met[2]),
            b(r.met[3]),
            r.resolution_h
                .map_or("NULL".into(), |h| (h * 3600).to_string()),
            &r.date[0..7],
        ),
    )
    .await
}

async fn department(app: &TestApp, org: i64, name: &str) -> i64 {
    insert_id(
        app,
        format!(
            "INSERT INTO departments (org_id, code, name, active, created_at, updated_at, version)
             VALUES ({org}, '{name}', '{name}', TRUE, 0, 0, 1)"
        ),
    )
    .await
}

/// A product, and an order shipped on `ship` with one line of `qty` units of it.
async fn shipped(
    app: &TestApp,
    org: i64,
    customer: i64,
    product: i64,
    no: &str,
    ship: Option<&str>,
    qty: i64,
) {
    let o = insert_id(
        app,
        format!(
            "INSERT INTO orders (org_id, order_no, customer_id, ship_date, created_at, updated_at, version)
             VALUES ({org}, '{no}', {customer}, {}, 0, 0, 1)",
            lit(ship)
        ),
    )
    .await;
    sql(
        app,
        format!(
            "INSERT INTO order_lines (org_id, order_id, product_id, quantity, unit_price_fen)
             VALUES ({org}, {o}, {product}, {qty}, 100)"
        ),
    )
    .await;
}

async fn product(app: &TestApp, org: i64, part: &str) -> i64 {
    insert_id(
        app,
        format!(
            "INSERT INTO products (org_id, part_no, model, name, warranty_months, contract_levels, active,
                created_at, updated_at, version)
             VALUES ({org}, '{part}', 'M', 'N', 12, '[]', TRUE, 0, 0, 1)"
        ),
    )
    .await
}

async fn customer(app: &TestApp, org: i64) -> i64 {
    insert_id(
        app,
        format!(
            "INSERT INTO customers (org_id, name, kind, tags, consent_contact, consent_survey, active,
                created_at, updated_at, version)
             VALUES ({org}, '客户{org}', 'company', '[]', TRUE, TRUE, TRUE, 0, 0, 1)"
        ),
    )
    .await
}

/// The set: ten complaints of acme in 2025-01..03 (C1 at the first second, C10 in the last
/// minute), two just outside, and three of another organization inside the interval.
async fn seed(app: &TestApp, other: i64) -> (i64, i64) {
    let d1 = department(app, app.org, "质量部").await;
    let d2 = department(app, app.org, "生产部").await;
    let (t, f) = (Some(true), Some(false));
    let m = "电机异响";
    let k = "控制柜报警";
    let rows = [
        Row {
            number: "C1",
            date: "2025-01-01",
            secs: 0,
            class: "quality",
            fault: Some(m),
            part: Some("P-100"),
            dept: Some(d1),
            resolution_h: Some(1),
            reopen: 0,
            repeat: 0,
            met: [t, t, t, t],
        },
        Row {
            number: "C2",
            date: "2025-01-10",
            secs: 3600,
            class: "quality",
            fault: Some(m),
            part: Some("P-100"),
            dept: Some(d1),
            resolution_h: Some(2),
            reopen: 1,
            repeat: 1,
            met: [t, f, t, f],
        },
        Row {
            number: "C3",
            date: "2025-01-20",
            secs: 3600,
            class: "quality",
            fault: Some(m),
            part: Some("P-200"),
            dept: Some(d2),
            resolution_h: Some(3),
            reopen: 0,
            repeat: 0,
            met: [t, t, f, t],
        },
        Row {
            number: "C4",
            date: "2025-02-03",
            secs: 3600,
            class: "quality",
            fault: Some(k),
            part: Some("P-200"),
            dept: Some(d2),
            resolution_h: Some(4),
            reopen: 0,
            repeat: 0,
            met: [f, t, None, None],
        },
        Row {
            number: "C5",
            date: "2025-02-14",
            secs: 3600,
            class: "human",
            fault: Some(k),
            part: Some("P-100"),
            dept: Some(d1),
            resolution_h: Some(5),
            reopen: 0,
            repeat: 1,
            met: [t, None, None, None],
        },
        Row {
            number: "C6",
            date: "2025-02-28",
            secs: 3600,
            class: "human",
            fault: Some("操作不当"),
            part: None,
            dept: None,
            resolution_h: None,
            reopen: 0,
            repeat: 0,
            met: [t, None, None, None],
        },
        Row {
            number: "C7",
            date: "2025-03-02",
            secs: 3600,
            class: "other",
            fault: None,
            part: Some("P-300"),
            dept: Some(d2),
            resolution_h: None,
            reopen: 0,
            repeat: 0,
            met: [f, None, None, None],
        },
        Row {
            number: "C8",
            date: "2025-03-05",
            secs: 3600,
            class: "quality",
            fault: Some(m),
            part: Some("P-100"),
            dept: Some(d1),
            resolution_h: Some(10),
            reopen: 0,
            repeat: 0,
            met: [t, None, None, None],
        },
        Row {
            number: "C9",
            date: "2025-03-15",
            secs: 3600,
            class: "quality",
            fault: Some(m),
            part: Some("P-300"),
            dept: Some(d1),
            resolution_h: None,
            reopen: 0,
            repeat: 0,
            met: [None, None, None, None],
        },
        Row {
            number: "C10",
            date: "2025-03-31",
            secs: 86_340,
            class: "quality",
            fault: Some(k),
            part: Some("P-100"),
            dept: Some(d2),
            resolution_h: Some(20),
            reopen: 2,
            repeat: 0,
            met: [t, None, None, t],
        },
        // just outside the interval
        Row {
            number: "C11",
            date: "2024-12-31",
            secs: 86_399,
            class: "quality",
            fault: Some(m),
            part: Some("P-100"),
            dept: Some(d1),
            resolution_h: Some(1),
            reopen: 0,
            repeat: 0,
            met: [t, t, t, t],
        },
        Row {
            number: "C12",
            date: "2025-04-01",
            secs: 0,
            class: "human",
            fault: Some(m),
            part: Some("P-100"),
            dept: Some(d1),
            resolution_h: Some(1),
            reopen: 0,
            repeat: 0,
            met: [t, t, t, t],
        },
    ];
    for r in &rows {
        complaint(app, app.org, r).await;
    }
    for (i, class) in ["quality", "quality", "human"].into_iter().enumerate() {
        let number = format!("X{i}");
        complaint(
            app,
            other,
            &Row {
                number: &number,
                date: "2025-02-10",
                secs: 0,
                class,
                fault: Some(m),
                part: Some("P-100"),
                dept: None,
                resolution_h: Some(100),
                reopen: 1,
                repeat: 1,
                met: [f, f, f, f],
            },
        )
        .await;
    }
    // units: 600 of P-100 and 400 of P-200 shipped inside the interval; the rest outside,
    // without a date, or of the other organization
    let cu = customer(app, app.org).await;
    let p100 = product(app, app.org, "P-100").await;
    let p200 = product(app, app.org, "P-200").await;
    shipped(app, app.org, cu, p100, "O1", Some("2025-01-15"), 600).await;
    shipped(app, app.org, cu, p200, "O2", Some("2025-03-31"), 400).await;
    shipped(app, app.org, cu, p100, "O3", Some("2025-04-01"), 1000).await;
    shipped(app, app.org, cu, p100, "O4", Some("2024-12-31"), 1000).await;
    shipped(app, app.org, cu, p100, "O5", None, 1000).await;
    let ocu = customer(app, other).await;
    let op = product(app, other, "P-100").await;
    shipped(app, other, ocu, op, "O1", Some("2025-02-01"), 5000).await;
    (d1, d2)
}

fn keys(v: &Value, key: &str) -> Vec<(Value, i64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| (x[key].clone(), x["n"].as_i64().unwrap()))
        .collect()
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

const Q: &str = "/api/v1/complaints/figures?from=2025-01-01&to=2025-03-31";

#[tokio::test]
async fn figures_of_a_known_set() {
    for be in backends() {
        let app = spawn_app(be).await;
        let other = app.other_org("beta", "beta_admin").await;
        let (d1, d2) = seed(&app, other).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);

        // the same answers with the migration's indexes (SQLite seeks and walks them) and
        // without them (grouping and sorting, as PostgreSQL always does)
        let urls = [
            Q.to_string(),
            format!("{Q}&by=class"),
            format!("{Q}&by=product"),
            format!("{Q}&by=department"),
            format!("{Q}&part_no=P-100"),
            format!("{Q}&department_id={d2}"),
        ];
        let how = {
            let mut h = app.st.db.acquire().await.unwrap();
            repo::strategy(&mut h.c()).await.unwrap()
        };
        let sqlite = app.backend == Backend::Sqlite;
        assert_eq!(
            how,
            repo::Strategy {
                seek: sqlite,
                walk: sqlite
            }
        );
        let mut before = Vec::new();
        for u in &urls {
            before.push(api.get(u).await.1);
        }
        for q in [
            "DROP INDEX complaints_org_fault",
            "DROP INDEX complaints_org_dept_received",
            "DROP INDEX complaints_org_resolution_received",
        ] {
            sql(&app, q.to_string()).await;
        }
        let how = {
            let mut h = app.st.db.acquire().await.unwrap();
            repo::strategy(&mut h.c()).await.unwrap()
        };
        assert_eq!(how, repo::Strategy::default());
        for (u, b) in urls.iter().zip(&before) {
            assert_eq!(&api.get(u).await.1, b, "{u}");
        }

        let (st, f) = api.get(Q).await;
        assert_eq!(st, 200, "{f}");
        assert_eq!(f["from"], "2025-01-01");
        assert_eq!(f["to"], "2025-03-31");
        assert_eq!(
            f["total"], 10,
            "C1..C10 only: the boundaries hold, beta is not counted"
        );
        assert_eq!(
            keys(&f["by_class"], "key"),
            [(s("quality"), 7), (s("human"), 2), (s("other"), 1)]
        );
        assert_eq!(f["by_class"][0]["percent"], 70.0);
        // cause: fault category with its classes, most frequent first, "none" last
        let causes: Vec<(Value, i64, i64, i64, i64)> = f["by_cause"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["fault_category"].clone(),
                    c["quality"].as_i64().unwrap(),
                    c["human"].as_i64().unwrap(),
                    c["other"].as_i64().unwrap(),
                    c["total"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            causes,
            [
                (s("电机异响"), 5, 0, 0, 5),
                (s("控制柜报警"), 2, 1, 0, 3),
                (s("操作不当"), 0, 1, 0, 1),
                (Value::Null, 0, 0, 1, 1),
            ]
        );
        assert_eq!(
            keys(&f["by_product"], "part_no"),
            [
                (s("P-100"), 5),
                (s("P-200"), 2),
                (s("P-300"), 2),
                (Value::Null, 1)
            ]
        );
        assert_eq!(f["products_rest"], 0);
        let p = &f["by_product"];
        assert_eq!(p[0]["units_shipped"], 600);
        assert_eq!(p[0]["per_thousand_units"], 8.33);
        assert_eq!(p[1]["units_shipped"], 400);
        assert_eq!(p[1]["per_thousand_units"], 5.0);
        assert_eq!(p[2]["units_shipped"], 0);
        assert_eq!(p[2]["per_thousand_units"], Value::Null);
        assert_eq!(p[3]["units_shipped"], Value::Null);
        let deps: Vec<(Value, Value, i64)> = f["by_department"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["department_id"].clone(),
                    d["name"].clone(),
                    d["n"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            deps,
            [
                (d1.into(), s("质量部"), 5),
                (d2.into(), s("生产部"), 4),
                (Value::Null, Value::Null, 1)
            ]
        );
        assert_eq!(
            keys(&f["by_month"], "key"),
            [(s("2025-01"), 3), (s("2025-02"), 3), (s("2025-03"), 4)]
        );
        // closed resolution times 1 2 3 4 5 10 20 h: positions ⌊6·0.5⌋ = 3 and ⌊6·0.9⌋ = 5
        assert_eq!(f["resolution"]["closed"], 7);
        assert_eq!(f["resolution"]["median_hours"], 4.0);
        assert_eq!(f["resolution"]["p90_hours"], 10.0);
        let sla: Vec<(String, i64, i64, Value)> = f["sla"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["target"].as_str().unwrap().to_string(),
                    x["met"].as_i64().unwrap(),
                    x["reached"].as_i64().unwrap(),
                    x["percent"].clone(),
                )
            })
            .collect();
        assert_eq!(
            sla,
            [
                ("ack".to_string(), 7, 9, 77.8.into()),
                ("response".to_string(), 3, 4, 75.0.into()),
                ("remedy".to_string(), 2, 3, 66.7.into()),
                ("close".to_string(), 3, 4, 75.0.into()),
            ]
        );
        assert_eq!(f["reopen"]["count"], 2);
        assert_eq!(f["reopen"]["of"], 7);
        assert_eq!(f["reopen"]["percent"], 28.6);
        assert_eq!(f["recurrence"]["count"], 2);
        assert_eq!(f["recurrence"]["of"], 10);
        assert_eq!(f["recurrence"]["percent"], 20.0);
        assert_eq!(f["units_shipped"], 1000);
        assert_eq!(f["per_thousand_units"], 10.0);
        // Pareto by cause (default): 5, 3, then the ties with "none" last
        let bars = |f: &Value| -> Vec<(Value, i64, f64, f64)> {
            f["pareto"]["bars"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    (
                        b["key"].clone(),
                        b["n"].as_i64().unwrap(),
                        b["percent"].as_f64().unwrap(),
                        b["cumulative_percent"].as_f64().unwrap(),
                    )
                })
                .collect()
        };
        assert_eq!(f["pareto"]["dimension"], "cause");
        assert_eq!(
            bars(&f),
            [
                (s("电机异响"), 5, 50.0, 50.0),
                (s("控制柜报警"), 3, 30.0, 80.0),
                (s("操作不当"), 1, 10.0, 90.0),
                (Value::Null, 1, 10.0, 100.0),
            ]
        );
        let (_, f) = api.get(&format!("{Q}&by=class")).await;
        assert_eq!(
            bars(&f),
            [
                (s("quality"), 7, 70.0, 70.0),
                (s("human"), 2, 20.0, 90.0),
                (s("other"), 1, 10.0, 100.0),
            ]
        );
        let (_, f) = api.get(&format!("{Q}&by=department")).await;
        assert_eq!(
            bars(&f),
            [
                (s("质量部"), 5, 50.0, 50.0),
                (s("生产部"), 4, 40.0, 90.0),
                (Value::Null, 1, 10.0, 100.0),
            ]
        );
        assert_eq!(f["pareto"]["bars"][0]["id"], d1);
        let (_, f) = api.get(&format!("{Q}&by=product")).await;
        assert_eq!(
            bars(&f).iter().map(|b| b.3).collect::<Vec<_>>(),
            [50.0, 70.0, 90.0, 100.0]
        );

        // filters: a part number (units of it only), a department, a shorter interval
        let (st, f) = api.get(&format!("{Q}&part_no=P-100")).await;
        assert_eq!(st, 200, "{f}");
        assert_eq!(f["total"], 5);
        assert_eq!(keys(&f["by_product"], "part_no"), [(s("P-100"), 5)]);
        assert_eq!(f["units_shipped"], 600);
        assert_eq!(f["per_thousand_units"], 8.33);
        // 1 2 5 10 20 h: positions 2 and 3
        assert_eq!(f["resolution"]["median_hours"], 5.0);
        assert_eq!(f["resolution"]["p90_hours"], 10.0);
        let (_, f) = api.get(&format!("{Q}&department_id={d2}")).await;
        assert_eq!(f["total"], 4);
        assert_eq!(
            keys(&f["by_class"], "key"),
            [(s("quality"), 3), (s("human"), 0), (s("other"), 1)]
        );
        assert_eq!(keys(&f["by_department"], "name"), [(s("生产部"), 4)]);
        // 3 4 20 h: positions 1 and 1
        assert_eq!(f["resolution"]["median_hours"], 4.0);
        assert_eq!(f["resolution"]["p90_hours"], 4.0);
        assert_eq!(
            f["by_cause"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["fault_category"].clone(), c["total"].as_i64().unwrap()))
                .collect::<Vec<_>>(),
            [(s("控制柜报警"), 2), (s("电机异响"), 1), (Value::Null, 1)]
        );
        let (_, f) = api
            .get("/api/v1/complaints/figures?from=2025-02-01&to=2025-02-28")
            .await;
        assert_eq!(f["total"], 3);
        assert_eq!(keys(&f["by_month"], "key"), [(s("2025-02"), 3)]);
        assert_eq!(f["units_shipped"], 0);
        assert_eq!(f["per_thousand_units"], Value::Null);
        // an empty interval
        let (_, f) = api
            .get("/api/v1/complaints/figures?from=2020-01-01&to=2020-01-31")
            .await;
        assert_eq!(f["total"], 0);
        assert_eq!(f["resolution"]["median_hours"], Value::Null);
        assert_eq!(f["pareto"]["bars"], serde_json::json!([]));
        assert_eq!(f["sla"][0]["percent"], Value::Null);

        // the other organization sees only its own three
        let uid = app.user(other, "beta_mgr", Role::Manager).await;
        let beta = app.api(&app.token(uid, other).await);
        let (st, f) = beta.get(Q).await;
        assert_eq!(st, 200, "{f}");
        assert_eq!(f["total"], 3);
        assert_eq!(f["units_shipped"], 5000);
        assert_eq!(f["by_department"][0]["n"], 3);

        // both query plans give the same groups
        let full = FigureFilter {
            org: app.org,
            from: Some(at(&app, app.org, "2025-01-01", 0).await),
            to: Some(at(&app, app.org, "2025-04-01", 0).await),
            ..Default::default()
        };
        let narrowed = FigureFilter {
            department_id: Some(d1),
            ..full.clone()
        };
        // beta's three are closed after 100 h each: ties
        let ties = FigureFilter {
            org: other,
            ..full.clone()
        };
        let mut h = app.st.db.acquire().await.unwrap();
        for f in [&full, &narrowed, &ties] {
            let mut a = repo::by_cause(&mut h.c(), f, Plan::Group).await.unwrap();
            let mut b = repo::by_cause(&mut h.c(), f, Plan::Seek).await.unwrap();
            a.sort();
            b.sort();
            assert_eq!(a, b);
            assert_eq!(
                repo::by_part(&mut h.c(), f, Plan::Group, 2).await.unwrap(),
                repo::by_part(&mut h.c(), f, Plan::Seek, 2).await.unwrap()
            );
            assert_eq!(
                repo::by_department(&mut h.c(), f, Plan::Group, 10)
                    .await
                    .unwrap(),
                repo::by_department(&mut h.c(), f, Plan::Seek, 10)
                    .await
                    .unwrap()
            );
            // every position, read from either end, walking or sorting, agrees with the
            // ascending order
            let n = repo::totals(&mut h.c(), f, Plan::Group)
                .await
                .unwrap()
                .closed;
            let mut sorted = Vec::new();
            for k in 0..n {
                let a = repo::resolution_at(&mut h.c(), f, k, n, false)
                    .await
                    .unwrap();
                let b = repo::resolution_at(&mut h.c(), f, k, n, true)
                    .await
                    .unwrap();
                let asc = repo::resolution_at(&mut h.c(), f, k, i64::MAX, false)
                    .await
                    .unwrap();
                assert_eq!(a, b);
                assert_eq!(a, asc, "position {k} from the top and the bottom");
                sorted.push(a.unwrap());
            }
            assert!(sorted.windows(2).all(|w| w[0] <= w[1]), "{sorted:?}");
        }
        assert_eq!(
            repo::by_part(&mut h.c(), &full, Plan::Seek, 2)
                .await
                .unwrap(),
            [
                (Some("P-100".to_string()), 5),
                (Some("P-200".to_string()), 2)
            ]
        );
        assert_eq!(
            repo::resolution_at(&mut h.c(), &full, 7, 7, true)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            repo::resolution_at(&mut h.c(), &full, 6, 7, true)
                .await
                .unwrap(),
            Some(20 * 3600)
        );
    }
}

#[tokio::test]
async fn figures_need_a_role_that_sees_every_complaint() {
    for be in backends() {
        let app = spawn_app(be).await;
        let staff = app.user(app.org, "zhang.san", Role::Staff).await;
        let api = app.api(&app.token(staff, app.org).await);
        let (st, body) = api.get(Q).await;
        assert_eq!(st, 403, "{body}");
        assert_eq!(body["error"], "forbidden");
        let s = app.login("zhang.san").await;
        let (st, _) = s.page("/complaints/figures").await;
        assert_eq!(st, 403);
        // an auditor reads them
        let aud = app.user(app.org, "shen.ji", Role::Auditor).await;
        let (st, body) = app.api(&app.token(aud, app.org).await).get(Q).await;
        assert_eq!(st, 200, "{body}");
        // bad intervals
        let admin = app.api(&app.token(app.admin_id, app.org).await);
        let (st, body) = admin
            .get("/api/v1/complaints/figures?from=2025-02-30")
            .await;
        assert_eq!(st, 422, "{body}");
        assert!(body["fields"]["from"].is_string(), "{body}");
        let (st, body) = admin
            .get("/api/v1/complaints/figures?from=2025-03-01&to=2025-02-01")
            .await;
        assert_eq!(st, 422, "{body}");
        assert!(body["fields"]["to"].is_string(), "{body}");
        let (st, body) = admin
            .get("/api/v1/complaints/figures?from=1990-01-01&to=2025-02-01")
            .await;
        assert_eq!(st, 422, "{body}");
        // the default interval: twelve months up to today
        let (st, body) = admin.get("/api/v1/complaints/figures").await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["by_month"].as_array().unwrap().len(), 12);
        assert!(body["from"].as_str().unwrap().ends_with("-01"));
    }
}

#[tokio::test]
async fn figures_page_renders_the_charts() {
    for be in backends() {
        let app = spawn_app(be).await;
        let other = app.other_org("beta", "beta_admin").await;
        seed(&app, other).await;
        let s = app.login("admin").await;
        let (st, html) = s
            .page("/complaints/figures?from=2025-01-01&to=2025-03-31&part_no=&department_id=&by=class")
            .await;
        assert_eq!(st, 200, "{html}");
        assert!(html.contains(r#"id="fig-total">10<"#), "total shown");
        assert!(html.contains(r#"id="fig-median">4.0<"#));
        assert!(html.contains(r#"id="fig-p90">10.0<"#));
        assert!(html.contains(r#"id="fig-reopen">28.6%<"#));
        assert!(html.contains(r#"id="fig-per-thousand">10.00<"#));
        assert!(html.contains(r#"<svg class="chart" id="pareto-chart""#));
        assert!(html.contains(r#"<svg class="chart" id="month-chart""#));
        assert_eq!(
            html.matches(r#"<rect class="bar""#).count(),
            3 + 3,
            "3 classes + 3 months"
        );
        assert!(html.contains("质量异常"), "class labels translated");
        assert!(html.contains("class=\"cumulative\""));
        assert!(
            html.contains(r#"id="by-class" aria-current="page""#)
                || html.contains(r#"id="by-class""#)
        );
        assert_eq!(selected_value(&html, "by").as_deref(), Some("class"));
        // defaults filled in
        let (st, html) = s.page("/complaints/figures").await;
        assert_eq!(st, 200);
        assert!(input_value(&html, "from").is_some_and(|v| v.ends_with("-01")));
        // bad input: 422 with the message beside the field, no figures
        let (st, html) = s
            .page("/complaints/figures?from=2025-13-01&to=2025-03-31")
            .await;
        assert_eq!(st, 422);
        assert!(field_error(&html, "from").is_some(), "{html}");
        assert!(!html.contains("pareto-chart"));
        let (st, _) = s.page("/complaints/figures?department_id=x").await;
        assert_eq!(st, 422);
        // English
        let r = s.get("/lang/en?next=/").await;
        assert_eq!(r.status(), 303);
        let (_, html) = s
            .page("/complaints/figures?from=2025-01-01&to=2025-03-31")
            .await;
        assert!(
            html.contains("Pareto chart by cause (fault category)"),
            "{html}"
        );
    }
}

/// A complaint with every field of both forms filled, with a decided approval.
async fn full_complaint(app: &TestApp, org: i64, number: &str, user: i64) -> i64 {
    let dep = department(app, org, &format!("售后部{number}")).await;
    let t = at(app, org, "2025-05-06", 9 * 3600 + 30 * 60).await;
    let id = insert_id(
        app,
        format!(
            "INSERT INTO complaints (org_id, number, channel, status, class, severity, fault_category,
                received_at, acknowledged_at, customer_name, contact_name, contact_phone, address,
                order_no, part_no, serial, batch_no, ship_date, quantity, defective_quantity,
                days_in_service, description, demand, responsibility, responsible_department_id,
                investigation, cause, inspection_result, inspection_basis, remedy_type,
                remedy_amount_fen, remedy_detail, remedy_proposed_by, agreed_reply_date,
                implementation, visit_result, visit_note, approval_round, repeat_count,
                capa_required, reopen_count, month, recorded_by, created_at, updated_at, version)
             VALUES ({org}, '{number}', 'phone', 'closed', 'quality', 'serious', '电机异响',
                {t}, {t}, '华东精密机械有限公司', '王工', '021-5555 0101', '上海市浦东新区张江路 1 号',
                'SO-2025-0042', 'P-100', 'SN-778899', 'B2025-03', '2025-03-01', 20, 3,
                66, '设备运行中电机异响，停机检查发现轴承损坏。', '更换电机并赔偿停机损失', 'ours', {dep},
                '现场拆检三台，轴承滚道剥落。', '轴承供应批次热处理不良。', '硬度不合格', 'GB/T 307.2',
                'refund', 123456, '退还三台电机货款。', '生产部 李四', '2025-05-20',
                '已更换并回访确认。', 'satisfied', '客户认可处理结果', 1, 1,
                TRUE, 0, '2025-05', {user}, {t}, {t}, 1)"
        ),
    )
    .await;
    sql(
        app,
        format!(
            "INSERT INTO complaint_approvals (org_id, complaint_id, round, approver_role, decision,
                decided_by, decided_at, comment, created_at)
             VALUES ({org}, {id}, 1, 'manager', 'approved', {user}, {t}, '同意退款', {t})"
        ),
    )
    .await;
    id
}

#[tokio::test]
async fn printed_forms_show_the_complaint() {
    for be in backends() {
        let app = spawn_app(be).await;
        let id = full_complaint(&app, app.org, "TS-2025-000042", app.admin_id).await;
        let other = app.other_org("beta", "beta_admin").await;
        let beta_admin = app.login("beta_admin").await;
        let other_id = full_complaint(&app, other, "TS-2025-000001", app.admin_id).await;
        let s = app.login("admin").await;

        let (st, html) = s
            .page(&format!("/complaints/{id}/print/registration"))
            .await;
        assert_eq!(st, 200, "{html}");
        for v in [
            "客户投诉登记表",
            "Acme 设备",
            "TS-2025-000042",
            "华东精密机械有限公司",
            "王工",
            "021-5555 0101",
            "上海市浦东新区张江路 1 号",
            "SO-2025-0042",
            "P-100",
            "2025-03-01",
            "设备运行中电机异响，停机检查发现轴承损坏。",
            "更换电机并赔偿停机损失",
            "2025-05-06 09:30",
            "☑ 电话",
            "☐ 来访",
            r#"id="print-button""#,
            r#"href="/complaints/"#,
        ] {
            assert!(html.contains(v), "registration form lacks {v}");
        }
        assert!(html.contains(r#"id="f-quantity">20<"#));
        assert!(html.contains(r#"id="f-defective">3<"#));
        assert!(html.contains(r#"id="f-days">66<"#));
        assert!(html.contains(r#"id="f-repeats">1"#));
        assert!(
            !html.contains("轴承供应批次热处理不良"),
            "no analysis on the registration form"
        );

        let (st, html) = s.page(&format!("/complaints/{id}/print/handling")).await;
        assert_eq!(st, 200, "{html}");
        for v in [
            "客户投诉处理表",
            "TS-2025-000042",
            "华东精密机械有限公司",
            "质量异常",
            "严重",
            "现场拆检三台，轴承滚道剥落。",
            "轴承供应批次热处理不良。",
            "我方责任",
            "售后部TS-2025-000042",
            "退款",
            "1234.56",
            "生产部 李四",
            "2025-05-20",
            "同意",
            "同意退款",
            "已更换并回访确认。",
            "备件编码",
            "☑ 满意",
            "售后经理审核",
        ] {
            assert!(html.contains(v), "handling form lacks {v}");
        }
        assert_eq!(
            html.matches("print-blank-row").count(),
            3,
            "three blank spare-part rows"
        );

        // another organization's complaint does not exist here, and theirs not there
        for kind in ["registration", "handling"] {
            let (st, _) = s
                .page(&format!("/complaints/{other_id}/print/{kind}"))
                .await;
            assert_eq!(st, 404, "{kind}");
            let (st, _) = beta_admin
                .page(&format!("/complaints/{id}/print/{kind}"))
                .await;
            assert_eq!(st, 404, "{kind}");
        }
        let (st, html) = beta_admin
            .page(&format!("/complaints/{other_id}/print/handling"))
            .await;
        assert_eq!(st, 200, "{html}");
        // English labels
        let r = s.get("/lang/en?next=/").await;
        assert_eq!(r.status(), 303);
        let (_, html) = s.page(&format!("/complaints/{id}/print/handling")).await;
        assert!(html.contains("Complaint handling form"));
        assert!(html.contains("Spare parts used"));
    }
}

/// The calendar offset of `org` in seconds.
async fn offset(app: &TestApp, org: i64) -> i64 {
    let mut h = app.st.db.acquire().await.unwrap();
    let cal = server::complaints::sla::calendar(&mut h.c(), org)
        .await
        .unwrap();
    i64::from(cal.utc_offset_minutes) * 60
}

/// The local day of `now` for `org`.
pub(crate) async fn today(app: &TestApp, org: i64) -> i64 {
    let mut h = app.st.db.acquire().await.unwrap();
    let cal = server::complaints::sla::calendar(&mut h.c(), org)
        .await
        .unwrap();
    local_day(&cal, app.st.now())
}

/// Every figure of the days [from, to) read from the roll-ups equals the raw aggregate.
async fn rollup_equals_raw(app: &TestApp, org: i64, from: Option<i64>, to: Option<i64>) {
    let off = offset(app, org).await;
    let f = FigureFilter {
        org,
        from: from.map(|d| d * 86_400 - off),
        to: to.map(|d| d * 86_400 - off),
        from_day: from,
        to_day: to,
        ..Default::default()
    };
    assert_eq!(Plan::choose(&f, repo::Strategy::default()), Plan::Rollup);
    let at = format!("org {org}, days {from:?}..{to:?}");
    let mut h = app.st.db.acquire().await.unwrap();
    let raw = repo::totals(&mut h.c(), &f, Plan::Group).await.unwrap();
    let rolled = repo::totals(&mut h.c(), &f, Plan::Rollup).await.unwrap();
    assert_eq!(rolled, raw, "totals, {at}");
    let mut a = repo::by_cause(&mut h.c(), &f, Plan::Group).await.unwrap();
    let mut b = repo::by_cause(&mut h.c(), &f, Plan::Rollup).await.unwrap();
    a.sort();
    b.sort();
    assert_eq!(b, a, "by cause, {at}");
    assert_eq!(
        repo::by_part(&mut h.c(), &f, Plan::Rollup, 1000)
            .await
            .unwrap(),
        repo::by_part(&mut h.c(), &f, Plan::Group, 1000)
            .await
            .unwrap(),
        "by part, {at}"
    );
    // the limit cuts the same list
    assert_eq!(
        repo::by_part(&mut h.c(), &f, Plan::Rollup, 2)
            .await
            .unwrap(),
        repo::by_part(&mut h.c(), &f, Plan::Group, 2).await.unwrap(),
        "top parts, {at}"
    );
    assert_eq!(
        repo::by_department(&mut h.c(), &f, Plan::Rollup, 1000)
            .await
            .unwrap(),
        repo::by_department(&mut h.c(), &f, Plan::Group, 1000)
            .await
            .unwrap(),
        "by department, {at}"
    );
    if let (Some(a), Some(b)) = (from, to) {
        let mut months = Vec::new();
        let mut m = repo::month_start(a);
        while m < b {
            let (x, y) = (m.max(a), repo::next_month(m).min(b));
            months.push(Month {
                label: format!("{m:08}"),
                start: x * 86_400 - off,
                end: y * 86_400 - off,
                first_day: x,
                end_day: y,
            });
            m = repo::next_month(m);
        }
        assert_eq!(
            repo::by_month(&mut h.c(), &f, &months, Plan::Rollup)
                .await
                .unwrap(),
            repo::by_month(&mut h.c(), &f, &months, Plan::Group)
                .await
                .unwrap(),
            "by month, {at}"
        );
    }
    // a narrowed filter is not rolled up: asked for anyway, the rows answer
    let narrowed = FigureFilter {
        part_no: Some("P-1".into()),
        ..f.clone()
    };
    assert_eq!(
        Plan::choose(&narrowed, repo::Strategy::default()),
        Plan::Group
    );
    assert_eq!(
        repo::totals(&mut h.c(), &narrowed, Plan::Rollup)
            .await
            .unwrap(),
        repo::totals(&mut h.c(), &narrowed, Plan::Group)
            .await
            .unwrap(),
        "narrowed, {at}"
    );
}

/// [`rollup_equals_raw`] over intervals around `today`: everything, whole months, partial
/// months whose left-out days hold complaints and whose do not, one day, open ends, none.
pub(crate) async fn rollup_equals_raw_around(app: &TestApp, org: i64, today: i64) {
    let m = repo::month_start(today);
    let intervals = [
        (None, None),
        (Some(m), Some(today + 1)),
        (Some(repo::month_start(today - 70)), Some(today + 1)),
        (Some(today - 45), Some(today - 2)),
        (Some(today - 101), Some(today - 33)),
        (Some(today - 33), Some(today - 32)),
        (Some(today - 100), Some(today - 99)),
        (Some(today - 3), Some(today + 40)),
        (Some(today - 1000), Some(today - 900)),
        (Some(today), Some(today)),
        (Some(today - 100), None),
        (None, Some(today - 20)),
        (None, Some(m)),
    ];
    for (a, b) in intervals {
        rollup_equals_raw(app, org, a, b).await;
    }
}

/// Units shipped from the roll-up equal those from the orders and lines.
async fn units_equal(app: &TestApp, org: i64, parts: &[&str]) {
    let mut h = app.st.db.acquire().await.unwrap();
    let names: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
    for (from, to) in [
        (None, None),
        (Some("2025-01-01"), Some("2025-03-31")),
        (Some("2025-01-15"), Some("2025-01-15")),
        (Some("2025-02-01"), None),
        (None, Some("2025-01-31")),
        (Some("2030-01-01"), Some("2030-12-31")),
    ] {
        let s = ShipFilter {
            org,
            from: from.map(String::from),
            to: to.map(String::from),
        };
        let at = format!("org {org}, {from:?}..{to:?}");
        for p in std::iter::once(None).chain(parts.iter().map(|p| Some(*p))) {
            assert_eq!(
                repo::units_shipped(&mut h.c(), &s, p, Plan::Rollup)
                    .await
                    .unwrap(),
                repo::units_shipped(&mut h.c(), &s, p, Plan::Group)
                    .await
                    .unwrap(),
                "units of {p:?}, {at}"
            );
        }
        let by = |mut v: Vec<(String, i64)>| {
            v.retain(|x| x.1 != 0);
            v.sort();
            v
        };
        assert_eq!(
            by(repo::units_by_part(&mut h.c(), &s, &names, Plan::Rollup)
                .await
                .unwrap()),
            by(repo::units_by_part(&mut h.c(), &s, &names, Plan::Group)
                .await
                .unwrap()),
            "units by part, {at}"
        );
    }
}

/// The complaint's id in a JSON answer.
fn id_of(c: &Value) -> i64 {
    c["id"].as_i64().unwrap()
}

#[tokio::test]
async fn rollups_follow_every_write() {
    for be in backends() {
        let app = spawn_app(be).await;
        let s = setup(&app).await;
        let other = app.other_org("beta", "beta_admin").await;
        let off = offset(&app, app.org).await;
        let today = today(&app, app.org).await;
        let now = app.st.now();
        // local midnight of `ago` days back, plus `secs`
        let at = |ago: i64, secs: i64| ((today - ago) * 86_400 - off + secs).min(now - 60);
        let body = |class: &str,
                    fault: Option<&str>,
                    part: Option<&str>,
                    customer: &str,
                    t: i64| {
            json!({"channel": "phone", "class": class, "severity": "minor", "customer_name": customer,
                "description": "主控柜频繁报警", "fault_category": fault, "part_no": part, "received_at": t,
                "order_no": "SO-1", "ship_date": "2025-01-05", "quantity": 1, "defective_quantity": 1,
                "demand": "维修"})
        };
        let plan = [
            (0, 0, "quality", Some("电机异响"), Some("P-1"), "甲"),
            (1, 86_399, "human", Some("电机异响"), Some("P-1"), "乙"),
            (3, 0, "other", None, Some("P-2"), "丙"),
            (20, 3600, "quality", Some("主控柜报警"), None, "丁"),
            (33, 86_399, "quality", Some("主控柜报警"), Some("P-2"), "戊"),
            (45, 0, "human", Some("操作不当"), Some("P-3"), "己"),
            (70, 7200, "quality", Some("电机异响"), Some("P-1"), "庚"),
            (100, 86_399, "other", Some("电机异响"), Some("P-3"), "辛"),
            (101, 0, "quality", None, None, "壬"),
            // a repeat of the first (same customer and fault, inside the window)
            (0, 0, "quality", Some("电机异响"), Some("P-1"), "甲"),
        ];
        let mut cs = Vec::new();
        for (ago, secs, class, fault, part, customer) in plan {
            let t = if ago == 0 { now - 120 } else { at(ago, secs) };
            cs.push(register(&s.engineer, body(class, fault, part, customer, t)).await);
        }
        assert_eq!(cs[9]["repeat_count"], 1);
        rollup_equals_raw_around(&app, app.org, today).await;

        // confirm (response met), analyse with another class and a responsible department,
        // propose, agree, implement, and a satisfied visit closes it with a resolution time
        let svc = s.svc;
        let analyse = json!({"class": "other", "responsibility": "ours", "responsible_department_id": svc,
            "cause": "调度失误"});
        let mut closed = Vec::new();
        for i in [1, 5, 7] {
            let c = ok(&s.engineer, &cs[i], "confirm", json!({})).await;
            let c = ok(&s.engineer, &c, "analyse", analyse.clone()).await;
            assert_eq!(c["responsible_department_id"], svc);
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
            closed.push(c);
        }
        let c = ok(&s.engineer, &closed[0], "visit", json!({"satisfied": true})).await;
        assert_eq!(c["status"], "closed");
        let c = ok(&s.engineer, &closed[1], "visit", json!({"satisfied": true})).await;
        assert_eq!(c["status"], "closed");
        // an unsatisfied visit reopens the third, which is analysed again
        let c = ok(
            &s.engineer,
            &closed[2],
            "visit",
            json!({"satisfied": false, "note": "仍不满意"}),
        )
        .await;
        assert_eq!(c["status"], "reopened");
        ok(
            &s.engineer,
            &c,
            "analyse",
            json!({"class": "human", "responsibility": "ours",
            "responsible_department_id": s.biz, "cause": "再分析"}),
        )
        .await;
        // confirmed only, and analysed only
        ok(&s.engineer, &cs[2], "confirm", json!({})).await;
        let c = ok(&s.engineer, &cs[4], "confirm", json!({})).await;
        ok(
            &s.engineer,
            &c,
            "analyse",
            json!({"class": "quality", "responsibility": "supplier",
            "cause": "来料不良"}),
        )
        .await;
        // the SLA job moves clocks and flags of the old ones
        server::complaints::sla::run_alerts(&app.st.db, app.st.now())
            .await
            .unwrap();
        let (_, f) = s.manager.get("/api/v1/complaints/figures").await;
        assert!(f["total"].as_i64().unwrap() >= 7, "{f}");
        let totals = {
            let mut h = app.st.db.acquire().await.unwrap();
            let f = FigureFilter {
                org: app.org,
                ..Default::default()
            };
            repo::totals(&mut h.c(), &f, Plan::Rollup).await.unwrap()
        };
        assert_eq!(totals.total, 10);
        assert_eq!(totals.closed, 2, "{totals:?}");
        assert!(totals.response.1 >= 5, "{totals:?}");
        rollup_equals_raw_around(&app, app.org, today).await;

        // raw SQL: part number and fault category changed, a receipt moved back 40 days (its
        // day follows), a row inserted without its day, one of its columns changed, deleted
        let (c2, c3, c6) = (id_of(&cs[2]), id_of(&cs[3]), id_of(&cs[6]));
        sql(
            &app,
            format!("UPDATE complaints SET part_no = 'P-9', fault_category = NULL WHERE id = {c2}"),
        )
        .await;
        sql(
            &app,
            format!(
                "UPDATE complaints SET fault_category = '新类别', class = 'human' WHERE id = {c3}"
            ),
        )
        .await;
        sql(
            &app,
            format!("UPDATE complaints SET received_at = received_at - 40 * 86400 WHERE id = {c6}"),
        )
        .await;
        let raw = Row {
            number: "RAW-1",
            date: "2025-01-01",
            secs: 0,
            class: "quality",
            fault: Some("电机异响"),
            part: Some("P-1"),
            dept: Some(svc),
            resolution_h: Some(3),
            reopen: 1,
            repeat: 1,
            met: [Some(true), Some(false), None, Some(true)],
        };
        let r1 = complaint(&app, app.org, &raw).await;
        let r2 = complaint(
            &app,
            app.org,
            &Row {
                number: "RAW-2",
                ..raw
            },
        )
        .await;
        complaint(
            &app,
            other,
            &Row {
                number: "RAW-3",
                ..raw
            },
        )
        .await;
        let day = |id: i64| {
            let app = &app;
            async move {
                let mut h = app.st.db.acquire().await.unwrap();
                let (d,): (Option<i64>,) = store::on!(&mut h.c(), x => sqlx::query_as(
                    "SELECT received_day FROM complaints WHERE id = $1").bind(id).fetch_one(x).await).unwrap();
                d
            }
        };
        let jan1 = at_day(&app, "2025-01-01").await;
        assert_eq!(day(r1).await, Some(jan1), "filled from the calendar");
        let moved = {
            let mut h = app.st.db.acquire().await.unwrap();
            let (t,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
                "SELECT received_at FROM complaints WHERE id = $1").bind(c6).fetch_one(x).await)
            .unwrap();
            (t + off).div_euclid(86_400)
        };
        assert_eq!(day(c6).await, Some(moved), "the day follows the receipt");
        sql(&app, format!("UPDATE complaints SET resolution_secs = NULL, ack_met = NULL, responsible_department_id = NULL WHERE id = {r1}")).await;
        sql(&app, format!("DELETE FROM complaints WHERE id = {r2}")).await;
        rollup_equals_raw_around(&app, app.org, today).await;
        rollup_equals_raw_around(&app, other, today).await;
        rollup_equals_raw(&app, app.org, Some(jan1 - 1), Some(jan1 + 1)).await;
        rollup_equals_raw(&app, other, Some(jan1), Some(jan1 + 31)).await;

        // units: an order with lines, shipped, its date moved, a line changed and one deleted,
        // another order without lines deleted
        let cu = customer(&app, app.org).await;
        let p1 = product(&app, app.org, "P-1").await;
        let p2 = product(&app, app.org, "P-2").await;
        shipped(&app, app.org, cu, p1, "U1", None, 100).await;
        shipped(&app, app.org, cu, p2, "U2", Some("2025-01-15"), 40).await;
        let o1 = order_id(&app, app.org, "U1").await;
        let o2 = order_id(&app, app.org, "U2").await;
        units_equal(&app, app.org, &["P-1", "P-2", "P-0"]).await;
        sql(
            &app,
            format!(
                "INSERT INTO order_lines (org_id, order_id, product_id, quantity, unit_price_fen)
            VALUES ({}, {o1}, {p2}, 7, 100)",
                app.org
            ),
        )
        .await;
        sql(
            &app,
            format!("UPDATE orders SET ship_date = '2025-01-31' WHERE id = {o1}"),
        )
        .await;
        units_equal(&app, app.org, &["P-1", "P-2"]).await;
        sql(
            &app,
            format!("UPDATE orders SET ship_date = '2025-02-01' WHERE id = {o1}"),
        )
        .await;
        sql(
            &app,
            format!("UPDATE order_lines SET quantity = 45 WHERE order_id = {o2}"),
        )
        .await;
        units_equal(&app, app.org, &["P-1", "P-2"]).await;
        sql(
            &app,
            format!("UPDATE order_lines SET product_id = {p1} WHERE order_id = {o2}"),
        )
        .await;
        sql(
            &app,
            format!("DELETE FROM order_lines WHERE order_id = {o1} AND product_id = {p2}"),
        )
        .await;
        units_equal(&app, app.org, &["P-1", "P-2"]).await;
        sql(
            &app,
            format!("UPDATE orders SET ship_date = NULL WHERE id = {o2}"),
        )
        .await;
        units_equal(&app, app.org, &["P-1", "P-2"]).await;
        sql(
            &app,
            format!("DELETE FROM order_lines WHERE order_id = {o1}"),
        )
        .await;
        sql(&app, format!("DELETE FROM orders WHERE id = {o1}")).await;
        units_equal(&app, app.org, &["P-1", "P-2"]).await;
        let mut h = app.st.db.acquire().await.unwrap();
        let s1 = ShipFilter {
            org: app.org,
            ..Default::default()
        };
        assert_eq!(
            repo::units_shipped(&mut h.c(), &s1, None, Plan::Rollup)
                .await
                .unwrap(),
            0,
            "U1 deleted, U2 not shipped"
        );
    }
}

/// The local day of `date` on the organization's calendar.
async fn at_day(app: &TestApp, date: &str) -> i64 {
    let off = offset(app, app.org).await;
    (at(app, app.org, date, 0).await + off).div_euclid(86_400)
}

async fn order_id(app: &TestApp, org: i64, no: &str) -> i64 {
    let mut h = app.st.db.acquire().await.unwrap();
    let (id,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
        "SELECT id FROM orders WHERE org_id = $1 AND order_no = $2").bind(org).bind(no).fetch_one(x).await)
    .unwrap();
    id
}

#[tokio::test]
async fn rollups_match_the_volume_generator() {
    for be in backends() {
        let app = spawn_app(be).await;
        let demo = server::demo::load(&app.st, app.admin_id, 0)
            .await
            .unwrap()
            .unwrap();
        let org = demo.org_id;
        let who = [server::demo::complaints::Who {
            login: "admin",
            id: app.admin_id,
            role: Role::Admin,
        }];
        let sizes = server::demo::volume::Sizes {
            customers: 20,
            complaints: 600,
            service_orders: 20,
            responses: 5,
        };
        server::demo::volume::generate(&app.st, org, &who, sizes)
            .await
            .unwrap();
        let today = today(&app, org).await;
        rollup_equals_raw_around(&app, org, today).await;
        for y in [2023, 2024, 2025, 2026] {
            let a = at_day(&app, &format!("{y}-01-01")).await;
            rollup_equals_raw(&app, org, Some(a + 10), Some(a + 300)).await;
        }
        let parts: Vec<(String,)> = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::on!(&mut h.c(), x => sqlx::query_as(
                "SELECT part_no FROM products WHERE org_id = $1 ORDER BY part_no LIMIT 5").bind(org).fetch_all(x).await)
            .unwrap()
        };
        let parts: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
        assert!(!parts.is_empty());
        units_equal(&app, org, &parts).await;
    }
}
