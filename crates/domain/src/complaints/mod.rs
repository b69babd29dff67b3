//! Complaint handling rules (客户投诉处理细则, DOMAIN.md §1.5 and §4): the vocabulary, the
//! lifecycle state machine, the registration and step inputs, remedy approval routing,
//! numbering and the corrective-action (CAPA / 8D) rules.

pub mod approvals;
pub mod capa;
pub mod draft;
pub mod lifecycle;

pub use lifecycle::{Action, Facts, Status};

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),* }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// The stable name stored and used in the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),* }
            }
            /// Parses the stable name.
            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// How the complaint reached us.
    Channel {
        Visit = "visit",
        Phone = "phone",
        Letter = "letter",
        Email = "email",
        Web = "web",
        Other = "other",
    }
);

vocabulary!(
    /// The seed's three classes.
    Class {
        /// 质量异常.
        Quality = "quality",
        /// 人为因素.
        Human = "human",
        /// 其他.
        Other = "other",
    }
);

vocabulary!(
    /// Who is responsible, as verified in the analysis.
    Responsibility {
        /// Ours: a responsible department is named.
        Ours = "ours",
        /// The customer's use: not ours, explained with the inspection result and its basis.
        CustomerUse = "customer_use",
        Supplier = "supplier",
        Logistics = "logistics",
        NotEstablished = "not_established",
    }
);

impl Responsibility {
    /// True when the remedy route does not apply: the complaint is explained instead.
    pub fn not_ours(self) -> bool {
        self == Responsibility::CustomerUse
    }
}

vocabulary!(
    /// The agreed remedy.
    RemedyType {
        Repair = "repair",
        Replace = "replace",
        Return = "return",
        Refund = "refund",
        Compensation = "compensation",
        Explanation = "explanation",
    }
);

/// The built-in severities. Other levels are data (an SLA target row with a new name adds
/// one); every level but `minor` takes the serious route.
pub const MINOR: &str = "minor";
/// The serious severity.
pub const SERIOUS: &str = "serious";

/// True when `severity` takes the minor route (record and notify, no approvals).
pub fn is_minor(severity: &str) -> bool {
    severity == MINOR
}

/// A complaint number from its parts: `TS-2026-000123`.
pub fn format_number(prefix: &str, year: i32, seq: i64, digits: usize) -> String {
    format!("{prefix}-{year}-{seq:0digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(*c));
        }
        for r in Responsibility::ALL {
            assert_eq!(Responsibility::parse(r.as_str()), Some(*r));
        }
        assert_eq!(RemedyType::parse("gift"), None);
        assert!(Responsibility::CustomerUse.not_ours());
        assert!(!Responsibility::Supplier.not_ours());
    }

    #[test]
    fn numbers_are_zero_padded() {
        assert_eq!(format_number("TS", 2026, 123, 6), "TS-2026-000123");
        assert_eq!(format_number("KS", 2027, 1234567, 6), "KS-2027-1234567");
    }
}
