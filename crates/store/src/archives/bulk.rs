//! Bulk loading for the demo and benchmark data: multi-row INSERTs in batches, no per-row
//! round trips. Rules (warranty dates, search words) are computed by the caller; this module
//! only writes. Normal changes go through the services, never through here.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::run;

/// Rows per INSERT statement (well under both engines' bind limits).
const BATCH: usize = 400;

/// A customer row.
pub struct CustomerRow {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub industry: String,
    pub region: String,
    pub address: String,
    pub tags: String,
}

/// A contact row (customer by id).
pub struct ContactRow {
    pub customer_id: i64,
    pub name: String,
    pub role: Option<String>,
    pub mobile: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub wechat: Option<String>,
}

/// A site row.
pub struct SiteRow {
    pub customer_id: i64,
    pub name: String,
    pub region: String,
    pub address: String,
}

/// A product row.
pub struct ProductRow {
    pub part_no: String,
    pub model: String,
    pub name: String,
    pub category: Option<String>,
    pub warranty_months: i64,
    pub contract_levels: String,
}

/// An order row.
pub struct OrderRow {
    pub order_no: String,
    pub customer_id: i64,
    pub delivery_no: Option<String>,
    pub ship_date: Option<String>,
    pub notes: Option<String>,
}

/// An order line row.
pub struct LineRow {
    pub order_id: i64,
    pub product_id: i64,
    pub quantity: i64,
    pub unit_price_fen: i64,
}

/// An equipment row.
pub struct EquipmentRow {
    pub serial: String,
    pub product_id: i64,
    pub customer_id: i64,
    pub site_id: Option<i64>,
    pub order_id: Option<i64>,
    pub install_date: Option<String>,
    pub warranty_end: Option<String>,
    pub warranty_overridden: bool,
    pub contract_level: Option<String>,
    pub contract_start: Option<String>,
    pub contract_end: Option<String>,
    pub sla_profile: Option<String>,
}

/// A timeline row.
pub struct EventRow {
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub at: i64,
    pub kind: &'static str,
    pub ref_id: i64,
    pub summary: String,
}

/// A search document row (title, normalised text, index words).
pub struct DocRow {
    pub kind: &'static str,
    pub ref_id: i64,
    pub title: String,
    pub text: String,
    pub tokens: String,
}

macro_rules! bulk {
    ($c:expr, $rows:expr, $head:literal, |$b:ident, $r:ident| $push:expr) => {{
        for chunk in $rows.chunks(BATCH) {
            run!($c, x => {
                let mut qb = QueryBuilder::new($head);
                qb.push_values(chunk, |mut $b, $r| {
                    $push;
                });
                qb.build().execute(x).await
            })?;
        }
        Ok(())
    }};
}

macro_rules! bulk_returning {
    ($c:expr, $rows:expr, $head:literal, $ret:literal, |$b:ident, $r:ident| $push:expr) => {{
        let mut out: Vec<(String, i64)> = Vec::with_capacity($rows.len());
        for chunk in $rows.chunks(BATCH) {
            let got: Vec<(String, i64)> = crate::on!($c, x => {
                let mut qb = QueryBuilder::new($head);
                qb.push_values(chunk, |mut $b, $r| {
                    $push;
                });
                qb.push($ret);
                qb.build_query_as::<(String, i64)>().fetch_all(x).await
            })?;
            out.extend(got);
        }
        Ok(out)
    }};
}

/// Inserts customers.
pub async fn customers(
    c: &mut Conn<'_>,
    org: i64,
    now: i64,
    rows: &[CustomerRow],
) -> StoreResult<()> {
    bulk!(
        c,
        rows,
        "INSERT INTO customers (org_id, code, name, kind, industry, region, address, tags, notes, owner_staff_id, consent_contact, consent_survey, active, created_at, updated_at, version) ",
        |b, r| {
            b.push_bind(org)
                .push_bind(r.code.clone())
                .push_bind(r.name.clone())
                .push_bind(r.kind)
                .push_bind(r.industry.clone())
                .push_bind(r.region.clone())
                .push_bind(r.address.clone())
                .push_bind(r.tags.clone())
                .push_bind(None::<String>)
                .push_bind(None::<i64>)
                .push_bind(true)
                .push_bind(true)
                .push_bind(true)
                .push_bind(now)
                .push_bind(now)
                .push_bind(1i64)
        }
    )
}

/// Inserts contacts.
pub async fn contacts(
    c: &mut Conn<'_>,
    org: i64,
    now: i64,
    rows: &[ContactRow],
) -> StoreResult<()> {
    bulk!(
        c,
        rows,
        "INSERT INTO customer_contacts (org_id, customer_id, name, role, mobile, phone, email, wechat, created_at, updated_at, version) ",
        |b, r| {
            b.push_bind(org)
                .push_bind(r.customer_id)
                .push_bind(r.name.clone())
                .push_bind(r.role.clone())
                .push_bind(r.mobile.clone())
                .push_bind(None::<String>)
                .push_bind(None::<String>)
                .push_bind(None::<String>)
                .push_bind(now)
                .push_bind(now)
                .push_bind(1i64)
        }
    )
}

/// Inserts sites.
pub async fn sites(c: &mut Conn<'_>, org: i64, now: i64, rows: &[SiteRow]) -> StoreResult<()> {
    bulk!(
        c,
        rows,
        "INSERT INTO customer_sites (org_id, customer_id, name, region, address, created_at, updated_at, version) ",
        |b, r| {
            b.push_bind(org)
                .push_bind(r.customer_id)
                .push_bind(r.name.clone())
                .push_bind(r.region.clone())
                .push_bind(r.address.clone())
                .push_bind(now)
                .push_bind(now)
                .push_bind(1i64)
        }
    )
}

/// Inserts products; returns (part number, id) pairs in no particular order.
pub async fn products(
    c: &mut Conn<'_>,
    org: i64,
    now: i64,
    rows: &[ProductRow],
) -> StoreResult<Vec<(String, i64)>> {
    bulk_returning!(
        c,
        rows,
        "INSERT INTO products (org_id, part_no, model, name, category, warranty_months, contract_levels, active, created_at, updated_at, version) ",
        " RETURNING part_no, id",
        |b, r| {
            b.push_bind(org)
                .push_bind(r.part_no.clone())
                .push_bind(r.model.clone())
                .push_bind(r.name.clone())
                .push_bind(r.category.clone())
                .push_bind(r.warranty_months)
                .push_bind(r.contract_levels.clone())
                .push_bind(true)
                .push_bind(now)
                .push_bind(now)
                .push_bind(1i64)
        }
    )
}

/// Inserts orders; returns (order number, id) pairs in no particular order.
pub async fn orders(
    c: &mut Conn<'_>,
    org: i64,
    now: i64,
    rows: &[OrderRow],
) -> StoreResult<Vec<(String, i64)>> {
    bulk_returning!(
        c,
        rows,
        "INSERT INTO orders (org_id, order_no, customer_id, delivery_no, ship_date, notes, created_at, updated_at, version) ",
        " RETURNING order_no, id",
        |b, r| {
            b.push_bind(org)
                .push_bind(r.order_no.clone())
                .push_bind(r.customer_id)
                .push_bind(r.delivery_no.clone())
                .push_bind(r.ship_date.clone())
                .push_bind(None::<String>)
                .push_bind(now)
                .push_bind(now)
                .push_bind(1i64)
        }
    )
}

/// Inserts order lines.
pub async fn lines(c: &mut Conn<'_>, org: i64, rows: &[LineRow]) -> StoreResult<()> {
    bulk!(
        c,
        rows,
        "INSERT INTO order_lines (org_id, order_id, product_id, quantity, unit_price_fen) ",
        |b, r| {
            b.push_bind(org)
                .push_bind(r.order_id)
                .push_bind(r.product_id)
                .push_bind(r.quantity)
                .push_bind(r.unit_price_fen)
        }
    )
}

/// Inserts equipment; returns (serial, id) pairs in no particular order.
pub async fn equipment(
    c: &mut Conn<'_>,
    org: i64,
    now: i64,
    rows: &[EquipmentRow],
) -> StoreResult<Vec<(String, i64)>> {
    bulk_returning!(
        c,
        rows,
        "INSERT INTO equipment (org_id, serial, product_id, customer_id, site_id, order_id, install_date, warranty_end, warranty_overridden, contract_level, contract_start, contract_end, sla_profile, status, created_at, updated_at, version) ",
        " RETURNING serial, id",
        |b, r| {
            b.push_bind(org)
                .push_bind(r.serial.clone())
                .push_bind(r.product_id)
                .push_bind(r.customer_id)
                .push_bind(r.site_id)
                .push_bind(r.order_id)
                .push_bind(r.install_date.clone())
                .push_bind(r.warranty_end.clone())
                .push_bind(false)
                .push_bind(r.contract_level.clone())
                .push_bind(None::<String>)
                .push_bind(None::<String>)
                .push_bind(None::<String>)
                .push_bind("in_service")
                .push_bind(now)
                .push_bind(now)
                .push_bind(1i64)
        }
    )
}

/// Inserts timeline events.
pub async fn events(c: &mut Conn<'_>, org: i64, rows: &[EventRow]) -> StoreResult<()> {
    bulk!(
        c,
        rows,
        "INSERT INTO timeline (org_id, customer_id, equipment_id, at, kind, ref_id, summary) ",
        |b, r| {
            b.push_bind(org)
                .push_bind(r.customer_id)
                .push_bind(r.equipment_id)
                .push_bind(r.at)
                .push_bind(r.kind)
                .push_bind(r.ref_id)
                .push_bind(r.summary.clone())
        }
    )
}

/// Inserts search documents.
pub async fn docs(c: &mut Conn<'_>, org: i64, rows: &[DocRow]) -> StoreResult<()> {
    bulk!(
        c,
        rows,
        "INSERT INTO search_docs (org_id, kind, ref_id, title, text, tokens) ",
        |b, r| {
            b.push_bind(org)
                .push_bind(r.kind)
                .push_bind(r.ref_id)
                .push_bind(r.title.clone())
                .push_bind(r.text.clone())
                .push_bind(r.tokens.clone())
        }
    )
}

/// Ids by a unique code column of one organization's table (to link rows just inserted).
pub async fn ids(c: &mut Conn<'_>, org: i64, table: Table) -> StoreResult<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> =
        crate::on!(c, x => sqlx::query_as(table.sql()).bind(org).fetch_all(x).await)?;
    Ok(rows)
}

/// Tables whose ids [`ids`] looks up by their unique code.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Customers,
    Products,
    Orders,
    Equipment,
    /// Sites by customer id (as text).
    Sites,
}

impl Table {
    fn sql(self) -> &'static str {
        match self {
            Table::Customers => {
                "SELECT code, id FROM customers WHERE org_id = $1 AND code IS NOT NULL"
            }
            Table::Products => "SELECT part_no, id FROM products WHERE org_id = $1",
            Table::Orders => "SELECT order_no, id FROM orders WHERE org_id = $1",
            Table::Equipment => "SELECT serial, id FROM equipment WHERE org_id = $1",
            Table::Sites => {
                "SELECT CAST(customer_id AS TEXT), MIN(id) FROM customer_sites WHERE org_id = $1 GROUP BY customer_id"
            }
        }
    }
}

/// A customer as imported (every column the import knows).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportedCustomer {
    pub code: Option<String>,
    pub name: String,
    pub kind: String,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub address: Option<String>,
    pub tags: String,
    pub notes: Option<String>,
}

type ImportedRow = (
    i64,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

/// Inserts customers and returns each one's id in the order of `rows`. Rows are matched back
/// by their content (RETURNING order is not guaranteed); identical rows are interchangeable.
pub async fn customers_returning(
    c: &mut Conn<'_>,
    org: i64,
    now: i64,
    rows: &[ImportedCustomer],
) -> StoreResult<Vec<i64>> {
    let mut slots: std::collections::HashMap<&ImportedCustomer, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, r) in rows.iter().enumerate().rev() {
        slots.entry(r).or_default().push(i);
    }
    let mut ids = vec![0i64; rows.len()];
    for chunk in rows.chunks(BATCH) {
        let back: Vec<ImportedRow> = crate::on!(c, x => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO customers (org_id, code, name, kind, industry, region, address, tags, notes, owner_staff_id, consent_contact, consent_survey, active, created_at, updated_at, version) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(org).push_bind(r.code.clone()).push_bind(r.name.clone()).push_bind(r.kind.clone())
                    .push_bind(r.industry.clone()).push_bind(r.region.clone()).push_bind(r.address.clone())
                    .push_bind(r.tags.clone()).push_bind(r.notes.clone()).push_bind(None::<i64>).push_bind(false)
                    .push_bind(false).push_bind(true).push_bind(now).push_bind(now).push_bind(1i64);
            });
            qb.push(" RETURNING id, code, name, kind, industry, region, address, tags, notes");
            qb.build_query_as::<ImportedRow>().fetch_all(x).await
        })?;
        for r in back {
            let key = ImportedCustomer {
                code: r.1,
                name: r.2,
                kind: r.3,
                industry: r.4,
                region: r.5,
                address: r.6,
                tags: r.7,
                notes: r.8,
            };
            if let Some(i) = slots.get_mut(&key).and_then(Vec::pop) {
                ids[i] = r.0;
            }
        }
    }
    Ok(ids)
}
