//! Service outlets (服务网点): own or partner, the regions they cover, contact and contract
//! dates. Input parsing with field errors; the unique name is checked by the service.

use super::customers::{clean_list, optional_phone};
use crate::org::valid_date;
use crate::text;
use crate::{DomainError, FieldErrors};

/// Who runs the outlet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutletKind {
    /// Run by the company itself (自营).
    Own,
    /// Run by a contracted partner (合作).
    Partner,
}

impl OutletKind {
    /// Every kind, in display order.
    pub const ALL: [OutletKind; 2] = [OutletKind::Own, OutletKind::Partner];

    /// The stable name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            OutletKind::Own => "own",
            OutletKind::Partner => "partner",
        }
    }

    /// Parses the stable name (or the Chinese label).
    pub fn parse(s: &str) -> Option<OutletKind> {
        match s.trim().to_lowercase().as_str() {
            "own" | "自营" => Some(OutletKind::Own),
            "partner" | "合作" | "合作网点" => Some(OutletKind::Partner),
            _ => None,
        }
    }
}

/// A validated outlet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutletDraft {
    pub name: String,
    pub kind: OutletKind,
    pub regions: Vec<String>,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contract_start: Option<String>,
    pub contract_end: Option<String>,
}

/// Raw outlet input, as typed; `regions` arrive as a list (forms split them).
#[derive(Debug, Clone, Default)]
pub struct OutletRaw<'a> {
    pub name: &'a str,
    /// `own` or `partner`; empty means own.
    pub kind: Option<&'a str>,
    pub regions: Vec<String>,
    pub address: Option<&'a str>,
    pub contact_name: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub contract_start: Option<&'a str>,
    pub contract_end: Option<&'a str>,
}

fn date(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<String> {
    let v = text::optional(errs, field, raw, 10)?;
    if !valid_date(&v) {
        errs.add(field, "date", None);
        return None;
    }
    Some(v)
}

impl OutletDraft {
    /// Parses raw input: name required, dates `YYYY-MM-DD`, the contract ends on or after it starts.
    pub fn parse(mut errs: FieldErrors, raw: OutletRaw<'_>) -> Result<Self, DomainError> {
        let name = text::required(&mut errs, "name", raw.name, 200);
        let kind = match raw.kind.map(str::trim).filter(|k| !k.is_empty()) {
            None => OutletKind::Own,
            Some(k) => OutletKind::parse(k).unwrap_or_else(|| {
                errs.add("kind", "choice", None);
                OutletKind::Own
            }),
        };
        let regions = clean_list(&mut errs, "regions", &raw.regions, 50, 50);
        let address = text::optional(&mut errs, "address", raw.address, 500);
        let contact_name = text::optional(&mut errs, "contact_name", raw.contact_name, 100);
        let contact_phone = optional_phone(&mut errs, "contact_phone", raw.contact_phone, 32);
        let contract_start = date(&mut errs, "contract_start", raw.contract_start);
        let contract_end = date(&mut errs, "contract_end", raw.contract_end);
        if let (Some(s), Some(e)) = (&contract_start, &contract_end)
            && e < s
        {
            // YYYY-MM-DD compares as text in calendar order.
            errs.add("contract_end", "outlet_end_before_start", None);
        }
        errs.into_result(OutletDraft {
            name,
            kind,
            regions,
            address,
            contact_name,
            contact_phone,
            contract_start,
            contract_end,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: &DomainError) -> Vec<(String, &'static str)> {
        match e {
            DomainError::Invalid(f) => f.0.iter().map(|x| (x.field.clone(), x.code)).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn outlet_parses() {
        let d = OutletDraft::parse(
            FieldErrors::default(),
            OutletRaw {
                name: " 华东服务中心 ",
                kind: Some("partner"),
                regions: vec!["华东".into(), " 华中 ".into(), "华东".into()],
                contact_phone: Some("021-5555 0101"),
                contract_start: Some("2025-01-01"),
                contract_end: Some("2025-01-01"),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(d.name, "华东服务中心");
        assert_eq!(d.kind, OutletKind::Partner);
        assert_eq!(d.regions, vec!["华东", "华中"]);
        assert_eq!(d.contract_end.as_deref(), Some("2025-01-01"));
        let d = OutletDraft::parse(
            FieldErrors::default(),
            OutletRaw {
                name: "x",
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(d.kind, OutletKind::Own);
    }

    #[test]
    fn outlet_checks_fields_and_dates() {
        let e = OutletDraft::parse(
            FieldErrors::default(),
            OutletRaw {
                name: "",
                kind: Some("franchise"),
                contact_phone: Some("call me"),
                contract_start: Some("2025-02-30"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                ("name".to_string(), "required"),
                ("kind".to_string(), "choice"),
                ("contact_phone".to_string(), "phone"),
                ("contract_start".to_string(), "date"),
            ]
        );
        let e = OutletDraft::parse(
            FieldErrors::default(),
            OutletRaw {
                name: "x",
                contract_start: Some("2025-06-01"),
                contract_end: Some("2025-05-31"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            fields(&e),
            vec![("contract_end".to_string(), "outlet_end_before_start")]
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in OutletKind::ALL {
            assert_eq!(OutletKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(OutletKind::parse("自营"), Some(OutletKind::Own));
    }
}
