//! aftersales storage: one `Db` enum over SQLite and PostgreSQL, embedded migrations per
//! backend, and one repository module per feature. Repositories hold SQL, no business rules.

pub mod archives;
pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod complaints;
pub mod db;
pub mod error;
pub mod jobs;
pub mod maintenance;
pub mod migrate;
pub mod notifications;
pub mod org;
pub mod priority;
pub mod satisfaction;
pub mod search;
pub mod sessions;
pub mod tenants;
pub mod timeline;
pub mod tokens;
pub mod users;
pub mod volume;
mod walbuf;

pub use db::{Backend, Conn, Db, Handle, Tx, offload, offload_writer};
pub use error::{StoreError, StoreResult};

/// One page of a list, with the total count of matching rows.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    /// Number of pages (at least 1).
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// Page request: 1-based page number and page size, clamped to sane bounds.
#[derive(Debug, Clone, Copy)]
pub struct PageReq {
    pub page: i64,
    pub per_page: i64,
}

impl PageReq {
    /// Clamps page >= 1 and 1 <= per_page <= 200.
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> PageReq {
        PageReq {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(50).clamp(1, 200),
        }
    }
    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// Random bytes as lowercase hex (tokens, CSRF values).
pub fn random_hex(bytes: usize) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    let v: Vec<u8> = (0..bytes).map(|_| rng.random::<u8>()).collect();
    hex::encode(v)
}

/// SHA-256 of a secret as hex: only this is stored for session and API tokens.
pub fn hash_token(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}
