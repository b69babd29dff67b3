//! Working time: work calendars with working hours, statutory holidays and make-up working days (调休).
//!
//! Instants are Unix seconds (UTC). A calendar keeps a fixed UTC offset, which is exact for
//! Asia/Shanghai (no daylight saving since 1991). Dates are `YYYY-MM-DD` text, years 1900-2200.
//! Long spans are counted per week arithmetically plus the listed dates in range, never per day.

use std::collections::BTreeSet;

use crate::archives::equipment::{date_of_days, days_of};
use crate::org::valid_date;
use crate::{DomainError, FieldErrors};

const DAY: i64 = 86_400;
/// Instants are clamped to ±2^40 s (about ±34,000 years) so day arithmetic cannot overflow.
const LIMIT: i64 = 1 << 40;
/// Day number of 1900-01-01, the first date `valid_date` accepts.
const MIN_DAY: i64 = -25_567;
/// Day number of 2200-12-31, the last date `valid_date` accepts.
const MAX_DAY: i64 = 84_370;
/// Ten years of days: a calendar without a working day in that long has no working time.
const TEN_YEARS: i64 = 3_653;

/// What a listed date is on a work calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayKind {
    /// A day off even on a working weekday (statutory holiday).
    Holiday,
    /// A working day even on a weekend (make-up working day, 调休上班).
    Workday,
}

impl DayKind {
    /// Every kind, in display order.
    pub const ALL: [DayKind; 2] = [DayKind::Holiday, DayKind::Workday];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    /// The kind of a stored code.
    pub fn parse(s: &str) -> Option<Self> {
        DayKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// A work calendar: local working periods on working days, at a fixed UTC offset (Asia/Shanghai = +480 min).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    /// Local time minus UTC, in minutes.
    pub utc_offset_minutes: i32,
    /// Working periods within a day as (start, end) minutes after local midnight, sorted, non-overlapping, end <= 1440.
    pub periods: Vec<(u16, u16)>,
    /// Working weekdays, index 0 = Monday .. 6 = Sunday.
    pub weekdays: [bool; 7],
    /// Statutory holidays as `YYYY-MM-DD` (days off even on a working weekday; wins over `workdays`).
    pub holidays: BTreeSet<String>,
    /// Make-up working days (调休上班) as `YYYY-MM-DD`: worked even on a weekend.
    pub workdays: BTreeSet<String>,
}

/// Per-call view of the periods in seconds, normalised so a hand-built calendar cannot double count.
struct Day {
    spans: Vec<(i64, i64)>,
    secs: i64,
}

impl WorkCalendar {
    /// Asia/Shanghai office hours: 09:00-12:00 and 13:00-18:00, Monday to Friday, no listed dates.
    pub fn standard() -> Self {
        WorkCalendar {
            utc_offset_minutes: 480,
            periods: vec![(540, 720), (780, 1080)],
            weekdays: [true, true, true, true, true, false, false],
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
        }
    }

    /// Builds a calendar from form text: periods `"09:00-12:00,13:00-18:00"`, weekdays `"12345"` (1 = Monday).
    pub fn from_parts(
        utc_offset_minutes: i32,
        periods: &str,
        weekdays: &str,
        days: &[(String, DayKind)],
    ) -> Result<Self, DomainError> {
        let mut errs = FieldErrors::default();
        // Real offsets run from UTC-12:00 to UTC+14:00.
        if !(-720..=840).contains(&utc_offset_minutes) {
            errs.add(
                "utc_offset_minutes",
                "invalid",
                Some(utc_offset_minutes.to_string()),
            );
        }
        let periods = parse_periods(&mut errs, "periods", periods);
        let weekdays = parse_weekdays(&mut errs, "weekdays", weekdays);
        let mut holidays = BTreeSet::new();
        let mut workdays = BTreeSet::new();
        for (date, kind) in days {
            let date = date.trim();
            if day_number(date).is_none() {
                errs.add("days", "invalid_date", Some(date.to_string()));
                continue;
            }
            match kind {
                DayKind::Holiday => holidays.insert(date.to_string()),
                DayKind::Workday => workdays.insert(date.to_string()),
            };
        }
        for d in holidays.intersection(&workdays) {
            errs.add("days", "day_conflict", Some(d.clone()));
        }
        errs.into_result(WorkCalendar {
            utc_offset_minutes,
            periods,
            weekdays,
            holidays,
            workdays,
        })
    }

    /// The periods as form text, e.g. `"09:00-12:00,13:00-18:00"` (parses back to the same periods).
    pub fn periods_text(&self) -> String {
        self.periods
            .iter()
            .map(|&(s, e)| format!("{}-{}", hm_text(s), hm_text(e)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The working weekdays as digits, e.g. `"12345"` (1 = Monday .. 7 = Sunday).
    pub fn weekdays_text(&self) -> String {
        (1..=7u8)
            .zip(self.weekdays)
            .filter(|&(_, on)| on)
            .map(|(n, _)| char::from(b'0' + n))
            .collect()
    }

    /// Whether `date` (`YYYY-MM-DD`) is worked: a make-up day wins over the weekend, a holiday over the weekday.
    pub fn is_working_day(&self, date: &str) -> bool {
        day_number(date.trim()).is_some_and(|d| self.works(d))
    }

    /// Working seconds in `[from, to)`; 0 when `to <= from`.
    pub fn working_seconds(&self, from: i64, to: i64) -> i64 {
        self.seconds_in(&self.day(), from, to)
    }

    /// Working seconds in `[from, to)` minus those inside pauses; an open pause (`None` end) lasts until `to`.
    pub fn working_seconds_paused(&self, from: i64, to: i64, pauses: &[(i64, Option<i64>)]) -> i64 {
        if to <= from {
            return 0;
        }
        let day = self.day();
        let clipped = pauses
            .iter()
            .map(|&(s, e)| (s.max(from), e.unwrap_or(to).min(to)))
            .collect();
        // Merged first, so overlapping or repeated pauses are subtracted once.
        let paused: i64 = merge_intervals(clipped)
            .into_iter()
            .map(|(s, e)| self.seconds_in(&day, s, e))
            .sum();
        self.seconds_in(&day, from, to) - paused
    }

    /// The first instant `t >= from` with `working_seconds(from, t) == secs`; `None` for negative
    /// `secs`, or when the working time never adds up (no periods, no working day in ten years,
    /// or beyond about ±34,000 years).
    pub fn add_working(&self, from: i64, secs: i64) -> Option<i64> {
        if secs < 0 || !(-LIMIT..=LIMIT).contains(&from) {
            return None;
        }
        if secs == 0 {
            return Some(from);
        }
        let day = self.day();
        if day.secs == 0 {
            return None;
        }
        let off = self.offset_secs();
        let local = from + off;
        let (d, sod) = (local.div_euclid(DAY), local.rem_euclid(DAY));
        let mut rest = secs;
        if self.works(d) {
            let avail = overlap(&day.spans, sod, DAY);
            if rest <= avail {
                return Some(find_in_day(&day.spans, d, sod, rest) - off);
            }
            rest -= avail;
        }
        // Whole working days needed after the first day; the last one may be partly used.
        let need = (rest - 1) / day.secs + 1;
        let last = self.nth_working_day(d + 1, need, (LIMIT + off) / DAY + 1)?;
        rest -= self.count_working_days(d + 1, last) * day.secs;
        let t = find_in_day(&day.spans, last, 0, rest) - off;
        (t <= LIMIT).then_some(t)
    }

    /// The `n`-th working day after `date` (`date` itself for 0); `None` for an invalid date, a
    /// result after 2200, or no working day in ten years.
    pub fn add_working_days(&self, date: &str, n: u32) -> Option<String> {
        let d = day_number(date.trim())?;
        if n == 0 {
            return Some(date_of_days(d));
        }
        self.nth_working_day(d + 1, i64::from(n), MAX_DAY)
            .map(date_of_days)
    }

    /// The local calendar date (`YYYY-MM-DD`) of instant `t`.
    pub fn local_date(&self, t: i64) -> String {
        date_of_days((clamp(t) + self.offset_secs()).div_euclid(DAY))
    }

    /// The instant `minutes` after local midnight of `date`; `None` for an invalid date.
    pub fn local_instant(&self, date: &str, minutes: u32) -> Option<i64> {
        let d = day_number(date.trim())?;
        Some(d * DAY + i64::from(minutes) * 60 - self.offset_secs())
    }

    fn offset_secs(&self) -> i64 {
        i64::from(self.utc_offset_minutes) * 60
    }

    fn day(&self) -> Day {
        let spans = merge_intervals(
            self.periods
                .iter()
                .map(|&(s, e)| (i64::from(s.min(1440)) * 60, i64::from(e.min(1440)) * 60))
                .collect(),
        );
        let secs = spans.iter().map(|(s, e)| e - s).sum();
        Day { spans, secs }
    }

    /// Whether day number `d` is worked; listed dates only exist within the years 1900-2200.
    fn works(&self, d: i64) -> bool {
        if (MIN_DAY..=MAX_DAY).contains(&d) {
            let key = date_of_days(d);
            if self.holidays.contains(&key) {
                return false;
            }
            if self.workdays.contains(&key) {
                return true;
            }
        }
        self.weekdays[weekday(d)]
    }

    fn seconds_in(&self, day: &Day, from: i64, to: i64) -> i64 {
        let (from, to) = (clamp(from), clamp(to));
        if to <= from || day.secs == 0 {
            return 0;
        }
        let off = self.offset_secs();
        let (lf, lt) = (from + off, to + off);
        let (df, sf) = (lf.div_euclid(DAY), lf.rem_euclid(DAY));
        let (dt, st) = (lt.div_euclid(DAY), lt.rem_euclid(DAY));
        let part = |d: i64, a: i64, b: i64| {
            if self.works(d) {
                overlap(&day.spans, a, b)
            } else {
                0
            }
        };
        if df == dt {
            return part(df, sf, st);
        }
        part(df, sf, DAY) + self.count_working_days(df + 1, dt) * day.secs + part(dt, 0, st)
    }

    /// Working days among day numbers `[a, b)`: weekdays per week, then the listed dates in range.
    fn count_working_days(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        let n = b - a;
        let per_week = self.weekdays.iter().filter(|&&w| w).count() as i64;
        let mut count = n / 7 * per_week;
        let tail = a + n / 7 * 7;
        count += (tail..b).filter(|&d| self.weekdays[weekday(d)]).count() as i64;
        let (lo, hi) = (a.max(MIN_DAY), b.min(MAX_DAY + 1));
        if lo < hi {
            let (klo, khi) = (date_of_days(lo), date_of_days(hi));
            for h in self.holidays.range::<String, _>(&klo..&khi) {
                if day_number(h).is_some_and(|d| self.weekdays[weekday(d)]) {
                    count -= 1;
                }
            }
            for w in self.workdays.range::<String, _>(&klo..&khi) {
                if day_number(w).is_some_and(|d| !self.weekdays[weekday(d)])
                    && !self.holidays.contains(w)
                {
                    count += 1;
                }
            }
        }
        count
    }

    /// The earliest day `e >= a` with `k >= 1` working days in `[a, e]`, searched up to day `max`.
    fn nth_working_day(&self, a: i64, k: i64, max: i64) -> Option<i64> {
        if self.count_working_days(a, a + TEN_YEARS) == 0 {
            return None;
        }
        // Doubling then bisection keeps this logarithmic in the span however far it reaches.
        let mut hi = 1i64;
        while self.count_working_days(a, a + hi) < k {
            if a + hi > max {
                return None;
            }
            hi *= 2;
        }
        let mut lo = 0i64;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.count_working_days(a, a + mid) >= k {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let e = a + hi - 1;
        (e <= max).then_some(e)
    }
}

/// The built-in statutory schedule of `year` as (date, kind, zh holiday name); empty for years not built in.
pub fn china_statutory(year: i32) -> Vec<(String, DayKind, &'static str)> {
    // 国务院办公厅 notice of 2025-11-04; days off as inclusive (month, first, last) ranges.
    const OFF_2026: [(&str, u32, u32, u32); 7] = [
        ("元旦", 1, 1, 3),
        ("春节", 2, 15, 23),
        ("清明节", 4, 4, 6),
        ("劳动节", 5, 1, 5),
        ("端午节", 6, 19, 21),
        ("中秋节", 9, 25, 27),
        ("国庆节", 10, 1, 7),
    ];
    const ON_2026: [(&str, u32, u32); 6] = [
        ("元旦", 1, 4),
        ("春节", 2, 14),
        ("春节", 2, 28),
        ("劳动节", 5, 9),
        ("国庆节", 9, 20),
        ("国庆节", 10, 10),
    ];
    if year != 2026 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, m, first, last) in OFF_2026 {
        for d in first..=last {
            out.push((format!("{year:04}-{m:02}-{d:02}"), DayKind::Holiday, name));
        }
    }
    for (name, m, d) in ON_2026 {
        out.push((format!("{year:04}-{m:02}-{d:02}"), DayKind::Workday, name));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Sorts and merges intervals `[s, e)`, dropping empty ones.
pub(crate) fn merge_intervals(mut v: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    v.retain(|(s, e)| s < e);
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn clamp(t: i64) -> i64 {
    t.clamp(-LIMIT, LIMIT)
}

/// Weekday index of a day number, 0 = Monday (1970-01-01 was a Thursday).
fn weekday(d: i64) -> usize {
    (d + 3).rem_euclid(7) as usize
}

/// Day number of a canonical date; `valid_date` alone would also take `2026-+1-01`, which
/// would never match the canonical keys of the date sets.
fn day_number(date: &str) -> Option<i64> {
    let canonical = date.bytes().enumerate().all(|(i, b)| {
        if i == 4 || i == 7 {
            b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    if !canonical || !valid_date(date) {
        return None;
    }
    days_of(date)
}

/// Working seconds of one day's spans within `[a, b)` seconds after local midnight.
fn overlap(spans: &[(i64, i64)], a: i64, b: i64) -> i64 {
    spans
        .iter()
        .map(|&(s, e)| (e.min(b) - s.max(a)).max(0))
        .sum()
}

/// Local instant on day `d` where `rest` working seconds counted from `sod` run out; callers
/// guarantee `rest` fits in the day, else the day's end is the safe answer.
fn find_in_day(spans: &[(i64, i64)], d: i64, sod: i64, mut rest: i64) -> i64 {
    for &(s, e) in spans {
        let lo = s.max(sod);
        if e <= lo {
            continue;
        }
        if rest <= e - lo {
            return d * DAY + lo + rest;
        }
        rest -= e - lo;
    }
    (d + 1) * DAY
}

fn hm_text(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// `H:MM` or `HH:MM` up to `24:00`, as minutes after midnight.
fn parse_hm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once([':', '：'])?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

fn parse_periods(errs: &mut FieldErrors, field: &str, raw: &str) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    // Full-width separators and tildes are what Chinese users type for time ranges.
    for piece in raw.split([',', '，', ';', '；']) {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        let parsed = piece
            .split_once(['-', '~', '～', '–', '—'])
            .and_then(|(a, b)| Some((parse_hm(a.trim())?, parse_hm(b.trim())?)));
        match parsed {
            None => {
                errs.add(field, "invalid_periods", Some(piece.to_string()));
                return Vec::new();
            }
            Some((s, e)) if s >= e => {
                errs.add(field, "time_order", Some(piece.to_string()));
                return Vec::new();
            }
            Some(p) => out.push(p),
        }
    }
    if out.is_empty() {
        errs.add(field, "required", None);
        return out;
    }
    out.sort_unstable();
    if let Some(w) = out.windows(2).find(|w| w[1].0 < w[0].1) {
        let arg = format!("{}-{}", hm_text(w[1].0), hm_text(w[1].1));
        errs.add(field, "periods_overlap", Some(arg));
        return Vec::new();
    }
    out
}

fn parse_weekdays(errs: &mut FieldErrors, field: &str, raw: &str) -> [bool; 7] {
    let mut out = [false; 7];
    for c in raw.chars() {
        match c.to_digit(10) {
            Some(n @ 1..=7) => out[n as usize - 1] = true,
            _ if c.is_whitespace() || c == ',' || c == '，' => {}
            _ => {
                errs.add(field, "invalid_weekdays", Some(c.to_string()));
                return [false; 7];
            }
        }
    }
    if !out.contains(&true) {
        errs.add(field, "required", None);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: i64 = 3600;

    fn codes(e: &DomainError) -> Vec<(String, &'static str)> {
        match e {
            DomainError::Invalid(f) => f.0.iter().map(|x| (x.field.clone(), x.code)).collect(),
            _ => vec![],
        }
    }

    fn china_2026() -> WorkCalendar {
        let days: Vec<_> = china_statutory(2026)
            .into_iter()
            .map(|(d, k, _)| (d, k))
            .collect();
        WorkCalendar::from_parts(480, "09:00-12:00,13:00-18:00", "12345", &days).unwrap()
    }

    /// Local `YYYY-MM-DD HH:MM` on the calendar's offset as an instant.
    fn at(cal: &WorkCalendar, s: &str) -> i64 {
        let (date, hm) = s.split_once(' ').unwrap();
        cal.local_instant(date, u32::from(parse_hm(hm).unwrap()))
            .unwrap()
    }

    fn show(cal: &WorkCalendar, t: i64) -> String {
        let sod = (t + cal.offset_secs()).rem_euclid(DAY);
        format!(
            "{} {:02}:{:02}:{:02}",
            cal.local_date(t),
            sod / H,
            sod % H / 60,
            sod % 60
        )
    }

    #[test]
    fn constants_match_valid_date_range() {
        assert_eq!(days_of("1900-01-01"), Some(MIN_DAY));
        assert_eq!(days_of("2200-12-31"), Some(MAX_DAY));
        assert_eq!(weekday(days_of("2026-01-05").unwrap()), 0, "a Monday");
        assert_eq!(weekday(days_of("2026-01-04").unwrap()), 6, "a Sunday");
    }

    #[test]
    fn standard_round_trips_through_text() {
        let s = WorkCalendar::standard();
        assert_eq!(s.periods_text(), "09:00-12:00,13:00-18:00");
        assert_eq!(s.weekdays_text(), "12345");
        let back = WorkCalendar::from_parts(480, &s.periods_text(), &s.weekdays_text(), &[]);
        assert_eq!(back, Ok(s));
        let all_day = WorkCalendar::from_parts(0, "00:00-24:00", "1234567", &[]).unwrap();
        assert_eq!(all_day.periods, vec![(0, 1440)]);
        assert_eq!(all_day.periods_text(), "00:00-24:00");
        assert_eq!(all_day.weekdays_text(), "1234567");
    }

    #[test]
    fn from_parts_accepts_loose_input() {
        let c = WorkCalendar::from_parts(480, " 13:00～18:00，8:30 - 12:00 ,", "5, 4 3 2 1 1", &[])
            .unwrap();
        assert_eq!(c.periods, vec![(510, 720), (780, 1080)]);
        assert_eq!(c.weekdays, [true, true, true, true, true, false, false]);
        // Touching periods do not overlap.
        assert!(WorkCalendar::from_parts(480, "09:00-12:00,12:00-13:00", "1", &[]).is_ok());
    }

    #[test]
    fn from_parts_reports_field_errors() {
        let e = |p: &str, w: &str| codes(&WorkCalendar::from_parts(480, p, w, &[]).unwrap_err());
        let p = |code| vec![("periods".to_string(), code)];
        assert_eq!(e("9-12", "1"), p("invalid_periods"));
        assert_eq!(e("09:00-12:60", "1"), p("invalid_periods"));
        assert_eq!(e("09:00-24:30", "1"), p("invalid_periods"));
        assert_eq!(e("09:00", "1"), p("invalid_periods"));
        assert_eq!(e("12:00-09:00", "1"), p("time_order"));
        assert_eq!(e("09:00-09:00", "1"), p("time_order"));
        assert_eq!(e("09:00-12:00,11:00-13:00", "1"), p("periods_overlap"));
        assert_eq!(e(" , ", "1"), p("required"));
        let w = |code| vec![("weekdays".to_string(), code)];
        assert_eq!(e("09:00-12:00", "1238"), w("invalid_weekdays"));
        assert_eq!(e("09:00-12:00", "一二"), w("invalid_weekdays"));
        assert_eq!(e("09:00-12:00", ""), w("required"));

        let bad = WorkCalendar::from_parts(
            900,
            "09:00-12:00",
            "1",
            &[
                ("2026-02-30".into(), DayKind::Holiday),
                ("2026-+1-01".into(), DayKind::Holiday),
                ("2026-10-10".into(), DayKind::Holiday),
                ("2026-10-10".into(), DayKind::Workday),
            ],
        )
        .unwrap_err();
        assert_eq!(
            codes(&bad),
            vec![
                ("utc_offset_minutes".to_string(), "invalid"),
                ("days".to_string(), "invalid_date"),
                ("days".to_string(), "invalid_date"),
                ("days".to_string(), "day_conflict"),
            ]
        );
    }

    #[test]
    fn day_kinds() {
        for k in DayKind::ALL {
            assert_eq!(DayKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(DayKind::parse("weekend"), None);
    }

    #[test]
    fn statutory_2026_matches_the_notice() {
        let s = china_statutory(2026);
        let off = s.iter().filter(|d| d.1 == DayKind::Holiday).count();
        let on: Vec<_> = s
            .iter()
            .filter(|d| d.1 == DayKind::Workday)
            .map(|d| d.0.as_str())
            .collect();
        assert_eq!(off, 3 + 9 + 3 + 5 + 3 + 3 + 7);
        assert_eq!(
            on,
            [
                "2026-01-04",
                "2026-02-14",
                "2026-02-28",
                "2026-05-09",
                "2026-09-20",
                "2026-10-10"
            ]
        );
        // Every make-up day falls on a weekend, or it would change nothing.
        for d in &on {
            assert!(weekday(days_of(d).unwrap()) >= 5, "{d}");
        }
        assert!(s.iter().all(|d| day_number(&d.0).is_some()));
        assert!(s.iter().any(|d| d.0 == "2026-02-23" && d.2 == "春节"));
        assert!(s.iter().any(|d| d.0 == "2026-09-20" && d.2 == "国庆节"));
        assert!(china_statutory(2025).is_empty());
        assert!(china_statutory(2027).is_empty());
    }

    #[test]
    fn working_day_precedence() {
        let c = china_2026();
        assert!(c.is_working_day("2026-01-04"), "make-up Sunday");
        assert!(!c.is_working_day("2026-01-01"), "holiday Thursday");
        assert!(!c.is_working_day("2026-01-10"), "plain Saturday");
        assert!(c.is_working_day("2026-01-05"), "plain Monday");
        assert!(!c.is_working_day("2026-13-01"));
        assert!(!c.is_working_day("yesterday"));
        // Both listed (only possible by hand): the holiday wins.
        let mut both = c.clone();
        both.workdays.insert("2026-10-01".into());
        assert!(!both.is_working_day("2026-10-01"));
        let t = at(&c, "2026-10-01 00:00");
        assert_eq!(both.working_seconds(t, t + DAY), 0);
    }

    #[test]
    fn national_day_complaint() {
        // Wed 2026-09-30 17:00 with a 2 h budget: 17:00-18:00 on the 30th uses 1 h; Oct 1-7 are
        // holidays (Oct 3-4 are a weekend anyway); Thu Oct 8 is a plain working day, so the second
        // hour runs 09:00-10:00 and the budget is used up at Thu 2026-10-08 10:00. The make-up
        // Saturday Oct 10 is not reached.
        let c = china_2026();
        let start = at(&c, "2026-09-30 17:00");
        let due = c.add_working(start, 2 * H).unwrap();
        assert_eq!(show(&c, due), "2026-10-08 10:00:00");
        assert_eq!(due, at(&c, "2026-10-08 10:00"));
        assert_eq!(c.working_seconds(start, due), 2 * H);
        // The whole Golden Week holds no working time.
        assert_eq!(
            c.working_seconds(at(&c, "2026-09-30 18:00"), at(&c, "2026-10-08 09:00")),
            0
        );
        // Without the holidays the due would be Thu Oct 1 10:00.
        let plain = WorkCalendar::standard();
        assert_eq!(
            show(&plain, plain.add_working(start, 2 * H).unwrap()),
            "2026-10-01 10:00:00"
        );
    }

    #[test]
    fn make_up_sunday_counts() {
        let c = china_2026();
        // Sat Jan 3 is a holiday, Sun Jan 4 a make-up working day.
        let t = c.add_working(at(&c, "2026-01-03 17:00"), H).unwrap();
        assert_eq!(show(&c, t), "2026-01-04 10:00:00");
        let sun = at(&c, "2026-01-04 00:00");
        assert_eq!(c.working_seconds(sun, sun + DAY), 8 * H);
        // Wed 2025-12-31 18:00 to Mon Jan 5 09:00 holds only the make-up Sunday's 8 h.
        assert_eq!(
            c.working_seconds(at(&c, "2025-12-31 18:00"), at(&c, "2026-01-05 09:00")),
            8 * H
        );
    }

    #[test]
    fn lunch_break_is_not_worked() {
        let c = WorkCalendar::standard();
        assert_eq!(
            c.working_seconds(at(&c, "2026-03-02 11:00"), at(&c, "2026-03-02 14:00")),
            2 * H
        );
        let t = c.add_working(at(&c, "2026-03-02 11:30"), H).unwrap();
        assert_eq!(show(&c, t), "2026-03-02 13:30:00");
        // Exactly the morning's end: the first instant, not the afternoon's start.
        let t = c.add_working(at(&c, "2026-03-02 11:00"), H).unwrap();
        assert_eq!(show(&c, t), "2026-03-02 12:00:00");
        let t = c.add_working(at(&c, "2026-03-02 17:00"), H).unwrap();
        assert_eq!(show(&c, t), "2026-03-02 18:00:00");
    }

    #[test]
    fn midnight_boundaries() {
        let c = WorkCalendar::standard();
        let tue = at(&c, "2026-03-03 00:00");
        assert_eq!(c.working_seconds(tue, tue + DAY), 8 * H);
        assert_eq!(c.working_seconds(tue - 1, tue + DAY + 1), 8 * H);
        let night = WorkCalendar::from_parts(480, "00:00-01:00,23:00-24:00", "12345", &[]).unwrap();
        // Mon 23:00 to Tue 01:00 crosses midnight inside working time.
        assert_eq!(
            night.working_seconds(
                at(&night, "2026-03-02 23:00"),
                at(&night, "2026-03-03 01:00")
            ),
            2 * H
        );
        let t = night
            .add_working(at(&night, "2026-03-02 23:30"), H)
            .unwrap();
        assert_eq!(show(&night, t), "2026-03-03 00:30:00");
        let t = night
            .add_working(at(&night, "2026-03-02 23:00"), H)
            .unwrap();
        assert_eq!(show(&night, t), "2026-03-03 00:00:00");
        assert_eq!(night.local_date(t), "2026-03-03");
        assert_eq!(night.local_date(t - 1), "2026-03-02");
    }

    #[test]
    fn across_the_year_end() {
        // Thu 2026-12-31 17:00 + 3 h: one hour that evening; no 2027 schedule is built in, so Fri
        // 2027-01-01 is a plain working day and takes the other two hours.
        let c = china_2026();
        let start = at(&c, "2026-12-31 17:00");
        let t = c.add_working(start, 3 * H).unwrap();
        assert_eq!(show(&c, t), "2027-01-01 11:00:00");
        // With New Year's Day listed, Sat-Sun follow, so Monday 2027-01-04 finishes it.
        let mut next = c.clone();
        next.holidays.insert("2027-01-01".into());
        let t = next.add_working(start, 3 * H).unwrap();
        assert_eq!(show(&next, t), "2027-01-04 11:00:00");
        assert_eq!(next.working_seconds(start, t), 3 * H);
    }

    #[test]
    fn start_outside_working_hours() {
        let c = WorkCalendar::standard();
        let t = c.add_working(at(&c, "2026-03-02 20:00"), H).unwrap();
        assert_eq!(show(&c, t), "2026-03-03 10:00:00");
        let t = c.add_working(at(&c, "2026-03-07 10:00"), H).unwrap();
        assert_eq!(show(&c, t), "2026-03-09 10:00:00", "Saturday to Monday");
        let t = c.add_working(at(&c, "2026-03-02 12:30"), 30 * 60).unwrap();
        assert_eq!(show(&c, t), "2026-03-02 13:30:00");
        let t = c.add_working(at(&c, "2026-03-02 06:00"), 8 * H).unwrap();
        assert_eq!(
            show(&c, t),
            "2026-03-02 18:00:00",
            "a whole day from before opening"
        );
        let t = c
            .add_working(at(&c, "2026-03-02 06:00"), 8 * H + 1)
            .unwrap();
        assert_eq!(show(&c, t), "2026-03-03 09:00:01");
        // Zero budget: the start itself, even outside working hours.
        let s = at(&c, "2026-03-07 10:00");
        assert_eq!(c.add_working(s, 0), Some(s));
    }

    #[test]
    fn offsets() {
        let utc = WorkCalendar::from_parts(0, "09:00-17:00", "12345", &[]).unwrap();
        let cn = WorkCalendar::from_parts(480, "09:00-17:00", "12345", &[]).unwrap();
        // Mon 2026-03-02 09:00 UTC is 17:00 in Shanghai: opening there, closing here.
        let t = 1_772_442_000;
        assert_eq!(show(&utc, t), "2026-03-02 09:00:00");
        assert_eq!(show(&cn, t), "2026-03-02 17:00:00");
        assert_eq!(utc.working_seconds(t, t + H), H);
        assert_eq!(cn.working_seconds(t, t + H), 0);
        assert_eq!(
            cn.add_working(t, H),
            Some(t + 17 * H),
            "Tue 10:00 in Shanghai"
        );
        // 16:00 UTC on New Year's Eve is already Jan 1 in Shanghai, still Dec 31 in New York.
        let ny = WorkCalendar::from_parts(-300, "09:00-17:00", "12345", &[]).unwrap();
        let eve = 1_767_196_800; // 2025-12-31 16:00 UTC
        assert_eq!(utc.local_date(eve), "2025-12-31");
        assert_eq!(cn.local_date(eve), "2026-01-01");
        assert_eq!(ny.local_date(eve), "2025-12-31");
        assert_eq!(ny.local_date(eve + 13 * H), "2026-01-01");
        assert_eq!(cn.local_instant("2026-01-01", 0), Some(eve));
        // The same local schedule: one hour from local 16:00 ends at local 17:00 on each.
        for cal in [&utc, &cn, &ny] {
            let s = at(cal, "2026-03-04 16:00");
            assert_eq!(
                show(cal, cal.add_working(s, H).unwrap()),
                "2026-03-04 17:00:00"
            );
        }
    }

    #[test]
    fn no_working_time() {
        let mut none = WorkCalendar::standard();
        none.periods.clear();
        assert_eq!(none.add_working(0, 1), None);
        assert_eq!(none.add_working(0, 0), Some(0));
        assert_eq!(none.working_seconds(0, 10 * DAY), 0);
        let mut idle = WorkCalendar::standard();
        idle.weekdays = [false; 7];
        assert_eq!(idle.add_working(0, 1), None);
        assert_eq!(idle.add_working_days("2026-01-01", 1), None);
        assert_eq!(WorkCalendar::standard().add_working(0, -1), None);
        // Only one make-up day ever: it can be used, and nothing beyond it.
        idle.workdays.insert("2026-01-04".into());
        let s = at(&idle, "2026-01-01 00:00");
        assert_eq!(
            show(&idle, idle.add_working(s, H).unwrap()),
            "2026-01-04 10:00:00"
        );
        assert_eq!(
            show(&idle, idle.add_working(s, 8 * H).unwrap()),
            "2026-01-04 18:00:00"
        );
        assert_eq!(idle.add_working(s, 8 * H + 1), None);
        assert_eq!(
            idle.add_working_days("2025-12-01", 1).as_deref(),
            Some("2026-01-04")
        );
        assert_eq!(idle.add_working_days("2025-12-01", 2), None);
    }

    #[test]
    fn long_spans_are_counted_arithmetically() {
        let c = WorkCalendar::standard();
        let mon = at(&c, "2026-03-02 00:00");
        let weeks = 52 * 150;
        assert_eq!(
            c.working_seconds(mon, mon + weeks * 7 * DAY),
            weeks * 5 * 8 * H
        );
        let t = c.add_working(mon, weeks * 5 * 8 * H).unwrap();
        // The last hour is Friday 17:00-18:00, 150 years on.
        assert_eq!(t, mon + (weeks - 1) * 7 * DAY + 4 * DAY + 18 * H);
        let cn = china_2026();
        let jan1 = at(&cn, "2026-01-01 00:00");
        // 2026 has 261 weekdays; 19 of the 33 holidays fall on one; 6 make-up days are added.
        let expected_days = (0..365)
            .filter(|i| cn.is_working_day(&date_of_days(days_of("2026-01-01").unwrap() + i)))
            .count() as i64;
        assert_eq!(expected_days, 261 - 19 + 6);
        assert_eq!(
            cn.working_seconds(jan1, jan1 + 365 * DAY),
            expected_days * 8 * H
        );
        // Absurd inputs are clamped rather than overflowing.
        assert!(c.working_seconds(i64::MIN, i64::MAX) > 0);
        assert_eq!(c.add_working(i64::MAX, 1), None);
        assert_eq!(c.add_working(0, i64::MAX), None);
        let _ = c.local_date(i64::MIN);
    }

    #[test]
    fn working_days_after() {
        let c = china_2026();
        // Oct 8 Thu, Oct 9 Fri, Oct 10 the make-up Saturday.
        assert_eq!(
            c.add_working_days("2026-09-30", 1).as_deref(),
            Some("2026-10-08")
        );
        assert_eq!(
            c.add_working_days("2026-09-30", 3).as_deref(),
            Some("2026-10-10")
        );
        assert_eq!(
            c.add_working_days("2026-09-30", 4).as_deref(),
            Some("2026-10-12")
        );
        assert_eq!(
            c.add_working_days("2026-09-18", 1).as_deref(),
            Some("2026-09-20"),
            "make-up Sunday"
        );
        assert_eq!(
            c.add_working_days("2026-09-30", 0).as_deref(),
            Some("2026-09-30")
        );
        assert_eq!(
            c.add_working_days("2026-10-03", 0).as_deref(),
            Some("2026-10-03")
        );
        assert_eq!(c.add_working_days("2026-02-30", 1), None);
        assert_eq!(c.add_working_days("2200-12-31", 1), None);
    }

    #[test]
    fn pauses() {
        let c = WorkCalendar::standard();
        let (a, b) = (at(&c, "2026-03-02 09:00"), at(&c, "2026-03-02 18:00"));
        assert_eq!(c.working_seconds_paused(a, b, &[]), 8 * H);
        // The lunch break is not working time, so pausing over it changes nothing.
        let lunch = (at(&c, "2026-03-02 12:00"), Some(at(&c, "2026-03-02 13:00")));
        assert_eq!(c.working_seconds_paused(a, b, &[lunch]), 8 * H);
        let p = (at(&c, "2026-03-02 11:00"), Some(at(&c, "2026-03-02 14:00")));
        assert_eq!(c.working_seconds_paused(a, b, &[p, p, lunch]), 6 * H);
        // Open pause from 16:00: stopped until `to`.
        assert_eq!(
            c.working_seconds_paused(a, b, &[(at(&c, "2026-03-02 16:00"), None)]),
            6 * H
        );
        // Pauses reaching outside the window are clipped.
        assert_eq!(
            c.working_seconds_paused(a, b, &[(a - DAY, Some(a + H))]),
            7 * H
        );
        assert_eq!(c.working_seconds_paused(a, b, &[(b + H, None)]), 8 * H);
        assert_eq!(c.working_seconds_paused(b, a, &[]), 0);
    }

    // ---- property tests ----

    /// Day-by-day reference: each working day's periods intersected with `[from, to)`.
    fn naive(cal: &WorkCalendar, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let off = cal.offset_secs();
        let mut total = 0;
        for d in (from + off).div_euclid(DAY)..=(to + off).div_euclid(DAY) {
            if !cal.is_working_day(&date_of_days(d)) {
                continue;
            }
            for &(s, e) in &cal.periods {
                let (ps, pe) = (
                    d * DAY + i64::from(s) * 60 - off,
                    d * DAY + i64::from(e) * 60 - off,
                );
                total += (pe.min(to) - ps.max(from)).max(0);
            }
        }
        total
    }

    const BASE: i64 = 1_766_000_000; // mid-December 2025, so spans cover the 2026 schedule

    fn periods() -> impl Strategy<Value = Vec<(u16, u16)>> {
        prop::collection::btree_set(0u16..=1440, 0..7).prop_map(|cuts| {
            let v: Vec<u16> = cuts.into_iter().collect();
            v.chunks_exact(2).map(|c| (c[0], c[1])).collect()
        })
    }

    fn dates() -> impl Strategy<Value = BTreeSet<String>> {
        prop::collection::btree_set(0i64..500, 0..25).prop_map(|ds| {
            let base = days_of("2025-12-01").unwrap_or(0);
            ds.into_iter().map(|d| date_of_days(base + d)).collect()
        })
    }

    prop_compose! {
        fn calendar()(
            utc_offset_minutes in -720i32..=840,
            periods in periods(),
            weekdays in any::<[bool; 7]>(),
            holidays in dates(),
            workdays in dates(),
        ) -> WorkCalendar {
            WorkCalendar { utc_offset_minutes, periods, weekdays, holidays, workdays }
        }
    }

    prop_compose! {
        fn plain_calendar()(
            utc_offset_minutes in -720i32..=840,
            periods in periods(),
            weekdays in any::<[bool; 7]>(),
        ) -> WorkCalendar {
            WorkCalendar { utc_offset_minutes, periods, weekdays, holidays: BTreeSet::new(), workdays: BTreeSet::new() }
        }
    }

    fn instant() -> impl Strategy<Value = i64> {
        prop_oneof![
            BASE..BASE + 500 * DAY,
            // Whole hours hit period edges and midnights often.
            (0i64..500 * 24).prop_map(|h| BASE / H * H + h * H),
        ]
    }

    fn pause() -> impl Strategy<Value = (i64, Option<i64>)> {
        (instant(), prop::option::weighted(0.8, 0i64..20 * DAY))
            .prop_map(|(s, len)| (s, len.map(|l| s + l)))
    }

    proptest! {
        #[test]
        fn text_round_trips(cal in calendar()) {
            let days: Vec<_> = cal.holidays.difference(&cal.workdays).map(|d| (d.clone(), DayKind::Holiday))
                .chain(cal.workdays.difference(&cal.holidays).map(|d| (d.clone(), DayKind::Workday)))
                .collect();
            let back = WorkCalendar::from_parts(cal.utc_offset_minutes, &cal.periods_text(), &cal.weekdays_text(), &days);
            if cal.periods.is_empty() || !cal.weekdays.contains(&true) {
                prop_assert!(back.is_err());
            } else {
                let back = back.unwrap();
                prop_assert_eq!(&back.periods, &cal.periods);
                prop_assert_eq!(back.weekdays, cal.weekdays);
            }
        }

        #[test]
        fn matches_day_by_day_reference(cal in calendar(), a in instant(), len in 0i64..40 * DAY) {
            prop_assert_eq!(cal.working_seconds(a, a + len), naive(&cal, a, a + len));
        }

        #[test]
        fn additive_monotone_bounded(cal in calendar(), mut v in prop::collection::vec(instant(), 3)) {
            v.sort_unstable();
            let (a, b, c) = (v[0], v[1], v[2]);
            let ws = |x, y| cal.working_seconds(x, y);
            prop_assert_eq!(ws(a, c), ws(a, b) + ws(b, c));
            prop_assert!(ws(a, b) <= ws(a, c));
            prop_assert!(ws(b, c) <= ws(a, c));
            prop_assert!(ws(a, c) <= c - a);
            prop_assert!(ws(a, c) >= 0);
            prop_assert_eq!(ws(c, a), 0);
        }

        #[test]
        fn add_working_inverts(cal in calendar(), from in instant(), secs in prop_oneof![0i64..3 * DAY, 0i64..400 * DAY]) {
            match cal.add_working(from, secs) {
                Some(t) => {
                    prop_assert!(t >= from);
                    prop_assert_eq!(cal.working_seconds(from, t), secs);
                    if secs > 0 {
                        prop_assert_eq!(cal.working_seconds(from, t - 1), secs - 1, "not the first instant");
                    }
                }
                None => {
                    // Only when there is no working time ahead at all.
                    prop_assert!(secs > 0);
                    let ten_years = cal.working_seconds(from, from + TEN_YEARS * DAY);
                    prop_assert!(ten_years < secs);
                }
            }
        }

        #[test]
        fn working_days_are_working(cal in calendar(), d in 0i64..400, n in 0u32..30) {
            let date = date_of_days(days_of("2025-12-01").unwrap_or(0) + d);
            if let Some(end) = cal.add_working_days(&date, n) {
                let (d0, d1) = (days_of(&date).unwrap_or(0), days_of(&end).unwrap_or(0));
                let worked = (d0 + 1..=d1).filter(|&x| cal.is_working_day(&date_of_days(x))).count();
                prop_assert_eq!(worked, n as usize);
                prop_assert!(n == 0 || cal.is_working_day(&end));
            } else {
                // Fewer than n working days remain before the supported dates end.
                prop_assert!(n > 0);
                let d0 = days_of(&date).unwrap_or(0);
                prop_assert!(cal.count_working_days(d0 + 1, MAX_DAY + 1) < i64::from(n));
            }
        }

        #[test]
        fn pauses_only_subtract(
            cal in calendar(),
            a in instant(),
            len in 0i64..60 * DAY,
            ps in prop::collection::vec(pause(), 0..5),
        ) {
            let b = a + len;
            let paused = cal.working_seconds_paused(a, b, &ps);
            prop_assert!(paused >= 0);
            prop_assert!(paused <= cal.working_seconds(a, b));
            let mut rev = ps.clone();
            rev.reverse();
            prop_assert_eq!(cal.working_seconds_paused(a, b, &rev), paused);
            let mut twice = ps.clone();
            twice.extend(ps.iter().copied());
            prop_assert_eq!(cal.working_seconds_paused(a, b, &twice), paused);
            // Dropping a pause never takes time away.
            if !ps.is_empty() {
                prop_assert!(cal.working_seconds_paused(a, b, &ps[1..]) >= paused);
            }
        }

        #[test]
        fn a_week_holds_every_working_weekday_once(cal in plain_calendar(), t in instant()) {
            let per_day: i64 = cal.periods.iter().map(|&(s, e)| i64::from(e - s) * 60).sum();
            let days = cal.weekdays.iter().filter(|&&w| w).count() as i64;
            prop_assert_eq!(cal.working_seconds(t, t + 7 * DAY), days * per_day);
        }
    }
}
