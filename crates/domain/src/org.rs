//! Organization structure: departments, posts (岗位) with duties and authority, staff, users.

use crate::auth::Role;
use crate::text;
use crate::{DomainError, FieldErrors};

/// A validated department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentDraft {
    pub code: Option<String>,
    pub name: String,
    pub parent_id: Option<i64>,
    pub description: Option<String>,
}

impl DepartmentDraft {
    /// Parses raw input; `parent_id` was already parsed by the caller (`id` field errors go there).
    pub fn parse(
        mut errs: FieldErrors,
        code: Option<&str>,
        name: &str,
        parent_id: Option<i64>,
        description: Option<&str>,
    ) -> Result<Self, DomainError> {
        let d = DepartmentDraft {
            code: text::optional_code(&mut errs, "code", code, 32),
            name: text::required(&mut errs, "name", name, 100),
            parent_id,
            description: text::optional(&mut errs, "description", description, 2000),
        };
        errs.into_result(d)
    }
}

/// A validated post with its duties (岗位职能) and authority, one item per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostDraft {
    pub name: String,
    pub department_id: Option<i64>,
    pub duties: Vec<String>,
    pub authority: Vec<String>,
}

impl PostDraft {
    /// Parses raw input; duties and authority arrive as lists (one per line in forms).
    pub fn parse(
        mut errs: FieldErrors,
        name: &str,
        department_id: Option<i64>,
        duties: Vec<String>,
        authority: Vec<String>,
    ) -> Result<Self, DomainError> {
        let name = text::required(&mut errs, "name", name, 100);
        let clean = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let duties = clean(duties);
        let authority = clean(authority);
        if duties.is_empty() {
            errs.add("duties", "required", None);
        }
        for (field, list) in [("duties", &duties), ("authority", &authority)] {
            if list.len() > 50 {
                errs.add(field, "too_many", Some("50".into()));
            } else if list.iter().any(|l| l.chars().count() > 500) {
                errs.add(field, "too_long", Some("500".into()));
            }
        }
        errs.into_result(PostDraft {
            name,
            department_id,
            duties,
            authority,
        })
    }
}

/// A validated staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffDraft {
    pub name: String,
    pub employee_no: Option<String>,
    pub department_id: Option<i64>,
    pub post_id: Option<i64>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub hired_on: Option<String>,
}

/// Raw staff input, as typed.
#[derive(Debug, Clone, Default)]
pub struct StaffRaw<'a> {
    pub name: &'a str,
    pub employee_no: Option<&'a str>,
    pub department_id: Option<i64>,
    pub post_id: Option<i64>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub hired_on: Option<&'a str>,
}

impl StaffDraft {
    /// Parses raw input: a department is required; phone, e-mail and hire date are checked.
    pub fn parse(mut errs: FieldErrors, raw: StaffRaw<'_>) -> Result<Self, DomainError> {
        let name = text::required(&mut errs, "name", raw.name, 100);
        let employee_no = text::optional_code(&mut errs, "employee_no", raw.employee_no, 32);
        if raw.department_id.is_none() && errs.get("department_id").is_none() {
            errs.add("department_id", "required", None);
        }
        let phone = text::optional(&mut errs, "phone", raw.phone, 32);
        if let Some(p) = &phone
            && !p
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
        {
            errs.add("phone", "phone", None);
        }
        let email = text::optional(&mut errs, "email", raw.email, 200);
        if let Some(e) = &email
            && !valid_email(e)
        {
            errs.add("email", "email", None);
        }
        let hired_on = text::optional(&mut errs, "hired_on", raw.hired_on, 10);
        if let Some(d) = &hired_on
            && !valid_date(d)
        {
            errs.add("hired_on", "date", None);
        }
        errs.into_result(StaffDraft {
            name,
            employee_no,
            department_id: raw.department_id,
            post_id: raw.post_id,
            phone,
            email,
            hired_on,
        })
    }
}

/// A validated new user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDraft {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub department_ids: Vec<i64>,
}

impl UserDraft {
    /// Parses raw input; `password` is checked separately by [`check_password`].
    pub fn parse(
        mut errs: FieldErrors,
        login: &str,
        display_name: &str,
        role: &str,
        department_ids: Vec<i64>,
    ) -> Result<Self, DomainError> {
        let login = parse_login(&mut errs, login);
        let display_name = text::required(&mut errs, "display_name", display_name, 100);
        let role = match Role::parse(role.trim()) {
            Some(r) => r,
            None => {
                errs.add("role", "choice", None);
                Role::Staff
            }
        };
        errs.into_result(UserDraft {
            login,
            display_name,
            role,
            department_ids,
        })
    }
}

/// Parses a login name: 3-32 characters of lowercase letters, digits, `.`, `_`, `-`.
pub fn parse_login(errs: &mut FieldErrors, raw: &str) -> String {
    let v = raw.trim().to_lowercase();
    if v.is_empty() {
        errs.add("login", "required", None);
    } else if v.len() < 3 || v.len() > 32 {
        errs.add("login", "login_len", None);
    } else if !v
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        errs.add("login", "login_chars", None);
    }
    v
}

/// Minimum password length.
pub const MIN_PASSWORD: usize = 10;

/// Records `password_short` on `field` when the password is too short.
pub fn check_password(errs: &mut FieldErrors, field: &str, pw: &str) {
    if pw.chars().count() < MIN_PASSWORD {
        errs.add(field, "password_short", Some(MIN_PASSWORD.to_string()));
    } else if pw.len() > 200 {
        errs.add(field, "too_long", Some("200".into()));
    }
}

/// Parses an optional id typed in a form: empty is `None`, garbage is a field error.
pub fn parse_opt_id(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<i64> {
    let v = raw.map(str::trim).unwrap_or("");
    if v.is_empty() {
        return None;
    }
    match v.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errs.add(field, "choice", None);
            None
        }
    }
}

fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(host), None) => {
            !local.is_empty()
                && host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && !e.contains(' ')
        }
        _ => false,
    }
}

/// True for a real calendar date written `YYYY-MM-DD`.
pub fn valid_date(d: &str) -> bool {
    let b = d.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    if !b
        .iter()
        .enumerate()
        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return false;
    }
    let num = |s: &str| s.parse::<u32>().ok();
    let (Some(y), Some(m), Some(day)) = (num(&d[0..4]), num(&d[5..7]), num(&d[8..10])) else {
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
    (1900..=2200).contains(&y) && day >= 1 && day <= days
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
    fn department_requires_name() {
        let e = DepartmentDraft::parse(FieldErrors::default(), None, " ", None, None).unwrap_err();
        assert_eq!(codes(&e), vec![("name".to_string(), "required")]);
        let d = DepartmentDraft::parse(
            FieldErrors::default(),
            Some("SVC"),
            "服务部",
            None,
            Some(""),
        )
        .unwrap();
        assert_eq!(d.description, None);
    }

    #[test]
    fn post_needs_duties() {
        let e = PostDraft::parse(
            FieldErrors::default(),
            "经理",
            None,
            vec![" ".into()],
            vec![],
        )
        .unwrap_err();
        assert_eq!(codes(&e), vec![("duties".to_string(), "required")]);
    }

    #[test]
    fn staff_checks_every_field() {
        let raw = StaffRaw {
            name: "张三",
            phone: Some("138abc"),
            email: Some("nobody"),
            hired_on: Some("2026-02-30"),
            ..Default::default()
        };
        let e = StaffDraft::parse(FieldErrors::default(), raw).unwrap_err();
        let fields: Vec<_> = codes(&e).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["department_id", "phone", "email", "hired_on"]);
    }

    #[test]
    fn dates() {
        assert!(valid_date("2024-02-29"));
        assert!(!valid_date("2026-02-29"));
        assert!(!valid_date("2026-13-01"));
        assert!(!valid_date("26-1-1"));
        // Rust's integer parsing takes a leading '+': only digits are a date.
        assert!(!valid_date("2026-+1-01"));
        assert!(!valid_date("+026-01-01"));
    }

    #[test]
    fn logins() {
        let mut e = FieldErrors::default();
        assert_eq!(parse_login(&mut e, " Zhang.San "), "zhang.san");
        assert!(e.is_empty());
        parse_login(&mut e, "张三三");
        parse_login(&mut e, "ab");
        assert_eq!(e.0[0].code, "login_chars");
        assert_eq!(e.0[1].code, "login_len");
    }
}
