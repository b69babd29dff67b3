//! The benchmark volume (`aftersales demo --volume`, issue 7) at a small size: every
//! complaint state present, each complaint's history consistent with its state and readable
//! through the service; numbers continue the counters (a complaint registered afterwards gets
//! a fresh number) and a bulk complaint moves on through the API; service orders of every
//! kind and status; the study's answers; and `aftersales maintenance schedule`.

use domain::auth::Role;
use domain::complaints::lifecycle::Status;
use server::demo::complaints::Who;
use server::demo::volume::{self, ITEMS, Sizes};

use crate::helpers::{backends, spawn_app};

async fn rows(app: &crate::helpers::TestApp, sql: &'static str, org: i64) -> Vec<(String, i64)> {
    let mut h = app.st.db.acquire().await.unwrap();
    store::on!(&mut h.c(), x => sqlx::query_as(sql).bind(org).fetch_all(x).await).unwrap()
}

#[tokio::test]
async fn volume_is_consistent_and_usable() {
    for b in backends() {
        let app = spawn_app(b).await;
        let demo = server::demo::load(&app.st, app.admin_id, 0)
            .await
            .unwrap()
            .unwrap();
        let org = demo.org_id;
        let mut who = Vec::new();
        for (login, role) in [
            ("business", Role::Staff),
            ("engineer", Role::Engineer),
            ("manager", Role::Manager),
            ("production", Role::Staff),
        ] {
            let mut h = app.st.db.acquire().await.unwrap();
            let id = store::users::by_login(&mut h.c(), login)
                .await
                .unwrap()
                .unwrap()
                .0
                .id;
            who.push(Who { login, id, role });
        }
        let sizes = Sizes {
            customers: 50,
            complaints: 1200,
            service_orders: 400,
            responses: 60,
        };
        let c = volume::generate(&app.st, org, &who, sizes).await.unwrap();
        assert_eq!(
            (c.customers, c.complaints, c.service_orders, c.responses),
            (50, 1200, 400, 60)
        );
        assert_eq!(c.answers, 60 * ITEMS.len());
        // `demo --volume` then merges the full-text index its bulk transactions left in many
        // segments into one (SQLite; searches read every segment).
        let mut tx = app.st.db.begin().await.unwrap();
        store::search::compact(&mut tx.c()).await.unwrap();
        tx.commit().await.unwrap();
        if b == crate::helpers::Backend::Sqlite {
            let segments = rows(
                &app,
                "SELECT 'segments', COUNT(DISTINCT segid) FROM search_fts_idx WHERE $1 > 0",
                org,
            )
            .await;
            assert_eq!(segments[0].1, 1, "{segments:?}");
        }
        let mut h = app.st.db.acquire().await.unwrap();
        let q = domain::search::query("华东").unwrap();
        let hits = store::search::find(&mut h.c(), org, &q, None, 10)
            .await
            .unwrap();
        assert!(!hits.is_empty(), "{b:?}: the index still answers");
        drop(h);

        // Every state, and every complaint with a history ending in its state.
        let by_status = rows(
            &app,
            "SELECT status, COUNT(*) FROM complaints WHERE org_id = $1 GROUP BY status",
            org,
        )
        .await;
        for s in Status::ALL {
            assert!(
                by_status.iter().any(|r| r.0 == s.as_str() && r.1 > 0),
                "{b:?}: no {} complaint in {by_status:?}",
                s.as_str()
            );
        }
        let bad = rows(
            &app,
            "SELECT c.number, COUNT(*) FROM complaints c WHERE c.org_id = $1 AND c.status <> (
                SELECT e.to_status FROM complaint_events e WHERE e.complaint_id = c.id
                ORDER BY e.at DESC, e.id DESC LIMIT 1) GROUP BY c.number",
            org,
        )
        .await;
        assert!(bad.is_empty(), "{b:?}: last event ≠ status: {bad:?}");
        let unclocked = rows(
            &app,
            "SELECT status, COUNT(*) FROM complaints WHERE org_id = $1
               AND ((status NOT IN ('closed', 'withdrawn') AND next_due IS NULL)
                 OR (status = 'closed' AND (resolution_secs IS NULL OR closed_at IS NULL)))
             GROUP BY status",
            org,
        )
        .await;
        assert!(
            unclocked.is_empty(),
            "{b:?}: SLA fields missing: {unclocked:?}"
        );

        // One complaint of each state reads through the service (the detail page's data).
        let token = app.token(app.admin_id, org).await;
        let api = app.api(&token);
        for s in Status::ALL {
            let (st, list) = api
                .get(&format!(
                    "/api/v1/complaints?status={}&per_page=1",
                    s.as_str()
                ))
                .await;
            assert_eq!(st, 200);
            let id = list["items"][0]["id"].as_i64().unwrap();
            let (st, d) = api.get(&format!("/api/v1/complaints/{id}")).await;
            assert_eq!(st, 200, "{b:?}: {d}");
            assert_eq!(d["complaint"]["status"], s.as_str());
            assert!(!d["events"].as_array().unwrap().is_empty());
        }

        // A bulk complaint moves on; a new one gets a number of its own.
        let (_, list) = api
            .get("/api/v1/complaints?status=received&per_page=1")
            .await;
        let item = &list["items"][0];
        let (st, moved) = api
            .post(
                &format!("/api/v1/complaints/{}/actions/confirm", item["id"]),
                serde_json::json!({ "version": item["version"] }),
            )
            .await;
        assert_eq!(st, 200, "{b:?}: {moved}");
        assert_eq!(moved["status"], "confirmed");
        let (st, unit) = api.get("/api/v1/equipment?per_page=1").await;
        assert_eq!(st, 200);
        let (st, created) = api
            .post(
                "/api/v1/complaints",
                serde_json::json!({
                    "channel": "phone", "class": "other", "severity": "minor",
                    "equipment_id": unit["items"][0]["id"],
                    "customer_id": unit["items"][0]["customer_id"],
                    "description": "基准数据之后登记的投诉",
                }),
            )
            .await;
        assert_eq!(st, 201, "{b:?}: {created}");
        let dup = rows(
            &app,
            "SELECT number, COUNT(*) FROM complaints WHERE org_id = $1 GROUP BY number HAVING COUNT(*) > 1",
            org,
        )
        .await;
        assert!(dup.is_empty());

        // Service orders of every kind and status.
        let kinds = rows(
            &app,
            "SELECT kind, COUNT(*) FROM service_orders WHERE org_id = $1 AND plan_id IS NULL GROUP BY kind",
            org,
        )
        .await;
        assert_eq!(kinds.len(), 7, "{kinds:?}");
        let statuses = rows(
            &app,
            "SELECT status, COUNT(*) FROM service_orders WHERE org_id = $1 AND plan_id IS NULL GROUP BY status",
            org,
        )
        .await;
        assert_eq!(statuses.len(), 8, "{statuses:?}");

        // The study: one response per invitation, every item answered, scores set.
        let answers = rows(
            &app,
            "SELECT CAST(r.study_id AS TEXT), COUNT(*) FROM survey_answers a
             JOIN survey_responses r ON r.id = a.response_id
             WHERE r.org_id = $1 AND r.score IS NOT NULL AND r.invitation_id IS NOT NULL
             GROUP BY r.study_id",
            org,
        )
        .await;
        // The demo's own study (answered through the service) is not the volume's.
        let answers: Vec<(String, i64)> = answers
            .into_iter()
            .filter(|(s, _)| *s == c.study_id.to_string())
            .collect();
        assert_eq!(
            answers,
            vec![(c.study_id.to_string(), (60 * ITEMS.len()) as i64)]
        );
    }
}

#[test]
fn maintenance_schedule_and_demo_volume_on_the_command_line() {
    let dir = std::env::temp_dir().join(format!("aftersales-bench-{}", store::random_hex(6)));
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_aftersales"))
            .args(args)
            .arg("--data-dir")
            .arg(&dir)
            .env_remove("AFTERSALES_DATABASE__URL")
            .env("RUST_LOG", "error")
            .output()
            .expect("run aftersales");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, help) = run(&["demo", "--help"]);
    assert!(ok && help.contains("--volume"), "{help}");
    let (ok, out) = run(&["maintenance", "schedule"]);
    assert!(ok && out.starts_with("plans 0 units 0 created 0"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
