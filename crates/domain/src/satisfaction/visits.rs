//! Return visits (回访, DOMAIN.md §3, §6): the vocabulary, the per-organization rules and
//! their validation, the systematic sampling of completed service orders (tiers per month),
//! the return-visit record form and the low-score trigger's test of a csat answer.

use crate::complaints::vocabulary;
use crate::{DomainError, FieldErrors};

vocabulary!(
    /// Why a visit exists.
    Source {
        /// A complaint reached its return-visit step.
        Complaint = "complaint",
        /// A completed service order picked by the monthly sampling.
        ServiceOrder = "service_order",
        /// A low survey score's follow-up.
        Survey = "survey",
        /// Created by hand for a customer.
        Manual = "manual",
    }
);

vocabulary!(
    /// Where a visit stands.
    VisitStatus {
        Planned = "planned",
        Done = "done",
        Cancelled = "cancelled",
    }
);

vocabulary!(
    /// How the customer was reached.
    Method {
        Phone = "phone",
        OnSite = "on_site",
        Online = "online",
    }
);

vocabulary!(
    /// What recording the visit did.
    Outcome {
        /// The complaint was closed (satisfied).
        Closed = "closed",
        /// The complaint was reopened (not satisfied).
        Reopened = "reopened",
        /// A new complaint was registered (not satisfied, no complaint behind the visit).
        ComplaintOpened = "complaint_opened",
        /// Nothing further.
        None = "none",
    }
);

vocabulary!(
    /// What a low survey score opens.
    LowScoreAction {
        /// A follow-up return visit.
        Task = "task",
        /// A complaint.
        Complaint = "complaint",
    }
);

/// The sampling tiers of completed service orders per month: `p1`% of the first `max1`,
/// `p2`% of those up to `max2`, `p3`% above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiers {
    pub max1: u64,
    pub p1: u64,
    pub max2: u64,
    pub p2: u64,
    pub p3: u64,
}

impl Tiers {
    /// The seed's tiers: 100% up to 100 a month, 30% up to 300, 10% above.
    pub const DEFAULT: Tiers = Tiers {
        max1: 100,
        p1: 100,
        max2: 300,
        p2: 30,
        p3: 10,
    };

    /// The percentage and the 1-based index within its tier of the `k`-th order (1-based).
    fn tier_of(&self, k: u64) -> (u64, u64) {
        if k <= self.max1 {
            (self.p1, k)
        } else if k <= self.max2.max(self.max1) {
            (self.p2, k - self.max1)
        } else {
            (self.p3, k - self.max2.max(self.max1))
        }
    }

    /// Whether the `k`-th completed order of a month (1-based, in the order the sampling
    /// considered them) is picked. Systematic, so reproducible: within a tier of p%, the
    /// j-th order is picked when ⌊j·p/100⌋ grows, i.e. exactly ⌊n·p/100⌋ of its first n.
    pub fn picked(&self, k: u64) -> bool {
        if k == 0 {
            return false;
        }
        let (p, j) = self.tier_of(k);
        let p = p.min(100);
        (j * p) / 100 > ((j - 1) * p) / 100
    }

    /// How many of a month's first `n` orders are picked.
    pub fn picked_count(&self, n: u64) -> u64 {
        let part = |len: u64, p: u64| len * p.min(100) / 100;
        let max2 = self.max2.max(self.max1);
        let t1 = n.min(self.max1);
        let t2 = n.min(max2).saturating_sub(self.max1);
        let t3 = n.saturating_sub(max2);
        part(t1, self.p1) + part(t2, self.p2) + part(t3, self.p3)
    }
}

/// The visit and trigger rules of an organization.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Settings {
    /// Working days after a complaint reaches its return visit.
    pub complaint_days: i64,
    /// Working days after a service order completes (and after a low survey score).
    pub order_days: i64,
    pub tier1_max: i64,
    pub tier1_percent: i64,
    pub tier2_max: i64,
    pub tier2_percent: i64,
    pub tier3_percent: i64,
    /// A visit rated at or below this (1-5) is unsatisfied by default.
    pub low_rating: i64,
    /// A survey response scoring at or below this (0-100) triggers `low_score_action`.
    pub low_score: i64,
    pub low_score_action: LowScoreAction,
    /// Default validity of a survey answer link, days.
    pub link_days: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            complaint_days: 3,
            order_days: 3,
            tier1_max: 100,
            tier1_percent: 100,
            tier2_max: 300,
            tier2_percent: 30,
            tier3_percent: 10,
            low_rating: 2,
            low_score: 40,
            low_score_action: LowScoreAction::Task,
            link_days: 30,
        }
    }
}

/// The settings form as typed.
#[derive(Debug, Clone, Default)]
pub struct SettingsRaw<'a> {
    pub complaint_days: Option<&'a str>,
    pub order_days: Option<&'a str>,
    pub tier1_max: Option<&'a str>,
    pub tier1_percent: Option<&'a str>,
    pub tier2_max: Option<&'a str>,
    pub tier2_percent: Option<&'a str>,
    pub tier3_percent: Option<&'a str>,
    pub low_rating: Option<&'a str>,
    pub low_score: Option<&'a str>,
    pub low_score_action: Option<&'a str>,
    pub link_days: Option<&'a str>,
}

/// A required whole number within `lo..=hi` (`required` / `number_range` on the field).
fn int(errs: &mut FieldErrors, field: &str, raw: Option<&str>, lo: i64, hi: i64) -> i64 {
    let v = raw.map(str::trim).unwrap_or("");
    if v.is_empty() {
        errs.add(field, "required", None);
        return lo;
    }
    match v.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => n,
        _ => {
            errs.add(field, "number_range", Some(format!("{lo} – {hi}")));
            lo
        }
    }
}

impl Settings {
    /// Parses and checks the settings form; every problem is named by its field.
    pub fn parse(mut errs: FieldErrors, raw: SettingsRaw<'_>) -> Result<Settings, DomainError> {
        let s = Settings {
            complaint_days: int(&mut errs, "complaint_days", raw.complaint_days, 0, 30),
            order_days: int(&mut errs, "order_days", raw.order_days, 0, 30),
            tier1_max: int(&mut errs, "tier1_max", raw.tier1_max, 0, 100_000),
            tier1_percent: int(&mut errs, "tier1_percent", raw.tier1_percent, 0, 100),
            tier2_max: int(&mut errs, "tier2_max", raw.tier2_max, 0, 1_000_000),
            tier2_percent: int(&mut errs, "tier2_percent", raw.tier2_percent, 0, 100),
            tier3_percent: int(&mut errs, "tier3_percent", raw.tier3_percent, 0, 100),
            low_rating: int(&mut errs, "low_rating", raw.low_rating, 1, 4),
            low_score: int(&mut errs, "low_score", raw.low_score, 0, 100),
            low_score_action: match raw.low_score_action.map(str::trim) {
                None | Some("") => {
                    errs.add("low_score_action", "required", None);
                    LowScoreAction::Task
                }
                Some(v) => LowScoreAction::parse(v).unwrap_or_else(|| {
                    errs.add("low_score_action", "choice", None);
                    LowScoreAction::Task
                }),
            },
            link_days: int(&mut errs, "link_days", raw.link_days, 1, 365),
        };
        if errs.get("tier1_max").is_none()
            && errs.get("tier2_max").is_none()
            && s.tier2_max < s.tier1_max
        {
            errs.add("tier2_max", "visit_tier_order", None);
        }
        errs.into_result(s)
    }

    /// The sampling tiers.
    pub fn tiers(&self) -> Tiers {
        let u = |v: i64| v.max(0) as u64;
        Tiers {
            max1: u(self.tier1_max),
            p1: u(self.tier1_percent),
            max2: u(self.tier2_max),
            p2: u(self.tier2_percent),
            p3: u(self.tier3_percent),
        }
    }

    /// Whether a visit rated `rating` counts as satisfied unless the visitor says otherwise.
    pub fn satisfied_by_default(&self, rating: i64) -> bool {
        rating > self.low_rating
    }

    /// Whether a survey response triggers the low-score action: its own score at or below
    /// `low_score`, or its csat answer in the lowest two boxes.
    pub fn low(&self, score: Option<f64>, csat: Option<(f64, i64, i64)>) -> bool {
        score.is_some_and(|s| s <= self.low_score as f64)
            || csat.is_some_and(|(v, min, max)| csat_low(v, min, max))
    }
}

/// Whether a csat answer `v` on a `min..=max` scale is in the lowest two boxes.
pub fn csat_low(v: f64, min: i64, max: i64) -> bool {
    max > min && v <= (min + 1) as f64
}

/// Longest free text of a visit record.
pub const TEXT_MAX: usize = 2000;

/// The return-visit record form as typed (the time parsed by the caller, errors on its field).
#[derive(Debug, Clone, Default)]
pub struct RecordRaw<'a> {
    pub visited_at: Option<i64>,
    pub method: Option<&'a str>,
    pub rating: Option<&'a str>,
    pub problem_category: Option<&'a str>,
    pub customer_words: Option<&'a str>,
    pub follow_up: Option<&'a str>,
    /// "yes" / "no" / "true" / "false"; empty: decided by the rating.
    pub satisfied: Option<&'a str>,
}

/// A valid return-visit record (回访记录).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Record {
    pub visited_at: i64,
    pub method: Method,
    pub rating: i64,
    pub problem_category: Option<String>,
    pub customer_words: Option<String>,
    pub follow_up: Option<String>,
    pub satisfied: bool,
}

fn text(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<String> {
    let v = raw.map(str::trim).filter(|s| !s.is_empty())?;
    if v.chars().count() > TEXT_MAX {
        errs.add(field, "too_long", Some(TEXT_MAX.to_string()));
    }
    Some(v.to_string())
}

/// Parses a yes/no answer: `Some(None)` when empty, `None` when unreadable.
pub fn parse_yes_no(raw: Option<&str>) -> Option<Option<bool>> {
    match raw.map(str::trim).unwrap_or("") {
        "" => Some(None),
        "yes" | "true" | "1" | "on" => Some(Some(true)),
        "no" | "false" | "0" | "off" => Some(Some(false)),
        _ => None,
    }
}

impl Record {
    /// Parses and checks the record: time (not in the future), method, rating 1-5; satisfied
    /// defaults from the rating against `low_rating`; an unsatisfied customer's own words are
    /// required (they become the reopened or new complaint's note).
    pub fn parse(
        mut errs: FieldErrors,
        raw: RecordRaw<'_>,
        low_rating: i64,
        now: i64,
    ) -> Result<Record, DomainError> {
        let visited_at = match raw.visited_at {
            None => {
                if errs.get("visited_at").is_none() {
                    errs.add("visited_at", "required", None);
                }
                now
            }
            Some(t) if t > now + 300 => {
                errs.add("visited_at", "in_future", None);
                t
            }
            Some(t) => t,
        };
        let method = match raw.method.map(str::trim) {
            None | Some("") => {
                errs.add("method", "required", None);
                Method::Phone
            }
            Some(v) => Method::parse(v).unwrap_or_else(|| {
                errs.add("method", "choice", None);
                Method::Phone
            }),
        };
        let rating = int(&mut errs, "rating", raw.rating, 1, 5);
        let problem_category = text(&mut errs, "problem_category", raw.problem_category);
        let customer_words = text(&mut errs, "customer_words", raw.customer_words);
        let follow_up = text(&mut errs, "follow_up", raw.follow_up);
        let satisfied = match parse_yes_no(raw.satisfied) {
            Some(Some(b)) => b,
            Some(None) => rating > low_rating,
            None => {
                errs.add("satisfied", "choice", None);
                true
            }
        };
        // Unsatisfied by an unreadable rating is no reason to ask for the words too.
        let decided =
            raw.satisfied.is_some_and(|s| !s.trim().is_empty()) || errs.get("rating").is_none();
        if decided && !satisfied && customer_words.is_none() && errs.get("customer_words").is_none()
        {
            errs.add("customer_words", "visit_words_required", None);
        }
        errs.into_result(Record {
            visited_at,
            method,
            rating,
            problem_category,
            customer_words,
            follow_up,
            satisfied,
        })
    }
}

/// A cancellation reason: required, at most 500 characters.
pub fn cancel_reason(raw: Option<&str>) -> Result<String, DomainError> {
    let v = raw.map(str::trim).unwrap_or("");
    let mut errs = FieldErrors::default();
    if v.is_empty() {
        errs.add("reason", "required", None);
    } else if v.chars().count() > 500 {
        errs.add("reason", "too_long", Some("500".into()));
    }
    errs.into_result(v.to_string())
}

/// Whether `s` is a calendar date YYYY-MM-DD.
pub fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1900 && (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_tiers_pick_the_seeds_shares() {
        let t = Tiers::DEFAULT;
        assert_eq!(t.picked_count(100), 100);
        assert_eq!(t.picked_count(150), 115);
        assert_eq!(t.picked_count(300), 160);
        assert_eq!(t.picked_count(400), 170);
        assert_eq!((1..=150).filter(|k| t.picked(*k)).count(), 115);
        // Systematic within the 30% tier: the 4th, 7th and 10th of every ten.
        let picked: Vec<u64> = (101..=120).filter(|k| t.picked(*k)).collect();
        assert_eq!(picked, vec![104, 107, 110, 114, 117, 120]);
        assert!(!t.picked(0));
    }

    #[test]
    fn zero_and_full_tiers() {
        let none = Tiers {
            max1: 10,
            p1: 0,
            max2: 20,
            p2: 0,
            p3: 0,
        };
        assert_eq!((1..=100).filter(|k| none.picked(*k)).count(), 0);
        let all = Tiers {
            max1: 0,
            p1: 0,
            max2: 0,
            p2: 0,
            p3: 100,
        };
        assert_eq!((1..=100).filter(|k| all.picked(*k)).count(), 100);
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        let ok = SettingsRaw {
            complaint_days: Some("3"),
            order_days: Some("3"),
            tier1_max: Some("100"),
            tier1_percent: Some("100"),
            tier2_max: Some("300"),
            tier2_percent: Some("30"),
            tier3_percent: Some("10"),
            low_rating: Some("2"),
            low_score: Some("40"),
            low_score_action: Some("complaint"),
            link_days: Some("30"),
        };
        let s = Settings::parse(FieldErrors::default(), ok.clone()).unwrap();
        assert_eq!(s.low_score_action, LowScoreAction::Complaint);
        assert_eq!(s.tiers(), Tiers::DEFAULT);
        let bad = SettingsRaw {
            tier1_percent: Some("101"),
            tier2_max: Some("50"),
            low_score_action: Some("email"),
            complaint_days: Some(""),
            ..ok
        };
        let Err(DomainError::Invalid(e)) = Settings::parse(FieldErrors::default(), bad) else {
            panic!("accepted");
        };
        let mut f: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        f.sort();
        assert_eq!(
            f,
            [
                "complaint_days",
                "low_score_action",
                "tier1_percent",
                "tier2_max"
            ]
        );
        assert_eq!(e.get("tier2_max").unwrap().code, "visit_tier_order");
    }

    #[test]
    fn the_record_defaults_satisfaction_from_the_rating() {
        let raw = RecordRaw {
            visited_at: Some(1000),
            method: Some("phone"),
            rating: Some("4"),
            ..Default::default()
        };
        let r = Record::parse(FieldErrors::default(), raw.clone(), 2, 2000).unwrap();
        assert!(r.satisfied);
        let low = RecordRaw {
            rating: Some("2"),
            ..raw.clone()
        };
        let Err(DomainError::Invalid(e)) =
            Record::parse(FieldErrors::default(), low.clone(), 2, 2000)
        else {
            panic!("accepted without words");
        };
        assert_eq!(e.0[0].field, "customer_words");
        let low = RecordRaw {
            customer_words: Some("还是漏水"),
            ..low
        };
        assert!(
            !Record::parse(FieldErrors::default(), low, 2, 2000)
                .unwrap()
                .satisfied
        );
        let bad = RecordRaw {
            visited_at: Some(99_999),
            method: Some("fax"),
            rating: Some("6"),
            satisfied: Some("maybe"),
            ..raw
        };
        let Err(DomainError::Invalid(e)) = Record::parse(FieldErrors::default(), bad, 2, 2000)
        else {
            panic!("accepted");
        };
        let mut f: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        f.sort();
        assert_eq!(f, ["method", "rating", "satisfied", "visited_at"]);
    }

    #[test]
    fn low_scores_and_csat_boxes() {
        let s = Settings::default();
        assert!(s.low(Some(40.0), None));
        assert!(!s.low(Some(40.5), None));
        assert!(!s.low(None, None));
        assert!(s.low(Some(90.0), Some((2.0, 1, 5))));
        assert!(!s.low(Some(90.0), Some((3.0, 1, 5))));
        assert!(csat_low(1.0, 0, 10));
        assert!(!csat_low(2.0, 0, 10));
    }

    #[test]
    fn dates() {
        assert!(valid_date("2026-02-28"));
        assert!(!valid_date("2026-02-29"));
        assert!(valid_date("2024-02-29"));
        assert!(!valid_date("2026-13-01"));
        assert!(!valid_date("26-01-01"));
    }

    fn tiers() -> impl Strategy<Value = Tiers> {
        (0u64..500, 0u64..=100, 0u64..500, 0u64..=100, 0u64..=100).prop_map(
            |(max1, p1, extra, p2, p3)| Tiers {
                max1,
                p1,
                max2: max1 + extra,
                p2,
                p3,
            },
        )
    }

    proptest! {
        /// Each tier's picked share is within one order of its percentage, whatever n.
        #[test]
        fn picked_share_converges_to_the_tier_percentages(t in tiers(), n in 0u64..3000) {
            let picked: Vec<bool> = (1..=n).map(|k| t.picked(k)).collect();
            let count = |from: u64, to: u64| picked.iter().enumerate()
                .filter(|(i, p)| **p && (*i as u64) >= from && (*i as u64) < to).count() as f64;
            let bounds = [(0, t.max1, t.p1), (t.max1, t.max2, t.p2), (t.max2, u64::MAX, t.p3)];
            for (from, to, p) in bounds {
                let len = n.min(to).saturating_sub(from) as f64;
                let got = count(from, to.min(n));
                prop_assert!((got - len * p as f64 / 100.0).abs() < 1.0,
                    "tier {from}..{to} at {p}%: {got} of {len}");
            }
            prop_assert_eq!(picked.iter().filter(|p| **p).count() as u64, t.picked_count(n));
        }

        /// The decision depends only on the position: running the sampling in batches of any
        /// sizes (as the periodic job does, continuing from the month's count) picks the same
        /// orders as one run over the whole month.
        #[test]
        fn sampling_is_deterministic(t in tiers(), batches in proptest::collection::vec(1u64..200, 1..20)) {
            let total: u64 = batches.iter().sum();
            let once: Vec<u64> = (1..=total).filter(|k| t.picked(*k)).collect();
            let mut seen = 0;
            let mut batched = Vec::new();
            for b in batches {
                batched.extend((seen + 1..=seen + b).filter(|k| t.picked(*k)));
                seen += b;
            }
            prop_assert_eq!(once, batched);
        }

        /// Long runs converge: with a large month the overall share approaches the last tier's.
        #[test]
        fn long_months_converge(p3 in 1u64..=100, n in 10_000u64..20_000) {
            let t = Tiers { max1: 100, p1: 100, max2: 300, p2: 30, p3 };
            let share = (301..=n).filter(|k| t.picked(*k)).count() as f64 / (n - 300) as f64;
            prop_assert!((share - p3 as f64 / 100.0).abs() < 0.001);
        }
    }
}
