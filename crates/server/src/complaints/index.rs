//! Complaint search documents, written after the registration rather than in it. A
//! registration queues its complaint (`store::search::queue`, one row in its own transaction)
//! and this module's indexer writes the documents of everything queued a moment later, hundreds
//! per transaction. On SQLite the registration writer is the bound of the create rate, and the
//! full-text index took a quarter of its time when each group of ~15 registrations wrote a
//! segment of its own. A new complaint is therefore found by the archive search a fraction of
//! a second after it is registered (the complaint list's own text filter reads the complaints
//! table and sees it at once). Queue rows commit with their complaint, so after a crash the
//! next start writes what was left.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use store::complaints::{Complaint, SearchFields};
use store::{Backend, Db};
use tokio::sync::Notify;

use super::service::KIND;
use crate::error::AppResult;

/// How long the indexer lets registrations gather after the first wakes it: a few hundred
/// documents per transaction under load, still well under a second for a lone one.
const GATHER: Duration = Duration::from_millis(200);
/// The indexer also looks without being woken this often: for complaints registered inside
/// another record's transaction (a return visit), by another instance, or before a crash.
const BACKSTOP: Duration = Duration::from_secs(5);
/// Documents per transaction at most: bounds how long one holds the writer.
const BATCH: i64 = 1000;

/// What a complaint's search document is made of.
pub(super) struct Source<'a> {
    number: &'a str,
    customer_name: &'a str,
    part_no: Option<&'a str>,
    serial: Option<&'a str>,
    order_no: Option<&'a str>,
    fault_category: Option<&'a str>,
    description: &'a str,
}

/// `Source` from anything with the complaint's search columns (a whole complaint, or the
/// indexer's [`SearchFields`]).
macro_rules! source_from {
    ($($t:ty),*) => {$(
        impl<'a> From<&'a $t> for Source<'a> {
            fn from(c: &'a $t) -> Self {
                Source {
                    number: &c.number,
                    customer_name: &c.customer_name,
                    part_no: c.part_no.as_deref(),
                    serial: c.serial.as_deref(),
                    order_no: c.order_no.as_deref(),
                    fault_category: c.fault_category.as_deref(),
                    description: &c.description,
                }
            }
        }
    )*};
}
source_from!(Complaint, SearchFields);

/// The search document of a complaint: (title, text).
pub(super) fn document(c: Source<'_>) -> (String, String) {
    let text = [
        Some(c.number),
        Some(c.customer_name),
        c.part_no,
        c.serial,
        c.order_no,
        c.fault_category,
        Some(c.description),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    (format!("{} {}", c.number, c.customer_name), text)
}

/// The indexer of one instance, started on first use.
#[derive(Default)]
pub struct Indexer {
    wake: OnceLock<Arc<Notify>>,
    /// What it has done, for `/metrics`.
    pub stats: Arc<IndexStats>,
}

/// The indexer's counters: documents written falling behind registrations, or failures
/// growing, mean the archive search lags.
#[derive(Default)]
pub struct IndexStats {
    /// Queued complaints whose documents this instance's indexer wrote.
    pub documents: AtomicU64,
    /// Drains that failed (retried at the next wake-up).
    pub failures: AtomicU64,
}

impl IndexStats {
    /// The counters in the text exposition of `/metrics`.
    pub fn render(&self) -> String {
        let documents = self.documents.load(Ordering::Relaxed);
        let failures = self.failures.load(Ordering::Relaxed);
        format!(
            "# HELP aftersales_complaint_search_documents_total Queued complaints whose search documents the indexer wrote.\n\
             # TYPE aftersales_complaint_search_documents_total counter\n\
             aftersales_complaint_search_documents_total {documents}\n\
             # HELP aftersales_complaint_search_failures_total Indexer passes that failed (retried at the next wake-up).\n\
             # TYPE aftersales_complaint_search_failures_total counter\n\
             aftersales_complaint_search_failures_total {failures}\n"
        )
    }
}

impl Indexer {
    /// Asks for the queued documents to be written shortly; starts the indexer the first time
    /// (which then writes whatever an earlier run left queued).
    pub fn poke(&self, db: &Db) {
        self.wake
            .get_or_init(|| {
                let wake = Arc::new(Notify::new());
                tokio::spawn(run(db.clone(), wake.clone(), self.stats.clone()));
                wake
            })
            .notify_one();
    }
}

async fn run(db: Db, wake: Arc<Notify>, stats: Arc<IndexStats>) {
    loop {
        let _ = tokio::time::timeout(BACKSTOP, wake.notified()).await;
        // The state that owned the other handle is gone: so is this instance.
        if Arc::strong_count(&wake) == 1 {
            break;
        }
        tokio::time::sleep(GATHER).await;
        match drain(&db).await {
            Ok(n) => {
                stats.documents.fetch_add(n, Ordering::Relaxed);
            }
            Err(e) => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = ?e, "complaint search indexing failed; retried shortly");
            }
        }
    }
}

/// Writes the documents of every queued complaint, a batch per transaction, and takes them
/// off the queue; returns how many were taken. Safe beside another drain or a change to a
/// queued complaint: a document already there is kept (it was written by a later change).
pub async fn drain(db: &Db) -> AppResult<u64> {
    let mut taken = 0u64;
    loop {
        // Read and cut the documents before the write transaction: on SQLite every write
        // waits for the one writer, so only the inserts run inside it.
        let (queued, rows) = {
            let mut h = db.acquire().await?;
            let queued = store::search::pending(&mut h.c(), KIND, BATCH).await?;
            let ids: Vec<i64> = queued.iter().map(|p| p.ref_id).collect();
            let rows = store::complaints::search_fields(&mut h.c(), &ids).await?;
            (queued, rows)
        };
        if queued.is_empty() {
            break;
        }
        let mut docs: BTreeMap<i64, Vec<(&str, i64, String, String)>> = BTreeMap::new();
        for r in &rows {
            let (title, text) = document(r.into());
            docs.entry(r.org_id)
                .or_default()
                .push((KIND, r.id, title, text));
        }
        let ids: Vec<i64> = queued.iter().map(|p| p.id).collect();
        let write = async {
            let mut tx = db.begin().await?;
            for (org, docs) in &docs {
                store::search::add_many(&mut tx.c(), *org, docs).await?;
            }
            store::search::unqueue(&mut tx.c(), &ids).await?;
            tx.commit().await?;
            AppResult::Ok(())
        };
        // On SQLite the pass holds the one writer that registrations queue behind: off the
        // runtime's workers and ahead of them for the CPU, like the registration writer.
        match db.backend() {
            Backend::Sqlite => store::offload_writer(write).await?,
            Backend::Postgres => write.await?,
        }
        taken += queued.len() as u64;
        if (queued.len() as i64) < BATCH {
            break;
        }
    }
    Ok(taken)
}
