//! Service-order numbers (`SO-2026-000123`): sequences per organization and year, reserved in
//! blocks inside the caller's transaction so bulk scheduling takes one statement.

use crate::db::Conn;
use crate::error::StoreResult;
use crate::{on, run};

/// Reserves `n` consecutive sequence numbers of `year`; returns the first.
pub async fn reserve(c: &mut Conn<'_>, org: i64, year: i64, n: i64) -> StoreResult<i64> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "UPDATE service_order_counters SET next = next + $3 WHERE org_id = $1 AND year = $2 RETURNING next - $3")
        .bind(org).bind(year).bind(n).fetch_optional(x).await)?;
    if let Some((first,)) = r {
        return Ok(first);
    }
    run!(c, x => sqlx::query("INSERT INTO service_order_counters (org_id, year, next) VALUES ($1, $2, $3)")
        .bind(org).bind(year).bind(1 + n).execute(x).await)?;
    Ok(1)
}

/// The number of sequence `seq` of `year`.
pub fn format(year: i64, seq: i64) -> String {
    format!("SO-{year}-{seq:06}")
}
