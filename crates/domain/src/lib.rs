//! Pure business rules of aftersales: identifiers, roles and permissions, input parsing
//! with field errors, and the audit hash chain. No I/O, no clock, no async.

pub mod archives;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod complaints;
pub mod error;
pub mod ids;
pub mod maintenance;
pub mod org;
pub mod satisfaction;
pub mod search;
pub mod sla;
pub mod text;

pub use error::{DomainError, FieldError, FieldErrors};
