//! Reading archive lists for export in id order, a batch at a time (keyset paging, so a
//! million rows cost the same per batch as the first thousand). Filters mirror the lists'.

use crate::db::Conn;
use crate::error::StoreResult;
use crate::on;

/// Rows per batch.
pub const BATCH: i64 = 1000;

/// Filters an export understands; absent ones are NULL in the SQL.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Substring of the main text columns (already `%…%`).
    pub like: Option<String>,
    pub include_retired: bool,
    pub region: Option<String>,
    pub status: Option<String>,
    pub customer_id: Option<i64>,
    pub product_id: Option<i64>,
}

/// One exported row: the record id (for the next batch) and its cells.
pub type Row = (i64, Vec<String>);

fn s(v: Option<String>) -> String {
    v.unwrap_or_default()
}

fn list(json: &str) -> String {
    serde_json::from_str::<Vec<String>>(json)
        .map(|v| v.join("、"))
        .unwrap_or_default()
}

/// Customers after `after`.
pub async fn customers(
    c: &mut Conn<'_>,
    org: i64,
    f: &Filter,
    after: i64,
) -> StoreResult<Vec<Row>> {
    type R = (
        i64,
        Option<String>,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        bool,
    );
    let rows: Vec<R> = on!(c, x => sqlx::query_as(
        "SELECT id, code, name, kind, industry, region, address, tags, notes, active FROM customers
         WHERE org_id = $1 AND id > $2 AND ($3 OR active)
           AND ($4 IS NULL OR LOWER(name) LIKE LOWER($4) OR LOWER(code) LIKE LOWER($4) OR region LIKE $4)
           AND ($5 IS NULL OR region = $5)
         ORDER BY id LIMIT $6")
        .bind(org).bind(after).bind(f.include_retired).bind(&f.like).bind(&f.region).bind(BATCH).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                vec![
                    s(r.1),
                    r.2,
                    r.3,
                    s(r.4),
                    s(r.5),
                    s(r.6),
                    list(&r.7),
                    s(r.8),
                    r.9.to_string(),
                ],
            )
        })
        .collect())
}

/// Contacts (with their customer's code or name) after `after`.
pub async fn contacts(c: &mut Conn<'_>, org: i64, f: &Filter, after: i64) -> StoreResult<Vec<Row>> {
    type R = (
        i64,
        Option<String>,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<R> = on!(c, x => sqlx::query_as(
        "SELECT k.id, cu.code, cu.name, k.name, k.role, k.mobile, k.phone, k.email, k.wechat
         FROM customer_contacts k JOIN customers cu ON cu.id = k.customer_id
         WHERE k.org_id = $1 AND k.id > $2 AND ($3 IS NULL OR k.customer_id = $3)
           AND ($4 IS NULL OR LOWER(k.name) LIKE LOWER($4) OR LOWER(cu.name) LIKE LOWER($4) OR k.mobile LIKE $4)
         ORDER BY k.id LIMIT $5")
        .bind(org).bind(after).bind(f.customer_id).bind(&f.like).bind(BATCH).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                vec![
                    r.1.unwrap_or(r.2),
                    r.3,
                    s(r.4),
                    s(r.5),
                    s(r.6),
                    s(r.7),
                    s(r.8),
                ],
            )
        })
        .collect())
}

/// Products after `after`.
pub async fn products(c: &mut Conn<'_>, org: i64, f: &Filter, after: i64) -> StoreResult<Vec<Row>> {
    type R = (
        i64,
        String,
        String,
        String,
        Option<String>,
        i64,
        String,
        bool,
    );
    let rows: Vec<R> = on!(c, x => sqlx::query_as(
        "SELECT id, part_no, model, name, category, warranty_months, contract_levels, active FROM products
         WHERE org_id = $1 AND id > $2 AND ($3 OR active)
           AND ($4 IS NULL OR LOWER(part_no) LIKE LOWER($4) OR LOWER(model) LIKE LOWER($4) OR LOWER(name) LIKE LOWER($4))
         ORDER BY id LIMIT $5")
        .bind(org).bind(after).bind(f.include_retired).bind(&f.like).bind(BATCH).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                vec![
                    r.1,
                    r.2,
                    r.3,
                    s(r.4),
                    r.5.to_string(),
                    list(&r.6),
                    r.7.to_string(),
                ],
            )
        })
        .collect())
}

/// Order lines (one row each, with the order's fields) after line id `after`.
pub async fn order_lines(
    c: &mut Conn<'_>,
    org: i64,
    f: &Filter,
    after: i64,
) -> StoreResult<Vec<Row>> {
    type R = (
        i64,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        String,
        i64,
        i64,
        Option<String>,
    );
    let rows: Vec<R> = on!(c, x => sqlx::query_as(
        "SELECT l.id, o.order_no, cu.code, cu.name, o.delivery_no, o.ship_date, p.part_no, l.quantity, l.unit_price_fen, o.notes
         FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN customers cu ON cu.id = o.customer_id
         JOIN products p ON p.id = l.product_id
         WHERE l.org_id = $1 AND l.id > $2 AND ($3 IS NULL OR o.customer_id = $3)
           AND ($4 IS NULL OR LOWER(o.order_no) LIKE LOWER($4) OR LOWER(o.delivery_no) LIKE LOWER($4))
         ORDER BY l.id LIMIT $5")
        .bind(org).bind(after).bind(f.customer_id).bind(&f.like).bind(BATCH).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let price = format!("{}.{:02}", r.8 / 100, r.8 % 100);
            (
                r.0,
                vec![
                    r.1,
                    r.2.unwrap_or(r.3),
                    s(r.4),
                    s(r.5),
                    r.6,
                    r.7.to_string(),
                    price,
                    s(r.9),
                ],
            )
        })
        .collect())
}

/// Equipment after `after`.
pub async fn equipment(
    c: &mut Conn<'_>,
    org: i64,
    f: &Filter,
    after: i64,
) -> StoreResult<Vec<Row>> {
    type R = (
        i64,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let rows: Vec<R> = on!(c, x => sqlx::query_as(
        "SELECT e.id, e.serial, p.part_no, cu.code, cu.name, si.name, o.order_no, e.install_date, e.warranty_end,
                e.contract_level, e.contract_start, e.contract_end, e.status
         FROM equipment e JOIN products p ON p.id = e.product_id JOIN customers cu ON cu.id = e.customer_id
         LEFT JOIN customer_sites si ON si.id = e.site_id LEFT JOIN orders o ON o.id = e.order_id
         WHERE e.org_id = $1 AND e.id > $2 AND ($3 IS NULL OR e.customer_id = $3) AND ($4 IS NULL OR e.product_id = $4)
           AND ($5 IS NULL OR e.status = $5) AND ($6 IS NULL OR LOWER(e.serial) LIKE LOWER($6))
         ORDER BY e.id LIMIT $7")
        .bind(org).bind(after).bind(f.customer_id).bind(f.product_id).bind(&f.status).bind(&f.like).bind(BATCH)
        .fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                vec![
                    r.1,
                    r.2,
                    r.3.unwrap_or(r.4),
                    s(r.5),
                    s(r.6),
                    s(r.7),
                    s(r.8),
                    s(r.9),
                    s(r.10),
                    s(r.11),
                    r.12,
                ],
            )
        })
        .collect())
}

/// Service outlets after `after`.
pub async fn outlets(c: &mut Conn<'_>, org: i64, f: &Filter, after: i64) -> StoreResult<Vec<Row>> {
    type R = (
        i64,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
    );
    let rows: Vec<R> = on!(c, x => sqlx::query_as(
        "SELECT id, name, kind, regions, address, contact_name, contact_phone, contract_start, contract_end, active
         FROM outlets WHERE org_id = $1 AND id > $2 AND ($3 OR active)
           AND ($4 IS NULL OR LOWER(name) LIKE LOWER($4) OR regions LIKE $4)
         ORDER BY id LIMIT $5")
        .bind(org).bind(after).bind(f.include_retired).bind(&f.like).bind(BATCH).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                vec![
                    r.1,
                    r.2,
                    list(&r.3),
                    s(r.4),
                    s(r.5),
                    s(r.6),
                    s(r.7),
                    s(r.8),
                    r.9.to_string(),
                ],
            )
        })
        .collect())
}
