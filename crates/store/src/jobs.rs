//! The job queue: jobs live in the database so any instance may run them. A job is claimed
//! with `FOR UPDATE SKIP LOCKED` on PostgreSQL and under `BEGIN IMMEDIATE` on SQLite, so it
//! runs once; periodic work is enqueued with a unique `(kind, period_key)`, so N instances
//! schedule each period once.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::db::{Backend, Conn, Db};
use crate::error::StoreResult;
use crate::{on, run};

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub period_key: Option<String>,
    pub payload: String,
    pub attempts: i64,
}

/// Enqueues a job; with a `period_key`, a second enqueue of the same (kind, key) is a no-op.
/// Returns true when a row was inserted.
pub async fn enqueue(
    c: &mut Conn<'_>,
    kind: &str,
    period_key: Option<&str>,
    payload: &str,
    run_at: i64,
    now: i64,
) -> StoreResult<bool> {
    let r = run!(c, x => sqlx::query(
        "INSERT INTO jobs (kind, period_key, payload, status, run_at, attempts, max_attempts, created_at)
         VALUES ($1, $2, $3, 'queued', $4, 0, 5, $5) ON CONFLICT (kind, period_key) DO NOTHING")
        .bind(kind).bind(period_key).bind(payload).bind(run_at).bind(now).execute(x).await)?;
    Ok(r == 1)
}

/// Claims the next due job (or a running one whose lease expired), leasing it to `worker`.
pub async fn claim(db: &Db, worker: &str, now: i64, lease: i64) -> StoreResult<Option<Job>> {
    let mut tx = db.begin().await?;
    let mut c = tx.c();
    type R = (i64, String, Option<String>, String, i64);
    let row: Option<R> = match c.backend() {
        Backend::Postgres => on!(&mut c, x => sqlx::query_as(
            "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $3, attempts = attempts + 1
             WHERE id = (SELECT id FROM jobs
                         WHERE (status = 'queued' AND run_at <= $2) OR (status = 'running' AND locked_until < $2)
                         ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id, kind, period_key, payload, attempts")
            .bind(worker).bind(now).bind(now + lease).fetch_optional(x).await)?,
        Backend::Sqlite => on!(&mut c, x => sqlx::query_as(
            "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $3, attempts = attempts + 1
             WHERE id = (SELECT id FROM jobs
                         WHERE (status = 'queued' AND run_at <= $2) OR (status = 'running' AND locked_until < $2)
                         ORDER BY run_at, id LIMIT 1)
             RETURNING id, kind, period_key, payload, attempts")
            .bind(worker).bind(now).bind(now + lease).fetch_optional(x).await)?,
    };
    tx.commit().await?;
    Ok(row.map(|r| Job {
        id: r.0,
        kind: r.1,
        period_key: r.2,
        payload: r.3,
        attempts: r.4,
    }))
}

/// Marks a job done.
pub async fn complete(db: &Db, id: i64, now: i64) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    run!(&mut tx.c(), x => sqlx::query(
        "UPDATE jobs SET status = 'done', finished_at = $2, locked_by = NULL, locked_until = NULL, last_error = NULL
         WHERE id = $1")
        .bind(id).bind(now).execute(x).await)?;
    tx.commit().await
}

/// Records a failure: retried later with back-off, or dead after `max_attempts`.
pub async fn fail(db: &Db, id: i64, error: &str, now: i64) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    run!(&mut tx.c(), x => sqlx::query(
        "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
            run_at = $3 + 60 * attempts * attempts, last_error = $2, locked_by = NULL, locked_until = NULL,
            finished_at = CASE WHEN attempts >= max_attempts THEN $3 ELSE NULL END
         WHERE id = $1")
        .bind(id).bind(error).bind(now).execute(x).await)?;
    tx.commit().await
}

/// Job counts by status, for `/metrics`.
pub async fn counts(db: &Db) -> StoreResult<Vec<(String, i64)>> {
    let mut h = db.acquire().await?;
    let rows = on!(&mut h.c(), x => sqlx::query_as(
        "SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status").fetch_all(x).await)?;
    Ok(rows)
}

/// Number of jobs of one kind, by status (tests and diagnostics).
pub async fn count_kind(db: &Db, kind: &str, status: &str) -> StoreResult<i64> {
    let mut h = db.acquire().await?;
    let (n,): (i64,) = on!(&mut h.c(), x => sqlx::query_as(
        "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND status = $2")
        .bind(kind).bind(status).fetch_one(x).await)?;
    Ok(n)
}

/// Deletes finished jobs older than `before`.
pub async fn prune(c: &mut Conn<'_>, before: i64) -> StoreResult<u64> {
    let r = run!(c, x => sqlx::query("DELETE FROM jobs WHERE status IN ('done', 'dead') AND finished_at < $1")
        .bind(before).execute(x).await)?;
    Ok(r)
}

/// What a job handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
/// A job handler: gets the database and the job.
pub type Handler = Arc<dyn Fn(Db, Job) -> HandlerFuture + Send + Sync>;

/// Work done every `every` seconds, once per period across all instances.
#[derive(Debug, Clone)]
pub struct Periodic {
    pub kind: &'static str,
    pub every: i64,
}

/// One worker: schedules periodic jobs and runs due ones. Any number may run at once.
#[derive(Clone)]
pub struct Worker {
    pub db: Db,
    pub id: String,
    pub handlers: HashMap<String, Handler>,
    pub periodic: Vec<Periodic>,
    pub lease: i64,
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    pub scheduled: usize,
    pub done: usize,
    pub failed: usize,
}

impl Worker {
    /// Enqueues this period's periodic jobs (deduplicated) and runs every due job.
    pub async fn tick(&self, now: i64) -> StoreResult<TickReport> {
        let mut rep = TickReport::default();
        if !self.periodic.is_empty() {
            let mut tx = self.db.begin().await?;
            for p in &self.periodic {
                let period = now.div_euclid(p.every.max(1));
                let key = period.to_string();
                if enqueue(&mut tx.c(), p.kind, Some(&key), "{}", period * p.every, now).await? {
                    rep.scheduled += 1;
                }
            }
            tx.commit().await?;
        }
        while let Some(job) = claim(&self.db, &self.id, now, self.lease).await? {
            let result = match self.handlers.get(&job.kind) {
                Some(h) => h(self.db.clone(), job.clone()).await,
                None => Err(format!("no handler for job kind '{}'", job.kind)),
            };
            match result {
                Ok(()) => {
                    complete(&self.db, job.id, now).await?;
                    rep.done += 1;
                }
                Err(e) => {
                    tracing::warn!(job = job.id, kind = %job.kind, error = %e, "job failed");
                    fail(&self.db, job.id, &e, now).await?;
                    rep.failed += 1;
                }
            }
        }
        Ok(rep)
    }
}
