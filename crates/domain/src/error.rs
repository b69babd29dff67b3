//! Errors raised by the rules: field errors carry an i18n code the server translates.

use serde::Serialize;

/// One invalid field: `code` is an i18n key suffix under `err.`; `arg` fills `{arg}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub arg: Option<String>,
}

/// All invalid fields of one input, in form order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records an error on `field`.
    pub fn add(&mut self, field: &str, code: &'static str, arg: Option<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            code,
            arg,
        });
    }
    /// True when no field is invalid.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The first error on `field`, if any.
    pub fn get(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }
    /// `Ok(v)` when empty, else the errors.
    pub fn into_result<T>(self, v: T) -> Result<T, DomainError> {
        if self.is_empty() {
            Ok(v)
        } else {
            Err(DomainError::Invalid(self))
        }
    }
    /// A single-field error.
    pub fn single(field: &str, code: &'static str) -> FieldErrors {
        let mut e = FieldErrors::default();
        e.add(field, code, None);
        e
    }
}

/// A rule refused the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Input fields are invalid.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// The actor's role does not allow the action.
    #[error("forbidden")]
    Forbidden,
    /// The record is not in a state that allows the transition; the code is an i18n key suffix.
    #[error("invalid transition: {0}")]
    InvalidTransition(&'static str),
}
