//! The timeline of every customer and every unit: each feature appends its events here in
//! the transaction that makes them (orders, installs, complaints, service orders, visits…),
//! so a timeline is one indexed query, newest first, whatever features exist.

use crate::db::Conn;
use crate::error::StoreResult;
use crate::{Page, PageReq, on, run};

/// One event.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Event {
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
    let (total,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM timeline WHERE org_id = $1 AND customer_id = $2")
        .bind(org).bind(customer).fetch_one(x).await)?;
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(
        "SELECT id, at, kind, ref_id, customer_id, equipment_id, summary FROM timeline
         WHERE org_id = $1 AND customer_id = $2 ORDER BY at DESC, id DESC LIMIT $3 OFFSET $4")
        .bind(org).bind(customer).bind(p.per_page).bind(p.offset()).fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(event).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// A unit's events, newest first.
pub async fn for_equipment(
    c: &mut Conn<'_>,
    org: i64,
    equipment: i64,
    p: PageReq,
) -> StoreResult<Page<Event>> {
    let (total,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM timeline WHERE org_id = $1 AND equipment_id = $2")
        .bind(org).bind(equipment).fetch_one(x).await)?;
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(
        "SELECT id, at, kind, ref_id, customer_id, equipment_id, summary FROM timeline
         WHERE org_id = $1 AND equipment_id = $2 ORDER BY at DESC, id DESC LIMIT $3 OFFSET $4")
        .bind(org).bind(equipment).bind(p.per_page).bind(p.offset()).fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(event).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}
