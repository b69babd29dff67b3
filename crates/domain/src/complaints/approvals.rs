//! Remedy approval routing: rules are data (by remedy type, amount, responsibility and
//! severity); a serious complaint's remedy needs every matching rule's approver, and at least
//! the after-sales manager when no rule matches. Minor complaints need none.

use super::{RemedyType, Responsibility, is_minor};
use crate::auth::Role;

/// Who approves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Approver {
    Role(Role),
    Department(i64),
}

/// An approval rule; `None` conditions match anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub remedy_type: Option<RemedyType>,
    /// Matches amounts strictly above this, in fen.
    pub min_amount_fen: Option<i64>,
    pub responsibility: Option<Responsibility>,
    pub severity: Option<String>,
    pub approver: Approver,
}

/// The remedy being routed.
#[derive(Debug, Clone, Copy)]
pub struct Proposal<'a> {
    pub severity: &'a str,
    pub remedy_type: RemedyType,
    pub amount_fen: i64,
    pub responsibility: Option<Responsibility>,
}

impl Rule {
    /// Whether the rule applies to the proposal.
    pub fn matches(&self, p: &Proposal<'_>) -> bool {
        self.remedy_type.is_none_or(|t| t == p.remedy_type)
            && self.min_amount_fen.is_none_or(|m| p.amount_fen > m)
            && self
                .responsibility
                .is_none_or(|r| Some(r) == p.responsibility)
            && self.severity.as_deref().is_none_or(|s| s == p.severity)
    }
}

/// The approvals a proposal needs, one per distinct approver, with the rule that asked.
pub fn required(rules: &[Rule], p: &Proposal<'_>) -> Vec<(Option<i64>, Approver)> {
    if is_minor(p.severity) {
        return Vec::new();
    }
    let mut out: Vec<(Option<i64>, Approver)> = Vec::new();
    for r in rules.iter().filter(|r| r.matches(p)) {
        if !out.iter().any(|(_, a)| *a == r.approver) {
            out.push((Some(r.id), r.approver));
        }
    }
    if out.is_empty() {
        out.push((None, Approver::Role(Role::Manager)));
    }
    out
}

/// Whether a user with `role` in `departments` may decide an approval addressed to `a`.
/// Read-only roles never decide.
pub fn may_decide(a: Approver, role: Role, departments: &[i64]) -> bool {
    if role.read_only() {
        return false;
    }
    match a {
        Approver::Role(r) => r == role,
        Approver::Department(d) => departments.contains(&d) && role != Role::Supervisor,
    }
}

/// The state of a round from its decisions (`None` = waiting).
pub fn summarize(decisions: &[Option<bool>]) -> super::lifecycle::Approvals {
    use super::lifecycle::Approvals;
    if decisions.is_empty() {
        Approvals::None
    } else if decisions.contains(&Some(false)) {
        Approvals::Rejected
    } else if decisions.iter().all(|d| *d == Some(true)) {
        Approvals::AllApproved
    } else {
        Approvals::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::complaints::lifecycle::Approvals;

    fn rules() -> Vec<Rule> {
        vec![
            Rule {
                id: 1,
                remedy_type: None,
                min_amount_fen: None,
                responsibility: None,
                severity: Some("serious".into()),
                approver: Approver::Department(10),
            },
            Rule {
                id: 2,
                remedy_type: Some(RemedyType::Refund),
                min_amount_fen: Some(500_000),
                responsibility: None,
                severity: None,
                approver: Approver::Role(Role::Manager),
            },
        ]
    }

    fn p(t: RemedyType, amount: i64, severity: &str) -> Proposal<'_> {
        Proposal {
            severity,
            remedy_type: t,
            amount_fen: amount,
            responsibility: Some(Responsibility::Ours),
        }
    }

    #[test]
    fn refunds_over_the_limit_also_need_the_manager() {
        let small = required(&rules(), &p(RemedyType::Refund, 500_000, "serious"));
        assert_eq!(small, vec![(Some(1), Approver::Department(10))]);
        let big = required(&rules(), &p(RemedyType::Refund, 500_001, "serious"));
        assert_eq!(big.len(), 2);
        assert!(big.contains(&(Some(2), Approver::Role(Role::Manager))));
    }

    #[test]
    fn minor_needs_none_and_serious_at_least_the_manager() {
        assert!(required(&rules(), &p(RemedyType::Refund, 900_000, "minor")).is_empty());
        assert_eq!(
            required(&[], &p(RemedyType::Repair, 0, "critical")),
            vec![(None, Approver::Role(Role::Manager))]
        );
    }

    #[test]
    fn an_engineer_cannot_approve_for_the_manager() {
        let a = Approver::Role(Role::Manager);
        assert!(!may_decide(a, Role::Engineer, &[]));
        assert!(may_decide(a, Role::Manager, &[]));
        assert!(!may_decide(Approver::Department(3), Role::Auditor, &[3]));
        assert!(may_decide(Approver::Department(3), Role::Staff, &[3]));
    }

    #[test]
    fn rounds_summarize() {
        assert_eq!(summarize(&[]), Approvals::None);
        assert_eq!(summarize(&[Some(true), None]), Approvals::Pending);
        assert_eq!(summarize(&[Some(true), Some(false)]), Approvals::Rejected);
        assert_eq!(summarize(&[Some(true), Some(true)]), Approvals::AllApproved);
    }
}
