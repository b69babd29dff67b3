//! Complaint figures (DOMAIN.md §4, Metrics): counts by class, cause, product, responsible
//! department and month, a Pareto chart, resolution time percentiles in working hours, the
//! share within each SLA target, reopen and recurrence rates, and complaints per 1,000 units
//! shipped. Every figure is aggregated by the database (`store::complaints::figures`: for the
//! whole organization from the roll-ups that triggers keep, migration 0006); this module
//! validates the filter, runs the queries on two connections at once, and renders the page
//! with server-side SVG charts, or JSON under `/api/v1/complaints/figures`.
//!
//! Figures count every complaint of the organization, so they need a role that sees all of
//! them: staff, who see only their departments' complaints, get 403.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::FieldErrors;
use domain::auth::Permission;
use domain::calendar::WorkCalendar;
use serde::{Deserialize, Serialize};
use store::complaints::figures::{self as repo, FigureFilter, Month, Plan, ShipFilter};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{service, sla};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::{Errs, Shell, render_status};

/// Routes of the figures page and its API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/complaints/figures", get(page))
        .route("/api/v1/complaints/figures", get(api_figures))
}

/// OpenAPI of the figures.
#[derive(OpenApi)]
#[openapi(
    paths(api_figures),
    components(schemas(
        Figures,
        Count,
        CauseCount,
        ProductCount,
        DepartmentCount,
        Pareto,
        ParetoBar,
        Resolution,
        SlaFigure,
        Rate
    ))
)]
pub struct Api;

/// Longest receipt interval, in years (the monthly chart stays readable).
const MAX_YEARS: i32 = 20;
/// Part numbers listed (the rest are summed).
const PARTS: i64 = 30;
/// Departments listed.
const DEPARTMENTS: i64 = 200;
/// Bars of the Pareto chart before the rest are summed into one.
const PARETO_BARS: usize = 15;
/// From this many closed complaints in the interval on, the percentiles walk the
/// resolution index instead of sorting them (SQLite with its index, no part or department
/// filter). Sorting costs about 0.4 µs per closed complaint of the interval, the walk about
/// 30 ns per closed complaint of the organization it passes (measured at 1 M): below this
/// the sort stays under ~10 ms, above it the walk is bounded by the organization's size.
const WALK_FROM: i64 = 20_000;

/// The dimension of the Pareto chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dimension {
    /// Fault category (the free-text cause is grouped by its category).
    #[default]
    Cause,
    Class,
    Product,
    Department,
}

impl Dimension {
    /// Every dimension, in display order.
    pub const ALL: [Dimension; 4] = [
        Dimension::Cause,
        Dimension::Class,
        Dimension::Product,
        Dimension::Department,
    ];

    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Cause => "cause",
            Dimension::Class => "class",
            Dimension::Product => "product",
            Dimension::Department => "department",
        }
    }

    /// Parses the query-string name; anything else is the default (fault category).
    pub fn parse(s: Option<&str>) -> Dimension {
        Dimension::ALL
            .into_iter()
            .find(|d| Some(d.as_str()) == s)
            .unwrap_or_default()
    }
}

/// What the figures are asked for, as typed.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// First local day of receipt, YYYY-MM-DD.
    pub from: Option<String>,
    /// Last local day of receipt, YYYY-MM-DD, inclusive.
    pub to: Option<String>,
    pub part_no: Option<String>,
    pub department_id: Option<i64>,
    pub by: Dimension,
}

/// A count of one value of a dimension.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    /// The value (class, month YYYY-MM); null for "not set".
    pub key: Option<String>,
    pub n: i64,
    /// Share of all complaints counted, in % (one decimal).
    pub percent: Option<f64>,
}

/// Complaints of one fault category, per class.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CauseCount {
    /// Null: no fault category recorded.
    pub fault_category: Option<String>,
    pub quality: i64,
    pub human: i64,
    pub other: i64,
    pub total: i64,
    pub percent: Option<f64>,
}

/// Complaints about one part number, and the rate per 1,000 units of it shipped.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductCount {
    /// Null: no part number recorded.
    pub part_no: Option<String>,
    pub n: i64,
    pub percent: Option<f64>,
    /// Units of this part number on orders shipped in the interval.
    pub units_shipped: Option<i64>,
    /// Complaints per 1,000 units shipped (two decimals); null without shipments.
    pub per_thousand_units: Option<f64>,
}

/// Complaints of one responsible department.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentCount {
    /// Null: no responsible department assigned (yet).
    pub department_id: Option<i64>,
    pub name: Option<String>,
    pub n: i64,
    pub percent: Option<f64>,
}

/// One bar of the Pareto chart.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParetoBar {
    /// The value: fault category, class, part number or department name; null for "not set"
    /// and for the rest bar.
    pub key: Option<String>,
    /// The department id of a department bar.
    pub id: Option<i64>,
    /// True for the last bar that sums every value beyond the first 15.
    pub rest: bool,
    pub n: i64,
    pub percent: f64,
    /// Share of this bar and all before it, in % (one decimal; the last bar is 100).
    pub cumulative_percent: f64,
}

/// Bars sorted by count, descending, with the running share.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pareto {
    /// cause (fault category), class, product (part number) or department.
    pub dimension: String,
    pub bars: Vec<ParetoBar>,
}

/// Resolution time of closed complaints in working hours (receipt to closure on the work
/// calendar, pauses excluded). Percentiles by lower nearest rank: with the N resolution
/// times sorted ascending, the p-th percentile is the value at 0-based position
/// ⌊(N − 1) · p⌋ (median: p = 0.5, P90: p = 0.9); always an observed value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resolution {
    /// Closed complaints counted (those with a resolution time).
    pub closed: i64,
    /// Working hours, one decimal; null when nothing is closed.
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

/// The share of complaints that met one SLA target among those that reached it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlaFigure {
    /// ack, response, remedy or close.
    pub target: String,
    pub met: i64,
    /// Complaints whose target is decided (met or missed); running ones are not counted.
    pub reached: i64,
    /// met / reached in % (one decimal); null when none reached it.
    pub percent: Option<f64>,
}

/// count / of, in % (one decimal).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rate {
    pub count: i64,
    pub of: i64,
    pub percent: Option<f64>,
}

/// Every figure of complaints received in an interval.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    /// First local day of receipt counted.
    pub from: String,
    /// Last local day of receipt counted (inclusive).
    pub to: String,
    pub part_no: Option<String>,
    pub department_id: Option<i64>,
    /// Complaints received in the interval (matching the filters).
    pub total: i64,
    /// quality, human, other.
    pub by_class: Vec<Count>,
    /// Per fault category (the cause's category), with its classes; most frequent first.
    pub by_cause: Vec<CauseCount>,
    /// The 30 most frequent part numbers.
    pub by_product: Vec<ProductCount>,
    /// Complaints about part numbers beyond those listed.
    pub products_rest: i64,
    /// Per responsible department, most frequent first.
    pub by_department: Vec<DepartmentCount>,
    /// Every month of the interval (YYYY-MM of receipt), zeros included.
    pub by_month: Vec<Count>,
    pub pareto: Pareto,
    pub resolution: Resolution,
    /// ack, response, remedy, close.
    pub sla: Vec<SlaFigure>,
    /// Closed complaints reopened at least once / closed complaints.
    pub reopen: Rate,
    /// Complaints repeating an earlier one / all complaints.
    pub recurrence: Rate,
    /// Order line quantities of orders shipped in the interval (of the part number when
    /// filtered by one).
    pub units_shipped: i64,
    /// Complaints per 1,000 units shipped (two decimals); null without shipments.
    pub per_thousand_units: Option<f64>,
}

fn round_to(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// n / of in %, one decimal; None when `of` is 0.
fn percent(n: i64, of: i64) -> Option<f64> {
    (of > 0).then(|| round_to(n as f64 * 100.0 / of as f64, 1))
}

fn per_thousand(n: i64, units: i64) -> Option<f64> {
    (units > 0).then(|| round_to(n as f64 * 1000.0 / units as f64, 2))
}

fn rate(count: i64, of: i64) -> Rate {
    Rate {
        count,
        of,
        percent: percent(count, of),
    }
}

/// 0-based position of the p-th percentile (lower nearest rank) among `n` sorted values,
/// p = `num` / `den`.
pub fn rank(n: i64, num: i64, den: i64) -> i64 {
    (n - 1).max(0) * num / den
}

/// The local day number of instant `t` (days since 1970-01-01 on the calendar's offset):
/// the key of the figures' roll-ups, stored with each complaint as `received_day`.
pub fn local_day(cal: &WorkCalendar, t: i64) -> i64 {
    (t + i64::from(cal.utc_offset_minutes) * 60).div_euclid(86_400)
}

/// The receipt interval, checked: its local days, their instants, and its months.
struct Interval {
    from: String,
    to: String,
    /// [start, end) in Unix seconds.
    start: i64,
    end: i64,
    /// [from_day, to_day) in local day numbers.
    from_day: i64,
    to_day: i64,
    /// Every month touched, clipped to the interval.
    months: Vec<Month>,
}

fn ym(date: &str) -> (i32, u32) {
    (
        date[0..4].parse().unwrap_or(1970),
        date[5..7].parse().unwrap_or(1),
    )
}

fn next_month((y, m): (i32, u32)) -> (i32, u32) {
    if m == 12 { (y + 1, 1) } else { (y, m + 1) }
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

fn interval(cal: &WorkCalendar, today: &str, r: &Request) -> Result<Interval, FieldErrors> {
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
    let start = day(&from);
    let end = day(&to) + 86_400;
    let (from_day, to_day) = (local_day(cal, start), local_day(cal, end));
    let mut months = Vec::new();
    let mut cur = (fy, fm);
    loop {
        let next = next_month(cur);
        let a = day(&format!("{:04}-{:02}-01", cur.0, cur.1)).max(start);
        let b = day(&format!("{:04}-{:02}-01", next.0, next.1)).min(end);
        months.push(Month {
            label: format!("{:04}-{:02}", cur.0, cur.1),
            start: a,
            end: b,
            first_day: local_day(cal, a),
            end_day: local_day(cal, b),
        });
        if cur == (ty, tm) {
            break;
        }
        cur = next;
    }
    Ok(Interval {
        from,
        to,
        start,
        end,
        from_day,
        to_day,
        months,
    })
}

/// Everything the figures need from the database, read on two connections at once.
struct Raw {
    t: repo::Totals,
    p50: Option<i64>,
    p90: Option<i64>,
    months: Vec<(String, i64)>,
    causes: Vec<(Option<String>, String, i64)>,
    parts: Vec<(Option<String>, i64)>,
    departments: Vec<(Option<i64>, Option<String>, i64)>,
    units: i64,
    part_units: Vec<(String, i64)>,
}

async fn read(st: &AppState, f: &FigureFilter, s: &ShipFilter, iv: &Interval) -> AppResult<Raw> {
    let how = {
        let mut h = st.db.acquire().await?;
        repo::strategy(&mut h.c()).await?
    };
    // The roll-ups for the whole organization, the rows once narrowed; units always from
    // their roll-up (it holds every product).
    let plan = Plan::choose(f, how);
    let narrowed = f.part_no.is_some() || f.department_id.is_some();
    let first = async {
        let mut h = st.db.acquire().await?;
        let t = repo::totals(&mut h.c(), f, plan).await?;
        let walk = how.walk && !narrowed && t.closed >= WALK_FROM;
        let (p50, p90) = if t.closed > 0 {
            (
                repo::resolution_at(&mut h.c(), f, rank(t.closed, 1, 2), t.closed, walk).await?,
                repo::resolution_at(&mut h.c(), f, rank(t.closed, 9, 10), t.closed, walk).await?,
            )
        } else {
            (None, None)
        };
        Ok::<_, AppError>((t, p50, p90))
    };
    let second = async {
        let mut h = st.db.acquire().await?;
        let months = repo::by_month(&mut h.c(), f, &iv.months, plan).await?;
        let causes = repo::by_cause(&mut h.c(), f, plan).await?;
        let parts = if let Some(p) = &f.part_no {
            // One part number: its count is the total, no query needed (filled in below).
            vec![(Some(p.clone()), -1)]
        } else {
            repo::by_part(&mut h.c(), f, plan, PARTS).await?
        };
        let departments = repo::by_department(&mut h.c(), f, plan, DEPARTMENTS).await?;
        let units = repo::units_shipped(&mut h.c(), s, f.part_no.as_deref(), Plan::Rollup).await?;
        let names: Vec<String> = parts.iter().filter_map(|p| p.0.clone()).collect();
        let part_units = repo::units_by_part(&mut h.c(), s, &names, Plan::Rollup).await?;
        Ok::<_, AppError>((months, causes, parts, departments, units, part_units))
    };
    let ((t, p50, p90), (months, causes, mut parts, departments, units, part_units)) =
        tokio::try_join!(first, second)?;
    for p in parts.iter_mut().filter(|p| p.1 < 0) {
        p.1 = t.total;
    }
    parts.retain(|p| p.1 > 0);
    Ok(Raw {
        t,
        p50,
        p90,
        months,
        causes,
        parts,
        departments,
        units,
        part_units,
    })
}

fn hours(secs: Option<i64>) -> Option<f64> {
    secs.map(|s| round_to(s as f64 / 3600.0, 1))
}

/// Bars from (key, id, n) groups sorted by count: the first 15, then one bar for the rest.
fn pareto(dim: Dimension, groups: Vec<(Option<String>, Option<i64>, i64)>, total: i64) -> Pareto {
    let mut bars = Vec::new();
    let mut cum = 0;
    for (key, id, n) in groups.into_iter().take(PARETO_BARS) {
        cum += n;
        bars.push(ParetoBar {
            key,
            id,
            rest: false,
            n,
            percent: percent(n, total).unwrap_or(0.0),
            cumulative_percent: percent(cum, total).unwrap_or(0.0),
        });
    }
    if total > cum {
        bars.push(ParetoBar {
            key: None,
            id: None,
            rest: true,
            n: total - cum,
            percent: percent(total - cum, total).unwrap_or(0.0),
            cumulative_percent: 100.0,
        });
    }
    Pareto {
        dimension: dim.as_str().into(),
        bars,
    }
}

/// Sorts groups by count, descending, then by key ("not set" last) for a stable order.
fn sort_groups<T>(v: &mut [T], n: impl Fn(&T) -> i64, key: impl Fn(&T) -> Option<&str>) {
    v.sort_by(|a, b| {
        n(b).cmp(&n(a))
            .then_with(|| key(a).is_none().cmp(&key(b).is_none()))
            .then_with(|| key(a).cmp(&key(b)))
    });
}

fn assemble(r: &Request, iv: &Interval, raw: Raw) -> Figures {
    let t = raw.t;
    let total = t.total;
    let by_class: Vec<Count> = [
        ("quality", t.quality),
        ("human", t.human),
        ("other", t.other),
    ]
    .into_iter()
    .map(|(k, n)| Count {
        key: Some(k.into()),
        n,
        percent: percent(n, total),
    })
    .collect();
    // Pivot the (category, class) groups: a loop over groups, never over complaints.
    let mut by_cause: Vec<CauseCount> = Vec::new();
    for (fault, class, n) in raw.causes {
        let i = match by_cause.iter().position(|c| c.fault_category == fault) {
            Some(i) => i,
            None => {
                by_cause.push(CauseCount {
                    fault_category: fault,
                    quality: 0,
                    human: 0,
                    other: 0,
                    total: 0,
                    percent: None,
                });
                by_cause.len() - 1
            }
        };
        let c = &mut by_cause[i];
        match class.as_str() {
            "quality" => c.quality += n,
            "human" => c.human += n,
            _ => c.other += n,
        }
        c.total += n;
    }
    for c in &mut by_cause {
        c.percent = percent(c.total, total);
    }
    sort_groups(&mut by_cause, |c| c.total, |c| c.fault_category.as_deref());
    let mut parts = raw.parts;
    sort_groups(&mut parts, |p| p.1, |p| p.0.as_deref());
    let by_product: Vec<ProductCount> = parts
        .iter()
        .map(|(p, n)| {
            let units = p
                .as_ref()
                .map(|p| raw.part_units.iter().find(|u| &u.0 == p).map_or(0, |u| u.1));
            ProductCount {
                part_no: p.clone(),
                n: *n,
                percent: percent(*n, total),
                units_shipped: units,
                per_thousand_units: units.and_then(|u| per_thousand(*n, u)),
            }
        })
        .collect();
    let products_rest = total - by_product.iter().map(|p| p.n).sum::<i64>();
    let mut deps = raw.departments;
    sort_groups(&mut deps, |d| d.2, |d| d.1.as_deref());
    let by_department: Vec<DepartmentCount> = deps
        .into_iter()
        .map(|(id, name, n)| DepartmentCount {
            department_id: id,
            name,
            n,
            percent: percent(n, total),
        })
        .collect();
    let by_month = raw
        .months
        .into_iter()
        .map(|(k, n)| Count {
            key: Some(k),
            n,
            percent: percent(n, total),
        })
        .collect();
    let mut groups: Vec<(Option<String>, Option<i64>, i64)> = match r.by {
        Dimension::Cause => by_cause
            .iter()
            .map(|c| (c.fault_category.clone(), None, c.total))
            .collect(),
        Dimension::Class => by_class
            .iter()
            .map(|c| (c.key.clone(), None, c.n))
            .collect(),
        Dimension::Product => by_product
            .iter()
            .map(|p| (p.part_no.clone(), None, p.n))
            .collect(),
        Dimension::Department => by_department
            .iter()
            .map(|d| (d.name.clone(), d.department_id, d.n))
            .collect(),
    };
    groups.retain(|g| g.2 > 0);
    sort_groups(&mut groups, |g| g.2, |g| g.0.as_deref());
    let sla = [
        ("ack", t.ack),
        ("response", t.response),
        ("remedy", t.remedy),
        ("close", t.close),
    ]
    .into_iter()
    .map(|(k, (met, reached))| SlaFigure {
        target: k.into(),
        met,
        reached,
        percent: percent(met, reached),
    })
    .collect();
    Figures {
        from: iv.from.clone(),
        to: iv.to.clone(),
        part_no: r.part_no.clone(),
        department_id: r.department_id,
        total,
        by_class,
        by_cause,
        by_product,
        products_rest,
        by_department,
        by_month,
        pareto: pareto(r.by, groups, total),
        resolution: Resolution {
            closed: t.closed,
            median_hours: hours(raw.p50),
            p90_hours: hours(raw.p90),
        },
        sla,
        reopen: rate(t.closed_reopened, t.closed),
        recurrence: rate(t.repeated, total),
        units_shipped: raw.units,
        per_thousand_units: per_thousand(total, raw.units),
    }
}

/// The figures of the complaints matching `r`. 403 for roles that do not see every
/// complaint (staff); 422 for a bad interval.
pub async fn figures(st: &AppState, ctx: &Ctx, r: &Request) -> AppResult<Figures> {
    let a = service::access(st, ctx, Permission::ViewComplaints).await?;
    if !a.role.sees_all_complaints() {
        return Err(AppError::Forbidden);
    }
    let cal = {
        let mut h = st.db.acquire().await?;
        sla::calendar(&mut h.c(), a.org).await?
    };
    let today = cal.local_date(st.now());
    let iv = interval(&cal, &today, r).map_err(AppError::Invalid)?;
    let f = FigureFilter {
        org: a.org,
        from: Some(iv.start),
        to: Some(iv.end),
        part_no: r.part_no.clone(),
        department_id: r.department_id,
        from_day: Some(iv.from_day),
        to_day: Some(iv.to_day),
    };
    let s = ShipFilter {
        org: a.org,
        from: Some(iv.from.clone()),
        to: Some(iv.to.clone()),
    };
    let raw = read(st, &f, &s, &iv).await?;
    Ok(assemble(r, &iv, raw))
}

fn nonblank(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

// ---------- API ----------

/// Filters of the figures.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct FigureParams {
    /// First local day of receipt, YYYY-MM-DD; default: the first day of the month eleven
    /// months ago (twelve months with the current one).
    pub from: Option<String>,
    /// Last local day of receipt, YYYY-MM-DD, inclusive; default: today. At most 20 years
    /// after `from`.
    pub to: Option<String>,
    /// Only complaints about this part number (units shipped: of this part number).
    pub part_no: Option<String>,
    /// Only complaints with this responsible department.
    pub department_id: Option<i64>,
    /// Dimension of the Pareto chart: cause (fault category, default), class, product,
    /// department.
    pub by: Option<String>,
}

/// Complaint figures of an interval. Needs a role that sees every complaint: staff (who see
/// only their departments' complaints) get 403.
#[utoipa::path(get, path = "/api/v1/complaints/figures", tag = "complaints", params(FigureParams),
    responses((status = 200, body = Figures),
        (status = 403, description = "the role does not see every complaint (staff), or no organization"),
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
        part_no: nonblank(q.part_no),
        department_id: q.department_id,
        by: Dimension::parse(q.by.as_deref()),
    };
    Ok(axum::Json(figures(&st, &ctx, &r).await?).into_response())
}

// ---------- page ----------

/// Query of the page (strings: an empty select is "all").
#[derive(Debug, Deserialize, Default)]
pub struct PageQ {
    pub from: Option<String>,
    pub to: Option<String>,
    pub part_no: Option<String>,
    pub department_id: Option<String>,
    pub by: Option<String>,
}

/// A table row with display strings.
struct Row {
    label: String,
    n: i64,
    percent: String,
}

struct CauseRow {
    label: String,
    quality: i64,
    human: i64,
    other: i64,
    total: i64,
    percent: String,
}

struct ProductRow {
    label: String,
    n: i64,
    percent: String,
    units: String,
    rate: String,
}

struct SlaRow {
    target: String,
    met: i64,
    reached: i64,
    percent: String,
}

/// What the page shows once the figures are read.
struct View {
    total: i64,
    closed: i64,
    median: String,
    p90: String,
    reopen: String,
    reopen_of: String,
    recurrence: String,
    recurrence_of: String,
    per_thousand: String,
    units: i64,
    sla: Vec<SlaRow>,
    pareto_svg: String,
    month_svg: String,
    classes: Vec<Row>,
    causes: Vec<CauseRow>,
    products: Vec<ProductRow>,
    products_rest: i64,
    departments: Vec<Row>,
    months: Vec<Row>,
}

#[derive(askama::Template)]
#[template(path = "complaints/figures.html")]
struct FiguresPage {
    s: Shell,
    tr: Tr,
    q: PageQ,
    /// The filters as a query string (without `by`), for the dimension links.
    base: String,
    by: &'static str,
    dims: Vec<&'static str>,
    departments: Vec<(i64, String)>,
    errs: Errs,
    v: Option<View>,
}

impl FiguresPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

fn pct_text(p: Option<f64>) -> String {
    p.map_or_else(|| "—".to_string(), |p| format!("{p:.1}%"))
}

fn num_text(v: Option<f64>, places: usize) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.places$}"))
}

fn view(tr: &Tr, by: Dimension, fig: Figures) -> View {
    let none = |k: &str| tr.t(k).to_string();
    let class_label = |k: &Option<String>| tr.tk("complaint.class", k.as_deref().unwrap_or(""));
    let cause_label = |k: &Option<String>| {
        k.clone()
            .unwrap_or_else(|| none("complaint_figures.no_category"))
    };
    let part_label = |k: &Option<String>| {
        k.clone()
            .unwrap_or_else(|| none("complaint_figures.no_part"))
    };
    let dep_label = |k: &Option<String>| {
        k.clone()
            .unwrap_or_else(|| none("complaint_figures.no_department"))
    };
    let bars: Vec<chart::Bar> = fig
        .pareto
        .bars
        .iter()
        .map(|b| chart::Bar {
            label: if b.rest {
                none("complaint_figures.rest")
            } else {
                match by {
                    Dimension::Cause => cause_label(&b.key),
                    Dimension::Class => class_label(&b.key),
                    Dimension::Product => part_label(&b.key),
                    Dimension::Department => dep_label(&b.key),
                }
            },
            n: b.n,
            cumulative: b.cumulative_percent,
        })
        .collect();
    let dim_name = tr.tk("complaint_figures.dim", by.as_str());
    let pareto_svg = chart::pareto(
        &bars,
        &chart::Texts {
            title: tr.t1("complaint_figures.pareto_of", &dim_name),
            count: none("complaint_figures.axis_count"),
            cumulative: none("complaint_figures.axis_cumulative"),
        },
    );
    let month_bars: Vec<chart::Bar> = fig
        .by_month
        .iter()
        .map(|m| chart::Bar {
            label: m.key.clone().unwrap_or_default(),
            n: m.n,
            cumulative: 0.0,
        })
        .collect();
    let month_svg = chart::columns(
        &month_bars,
        &chart::Texts {
            title: none("complaint_figures.by_month"),
            count: none("complaint_figures.axis_count"),
            cumulative: String::new(),
        },
    );
    let row = |label: String, n: i64, p: Option<f64>| Row {
        label,
        n,
        percent: pct_text(p),
    };
    View {
        total: fig.total,
        closed: fig.resolution.closed,
        median: num_text(fig.resolution.median_hours, 1),
        p90: num_text(fig.resolution.p90_hours, 1),
        reopen: pct_text(fig.reopen.percent),
        reopen_of: format!("{} / {}", fig.reopen.count, fig.reopen.of),
        recurrence: pct_text(fig.recurrence.percent),
        recurrence_of: format!("{} / {}", fig.recurrence.count, fig.recurrence.of),
        per_thousand: num_text(fig.per_thousand_units, 2),
        units: fig.units_shipped,
        sla: fig
            .sla
            .iter()
            .map(|s| SlaRow {
                target: tr.tk("complaint.target", &s.target),
                met: s.met,
                reached: s.reached,
                percent: pct_text(s.percent),
            })
            .collect(),
        pareto_svg,
        month_svg,
        classes: fig
            .by_class
            .iter()
            .map(|c| row(class_label(&c.key), c.n, c.percent))
            .collect(),
        causes: fig
            .by_cause
            .iter()
            .map(|c| CauseRow {
                label: cause_label(&c.fault_category),
                quality: c.quality,
                human: c.human,
                other: c.other,
                total: c.total,
                percent: pct_text(c.percent),
            })
            .collect(),
        products: fig
            .by_product
            .iter()
            .map(|p| ProductRow {
                label: part_label(&p.part_no),
                n: p.n,
                percent: pct_text(p.percent),
                units: p.units_shipped.map(|u| u.to_string()).unwrap_or_default(),
                rate: num_text(p.per_thousand_units, 2),
            })
            .collect(),
        products_rest: fig.products_rest,
        departments: fig
            .by_department
            .iter()
            .map(|d| row(dep_label(&d.name), d.n, d.percent))
            .collect(),
        months: fig
            .by_month
            .iter()
            .map(|m| row(m.key.clone().unwrap_or_default(), m.n, m.percent))
            .collect(),
    }
}

/// The figures page: the filter form, key figures, the Pareto and monthly charts, tables.
pub async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(mut q): Query<PageQ>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ViewComplaints)?;
    if !org.role.sees_all_complaints() {
        return Err(AppError::Forbidden);
    }
    let by = Dimension::parse(q.by.as_deref());
    let dep = nonblank(q.department_id.clone());
    let department_id = dep.as_deref().map(str::parse::<i64>);
    let mut errs = FieldErrors::default();
    if matches!(department_id, Some(Err(_))) {
        errs.add("department_id", "choice", None);
    }
    let r = Request {
        from: nonblank(q.from.clone()),
        to: nonblank(q.to.clone()),
        part_no: nonblank(q.part_no.clone()),
        department_id: department_id.and_then(Result::ok),
        by,
    };
    let (v, status) = if errs.is_empty() {
        match figures(&st, &ctx, &r).await {
            Ok(fig) => {
                // Show the interval actually counted (defaults filled in).
                q.from = Some(fig.from.clone());
                q.to = Some(fig.to.clone());
                (Some(view(&ctx.tr, by, fig)), StatusCode::OK)
            }
            Err(AppError::Invalid(e)) => {
                errs = e;
                (None, StatusCode::UNPROCESSABLE_ENTITY)
            }
            Err(e) => return Err(e),
        }
    } else {
        (None, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let departments = {
        let mut h = st.db.acquire().await?;
        store::org::department_choices(&mut h.c(), org.id).await?
    };
    let base = serde_urlencoded::to_string([
        ("from", q.from.clone().unwrap_or_default()),
        ("to", q.to.clone().unwrap_or_default()),
        ("part_no", q.part_no.clone().unwrap_or_default()),
        ("department_id", q.department_id.clone().unwrap_or_default()),
    ])
    .unwrap_or_default();
    let s = Shell::load(&st, &ctx, &uri, "complaint_figures.title").await?;
    render_status(
        status,
        &FiguresPage {
            tr: ctx.tr,
            s,
            base,
            by: by.as_str(),
            dims: Dimension::ALL.iter().map(|d| d.as_str()).collect(),
            departments,
            errs: Errs::of(&ctx.tr, &errs),
            v,
            q,
        },
    )
}

/// Server-rendered SVG charts: plain markup, no script, labels measured by estimate (a CJK
/// character is 1 em wide, anything else about 0.6 em).
mod chart {
    use std::fmt::Write;

    /// One bar.
    pub struct Bar {
        pub label: String,
        pub n: i64,
        /// Running share in % (Pareto only).
        pub cumulative: f64,
    }

    /// The chart's words.
    pub struct Texts {
        pub title: String,
        pub count: String,
        pub cumulative: String,
    }

    const W: f64 = 760.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 56.0;
    const TOP: f64 = 24.0;
    /// Height of the plot area (the label area below it grows with rotated labels).
    const PLOT_H: f64 = 240.0;
    const FONT: f64 = 11.0;
    /// Longest rotated label, in px.
    const LABEL_MAX: f64 = 110.0;

    /// XML-escapes text.
    pub fn esc(s: &str) -> String {
        let mut o = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '&' => o.push_str("&amp;"),
                '<' => o.push_str("&lt;"),
                '>' => o.push_str("&gt;"),
                '"' => o.push_str("&quot;"),
                '\'' => o.push_str("&#39;"),
                _ => o.push(c),
            }
        }
        o
    }

    fn wide(c: char) -> bool {
        // CJK, kana, hangul and full-width forms take a full em.
        matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
    }

    /// Estimated width in px at `size`.
    pub fn width(s: &str, size: f64) -> f64 {
        s.chars()
            .map(|c| if wide(c) { 1.0 } else { 0.6 })
            .sum::<f64>()
            * size
    }

    /// `s` shortened with "…" to fit `max` px.
    pub fn fit(s: &str, max: f64, size: f64) -> String {
        if width(s, size) <= max {
            return s.to_string();
        }
        let mut out = String::new();
        let mut w = size; // room for the ellipsis
        for c in s.chars() {
            w += if wide(c) { size } else { 0.6 * size };
            if w > max {
                break;
            }
            out.push(c);
        }
        out.push('…');
        out
    }

    /// A round step for about four grid lines up to `max`.
    fn step(max: i64) -> i64 {
        let raw = (max.max(1) as f64 / 4.0).max(1.0);
        let mag = 10f64.powf(raw.log10().floor());
        let r = raw / mag;
        let m = if r <= 1.0 {
            1.0
        } else if r <= 2.0 {
            2.0
        } else if r <= 5.0 {
            5.0
        } else {
            10.0
        };
        ((m * mag) as i64).max(1)
    }

    /// Where the bars go: one slot per bar, labels rotated when they do not fit a slot.
    struct Frame {
        slot: f64,
        rotate: bool,
        /// Height of the whole chart.
        h: f64,
        /// y of the count axis (the plot's bottom).
        base: f64,
    }

    fn frame(data: &[Bar]) -> Frame {
        let slot = (W - LEFT - RIGHT) / data.len().max(1) as f64;
        let widest = data
            .iter()
            .map(|b| width(&b.label, FONT))
            .fold(0.0, f64::max);
        let rotate = widest > slot - 4.0;
        // a label rotated by 40° needs about sin 40° of its length below the axis
        let below = if rotate {
            widest.min(LABEL_MAX) * 0.65 + 22.0
        } else {
            28.0
        };
        Frame {
            slot,
            rotate,
            h: (TOP + PLOT_H + below).ceil(),
            base: TOP + PLOT_H,
        }
    }

    fn open(out: &mut String, t: &Texts, id: &str, h: f64) {
        let _ = write!(
            out,
            r#"<svg class="chart" id="{id}" viewBox="0 0 {W} {h}" width="100%" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg" font-size="{FONT}"><title id="{id}-title">{}</title>"#,
            esc(&t.title)
        );
    }

    /// Count axis on the left with grid lines, from 0 to `top` (None: a round value above
    /// `max`); returns the y of a count.
    fn count_axis(
        out: &mut String,
        t: &Texts,
        max: i64,
        top: Option<i64>,
    ) -> impl Fn(f64) -> f64 + use<> {
        let st = step(top.unwrap_or(max));
        let top_val = top.unwrap_or((max.max(1) + st - 1) / st * st).max(1) as f64;
        let y = move |v: f64| TOP + PLOT_H - v / top_val * PLOT_H;
        let mut v = 0;
        while v as f64 <= top_val {
            let yy = y(v as f64);
            let _ = write!(
                out,
                r#"<line class="grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"#,
                W - RIGHT,
                LEFT - 6.0,
                yy + 4.0
            );
            v += st;
        }
        // An exact top (the Pareto total) gets its own label unless a grid line is close.
        if let Some(t) = top
            && (t - (v - st)) as f64 > st as f64 * 0.4
        {
            let yy = y(t as f64);
            let _ = write!(
                out,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{t}</text>"#,
                LEFT - 6.0,
                yy + 4.0
            );
        }
        let _ = write!(
            out,
            r#"<text class="axis-title" x="14" y="{m:.1}" transform="rotate(-90 14 {m:.1})" text-anchor="middle">{}</text>"#,
            esc(&t.count),
            m = TOP + PLOT_H / 2.0
        );
        y
    }

    /// Bars with their labels under the axis; returns the bar centres.
    fn bars(
        out: &mut String,
        data: &[Bar],
        fr: &Frame,
        y: &impl Fn(f64) -> f64,
        values: bool,
    ) -> Vec<f64> {
        let bw = (fr.slot * 0.7).min(60.0);
        let mut centres = Vec::new();
        for (i, b) in data.iter().enumerate() {
            let cx = LEFT + fr.slot * (i as f64 + 0.5);
            let top = y(b.n as f64);
            let _ = write!(
                out,
                r#"<rect class="bar" x="{:.1}" y="{top:.1}" width="{bw:.1}" height="{:.1}"><title>{}: {}</title></rect>"#,
                cx - bw / 2.0,
                (fr.base - top).max(0.0),
                esc(&b.label),
                b.n
            );
            if values && b.n > 0 {
                let _ = write!(
                    out,
                    r#"<text class="value" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                    top - 3.0,
                    b.n
                );
            }
            if fr.rotate {
                let label = fit(&b.label, LABEL_MAX, FONT);
                let ly = fr.base + 12.0;
                let lx = cx + 4.0;
                let _ = write!(
                    out,
                    r#"<text class="label" x="{lx:.1}" y="{ly:.1}" text-anchor="end" transform="rotate(-40 {lx:.1} {ly:.1})">{}</text>"#,
                    esc(&label)
                );
            } else {
                let _ = write!(
                    out,
                    r#"<text class="label" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                    fr.base + 16.0,
                    esc(&b.label)
                );
            }
            centres.push(cx);
        }
        let _ = write!(
            out,
            r#"<line class="axis" x1="{LEFT}" y1="{b:.1}" x2="{:.1}" y2="{b:.1}"/>"#,
            W - RIGHT,
            b = fr.base
        );
        centres
    }

    /// A Pareto chart: bars sorted by count (as given) on a count axis that ends at their
    /// total, so that the 0–100 % axis at the right measures the same heights; the
    /// cumulative share as a line, and the 80 % line.
    pub fn pareto(data: &[Bar], t: &Texts) -> String {
        let fr = frame(data);
        let mut out = String::new();
        open(&mut out, t, "pareto-chart", fr.h);
        let total: i64 = data.iter().map(|b| b.n).sum();
        let max = data.iter().map(|b| b.n).max().unwrap_or(0);
        let y = count_axis(&mut out, t, max, Some(total.max(1)));
        let yp = |p: f64| TOP + PLOT_H - p / 100.0 * PLOT_H;
        for p in [0, 20, 40, 60, 80, 100] {
            let _ = write!(
                out,
                r#"<text class="tick" x="{:.1}" y="{:.1}">{p}%</text>"#,
                W - RIGHT + 6.0,
                yp(p as f64) + 4.0
            );
        }
        let _ = write!(
            out,
            r#"<text class="axis-title" x="{x:.1}" y="{m:.1}" transform="rotate(90 {x:.1} {m:.1})" text-anchor="middle">{}</text>"#,
            esc(&t.cumulative),
            x = W - 12.0,
            m = TOP + PLOT_H / 2.0
        );
        let centres = bars(&mut out, data, &fr, &y, true);
        let y80 = yp(80.0);
        let _ = write!(
            out,
            r#"<line class="line80" x1="{LEFT}" y1="{y80:.1}" x2="{:.1}" y2="{y80:.1}"/>"#,
            W - RIGHT
        );
        if !data.is_empty() {
            let pts: Vec<String> = data
                .iter()
                .zip(&centres)
                .map(|(b, cx)| format!("{cx:.1},{:.1}", yp(b.cumulative)))
                .collect();
            let _ = write!(
                out,
                r#"<polyline class="cumulative" points="{}"/>"#,
                pts.join(" ")
            );
            for (b, cx) in data.iter().zip(&centres) {
                let _ = write!(
                    out,
                    r#"<circle class="point" cx="{cx:.1}" cy="{:.1}" r="3"><title>{}: {:.1}%</title></circle>"#,
                    yp(b.cumulative),
                    esc(&b.label),
                    b.cumulative
                );
            }
        }
        out.push_str("</svg>");
        out
    }

    /// A column chart of counts (months), values on top when there is room.
    pub fn columns(data: &[Bar], t: &Texts) -> String {
        let fr = frame(data);
        let mut out = String::new();
        open(&mut out, t, "month-chart", fr.h);
        let max = data.iter().map(|b| b.n).max().unwrap_or(0);
        let y = count_axis(&mut out, t, max, None);
        bars(&mut out, data, &fr, &y, data.len() <= 24);
        out.push_str("</svg>");
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn widths_and_fitting() {
            assert_eq!(width("主控柜", 10.0), 30.0);
            assert_eq!(width("ab", 10.0), 12.0);
            assert_eq!(fit("短", 100.0, 10.0), "短");
            let f = fit("主控柜报警电机异响", 50.0, 10.0);
            assert!(f.ends_with('…') && width(&f, 10.0) <= 50.0, "{f}");
            assert_eq!(esc("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
        }

        #[test]
        fn steps_are_round() {
            assert_eq!(step(0), 1);
            assert_eq!(step(7), 2);
            assert_eq!(step(100), 50);
            assert_eq!(step(1234), 500);
        }

        #[test]
        fn pareto_draws_every_bar_and_the_line() {
            let data = vec![
                Bar {
                    label: "电机<异响>".into(),
                    n: 6,
                    cumulative: 60.0,
                },
                Bar {
                    label: "b".into(),
                    n: 4,
                    cumulative: 100.0,
                },
            ];
            let t = Texts {
                title: "t".into(),
                count: "n".into(),
                cumulative: "%".into(),
            };
            let svg = pareto(&data, &t);
            assert_eq!(svg.matches("<rect class=\"bar\"").count(), 2);
            assert!(svg.contains("电机&lt;异响&gt;"));
            assert!(svg.contains("class=\"cumulative\""));
            assert!(svg.contains("class=\"line80\""));
            // the count axis ends at the total (10), level with 100 %
            assert!(svg.contains(">10</text>"));
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_positions() {
        assert_eq!(rank(1, 1, 2), 0);
        assert_eq!(rank(4, 1, 2), 1);
        assert_eq!(rank(5, 1, 2), 2);
        assert_eq!(rank(10, 9, 10), 8);
        assert_eq!(rank(11, 9, 10), 9);
        assert_eq!(rank(0, 9, 10), 0);
    }

    #[test]
    fn default_interval_is_twelve_months() {
        assert_eq!(default_from("2026-11-26"), "2025-12-01");
        assert_eq!(default_from("2026-12-31"), "2026-01-01");
        assert_eq!(default_from("2026-01-05"), "2025-02-01");
    }

    #[test]
    fn months_are_clipped_to_the_interval() {
        let cal = WorkCalendar::standard();
        let r = Request {
            from: Some("2026-01-15".into()),
            to: Some("2026-03-10".into()),
            ..Default::default()
        };
        let iv = interval(&cal, "2026-11-26", &r).unwrap();
        let labels: Vec<&str> = iv.months.iter().map(|m| m.label.as_str()).collect();
        assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
        assert_eq!(iv.months[0].start, iv.start);
        assert_eq!(iv.months[2].end, iv.end);
        assert_eq!(iv.end - iv.start, (17 + 28 + 10) * 86_400);
        // day numbers: 2026-01-15 is day 20468; February starts on day 20485
        assert_eq!((iv.from_day, iv.to_day), (20_468, 20_468 + 17 + 28 + 10));
        assert_eq!(iv.months[0].first_day, iv.from_day);
        assert_eq!(
            (iv.months[1].first_day, iv.months[1].end_day),
            (20_485, 20_485 + 28)
        );
        assert_eq!(iv.months[2].end_day, iv.to_day);
        // a receipt one second before local midnight is on the day before
        assert_eq!(local_day(&cal, iv.start - 1), iv.from_day - 1);
        assert_eq!(local_day(&cal, iv.start), iv.from_day);
        let bad = Request {
            from: Some("2026-03-01".into()),
            to: Some("2026-02-01".into()),
            ..Default::default()
        };
        assert!(interval(&cal, "2026-11-26", &bad).is_err());
        let long = Request {
            from: Some("2000-01-01".into()),
            to: Some("2026-01-01".into()),
            ..Default::default()
        };
        assert!(interval(&cal, "2026-11-26", &long).is_err());
    }
}
