//! One error type for handlers. It becomes a response carrying an [`ErrorInfo`] extension;
//! the `render_errors` middleware turns that into localised JSON under `/api` or an HTML page
//! elsewhere, so handlers never care which.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{DomainError, FieldErrors};
use store::StoreError;

/// A failed request.
#[derive(Debug)]
pub enum AppError {
    /// No valid session or token.
    Unauthenticated,
    /// Signed in, but the role or organization does not allow this.
    Forbidden,
    /// Missing CSRF token or a mismatch.
    Csrf,
    /// No such record in this organization.
    NotFound,
    /// Someone else changed the record since it was read.
    Stale,
    /// Someone else changed the record since it was read: who, and when (Unix seconds).
    StaleBy(String, i64),
    /// A unique value is already taken.
    Duplicate,
    /// Input fields are invalid.
    Invalid(FieldErrors),
    /// The record's state forbids this; the code is an i18n key suffix.
    Transition(&'static str),
    /// Too many failed sign-ins.
    Throttled,
    /// The request is malformed.
    BadRequest(String),
    /// Something broke on our side; the text is logged, never sent.
    Internal(String),
    /// The transaction lost a deadlock or serialisation conflict (PostgreSQL): answered like
    /// `Internal`, but services may run the transaction again (see `complaints::service::act`).
    Contention(String),
}

/// What the error-rendering middleware needs to build the body.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub fields: FieldErrors,
    pub detail: Option<String>,
}

impl AppError {
    /// HTTP status and stable code.
    pub fn status_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Stale | AppError::StaleBy(..) => (StatusCode::CONFLICT, "stale"),
            AppError::Duplicate => (StatusCode::CONFLICT, "duplicate"),
            AppError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            AppError::Transition(_) => (StatusCode::CONFLICT, "invalid_transition"),
            AppError::Throttled => (StatusCode::TOO_MANY_REQUESTS, "throttled"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Internal(_) | AppError::Contention(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_code();
        let (fields, detail) = match self {
            AppError::Invalid(f) => (f, None),
            AppError::Transition(t) => (FieldErrors::default(), Some(t.to_string())),
            AppError::BadRequest(m) => (FieldErrors::default(), Some(m)),
            AppError::StaleBy(by, at) => (FieldErrors::default(), Some(format!("{by}\u{1f}{at}"))),
            AppError::Internal(m) | AppError::Contention(m) => {
                tracing::error!(error = %m, "internal error");
                (FieldErrors::default(), None)
            }
            _ => (FieldErrors::default(), None),
        };
        let mut resp = (status, code).into_response();
        resp.extensions_mut().insert(ErrorInfo {
            code,
            fields,
            detail,
        });
        resp
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) if m == "stale version" => AppError::Stale,
            StoreError::Conflict(_) => AppError::Duplicate,
            StoreError::Contention(m) => AppError::Contention(m),
            StoreError::Other(e) => AppError::Internal(e.to_string()),
            StoreError::Config(m) => AppError::Internal(m),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(f) => AppError::Invalid(f),
            DomainError::Forbidden => AppError::Forbidden,
            DomainError::InvalidTransition(t) => AppError::Transition(t),
        }
    }
}

/// Result alias for handlers and services.
pub type AppResult<T> = Result<T, AppError>;
