//! Installed equipment with its meter readings, and the customer-site look-ups a unit
//! needs. Every query carries `org_id`; updates carry the version read.

use super::products::{like, nonblank, stale_check};
use crate::db::Conn;
use crate::error::StoreResult;
use crate::{Page, PageReq, on, run};

/// An installed unit.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Equipment {
    pub id: i64,
    /// Serial number (序列号), unique in the organization.
    pub serial: String,
    pub product_id: i64,
    pub part_no: String,
    pub model: String,
    pub product_name: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub site_id: Option<i64>,
    pub site_name: Option<String>,
    pub order_id: Option<i64>,
    pub order_no: Option<String>,
    /// Install date (安装日期), YYYY-MM-DD.
    pub install_date: Option<String>,
    /// Warranty end (保修截止), YYYY-MM-DD: install date + the product's warranty months
    /// unless `warranty_overridden`.
    pub warranty_end: Option<String>,
    pub warranty_overridden: bool,
    /// Service contract level, one of the product's levels.
    pub contract_level: Option<String>,
    pub contract_start: Option<String>,
    pub contract_end: Option<String>,
    /// Name of the SLA profile that applies to this unit.
    pub sla_profile: Option<String>,
    /// `in_service` or `retired`.
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

macro_rules! from_row {
    ($row:ty) => {
        impl<'r> sqlx::FromRow<'r, $row> for Equipment {
            fn from_row(r: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok(Equipment {
                    id: r.try_get(0)?,
                    serial: r.try_get(1)?,
                    product_id: r.try_get(2)?,
                    part_no: r.try_get(3)?,
                    model: r.try_get(4)?,
                    product_name: r.try_get(5)?,
                    customer_id: r.try_get(6)?,
                    customer_name: r.try_get(7)?,
                    site_id: r.try_get(8)?,
                    site_name: r.try_get(9)?,
                    order_id: r.try_get(10)?,
                    order_no: r.try_get(11)?,
                    install_date: r.try_get(12)?,
                    warranty_end: r.try_get(13)?,
                    warranty_overridden: r.try_get(14)?,
                    contract_level: r.try_get(15)?,
                    contract_start: r.try_get(16)?,
                    contract_end: r.try_get(17)?,
                    sla_profile: r.try_get(18)?,
                    status: r.try_get(19)?,
                    created_at: r.try_get(20)?,
                    updated_at: r.try_get(21)?,
                    version: r.try_get(22)?,
                })
            }
        }
    };
}
from_row!(sqlx::sqlite::SqliteRow);
from_row!(sqlx::postgres::PgRow);

macro_rules! select {
    () => {
        "SELECT e.id, e.serial, e.product_id, p.part_no, p.model, p.name, e.customer_id, cu.name, e.site_id,
            s.name, e.order_id, o.order_no, e.install_date, e.warranty_end, e.warranty_overridden,
            e.contract_level, e.contract_start, e.contract_end, e.sla_profile, e.status, e.created_at,
            e.updated_at, e.version
         FROM equipment e JOIN products p ON p.id = e.product_id JOIN customers cu ON cu.id = e.customer_id
            LEFT JOIN customer_sites s ON s.id = e.site_id LEFT JOIN orders o ON o.id = e.order_id "
    };
}

/// Values written for a unit (the warranty end already computed).
#[derive(Debug, Clone)]
pub struct EquipmentValues<'a> {
    pub serial: &'a str,
    pub product_id: i64,
    pub customer_id: i64,
    pub site_id: Option<i64>,
    pub order_id: Option<i64>,
    pub install_date: Option<&'a str>,
    pub warranty_end: Option<&'a str>,
    pub warranty_overridden: bool,
    pub contract_level: Option<&'a str>,
    pub contract_start: Option<&'a str>,
    pub contract_end: Option<&'a str>,
    pub sla_profile: Option<&'a str>,
}

/// Warranty state filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarrantyState {
    /// Warranty end on or after today.
    Active,
    /// Warranty end before today.
    Expired,
}

impl WarrantyState {
    /// Parses `active` or `expired`.
    pub fn parse(s: &str) -> Option<WarrantyState> {
        match s {
            "active" => Some(WarrantyState::Active),
            "expired" => Some(WarrantyState::Expired),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            WarrantyState::Active => "active",
            WarrantyState::Expired => "expired",
        }
    }
}

/// Filters of the equipment list.
#[derive(Debug, Clone, Default)]
pub struct EquipmentFilter {
    /// Substring of the serial number.
    pub q: Option<String>,
    pub product_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// `in_service` or `retired`.
    pub status: Option<String>,
    pub warranty: Option<WarrantyState>,
    /// Today's date (YYYY-MM-DD), for the warranty filter.
    pub today: String,
}

/// Inserts a unit (status `in_service`); returns its id.
pub async fn insert(
    c: &mut Conn<'_>,
    org: i64,
    v: &EquipmentValues<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO equipment (org_id, serial, product_id, customer_id, site_id, order_id, install_date,
            warranty_end, warranty_overridden, contract_level, contract_start, contract_end, sla_profile, status,
            created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'in_service', $14, $14, 1) RETURNING id")
        .bind(org).bind(v.serial).bind(v.product_id).bind(v.customer_id).bind(v.site_id).bind(v.order_id)
        .bind(v.install_date).bind(v.warranty_end).bind(v.warranty_overridden).bind(v.contract_level)
        .bind(v.contract_start).bind(v.contract_end).bind(v.sla_profile).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Updates a unit if `version` is still current.
pub async fn update(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &EquipmentValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE equipment SET serial = $4, product_id = $5, customer_id = $6, site_id = $7, order_id = $8,
            install_date = $9, warranty_end = $10, warranty_overridden = $11, contract_level = $12,
            contract_start = $13, contract_end = $14, sla_profile = $15, updated_at = $16, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.serial).bind(v.product_id).bind(v.customer_id).bind(v.site_id)
        .bind(v.order_id).bind(v.install_date).bind(v.warranty_end).bind(v.warranty_overridden)
        .bind(v.contract_level).bind(v.contract_start).bind(v.contract_end).bind(v.sla_profile).bind(now)
        .execute(x).await)?;
    stale_check(r)
}

/// Sets the status of a unit if `version` is still current.
pub async fn set_status(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    status: &str,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE equipment SET status = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(status).bind(now).execute(x).await)?;
    stale_check(r)
}

/// One unit of an organization.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Equipment> {
    let r: Equipment = on!(c, x => sqlx::query_as(concat!(select!(), "WHERE e.org_id = $1 AND e.id = $2"))
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(r)
}

/// The units list's filter: organization, serial fragment, product, customer, status and
/// warranty state ($1-$7).
macro_rules! list_where {
    () => {
        "WHERE e.org_id = $1
           AND ($2 IS NULL OR LOWER(e.serial) LIKE LOWER($2))
           AND ($3 IS NULL OR e.product_id = $3)
           AND ($4 IS NULL OR e.customer_id = $4)
           AND ($5 IS NULL OR e.status = $5)
           AND ($6 IS NULL OR ($6 = 'active' AND e.warranty_end >= $7)
                           OR ($6 = 'expired' AND e.warranty_end < $7)) "
    };
}

/// A page of the units list, in the order of `equipment_org_status_serial` (migration 15), so
/// a page reads its own units instead of sorting all of them.
const LIST_PAGE: &str = concat!(
    select!(),
    list_where!(),
    "ORDER BY e.status, e.serial LIMIT $8 OFFSET $9"
);

/// A page of units, filtered in SQL.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    f: &EquipmentFilter,
    p: PageReq,
) -> StoreResult<Page<Equipment>> {
    let q = like(f.q.as_deref());
    let status = nonblank(f.status.as_deref());
    let warranty = f.warranty.map(WarrantyState::as_str);
    let (total,): (i64,) = on!(c, x => sqlx::query_as(concat!("SELECT COUNT(*) FROM equipment e ", list_where!()))
        .bind(org).bind(&q).bind(f.product_id).bind(f.customer_id).bind(&status).bind(warranty).bind(&f.today)
        .fetch_one(x).await)?;
    let rows: Vec<Equipment> = on!(c, x => sqlx::query_as(LIST_PAGE)
        .bind(org).bind(&q).bind(f.product_id).bind(f.customer_id).bind(&status).bind(warranty).bind(&f.today)
        .bind(p.per_page).bind(p.offset()).fetch_all(x).await)?;
    Ok(Page {
        items: rows,
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// The id of the unit with this serial number, if any.
pub async fn equipment_id_by_serial(
    c: &mut Conn<'_>,
    org: i64,
    serial: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM equipment WHERE org_id = $1 AND serial = $2")
        .bind(org).bind(serial).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// True when another unit of the organization has this serial number.
pub async fn serial_taken(
    c: &mut Conn<'_>,
    org: i64,
    serial: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM equipment WHERE org_id = $1 AND serial = $2 AND ($3 IS NULL OR id <> $3)")
        .bind(org).bind(serial).bind(except).fetch_one(x).await)?;
    Ok(n > 0)
}

/// The customer a site of the organization belongs to, if the site exists.
pub async fn site_customer(c: &mut Conn<'_>, org: i64, site: i64) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT customer_id FROM customer_sites WHERE org_id = $1 AND id = $2")
        .bind(org).bind(site).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// Sites of active customers as (id, "customer · site") for choice lists.
pub async fn site_choices(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String)>> {
    let rows: Vec<(i64, String, String)> = on!(c, x => sqlx::query_as(
        "SELECT s.id, cu.name, s.name FROM customer_sites s JOIN customers cu ON cu.id = s.customer_id
         WHERE s.org_id = $1 AND cu.active ORDER BY cu.name, s.name LIMIT 2000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, cu, s)| (id, format!("{cu} · {s}")))
        .collect())
}

/// A meter reading (抄表记录).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Reading {
    pub id: i64,
    pub equipment_id: i64,
    /// Date read, YYYY-MM-DD.
    pub read_on: String,
    pub value: i64,
    /// Meter unit, e.g. `h` (running hours) or `次` (cycles).
    pub unit: String,
    pub created_at: i64,
}

type ReadingRow = (i64, i64, String, i64, String, i64);

fn reading(r: ReadingRow) -> Reading {
    Reading {
        id: r.0,
        equipment_id: r.1,
        read_on: r.2,
        value: r.3,
        unit: r.4,
        created_at: r.5,
    }
}

/// Inserts a reading; returns its id.
pub async fn insert_reading(
    c: &mut Conn<'_>,
    org: i64,
    equipment: i64,
    read_on: &str,
    value: i64,
    unit: &str,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO meter_readings (org_id, equipment_id, read_on, value, unit, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(org).bind(equipment).bind(read_on).bind(value).bind(unit).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// One reading of a unit.
pub async fn get_reading(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Reading> {
    let r: ReadingRow = on!(c, x => sqlx::query_as(
        "SELECT id, equipment_id, read_on, value, unit, created_at FROM meter_readings
         WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(reading(r))
}

/// A unit's readings, newest date first.
pub async fn readings(
    c: &mut Conn<'_>,
    org: i64,
    equipment: i64,
    p: PageReq,
) -> StoreResult<Page<Reading>> {
    let (total,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM meter_readings WHERE org_id = $1 AND equipment_id = $2")
        .bind(org).bind(equipment).fetch_one(x).await)?;
    let rows: Vec<ReadingRow> = on!(c, x => sqlx::query_as(
        "SELECT id, equipment_id, read_on, value, unit, created_at FROM meter_readings
         WHERE org_id = $1 AND equipment_id = $2 ORDER BY read_on DESC, id DESC LIMIT $3 OFFSET $4")
        .bind(org).bind(equipment).bind(p.per_page).bind(p.offset()).fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(reading).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// The highest reading of a meter (same unit) on or before `date`, and the lowest after it.
pub async fn reading_bounds(
    c: &mut Conn<'_>,
    org: i64,
    equipment: i64,
    unit: &str,
    date: &str,
) -> StoreResult<(Option<i64>, Option<i64>)> {
    let r: (Option<i64>, Option<i64>) = on!(c, x => sqlx::query_as(
        "SELECT
           (SELECT CAST(MAX(value) AS BIGINT) FROM meter_readings
            WHERE org_id = $1 AND equipment_id = $2 AND unit = $3 AND read_on <= $4),
           (SELECT CAST(MIN(value) AS BIGINT) FROM meter_readings
            WHERE org_id = $1 AND equipment_id = $2 AND unit = $3 AND read_on > $4)")
        .bind(org).bind(equipment).bind(unit).bind(date).fetch_one(x).await)?;
    Ok(r)
}

/// Ids of the units of a customer (to re-index them when the customer is renamed).
pub async fn ids_by_customer(c: &mut Conn<'_>, org: i64, customer: i64) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM equipment WHERE org_id = $1 AND customer_id = $2 ORDER BY id")
        .bind(org).bind(customer).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Ids of the units of a product (to re-index them when its part number or model changes).
pub async fn ids_by_product(c: &mut Conn<'_>, org: i64, product: i64) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM equipment WHERE org_id = $1 AND product_id = $2 ORDER BY id")
        .bind(org).bind(product).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The first `limit` units with their customer's name: (serial, customer name), for demos.
pub async fn sample(c: &mut Conn<'_>, org: i64, limit: i64) -> StoreResult<Vec<(String, String)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT e.serial, c.name FROM equipment e JOIN customers c ON c.id = e.customer_id
         WHERE e.org_id = $1 ORDER BY e.id LIMIT $2")
        .bind(org).bind(limit).fetch_all(x).await)?)
}

#[cfg(test)]
mod tests {
    /// A page of the units list walks `equipment_org_status_serial` instead of sorting every
    /// unit of the organization (~2 s a page at 300,000 units), with or without a serial
    /// fragment. Plans do not depend on bound values here (`db::stable_plans`).
    #[tokio::test]
    async fn a_list_page_reads_in_index_order() {
        let dir = crate::db::tests::temp_dir("aftersales-equipment-plan");
        let db = crate::Db::connect(&format!("sqlite:{}", dir.join("t.db").display()), 1)
            .await
            .expect("connect");
        crate::migrate::run(&db, 0).await.expect("migrate");
        let mut h = db.acquire().await.expect("acquire");
        for q in [None, Some("%sn-%")] {
            let plan: Vec<(i64, i64, i64, String)> = crate::on!(&mut h.c(), x => sqlx::query_as(
                sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {}", super::LIST_PAGE)))
                .bind(1_i64).bind(q).bind(None::<i64>).bind(None::<i64>).bind(None::<String>)
                .bind(None::<String>).bind("2026-01-01").bind(50_i64).bind(0_i64)
                .fetch_all(x).await)
            .expect("plan");
            let steps: Vec<&str> = plan.iter().map(|r| r.3.as_str()).collect();
            assert!(
                steps
                    .iter()
                    .any(|s| s.contains("equipment_org_status_serial")),
                "{q:?}: {steps:?}"
            );
            assert!(
                !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                "{q:?}: {steps:?}"
            );
        }
        drop(h);
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
