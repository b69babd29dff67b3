//! Keeps the benchmark programs compiling and running (CI): the load engine for half a
//! second against a trivial local HTTP server, the limit for a moment on a fresh SQLite
//! database. Quick and not timed: they check that numbers come out, not what they are.

use std::sync::Arc;
use std::time::Duration;

use bench::{Req, limit, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers every request on a keep-alive connection with `200 ok`.
async fn trivial_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = s.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if s.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn load_engine_measures_a_trivial_server() {
    let addr = trivial_server().await;
    let o = run(
        addr,
        4,
        Duration::from_millis(500),
        |s| s == 200,
        Arc::new(|_, _| Some(Req::get("/"))),
    )
    .await;
    assert!(o.requests > 0, "{o:?}");
    assert_eq!(o.errors, 0, "{o:?}");
    assert!(o.rps > 0.0 && o.p99_ms >= o.p50_ms);
    assert_eq!(o.json()["requests"], o.requests);
    // A maker that stops ends the run early, without errors.
    let o = run(
        addr,
        2,
        Duration::from_secs(5),
        |s| s == 200,
        Arc::new(|_, seq| (seq < 3).then(|| Req::get("/"))),
    )
    .await;
    assert_eq!((o.requests, o.errors), (6, 0));
    assert!(o.seconds < 4.0);
}

#[tokio::test]
async fn limit_runs_on_a_fresh_sqlite_database() {
    let path = std::env::temp_dir().join(format!("bench-smoke-{}.db", std::process::id()));
    let url = format!("sqlite:{}", path.display());
    let db = store::Db::connect(&url, 4).await.unwrap();
    store::migrate::run(&db, 0).await.unwrap();
    let d = limit::durability(&db).await.unwrap();
    assert_eq!(d["journal_mode"], "wal");
    assert_eq!(d["synchronous"], "full");
    let rate = limit::commits(&db, 2, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(rate > 0.0);
    let iv = limit::interval(1_780_000_000, None);
    assert_eq!(iv.months.len(), 12);
    let (_, total) = limit::figures(&db, 1, &iv).await.unwrap();
    assert_eq!(total, 0);
    let (_, answers) = limit::study(&db, 1).await.unwrap();
    assert_eq!(answers, 0);
    db.close().await;
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}
