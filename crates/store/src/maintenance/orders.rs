//! Service orders: the record, its list with SQL filters (status, kind, engineer, customer,
//! unit, overdue, date range, text), paginated and sortable; version-checked writes; events,
//! checklist results (one row per order and item: saving twice is an upsert) and parts used
//! (one row per form sent: a re-sent form is a no-op). Every query carries `org_id`.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{Page, PageReq, on, run};

/// Declares a record read by one SELECT list whose aliases are the field names.
macro_rules! record {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident : $t:ty = $col:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
        pub struct $name { $($(#[$fm])* pub $f: $t),* }

        impl $name {
            /// The SELECT list (aliases match the field names).
            pub const COLUMNS: &'static str = concat!($($col, " AS ", stringify!($f), ", ",)* "1 AS one_");
        }

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
pub(crate) use record;

record!(
    /// A service order with everything its page and printed form show (the signature image
    /// itself is read with [`signature`]).
    ServiceOrder {
        id: i64 = "o.id",
        number: String = "o.number",
        /// repair, maintenance, installation, delivery, return_exchange, take_back, tech_support.
        kind: String = "o.kind",
        /// created, scheduled, dispatched, on_site, completed, accepted, closed, cancelled.
        status: String = "o.status",
        equipment_id: Option<i64> = "o.equipment_id",
        serial: Option<String> = "(SELECT e.serial FROM equipment e WHERE e.id = o.equipment_id)",
        customer_id: Option<i64> = "o.customer_id",
        customer_name: Option<String> = "(SELECT cu.name FROM customers cu WHERE cu.id = o.customer_id)",
        customer_address: Option<String> = "(SELECT cu.address FROM customers cu WHERE cu.id = o.customer_id)",
        product_id: Option<i64> = "o.product_id",
        part_no: Option<String> = "(SELECT p.part_no FROM products p WHERE p.id = o.product_id)",
        model: Option<String> = "(SELECT p.model FROM products p WHERE p.id = o.product_id)",
        product_name: Option<String> = "(SELECT p.name FROM products p WHERE p.id = o.product_id)",
        site: Option<String> = "o.site",
        plan_id: Option<i64> = "o.plan_id",
        plan_name: Option<String> = "(SELECT mp.name FROM maintenance_plans mp WHERE mp.id = o.plan_id)",
        /// The checklist level worked on this order.
        template_id: Option<i64> = "o.template_id",
        template_name: Option<String> = "(SELECT t.name FROM checklist_templates t WHERE t.id = o.template_id)",
        /// YYYY-MM-DD (planned maintenance).
        due_date: Option<String> = "o.due_date",
        complaint_id: Option<i64> = "o.complaint_id",
        complaint_number: Option<String> = "(SELECT k.number FROM complaints k WHERE k.id = o.complaint_id)",
        /// The order whose failed checklist item opened this one.
        source_order_id: Option<i64> = "o.source_order_id",
        source_number: Option<String> = "(SELECT s.number FROM service_orders s WHERE s.id = o.source_order_id)",
        engineer_id: Option<i64> = "o.engineer_id",
        engineer_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = o.engineer_id)",
        reported_at: i64 = "o.reported_at",
        scheduled_start: Option<i64> = "o.scheduled_start",
        scheduled_end: Option<i64> = "o.scheduled_end",
        dispatched_at: Option<i64> = "o.dispatched_at",
        arrived_at: Option<i64> = "o.arrived_at",
        completed_at: Option<i64> = "o.completed_at",
        accepted_at: Option<i64> = "o.accepted_at",
        /// The customer's name on the sign-off.
        accepted_by: Option<String> = "o.accepted_by",
        has_signature: bool = "(CASE WHEN o.signature IS NULL THEN FALSE ELSE TRUE END)",
        /// 1 to 5.
        rating: Option<i64> = "o.rating",
        closed_at: Option<i64> = "o.closed_at",
        cancelled_at: Option<i64> = "o.cancelled_at",
        cancel_reason: Option<String> = "o.cancel_reason",
        symptom: Option<String> = "o.symptom",
        diagnosis: Option<String> = "o.diagnosis",
        cause: Option<String> = "o.cause",
        actions: Option<String> = "o.actions",
        labor_minutes: Option<i64> = "o.labor_minutes",
        fee_fen: i64 = "o.fee_fen",
        /// Sum of the parts lines.
        parts_cost_fen: i64 = "o.parts_cost_fen",
        /// Repairs: no other repair of the unit completed in the 30 days before this one.
        first_time_fix: Option<bool> = "o.first_time_fix",
        /// YYYY-MM of the due date or the report.
        month: String = "o.month",
        created_by: Option<i64> = "o.created_by",
        created_by_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = o.created_by)",
        created_at: i64 = "o.created_at",
        updated_at: i64 = "o.updated_at",
        version: i64 = "o.version",
    }
);

record!(
    /// A service order as listed.
    OrderRow {
        id: i64 = "o.id",
        number: String = "o.number",
        kind: String = "o.kind",
        status: String = "o.status",
        equipment_id: Option<i64> = "o.equipment_id",
        serial: Option<String> = "(SELECT e.serial FROM equipment e WHERE e.id = o.equipment_id)",
        customer_id: Option<i64> = "o.customer_id",
        customer_name: Option<String> = "(SELECT cu.name FROM customers cu WHERE cu.id = o.customer_id)",
        template_name: Option<String> = "(SELECT t.name FROM checklist_templates t WHERE t.id = o.template_id)",
        engineer_id: Option<i64> = "o.engineer_id",
        engineer_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = o.engineer_id)",
        due_date: Option<String> = "o.due_date",
        reported_at: i64 = "o.reported_at",
        scheduled_start: Option<i64> = "o.scheduled_start",
        completed_at: Option<i64> = "o.completed_at",
        symptom: Option<String> = "o.symptom",
        version: i64 = "o.version",
    }
);

/// A value written to one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    I(Option<i64>),
    S(Option<String>),
    B(Option<bool>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I(Some(v))
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        Val::I(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::S(Some(v.to_string()))
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::S(Some(v))
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        Val::S(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::B(Some(v))
    }
}
impl From<Option<bool>> for Val {
    fn from(v: Option<bool>) -> Val {
        Val::B(v)
    }
}

/// Columns a write may set (anything else is refused: the names go into SQL text).
const WRITABLE: &[&str] = &[
    "kind",
    "status",
    "equipment_id",
    "customer_id",
    "product_id",
    "site",
    "plan_id",
    "template_id",
    "due_date",
    "complaint_id",
    "source_order_id",
    "engineer_id",
    "reported_at",
    "scheduled_start",
    "scheduled_end",
    "dispatched_at",
    "arrived_at",
    "completed_at",
    "accepted_at",
    "accepted_by",
    "signature",
    "rating",
    "closed_at",
    "cancelled_at",
    "cancel_reason",
    "symptom",
    "diagnosis",
    "cause",
    "actions",
    "labor_minutes",
    "fee_fen",
    "parts_cost_fen",
    "first_time_fix",
    "overdue_notified_at",
    "month",
];

macro_rules! bind_val {
    ($q:expr, $v:expr) => {
        match $v {
            Val::I(v) => $q.push_bind(*v),
            Val::S(v) => $q.push_bind(v.clone()),
            Val::B(v) => $q.push_bind(*v),
        }
    };
}

fn check_columns(fields: &[(&'static str, Val)]) -> StoreResult<()> {
    match fields.iter().find(|(c, _)| !WRITABLE.contains(c)) {
        Some((c, _)) => Err(StoreError::Config(format!(
            "service order column {c} is not writable"
        ))),
        None => Ok(()),
    }
}

/// Everything a new order is inserted with; the rest starts empty.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub number: String,
    pub kind: String,
    pub status: String,
    pub reported_at: i64,
    pub month: String,
    pub created_by: Option<i64>,
    /// Further columns (unit, customer, template, symptom…).
    pub fields: Vec<(&'static str, Val)>,
}

/// Inserts an order (fee and parts cost 0, version 1); returns its id.
pub async fn insert(c: &mut Conn<'_>, org: i64, n: &NewOrder, now: i64) -> StoreResult<i64> {
    check_columns(&n.fields)?;
    let (id,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new(
            "INSERT INTO service_orders (org_id, number, kind, status, reported_at, month, created_by, fee_fen,
                parts_cost_fen, created_at, updated_at, version");
        for (col, _) in &n.fields {
            q.push(", ").push(*col);
        }
        q.push(") VALUES (");
        let mut s = q.separated(", ");
        s.push_bind(org).push_bind(n.number.clone()).push_bind(n.kind.clone()).push_bind(n.status.clone())
            .push_bind(n.reported_at).push_bind(n.month.clone()).push_bind(n.created_by).push_bind(0_i64)
            .push_bind(0_i64).push_bind(now).push_bind(now).push_bind(1_i64);
        for (_, v) in &n.fields {
            q.push(", ");
            bind_val!(q, v);
        }
        q.push(") RETURNING id");
        q.build_query_as::<(i64,)>().fetch_one(x).await
    })?;
    Ok(id)
}

/// Writes `fields` of an order read at `version` and bumps the version (stale: `Conflict`).
pub async fn patch(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    fields: &[(&'static str, Val)],
    now: i64,
) -> StoreResult<()> {
    check_columns(fields)?;
    versioned_update(c, "service_orders", org, id, version, fields, now).await
}

/// `UPDATE table SET …, version = version + 1` of one row of `org` read at `version`
/// (stale: `Conflict`). The caller has checked `fields` against its column whitelist;
/// `table` is always a literal.
pub(crate) async fn versioned_update(
    c: &mut Conn<'_>,
    table: &'static str,
    org: i64,
    id: i64,
    version: i64,
    fields: &[(&'static str, Val)],
    now: i64,
) -> StoreResult<()> {
    let n = on!(c, x => {
        let mut q = QueryBuilder::new("UPDATE ");
        q.push(table).push(" SET updated_at = ").push_bind(now).push(", version = version + 1");
        for (col, v) in fields {
            q.push(", ").push(*col).push(" = ");
            bind_val!(q, v);
        }
        q.push(" WHERE org_id = ").push_bind(org).push(" AND id = ").push_bind(id)
            .push(" AND version = ").push_bind(version);
        q.build().execute(x).await.map(|r| r.rows_affected())
    })?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// Takes the order's row lock until the transaction ends (PostgreSQL; SQLite's write lock is
/// already held), so two requests deciding from the same order's state run one after the
/// other. False when there is no such order.
pub async fn lock(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "UPDATE service_orders SET updated_at = updated_at WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).execute(x).await)?;
    Ok(n == 1)
}

/// One order.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<ServiceOrder> {
    let r: Option<ServiceOrder> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(ServiceOrder::COLUMNS).push(" FROM service_orders o WHERE o.org_id = ").push_bind(org)
            .push(" AND o.id = ").push_bind(id);
        q.build_query_as().fetch_optional(x).await
    })?;
    r.ok_or(StoreError::NotFound)
}

/// The drawn signature of an order (a PNG data URL), if any.
pub async fn signature(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Option<String>> {
    let r: Option<(Option<String>,)> = on!(c, x => sqlx::query_as(
        "SELECT signature FROM service_orders WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_optional(x).await)?;
    r.map(|r| r.0).ok_or(StoreError::NotFound)
}

/// Sort orders of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Newest created first.
    #[default]
    Newest,
    Oldest,
    /// Earliest due date first; orders without one last.
    Due,
    /// Earliest appointment first; orders without one last.
    Appointment,
    Number,
}

impl Sort {
    /// Parses the query-string name.
    pub fn parse(s: &str) -> Sort {
        match s {
            "oldest" => Sort::Oldest,
            "due" => Sort::Due,
            "appointment" => Sort::Appointment,
            "number" => Sort::Number,
            _ => Sort::Newest,
        }
    }
    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::Due => "due",
            Sort::Appointment => "appointment",
            Sort::Number => "number",
        }
    }
}

/// The statuses after which an order is no longer overdue or open.
pub const FINISHED: &str = "('completed', 'accepted', 'closed', 'cancelled')";

/// Filters of the order list; each one set narrows the list in SQL.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub statuses: Vec<String>,
    /// Only orders still to be done.
    pub open: bool,
    pub kind: Option<String>,
    pub engineer_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub plan_id: Option<i64>,
    /// Due before this local date (YYYY-MM-DD, today) and not completed, closed or cancelled.
    pub overdue_before: Option<String>,
    /// On or after: a due date from this date, or (no due date) reported from this instant.
    pub from: Option<(String, i64)>,
    /// Before: a due date before this date, or (no due date) reported before this instant.
    pub to: Option<(String, i64)>,
    /// Substring of the number, symptom, customer or serial.
    pub q: Option<String>,
    pub sort: Sort,
}

fn push_filter<DB: sqlx::Database>(q: &mut QueryBuilder<DB>, org: i64, f: &Filter)
where
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push(" WHERE o.org_id = ").push_bind(org);
    if !f.statuses.is_empty() {
        q.push(" AND o.status IN (");
        let mut s = q.separated(", ");
        for st in &f.statuses {
            s.push_bind(st.clone());
        }
        q.push(")");
    }
    if f.open {
        q.push(" AND o.status IN ('created', 'scheduled', 'dispatched', 'on_site')");
    }
    if let Some(v) = &f.kind {
        q.push(" AND o.kind = ").push_bind(v.clone());
    }
    if let Some(v) = f.engineer_id {
        q.push(" AND o.engineer_id = ").push_bind(v);
    }
    if let Some(v) = f.customer_id {
        q.push(" AND o.customer_id = ").push_bind(v);
    }
    if let Some(v) = f.equipment_id {
        q.push(" AND o.equipment_id = ").push_bind(v);
    }
    if let Some(v) = f.plan_id {
        q.push(" AND o.plan_id = ").push_bind(v);
    }
    if let Some(today) = &f.overdue_before {
        q.push(" AND o.due_date < ")
            .push_bind(today.clone())
            .push(" AND o.status NOT IN ")
            .push(FINISHED);
    }
    if let Some((d, t)) = &f.from {
        q.push(" AND (o.due_date >= ").push_bind(d.clone());
        q.push(" OR (o.due_date IS NULL AND o.reported_at >= ")
            .push_bind(*t)
            .push("))");
    }
    if let Some((d, t)) = &f.to {
        q.push(" AND (o.due_date < ").push_bind(d.clone());
        q.push(" OR (o.due_date IS NULL AND o.reported_at < ")
            .push_bind(*t)
            .push("))");
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", text.to_lowercase().replace(['\\', '%', '_'], ""));
        q.push(" AND (LOWER(o.number) LIKE ")
            .push_bind(like.clone());
        q.push(" OR LOWER(o.symptom) LIKE ").push_bind(like.clone());
        q.push(" OR EXISTS (SELECT 1 FROM customers cu WHERE cu.id = o.customer_id AND LOWER(cu.name) LIKE ")
            .push_bind(like.clone())
            .push(")");
        q.push(" OR EXISTS (SELECT 1 FROM equipment e WHERE e.id = o.equipment_id AND LOWER(e.serial) LIKE ")
            .push_bind(like)
            .push("))");
    }
}

fn push_order<DB: sqlx::Database>(q: &mut QueryBuilder<DB>, s: Sort) {
    q.push(match s {
        // By id (creation order): the primary key serves it without sorting every row.
        Sort::Newest => " ORDER BY o.id DESC",
        Sort::Oldest => " ORDER BY o.id",
        Sort::Due => " ORDER BY CASE WHEN o.due_date IS NULL THEN 1 ELSE 0 END, o.due_date, o.id",
        Sort::Appointment => {
            " ORDER BY CASE WHEN o.scheduled_start IS NULL THEN 1 ELSE 0 END, o.scheduled_start, o.id"
        }
        Sort::Number => " ORDER BY o.number",
    });
}

/// Rows counted at most (the pager shows "10000+" beyond).
pub const COUNT_CAP: i64 = 10_000;

/// A page of orders matching `f`.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    f: &Filter,
    p: PageReq,
) -> StoreResult<Page<OrderRow>> {
    let (total,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM service_orders o");
        push_filter(&mut q, org, f);
        q.push(" LIMIT ").push_bind(COUNT_CAP + 1).push(") n");
        q.build_query_as().fetch_one(x).await
    })?;
    let items: Vec<OrderRow> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(OrderRow::COLUMNS).push(" FROM service_orders o");
        push_filter(&mut q, org, f);
        push_order(&mut q, f.sort);
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

/// The repair order opened from `source`'s failed item `symptom`, if one was.
pub async fn repair_from(
    c: &mut Conn<'_>,
    org: i64,
    source: i64,
    symptom: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM service_orders WHERE org_id = $1 AND source_order_id = $2 AND kind = 'repair'
            AND symptom = $3 ORDER BY id LIMIT 1")
        .bind(org).bind(source).bind(symptom).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// Orders opened from `source` (repairs of its failed items).
pub async fn opened_from(c: &mut Conn<'_>, org: i64, source: i64) -> StoreResult<Vec<OrderRow>> {
    Ok(on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(OrderRow::COLUMNS).push(" FROM service_orders o WHERE o.org_id = ").push_bind(org)
            .push(" AND o.source_order_id = ").push_bind(source).push(" ORDER BY o.id");
        q.build_query_as().fetch_all(x).await
    })?)
}

/// Other repair orders of `equipment` completed from `from` up to and including `to`
/// (first-time fix).
pub async fn repairs_completed_between(
    c: &mut Conn<'_>,
    org: i64,
    equipment: i64,
    except: i64,
    from: i64,
    to: i64,
) -> StoreResult<i64> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM service_orders WHERE org_id = $1 AND equipment_id = $2 AND id <> $3
            AND kind = 'repair' AND completed_at >= $4 AND completed_at <= $5")
        .bind(org).bind(equipment).bind(except).bind(from).bind(to).fetch_one(x).await)?;
    Ok(n)
}

// ---------- events ----------

/// One entry of an order's history.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
}

type EventRow = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Appends a history entry.
#[allow(clippy::too_many_arguments)]
pub async fn add_event(
    c: &mut Conn<'_>,
    org: i64,
    order: i64,
    at: i64,
    user_id: Option<i64>,
    action: &str,
    from_status: Option<&str>,
    to_status: Option<&str>,
    note: Option<&str>,
) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO service_order_events (org_id, order_id, at, user_id, action, from_status, to_status, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(org).bind(order).bind(at).bind(user_id).bind(action).bind(from_status).bind(to_status)
        .bind(note).execute(x).await)?;
    Ok(())
}

/// The history of an order, oldest first.
pub async fn events(c: &mut Conn<'_>, org: i64, order: i64) -> StoreResult<Vec<Event>> {
    let rows: Vec<EventRow> = on!(c, x => sqlx::query_as(
        "SELECT ev.id, ev.at, ev.user_id, u.display_name, ev.action, ev.from_status, ev.to_status, ev.note
         FROM service_order_events ev LEFT JOIN users u ON u.id = ev.user_id
         WHERE ev.org_id = $1 AND ev.order_id = $2 ORDER BY ev.at, ev.id")
        .bind(org).bind(order).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| Event {
            id: r.0,
            at: r.1,
            user_id: r.2,
            user_name: r.3,
            action: r.4,
            from_status: r.5,
            to_status: r.6,
            note: r.7,
        })
        .collect())
}

/// Who last changed the order and when (for "changed by X at T").
pub async fn last_change(
    c: &mut Conn<'_>,
    org: i64,
    order: i64,
) -> StoreResult<Option<(String, i64)>> {
    let r: Option<(Option<String>, i64)> = on!(c, x => sqlx::query_as(
        "SELECT u.display_name, ev.at FROM service_order_events ev LEFT JOIN users u ON u.id = ev.user_id
         WHERE ev.org_id = $1 AND ev.order_id = $2 ORDER BY ev.at DESC, ev.id DESC LIMIT 1")
        .bind(org).bind(order).fetch_optional(x).await)?;
    Ok(r.and_then(|(n, at)| n.map(|n| (n, at))))
}

// ---------- checklist results ----------

/// The result recorded for one item of an order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ItemResult {
    pub item_id: i64,
    /// pass, fail or na.
    pub outcome: Option<String>,
    pub value: Option<f64>,
    pub note: Option<String>,
    pub attachment_id: Option<i64>,
    pub updated_at: i64,
}

/// Writes the result of an item (insert or replace: saving twice changes nothing).
pub async fn upsert_result(
    c: &mut Conn<'_>,
    org: i64,
    order: i64,
    r: &ItemResult,
) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO service_order_results (order_id, item_id, org_id, outcome, value, note, attachment_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (order_id, item_id) DO UPDATE SET outcome = excluded.outcome, value = excluded.value,
            note = excluded.note, attachment_id = excluded.attachment_id, updated_at = excluded.updated_at")
        .bind(order).bind(r.item_id).bind(org).bind(r.outcome.as_deref()).bind(r.value).bind(r.note.as_deref())
        .bind(r.attachment_id).bind(r.updated_at).execute(x).await)?;
    Ok(())
}

type ResultRow = (
    i64,
    Option<String>,
    Option<f64>,
    Option<String>,
    Option<i64>,
    i64,
);

/// The results of an order.
pub async fn results(c: &mut Conn<'_>, org: i64, order: i64) -> StoreResult<Vec<ItemResult>> {
    let rows: Vec<ResultRow> = on!(c, x => sqlx::query_as(
        "SELECT item_id, outcome, value, note, attachment_id, updated_at FROM service_order_results
         WHERE org_id = $1 AND order_id = $2 ORDER BY item_id")
        .bind(org).bind(order).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| ItemResult {
            item_id: r.0,
            outcome: r.1,
            value: r.2,
            note: r.3,
            attachment_id: r.4,
            updated_at: r.5,
        })
        .collect())
}

// ---------- parts used ----------

/// A part used on an order.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PartLine {
    pub id: i64,
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub location_id: i64,
    pub location_name: String,
    pub qty: i64,
    pub unit_cost_fen: i64,
    pub created_at: i64,
}

/// Records a part line unless this order already has one with `client_key` (a re-sent
/// form); true when it was inserted.
#[allow(clippy::too_many_arguments)]
pub async fn add_part_line(
    c: &mut Conn<'_>,
    org: i64,
    order: i64,
    part_id: i64,
    location_id: i64,
    qty: i64,
    unit_cost_fen: i64,
    client_key: &str,
    now: i64,
) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "INSERT INTO service_order_parts (org_id, order_id, part_id, location_id, qty, unit_cost_fen, client_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (order_id, client_key) DO NOTHING")
        .bind(org).bind(order).bind(part_id).bind(location_id).bind(qty).bind(unit_cost_fen).bind(client_key)
        .bind(now).execute(x).await)?;
    Ok(n == 1)
}

type PartRow = (i64, i64, String, String, String, i64, String, i64, i64, i64);

/// The parts used on an order, in the order they were added.
pub async fn part_lines(c: &mut Conn<'_>, org: i64, order: i64) -> StoreResult<Vec<PartLine>> {
    let rows: Vec<PartRow> = on!(c, x => sqlx::query_as(
        "SELECT l.id, l.part_id, p.code, p.name, p.unit, l.location_id, s.name, l.qty, l.unit_cost_fen, l.created_at
         FROM service_order_parts l JOIN parts p ON p.id = l.part_id JOIN stock_locations s ON s.id = l.location_id
         WHERE l.org_id = $1 AND l.order_id = $2 ORDER BY l.id")
        .bind(org).bind(order).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| PartLine {
            id: r.0,
            part_id: r.1,
            part_code: r.2,
            part_name: r.3,
            unit: r.4,
            location_id: r.5,
            location_name: r.6,
            qty: r.7,
            unit_cost_fen: r.8,
            created_at: r.9,
        })
        .collect())
}

/// The cost of the parts used on an order, in fen.
pub async fn parts_cost(c: &mut Conn<'_>, org: i64, order: i64) -> StoreResult<i64> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(qty * unit_cost_fen), 0) AS BIGINT) FROM service_order_parts
         WHERE org_id = $1 AND order_id = $2")
        .bind(org).bind(order).fetch_one(x).await)?;
    Ok(n)
}

/// An active part's unit cost (fen), if the part exists in the organization and is active.
pub async fn part_cost(c: &mut Conn<'_>, org: i64, part: i64) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT unit_cost_fen FROM parts WHERE org_id = $1 AND id = $2 AND active = TRUE")
        .bind(org).bind(part).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// Parts on hand, per active location: (part id, location id, "code name", location name,
/// quantity), for the "part used" picker.
pub async fn stock_choices(
    c: &mut Conn<'_>,
    org: i64,
) -> StoreResult<Vec<(i64, i64, String, String, i64)>> {
    let rows: Vec<(i64, i64, String, String, String, i64)> = on!(c, x => sqlx::query_as(
        "SELECT p.id, l.id, p.code, p.name, l.name, s.qty FROM part_stock s
         JOIN parts p ON p.id = s.part_id JOIN stock_locations l ON l.id = s.location_id
         WHERE s.org_id = $1 AND s.qty > 0 AND p.active = TRUE AND l.active = TRUE
         ORDER BY p.code, l.name LIMIT 500")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.0, r.1, format!("{} {}", r.2, r.3), r.4, r.5))
        .collect())
}

/// True when `location` is a stock location of the organization.
pub async fn location_exists(c: &mut Conn<'_>, org: i64, location: i64) -> StoreResult<bool> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM stock_locations WHERE org_id = $1 AND id = $2")
        .bind(org).bind(location).fetch_optional(x).await)?;
    Ok(r.is_some())
}

// ---------- people ----------

/// Active members who can work orders (admin, manager, engineer, staff), engineers first:
/// (user id, display name, role).
pub async fn engineer_choices(
    c: &mut Conn<'_>,
    org: i64,
) -> StoreResult<Vec<(i64, String, String)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT u.id, u.display_name, m.role FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND u.active = TRUE AND m.role IN ('engineer', 'manager', 'admin', 'staff')
         ORDER BY CASE WHEN m.role = 'engineer' THEN 0 ELSE 1 END, u.display_name LIMIT 500")
        .bind(org).fetch_all(x).await)?)
}

/// The role of a member of the organization, if the user is one.
pub async fn member_role(c: &mut Conn<'_>, org: i64, user: i64) -> StoreResult<Option<String>> {
    let r: Option<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.user_id = $2 AND u.active = TRUE")
        .bind(org).bind(user).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}
