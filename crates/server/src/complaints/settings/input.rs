//! Parsing of the settings forms: working-time budgets typed in hours (or minutes), amounts
//! in yuan, sizes in MB and bounded whole numbers, each recording a field error code.

use domain::FieldErrors;
use domain::archives::orders::parse_yuan;
use domain::complaints::draft::MAX_AMOUNT_FEN;

/// The longest budget accepted: 10,000 working hours.
pub const MAX_MINUTES: i64 = 600_000;
/// The largest attachment limit: 1 GiB.
pub const MAX_ATTACHMENT_BYTES: i64 = 1 << 30;
const MB: i64 = 1024 * 1024;

/// A decimal with at most two places as hundredths ("1.5" → 150); `None` when it is not one.
fn hundredths(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || frac.len() > 2 {
        return None;
    }
    // Nine integer digits keep the arithmetic far from overflow.
    if int.len() > 9 {
        return None;
    }
    let i: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let f: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(i * 100 + f)
}

/// An optional working-time budget: hours with up to two decimals ("4", "1.5") or minutes
/// with an `m` suffix ("90m"); empty means no target. Records `duration` otherwise.
pub fn duration(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<i64> {
    let v = raw.map(str::trim).filter(|v| !v.is_empty())?;
    let minutes = match v
        .strip_suffix("分钟")
        .or_else(|| v.strip_suffix("min"))
        .or_else(|| v.strip_suffix('m'))
    {
        Some(m) => m.trim().parse::<i64>().ok(),
        None => {
            let h = v
                .strip_suffix('h')
                .or_else(|| v.strip_suffix("小时"))
                .unwrap_or(v)
                .trim();
            // Hundredths of an hour are whole multiples of 0.6 minutes; round to the minute.
            hundredths(h).map(|c| (c * 60 + 50) / 100)
        }
    };
    match minutes {
        Some(m) if (1..=MAX_MINUTES).contains(&m) => Some(m),
        _ => {
            errs.add(field, "duration", None);
            None
        }
    }
}

/// A budget as typed back: whole or exact decimal hours, else minutes ("90m" stays "1.5").
pub fn duration_text(minutes: Option<i64>) -> String {
    match minutes {
        None => String::new(),
        Some(m) if m % 60 == 0 => (m / 60).to_string(),
        Some(m) if (m * 100) % 60 == 0 => {
            let c = m * 100 / 60;
            let s = format!("{}.{:02}", c / 100, c % 100);
            s.trim_end_matches('0').to_string()
        }
        Some(m) => format!("{m}m"),
    }
}

/// An optional amount in yuan as fen (0 or more, at most two decimals).
pub fn yuan(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<i64> {
    let v = raw.map(str::trim).filter(|v| !v.is_empty())?;
    match parse_yuan(v) {
        Some(f) if f <= MAX_AMOUNT_FEN => Some(f),
        _ => {
            errs.add(field, "yuan", None);
            None
        }
    }
}

/// Fen as yuan with thousands separators: 500000 → "5,000.00".
pub fn yuan_text(fen: i64) -> String {
    let (sign, fen) = if fen < 0 { ("-", -fen) } else { ("", fen) };
    let int = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

/// A required whole number within `lo..=hi`; records `required` or `number_range`.
pub fn whole(errs: &mut FieldErrors, field: &str, raw: Option<&str>, lo: i64, hi: i64) -> i64 {
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

/// Checks a whole number given by the API within `lo..=hi`.
pub fn within(errs: &mut FieldErrors, field: &str, v: Option<i64>, lo: i64, hi: i64) -> i64 {
    match v {
        None => {
            errs.add(field, "required", None);
            lo
        }
        Some(n) if (lo..=hi).contains(&n) => n,
        Some(_) => {
            errs.add(field, "number_range", Some(format!("{lo} – {hi}")));
            lo
        }
    }
}

/// An attachment limit typed in MB (up to two decimals) as bytes.
pub fn megabytes(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> i64 {
    let v = raw.map(str::trim).unwrap_or("");
    if v.is_empty() {
        errs.add(field, "required", None);
        return 0;
    }
    let bytes = hundredths(v.trim_end_matches("MB").trim()).map(|c| (c * MB + 50) / 100);
    match bytes {
        Some(b) if (1..=MAX_ATTACHMENT_BYTES).contains(&b) => b,
        _ => {
            errs.add(field, "megabytes", None);
            0
        }
    }
}

/// Bytes as MB typed back ("10", "0.5"; two decimals when not exact).
pub fn megabytes_text(bytes: i64) -> String {
    let c = (bytes * 100 + MB / 2) / MB;
    if c % 100 == 0 {
        (c / 100).to_string()
    } else {
        format!("{}.{:02}", c / 100, c % 100)
            .trim_end_matches('0')
            .to_string()
    }
}

/// A severity or contract level name: no spaces, letters (any script), digits, `-` and `_`.
pub fn level_name(errs: &mut FieldErrors, field: &str, raw: &str, required: bool) -> String {
    let v = raw.trim();
    if v.is_empty() {
        if required {
            errs.add(field, "required", None);
        }
        return String::new();
    }
    if v.chars().count() > 20 {
        errs.add(field, "too_long", Some("20".into()));
    } else if !v
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        errs.add(field, "code_chars", None);
    }
    v.to_string()
}

/// A UTC offset as shown in the offset choice: 480 → "UTC+08:00".
pub fn offset_text(minutes: i64) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dur(s: &str) -> Result<Option<i64>, Vec<&'static str>> {
        let mut e = FieldErrors::default();
        let v = duration(&mut e, "x", Some(s));
        if e.is_empty() {
            Ok(v)
        } else {
            Err(e.0.iter().map(|x| x.code).collect())
        }
    }

    #[test]
    fn budgets_in_hours_or_minutes() {
        assert_eq!(dur("4"), Ok(Some(240)));
        assert_eq!(dur("1.5"), Ok(Some(90)));
        assert_eq!(dur(".25"), Ok(Some(15)));
        assert_eq!(dur("40 h"), Ok(Some(2400)));
        assert_eq!(dur("90m"), Ok(Some(90)));
        assert_eq!(dur("50 min"), Ok(Some(50)));
        assert_eq!(dur("  "), Ok(None));
        for bad in ["0", "-1", "1.234", "abc", "1e3", "0m", "10001", "1,5"] {
            assert_eq!(dur(bad), Err(vec!["duration"]), "{bad}");
        }
        for m in [1, 15, 30, 45, 50, 59, 60, 90, 960, 2400, 4800, 6] {
            assert_eq!(dur(&duration_text(Some(m))), Ok(Some(m)), "{m}");
        }
        assert_eq!(duration_text(Some(90)), "1.5");
        assert_eq!(duration_text(Some(50)), "50m");
        assert_eq!(duration_text(Some(2400)), "40");
        assert_eq!(duration_text(None), "");
    }

    #[test]
    fn amounts_and_sizes() {
        assert_eq!(yuan_text(500_000), "5,000.00");
        assert_eq!(yuan_text(123_456_789), "1,234,567.89");
        assert_eq!(yuan_text(5), "0.05");
        let mut e = FieldErrors::default();
        assert_eq!(yuan(&mut e, "a", Some("¥5,000")), Some(500_000));
        assert_eq!(yuan(&mut e, "a", Some("")), None);
        assert!(e.is_empty());
        assert_eq!(yuan(&mut e, "a", Some("-3")), None);
        assert_eq!(e.0[0].code, "yuan");
        let mut e = FieldErrors::default();
        assert_eq!(megabytes(&mut e, "m", Some("10")), 10 * MB);
        assert_eq!(megabytes(&mut e, "m", Some("0.5")), MB / 2);
        assert!(e.is_empty());
        megabytes(&mut e, "m", Some("2048"));
        assert_eq!(e.0[0].code, "megabytes");
        assert_eq!(megabytes_text(10 * MB), "10");
        assert_eq!(megabytes_text(MB / 2), "0.5");
        let mut e = FieldErrors::default();
        assert_eq!(whole(&mut e, "d", Some("7"), 3, 10), 7);
        whole(&mut e, "d", Some("11"), 3, 10);
        whole(&mut e, "d", None, 3, 10);
        let codes: Vec<_> = e.0.iter().map(|x| x.code).collect();
        assert_eq!(codes, ["number_range", "required"]);
    }

    #[test]
    fn level_names() {
        let mut e = FieldErrors::default();
        assert_eq!(level_name(&mut e, "s", " critical ", true), "critical");
        assert_eq!(level_name(&mut e, "s", "重大", true), "重大");
        assert_eq!(level_name(&mut e, "c", "", false), "");
        assert!(e.is_empty());
        level_name(&mut e, "s", "very bad", true);
        level_name(&mut e, "s", "", true);
        let codes: Vec<_> = e.0.iter().map(|x| x.code).collect();
        assert_eq!(codes, ["code_chars", "required"]);
        assert_eq!(offset_text(480), "UTC+08:00");
        assert_eq!(offset_text(-330), "UTC-05:30");
    }
}
