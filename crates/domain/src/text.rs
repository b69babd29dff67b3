//! Parsing of free-text form fields into trimmed, length-checked values.

use crate::FieldErrors;

/// Trims `raw`; records `required` when empty and `too_long` when over `max` characters.
pub fn required(errs: &mut FieldErrors, field: &str, raw: &str, max: usize) -> String {
    let v = raw.trim();
    if v.is_empty() {
        errs.add(field, "required", None);
    } else if v.chars().count() > max {
        errs.add(field, "too_long", Some(max.to_string()));
    }
    v.to_string()
}

/// Trims `raw`; `None` when empty; records `too_long` when over `max` characters.
pub fn optional(
    errs: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = raw.map(str::trim).unwrap_or("");
    if v.is_empty() {
        return None;
    }
    if v.chars().count() > max {
        errs.add(field, "too_long", Some(max.to_string()));
    }
    Some(v.to_string())
}

/// An optional code: letters, digits, `-` and `_` only.
pub fn optional_code(
    errs: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = optional(errs, field, raw, max)?;
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errs.add(field, "code_chars", None);
    }
    Some(v)
}

/// Splits a multi-line text into trimmed, non-empty lines (duties, authority items).
pub fn lines(raw: &str) -> Vec<String> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_checks_length() {
        let mut e = FieldErrors::default();
        assert_eq!(required(&mut e, "name", "  服务部 ", 3), "服务部");
        assert!(e.is_empty());
        required(&mut e, "name", "   ", 3);
        required(&mut e, "other", "四个字符", 3);
        assert_eq!(e.0[0].code, "required");
        assert_eq!(e.0[1].code, "too_long");
        assert_eq!(e.0[1].arg.as_deref(), Some("3"));
    }

    #[test]
    fn code_rejects_spaces() {
        let mut e = FieldErrors::default();
        assert_eq!(
            optional_code(&mut e, "code", Some(" SVC-1 "), 10).as_deref(),
            Some("SVC-1")
        );
        assert!(e.is_empty());
        optional_code(&mut e, "code", Some("a b"), 10);
        assert_eq!(e.0[0].code, "code_chars");
        assert_eq!(optional_code(&mut e, "code", Some("  "), 10), None);
    }

    #[test]
    fn lines_drop_blanks() {
        assert_eq!(lines("a\n\n  b \r\n"), vec!["a", "b"]);
    }
}
