//! Corrective and preventive action (CAPA / 8D, DOMAIN.md §4): the statuses open →
//! verifying → effective → closed, the rules of each move, the effectiveness check (no
//! recurrence for N days or N units shipped) and the inputs of the 8D form and of actions.
//! A failed check sends the CAPA back to open; refusals name their reason as an i18n key
//! under `transition.`, missing fields as field errors.

use super::vocabulary;
use crate::org::valid_date;
use crate::text::{optional, required};
use crate::{DomainError, FieldErrors};

vocabulary!(
    /// Where a corrective action stands.
    CapaStatus {
        /// Being worked on: 8D sections and actions.
        Open = "open",
        /// Waiting for the effectiveness check (no recurrence for N days or N units).
        Verifying = "verifying",
        /// The check passed; may be closed once D8 is written.
        Effective = "effective",
        Closed = "closed",
    }
);

vocabulary!(
    /// The discipline an action belongs to.
    Discipline {
        /// Containment (D3).
        D3 = "d3",
        /// Permanent corrective action (D5).
        D5 = "d5",
        /// Prevention of recurrence (D7).
        D7 = "d7",
    }
);

impl Discipline {
    /// Parses `d3` / `D3` alike.
    pub fn parse_any(s: &str) -> Option<Discipline> {
        Discipline::parse(&s.trim().to_ascii_lowercase())
    }
}

/// The result of an effectiveness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Neither enough days nor enough units yet, and no recurrence.
    Pending,
    Passed,
    /// The problem came back.
    Failed,
}

impl Effect {
    /// The stable name (stored in `effect_result` for passed and failed).
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Pending => "pending",
            Effect::Passed => "passed",
            Effect::Failed => "failed",
        }
    }
}

/// Seconds in a calendar day: the check counts calendar days, not working days, because a
/// recurrence can arrive on any day.
const DAY: i64 = 86_400;

/// The effectiveness check: any recurrence since the start fails it; otherwise it passes
/// once `days` (> 0) have elapsed or `units` (> 0) were shipped since the start.
pub fn effectiveness(
    started_at: i64,
    now: i64,
    days: i64,
    units: i64,
    units_shipped_since: i64,
    recurrences_since: i64,
) -> Effect {
    let days_passed = days > 0 && now.saturating_sub(started_at) >= days.saturating_mul(DAY);
    let units_passed = units > 0 && units_shipped_since >= units;
    if recurrences_since > 0 {
        Effect::Failed
    } else if days_passed || units_passed {
        Effect::Passed
    } else {
        Effect::Pending
    }
}

/// Whole calendar days since the check started (0 before it).
pub fn days_elapsed(started_at: i64, now: i64) -> i64 {
    (now.saturating_sub(started_at) / DAY).max(0)
}

/// What the rules need to know about a CAPA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts<'a> {
    pub status: CapaStatus,
    pub d2_problem: Option<&'a str>,
    pub d4_occurrence: Option<&'a str>,
    pub d5_action: Option<&'a str>,
    pub d8_closure: Option<&'a str>,
    /// Actions not done yet.
    pub open_actions: i64,
}

fn filled(v: Option<&str>) -> bool {
    v.is_some_and(|s| !s.trim().is_empty())
}

fn refuse<T>(code: &'static str) -> Result<T, DomainError> {
    Err(DomainError::InvalidTransition(code))
}

/// Refuses changes to a closed CAPA (8D edits, actions).
pub fn editable(status: CapaStatus) -> Result<(), DomainError> {
    match status {
        CapaStatus::Closed => refuse("capa_closed"),
        _ => Ok(()),
    }
}

/// Starts the effectiveness check: only from open, with D2 problem, D4 occurrence root
/// cause and D5 permanent action written and every action done.
pub fn start_check(f: &Facts<'_>) -> Result<CapaStatus, DomainError> {
    match f.status {
        CapaStatus::Open => {}
        CapaStatus::Closed => return refuse("capa_closed"),
        _ => return refuse("capa_not_open"),
    }
    let mut errs = FieldErrors::default();
    for (field, v) in [
        ("d2_problem", f.d2_problem),
        ("d4_occurrence", f.d4_occurrence),
        ("d5_action", f.d5_action),
    ] {
        if !filled(v) {
            errs.add(field, "capa_required_to_verify", None);
        }
    }
    if !errs.is_empty() {
        return Err(DomainError::Invalid(errs));
    }
    if f.open_actions > 0 {
        return refuse("capa_actions_open");
    }
    Ok(CapaStatus::Verifying)
}

/// The status after a check: passed → effective, failed → open again, pending → unchanged.
pub fn after_check(status: CapaStatus, e: Effect) -> Result<CapaStatus, DomainError> {
    if status != CapaStatus::Verifying {
        return refuse("capa_not_verifying");
    }
    Ok(match e {
        Effect::Pending => CapaStatus::Verifying,
        Effect::Passed => CapaStatus::Effective,
        Effect::Failed => CapaStatus::Open,
    })
}

/// Closes an effective CAPA whose D8 closure is written.
pub fn close(f: &Facts<'_>) -> Result<CapaStatus, DomainError> {
    match f.status {
        CapaStatus::Effective => {}
        CapaStatus::Closed => return refuse("capa_closed"),
        _ => return refuse("capa_not_effective"),
    }
    if !filled(f.d8_closure) {
        return Err(DomainError::Invalid(FieldErrors::single(
            "d8_closure",
            "capa_required_to_close",
        )));
    }
    Ok(CapaStatus::Closed)
}

/// Moves the UI offers in a status (each still checked on submit).
pub fn offered(status: CapaStatus) -> Vec<&'static str> {
    match status {
        CapaStatus::Open => vec!["start_check"],
        CapaStatus::Verifying => vec!["evaluate"],
        CapaStatus::Effective => vec!["close"],
        CapaStatus::Closed => vec![],
    }
}

/// Longest text of one 8D section.
const MAX_TEXT: usize = 5000;
/// Longest check window: ten years.
const MAX_DAYS: i64 = 3650;
/// Largest unit count.
const MAX_UNITS: i64 = 1_000_000_000;

fn number(errs: &mut FieldErrors, field: &str, raw: Option<&str>, max: i64) -> Option<i64> {
    let v = raw.map(str::trim).filter(|v| !v.is_empty())?;
    match v.parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) => Some(n),
        _ => {
            errs.add(field, "capa_count", Some(max.to_string()));
            None
        }
    }
}

fn user_id(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<i64> {
    let v = raw.map(str::trim).filter(|v| !v.is_empty())?;
    match v.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errs.add(field, "choice", None);
            None
        }
    }
}

fn date(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<String> {
    let v = optional(errs, field, raw, 10)?;
    if !valid_date(&v) {
        errs.add(field, "date", None);
    }
    Some(v)
}

/// The 8D form as typed.
#[derive(Debug, Clone, Default)]
pub struct EightDRaw<'a> {
    pub title: &'a str,
    /// A user id; the service checks membership.
    pub owner_id: Option<&'a str>,
    pub due_date: Option<&'a str>,
    pub d1_team: Option<&'a str>,
    pub d2_problem: Option<&'a str>,
    pub d3_containment: Option<&'a str>,
    pub d4_occurrence: Option<&'a str>,
    pub d4_escape: Option<&'a str>,
    pub d5_action: Option<&'a str>,
    pub d6_validation: Option<&'a str>,
    pub d7_prevention: Option<&'a str>,
    pub d8_closure: Option<&'a str>,
    /// Empty keeps the current value.
    pub effect_days: Option<&'a str>,
    /// Empty keeps the current value.
    pub effect_units: Option<&'a str>,
}

/// A valid 8D form.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EightD {
    pub title: String,
    pub owner_id: Option<i64>,
    pub due_date: Option<String>,
    pub d1_team: Option<String>,
    pub d2_problem: Option<String>,
    pub d3_containment: Option<String>,
    pub d4_occurrence: Option<String>,
    pub d4_escape: Option<String>,
    pub d5_action: Option<String>,
    pub d6_validation: Option<String>,
    pub d7_prevention: Option<String>,
    pub d8_closure: Option<String>,
    pub effect_days: i64,
    pub effect_units: i64,
}

impl EightD {
    /// Parses the form; `current` is the (days, units) criterion kept when left empty. At
    /// least one criterion must be set, or the check could never pass.
    pub fn parse(
        mut errs: FieldErrors,
        raw: EightDRaw<'_>,
        current: (i64, i64),
    ) -> Result<EightD, DomainError> {
        let title = required(&mut errs, "title", raw.title, 200);
        let owner_id = user_id(&mut errs, "owner_id", raw.owner_id);
        let due_date = date(&mut errs, "due_date", raw.due_date);
        let mut text = |field: &str, v: Option<&str>| optional(&mut errs, field, v, MAX_TEXT);
        let d1_team = text("d1_team", raw.d1_team);
        let d2_problem = text("d2_problem", raw.d2_problem);
        let d3_containment = text("d3_containment", raw.d3_containment);
        let d4_occurrence = text("d4_occurrence", raw.d4_occurrence);
        let d4_escape = text("d4_escape", raw.d4_escape);
        let d5_action = text("d5_action", raw.d5_action);
        let d6_validation = text("d6_validation", raw.d6_validation);
        let d7_prevention = text("d7_prevention", raw.d7_prevention);
        let d8_closure = text("d8_closure", raw.d8_closure);
        let days_typed = raw.effect_days.is_some_and(|v| !v.trim().is_empty());
        let units_typed = raw.effect_units.is_some_and(|v| !v.trim().is_empty());
        let effect_days = number(&mut errs, "effect_days", raw.effect_days, MAX_DAYS);
        let effect_units = number(&mut errs, "effect_units", raw.effect_units, MAX_UNITS);
        let d = EightD {
            title,
            owner_id,
            due_date,
            d1_team,
            d2_problem,
            d3_containment,
            d4_occurrence,
            d4_escape,
            d5_action,
            d6_validation,
            d7_prevention,
            d8_closure,
            effect_days: if days_typed {
                effect_days.unwrap_or(current.0)
            } else {
                current.0
            },
            effect_units: if units_typed {
                effect_units.unwrap_or(current.1)
            } else {
                current.1
            },
        };
        let typed_ok =
            (!days_typed || effect_days.is_some()) && (!units_typed || effect_units.is_some());
        if typed_ok && d.effect_days == 0 && d.effect_units == 0 {
            errs.add("effect_days", "capa_effect_criterion", None);
        }
        errs.into_result(d)
    }
}

/// An action as typed.
#[derive(Debug, Clone, Default)]
pub struct ActionRaw<'a> {
    pub discipline: Option<&'a str>,
    pub description: &'a str,
    /// A user id; the service checks membership.
    pub owner_id: Option<&'a str>,
    pub due_date: Option<&'a str>,
}

/// A valid action: every action has a discipline, an owner and a due date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActionDraft {
    pub discipline: Discipline,
    pub description: String,
    pub owner_id: i64,
    pub due_date: String,
}

impl ActionDraft {
    /// Parses an action: discipline D3, D5 or D7, description, owner and due date required.
    pub fn parse(mut errs: FieldErrors, raw: ActionRaw<'_>) -> Result<ActionDraft, DomainError> {
        let discipline = match raw.discipline.map(str::trim).filter(|v| !v.is_empty()) {
            None => {
                errs.add("discipline", "required", None);
                None
            }
            Some(v) => {
                let d = Discipline::parse_any(v);
                if d.is_none() {
                    errs.add("discipline", "choice", None);
                }
                d
            }
        };
        let description = required(&mut errs, "description", raw.description, 2000);
        let owner_id = user_id(&mut errs, "owner_id", raw.owner_id);
        if owner_id.is_none() && errs.get("owner_id").is_none() {
            errs.add("owner_id", "required", None);
        }
        let due_date = date(&mut errs, "due_date", raw.due_date);
        if due_date.is_none() {
            errs.add("due_date", "required", None);
        }
        errs.into_result(ActionDraft {
            discipline: discipline.unwrap_or(Discipline::D5),
            description,
            owner_id: owner_id.unwrap_or(0),
            due_date: due_date.unwrap_or_default(),
        })
    }
}

/// The result written when an action is finished (optional, trimmed).
pub fn action_result(errs: &mut FieldErrors, raw: Option<&str>) -> Option<String> {
    optional(errs, "result", raw, 2000)
}

/// True when an open action is past its due date on `today` (both `YYYY-MM-DD`, which
/// compare as text in calendar order).
pub fn overdue(done: bool, due_date: &str, today: &str) -> bool {
    !done && due_date < today
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(e: &DomainError) -> Vec<(String, &'static str)> {
        match e {
            DomainError::Invalid(f) => f.0.iter().map(|x| (x.field.clone(), x.code)).collect(),
            _ => vec![],
        }
    }

    fn facts(status: CapaStatus) -> Facts<'static> {
        Facts {
            status,
            d2_problem: Some("problem"),
            d4_occurrence: Some("cause"),
            d5_action: Some("action"),
            d8_closure: None,
            open_actions: 0,
        }
    }

    #[test]
    fn vocabularies_round_trip() {
        for s in CapaStatus::ALL {
            assert_eq!(CapaStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Discipline::parse_any(" D5 "), Some(Discipline::D5));
        assert_eq!(Discipline::parse_any("d4"), None);
    }

    #[test]
    fn effectiveness_rules() {
        let d = 86_400;
        // a recurrence fails it whatever else holds
        assert_eq!(effectiveness(0, 1000 * d, 90, 10, 1_000, 1), Effect::Failed);
        assert_eq!(effectiveness(0, 89 * d, 90, 0, 0, 0), Effect::Pending);
        assert_eq!(effectiveness(0, 90 * d, 90, 0, 0, 0), Effect::Passed);
        assert_eq!(effectiveness(0, d, 0, 500, 499, 0), Effect::Pending);
        assert_eq!(effectiveness(0, d, 0, 500, 500, 0), Effect::Passed);
        // either criterion suffices
        assert_eq!(effectiveness(0, d, 90, 500, 600, 0), Effect::Passed);
        // no criterion: never passes on its own
        assert_eq!(
            effectiveness(0, 10_000 * d, 0, 0, 10_000, 0),
            Effect::Pending
        );
        assert_eq!(days_elapsed(0, 3 * d + 5), 3);
        assert_eq!(days_elapsed(10, 0), 0);
    }

    #[test]
    fn start_check_needs_d2_d4_d5_and_no_open_actions() {
        let mut f = facts(CapaStatus::Open);
        f.d2_problem = None;
        f.d4_occurrence = Some("  ");
        let e = start_check(&f).unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                ("d2_problem".to_string(), "capa_required_to_verify"),
                ("d4_occurrence".to_string(), "capa_required_to_verify"),
            ]
        );
        let mut f = facts(CapaStatus::Open);
        f.open_actions = 2;
        assert_eq!(
            start_check(&f),
            Err(DomainError::InvalidTransition("capa_actions_open"))
        );
        f.open_actions = 0;
        assert_eq!(start_check(&f), Ok(CapaStatus::Verifying));
        assert_eq!(
            start_check(&facts(CapaStatus::Verifying)),
            Err(DomainError::InvalidTransition("capa_not_open"))
        );
        assert_eq!(
            start_check(&facts(CapaStatus::Closed)),
            Err(DomainError::InvalidTransition("capa_closed"))
        );
    }

    #[test]
    fn checks_move_the_status() {
        let v = CapaStatus::Verifying;
        assert_eq!(after_check(v, Effect::Pending), Ok(v));
        assert_eq!(after_check(v, Effect::Passed), Ok(CapaStatus::Effective));
        assert_eq!(after_check(v, Effect::Failed), Ok(CapaStatus::Open));
        assert_eq!(
            after_check(CapaStatus::Open, Effect::Passed),
            Err(DomainError::InvalidTransition("capa_not_verifying"))
        );
    }

    #[test]
    fn close_needs_effective_and_d8() {
        assert_eq!(
            close(&facts(CapaStatus::Verifying)),
            Err(DomainError::InvalidTransition("capa_not_effective"))
        );
        let e = close(&facts(CapaStatus::Effective)).unwrap_err();
        assert_eq!(
            fields(&e),
            vec![("d8_closure".to_string(), "capa_required_to_close")]
        );
        let mut f = facts(CapaStatus::Effective);
        f.d8_closure = Some("closed out");
        assert_eq!(close(&f), Ok(CapaStatus::Closed));
        f.status = CapaStatus::Closed;
        assert_eq!(
            close(&f),
            Err(DomainError::InvalidTransition("capa_closed"))
        );
        assert!(editable(CapaStatus::Closed).is_err());
        assert!(editable(CapaStatus::Verifying).is_ok());
    }

    #[test]
    fn eight_d_parses() {
        let d = EightD::parse(
            FieldErrors::default(),
            EightDRaw {
                title: " 密封圈漏油 ",
                owner_id: Some("7"),
                due_date: Some("2026-05-01"),
                d2_problem: Some(" 漏油 "),
                d5_action: Some(""),
                effect_units: Some("500"),
                ..Default::default()
            },
            (90, 0),
        )
        .unwrap();
        assert_eq!(d.title, "密封圈漏油");
        assert_eq!(d.owner_id, Some(7));
        assert_eq!(d.d2_problem.as_deref(), Some("漏油"));
        assert_eq!(d.d5_action, None);
        assert_eq!((d.effect_days, d.effect_units), (90, 500));
    }

    #[test]
    fn eight_d_checks_fields() {
        let e = EightD::parse(
            FieldErrors::default(),
            EightDRaw {
                title: "",
                owner_id: Some("x"),
                due_date: Some("2026-02-30"),
                effect_days: Some("-1"),
                ..Default::default()
            },
            (90, 0),
        )
        .unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                ("title".to_string(), "required"),
                ("owner_id".to_string(), "choice"),
                ("due_date".to_string(), "date"),
                ("effect_days".to_string(), "capa_count"),
            ]
        );
        let e = EightD::parse(
            FieldErrors::default(),
            EightDRaw {
                title: "t",
                effect_days: Some("0"),
                effect_units: Some("0"),
                ..Default::default()
            },
            (90, 0),
        )
        .unwrap_err();
        assert_eq!(
            fields(&e),
            vec![("effect_days".to_string(), "capa_effect_criterion")]
        );
    }

    #[test]
    fn action_requires_everything() {
        let e = ActionDraft::parse(FieldErrors::default(), ActionRaw::default()).unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                ("discipline".to_string(), "required"),
                ("description".to_string(), "required"),
                ("owner_id".to_string(), "required"),
                ("due_date".to_string(), "required"),
            ]
        );
        let e = ActionDraft::parse(
            FieldErrors::default(),
            ActionRaw {
                discipline: Some("D4"),
                description: "x",
                owner_id: Some("0"),
                due_date: Some("tomorrow"),
            },
        )
        .unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                ("discipline".to_string(), "choice"),
                ("owner_id".to_string(), "choice"),
                ("due_date".to_string(), "date"),
            ]
        );
        let a = ActionDraft::parse(
            FieldErrors::default(),
            ActionRaw {
                discipline: Some("D3"),
                description: " 隔离库存 ",
                owner_id: Some("3"),
                due_date: Some("2026-04-01"),
            },
        )
        .unwrap();
        assert_eq!(a.discipline, Discipline::D3);
        assert_eq!(a.description, "隔离库存");
        assert!(overdue(false, &a.due_date, "2026-04-02"));
        assert!(!overdue(false, &a.due_date, "2026-04-01"));
        assert!(!overdue(true, &a.due_date, "2027-01-01"));
    }

    /// A model CAPA that applies operations the way the service does.
    #[derive(Debug, Clone)]
    struct Model {
        status: CapaStatus,
        d2: bool,
        d4: bool,
        d5: bool,
        d8: bool,
        open_actions: i64,
        visited: Vec<CapaStatus>,
    }

    #[derive(Debug, Clone)]
    enum Op {
        Fill(u8, bool),
        AddAction,
        FinishAction,
        StartCheck,
        Check(Effect),
        Close,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..4, any::<bool>()).prop_map(|(f, v)| Op::Fill(f, v)),
            Just(Op::AddAction),
            Just(Op::FinishAction),
            Just(Op::StartCheck),
            prop_oneof![
                Just(Effect::Pending),
                Just(Effect::Passed),
                Just(Effect::Failed)
            ]
            .prop_map(Op::Check),
            Just(Op::Close),
        ]
    }

    fn text(b: bool) -> Option<&'static str> {
        b.then_some("text")
    }

    impl Model {
        fn facts(&self) -> Facts<'static> {
            Facts {
                status: self.status,
                d2_problem: text(self.d2),
                d4_occurrence: text(self.d4),
                d5_action: text(self.d5),
                d8_closure: text(self.d8),
                open_actions: self.open_actions,
            }
        }

        fn apply(&mut self, o: &Op) {
            let f = self.facts();
            let to = match o {
                Op::Fill(i, v) => {
                    if editable(self.status).is_ok() {
                        match i {
                            0 => self.d2 = *v,
                            1 => self.d4 = *v,
                            2 => self.d5 = *v,
                            _ => self.d8 = *v,
                        }
                    }
                    return;
                }
                Op::AddAction => {
                    if editable(self.status).is_ok() {
                        self.open_actions += 1;
                    }
                    return;
                }
                Op::FinishAction => {
                    if editable(self.status).is_ok() && self.open_actions > 0 {
                        self.open_actions -= 1;
                    }
                    return;
                }
                Op::StartCheck => start_check(&f),
                Op::Check(e) => after_check(self.status, *e),
                Op::Close => close(&f),
            };
            if let Ok(to) = to {
                if to != self.status {
                    // entering verifying needs the 8D core and no open action
                    if to == CapaStatus::Verifying {
                        assert!(self.d2 && self.d4 && self.d5 && self.open_actions == 0);
                    }
                    if to == CapaStatus::Closed {
                        assert!(self.d8);
                    }
                    self.visited.push(to);
                }
                self.status = to;
            }
        }
    }

    proptest! {
        #[test]
        fn no_sequence_closes_without_a_passed_check(ops in prop::collection::vec(op(), 0..80)) {
            let mut m = Model { status: CapaStatus::Open, d2: false, d4: false, d5: false, d8: false, open_actions: 0, visited: vec![] };
            for o in &ops {
                let before = m.status;
                m.apply(o);
                // closed is final
                if before == CapaStatus::Closed {
                    prop_assert_eq!(m.status, CapaStatus::Closed);
                }
                // every move follows the chain
                let ok = before == m.status
                    || matches!(
                    (before, m.status),
                    (CapaStatus::Open, CapaStatus::Verifying)
                        | (CapaStatus::Verifying, CapaStatus::Effective)
                        | (CapaStatus::Verifying, CapaStatus::Open)
                        | (CapaStatus::Effective, CapaStatus::Closed)
                );
                prop_assert!(ok, "{:?} -> {:?}", before, m.status);
            }
            if let Some(i) = m.visited.iter().position(|s| *s == CapaStatus::Closed) {
                prop_assert!(i > 0 && m.visited[i - 1] == CapaStatus::Effective);
            }
        }

        #[test]
        fn effectiveness_is_monotonic_and_recurrence_always_fails(
            start in 0i64..1_000_000_000,
            later in 0i64..400 * 86_400,
            extra in 0i64..400 * 86_400,
            days in 0i64..400,
            units in 0i64..10_000,
            shipped in 0i64..20_000,
            more in 0i64..5_000,
            rec in 0i64..3,
        ) {
            let e = effectiveness(start, start + later, days, units, shipped, rec);
            if rec > 0 {
                prop_assert_eq!(e, Effect::Failed);
            } else {
                prop_assert_ne!(e, Effect::Failed);
                // more time or more units never undo a pass
                if e == Effect::Passed {
                    prop_assert_eq!(effectiveness(start, start + later + extra, days, units, shipped + more, 0), Effect::Passed);
                }
                if days == 0 && units == 0 {
                    prop_assert_eq!(e, Effect::Pending);
                }
                if e == Effect::Passed {
                    prop_assert!((days > 0 && later >= days * 86_400) || (units > 0 && shipped >= units));
                }
            }
        }
    }
}
