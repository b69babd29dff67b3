//! Group commit of complaint registrations on SQLite. SQLite admits one writer at a time and
//! every durable commit waits for the disk, so registrations that arrive together are written
//! by one task in one transaction: the queue that forms while a batch commits is the next
//! batch (no timer, so a lone registration is never delayed). PostgreSQL runs concurrent
//! transactions and groups their commits itself; there each registration commits alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use store::Db;
use store::complaints::Complaint;
use tokio::sync::{mpsc, oneshot};

use super::service::{By, Prepared, Reg, write_registrations};
use crate::error::{AppError, AppResult};

/// Registrations per transaction at most: bounds how long one commit holds the others.
const MAX_BATCH: usize = 64;
/// Registrations waiting at most; senders wait for room beyond it.
const QUEUE: usize = 1024;

/// One registration waiting for the writer.
pub(super) struct Job {
    pub reg: Reg,
    pub reply: oneshot::Sender<AppResult<Complaint>>,
}

/// The registration queue of one database, started on first use.
#[derive(Default)]
pub struct Registrations {
    queue: OnceLock<mpsc::Sender<Job>>,
    /// What the writer has done, for `/metrics`.
    pub stats: Arc<WriterStats>,
}

/// The writer's counters. Busy time near the wall-clock time means registrations are bound by
/// the writer (the work per registration inside its transaction); the group size says how
/// many each commit shares.
#[derive(Default)]
pub struct WriterStats {
    /// Groups the writer took (one that failed and was rewritten one by one counts once).
    pub groups: AtomicU64,
    /// Registrations written, including failed ones.
    pub registrations: AtomicU64,
    /// Nanoseconds the writer spent writing groups (statements, commit and its fsync).
    pub busy_nanos: AtomicU64,
}

impl Registrations {
    /// Queues a registration and waits until its batch has committed.
    pub(super) async fn write(
        &self,
        db: &Db,
        by: By,
        org: i64,
        now: i64,
        p: Prepared,
    ) -> AppResult<Complaint> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            // The task holds the pool, not the state: it ends when the state (the only
            // sender) is dropped.
            tokio::spawn(writer(db.clone(), rx, self.stats.clone()));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let job = Job {
            reg: Reg { by, org, now, p },
            reply,
        };
        queue
            .send(job)
            .await
            .map_err(|_| AppError::Internal("the registration writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("the registration writer dropped a request".into()))?
    }
}

impl WriterStats {
    /// The counters in the text exposition of `/metrics`.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let series = [
            (
                "aftersales_registration_groups_total",
                "counter",
                "Groups of complaint registrations the writer took, one transaction each (SQLite).",
                self.groups.load(Ordering::Relaxed) as f64,
            ),
            (
                "aftersales_registrations_written_total",
                "counter",
                "Complaint registrations the writer took (SQLite).",
                self.registrations.load(Ordering::Relaxed) as f64,
            ),
            (
                "aftersales_registration_writer_busy_seconds_total",
                "counter",
                "Time the registration writer spent writing its groups (SQLite).",
                self.busy_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            ),
            (
                "aftersales_writer_priority_raised",
                "gauge",
                "1 when the SQLite writer runs its groups at raised CPU priority; 0 before its first group or where the system refuses (see the README).",
                f64::from(u8::from(store::priority::raised() == Some(true))),
            ),
        ];
        for (name, kind, help, v) in series {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {v}");
        }
        out
    }
}

async fn writer(db: Db, mut rx: mpsc::Receiver<Job>, stats: Arc<WriterStats>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let start = Instant::now();
        stats.groups.fetch_add(1, Ordering::Relaxed);
        stats
            .registrations
            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
        // A group's statements and its commit (an fsync) run in place: off the runtime's
        // workers, which keep serving requests meanwhile (with two workers, one was blocked
        // in the writer most of the time under the create load), and ahead of them for the
        // CPU, since every registration waits for this one writer (`store::priority`).
        store::offload_writer(write_batch(&db, std::mem::take(&mut jobs))).await;
        stats.busy_nanos.fetch_add(
            u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
}

/// Writes the jobs in one transaction; if anything in it fails, nothing of it stays and each
/// job is written again in its own transaction, so one bad registration fails alone.
async fn write_batch(db: &Db, jobs: Vec<Job>) {
    if jobs.len() > 1 {
        match together(db, &jobs).await {
            Ok(done) => {
                for (j, c) in jobs.into_iter().zip(done) {
                    // A caller that went away (client disconnected) still has its complaint.
                    let _ = j.reply.send(Ok(c));
                }
                return;
            }
            Err(e) => tracing::warn!(
                "a batch of {} registrations failed ({e:?}); writing them one by one",
                jobs.len()
            ),
        }
    }
    for j in jobs {
        let r = alone(db, &j).await;
        let _ = j.reply.send(r);
    }
}

async fn together(db: &Db, jobs: &[Job]) -> AppResult<Vec<Complaint>> {
    let regs: Vec<Reg> = jobs.iter().map(|j| j.reg.clone()).collect();
    let mut tx = db.begin().await?;
    let out = write_registrations(&mut tx, &regs).await?;
    tx.commit().await?;
    if out.len() != jobs.len() {
        return Err(AppError::Internal(
            "a registration of the group is missing".into(),
        ));
    }
    Ok(out)
}

async fn alone(db: &Db, j: &Job) -> AppResult<Complaint> {
    let mut tx = db.begin().await?;
    let mut out = write_registrations(&mut tx, std::slice::from_ref(&j.reg)).await?;
    tx.commit().await?;
    out.pop()
        .ok_or_else(|| AppError::Internal("the registration is missing".into()))
}
