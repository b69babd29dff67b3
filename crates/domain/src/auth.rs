//! Roles and what each may do. Checked in the service layer for the UI and the API alike.

use serde::{Deserialize, Serialize};

/// A user's role within one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users, settings and everything else.
    Admin,
    /// The after-sales manager: owns the service system.
    Manager,
    /// A service engineer.
    Engineer,
    /// Staff of the business, marketing, production or procurement departments.
    Staff,
    /// Supervision / quality: audits records.
    Supervisor,
    /// A read-only auditor or consultant.
    Auditor,
}

/// Something a user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See departments, posts and staff.
    ViewOrg,
    /// Create, edit and retire departments, posts and staff.
    ManageOrg,
    /// Create users, assign roles, reset passwords, issue tokens for others.
    ManageUsers,
    /// Read the audit trail.
    ViewAudit,
    /// Issue and revoke one's own API tokens.
    OwnTokens,
    /// See customers, products, orders, equipment and outlets.
    ViewArchives,
    /// Create, edit, retire and import archive records.
    ManageArchives,
    /// See complaints (staff: those their departments have tasks on) and corrective actions.
    ViewComplaints,
    /// Register complaints and move them through the lifecycle.
    HandleComplaints,
    /// Edit work calendars, SLA targets, approval rules, the responsibility matrix and numbering.
    ManageComplaintSettings,
    /// Open and work corrective actions (CAPA / 8D), including effectiveness checks.
    ManageCapa,
    /// See service orders, plans, checklists, parts and maintenance figures.
    ViewService,
    /// Create, schedule, dispatch and work service orders (checklists, parts, sign-off).
    WorkOrders,
    /// Edit maintenance plans, checklist templates and engineer profiles.
    PlanMaintenance,
    /// Keep the parts list and stock (receipts and corrections).
    ManageParts,
    /// See return visits, survey templates, studies and satisfaction statistics.
    ViewSatisfaction,
    /// Record return visits and enter survey answers taken by phone.
    HandleVisits,
    /// Edit survey templates, studies (samples, invitations) and the visit and trigger rules.
    ManageSurveys,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Manager,
        Role::Engineer,
        Role::Staff,
        Role::Supervisor,
        Role::Auditor,
    ];

    /// The stable name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Engineer => "engineer",
            Role::Staff => "staff",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// True when the role sees every complaint; staff see those their departments work on.
    pub fn sees_all_complaints(self) -> bool {
        self != Role::Staff
    }

    /// True when the role never changes data.
    pub fn read_only(self) -> bool {
        self == Role::Auditor
    }

    /// Whether this role grants `p`.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match p {
            ViewOrg => true,
            ManageOrg => matches!(self, Role::Admin | Role::Manager),
            ManageUsers => self == Role::Admin,
            ViewAudit => matches!(
                self,
                Role::Admin | Role::Manager | Role::Supervisor | Role::Auditor
            ),
            OwnTokens => true,
            ViewArchives => true,
            ManageArchives | HandleComplaints => matches!(
                self,
                Role::Admin | Role::Manager | Role::Engineer | Role::Staff
            ),
            ViewComplaints | ViewService => true,
            WorkOrders => matches!(
                self,
                Role::Admin | Role::Manager | Role::Engineer | Role::Staff
            ),
            PlanMaintenance => matches!(self, Role::Admin | Role::Manager),
            ManageParts => matches!(self, Role::Admin | Role::Manager | Role::Staff),
            ViewSatisfaction => true,
            HandleVisits => matches!(
                self,
                Role::Admin | Role::Manager | Role::Engineer | Role::Staff
            ),
            ManageSurveys => matches!(self, Role::Admin | Role::Manager),
            ManageComplaintSettings => matches!(self, Role::Admin | Role::Manager),
            ManageCapa => matches!(
                self,
                Role::Admin | Role::Manager | Role::Engineer | Role::Staff | Role::Supervisor
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn auditor_reads_but_never_writes() {
        assert!(Role::Auditor.allows(Permission::ViewAudit));
        assert!(Role::Auditor.allows(Permission::ViewOrg));
        assert!(!Role::Auditor.allows(Permission::ManageOrg));
        assert!(!Role::Auditor.allows(Permission::ManageUsers));
    }

    #[test]
    fn only_admin_manages_users() {
        for r in Role::ALL {
            assert_eq!(r.allows(Permission::ManageUsers), r == Role::Admin);
        }
        assert!(Role::Manager.allows(Permission::ManageOrg));
        assert!(!Role::Engineer.allows(Permission::ManageOrg));
        assert!(!Role::Engineer.allows(Permission::ViewAudit));
    }

    #[test]
    fn archives_are_kept_by_the_working_roles() {
        for r in Role::ALL {
            assert!(r.allows(Permission::ViewArchives));
        }
        assert!(Role::Staff.allows(Permission::ManageArchives));
        assert!(!Role::Supervisor.allows(Permission::ManageArchives));
        assert!(!Role::Auditor.allows(Permission::ManageArchives));
    }
}
