//! Spare parts, stock locations, stock per part and location, and stock moves. Stock is
//! decremented with a guarded `UPDATE … WHERE qty >= n` (never read-then-write), so concurrent
//! use can never take more than is on hand; the table's CHECK (qty >= 0) is the last line.

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{Page, PageReq, on, run};

/// Takes `qty` of a part from a location for an order (or another use): true when it was
/// on hand and is now taken (a stock move with reason `order` is written); false when the
/// location holds less than `qty` (nothing changes).
#[allow(clippy::too_many_arguments)]
pub async fn take(
    c: &mut Conn<'_>,
    org: i64,
    part_id: i64,
    location_id: i64,
    qty: i64,
    order_id: Option<i64>,
    user_id: Option<i64>,
    now: i64,
) -> StoreResult<bool> {
    take_for(c, org, part_id, location_id, qty, "order", order_id, user_id, now).await
}

/// Like [`take`] with the move's reason given (`order`, `correction`).
#[allow(clippy::too_many_arguments)]
pub async fn take_for(
    c: &mut Conn<'_>,
    org: i64,
    part_id: i64,
    location_id: i64,
    qty: i64,
    reason: &str,
    order_id: Option<i64>,
    user_id: Option<i64>,
    now: i64,
) -> StoreResult<bool> {
    if qty <= 0 {
        return Ok(qty == 0);
    }
    // One guarded statement: the row lock (PostgreSQL) or the write lock (SQLite) makes the
    // check and the decrement atomic.
    let r = run!(c, x => sqlx::query(
        "UPDATE part_stock SET qty = qty - $4, updated_at = $5
         WHERE org_id = $1 AND part_id = $2 AND location_id = $3 AND qty >= $4")
        .bind(org).bind(part_id).bind(location_id).bind(qty).bind(now).execute(x).await)?;
    if r != 1 {
        return Ok(false);
    }
    insert_move(
        c,
        org,
        part_id,
        location_id,
        -qty,
        reason,
        order_id,
        user_id,
        now,
    )
    .await?;
    Ok(true)
}

/// Adds `qty` of a part to a location (a receipt, a return from an order, a correction up)
/// and writes the stock move with `reason` (`receipt`, `return`, `correction`).
#[allow(clippy::too_many_arguments)]
pub async fn give(
    c: &mut Conn<'_>,
    org: i64,
    part_id: i64,
    location_id: i64,
    qty: i64,
    reason: &str,
    order_id: Option<i64>,
    user_id: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    if qty <= 0 {
        return Ok(());
    }
    run!(c, x => sqlx::query(
        "INSERT INTO part_stock (part_id, location_id, org_id, qty, updated_at) VALUES ($2, $3, $1, $4, $5)
         ON CONFLICT (part_id, location_id) DO UPDATE SET qty = part_stock.qty + excluded.qty,
            updated_at = excluded.updated_at")
        .bind(org).bind(part_id).bind(location_id).bind(qty).bind(now).execute(x).await)?;
    insert_move(
        c,
        org,
        part_id,
        location_id,
        qty,
        reason,
        order_id,
        user_id,
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn insert_move(
    c: &mut Conn<'_>,
    org: i64,
    part_id: i64,
    location_id: i64,
    delta: i64,
    reason: &str,
    order_id: Option<i64>,
    user_id: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO stock_moves (org_id, part_id, location_id, delta, reason, order_id, user_id, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(org).bind(part_id).bind(location_id).bind(delta).bind(reason).bind(order_id).bind(user_id)
        .bind(now).execute(x).await)?;
    Ok(())
}

/// The unit cost (fen) of a part of the organization.
pub async fn unit_cost(c: &mut Conn<'_>, org: i64, part_id: i64) -> StoreResult<i64> {
    let (v,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT unit_cost_fen FROM parts WHERE org_id = $1 AND id = $2")
        .bind(org).bind(part_id).fetch_one(x).await)?;
    Ok(v)
}

/// Quantity on hand of a part at a location (0 when never stocked there).
pub async fn on_hand(c: &mut Conn<'_>, org: i64, part_id: i64, location_id: i64) -> StoreResult<i64> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT qty FROM part_stock WHERE org_id = $1 AND part_id = $2 AND location_id = $3")
        .bind(org).bind(part_id).bind(location_id).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0).unwrap_or(0))
}
