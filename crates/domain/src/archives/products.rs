//! Products (产品): part number (料号), model (型号), name, category, warranty period in
//! months (三包期) and the service-contract levels offered for the product.

use crate::text;
use crate::{DomainError, FieldErrors};

/// Longest warranty period accepted, in months (ten years).
pub const MAX_WARRANTY_MONTHS: i64 = 120;
/// Most contract levels a product may offer.
pub const MAX_LEVELS: usize = 10;

/// A validated product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDraft {
    pub part_no: String,
    pub model: String,
    pub name: String,
    pub category: Option<String>,
    pub warranty_months: i64,
    pub contract_levels: Vec<String>,
}

/// Raw product input, as typed (forms) or sent (API).
#[derive(Debug, Clone, Default)]
pub struct ProductRaw<'a> {
    pub part_no: &'a str,
    pub model: &'a str,
    pub name: &'a str,
    pub category: Option<&'a str>,
    /// Whole months as text ("12"); the API passes its integer formatted.
    pub warranty_months: &'a str,
    /// One level per item; blanks are dropped.
    pub contract_levels: Vec<String>,
}

impl ProductDraft {
    /// Parses raw input.
    pub fn parse(mut errs: FieldErrors, raw: ProductRaw<'_>) -> Result<Self, DomainError> {
        let part_no = parse_part_no(&mut errs, "part_no", raw.part_no);
        let model = text::required(&mut errs, "model", raw.model, 100);
        let name = text::required(&mut errs, "name", raw.name, 200);
        let category = text::optional(&mut errs, "category", raw.category, 50);
        let warranty_months = parse_months(&mut errs, "warranty_months", raw.warranty_months);
        let contract_levels = parse_levels(&mut errs, "contract_levels", raw.contract_levels);
        errs.into_result(ProductDraft {
            part_no,
            model,
            name,
            category,
            warranty_months,
            contract_levels,
        })
    }
}

/// A part number (料号): required, at most 64 letters, digits, `-`, `_` or `.`.
pub fn parse_part_no(errs: &mut FieldErrors, field: &str, raw: &str) -> String {
    let v = text::required(errs, field, raw, 64);
    if !v.is_empty()
        && !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        errs.add(field, "part_no_chars", None);
    }
    v
}

/// Warranty months: a whole number from 0 to [`MAX_WARRANTY_MONTHS`].
pub fn parse_months(errs: &mut FieldErrors, field: &str, raw: &str) -> i64 {
    let v = raw.trim();
    if v.is_empty() {
        errs.add(field, "required", None);
        return 0;
    }
    match v.parse::<i64>() {
        Ok(n) if (0..=MAX_WARRANTY_MONTHS).contains(&n) => n,
        _ => {
            errs.add(field, "months_range", Some(MAX_WARRANTY_MONTHS.to_string()));
            0
        }
    }
}

/// Contract levels: trimmed, blanks dropped, repeats removed (first kept), each at most 20
/// characters, at most [`MAX_LEVELS`].
pub fn parse_levels(errs: &mut FieldErrors, field: &str, raw: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in raw {
        let l = l.trim().to_string();
        if !l.is_empty() && !out.contains(&l) {
            out.push(l);
        }
    }
    if out.len() > MAX_LEVELS {
        errs.add(field, "too_many", Some(MAX_LEVELS.to_string()));
    } else if out.iter().any(|l| l.chars().count() > 20) {
        errs.add(field, "too_long", Some("20".into()));
    }
    out
}

/// Splits a typed list of levels ("基础，标准、尊享" or one per line) into items.
pub fn split_levels(raw: &str) -> Vec<String> {
    raw.split([',', '，', '、', ';', '；', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
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

    fn raw<'a>(part_no: &'a str, months: &'a str) -> ProductRaw<'a> {
        ProductRaw {
            part_no,
            model: "HX-200",
            name: "空压机",
            category: Some(" 压缩机 "),
            warranty_months: months,
            contract_levels: split_levels("基础，标准、尊享,标准"),
        }
    }

    #[test]
    fn parses_a_product() {
        let d = ProductDraft::parse(FieldErrors::default(), raw(" HX-200.A_1 ", "12")).unwrap();
        assert_eq!(d.part_no, "HX-200.A_1");
        assert_eq!(d.category.as_deref(), Some("压缩机"));
        assert_eq!(d.warranty_months, 12);
        assert_eq!(d.contract_levels, vec!["基础", "标准", "尊享"]);
    }

    #[test]
    fn refuses_bad_part_numbers_and_months() {
        let e = ProductDraft::parse(FieldErrors::default(), raw("HX 200", "121")).unwrap_err();
        assert_eq!(
            codes(&e),
            vec![
                ("part_no".to_string(), "part_no_chars"),
                ("warranty_months".to_string(), "months_range")
            ]
        );
        let e = ProductDraft::parse(FieldErrors::default(), raw("", "x")).unwrap_err();
        assert_eq!(
            codes(&e),
            vec![
                ("part_no".to_string(), "required"),
                ("warranty_months".to_string(), "months_range")
            ]
        );
        let e = ProductDraft::parse(FieldErrors::default(), raw("A", "-1")).unwrap_err();
        assert_eq!(codes(&e)[0].1, "months_range");
        let d = ProductDraft::parse(FieldErrors::default(), raw("A", "0")).unwrap();
        assert_eq!(d.warranty_months, 0);
        let d = ProductDraft::parse(FieldErrors::default(), raw("A", "120")).unwrap();
        assert_eq!(d.warranty_months, 120);
    }

    #[test]
    fn levels_are_bounded() {
        let mut e = FieldErrors::default();
        let many: Vec<String> = (0..11).map(|i| format!("L{i}")).collect();
        parse_levels(&mut e, "contract_levels", many);
        assert_eq!(e.0[0].code, "too_many");
        let mut e = FieldErrors::default();
        assert!(parse_levels(&mut e, "contract_levels", vec![" ".into()]).is_empty());
        assert!(e.is_empty());
    }
}
