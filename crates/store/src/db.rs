//! The `Db` enum over two concrete pools (sqlx's `Any` driver cannot carry our types), the
//! transaction and connection wrappers, and the `on!` macro that runs one SQL text on either.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::error::{StoreError, StoreResult};

/// Which database engine a `Db` talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool on one of the two backends.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, WriteGate),
    Postgres(PgPool),
}

/// SQLite admits one writer at a time. Writers that find the database locked sleep in
/// SQLite's busy handler (1, 2, 5, 10… ms) and retry, so under concurrent writes most time
/// went to sleeping; waiting here instead hands the write lock over in FIFO order at once.
///
/// Every write transaction runs on the gate's one connection. A connection's page cache is
/// thrown away whenever another connection has written since its last transaction, so when
/// the pool's connections took turns writing, each write began cold and re-read its index
/// pages from the file (about 800 KB of reads per registration under the create load). The
/// writer's own commits keep its cache, which is why it gets a larger one.
#[derive(Clone, Debug)]
pub struct WriteGate {
    turn: Arc<tokio::sync::Semaphore>,
    writer: SqlitePool,
}

/// A write transaction (on SQLite begun with `BEGIN IMMEDIATE` while holding the write gate;
/// the transaction is declared first so it ends before the gate opens).
pub enum Tx {
    Sqlite(
        Transaction<'static, Sqlite>,
        tokio::sync::OwnedSemaphorePermit,
    ),
    Postgres(Transaction<'static, Postgres>),
}

/// A pooled connection for reads outside a transaction.
pub enum Handle {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// A borrowed connection that repository functions run on.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// Runs `$body` with `$x` bound to the concrete connection of either backend; the body is
/// written once and type-checked twice.
#[macro_export]
macro_rules! on {
    ($c:expr, $x:ident => $body:expr) => {
        match $c {
            $crate::db::Conn::Sqlite(inner) => {
                let $x: &mut sqlx::SqliteConnection = &mut **inner;
                $body
            }
            $crate::db::Conn::Postgres(inner) => {
                let $x: &mut sqlx::PgConnection = &mut **inner;
                $body
            }
        }
    };
}

/// Like [`on!`] for statements that return no rows: yields the number of rows affected.
#[macro_export]
macro_rules! run {
    ($c:expr, $x:ident => $body:expr) => {
        match $c {
            $crate::db::Conn::Sqlite(inner) => {
                let $x: &mut sqlx::SqliteConnection = &mut **inner;
                ($body).map(|r| r.rows_affected())
            }
            $crate::db::Conn::Postgres(inner) => {
                let $x: &mut sqlx::PgConnection = &mut **inner;
                ($body).map(|r| r.rows_affected())
            }
        }
    };
}

/// WAL pages past which a committing writer checkpoints itself (SQLite's own auto-checkpoint,
/// left as a backstop behind [`checkpointer`]): 128 MiB.
const WAL_BACKSTOP_PAGES: &str = "32768";
/// Page cache of the write connection (KiB, as `cache_size` takes it negative): the pages a
/// group of registrations touches (the complaint indexes' right edges, the recurrence index,
/// events, tasks, audit, search) stay cached from one commit to the next.
const WRITER_CACHE: &str = "-16384";
/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Copies the WAL back into the database file every [`CHECKPOINT_EVERY`], on a thread and a
/// connection of its own, until the pool's write gate is dropped or closed. SQLite otherwise
/// checkpoints inside the commit that crosses `wal_autocheckpoint`, and under the create
/// load those checkpoints were a fifth of the single writer's time: a PASSIVE checkpoint here
/// runs beside the writer and the readers, never waiting for either.
fn checkpointer(opts: SqliteConnectOptions, alive: std::sync::Weak<tokio::sync::Semaphore>) {
    let spawned = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().build() {
                Ok(rt) => rt,
                Err(e) => return tracing::warn!("checkpointer: no runtime: {e}"),
            };
            rt.block_on(async move {
                use sqlx::Connection;
                let mut conn = match sqlx::SqliteConnection::connect_with(&opts).await {
                    Ok(c) => c,
                    Err(e) => return tracing::warn!("checkpointer: cannot connect: {e}"),
                };
                loop {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    match alive.upgrade() {
                        Some(gate) if !gate.is_closed() => {}
                        _ => break,
                    }
                    // PASSIVE copies what no reader still needs and never blocks; a busy
                    // answer (a backstop checkpoint under way) is retried next round.
                    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                        .execute(&mut conn)
                        .await
                    {
                        tracing::debug!("checkpoint: {e}");
                    }
                }
                let _ = conn.close().await;
            });
        });
    if let Err(e) = spawned {
        tracing::warn!("checkpointer: no thread: {e}");
    }
}

/// Turns on SQLite's query planner stability guarantee for a connection: plans no longer look
/// at bound values. Without it a statement whose plan may depend on one (a bound `LIMIT`, a
/// bound value compared with a partial index's condition, a bound `LIKE` pattern) is marked
/// expired whenever that parameter is bound, and the driver binds every parameter on every
/// run, so such statements were parsed and planned again each time: under the list load a
/// quarter of the server's time went to re-preparing the page query. Our queries are written
/// (and their indexes chosen, with `INDEXED BY` where it matters) for any value.
async fn stable_plans(c: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut h = c.lock_handle().await?;
    let db = h.as_raw_handle().as_ptr();
    let mut now: std::ffi::c_int = 0;
    // SAFETY: `db` is this connection's open handle, locked for the call; the option takes an
    // int and a pointer to an int that receives the new setting.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            &mut now as *mut std::ffi::c_int,
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK || now != 1 {
        return Err(sqlx::Error::Configuration(
            format!("SQLite refused the query planner stability guarantee (rc {rc})").into(),
        ));
    }
    Ok(())
}

/// Process-wide SQLite settings, applied once before the first connection opens
/// (`sqlite3_config` is refused after SQLite initialised; then they stay at their defaults).
fn sqlite_config() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // A statement that may fail half-way keeps the original of every page it changes in a
        // statement journal, spilled to a temporary file past 64 KiB by default. Registering a
        // complaint touches its 15 indexes, roll-ups and search rows in one statement, so every
        // registration wrote ~25 pages to /var/tmp as well as to the WAL (half of all writes
        // under the create load). -1 keeps statement journals in memory, as `temp_store =
        // MEMORY` would, without moving sorts to memory too. Not a threshold: with one of
        // 256 KiB or more, SQLite (3.40 and the bundled 3.5x alike) fails `DROP INDEX` inside a
        // transaction with "database or disk is full"; -1 and 128 KiB do not.
        // SAFETY: called once, before any connection exists in this process or after SQLite
        // initialised, in which case it returns SQLITE_MISUSE and changes nothing.
        let rc = unsafe {
            libsqlite3_sys::sqlite3_config(
                libsqlite3_sys::SQLITE_CONFIG_STMTJRNL_SPILL,
                -1 as std::ffi::c_int,
            )
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(
                rc,
                "sqlite3_config(STMTJRNL_SPILL) refused: SQLite already initialised"
            );
        }
        // Memory statistics make every sqlite3_malloc and sqlite3_free take one process-wide
        // mutex; sqlx copies each column value of each row, so under the list load the two
        // runtime workers spent 12 % of their time on that lock. Nothing reads the statistics.
        // SAFETY: as above.
        let rc = unsafe {
            libsqlite3_sys::sqlite3_config(
                libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(
                rc,
                "sqlite3_config(MEMSTATUS) refused: SQLite already initialised"
            );
        }
    });
}

/// Runs `fut`, known to hold SQLite statements for long (a study's uncomputed figures, a job
/// run, a plan's scheduling), without holding up the runtime's other tasks.
///
/// SQLite statements run on the calling thread (vendor/README.md): cheap for a request's
/// short reads, but a statement of seconds would stall one of the runtime's workers. On the
/// multi-threaded runtime the worker hands its other tasks on and this thread runs `fut` to
/// the end; elsewhere (tests' current-thread runtime) it is simply awaited.
pub async fn offload<F: std::future::Future>(fut: F) -> F::Output {
    offloaded(fut, false).await
}

/// [`offload`] for the work of the single SQLite writer that everything else queues behind
/// (a group of registrations, an indexer pass): its thread runs at a raised CPU priority
/// while `fut` runs, where the process may raise it (`crate::priority`).
pub async fn offload_writer<F: std::future::Future>(fut: F) -> F::Output {
    offloaded(fut, true).await
}

async fn offloaded<F: std::future::Future>(fut: F, urgent: bool) -> F::Output {
    thread_local! {
        // Set while this thread runs an offloaded future: a nested `offload` just awaits
        // (a runtime cannot be entered again from within its own `block_on`).
        static OFFLOADED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    match tokio::runtime::Handle::try_current() {
        Ok(h)
            if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
                && !OFFLOADED.get() =>
        {
            // Cleared on the way out, a panic included.
            struct Reset;
            impl Drop for Reset {
                fn drop(&mut self) {
                    OFFLOADED.set(false);
                }
            }
            tokio::task::block_in_place(|| {
                OFFLOADED.set(true);
                let _reset = Reset;
                // Only here is the thread the future's alone until it ends: awaited in
                // place, the raised priority would go on to the worker's other tasks.
                let _raised = urgent.then(crate::priority::Raised::now);
                h.block_on(fut)
            })
        }
        _ => fut.await,
    }
}

impl Db {
    /// Connects by URL scheme: `sqlite:` or `postgres:`/`postgresql:`; anything else is an
    /// error, so a typo never creates an empty database somewhere.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Db> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("database.url: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // 2 MiB of page cache per connection (SQLite's default): the hot upper levels
                // of the indexes stay cached, everything else comes from the system's file
                // cache, which the process is not charged for. Each connection fills its own,
                // so this times the pool is the load's resident floor: at 4 MiB the peak RSS
                // was 116 MiB, at 2 MiB 79 MiB, with list, detail and create as fast (32 MiB
                // per connection once took it to 351 MiB). Big sorts spill to temporary files
                // (the default temp_store), not memory.
                .pragma("cache_size", "-2048")
                // A write transaction's dirty pages stay in memory up to 16 MiB before they
                // are spilled to the WAL mid-transaction (a group of registrations dirties a
                // few MiB; spilled pages were written twice).
                .pragma("cache_spill", "4096")
                // Checkpoints run on a thread of their own (`checkpointer`); a committing
                // writer only checkpoints itself when the WAL has outgrown the backstop,
                // i.e. when that thread has fallen far behind.
                .pragma("wal_autocheckpoint", WAL_BACKSTOP_PAGES);
            sqlite_config();
            // Each commit's WAL frames in one write instead of two per page (`walbuf`);
            // sound because every connection here commits with `synchronous = FULL`.
            crate::walbuf::register().map_err(StoreError::Config)?;
            let opts = opts.vfs(crate::walbuf::NAME);
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.max(1))
                .after_connect(|c, _| Box::pin(stable_plans(c)))
                .connect_with(opts.clone())
                .await?;
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .after_connect(|c, _| Box::pin(stable_plans(c)))
                .connect_with(opts.clone().pragma("cache_size", WRITER_CACHE))
                .await?;
            let gate = WriteGate {
                turn: Arc::new(tokio::sync::Semaphore::new(1)),
                writer,
            };
            if opts.get_filename() != std::path::Path::new(":memory:") {
                checkpointer(opts, Arc::downgrade(&gate.turn));
            }
            Ok(Db::Sqlite(pool, gate))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("database.url: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            let scheme = url.split(':').next().unwrap_or("");
            Err(StoreError::Config(format!(
                "database.url: unknown scheme '{scheme}' (expected sqlite: or postgres:)"
            )))
        }
    }

    /// The engine behind this pool.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self {
            Db::Sqlite(_, gate) => {
                // The turn, then the writer connection, which is free by then (its pool is
                // the gate's alone); readers' connections are never held by waiting writers.
                let permit = gate
                    .turn
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| StoreError::Config("database closed".into()))?;
                let conn = gate.writer.acquire().await?;
                let begin = sqlx::SqlSafeStr::into_sql_str("BEGIN IMMEDIATE");
                Tx::Sqlite(Transaction::begin(conn, Some(begin)).await?, permit)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Takes a connection for reads.
    pub async fn acquire(&self) -> StoreResult<Handle> {
        Ok(match self {
            Db::Sqlite(p, _) => Handle::Sqlite(p.acquire().await?),
            Db::Postgres(p) => Handle::Postgres(p.acquire().await?),
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(p, gate) => {
                // Also ends the checkpointer thread.
                gate.turn.close();
                gate.writer.close().await;
                p.close().await
            }
            Db::Postgres(p) => p.close().await,
        }
    }

    /// True when a trivial query succeeds.
    pub async fn ping(&self) -> bool {
        let Ok(mut h) = self.acquire().await else {
            return false;
        };
        let mut c = h.c();
        let r: Result<(i64,), sqlx::Error> =
            on!(&mut c, x => sqlx::query_as("SELECT CAST(1 AS BIGINT)").fetch_one(x).await);
        r.is_ok()
    }

    /// Refreshes planner statistics after a bulk load, and on PostgreSQL moves the search
    /// index's pending entries into the index proper (GIN's fast-update list is scanned
    /// linearly by every query until then).
    pub async fn optimize(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite(p, _) => {
                sqlx::query("PRAGMA optimize").execute(p).await?;
            }
            Db::Postgres(p) => {
                sqlx::query("SELECT gin_clean_pending_list('search_docs_tokens'::regclass)")
                    .execute(p)
                    .await?;
                sqlx::query("ANALYZE").execute(p).await?;
            }
        }
        Ok(())
    }

    /// An online, consistent copy of a SQLite database into `dest` (`VACUUM INTO`).
    pub async fn backup_sqlite(&self, dest: &str) -> StoreResult<()> {
        match self {
            Db::Sqlite(p, _) => {
                sqlx::query("VACUUM INTO $1").bind(dest).execute(p).await?;
                Ok(())
            }
            Db::Postgres(_) => Err(StoreError::Config(
                "backup: PostgreSQL is backed up with pg_dump or its own tooling".into(),
            )),
        }
    }
}

impl Tx {
    /// The connection inside the transaction.
    pub fn c(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t, _) => Conn::Sqlite(&mut *t),
            Tx::Postgres(t) => Conn::Postgres(&mut *t),
        }
    }

    /// Commits.
    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(t, _permit) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

impl Handle {
    /// The pooled connection.
    pub fn c(&mut self) -> Conn<'_> {
        match self {
            Handle::Sqlite(h) => Conn::Sqlite(&mut *h),
            Handle::Postgres(h) => Conn::Postgres(&mut *h),
        }
    }
}

impl Conn<'_> {
    /// The engine of this connection, for the few statements whose dialects differ.
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::offload;

    /// A fresh directory for a test database.
    pub(crate) fn temp_dir(prefix: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            crate::random_hex(4)
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn offload_runs_nested_work_on_the_multi_threaded_runtime() {
        let out = offload(async {
            tokio::task::yield_now().await;
            offload(async { 20 }).await + 1
        })
        .await;
        assert_eq!(out, 21);
        // And again on the same worker: the flag was reset.
        assert_eq!(offload(async { 2 }).await, 2);
    }

    #[tokio::test]
    async fn offload_awaits_on_the_current_thread_runtime() {
        assert_eq!(offload(async { 3 }).await, 3);
    }

    /// Every write transaction runs on the write gate's own connection (its larger cache
    /// tells it apart), however many reads hold pool connections meanwhile: the pages it
    /// cached stay valid from one write to the next.
    #[tokio::test]
    async fn writes_run_on_the_one_writer_connection() {
        let dir = temp_dir("aftersales-writer");
        let db = super::Db::connect(&format!("sqlite:{}", dir.join("t.db").display()), 2)
            .await
            .expect("connect");
        async fn cache(c: &mut super::Conn<'_>) -> i64 {
            let r: Result<(i64,), sqlx::Error> =
                crate::on!(c, x => sqlx::query_as("PRAGMA cache_size").fetch_one(x).await);
            r.expect("pragma").0
        }
        let mut reader = db.acquire().await.expect("acquire");
        assert_eq!(cache(&mut reader.c()).await, -2048);
        for _ in 0..3 {
            let mut tx = db.begin().await.expect("begin");
            let wanted: i64 = super::WRITER_CACHE.parse().expect("number");
            assert_eq!(cache(&mut tx.c()).await, wanted);
            tx.commit().await.expect("commit");
        }
        drop(reader);
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Every connection, readers and the writer, plans without looking at bound values: one
    /// that did re-prepared each statement with a bound `LIMIT` on every run.
    #[tokio::test]
    async fn every_connection_has_stable_plans() {
        let dir = temp_dir("aftersales-qpsg");
        let db = super::Db::connect(&format!("sqlite:{}", dir.join("t.db").display()), 2)
            .await
            .expect("connect");
        async fn qpsg(c: super::Conn<'_>) -> std::ffi::c_int {
            let super::Conn::Sqlite(x) = c else {
                panic!("not SQLite")
            };
            let mut h = x.lock_handle().await.expect("handle");
            let mut on: std::ffi::c_int = -1;
            // SAFETY: the locked, open handle; -1 reads the setting without changing it.
            let rc = unsafe {
                libsqlite3_sys::sqlite3_db_config(
                    h.as_raw_handle().as_ptr(),
                    libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
                    -1 as std::ffi::c_int,
                    &mut on as *mut std::ffi::c_int,
                )
            };
            assert_eq!(rc, libsqlite3_sys::SQLITE_OK);
            on
        }
        let mut a = db.acquire().await.expect("acquire");
        let mut b = db.acquire().await.expect("acquire");
        assert_eq!(qpsg(a.c()).await, 1, "reader");
        assert_eq!(qpsg(b.c()).await, 1, "second reader");
        let mut tx = db.begin().await.expect("begin");
        assert_eq!(qpsg(tx.c()).await, 1, "writer");
        tx.commit().await.expect("commit");
        drop((a, b));
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// SQLite ends a transaction by itself on some errors (a full disk, an I/O error): the
    /// transaction's `COMMIT` or `ROLLBACK` then fails, and the one writer connection must
    /// still begin the next transaction (it once answered every later write with "non-zero
    /// transaction depth" until a restart). A raw `ROLLBACK`/`COMMIT` ends it the same way.
    #[tokio::test]
    async fn the_writer_recovers_when_sqlite_ended_the_transaction() {
        let dir = temp_dir("aftersales-ended");
        let db = super::Db::connect(&format!("sqlite:{}", dir.join("t.db").display()), 2)
            .await
            .expect("connect");
        let mut tx = db.begin().await.expect("begin");
        crate::run!(&mut tx.c(), x => sqlx::query("CREATE TABLE t (v INTEGER)").execute(x).await)
            .expect("create");
        tx.commit().await.expect("commit");
        for end in ["ROLLBACK", "COMMIT"] {
            // Dropped after SQLite ended it: the rollback on drop finds no transaction.
            let mut tx = db.begin().await.expect("begin");
            crate::run!(&mut tx.c(), x => sqlx::query("INSERT INTO t VALUES (1)").execute(x).await)
                .expect("insert");
            crate::run!(&mut tx.c(), x => sqlx::query(end).execute(x).await).expect(end);
            drop(tx);
            // Committed after SQLite ended it: the commit fails, nothing is left open.
            let mut tx = db.begin().await.expect("begin after a dropped transaction");
            crate::run!(&mut tx.c(), x => sqlx::query(end).execute(x).await).expect(end);
            assert!(tx.commit().await.is_err(), "{end}: nothing to commit");
            let mut tx = db.begin().await.expect("begin after a failed commit");
            crate::run!(&mut tx.c(), x => sqlx::query("INSERT INTO t VALUES (2)").execute(x).await)
                .expect("insert");
            tx.commit().await.expect("commit");
        }
        let mut h = db.acquire().await.expect("acquire");
        let n: (i64, i64) = crate::on!(&mut h.c(), x =>
            sqlx::query_as("SELECT COUNT(*), SUM(v) FROM t").fetch_one(x).await)
        .expect("count");
        // The raw COMMIT kept its 1; each pass committed a 2.
        assert_eq!(n, (3, 5));
        drop(h);
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Committed pages reach the database file without any writer checkpointing (the WAL is
    /// far below the backstop): the checkpointer thread copied them.
    #[tokio::test]
    async fn the_checkpointer_copies_the_wal_into_the_database() {
        let dir = temp_dir("aftersales-ckpt");
        let file = dir.join("t.db");
        let db = super::Db::connect(&format!("sqlite:{}", file.display()), 2)
            .await
            .expect("connect");
        let mut tx = db.begin().await.expect("begin");
        crate::run!(&mut tx.c(), x => sqlx::query(
            "CREATE TABLE t (v TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
             INSERT INTO t SELECT hex(randomblob(1000)) FROM n").execute(x).await)
        .expect("write");
        tx.commit().await.expect("commit");
        let mut copied = 0;
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            copied = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            if copied > 1_000_000 {
                break;
            }
        }
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
        assert!(copied > 1_000_000, "database file is {copied} bytes");
    }

    /// The bundled SQLite is built by `.cargo/config.toml`'s `LIBSQLITE3_FLAGS` and set up by
    /// `sqlite_config`: a checkout or toolchain that lost either would silently put the global
    /// page-cache and malloc mutexes and per-execution re-planning back on every statement.
    #[tokio::test]
    async fn sqlite_runs_without_global_mutexes_or_replanning() {
        let db = super::Db::connect("sqlite::memory:", 1)
            .await
            .expect("connect");
        let mut h = db.acquire().await.expect("acquire");
        for (option, wanted) in [
            ("ENABLE_MEMORY_MANAGEMENT", false),
            ("ENABLE_STAT4", false),
            ("ENABLE_FTS5", true),
        ] {
            let (used,): (i64,) =
                crate::on!(&mut h.c(), x => sqlx::query_as("SELECT sqlite_compileoption_used($1)")
                .bind(option).fetch_one(x).await)
                .expect("compile option");
            assert_eq!(used == 1, wanted, "SQLITE_{option}");
        }
        // With memory statistics off, SQLite counts no bytes in use.
        // SAFETY: a plain read of a counter.
        assert_eq!(unsafe { libsqlite3_sys::sqlite3_memory_used() }, 0);
    }
}
