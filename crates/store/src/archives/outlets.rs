//! Service outlets (服务网点). Every query carries `org_id`; updates carry the version read.

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{Page, PageReq, on, run};

/// A service outlet.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Outlet {
    pub id: i64,
    pub name: String,
    /// own or partner.
    pub kind: String,
    /// Regions covered.
    pub regions: Vec<String>,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// YYYY-MM-DD.
    pub contract_start: Option<String>,
    /// YYYY-MM-DD.
    pub contract_end: Option<String>,
    pub active: bool,
    pub updated_at: i64,
    pub version: i64,
}

/// Values written for an outlet.
#[derive(Debug, Clone)]
pub struct OutletValues<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub regions: &'a [String],
    pub address: Option<&'a str>,
    pub contact_name: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub contract_start: Option<&'a str>,
    pub contract_end: Option<&'a str>,
}

/// Filters of the outlet list.
#[derive(Debug, Clone, Default)]
pub struct OutletFilter {
    /// Substring of the name, regions, address or contact.
    pub q: Option<String>,
    /// own or partner.
    pub kind: Option<String>,
    pub include_retired: bool,
}

type Row = (
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
    i64,
    i64,
);

fn outlet(r: Row) -> Outlet {
    Outlet {
        id: r.0,
        name: r.1,
        kind: r.2,
        regions: serde_json::from_str(&r.3).unwrap_or_default(),
        address: r.4,
        contact_name: r.5,
        contact_phone: r.6,
        contract_start: r.7,
        contract_end: r.8,
        active: r.9,
        updated_at: r.10,
        version: r.11,
    }
}

macro_rules! select {
    () => {
        "SELECT id, name, kind, regions, address, contact_name, contact_phone, contract_start, contract_end,
            active, updated_at, version
         FROM outlets "
    };
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn stale_check(rows: u64) -> StoreResult<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// Inserts an outlet; returns its id.
pub async fn insert(
    c: &mut Conn<'_>,
    org: i64,
    v: &OutletValues<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO outlets (org_id, name, kind, regions, address, contact_name, contact_phone, contract_start,
            contract_end, active, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $10, $10, 1) RETURNING id")
        .bind(org).bind(v.name).bind(v.kind).bind(json_list(v.regions)).bind(v.address).bind(v.contact_name)
        .bind(v.contact_phone).bind(v.contract_start).bind(v.contract_end).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Updates an outlet if `version` is still current.
pub async fn update(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &OutletValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE outlets SET name = $4, kind = $5, regions = $6, address = $7, contact_name = $8,
            contact_phone = $9, contract_start = $10, contract_end = $11, updated_at = $12, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.name).bind(v.kind).bind(json_list(v.regions)).bind(v.address)
        .bind(v.contact_name).bind(v.contact_phone).bind(v.contract_start).bind(v.contract_end).bind(now)
        .execute(x).await)?;
    stale_check(r)
}

/// Retires or restores an outlet if `version` is still current.
pub async fn set_active(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    active: bool,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE outlets SET active = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(active).bind(now).execute(x).await)?;
    stale_check(r)
}

/// One outlet of an organization.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Outlet> {
    let r: Row = on!(c, x => sqlx::query_as(concat!(select!(), "WHERE org_id = $1 AND id = $2"))
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(outlet(r))
}

/// A page of outlets, filtered in SQL.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    f: &OutletFilter,
    p: PageReq,
) -> StoreResult<Page<Outlet>> {
    macro_rules! w {
        () => {
            "WHERE org_id = $1 AND ($2 OR active)
               AND ($3 IS NULL OR LOWER(name) LIKE LOWER($3) OR regions LIKE $3 OR address LIKE $3
                    OR contact_name LIKE $3)
               AND ($4 IS NULL OR kind = $4) "
        };
    }
    let like =
        f.q.as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| format!("%{}%", q.replace(['%', '_'], "")));
    let kind = f
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    let (total,): (i64,) = on!(c, x => sqlx::query_as(concat!("SELECT COUNT(*) FROM outlets ", w!()))
        .bind(org).bind(f.include_retired).bind(&like).bind(&kind).fetch_one(x).await)?;
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(concat!(select!(), w!(),
        "ORDER BY active DESC, name, id LIMIT $5 OFFSET $6"))
        .bind(org).bind(f.include_retired).bind(&like).bind(&kind).bind(p.per_page).bind(p.offset())
        .fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(outlet).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// True when another outlet of the organization has this name.
pub async fn name_taken(
    c: &mut Conn<'_>,
    org: i64,
    name: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM outlets WHERE org_id = $1 AND name = $2 AND ($3 IS NULL OR id <> $3)")
        .bind(org).bind(name).bind(except).fetch_one(x).await)?;
    Ok(n > 0)
}
