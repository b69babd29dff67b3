//! Maintenance figures (DOMAIN.md §5 KPIs), aggregated in SQL: every function returns groups
//! made by the database (`GROUP BY`, conditional `COUNT`), never order rows. One filter
//! narrows them all: the organization, and optionally a product, an engineer and a customer
//! (the order's own `product_id`, `engineer_id`, `customer_id`).
//!
//! Indexes (see each function): PM compliance reads [`PM_INDEX`], the repair figures
//! [`REPAIR_INDEX`] (both partial and covering: index-only range scans), the repeat-repair
//! check [`REPAIR_UNIT_INDEX`] (or `service_orders_org_equipment` without it), the overdue
//! backlog `service_orders_org_status`.
//! The SQL names the kind as a literal (`o.kind = 'maintenance'`): a bound parameter would
//! not let the database prove that a partial index applies.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::on;

/// Which service orders the figures count, besides each figure's own interval.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub org: i64,
    pub product_id: Option<i64>,
    pub engineer_id: Option<i64>,
    pub customer_id: Option<i64>,
}

/// The index PM compliance reads (in migration 0004): maintenance orders by due
/// date, with everything the figures need, the engineer right after the due date so that
/// grouping by (due date, engineer) follows the index without a sort.
pub const PM_INDEX: &str = "CREATE INDEX IF NOT EXISTS service_orders_org_pm ON service_orders
    (org_id, kind, due_date, engineer_id, status, completed_at, product_id, customer_id)
    WHERE kind = 'maintenance'";

/// The index the repair figures read (in migration 0004): repair orders by report
/// time, with everything the figures need.
pub const REPAIR_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS service_orders_org_repairs ON service_orders
    (org_id, kind, reported_at, status, equipment_id, product_id, engineer_id, customer_id,
     arrived_at, completed_at, first_time_fix)
    WHERE kind = 'repair'";

/// The index the repeat-repair check probes (in migration 0004): repair orders of
/// a unit by completion time. `service_orders_org_equipment` answers the same probe, but
/// holds every kind: most probes find the unit's maintenance orders there and read the
/// table to see their kind (measured at 1 M orders: 100 ms → 56 ms for 96 k repairs).
pub const REPAIR_UNIT_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS service_orders_org_unit_repairs ON service_orders
    (org_id, equipment_id, completed_at, kind)
    WHERE kind = 'repair'";

fn push_filter<DB: sqlx::Database>(q: &mut QueryBuilder<DB>, f: &Filter)
where
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    if let Some(v) = f.product_id {
        q.push(" AND o.product_id = ").push_bind(v);
    }
    if let Some(v) = f.engineer_id {
        q.push(" AND o.engineer_id = ").push_bind(v);
    }
    if let Some(v) = f.customer_id {
        q.push(" AND o.customer_id = ").push_bind(v);
    }
}

/// SQL for the Unix time of UTC midnight at the start of `o.due_date` (a YYYY-MM-DD text).
/// The one place the two engines need different SQL: they share no date-to-epoch function,
/// and parsing the text with portable arithmetic costs several times more per row on
/// SQLite (measured). On PostgreSQL a date difference is an integer count of days, cheaper
/// than `EXTRACT(EPOCH …)`, which computes in `numeric`.
fn due_epoch(c: &Conn<'_>) -> &'static str {
    match c {
        Conn::Sqlite(_) => "unixepoch(o.due_date)",
        Conn::Postgres(_) => "CAST(CAST(o.due_date AS DATE) - DATE '1970-01-01' AS BIGINT) * 86400",
    }
}

/// Maintenance orders due in an interval, per due date: (due date, due, done on time).
///
/// Due: kind maintenance, not cancelled, `from <= due_date <= to` (local dates). On time:
/// completed before the end of the due day in local time, i.e. `completed_at <
/// utc_midnight(due_date) + end_shift` with `end_shift` = 86,400 − the organization's UTC
/// offset in seconds (28,800 for +08:00 gives 57,600). Grouping by the due date follows
/// [`PM_INDEX`]: an index-only range scan without a sort; the caller sums the days (at most
/// one row per day) into months and totals.
pub async fn pm_by_day(
    c: &mut Conn<'_>,
    f: &Filter,
    from: &str,
    to: &str,
    end_shift: i64,
) -> StoreResult<Vec<(String, i64, i64)>> {
    let due = due_epoch(c);
    Ok(on!(c, x => {
        let mut q = QueryBuilder::new("SELECT o.due_date, COUNT(*), COUNT(CASE WHEN o.completed_at < ");
        q.push(due).push(" + ").push_bind(end_shift)
            .push(" THEN 1 END) FROM service_orders o WHERE o.org_id = ").push_bind(f.org)
            .push(" AND o.kind = 'maintenance' AND o.due_date >= ").push_bind(from.to_string())
            .push(" AND o.due_date <= ").push_bind(to.to_string())
            .push(" AND o.status <> 'cancelled'");
        push_filter(&mut q, f);
        q.push(" GROUP BY o.due_date ORDER BY o.due_date");
        q.build_query_as().fetch_all(x).await
    })?)
}

/// The dimension of a PM-compliance breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dim {
    #[default]
    Engineer,
    Product,
    Customer,
}

impl Dim {
    fn column(self) -> &'static str {
        match self {
            Dim::Engineer => "o.engineer_id",
            Dim::Product => "o.product_id",
            Dim::Customer => "o.customer_id",
        }
    }
}

/// One group of a breakdown: the id (None: not set), its display name and, for a product,
/// its part number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub code: Option<String>,
    pub due: i64,
    pub on_time: i64,
}

type GroupRow = (Option<i64>, Option<String>, Option<String>, i64, i64);

/// PM compliance per engineer, product or customer (same due / on-time rules as
/// [`pm_by_day`]): the `limit` groups with the most orders due (ties by id, "not set"
/// last), names joined after grouping. One pass over the index-only range of [`PM_INDEX`].
/// SQLite groups by sorting: there engineers are counted per (due date, engineer) first,
/// which follows the index, so only those groups are sorted (at most days × engineers);
/// products and customers sort the rows. PostgreSQL hashes the groups in one step.
pub async fn pm_by(
    c: &mut Conn<'_>,
    f: &Filter,
    dim: Dim,
    from: &str,
    to: &str,
    end_shift: i64,
    limit: i64,
) -> StoreResult<Vec<Group>> {
    let due = due_epoch(c);
    let sqlite = matches!(c, Conn::Sqlite(_));
    let rows: Vec<GroupRow> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT g.id, ");
        q.push(match dim {
            Dim::Engineer => "n.display_name, NULL",
            Dim::Product => "n.name, n.part_no",
            Dim::Customer => "n.name, NULL",
        });
        let two_level = sqlite && dim == Dim::Engineer;
        let plus_zero = if sqlite && !two_level { " + 0" } else { "" };
        q.push(", g.due, g.on_time FROM (SELECT ");
        if two_level {
            q.push("d.id AS id, CAST(SUM(d.due) AS BIGINT) AS due, CAST(SUM(d.on_time) AS BIGINT) AS on_time FROM (SELECT o.due_date, ");
        }
        q.push(dim.column())
            .push(plus_zero)
            .push(" AS id, COUNT(*) AS due, COUNT(CASE WHEN o.completed_at < ").push(due)
            .push(" + ").push_bind(end_shift)
            .push(" THEN 1 END) AS on_time FROM service_orders o WHERE o.org_id = ").push_bind(f.org)
            .push(" AND o.kind = 'maintenance' AND o.due_date >= ").push_bind(from.to_string())
            .push(" AND o.due_date <= ").push_bind(to.to_string())
            .push(" AND o.status <> 'cancelled'");
        push_filter(&mut q, f);
        if two_level {
            q.push(" GROUP BY o.due_date, ").push(dim.column()).push(") d GROUP BY d.id");
        } else {
            // `+ 0`: grouping by an expression keeps SQLite from walking
            // service_orders_org_customer in customer order to save the sort (a table
            // lookup for every order of the organization, 2 s at 1 M orders).
            q.push(" GROUP BY ").push(dim.column()).push(plus_zero);
        }
        q.push(") g LEFT JOIN ");
        match dim {
            Dim::Engineer => q.push("users n ON n.id = g.id"),
            Dim::Product => q.push("products n ON n.id = g.id AND n.org_id = ").push_bind(f.org),
            Dim::Customer => q.push("customers n ON n.id = g.id AND n.org_id = ").push_bind(f.org),
        };
        q.push(" ORDER BY g.due DESC, CASE WHEN g.id IS NULL THEN 1 ELSE 0 END, g.id LIMIT ")
            .push_bind(limit);
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, name, code, due, on_time)| Group {
            id,
            name,
            code,
            due,
            on_time,
        })
        .collect())
}

/// Open maintenance orders past their due date, by age: (1-7 days, 8-30 days, over 30
/// days). `today` is the local date; an order due yesterday is 1 day overdue; `week` and
/// `month` are the local dates 7 and 30 days before today. Open: created, scheduled,
/// dispatched or on site. Reads `service_orders_org_status` (org_id, status, due_date): only
/// the open orders past due, whatever the number of orders done before. `kind || ''` keeps
/// [`PM_INDEX`] out: it holds every maintenance order due before today, done or not.
pub async fn overdue(
    c: &mut Conn<'_>,
    f: &Filter,
    today: &str,
    week: &str,
    month: &str,
) -> StoreResult<(i64, i64, i64)> {
    Ok(on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(CASE WHEN o.due_date >= ");
        q.push_bind(week.to_string())
            .push(" THEN 1 END), COUNT(CASE WHEN o.due_date < ").push_bind(week.to_string())
            .push(" AND o.due_date >= ").push_bind(month.to_string())
            .push(" THEN 1 END), COUNT(CASE WHEN o.due_date < ").push_bind(month.to_string())
            .push(" THEN 1 END) FROM service_orders o WHERE o.org_id = ").push_bind(f.org)
            .push(" AND o.status IN ('created', 'scheduled', 'dispatched', 'on_site') AND o.due_date < ")
            .push_bind(today.to_string())
            .push(" AND o.kind || '' = 'maintenance'");
        push_filter(&mut q, f);
        q.build_query_as().fetch_one(x).await
    })?)
}

/// Sums over a set of repair orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepairSums {
    /// Repair orders counted.
    pub repairs: i64,
    /// Σ (last report − first report) over units with at least two repairs, in seconds.
    pub span_secs: i64,
    /// Σ (repairs − 1) over the same units: the intervals between failures observed.
    pub gaps: i64,
    /// Σ (completed_at − arrived_at) of the repairs with both times, in seconds.
    pub repair_secs: i64,
    /// Repairs with both times.
    pub timed: i64,
    /// Completed repairs with first_time_fix = TRUE, and with first_time_fix set.
    pub first_time_fix: i64,
    pub fix_judged: i64,
    /// Repairs whose unit had another repair completed in the 30 days before this one was
    /// reported.
    pub repeats: i64,
}

/// A group of repair sums: a product (id, part number, name) or a unit (id, serial, and its
/// product's part number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairGroup {
    pub id: Option<i64>,
    pub code: Option<String>,
    pub name: Option<String>,
    pub sums: RepairSums,
}

/// The repair figures: totals, the `products` products and the `units` units with the most
/// repairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repairs {
    pub total: RepairSums,
    pub products: Vec<RepairGroup>,
    pub units: Vec<RepairGroup>,
}

type RepairRow = (
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// Seconds in the repeat-repair window (30 days).
pub const REPEAT_WINDOW_SECS: i64 = 30 * 86_400;

/// Repair figures of the repair orders reported in `[start, end)` (Unix seconds), not
/// cancelled. One statement: the repairs are grouped per unit (and product, so that repairs
/// of no known unit still count for their product), then the unit groups are summed per
/// product and overall, and the units with the most repairs are listed.
///
/// - MTBF: per unit with n ≥ 2 repairs, (last − first report) / (n − 1); per product and
///   overall Σ spans / Σ (n − 1) (the mean of every interval between two consecutive
///   failures of a unit observed in the range).
/// - MTTR: Σ (completed_at − arrived_at) / the repairs with both times.
/// - Repeat: another repair order of the unit completed in the 30 days before this one was
///   reported: an `EXISTS` per repair, one index range bounded to that window on
///   [`REPAIR_UNIT_INDEX`] (or `service_orders_org_equipment`).
///
/// Reads [`REPAIR_INDEX`]: an index-only range scan, then a sort of the repairs by unit.
pub async fn repairs(
    c: &mut Conn<'_>,
    f: &Filter,
    start: i64,
    end: i64,
    products: i64,
    units: i64,
) -> StoreResult<Repairs> {
    let rows: Vec<RepairRow> = on!(c, x => {
        let mut q = QueryBuilder::new(
            "WITH u AS MATERIALIZED (SELECT o.equipment_id AS eq, o.product_id AS pr, COUNT(*) AS n,
                CASE WHEN o.equipment_id IS NOT NULL AND COUNT(*) > 1 THEN MAX(o.reported_at) - MIN(o.reported_at) ELSE 0 END AS span,
                CASE WHEN o.equipment_id IS NOT NULL THEN COUNT(*) - 1 ELSE 0 END AS gaps,
                CAST(COALESCE(SUM(o.completed_at - o.arrived_at), 0) AS BIGINT) AS rs,
                COUNT(o.completed_at - o.arrived_at) AS rn,
                COUNT(CASE WHEN o.completed_at IS NOT NULL AND o.first_time_fix THEN 1 END) AS fy,
                COUNT(CASE WHEN o.completed_at IS NOT NULL THEN o.first_time_fix END) AS fn,
                COUNT(CASE WHEN o.equipment_id IS NOT NULL AND EXISTS (SELECT 1 FROM service_orders p
                    WHERE p.org_id = o.org_id AND p.equipment_id = o.equipment_id
                    AND p.completed_at >= o.reported_at - ",
        );
        q.push_bind(REPEAT_WINDOW_SECS)
            .push(" AND p.completed_at < o.reported_at AND p.kind = 'repair' AND p.id <> o.id) THEN 1 END) AS rp
                FROM service_orders o WHERE o.org_id = ")
            .push_bind(f.org)
            .push(" AND o.kind = 'repair' AND o.reported_at >= ").push_bind(start)
            .push(" AND o.reported_at < ").push_bind(end)
            .push(" AND o.status <> 'cancelled'");
        push_filter(&mut q, f);
        q.push(
            " GROUP BY o.equipment_id, o.product_id)
            SELECT 't', NULL, NULL, NULL, CAST(COALESCE(SUM(n), 0) AS BIGINT), CAST(COALESCE(SUM(span), 0) AS BIGINT),
                CAST(COALESCE(SUM(gaps), 0) AS BIGINT), CAST(COALESCE(SUM(rs), 0) AS BIGINT), CAST(COALESCE(SUM(rn), 0) AS BIGINT),
                CAST(COALESCE(SUM(fy), 0) AS BIGINT), CAST(COALESCE(SUM(fn), 0) AS BIGINT), CAST(COALESCE(SUM(rp), 0) AS BIGINT) FROM u
            UNION ALL
            SELECT 'p', g.pr, pp.part_no, pp.name, g.n, g.span, g.gaps, g.rs, g.rn, g.fy, g.fn, g.rp FROM (
                SELECT pr, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(span) AS BIGINT) AS span, CAST(SUM(gaps) AS BIGINT) AS gaps,
                    CAST(SUM(rs) AS BIGINT) AS rs, CAST(SUM(rn) AS BIGINT) AS rn, CAST(SUM(fy) AS BIGINT) AS fy,
                    CAST(SUM(fn) AS BIGINT) AS fn, CAST(SUM(rp) AS BIGINT) AS rp
                FROM u GROUP BY pr ORDER BY 2 DESC, CASE WHEN pr IS NULL THEN 1 ELSE 0 END, pr LIMIT ",
        )
        .push_bind(products)
        .push(") g LEFT JOIN products pp ON pp.id = g.pr AND pp.org_id = ")
        .push_bind(f.org)
        .push(
            " UNION ALL
            SELECT 'u', g.eq, e.serial, pp.part_no, g.n, g.span, g.gaps, g.rs, g.rn, g.fy, g.fn, g.rp FROM (
                SELECT eq, pr, n, span, gaps, rs, rn, fy, fn, rp FROM u WHERE eq IS NOT NULL
                ORDER BY n DESC, eq LIMIT ",
        )
        .push_bind(units)
        .push(") g LEFT JOIN equipment e ON e.id = g.eq AND e.org_id = ")
        .push_bind(f.org)
        .push(" LEFT JOIN products pp ON pp.id = g.pr AND pp.org_id = ")
        .push_bind(f.org);
        q.build_query_as().fetch_all(x).await
    })?;
    let mut out = Repairs::default();
    for (tag, id, code, name, n, span, gaps, rs, rn, fy, fnn, rp) in rows {
        let sums = RepairSums {
            repairs: n,
            span_secs: span,
            gaps,
            repair_secs: rs,
            timed: rn,
            first_time_fix: fy,
            fix_judged: fnn,
            repeats: rp,
        };
        match tag.as_str() {
            "t" => out.total = sums,
            "p" => out.products.push(RepairGroup {
                id,
                code,
                name,
                sums,
            }),
            _ => out.units.push(RepairGroup {
                id,
                code,
                name,
                sums,
            }),
        }
    }
    Ok(out)
}

/// Products of the organization for the filter: (id, part number, name), by part number.
pub async fn product_choices(
    c: &mut Conn<'_>,
    org: i64,
    limit: i64,
) -> StoreResult<Vec<(i64, String, String)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT id, part_no, name FROM products WHERE org_id = $1 ORDER BY part_no, id LIMIT $2")
        .bind(org).bind(limit).fetch_all(x).await)?)
}

/// The name of a customer of the organization (the filter shows it).
pub async fn customer_name(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Option<String>> {
    let r: Option<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT name FROM customers WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}
