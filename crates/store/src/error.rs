//! Storage errors, with unique and foreign-key violations told apart from the rest.

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row (or not in this organization).
    #[error("not found")]
    NotFound,
    /// The row changed since it was read (optimistic concurrency), or a unique key clashed.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Two transactions waited on each other (a PostgreSQL deadlock or serialisation
    /// failure): nothing of this one was written, and running it again may succeed.
    #[error("contention: {0}")]
    Contention(String),
    /// Any other database or I/O failure.
    #[error(transparent)]
    Other(sqlx::Error),
    /// A configuration problem (bad URL, unknown scheme).
    #[error("{0}")]
    Config(String),
}

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Maps a sqlx error: unique violations become `Conflict`, missing rows `NotFound`.
    pub fn from_sqlx(e: sqlx::Error) -> StoreError {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict(d.message().to_string())
            }
            // deadlock_detected, serialization_failure
            sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")) => {
                StoreError::Contention(d.message().to_string())
            }
            _ => StoreError::Other(e),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::from_sqlx(e)
    }
}
