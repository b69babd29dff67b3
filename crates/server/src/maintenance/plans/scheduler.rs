//! The scheduler: for every plan and every unit it covers, the orders of the due dates inside
//! the window exist exactly once (domain::maintenance::schedule has the rule), and overdue
//! orders are flagged once. Set-based: per plan one query each for its units, their
//! histories, their orders and readings; the rule runs in memory; orders are written in
//! multi-row statements (ON CONFLICT DO NOTHING on the unique plan / unit / due date index),
//! several statements a transaction. Any number of runs may overlap: each order is created
//! once, and the number counter's row lock (taken before the last existence check) keeps
//! numbers free of gaps.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use domain::calendar::WorkCalendar;
use domain::maintenance::schedule::{
    self as rule, History, Mode, OrderState, PLAN_CHANGED, Reading, Rule,
};
use serde::Serialize;
use store::Db;
use store::maintenance::numbers;
use store::maintenance::plans::{self as repo, NewPlanOrder, SchedPlan, SchedUnit};
use store::notifications::{Audience, notify};

use crate::complaints::sla;
use crate::error::{AppError, AppResult};

/// Order rows written per transaction (several INSERT statements of
/// [`repo::INSERT_ROWS`] rows each).
const TX_ROWS: usize = 5000;
/// A deactivated plan is looked at for this long after the change (its open orders are
/// cancelled by the first run that sees it).
const INACTIVE_GRACE_SECS: i64 = 2 * 86_400;
/// Overdue orders flagged per transaction.
const OVERDUE_BATCH: i64 = 200;

/// What a scheduler run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SchedulerReport {
    /// Plans looked at.
    pub plans: u64,
    /// Units looked at.
    pub units: u64,
    /// Orders created.
    pub created: u64,
    /// Orders cancelled because their plan changed.
    pub cancelled: u64,
    /// Orders cancelled by an earlier plan change that are due again.
    pub restored: u64,
}

impl SchedulerReport {
    fn add(&mut self, o: SchedulerReport) {
        self.plans += o.plans;
        self.units += o.units;
        self.created += o.created;
        self.cancelled += o.cancelled;
        self.restored += o.restored;
    }
}

/// Runs every active plan (and plans deactivated in the last two days) at `now`.
pub async fn run_scheduler(db: &Db, now: i64) -> AppResult<SchedulerReport> {
    let plans = {
        let mut h = db.acquire().await?;
        repo::scheduled_plans(&mut h.c(), now - INACTIVE_GRACE_SECS).await?
    };
    let mut cals: HashMap<i64, WorkCalendar> = HashMap::new();
    let mut rep = SchedulerReport::default();
    for p in &plans {
        let cal = match cals.entry(p.org_id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                let mut h = db.acquire().await?;
                v.insert(sla::calendar(&mut h.c(), p.org_id).await?)
            }
        };
        rep.add(run(db, p, cal, now).await?);
    }
    Ok(rep)
}

/// Runs one plan of an organization at `now` (after an edit, or on demand).
pub async fn run_plan(db: &Db, org: i64, id: i64, now: i64) -> AppResult<SchedulerReport> {
    let (p, cal) = {
        let mut h = db.acquire().await?;
        let p = repo::sched_plan(&mut h.c(), org, id).await?;
        (p, sla::calendar(&mut h.c(), org).await?)
    };
    run(db, &p, &cal, now).await
}

/// How many units a plan covers (the service runs small plans before it answers).
pub async fn unit_count(db: &Db, org: i64, id: i64) -> AppResult<usize> {
    let mut h = db.acquire().await?;
    let p = repo::sched_plan(&mut h.c(), org, id).await?;
    Ok(repo::unit_count(&mut h.c(), &p).await?.max(0) as usize)
}

fn day_of(date: &str) -> AppResult<i64> {
    rule::day(date).ok_or_else(|| AppError::Internal(format!("bad date in the database: {date}")))
}

/// Everything the rule needs about a plan's units, read in one query each.
struct Loaded {
    units: Vec<SchedUnit>,
    /// Unit → (last completion day, last skipped due day).
    history: HashMap<i64, (Option<i64>, Option<i64>)>,
    /// Unit → its orders due today or later: (due day, state, order id), by due day.
    orders: HashMap<i64, Vec<(i64, OrderState, i64)>>,
    overdue: HashSet<i64>,
    readings: HashMap<i64, Vec<Reading>>,
}

async fn load(
    db: &Db,
    p: &SchedPlan,
    r: &Rule,
    cal: &WorkCalendar,
    today: &str,
) -> AppResult<Loaded> {
    let mut h = db.acquire().await?;
    let units = repo::units(&mut h.c(), p).await?;
    let mut history = HashMap::new();
    if r.mode == Mode::Floating || r.meter_interval.is_some() {
        for (eq, completed, skipped) in repo::histories(&mut h.c(), p.id, PLAN_CHANGED).await? {
            let c = completed.and_then(|t| rule::day(&cal.local_date(t)));
            let s = skipped.as_deref().and_then(rule::day);
            history.insert(eq, (c, s));
        }
    }
    let mut orders: HashMap<i64, Vec<(i64, OrderState, i64)>> = HashMap::new();
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = repo::orders_from(
            &mut h.c(),
            p.id,
            today,
            after.as_ref().map(|(e, d)| (*e, d.as_str())),
            repo::ORDERS_PAGE,
        )
        .await?;
        let full = page.len() as i64 >= repo::ORDERS_PAGE;
        for o in &page {
            let state = OrderState::of(&o.status, o.cancel_reason.as_deref());
            orders
                .entry(o.equipment_id)
                .or_default()
                .push((day_of(&o.due_date)?, state, o.id));
        }
        match page.into_iter().last() {
            Some(o) if full => after = Some((o.equipment_id, o.due_date)),
            _ => break,
        }
    }
    let overdue = if r.mode == Mode::Floating {
        repo::overdue_units(&mut h.c(), p.org_id, p.id, today)
            .await?
            .into_iter()
            .collect()
    } else {
        HashSet::new()
    };
    let mut readings: HashMap<i64, Vec<Reading>> = HashMap::new();
    if r.meter_interval.is_some() {
        for (eq, read_on, value) in repo::readings(&mut h.c(), p).await? {
            readings.entry(eq).or_default().push(Reading {
                day: day_of(&read_on)?,
                value,
            });
        }
    }
    Ok(Loaded {
        units,
        history,
        orders,
        overdue,
        readings,
    })
}

fn rule_of(p: &SchedPlan) -> AppResult<Rule> {
    Ok(Rule {
        start: day_of(&p.start_date)?,
        interval_days: p.interval_days.max(1),
        mode: Mode::parse(&p.mode).unwrap_or(Mode::Fixed),
        meter_interval: p.meter_interval.filter(|_| p.meter_unit.is_some()),
        lead_days: p.lead_days,
        horizon_days: p.horizon_days,
    })
}

/// Orders to create, collected unit by unit (in unit id order) and written in batches.
struct Creator<'a> {
    db: &'a Db,
    p: &'a SchedPlan,
    year: i64,
    now: i64,
    /// (unit, due day).
    buf: Vec<(&'a SchedUnit, i64)>,
    created: u64,
}

impl Creator<'_> {
    async fn flush(&mut self) -> AppResult<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let (Some(first), Some(last)) = (self.buf.first(), self.buf.last()) else {
            return Ok(());
        };
        let eq = (first.0.id, last.0.id);
        let lo = self.buf.iter().map(|b| b.1).min().unwrap_or(first.1);
        let hi = self.buf.iter().map(|b| b.1).max().unwrap_or(first.1);
        let (lo, hi) = (rule::date(lo), rule::date(hi));
        let org = self.p.org_id;
        let mut tx = self.db.begin().await?;
        // Lock the counter first: a run that committed these orders meanwhile is seen by
        // the check below, so no number is reserved for a row that would not be inserted.
        repo::lock_numbers(&mut tx.c(), org, self.year).await?;
        let existing: HashSet<(i64, String)> =
            repo::existing_in(&mut tx.c(), self.p.id, eq, (&lo, &hi))
                .await?
                .into_iter()
                .collect();
        let mut rows: Vec<NewPlanOrder> = Vec::with_capacity(self.buf.len());
        for (u, d) in &self.buf {
            let due = rule::date(*d);
            if existing.contains(&(u.id, due.clone())) {
                continue;
            }
            rows.push(NewPlanOrder {
                number: String::new(),
                equipment_id: u.id,
                customer_id: u.customer_id,
                product_id: u.product_id,
                site: u.site.clone(),
                due_date: due,
            });
        }
        if !rows.is_empty() {
            let seq = numbers::reserve(&mut tx.c(), org, self.year, rows.len() as i64).await?;
            for (i, r) in rows.iter_mut().enumerate() {
                r.number = numbers::format(self.year, seq + i as i64);
            }
            self.created += repo::insert_orders(
                &mut tx.c(),
                org,
                self.p.id,
                self.p.template_id,
                &rows,
                self.now,
            )
            .await?;
        }
        tx.commit().await?;
        self.buf.clear();
        Ok(())
    }
}

async fn write_ids(db: &Db, org: i64, ids: &[i64], cancel: bool, now: i64) -> AppResult<u64> {
    let mut n = 0;
    for chunk in ids.chunks(TX_ROWS) {
        let mut tx = db.begin().await?;
        let done = if cancel {
            repo::cancel_open(&mut tx.c(), org, chunk, PLAN_CHANGED, now).await?
        } else {
            repo::restore_cancelled(&mut tx.c(), org, chunk, PLAN_CHANGED, now).await?
        };
        tx.commit().await?;
        n += done.len() as u64;
    }
    Ok(n)
}

async fn run(db: &Db, p: &SchedPlan, cal: &WorkCalendar, now: i64) -> AppResult<SchedulerReport> {
    let started = std::time::Instant::now();
    let today = cal.local_date(now);
    let today_d = day_of(&today)?;
    let r = rule_of(p)?;
    let l = load(db, p, &r, cal, &today).await?;
    let loaded = started.elapsed();
    let year = today.get(..4).and_then(|y| y.parse().ok()).unwrap_or(1970);
    let create_until = rule::window_end(&r, today_d);
    let mut cancel: Vec<i64> = Vec::new();
    let mut restore: Vec<i64> = Vec::new();
    let mut cr = Creator {
        db,
        p,
        year,
        now,
        buf: Vec::new(),
        created: 0,
    };
    let id_at = |os: &[(i64, OrderState, i64)], d: i64| os.iter().find(|o| o.0 == d).map(|o| o.2);
    let mut seen: HashSet<i64> = HashSet::with_capacity(l.units.len());
    for u in &l.units {
        seen.insert(u.id);
        let os = l.orders.get(&u.id).map(Vec::as_slice).unwrap_or(&[]);
        let states: Vec<(i64, OrderState)> = os.iter().map(|o| (o.0, o.1)).collect();
        let desired = if p.active {
            let (last, skipped) = l.history.get(&u.id).copied().unwrap_or((None, None));
            let h = History {
                last_completion: last,
                last_skipped: skipped,
                readings: l.readings.get(&u.id).map(Vec::as_slice).unwrap_or(&[]),
                orders: &states,
                overdue_pending: l.overdue.contains(&u.id),
            };
            rule::expand(&r, &h, today_d, rule::expand_until(&r, &states, today_d))
        } else {
            Vec::new()
        };
        let ch = rule::reconcile(&desired, &states, today_d, create_until);
        cancel.extend(ch.cancel.iter().filter_map(|d| id_at(os, *d)));
        restore.extend(ch.restore.iter().filter_map(|d| id_at(os, *d)));
        for d in ch.create {
            cr.buf.push((u, d));
        }
        if cr.buf.len() >= TX_ROWS {
            cr.flush().await?;
        }
    }
    cr.flush().await?;
    // Units the plan no longer covers (retired, or moved to another product): their open
    // orders from today on go.
    for (eq, os) in &l.orders {
        if !seen.contains(eq) {
            cancel.extend(os.iter().filter(|o| o.1 == OrderState::Open).map(|o| o.2));
        }
    }
    let cancelled = write_ids(db, p.org_id, &cancel, true, now).await?;
    let restored = write_ids(db, p.org_id, &restore, false, now).await?;
    let rep = SchedulerReport {
        plans: 1,
        units: l.units.len() as u64,
        created: cr.created,
        cancelled,
        restored,
    };
    let ms = started.elapsed().as_millis() as u64;
    let load_ms = loaded.as_millis() as u64;
    if rep.created + rep.cancelled + rep.restored > 0 {
        tracing::info!(
            plan = p.id,
            units = rep.units,
            created = rep.created,
            cancelled = rep.cancelled,
            restored = rep.restored,
            load_ms,
            ms,
            "maintenance plan scheduled"
        );
    } else {
        tracing::debug!(
            plan = p.id,
            units = rep.units,
            load_ms,
            ms,
            "maintenance plan unchanged"
        );
    }
    Ok(rep)
}

/// Flags every order past its due date (on its organization's calendar) and still to be done,
/// once: `overdue_notified_at` is set and the assigned engineer and the managers are
/// notified (`notice.order_overdue`). Returns how many this call flagged; of concurrent calls
/// each order is flagged by one.
pub async fn run_overdue(db: &Db, now: i64) -> AppResult<u64> {
    let orgs = {
        let mut h = db.acquire().await?;
        repo::org_ids(&mut h.c()).await?
    };
    let mut n = 0;
    for org in orgs {
        let today = {
            let mut h = db.acquire().await?;
            sla::calendar(&mut h.c(), org).await?.local_date(now)
        };
        loop {
            let mut tx = db.begin().await?;
            let batch = repo::flag_overdue(&mut tx.c(), org, &today, now, OVERDUE_BATCH).await?;
            for o in &batch {
                let who = Audience {
                    roles: vec!["manager".into()],
                    users: o.engineer_id.into_iter().collect(),
                    departments: vec![],
                };
                let args = serde_json::json!({
                    "number": o.number,
                    "due_date": o.due_date,
                })
                .to_string();
                notify(
                    &mut tx.c(),
                    org,
                    &who,
                    "order_overdue",
                    "service_order",
                    o.id,
                    &args,
                    now,
                )
                .await?;
            }
            tx.commit().await?;
            n += batch.len() as u64;
            if (batch.len() as i64) < OVERDUE_BATCH {
                break;
            }
        }
    }
    Ok(n)
}
