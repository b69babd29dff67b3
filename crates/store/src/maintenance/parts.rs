//! Spare parts, stock locations, stock per part and location, and stock moves. Stock is
//! decremented with a guarded `UPDATE … WHERE qty >= n` (never read-then-write), so concurrent
//! use can never take more than is on hand; the table's CHECK (qty >= 0) is the last line.

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{Page, PageReq, on, run};

/// Takes `qty` of a part from a location for an order (or another use): true when it was
/// on hand and is now taken (a stock move with reason `order` is written); false when the
/// location holds less than `qty` or `qty` is not positive (nothing changes).
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
    Ok(take_for(
        c,
        org,
        part_id,
        location_id,
        qty,
        "order",
        order_id,
        user_id,
        now,
    )
    .await?
    .is_some())
}

/// Like [`take`] with the move's reason given (`order`, `correction`): the id of the stock
/// move written, or `None` when not enough is on hand (or `qty` is 0).
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
) -> StoreResult<Option<i64>> {
    if qty <= 0 {
        return Ok(None);
    }
    // One guarded statement: the row lock (PostgreSQL) or the write lock (SQLite) makes the
    // check and the decrement atomic.
    let r = run!(c, x => sqlx::query(
        "UPDATE part_stock SET qty = qty - $4, updated_at = $5
         WHERE org_id = $1 AND part_id = $2 AND location_id = $3 AND qty >= $4")
        .bind(org).bind(part_id).bind(location_id).bind(qty).bind(now).execute(x).await)?;
    if r != 1 {
        return Ok(None);
    }
    let id = insert_move(
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
    Ok(Some(id))
}

/// Adds `qty` of a part to a location (a receipt, a return from an order, a correction up)
/// and writes the stock move with `reason` (`receipt`, `return`, `correction`); returns the
/// move's id (0 when `qty` is not positive and nothing moved).
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
) -> StoreResult<i64> {
    if qty <= 0 {
        return Ok(0);
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
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO stock_moves (org_id, part_id, location_id, delta, reason, order_id, user_id, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(org).bind(part_id).bind(location_id).bind(delta).bind(reason).bind(order_id).bind(user_id)
        .bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// The unit cost (fen) of a part of the organization.
pub async fn unit_cost(c: &mut Conn<'_>, org: i64, part_id: i64) -> StoreResult<i64> {
    let (v,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT unit_cost_fen FROM parts WHERE org_id = $1 AND id = $2")
        .bind(org).bind(part_id).fetch_one(x).await)?;
    Ok(v)
}

/// Quantity on hand of a part at a location (0 when never stocked there).
pub async fn on_hand(
    c: &mut Conn<'_>,
    org: i64,
    part_id: i64,
    location_id: i64,
) -> StoreResult<i64> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT qty FROM part_stock WHERE org_id = $1 AND part_id = $2 AND location_id = $3")
        .bind(org).bind(part_id).bind(location_id).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0).unwrap_or(0))
}

// ---------- parts ----------

/// A spare part with its total quantity on hand over every location.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Part {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// Unit of count (个, 块, 台, 米…).
    pub unit: String,
    pub unit_cost_fen: i64,
    pub active: bool,
    /// Total on hand over every location.
    pub on_hand: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// Values written for a part.
#[derive(Debug, Clone)]
pub struct PartValues<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub unit: &'a str,
    pub unit_cost_fen: i64,
}

/// Filters of the parts list.
#[derive(Debug, Clone, Default)]
pub struct PartFilter {
    /// Substring of the code or name.
    pub q: Option<String>,
    /// Only parts whose total on hand is at most this.
    pub low: Option<i64>,
    pub include_retired: bool,
}

type PartRow = (i64, String, String, String, i64, bool, i64, i64, i64);

fn part(r: PartRow) -> Part {
    Part {
        id: r.0,
        code: r.1,
        name: r.2,
        unit: r.3,
        unit_cost_fen: r.4,
        active: r.5,
        on_hand: r.6,
        updated_at: r.7,
        version: r.8,
    }
}

const ON_HAND: &str =
    "(SELECT CAST(COALESCE(SUM(s.qty), 0) AS BIGINT) FROM part_stock s WHERE s.part_id = p.id)";

fn stale_check(rows: u64) -> StoreResult<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

fn like(q: Option<&str>) -> Option<String> {
    q.map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.to_lowercase().replace(['%', '_'], "")))
}

/// Inserts a part; returns its id.
pub async fn insert(c: &mut Conn<'_>, org: i64, v: &PartValues<'_>, now: i64) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO parts (org_id, code, name, unit, unit_cost_fen, active, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6, 1) RETURNING id")
        .bind(org).bind(v.code).bind(v.name).bind(v.unit).bind(v.unit_cost_fen).bind(now)
        .fetch_one(x).await)?;
    Ok(id)
}

/// Updates a part if `version` is still current.
pub async fn update(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &PartValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE parts SET code = $4, name = $5, unit = $6, unit_cost_fen = $7, updated_at = $8,
            version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.code).bind(v.name).bind(v.unit).bind(v.unit_cost_fen)
        .bind(now).execute(x).await)?;
    stale_check(r)
}

/// Retires or restores a part if `version` is still current.
pub async fn set_active(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    active: bool,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE parts SET active = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(active).bind(now).execute(x).await)?;
    stale_check(r)
}

/// One part of an organization, with its total on hand.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Part> {
    let sql = format!(
        "SELECT p.id, p.code, p.name, p.unit, p.unit_cost_fen, p.active, {ON_HAND}, p.updated_at, p.version
         FROM parts p WHERE p.org_id = $1 AND p.id = $2"
    );
    let r: PartRow = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(part(r))
}

/// True when another part of the organization has this code.
pub async fn code_taken(
    c: &mut Conn<'_>,
    org: i64,
    code: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM parts WHERE org_id = $1 AND LOWER(code) = LOWER($2) AND id <> $3")
        .bind(org).bind(code).bind(except.unwrap_or(0)).fetch_one(x).await)?;
    Ok(n > 0)
}

/// A page of parts, filtered in SQL, with totals on hand.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    f: &PartFilter,
    p: PageReq,
) -> StoreResult<Page<Part>> {
    let like = like(f.q.as_deref());
    fn filters<DB: sqlx::Database>(
        q: &mut sqlx::QueryBuilder<DB>,
        org: i64,
        f: &PartFilter,
        like: &Option<String>,
    ) where
        i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
        String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    {
        q.push(" WHERE p.org_id = ").push_bind(org);
        if !f.include_retired {
            q.push(" AND p.active");
        }
        if let Some(l) = like {
            q.push(" AND (LOWER(p.code) LIKE ")
                .push_bind(l.clone())
                .push(" OR LOWER(p.name) LIKE ")
                .push_bind(l.clone())
                .push(")");
        }
        if let Some(n) = f.low {
            q.push(" AND ").push(ON_HAND).push(" <= ").push_bind(n);
        }
    }
    let (total,): (i64,) = on!(c, x => {
        let mut q = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM parts p");
        filters(&mut q, org, f, &like);
        q.build_query_as().fetch_one(x).await
    })?;
    let rows: Vec<PartRow> = on!(c, x => {
        let mut q = sqlx::QueryBuilder::new(
            "SELECT p.id, p.code, p.name, p.unit, p.unit_cost_fen, p.active, ");
        q.push(ON_HAND).push(", p.updated_at, p.version FROM parts p");
        filters(&mut q, org, f, &like);
        q.push(" ORDER BY p.active DESC, p.code, p.id LIMIT ").push_bind(p.per_page)
            .push(" OFFSET ").push_bind(p.offset());
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(Page {
        items: rows.into_iter().map(part).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// A part as offered in a select box (service-order forms).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PartOption {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub unit_cost_fen: i64,
}

/// Every active part, by code.
pub async fn options(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<PartOption>> {
    let rows: Vec<(i64, String, String, String, i64)> = on!(c, x => sqlx::query_as(
        "SELECT id, code, name, unit, unit_cost_fen FROM parts WHERE org_id = $1 AND active ORDER BY code, id")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| PartOption {
            id: r.0,
            code: r.1,
            name: r.2,
            unit: r.3,
            unit_cost_fen: r.4,
        })
        .collect())
}

// ---------- locations ----------

/// A stock location (warehouse, van, spare-parts depot).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Location {
    pub id: i64,
    pub name: String,
    pub active: bool,
    pub created_at: i64,
}

type LocRow = (i64, String, bool, i64);

fn loc(r: LocRow) -> Location {
    Location {
        id: r.0,
        name: r.1,
        active: r.2,
        created_at: r.3,
    }
}

/// Inserts a stock location; returns its id.
pub async fn insert_location(c: &mut Conn<'_>, org: i64, name: &str, now: i64) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO stock_locations (org_id, name, active, created_at) VALUES ($1, $2, TRUE, $3) RETURNING id")
        .bind(org).bind(name).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Renames a stock location.
pub async fn rename_location(c: &mut Conn<'_>, org: i64, id: i64, name: &str) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query("UPDATE stock_locations SET name = $3 WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).bind(name).execute(x).await)?;
    if r == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Retires or restores a stock location.
pub async fn set_location_active(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    active: bool,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query("UPDATE stock_locations SET active = $3 WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).bind(active).execute(x).await)?;
    if r == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// One stock location of an organization.
pub async fn get_location(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Location> {
    let r: LocRow = on!(c, x => sqlx::query_as(
        "SELECT id, name, active, created_at FROM stock_locations WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(loc(r))
}

/// The stock locations of an organization by name (active first).
pub async fn locations(
    c: &mut Conn<'_>,
    org: i64,
    include_retired: bool,
) -> StoreResult<Vec<Location>> {
    let rows: Vec<LocRow> = on!(c, x => sqlx::query_as(
        "SELECT id, name, active, created_at FROM stock_locations WHERE org_id = $1 AND ($2 OR active)
         ORDER BY active DESC, name, id")
        .bind(org).bind(include_retired).fetch_all(x).await)?;
    Ok(rows.into_iter().map(loc).collect())
}

/// True when another location of the organization has this name.
pub async fn location_name_taken(
    c: &mut Conn<'_>,
    org: i64,
    name: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM stock_locations WHERE org_id = $1 AND name = $2 AND id <> $3")
        .bind(org).bind(name).bind(except.unwrap_or(0)).fetch_one(x).await)?;
    Ok(n > 0)
}

// ---------- stock and moves ----------

/// Quantity on hand of one part at one location.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StockRow {
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub location_id: i64,
    pub location_name: String,
    pub qty: i64,
    pub updated_at: i64,
}

type StockTuple = (i64, String, String, String, i64, String, i64, i64);

fn stock_row(r: StockTuple) -> StockRow {
    StockRow {
        part_id: r.0,
        part_code: r.1,
        part_name: r.2,
        unit: r.3,
        location_id: r.4,
        location_name: r.5,
        qty: r.6,
        updated_at: r.7,
    }
}

/// A page of stock rows (part × location), optionally for one part and/or one location.
pub async fn stock(
    c: &mut Conn<'_>,
    org: i64,
    part_id: Option<i64>,
    location_id: Option<i64>,
    p: PageReq,
) -> StoreResult<Page<StockRow>> {
    fn filters<DB: sqlx::Database>(
        q: &mut sqlx::QueryBuilder<DB>,
        org: i64,
        part_id: Option<i64>,
        location_id: Option<i64>,
    ) where
        i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    {
        q.push(
            " FROM part_stock s JOIN parts p ON p.id = s.part_id
              JOIN stock_locations l ON l.id = s.location_id WHERE s.org_id = ",
        )
        .push_bind(org);
        if let Some(id) = part_id {
            q.push(" AND s.part_id = ").push_bind(id);
        }
        if let Some(id) = location_id {
            q.push(" AND s.location_id = ").push_bind(id);
        }
    }
    let (total,): (i64,) = on!(c, x => {
        let mut q = sqlx::QueryBuilder::new("SELECT COUNT(*)");
        filters(&mut q, org, part_id, location_id);
        q.build_query_as().fetch_one(x).await
    })?;
    let rows: Vec<StockTuple> = on!(c, x => {
        let mut q = sqlx::QueryBuilder::new(
            "SELECT p.id, p.code, p.name, p.unit, l.id, l.name, s.qty, s.updated_at");
        filters(&mut q, org, part_id, location_id);
        q.push(" ORDER BY p.code, l.name, l.id LIMIT ").push_bind(p.per_page)
            .push(" OFFSET ").push_bind(p.offset());
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(Page {
        items: rows.into_iter().map(stock_row).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// A movement of stock.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Move {
    pub id: i64,
    pub part_id: i64,
    pub location_id: i64,
    pub location_name: String,
    /// Positive in, negative out.
    pub delta: i64,
    /// receipt, correction, order or return.
    pub reason: String,
    pub order_id: Option<i64>,
    pub order_number: Option<String>,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub at: i64,
}

type MoveRow = (
    i64,
    i64,
    i64,
    String,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    i64,
);

/// A page of the moves of a part, newest first.
pub async fn moves(
    c: &mut Conn<'_>,
    org: i64,
    part_id: i64,
    p: PageReq,
) -> StoreResult<Page<Move>> {
    let (total,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM stock_moves WHERE org_id = $1 AND part_id = $2")
        .bind(org).bind(part_id).fetch_one(x).await)?;
    let rows: Vec<MoveRow> = on!(c, x => sqlx::query_as(
        "SELECT m.id, m.part_id, m.location_id, l.name, m.delta, m.reason, m.order_id, o.number, m.user_id,
            u.display_name, m.at
         FROM stock_moves m JOIN stock_locations l ON l.id = m.location_id
         LEFT JOIN service_orders o ON o.id = m.order_id AND o.org_id = m.org_id
         LEFT JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.part_id = $2
         ORDER BY m.at DESC, m.id DESC LIMIT $3 OFFSET $4")
        .bind(org).bind(part_id).bind(p.per_page).bind(p.offset()).fetch_all(x).await)?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| Move {
                id: r.0,
                part_id: r.1,
                location_id: r.2,
                location_name: r.3,
                delta: r.4,
                reason: r.5,
                order_id: r.6,
                order_number: r.7,
                user_id: r.8,
                user_name: r.9,
                at: r.10,
            })
            .collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}
