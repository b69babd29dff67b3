//! Complaint transactions: registration with numbering, SLA clock and recurrence check;
//! every lifecycle move (decided by `domain::complaints::lifecycle::next`), with its event,
//! department tasks, approvals, audit row, timeline entry and search document, in one
//! transaction; approval decisions; department tasks. Staff see the complaints their
//! departments work on; every other role sees all, the auditor changes nothing.

use domain::auth::{Permission, Role};
use domain::complaints::approvals::{self as routing, Approver, Proposal, Rule};
use domain::complaints::draft::{Analysis, Registration, Remedy};
use domain::complaints::lifecycle::{self, Action, Approvals, Facts, Status};
use domain::complaints::{Class, RemedyType, Responsibility, format_number, is_minor};
use domain::{DomainError, FieldErrors};
use serde::Serialize;
use store::complaints::steps::{self, Approval, Event, Task};
use store::complaints::{self as repo, Complaint, ComplaintRow, Filter, NewComplaint, Scope, Val};
use store::{Conn, Page, PageReq, Tx};

use super::index;
use super::sla::{self, TargetView, Times};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::org::service::{Change, audit};

/// The search-index and timeline kind of a complaint.
pub const KIND: &str = "complaint";

/// What the signed-in user may see and do with complaints.
#[derive(Debug, Clone)]
pub struct Access {
    pub org: i64,
    pub user_id: i64,
    pub role: Role,
    pub departments: Vec<i64>,
    pub scope: Scope,
}

impl Access {
    /// Whether this user may decide an approval addressed to `role` or `department`.
    pub fn may_decide(&self, a: &Approval) -> bool {
        approver_of(a).is_some_and(|ap| routing::may_decide(ap, self.role, &self.departments))
    }
}

/// Who registers or moves a complaint: the signed-in user, or the system (no user account,
/// e.g. a low survey score's trigger).
#[derive(Debug, Clone)]
pub struct By {
    pub user_id: Option<i64>,
    pub actor: store::audit::Actor,
}

impl By {
    /// The signed-in user of a request.
    pub fn user(ctx: &Ctx) -> By {
        By {
            user_id: Some(ctx.user_id),
            actor: ctx.actor(),
        }
    }
}

fn approver_of(a: &Approval) -> Option<Approver> {
    match (&a.approver_role, a.approver_department_id) {
        (Some(r), _) => Role::parse(r).map(Approver::Role),
        (None, Some(d)) => Some(Approver::Department(d)),
        _ => None,
    }
}

/// The access of the signed-in user for `p` (403 without it).
pub async fn access(st: &AppState, ctx: &Ctx, p: Permission) -> AppResult<Access> {
    let o = ctx.require(p)?;
    let mut h = st.db.acquire().await?;
    let departments = store::tenants::membership(&mut h.c(), ctx.user_id, o.id)
        .await?
        .map(|(_, d)| d)
        .unwrap_or_default();
    Ok(Access {
        org: o.id,
        user_id: ctx.user_id,
        role: o.role,
        departments,
        scope: if o.role.sees_all_complaints() {
            Scope::All
        } else {
            Scope::Staff {
                user_id: ctx.user_id,
            }
        },
    })
}

/// A complaint the user may see (404 otherwise, as if it did not exist).
pub async fn get(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Complaint> {
    let a = access(st, ctx, Permission::ViewComplaints).await?;
    let mut h = st.db.acquire().await?;
    if !repo::visible(&mut h.c(), a.org, a.scope, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(repo::get(&mut h.c(), a.org, id).await?)
}

/// A linked complaint.
pub type Link = store::complaints::steps::Linked;

/// Everything the detail page, the API detail and the printed forms show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub complaint: Complaint,
    pub events: Vec<Event>,
    pub tasks: Vec<Task>,
    pub approvals: Vec<Approval>,
    /// Earlier complaints this one repeats.
    pub repeats_of: Vec<Link>,
    /// Later complaints that repeat this one.
    pub repeated_by: Vec<Link>,
    pub sla: Vec<TargetView>,
    /// Moves the state allows now (each still checked on submit).
    pub actions: Vec<&'static str>,
    /// Waiting approvals this user may decide.
    pub my_approvals: Vec<i64>,
}

/// The detail of a complaint the user may see.
pub async fn detail(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Detail> {
    let a = access(st, ctx, Permission::ViewComplaints).await?;
    let now = st.now();
    let mut h = st.db.acquire().await?;
    if !repo::visible(&mut h.c(), a.org, a.scope, id).await? {
        return Err(AppError::NotFound);
    }
    let c = repo::get(&mut h.c(), a.org, id).await?;
    let events = steps::events(&mut h.c(), a.org, id).await?;
    let tasks = steps::tasks(&mut h.c(), a.org, id).await?;
    let approvals = steps::approvals(&mut h.c(), a.org, id).await?;
    let window = store::complaints::settings::get(&mut h.c(), a.org)
        .await?
        .recurrence_days
        * 86_400;
    let (repeats_of, repeated_by) = steps::related(&mut h.c(), a.org, &c, window).await?;
    let pauses = steps::pauses(&mut h.c(), a.org, id).await?;
    let k = sla::clock(&mut h.c(), a.org, &c.severity, c.contract_level.as_deref()).await?;
    let sla = sla::view(&k, &Times::of(&c), &pauses, now);
    let handle = ctx.can(Permission::HandleComplaints);
    let f = facts(&c, &approvals);
    let actions = if handle {
        lifecycle::offered(&f)
            .into_iter()
            .map(Action::as_str)
            .collect()
    } else {
        Vec::new()
    };
    let my_approvals = approvals
        .iter()
        .filter(|ap| ap.round == c.approval_round && ap.decision.is_none() && a.may_decide(ap))
        .map(|ap| ap.id)
        .collect();
    Ok(Detail {
        complaint: c,
        events,
        tasks,
        approvals,
        repeats_of,
        repeated_by,
        sla,
        actions,
        my_approvals,
    })
}

/// A page of the complaints the user may see.
pub async fn list(
    st: &AppState,
    a: &Access,
    f: &Filter,
    p: PageReq,
) -> AppResult<Page<ComplaintRow>> {
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), a.org, a.scope, f, p).await?)
}

/// The severities the organization knows (minor, serious and configured extra levels).
pub async fn severities(st: &AppState, org: i64) -> AppResult<Vec<String>> {
    let mut h = st.db.acquire().await?;
    Ok(store::complaints::settings::severities(&mut h.c(), org).await?)
}

fn facts(c: &Complaint, approvals: &[Approval]) -> Facts {
    let round: Vec<Option<bool>> = approvals
        .iter()
        .filter(|a| a.round == c.approval_round && c.approval_round > 0)
        .map(|a| a.decision.as_deref().map(|d| d == "approved"))
        .collect();
    Facts {
        status: Status::parse(&c.status).unwrap_or(Status::Received),
        minor: is_minor(&c.severity),
        responsibility: c.responsibility.as_deref().and_then(Responsibility::parse),
        approvals: routing::summarize(&round),
        capa_required: c.capa_required,
        capa_opened: c.capa_id.is_some(),
        paused: c.paused_at.is_some(),
        confirmed: c.confirmed_at.is_some(),
    }
}

/// Local year and month (YYYY-MM) of an instant on the organization's calendar.
fn year_month(cal: &domain::calendar::WorkCalendar, t: i64) -> (i32, String) {
    let d = cal.local_date(t);
    (d[0..4].parse().unwrap_or(1970), d[0..7].to_string())
}

/// Fills the typed customer, order, product and unit fields from the picked archive records
/// and refuses ids of other organizations (422 on the field).
async fn resolve_refs(
    c: &mut Conn<'_>,
    org: i64,
    r: &mut Registration,
) -> AppResult<Option<String>> {
    let mut errs = FieldErrors::default();
    let mut contract = None;
    // Typed numbers that exist in the archives link the record, as if picked.
    use store::archives::lookup;
    if r.equipment_id.is_none()
        && let Some(s) = &r.serial
    {
        r.equipment_id = lookup::equipment_by_serial(c, org, std::slice::from_ref(s))
            .await?
            .first()
            .map(|x| x.1);
    }
    if r.order_id.is_none()
        && let Some(o) = &r.order_no
    {
        r.order_id = lookup::orders_by_no(c, org, std::slice::from_ref(o))
            .await?
            .first()
            .map(|x| x.1);
    }
    if r.product_id.is_none()
        && let Some(p) = &r.part_no
    {
        r.product_id = lookup::products_by_part_no(c, org, std::slice::from_ref(p))
            .await?
            .first()
            .map(|x| x.1);
    }
    if r.customer_id.is_none() && !r.customer_name.is_empty() {
        r.customer_id =
            store::archives::customers::customer_id_by_name(c, org, &r.customer_name).await?;
    }
    if let Some(id) = r.equipment_id {
        match store::archives::equipment::get(c, org, id).await {
            Ok(e) => {
                r.serial.get_or_insert(e.serial);
                r.product_id.get_or_insert(e.product_id);
                r.part_no.get_or_insert(e.part_no);
                r.customer_id.get_or_insert(e.customer_id);
                if r.order_id.is_none() {
                    r.order_id = e.order_id;
                }
                contract = e.contract_level;
            }
            Err(store::StoreError::NotFound) => errs.add("equipment_id", "unknown", None),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(id) = r.order_id {
        match store::archives::orders::get(c, org, id).await {
            Ok(o) => {
                r.order_no.get_or_insert(o.order_no.clone());
                if r.ship_date.is_none() {
                    r.ship_date = o.ship_date.clone();
                }
                r.customer_id.get_or_insert(o.customer_id);
            }
            Err(store::StoreError::NotFound) => errs.add("order_id", "unknown", None),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(id) = r.product_id {
        match store::archives::products::part_no(c, org, id).await? {
            Some(p) => {
                r.part_no.get_or_insert(p);
            }
            None => errs.add("product_id", "unknown", None),
        }
    }
    if let Some(id) = r.customer_id {
        match store::archives::customers::get_customer(c, org, id).await {
            Ok(cu) => {
                if r.customer_name.is_empty() {
                    r.customer_name = cu.name;
                }
            }
            Err(store::StoreError::NotFound) => errs.add("customer_id", "unknown", None),
            Err(e) => return Err(e.into()),
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    Ok(contract)
}

fn registration_columns(r: &Registration) -> Vec<(&'static str, Val)> {
    vec![
        ("channel", r.channel.as_str().into()),
        ("class", r.class.as_str().into()),
        ("severity", r.severity.clone().into()),
        ("fault_category", r.fault_category.clone().into()),
        ("customer_id", r.customer_id.into()),
        ("customer_name", r.customer_name.clone().into()),
        ("contact_name", r.contact_name.clone().into()),
        ("contact_phone", r.contact_phone.clone().into()),
        ("address", r.address.clone().into()),
        ("order_id", r.order_id.into()),
        ("order_no", r.order_no.clone().into()),
        ("product_id", r.product_id.into()),
        ("part_no", r.part_no.clone().into()),
        ("equipment_id", r.equipment_id.into()),
        ("serial", r.serial.clone().into()),
        ("batch_no", r.batch_no.clone().into()),
        ("ship_date", r.ship_date.clone().into()),
        ("quantity", r.quantity.into()),
        ("defective_quantity", r.defective_quantity.into()),
        ("days_in_service", r.days_in_service.into()),
        ("description", r.description.clone().into()),
        ("demand", r.demand.clone().into()),
    ]
}

/// The registration fields of a stored complaint (to check confirmation).
pub fn registration_of(c: &Complaint) -> Registration {
    Registration {
        channel: domain::complaints::Channel::parse(&c.channel)
            .unwrap_or(domain::complaints::Channel::Other),
        class: Class::parse(&c.class).unwrap_or(Class::Other),
        severity: c.severity.clone(),
        fault_category: c.fault_category.clone(),
        customer_id: c.customer_id,
        customer_name: c.customer_name.clone(),
        contact_name: c.contact_name.clone(),
        contact_phone: c.contact_phone.clone(),
        address: c.address.clone(),
        order_id: c.order_id,
        order_no: c.order_no.clone(),
        product_id: c.product_id,
        part_no: c.part_no.clone(),
        equipment_id: c.equipment_id,
        serial: c.serial.clone(),
        batch_no: c.batch_no.clone(),
        ship_date: c.ship_date.clone(),
        quantity: c.quantity,
        defective_quantity: c.defective_quantity,
        days_in_service: c.days_in_service,
        description: c.description.clone(),
        demand: c.demand.clone(),
    }
}

/// Counts the earlier complaints this one repeats (the registration's check, run again when
/// a move or an edit may have changed what it compares); returns the columns to write (repeat
/// count, CAPA required) when the count changed.
async fn check_recurrence(
    tx: &mut Tx,
    org: i64,
    c: &Complaint,
) -> AppResult<Vec<(&'static str, Val)>> {
    let Some(fault) = c.fault_category.as_deref() else {
        return Ok(Vec::new());
    };
    let s = store::complaints::settings::get(&mut tx.c(), org).await?;
    let n = steps::count_repeats(
        &mut tx.c(),
        org,
        c.id,
        &steps::RepeatKeys {
            customer_id: c.customer_id,
            customer_name: &c.customer_name,
            fault_category: fault,
            part_no: c.part_no.as_deref(),
            serial: c.serial.as_deref(),
            batch_no: c.batch_no.as_deref(),
        },
        (c.received_at - s.recurrence_days * 86_400, c.received_at),
    )
    .await?;
    if n == c.repeat_count {
        return Ok(Vec::new());
    }
    let mut cols = vec![("repeat_count", Val::from(n))];
    if n > 0 {
        cols.push(("capa_required", true.into()));
    }
    Ok(cols)
}

/// Timeline, search document and audit of a change, in the caller's transaction.
async fn record(
    tx: &mut Tx,
    by: &By,
    org: i64,
    now: i64,
    action: &'static str,
    before: Option<&Complaint>,
    after: &Complaint,
) -> AppResult<()> {
    let json = |v: Option<&Complaint>| v.and_then(|v| serde_json::to_value(v).ok());
    store::audit::record(
        &mut tx.c(),
        store::audit::NewEntry {
            org_id: Some(org),
            at: now,
            actor: &by.actor,
            action,
            entity: KIND,
            entity_id: Some(after.id),
            before: json(before),
            after: json(Some(after)),
        },
    )
    .await?;
    // Most changes leave the document as it was (a step moves the status): rewriting it would
    // delete and re-add every full-text entry of the complaint.
    let doc = index::document(after.into());
    if before.map(|b| index::document(b.into())).as_ref() != Some(&doc) {
        store::search::upsert(&mut tx.c(), org, KIND, after.id, &doc.0, &doc.1).await?;
    }
    // The receipt itself is read from the complaint (`store::timeline`); status changes are
    // events of their own.
    let status_changed = before.is_some_and(|b| b.status != after.status);
    if status_changed && (after.customer_id.is_some() || after.equipment_id.is_some()) {
        let kind = format!("complaint_{}", after.status);
        let summary = after.number.clone();
        store::timeline::add(
            &mut tx.c(),
            &store::timeline::NewEvent {
                org_id: org,
                customer_id: after.customer_id,
                equipment_id: after.equipment_id,
                at: now,
                kind: &kind,
                ref_id: after.id,
                summary: &summary,
            },
        )
        .await?;
    }
    Ok(())
}

/// Registers a complaint received at `received_at` (default now): number, acknowledgement,
/// SLA clock, recurrence check, the register step's tasks, audit, search (its timeline line
/// is read from the complaint itself, `store::timeline`).
pub async fn register(
    st: &AppState,
    ctx: &Ctx,
    r: Registration,
    received_at: Option<i64>,
) -> AppResult<Complaint> {
    let a = access(st, ctx, Permission::HandleComplaints).await?;
    let now = st.now();
    // Everything that only reads runs before the write transaction, on a pooled connection:
    // SQLite admits one writer at a time, so the fewer statements inside it, the more
    // registrations per second (archive references cannot vanish meanwhile: foreign keys).
    let p = {
        let mut h = st.db.acquire().await?;
        prepare(&mut h.c(), a.org, now, r, received_at).await?
    };
    let c = if st.db.backend() == store::Backend::Sqlite {
        st.registrations
            .write(&st.db, By::user(ctx), a.org, now, p)
            .await?
    } else {
        let mut tx = st.db.begin().await?;
        let c = write_registration(&mut tx, &By::user(ctx), a.org, now, p).await?;
        tx.commit().await?;
        c
    };
    st.complaint_index.poke(&st.db);
    Ok(c)
}

/// [`register`] inside the caller's transaction (permissions already checked), for records
/// that open a complaint as part of their own change (an unsatisfied return visit, a low
/// survey score).
pub async fn register_in(
    tx: &mut Tx,
    by: &By,
    org: i64,
    now: i64,
    r: Registration,
    received_at: Option<i64>,
) -> AppResult<Complaint> {
    let p = prepare(&mut tx.c(), org, now, r, received_at).await?;
    write_registration(tx, by, org, now, p).await
}

/// What a registration reads before it writes, and what it computes from that: everything
/// but its number and recurrence check, which need the write transaction (the writer is the
/// bound on SQLite, so work done here is work taken off it).
#[derive(Clone)]
pub(super) struct Prepared {
    r: Registration,
    received: i64,
    settings: store::complaints::settings::Settings,
    /// Local year (the number's) and month (`YYYY-MM`) of receipt.
    year: i32,
    month: String,
    /// Local day of receipt (the day roll-ups' key).
    day: i64,
    /// The row's columns: the registration's, its contract level and its SLA clock.
    fields: Vec<(&'static str, Val)>,
}

async fn prepare(
    c: &mut Conn<'_>,
    org: i64,
    now: i64,
    mut r: Registration,
    received_at: Option<i64>,
) -> AppResult<Prepared> {
    let received = received_at.unwrap_or(now);
    if received > now + 300 {
        return Err(AppError::Invalid(FieldErrors::single(
            "received_at",
            "in_future",
        )));
    }
    let contract = resolve_refs(c, org, &mut r).await?;
    let settings = store::complaints::settings::get(c, org).await?;
    let k = sla::clock_with(c, org, &settings, &r.severity, contract.as_deref()).await?;
    let times = sla::Times {
        received_at: received,
        acknowledged_at: Some(now),
        ..Default::default()
    };
    let clock = sla::compute(&k, &times, &[], &|_, _| false);
    let mut fields = registration_columns(&r);
    fields.push(("contract_level", contract.into()));
    fields.extend(clock.columns());
    let (year, month) = year_month(&k.cal, received);
    Ok(Prepared {
        r,
        received,
        settings,
        year,
        month,
        day: super::figures::local_day(&k.cal, received),
        fields,
    })
}

/// One registration to write: who, where, when, and what [`prepare`] read for it.
#[derive(Clone)]
pub(super) struct Reg {
    pub by: By,
    pub org: i64,
    pub now: i64,
    pub p: Prepared,
}

/// The writes of one registration (see [`write_registrations`]).
async fn write_registration(
    tx: &mut Tx,
    by: &By,
    org: i64,
    now: i64,
    p: Prepared,
) -> AppResult<Complaint> {
    let reg = Reg {
        by: by.clone(),
        org,
        now,
        p,
    };
    write_registrations(tx, std::slice::from_ref(&reg))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The writes of registrations, in order, in the caller's transaction: numbers, each row with
/// its SLA clock and repeat flags (known before the insert, so the row is written once; each
/// recurrence check sees the rows inserted before it, those of the same group included), then
/// events, tasks, audit and search as one statement each for the whole group. A group of 64
/// takes about 140 statements instead of 900 (each statement on SQLite is
/// a hand-off to its worker thread).
pub(super) async fn write_registrations(tx: &mut Tx, regs: &[Reg]) -> AppResult<Vec<Complaint>> {
    // Numbers: one reservation per organization and year.
    let mut next: Vec<((i64, i32), i64)> = Vec::new();
    for g in regs {
        let key = (g.org, g.p.year);
        if next.iter().all(|(k, _)| *k != key) {
            let n = regs.iter().filter(|h| (h.org, h.p.year) == key).count() as i64;
            let first = store::complaints::settings::next_numbers(
                &mut tx.c(),
                g.org,
                i64::from(g.p.year),
                n,
            )
            .await?;
            next.push((key, first));
        }
    }
    let mut ids = Vec::with_capacity(regs.len());
    for g in regs {
        let Prepared {
            r,
            received,
            settings: s,
            year,
            ..
        } = &g.p;
        let (received, year) = (*received, *year);
        let seq = match next.iter_mut().find(|(key, _)| *key == (g.org, year)) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => return Err(AppError::Internal("no number reserved".into())),
        };
        let number = format_number(&s.number_prefix, year, seq, s.number_digits as usize);
        let repeats = match r.fault_category.as_deref() {
            Some(fault) => {
                steps::count_repeats(
                    &mut tx.c(),
                    g.org,
                    i64::MAX,
                    &steps::RepeatKeys {
                        customer_id: r.customer_id,
                        customer_name: &r.customer_name,
                        fault_category: fault,
                        part_no: r.part_no.as_deref(),
                        serial: r.serial.as_deref(),
                        batch_no: r.batch_no.as_deref(),
                    },
                    (received - s.recurrence_days * 86_400, received),
                )
                .await?
            }
            None => 0,
        };
        let mut fields = g.p.fields.clone();
        if repeats > 0 {
            fields.push(("repeat_count", Val::from(repeats)));
            fields.push(("capa_required", true.into()));
        }
        let id = repo::insert(
            &mut tx.c(),
            g.org,
            &NewComplaint {
                number,
                status: Status::Received.as_str().into(),
                received_at: received,
                acknowledged_at: g.now,
                month: g.p.month.clone(),
                received_day: g.p.day,
                recorded_by: g.by.user_id,
                fields,
            },
            g.now,
        )
        .await?;
        ids.push(id);
    }
    let mut orgs: Vec<i64> = regs.iter().map(|g| g.org).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let mut out: Vec<Option<Complaint>> = vec![None; regs.len()];
    for org in orgs {
        let mine: Vec<usize> = (0..regs.len()).filter(|&i| regs[i].org == org).collect();
        let my_ids: Vec<i64> = mine.iter().map(|&i| ids[i]).collect();
        let events: Vec<steps::NewEvent<'_>> = mine
            .iter()
            .map(|&i| steps::NewEvent {
                complaint_id: ids[i],
                at: regs[i].now,
                user_id: regs[i].by.user_id,
                action: "register",
                from_status: None,
                to_status: Some("received"),
                note: None,
                data: None,
            })
            .collect();
        steps::add_events(&mut tx.c(), org, &events).await?;
        // One task time for the group: its tasks were all created by this commit.
        let now = mine.iter().map(|&i| regs[i].now).max().unwrap_or_default();
        steps::create_tasks_for(&mut tx.c(), org, &my_ids, "register", now).await?;
        let rows = repo::get_many(&mut tx.c(), org, &my_ids).await?;
        if rows.len() != my_ids.len() {
            return Err(AppError::Internal(
                "a registered complaint was not found".into(),
            ));
        }
        let json: Vec<Option<serde_json::Value>> =
            rows.iter().map(|c| serde_json::to_value(c).ok()).collect();
        let entries: Vec<store::audit::NewEntry<'_>> = mine
            .iter()
            .zip(&rows)
            .zip(json)
            .map(|((&i, c), after)| store::audit::NewEntry {
                org_id: Some(org),
                at: regs[i].now,
                actor: &regs[i].by.actor,
                action: "create",
                entity: KIND,
                entity_id: Some(c.id),
                before: None,
                after,
            })
            .collect();
        store::audit::record_all(&mut tx.c(), &entries).await?;
        // The search documents are written by the indexer, many registrations at a time.
        store::search::queue(&mut tx.c(), org, KIND, &my_ids).await?;
        for (i, c) in mine.into_iter().zip(rows) {
            out[i] = Some(c);
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// Reads a complaint for a change: visible, and still at `version` (else "changed by X at T").
async fn load_for_change(tx: &mut Tx, a: &Access, id: i64, version: i64) -> AppResult<Complaint> {
    if !repo::visible(&mut tx.c(), a.org, a.scope, id).await? {
        return Err(AppError::NotFound);
    }
    let c = repo::get(&mut tx.c(), a.org, id).await?;
    if c.version != version {
        return Err(stale(tx, a.org, id).await);
    }
    Ok(c)
}

async fn stale(tx: &mut Tx, org: i64, id: i64) -> AppError {
    match steps::last_change(&mut tx.c(), org, id).await {
        Ok(Some((by, at))) => AppError::StaleBy(by, at),
        _ => AppError::Stale,
    }
}

/// Corrects the registration while the complaint is still being confirmed or analysed.
pub async fn edit_registration(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    mut r: Registration,
) -> AppResult<Complaint> {
    let a = access(st, ctx, Permission::HandleComplaints).await?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = load_for_change(&mut tx, &a, id, version).await?;
    if !matches!(
        Status::parse(&before.status),
        Some(Status::Received | Status::Confirmed | Status::Analysing)
    ) {
        return Err(AppError::Transition("registration_locked"));
    }
    let contract = resolve_refs(&mut tx.c(), a.org, &mut r).await?;
    let mut cols = registration_columns(&r);
    cols.push(("contract_level", contract.into()));
    repo::patch(&mut tx.c(), a.org, id, version, &cols, now).await?;
    let mid = repo::get(&mut tx.c(), a.org, id).await?;
    let rc = check_recurrence(&mut tx, a.org, &mid).await?;
    if !rc.is_empty() {
        repo::patch(&mut tx.c(), a.org, id, mid.version, &rc, now).await?;
    }
    steps::add_event(
        &mut tx.c(),
        a.org,
        &steps::NewEvent {
            complaint_id: id,
            at: now,
            user_id: Some(ctx.user_id),
            action: "edit",
            from_status: None,
            to_status: None,
            note: None,
            data: None,
        },
    )
    .await?;
    let c = repo::get(&mut tx.c(), a.org, id).await?;
    sla::refresh(&mut tx.c(), a.org, &c).await?;
    let after = repo::get(&mut tx.c(), a.org, id).await?;
    record(
        &mut tx,
        &By::user(ctx),
        a.org,
        now,
        "update",
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A lifecycle move with the data it records.
#[derive(Debug, Clone)]
pub enum Step {
    Confirm,
    Analyse(Analysis),
    Explain(String),
    Respond {
        accepted: bool,
        text: String,
    },
    Propose(Remedy),
    Agree {
        note: Option<String>,
    },
    Start {
        note: Option<String>,
    },
    Progress(String),
    Complete(String),
    Visit {
        satisfied: bool,
        note: Option<String>,
    },
    Withdraw(String),
    Pause(String),
    Resume(Option<String>),
}

impl Step {
    fn action(&self) -> (Action, bool) {
        match self {
            Step::Confirm => (Action::Confirm, true),
            Step::Analyse(_) => (Action::Analyse, true),
            Step::Explain(_) => (Action::Explain, true),
            Step::Respond { accepted, .. } => (Action::Respond, *accepted),
            Step::Propose(_) => (Action::Propose, true),
            Step::Agree { .. } => (Action::Agree, true),
            Step::Start { .. } => (Action::Start, true),
            Step::Progress(_) => (Action::Progress, true),
            Step::Complete(_) => (Action::Complete, true),
            Step::Visit { satisfied, .. } => (Action::Visit, *satisfied),
            Step::Withdraw(_) => (Action::Withdraw, true),
            Step::Pause(_) => (Action::Pause, true),
            Step::Resume(_) => (Action::Resume, true),
        }
    }

    fn note(&self) -> Option<&str> {
        match self {
            Step::Explain(s)
            | Step::Progress(s)
            | Step::Complete(s)
            | Step::Withdraw(s)
            | Step::Pause(s) => Some(s),
            Step::Respond { text, .. } => Some(text),
            Step::Agree { note } | Step::Start { note } | Step::Resume(note) => note.as_deref(),
            Step::Visit { note, .. } => note.as_deref(),
            Step::Analyse(a) => Some(&a.cause),
            Step::Propose(r) => Some(&r.detail),
            Step::Confirm => None,
        }
    }
}

/// The approval rules of the organization as domain rules.
async fn rules(tx: &mut Tx, org: i64) -> AppResult<Vec<Rule>> {
    let rows = store::complaints::settings::approval_rules(&mut tx.c(), org, true).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let approver = match (&r.approver_role, r.approver_department_id) {
                (Some(role), _) => Approver::Role(Role::parse(role)?),
                (None, Some(d)) => Approver::Department(d),
                _ => return None,
            };
            Some(Rule {
                id: r.id,
                remedy_type: r.remedy_type.as_deref().and_then(RemedyType::parse),
                min_amount_fen: r.min_amount_fen,
                responsibility: r.responsibility.as_deref().and_then(Responsibility::parse),
                severity: r.severity,
                approver,
            })
        })
        .collect())
}

/// Applies a move to a complaint read at `version`.
pub async fn act(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    step: Step,
) -> AppResult<Complaint> {
    let a = access(st, ctx, Permission::HandleComplaints).await?;
    let now = st.now();
    // Concurrent moves on PostgreSQL can deadlock on shared rows (roll-ups, the audit head);
    // the loser wrote nothing and is run again, a few times at most.
    let mut attempt = 0;
    loop {
        let r = async {
            let mut tx = st.db.begin().await?;
            let after = act_in(&mut tx, &By::user(ctx), &a, now, id, version, step.clone()).await?;
            tx.commit().await?;
            Ok::<_, AppError>(after)
        }
        .await;
        match r {
            Err(AppError::Contention(m)) if attempt < 3 => {
                attempt += 1;
                tracing::warn!(attempt, error = %m, "complaint move lost a deadlock; running it again");
            }
            r => return r,
        }
    }
}

/// [`act`] inside the caller's transaction, with the access already established (a return
/// visit recorded on its own page moves its complaint in the same transaction).
pub async fn act_in(
    tx: &mut Tx,
    by: &By,
    a: &Access,
    now: i64,
    id: i64,
    version: i64,
    step: Step,
) -> AppResult<Complaint> {
    let before = load_for_change(tx, a, id, version).await?;
    let approvals = steps::approvals(&mut tx.c(), a.org, id).await?;
    let f = facts(&before, &approvals);
    let (action, verdict) = step.action();
    let to = lifecycle::next(&f, action, verdict)?.to;
    let mut cols: Vec<(&'static str, Val)> = Vec::new();
    let mut task_step: Option<&'static str> = None;
    let first_response = || Val::from(before.first_response_at.unwrap_or(now));
    match &step {
        Step::Confirm => {
            let gaps = registration_of(&before).confirmation_gaps();
            if !gaps.is_empty() {
                return Err(AppError::Invalid(gaps));
            }
            cols.push(("confirmed_at", now.into()));
            cols.push(("first_response_at", first_response()));
            task_step = Some("confirm");
        }
        Step::Analyse(an) => {
            cols.extend([
                ("class", Val::from(an.class.as_str())),
                ("responsibility", an.responsibility.as_str().into()),
                (
                    "responsible_department_id",
                    an.responsible_department_id.into(),
                ),
                ("investigation", an.investigation.clone().into()),
                ("cause", an.cause.clone().into()),
                ("inspection_result", an.inspection_result.clone().into()),
                ("inspection_basis", an.inspection_basis.clone().into()),
            ]);
            if an.fault_category.is_some() {
                cols.push(("fault_category", an.fault_category.clone().into()));
            }
            if an.needs_capa() {
                cols.push(("capa_required", true.into()));
            }
            if let Some(d) = an.responsible_department_id {
                let mut h = tx.c();
                if store::org::get_department(&mut h, a.org, d).await.is_err() {
                    return Err(AppError::Invalid(FieldErrors::single(
                        "responsible_department_id",
                        "unknown",
                    )));
                }
            }
            if f.status != Status::Analysing {
                task_step = Some("analyse");
            }
        }
        Step::Explain(text) => {
            cols.push(("explanation", text.clone().into()));
            cols.push(("first_response_at", first_response()));
        }
        Step::Respond { accepted, text } => {
            cols.push(("customer_response", text.clone().into()));
            if *accepted {
                cols.push(("remedy_agreed_at", now.into()));
                let s = store::complaints::settings::get(&mut tx.c(), a.org).await?;
                let cal = sla::calendar(&mut tx.c(), a.org).await?;
                let due = cal.add_working_days(&cal.local_date(now), s.return_visit_days as u32);
                cols.push(("visit_due", due.into()));
                task_step = Some("visit");
            }
        }
        Step::Propose(r) => {
            let round = before.approval_round + 1;
            cols.extend([
                ("remedy_type", Val::from(r.remedy_type.as_str())),
                ("remedy_amount_fen", r.amount_fen.into()),
                ("remedy_detail", r.detail.clone().into()),
                ("remedy_proposed_by", r.proposed_by.clone().into()),
                ("agreed_reply_date", r.agreed_reply_date.clone().into()),
                ("approval_round", round.into()),
            ]);
            let needed = routing::required(
                &rules(tx, a.org).await?,
                &Proposal {
                    severity: &before.severity,
                    remedy_type: r.remedy_type,
                    amount_fen: r.amount_fen,
                    responsibility: f.responsibility,
                },
            );
            for (rule, who) in &needed {
                let (role, dep) = match who {
                    Approver::Role(r) => (Some(r.as_str()), None),
                    Approver::Department(d) => (None, Some(*d)),
                };
                steps::add_approval(&mut tx.c(), a.org, id, round, *rule, role, dep, now).await?;
            }
            if !needed.is_empty() {
                let who = store::notifications::Audience {
                    roles: needed
                        .iter()
                        .filter_map(|(_, w)| match w {
                            Approver::Role(r) => Some(r.as_str().to_string()),
                            _ => None,
                        })
                        .collect(),
                    departments: needed
                        .iter()
                        .filter_map(|(_, w)| match w {
                            Approver::Department(d) => Some(*d),
                            _ => None,
                        })
                        .collect(),
                    users: vec![],
                };
                let args = serde_json::json!({"number": before.number}).to_string();
                store::notifications::notify(
                    &mut tx.c(),
                    a.org,
                    &who,
                    "approval_waiting",
                    KIND,
                    id,
                    &args,
                    now,
                )
                .await?;
            }
            task_step = Some("remedy");
        }
        Step::Agree { .. } => {
            cols.push(("remedy_agreed_at", now.into()));
        }
        Step::Start { .. } => task_step = Some("implement"),
        Step::Progress(_) => cols.push(("first_response_at", first_response())),
        Step::Complete(text) => {
            cols.push(("implementation", text.clone().into()));
            let s = store::complaints::settings::get(&mut tx.c(), a.org).await?;
            let cal = sla::calendar(&mut tx.c(), a.org).await?;
            let due = cal.add_working_days(&cal.local_date(now), s.return_visit_days as u32);
            cols.push(("visit_due", due.into()));
            task_step = Some("visit");
        }
        Step::Visit { satisfied, note } => {
            cols.push((
                "visit_result",
                if *satisfied {
                    "satisfied"
                } else {
                    "unsatisfied"
                }
                .into(),
            ));
            cols.push(("visit_note", note.clone().into()));
            if *satisfied {
                let pauses = steps::pauses(&mut tx.c(), a.org, id).await?;
                let cal = sla::calendar(&mut tx.c(), a.org).await?;
                cols.push(("closed_at", now.into()));
                cols.push((
                    "resolution_secs",
                    domain::sla::elapsed(&cal, before.received_at, now, &pauses).into(),
                ));
            } else {
                cols.push(("reopen_count", (before.reopen_count + 1).into()));
                cols.push(("remedy_agreed_at", Val::I(None)));
                cols.push(("closed_at", Val::I(None)));
            }
        }
        Step::Withdraw(_) => {
            if before.paused_at.is_some() {
                steps::resume(&mut tx.c(), a.org, id, now).await?;
                cols.push(("paused_at", Val::I(None)));
            }
        }
        Step::Pause(reason) => {
            steps::pause(&mut tx.c(), a.org, id, now, Some(reason)).await?;
            cols.push(("paused_at", now.into()));
        }
        Step::Resume(_) => {
            steps::resume(&mut tx.c(), a.org, id, now).await?;
            cols.push(("paused_at", Val::I(None)));
        }
    }
    cols.push(("status", to.as_str().into()));
    repo::patch(&mut tx.c(), a.org, id, version, &cols, now).await?;
    let mid = repo::get(&mut tx.c(), a.org, id).await?;
    if matches!(step, Step::Confirm | Step::Analyse(_)) {
        let rc = check_recurrence(tx, a.org, &mid).await?;
        if !rc.is_empty() {
            repo::patch(&mut tx.c(), a.org, id, mid.version, &rc, now).await?;
        }
    }
    let data = match &step {
        Step::Analyse(x) => serde_json::to_string(x).ok(),
        Step::Propose(x) => serde_json::to_string(x).ok(),
        _ => None,
    };
    steps::add_event(
        &mut tx.c(),
        a.org,
        &steps::NewEvent {
            complaint_id: id,
            at: now,
            user_id: by.user_id,
            action: action.as_str(),
            from_status: Some(&before.status),
            to_status: Some(to.as_str()),
            note: step.note(),
            data,
        },
    )
    .await?;
    if let Some(s) = task_step {
        steps::create_tasks(&mut tx.c(), a.org, id, s, now).await?;
    }
    let mid = repo::get(&mut tx.c(), a.org, id).await?;
    if mid.capa_required && !before.capa_required {
        steps::create_tasks(&mut tx.c(), a.org, id, "prevent", now).await?;
    }
    sla::refresh(&mut tx.c(), a.org, &mid).await?;
    let after = repo::get(&mut tx.c(), a.org, id).await?;
    record(tx, by, a.org, now, action.as_str(), Some(&before), &after).await?;
    Ok(after)
}

/// Approves or rejects a waiting approval of the complaint's current round; the last
/// approval moves it to "remedy approved", a rejection back to analysis.
pub async fn decide(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    approval_id: i64,
    approved: bool,
    comment: Option<String>,
) -> AppResult<Complaint> {
    let a = access(st, ctx, Permission::ViewComplaints).await?;
    if ctx.org()?.role.read_only() {
        return Err(AppError::Forbidden);
    }
    let now = st.now();
    let mut tx = st.db.begin().await?;
    if !repo::visible(&mut tx.c(), a.org, a.scope, id).await? {
        return Err(AppError::NotFound);
    }
    let before = repo::get(&mut tx.c(), a.org, id).await?;
    let approvals = steps::approvals(&mut tx.c(), a.org, id).await?;
    let Some(ap) = approvals.iter().find(|x| x.id == approval_id) else {
        return Err(AppError::NotFound);
    };
    if ap.round != before.approval_round || before.status != Status::RemedyProposed.as_str() {
        return Err(AppError::Transition("approval_closed"));
    }
    if ap.decision.is_some() {
        return Err(AppError::Transition("already_decided"));
    }
    if !a.may_decide(ap) {
        return Err(AppError::Forbidden);
    }
    if !approved && comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(AppError::Invalid(FieldErrors::single(
            "comment",
            "required_to_reject",
        )));
    }
    if !steps::decide(
        &mut tx.c(),
        a.org,
        approval_id,
        approved,
        ctx.user_id,
        comment.as_deref(),
        now,
    )
    .await?
    {
        return Err(AppError::Transition("already_decided"));
    }
    let approvals = steps::approvals(&mut tx.c(), a.org, id).await?;
    let f = facts(&before, &approvals);
    let to = lifecycle::after_decision(f.status, f.approvals);
    if to != f.status {
        repo::patch(
            &mut tx.c(),
            a.org,
            id,
            before.version,
            &[("status", to.as_str().into())],
            now,
        )
        .await?;
    } else {
        // Bump the version anyway: a decision changes what the complaint's page shows.
        repo::patch(&mut tx.c(), a.org, id, before.version, &[], now).await?;
    }
    steps::add_event(
        &mut tx.c(),
        a.org,
        &steps::NewEvent {
            complaint_id: id,
            at: now,
            user_id: Some(ctx.user_id),
            action: if approved { "approve" } else { "reject" },
            from_status: Some(&before.status),
            to_status: Some(to.as_str()),
            note: comment.as_deref(),
            data: None,
        },
    )
    .await?;
    if f.approvals == Approvals::Rejected {
        let who = store::notifications::Audience {
            users: before.recorded_by.into_iter().collect(),
            departments: before.responsible_department_id.into_iter().collect(),
            roles: vec![],
        };
        let args = serde_json::json!({"number": before.number}).to_string();
        store::notifications::notify(
            &mut tx.c(),
            a.org,
            &who,
            "remedy_rejected",
            KIND,
            id,
            &args,
            now,
        )
        .await?;
    }
    let after = repo::get(&mut tx.c(), a.org, id).await?;
    sla::refresh(&mut tx.c(), a.org, &after).await?;
    let after = repo::get(&mut tx.c(), a.org, id).await?;
    let action = if approved { "approve" } else { "reject" };
    record(
        &mut tx,
        &By::user(ctx),
        a.org,
        now,
        action,
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Marks a department task done: only members of that department (or the manager and
/// admin) may.
pub async fn finish_task(
    st: &AppState,
    ctx: &Ctx,
    task_id: i64,
    note: Option<String>,
) -> AppResult<Task> {
    let a = access(st, ctx, Permission::HandleComplaints).await?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let t = steps::get_task(&mut tx.c(), a.org, task_id).await?;
    if !a.departments.contains(&t.department_id) && !matches!(a.role, Role::Admin | Role::Manager) {
        return Err(AppError::Forbidden);
    }
    if !steps::finish_task(
        &mut tx.c(),
        a.org,
        task_id,
        ctx.user_id,
        note.as_deref(),
        now,
    )
    .await?
    {
        return Err(AppError::Transition("task_done"));
    }
    let after = steps::get_task(&mut tx.c(), a.org, task_id).await?;
    audit(
        &mut tx,
        ctx,
        a.org,
        now,
        Change {
            action: "finish",
            entity: "complaint_task",
            id: task_id,
            before: Some(&t),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Open tasks of the user's departments.
pub async fn my_tasks(st: &AppState, ctx: &Ctx, limit: i64) -> AppResult<Vec<Task>> {
    let a = access(st, ctx, Permission::ViewComplaints).await?;
    let mut h = st.db.acquire().await?;
    Ok(steps::open_tasks_of(&mut h.c(), a.org, &a.departments, limit).await?)
}

/// Refuses with field errors unless empty (for handlers building several drafts).
pub fn fields_ok(errs: FieldErrors) -> Result<(), DomainError> {
    errs.into_result(())
}
