//! Service-level targets counted in working time on a work calendar, with pauses.
//!
//! Pauses are `(start, end)` instants while the clock waits on the customer; an open pause
//! (`None` end) stops the clock until it ends. Budgets are whole minutes of working time;
//! a negative budget counts as zero.

use serde::Serialize;

use crate::calendar::{WorkCalendar, merge_intervals};

/// The four complaint targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    /// Acknowledgement of receipt.
    Ack,
    /// First response to the customer.
    Response,
    /// Remedy agreed with the customer.
    Remedy,
    /// Complaint closed.
    Close,
}

impl SlaTarget {
    /// Every target, in lifecycle order.
    pub const ALL: [SlaTarget; 4] = [
        SlaTarget::Ack,
        SlaTarget::Response,
        SlaTarget::Remedy,
        SlaTarget::Close,
    ];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            SlaTarget::Ack => "ack",
            SlaTarget::Response => "response",
            SlaTarget::Remedy => "remedy",
            SlaTarget::Close => "close",
        }
    }

    /// The target of a stored code.
    pub fn parse(s: &str) -> Option<Self> {
        SlaTarget::ALL.into_iter().find(|t| t.as_str() == s.trim())
    }
}

/// Working-time budgets in minutes per target (None = no target).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SlaBudget {
    /// Minutes to acknowledge.
    pub ack: Option<i64>,
    /// Minutes to the first response.
    pub response: Option<i64>,
    /// Minutes to an agreed remedy.
    pub remedy: Option<i64>,
    /// Minutes to closure.
    pub close: Option<i64>,
}

impl SlaBudget {
    /// The budget of one target.
    pub fn minutes(&self, t: SlaTarget) -> Option<i64> {
        match t {
            SlaTarget::Ack => self.ack,
            SlaTarget::Response => self.response,
            SlaTarget::Remedy => self.remedy,
            SlaTarget::Close => self.close,
        }
    }
}

/// How one target stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SlaState {
    /// Done within the budget.
    Met,
    /// Done, but after the budget ran out.
    MetLate,
    /// Not done; comfortably within the budget.
    Running {
        /// Working seconds left.
        remaining_secs: i64,
    },
    /// Not done; within the warning share of the budget (possibly 0 seconds left).
    Warning {
        /// Working seconds left.
        remaining_secs: i64,
    },
    /// Not done and over the budget.
    Breached {
        /// Working seconds over the budget (always > 0).
        over_secs: i64,
    },
    /// The target has no budget.
    NoTarget,
}

impl SlaState {
    /// The state's code, an i18n key suffix.
    pub fn as_str(&self) -> &'static str {
        match self {
            SlaState::Met => "met",
            SlaState::MetLate => "met_late",
            SlaState::Running { .. } => "running",
            SlaState::Warning { .. } => "warning",
            SlaState::Breached { .. } => "breached",
            SlaState::NoTarget => "no_target",
        }
    }
}

/// Working seconds from `start` to `end`, not counting working time inside pauses.
pub fn elapsed(cal: &WorkCalendar, start: i64, end: i64, pauses: &[(i64, Option<i64>)]) -> i64 {
    cal.working_seconds_paused(start, end, pauses)
}

/// The first instant the budget is used up, counting working time from `start` outside pauses.
///
/// `None` when the budget never runs out: the calendar has no working time left, or an open
/// pause stops the clock before it does (recompute once the pause ends). An open pause that
/// starts after the budget ran out does not move the due instant. A zero budget is due at `start`.
pub fn due_at(
    cal: &WorkCalendar,
    start: i64,
    minutes: i64,
    pauses: &[(i64, Option<i64>)],
) -> Option<i64> {
    let mut rest = minutes.max(0).checked_mul(60)?;
    if rest == 0 {
        return Some(start);
    }
    // An open pause reaches to the end of time: nothing after its start counts.
    let paused = merge_intervals(
        pauses
            .iter()
            .map(|&(s, e)| (s.max(start), e.unwrap_or(i64::MAX)))
            .collect(),
    );
    let mut cur = start;
    for (ps, pe) in paused {
        if ps > cur {
            let t = cal.add_working(cur, rest)?;
            if t <= ps {
                return Some(t);
            }
            rest -= cal.working_seconds(cur, ps);
        }
        if pe == i64::MAX {
            return None;
        }
        cur = cur.max(pe);
    }
    cal.add_working(cur, rest)
}

/// How a target with `minutes` of budget stands: at `done_at` if done, else at `now`.
///
/// Measured in working time, so finishing after the due instant but before the next working
/// second is still `Met`. `Warning` when at most `warn_percent`% of the budget is left (0
/// disables warnings, over 100 counts as 100).
pub fn state(
    cal: &WorkCalendar,
    start: i64,
    minutes: Option<i64>,
    done_at: Option<i64>,
    now: i64,
    pauses: &[(i64, Option<i64>)],
    warn_percent: u8,
) -> SlaState {
    let Some(minutes) = minutes else {
        return SlaState::NoTarget;
    };
    let budget = minutes.clamp(0, i64::MAX / 6_000) * 60;
    if let Some(done) = done_at {
        return if elapsed(cal, start, done, pauses) <= budget {
            SlaState::Met
        } else {
            SlaState::MetLate
        };
    }
    let remaining = budget - elapsed(cal, start, now, pauses);
    if remaining < 0 {
        return SlaState::Breached {
            over_secs: -remaining,
        };
    }
    let warn = i64::from(warn_percent.min(100));
    // Integer cross-multiplication keeps short budgets exact.
    if warn > 0 && remaining * 100 <= warn * budget {
        SlaState::Warning {
            remaining_secs: remaining,
        }
    } else {
        SlaState::Running {
            remaining_secs: remaining,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{DayKind, china_statutory};
    use proptest::prelude::*;

    const H: i64 = 3600;
    const DAY: i64 = 86_400;

    fn china_2026() -> WorkCalendar {
        let days: Vec<(String, DayKind)> = china_statutory(2026)
            .into_iter()
            .map(|(d, k, _)| (d, k))
            .collect();
        WorkCalendar::from_parts(480, "09:00-12:00,13:00-18:00", "12345", &days).unwrap()
    }

    /// Local `YYYY-MM-DD` at `hh`:`mm` as an instant.
    fn at(cal: &WorkCalendar, date: &str, hh: u32, mm: u32) -> i64 {
        cal.local_instant(date, hh * 60 + mm).unwrap()
    }

    #[test]
    fn targets_and_budgets() {
        for t in SlaTarget::ALL {
            assert_eq!(SlaTarget::parse(t.as_str()), Some(t));
        }
        assert_eq!(SlaTarget::parse("other"), None);
        let b = SlaBudget {
            ack: Some(60),
            response: Some(240),
            remedy: None,
            close: Some(7200),
        };
        let got: Vec<_> = SlaTarget::ALL.into_iter().map(|t| b.minutes(t)).collect();
        assert_eq!(got, vec![Some(60), Some(240), None, Some(7200)]);
        assert_eq!(SlaBudget::default().minutes(SlaTarget::Close), None);
        assert_eq!(serde_json::to_value(SlaTarget::Remedy).unwrap(), "remedy");
        assert_eq!(
            serde_json::to_value(SlaState::Warning { remaining_secs: 5 }).unwrap(),
            serde_json::json!({"state": "warning", "remaining_secs": 5})
        );
        assert_eq!(SlaState::MetLate.as_str(), "met_late");
    }

    #[test]
    fn due_over_national_day() {
        // Wed 2026-09-30 17:00, 2 working hours: 1 h that day, Oct 1-7 off, 1 h on Thu Oct 8.
        let c = china_2026();
        let start = at(&c, "2026-09-30", 17, 0);
        assert_eq!(
            due_at(&c, start, 120, &[]),
            Some(at(&c, "2026-10-08", 10, 0))
        );
        assert_eq!(due_at(&c, start, 0, &[]), Some(start));
        assert_eq!(due_at(&c, start, -5, &[]), Some(start));
    }

    #[test]
    fn due_with_pauses() {
        let c = WorkCalendar::standard();
        let start = at(&c, "2026-03-02", 9, 0);
        // 4 h: 09-10, paused 10-11, 11-12, lunch, 13-15.
        let p = (
            at(&c, "2026-03-02", 10, 0),
            Some(at(&c, "2026-03-02", 11, 0)),
        );
        let due = due_at(&c, start, 240, &[p]).unwrap();
        assert_eq!(due, at(&c, "2026-03-02", 15, 0));
        assert_eq!(elapsed(&c, start, due, &[p]), 240 * 60);
        // A pause ending exactly where the budget would run out does not move it further.
        let early = (
            at(&c, "2026-03-02", 8, 0),
            Some(at(&c, "2026-03-02", 9, 30)),
        );
        assert_eq!(
            due_at(&c, start, 30, &[early]),
            Some(at(&c, "2026-03-02", 10, 0))
        );
        // A pause starting at the due instant changes nothing.
        let later = (
            at(&c, "2026-03-02", 10, 0),
            Some(at(&c, "2026-03-03", 10, 0)),
        );
        assert_eq!(
            due_at(&c, start, 60, &[later]),
            Some(at(&c, "2026-03-02", 10, 0))
        );
        // Open pause before the due: the clock is stopped, no due yet.
        let open = (at(&c, "2026-03-02", 10, 0), None);
        assert_eq!(due_at(&c, start, 240, &[open]), None);
        // Open pause after the due: already run out.
        let open_late = (at(&c, "2026-03-03", 10, 0), None);
        assert_eq!(
            due_at(&c, start, 240, &[p, open_late]),
            Some(at(&c, "2026-03-02", 15, 0))
        );
        // A zero budget is due at the start even inside a pause.
        assert_eq!(due_at(&c, start, 0, &[(start, None)]), Some(start));
    }

    #[test]
    fn states() {
        let c = WorkCalendar::standard();
        let start = at(&c, "2026-03-02", 9, 0);
        let st = |now: i64, done: Option<i64>, pauses: &[(i64, Option<i64>)]| {
            state(&c, start, Some(120), done, now, pauses, 20)
        };
        assert_eq!(
            state(&c, start, None, None, start, &[], 20),
            SlaState::NoTarget
        );
        assert_eq!(
            st(at(&c, "2026-03-02", 10, 0), None, &[]),
            SlaState::Running { remaining_secs: H }
        );
        // 20% of 2 h is 24 min.
        assert_eq!(
            st(at(&c, "2026-03-02", 10, 36), None, &[]),
            SlaState::Warning {
                remaining_secs: 24 * 60
            }
        );
        assert_eq!(
            st(at(&c, "2026-03-02", 10, 35), None, &[]),
            SlaState::Running {
                remaining_secs: 25 * 60
            }
        );
        // Due 11:00; at 12:30 (lunch) the overrun is still 1 h.
        assert_eq!(
            st(at(&c, "2026-03-02", 12, 30), None, &[]),
            SlaState::Breached { over_secs: H }
        );
        assert_eq!(
            st(at(&c, "2026-03-02", 11, 0), None, &[]),
            SlaState::Warning { remaining_secs: 0 }
        );
        assert_eq!(st(0, Some(at(&c, "2026-03-02", 11, 0)), &[]), SlaState::Met);
        assert_eq!(
            st(0, Some(at(&c, "2026-03-02", 11, 1)), &[]),
            SlaState::MetLate
        );
        // An open pause from 10:00 freezes the clock at 1 h left.
        let open = [(at(&c, "2026-03-02", 10, 0), None)];
        assert_eq!(
            st(at(&c, "2026-03-05", 16, 0), None, &open),
            SlaState::Running { remaining_secs: H }
        );
        // warn_percent 0 disables warnings.
        assert_eq!(
            state(
                &c,
                start,
                Some(120),
                None,
                at(&c, "2026-03-02", 11, 0),
                &[],
                0
            ),
            SlaState::Running { remaining_secs: 0 }
        );
        // Before the start nothing has elapsed.
        assert_eq!(
            st(start - DAY, None, &[]),
            SlaState::Running {
                remaining_secs: 2 * H
            }
        );
    }

    #[test]
    fn state_over_the_holidays() {
        let c = china_2026();
        let start = at(&c, "2026-09-30", 17, 0);
        // During Golden Week 1 h of the 2 h is left.
        let now = at(&c, "2026-10-05", 12, 0);
        assert_eq!(
            state(&c, start, Some(120), None, now, &[], 50),
            SlaState::Warning { remaining_secs: H }
        );
        assert_eq!(
            state(
                &c,
                start,
                Some(120),
                None,
                at(&c, "2026-10-08", 10, 30),
                &[],
                50
            ),
            SlaState::Breached { over_secs: 1800 }
        );
    }

    fn pause() -> impl Strategy<Value = (i64, Option<i64>)> {
        (0i64..40 * DAY, 0i64..5 * DAY).prop_map(|(s, l)| (BASE + s, Some(BASE + s + l)))
    }

    const BASE: i64 = 1_772_380_800; // Mon 2026-03-02 00:00 in Shanghai

    proptest! {
        #[test]
        fn due_uses_exactly_the_budget(
            s in 0i64..30 * DAY,
            minutes in 0i64..10_000,
            pauses in prop::collection::vec(pause(), 0..4),
        ) {
            let c = china_2026();
            let start = BASE + s;
            let due = due_at(&c, start, minutes, &pauses).unwrap();
            prop_assert!(due >= start);
            prop_assert_eq!(elapsed(&c, start, due, &pauses), minutes * 60);
            if minutes > 0 {
                prop_assert!(elapsed(&c, start, due - 1, &pauses) < minutes * 60, "not the first instant");
            }
            // Met exactly at the due instant, breached one working second later.
            prop_assert_eq!(state(&c, start, Some(minutes), Some(due), due, &pauses, 10), SlaState::Met);
            // (With pauses the next working second may itself be paused.)
            if pauses.is_empty() {
                let next = c.add_working(due, 1).unwrap();
                prop_assert_eq!(state(&c, start, Some(minutes), None, next, &[], 10), SlaState::Breached { over_secs: 1 });
            }
            // Without pauses the due comes no later.
            let plain = due_at(&c, start, minutes, &[]).unwrap();
            prop_assert!(plain <= due);
        }

        #[test]
        fn state_is_consistent_with_elapsed(
            s in 0i64..30 * DAY,
            len in 0i64..30 * DAY,
            minutes in 0i64..6_000,
            warn in 0u8..=120,
            pauses in prop::collection::vec(pause(), 0..4),
        ) {
            let c = china_2026();
            let start = BASE + s;
            let now = start + len;
            let used = elapsed(&c, start, now, &pauses);
            let budget = minutes * 60;
            match state(&c, start, Some(minutes), None, now, &pauses, warn) {
                SlaState::Running { remaining_secs } | SlaState::Warning { remaining_secs } => {
                    prop_assert_eq!(remaining_secs, budget - used);
                }
                SlaState::Breached { over_secs } => {
                    prop_assert!(over_secs > 0);
                    prop_assert_eq!(over_secs, used - budget);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
