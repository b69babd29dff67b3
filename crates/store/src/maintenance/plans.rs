//! Maintenance plans and the scheduler's set-based reads and writes. Every query carries
//! `org_id` (or a plan id read with its organization); updates carry the version read. The
//! scheduler reads a plan's units, histories and orders in one query each and writes orders
//! in multi-row statements; the unique index (plan_id, equipment_id, due_date) makes an order
//! exist once whatever runs at the same time.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{Page, PageReq, on, run};

/// Statuses of an order still to be carried out (not completed, accepted, closed or cancelled).
macro_rules! pending {
    () => {
        "('created', 'scheduled', 'dispatched', 'on_site')"
    };
}

/// Implements `FromRow` for both backends by field name (the SELECT aliases match).
macro_rules! from_row {
    ($name:ident { $($f:ident),* $(,)? }) => {
        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $name {
            fn from_row(r: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok($name { $($f: r.try_get(stringify!($f))?),* })
            }
        }
        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $name {
            fn from_row(r: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok($name { $($f: r.try_get(stringify!($f))?),* })
            }
        }
    };
}

/// A maintenance plan with the names it refers to.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Plan {
    pub id: i64,
    pub name: String,
    /// The unit of a unit plan.
    pub equipment_id: Option<i64>,
    /// Serial number of the unit of a unit plan.
    pub serial: Option<String>,
    /// Customer of the unit of a unit plan.
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    /// The product of a product plan (every unit in service of it).
    pub product_id: Option<i64>,
    /// Part number and name of the plan's product (or of the unit's product).
    pub part_no: Option<String>,
    pub product_name: Option<String>,
    /// The checklist level.
    pub template_id: i64,
    pub template_code: String,
    pub template_name: String,
    pub interval_days: i64,
    /// fixed or floating.
    pub mode: String,
    /// Meter units between services, if the plan has a meter basis.
    pub meter_interval: Option<i64>,
    /// The meter unit (h, 次…).
    pub meter_unit: Option<String>,
    /// YYYY-MM-DD.
    pub start_date: String,
    pub lead_days: i64,
    pub horizon_days: i64,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

from_row!(Plan {
    id,
    name,
    equipment_id,
    serial,
    customer_id,
    customer_name,
    product_id,
    part_no,
    product_name,
    template_id,
    template_code,
    template_name,
    interval_days,
    mode,
    meter_interval,
    meter_unit,
    start_date,
    lead_days,
    horizon_days,
    active,
    created_at,
    updated_at,
    version,
});

const SELECT: &str = "SELECT p.id AS id, p.name AS name, p.equipment_id AS equipment_id, e.serial AS serial,
        e.customer_id AS customer_id, cu.name AS customer_name, p.product_id AS product_id, pr.part_no AS part_no,
        pr.name AS product_name, p.template_id AS template_id, t.code AS template_code, t.name AS template_name,
        p.interval_days AS interval_days, p.mode AS mode, p.meter_interval AS meter_interval,
        p.meter_unit AS meter_unit, p.start_date AS start_date, p.lead_days AS lead_days,
        p.horizon_days AS horizon_days, p.active AS active, p.created_at AS created_at,
        p.updated_at AS updated_at, p.version AS version
     FROM maintenance_plans p
     JOIN checklist_templates t ON t.id = p.template_id
     LEFT JOIN equipment e ON e.id = p.equipment_id
     LEFT JOIN customers cu ON cu.id = e.customer_id
     LEFT JOIN products pr ON pr.id = COALESCE(p.product_id, e.product_id) ";

/// Values written for a plan.
#[derive(Debug, Clone)]
pub struct PlanValues<'a> {
    pub name: &'a str,
    pub equipment_id: Option<i64>,
    pub product_id: Option<i64>,
    pub template_id: i64,
    pub interval_days: i64,
    pub mode: &'a str,
    pub meter_interval: Option<i64>,
    pub meter_unit: Option<&'a str>,
    pub start_date: &'a str,
    pub lead_days: i64,
    pub horizon_days: i64,
}

/// Filters of the plan list.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    /// Substring of the name, the unit's serial or the product's part number or name.
    pub q: Option<String>,
    /// Some(true): active only; Some(false): inactive only; None: both.
    pub active: Option<bool>,
    /// Plans of this unit (unit plans of it, and product plans of its product).
    pub equipment_id: Option<i64>,
    /// Product plans of this product.
    pub product_id: Option<i64>,
}

fn stale_check(rows: u64) -> StoreResult<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// Inserts a plan; returns its id.
pub async fn insert(c: &mut Conn<'_>, org: i64, v: &PlanValues<'_>, now: i64) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO maintenance_plans (org_id, name, equipment_id, product_id, template_id, interval_days, mode,
            meter_interval, meter_unit, start_date, lead_days, horizon_days, active, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, TRUE, $13, $13, 1) RETURNING id")
        .bind(org).bind(v.name).bind(v.equipment_id).bind(v.product_id).bind(v.template_id).bind(v.interval_days)
        .bind(v.mode).bind(v.meter_interval).bind(v.meter_unit).bind(v.start_date).bind(v.lead_days)
        .bind(v.horizon_days).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Updates a plan if `version` is still current.
pub async fn update(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &PlanValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE maintenance_plans SET name = $4, equipment_id = $5, product_id = $6, template_id = $7,
            interval_days = $8, mode = $9, meter_interval = $10, meter_unit = $11, start_date = $12, lead_days = $13,
            horizon_days = $14, updated_at = $15, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.name).bind(v.equipment_id).bind(v.product_id).bind(v.template_id)
        .bind(v.interval_days).bind(v.mode).bind(v.meter_interval).bind(v.meter_unit).bind(v.start_date)
        .bind(v.lead_days).bind(v.horizon_days).bind(now).execute(x).await)?;
    stale_check(r)
}

/// Activates or deactivates a plan if `version` is still current.
pub async fn set_active(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    active: bool,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE maintenance_plans SET active = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(active).bind(now).execute(x).await)?;
    stale_check(r)
}

/// One plan of an organization.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Plan> {
    let r: Option<Plan> = on!(c, x => {
        let mut q = QueryBuilder::new(SELECT);
        q.push("WHERE p.org_id = ").push_bind(org).push(" AND p.id = ").push_bind(id);
        q.build_query_as().fetch_optional(x).await
    })?;
    r.ok_or(StoreError::NotFound)
}

fn like(q: Option<&str>) -> Option<String> {
    q.map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.replace(['%', '_'], "").to_lowercase()))
}

macro_rules! filters {
    ($q:ident, $org:expr, $f:expr, $like:expr) => {
        $q.push("WHERE p.org_id = ").push_bind($org);
        if let Some(a) = $f.active {
            $q.push(" AND p.active = ").push_bind(a);
        }
        if let Some(l) = &$like {
            $q.push(" AND (LOWER(p.name) LIKE ")
                .push_bind(l.clone())
                .push(" OR LOWER(e.serial) LIKE ")
                .push_bind(l.clone())
                .push(" OR LOWER(pr.part_no) LIKE ")
                .push_bind(l.clone())
                .push(" OR LOWER(pr.name) LIKE ")
                .push_bind(l.clone())
                .push(")");
        }
        if let Some(eq) = $f.equipment_id {
            $q.push(" AND (p.equipment_id = ")
                .push_bind(eq)
                .push(" OR p.product_id = (SELECT u.product_id FROM equipment u WHERE u.org_id = ")
                .push_bind($org)
                .push(" AND u.id = ")
                .push_bind(eq)
                .push("))");
        }
        if let Some(pid) = $f.product_id {
            $q.push(" AND p.product_id = ").push_bind(pid);
        }
    };
}

/// A page of plans, filtered in SQL, active first then by name.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    f: &PlanFilter,
    p: PageReq,
) -> StoreResult<Page<Plan>> {
    let l = like(f.q.as_deref());
    let (total,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new(
            "SELECT COUNT(*) FROM maintenance_plans p
             LEFT JOIN equipment e ON e.id = p.equipment_id
             LEFT JOIN products pr ON pr.id = COALESCE(p.product_id, e.product_id) ");
        filters!(q, org, f, l);
        q.build_query_as().fetch_one(x).await
    })?;
    let items: Vec<Plan> = on!(c, x => {
        let mut q = QueryBuilder::new(SELECT);
        filters!(q, org, f, l);
        q.push(" ORDER BY p.active DESC, p.name, p.id LIMIT ").push_bind(p.per_page)
            .push(" OFFSET ").push_bind(p.offset());
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(Page {
        items,
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// A choice in the plan form (a checklist level).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TemplateChoice {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// The active checklist templates of an organization, in creation order.
pub async fn templates(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<TemplateChoice>> {
    let rows: Vec<(i64, String, String)> = on!(c, x => sqlx::query_as(
        "SELECT id, code, name FROM checklist_templates WHERE org_id = $1 AND active ORDER BY id")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, code, name)| TemplateChoice { id, code, name })
        .collect())
}

/// The id of an active checklist template of the organization with this code.
pub async fn template_by_code(c: &mut Conn<'_>, org: i64, code: &str) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM checklist_templates WHERE org_id = $1 AND code = $2 AND active")
        .bind(org).bind(code).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// True when the organization has an active checklist template with this id.
pub async fn template_exists(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM checklist_templates WHERE org_id = $1 AND id = $2 AND active")
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(n > 0)
}

/// The unit of the organization with this serial number.
pub async fn unit_by_serial(c: &mut Conn<'_>, org: i64, serial: &str) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM equipment WHERE org_id = $1 AND serial = $2")
        .bind(org).bind(serial).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// The product of the organization with this part number.
pub async fn product_by_part_no(
    c: &mut Conn<'_>,
    org: i64,
    part_no: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM products WHERE org_id = $1 AND part_no = $2")
        .bind(org).bind(part_no).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// True when the organization has this unit.
pub async fn unit_exists(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM equipment WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(n > 0)
}

/// True when the organization has this product.
pub async fn product_exists(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM products WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(n > 0)
}

/// An order of a plan, as its page lists it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlanOrder {
    pub id: i64,
    pub number: String,
    pub status: String,
    /// YYYY-MM-DD.
    pub due_date: String,
    pub equipment_id: Option<i64>,
    pub serial: Option<String>,
    pub customer_name: Option<String>,
    pub engineer_name: Option<String>,
    pub completed_at: Option<i64>,
    pub cancel_reason: Option<String>,
}

from_row!(PlanOrder {
    id,
    number,
    status,
    due_date,
    equipment_id,
    serial,
    customer_name,
    engineer_name,
    completed_at,
    cancel_reason,
});

/// Orders of a plan: `upcoming` = still to be done, earliest due first; otherwise completed,
/// closed or cancelled ones, latest due first.
pub async fn orders(
    c: &mut Conn<'_>,
    org: i64,
    plan: i64,
    upcoming: bool,
    p: PageReq,
) -> StoreResult<Page<PlanOrder>> {
    macro_rules! w {
        ($q:ident) => {
            $q.push(" WHERE o.org_id = ")
                .push_bind(org)
                .push(" AND o.plan_id = ")
                .push_bind(plan);
            if upcoming {
                $q.push(concat!(" AND o.status IN ", pending!()));
            } else {
                $q.push(concat!(" AND o.status NOT IN ", pending!()));
            }
        };
    }
    let (total,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM service_orders o");
        w!(q);
        q.build_query_as().fetch_one(x).await
    })?;
    let items: Vec<PlanOrder> = on!(c, x => {
        let mut q = QueryBuilder::new(
            "SELECT o.id AS id, o.number AS number, o.status AS status, o.due_date AS due_date,
                o.equipment_id AS equipment_id, e.serial AS serial, cu.name AS customer_name,
                u.display_name AS engineer_name, o.completed_at AS completed_at, o.cancel_reason AS cancel_reason
             FROM service_orders o
             LEFT JOIN equipment e ON e.id = o.equipment_id
             LEFT JOIN customers cu ON cu.id = o.customer_id
             LEFT JOIN users u ON u.id = o.engineer_id");
        w!(q);
        q.push(if upcoming { " ORDER BY o.due_date, o.id" } else { " ORDER BY o.due_date DESC, o.id DESC" });
        q.push(" LIMIT ").push_bind(p.per_page).push(" OFFSET ").push_bind(p.offset());
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(Page {
        items,
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// Orders of a plan still to be done that are past their due date.
pub async fn overdue_count(c: &mut Conn<'_>, org: i64, plan: i64, today: &str) -> StoreResult<i64> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(concat!(
        "SELECT COUNT(*) FROM service_orders WHERE org_id = $1 AND status IN ", pending!(),
        " AND due_date < $2 AND plan_id = $3"))
        .bind(org).bind(today).bind(plan).fetch_one(x).await)?;
    Ok(n)
}

// --- The scheduler ---

/// A plan as the scheduler reads it.
#[derive(Debug, Clone)]
pub struct SchedPlan {
    pub id: i64,
    pub org_id: i64,
    pub equipment_id: Option<i64>,
    pub product_id: Option<i64>,
    pub template_id: i64,
    pub interval_days: i64,
    pub mode: String,
    pub meter_interval: Option<i64>,
    pub meter_unit: Option<String>,
    pub start_date: String,
    pub lead_days: i64,
    pub horizon_days: i64,
    pub active: bool,
}

from_row!(SchedPlan {
    id,
    org_id,
    equipment_id,
    product_id,
    template_id,
    interval_days,
    mode,
    meter_interval,
    meter_unit,
    start_date,
    lead_days,
    horizon_days,
    active,
});

const SCHED_SELECT: &str = "SELECT id, org_id, equipment_id, product_id, template_id, interval_days, mode,
    meter_interval, meter_unit, start_date, lead_days, horizon_days, active FROM maintenance_plans ";

/// Every active plan of every organization, and plans deactivated since `since` (their
/// open orders are cancelled by the run after the change).
pub async fn scheduled_plans(c: &mut Conn<'_>, since: i64) -> StoreResult<Vec<SchedPlan>> {
    on!(c, x => {
        let mut q = QueryBuilder::new(SCHED_SELECT);
        q.push("WHERE active OR updated_at >= ").push_bind(since).push(" ORDER BY org_id, id");
        q.build_query_as().fetch_all(x).await
    })
    .map_err(Into::into)
}

/// One plan of an organization, as the scheduler reads it.
pub async fn sched_plan(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<SchedPlan> {
    let r: Option<SchedPlan> = on!(c, x => {
        let mut q = QueryBuilder::new(SCHED_SELECT);
        q.push("WHERE org_id = ").push_bind(org).push(" AND id = ").push_bind(id);
        q.build_query_as().fetch_optional(x).await
    })?;
    r.ok_or(StoreError::NotFound)
}

/// A unit a plan covers.
#[derive(Debug, Clone)]
pub struct SchedUnit {
    pub id: i64,
    pub customer_id: i64,
    pub product_id: i64,
    /// The name of the unit's site.
    pub site: Option<String>,
}

/// The units in service a plan covers (its unit, or every unit of its product), by id.
pub async fn units(c: &mut Conn<'_>, p: &SchedPlan) -> StoreResult<Vec<SchedUnit>> {
    let rows: Vec<(i64, i64, i64, Option<String>)> = on!(c, x => {
        let mut q = QueryBuilder::new(
            "SELECT e.id, e.customer_id, e.product_id, s.name FROM equipment e
             LEFT JOIN customer_sites s ON s.id = e.site_id
             WHERE e.status = 'in_service' AND e.org_id = ");
        q.push_bind(p.org_id);
        match (p.equipment_id, p.product_id) {
            (Some(eq), _) => q.push(" AND e.id = ").push_bind(eq),
            (None, Some(pr)) => q.push(" AND e.product_id = ").push_bind(pr),
            (None, None) => q.push(" AND FALSE"),
        };
        q.push(" ORDER BY e.id");
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, customer_id, product_id, site)| SchedUnit {
            id,
            customer_id,
            product_id,
            site,
        })
        .collect())
}

/// How many units in service a plan covers.
pub async fn unit_count(c: &mut Conn<'_>, p: &SchedPlan) -> StoreResult<i64> {
    let (n,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM equipment e WHERE e.status = 'in_service' AND e.org_id = ");
        q.push_bind(p.org_id);
        match (p.equipment_id, p.product_id) {
            (Some(eq), _) => q.push(" AND e.id = ").push_bind(eq),
            (None, Some(pr)) => q.push(" AND e.product_id = ").push_bind(pr),
            (None, None) => q.push(" AND FALSE"),
        };
        q.build_query_as().fetch_one(x).await
    })?;
    Ok(n)
}

/// Per unit: the last completion time of the plan's orders and the due date of the latest
/// one a user cancelled (`plan_changed` is the scheduler's reason, not a user's).
pub async fn histories(
    c: &mut Conn<'_>,
    plan: i64,
    plan_changed: &str,
) -> StoreResult<Vec<(i64, Option<i64>, Option<String>)>> {
    on!(c, x => sqlx::query_as(
        "SELECT equipment_id, MAX(completed_at),
            MAX(CASE WHEN status = 'cancelled' AND (cancel_reason IS NULL OR cancel_reason <> $2) THEN due_date END)
         FROM service_orders WHERE plan_id = $1 AND (completed_at IS NOT NULL OR status = 'cancelled')
           AND equipment_id IS NOT NULL
         GROUP BY equipment_id")
        .bind(plan).bind(plan_changed).fetch_all(x).await)
    .map_err(Into::into)
}

/// An existing order of a plan, as the scheduler reads it.
#[derive(Debug, Clone)]
pub struct SchedOrder {
    pub id: i64,
    pub equipment_id: i64,
    pub due_date: String,
    pub status: String,
    pub cancel_reason: Option<String>,
}

/// Orders the scheduler reads per statement. A plan of 100,000 units holds 1.3 M orders a
/// year ahead; read in one statement they took the periodic run to 1 GB of RSS (every row
/// is materialised before the first is returned).
pub const ORDERS_PAGE: i64 = 10_000;

/// A page of the plan's orders due on or after `from`, by unit then due date, after the
/// (unit, due date) `after` (`None`: from the first); at most `limit` (the scheduler reads
/// [`ORDERS_PAGE`]). The pair is unique within a plan (`service_orders_plan_due`), which the
/// page boundary relies on.
pub async fn orders_from(
    c: &mut Conn<'_>,
    plan: i64,
    from: &str,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<SchedOrder>> {
    let (eq, due) = after.unwrap_or((i64::MIN, ""));
    let rows: Vec<(i64, i64, String, String, Option<String>)> = on!(c, x => sqlx::query_as(
        "SELECT id, equipment_id, due_date, status, cancel_reason FROM service_orders
         WHERE plan_id = $1 AND due_date >= $2 AND equipment_id IS NOT NULL
           AND (equipment_id, due_date) > ($3, $4)
         ORDER BY equipment_id, due_date LIMIT $5")
        .bind(plan).bind(from).bind(eq).bind(due).bind(limit).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, equipment_id, due_date, status, cancel_reason)| SchedOrder {
                id,
                equipment_id,
                due_date,
                status,
                cancel_reason,
            },
        )
        .collect())
}

/// Units with an order of the plan due before `today` still to be done.
pub async fn overdue_units(
    c: &mut Conn<'_>,
    org: i64,
    plan: i64,
    today: &str,
) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(c, x => sqlx::query_as(concat!(
        "SELECT DISTINCT equipment_id FROM service_orders WHERE org_id = $1 AND status IN ", pending!(),
        " AND due_date < $2 AND plan_id = $3 AND equipment_id IS NOT NULL"))
        .bind(org).bind(today).bind(plan).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Readings of the plan's meter unit for the units it covers: (unit, date, value), by unit,
/// date and value.
pub async fn readings(c: &mut Conn<'_>, p: &SchedPlan) -> StoreResult<Vec<(i64, String, i64)>> {
    let Some(unit) = p.meter_unit.clone() else {
        return Ok(vec![]);
    };
    on!(c, x => {
        let mut q = QueryBuilder::new(
            "SELECT m.equipment_id, m.read_on, m.value FROM meter_readings m WHERE m.org_id = ");
        q.push_bind(p.org_id).push(" AND m.unit = ").push_bind(unit);
        match (p.equipment_id, p.product_id) {
            (Some(eq), _) => q.push(" AND m.equipment_id = ").push_bind(eq),
            (None, Some(pr)) => q
                .push(" AND m.equipment_id IN (SELECT e.id FROM equipment e WHERE e.org_id = ")
                .push_bind(p.org_id)
                .push(" AND e.product_id = ")
                .push_bind(pr)
                .push(")"),
            (None, None) => q.push(" AND FALSE"),
        };
        q.push(" ORDER BY m.equipment_id, m.read_on, m.value");
        q.build_query_as().fetch_all(x).await
    })
    .map_err(Into::into)
}

/// Makes sure the organization's number counter of `year` exists and locks it until the end
/// of the transaction: number reservations of the organization queue behind it, so the
/// existence check that follows sees every order a concurrent run committed.
pub async fn lock_numbers(c: &mut Conn<'_>, org: i64, year: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO service_order_counters (org_id, year, next) VALUES ($1, $2, 1) ON CONFLICT DO NOTHING")
        .bind(org).bind(year).execute(x).await)?;
    run!(c, x => sqlx::query(
        "UPDATE service_order_counters SET next = next WHERE org_id = $1 AND year = $2")
        .bind(org).bind(year).execute(x).await)?;
    Ok(())
}

/// (unit, due date) of the plan's orders for units `eq_lo..=eq_hi` due in `due_lo..=due_hi`.
pub async fn existing_in(
    c: &mut Conn<'_>,
    plan: i64,
    (eq_lo, eq_hi): (i64, i64),
    (due_lo, due_hi): (&str, &str),
) -> StoreResult<Vec<(i64, String)>> {
    on!(c, x => sqlx::query_as(
        "SELECT equipment_id, due_date FROM service_orders
         WHERE plan_id = $1 AND equipment_id >= $2 AND equipment_id <= $3 AND due_date >= $4 AND due_date <= $5")
        .bind(plan).bind(eq_lo).bind(eq_hi).bind(due_lo).bind(due_hi).fetch_all(x).await)
    .map_err(Into::into)
}

/// A service order the scheduler creates.
#[derive(Debug, Clone)]
pub struct NewPlanOrder {
    pub number: String,
    pub equipment_id: i64,
    pub customer_id: i64,
    pub product_id: i64,
    pub site: Option<String>,
    /// YYYY-MM-DD.
    pub due_date: String,
}

/// Rows per INSERT statement.
pub const INSERT_ROWS: usize = 500;

/// Inserts maintenance orders of a plan (status created, no fees yet), [`INSERT_ROWS`] rows a
/// statement; an order that already exists for its plan, unit and due date is left alone.
/// Returns how many were inserted.
pub async fn insert_orders(
    c: &mut Conn<'_>,
    org: i64,
    plan: i64,
    template: i64,
    rows: &[NewPlanOrder],
    now: i64,
) -> StoreResult<u64> {
    let mut n = 0;
    for chunk in rows.chunks(INSERT_ROWS) {
        n += run!(c, x => {
            // The plan's constants are integers read from the database: written as literals
            // they keep each row to six parameters.
            let mut q = QueryBuilder::new(
                "INSERT INTO service_orders (org_id, plan_id, template_id, reported_at, created_at, updated_at, kind,
                    status, fee_fen, parts_cost_fen, version, number, equipment_id, customer_id, product_id, site,
                    due_date, month) ");
            let head = format!("{org}, {plan}, {template}, {now}, {now}, {now}, 'maintenance', 'created', 0, 0, 1");
            q.push_values(chunk, |mut b, r| {
                b.push(&head)
                    .push_bind(r.number.clone())
                    .push_bind(r.equipment_id)
                    .push_bind(r.customer_id)
                    .push_bind(r.product_id)
                    .push_bind(r.site.clone())
                    .push_bind(r.due_date.clone())
                    .push_bind(r.due_date.get(..7).unwrap_or(&r.due_date).to_string());
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(x).await
        })?;
    }
    Ok(n)
}

/// Appends one event per order (the history the order's page shows).
async fn events(
    c: &mut Conn<'_>,
    org: i64,
    ids: &[i64],
    (action, from, to): (&str, &str, &str),
    note: &str,
    now: i64,
) -> StoreResult<()> {
    for chunk in ids.chunks(INSERT_ROWS) {
        run!(c, x => {
            let mut q = QueryBuilder::new(
                "INSERT INTO service_order_events (org_id, order_id, at, user_id, action, from_status, to_status, note) ");
            q.push_values(chunk, |mut b, id| {
                b.push_bind(org).push_bind(*id).push_bind(now).push("NULL").push_bind(action.to_string())
                    .push_bind(from.to_string()).push_bind(to.to_string()).push_bind(note.to_string());
            });
            q.build().execute(x).await
        })?;
    }
    Ok(())
}

/// Cancels open (status `created`) orders among `ids` with `reason`; returns the ids cancelled.
pub async fn cancel_open(
    c: &mut Conn<'_>,
    org: i64,
    ids: &[i64],
    reason: &str,
    now: i64,
) -> StoreResult<Vec<i64>> {
    let mut done = Vec::new();
    for chunk in ids.chunks(INSERT_ROWS) {
        let got: Vec<(i64,)> = on!(c, x => {
            let mut q = QueryBuilder::new("UPDATE service_orders SET status = 'cancelled', cancelled_at = ");
            q.push_bind(now).push(", cancel_reason = ").push_bind(reason.to_string())
                .push(", updated_at = ").push_bind(now).push(", version = version + 1 WHERE org_id = ").push_bind(org)
                .push(" AND status = 'created' AND id IN (");
            let mut s = q.separated(", ");
            for id in chunk {
                s.push_bind(*id);
            }
            q.push(") RETURNING id");
            q.build_query_as().fetch_all(x).await
        })?;
        done.extend(got.into_iter().map(|r| r.0));
    }
    events(
        c,
        org,
        &done,
        ("cancel", "created", "cancelled"),
        reason,
        now,
    )
    .await?;
    Ok(done)
}

/// Brings back orders among `ids` cancelled with `reason` (status `created` again); returns
/// the ids restored.
pub async fn restore_cancelled(
    c: &mut Conn<'_>,
    org: i64,
    ids: &[i64],
    reason: &str,
    now: i64,
) -> StoreResult<Vec<i64>> {
    let mut done = Vec::new();
    for chunk in ids.chunks(INSERT_ROWS) {
        let got: Vec<(i64,)> = on!(c, x => {
            let mut q = QueryBuilder::new(
                "UPDATE service_orders SET status = 'created', cancelled_at = NULL, cancel_reason = NULL, updated_at = ");
            q.push_bind(now).push(", version = version + 1 WHERE org_id = ").push_bind(org)
                .push(" AND status = 'cancelled' AND cancel_reason = ").push_bind(reason.to_string())
                .push(" AND id IN (");
            let mut s = q.separated(", ");
            for id in chunk {
                s.push_bind(*id);
            }
            q.push(") RETURNING id");
            q.build_query_as().fetch_all(x).await
        })?;
        done.extend(got.into_iter().map(|r| r.0));
    }
    events(
        c,
        org,
        &done,
        ("restore", "cancelled", "created"),
        reason,
        now,
    )
    .await?;
    Ok(done)
}

// --- Overdue ---

/// The organizations.
pub async fn org_ids(c: &mut Conn<'_>) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(c, x => sqlx::query_as("SELECT id FROM organizations ORDER BY id")
        .fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// An order just flagged overdue.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub id: i64,
    pub number: String,
    pub engineer_id: Option<i64>,
    pub due_date: String,
}

/// Flags up to `limit` orders of the organization still to be done whose due date is before
/// `today` and that were never flagged (`overdue_notified_at = now`); returns those this call
/// flagged. The condition is re-checked on the row, so of two concurrent calls only one
/// flags (and so notifies) each order. The version is left alone: a flag is no edit.
pub async fn flag_overdue(
    c: &mut Conn<'_>,
    org: i64,
    today: &str,
    now: i64,
    limit: i64,
) -> StoreResult<Vec<Overdue>> {
    let rows: Vec<(i64, String, Option<i64>, String)> = on!(c, x => sqlx::query_as(concat!(
        "UPDATE service_orders SET overdue_notified_at = $1
         WHERE overdue_notified_at IS NULL AND id IN (
            SELECT id FROM service_orders WHERE org_id = $2 AND status IN ", pending!(), "
              AND due_date < $3 AND overdue_notified_at IS NULL ORDER BY due_date, id LIMIT $4)
         RETURNING id, number, engineer_id, due_date"))
        .bind(now).bind(org).bind(today).bind(limit).fetch_all(x).await)?;
    let mut v: Vec<Overdue> = rows
        .into_iter()
        .map(|(id, number, engineer_id, due_date)| Overdue {
            id,
            number,
            engineer_id,
            due_date,
        })
        .collect();
    v.sort_by_key(|o| o.id);
    Ok(v)
}

// --- Demo data ---

/// The `n` products with the most units in service: (product id, units).
pub async fn busiest_products(c: &mut Conn<'_>, org: i64, n: i64) -> StoreResult<Vec<(i64, i64)>> {
    on!(c, x => sqlx::query_as(
        "SELECT product_id, COUNT(*) FROM equipment WHERE org_id = $1 AND status = 'in_service'
         GROUP BY product_id ORDER BY COUNT(*) DESC, product_id LIMIT $2")
        .bind(org).bind(n).fetch_all(x).await)
    .map_err(Into::into)
}

/// Up to `n` units in service of a product, by id.
pub async fn some_units(c: &mut Conn<'_>, org: i64, product: i64, n: i64) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM equipment WHERE org_id = $1 AND product_id = $2 AND status = 'in_service'
         ORDER BY id LIMIT $3")
        .bind(org).bind(product).bind(n).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
