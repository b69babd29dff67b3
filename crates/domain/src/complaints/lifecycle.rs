//! The complaint lifecycle (DOMAIN.md §4): received → confirmed → analysing → (not ours:
//! explained → customer's response) or (remedy proposed → approved by the departments when
//! serious → agreed with the customer) → implementing → return visit → closed; reopened by an
//! unsatisfied visit; withdrawn at any open point. `next` is the only place that decides
//! whether a move is allowed; a refusal names its reason as an i18n key under `transition.`.

use super::{Responsibility, vocabulary};
use crate::DomainError;

vocabulary!(
    /// Where a complaint stands.
    Status {
        Received = "received",
        Confirmed = "confirmed",
        Analysing = "analysing",
        /// Not ours: the explanation and its basis were sent; waiting for the customer.
        NotOurs = "not_ours",
        /// A remedy is proposed (serious: waiting for the departments' approvals).
        RemedyProposed = "remedy_proposed",
        /// Every required approval was given.
        RemedyApproved = "remedy_approved",
        /// The customer agreed to the remedy.
        RemedyAgreed = "remedy_agreed",
        Implementing = "implementing",
        /// Done; waiting for the return visit.
        ReturnVisit = "return_visit",
        Closed = "closed",
        /// An unsatisfied return visit sent it back.
        Reopened = "reopened",
        Withdrawn = "withdrawn",
    }
);

impl Status {
    /// True once nothing more can happen.
    pub fn terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Withdrawn)
    }
    /// The open statuses (everything but closed and withdrawn).
    pub fn open() -> Vec<Status> {
        Status::ALL
            .iter()
            .copied()
            .filter(|s| !s.terminal())
            .collect()
    }
}

vocabulary!(
    /// A move a user asks for.
    Action {
        Confirm = "confirm",
        Analyse = "analyse",
        Explain = "explain",
        /// The customer's answer to the explanation (accepted or disputed).
        Respond = "respond",
        Propose = "propose",
        Agree = "agree",
        Start = "start",
        /// A progress message to the customer: no change of status.
        Progress = "progress",
        Complete = "complete",
        /// The return visit's verdict (satisfied or not).
        Visit = "visit",
        Withdraw = "withdraw",
        /// Waiting on the customer: the SLA clock stops.
        Pause = "pause",
        Resume = "resume",
    }
);

/// Approvals of the current remedy proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approvals {
    /// None required (minor) or none proposed yet.
    None,
    Pending,
    AllApproved,
    Rejected,
}

/// What the rules need to know about a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub status: Status,
    pub minor: bool,
    pub responsibility: Option<Responsibility>,
    pub approvals: Approvals,
    pub capa_required: bool,
    pub capa_opened: bool,
    pub paused: bool,
    /// The complaint passed confirmation at some point.
    pub confirmed: bool,
}

/// The outcome of a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub to: Status,
}

fn refuse(code: &'static str) -> Result<Move, DomainError> {
    Err(DomainError::InvalidTransition(code))
}

/// Decides a move. `verdict` carries the yes/no of `Respond` (accepted) and `Visit`
/// (satisfied); other actions ignore it. Approving or rejecting a remedy is not a move of
/// its own: the service records the decision and calls [`after_decision`].
pub fn next(f: &Facts, action: Action, verdict: bool) -> Result<Move, DomainError> {
    use Status::*;
    let s = f.status;
    if s.terminal() {
        return refuse("complaint_finished");
    }
    let to = |to| Ok(Move { to });
    match action {
        Action::Progress => to(s),
        Action::Withdraw => to(Withdrawn),
        Action::Pause if f.paused => refuse("already_paused"),
        Action::Pause => to(s),
        Action::Resume if !f.paused => refuse("not_paused"),
        Action::Resume => to(s),
        Action::Confirm => match s {
            Received => to(Confirmed),
            _ => refuse("already_confirmed"),
        },
        Action::Analyse => match s {
            Confirmed | Analysing | Reopened => to(Analysing),
            Received => refuse("confirm_first"),
            _ => refuse("not_in_analysis"),
        },
        Action::Explain => match (s, f.responsibility) {
            (Analysing, Some(r)) if r.not_ours() => to(NotOurs),
            (Analysing, _) => refuse("explain_only_not_ours"),
            _ => refuse("not_in_analysis"),
        },
        Action::Respond => match s {
            NotOurs if verdict => to(ReturnVisit),
            NotOurs => to(Analysing),
            _ => refuse("no_explanation_sent"),
        },
        Action::Propose => match (s, f.responsibility) {
            (Analysing | Reopened, Some(r)) if !r.not_ours() => to(RemedyProposed),
            (Analysing | Reopened, Some(_)) => refuse("not_ours_no_remedy"),
            (Analysing | Reopened, None) => refuse("responsibility_first"),
            (RemedyProposed, _) => refuse("remedy_already_proposed"),
            _ => refuse("not_in_analysis"),
        },
        Action::Agree => match (s, f.approvals) {
            (RemedyApproved, _) => to(RemedyAgreed),
            (RemedyProposed, Approvals::None) if f.minor => to(RemedyAgreed),
            (RemedyProposed, _) => refuse("approvals_pending"),
            _ => refuse("no_remedy_proposed"),
        },
        Action::Start => match s {
            RemedyAgreed => to(Implementing),
            _ => refuse("remedy_not_agreed"),
        },
        Action::Complete => match s {
            Implementing if f.capa_required && !f.capa_opened => refuse("capa_required"),
            Implementing => to(ReturnVisit),
            _ => refuse("not_implementing"),
        },
        Action::Visit => match s {
            ReturnVisit if verdict => to(Closed),
            ReturnVisit => to(Reopened),
            _ => refuse("no_visit_due"),
        },
    }
}

/// The status after a remedy approval decision was recorded: all approved moves the
/// complaint on; a rejection sends it back to analysis for a new proposal.
pub fn after_decision(status: Status, approvals: Approvals) -> Status {
    match (status, approvals) {
        (Status::RemedyProposed, Approvals::AllApproved) => Status::RemedyApproved,
        (Status::RemedyProposed, Approvals::Rejected) => Status::Analysing,
        (s, _) => s,
    }
}

/// Actions offered in the UI for a complaint in this state (each still checked by `next`).
pub fn offered(f: &Facts) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|a| next(f, *a, true).is_ok() || next(f, *a, false).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(status: Status) -> Facts {
        Facts {
            status,
            minor: false,
            responsibility: None,
            approvals: Approvals::None,
            capa_required: false,
            capa_opened: false,
            paused: false,
            confirmed: status != Status::Received,
        }
    }

    #[test]
    fn serious_route_needs_approvals_before_agreement() {
        let mut f = facts(Status::RemedyProposed);
        f.responsibility = Some(Responsibility::Ours);
        f.approvals = Approvals::Pending;
        assert_eq!(
            next(&f, Action::Agree, true),
            Err(DomainError::InvalidTransition("approvals_pending"))
        );
        assert_eq!(
            after_decision(Status::RemedyProposed, Approvals::AllApproved),
            Status::RemedyApproved
        );
        f.status = Status::RemedyApproved;
        assert_eq!(
            next(&f, Action::Agree, true).map(|m| m.to),
            Ok(Status::RemedyAgreed)
        );
    }

    #[test]
    fn minor_route_agrees_without_approvals() {
        let mut f = facts(Status::RemedyProposed);
        f.minor = true;
        assert_eq!(
            next(&f, Action::Agree, true).map(|m| m.to),
            Ok(Status::RemedyAgreed)
        );
    }

    #[test]
    fn not_ours_is_explained_not_remedied() {
        let mut f = facts(Status::Analysing);
        f.responsibility = Some(Responsibility::CustomerUse);
        assert!(next(&f, Action::Propose, true).is_err());
        assert_eq!(
            next(&f, Action::Explain, true).map(|m| m.to),
            Ok(Status::NotOurs)
        );
        f.status = Status::NotOurs;
        assert_eq!(
            next(&f, Action::Respond, true).map(|m| m.to),
            Ok(Status::ReturnVisit)
        );
        assert_eq!(
            next(&f, Action::Respond, false).map(|m| m.to),
            Ok(Status::Analysing)
        );
    }

    #[test]
    fn a_required_capa_blocks_completion() {
        let mut f = facts(Status::Implementing);
        f.capa_required = true;
        assert_eq!(
            next(&f, Action::Complete, true),
            Err(DomainError::InvalidTransition("capa_required"))
        );
        f.capa_opened = true;
        assert_eq!(
            next(&f, Action::Complete, true).map(|m| m.to),
            Ok(Status::ReturnVisit)
        );
    }

    #[test]
    fn unsatisfied_visit_reopens() {
        let f = facts(Status::ReturnVisit);
        assert_eq!(
            next(&f, Action::Visit, false).map(|m| m.to),
            Ok(Status::Reopened)
        );
        assert_eq!(
            next(&f, Action::Visit, true).map(|m| m.to),
            Ok(Status::Closed)
        );
        assert!(next(&facts(Status::Closed), Action::Progress, true).is_err());
    }

    /// A small model of a complaint that applies moves the way the service does.
    #[derive(Debug, Clone)]
    struct Model {
        f: Facts,
        visited: Vec<Status>,
    }

    #[derive(Debug, Clone)]
    enum Step {
        Act(Action, bool),
        SetResponsibility(Option<Responsibility>),
        Decide(bool),
        OpenCapa,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..Action::ALL.len(), any::<bool>()).prop_map(|(i, v)| Step::Act(Action::ALL[i], v)),
            (0..=Responsibility::ALL.len())
                .prop_map(|i| Step::SetResponsibility(Responsibility::ALL.get(i).copied())),
            any::<bool>().prop_map(Step::Decide),
            Just(Step::OpenCapa),
        ]
    }

    impl Model {
        fn apply(&mut self, s: &Step) {
            match s {
                Step::Act(a, v) => {
                    if let Ok(m) = next(&self.f, *a, *v) {
                        match a {
                            Action::Pause => self.f.paused = true,
                            Action::Resume => self.f.paused = false,
                            Action::Confirm => self.f.confirmed = true,
                            Action::Propose => {
                                self.f.approvals = if self.f.minor {
                                    Approvals::None
                                } else {
                                    Approvals::Pending
                                }
                            }
                            _ => {}
                        }
                        self.f.status = m.to;
                        self.visited.push(m.to);
                    }
                }
                // Analysis may only set responsibility while analysing, as the service does.
                Step::SetResponsibility(r) => {
                    if matches!(self.f.status, Status::Analysing) {
                        self.f.responsibility = *r;
                        if *r == Some(Responsibility::Ours) {
                            self.f.capa_required = true;
                        }
                    }
                }
                Step::Decide(ok) => {
                    if self.f.status == Status::RemedyProposed
                        && self.f.approvals == Approvals::Pending
                    {
                        self.f.approvals = if *ok {
                            Approvals::AllApproved
                        } else {
                            Approvals::Rejected
                        };
                        self.f.status = after_decision(self.f.status, self.f.approvals);
                        self.visited.push(self.f.status);
                    }
                }
                Step::OpenCapa => self.f.capa_opened = true,
            }
        }
    }

    proptest! {
        #[test]
        fn no_sequence_reaches_an_invalid_state(minor in any::<bool>(), steps in prop::collection::vec(step(), 0..60)) {
            let mut m = Model { f: Facts { minor, ..facts(Status::Received) }, visited: vec![] };
            m.f.confirmed = false;
            for s in &steps {
                let before = m.f;
                m.apply(s);
                // Terminal states are final.
                if before.status.terminal() {
                    prop_assert_eq!(m.f.status, before.status);
                }
            }
            for s in &m.visited {
                // Nothing past reception without confirmation.
                if *s != Status::Received && *s != Status::Withdrawn {
                    prop_assert!(m.f.confirmed, "reached {:?} unconfirmed", s);
                }
            }
            if m.f.status == Status::Closed {
                prop_assert!(m.f.confirmed);
                // Our quality problem: closing needed the CAPA.
                if m.f.capa_required && m.visited.contains(&Status::ReturnVisit) && m.f.responsibility == Some(Responsibility::Ours) {
                    prop_assert!(m.f.capa_opened);
                }
            }
            if m.visited.contains(&Status::RemedyAgreed) && !minor {
                prop_assert!(m.visited.contains(&Status::RemedyApproved));
            }
            if m.visited.contains(&Status::NotOurs) {
                prop_assert!(m.visited.contains(&Status::Analysing));
            }
        }
    }
}
