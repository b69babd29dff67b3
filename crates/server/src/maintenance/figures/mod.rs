//! Maintenance figures (DOMAIN.md §5 KPIs): PM compliance (maintenance orders done on time /
//! due) by month and by engineer, product or customer; the overdue backlog by age; MTBF and
//! MTTR per product and per unit; the first-time-fix rate; repeat repairs within 30 days.
//! Every figure is aggregated by the database (`store::maintenance::figures`); this module
//! validates the filter, runs the queries on three connections at once, and serves the page
//! `/maintenance/figures` (server-side SVG charts, `pages`) and the JSON
//! `/api/v1/maintenance/figures`.
//!
//! Maintenance has no department scoping: every role with `ViewService` (all of them, staff
//! and auditors included) sees the figures of the whole organization.

pub mod chart;
pub mod pages;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::FieldErrors;
use domain::auth::Permission;
use domain::calendar::WorkCalendar;
use serde::{Deserialize, Serialize};
use store::maintenance::figures::{self as repo, Dim, Filter, RepairSums};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// Routes of the figures page and its API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/maintenance/figures", get(pages::page))
        .route("/api/v1/maintenance/figures", get(api_figures))
}

/// OpenAPI of the figures.
#[derive(OpenApi)]
#[openapi(
    paths(api_figures),
    components(schemas(
        MaintFigures,
        PmCompliance,
        PmMonth,
        PmGroup,
        PmBreakdown,
        OverdueBacklog,
        OverdueAge,
        MaintRate,
        RepairFigures,
        ProductRepairs,
        UnitRepairs
    ))
)]
pub struct Api;

/// Longest interval, in years (the monthly chart stays readable).
const MAX_YEARS: i32 = 20;
/// Groups of a PM-compliance breakdown listed (the rest are summed).
pub const GROUPS: i64 = 50;
/// Products listed in the repair figures.
pub const PRODUCTS: i64 = 30;
/// Units listed in the repair figures (those with the most repairs).
pub const UNITS: i64 = 20;

/// The dimension of the PM-compliance breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum By {
    #[default]
    Engineer,
    Product,
    Customer,
}

impl By {
    /// Every dimension, in display order.
    pub const ALL: [By; 3] = [By::Engineer, By::Product, By::Customer];

    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            By::Engineer => "engineer",
            By::Product => "product",
            By::Customer => "customer",
        }
    }

    /// Parses the query-string name; anything else is the default (engineer).
    pub fn parse(s: Option<&str>) -> By {
        By::ALL
            .into_iter()
            .find(|d| Some(d.as_str()) == s)
            .unwrap_or_default()
    }

    fn dim(self) -> Dim {
        match self {
            By::Engineer => Dim::Engineer,
            By::Product => Dim::Product,
            By::Customer => Dim::Customer,
        }
    }
}

/// What the figures are asked for, as typed.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// First local day, YYYY-MM-DD.
    pub from: Option<String>,
    /// Last local day, YYYY-MM-DD, inclusive.
    pub to: Option<String>,
    pub product_id: Option<i64>,
    pub engineer_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub by: By,
}

/// Orders done on time of those due.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct PmCompliance {
    /// Maintenance orders due (not cancelled).
    pub due: i64,
    /// Of those, completed by the end of the due day (local time).
    pub on_time: i64,
    /// on_time / due in % (one decimal); null when nothing is due.
    pub percent: Option<f64>,
}

/// PM compliance of one month (by due date).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PmMonth {
    /// YYYY-MM.
    pub month: String,
    pub due: i64,
    pub on_time: i64,
    pub percent: Option<f64>,
}

/// PM compliance of one engineer, product or customer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PmGroup {
    /// The engineer (user), product or customer id; null: not set on the orders.
    pub id: Option<i64>,
    /// Display name (engineer), product name or customer name.
    pub name: Option<String>,
    /// The part number (products only).
    pub part_no: Option<String>,
    pub due: i64,
    pub on_time: i64,
    pub percent: Option<f64>,
}

/// PM compliance by one dimension.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PmBreakdown {
    /// engineer, product or customer.
    pub dimension: String,
    /// The 50 groups with the most orders due.
    pub groups: Vec<PmGroup>,
    /// Everything beyond the groups listed.
    pub rest: PmCompliance,
}

/// Overdue maintenance orders of one age.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverdueAge {
    /// 1_7, 8_30 or over_30 (days past the due date).
    pub bucket: String,
    pub n: i64,
}

/// Open maintenance orders past their due date, as of today.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverdueBacklog {
    /// The local date the ages are counted from.
    pub as_of: String,
    pub total: i64,
    pub buckets: Vec<OverdueAge>,
}

/// count / of, in % (one decimal).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct MaintRate {
    pub count: i64,
    pub of: i64,
    pub percent: Option<f64>,
}

/// Repair figures of a set of repair orders.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct RepairFigures {
    /// Repair orders reported in the interval (not cancelled).
    pub repairs: i64,
    /// Mean time to repair: mean of (completed − arrived on site) in hours (one decimal);
    /// null when no repair has both times.
    pub mttr_hours: Option<f64>,
    /// Repairs with both times (the MTTR's count).
    pub timed: i64,
    /// Mean time between failures in days (one decimal): Σ over units with n ≥ 2 repairs
    /// of (last report − first report) / Σ (n − 1); null when no unit failed twice.
    pub mtbf_days: Option<f64>,
    /// Intervals between failures observed (the MTBF's count).
    pub intervals: i64,
    /// Completed repairs fixed the first time / completed repairs judged.
    pub first_time_fix: MaintRate,
    /// Repairs whose unit had another repair completed in the 30 days before this one was
    /// reported / repairs.
    pub repeat_30d: MaintRate,
}

/// Repair figures of one product.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductRepairs {
    /// Null: repairs with no product recorded.
    pub product_id: Option<i64>,
    pub part_no: Option<String>,
    pub name: Option<String>,
    pub figures: RepairFigures,
}

/// Repair figures of one unit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitRepairs {
    pub equipment_id: i64,
    pub serial: Option<String>,
    pub part_no: Option<String>,
    pub figures: RepairFigures,
}

/// Every maintenance figure of an interval.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaintFigures {
    /// First local day counted.
    pub from: String,
    /// Last local day counted (inclusive).
    pub to: String,
    pub product_id: Option<i64>,
    pub engineer_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// PM compliance of the maintenance orders due in the interval.
    pub pm: PmCompliance,
    /// Every month of the interval (YYYY-MM of the due date), zeros included.
    pub pm_by_month: Vec<PmMonth>,
    /// PM compliance by engineer, product or customer (`by`).
    pub pm_by: PmBreakdown,
    /// Overdue backlog today (the interval does not apply; the other filters do).
    pub overdue: OverdueBacklog,
    /// Repairs reported in the interval.
    pub repairs: RepairFigures,
    /// The 30 products with the most repairs.
    pub repairs_by_product: Vec<ProductRepairs>,
    /// The 20 units with the most repairs.
    pub repairs_by_unit: Vec<UnitRepairs>,
}

fn round_to(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// n / of in %, one decimal; None when `of` is 0.
fn percent(n: i64, of: i64) -> Option<f64> {
    (of > 0).then(|| round_to(n as f64 * 100.0 / of as f64, 1))
}

fn rate(count: i64, of: i64) -> MaintRate {
    MaintRate {
        count,
        of,
        percent: percent(count, of),
    }
}

fn compliance(due: i64, on_time: i64) -> PmCompliance {
    PmCompliance {
        due,
        on_time,
        percent: percent(on_time, due),
    }
}

/// The averages of a group of repair sums (computed here from sums and counts: the same
/// arithmetic on both databases).
pub fn reliability(s: &RepairSums) -> RepairFigures {
    RepairFigures {
        repairs: s.repairs,
        mttr_hours: (s.timed > 0)
            .then(|| round_to(s.repair_secs as f64 / s.timed as f64 / 3600.0, 1)),
        timed: s.timed,
        mtbf_days: (s.gaps > 0).then(|| round_to(s.span_secs as f64 / s.gaps as f64 / 86_400.0, 1)),
        intervals: s.gaps,
        first_time_fix: rate(s.first_time_fix, s.fix_judged),
        repeat_30d: rate(s.repeats, s.repairs),
    }
}

/// The interval, checked: its local days, their instants, and its months.
#[derive(Debug, Clone)]
pub struct Interval {
    pub from: String,
    pub to: String,
    /// [start, end) in Unix seconds.
    pub start: i64,
    pub end: i64,
    /// YYYY-MM of every month touched.
    pub months: Vec<String>,
}

fn ym(date: &str) -> (i32, u32) {
    (
        date.get(0..4).and_then(|s| s.parse().ok()).unwrap_or(1970),
        date.get(5..7).and_then(|s| s.parse().ok()).unwrap_or(1),
    )
}

/// The first day of the month eleven months before `today`: the default shows twelve months.
pub fn default_from(today: &str) -> String {
    let (y, m) = ym(today);
    let months = y * 12 + m as i32 - 1 - 11;
    format!(
        "{:04}-{:02}-01",
        months.div_euclid(12),
        months.rem_euclid(12) + 1
    )
}

/// Checks the typed interval; defaults: twelve months up to `today`.
pub fn interval(cal: &WorkCalendar, today: &str, r: &Request) -> Result<Interval, FieldErrors> {
    let mut errs = FieldErrors::default();
    let pick = |v: &Option<String>, field: &str, errs: &mut FieldErrors, default: String| match v
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Some(default),
        Some(d) if domain::org::valid_date(d) => Some(d.to_string()),
        Some(_) => {
            errs.add(field, "date", None);
            None
        }
    };
    let from = pick(&r.from, "from", &mut errs, default_from(today));
    let to = pick(&r.to, "to", &mut errs, today.to_string());
    let (Some(from), Some(to)) = (from, to) else {
        return Err(errs);
    };
    if to < from {
        errs.add("to", "figures_range_order", None);
        return Err(errs);
    }
    let (fy, fm) = ym(&from);
    let (ty, tm) = ym(&to);
    if (ty - fy) * 12 + tm as i32 - fm as i32 >= MAX_YEARS * 12 {
        errs.add("from", "figures_range_long", Some(MAX_YEARS.to_string()));
        return Err(errs);
    }
    let day = |d: &str| cal.local_instant(d, 0).unwrap_or(0);
    let mut months = Vec::new();
    let (mut y, mut m) = (fy, fm);
    loop {
        months.push(format!("{y:04}-{m:02}"));
        if (y, m) == (ty, tm) {
            break;
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    Ok(Interval {
        start: day(&from),
        end: day(&to) + 86_400,
        from,
        to,
        months,
    })
}

/// The figures of the whole organization matching `r`; 422 for a bad interval.
pub async fn figures(st: &AppState, ctx: &Ctx, r: &Request) -> AppResult<MaintFigures> {
    let org = ctx.require(Permission::ViewService)?.id;
    compute(st, org, st.now(), r).await
}

/// The figures of organization `org` at instant `now` (no permission check: callers check).
pub async fn compute(st: &AppState, org: i64, now: i64, r: &Request) -> AppResult<MaintFigures> {
    let cal = {
        let mut h = st.db.acquire().await?;
        crate::complaints::sla::calendar(&mut h.c(), org).await?
    };
    let today = cal.local_date(now);
    let iv = interval(&cal, &today, r).map_err(AppError::Invalid)?;
    let f = Filter {
        org,
        product_id: r.product_id,
        engineer_id: r.engineer_id,
        customer_id: r.customer_id,
    };
    // A due day ends at local midnight after it: UTC midnight of the date + this shift
    // (86,400 − the UTC offset; 57,600 at +08:00).
    let end_shift = cal.local_instant("1970-01-02", 0).unwrap_or(57_600);
    let midnight = cal.local_instant(&today, 0).unwrap_or(now);
    let week = cal.local_date(midnight - 7 * 86_400);
    let month = cal.local_date(midnight - 30 * 86_400);
    // Three connections at once: the two big scans (maintenance, repairs) and the
    // breakdown run side by side.
    let pm = async {
        let mut h = st.db.acquire().await?;
        let days = repo::pm_by_day(&mut h.c(), &f, &iv.from, &iv.to, end_shift).await?;
        let backlog = repo::overdue(&mut h.c(), &f, &today, &week, &month).await?;
        Ok::<_, AppError>((days, backlog))
    };
    let by = async {
        let mut h = st.db.acquire().await?;
        Ok::<_, AppError>(
            repo::pm_by(
                &mut h.c(),
                &f,
                r.by.dim(),
                &iv.from,
                &iv.to,
                end_shift,
                GROUPS,
            )
            .await?,
        )
    };
    let rep = async {
        let mut h = st.db.acquire().await?;
        Ok::<_, AppError>(repo::repairs(&mut h.c(), &f, iv.start, iv.end, PRODUCTS, UNITS).await?)
    };
    let ((days, backlog), groups, rep) = tokio::try_join!(pm, by, rep)?;
    Ok(assemble(r, &iv, &today, days, backlog, groups, rep))
}

fn assemble(
    r: &Request,
    iv: &Interval,
    today: &str,
    days: Vec<(String, i64, i64)>,
    backlog: (i64, i64, i64),
    groups: Vec<repo::Group>,
    rep: repo::Repairs,
) -> MaintFigures {
    // Days into months: a loop over at most one row per day of the interval.
    let mut months: Vec<(String, i64, i64)> = iv.months.iter().map(|m| (m.clone(), 0, 0)).collect();
    let (mut due, mut on_time) = (0, 0);
    for (day, d, o) in days {
        due += d;
        on_time += o;
        if let Some(m) = months.iter_mut().find(|m| day.starts_with(m.0.as_str())) {
            m.1 += d;
            m.2 += o;
        }
    }
    let (listed_due, listed_on_time) = groups
        .iter()
        .fold((0, 0), |(a, b), g| (a + g.due, b + g.on_time));
    MaintFigures {
        from: iv.from.clone(),
        to: iv.to.clone(),
        product_id: r.product_id,
        engineer_id: r.engineer_id,
        customer_id: r.customer_id,
        pm: compliance(due, on_time),
        pm_by_month: months
            .into_iter()
            .map(|(month, d, o)| PmMonth {
                month,
                due: d,
                on_time: o,
                percent: percent(o, d),
            })
            .collect(),
        pm_by: PmBreakdown {
            dimension: r.by.as_str().into(),
            groups: groups
                .into_iter()
                .map(|g| PmGroup {
                    id: g.id,
                    name: g.name,
                    part_no: g.code,
                    due: g.due,
                    on_time: g.on_time,
                    percent: percent(g.on_time, g.due),
                })
                .collect(),
            rest: compliance(due - listed_due, on_time - listed_on_time),
        },
        overdue: OverdueBacklog {
            as_of: today.to_string(),
            total: backlog.0 + backlog.1 + backlog.2,
            buckets: [
                ("1_7", backlog.0),
                ("8_30", backlog.1),
                ("over_30", backlog.2),
            ]
            .into_iter()
            .map(|(k, n)| OverdueAge {
                bucket: k.into(),
                n,
            })
            .collect(),
        },
        repairs: reliability(&rep.total),
        repairs_by_product: rep
            .products
            .iter()
            .map(|p| ProductRepairs {
                product_id: p.id,
                part_no: p.code.clone(),
                name: p.name.clone(),
                figures: reliability(&p.sums),
            })
            .collect(),
        repairs_by_unit: rep
            .units
            .iter()
            .filter_map(|u| {
                Some(UnitRepairs {
                    equipment_id: u.id?,
                    serial: u.code.clone(),
                    part_no: u.name.clone(),
                    figures: reliability(&u.sums),
                })
            })
            .collect(),
    }
}

// ---------- API ----------

/// Filters of the figures.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct FigureParams {
    /// First local day, YYYY-MM-DD (due date of maintenance orders, report date of repair
    /// orders); default: the first day of the month eleven months ago (twelve months with
    /// the current one).
    pub from: Option<String>,
    /// Last local day, YYYY-MM-DD, inclusive; default: today. At most 20 years after `from`.
    pub to: Option<String>,
    /// Only orders of this product.
    pub product_id: Option<i64>,
    /// Only orders of this engineer.
    pub engineer_id: Option<i64>,
    /// Only orders of this customer.
    pub customer_id: Option<i64>,
    /// Dimension of the PM-compliance breakdown: engineer (default), product, customer.
    pub by: Option<String>,
}

/// Maintenance figures of an interval: PM compliance (by month and by engineer, product or
/// customer), overdue backlog, MTBF / MTTR per product and unit, first-time-fix rate,
/// repeat repairs within 30 days. Every role with access to service orders may read them.
#[utoipa::path(get, path = "/api/v1/maintenance/figures", tag = "maintenance", params(FigureParams),
    responses((status = 200, body = MaintFigures),
        (status = 403, description = "no organization"),
        (status = 422, description = "bad interval: `date` on from/to, `figures_range_order` on to, `figures_range_long` on from")),
    security(("bearer" = [])))]
pub async fn api_figures(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FigureParams>,
) -> AppResult<Response> {
    let r = Request {
        from: q.from,
        to: q.to,
        product_id: q.product_id,
        engineer_id: q.engineer_id,
        customer_id: q.customer_id,
        by: By::parse(q.by.as_deref()),
    };
    Ok(axum::Json(figures(&st, &ctx, &r).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_interval_is_twelve_months() {
        assert_eq!(default_from("2026-11-26"), "2025-12-01");
        assert_eq!(default_from("2026-01-05"), "2025-02-01");
    }

    #[test]
    fn interval_checks_and_lists_months() {
        let cal = WorkCalendar::standard();
        let r = Request {
            from: Some("2025-11-15".into()),
            to: Some("2026-02-10".into()),
            ..Default::default()
        };
        let iv = interval(&cal, "2026-11-26", &r).unwrap();
        assert_eq!(iv.months, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(iv.end - iv.start, (16 + 31 + 31 + 10) * 86_400);
        let bad = |from: &str, to: &str| {
            interval(
                &cal,
                "2026-11-26",
                &Request {
                    from: Some(from.into()),
                    to: Some(to.into()),
                    ..Default::default()
                },
            )
            .is_err()
        };
        assert!(bad("2026-03-01", "2026-02-01"));
        assert!(bad("2000-01-01", "2026-01-01"));
        assert!(bad("2026-02-30", "2026-03-01"));
    }

    #[test]
    fn averages_from_sums() {
        let s = RepairSums {
            repairs: 4,
            span_secs: 30 * 86_400,
            gaps: 2,
            repair_secs: 3 * 3600 + 1800,
            timed: 2,
            first_time_fix: 2,
            fix_judged: 3,
            repeats: 1,
        };
        let r = reliability(&s);
        assert_eq!(r.mttr_hours, Some(1.8));
        assert_eq!(r.mtbf_days, Some(15.0));
        assert_eq!(r.first_time_fix.percent, Some(66.7));
        assert_eq!(r.repeat_30d.percent, Some(25.0));
        let none = reliability(&RepairSums::default());
        assert_eq!((none.mttr_hours, none.mtbf_days), (None, None));
    }
}
