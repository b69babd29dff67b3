//! Service-order transactions: creation with its number, timeline entry and audit row; every
//! lifecycle move (decided by `domain::maintenance::orders::next`) with its event and audit
//! row; the on-site work (checklist results, symptom, diagnosis, cause, actions, labour, fee)
//! where saving the same form twice changes nothing; parts used (a re-sent form is a no-op,
//! stock is taken in the same transaction and never goes negative); and a repair order opened
//! in one step from a failed checklist item (a second request finds the first).

use std::collections::HashMap;

use domain::FieldErrors;
use domain::auth::{Permission, Role};
use domain::maintenance::checklist::{self as rules, Answer, AnswerRaw, Outcome};
use domain::maintenance::orders::{
    self as lifecycle, Acceptance, Action, Appointment, FIRST_TIME_FIX_DAYS, Facts, Kind,
    OrderDraft, Status, Work,
};
use serde::Serialize;
use store::maintenance::orders::{
    self as repo, Event, Filter, ItemResult, NewOrder, OrderRow, PartLine, ServiceOrder, Val,
};
use store::{Page, PageReq, Tx};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::maintenance::checklists::service::{self as checklists, Effective};
use crate::org::service::{Change, audit};

/// The audit entity and timeline kind of a service order.
pub const KIND: &str = "service_order";
/// The timeline kind of a completed order.
pub const KIND_COMPLETED: &str = "service_order_completed";

/// Everything the detail page, the work page, the printed form and the API show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub order: ServiceOrder,
    /// The nested checklist worked on this order (its level and the levels below).
    pub checklist: Option<Effective>,
    pub results: Vec<ItemResult>,
    /// Required items still unanswered.
    pub missing: Vec<i64>,
    /// Items that failed.
    pub failed: Vec<i64>,
    pub parts: Vec<PartLine>,
    pub events: Vec<Event>,
    /// Repair orders opened from this order's failed items.
    pub opened: Vec<OrderRow>,
    /// Moves the state allows now (each still checked on submit).
    pub actions: Vec<&'static str>,
    /// Due before today and not done.
    pub overdue: bool,
    /// Today, YYYY-MM-DD in the organization's calendar.
    pub today: String,
}

impl Detail {
    /// The stored result of an item.
    pub fn result(&self, item: i64) -> Option<&ItemResult> {
        self.results.iter().find(|r| r.item_id == item)
    }
}

/// The rules' view of a stored result.
pub fn answer_of(r: &ItemResult) -> Answer {
    Answer {
        outcome: r.outcome.as_deref().and_then(Outcome::parse),
        value: r.value,
        note: r.note.clone(),
        attachment_id: r.attachment_id,
    }
}

fn answers(results: &[ItemResult]) -> HashMap<i64, Answer> {
    results.iter().map(|r| (r.item_id, answer_of(r))).collect()
}

fn status_of(o: &ServiceOrder) -> Status {
    Status::parse(&o.status).unwrap_or(Status::Created)
}

/// Today in the organization's calendar.
pub async fn today(st: &AppState, org: i64) -> AppResult<String> {
    let mut h = st.db.acquire().await?;
    let cal = crate::complaints::sla::calendar(&mut h.c(), org).await?;
    Ok(cal.local_date(st.now()))
}

/// The checklist of an order: its level's effective checklist; once the work is done, only
/// the items that have a result (what was actually worked).
async fn checklist_of(
    c: &mut store::Conn<'_>,
    org: i64,
    o: &ServiceOrder,
    results: &[ItemResult],
) -> AppResult<Option<Effective>> {
    let Some(t) = o.template_id else {
        return Ok(None);
    };
    let mut e = checklists::effective(c, org, t, Some(o.id)).await?;
    if status_of(o).done() {
        for g in &mut e.groups {
            g.items
                .retain(|i| results.iter().any(|r| r.item_id == i.id));
        }
        e.groups.retain(|g| !g.items.is_empty());
    }
    Ok(Some(e))
}

/// The detail of an order of the organization.
pub async fn detail(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Detail> {
    let org = ctx.require(Permission::ViewService)?.id;
    let today = today(st, org).await?;
    let mut h = st.db.acquire().await?;
    let order = repo::get(&mut h.c(), org, id).await?;
    let results = repo::results(&mut h.c(), org, id).await?;
    let checklist = checklist_of(&mut h.c(), org, &order, &results).await?;
    let groups = checklist
        .as_ref()
        .map(Effective::rule_groups)
        .unwrap_or_default();
    let missing = rules::missing_required(&groups, &answers(&results));
    let failed = results
        .iter()
        .filter(|r| r.outcome.as_deref() == Some(Outcome::Fail.as_str()))
        .map(|r| r.item_id)
        .collect();
    let parts = repo::part_lines(&mut h.c(), org, id).await?;
    let events = repo::events(&mut h.c(), org, id).await?;
    let opened = repo::opened_from(&mut h.c(), org, id).await?;
    let status = status_of(&order);
    let actions = if ctx.can(Permission::WorkOrders) {
        lifecycle::offered(&Facts {
            status,
            checklist_missing: 0,
        })
        .into_iter()
        .map(Action::as_str)
        .collect()
    } else {
        Vec::new()
    };
    let overdue = status.open()
        && order
            .due_date
            .as_deref()
            .is_some_and(|d| d < today.as_str());
    Ok(Detail {
        order,
        checklist,
        results,
        missing,
        failed,
        parts,
        events,
        opened,
        actions,
        overdue,
        today,
    })
}

/// One order of the organization.
pub async fn get(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<ServiceOrder> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get(&mut h.c(), org, id).await?)
}

/// The drawn signature of an order as PNG bytes, if it has one.
pub async fn signature(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Option<Vec<u8>>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::signature(&mut h.c(), org, id)
        .await?
        .and_then(|s| lifecycle::signature_png(&s)))
}

/// A page of orders.
pub async fn list(st: &AppState, ctx: &Ctx, f: &Filter, p: PageReq) -> AppResult<Page<OrderRow>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), org, f, p).await?)
}

/// Who may be assigned to orders: (user id, name, role).
pub async fn engineers(st: &AppState, org: i64) -> AppResult<Vec<(i64, String, String)>> {
    let mut h = st.db.acquire().await?;
    Ok(repo::engineer_choices(&mut h.c(), org).await?)
}

/// Parts on hand per location, for the "part used" picker.
pub async fn stock(st: &AppState, org: i64) -> AppResult<Vec<(i64, i64, String, String, i64)>> {
    let mut h = st.db.acquire().await?;
    Ok(repo::stock_choices(&mut h.c(), org).await?)
}

/// Local year and month (YYYY-MM) of an instant.
fn year_month(cal: &domain::calendar::WorkCalendar, t: i64) -> (i64, String) {
    let d = cal.local_date(t);
    (d[0..4].parse().unwrap_or(1970), d[0..7].to_string())
}

/// Timeline and audit of a change, in the caller's transaction.
async fn record(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    now: i64,
    action: &str,
    before: Option<&ServiceOrder>,
    after: &ServiceOrder,
) -> AppResult<()> {
    audit(
        tx,
        ctx,
        org,
        now,
        Change {
            action,
            entity: KIND,
            id: after.id,
            before,
            after: Some(after),
        },
    )
    .await?;
    let created = before.is_none();
    let completed = before.is_some_and(|b| b.status != after.status)
        && after.status == Status::Completed.as_str();
    if (created || completed) && (after.customer_id.is_some() || after.equipment_id.is_some()) {
        let what: String = after
            .template_name
            .clone()
            .or_else(|| after.symptom.clone())
            .unwrap_or_default()
            .chars()
            .take(40)
            .collect();
        let summary = format!("{} {what}", after.number).trim().to_string();
        store::timeline::add(
            &mut tx.c(),
            &store::timeline::NewEvent {
                org_id: org,
                customer_id: after.customer_id,
                equipment_id: after.equipment_id,
                at: now,
                kind: if created { KIND } else { KIND_COMPLETED },
                ref_id: after.id,
                summary: &summary,
            },
        )
        .await?;
    }
    Ok(())
}

/// The unit, customer, product and site an order is for, resolved from the archives.
struct Target {
    equipment_id: Option<i64>,
    customer_id: Option<i64>,
    product_id: Option<i64>,
    site: Option<String>,
}

async fn resolve(tx: &mut Tx, org: i64, d: &OrderDraft) -> AppResult<Target> {
    let mut errs = FieldErrors::default();
    let mut t = Target {
        equipment_id: d.equipment_id,
        customer_id: None,
        product_id: None,
        site: d.site.clone(),
    };
    if t.equipment_id.is_none()
        && let Some(s) = &d.serial
    {
        t.equipment_id =
            store::archives::lookup::equipment_by_serial(&mut tx.c(), org, std::slice::from_ref(s))
                .await?
                .first()
                .map(|x| x.1);
        if t.equipment_id.is_none() {
            errs.add("serial", "so_unit_unknown", None);
        }
    }
    if let Some(id) = t.equipment_id {
        match store::archives::equipment::get(&mut tx.c(), org, id).await {
            Ok(e) => {
                t.customer_id = Some(e.customer_id);
                t.product_id = Some(e.product_id);
                if t.site.is_none() {
                    t.site = e.site_name;
                }
            }
            Err(store::StoreError::NotFound) => errs.add("equipment_id", "unknown", None),
            Err(e) => return Err(e.into()),
        }
    } else if let Some(id) = d.customer_id {
        match store::archives::customers::get_customer(&mut tx.c(), org, id).await {
            Ok(c) => {
                t.customer_id = Some(id);
                if t.site.is_none() {
                    t.site = c.address;
                }
            }
            Err(store::StoreError::NotFound) => errs.add("customer_id", "unknown", None),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(tid) = d.template_id {
        match store::maintenance::checklists::get_template(&mut tx.c(), org, tid).await {
            Ok(tpl) if tpl.active => {}
            Ok(_) | Err(store::StoreError::NotFound) => errs.add("template_id", "choice", None),
            Err(e) => return Err(e.into()),
        }
    }
    if errs.is_empty() {
        Ok(t)
    } else {
        Err(AppError::Invalid(errs))
    }
}

/// Reserves the next number of the year of `at` and inserts an order; returns its id.
#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut Tx,
    org: i64,
    kind: Kind,
    reported_at: i64,
    due_date: Option<&str>,
    created_by: i64,
    fields: Vec<(&'static str, Val)>,
    now: i64,
) -> AppResult<i64> {
    let cal = crate::complaints::sla::calendar(&mut tx.c(), org).await?;
    let (year, month) = year_month(&cal, reported_at);
    let month = due_date
        .filter(|d| d.len() >= 7)
        .map(|d| d[0..7].to_string())
        .unwrap_or(month);
    let seq = store::maintenance::numbers::reserve(&mut tx.c(), org, year, 1).await?;
    let id = repo::insert(
        &mut tx.c(),
        org,
        &NewOrder {
            number: store::maintenance::numbers::format(year, seq),
            kind: kind.as_str().into(),
            status: Status::Created.as_str().into(),
            reported_at,
            month,
            created_by: Some(created_by),
            fields,
        },
        now,
    )
    .await?;
    Ok(id)
}

/// Creates an order (reported now unless a time is given): number, event, timeline, audit.
pub async fn create(st: &AppState, ctx: &Ctx, d: OrderDraft) -> AppResult<ServiceOrder> {
    let org = ctx.require(Permission::WorkOrders)?.id;
    let now = st.now();
    let reported = d.reported_at.unwrap_or(now);
    if reported > now + 300 {
        return Err(AppError::Invalid(FieldErrors::single(
            "reported_at",
            "in_future",
        )));
    }
    let mut tx = st.db.begin().await?;
    let t = resolve(&mut tx, org, &d).await?;
    let fields = vec![
        ("equipment_id", Val::from(t.equipment_id)),
        ("customer_id", t.customer_id.into()),
        ("product_id", t.product_id.into()),
        ("site", t.site.into()),
        ("template_id", d.template_id.into()),
        ("due_date", d.due_date.clone().into()),
        ("symptom", d.symptom.clone().into()),
    ];
    let id = insert(
        &mut tx,
        org,
        d.kind,
        reported,
        d.due_date.as_deref(),
        ctx.user_id,
        fields,
        now,
    )
    .await?;
    repo::add_event(
        &mut tx.c(),
        org,
        id,
        now,
        Some(ctx.user_id),
        "create",
        None,
        Some(Status::Created.as_str()),
        None,
    )
    .await?;
    let o = repo::get(&mut tx.c(), org, id).await?;
    record(&mut tx, ctx, org, now, "create", None, &o).await?;
    tx.commit().await?;
    Ok(o)
}

async fn stale(tx: &mut Tx, org: i64, id: i64) -> AppError {
    match repo::last_change(&mut tx.c(), org, id).await {
        Ok(Some((by, at))) => AppError::StaleBy(by, at),
        _ => AppError::Stale,
    }
}

/// A lifecycle move with the data it records.
#[derive(Debug, Clone)]
pub enum Step {
    Schedule(Appointment),
    Dispatch {
        engineer_id: i64,
        note: Option<String>,
    },
    Arrive {
        at: Option<i64>,
    },
    Complete {
        note: Option<String>,
    },
    Accept(Acceptance),
    Close {
        note: Option<String>,
    },
    Cancel {
        reason: String,
    },
}

impl Step {
    fn action(&self) -> Action {
        match self {
            Step::Schedule(_) => Action::Schedule,
            Step::Dispatch { .. } => Action::Dispatch,
            Step::Arrive { .. } => Action::Arrive,
            Step::Complete { .. } => Action::Complete,
            Step::Accept(_) => Action::Accept,
            Step::Close { .. } => Action::Close,
            Step::Cancel { .. } => Action::Cancel,
        }
    }
    fn note(&self) -> Option<String> {
        match self {
            Step::Dispatch { note, .. } | Step::Complete { note } | Step::Close { note } => {
                note.clone()
            }
            Step::Cancel { reason } => Some(reason.clone()),
            Step::Accept(a) => Some(a.accepted_by.clone()),
            Step::Schedule(_) | Step::Arrive { .. } => None,
        }
    }
}

/// The audit action of a move.
fn audit_action(a: Action) -> &'static str {
    match a {
        Action::Schedule => "so_schedule",
        Action::Dispatch => "so_dispatch",
        Action::Arrive => "so_arrive",
        Action::Complete => "so_complete",
        Action::Accept => "so_accept",
        Action::Close => "so_close",
        Action::Cancel => "so_cancel",
    }
}

/// Required checklist items an order still misses.
async fn missing(tx: &mut Tx, org: i64, o: &ServiceOrder) -> AppResult<Vec<i64>> {
    let results = repo::results(&mut tx.c(), org, o.id).await?;
    let Some(e) = checklist_of(&mut tx.c(), org, o, &results).await? else {
        return Ok(Vec::new());
    };
    Ok(rules::missing_required(
        &e.rule_groups(),
        &answers(&results),
    ))
}

/// Applies a move to an order read at `version`.
pub async fn act(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    step: Step,
) -> AppResult<ServiceOrder> {
    let org = ctx.require(Permission::WorkOrders)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(stale(&mut tx, org, id).await);
    }
    let action = step.action();
    let checklist_missing = if action == Action::Complete {
        missing(&mut tx, org, &before).await?.len()
    } else {
        0
    };
    let to = lifecycle::next(
        &Facts {
            status: status_of(&before),
            checklist_missing,
        },
        action,
    )?;
    let mut cols: Vec<(&'static str, Val)> = vec![("status", to.as_str().into())];
    match &step {
        Step::Schedule(a) => {
            cols.push(("scheduled_start", a.start.into()));
            cols.push(("scheduled_end", a.end.into()));
        }
        Step::Dispatch { engineer_id, .. } => {
            let role = repo::member_role(&mut tx.c(), org, *engineer_id)
                .await?
                .and_then(|r| Role::parse(&r));
            if !role.is_some_and(|r| r.allows(Permission::WorkOrders)) {
                return Err(AppError::Invalid(FieldErrors::single(
                    "engineer_id",
                    "choice",
                )));
            }
            cols.push(("engineer_id", (*engineer_id).into()));
            cols.push(("dispatched_at", now.into()));
        }
        Step::Arrive { at } => {
            let at = at.unwrap_or(now);
            if at > now + 300 {
                return Err(AppError::Invalid(FieldErrors::single(
                    "arrived_at",
                    "in_future",
                )));
            }
            cols.push(("arrived_at", at.into()));
        }
        Step::Complete { .. } => {
            cols.push(("completed_at", now.into()));
            let kind = Kind::parse(&before.kind).unwrap_or(Kind::Repair);
            let earlier = match before.equipment_id {
                Some(e) if kind == Kind::Repair => {
                    repo::repairs_completed_between(
                        &mut tx.c(),
                        org,
                        e,
                        id,
                        now - FIRST_TIME_FIX_DAYS * 86_400,
                        now,
                    )
                    .await?
                }
                _ => 0,
            };
            cols.push((
                "first_time_fix",
                lifecycle::first_time_fix(kind, before.equipment_id.is_some(), earlier).into(),
            ));
        }
        Step::Accept(a) => {
            cols.push(("accepted_at", a.accepted_at.into()));
            cols.push(("accepted_by", a.accepted_by.clone().into()));
            cols.push(("signature", a.signature.clone().into()));
            cols.push(("rating", a.rating.into()));
        }
        Step::Close { .. } => cols.push(("closed_at", now.into())),
        Step::Cancel { reason } => {
            cols.push(("cancelled_at", now.into()));
            cols.push(("cancel_reason", reason.clone().into()));
        }
    }
    repo::patch(&mut tx.c(), org, id, version, &cols, now).await?;
    repo::add_event(
        &mut tx.c(),
        org,
        id,
        now,
        Some(ctx.user_id),
        action.as_str(),
        Some(&before.status),
        Some(to.as_str()),
        step.note().as_deref(),
    )
    .await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    record(
        &mut tx,
        ctx,
        org,
        now,
        audit_action(action),
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A checklist result as typed.
#[derive(Debug, Clone, Default)]
pub struct RawAnswer {
    pub item_id: i64,
    pub outcome: Option<String>,
    pub value: Option<String>,
    pub note: Option<String>,
}

/// The field-name prefix of an item's result in forms and errors (`r12_outcome`).
pub fn prefix(item: i64) -> String {
    format!("r{item}_")
}

/// What the work form saves.
#[derive(Debug, Clone, Default)]
pub struct WorkInput {
    pub work: Work,
    /// Results of the items sent; items of other checklists are ignored.
    pub answers: Vec<RawAnswer>,
}

fn same_answer(stored: Option<&ItemResult>, a: &Answer) -> bool {
    match stored {
        Some(r) => answer_of(r).outcome == a.outcome && r.value == a.value && r.note == a.note,
        None => a.outcome.is_none() && a.value.is_none() && a.note.is_none(),
    }
}

fn work_cols(w: &Work) -> Vec<(&'static str, Val)> {
    vec![
        ("symptom", w.symptom.clone().into()),
        ("diagnosis", w.diagnosis.clone().into()),
        ("cause", w.cause.clone().into()),
        ("actions", w.actions.clone().into()),
        ("labor_minutes", w.labor_minutes.into()),
        ("fee_fen", w.fee_fen.into()),
    ]
}

fn same_work(o: &ServiceOrder, w: &Work) -> bool {
    o.symptom == w.symptom
        && o.diagnosis == w.diagnosis
        && o.cause == w.cause
        && o.actions == w.actions
        && o.labor_minutes == w.labor_minutes
        && o.fee_fen == w.fee_fen
}

/// The audit record of a work save: the order and the results that changed.
#[derive(Serialize)]
struct WorkAudit<'a> {
    order: &'a ServiceOrder,
    results: Vec<&'a ItemResult>,
}

/// Saves the on-site work of an order read at `version`: results (upserted), symptom,
/// diagnosis, cause, actions, labour and fee. Sending what is already stored changes nothing
/// and succeeds even with an old version (a re-sent form); anything else with an old version
/// is refused as stale. Only open orders take work.
pub async fn save_work(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    input: WorkInput,
) -> AppResult<ServiceOrder> {
    let org = ctx.require(Permission::WorkOrders)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    repo::lock(&mut tx.c(), org, id).await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if !status_of(&before).open() {
        return Err(AppError::Transition("so_locked"));
    }
    let stored = repo::results(&mut tx.c(), org, id).await?;
    let checklist = checklist_of(&mut tx.c(), org, &before, &stored).await?;
    let items: HashMap<i64, rules::Item> = checklist
        .as_ref()
        .map(|e| e.items().map(|i| (i.id, i.rule())).collect())
        .unwrap_or_default();
    let mut errs = FieldErrors::default();
    let mut changed: Vec<ItemResult> = Vec::new();
    for raw in &input.answers {
        let Some(item) = items.get(&raw.item_id) else {
            continue;
        };
        let a = rules::answer(
            &mut errs,
            &prefix(raw.item_id),
            item,
            AnswerRaw {
                outcome: raw.outcome.as_deref(),
                value: raw.value.as_deref(),
                note: raw.note.as_deref(),
            },
        );
        let old = stored.iter().find(|r| r.item_id == raw.item_id);
        if !same_answer(old, &a) {
            changed.push(ItemResult {
                item_id: raw.item_id,
                outcome: a.outcome.map(|o| o.as_str().to_string()),
                value: a.value,
                note: a.note,
                attachment_id: old.and_then(|r| r.attachment_id),
                updated_at: now,
            });
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let work_changed = !same_work(&before, &input.work);
    if changed.is_empty() && !work_changed {
        // Nothing new: a re-sent form, whatever version it carries.
        return Ok(before);
    }
    if before.version != version {
        return Err(stale(&mut tx, org, id).await);
    }
    for r in &changed {
        repo::upsert_result(&mut tx.c(), org, id, r).await?;
    }
    repo::patch(&mut tx.c(), org, id, version, &work_cols(&input.work), now).await?;
    let note = (!changed.is_empty()).then(|| changed.len().to_string());
    repo::add_event(
        &mut tx.c(),
        org,
        id,
        now,
        Some(ctx.user_id),
        "work",
        None,
        None,
        note.as_deref(),
    )
    .await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    let old: Vec<&ItemResult> = stored
        .iter()
        .filter(|r| changed.iter().any(|c| c.item_id == r.item_id))
        .collect();
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "so_work",
            entity: KIND,
            id,
            before: Some(&WorkAudit {
                order: &before,
                results: old,
            }),
            after: Some(&WorkAudit {
                order: &after,
                results: changed.iter().collect(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A part used on an order.
#[derive(Debug, Clone)]
pub struct PartUse {
    pub part_id: i64,
    pub location_id: i64,
    pub qty: i64,
    /// A random value of the form that sent it: the same value again is a re-send.
    pub client_key: String,
}

/// Records a part used on an order and takes it from stock, in one transaction. The same
/// `client_key` again changes nothing (returns false); stock short is refused on `part_qty`.
pub async fn add_part(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    p: PartUse,
) -> AppResult<(ServiceOrder, bool)> {
    let org = ctx.require(Permission::WorkOrders)?.id;
    let now = st.now();
    let mut errs = FieldErrors::default();
    let key = p.client_key.trim();
    if key.is_empty() || key.len() > 64 {
        errs.add("client_key", "required", None);
    }
    if p.qty <= 0 {
        errs.add("part_qty", "quantity_positive", None);
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let mut tx = st.db.begin().await?;
    if !repo::lock(&mut tx.c(), org, id).await? {
        return Err(AppError::NotFound);
    }
    let before = repo::get(&mut tx.c(), org, id).await?;
    let status = status_of(&before);
    if !(status.open() || status == Status::Completed) {
        return Err(AppError::Transition("so_locked"));
    }
    let cost = repo::part_cost(&mut tx.c(), org, p.part_id).await?;
    let Some(unit_cost) = cost else {
        return Err(AppError::Invalid(FieldErrors::single("part_id", "choice")));
    };
    if !repo::location_exists(&mut tx.c(), org, p.location_id).await? {
        return Err(AppError::Invalid(FieldErrors::single("part_id", "choice")));
    }
    let inserted = repo::add_part_line(
        &mut tx.c(),
        org,
        id,
        p.part_id,
        p.location_id,
        p.qty,
        unit_cost,
        key,
        now,
    )
    .await?;
    if !inserted {
        return Ok((before, false));
    }
    let taken = store::maintenance::parts::take(
        &mut tx.c(),
        org,
        p.part_id,
        p.location_id,
        p.qty,
        Some(id),
        Some(ctx.user_id),
        now,
    )
    .await?;
    if !taken {
        // Dropping the transaction undoes the line just inserted; the message names the
        // part, the location and what is on hand.
        return Err(crate::maintenance::parts::service::shortage(
            &mut tx.c(),
            &ctx.tr,
            org,
            p.part_id,
            p.location_id,
            "part_qty",
        )
        .await?);
    }
    let total = repo::parts_cost(&mut tx.c(), org, id).await?;
    repo::patch(
        &mut tx.c(),
        org,
        id,
        before.version,
        &[("parts_cost_fen", total.into())],
        now,
    )
    .await?;
    let lines = repo::part_lines(&mut tx.c(), org, id).await?;
    let note = lines
        .last()
        .map(|l| format!("{} {} × {}", l.part_code, l.part_name, l.qty));
    repo::add_event(
        &mut tx.c(),
        org,
        id,
        now,
        Some(ctx.user_id),
        "part",
        None,
        None,
        note.as_deref(),
    )
    .await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    record(&mut tx, ctx, org, now, "so_part", Some(&before), &after).await?;
    tx.commit().await?;
    Ok((after, true))
}

/// Opens a repair order for the same unit from a failed checklist item of order `id`, with
/// the item's text as the symptom; when one was already opened for that item, returns it
/// (false) instead of opening another.
pub async fn repair_from_item(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    item_id: i64,
) -> AppResult<(ServiceOrder, bool)> {
    let org = ctx.require(Permission::WorkOrders)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    // Two clicks at once: the second waits here and then finds the first one's order.
    if !repo::lock(&mut tx.c(), org, id).await? {
        return Err(AppError::NotFound);
    }
    let source = repo::get(&mut tx.c(), org, id).await?;
    let results = repo::results(&mut tx.c(), org, id).await?;
    let checklist = checklist_of(&mut tx.c(), org, &source, &results).await?;
    let Some(item) = checklist
        .as_ref()
        .and_then(|e| e.items().find(|i| i.id == item_id).cloned())
    else {
        return Err(AppError::NotFound);
    };
    let Some(result) = results
        .iter()
        .find(|r| r.item_id == item_id && r.outcome.as_deref() == Some(Outcome::Fail.as_str()))
    else {
        return Err(AppError::Transition("so_item_not_failed"));
    };
    if let Some(existing) = repo::repair_from(&mut tx.c(), org, id, &item.text).await? {
        let o = repo::get(&mut tx.c(), org, existing).await?;
        return Ok((o, false));
    }
    let fields = vec![
        ("equipment_id", Val::from(source.equipment_id)),
        ("customer_id", source.customer_id.into()),
        ("product_id", source.product_id.into()),
        ("site", source.site.clone().into()),
        ("source_order_id", Some(id).into()),
        ("symptom", item.text.clone().into()),
    ];
    let rid = insert(
        &mut tx,
        org,
        Kind::Repair,
        now,
        None,
        ctx.user_id,
        fields,
        now,
    )
    .await?;
    let mut found = format!("{} · {} {}", source.number, item.group_code, item.text);
    if let Some(v) = result.value {
        found.push_str(&format!(
            " = {v}{}",
            item.unit
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default()
        ));
    }
    if let Some(n) = &result.note {
        found.push_str(&format!(" ({n})"));
    }
    repo::add_event(
        &mut tx.c(),
        org,
        rid,
        now,
        Some(ctx.user_id),
        "create",
        None,
        Some(Status::Created.as_str()),
        Some(&found),
    )
    .await?;
    let repair = repo::get(&mut tx.c(), org, rid).await?;
    repo::add_event(
        &mut tx.c(),
        org,
        id,
        now,
        Some(ctx.user_id),
        "repair_opened",
        None,
        None,
        Some(&format!("{} {}", repair.number, item.text)),
    )
    .await?;
    record(&mut tx, ctx, org, now, "create", None, &repair).await?;
    tx.commit().await?;
    Ok((repair, true))
}
