//! Pure helpers of dispatch: ISO weeks ("2026-W48") in the organization's local time,
//! overlapping appointments, and the ranking of candidate engineers.

use std::collections::BTreeSet;

use time::{Date, Duration, OffsetDateTime, Weekday};

const DAY: i64 = 86_400;

/// An ISO week: its Monday is the first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    pub monday: Date,
}

impl Week {
    /// Parses `YYYY-Www` (also lowercase `w`, or without the hyphen); `None` for anything
    /// else or a week the year does not have.
    pub fn parse(s: &str) -> Option<Week> {
        let s = s.trim().to_ascii_uppercase();
        let (y, w) = s.split_once('W')?;
        let y = y.strip_suffix('-').unwrap_or(y);
        if y.len() != 4 || w.is_empty() || w.len() > 2 {
            return None;
        }
        if !y.chars().chain(w.chars()).all(|c| c.is_ascii_digit()) {
            return None;
        }
        let monday =
            Date::from_iso_week_date(y.parse().ok()?, w.parse().ok()?, Weekday::Monday).ok()?;
        Some(Week { monday })
    }

    /// The week that holds `d`.
    pub fn of(d: Date) -> Week {
        let back = d.weekday().number_days_from_monday() as i64;
        Week {
            monday: d - Duration::days(back),
        }
    }

    /// The week that holds the Unix time `t` at `offset_min` from UTC.
    pub fn at(t: i64, offset_min: i32) -> Week {
        Week::of(local_date(t, offset_min))
    }

    /// `YYYY-Www`.
    pub fn label(&self) -> String {
        let (y, w, _) = self.monday.to_iso_week_date();
        format!("{y:04}-W{w:02}")
    }

    /// The seven days, Monday first.
    pub fn days(&self) -> Vec<Date> {
        (0..7).map(|i| self.monday + Duration::days(i)).collect()
    }

    /// The week before.
    pub fn prev(&self) -> Week {
        Week {
            monday: self.monday - Duration::days(7),
        }
    }

    /// The week after.
    pub fn next(&self) -> Week {
        Week {
            monday: self.monday + Duration::days(7),
        }
    }

    /// Unix time of Monday 00:00 local time.
    pub fn start(&self, offset_min: i32) -> i64 {
        day_start(self.monday, offset_min)
    }

    /// Unix time of the next Monday 00:00 local time (exclusive end).
    pub fn end(&self, offset_min: i32) -> i64 {
        self.start(offset_min) + 7 * DAY
    }
}

/// Unix time of a day's 00:00 local time.
pub fn day_start(d: Date, offset_min: i32) -> i64 {
    let midnight_utc = d.midnight().assume_utc().unix_timestamp();
    midnight_utc - offset_min as i64 * 60
}

/// The local date of a Unix time.
pub fn local_date(t: i64, offset_min: i32) -> Date {
    let local = t + offset_min as i64 * 60;
    OffsetDateTime::from_unix_timestamp(local)
        .map(|d| d.date())
        .unwrap_or(Date::MIN)
}

/// `HH:MM` of a Unix time in local time.
pub fn hm(t: i64, offset_min: i32) -> String {
    let local = (t + offset_min as i64 * 60).rem_euclid(DAY);
    format!("{:02}:{:02}", local / 3600, local % 3600 / 60)
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).ok()
}

/// `YYYY-MM-DD`.
pub fn fmt_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// The ids among `(id, start, end)` whose half-open interval overlaps another's (the
/// caller passes the appointments of one engineer).
pub fn overlapping(slots: &[(i64, i64, i64)]) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    for (i, a) in slots.iter().enumerate() {
        for b in &slots[i + 1..] {
            if a.1 < b.2 && b.1 < a.2 {
                out.insert(a.0);
                out.insert(b.0);
            }
        }
    }
    out
}

/// Whether an order's region or category matches an engineer's list: equal ignoring case
/// and spaces, or one contains the other ("华东" covers "华东区").
pub fn matches(needle: Option<&str>, list: &[String]) -> bool {
    let norm = |s: &str| s.trim().to_lowercase().replace(' ', "");
    let Some(n) = needle.map(norm).filter(|n| !n.is_empty()) else {
        return false;
    };
    list.iter()
        .map(|s| norm(s))
        .filter(|s| !s.is_empty())
        .any(|s| s == n || s.contains(&n) || n.contains(&s))
}

/// Sort key of a candidate: region match first, then skill match, then fewer open orders in
/// the week, then fewer conflicts, then name.
pub fn rank_key(
    region: bool,
    skill: bool,
    load: i64,
    conflicts: usize,
    name: &str,
) -> (bool, bool, i64, usize, String) {
    (!region, !skill, load, conflicts, name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_parse_and_print() {
        let w = Week::parse("2026-W48").unwrap();
        assert_eq!(fmt_date(w.monday), "2026-11-23");
        assert_eq!(w.label(), "2026-W48");
        assert_eq!(Week::parse("2026w48"), Some(w));
        assert_eq!(w.next().label(), "2026-W49");
        assert_eq!(w.prev().label(), "2026-W47");
        // 2026 has 53 ISO weeks; 2025 does not.
        assert_eq!(Week::parse("2026-W53").unwrap().next().label(), "2027-W01");
        assert_eq!(Week::parse("2025-W53"), None);
        for bad in [
            "",
            "2026",
            "2026-W",
            "2026-W0",
            "2026-W100",
            "26-W01",
            "2026-Wx1",
        ] {
            assert_eq!(Week::parse(bad), None, "{bad}");
        }
        assert_eq!(Week::of(parse_date("2026-11-29").unwrap()), w);
        assert_eq!(w.days().len(), 7);
    }

    #[test]
    fn local_time_bounds() {
        let w = Week::parse("2026-W48").unwrap();
        // Beijing (UTC+8): Monday 00:00 local is Sunday 16:00 UTC.
        let s = w.start(480);
        assert_eq!(s, day_start(w.monday, 0) - 8 * 3600);
        assert_eq!(w.end(480) - s, 7 * DAY);
        assert_eq!(Week::at(s, 480), w);
        assert_eq!(Week::at(s - 1, 480), w.prev());
        assert_eq!(hm(s + 9 * 3600 + 30 * 60, 480), "09:30");
        assert_eq!(fmt_date(local_date(s, 480)), "2026-11-23");
    }

    #[test]
    fn overlaps_are_half_open() {
        let v = [(1, 0, 10), (2, 10, 20), (3, 15, 16), (4, 30, 40)];
        assert_eq!(overlapping(&v), BTreeSet::from([2, 3]));
        assert!(overlapping(&[(1, 0, 10)]).is_empty());
    }

    #[test]
    fn region_and_skill_matching() {
        let l = vec!["华东".to_string(), "Electrical ".to_string()];
        assert!(matches(Some("华东"), &l));
        assert!(matches(Some("华东区"), &l));
        assert!(matches(Some("electrical"), &l));
        assert!(!matches(Some("华北"), &l));
        assert!(!matches(None, &l));
        assert!(!matches(Some(" "), &l));
        let mut v = [
            rank_key(false, true, 0, 0, "b"),
            rank_key(true, false, 5, 0, "c"),
            rank_key(true, true, 3, 1, "d"),
            rank_key(true, true, 1, 0, "a"),
        ];
        v.sort();
        let names: Vec<&str> = v.iter().map(|k| k.4.as_str()).collect();
        assert_eq!(names, ["a", "d", "c", "b"]);
    }
}
