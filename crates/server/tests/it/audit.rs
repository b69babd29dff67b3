//! The audit trail: rows written with each change (and only with committed changes),
//! shown with before → after, and a hash chain whose tampering `audit verify` detects.

use domain::audit::ChainBreak;

use crate::helpers::{backends, spawn_app};

async fn verify(app: &crate::helpers::TestApp) -> store::audit::Verification {
    let mut h = app.st.db.acquire().await.unwrap();
    store::audit::verify(&mut h.c()).await.unwrap()
}

fn cli(app: &crate::helpers::TestApp, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aftersales"))
        .args(args)
        .env("AFTERSALES_DATABASE__URL", &app.url)
        .env("AFTERSALES_AUTH__ARGON2_MEMORY_KIB", "64")
        .env("AFTERSALES_AUTH__ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "error")
        .output()
        .expect("run aftersales");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn changes_are_audited_and_tampering_is_detected() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        let r = s
            .post(
                "/org/departments",
                &[("name", "售后服务部"), ("code", "SVC")],
            )
            .await;
        assert_eq!(r.status(), 303, "{b:?}");
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let id: i64 = loc
            .trim_start_matches("/org/departments/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let (_, form) = s.page(&format!("/org/departments/{id}/edit")).await;
        assert!(form.contains("name=\"version\" value=\"1\""));
        let r = s
            .post(
                &format!("/org/departments/{id}"),
                &[("name", "服务部"), ("code", "SVC"), ("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 303);
        // A refused change leaves no audit row.
        let r = s.post("/org/departments", &[("name", "")]).await;
        assert_eq!(r.status(), 422);

        // The list, filtered in SQL, and the entry with before → after.
        let (st, html) = s
            .page(&format!("/audit?entity=department&entity_id={id}"))
            .await;
        assert_eq!(st, 200);
        assert_eq!(
            html.matches("href=\"/audit/").count(),
            2,
            "create + update only"
        );
        let mut h = app.st.db.acquire().await.unwrap();
        let (entry,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT MAX(id) FROM audit_log WHERE entity = 'department'").fetch_one(x).await)
        .unwrap();
        drop(h);
        let (st, html) = s.page(&format!("/audit/{entry}")).await;
        assert_eq!(st, 200);
        assert!(
            html.contains("售后服务部") && html.contains("服务部"),
            "before and after shown"
        );
        assert!(html.contains("class=\"changed\""));
        let (_, html) = s.page("/audit?actor=ADM&action=update").await;
        assert!(
            html.contains(&format!("/audit/{entry}")),
            "actor filter is case-insensitive"
        );
        let (_, html) = s.page("/audit?action=retire").await;
        assert!(!html.contains(&format!("/audit/{entry}")));

        // Intact chain, by the library and by the command line.
        let v = verify(&app).await;
        assert!(v.broken.is_none(), "{v:?}");
        assert!(v.rows >= 3);
        let (code, out) = cli(&app, &["audit", "verify"]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("intact"), "{out}");

        // Editing a row's content is caught at that row.
        app.exec("UPDATE audit_log SET after_json = '{\"name\":\"forged\"}' WHERE id = (SELECT MIN(id) FROM audit_log WHERE entity = 'department')").await;
        let v = verify(&app).await;
        assert!(
            matches!(v.broken, Some((_, ChainBreak::Content { .. }))),
            "{v:?}"
        );
        let (code, out) = cli(&app, &["audit", "verify"]);
        assert_eq!(code, 2, "{out}");
        assert!(
            out.contains("BROKEN") && out.contains("content altered"),
            "{out}"
        );
    }
}

#[tokio::test]
async fn deleting_rows_breaks_the_chain() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        for name in ["甲", "乙", "丙"] {
            assert_eq!(
                s.post("/org/departments", &[("name", name)]).await.status(),
                303
            );
        }
        assert!(verify(&app).await.broken.is_none());
        // Removing the newest row: the head no longer matches.
        app.exec("DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)")
            .await;
        assert!(
            matches!(verify(&app).await.broken, Some((_, ChainBreak::Gap { .. }))),
            "{b:?}"
        );
    }
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        for name in ["甲", "乙", "丙"] {
            assert_eq!(
                s.post("/org/departments", &[("name", name)]).await.status(),
                303
            );
        }
        // Removing a middle row: a gap in the sequence.
        app.exec("DELETE FROM audit_log WHERE entity = 'department' AND seq = (SELECT MIN(seq) FROM audit_log WHERE entity = 'department')").await;
        assert!(
            matches!(verify(&app).await.broken, Some((_, ChainBreak::Gap { .. }))),
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn the_audit_count_stops_at_its_cap() {
    for b in backends() {
        let app = spawn_app(b).await;
        let items: Vec<store::audit::Item> = (0..10_050)
            .map(|i| store::audit::Item {
                action: "create",
                entity: "staff",
                entity_id: Some(i),
                before: None,
                after: Some(serde_json::json!({"n": i})),
            })
            .collect();
        let mut tx = app.st.db.begin().await.unwrap();
        store::audit::record_many(
            &mut tx.c(),
            Some(app.org),
            &store::audit::Actor::system("test"),
            1,
            &items,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let s = app.login("admin").await;
        let (st, html) = s.page("/audit?entity=staff").await;
        assert_eq!(st, 200, "{b:?}");
        assert!(html.contains("10000+"), "capped total shown");
        assert!(html.contains("id=\"page-next\""), "more pages offered");
        let (_, v) = app
            .api(&app.token(app.admin_id, app.org).await)
            .get("/api/v1/audit?entity=staff&entity_id=7")
            .await;
        assert_eq!(v["total"], 1, "filters still count exactly");
        assert!(
            verify(&app).await.broken.is_none(),
            "record_many keeps the chain"
        );
    }
}
