//! Inputs of complaint handling, parsed into values that are valid by construction:
//! the registration form (客户投诉登记表), and the data each step of the lifecycle records.

use super::{Channel, Class, RemedyType, Responsibility};
use crate::org::valid_date;
use crate::text::{optional, required};
use crate::{DomainError, FieldErrors};

/// Largest quantity or amount typed into a complaint.
const MAX_COUNT: i64 = 1_000_000_000;
/// Largest remedy amount: one hundred million yuan, in fen.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000_000;

/// Parses an optional whole number `>= 0`; records `count` on `field` otherwise.
pub fn count(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<i64> {
    let v = raw.map(str::trim).filter(|v| !v.is_empty())?;
    match v.parse::<i64>() {
        Ok(n) if (0..=MAX_COUNT).contains(&n) => Some(n),
        _ => {
            errs.add(field, "count", None);
            None
        }
    }
}

fn date(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<String> {
    let v = optional(errs, field, raw, 10)?;
    if !valid_date(&v) {
        errs.add(field, "date", None);
    }
    Some(v)
}

fn pick<T: Copy>(
    errs: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Option<T> {
    let v = raw.map(str::trim).filter(|v| !v.is_empty());
    match v {
        None => {
            errs.add(field, "required", None);
            None
        }
        Some(v) => {
            let p = parse(v);
            if p.is_none() {
                errs.add(field, "choice", None);
            }
            p
        }
    }
}

/// The registration form as typed; ids were parsed by the caller (errors on their fields).
#[derive(Debug, Clone, Default)]
pub struct RegistrationRaw<'a> {
    pub channel: Option<&'a str>,
    pub class: Option<&'a str>,
    pub severity: Option<&'a str>,
    pub fault_category: Option<&'a str>,
    pub customer_id: Option<i64>,
    pub customer_name: &'a str,
    pub contact_name: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub address: Option<&'a str>,
    pub order_id: Option<i64>,
    pub order_no: Option<&'a str>,
    pub product_id: Option<i64>,
    pub part_no: Option<&'a str>,
    pub equipment_id: Option<i64>,
    pub serial: Option<&'a str>,
    pub batch_no: Option<&'a str>,
    pub ship_date: Option<&'a str>,
    pub quantity: Option<&'a str>,
    pub defective_quantity: Option<&'a str>,
    pub days_in_service: Option<&'a str>,
    pub description: &'a str,
    pub demand: Option<&'a str>,
}

/// A valid registration. Customer, order, product and unit may be picked from the archives
/// (ids) or typed when unknown (names and numbers); the service fills the typed fields from
/// the picked records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Registration {
    pub channel: Channel,
    pub class: Class,
    pub severity: String,
    pub fault_category: Option<String>,
    pub customer_id: Option<i64>,
    pub customer_name: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub order_id: Option<i64>,
    pub order_no: Option<String>,
    pub product_id: Option<i64>,
    pub part_no: Option<String>,
    pub equipment_id: Option<i64>,
    pub serial: Option<String>,
    pub batch_no: Option<String>,
    pub ship_date: Option<String>,
    pub quantity: Option<i64>,
    pub defective_quantity: Option<i64>,
    pub days_in_service: Option<i64>,
    pub description: String,
    pub demand: Option<String>,
}

impl Registration {
    /// Parses the form. `severities` are the levels the organization knows.
    pub fn parse(
        mut errs: FieldErrors,
        raw: RegistrationRaw<'_>,
        severities: &[String],
    ) -> Result<Registration, DomainError> {
        let channel = pick(&mut errs, "channel", raw.channel, Channel::parse);
        let class = pick(&mut errs, "class", raw.class, Class::parse);
        let severity = raw.severity.map(str::trim).unwrap_or("").to_string();
        if severity.is_empty() {
            errs.add("severity", "required", None);
        } else if !severities.contains(&severity) {
            errs.add("severity", "choice", None);
        }
        // A picked customer supplies the name; one typed by hand must be given.
        let customer_name = if raw.customer_id.is_some() && raw.customer_name.trim().is_empty() {
            String::new()
        } else {
            required(&mut errs, "customer_name", raw.customer_name, 200)
        };
        let quantity = count(&mut errs, "quantity", raw.quantity);
        let defective_quantity = count(&mut errs, "defective_quantity", raw.defective_quantity);
        if let (Some(q), Some(d)) = (quantity, defective_quantity)
            && d > q
        {
            errs.add("defective_quantity", "defective_over_quantity", None);
        }
        let r = Registration {
            channel: channel.unwrap_or(Channel::Other),
            class: class.unwrap_or(Class::Other),
            severity,
            fault_category: optional(&mut errs, "fault_category", raw.fault_category, 100),
            customer_id: raw.customer_id,
            customer_name,
            contact_name: optional(&mut errs, "contact_name", raw.contact_name, 100),
            contact_phone: optional(&mut errs, "contact_phone", raw.contact_phone, 50),
            address: optional(&mut errs, "address", raw.address, 300),
            order_id: raw.order_id,
            order_no: optional(&mut errs, "order_no", raw.order_no, 64),
            product_id: raw.product_id,
            part_no: optional(&mut errs, "part_no", raw.part_no, 64),
            equipment_id: raw.equipment_id,
            serial: optional(&mut errs, "serial", raw.serial, 64),
            batch_no: optional(&mut errs, "batch_no", raw.batch_no, 64),
            ship_date: date(&mut errs, "ship_date", raw.ship_date),
            quantity,
            defective_quantity,
            days_in_service: count(&mut errs, "days_in_service", raw.days_in_service),
            description: required(&mut errs, "description", raw.description, 5000),
            demand: optional(&mut errs, "demand", raw.demand, 2000),
        };
        errs.into_result(r)
    }

    /// The seed's rule for confirming: a quality complaint names order number, part number,
    /// ship date, quantity, defective quantity and the customer's demand at once.
    pub fn confirmation_gaps(&self) -> FieldErrors {
        let mut errs = FieldErrors::default();
        if self.class == Class::Quality {
            let gaps = [
                ("order_no", self.order_no.is_none()),
                ("part_no", self.part_no.is_none()),
                ("ship_date", self.ship_date.is_none()),
                ("quantity", self.quantity.is_none()),
                ("defective_quantity", self.defective_quantity.is_none()),
                ("demand", self.demand.is_none()),
            ];
            for (field, missing) in gaps {
                if missing {
                    errs.add(field, "required_to_confirm", None);
                }
            }
        }
        errs
    }
}

/// The analysis as typed.
#[derive(Debug, Clone, Default)]
pub struct AnalysisRaw<'a> {
    pub class: Option<&'a str>,
    pub responsibility: Option<&'a str>,
    pub responsible_department_id: Option<i64>,
    pub fault_category: Option<&'a str>,
    pub investigation: Option<&'a str>,
    pub cause: Option<&'a str>,
    pub inspection_result: Option<&'a str>,
    pub inspection_basis: Option<&'a str>,
}

/// A valid analysis (分析、核实问题): class and responsibility verified with evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Analysis {
    pub class: Class,
    pub responsibility: Responsibility,
    pub responsible_department_id: Option<i64>,
    pub fault_category: Option<String>,
    pub investigation: Option<String>,
    pub cause: String,
    pub inspection_result: Option<String>,
    pub inspection_basis: Option<String>,
}

impl Analysis {
    /// Parses the analysis: ours names the responsible department; not ours carries the
    /// inspection result and its basis.
    pub fn parse(mut errs: FieldErrors, raw: AnalysisRaw<'_>) -> Result<Analysis, DomainError> {
        let class = pick(&mut errs, "class", raw.class, Class::parse);
        let responsibility = pick(
            &mut errs,
            "responsibility",
            raw.responsibility,
            Responsibility::parse,
        );
        let a = Analysis {
            class: class.unwrap_or(Class::Other),
            responsibility: responsibility.unwrap_or(Responsibility::NotEstablished),
            responsible_department_id: raw.responsible_department_id,
            fault_category: optional(&mut errs, "fault_category", raw.fault_category, 100),
            investigation: optional(&mut errs, "investigation", raw.investigation, 5000),
            cause: required(&mut errs, "cause", raw.cause.unwrap_or(""), 5000),
            inspection_result: optional(
                &mut errs,
                "inspection_result",
                raw.inspection_result,
                5000,
            ),
            inspection_basis: optional(&mut errs, "inspection_basis", raw.inspection_basis, 5000),
        };
        if responsibility == Some(Responsibility::Ours) && a.responsible_department_id.is_none() {
            errs.add("responsible_department_id", "required_when_ours", None);
        }
        if responsibility.is_some_and(Responsibility::not_ours) {
            if a.inspection_result.is_none() {
                errs.add("inspection_result", "required_when_not_ours", None);
            }
            if a.inspection_basis.is_none() {
                errs.add("inspection_basis", "required_when_not_ours", None);
            }
        }
        errs.into_result(a)
    }

    /// Our own quality problem: a corrective action is required.
    pub fn needs_capa(&self) -> bool {
        self.class == Class::Quality && self.responsibility == Responsibility::Ours
    }
}

/// A remedy as typed; the amount arrives in fen (API) or yuan (forms, parsed by the caller).
#[derive(Debug, Clone, Default)]
pub struct RemedyRaw<'a> {
    pub remedy_type: Option<&'a str>,
    pub amount_fen: Option<i64>,
    pub detail: Option<&'a str>,
    pub proposed_by: Option<&'a str>,
    pub agreed_reply_date: Option<&'a str>,
}

/// A valid remedy proposal (协商处理办法).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Remedy {
    pub remedy_type: RemedyType,
    pub amount_fen: i64,
    pub detail: String,
    pub proposed_by: String,
    pub agreed_reply_date: Option<String>,
}

impl Remedy {
    /// Parses a remedy: refunds and compensation carry an amount above zero.
    pub fn parse(mut errs: FieldErrors, raw: RemedyRaw<'_>) -> Result<Remedy, DomainError> {
        let t = pick(&mut errs, "remedy_type", raw.remedy_type, RemedyType::parse);
        let amount = raw.amount_fen.unwrap_or(0);
        if !(0..=MAX_AMOUNT_FEN).contains(&amount) {
            errs.add("amount", "amount", None);
        } else if amount == 0 && matches!(t, Some(RemedyType::Refund | RemedyType::Compensation)) {
            errs.add("amount", "amount_required", None);
        }
        let r = Remedy {
            remedy_type: t.unwrap_or(RemedyType::Explanation),
            amount_fen: amount,
            detail: required(&mut errs, "detail", raw.detail.unwrap_or(""), 5000),
            proposed_by: required(&mut errs, "proposed_by", raw.proposed_by.unwrap_or(""), 200),
            agreed_reply_date: date(&mut errs, "agreed_reply_date", raw.agreed_reply_date),
        };
        errs.into_result(r)
    }
}

/// The text a step records: required for most steps (`field` names it in errors).
pub fn step_text(
    field: &str,
    raw: Option<&str>,
    needed: bool,
) -> Result<Option<String>, DomainError> {
    let mut errs = FieldErrors::default();
    let v = if needed {
        Some(required(&mut errs, field, raw.unwrap_or(""), 5000))
    } else {
        optional(&mut errs, field, raw, 5000)
    };
    errs.into_result(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sev() -> Vec<String> {
        vec!["minor".into(), "serious".into()]
    }

    fn raw() -> RegistrationRaw<'static> {
        RegistrationRaw {
            channel: Some("phone"),
            class: Some("quality"),
            severity: Some("serious"),
            customer_name: "华东机械",
            description: "主控柜报警",
            ..Default::default()
        }
    }

    #[test]
    fn registration_names_every_bad_field() {
        let e = Registration::parse(
            FieldErrors::default(),
            RegistrationRaw {
                channel: Some("fax"),
                severity: Some("apocalyptic"),
                quantity: Some("-1"),
                ship_date: Some("2026-02-30"),
                ..raw()
            },
            &sev(),
        )
        .unwrap_err();
        let DomainError::Invalid(f) = e else { panic!() };
        for field in ["channel", "severity", "quantity", "ship_date"] {
            assert!(f.get(field).is_some(), "{field}");
        }
    }

    #[test]
    fn quality_complaint_needs_the_six_facts_to_confirm() {
        let r = Registration::parse(FieldErrors::default(), raw(), &sev()).unwrap();
        let gaps = r.confirmation_gaps();
        assert_eq!(gaps.0.len(), 6);
        let full = Registration::parse(
            FieldErrors::default(),
            RegistrationRaw {
                order_no: Some("SO-1"),
                part_no: Some("P-1"),
                ship_date: Some("2026-01-05"),
                quantity: Some("10"),
                defective_quantity: Some("2"),
                demand: Some("换货"),
                ..raw()
            },
            &sev(),
        )
        .unwrap();
        assert!(full.confirmation_gaps().is_empty());
        let human = Registration::parse(
            FieldErrors::default(),
            RegistrationRaw {
                class: Some("human"),
                ..raw()
            },
            &sev(),
        )
        .unwrap();
        assert!(human.confirmation_gaps().is_empty());
    }

    #[test]
    fn defective_cannot_exceed_quantity() {
        let e = Registration::parse(
            FieldErrors::default(),
            RegistrationRaw {
                quantity: Some("2"),
                defective_quantity: Some("3"),
                ..raw()
            },
            &sev(),
        );
        assert!(e.is_err());
    }

    #[test]
    fn analysis_rules() {
        let ours = Analysis::parse(
            FieldErrors::default(),
            AnalysisRaw {
                class: Some("quality"),
                responsibility: Some("ours"),
                cause: Some("焊点虚焊"),
                ..Default::default()
            },
        );
        assert!(ours.is_err(), "ours needs the department");
        let not_ours = Analysis::parse(
            FieldErrors::default(),
            AnalysisRaw {
                class: Some("human"),
                responsibility: Some("customer_use"),
                cause: Some("超负荷使用"),
                ..Default::default()
            },
        )
        .unwrap_err();
        let DomainError::Invalid(f) = not_ours else {
            panic!()
        };
        assert!(f.get("inspection_result").is_some() && f.get("inspection_basis").is_some());
        let a = Analysis::parse(
            FieldErrors::default(),
            AnalysisRaw {
                class: Some("quality"),
                responsibility: Some("ours"),
                responsible_department_id: Some(3),
                cause: Some("焊点虚焊"),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(a.needs_capa());
    }

    #[test]
    fn refunds_need_an_amount() {
        let e = Remedy::parse(
            FieldErrors::default(),
            RemedyRaw {
                remedy_type: Some("refund"),
                detail: Some("退款"),
                proposed_by: Some("业务部"),
                ..Default::default()
            },
        );
        assert!(e.is_err());
        let r = Remedy::parse(
            FieldErrors::default(),
            RemedyRaw {
                remedy_type: Some("refund"),
                amount_fen: Some(600_000),
                detail: Some("退款"),
                proposed_by: Some("业务部"),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(r.amount_fen, 600_000);
    }
}
