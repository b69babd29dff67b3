//! The search index: one document per record (`search_docs`), its n-gram words indexed by
//! FTS5 on SQLite and by a GIN tsvector index on PostgreSQL (see `domain::search`).

use domain::search::{Query, index_tokens, normalize};

use crate::db::{Backend, Conn, Db};
use crate::error::StoreResult;
use crate::{on, run};

/// Merges SQLite's full-text index into one segment after a bulk load (PostgreSQL's GIN
/// pending list is cleaned by `Db::optimize`). Every bulk transaction leaves a segment of its
/// own, which each query then searches separately, until later inserts merge them a little at
/// a time: right after the benchmark's generator, the serial search answered 936 requests/s
/// (p99 64 ms), against 5,678/s (p99 11 ms) once the next workloads had merged them.
pub async fn compact(c: &mut Conn<'_>) -> StoreResult<()> {
    if c.backend() == Backend::Sqlite {
        run!(c, x => sqlx::query("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
            .execute(x).await)?;
    }
    Ok(())
}

/// Re-cuts the tokens of the documents a migration left to re-cut (`search_recut` holds the
/// first id still to do; migration 0010 asked for all of them) with the current
/// `domain::search` rules, a batch per transaction, and clears the request when done; returns
/// how many documents changed. Run by `migrate::run` after the migrations: the rules live in
/// Rust, not SQL. Batches, not one transaction: SQLite held every page a single pass over
/// 1.8 M documents dirtied in memory (2.8 GB); in batches it took 2 min and 306 MB. Documents whose tokens come out the same are
/// not written, so the full-text index only churns where it must; documents written
/// meanwhile already have the new tokens, and a pass cut short resumes where it stopped.
pub async fn recut(db: &Db) -> StoreResult<u64> {
    const BATCH: i64 = 5_000;
    let started = std::time::Instant::now();
    let mut changed = 0u64;
    loop {
        let mut tx = db.begin().await?;
        let mut c = tx.c();
        let next: Option<(i64,)> = on!(&mut c, x => sqlx::query_as(
            "SELECT next_id FROM search_recut ORDER BY next_id LIMIT 1").fetch_optional(x).await)?;
        let Some((from,)) = next else { break };
        let rows: Vec<(i64, String)> = on!(&mut c, x => sqlx::query_as(
            "SELECT id, text FROM search_docs WHERE id >= $1 ORDER BY id LIMIT $2")
            .bind(from).bind(BATCH).fetch_all(x).await)?;
        let Some(&(last, _)) = rows.last() else {
            run!(&mut c, x => sqlx::query("DELETE FROM search_recut").execute(x).await)?;
            tx.commit().await?;
            if changed > 0 {
                // Minutes on a large database (1.8 M documents: 2 min), once: worth a line.
                tracing::info!(
                    changed,
                    secs = started.elapsed().as_secs(),
                    "search index re-cut"
                );
            }
            break;
        };
        if from == 0 {
            tracing::info!(
                "re-cutting the search index after an upgrade (minutes on millions of records)"
            );
        }
        let (ids, tokens): (Vec<i64>, Vec<String>) = rows
            .into_iter()
            .map(|(id, text)| (id, index_tokens(&text)))
            .unzip();
        changed += match &mut c {
            // In-process statements: one prepared UPDATE per document costs no round trip.
            Conn::Sqlite(x) => {
                let mut n = 0;
                for (id, t) in ids.iter().zip(&tokens) {
                    n += sqlx::query(
                        "UPDATE search_docs SET tokens = $1 WHERE id = $2 AND tokens <> $1",
                    )
                    .bind(t)
                    .bind(id)
                    .execute(&mut **x)
                    .await?
                    .rows_affected();
                }
                n
            }
            Conn::Postgres(x) => sqlx::query(
                "UPDATE search_docs d SET tokens = v.t FROM UNNEST($1::BIGINT[], $2::TEXT[]) AS v (id, t)
                 WHERE d.id = v.id AND d.tokens <> v.t")
                .bind(&ids).bind(&tokens).execute(&mut **x).await?.rows_affected(),
        };
        run!(&mut c, x => sqlx::query("UPDATE search_recut SET next_id = $1")
            .bind(last + 1).execute(x).await)?;
        tx.commit().await?;
    }
    Ok(changed)
}

/// One search result.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// Record type: customer, contact, product, order, equipment, outlet…
    pub kind: String,
    pub ref_id: i64,
    pub title: String,
}

/// Indexes (or re-indexes) a record: `title` is shown in results, `text` is searched.
pub async fn upsert(
    c: &mut Conn<'_>,
    org: i64,
    kind: &str,
    ref_id: i64,
    title: &str,
    text: &str,
) -> StoreResult<()> {
    let norm = normalize(text);
    let tokens = index_tokens(text);
    run!(c, x => sqlx::query(
        "INSERT INTO search_docs (org_id, kind, ref_id, title, text, tokens) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kind, ref_id) DO UPDATE SET org_id = excluded.org_id, title = excluded.title,
            text = excluded.text, tokens = excluded.tokens")
        .bind(org).bind(kind).bind(ref_id).bind(title).bind(&norm).bind(&tokens).execute(x).await)?;
    Ok(())
}

/// [`upsert`] for many records in one statement: (kind, ref id, title, text) each.
pub async fn upsert_many(
    c: &mut Conn<'_>,
    org: i64,
    docs: &[(&str, i64, String, String)],
) -> StoreResult<()> {
    write_many(c, org, docs, true).await
}

/// Writes the documents of records that have none yet; a record that already has one keeps
/// it. For [`pending`] records: their document is read after they were queued, and a change
/// made meanwhile has written its own, at least as new.
pub async fn add_many(
    c: &mut Conn<'_>,
    org: i64,
    docs: &[(&str, i64, String, String)],
) -> StoreResult<()> {
    write_many(c, org, docs, false).await
}

async fn write_many(
    c: &mut Conn<'_>,
    org: i64,
    docs: &[(&str, i64, String, String)],
    replace: bool,
) -> StoreResult<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let rows: Vec<(&str, i64, &str, String, String)> = docs
        .iter()
        .map(|(kind, id, title, text)| {
            (
                *kind,
                *id,
                title.as_str(),
                normalize(text),
                index_tokens(text),
            )
        })
        .collect();
    let conflict = if replace {
        " ON CONFLICT (kind, ref_id) DO UPDATE SET org_id = excluded.org_id, title = excluded.title,
            text = excluded.text, tokens = excluded.tokens"
    } else {
        " ON CONFLICT (kind, ref_id) DO NOTHING"
    };
    for chunk in rows.chunks(500) {
        run!(c, x => {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO search_docs (org_id, kind, ref_id, title, text, tokens) ");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(org).push_bind(r.0.to_string()).push_bind(r.1).push_bind(r.2.to_string())
                    .push_bind(r.3.clone()).push_bind(r.4.clone());
            });
            q.push(conflict);
            q.build().execute(x).await
        })?;
    }
    Ok(())
}

/// A record whose document is still to be written (see [`queue`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The queue row's id (what [`unqueue`] takes).
    pub id: i64,
    pub org_id: i64,
    /// Record type, as in `search_docs`.
    pub kind: String,
    /// The record's id.
    pub ref_id: i64,
}

/// Marks records of one kind as waiting for their document, in the caller's transaction: the
/// document is written later, with many others, by whoever drains [`pending`].
pub async fn queue(c: &mut Conn<'_>, org: i64, kind: &str, ref_ids: &[i64]) -> StoreResult<()> {
    for chunk in ref_ids.chunks(500) {
        run!(c, x => {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO search_pending (org_id, kind, ref_id) ");
            q.push_values(chunk, |mut b, id| {
                b.push_bind(org).push_bind(kind.to_string()).push_bind(*id);
            });
            q.build().execute(x).await
        })?;
    }
    Ok(())
}

/// The oldest `limit` records of a kind waiting for their document.
pub async fn pending(c: &mut Conn<'_>, kind: &str, limit: i64) -> StoreResult<Vec<Pending>> {
    let rows: Vec<(i64, i64, String, i64)> = on!(c, x => sqlx::query_as(
        "SELECT id, org_id, kind, ref_id FROM search_pending WHERE kind = $1 ORDER BY id LIMIT $2")
        .bind(kind).bind(limit).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, org_id, kind, ref_id)| Pending {
            id,
            org_id,
            kind,
            ref_id,
        })
        .collect())
}

/// Forgets waiting records by their queue ids (those whose documents were just written).
/// By id, not "up to": on PostgreSQL a lower id may commit after a higher one was read.
pub async fn unqueue(c: &mut Conn<'_>, ids: &[i64]) -> StoreResult<()> {
    for chunk in ids.chunks(1000) {
        run!(c, x => {
            let mut q = sqlx::QueryBuilder::new("DELETE FROM search_pending WHERE id IN (");
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            q.push(")");
            q.build().execute(x).await
        })?;
    }
    Ok(())
}

/// Removes a record from the index.
pub async fn remove(c: &mut Conn<'_>, kind: &str, ref_id: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query("DELETE FROM search_docs WHERE kind = $1 AND ref_id = $2")
        .bind(kind).bind(ref_id).execute(x).await)?;
    Ok(())
}

/// Records of an organization matching a query, optionally of one kind, at most `limit`.
pub async fn find(
    c: &mut Conn<'_>,
    org: i64,
    q: &Query,
    kind: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Hit>> {
    let rows: Vec<(String, i64, String)> = match c.backend() {
        Backend::Sqlite => on!(c, x => sqlx::query_as(
            "SELECT d.kind, d.ref_id, d.title FROM search_fts CROSS JOIN search_docs d ON d.id = search_fts.rowid
             WHERE search_fts MATCH $1 AND d.org_id = $2 AND d.text LIKE $3 AND ($4 IS NULL OR d.kind = $4)
             LIMIT $5")
            .bind(q.fts5()).bind(org).bind(&q.like).bind(kind).bind(limit).fetch_all(x).await)?,
        Backend::Postgres => on!(c, x => sqlx::query_as(
            "SELECT d.kind, d.ref_id, d.title FROM search_docs d
             WHERE to_tsvector('simple', d.tokens) @@ to_tsquery('simple', $1) AND d.org_id = $2
               AND d.text LIKE $3 AND ($4::TEXT IS NULL OR d.kind = $4)
             LIMIT $5")
            .bind(q.tsquery()).bind(org).bind(&q.like).bind(kind).bind(limit).fetch_all(x).await)?,
    };
    // No ORDER BY in SQL: sorting every match of a common word costs more than the search
    // (measured); the first `limit` matches are sorted here instead.
    let mut hits: Vec<Hit> = rows
        .into_iter()
        .map(|r| Hit {
            kind: r.0,
            ref_id: r.1,
            title: r.2,
        })
        .collect();
    hits.sort_by(|a, b| (&a.kind, &a.title).cmp(&(&b.kind, &b.title)));
    Ok(hits)
}
