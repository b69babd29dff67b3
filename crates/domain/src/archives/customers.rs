//! Customers (顾客档案) with their contacts and sites: input parsing with field errors.
//! A draft that exists is valid; lookups that need the database (unique code, owner) are the
//! service's job.

use crate::text;
use crate::{DomainError, FieldErrors};

/// Company or private person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerKind {
    Company,
    Person,
}

impl CustomerKind {
    /// Every kind, in display order.
    pub const ALL: [CustomerKind; 2] = [CustomerKind::Company, CustomerKind::Person];

    /// The stable name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerKind::Company => "company",
            CustomerKind::Person => "person",
        }
    }

    /// Parses the stable name (or the Chinese label, as spreadsheets write it).
    pub fn parse(s: &str) -> Option<CustomerKind> {
        match s.trim().to_lowercase().as_str() {
            "company" | "企业" | "公司" | "单位" => Some(CustomerKind::Company),
            "person" | "个人" => Some(CustomerKind::Person),
            _ => None,
        }
    }
}

/// Most tags one customer may carry.
pub const MAX_TAGS: usize = 30;

/// Splits a typed list (tags, regions) on commas (`,` `，`), `、`, `;` `；` and newlines into
/// trimmed, non-empty, de-duplicated items in their first order.
pub fn split_list(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in raw.split([',', '，', '、', ';', '；', '\n', '\r']) {
        let t = item.trim();
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

/// Cleans a list given item by item (API): trims, drops blanks and repeats, and checks the
/// number of items and their length.
pub fn clean_list(
    errs: &mut FieldErrors,
    field: &str,
    items: &[String],
    max_items: usize,
    max_len: usize,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        let t = i.trim();
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    if out.len() > max_items {
        errs.add(field, "too_many", Some(max_items.to_string()));
    } else if out.iter().any(|t| t.chars().count() > max_len) {
        errs.add(field, "too_long", Some(max_len.to_string()));
    }
    out
}

/// An optional phone number: digits, spaces and `+ - ( )` only (as staff phones).
pub fn optional_phone(
    errs: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = text::optional(errs, field, raw, max)?;
    if !v
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
    {
        errs.add(field, "phone", None);
    }
    Some(v)
}

/// An optional e-mail address: one `@`, a dotted host, no spaces.
pub fn optional_email(
    errs: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = text::optional(errs, field, raw, max)?;
    let mut parts = v.split('@');
    let ok = match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(host), None) => {
            !local.is_empty()
                && host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && !v.contains(char::is_whitespace)
        }
        _ => false,
    };
    if !ok {
        errs.add(field, "email", None);
    }
    Some(v)
}

/// A validated customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerDraft {
    pub code: Option<String>,
    pub name: String,
    pub kind: CustomerKind,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub address: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub owner_staff_id: Option<i64>,
    pub consent_contact: bool,
    pub consent_survey: bool,
}

/// Raw customer input, as typed. `tags` arrive as a list (forms split them with
/// [`split_list`]); `owner_staff_id` was parsed by the caller (its errors go in `errs`).
#[derive(Debug, Clone, Default)]
pub struct CustomerRaw<'a> {
    pub code: Option<&'a str>,
    pub name: &'a str,
    /// `company` or `person`; empty means company.
    pub kind: Option<&'a str>,
    pub industry: Option<&'a str>,
    pub region: Option<&'a str>,
    pub address: Option<&'a str>,
    pub tags: Vec<String>,
    pub notes: Option<&'a str>,
    pub owner_staff_id: Option<i64>,
    pub consent_contact: bool,
    pub consent_survey: bool,
}

impl CustomerDraft {
    /// Parses raw input.
    pub fn parse(mut errs: FieldErrors, raw: CustomerRaw<'_>) -> Result<Self, DomainError> {
        let code = text::optional_code(&mut errs, "code", raw.code, 32);
        let name = text::required(&mut errs, "name", raw.name, 200);
        let kind = match raw.kind.map(str::trim).filter(|k| !k.is_empty()) {
            None => CustomerKind::Company,
            Some(k) => CustomerKind::parse(k).unwrap_or_else(|| {
                errs.add("kind", "choice", None);
                CustomerKind::Company
            }),
        };
        let industry = text::optional(&mut errs, "industry", raw.industry, 100);
        let region = text::optional(&mut errs, "region", raw.region, 100);
        let address = text::optional(&mut errs, "address", raw.address, 500);
        let tags = clean_list(&mut errs, "tags", &raw.tags, MAX_TAGS, 50);
        let notes = text::optional(&mut errs, "notes", raw.notes, 4000);
        errs.into_result(CustomerDraft {
            code,
            name,
            kind,
            industry,
            region,
            address,
            tags,
            notes,
            owner_staff_id: raw.owner_staff_id,
            consent_contact: raw.consent_contact,
            consent_survey: raw.consent_survey,
        })
    }
}

/// A validated contact person of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDraft {
    pub name: String,
    pub role: Option<String>,
    pub mobile: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub wechat: Option<String>,
}

/// Raw contact input, as typed.
#[derive(Debug, Clone, Default)]
pub struct ContactRaw<'a> {
    pub name: &'a str,
    pub role: Option<&'a str>,
    pub mobile: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub wechat: Option<&'a str>,
}

impl ContactDraft {
    /// Parses raw input: a name is required; phone numbers and e-mail are checked.
    pub fn parse(mut errs: FieldErrors, raw: ContactRaw<'_>) -> Result<Self, DomainError> {
        let name = text::required(&mut errs, "name", raw.name, 100);
        let role = text::optional(&mut errs, "role", raw.role, 100);
        let mobile = optional_phone(&mut errs, "mobile", raw.mobile, 32);
        let phone = optional_phone(&mut errs, "phone", raw.phone, 32);
        let email = optional_email(&mut errs, "email", raw.email, 200);
        let wechat = text::optional(&mut errs, "wechat", raw.wechat, 100);
        errs.into_result(ContactDraft {
            name,
            role,
            mobile,
            phone,
            email,
            wechat,
        })
    }
}

/// A validated site (installation address) of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteDraft {
    pub name: String,
    pub region: Option<String>,
    pub address: Option<String>,
}

impl SiteDraft {
    /// Parses raw input: a name is required.
    pub fn parse(
        mut errs: FieldErrors,
        name: &str,
        region: Option<&str>,
        address: Option<&str>,
    ) -> Result<Self, DomainError> {
        let d = SiteDraft {
            name: text::required(&mut errs, "name", name, 200),
            region: text::optional(&mut errs, "region", region, 100),
            address: text::optional(&mut errs, "address", address, 500),
        };
        errs.into_result(d)
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
    fn lists_split_on_chinese_and_latin_separators() {
        assert_eq!(
            split_list("重点客户, VIP、华东\n 重点客户 ；医院,,"),
            vec!["重点客户", "VIP", "华东", "医院"]
        );
        assert!(split_list(" \n ").is_empty());
    }

    #[test]
    fn customer_defaults_and_checks() {
        let d = CustomerDraft::parse(
            FieldErrors::default(),
            CustomerRaw {
                code: Some(" C-001 "),
                name: " 上海某某医院 ",
                kind: Some("person"),
                region: Some("华东"),
                tags: vec![" VIP ".into(), "".into(), "VIP".into()],
                consent_contact: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(d.code.as_deref(), Some("C-001"));
        assert_eq!(d.name, "上海某某医院");
        assert_eq!(d.kind, CustomerKind::Person);
        assert_eq!(d.tags, vec!["VIP"]);
        assert_eq!(d.industry, None);
        assert!(d.consent_contact && !d.consent_survey);

        let d = CustomerDraft::parse(
            FieldErrors::default(),
            CustomerRaw {
                name: "x",
                kind: Some(""),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(d.kind, CustomerKind::Company);

        let e = CustomerDraft::parse(
            FieldErrors::default(),
            CustomerRaw {
                code: Some("C 1"),
                name: " ",
                kind: Some("robot"),
                tags: (0..31).map(|i| i.to_string()).collect(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                ("code".to_string(), "code_chars"),
                ("name".to_string(), "required"),
                ("kind".to_string(), "choice"),
                ("tags".to_string(), "too_many"),
            ]
        );
        let long = "名".repeat(201);
        let e = CustomerDraft::parse(
            FieldErrors::default(),
            CustomerRaw {
                name: &long,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(fields(&e), vec![("name".to_string(), "too_long")]);
    }

    #[test]
    fn kinds_round_trip() {
        for k in CustomerKind::ALL {
            assert_eq!(CustomerKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(CustomerKind::parse("个人"), Some(CustomerKind::Person));
        assert_eq!(CustomerKind::parse("x"), None);
    }

    #[test]
    fn contact_checks_phones_and_email() {
        let d = ContactDraft::parse(
            FieldErrors::default(),
            ContactRaw {
                name: "王经理",
                mobile: Some("139 1234 5678"),
                phone: Some("+86 (21) 5555-0101"),
                email: Some("wang@example.com"),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(d.mobile.as_deref(), Some("139 1234 5678"));
        let e = ContactDraft::parse(
            FieldErrors::default(),
            ContactRaw {
                name: "",
                mobile: Some("139abc"),
                phone: Some("转 8001"),
                email: Some("a b@x.com"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                ("name".to_string(), "required"),
                ("mobile".to_string(), "phone"),
                ("phone".to_string(), "phone"),
                ("email".to_string(), "email"),
            ]
        );
        let mut errs = FieldErrors::default();
        for bad in ["nobody", "a@b", "@x.com", "a@.com", "a@x.com.", "a@b@c.com"] {
            optional_email(&mut errs, "email", Some(bad), 200);
        }
        assert_eq!(errs.0.len(), 6);
    }

    #[test]
    fn site_needs_a_name() {
        let e = SiteDraft::parse(FieldErrors::default(), " ", Some("华东"), None).unwrap_err();
        assert_eq!(fields(&e), vec![("name".to_string(), "required")]);
        let d = SiteDraft::parse(FieldErrors::default(), "一号厂区", None, Some("  ")).unwrap();
        assert_eq!(d.address, None);
    }
}
