//! The background worker of this instance: the platform's periodic jobs and the loop that
//! runs them. Later features register their handlers in [`worker`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use store::Db;
use store::jobs::{Handler, Job, Periodic, Worker};

use crate::app::AppState;

/// Expired sessions and day-old login attempts go every hour.
pub const SESSIONS_CLEANUP: &str = "sessions.cleanup";
/// Finished jobs older than 30 days go every day.
pub const JOBS_PRUNE: &str = "jobs.prune";
/// The audit chains are re-verified every day; a break is logged as an error.
pub const AUDIT_VERIFY: &str = "audit.verify";
/// Complaint SLA warnings and escalations are looked for every minute.
pub const COMPLAINT_ALERTS: &str = "complaints.sla_alerts";
/// Corrective actions in their effectiveness check are evaluated every hour.
pub const CAPA_EFFECTIVENESS: &str = "capa.effectiveness";
/// Overdue corrective-action items escalate; looked for every hour.
pub const CAPA_OVERDUE: &str = "capa.overdue";
/// Maintenance plans create their orders inside the horizon every hour (each order once).
pub const MAINTENANCE_SCHEDULER: &str = "maintenance.scheduler";
/// Overdue service orders are flagged and escalated every hour.
pub const ORDERS_OVERDUE: &str = "maintenance.overdue";
/// Return visits are generated (complaints at their visit, sampled service orders) every 10 minutes.
pub const SATISFACTION_VISITS: &str = "satisfaction.visits";

fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Db, Job) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move |db, job| Box::pin(f(db, job)))
}

async fn sessions_cleanup(db: Db, _job: Job) -> Result<(), String> {
    let now = crate::now();
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    let n = store::sessions::cleanup(&mut tx.c(), now, now - 86_400)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    tracing::info!(removed = n, "sessions cleaned up");
    Ok(())
}

async fn jobs_prune(db: Db, _job: Job) -> Result<(), String> {
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    store::jobs::prune(&mut tx.c(), crate::now() - 30 * 86_400)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}

async fn audit_verify(db: Db, _job: Job) -> Result<(), String> {
    let mut h = db.acquire().await.map_err(|e| e.to_string())?;
    let v = store::audit::verify(&mut h.c())
        .await
        .map_err(|e| e.to_string())?;
    match v.broken {
        None => tracing::info!(rows = v.rows, chains = v.chains, "audit chain intact"),
        Some((chain, b)) => tracing::error!(chain, ?b, "AUDIT CHAIN BROKEN"),
    }
    Ok(())
}

async fn complaint_alerts(db: Db, _job: Job) -> Result<(), String> {
    let n = crate::complaints::sla::run_alerts(&db, crate::now())
        .await
        .map_err(|e| format!("{e:?}"))?;
    if n > 0 {
        tracing::info!(alerts = n, "complaint SLA alerts sent");
    }
    Ok(())
}

async fn capa_effectiveness(db: Db, _job: Job) -> Result<(), String> {
    crate::complaints::capa::run_effectiveness(&db, crate::now())
        .await
        .map(drop)
        .map_err(|e| format!("{e:?}"))
}

async fn capa_overdue(db: Db, _job: Job) -> Result<(), String> {
    crate::complaints::capa::run_overdue(&db, crate::now())
        .await
        .map(drop)
        .map_err(|e| format!("{e:?}"))
}

async fn maintenance_scheduler(db: Db, _job: Job) -> Result<(), String> {
    let r = crate::maintenance::plans::run_scheduler(&db, crate::now())
        .await
        .map_err(|e| format!("{e:?}"))?;
    tracing::info!(report = ?r, "maintenance scheduler ran");
    Ok(())
}

async fn satisfaction_visits(db: Db, _job: Job) -> Result<(), String> {
    crate::satisfaction::visits::generate(&db, crate::now())
        .await
        .map(drop)
        .map_err(|e| format!("{e:?}"))
}

async fn orders_overdue(db: Db, _job: Job) -> Result<(), String> {
    crate::maintenance::plans::run_overdue(&db, crate::now())
        .await
        .map(drop)
        .map_err(|e| format!("{e:?}"))
}

/// The worker with every registered handler and periodic job.
pub fn worker(db: Db, id: String) -> Worker {
    let mut handlers: HashMap<String, Handler> = HashMap::new();
    handlers.insert(SESSIONS_CLEANUP.into(), handler(sessions_cleanup));
    handlers.insert(JOBS_PRUNE.into(), handler(jobs_prune));
    handlers.insert(AUDIT_VERIFY.into(), handler(audit_verify));
    handlers.insert(COMPLAINT_ALERTS.into(), handler(complaint_alerts));
    handlers.insert(CAPA_EFFECTIVENESS.into(), handler(capa_effectiveness));
    handlers.insert(CAPA_OVERDUE.into(), handler(capa_overdue));
    handlers.insert(MAINTENANCE_SCHEDULER.into(), handler(maintenance_scheduler));
    handlers.insert(ORDERS_OVERDUE.into(), handler(orders_overdue));
    handlers.insert(SATISFACTION_VISITS.into(), handler(satisfaction_visits));
    Worker {
        db,
        id,
        handlers,
        periodic: vec![
            Periodic {
                kind: SESSIONS_CLEANUP,
                every: 3600,
            },
            Periodic {
                kind: JOBS_PRUNE,
                every: 86_400,
            },
            Periodic {
                kind: AUDIT_VERIFY,
                every: 86_400,
            },
            Periodic {
                kind: COMPLAINT_ALERTS,
                every: 60,
            },
            Periodic {
                kind: CAPA_EFFECTIVENESS,
                every: 3600,
            },
            Periodic {
                kind: CAPA_OVERDUE,
                every: 3600,
            },
            Periodic {
                kind: MAINTENANCE_SCHEDULER,
                every: 3600,
            },
            Periodic {
                kind: ORDERS_OVERDUE,
                every: 3600,
            },
            Periodic {
                kind: SATISFACTION_VISITS,
                every: 600,
            },
        ],
        lease: 600,
    }
}

/// Runs the worker every `tick_secs` until the process ends.
pub fn spawn(st: AppState) {
    if !st.settings.jobs.enabled {
        return;
    }
    let w = worker(
        st.db.clone(),
        format!("{}-{}", hostname(), store::random_hex(4)),
    );
    let every = Duration::from_secs(st.settings.jobs.tick_secs.max(1));
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        loop {
            interval.tick().await;
            match store::offload(w.tick(crate::now())).await {
                Ok(r) => {
                    for _ in 0..r.done {
                        st.metrics.job(true);
                    }
                    for _ in 0..r.failed {
                        st.metrics.job(false);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "job tick failed"),
            }
        }
    });
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "aftersales".into())
}
