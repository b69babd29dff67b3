//! Typed identifiers: a `DepartmentId` can never be passed where a `StaffId` is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// An organization (tenant); every business record belongs to one.
    OrgId,
    /// A login account.
    UserId,
    /// A department of an organization.
    DepartmentId,
    /// A post (岗位) with duties and authority.
    PostId,
    /// A staff member (employee) of an organization.
    StaffId,
    /// An API token.
    TokenId,
);

/// A point in time, stored as whole Unix seconds in UTC on both backends so that
/// comparisons and ordering are exact (see STACK.md trap 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The Unix seconds.
    pub fn secs(self) -> i64 {
        self.0
    }
    /// This time plus `secs` seconds.
    pub fn plus(self, secs: i64) -> Timestamp {
        Timestamp(self.0 + secs)
    }
}
