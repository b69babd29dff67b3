//! Operations endpoints, migrations on both backends, configuration and the command line.

use store::Db;

use crate::helpers::{backends, fresh_url, spawn_app};

#[tokio::test]
async fn health_readiness_and_metrics() {
    for b in backends() {
        let app = spawn_app(b).await;
        let c = reqwest::Client::new();
        let r = c.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "ok");
        let r = c.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{b:?}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["ready"], true);
        assert_eq!(v["migrations"]["applied"], v["migrations"]["expected"]);
        let _ = c.get(app.url("/login")).send().await.unwrap();
        let m = c
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            m.contains(
                "aftersales_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"}"
            ),
            "{m}"
        );
        assert!(m.contains("aftersales_http_request_duration_seconds_bucket"));
        assert!(m.contains("aftersales_jobs_processed_total{outcome=\"done\"}"));
        // Not ready when the schema is behind the binary.
        app.exec("DELETE FROM schema_migrations").await;
        assert_eq!(
            c.get(app.url("/readyz")).send().await.unwrap().status(),
            503
        );
    }
}

#[tokio::test]
async fn migrations_match_across_backends_and_are_guarded() {
    let mut schemas = Vec::new();
    for b in backends() {
        let url = fresh_url(b).await;
        let db = Db::connect(&url, 2).await.unwrap();
        let all: Vec<i64> = store::migrate::SQLITE.iter().map(|m| m.version).collect();
        assert_eq!(store::migrate::run(&db, 0).await.unwrap(), all);
        assert!(
            store::migrate::run(&db, 0).await.unwrap().is_empty(),
            "second run is a no-op"
        );
        let schema = store::migrate::schema(&db).await.unwrap();
        for t in [
            "organizations",
            "users",
            "departments",
            "posts",
            "staff",
            "audit_log",
            "jobs",
            "sessions",
        ] {
            assert!(schema.iter().any(|(tab, _)| tab == t), "{b:?} lacks {t}");
        }
        // An applied migration whose text changed stops start-up.
        let mut tx = db.begin().await.unwrap();
        store::run!(&mut tx.c(), x => sqlx::query("UPDATE schema_migrations SET checksum = 'x'").execute(x).await)
            .unwrap();
        tx.commit().await.unwrap();
        let e = store::migrate::run(&db, 0).await.unwrap_err().to_string();
        assert!(e.contains("edited"), "{e}");
        schemas.push(schema);
    }
    if schemas.len() == 2 {
        assert_eq!(
            schemas[0], schemas[1],
            "SQLite and PostgreSQL schemas differ"
        );
    }
    assert_eq!(store::migrate::SQLITE.len(), store::migrate::POSTGRES.len());
    for (s, p) in store::migrate::SQLITE.iter().zip(store::migrate::POSTGRES) {
        assert_eq!((s.version, s.name), (p.version, p.name));
    }
}

#[tokio::test]
async fn unknown_database_scheme_is_an_error() {
    for url in ["mysql://localhost/x", "sqlit:data/x.db", "data/x.db"] {
        let e = Db::connect(url, 1).await.unwrap_err().to_string();
        assert!(e.contains("unknown scheme"), "{url}: {e}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aftersales"))
        .args(["migrate"])
        .env("AFTERSALES_DATABASE__URL", "mysql://localhost/x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scheme"));
}

fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aftersales"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("AFTERSALES_DATABASE__URL")
        .env("AFTERSALES_AUTH__ARGON2_MEMORY_KIB", "64")
        .env("AFTERSALES_AUTH__ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "error")
        .output()
        .expect("run aftersales");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn command_line_on_a_data_directory() {
    let dir = std::env::temp_dir().join(format!("aftersales-cli-{}", store::random_hex(6)));
    // Every subcommand has --help.
    for cmd in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["demo", "--help"],
        vec!["user", "create", "--help"],
        vec!["user", "reset-password", "--help"],
        vec!["token", "create", "--help"],
        vec!["config", "example", "--help"],
        vec!["config", "check", "--help"],
        vec!["backup", "--help"],
        vec!["audit", "verify", "--help"],
    ] {
        let (ok, out, _) = run(&dir, &cmd);
        assert!(ok && out.contains("Usage"), "{cmd:?}");
    }
    let (ok, example, _) = run(&dir, &["config", "example"]);
    assert!(ok && example.contains("[database]"));

    let (ok, out, err) = run(&dir, &["demo", "--scale", "1"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("administrator login: admin / password: "),
        "{out}"
    );
    assert!(dir.join("aftersales.db").exists(), "--data-dir is honoured");
    let (ok, out, _) = run(&dir, &["demo"]);
    assert!(ok && out.contains("already"), "{out}");

    let (ok, token, err) = run(&dir, &["token", "create", "--user", "admin"]);
    assert!(ok, "{err}");
    let token = token.trim().to_string();
    assert!(token.starts_with("as_"));

    let (ok, out, err) = run(
        &dir,
        &[
            "user", "create", "--login", "wu.qiang", "--role", "engineer",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("password: "));
    let (ok, _, err) = run(
        &dir,
        &["user", "create", "--login", "wu.qiang", "--role", "nobody"],
    );
    assert!(!ok && err.contains("role"), "{err}");
    let (ok, out, _) = run(&dir, &["user", "reset-password", "--login", "wu.qiang"]);
    assert!(ok && out.contains("new password for wu.qiang"));

    let backup = dir.join("copy.db");
    let (ok, out, err) = run(&dir, &["backup", "--out", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("backup written"));
    // The copy is a complete database: the demo's staff (8 + 20) are in it.
    let copy = Db::connect(&format!("sqlite:{}", backup.display()), 1)
        .await
        .unwrap();
    let mut h = copy.acquire().await.unwrap();
    let (n,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as("SELECT COUNT(*) FROM staff").fetch_one(x).await)
        .unwrap();
    assert_eq!(n, 28);
    drop(h);

    let (ok, out, _) = run(&dir, &["audit", "verify"]);
    assert!(ok && out.contains("intact"), "{out}");
    let (ok, out, _) = run(&dir, &["config", "check"]);
    let latest = store::migrate::latest();
    assert!(
        ok && out.contains(&format!("migrations at {latest} of {latest}")),
        "{out}"
    );

    // The token printed by the CLI works against a server on the same data directory.
    let s =
        crate::helpers::test_settings(&format!("sqlite:{}", dir.join("aftersales.db").display()));
    let db = Db::connect(&s.database_url(), 2).await.unwrap();
    let st = server::app::AppState::new(db, s);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = server::app::serve_on(st, listener).await;
    });
    let me: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["login"], "admin");
    assert_eq!(me["role"], "admin");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn serve_prints_the_admin_login_once() {
    let dir = std::env::temp_dir().join(format!("aftersales-serve-{}", store::random_hex(6)));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let bind = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aftersales"))
        .args([
            "serve",
            "--demo",
            "--bind",
            &bind,
            "--data-dir",
            dir.to_str().unwrap(),
        ])
        .env_remove("AFTERSALES_DATABASE__URL")
        .env("AFTERSALES_AUTH__ARGON2_MEMORY_KIB", "64")
        .env("AFTERSALES_AUTH__ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let c = reqwest::Client::new();
    let mut up = false;
    // Up to 30 s: a debug build loads the demo archives before it listens.
    for _ in 0..300 {
        if c.get(format!("http://{bind}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(up, "server did not come up: {text}");
    assert!(text.contains(&format!("http://{bind}")), "{text}");
    assert!(
        text.contains("administrator login: admin / password: "),
        "{text}"
    );
    assert!(text.contains("demo company loaded"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A PostgreSQL deadlock reaches the services as `StoreError::Contention` (what
/// `complaints::service::act` runs again), not as an opaque failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_is_reported_as_contention() {
    if !backends().contains(&crate::helpers::Backend::Postgres) {
        return;
    }
    let app = spawn_app(crate::helpers::Backend::Postgres).await;
    let a = app.org;
    let mut t1 = app.st.db.begin().await.unwrap();
    let mut t2 = app.st.db.begin().await.unwrap();
    let touch = "UPDATE organizations SET name = name WHERE id = $1";
    store::run!(&mut t1.c(), x => sqlx::query(touch).bind(a).execute(x).await).unwrap();
    store::run!(&mut t2.c(), x => sqlx::query("UPDATE users SET login = login WHERE id = $1")
        .bind(app.admin_id).execute(x).await)
    .unwrap();
    let one = async {
        let r = store::run!(&mut t1.c(), x => sqlx::query("UPDATE users SET login = login WHERE id = $1")
            .bind(app.admin_id).execute(x).await);
        (r.map_err(store::StoreError::from_sqlx), t1)
    };
    let two = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let r = store::run!(&mut t2.c(), x => sqlx::query(touch).bind(a).execute(x).await);
        (r.map_err(store::StoreError::from_sqlx), t2)
    };
    let ((r1, _t1), (r2, _t2)) = tokio::join!(one, two);
    let lost: Vec<_> = [r1, r2].into_iter().filter_map(Result::err).collect();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert!(
        matches!(lost[0], store::StoreError::Contention(_)),
        "{:?}",
        lost[0]
    );
}
