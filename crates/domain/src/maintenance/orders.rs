//! The service-order lifecycle (服务单, DOMAIN.md §3 and §5): created → scheduled (the
//! appointment is agreed with the customer) → dispatched (an engineer is assigned) → on site →
//! completed (a maintenance order only once every required checklist item is answered) →
//! accepted by the customer (name, time, optional drawn signature, rating) → closed; cancelled
//! with a reason from any open state. `next` is the only place that decides whether a move is
//! allowed; a refusal names its reason as an i18n key under `transition.`.

use crate::complaints::vocabulary;
use crate::{DomainError, FieldErrors, text};

vocabulary!(
    /// The type of a service order.
    Kind {
        Repair = "repair",
        Maintenance = "maintenance",
        Installation = "installation",
        Delivery = "delivery",
        ReturnExchange = "return_exchange",
        TakeBack = "take_back",
        TechSupport = "tech_support",
    }
);

vocabulary!(
    /// Where a service order stands.
    Status {
        Created = "created",
        /// The appointment is agreed with the customer.
        Scheduled = "scheduled",
        /// An engineer is assigned.
        Dispatched = "dispatched",
        OnSite = "on_site",
        Completed = "completed",
        /// The customer signed it off.
        Accepted = "accepted",
        Closed = "closed",
        Cancelled = "cancelled",
    }
);

impl Status {
    /// Still to be done: created, scheduled, dispatched or on site.
    pub fn open(self) -> bool {
        matches!(
            self,
            Status::Created | Status::Scheduled | Status::Dispatched | Status::OnSite
        )
    }
    /// The work is done: completed, accepted or closed.
    pub fn done(self) -> bool {
        matches!(self, Status::Completed | Status::Accepted | Status::Closed)
    }
    /// Nothing more can happen.
    pub fn terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Cancelled)
    }
    /// The stored names of the open statuses.
    pub fn open_names() -> Vec<&'static str> {
        Status::ALL
            .iter()
            .filter(|s| s.open())
            .map(|s| s.as_str())
            .collect()
    }
}

vocabulary!(
    /// A move a user asks for.
    Action {
        /// Agree (or change) the appointment.
        Schedule = "schedule",
        /// Assign (or reassign) the engineer.
        Dispatch = "dispatch",
        /// The engineer is on site.
        Arrive = "arrive",
        Complete = "complete",
        /// The customer's sign-off.
        Accept = "accept",
        Close = "close",
        Cancel = "cancel",
    }
);

/// What the rules need to know about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub status: Status,
    /// Required checklist items still unanswered.
    pub checklist_missing: usize,
}

fn refuse(code: &'static str) -> Result<Status, DomainError> {
    Err(DomainError::InvalidTransition(code))
}

/// Decides a move: the status after it, or the reason it is refused.
pub fn next(f: &Facts, action: Action) -> Result<Status, DomainError> {
    use Status::*;
    let s = f.status;
    if s.terminal() {
        return refuse("so_finished");
    }
    let done = s.done();
    match action {
        Action::Schedule | Action::Dispatch if done => refuse("so_already_completed"),
        Action::Schedule | Action::Dispatch if s == OnSite => refuse("so_already_on_site"),
        // A new appointment never takes an assigned order back.
        Action::Schedule if s == Dispatched => Ok(Dispatched),
        Action::Schedule => Ok(Scheduled),
        Action::Dispatch => Ok(Dispatched),
        Action::Arrive => match s {
            Dispatched => Ok(OnSite),
            OnSite => refuse("so_already_on_site"),
            Created | Scheduled => refuse("so_not_dispatched"),
            _ => refuse("so_already_completed"),
        },
        Action::Complete => match s {
            OnSite if f.checklist_missing > 0 => refuse("so_checklist_incomplete"),
            OnSite => Ok(Completed),
            Created | Scheduled | Dispatched => refuse("so_not_on_site"),
            _ => refuse("so_already_completed"),
        },
        Action::Accept => match s {
            Completed => Ok(Accepted),
            Accepted => refuse("so_already_accepted"),
            _ => refuse("so_not_completed"),
        },
        Action::Close => match s {
            Accepted => Ok(Closed),
            Completed => refuse("so_not_accepted"),
            _ => refuse("so_not_completed"),
        },
        Action::Cancel if done => refuse("so_already_completed"),
        Action::Cancel => Ok(Cancelled),
    }
}

/// The moves offered in the UI for an order in this state (each still checked by `next`).
/// Completion is offered on site even with items missing: the refusal names them.
pub fn offered(f: &Facts) -> Vec<Action> {
    let relaxed = Facts {
        checklist_missing: 0,
        ..*f
    };
    Action::ALL
        .iter()
        .copied()
        .filter(|a| next(&relaxed, *a).is_ok())
        .collect()
}

/// Days before a repair's completion in which another completed repair of the same unit
/// makes it a repeat, not a first-time fix.
pub const FIRST_TIME_FIX_DAYS: i64 = 30;

/// First-time fix (一次修复), set when a repair order is completed: true when no other
/// repair order for the same unit was completed in the [`FIRST_TIME_FIX_DAYS`] days before
/// this one's completion (the unit did not need a repair again so soon), false otherwise.
/// Orders of other kinds, and repairs of no known unit, have no value.
pub fn first_time_fix(kind: Kind, has_unit: bool, earlier_repairs_in_window: i64) -> Option<bool> {
    (kind == Kind::Repair && has_unit).then_some(earlier_repairs_in_window == 0)
}

/// The appointment agreed with the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appointment {
    pub start: i64,
    pub end: i64,
}

impl Appointment {
    /// Both times are needed; the end comes after the start.
    pub fn parse(
        mut errs: FieldErrors,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Appointment, DomainError> {
        if start.is_none() {
            errs.add("scheduled_start", "required", None);
        }
        if end.is_none() {
            errs.add("scheduled_end", "required", None);
        }
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            errs.add("scheduled_end", "time_order", None);
        }
        errs.into_result(Appointment {
            start: start.unwrap_or(0),
            end: end.unwrap_or(0),
        })
    }
}

/// Largest signature image accepted, as a data URL (a small canvas drawing).
pub const SIGNATURE_MAX: usize = 400_000;
const PNG_DATA_URL: &str = "data:image/png;base64,";
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The PNG bytes of a `data:image/png;base64,…` URL; `None` for anything else.
pub fn signature_png(data_url: &str) -> Option<Vec<u8>> {
    let b64 = data_url.strip_prefix(PNG_DATA_URL)?;
    let bytes = base64_decode(b64)?;
    bytes.starts_with(PNG_MAGIC).then_some(bytes)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The customer's sign-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    pub accepted_by: String,
    pub accepted_at: i64,
    /// A PNG data URL drawn on the phone, when there is one.
    pub signature: Option<String>,
    /// 1 to 5.
    pub rating: Option<i64>,
}

impl Acceptance {
    /// The customer's name is required; the time defaults to `now` and cannot be later; a
    /// signature must be a PNG data URL; a rating is 1 to 5.
    pub fn parse(
        mut errs: FieldErrors,
        accepted_by: &str,
        accepted_at: Option<i64>,
        signature: Option<&str>,
        rating: Option<i64>,
        now: i64,
    ) -> Result<Acceptance, DomainError> {
        let accepted_by = text::required(&mut errs, "accepted_by", accepted_by, 60);
        let at = accepted_at.unwrap_or(now);
        if at > now + 300 {
            errs.add("accepted_at", "in_future", None);
        }
        let signature = signature.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = signature
            && (s.len() > SIGNATURE_MAX || signature_png(s).is_none())
        {
            errs.add("signature", "so_signature", None);
        }
        if let Some(r) = rating
            && !(1..=5).contains(&r)
        {
            errs.add("rating", "so_rating", None);
        }
        errs.into_result(Acceptance {
            accepted_by,
            accepted_at: at,
            signature: signature.map(String::from),
            rating,
        })
    }
}

/// Longest free text of an order (symptom, diagnosis, cause, actions).
pub const TEXT_MAX: usize = 4000;
/// Most labour minutes on one order (a week of days and nights).
pub const LABOR_MAX: i64 = 10_080;

/// The work fields an engineer fills in on site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Work {
    pub symptom: Option<String>,
    pub diagnosis: Option<String>,
    pub cause: Option<String>,
    pub actions: Option<String>,
    pub labor_minutes: Option<i64>,
    /// Service fee in fen.
    pub fee_fen: i64,
}

/// The work fields as typed (the fee already parsed from yuan by the caller).
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkRaw<'a> {
    pub symptom: Option<&'a str>,
    pub diagnosis: Option<&'a str>,
    pub cause: Option<&'a str>,
    pub actions: Option<&'a str>,
    pub labor_minutes: Option<&'a str>,
    pub fee_fen: Option<i64>,
}

impl Work {
    /// Texts are trimmed and capped; minutes are a whole number from 0 to [`LABOR_MAX`]; a fee
    /// is not negative.
    pub fn parse(mut errs: FieldErrors, raw: WorkRaw<'_>) -> Result<Work, DomainError> {
        let t =
            |errs: &mut FieldErrors, f: &str, v: Option<&str>| text::optional(errs, f, v, TEXT_MAX);
        let symptom = t(&mut errs, "symptom", raw.symptom);
        let diagnosis = t(&mut errs, "diagnosis", raw.diagnosis);
        let cause = t(&mut errs, "cause", raw.cause);
        let actions = t(&mut errs, "actions", raw.actions);
        let labor_minutes = match raw.labor_minutes.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (0..=LABOR_MAX).contains(&n) => Some(n),
                _ => {
                    errs.add("labor_minutes", "so_minutes", Some(LABOR_MAX.to_string()));
                    None
                }
            },
        };
        let fee_fen = raw.fee_fen.unwrap_or(0);
        if fee_fen < 0 {
            errs.add("fee", "yuan", None);
        }
        errs.into_result(Work {
            symptom,
            diagnosis,
            cause,
            actions,
            labor_minutes,
            fee_fen,
        })
    }
}

/// A new service order as typed in (the unit and customer are resolved by the service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDraft {
    pub kind: Kind,
    pub equipment_id: Option<i64>,
    pub serial: Option<String>,
    pub customer_id: Option<i64>,
    pub site: Option<String>,
    pub template_id: Option<i64>,
    /// YYYY-MM-DD.
    pub due_date: Option<String>,
    pub symptom: Option<String>,
    pub reported_at: Option<i64>,
}

/// A new order's fields as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderRaw<'a> {
    pub kind: Option<&'a str>,
    pub equipment_id: Option<i64>,
    pub serial: Option<&'a str>,
    pub customer_id: Option<i64>,
    pub site: Option<&'a str>,
    pub template_id: Option<i64>,
    pub due_date: Option<&'a str>,
    pub symptom: Option<&'a str>,
    pub reported_at: Option<i64>,
}

impl OrderDraft {
    /// A kind is required; a unit (by id or serial) or a customer; a maintenance order needs
    /// its checklist level; a repair its symptom; a due date is a real date.
    pub fn parse(mut errs: FieldErrors, raw: OrderRaw<'_>) -> Result<OrderDraft, DomainError> {
        let kind = match raw.kind.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                errs.add("kind", "required", None);
                Kind::Repair
            }
            Some(k) => Kind::parse(k).unwrap_or_else(|| {
                errs.add("kind", "choice", None);
                Kind::Repair
            }),
        };
        let serial = text::optional(&mut errs, "serial", raw.serial, 100);
        if raw.equipment_id.is_none() && serial.is_none() && raw.customer_id.is_none() {
            errs.add("serial", "so_unit_or_customer", None);
        }
        let site = text::optional(&mut errs, "site", raw.site, 200);
        let due_date = text::optional(&mut errs, "due_date", raw.due_date, 10);
        if let Some(d) = &due_date
            && !crate::org::valid_date(d)
        {
            errs.add("due_date", "date", None);
        }
        let symptom = text::optional(&mut errs, "symptom", raw.symptom, TEXT_MAX);
        if kind == Kind::Repair && symptom.is_none() {
            errs.add("symptom", "required", None);
        }
        if kind == Kind::Maintenance && raw.template_id.is_none() {
            errs.add("template_id", "required", None);
        }
        errs.into_result(OrderDraft {
            kind,
            equipment_id: raw.equipment_id,
            serial,
            customer_id: raw.customer_id,
            site,
            template_id: raw.template_id,
            due_date,
            symptom,
            reported_at: raw.reported_at,
        })
    }
}

/// A cancellation reason: required, capped.
pub fn cancel_reason(raw: Option<&str>) -> Result<String, DomainError> {
    let mut errs = FieldErrors::default();
    let r = text::required(&mut errs, "reason", raw.unwrap_or(""), 500);
    errs.into_result(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(status: Status) -> Facts {
        Facts {
            status,
            checklist_missing: 0,
        }
    }

    #[test]
    fn the_happy_path() {
        let mut s = Status::Created;
        for a in [
            Action::Schedule,
            Action::Dispatch,
            Action::Arrive,
            Action::Complete,
            Action::Accept,
            Action::Close,
        ] {
            s = next(&f(s), a).unwrap();
        }
        assert_eq!(s, Status::Closed);
    }

    #[test]
    fn refusals_name_their_reason() {
        let r = |s, a| next(&f(s), a).unwrap_err();
        assert_eq!(
            r(Status::Scheduled, Action::Arrive),
            DomainError::InvalidTransition("so_not_dispatched")
        );
        assert_eq!(
            r(Status::Dispatched, Action::Complete),
            DomainError::InvalidTransition("so_not_on_site")
        );
        assert_eq!(
            r(Status::OnSite, Action::Accept),
            DomainError::InvalidTransition("so_not_completed")
        );
        assert_eq!(
            r(Status::Completed, Action::Close),
            DomainError::InvalidTransition("so_not_accepted")
        );
        assert_eq!(
            r(Status::Completed, Action::Cancel),
            DomainError::InvalidTransition("so_already_completed")
        );
        assert_eq!(
            r(Status::Cancelled, Action::Schedule),
            DomainError::InvalidTransition("so_finished")
        );
        let missing = Facts {
            status: Status::OnSite,
            checklist_missing: 2,
        };
        assert_eq!(
            next(&missing, Action::Complete),
            Err(DomainError::InvalidTransition("so_checklist_incomplete"))
        );
        assert!(offered(&missing).contains(&Action::Complete));
        assert_eq!(
            next(&f(Status::Dispatched), Action::Schedule),
            Ok(Status::Dispatched)
        );
    }

    #[test]
    fn first_time_fix_only_for_repairs_of_a_unit() {
        assert_eq!(first_time_fix(Kind::Repair, true, 0), Some(true));
        assert_eq!(first_time_fix(Kind::Repair, true, 1), Some(false));
        assert_eq!(first_time_fix(Kind::Repair, false, 0), None);
        assert_eq!(first_time_fix(Kind::Maintenance, true, 0), None);
    }

    #[test]
    fn acceptance_checks_signature_and_rating() {
        // 1×1 transparent PNG.
        let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
        let a = Acceptance::parse(
            FieldErrors::default(),
            "张三",
            None,
            Some(png),
            Some(5),
            100,
        )
        .unwrap();
        assert_eq!(a.accepted_at, 100);
        assert!(signature_png(png).is_some());
        let Err(DomainError::Invalid(e)) = Acceptance::parse(
            FieldErrors::default(),
            " ",
            Some(10_000),
            Some("data:text/html;base64,PGI+"),
            Some(6),
            100,
        ) else {
            panic!("must be refused");
        };
        let codes: Vec<&str> = e.0.iter().map(|x| x.code).collect();
        assert_eq!(
            codes,
            vec!["required", "in_future", "so_signature", "so_rating"]
        );
    }

    #[test]
    fn drafts_need_what_their_kind_needs() {
        let Err(DomainError::Invalid(e)) = OrderDraft::parse(
            FieldErrors::default(),
            OrderRaw {
                kind: Some("maintenance"),
                due_date: Some("2026-02-30"),
                ..Default::default()
            },
        ) else {
            panic!("must be refused");
        };
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, vec!["serial", "due_date", "template_id"]);
        let d = OrderDraft::parse(
            FieldErrors::default(),
            OrderRaw {
                kind: Some("repair"),
                equipment_id: Some(3),
                symptom: Some(" 电机异响 "),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(d.symptom.as_deref(), Some("电机异响"));
        assert!(
            Work::parse(
                FieldErrors::default(),
                WorkRaw {
                    labor_minutes: Some("-3"),
                    ..Default::default()
                }
            )
            .is_err()
        );
    }

    /// A record as the service keeps it: the status and the times each move stamps.
    #[derive(Debug, Clone, Default)]
    struct Record {
        status: Option<Status>,
        scheduled: bool,
        engineer: bool,
        arrived: bool,
        completed: bool,
        accepted: bool,
        closed: bool,
        cancelled: bool,
    }

    fn apply(r: &mut Record, a: Action, missing: usize) -> bool {
        let status = r.status.unwrap_or(Status::Created);
        let Ok(to) = next(
            &Facts {
                status,
                checklist_missing: missing,
            },
            a,
        ) else {
            return false;
        };
        match a {
            Action::Schedule => r.scheduled = true,
            Action::Dispatch => r.engineer = true,
            Action::Arrive => {
                assert!(r.engineer, "on site without an engineer");
                r.arrived = true;
            }
            Action::Complete => {
                assert_eq!(missing, 0, "completed with required items missing");
                r.completed = true;
            }
            Action::Accept => r.accepted = true,
            Action::Close => r.closed = true,
            Action::Cancel => r.cancelled = true,
        }
        r.status = Some(to);
        true
    }

    fn action() -> impl Strategy<Value = Action> {
        prop::sample::select(Action::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn no_sequence_reaches_an_invalid_state(
            moves in prop::collection::vec((action(), 0usize..3), 0..40)
        ) {
            let mut r = Record::default();
            for (a, missing) in moves {
                let before = r.clone();
                let moved = apply(&mut r, a, missing);
                let s = r.status.unwrap_or(Status::Created);
                // closed ⇒ accepted ⇒ completed ⇒ arrived ⇒ engineer assigned
                prop_assert!(!r.closed || r.accepted);
                prop_assert!(!r.accepted || r.completed);
                prop_assert!(!r.completed || r.arrived);
                prop_assert!(!r.arrived || r.engineer);
                // a cancelled order was never completed; terminal states never move again
                prop_assert!(!r.cancelled || !r.completed);
                if before.status.is_some_and(Status::terminal) {
                    prop_assert!(!moved);
                }
                // the status agrees with the stamps
                match s {
                    Status::Closed => prop_assert!(r.closed),
                    Status::Accepted => prop_assert!(r.accepted && !r.closed),
                    Status::Completed => prop_assert!(r.completed && !r.accepted),
                    Status::OnSite => prop_assert!(r.arrived && !r.completed),
                    Status::Dispatched => prop_assert!(r.engineer && !r.arrived),
                    Status::Scheduled => prop_assert!(r.scheduled && !r.engineer),
                    Status::Created => prop_assert!(!r.scheduled && !r.engineer),
                    Status::Cancelled => prop_assert!(r.cancelled && !r.completed),
                }
            }
        }
    }
}
