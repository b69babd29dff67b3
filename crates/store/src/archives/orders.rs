//! Orders with their lines, and the few customer look-ups orders and equipment need
//! (existence, display name, choices). Every query carries `org_id`; updates carry the
//! version read. Money is integer fen; totals are summed in SQL.

use super::products::{like, nonblank, stale_check};
use crate::db::Conn;
use crate::error::StoreResult;
use crate::{Page, PageReq, on, run};

/// One line of an order.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OrderLine {
    pub id: i64,
    pub product_id: i64,
    pub part_no: String,
    pub model: String,
    pub product_name: String,
    pub quantity: i64,
    /// Unit price in fen (分).
    pub unit_price_fen: i64,
    /// quantity × unit price, in fen.
    pub amount_fen: i64,
}

/// An order with its lines.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Order {
    pub id: i64,
    /// Order number (订单编号), unique in the organization.
    pub order_no: String,
    pub customer_id: i64,
    pub customer_name: String,
    /// Delivery note number (交货单号).
    pub delivery_no: Option<String>,
    /// Ship date (交运日期), YYYY-MM-DD.
    pub ship_date: Option<String>,
    pub notes: Option<String>,
    pub lines: Vec<OrderLine>,
    /// Sum of the line amounts, in fen.
    pub total_fen: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// An order as listed (lines counted and summed, not loaded).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OrderSummary {
    pub id: i64,
    pub order_no: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub delivery_no: Option<String>,
    pub ship_date: Option<String>,
    pub line_count: i64,
    pub total_fen: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// Values written for an order (lines are written by [`replace_lines`]).
#[derive(Debug, Clone)]
pub struct OrderValues<'a> {
    pub order_no: &'a str,
    pub customer_id: i64,
    pub delivery_no: Option<&'a str>,
    pub ship_date: Option<&'a str>,
    pub notes: Option<&'a str>,
}

/// A line as written: (product id, quantity, unit price in fen).
#[derive(Debug, Clone, Copy)]
pub struct LineValues {
    pub product_id: i64,
    pub quantity: i64,
    pub unit_price_fen: i64,
}

/// Filters of the order list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Substring of the order or delivery number.
    pub q: Option<String>,
    pub customer_id: Option<i64>,
    /// Orders with a line of this product.
    pub product_id: Option<i64>,
    /// Ship date on or after (YYYY-MM-DD).
    pub ship_from: Option<String>,
    /// Ship date on or before (YYYY-MM-DD).
    pub ship_to: Option<String>,
}

type Head = (
    i64,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
);

type LineRow = (i64, i64, String, String, String, i64, i64, i64);

/// Inserts an order (without lines); returns its id.
pub async fn insert(c: &mut Conn<'_>, org: i64, v: &OrderValues<'_>, now: i64) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO orders (org_id, order_no, customer_id, delivery_no, ship_date, notes, created_at, updated_at,
            version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1) RETURNING id")
        .bind(org).bind(v.order_no).bind(v.customer_id).bind(v.delivery_no).bind(v.ship_date).bind(v.notes)
        .bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Updates an order's head if `version` is still current.
pub async fn update(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &OrderValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE orders SET order_no = $4, customer_id = $5, delivery_no = $6, ship_date = $7, notes = $8,
            updated_at = $9, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.order_no).bind(v.customer_id).bind(v.delivery_no)
        .bind(v.ship_date).bind(v.notes).bind(now).execute(x).await)?;
    stale_check(r)
}

/// Replaces the lines of an order.
pub async fn replace_lines(
    c: &mut Conn<'_>,
    org: i64,
    order: i64,
    lines: &[LineValues],
) -> StoreResult<()> {
    run!(c, x => sqlx::query("DELETE FROM order_lines WHERE org_id = $1 AND order_id = $2")
        .bind(org).bind(order).execute(x).await)?;
    for l in lines {
        run!(c, x => sqlx::query(
            "INSERT INTO order_lines (org_id, order_id, product_id, quantity, unit_price_fen)
             VALUES ($1, $2, $3, $4, $5)")
            .bind(org).bind(order).bind(l.product_id).bind(l.quantity).bind(l.unit_price_fen).execute(x).await)?;
    }
    Ok(())
}

/// One order of an organization, with its lines.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Order> {
    let h: Head = on!(c, x => sqlx::query_as(
        "SELECT o.id, o.order_no, o.customer_id, cu.name, o.delivery_no, o.ship_date, o.notes, o.created_at,
            o.updated_at, o.version
         FROM orders o JOIN customers cu ON cu.id = o.customer_id
         WHERE o.org_id = $1 AND o.id = $2")
        .bind(org).bind(id).fetch_one(x).await)?;
    let rows: Vec<LineRow> = on!(c, x => sqlx::query_as(
        "SELECT l.id, l.product_id, p.part_no, p.model, p.name, l.quantity, l.unit_price_fen,
            l.quantity * l.unit_price_fen
         FROM order_lines l JOIN products p ON p.id = l.product_id
         WHERE l.org_id = $1 AND l.order_id = $2 ORDER BY l.id")
        .bind(org).bind(id).fetch_all(x).await)?;
    let lines: Vec<OrderLine> = rows
        .into_iter()
        .map(|r| OrderLine {
            id: r.0,
            product_id: r.1,
            part_no: r.2,
            model: r.3,
            product_name: r.4,
            quantity: r.5,
            unit_price_fen: r.6,
            amount_fen: r.7,
        })
        .collect();
    Ok(Order {
        id: h.0,
        order_no: h.1,
        customer_id: h.2,
        customer_name: h.3,
        delivery_no: h.4,
        ship_date: h.5,
        notes: h.6,
        total_fen: lines.iter().map(|l| l.amount_fen).sum(),
        lines,
        created_at: h.7,
        updated_at: h.8,
        version: h.9,
    })
}

type SumRow = (
    i64,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
);

/// A page of orders, filtered, counted and summed in SQL; newest ship date first.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    f: &OrderFilter,
    p: PageReq,
) -> StoreResult<Page<OrderSummary>> {
    macro_rules! w {
        () => {
            "WHERE o.org_id = $1
               AND ($2 IS NULL OR LOWER(o.order_no) LIKE LOWER($2) OR LOWER(o.delivery_no) LIKE LOWER($2))
               AND ($3 IS NULL OR o.customer_id = $3)
               AND ($4 IS NULL OR EXISTS (SELECT 1 FROM order_lines pl
                                          WHERE pl.order_id = o.id AND pl.product_id = $4))
               AND ($5 IS NULL OR o.ship_date >= $5)
               AND ($6 IS NULL OR o.ship_date <= $6) "
        };
    }
    let q = like(f.q.as_deref());
    let from = nonblank(f.ship_from.as_deref());
    let to = nonblank(f.ship_to.as_deref());
    let (total,): (i64,) = on!(c, x => sqlx::query_as(concat!("SELECT COUNT(*) FROM orders o ", w!()))
        .bind(org).bind(&q).bind(f.customer_id).bind(f.product_id).bind(&from).bind(&to).fetch_one(x).await)?;
    let rows: Vec<SumRow> = on!(c, x => sqlx::query_as(concat!(
        "SELECT o.id, o.order_no, o.customer_id, cu.name, o.delivery_no, o.ship_date,
            (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id),
            (SELECT CAST(COALESCE(SUM(l.quantity * l.unit_price_fen), 0) AS BIGINT) FROM order_lines l
             WHERE l.order_id = o.id),
            o.updated_at, o.version
         FROM orders o JOIN customers cu ON cu.id = o.customer_id ", w!(),
        "ORDER BY COALESCE(o.ship_date, '') DESC, o.id DESC LIMIT $7 OFFSET $8"))
        .bind(org).bind(&q).bind(f.customer_id).bind(f.product_id).bind(&from).bind(&to)
        .bind(p.per_page).bind(p.offset()).fetch_all(x).await)?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| OrderSummary {
                id: r.0,
                order_no: r.1,
                customer_id: r.2,
                customer_name: r.3,
                delivery_no: r.4,
                ship_date: r.5,
                line_count: r.6,
                total_fen: r.7,
                updated_at: r.8,
                version: r.9,
            })
            .collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// The id of the order with this number, if any.
pub async fn order_id_by_no(
    c: &mut Conn<'_>,
    org: i64,
    order_no: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM orders WHERE org_id = $1 AND order_no = $2")
        .bind(org).bind(order_no).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// True when another order of the organization has this number.
pub async fn order_no_taken(
    c: &mut Conn<'_>,
    org: i64,
    order_no: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM orders WHERE org_id = $1 AND order_no = $2 AND ($3 IS NULL OR id <> $3)")
        .bind(org).bind(order_no).bind(except).fetch_one(x).await)?;
    Ok(n > 0)
}

/// The customer of an order of the organization, if the order exists.
pub async fn order_customer(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT customer_id FROM orders WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// Orders as (id, "order_no · customer") for choice lists, newest first.
pub async fn choices(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String)>> {
    let rows: Vec<(i64, String, String)> = on!(c, x => sqlx::query_as(
        "SELECT o.id, o.order_no, cu.name FROM orders o JOIN customers cu ON cu.id = o.customer_id
         WHERE o.org_id = $1 ORDER BY o.id DESC LIMIT 2000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, n, cu)| (id, format!("{n} · {cu}")))
        .collect())
}

/// The name of a customer of the organization, if it exists (retired ones included).
pub async fn customer_name(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Option<String>> {
    let r: Option<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT name FROM customers WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// Active customers as (id, name) for choice lists.
pub async fn customer_choices(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String)>> {
    let rows = on!(c, x => sqlx::query_as(
        "SELECT id, name FROM customers WHERE org_id = $1 AND active ORDER BY name LIMIT 2000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows)
}

/// Ids of the orders of a customer (to re-index them when the customer is renamed).
pub async fn ids_by_customer(c: &mut Conn<'_>, org: i64, customer: i64) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM orders WHERE org_id = $1 AND customer_id = $2 ORDER BY id")
        .bind(org).bind(customer).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Ids of the orders with a line of a product (to re-index them when its part number changes).
pub async fn ids_by_product(c: &mut Conn<'_>, org: i64, product: i64) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT DISTINCT order_id FROM order_lines WHERE org_id = $1 AND product_id = $2 ORDER BY order_id")
        .bind(org).bind(product).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
