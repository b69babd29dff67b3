//! The SLA clock of a complaint: loading the organization's work calendar and budgets,
//! computing due times and the next alert instant after every move, and the alert job that
//! sends "breaching soon" warnings and escalates breaches, each exactly once.

use domain::calendar::{DayKind, WorkCalendar, china_statutory};
use domain::sla::{self, SlaBudget, SlaTarget};
use store::complaints::settings::{self as settings_repo, SlaTarget as TargetRow};
use store::complaints::{self as repo, Complaint, Val, steps};
use store::notifications::{self, Audience};
use store::{Conn, Db};

use crate::error::AppResult;

/// Calendar, budgets and warning share of one complaint.
#[derive(Debug, Clone)]
pub struct Clock {
    pub cal: WorkCalendar,
    pub budget: SlaBudget,
    pub warn_percent: u8,
}

/// The organization's default work calendar (the standard one with the built-in statutory
/// schedule when none was saved yet).
pub async fn calendar(c: &mut Conn<'_>, org: i64) -> AppResult<WorkCalendar> {
    let Some(cal) = store::calendar::default_for(c, org).await? else {
        let mut w = WorkCalendar::standard();
        for y in 2026..=2027 {
            for (d, k, _) in china_statutory(y) {
                match k {
                    DayKind::Holiday => w.holidays.insert(d),
                    DayKind::Workday => w.workdays.insert(d),
                };
            }
        }
        return Ok(w);
    };
    let days = store::calendar::day_kinds(c, org, cal.id).await?;
    let parts: Vec<(String, DayKind)> = days
        .into_iter()
        .filter_map(|(d, k)| DayKind::parse(&k).map(|k| (d, k)))
        .collect();
    // A stored calendar was validated when saved; fall back rather than fail a complaint.
    Ok(WorkCalendar::from_parts(
        cal.utc_offset_minutes as i32,
        &cal.periods,
        &cal.weekdays,
        &parts,
    )
    .unwrap_or_else(|_| WorkCalendar::standard()))
}

/// The budget for a severity and contract level: the exact row, else the severity's
/// default ('' contract), else none.
pub fn budget_of(targets: &[TargetRow], severity: &str, contract: Option<&str>) -> SlaBudget {
    let pick = |level: &str| {
        targets
            .iter()
            .find(|t| t.severity == severity && t.contract_level == level)
    };
    let row = contract.and_then(pick).or_else(|| pick(""));
    row.map(|t| SlaBudget {
        ack: t.ack_minutes,
        response: t.response_minutes,
        remedy: t.remedy_minutes,
        close: t.close_minutes,
    })
    .unwrap_or_default()
}

/// The clock of a complaint of `severity` under `contract`.
pub async fn clock(
    c: &mut Conn<'_>,
    org: i64,
    severity: &str,
    contract: Option<&str>,
) -> AppResult<Clock> {
    let s = settings_repo::get(c, org).await?;
    clock_with(c, org, &s, severity, contract).await
}

/// [`clock`] for a caller that has already read the organization's settings.
pub async fn clock_with(
    c: &mut Conn<'_>,
    org: i64,
    s: &settings_repo::Settings,
    severity: &str,
    contract: Option<&str>,
) -> AppResult<Clock> {
    let cal = calendar(c, org).await?;
    let targets = settings_repo::sla_targets(c, org).await?;
    Ok(Clock {
        cal,
        budget: budget_of(&targets, severity, contract),
        warn_percent: s.warn_percent.clamp(0, 100) as u8,
    })
}

/// The instants a complaint's targets were reached.
#[derive(Debug, Clone, Copy, Default)]
pub struct Times {
    pub received_at: i64,
    pub acknowledged_at: Option<i64>,
    pub first_response_at: Option<i64>,
    pub remedy_agreed_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// Closed or withdrawn: nothing runs any more.
    pub finished: bool,
}

impl Times {
    /// From a stored complaint.
    pub fn of(c: &Complaint) -> Times {
        Times {
            received_at: c.received_at,
            acknowledged_at: Some(c.acknowledged_at),
            first_response_at: c.first_response_at,
            remedy_agreed_at: c.remedy_agreed_at,
            closed_at: c.closed_at,
            finished: c.status == "closed" || c.status == "withdrawn",
        }
    }
    fn done(&self, t: SlaTarget) -> Option<i64> {
        match t {
            SlaTarget::Ack => self.acknowledged_at,
            SlaTarget::Response => self.first_response_at,
            SlaTarget::Remedy => self.remedy_agreed_at,
            SlaTarget::Close => self.closed_at,
        }
    }
}

/// One target's figures for the detail page.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TargetView {
    /// ack, response, remedy, close.
    pub target: &'static str,
    pub minutes: Option<i64>,
    pub due: Option<i64>,
    pub done_at: Option<i64>,
    /// met, met_late, running, warning, breached, no_target.
    pub state: &'static str,
    /// Working seconds left (running) or over (breached).
    pub secs: i64,
}

/// The clock columns written after a move.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    pub dues: [Option<i64>; 4],
    pub met: [Option<bool>; 4],
    pub next_due: Option<i64>,
    pub warn_at: Option<i64>,
}

impl Fields {
    /// As complaint columns.
    pub fn columns(&self) -> Vec<(&'static str, Val)> {
        vec![
            ("ack_due", self.dues[0].into()),
            ("response_due", self.dues[1].into()),
            ("remedy_due", self.dues[2].into()),
            ("close_due", self.dues[3].into()),
            ("ack_met", Val::B(self.met[0])),
            ("response_met", Val::B(self.met[1])),
            ("remedy_met", Val::B(self.met[2])),
            ("close_met", Val::B(self.met[3])),
            ("next_due", self.next_due.into()),
            ("warn_at", self.warn_at.into()),
        ]
    }
}

fn warn_minutes(minutes: i64, warn_percent: u8) -> i64 {
    minutes - minutes * i64::from(warn_percent) / 100
}

/// Due times, met flags, the next due and the next alert instant. `sent` says which alerts
/// (target, level) this round already fired.
pub fn compute(
    k: &Clock,
    t: &Times,
    pauses: &[(i64, Option<i64>)],
    sent: &dyn Fn(SlaTarget, &str) -> bool,
) -> Fields {
    let mut f = Fields {
        dues: [None; 4],
        met: [None; 4],
        next_due: None,
        warn_at: None,
    };
    let paused = pauses.iter().any(|p| p.1.is_none());
    for (i, target) in SlaTarget::ALL.into_iter().enumerate() {
        let Some(minutes) = k.budget.minutes(target) else {
            continue;
        };
        let due = sla::due_at(&k.cal, t.received_at, minutes, pauses);
        f.dues[i] = due;
        match t.done(target) {
            Some(done) => {
                f.met[i] = Some(sla::elapsed(&k.cal, t.received_at, done, pauses) <= minutes * 60)
            }
            None if t.finished || paused => {}
            None => {
                let Some(due) = due else { continue };
                f.next_due = Some(f.next_due.map_or(due, |n: i64| n.min(due)));
                let alert = if !sent(target, "warn") {
                    sla::due_at(
                        &k.cal,
                        t.received_at,
                        warn_minutes(minutes, k.warn_percent),
                        pauses,
                    )
                } else if !sent(target, "breach") {
                    Some(due)
                } else {
                    None
                };
                if let Some(a) = alert {
                    f.warn_at = Some(f.warn_at.map_or(a, |w: i64| w.min(a)));
                }
            }
        }
    }
    f
}

/// The detail page's view of each target.
pub fn view(k: &Clock, t: &Times, pauses: &[(i64, Option<i64>)], now: i64) -> Vec<TargetView> {
    SlaTarget::ALL
        .into_iter()
        .map(|target| {
            let minutes = k.budget.minutes(target);
            let done = t.done(target);
            // A finished complaint's open targets stop where it finished.
            let at = if t.finished && done.is_none() {
                t.closed_at.unwrap_or(now)
            } else {
                now
            };
            let st = sla::state(
                &k.cal,
                t.received_at,
                minutes,
                done,
                at,
                pauses,
                k.warn_percent,
            );
            let secs = match st {
                sla::SlaState::Running { remaining_secs }
                | sla::SlaState::Warning { remaining_secs } => remaining_secs,
                sla::SlaState::Breached { over_secs } => over_secs,
                _ => 0,
            };
            TargetView {
                target: target.as_str(),
                minutes,
                due: minutes.and_then(|m| sla::due_at(&k.cal, t.received_at, m, pauses)),
                done_at: done,
                state: st.as_str(),
                secs,
            }
        })
        .collect()
}

/// Alerts already sent for a complaint in a round: (target, level).
pub async fn sent_alerts(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    round: i64,
) -> AppResult<Vec<(String, String)>> {
    Ok(steps::alerts(c, org, id, round).await?)
}

/// Recomputes and writes the clock columns of a complaint (inside the caller's transaction,
/// after its own patch, so the version read is the new one).
pub async fn refresh(c: &mut Conn<'_>, org: i64, cpl: &Complaint) -> AppResult<Fields> {
    let k = clock(c, org, &cpl.severity, cpl.contract_level.as_deref()).await?;
    let pauses = steps::pauses(c, org, cpl.id).await?;
    let sent = sent_alerts(c, org, cpl.id, cpl.reopen_count).await?;
    let f = compute(&k, &Times::of(cpl), &pauses, &|t, l| {
        sent.iter().any(|(st, sl)| st == t.as_str() && sl == l)
    });
    steps::set_clock(c, org, cpl.id, &f.columns()).await?;
    Ok(f)
}

/// Sends the warnings and escalations that are due at `now`, each once however many
/// workers run this at the same time; returns how many alerts were sent.
pub async fn run_alerts(db: &Db, now: i64) -> AppResult<u64> {
    let due = {
        let mut h = db.acquire().await?;
        steps::due_for_alert(&mut h.c(), now, 200).await?
    };
    let mut sent_total = 0;
    for (org, id) in due {
        let mut tx = db.begin().await?;
        let cpl = repo::get(&mut tx.c(), org, id).await?;
        let k = clock(
            &mut tx.c(),
            org,
            &cpl.severity,
            cpl.contract_level.as_deref(),
        )
        .await?;
        let pauses = steps::pauses(&mut tx.c(), org, id).await?;
        let times = Times::of(&cpl);
        let round = cpl.reopen_count;
        for target in SlaTarget::ALL {
            let Some(minutes) = k.budget.minutes(target) else {
                continue;
            };
            if times.done(target).is_some() || times.finished || cpl.paused_at.is_some() {
                continue;
            }
            let warn = sla::due_at(
                &k.cal,
                times.received_at,
                warn_minutes(minutes, k.warn_percent),
                &pauses,
            );
            let due = sla::due_at(&k.cal, times.received_at, minutes, &pauses);
            for (level, at) in [("warn", warn), ("breach", due)] {
                let Some(at) = at else { continue };
                if now < at {
                    continue;
                }
                if !steps::claim_alert(&mut tx.c(), org, id, target.as_str(), level, round, now)
                    .await?
                {
                    continue;
                }
                sent_total += 1;
                // Warnings go to the people handling it; breaches escalate to the managers.
                let who = if level == "warn" {
                    Audience {
                        roles: vec![],
                        departments: cpl.responsible_department_id.into_iter().collect(),
                        users: cpl.recorded_by.into_iter().collect(),
                    }
                } else {
                    Audience {
                        roles: vec!["manager".into(), "admin".into()],
                        departments: vec![],
                        users: vec![],
                    }
                };
                let kind = if level == "warn" {
                    "sla_warning"
                } else {
                    "sla_breach"
                };
                let args = serde_json::json!({"number": cpl.number, "target": target.as_str()})
                    .to_string();
                notifications::notify(&mut tx.c(), org, &who, kind, "complaint", id, &args, now)
                    .await?;
                steps::add_event(
                    &mut tx.c(),
                    org,
                    &steps::NewEvent {
                        complaint_id: id,
                        at: now,
                        user_id: None,
                        action: kind,
                        from_status: None,
                        to_status: None,
                        note: Some(target.as_str()),
                        data: None,
                    },
                )
                .await?;
            }
        }
        let sent = steps::alerts(&mut tx.c(), org, id, round).await?;
        let f = compute(&k, &times, &pauses, &|t, l| {
            sent.iter().any(|(st, sl)| st == t.as_str() && sl == l)
        });
        steps::set_clock(&mut tx.c(), org, id, &f.columns()).await?;
        tx.commit().await?;
    }
    Ok(sent_total)
}
