//! Service-order numbers (`SO-2026-000123`): sequences per organization and year, reserved in
//! blocks inside the caller's transaction so bulk scheduling takes one statement.

use crate::db::Conn;
use crate::error::StoreResult;
use crate::on;

/// Reserves `n` consecutive sequence numbers of `year`; returns the first.
pub async fn reserve(c: &mut Conn<'_>, org: i64, year: i64, n: i64) -> StoreResult<i64> {
    // One upsert: two first orders of a year at once must not clash on the insert.
    let (first,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO service_order_counters (org_id, year, next) VALUES ($1, $2, 1 + $3)
         ON CONFLICT (org_id, year) DO UPDATE SET next = service_order_counters.next + $3
         RETURNING next - $3")
        .bind(org).bind(year).bind(n).fetch_one(x).await)?;
    Ok(first)
}

/// The number of sequence `seq` of `year`.
pub fn format(year: i64, seq: i64) -> String {
    format!("SO-{year}-{seq:06}")
}
