//! Embedded, forward-only migrations, one directory per backend with the same numbers.
//! A small runner of our own: it takes a lock (advisory on PostgreSQL, `BEGIN IMMEDIATE` on
//! SQLite) so several instances starting at once apply each migration exactly once, and it
//! refuses to start when an applied migration's text was edited.

use crate::db::{Backend, Db};
use crate::error::{StoreError, StoreResult};
use crate::{on, run};

/// One migration file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $($v:literal $file:literal $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $v,
            name: $name,
            sql: include_str!(concat!("../migrations/", $dir, "/", $file, "_", $name, ".sql")),
        }),*]
    };
}

/// SQLite migrations.
pub const SQLITE: &[Migration] = migrations!("sqlite": 1 "0001" "platform", 2 "0002" "archives", 3 "0003" "complaints", 4 "0004" "maintenance", 5 "0005" "satisfaction", 6 "0006" "figures_rollup", 7 "0007" "complaint_list_undue", 8 "0008" "complaint_recurrence_index", 9 "0009" "complaint_repeats_found", 10 "0010" "search_long_grams", 11 "0011" "complaint_timeline_derived", 12 "0012" "visit_sampling_cursor", 13 "0013" "complaint_index_tiebreak", 14 "0014" "search_pending", 15 "0015" "equipment_list_order");
/// PostgreSQL migrations.
pub const POSTGRES: &[Migration] = migrations!("postgres": 1 "0001" "platform", 2 "0002" "archives", 3 "0003" "complaints", 4 "0004" "maintenance", 5 "0005" "satisfaction", 6 "0006" "figures_rollup", 7 "0007" "complaint_list_undue", 8 "0008" "complaint_recurrence_index", 9 "0009" "complaint_repeats_found", 10 "0010" "search_long_grams", 11 "0011" "complaint_timeline_derived", 12 "0012" "visit_sampling_cursor", 13 "0013" "complaint_index_tiebreak", 14 "0014" "search_pending", 15 "0015" "equipment_list_order");

/// The migrations of a backend.
pub fn for_backend(b: Backend) -> &'static [Migration] {
    match b {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// The newest migration version shipped in this binary.
pub fn latest() -> i64 {
    SQLITE.last().map(|m| m.version).unwrap_or(0)
}

fn checksum(sql: &str) -> String {
    crate::hash_token(sql)
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/// Applies pending migrations; returns the versions applied now.
pub async fn run(db: &Db, now: i64) -> StoreResult<Vec<i64>> {
    let list = for_backend(db.backend());
    let mut tx = db.begin().await?;
    let mut c = tx.c();
    if let crate::Conn::Postgres(x) = &mut c {
        sqlx::query("SELECT pg_advisory_xact_lock(7272201)")
            .execute(&mut **x)
            .await?;
    }
    run!(&mut c, x => sqlx::query(CREATE_TABLE).execute(x).await)?;
    let applied: Vec<(i64, String)> = on!(&mut c, x => sqlx::query_as(
        "SELECT version, checksum FROM schema_migrations ORDER BY version").fetch_all(x).await)?;
    for (v, sum) in &applied {
        match list.iter().find(|m| m.version == *v) {
            Some(m) if checksum(m.sql) != *sum => {
                return Err(StoreError::Config(format!(
                    "migration {v} ({}) was edited after it was applied",
                    m.name
                )));
            }
            Some(_) => {}
            None => {
                return Err(StoreError::Config(format!(
                    "database has migration {v}, which this binary does not know: it is newer than this binary"
                )));
            }
        }
    }
    let mut done = Vec::new();
    for m in list
        .iter()
        .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
    {
        run!(&mut c, x => sqlx::raw_sql(m.sql).execute(x).await)?;
        run!(&mut c, x => sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
            .bind(m.version).bind(m.name).bind(checksum(m.sql)).bind(now).execute(x).await)?;
        done.push(m.version);
    }
    tx.commit().await?;
    // Data a migration asked to rebuild with rules that live in Rust.
    crate::search::recut(db).await?;
    Ok(done)
}

/// The newest applied version (0 when none or the table is missing).
pub async fn current(db: &Db) -> StoreResult<i64> {
    let mut h = db.acquire().await?;
    let mut c = h.c();
    let r: Result<(Option<i64>,), sqlx::Error> = on!(&mut c, x => sqlx::query_as(
        "SELECT MAX(version) FROM schema_migrations").fetch_one(x).await);
    match r {
        Ok((v,)) => Ok(v.unwrap_or(0)),
        Err(sqlx::Error::Database(_)) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// Tables and their columns, sorted, for the parity test between backends.
pub async fn schema(db: &Db) -> StoreResult<Vec<(String, String)>> {
    let mut h = db.acquire().await?;
    let mut c = h.c();
    let rows: Vec<(String, String)> = match &mut c {
        crate::Conn::Sqlite(x) => {
            sqlx::query_as(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'search_fts%'
                 ORDER BY 1, 2",
            )
            .fetch_all(&mut **x)
            .await?
        }
        crate::Conn::Postgres(x) => {
            sqlx::query_as(
                "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns
                 WHERE table_schema = current_schema() ORDER BY 1, 2",
            )
            .fetch_all(&mut **x)
            .await?
        }
    };
    Ok(rows)
}
