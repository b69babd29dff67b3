//! The audit trail: append-only rows, hash-chained per organization, written inside the
//! caller's transaction so a change and its audit row commit together or not at all.

use domain::audit::{AuditContent, ChainBreak, ChainVerifier, GENESIS, chain_hash};

use crate::db::Conn;
use crate::error::StoreResult;
use crate::{Page, PageReq, on, run};

/// Who made a change.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

impl Actor {
    /// A command-line or system actor with no user account.
    pub fn system(name: &str) -> Actor {
        Actor {
            user_id: None,
            name: name.to_string(),
        }
    }
}

/// A change to record.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub org_id: Option<i64>,
    pub at: i64,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A stored audit row.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: i64,
    pub org_id: Option<i64>,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub hash: String,
}

/// Filters for the audit list; every field optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Appends one row to the organization's chain (chain 0 for deployment-wide events).
pub async fn record(c: &mut Conn<'_>, e: NewEntry<'_>) -> StoreResult<i64> {
    let chain = e.org_id.unwrap_or(0);
    // One upsert starts the chain or advances its head; on PostgreSQL the conflict update
    // takes the head's row lock, serialising appends to one chain across instances (SQLite
    // is already serialised by BEGIN IMMEDIATE).
    let (seq, prev): (i64, String) = on!(c, x => sqlx::query_as(
        "INSERT INTO audit_heads (chain, seq, last_hash) VALUES ($1, 1, $2)
         ON CONFLICT (chain) DO UPDATE SET seq = audit_heads.seq + 1 RETURNING seq, last_hash")
        .bind(chain).bind(GENESIS).fetch_one(x).await)?;
    let before = e.before.map(|v| v.to_string());
    let after = e.after.map(|v| v.to_string());
    let content = AuditContent {
        chain,
        seq,
        at: e.at,
        actor_id: e.actor.user_id,
        actor: &e.actor.name,
        action: e.action,
        entity: e.entity,
        entity_id: e.entity_id,
        before: before.as_deref(),
        after: after.as_deref(),
    };
    let hash = chain_hash(&prev, &content);
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO audit_log (chain, seq, org_id, at, actor_id, actor, action, entity, entity_id,
            before_json, after_json, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
        .bind(chain).bind(seq).bind(e.org_id).bind(e.at).bind(e.actor.user_id).bind(&e.actor.name)
        .bind(e.action).bind(e.entity).bind(e.entity_id).bind(&before).bind(&after).bind(&prev).bind(&hash)
        .fetch_one(x).await)?;
    run!(c, x => sqlx::query("UPDATE audit_heads SET last_hash = $2 WHERE chain = $1")
        .bind(chain).bind(&hash).execute(x).await)?;
    Ok(id)
}

/// One of many changes recorded together by [`record_many`].
#[derive(Debug, Clone)]
pub struct Item {
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Appends many rows by one actor at one time: the chain's sequence numbers are reserved in
/// one statement (taking the head's lock), the hashes are chained in memory, and the rows go
/// in with multi-row INSERTs. Same chain, same verification as [`record`].
pub async fn record_many(
    c: &mut Conn<'_>,
    org_id: Option<i64>,
    actor: &Actor,
    at: i64,
    items: &[Item],
) -> StoreResult<()> {
    let entries: Vec<NewEntry<'_>> = items
        .iter()
        .map(|it| NewEntry {
            org_id,
            at,
            actor,
            action: it.action,
            entity: it.entity,
            entity_id: it.entity_id,
            before: it.before.clone(),
            after: it.after.clone(),
        })
        .collect();
    record_all(c, &entries).await
}

/// Appends many rows, in order, each with its own actor and time (a group of registrations
/// committed together): per chain, three statements whatever the number of rows.
pub async fn record_all(c: &mut Conn<'_>, entries: &[NewEntry<'_>]) -> StoreResult<()> {
    let mut chains: Vec<i64> = entries.iter().map(|e| e.org_id.unwrap_or(0)).collect();
    chains.sort_unstable();
    chains.dedup();
    for chain in chains {
        let mine: Vec<&NewEntry<'_>> = entries
            .iter()
            .filter(|e| e.org_id.unwrap_or(0) == chain)
            .collect();
        append(c, chain, &mine).await?;
    }
    Ok(())
}

/// Appends rows to one chain (see [`record_all`]).
async fn append(c: &mut Conn<'_>, chain: i64, entries: &[&NewEntry<'_>]) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let n = entries.len() as i64;
    run!(c, x => sqlx::query(
        "INSERT INTO audit_heads (chain, seq, last_hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING")
        .bind(chain).bind(GENESIS).execute(x).await)?;
    let (last, mut prev): (i64, String) = on!(c, x => sqlx::query_as(
        "UPDATE audit_heads SET seq = seq + $2 WHERE chain = $1 RETURNING seq, last_hash")
        .bind(chain).bind(n).fetch_one(x).await)?;
    let mut rows = Vec::with_capacity(entries.len());
    for (k, e) in entries.iter().enumerate() {
        let seq = last - n + 1 + k as i64;
        let before = e.before.as_ref().map(|v| v.to_string());
        let after = e.after.as_ref().map(|v| v.to_string());
        let hash = chain_hash(
            &prev,
            &AuditContent {
                chain,
                seq,
                at: e.at,
                actor_id: e.actor.user_id,
                actor: &e.actor.name,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id,
                before: before.as_deref(),
                after: after.as_deref(),
            },
        );
        rows.push((seq, *e, before, after, prev.clone(), hash.clone()));
        prev = hash;
    }
    for chunk in rows.chunks(300) {
        run!(c, x => {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO audit_log (chain, seq, org_id, at, actor_id, actor, action, entity, entity_id,
                    before_json, after_json, prev_hash, hash) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(chain).push_bind(r.0).push_bind(r.1.org_id).push_bind(r.1.at).push_bind(r.1.actor.user_id)
                    .push_bind(r.1.actor.name.clone()).push_bind(r.1.action.to_string()).push_bind(r.1.entity.to_string())
                    .push_bind(r.1.entity_id).push_bind(r.2.clone()).push_bind(r.3.clone()).push_bind(r.4.clone())
                    .push_bind(r.5.clone());
            });
            qb.build().execute(x).await
        })?;
    }
    run!(c, x => sqlx::query("UPDATE audit_heads SET last_hash = $2 WHERE chain = $1")
        .bind(chain).bind(&prev).execute(x).await)?;
    Ok(())
}

type Row = (
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
);

fn to_entry(r: Row) -> Entry {
    Entry {
        id: r.0,
        org_id: r.1,
        at: r.2,
        actor_id: r.3,
        actor: r.4,
        action: r.5,
        entity: r.6,
        entity_id: r.7,
        before: r.8,
        after: r.9,
        hash: r.10,
    }
}

// Optional filters are bound as NULL when absent, so the SQL text stays static.
macro_rules! audit_filter {
    () => {
        " FROM audit_log WHERE org_id = $1
    AND ($2 IS NULL OR entity = $2) AND ($3 IS NULL OR entity_id = $3)
    AND ($4 IS NULL OR action = $4) AND ($5 IS NULL OR LOWER(actor) LIKE LOWER($5))
    AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7)"
    };
}

/// Most audit rows a list counts (see [`list`]).
pub const COUNT_CAP: i64 = 10_000;

/// One page of an organization's audit rows, newest first, filtered in SQL. `total` is
/// exact up to [`COUNT_CAP`] and `COUNT_CAP + 1` beyond it.
pub async fn list(c: &mut Conn<'_>, org: i64, f: &Filter, p: PageReq) -> StoreResult<Page<Entry>> {
    // The trail only grows: counting all of it on every page view grows with it. The count
    // stops at COUNT_CAP (the pager then offers "more"; filters narrow the rest).
    const COUNT: &str = concat!(
        "SELECT COUNT(*) FROM (SELECT 1",
        audit_filter!(),
        " LIMIT 10001) capped"
    );
    const LIST: &str = concat!(
        "SELECT id, org_id, at, actor_id, actor, action, entity, entity_id, before_json, after_json, hash",
        audit_filter!(),
        " ORDER BY id DESC LIMIT $8 OFFSET $9"
    );
    let actor = f
        .actor
        .as_ref()
        .map(|a| format!("%{}%", a.replace('%', "")));
    let (total,): (i64,) = on!(c, x => sqlx::query_as(COUNT)
        .bind(org).bind(&f.entity).bind(f.entity_id).bind(&f.action).bind(&actor).bind(f.from).bind(f.to)
        .fetch_one(x).await)?;
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(LIST)
        .bind(org).bind(&f.entity).bind(f.entity_id).bind(&f.action).bind(&actor).bind(f.from).bind(f.to)
        .bind(p.per_page).bind(p.offset())
        .fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(to_entry).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// One audit row of an organization.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Entry> {
    let r: Row = on!(c, x => sqlx::query_as(
        "SELECT id, org_id, at, actor_id, actor, action, entity, entity_id, before_json, after_json, hash
         FROM audit_log WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(to_entry(r))
}

/// The outcome of verifying every chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub rows: i64,
    pub chains: i64,
    pub broken: Option<(i64, ChainBreak)>,
}

type FullRow = (
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// Recomputes every chain in batches (bounded memory); reports the first row that breaks one,
/// including a chain whose newest rows were deleted (the head no longer matches).
pub async fn verify(c: &mut Conn<'_>) -> StoreResult<Verification> {
    let heads: Vec<(i64, i64, String)> = on!(c, x => sqlx::query_as(
        "SELECT chain, seq, last_hash FROM audit_heads ORDER BY chain").fetch_all(x).await)?;
    let mut rows = 0i64;
    for (chain, head_seq, head_hash) in &heads {
        let mut v = ChainVerifier::default();
        let mut after_seq = 0i64;
        let mut last: Option<(i64, i64, String)> = None;
        loop {
            let batch: Vec<FullRow> = on!(c, x => sqlx::query_as(
                "SELECT id, chain, seq, at, actor_id, actor, action, entity, entity_id, before_json,
                        after_json, prev_hash, hash
                 FROM audit_log WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT 1000")
                .bind(chain).bind(after_seq).fetch_all(x).await)?;
            if batch.is_empty() {
                break;
            }
            for r in &batch {
                let content = AuditContent {
                    chain: r.1,
                    seq: r.2,
                    at: r.3,
                    actor_id: r.4,
                    actor: &r.5,
                    action: &r.6,
                    entity: &r.7,
                    entity_id: r.8,
                    before: r.9.as_deref(),
                    after: r.10.as_deref(),
                };
                if let Err(b) = v.check(r.0, &content, &r.11, &r.12) {
                    return Ok(Verification {
                        rows,
                        chains: heads.len() as i64,
                        broken: Some((*chain, b)),
                    });
                }
                rows += 1;
                after_seq = r.2;
                last = Some((r.0, r.2, r.12.clone()));
            }
        }
        let tail_ok = match &last {
            Some((_, seq, hash)) => seq == head_seq && hash == head_hash,
            None => *head_seq == 0,
        };
        if !tail_ok {
            let id = last.map(|l| l.0).unwrap_or(0);
            return Ok(Verification {
                rows,
                chains: heads.len() as i64,
                broken: Some((*chain, ChainBreak::Gap { id })),
            });
        }
    }
    Ok(Verification {
        rows,
        chains: heads.len() as i64,
        broken: None,
    })
}

/// The entities that have audit rows in an organization (for the filter list).
pub async fn entities(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT DISTINCT entity FROM audit_log WHERE org_id = $1 ORDER BY entity")
        .bind(org).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
