//! Installed equipment (设备档案): serial number, product, customer and site, the order it
//! came with, install date, warranty end (计算或人工指定), service contract (level, term,
//! SLA profile), status, and meter readings (抄表) that only go up. Also the calendar
//! arithmetic these need (months added with the day clamped to the month's end).

use crate::org::valid_date;
use crate::text;
use crate::{DomainError, FieldErrors};

/// Status of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InService,
    Retired,
}

impl Status {
    /// Every status, in display order.
    pub const ALL: [Status; 2] = [Status::InService, Status::Retired];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InService => "in_service",
            Status::Retired => "retired",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The status after retiring (`retire = true`) or restoring; refused when already there.
    pub fn transition(self, retire: bool) -> Result<Status, DomainError> {
        match (self, retire) {
            (Status::InService, true) => Ok(Status::Retired),
            (Status::Retired, false) => Ok(Status::InService),
            (Status::Retired, true) => {
                Err(DomainError::InvalidTransition("equipment_already_retired"))
            }
            (Status::InService, false) => {
                Err(DomainError::InvalidTransition("equipment_not_retired"))
            }
        }
    }
}

/// A validated unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquipmentDraft {
    pub serial: String,
    pub product_id: i64,
    pub customer_id: i64,
    pub site_id: Option<i64>,
    pub order_id: Option<i64>,
    pub install_date: Option<String>,
    pub warranty_overridden: bool,
    /// The warranty end typed by hand; only kept when `warranty_overridden`.
    pub warranty_end: Option<String>,
    pub contract_level: Option<String>,
    pub contract_start: Option<String>,
    pub contract_end: Option<String>,
    pub sla_profile: Option<String>,
}

/// Raw unit input; ids were parsed by the caller (their errors recorded there).
#[derive(Debug, Clone, Default)]
pub struct EquipmentRaw<'a> {
    pub serial: &'a str,
    pub product_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub site_id: Option<i64>,
    pub order_id: Option<i64>,
    pub install_date: Option<&'a str>,
    pub warranty_overridden: bool,
    pub warranty_end: Option<&'a str>,
    pub contract_level: Option<&'a str>,
    pub contract_start: Option<&'a str>,
    pub contract_end: Option<&'a str>,
    pub sla_profile: Option<&'a str>,
}

fn date_field(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<String> {
    let v = text::optional(errs, field, raw, 10)?;
    if !valid_date(&v) {
        errs.add(field, "date", None);
    }
    Some(v)
}

impl EquipmentDraft {
    /// Parses raw input: the serial is required without spaces; product and customer are
    /// required; dates are checked; an overridden warranty needs its end date; a contract's
    /// end is not before its start.
    pub fn parse(mut errs: FieldErrors, raw: EquipmentRaw<'_>) -> Result<Self, DomainError> {
        let serial = text::required(&mut errs, "serial", raw.serial, 64);
        if serial.chars().any(char::is_whitespace) {
            errs.add("serial", "serial_chars", None);
        }
        for (field, v) in [
            ("product_id", raw.product_id),
            ("customer_id", raw.customer_id),
        ] {
            if v.is_none() && errs.get(field).is_none() {
                errs.add(field, "required", None);
            }
        }
        let install_date = date_field(&mut errs, "install_date", raw.install_date);
        let warranty_end = if raw.warranty_overridden {
            let w = date_field(&mut errs, "warranty_end", raw.warranty_end);
            if w.is_none() {
                errs.add("warranty_end", "required", None);
            }
            w
        } else {
            None
        };
        let contract_level = text::optional(&mut errs, "contract_level", raw.contract_level, 20);
        let contract_start = date_field(&mut errs, "contract_start", raw.contract_start);
        let contract_end = date_field(&mut errs, "contract_end", raw.contract_end);
        if let (Some(s), Some(e)) = (&contract_start, &contract_end)
            && valid_date(s)
            && valid_date(e)
            && e < s
        {
            errs.add("contract_end", "contract_end_before_start", None);
        }
        let sla_profile = text::optional(&mut errs, "sla_profile", raw.sla_profile, 64);
        errs.into_result(EquipmentDraft {
            serial,
            product_id: raw.product_id.unwrap_or(0),
            customer_id: raw.customer_id.unwrap_or(0),
            site_id: raw.site_id,
            order_id: raw.order_id,
            install_date,
            warranty_overridden: raw.warranty_overridden,
            warranty_end,
            contract_level,
            contract_start,
            contract_end,
            sla_profile,
        })
    }

    /// The warranty end: the typed date when overridden, else the install date plus the
    /// product's warranty months (none without an install date).
    pub fn warranty_end_for(&self, warranty_months: i64) -> Option<String> {
        if self.warranty_overridden {
            return self.warranty_end.clone();
        }
        add_months(self.install_date.as_deref()?, warranty_months)
    }

    /// Checks the unit against what its references turned out to be: the serial is free, the
    /// product and customer exist, the site and order belong to that customer, the contract
    /// level is one the product offers. Used by the form service and the bulk import alike.
    pub fn check_refs(&self, errs: &mut FieldErrors, r: &UnitRefs<'_>) {
        if r.serial_taken {
            errs.add("serial", "taken", None);
        }
        if r.product_levels.is_none() {
            errs.add("product_id", "choice", None);
        }
        if !r.customer_exists {
            errs.add("customer_id", "choice", None);
        }
        if self.site_id.is_some() {
            match r.site_customer {
                None => errs.add("site_id", "choice", None),
                Some(c) if r.customer_exists && c != self.customer_id => {
                    errs.add("site_id", "site_customer", None)
                }
                Some(_) => {}
            }
        }
        if self.order_id.is_some() {
            match r.order_customer {
                None => errs.add("order_id", "choice", None),
                Some(c) if r.customer_exists && c != self.customer_id => {
                    errs.add("order_id", "order_customer", None)
                }
                Some(_) => {}
            }
        }
        if let Some(levels) = r.product_levels {
            self.check_level(errs, levels);
        }
    }

    /// Records `contract_level` when the level is not one the product offers.
    pub fn check_level(&self, errs: &mut FieldErrors, offered: &[String]) {
        if let Some(l) = &self.contract_level
            && !offered.iter().any(|o| o == l)
        {
            errs.add(
                "contract_level",
                "contract_level",
                Some(offered.join(" / ")),
            );
        }
    }
}

/// What a unit's references are, as found in the database (or a preloaded map).
#[derive(Debug, Clone, Default)]
pub struct UnitRefs<'a> {
    /// Another unit of the organization has this serial.
    pub serial_taken: bool,
    /// The product's contract levels, when the product exists.
    pub product_levels: Option<&'a [String]>,
    pub customer_exists: bool,
    /// The customer of the chosen site, when it exists.
    pub site_customer: Option<i64>,
    /// The customer of the chosen order, when it exists.
    pub order_customer: Option<i64>,
}

fn split(d: &str) -> Option<(i64, u32, u32)> {
    if !valid_date(d) {
        return None;
    }
    Some((
        d[0..4].parse().ok()?,
        d[5..7].parse().ok()?,
        d[8..10].parse().ok()?,
    ))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if leap => 29,
        _ => 28,
    }
}

/// `date` plus `months` calendar months, the day clamped to the end of the month
/// (2026-01-31 + 1 → 2026-02-28); `None` for an invalid date or a result out of range.
pub fn add_months(date: &str, months: i64) -> Option<String> {
    let (y, m, d) = split(date)?;
    let total = y
        .checked_mul(12)?
        .checked_add(i64::from(m) - 1)?
        .checked_add(months)?;
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    let nd = d.min(days_in_month(ny, nm));
    let out = format!("{ny:04}-{nm:02}-{nd:02}");
    valid_date(&out).then_some(out)
}

/// Days since 1970-01-01 of a valid date (proleptic Gregorian).
pub fn days_of(date: &str) -> Option<i64> {
    let (y, m, d) = split(date)?;
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The date of a day number (inverse of [`days_of`]).
pub fn date_of_days(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The local calendar date of a Unix time at a UTC offset in minutes ("today" for `now`).
pub fn date_of_unix(secs: i64, offset_min: i32) -> String {
    date_of_days((secs + i64::from(offset_min) * 60).div_euclid(86_400))
}

/// The Unix time of local midnight starting `date` at a UTC offset in minutes.
pub fn unix_of_date(date: &str, offset_min: i32) -> Option<i64> {
    Some(days_of(date)? * 86_400 - i64::from(offset_min) * 60)
}

/// Whether a unit with this warranty end is still under warranty on `today` (both dates
/// `YYYY-MM-DD`; the end day itself is covered).
pub fn in_warranty(warranty_end: Option<&str>, today: &str) -> bool {
    warranty_end.is_some_and(|w| w >= today)
}

/// A validated meter reading (抄表).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingDraft {
    pub read_on: String,
    pub value: i64,
    pub unit: String,
}

impl ReadingDraft {
    /// Parses raw input: a date, a whole number ≥ 0 (text; the API passes its integer
    /// formatted) and a unit such as `h` or `次`.
    pub fn parse(
        mut errs: FieldErrors,
        read_on: &str,
        value: &str,
        unit: &str,
    ) -> Result<Self, DomainError> {
        let read_on = text::required(&mut errs, "read_on", read_on, 10);
        if !read_on.is_empty() && !valid_date(&read_on) {
            errs.add("read_on", "date", None);
        }
        let v = value.trim();
        let value = if v.is_empty() {
            errs.add("value", "required", None);
            0
        } else {
            match v.parse::<i64>() {
                Ok(n) if n >= 0 => n,
                _ => {
                    errs.add("value", "meter_value", None);
                    0
                }
            }
        };
        let unit = text::required(&mut errs, "unit", unit, 16);
        errs.into_result(ReadingDraft {
            read_on,
            value,
            unit,
        })
    }

    /// Meters only go up: refused when below the latest earlier-or-same-day reading
    /// (`before`) or above the earliest later reading (`after`) of the same meter unit.
    pub fn check_order(&self, before: Option<i64>, after: Option<i64>) -> Result<(), DomainError> {
        let mut errs = FieldErrors::default();
        if let Some(b) = before
            && self.value < b
        {
            errs.add("value", "meter_decrease", Some(b.to_string()));
        } else if let Some(a) = after
            && self.value > a
        {
            errs.add("value", "meter_above_later", Some(a.to_string()));
        }
        errs.into_result(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(e: &DomainError) -> Vec<(String, &'static str)> {
        match e {
            DomainError::Invalid(f) => f.0.iter().map(|x| (x.field.clone(), x.code)).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn months_are_added_with_the_day_clamped() {
        assert_eq!(add_months("2026-01-31", 13).as_deref(), Some("2027-02-28"));
        assert_eq!(add_months("2026-01-31", 1).as_deref(), Some("2026-02-28"));
        assert_eq!(add_months("2027-12-31", 2).as_deref(), Some("2028-02-29"));
        assert_eq!(add_months("2026-03-15", 0).as_deref(), Some("2026-03-15"));
        assert_eq!(add_months("2026-03-31", 12).as_deref(), Some("2027-03-31"));
        assert_eq!(add_months("2026-08-31", 1).as_deref(), Some("2026-09-30"));
        assert_eq!(add_months("2026-11-30", 3).as_deref(), Some("2027-02-28"));
        assert_eq!(add_months("2026-03-31", -1).as_deref(), Some("2026-02-28"));
        assert_eq!(add_months("2026-02-30", 1), None);
        assert_eq!(add_months("2199-06-01", 120), None);
        assert_eq!(add_months("2026-01-01", i64::MAX), None);
    }

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(days_of("1970-01-01"), Some(0));
        assert_eq!(days_of("2000-03-01"), Some(11017));
        assert_eq!(date_of_days(11017), "2000-03-01");
        let start = days_of("1999-12-25").unwrap();
        for n in start..start + 1200 {
            let d = date_of_days(n);
            assert!(valid_date(&d), "{d}");
            assert_eq!(days_of(&d), Some(n));
        }
        // 2026-01-01 00:30 in Shanghai is still 2025-12-31 in UTC.
        let t = unix_of_date("2026-01-01", 480).unwrap() + 1800;
        assert_eq!(date_of_unix(t, 480), "2026-01-01");
        assert_eq!(date_of_unix(t, 0), "2025-12-31");
    }

    #[test]
    fn warranty_end_is_computed_or_typed() {
        let raw = EquipmentRaw {
            serial: "SN-1",
            product_id: Some(1),
            customer_id: Some(2),
            install_date: Some("2026-01-31"),
            warranty_end: Some("2030-01-01"),
            ..Default::default()
        };
        let d = EquipmentDraft::parse(FieldErrors::default(), raw.clone()).unwrap();
        assert_eq!(d.warranty_end, None, "ignored unless overridden");
        assert_eq!(d.warranty_end_for(13).as_deref(), Some("2027-02-28"));
        let d = EquipmentDraft::parse(
            FieldErrors::default(),
            EquipmentRaw {
                warranty_overridden: true,
                ..raw.clone()
            },
        )
        .unwrap();
        assert_eq!(d.warranty_end_for(13).as_deref(), Some("2030-01-01"));
        let e = EquipmentDraft::parse(
            FieldErrors::default(),
            EquipmentRaw {
                warranty_overridden: true,
                warranty_end: None,
                ..raw.clone()
            },
        )
        .unwrap_err();
        assert_eq!(codes(&e), vec![("warranty_end".to_string(), "required")]);
        let d = EquipmentDraft::parse(
            FieldErrors::default(),
            EquipmentRaw {
                install_date: None,
                ..raw
            },
        )
        .unwrap();
        assert_eq!(d.warranty_end_for(12), None);
    }

    #[test]
    fn unit_fields_are_checked() {
        let e = EquipmentDraft::parse(
            FieldErrors::default(),
            EquipmentRaw {
                serial: "SN 1",
                install_date: Some("2026-13-01"),
                contract_start: Some("2026-05-01"),
                contract_end: Some("2026-04-30"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            codes(&e),
            vec![
                ("serial".to_string(), "serial_chars"),
                ("product_id".to_string(), "required"),
                ("customer_id".to_string(), "required"),
                ("install_date".to_string(), "date"),
                ("contract_end".to_string(), "contract_end_before_start"),
            ]
        );
    }

    #[test]
    fn contract_level_must_be_offered() {
        let d = EquipmentDraft::parse(
            FieldErrors::default(),
            EquipmentRaw {
                serial: "SN-1",
                product_id: Some(1),
                customer_id: Some(1),
                contract_level: Some("尊享"),
                ..Default::default()
            },
        )
        .unwrap();
        let mut e = FieldErrors::default();
        d.check_level(&mut e, &["基础".into(), "标准".into()]);
        assert_eq!(e.0[0].code, "contract_level");
        assert_eq!(e.0[0].arg.as_deref(), Some("基础 / 标准"));
        let mut e = FieldErrors::default();
        d.check_level(&mut e, &["尊享".into()]);
        assert!(e.is_empty());
    }

    #[test]
    fn status_transitions() {
        assert_eq!(Status::InService.transition(true), Ok(Status::Retired));
        assert_eq!(Status::Retired.transition(false), Ok(Status::InService));
        assert!(Status::Retired.transition(true).is_err());
        assert!(Status::InService.transition(false).is_err());
        assert_eq!(Status::parse("retired"), Some(Status::Retired));
        assert_eq!(Status::parse("x"), None);
    }

    #[test]
    fn meters_only_go_up() {
        let r = ReadingDraft::parse(FieldErrors::default(), "2026-03-01", "120", " h ").unwrap();
        assert_eq!(r.unit, "h");
        assert!(r.check_order(Some(100), None).is_ok());
        assert!(r.check_order(Some(120), Some(120)).is_ok());
        assert_eq!(
            codes(&r.check_order(Some(121), None).unwrap_err())[0].1,
            "meter_decrease"
        );
        assert_eq!(
            codes(&r.check_order(None, Some(119)).unwrap_err())[0].1,
            "meter_above_later"
        );
        let e = ReadingDraft::parse(FieldErrors::default(), "2026-3-1", "-1", "").unwrap_err();
        assert_eq!(
            codes(&e),
            vec![
                ("read_on".to_string(), "date"),
                ("value".to_string(), "meter_value"),
                ("unit".to_string(), "required")
            ]
        );
    }

    #[test]
    fn warranty_state() {
        assert!(in_warranty(Some("2026-05-01"), "2026-05-01"));
        assert!(!in_warranty(Some("2026-04-30"), "2026-05-01"));
        assert!(!in_warranty(None, "2026-05-01"));
    }
}
