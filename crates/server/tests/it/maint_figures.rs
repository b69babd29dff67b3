//! Tests: maintenance figures over a small hand-made set of service-order rows inserted with
//! SQL, with the expected value of every figure worked out by hand in the comments: PM
//! compliance (the end of the due day in local time, cancelled orders left out) by month,
//! engineer, product and customer; the overdue backlog by age; MTTR, MTBF, first-time-fix
//! and repeat-repair rates overall, per product and per unit; the filters; another
//! organization's rows never counted; every role reads them (auditor and staff included);
//! the page in both languages with its charts.

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

async fn calendar(app: &TestApp, org: i64) -> domain::calendar::WorkCalendar {
    let mut h = app.st.db.acquire().await.unwrap();
    server::complaints::sla::calendar(&mut h.c(), org)
        .await
        .unwrap()
}

/// The local instant of `date` plus `secs` on the organization's calendar (+08:00).
async fn at(app: &TestApp, org: i64, date: &str, secs: i64) -> i64 {
    calendar(app, org).await.local_instant(date, 0).unwrap() + secs
}

const H: i64 = 3600;

async fn product(app: &TestApp, org: i64, part: &str) -> i64 {
    insert_id(
        app,
        format!(
            "INSERT INTO products (org_id, part_no, model, name, warranty_months, contract_levels, active,
                created_at, updated_at, version)
             VALUES ({org}, '{part}', 'M', '产品{part}', 12, '[]', TRUE, 0, 0, 1)"
        ),
    )
    .await
}

async fn customer(app: &TestApp, org: i64, name: &str) -> i64 {
    insert_id(
        app,
        format!(
            "INSERT INTO customers (org_id, name, kind, tags, consent_contact, consent_survey, active,
                created_at, updated_at, version)
             VALUES ({org}, '{name}', 'company', '[]', TRUE, TRUE, TRUE, 0, 0, 1)"
        ),
    )
    .await
}

async fn unit(app: &TestApp, org: i64, serial: &str, product: i64, customer: i64) -> i64 {
    insert_id(
        app,
        format!(
            "INSERT INTO equipment (org_id, serial, product_id, customer_id, warranty_overridden, status,
                created_at, updated_at, version)
             VALUES ({org}, '{serial}', {product}, {customer}, FALSE, 'active', 0, 0, 1)"
        ),
    )
    .await
}

/// One hand-made service order; times are Unix seconds.
#[derive(Default, Clone)]
struct So {
    kind: &'static str,
    status: &'static str,
    due: Option<String>,
    reported: i64,
    arrived: Option<i64>,
    completed: Option<i64>,
    ftf: Option<bool>,
    engineer: Option<i64>,
    product: Option<i64>,
    customer: Option<i64>,
    unit: Option<i64>,
}

fn opt(v: Option<i64>) -> String {
    v.map_or("NULL".into(), |v| v.to_string())
}

async fn so(app: &TestApp, org: i64, n: &mut i64, o: So) -> i64 {
    *n += 1;
    let month = match &o.due {
        Some(d) => d[0..7].to_string(),
        None => calendar(app, org).await.local_date(o.reported)[0..7].to_string(),
    };
    insert_id(
        app,
        format!(
            "INSERT INTO service_orders (org_id, number, kind, status, equipment_id, customer_id, product_id,
                due_date, engineer_id, reported_at, arrived_at, completed_at, first_time_fix, fee_fen,
                parts_cost_fen, month, created_at, updated_at, version)
             VALUES ({org}, 'SO-T-{org}-{n}', '{}', '{}', {}, {}, {}, {}, {}, {}, {}, {}, {}, 0, 0, '{month}', {}, {}, 1)",
            o.kind,
            o.status,
            opt(o.unit),
            opt(o.customer),
            opt(o.product),
            o.due.as_ref().map_or("NULL".into(), |d| format!("'{d}'")),
            opt(o.engineer),
            o.reported,
            opt(o.arrived),
            opt(o.completed),
            match o.ftf {
                Some(true) => "TRUE",
                Some(false) => "FALSE",
                None => "NULL",
            },
            o.reported,
            o.reported,
        ),
    )
    .await
}

/// The ids of the hand-made set.
struct Set {
    e1: i64,
    e2: i64,
    p1: i64,
    p2: i64,
    c1: i64,
    c2: i64,
    u1: i64,
    u2: i64,
    u3: i64,
}

const Q: &str = "/api/v1/maintenance/figures?from=2024-01-01&to=2024-03-31";

/// The set (interval 2024-01-01 .. 2024-03-31, local +08:00):
///
/// Maintenance orders (PM compliance):
/// | order | due        | status    | completed (local)      | engineer | product | customer |
/// | M1    | 2024-01-10 | completed | 01-10 23:59:59 on time | E1       | P1      | C1       |
/// | M2    | 2024-01-20 | closed    | 01-21 00:00:00 late    | E1       | P1      | C1       |
/// | M3    | 2024-01-31 | cancelled | —  (not counted)       | E2       | P1      | C1       |
/// | M4    | 2024-02-05 | accepted  | 02-01 10:00 on time    | E2       | P2      | C2       |
/// | M5    | 2024-02-28 | scheduled | — (due, not done)      | E2       | P2      | C2       |
/// | M6    | 2024-03-15 | completed | 03-15 10:00 on time    | E1       | P2      | C2       |
/// | M7    | 2024-03-31 | completed | 03-31 12:00 on time    | —        | P1      | C1       |
/// | M8    | 2024-04-01 | completed | on time, outside       |          |         |          |
/// | M9    | 2023-12-31 | completed | on time, outside       |          |         |          |
/// Due 6 (M1 M2 M4 M5 M6 M7), on time 4 (M1 M4 M6 M7): 66.7 %. Jan 2 / 1 (50 %), Feb 2 / 1
/// (50 %), Mar 2 / 2 (100 %). E1 3 / 2, E2 2 / 1, no engineer 1 / 1; P1 3 / 2, P2 3 / 2;
/// C1 3 / 2, C2 3 / 2.
///
/// Overdue backlog (T = today): B1 created due T−1, B2 dispatched T−7 (1-7 days); B3
/// on_site T−8, B4 scheduled T−30 (8-30 days); B5 created T−31 and M5 (due 2024, still
/// scheduled) (over 30 days): 2 / 2 / 2, total 6. Not counted: B6 due today, B7 completed,
/// B8 cancelled, B9 an open repair with a due date. E2's: B2, B5, M5 → 1 / 0 / 2.
///
/// Repair orders (reported in the interval, not cancelled):
/// | order | unit | reported    | on site → completed     | ftf   | engineer | note            |
/// | R0    | U2   | 2023-12-20  | 01-15 08:00 → 10:00     | true  | E1       | before: not counted |
/// | R1    | U1   | 01-05 08:00 | 10:00 → 13:00 (3 h)     | true  | E1       |                 |
/// | R2    | U1   | 01-20 08:00 | 09:00 → 10:00 (1 h)     | false | E1       | repeat (R1 15 d before) |
/// | R3    | U1   | 03-20 08:00 | 09:00 → open            | —     | E2       | R2 done 60 d before: no repeat |
/// | R4    | U2   | 02-10 08:00 | 12:00 → 18:00 (6 h)     | true  | E1       | repeat (R0 done 26 d before) |
/// | R5    | U3   | 02-01 08:00 | cancelled               |       |          | not counted     |
/// | R6    | U3   | 02-15 08:00 | 09:00 → 11:00 (2 h)     | true  | E1       | M4 (maintenance) done 02-01: no repeat |
/// | R7    | —    | 03-01 08:00 | 10:00 → 14:00 (4 h)     | —     | E2       | P2, C2, no unit |
/// | R8    | U1   | 04-01 00:00 | outside                 |       |          |                 |
/// Repairs 6; MTTR (3 + 1 + 6 + 2 + 4) / 5 = 3.2 h; MTBF: only U1 failed twice or more,
/// 01-05 → 03-20 = 75 days over 2 intervals = 37.5 days; first-time fix 3 / 4 (R1 R4 R6 of
/// R1 R2 R4 R6) = 75 %; repeats 2 / 6 (R2 R4) = 33.3 %.
/// P1 (U1 U2): 4 repairs, MTTR 10 / 3 = 3.3 h, MTBF 37.5 d, ftf 2 / 3, repeats 2 / 4.
/// P2 (U3, R7): 2 repairs, MTTR 3.0 h, no MTBF, ftf 1 / 1, repeats 0 / 2.
/// Units: U1 3 repairs (MTTR 2.0, MTBF 37.5, ftf 1 / 2, repeats 1 / 3), then U2 and U3 with 1.
///
/// The other organization has one of each inside the interval, and an overdue order.
#[allow(clippy::type_complexity)]
async fn seed(app: &TestApp, other: i64) -> Set {
    let org = app.org;
    let e1 = app.user(org, "wang.gong", Role::Engineer).await;
    let e2 = app.user(org, "li.gong", Role::Engineer).await;
    let p1 = product(app, org, "PM-1").await;
    let p2 = product(app, org, "PM-2").await;
    let c1 = customer(app, org, "华东机床厂").await;
    let c2 = customer(app, org, "江南纺织").await;
    let u1 = unit(app, org, "SN-1", p1, c1).await;
    let u2 = unit(app, org, "SN-2", p1, c1).await;
    let u3 = unit(app, org, "SN-3", p2, c2).await;
    let mut n = 0;
    let d = |s: &str| Some(s.to_string());
    // maintenance: (due, status, completed date + seconds, engineer, product, customer, unit)
    let rows: [(
        &str,
        &str,
        Option<(&str, i64)>,
        Option<i64>,
        i64,
        i64,
        Option<i64>,
    ); 9] = [
        (
            "2024-01-10",
            "completed",
            Some(("2024-01-10", 86_399)),
            Some(e1),
            p1,
            c1,
            Some(u1),
        ),
        (
            "2024-01-20",
            "closed",
            Some(("2024-01-21", 0)),
            Some(e1),
            p1,
            c1,
            Some(u2),
        ),
        ("2024-01-31", "cancelled", None, Some(e2), p1, c1, Some(u1)),
        (
            "2024-02-05",
            "accepted",
            Some(("2024-02-01", 10 * H)),
            Some(e2),
            p2,
            c2,
            Some(u3),
        ),
        ("2024-02-28", "scheduled", None, Some(e2), p2, c2, Some(u3)),
        (
            "2024-03-15",
            "completed",
            Some(("2024-03-15", 10 * H)),
            Some(e1),
            p2,
            c2,
            Some(u3),
        ),
        (
            "2024-03-31",
            "completed",
            Some(("2024-03-31", 12 * H)),
            None,
            p1,
            c1,
            Some(u1),
        ),
        (
            "2024-04-01",
            "completed",
            Some(("2024-04-01", H)),
            Some(e1),
            p1,
            c1,
            Some(u1),
        ),
        (
            "2023-12-31",
            "completed",
            Some(("2023-12-31", H)),
            Some(e1),
            p1,
            c1,
            Some(u1),
        ),
    ];
    for (due, status, done, engineer, product, customer, unit) in rows {
        let completed = match done {
            Some((day, s)) => Some(at(app, org, day, s).await),
            None => None,
        };
        so(
            app,
            org,
            &mut n,
            So {
                kind: "maintenance",
                status,
                due: d(due),
                reported: at(app, org, due, 0).await - 14 * 86_400,
                completed,
                engineer,
                product: Some(product),
                customer: Some(customer),
                unit,
                ..Default::default()
            },
        )
        .await;
    }
    // overdue backlog, relative to today
    let cal = calendar(app, org).await;
    let today = cal.local_date(app.st.now());
    let midnight = cal.local_instant(&today, 0).unwrap();
    let ago = |days: i64| cal.local_date(midnight - days * 86_400);
    let backlog = [
        (1, "created", Some(e1), "maintenance"),
        (7, "dispatched", Some(e2), "maintenance"),
        (8, "on_site", Some(e1), "maintenance"),
        (30, "scheduled", Some(e1), "maintenance"),
        (31, "created", Some(e2), "maintenance"),
        (0, "created", Some(e2), "maintenance"),
        (3, "completed", Some(e2), "maintenance"),
        (3, "cancelled", Some(e2), "maintenance"),
        (5, "created", Some(e2), "repair"),
    ];
    for (days, status, engineer, kind) in backlog {
        so(
            app,
            org,
            &mut n,
            So {
                kind,
                status,
                due: Some(ago(days)),
                reported: midnight - 40 * 86_400,
                completed: (status == "completed").then_some(midnight - 4 * 86_400),
                engineer,
                product: Some(p1),
                customer: Some(c1),
                unit: Some(u1),
                ..Default::default()
            },
        )
        .await;
    }
    // repairs: (unit, reported, on site after, done after (None: open), ftf, status, engineer)
    struct R {
        unit: Option<i64>,
        product: i64,
        customer: i64,
        day: &'static str,
        at_h: i64,
        arrive_h: Option<i64>,
        done_h: Option<i64>,
        ftf: Option<bool>,
        status: &'static str,
        engineer: i64,
    }
    let repairs = [
        // R0: reported before the interval, done 2024-01-15 10:00
        R {
            unit: Some(u2),
            product: p1,
            customer: c1,
            day: "2023-12-20",
            at_h: 8,
            arrive_h: Some(26 * 24 + 8),
            done_h: Some(26 * 24 + 10),
            ftf: Some(true),
            status: "closed",
            engineer: e1,
        },
        R {
            unit: Some(u1),
            product: p1,
            customer: c1,
            day: "2024-01-05",
            at_h: 8,
            arrive_h: Some(10),
            done_h: Some(13),
            ftf: Some(true),
            status: "closed",
            engineer: e1,
        },
        R {
            unit: Some(u1),
            product: p1,
            customer: c1,
            day: "2024-01-20",
            at_h: 8,
            arrive_h: Some(9),
            done_h: Some(10),
            ftf: Some(false),
            status: "completed",
            engineer: e1,
        },
        R {
            unit: Some(u1),
            product: p1,
            customer: c1,
            day: "2024-03-20",
            at_h: 8,
            arrive_h: Some(9),
            done_h: None,
            ftf: None,
            status: "on_site",
            engineer: e2,
        },
        R {
            unit: Some(u2),
            product: p1,
            customer: c1,
            day: "2024-02-10",
            at_h: 8,
            arrive_h: Some(12),
            done_h: Some(18),
            ftf: Some(true),
            status: "accepted",
            engineer: e1,
        },
        R {
            unit: Some(u3),
            product: p2,
            customer: c2,
            day: "2024-02-01",
            at_h: 8,
            arrive_h: None,
            done_h: None,
            ftf: None,
            status: "cancelled",
            engineer: e1,
        },
        R {
            unit: Some(u3),
            product: p2,
            customer: c2,
            day: "2024-02-15",
            at_h: 8,
            arrive_h: Some(9),
            done_h: Some(11),
            ftf: Some(true),
            status: "closed",
            engineer: e1,
        },
        R {
            unit: None,
            product: p2,
            customer: c2,
            day: "2024-03-01",
            at_h: 8,
            arrive_h: Some(10),
            done_h: Some(14),
            ftf: None,
            status: "completed",
            engineer: e2,
        },
        // R8: the first second after the interval
        R {
            unit: Some(u1),
            product: p1,
            customer: c1,
            day: "2024-04-01",
            at_h: 0,
            arrive_h: Some(1),
            done_h: Some(2),
            ftf: Some(true),
            status: "closed",
            engineer: e1,
        },
    ];
    for r in repairs {
        let day0 = at(app, org, r.day, 0).await;
        so(
            app,
            org,
            &mut n,
            So {
                kind: "repair",
                status: r.status,
                reported: day0 + r.at_h * H,
                arrived: r.arrive_h.map(|h| day0 + h * H),
                completed: r.done_h.map(|h| day0 + h * H),
                ftf: r.ftf,
                engineer: Some(r.engineer),
                product: Some(r.product),
                customer: Some(r.customer),
                unit: r.unit,
                ..Default::default()
            },
        )
        .await;
    }
    // the other organization: one of each inside the interval, one overdue
    let mut m = 0;
    let t = at(app, other, "2024-02-10", 10 * H).await;
    for (kind, status, due) in [
        ("maintenance", "completed", Some("2024-02-10".to_string())),
        ("repair", "completed", None),
        ("maintenance", "created", Some(ago(3))),
    ] {
        so(
            app,
            other,
            &mut m,
            So {
                kind,
                status,
                due,
                reported: t - 2 * H,
                arrived: Some(t - H),
                completed: (status == "completed").then_some(t),
                ftf: (kind == "repair").then_some(false),
                engineer: Some(e1),
                ..Default::default()
            },
        )
        .await;
    }
    Set {
        e1,
        e2,
        p1,
        p2,
        c1,
        c2,
        u1,
        u2,
        u3,
    }
}

/// (id, due, on_time) of a breakdown.
fn groups(f: &Value) -> Vec<(Value, i64, i64)> {
    f["pm_by"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["id"].clone(),
                g["due"].as_i64().unwrap(),
                g["on_time"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn buckets(f: &Value) -> Vec<i64> {
    f["overdue"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["n"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn figures_match_the_hand_made_set() {
    for be in backends() {
        let app = spawn_app(be).await;
        let other = app.other_org("beta", "beta_admin").await;
        let s = seed(&app, other).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (st, f) = api.get(Q).await;
        assert_eq!(st, 200, "{f}");
        assert_eq!(
            (f["from"].as_str(), f["to"].as_str()),
            (Some("2024-01-01"), Some("2024-03-31"))
        );
        // PM compliance: 4 of 6 on time (M3 cancelled, M8 M9 outside, M2 one second late)
        assert_eq!(f["pm"], json!({"due": 6, "on_time": 4, "percent": 66.7}));
        assert_eq!(
            f["pm_by_month"],
            json!([
                {"month": "2024-01", "due": 2, "on_time": 1, "percent": 50.0},
                {"month": "2024-02", "due": 2, "on_time": 1, "percent": 50.0},
                {"month": "2024-03", "due": 2, "on_time": 2, "percent": 100.0},
            ])
        );
        // by engineer (default): E1 3 / 2, E2 2 / 1, none 1 / 1
        assert_eq!(f["pm_by"]["dimension"], "engineer");
        assert_eq!(
            groups(&f),
            [
                (json!(s.e1), 3, 2),
                (json!(s.e2), 2, 1),
                (Value::Null, 1, 1)
            ]
        );
        assert_eq!(f["pm_by"]["groups"][0]["name"], "wang.gong");
        assert_eq!(f["pm_by"]["groups"][0]["percent"], 66.7);
        assert_eq!(
            f["pm_by"]["rest"],
            json!({"due": 0, "on_time": 0, "percent": null})
        );
        let (_, f2) = api.get(&format!("{Q}&by=product")).await;
        assert_eq!(groups(&f2), [(json!(s.p1), 3, 2), (json!(s.p2), 3, 2)]);
        assert_eq!(f2["pm_by"]["groups"][0]["part_no"], "PM-1");
        assert_eq!(f2["pm_by"]["groups"][0]["name"], "产品PM-1");
        let (_, f2) = api.get(&format!("{Q}&by=customer")).await;
        assert_eq!(groups(&f2), [(json!(s.c1), 3, 2), (json!(s.c2), 3, 2)]);
        assert_eq!(f2["pm_by"]["groups"][1]["name"], "江南纺织");

        // overdue backlog: 1-7 B1 B2, 8-30 B3 B4, over 30 B5 M5
        assert_eq!(buckets(&f), [2, 2, 2]);
        assert_eq!(f["overdue"]["total"], 6);
        assert_eq!(
            f["overdue"]["buckets"][2]["bucket"], "over_30",
            "{}",
            f["overdue"]
        );

        // repairs
        let r = &f["repairs"];
        assert_eq!(r["repairs"], 6, "{r}");
        assert_eq!(r["mttr_hours"], 3.2);
        assert_eq!(r["timed"], 5);
        assert_eq!(r["mtbf_days"], 37.5);
        assert_eq!(r["intervals"], 2);
        assert_eq!(
            r["first_time_fix"],
            json!({"count": 3, "of": 4, "percent": 75.0})
        );
        assert_eq!(
            r["repeat_30d"],
            json!({"count": 2, "of": 6, "percent": 33.3})
        );
        let p = &f["repairs_by_product"];
        assert_eq!(p.as_array().unwrap().len(), 2, "{p}");
        assert_eq!(p[0]["product_id"], s.p1);
        assert_eq!(p[0]["part_no"], "PM-1");
        assert_eq!(p[0]["figures"]["repairs"], 4);
        assert_eq!(p[0]["figures"]["mttr_hours"], 3.3);
        assert_eq!(p[0]["figures"]["mtbf_days"], 37.5);
        assert_eq!(p[0]["figures"]["first_time_fix"]["percent"], 66.7);
        assert_eq!(p[0]["figures"]["repeat_30d"]["percent"], 50.0);
        assert_eq!(p[1]["product_id"], s.p2);
        assert_eq!(p[1]["figures"]["repairs"], 2);
        assert_eq!(p[1]["figures"]["mttr_hours"], 3.0);
        assert_eq!(p[1]["figures"]["mtbf_days"], Value::Null);
        assert_eq!(p[1]["figures"]["first_time_fix"]["percent"], 100.0);
        assert_eq!(p[1]["figures"]["repeat_30d"]["percent"], 0.0);
        let u = &f["repairs_by_unit"];
        let ids: Vec<i64> = u
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["equipment_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [s.u1, s.u2, s.u3], "R7 has no unit: not listed");
        assert_eq!(u[0]["serial"], "SN-1");
        assert_eq!(u[0]["part_no"], "PM-1");
        assert_eq!(u[0]["figures"]["repairs"], 3);
        assert_eq!(u[0]["figures"]["mttr_hours"], 2.0);
        assert_eq!(u[0]["figures"]["mtbf_days"], 37.5);
        assert_eq!(u[0]["figures"]["first_time_fix"]["percent"], 50.0);
        assert_eq!(
            u[0]["figures"]["repeat_30d"],
            json!({"count": 1, "of": 3, "percent": 33.3})
        );
        assert_eq!(
            u[1]["figures"]["repeat_30d"]["percent"], 100.0,
            "R4 after R0"
        );
        assert_eq!(u[1]["figures"]["mttr_hours"], 6.0);
        assert_eq!(
            u[2]["figures"]["repeat_30d"]["percent"], 0.0,
            "M4 is maintenance"
        );

        // the same figures once the indexes proposed for the figures exist (other plans)
        let mut before = vec![];
        for by in ["engineer", "product", "customer"] {
            before.push(api.get(&format!("{Q}&by={by}")).await.1);
        }
        {
            let mut h = app.st.db.acquire().await.unwrap();
            // The migration made them: the same answers without them.
            for q in [
                "DROP INDEX service_orders_org_pm",
                "DROP INDEX service_orders_org_repairs",
                "DROP INDEX service_orders_org_unit_repairs",
            ] {
                store::run!(&mut h.c(), x => sqlx::query(q).execute(&mut *x).await).unwrap();
            }
        }
        for (by, b) in ["engineer", "product", "customer"].into_iter().zip(before) {
            let (_, after) = api.get(&format!("{Q}&by={by}")).await;
            assert_eq!(after, b, "by {by}, without the figures' indexes");
        }
    }
}

#[tokio::test]
async fn filters_narrow_every_figure() {
    for be in backends() {
        let app = spawn_app(be).await;
        let other = app.other_org("beta", "beta_admin").await;
        let s = seed(&app, other).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        // engineer E2: M4 M5 (1 of 2 on time); backlog B2 | — | B5 M5; repairs R3 R7
        let (st, f) = api.get(&format!("{Q}&engineer_id={}", s.e2)).await;
        assert_eq!(st, 200, "{f}");
        assert_eq!(f["engineer_id"], s.e2);
        assert_eq!(f["pm"], json!({"due": 2, "on_time": 1, "percent": 50.0}));
        assert_eq!(groups(&f), [(json!(s.e2), 2, 1)]);
        assert_eq!(buckets(&f), [1, 0, 2]);
        assert_eq!(f["repairs"]["repairs"], 2);
        assert_eq!(f["repairs"]["mttr_hours"], 4.0, "R3 is still open");
        assert_eq!(
            f["repairs"]["mtbf_days"],
            Value::Null,
            "U1 has one repair of E2"
        );
        assert_eq!(f["repairs"]["first_time_fix"]["of"], 0);
        assert_eq!(f["repairs"]["first_time_fix"]["percent"], Value::Null);
        assert_eq!(f["repairs"]["repeat_30d"]["count"], 0);
        // product P1: M1 M2 M7 (2 of 3); backlog B1-B5 (all P1) and no M5 (P2); R1-R4
        let (_, f) = api
            .get(&format!("{Q}&product_id={}&by=product", s.p1))
            .await;
        assert_eq!(f["pm"], json!({"due": 3, "on_time": 2, "percent": 66.7}));
        assert_eq!(groups(&f), [(json!(s.p1), 3, 2)]);
        assert_eq!(buckets(&f), [2, 2, 1]);
        assert_eq!(f["repairs"]["repairs"], 4);
        assert_eq!(f["repairs"]["mttr_hours"], 3.3);
        assert_eq!(f["repairs"]["repeat_30d"]["count"], 2);
        // customer C2: M4 M5 M6 (2 of 3), by month Feb 2 / 1, Mar 1 / 1; M5 overdue; R6 R7
        let (_, f) = api.get(&format!("{Q}&customer_id={}", s.c2)).await;
        assert_eq!(f["pm"], json!({"due": 3, "on_time": 2, "percent": 66.7}));
        assert_eq!(
            f["pm_by_month"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (m["due"].as_i64().unwrap(), m["on_time"].as_i64().unwrap()))
                .collect::<Vec<_>>(),
            [(0, 0), (2, 1), (1, 1)]
        );
        assert_eq!(f["pm_by_month"][0]["percent"], Value::Null);
        assert_eq!(buckets(&f), [0, 0, 1]);
        assert_eq!(f["repairs"]["repairs"], 2);
        assert_eq!(f["repairs"]["mttr_hours"], 3.0);
        assert_eq!(f["repairs_by_unit"][0]["equipment_id"], s.u3);
        // two filters together: C1 and E1 → M1 M2 (1 of 2)
        let (_, f) = api
            .get(&format!("{Q}&customer_id={}&engineer_id={}", s.c1, s.e1))
            .await;
        assert_eq!(f["pm"], json!({"due": 2, "on_time": 1, "percent": 50.0}));
        // a shorter interval: only January; the repairs R1 R2 (R2 repeats R1)
        let (_, f) = api
            .get("/api/v1/maintenance/figures?from=2024-01-01&to=2024-01-31")
            .await;
        assert_eq!(f["pm"], json!({"due": 2, "on_time": 1, "percent": 50.0}));
        assert_eq!(f["pm_by_month"].as_array().unwrap().len(), 1);
        assert_eq!(f["repairs"]["repairs"], 2);
        assert_eq!(
            f["repairs"]["mtbf_days"], 15.0,
            "01-05 → 01-20 over 1 interval"
        );
        assert_eq!(f["repairs"]["repeat_30d"]["count"], 1);
        // the last day of the interval counts up to its end: M7 due 03-31, R8 on 04-01 00:00
        let (_, f) = api
            .get("/api/v1/maintenance/figures?from=2024-03-31&to=2024-03-31")
            .await;
        assert_eq!(f["pm"]["due"], 1);
        assert_eq!(f["repairs"]["repairs"], 0);
        assert_eq!(f["repairs"]["mttr_hours"], Value::Null);
        assert_eq!(f["repairs_by_product"], json!([]));
        // nothing in an empty interval (the backlog is as of today all the same)
        let (_, f) = api
            .get("/api/v1/maintenance/figures?from=2020-01-01&to=2020-12-31")
            .await;
        assert_eq!(f["pm"], json!({"due": 0, "on_time": 0, "percent": null}));
        assert_eq!(f["pm_by"]["groups"], json!([]));
        assert_eq!(f["overdue"]["total"], 6);

        // the other organization sees only its own
        let uid = app.user(other, "beta_mgr", Role::Manager).await;
        let beta = app.api(&app.token(uid, other).await);
        let (st, f) = beta.get(Q).await;
        assert_eq!(st, 200, "{f}");
        assert_eq!(f["pm"], json!({"due": 1, "on_time": 1, "percent": 100.0}));
        assert_eq!(f["repairs"]["repairs"], 1);
        assert_eq!(f["repairs"]["mttr_hours"], 1.0);
        assert_eq!(f["overdue"]["total"], 1);
        // …and acme's ids filter nothing of beta's into it
        let (_, f) = beta.get(&format!("{Q}&customer_id={}", s.c1)).await;
        assert_eq!(f["pm"]["due"], 0);
    }
}

#[tokio::test]
async fn every_role_reads_the_figures() {
    for be in backends() {
        let app = spawn_app(be).await;
        for (login, role) in [
            ("shen.ji", Role::Auditor),
            ("zhang.san", Role::Staff),
            ("wang.gong", Role::Engineer),
        ] {
            let uid = app.user(app.org, login, role).await;
            let (st, body) = app.api(&app.token(uid, app.org).await).get(Q).await;
            assert_eq!(st, 200, "{login}: {body}");
            let s = app.login(login).await;
            let (st, html) = s.page("/maintenance/figures").await;
            assert_eq!(st, 200, "{login}");
            assert!(html.contains(r#"id="pm-chart""#));
        }
        // no token: 401
        let (st, _) = app.api("nope").get(Q).await;
        assert_eq!(st, 401);
        // bad intervals: 422 with the field named
        let admin = app.api(&app.token(app.admin_id, app.org).await);
        let (st, body) = admin
            .get("/api/v1/maintenance/figures?from=2024-02-30")
            .await;
        assert_eq!(st, 422, "{body}");
        assert!(body["fields"]["from"].is_string(), "{body}");
        let (st, body) = admin
            .get("/api/v1/maintenance/figures?from=2024-03-01&to=2024-02-01")
            .await;
        assert_eq!(st, 422, "{body}");
        assert!(body["fields"]["to"].is_string(), "{body}");
        let (st, _) = admin
            .get("/api/v1/maintenance/figures?from=1990-01-01&to=2024-02-01")
            .await;
        assert_eq!(st, 422);
        // the default interval: twelve months up to today
        let (st, body) = admin.get("/api/v1/maintenance/figures").await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["pm_by_month"].as_array().unwrap().len(), 12);
        assert!(body["from"].as_str().unwrap().ends_with("-01"));
    }
}

#[tokio::test]
async fn figures_page_renders_in_both_languages() {
    for be in backends() {
        let app = spawn_app(be).await;
        let other = app.other_org("beta", "beta_admin").await;
        let set = seed(&app, other).await;
        let s = app.login("admin").await;
        let (st, html) = s
            .page("/maintenance/figures?from=2024-01-01&to=2024-03-31&product_id=&engineer_id=")
            .await;
        assert_eq!(st, 200, "{html}");
        assert!(html.contains(r#"id="fig-pm">66.7%<"#), "{html}");
        assert!(html.contains(r#"id="fig-backlog">6<"#));
        assert!(html.contains(r#"id="fig-mttr">3.2<"#));
        assert!(html.contains(r#"id="fig-mtbf">37.5<"#));
        assert!(html.contains(r#"id="fig-ftf">75.0%<"#));
        assert!(html.contains(r#"id="fig-repeat">33.3%<"#));
        assert!(html.contains(r#"<svg class="chart" id="pm-chart""#));
        assert!(html.contains(r#"<svg class="chart" id="backlog-chart""#));
        assert_eq!(html.matches(r#"<rect class="bar due""#).count(), 3);
        assert_eq!(html.matches(r#"<rect class="bar on-time""#).count(), 3);
        assert!(html.contains("保养按时完成率"), "Chinese by default");
        assert!(html.contains("30 天以上"));
        assert!(html.contains("wang.gong"));
        assert!(html.contains("SN-1"));
        assert_eq!(input_value(&html, "from").as_deref(), Some("2024-01-01"));
        // a breakdown row links to its filter; the customer filter shows the name
        assert!(html.contains(&format!("engineer_id={}", set.e1)));
        let (st, html) = s
            .page(&format!(
                "/maintenance/figures?from=2024-01-01&to=2024-03-31&customer_id={}&by=customer",
                set.c2
            ))
            .await;
        assert_eq!(st, 200);
        assert!(html.contains(r#"id="customer-filter">江南纺织<"#), "{html}");
        assert!(html.contains(r#"class="active" aria-current="page">客户</a>"#));
        assert!(html.contains(r#"id="fig-pm">66.7%<"#));
        assert_eq!(selected_value(&html, "product_id").as_deref(), Some(""));
        let (_, html) = s
            .page(&format!(
                "/maintenance/figures?from=2024-01-01&to=2024-03-31&product_id={}",
                set.p2
            ))
            .await;
        assert_eq!(
            selected_value(&html, "product_id"),
            Some(set.p2.to_string())
        );
        // defaults filled in
        let (st, html) = s.page("/maintenance/figures").await;
        assert_eq!(st, 200);
        assert!(input_value(&html, "from").is_some_and(|v| v.ends_with("-01")));
        // bad input: 422 with the message beside the field, no figures
        let (st, html) = s
            .page("/maintenance/figures?from=2024-13-01&to=2024-03-31")
            .await;
        assert_eq!(st, 422);
        assert!(field_error(&html, "from").is_some(), "{html}");
        assert!(!html.contains("pm-chart"));
        let (st, html) = s.page("/maintenance/figures?engineer_id=x").await;
        assert_eq!(st, 422);
        assert!(field_error(&html, "engineer_id").is_some());
        // English
        let r = s.get("/lang/en?next=/").await;
        assert_eq!(r.status(), 303);
        let (st, html) = s
            .page("/maintenance/figures?from=2024-01-01&to=2024-03-31&by=product")
            .await;
        assert_eq!(st, 200);
        assert!(html.contains("PM compliance by product"), "{html}");
        assert!(html.contains("Over 30 days"));
        assert!(html.contains("Units with the most repairs"));
        assert!(html.contains(r#"id="fig-mtbf">37.5<"#));
        assert!(!html.contains("保养按时完成率"));
    }
}

/// The figures' partial indexes (in migration 0004; `IF NOT EXISTS` for the bench).
const PROPOSED_INDEXES: [&str; 3] = [
    store::maintenance::figures::PM_INDEX,
    store::maintenance::figures::REPAIR_INDEX,
    store::maintenance::figures::REPAIR_UNIT_INDEX,
];

/// An optional extension of service_orders_org_status that makes the overdue backlog
/// index-only (measured by the bench only).
const STATUS_COVERING: &str = "CREATE INDEX service_orders_org_status_cover ON service_orders
    (org_id, status, due_date, kind, engineer_id, product_id, customer_id)";

/// 1,000,000 service orders over 2025-2026 (one in a hundred of another organization):
/// 72 % maintenance (due dates spread evenly, 90 % of those due by 2026-11-26 done, 85 % of
/// those on time), 20 % repairs, 8 % installations; 300,000 units, 200 products, 100,000
/// customers, 100 engineers. Foreign keys are off for the load: the ids point nowhere.
async fn generate(app: &TestApp, other: i64, n: i64) {
    let org = app.org;
    // pseudo-random but reproducible attributes of order i
    let cols = format!(
        "CASE WHEN i % 100 = 0 THEN {other} ELSE {org} END AS org,
         CASE WHEN (i * 48271) % 2147483647 % 100 < 72 THEN 'maintenance'
              WHEN (i * 48271) % 2147483647 % 100 < 92 THEN 'repair' ELSE 'installation' END AS kind,
         (i * 104729) % 300000 + 1 AS eq, (i * 7) % 100 + 1 AS eng, (i * 613) % 730 AS d,
         (i * 69621) % 2147483647 % 100 AS h, (i * 16807) % 2147483647 % 100 AS h2"
    );
    let body = "SELECT i, org, 'B-' || i, kind,
        CASE WHEN kind = 'maintenance' AND d <= 694 THEN
              CASE WHEN h < 3 THEN 'cancelled' WHEN h < 5 THEN 'created' WHEN h < 7 THEN 'scheduled'
                   WHEN h < 9 THEN 'dispatched' WHEN h < 10 THEN 'on_site' WHEN h < 40 THEN 'completed'
                   WHEN h < 70 THEN 'accepted' ELSE 'closed' END
             WHEN kind = 'maintenance' THEN CASE WHEN h < 2 THEN 'cancelled' WHEN h < 60 THEN 'created' ELSE 'scheduled' END
             ELSE CASE WHEN d > 690 AND h < 50 THEN 'on_site' WHEN h < 2 THEN 'cancelled'
                       WHEN h < 40 THEN 'completed' ELSE 'closed' END END,
        eq, eq % 100000 + 1, eq % 200 + 1, eng,
        CASE WHEN kind = 'maintenance' THEN due END,
        CASE WHEN kind = 'maintenance' THEN day0 - 14 * 86400 ELSE day0 + h * 600 END,
        CASE WHEN kind = 'maintenance' THEN
                 CASE WHEN d <= 694 AND h >= 8 THEN day0 + 9 * 3600 + (CASE WHEN h2 < 85 THEN -(h2 % 10) * 86400 ELSE (h2 % 20 + 1) * 86400 END) END
             ELSE CASE WHEN h >= 2 THEN day0 + h * 600 + 3600 * (4 + h2 % 44) END END,
        CASE WHEN kind = 'maintenance' THEN
                 CASE WHEN d <= 694 AND h >= 10 THEN day0 + 12 * 3600 + (CASE WHEN h2 < 85 THEN -(h2 % 10) * 86400 ELSE (h2 % 20 + 1) * 86400 END) END
             ELSE CASE WHEN h >= 2 AND NOT (d > 690 AND h < 50) THEN day0 + h * 600 + 3600 * (4 + h2 % 44) + 3600 * (1 + h % 8) END END,
        CASE WHEN kind = 'repair' AND h >= 2 AND NOT (d > 690 AND h < 50) THEN (h2 < 85) END,
        0, 0, substr(due, 1, 7), day0, day0, 1 FROM c";
    let insert = "INSERT INTO service_orders (id, org_id, number, kind, status, equipment_id, customer_id,
        product_id, engineer_id, due_date, reported_at, arrived_at, completed_at, first_time_fix, fee_fen,
        parts_cost_fen, month, created_at, updated_at, version) ";
    // 2025-01-01 00:00 +08:00
    let day0 = 1_735_660_800;
    match app.backend {
        Backend::Sqlite => {
            let q = format!(
                "{insert} WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}),
                 b AS (SELECT i, {cols} FROM n),
                 c AS (SELECT *, {day0} + d * 86400 AS day0, date('2025-01-01', '+' || d || ' days') AS due FROM b)
                 {body}"
            );
            let mut h = app.st.db.acquire().await.unwrap();
            store::run!(&mut h.c(), x => sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *x).await).unwrap();
            store::run!(&mut h.c(), x => sqlx::query(sqlx::AssertSqlSafe(q.clone())).execute(&mut *x).await).unwrap();
            store::run!(&mut h.c(), x => sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *x).await).unwrap();
        }
        Backend::Postgres => {
            let q = format!(
                "{insert} WITH b AS (SELECT i, {cols} FROM generate_series(1::bigint, {n}::bigint) AS n(i)),
                 c AS (SELECT *, {day0} + d * 86400 AS day0, to_char(DATE '2025-01-01' + CAST(d AS INTEGER), 'YYYY-MM-DD') AS due FROM b)
                 {body}"
            );
            let mut tx = app.st.db.begin().await.unwrap();
            store::run!(&mut tx.c(), x => sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *x).await).unwrap();
            store::run!(&mut tx.c(), x => sqlx::query(sqlx::AssertSqlSafe(q.clone())).execute(&mut *x).await).unwrap();
            tx.commit().await.unwrap();
        }
    }
    analyze(app).await;
}

async fn analyze(app: &TestApp) {
    let mut h = app.st.db.acquire().await.unwrap();
    let q = match app.backend {
        Backend::Sqlite => "ANALYZE",
        Backend::Postgres => "VACUUM ANALYZE service_orders",
    };
    store::run!(&mut h.c(), x => sqlx::query(q).execute(&mut *x).await).unwrap();
}

/// Median of `runs` timings of an async expression, in ms.
macro_rules! median_ms {
    ($runs:expr, $e:expr) => {{
        let mut v = Vec::new();
        for _ in 0..$runs {
            let t = std::time::Instant::now();
            $e;
            v.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }};
}

/// Not a test: times the figures over 1,000,000 generated service orders, with the indexes
/// of migration 0004 only and then with [`PROPOSED_INDEXES`]. Run with
/// `cargo test --release -p server --test it -- maint_figures::bench --ignored --nocapture`
/// (and under `bash .ci/run` for PostgreSQL); `MAINT_FIGURES_BENCH_N` changes the count,
/// `MAINT_FIGURES_BENCH_BACKEND=sqlite|postgres` runs one backend only.
#[tokio::test]
#[ignore]
async fn bench_one_million_orders() {
    use server::maintenance::figures::{By, Request, compute};
    use store::maintenance::figures::{self as repo, Dim, Filter};
    let n: i64 = std::env::var("MAINT_FIGURES_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let only = std::env::var("MAINT_FIGURES_BENCH_BACKEND").unwrap_or_default();
    for be in backends() {
        if !only.is_empty() && !format!("{be:?}").eq_ignore_ascii_case(&only) {
            continue;
        }
        let app = spawn_app(be).await;
        let other = app.other_org("beta", "beta_admin").await;
        let t = std::time::Instant::now();
        generate(&app, other, n).await;
        println!(
            "{be:?}: {n} orders generated in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        // 2026-11-26 12:00 +08:00: the default interval is 2025-12-01 .. 2026-11-26
        let now = 1_796_097_600 - 86_400 * 5 + 4 * 3600;
        let f = Filter {
            org: app.org,
            ..Default::default()
        };
        let (from, to) = ("2025-12-01", "2026-11-26");
        let (start, end) = (1_764_518_400, 1_796_140_800);
        for round in [
            "0004 indexes",
            "proposed indexes",
            "+ covering status index",
        ] {
            let add: &[&str] = match round {
                "proposed indexes" => &PROPOSED_INDEXES,
                "+ covering status index" => &[STATUS_COVERING],
                _ => &[],
            };
            if !add.is_empty() {
                let mut h = app.st.db.acquire().await.unwrap();
                for q in add {
                    store::run!(&mut h.c(), x => sqlx::query(sqlx::AssertSqlSafe(q.to_string())).execute(&mut *x).await).unwrap();
                }
                drop(h);
                analyze(&app).await;
            }
            let st = &app.st;
            let runs = 5;
            let mut h = st.db.acquire().await.unwrap();
            let days = median_ms!(runs, {
                repo::pm_by_day(&mut h.c(), &f, from, to, 57_600)
                    .await
                    .unwrap();
            });
            let mut row = vec![("pm_by_day", days)];
            for (name, dim) in [
                ("pm_by engineer", Dim::Engineer),
                ("pm_by product", Dim::Product),
                ("pm_by customer", Dim::Customer),
            ] {
                let ms = median_ms!(runs, {
                    repo::pm_by(&mut h.c(), &f, dim, from, to, 57_600, 50)
                        .await
                        .unwrap();
                });
                row.push((name, ms));
            }
            let ms = median_ms!(runs, {
                repo::overdue(&mut h.c(), &f, to, "2026-11-19", "2026-10-27")
                    .await
                    .unwrap();
            });
            row.push(("overdue", ms));
            let ms = median_ms!(runs, {
                repo::repairs(&mut h.c(), &f, start, end, 30, 20)
                    .await
                    .unwrap();
            });
            row.push(("repairs", ms));
            drop(h);
            for (name, r) in [
                ("page default (by engineer)", Request::default()),
                (
                    "by customer",
                    Request {
                        by: By::Customer,
                        ..Default::default()
                    },
                ),
                (
                    "engineer filter",
                    Request {
                        engineer_id: Some(7),
                        ..Default::default()
                    },
                ),
                (
                    "product filter",
                    Request {
                        product_id: Some(8),
                        ..Default::default()
                    },
                ),
                (
                    "customer filter",
                    Request {
                        customer_id: Some(9),
                        ..Default::default()
                    },
                ),
            ] {
                let ms = median_ms!(runs, {
                    compute(st, app.org, now, &r).await.unwrap();
                });
                row.push((name, ms));
            }
            let fig = compute(st, app.org, now, &Request::default())
                .await
                .unwrap();
            println!(
                "{be:?}, {round}: due {} on time {} backlog {} repairs {}",
                fig.pm.due, fig.pm.on_time, fig.overdue.total, fig.repairs.repairs
            );
            for (name, ms) in row {
                println!("  {name:<28} {ms:>8.1} ms");
            }
        }
    }
}
