//! Generic multi-row writes for the benchmark volume (`aftersales demo --volume`): rows of
//! typed values into any table, in statements of as many rows as both engines' bind limits
//! allow, ids back by a unique key; plus the few reads the generator needs. Only demo and
//! benchmark data go through here; normal changes go through the services.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::{on, run};

/// One value to bind; the variant fixes the SQL type (PostgreSQL refuses a NULL of the wrong
/// type, so a NULL carries its type too).
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    I(Option<i64>),
    T(Option<String>),
    F(Option<f64>),
    B(Option<bool>),
}

impl From<i64> for V {
    fn from(v: i64) -> V {
        V::I(Some(v))
    }
}
impl From<Option<i64>> for V {
    fn from(v: Option<i64>) -> V {
        V::I(v)
    }
}
impl From<&str> for V {
    fn from(v: &str) -> V {
        V::T(Some(v.to_string()))
    }
}
impl From<String> for V {
    fn from(v: String) -> V {
        V::T(Some(v))
    }
}
impl From<Option<String>> for V {
    fn from(v: Option<String>) -> V {
        V::T(v)
    }
}
impl From<Option<&str>> for V {
    fn from(v: Option<&str>) -> V {
        V::T(v.map(str::to_string))
    }
}
impl From<f64> for V {
    fn from(v: f64) -> V {
        V::F(Some(v))
    }
}
impl From<Option<f64>> for V {
    fn from(v: Option<f64>) -> V {
        V::F(v)
    }
}
impl From<bool> for V {
    fn from(v: bool) -> V {
        V::B(Some(v))
    }
}
impl From<Option<bool>> for V {
    fn from(v: Option<bool>) -> V {
        V::B(v)
    }
}

/// Binds per statement: under SQLite's default limit of 32,766 (PostgreSQL allows 65,535).
const MAX_BINDS: usize = 30_000;

fn rows_per_statement(cols: usize) -> usize {
    (MAX_BINDS / cols.max(1)).clamp(1, 1000)
}

macro_rules! push_rows {
    ($qb:expr, $chunk:expr) => {
        $qb.push_values($chunk, |mut b, row| {
            for v in row {
                match v {
                    V::I(x) => {
                        b.push_bind(*x);
                    }
                    V::T(x) => {
                        b.push_bind(x.clone());
                    }
                    V::F(x) => {
                        b.push_bind(*x);
                    }
                    V::B(x) => {
                        b.push_bind(*x);
                    }
                }
            }
        })
    };
}

/// Inserts `rows` (each one value per column of `cols`) into `table`.
pub async fn insert(
    c: &mut Conn<'_>,
    table: &str,
    cols: &[&str],
    rows: &[Vec<V>],
) -> StoreResult<()> {
    let head = format!("INSERT INTO {table} ({}) ", cols.join(", "));
    for chunk in rows.chunks(rows_per_statement(cols.len())) {
        run!(c, x => {
            let mut qb = QueryBuilder::new(head.clone());
            push_rows!(qb, chunk);
            qb.build().execute(x).await
        })?;
    }
    Ok(())
}

/// Inserts like [`insert`] and returns (`key` as text, id) per row, in no particular order
/// (RETURNING order is not guaranteed, so rows are matched back by a unique key).
pub async fn insert_keyed(
    c: &mut Conn<'_>,
    table: &str,
    cols: &[&str],
    rows: &[Vec<V>],
    key: &str,
) -> StoreResult<Vec<(String, i64)>> {
    let head = format!("INSERT INTO {table} ({}) ", cols.join(", "));
    let tail = format!(" RETURNING CAST({key} AS TEXT), id");
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(rows_per_statement(cols.len())) {
        let got: Vec<(String, i64)> = on!(c, x => {
            let mut qb = QueryBuilder::new(head.clone());
            push_rows!(qb, chunk);
            qb.push(tail.clone());
            qb.build_query_as::<(String, i64)>().fetch_all(x).await
        })?;
        out.extend(got);
    }
    Ok(out)
}

/// Reserves `n` consecutive complaint sequence numbers of `year` (the counter the service's
/// numbering continues from); returns the first.
pub async fn reserve_complaint_numbers(
    c: &mut Conn<'_>,
    org: i64,
    year: i64,
    n: i64,
) -> StoreResult<i64> {
    let (first,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO complaint_counters (org_id, year, next) VALUES ($1, $2, 1 + $3)
         ON CONFLICT (org_id, year) DO UPDATE SET next = complaint_counters.next + $3
         RETURNING next - $3")
        .bind(org).bind(year).bind(n).fetch_one(x).await)?;
    Ok(first)
}

/// An installed unit with what a complaint or service order about it copies.
#[derive(Debug, Clone)]
pub struct UnitRef {
    pub id: i64,
    pub serial: String,
    pub product_id: i64,
    pub part_no: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub order_id: Option<i64>,
    pub order_no: Option<String>,
    pub ship_date: Option<String>,
    pub address: Option<String>,
    pub contract_level: Option<String>,
    pub region: Option<String>,
}

type UnitTuple = (
    i64,
    String,
    i64,
    String,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every unit of the organization, by id.
pub async fn units(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<UnitRef>> {
    let rows: Vec<UnitTuple> = on!(c, x => sqlx::query_as(
        "SELECT e.id, e.serial, e.product_id, p.part_no, e.customer_id, cu.name, e.order_id,
                o.order_no, o.ship_date, cu.address, e.contract_level, cu.region
         FROM equipment e JOIN products p ON p.id = e.product_id
         JOIN customers cu ON cu.id = e.customer_id
         LEFT JOIN orders o ON o.id = e.order_id
         WHERE e.org_id = $1 ORDER BY e.id")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| UnitRef {
            id: r.0,
            serial: r.1,
            product_id: r.2,
            part_no: r.3,
            customer_id: r.4,
            customer_name: r.5,
            order_id: r.6,
            order_no: r.7,
            ship_date: r.8,
            address: r.9,
            contract_level: r.10,
            region: r.11,
        })
        .collect())
}

/// Every customer of the organization: (id, name, region), by id.
pub async fn customers(
    c: &mut Conn<'_>,
    org: i64,
) -> StoreResult<Vec<(i64, String, Option<String>)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT id, name, region FROM customers WHERE org_id = $1 ORDER BY id")
        .bind(org).fetch_all(x).await)?)
}
