//! The job queue: two workers against one database run each periodic job once per period,
//! and a failing job is retried, then given up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use store::Db;
use store::jobs::{Handler, Job, Periodic, Worker};

use crate::helpers::{backends, fresh_url};

fn counting_worker(db: Db, id: &str, seen: Arc<Mutex<HashMap<String, usize>>>) -> Worker {
    let mut handlers: HashMap<String, Handler> = HashMap::new();
    let h: Handler = Arc::new(move |_db, job: Job| {
        let seen = seen.clone();
        Box::pin(async move {
            // Hold the job a little so the other worker has a chance to grab it too.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            *seen
                .lock()
                .unwrap()
                .entry(job.period_key.unwrap_or_default())
                .or_default() += 1;
            Ok(())
        })
    });
    handlers.insert("test.tick".into(), h);
    Worker {
        db,
        id: id.into(),
        handlers,
        periodic: vec![Periodic {
            kind: "test.tick",
            every: 60,
        }],
        lease: 600,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn periodic_jobs_run_once_per_period_across_workers() {
    for b in backends() {
        let url = fresh_url(b).await;
        let a = Db::connect(&url, 3).await.unwrap();
        store::migrate::run(&a, 0).await.unwrap();
        // A second pool: as far as the database can tell, another instance.
        let c = Db::connect(&url, 3).await.unwrap();
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let w1 = counting_worker(a.clone(), "w1", seen.clone());
        let w2 = counting_worker(c.clone(), "w2", seen.clone());
        let start = 1_800_000_000i64;
        for period in 0..20 {
            // Several ticks per period on each worker, concurrently.
            let mut tasks = Vec::new();
            for k in 0..3 {
                let now = start + period * 60 + k * 7;
                let (w1, w2) = (w1.clone(), w2.clone());
                tasks.push(tokio::spawn(async move { w1.tick(now).await.unwrap() }));
                tasks.push(tokio::spawn(async move { w2.tick(now).await.unwrap() }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 20, "{b:?}: one entry per period: {seen:?}");
        assert!(
            seen.values().all(|n| *n == 1),
            "{b:?}: each period ran once: {seen:?}"
        );
        assert_eq!(
            store::jobs::count_kind(&a, "test.tick", "done")
                .await
                .unwrap(),
            20
        );
    }
}

#[tokio::test]
async fn failing_jobs_retry_then_die() {
    for b in backends() {
        let url = fresh_url(b).await;
        let db = Db::connect(&url, 2).await.unwrap();
        store::migrate::run(&db, 0).await.unwrap();
        let mut handlers: HashMap<String, Handler> = HashMap::new();
        let h: Handler = Arc::new(|_db, _job| Box::pin(async { Err("boom".to_string()) }));
        handlers.insert("test.fail".into(), h);
        let w = Worker {
            db: db.clone(),
            id: "w".into(),
            handlers,
            periodic: vec![],
            lease: 60,
        };
        {
            let mut tx = db.begin().await.unwrap();
            store::jobs::enqueue(&mut tx.c(), "test.fail", None, "{}", 0, 0)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let mut now = 10;
        let mut failures = 0;
        for _ in 0..10 {
            failures += w.tick(now).await.unwrap().failed;
            now += 10_000; // past any back-off
        }
        assert_eq!(failures, 5, "{b:?}: tried max_attempts times");
        assert_eq!(
            store::jobs::count_kind(&db, "test.fail", "dead")
                .await
                .unwrap(),
            1
        );
        // An unknown kind is a failure too, never silently dropped.
        {
            let mut tx = db.begin().await.unwrap();
            store::jobs::enqueue(&mut tx.c(), "test.unknown", None, "{}", 0, 0)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(w.tick(now).await.unwrap().failed, 1);
    }
}
