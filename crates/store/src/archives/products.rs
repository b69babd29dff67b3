//! Products of an organization. Every query carries `org_id`; updates carry the version read.

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{Page, PageReq, on, run};

/// A product.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Product {
    pub id: i64,
    /// Part number (料号), unique in the organization.
    pub part_no: String,
    pub model: String,
    pub name: String,
    pub category: Option<String>,
    /// Warranty period (三包期) in months, 0..=120.
    pub warranty_months: i64,
    /// Service-contract levels offered (e.g. 基础, 标准, 尊享).
    pub contract_levels: Vec<String>,
    pub active: bool,
    /// Installed units of this product.
    pub equipment_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// Values written for a product.
#[derive(Debug, Clone)]
pub struct ProductValues<'a> {
    pub part_no: &'a str,
    pub model: &'a str,
    pub name: &'a str,
    pub category: Option<&'a str>,
    pub warranty_months: i64,
    pub contract_levels: &'a [String],
}

/// Filters of the product list.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Substring of part number, model or name.
    pub q: Option<String>,
    pub category: Option<String>,
    pub include_retired: bool,
}

/// `%q%` for a LIKE filter, or `None` when blank.
pub fn like(q: Option<&str>) -> Option<String> {
    q.map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.replace(['%', '_'], "")))
}

/// A blank text filter is no filter.
pub fn nonblank(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

pub(crate) fn stale_check(rows: u64) -> StoreResult<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

pub(crate) fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

type Row = (
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
    String,
    bool,
    i64,
    i64,
    i64,
    i64,
);

fn product(r: Row) -> Product {
    Product {
        id: r.0,
        part_no: r.1,
        model: r.2,
        name: r.3,
        category: r.4,
        warranty_months: r.5,
        contract_levels: serde_json::from_str(&r.6).unwrap_or_default(),
        active: r.7,
        equipment_count: r.8,
        created_at: r.9,
        updated_at: r.10,
        version: r.11,
    }
}

macro_rules! select {
    () => {
        "SELECT p.id, p.part_no, p.model, p.name, p.category, p.warranty_months, p.contract_levels,
            p.active, (SELECT COUNT(*) FROM equipment e WHERE e.org_id = p.org_id AND e.product_id = p.id),
            p.created_at, p.updated_at, p.version
         FROM products p "
    };
}

/// Inserts a product; returns its id.
pub async fn insert(
    c: &mut Conn<'_>,
    org: i64,
    v: &ProductValues<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO products (org_id, part_no, model, name, category, warranty_months, contract_levels, active,
            created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $8, 1) RETURNING id")
        .bind(org).bind(v.part_no).bind(v.model).bind(v.name).bind(v.category).bind(v.warranty_months)
        .bind(json_list(v.contract_levels)).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Updates a product if `version` is still current.
pub async fn update(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &ProductValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE products SET part_no = $4, model = $5, name = $6, category = $7, warranty_months = $8,
            contract_levels = $9, updated_at = $10, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.part_no).bind(v.model).bind(v.name).bind(v.category)
        .bind(v.warranty_months).bind(json_list(v.contract_levels)).bind(now).execute(x).await)?;
    stale_check(r)
}

/// Retires or restores a product if `version` is still current.
pub async fn set_active(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    active: bool,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE products SET active = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(active).bind(now).execute(x).await)?;
    stale_check(r)
}

/// One product of an organization.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Product> {
    let r: Row = on!(c, x => sqlx::query_as(concat!(select!(), "WHERE p.org_id = $1 AND p.id = $2"))
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(product(r))
}

/// The part number of a product of `org` (None: no such product). Cheaper than [`get`],
/// which counts the product's units (2 ms for a product with 10,000 units).
pub async fn part_no(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Option<String>> {
    let r: Option<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT part_no FROM products WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// A page of products, filtered in SQL.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    f: &ProductFilter,
    p: PageReq,
) -> StoreResult<Page<Product>> {
    macro_rules! w {
        () => {
            "WHERE p.org_id = $1 AND ($2 OR p.active)
               AND ($3 IS NULL OR LOWER(p.part_no) LIKE LOWER($3) OR LOWER(p.model) LIKE LOWER($3)
                    OR LOWER(p.name) LIKE LOWER($3))
               AND ($4 IS NULL OR p.category = $4) "
        };
    }
    let q = like(f.q.as_deref());
    let cat = nonblank(f.category.as_deref());
    let (total,): (i64,) = on!(c, x => sqlx::query_as(concat!("SELECT COUNT(*) FROM products p ", w!()))
        .bind(org).bind(f.include_retired).bind(&q).bind(&cat).fetch_one(x).await)?;
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(concat!(select!(), w!(),
        "ORDER BY p.active DESC, p.part_no LIMIT $5 OFFSET $6"))
        .bind(org).bind(f.include_retired).bind(&q).bind(&cat).bind(p.per_page).bind(p.offset())
        .fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(product).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// The id of the product with this part number, if any (retired ones included).
pub async fn product_id_by_part_no(
    c: &mut Conn<'_>,
    org: i64,
    part_no: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM products WHERE org_id = $1 AND part_no = $2")
        .bind(org).bind(part_no).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// True when another product of the organization has this part number.
pub async fn part_no_taken(
    c: &mut Conn<'_>,
    org: i64,
    part_no: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM products WHERE org_id = $1 AND part_no = $2 AND ($3 IS NULL OR id <> $3)")
        .bind(org).bind(part_no).bind(except).fetch_one(x).await)?;
    Ok(n > 0)
}

/// Active products as (id, "part_no · model") for choice lists.
pub async fn choices(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String)>> {
    let rows: Vec<(i64, String, String)> = on!(c, x => sqlx::query_as(
        "SELECT id, part_no, model FROM products WHERE org_id = $1 AND active ORDER BY part_no LIMIT 2000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, p, m)| (id, format!("{p} · {m}")))
        .collect())
}

/// The categories in use, for the list filter.
pub async fn categories(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT DISTINCT category FROM products WHERE org_id = $1 AND category IS NOT NULL
         ORDER BY category LIMIT 500")
        .bind(org).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Active products as (part number, model), for the part-number suggestions of order forms.
pub async fn part_numbers(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(String, String)>> {
    let rows = on!(c, x => sqlx::query_as(
        "SELECT part_no, model FROM products WHERE org_id = $1 AND active ORDER BY part_no LIMIT 2000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows)
}
