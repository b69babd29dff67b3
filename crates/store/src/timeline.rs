//! The timeline of every customer and every unit: each feature appends its events here in
//! the transaction that makes them (orders, installs, complaints, service orders, visits…),
//! so a timeline is one indexed query, newest first, whatever features exist.

use crate::db::Conn;
use crate::error::StoreResult;
use crate::{Page, PageReq, on, run};

/// One event.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Event {
    /// The event's own number; for a complaint's receipt (read from the complaint, not
    /// stored as an event) the complaint's id negated.
    pub id: i64,
    pub at: i64,
    /// The record type that made the event (order, equipment, complaint…).
    pub kind: String,
    pub ref_id: i64,
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub summary: String,
}

/// What to append.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub org_id: i64,
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub at: i64,
    pub kind: &'a str,
    pub ref_id: i64,
    pub summary: &'a str,
}

/// Appends an event.
pub async fn add(c: &mut Conn<'_>, e: &NewEvent<'_>) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO timeline (org_id, customer_id, equipment_id, at, kind, ref_id, summary)
         VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(e.org_id).bind(e.customer_id).bind(e.equipment_id).bind(e.at).bind(e.kind).bind(e.ref_id)
        .bind(e.summary).execute(x).await)?;
    Ok(())
}

/// Appends many events in one statement.
pub async fn add_many(c: &mut Conn<'_>, events: &[NewEvent<'_>]) -> StoreResult<()> {
    for chunk in events.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        run!(c, x => {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO timeline (org_id, customer_id, equipment_id, at, kind, ref_id, summary) ");
            q.push_values(chunk, |mut b, e| {
                b.push_bind(e.org_id).push_bind(e.customer_id).push_bind(e.equipment_id).push_bind(e.at)
                    .push_bind(e.kind.to_string()).push_bind(e.ref_id).push_bind(e.summary.to_string());
            });
            q.build().execute(x).await
        })?;
    }
    Ok(())
}

/// Replaces the events of a record (when the record's date or owner changes).
pub async fn replace(c: &mut Conn<'_>, e: &NewEvent<'_>) -> StoreResult<()> {
    run!(c, x => sqlx::query("DELETE FROM timeline WHERE kind = $1 AND ref_id = $2 AND org_id = $3")
        .bind(e.kind).bind(e.ref_id).bind(e.org_id).execute(x).await)?;
    add(c, e).await
}

type Row = (i64, i64, String, i64, Option<i64>, Option<i64>, String);

fn event(r: Row) -> Event {
    Event {
        id: r.0,
        at: r.1,
        kind: r.2,
        ref_id: r.3,
        customer_id: r.4,
        equipment_id: r.5,
        summary: r.6,
    }
}

/// A customer's events, newest first.
pub async fn for_customer(
    c: &mut Conn<'_>,
    org: i64,
    customer: i64,
    p: PageReq,
) -> StoreResult<Page<Event>> {
    events_of(c, org, Of::Customer(customer), p).await
}

/// A unit's events, newest first.
pub async fn for_equipment(
    c: &mut Conn<'_>,
    org: i64,
    equipment: i64,
    p: PageReq,
) -> StoreResult<Page<Event>> {
    events_of(c, org, Of::Equipment(equipment), p).await
}

/// Whose timeline.
#[derive(Clone, Copy)]
enum Of {
    Customer(i64),
    Equipment(i64),
}

/// The rows of `timeline`, and a complaint's receipt read from the complaint itself (kind
/// `complaint`, at its receipt time, id the complaint's id negated, summary its number and the
/// start of its description): registrations write no timeline row (migration 0011). Each side
/// reads at most one page past the offset, newest first, from its index
/// (`timeline_customer` / `timeline_equipment`, `complaints_org_customer` /
/// `complaints_org_equipment`); the merge sorts those few.
async fn events_of(c: &mut Conn<'_>, org: i64, of: Of, p: PageReq) -> StoreResult<Page<Event>> {
    let (col, owner, extra) = match of {
        Of::Customer(id) => ("customer_id", id, ""),
        Of::Equipment(id) => ("equipment_id", id, " AND equipment_id IS NOT NULL"),
    };
    let count = format!(
        "SELECT (SELECT COUNT(*) FROM timeline WHERE org_id = $1 AND {col} = $2)
              + (SELECT COUNT(*) FROM complaints WHERE org_id = $1 AND {col} = $2{extra})"
    );
    let (total,): (i64,) = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(count))
        .bind(org).bind(owner).fetch_one(x).await)?;
    let page = format!(
        "SELECT id, at, kind, ref_id, customer_id, equipment_id, summary FROM (
           SELECT * FROM (SELECT id, at, kind, ref_id, customer_id, equipment_id, summary
             FROM timeline WHERE org_id = $1 AND {col} = $2
             ORDER BY at DESC, id DESC LIMIT $3) t
           UNION ALL
           SELECT * FROM (SELECT -id AS id, received_at AS at, 'complaint' AS kind, id AS ref_id,
                  customer_id, equipment_id,
                  number || ' ' || substr(COALESCE(description, ''), 1, 40) AS summary
             FROM complaints WHERE org_id = $1 AND {col} = $2{extra}
             ORDER BY received_at DESC, id DESC LIMIT $3) r
         ) e ORDER BY at DESC, id DESC LIMIT $4 OFFSET $5"
    );
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(page))
        .bind(org).bind(owner).bind(p.offset() + p.per_page).bind(p.per_page).bind(p.offset())
        .fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(event).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}
