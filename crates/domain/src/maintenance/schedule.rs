//! Maintenance plans and their schedule (DOMAIN.md §5): which due dates a plan gives one
//! unit, and what the scheduler must change so that exactly the orders of those due dates
//! exist. Pure: dates are day numbers (days since 1970-01-01, [`days_of`]) and "today" is
//! passed in.
//!
//! # The rule
//!
//! A plan has a start date, an interval in days, a mode, optionally a meter basis, a lead
//! time and a horizon.
//!
//! * **Window.** An order for due date `d` is created once `today >= d - max(lead_days,
//!   horizon_days)`: the horizon publishes orders far ahead (a year of visits for dispatch
//!   planning); the lead time guarantees at least that notice when the horizon is shorter.
//!   The scheduler never creates an order whose due date has passed: orders are created
//!   ahead, so only an outage longer than the window loses one.
//! * **Fixed** (`fixed`): the due dates are `start + k·interval` (k ≥ 0), whatever the
//!   completions. Every run yields the grid dates in `[today, window end]`: no duplicates, no
//!   gaps.
//! * **Floating** (`floating`): one visit at a time. The next due date is the latest of the
//!   start, the last completion + interval, and the due date of the last visit a user
//!   cancelled (skipped) + interval — never before today. While an order of the plan for the
//!   unit is under way (scheduled, dispatched, on site) or overdue and still open, no next
//!   order is created: it follows that order's completion.
//! * **Meter basis** (optional `meter_interval` in the plan's meter unit: "whichever comes
//!   first"). The baseline is the latest reading on or before the last completion (before any
//!   completion: on or before the start; without such a reading, the earliest reading). The
//!   threshold is baseline + meter_interval. The meter date is the date of the first reading
//!   that reached the threshold; if none has, it is projected at the average daily rate of the
//!   last [`RATE_READINGS`] readings (first to last of them; no rise, no projection):
//!   `last reading date + ceil((threshold − last value) / rate)`. The meter date, brought
//!   forward to no earlier than today, the start and the day after the last completion, counts
//!   only when it falls before the next time-based due date after the last completion:
//!   a fixed plan gets it as an extra due date (the grid is unchanged); a floating plan's next
//!   due date becomes it. So the meter never makes a due date later than time alone. An open
//!   order already planned between that bound and the time-based date, on or before the
//!   meter date, is kept as the meter visit (a reading that moves the projection later or
//!   earlier by a day does not re-create orders; only a projection earlier than the planned
//!   order moves it).
//! * **Plan edits and reconciling.** Orders due before today are never touched. Orders the
//!   rule still wants are kept; an un-started order (status `created`) due today or later
//!   that the rule no longer gives is cancelled with reason [`PLAN_CHANGED`]; started ones
//!   (scheduled and beyond) are kept. An order cancelled that way comes back (status
//!   `created`) if a later edit makes its due date due again — the unique index allows one
//!   order per plan, unit and due date, so it could not be created anew. Run right after an
//!   edit (the service does so), "today" is the edit date: an edit only affects dues from
//!   the edit date on.

use crate::archives::equipment::{date_of_days, days_of};
use crate::org::valid_date;
use crate::text;
use crate::{DomainError, FieldErrors};

/// The cancel reason of orders the scheduler cancelled because their plan changed.
pub const PLAN_CHANGED: &str = "plan_changed";
/// How many of the latest readings the meter rate is averaged over.
pub const RATE_READINGS: usize = 5;
/// Projections further than this many days are treated as "not in sight".
const MAX_PROJECTION_DAYS: i128 = 36_600;

/// Longest interval, in days (ten years).
pub const MAX_INTERVAL_DAYS: i64 = 3660;
/// Longest lead time, in days.
pub const MAX_LEAD_DAYS: i64 = 365;
/// Longest horizon, in days (two years).
pub const MAX_HORIZON_DAYS: i64 = 730;

/// How due dates follow each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Mode {
    /// `start + k·interval`, whatever the completions.
    Fixed,
    /// The last completion + interval, one visit at a time.
    Floating,
}

impl Mode {
    /// Every mode, in display order.
    pub const ALL: [Mode; 2] = [Mode::Fixed, Mode::Floating];

    /// The stable name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Fixed => "fixed",
            Mode::Floating => "floating",
        }
    }

    /// Parses the stable name (or the Chinese label).
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim().to_lowercase().as_str() {
            "fixed" | "固定" | "固定周期" => Some(Mode::Fixed),
            "floating" | "浮动" | "浮动周期" => Some(Mode::Floating),
            _ => None,
        }
    }
}

/// The schedule of a plan, in day numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub start: i64,
    /// At least 1.
    pub interval_days: i64,
    pub mode: Mode,
    /// Meter units between services ("whichever comes first"), if any.
    pub meter_interval: Option<i64>,
    pub lead_days: i64,
    pub horizon_days: i64,
}

/// One meter reading of the plan's meter unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub day: i64,
    pub value: i64,
}

/// Where an existing order of the plan stands, as the scheduler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    /// Created, nobody has acted on it yet: the scheduler may cancel it.
    Open,
    /// Scheduled, dispatched or on site.
    Started,
    /// Completed, accepted or closed.
    Done,
    /// Cancelled by a user (a skipped visit).
    Cancelled,
    /// Cancelled by the scheduler because the plan changed ([`PLAN_CHANGED`]).
    CancelledByPlan,
}

impl OrderState {
    /// The state of an order from its status and cancel reason; an unknown status counts as
    /// started, so the scheduler never cancels what it does not understand.
    pub fn of(status: &str, cancel_reason: Option<&str>) -> OrderState {
        match status {
            "created" => OrderState::Open,
            "completed" | "accepted" | "closed" => OrderState::Done,
            "cancelled" if cancel_reason == Some(PLAN_CHANGED) => OrderState::CancelledByPlan,
            "cancelled" => OrderState::Cancelled,
            _ => OrderState::Started,
        }
    }

    /// Open or started: a visit still to be made.
    pub fn is_pending(self) -> bool {
        matches!(self, OrderState::Open | OrderState::Started)
    }
}

/// What the scheduler knows about one unit under one plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct History<'a> {
    /// Day of the unit's last completed order of this plan.
    pub last_completion: Option<i64>,
    /// Due day of the unit's latest order of this plan cancelled by a user.
    pub last_skipped: Option<i64>,
    /// Readings of the plan's meter unit, ascending by day (then value).
    pub readings: &'a [Reading],
    /// The unit's orders of this plan due today or later, ascending by due day.
    pub orders: &'a [(i64, OrderState)],
    /// An order of this plan for the unit due before today is still open or under way.
    pub overdue_pending: bool,
}

/// The last day whose orders exist today: `today + max(lead, horizon)`.
pub fn window_end(r: &Rule, today: i64) -> i64 {
    today + r.lead_days.max(r.horizon_days).max(0)
}

/// The first grid date `start + k·step` (k ≥ 0) on or after `day`.
fn grid_at_or_after(start: i64, step: i64, day: i64) -> i64 {
    if day <= start {
        start
    } else {
        start + (day - start + step - 1) / step * step
    }
}

/// The date the meter reaches the baseline + `meter_interval` (see the module rule); `None`
/// without a meter basis, without readings, or without a rise to project from.
pub fn meter_due(r: &Rule, h: &History<'_>) -> Option<i64> {
    let step = r.meter_interval.filter(|m| *m > 0)?;
    let rs = h.readings;
    let base_day = h.last_completion.unwrap_or(r.start);
    let bi = rs.iter().rposition(|x| x.day <= base_day).unwrap_or(0);
    let base = rs.get(bi)?;
    let threshold = base.value.checked_add(step)?;
    if let Some(x) = rs[bi..].iter().find(|x| x.value >= threshold) {
        return Some(x.day);
    }
    let w = &rs[rs.len().saturating_sub(RATE_READINGS)..];
    let (a, b) = (w.first()?, w.last()?);
    if b.day <= a.day || b.value <= a.value {
        return None;
    }
    // Integer arithmetic: the same readings give the same day on every machine.
    let need = i128::from(threshold) - i128::from(b.value);
    let (dd, dv) = (
        i128::from(b.day) - i128::from(a.day),
        i128::from(b.value) - i128::from(a.value),
    );
    let days = (need * dd + dv - 1) / dv;
    if days > MAX_PROJECTION_DAYS {
        return None;
    }
    Some(b.day + days as i64)
}

/// The earliest pending order in `[lo, hi)` that is no later than `pick`: kept as the meter
/// visit instead of `pick`.
fn planned_visit(h: &History<'_>, lo: i64, hi: i64, pick: i64) -> Option<i64> {
    h.orders
        .iter()
        .filter(|(d, s)| s.is_pending() && *d >= lo && *d < hi)
        .map(|(d, _)| *d)
        .min()
        .filter(|x| *x <= pick)
}

/// The due dates the plan gives the unit in `[today, until]`, ascending (see the module rule).
pub fn expand(r: &Rule, h: &History<'_>, today: i64, until: i64) -> Vec<i64> {
    if r.interval_days < 1 || until < today {
        return vec![];
    }
    match r.mode {
        Mode::Fixed => fixed(r, h, today, until),
        Mode::Floating => floating(r, h, today, until).into_iter().collect(),
    }
}

fn fixed(r: &Rule, h: &History<'_>, today: i64, until: i64) -> Vec<i64> {
    let step = r.interval_days;
    let mut out = Vec::new();
    let mut d = grid_at_or_after(r.start, step, today);
    while d <= until {
        out.push(d);
        d += step;
    }
    if let Some(m) = meter_due(r, h) {
        let lower = today
            .max(r.start)
            .max(h.last_completion.map_or(i64::MIN, |c| c + 1));
        let next = grid_at_or_after(r.start, step, lower);
        let pick = m.max(lower);
        if pick < next {
            let pick = planned_visit(h, lower, next, pick).unwrap_or(pick);
            if pick <= until {
                // Before the next grid date, so never equal to one.
                let at = out.partition_point(|x| *x < pick);
                out.insert(at, pick);
            }
        }
    }
    out
}

fn floating(r: &Rule, h: &History<'_>, today: i64, until: i64) -> Option<i64> {
    if h.overdue_pending || h.orders.iter().any(|(_, s)| *s == OrderState::Started) {
        return None;
    }
    let step = r.interval_days;
    let mut next = r.start;
    if let Some(c) = h.last_completion {
        next = next.max(c + step);
    }
    if let Some(s) = h.last_skipped {
        next = next.max(s + step);
    }
    next = next.max(today);
    if let Some(m) = meter_due(r, h) {
        let lower = today
            .max(r.start)
            .max(h.last_completion.map_or(i64::MIN, |c| c + 1));
        let pick = m.max(lower);
        if pick < next {
            next = planned_visit(h, lower, next, pick).unwrap_or(pick);
        }
    }
    (next <= until).then_some(next)
}

/// What the scheduler changes for one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Due days to create orders for.
    pub create: Vec<i64>,
    /// Due days whose plan-cancelled order comes back.
    pub restore: Vec<i64>,
    /// Due days whose open order is cancelled ([`PLAN_CHANGED`]).
    pub cancel: Vec<i64>,
}

impl Changes {
    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.restore.is_empty() && self.cancel.is_empty()
    }
}

/// The changes that make `orders` (the unit's orders due today or later, ascending) match
/// `desired` (ascending, from [`expand`] up to at least the last order's due day): create or
/// restore what is desired up to `create_until`, cancel open orders no longer desired.
pub fn reconcile(
    desired: &[i64],
    orders: &[(i64, OrderState)],
    today: i64,
    create_until: i64,
) -> Changes {
    let mut ch = Changes::default();
    for &d in desired
        .iter()
        .filter(|d| **d >= today && **d <= create_until)
    {
        match orders.binary_search_by_key(&d, |o| o.0) {
            Err(_) => ch.create.push(d),
            Ok(i) if orders[i].1 == OrderState::CancelledByPlan => ch.restore.push(d),
            Ok(_) => {}
        }
    }
    for &(d, s) in orders {
        if s == OrderState::Open && d >= today && desired.binary_search(&d).is_err() {
            ch.cancel.push(d);
        }
    }
    ch
}

/// The `until` to expand to: the window end, or the last order's due day if later (so that
/// an order beyond a shortened window is judged by the rule, not by the window).
pub fn expand_until(r: &Rule, orders: &[(i64, OrderState)], today: i64) -> i64 {
    let end = window_end(r, today);
    orders.last().map_or(end, |o| o.0.max(end))
}

/// `YYYY-MM` of a `YYYY-MM-DD` date.
pub fn month_of(date: &str) -> &str {
    date.get(..7).unwrap_or(date)
}

/// The day number of a date (re-exported for callers of this module).
pub fn day(date: &str) -> Option<i64> {
    days_of(date)
}

/// The date of a day number (re-exported for callers of this module).
pub fn date(day: i64) -> String {
    date_of_days(day)
}

/// What a plan covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One unit (equipment id).
    Unit(i64),
    /// Every unit in service of a product (product id).
    Product(i64),
}

/// A validated maintenance plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDraft {
    pub name: String,
    pub target: Target,
    pub template_id: i64,
    pub interval_days: i64,
    pub mode: Mode,
    /// Meter interval and meter unit (e.g. 500, "h").
    pub meter: Option<(i64, String)>,
    /// YYYY-MM-DD.
    pub start_date: String,
    pub lead_days: i64,
    pub horizon_days: i64,
}

/// Raw plan input as typed; numbers arrive as text (the API passes its integers formatted).
#[derive(Debug, Clone, Default)]
pub struct PlanRaw<'a> {
    pub name: &'a str,
    pub equipment_id: Option<i64>,
    pub product_id: Option<i64>,
    pub template_id: Option<i64>,
    pub interval_days: &'a str,
    /// `fixed` (default) or `floating`.
    pub mode: Option<&'a str>,
    pub meter_interval: Option<&'a str>,
    pub meter_unit: Option<&'a str>,
    pub start_date: &'a str,
    /// Empty: [`DEFAULT_LEAD_DAYS`].
    pub lead_days: Option<&'a str>,
    /// Empty: [`DEFAULT_HORIZON_DAYS`].
    pub horizon_days: Option<&'a str>,
}

/// Lead time when none is given.
pub const DEFAULT_LEAD_DAYS: i64 = 14;
/// Horizon when none is given.
pub const DEFAULT_HORIZON_DAYS: i64 = 90;

/// A whole number in `[min, max]`; `code` with `max` as argument otherwise.
fn days(
    errs: &mut FieldErrors,
    field: &str,
    raw: &str,
    min: i64,
    max: i64,
    code: &'static str,
) -> i64 {
    match raw.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => n,
        _ => {
            errs.add(field, code, Some(max.to_string()));
            min
        }
    }
}

impl PlanDraft {
    /// Parses raw input: a name; exactly one of unit or product; a checklist level; an
    /// interval of 1 to 3660 days; fixed or floating; a meter interval > 0 with its unit, or
    /// neither; a start date; lead time 0–365 and horizon 0–730 days.
    pub fn parse(mut errs: FieldErrors, raw: PlanRaw<'_>) -> Result<Self, DomainError> {
        let name = text::required(&mut errs, "name", raw.name, 200);
        let target = match (raw.equipment_id, raw.product_id) {
            (Some(e), None) => Target::Unit(e),
            (None, Some(p)) => Target::Product(p),
            _ => {
                errs.add("target", "plan_target", None);
                Target::Unit(0)
            }
        };
        let template_id = raw.template_id.unwrap_or_else(|| {
            errs.add("template_id", "required", None);
            0
        });
        let interval_days = if raw.interval_days.trim().is_empty() {
            errs.add("interval_days", "required", None);
            1
        } else {
            days(
                &mut errs,
                "interval_days",
                raw.interval_days,
                1,
                MAX_INTERVAL_DAYS,
                "plan_interval",
            )
        };
        let mode = match raw.mode.map(str::trim).filter(|m| !m.is_empty()) {
            None => Mode::Fixed,
            Some(m) => Mode::parse(m).unwrap_or_else(|| {
                errs.add("mode", "choice", None);
                Mode::Fixed
            }),
        };
        let mi = raw.meter_interval.map(str::trim).filter(|m| !m.is_empty());
        let unit = text::optional(&mut errs, "meter_unit", raw.meter_unit, 16);
        let meter = match (mi, unit) {
            (None, None) => None,
            (None, Some(_)) => {
                errs.add("meter_interval", "required", None);
                None
            }
            (Some(m), u) => {
                let n = match m.parse::<i64>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        errs.add("meter_interval", "plan_meter_interval", None);
                        1
                    }
                };
                match u {
                    Some(u) => Some((n, u)),
                    None => {
                        errs.add("meter_unit", "required", None);
                        None
                    }
                }
            }
        };
        let start_date = text::required(&mut errs, "start_date", raw.start_date, 10);
        if !start_date.is_empty() && !valid_date(&start_date) {
            errs.add("start_date", "date", None);
        }
        let lead_days = match raw.lead_days.map(str::trim).filter(|v| !v.is_empty()) {
            None => DEFAULT_LEAD_DAYS,
            Some(v) => days(&mut errs, "lead_days", v, 0, MAX_LEAD_DAYS, "plan_days"),
        };
        let horizon_days = match raw.horizon_days.map(str::trim).filter(|v| !v.is_empty()) {
            None => DEFAULT_HORIZON_DAYS,
            Some(v) => days(
                &mut errs,
                "horizon_days",
                v,
                0,
                MAX_HORIZON_DAYS,
                "plan_days",
            ),
        };
        errs.into_result(PlanDraft {
            name,
            target,
            template_id,
            interval_days,
            mode,
            meter,
            start_date,
            lead_days,
            horizon_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn d(s: &str) -> i64 {
        days_of(s).unwrap()
    }

    fn rule(start: &str, interval: i64, mode: Mode) -> Rule {
        Rule {
            start: d(start),
            interval_days: interval,
            mode,
            meter_interval: None,
            lead_days: 14,
            horizon_days: 90,
        }
    }

    fn dates(v: &[i64]) -> Vec<String> {
        v.iter().map(|x| date_of_days(*x)).collect()
    }

    #[test]
    fn fixed_monthly_within_the_horizon() {
        let r = rule("2026-01-05", 30, Mode::Fixed);
        let today = d("2026-02-10");
        let out = expand(&r, &History::default(), today, window_end(&r, today));
        assert_eq!(
            dates(&out),
            vec!["2026-03-06", "2026-04-05", "2026-05-05"],
            "grid dates from today to today + 90 days; 2026-02-04 has passed"
        );
    }

    #[test]
    fn the_longer_of_lead_and_horizon_sets_the_window() {
        let mut r = rule("2026-01-01", 7, Mode::Fixed);
        r.horizon_days = 0;
        r.lead_days = 10;
        assert_eq!(window_end(&r, 100), 110);
        r.horizon_days = 30;
        assert_eq!(window_end(&r, 100), 130);
    }

    #[test]
    fn a_start_in_the_future_waits_for_the_start() {
        let r = rule("2026-03-01", 30, Mode::Fixed);
        let out = expand(&r, &History::default(), d("2026-01-15"), d("2026-04-15"));
        assert_eq!(dates(&out), vec!["2026-03-01", "2026-03-31"]);
        let f = rule("2026-03-01", 30, Mode::Floating);
        let out = expand(&f, &History::default(), d("2026-01-15"), d("2026-04-15"));
        assert_eq!(dates(&out), vec!["2026-03-01"]);
    }

    #[test]
    fn floating_follows_the_last_completion() {
        let r = rule("2026-01-01", 30, Mode::Floating);
        let today = d("2026-02-01");
        let h = History {
            last_completion: Some(d("2026-01-20")),
            ..Default::default()
        };
        assert_eq!(
            dates(&expand(&r, &h, today, d("2026-06-01"))),
            vec!["2026-02-19"]
        );
        // A late completion moves the next due date later.
        let h = History {
            last_completion: Some(d("2026-02-01")),
            ..Default::default()
        };
        assert_eq!(
            dates(&expand(&r, &h, today, d("2026-06-01"))),
            vec!["2026-03-03"]
        );
        // A skipped (cancelled) visit counts as the reference too.
        let h = History {
            last_completion: Some(d("2025-12-01")),
            last_skipped: Some(d("2026-01-25")),
            ..Default::default()
        };
        assert_eq!(
            dates(&expand(&r, &h, today, d("2026-06-01"))),
            vec!["2026-02-24"]
        );
        // Overdue since 2025-12-31 and no order: due today.
        let h = History {
            last_completion: Some(d("2025-12-01")),
            ..Default::default()
        };
        assert_eq!(
            dates(&expand(&r, &h, today, d("2026-06-01"))),
            vec!["2026-02-01"]
        );
    }

    #[test]
    fn floating_waits_for_the_visit_under_way() {
        let r = rule("2026-01-01", 30, Mode::Floating);
        let orders = [(d("2026-02-10"), OrderState::Started)];
        let h = History {
            orders: &orders,
            ..Default::default()
        };
        assert!(expand(&r, &h, d("2026-02-01"), d("2026-06-01")).is_empty());
        let h = History {
            overdue_pending: true,
            ..Default::default()
        };
        assert!(expand(&r, &h, d("2026-02-01"), d("2026-06-01")).is_empty());
    }

    fn readings(v: &[(&str, i64)]) -> Vec<Reading> {
        v.iter()
            .map(|(s, x)| Reading {
                day: d(s),
                value: *x,
            })
            .collect()
    }

    #[test]
    fn meter_projection_at_the_average_rate() {
        let mut r = rule("2026-01-01", 180, Mode::Fixed);
        r.meter_interval = Some(500);
        // Baseline 1000 on 2026-01-01; 10 h a day → 1500 on 2026-02-20.
        let rs = readings(&[
            ("2026-01-01", 1000),
            ("2026-01-11", 1100),
            ("2026-01-21", 1200),
        ]);
        let h = History {
            readings: &rs,
            ..Default::default()
        };
        assert_eq!(meter_due(&r, &h), Some(d("2026-02-20")));
        let out = expand(&r, &h, d("2026-01-25"), d("2026-08-01"));
        assert_eq!(
            dates(&out),
            vec!["2026-02-20", "2026-06-30"],
            "the meter date is an extra visit before the next grid date"
        );
        // The threshold already reached on a reading: due that day (not before today).
        let rs = readings(&[("2026-01-01", 1000), ("2026-01-11", 1600)]);
        let h = History {
            readings: &rs,
            ..Default::default()
        };
        assert_eq!(meter_due(&r, &h), Some(d("2026-01-11")));
        let out = expand(&r, &h, d("2026-01-25"), d("2026-03-01"));
        assert_eq!(dates(&out), vec!["2026-01-25"]);
        // After a completion the baseline is the reading on or before it.
        let rs = readings(&[
            ("2026-01-01", 1000),
            ("2026-01-11", 1600),
            ("2026-01-12", 1610),
            ("2026-01-22", 1710),
        ]);
        let h = History {
            readings: &rs,
            last_completion: Some(d("2026-01-12")),
            ..Default::default()
        };
        // 1610 + 500 = 2110; rate over the last 5 readings: 710 / 21 days → 400 more in 12 days.
        assert_eq!(meter_due(&r, &h), Some(d("2026-02-03")));
        // No rise, no projection.
        let rs = readings(&[("2026-01-01", 1000), ("2026-01-11", 1000)]);
        let h = History {
            readings: &rs,
            ..Default::default()
        };
        assert_eq!(meter_due(&r, &h), None);
    }

    #[test]
    fn floating_meter_whichever_comes_first() {
        let mut r = rule("2026-01-01", 90, Mode::Floating);
        r.meter_interval = Some(100);
        let rs = readings(&[("2026-01-01", 0), ("2026-01-11", 50)]);
        let h = History {
            readings: &rs,
            last_completion: Some(d("2026-01-01")),
            ..Default::default()
        };
        // 5 a day from 50 on 01-11 → 100 on 01-21, before 04-01.
        assert_eq!(
            dates(&expand(&r, &h, d("2026-01-15"), d("2026-06-01"))),
            vec!["2026-01-21"]
        );
        // A planned open order on or before the meter date is kept as the meter visit.
        let orders = [(d("2026-01-19"), OrderState::Open)];
        let h2 = History {
            orders: &orders,
            ..h
        };
        assert_eq!(
            dates(&expand(&r, &h2, d("2026-01-15"), d("2026-06-01"))),
            vec!["2026-01-19"]
        );
        // One later than the meter date moves.
        let orders = [(d("2026-01-25"), OrderState::Open)];
        let h3 = History {
            orders: &orders,
            ..h
        };
        let out = expand(&r, &h3, d("2026-01-15"), d("2026-06-01"));
        assert_eq!(dates(&out), vec!["2026-01-21"]);
        let ch = reconcile(&out, &orders, d("2026-01-15"), d("2026-04-15"));
        assert_eq!(ch.create, vec![d("2026-01-21")]);
        assert_eq!(ch.cancel, vec![d("2026-01-25")]);
    }

    #[test]
    fn reconcile_creates_restores_and_cancels() {
        let orders = [
            (10, OrderState::Open),
            (20, OrderState::Started),
            (25, OrderState::Open),
            (30, OrderState::CancelledByPlan),
            (40, OrderState::Cancelled),
        ];
        let ch = reconcile(&[10, 30, 40, 50, 60], &orders, 5, 55);
        assert_eq!(ch.create, vec![50], "60 is beyond the window");
        assert_eq!(ch.restore, vec![30]);
        assert_eq!(
            ch.cancel,
            vec![25],
            "started (20) and user-cancelled (40) orders stay"
        );
        // Orders due before today are never touched.
        let ch = reconcile(&[], &[(3, OrderState::Open)], 5, 55);
        assert!(ch.is_empty());
    }

    #[test]
    fn order_states() {
        assert_eq!(OrderState::of("created", None), OrderState::Open);
        assert_eq!(OrderState::of("dispatched", None), OrderState::Started);
        assert_eq!(OrderState::of("accepted", None), OrderState::Done);
        assert_eq!(
            OrderState::of("cancelled", Some(PLAN_CHANGED)),
            OrderState::CancelledByPlan
        );
        assert_eq!(
            OrderState::of("cancelled", Some("客户停产")),
            OrderState::Cancelled
        );
        assert_eq!(OrderState::of("mystery", None), OrderState::Started);
    }

    #[test]
    fn plan_parses() {
        let p = PlanDraft::parse(
            FieldErrors::default(),
            PlanRaw {
                name: " 月度例行保养 ",
                product_id: Some(3),
                template_id: Some(1),
                interval_days: "30",
                mode: Some("floating"),
                meter_interval: Some("500"),
                meter_unit: Some("h"),
                start_date: "2026-01-01",
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(p.name, "月度例行保养");
        assert_eq!(p.target, Target::Product(3));
        assert_eq!(p.mode, Mode::Floating);
        assert_eq!(p.meter, Some((500, "h".into())));
        assert_eq!(
            (p.lead_days, p.horizon_days),
            (DEFAULT_LEAD_DAYS, DEFAULT_HORIZON_DAYS)
        );
        let e = PlanDraft::parse(
            FieldErrors::default(),
            PlanRaw {
                name: "",
                equipment_id: Some(1),
                product_id: Some(2),
                interval_days: "0",
                mode: Some("weekly"),
                meter_interval: Some("-1"),
                start_date: "2026-02-30",
                lead_days: Some("400"),
                horizon_days: Some("x"),
                ..Default::default()
            },
        )
        .unwrap_err();
        let DomainError::Invalid(f) = e else {
            panic!("{e:?}")
        };
        let got: Vec<(&str, &str)> = f.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(
            got,
            vec![
                ("name", "required"),
                ("target", "plan_target"),
                ("template_id", "required"),
                ("interval_days", "plan_interval"),
                ("mode", "choice"),
                ("meter_interval", "plan_meter_interval"),
                ("meter_unit", "required"),
                ("start_date", "date"),
                ("lead_days", "plan_days"),
                ("horizon_days", "plan_days"),
            ]
        );
    }

    // --- Simulation: the scheduler's loop over days, in memory. ---

    #[derive(Default)]
    struct Sim {
        orders: BTreeMap<i64, OrderState>,
        last_completion: Option<i64>,
        readings: Vec<Reading>,
    }

    impl Sim {
        fn run(&mut self, r: &Rule, today: i64) -> Changes {
            let orders: Vec<(i64, OrderState)> =
                self.orders.range(today..).map(|(d, s)| (*d, *s)).collect();
            let last_skipped = self
                .orders
                .iter()
                .filter(|(_, s)| **s == OrderState::Cancelled)
                .map(|(d, _)| *d)
                .max();
            let h = History {
                last_completion: self.last_completion,
                last_skipped,
                readings: &self.readings,
                orders: &orders,
                overdue_pending: self.orders.range(..today).any(|(_, s)| s.is_pending()),
            };
            let desired = expand(r, &h, today, expand_until(r, &orders, today));
            let ch = reconcile(&desired, &orders, today, window_end(r, today));
            for d in ch.create.iter().chain(&ch.restore) {
                self.orders.insert(*d, OrderState::Open);
            }
            for d in &ch.cancel {
                self.orders.insert(*d, OrderState::CancelledByPlan);
            }
            ch
        }

        fn live(&self) -> Vec<i64> {
            self.orders
                .iter()
                .filter(|(_, s)| !matches!(s, OrderState::Cancelled | OrderState::CancelledByPlan))
                .map(|(d, _)| *d)
                .collect()
        }
    }

    fn arb_rule(mode: Mode) -> impl Strategy<Value = Rule> {
        (
            19_000i64..21_000,
            1i64..120,
            0i64..60,
            0i64..400,
            proptest::option::of(1i64..2_000),
        )
            .prop_map(move |(start, interval, lead, horizon, meter)| Rule {
                start,
                interval_days: interval,
                mode,
                meter_interval: meter,
                lead_days: lead,
                horizon_days: horizon,
            })
    }

    fn arb_readings() -> impl Strategy<Value = Vec<Reading>> {
        proptest::collection::vec((0i64..40, 0i64..300), 0..8).prop_map(|steps| {
            let (mut day, mut value) = (19_500i64, 0i64);
            steps
                .into_iter()
                .map(|(dd, dv)| {
                    day += dd;
                    value += dv;
                    Reading { day, value }
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn fixed_has_no_duplicates_and_no_gaps(mut r in arb_rule(Mode::Fixed), today in 19_000i64..21_500) {
            r.meter_interval = None;
            let until = window_end(&r, today);
            let out = expand(&r, &History::default(), today, until);
            let first = grid_at_or_after(r.start, r.interval_days, today);
            if first <= until {
                prop_assert_eq!(out.first().copied(), Some(first));
            } else {
                prop_assert!(out.is_empty());
            }
            for w in out.windows(2) {
                prop_assert_eq!(w[1] - w[0], r.interval_days);
            }
            for x in &out {
                prop_assert!(*x >= today && *x >= r.start && *x <= until);
                prop_assert_eq!((x - r.start) % r.interval_days, 0);
            }
            if let Some(l) = out.last() {
                prop_assert!(l + r.interval_days > until);
            }
        }

        #[test]
        fn re_expansion_is_stable(r in prop_oneof![arb_rule(Mode::Fixed), arb_rule(Mode::Floating)],
                                  rs in arb_readings(), last in proptest::option::of(19_000i64..21_000),
                                  today in 19_000i64..21_500) {
            let mut sim = Sim { readings: rs, last_completion: last, ..Default::default() };
            sim.run(&r, today);
            let before = sim.orders.clone();
            let again = sim.run(&r, today);
            prop_assert!(again.is_empty(), "second run changed {:?}", again);
            prop_assert_eq!(before, sim.orders);
        }

        #[test]
        fn fixed_daily_runs_create_every_grid_date_once(mut r in arb_rule(Mode::Fixed), t0 in 19_000i64..21_000, n in 1i64..200) {
            r.meter_interval = None;
            let mut sim = Sim::default();
            let mut created = Vec::new();
            for today in t0..t0 + n {
                created.extend(sim.run(&r, today).create);
            }
            let mut sorted = created.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), created.len(), "a due date was created twice");
            let last_day = t0 + n - 1;
            let end = window_end(&r, last_day);
            let want = expand(&r, &History::default(), t0, end);
            prop_assert_eq!(sim.live(), want);
        }

        #[test]
        fn edits_only_affect_dues_from_the_edit_date(a in arb_rule(Mode::Fixed), b in arb_rule(Mode::Fixed),
                                                     t0 in 19_000i64..21_000, before in 1i64..100, after in 1i64..100,
                                                     started in proptest::collection::vec(any::<bool>(), 0..50)) {
            let (mut a, mut b) = (a, b);
            a.meter_interval = None;
            b.meter_interval = None;
            let mut sim = Sim::default();
            let edit = t0 + before;
            for today in t0..edit {
                sim.run(&a, today);
            }
            // Some of the old rule's orders have been started.
            for ((_, s), st) in sim.orders.iter_mut().zip(started.iter().cycle()) {
                if *st {
                    *s = OrderState::Started;
                }
            }
            let old: BTreeMap<i64, OrderState> = sim.orders.clone();
            for today in edit..edit + after {
                sim.run(&b, today);
            }
            // Dues before the edit date and started orders are untouched.
            for (d, s) in &old {
                if *d < edit || *s == OrderState::Started {
                    prop_assert_eq!(sim.orders.get(d), Some(s));
                }
            }
            // From the edit date on, the live orders are the new rule's dates plus the started ones.
            let last_day = edit + after - 1;
            let mut want = expand(&b, &History::default(), edit, window_end(&b, last_day));
            // Old orders still live: the started ones, and those the new rule wants even
            // beyond its window (they would be created later anyway).
            let on_b = |d: i64| d >= b.start && (d - b.start) % b.interval_days == 0;
            want.extend(old.iter().filter(|(d, s)| **d >= edit && (**s == OrderState::Started || on_b(**d))).map(|(d, _)| *d));
            want.sort();
            want.dedup();
            let live: Vec<i64> = sim.live().into_iter().filter(|d| *d >= edit).collect();
            prop_assert_eq!(live, want);
        }

        #[test]
        fn floating_next_due_is_after_the_last_completion(r in arb_rule(Mode::Floating), rs in arb_readings(),
                                                          last in proptest::option::of(19_000i64..21_000),
                                                          skipped in proptest::option::of(19_000i64..21_000),
                                                          today in 19_000i64..21_500) {
            let h = History { last_completion: last, last_skipped: skipped, readings: &rs, ..Default::default() };
            let out = expand(&r, &h, today, today + 5_000);
            prop_assert!(out.len() <= 1);
            for x in &out {
                prop_assert!(*x >= today && *x >= r.start);
                if let Some(c) = last {
                    prop_assert!(*x > c);
                }
            }
            if r.meter_interval.is_none() {
                let want = [Some(r.start), last.map(|c| c + r.interval_days), skipped.map(|s| s + r.interval_days), Some(today)]
                    .into_iter().flatten().max();
                prop_assert_eq!(out.first().copied(), want);
            }
        }

        #[test]
        fn meter_never_makes_a_due_later(r in prop_oneof![arb_rule(Mode::Fixed), arb_rule(Mode::Floating)],
                                         rs in arb_readings(), last in proptest::option::of(19_000i64..21_000),
                                         today in 19_000i64..21_500) {
            let h = History { last_completion: last, readings: &rs, ..Default::default() };
            let until = window_end(&r, today);
            let with = expand(&r, &h, today, until);
            let time_only = Rule { meter_interval: None, ..r.clone() };
            let without = expand(&time_only, &h, today, until);
            if let Some(w) = without.first() {
                prop_assert!(with.first().is_some_and(|m| m <= w));
            }
            if r.mode == Mode::Fixed {
                for w in &without {
                    prop_assert!(with.contains(w), "the grid is kept");
                }
            }
        }

        #[test]
        fn floating_keeps_one_visit_at_a_time(mut r in arb_rule(Mode::Floating), t0 in 19_000i64..21_000, n in 1i64..300,
                                              late in proptest::collection::vec(0i64..20, 1..20)) {
            r.meter_interval = None;
            let mut sim = Sim::default();
            let mut lates = late.iter().cycle();
            let mut finish_on: Option<(i64, i64)> = None;
            for today in t0..t0 + n {
                // Complete the pending order some days after its due date.
                if let Some((due, day)) = finish_on && day == today {
                    sim.orders.insert(due, OrderState::Done);
                    sim.last_completion = Some(today);
                    finish_on = None;
                }
                let ch = sim.run(&r, today);
                for c in &ch.create {
                    if let Some(l) = sim.last_completion {
                        prop_assert!(*c > l);
                    }
                }
                let pending: Vec<i64> = sim.orders.iter().filter(|(_, s)| s.is_pending()).map(|(d, _)| *d).collect();
                prop_assert!(pending.len() <= 1, "{:?}", pending);
                if finish_on.is_none() && let Some(p) = pending.first() {
                    let late = *lates.next().unwrap_or(&0);
                    finish_on = Some((*p, (*p + late).max(today + 1)));
                }
            }
        }
    }
}
