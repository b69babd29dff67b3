//! Return-visit transactions. Reading needs ViewSatisfaction (every role); creating,
//! recording and reassigning need HandleVisits; cancelling, the rules and "generate now"
//! need ManageSurveys. Staff see the visits assigned to them and those of the complaints
//! their departments work on (the complaint scope); every other role sees all; the auditor
//! changes nothing. Recording a visit and its outcome (the complaint closed or reopened
//! through its lifecycle, or a new complaint registered) is one transaction.

use domain::auth::{Permission, Role};
use domain::complaints::draft::Registration;
use domain::complaints::{Channel, Class};
use domain::satisfaction::visits::{Method, Outcome, Record, Settings, Source, VisitStatus};
use domain::{DomainError, FieldErrors};
use serde::Serialize;
use store::maintenance::orders::Val;
use store::satisfaction::visits::{self as repo, Filter, NewVisit, Scope, Visit, VisitSettings};
use store::{Page, PageReq, Tx};

use super::rules::{self, Generated, KIND};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::complaints::service::{self as complaints, By, Step};
use crate::error::{AppError, AppResult};
use crate::org::service::{Change, audit};

/// The audit entity of the rules.
pub const SETTINGS_KIND: &str = "visit_settings";

/// What the signed-in user may see of visits.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub org: i64,
    pub user_id: i64,
    pub role: Role,
    pub scope: Scope,
}

/// The access of the signed-in user for `p` (403 without it).
pub fn access(ctx: &Ctx, p: Permission) -> AppResult<Access> {
    let o = ctx.require(p)?;
    Ok(Access {
        org: o.id,
        user_id: ctx.user_id,
        role: o.role,
        scope: if o.role == Role::Staff {
            Scope::Staff {
                user_id: ctx.user_id,
            }
        } else {
            Scope::All
        },
    })
}

/// The rules of the user's organization (written with the defaults on first read).
pub async fn settings(st: &AppState, ctx: &Ctx) -> AppResult<VisitSettings> {
    let a = access(ctx, Permission::ViewSatisfaction)?;
    let mut tx = st.db.begin().await?;
    let s = rules::settings_row(&mut tx.c(), a.org, st.now()).await?;
    tx.commit().await?;
    Ok(s)
}

/// Replaces the rules read at `version`.
pub async fn put_settings(
    st: &AppState,
    ctx: &Ctx,
    version: i64,
    s: &Settings,
) -> AppResult<VisitSettings> {
    let a = access(ctx, Permission::ManageSurveys)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = rules::settings_row(&mut tx.c(), a.org, now).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    repo::put_settings(&mut tx.c(), a.org, version, &rules::values_of(s), now).await?;
    let after = rules::settings_row(&mut tx.c(), a.org, now).await?;
    audit(
        &mut tx,
        ctx,
        a.org,
        now,
        Change {
            action: "update",
            entity: SETTINGS_KIND,
            id: a.org,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A page of the visits the user may see.
pub async fn list(st: &AppState, ctx: &Ctx, f: &Filter, p: PageReq) -> AppResult<Page<Visit>> {
    let a = access(ctx, Permission::ViewSatisfaction)?;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), a.org, a.scope, f, p).await?)
}

/// A visit the user may see (404 otherwise, as if it did not exist).
pub async fn get(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Visit> {
    let a = access(ctx, Permission::ViewSatisfaction)?;
    let mut h = st.db.acquire().await?;
    if !repo::visible(&mut h.c(), a.org, a.scope, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(repo::get(&mut h.c(), a.org, id).await?)
}

/// A visit with what its page offers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub visit: Visit,
    /// A rating at or below this is unsatisfied unless the visitor says otherwise.
    pub low_rating: i64,
    /// What the user may do now: record, reassign, cancel.
    pub actions: Vec<&'static str>,
}

/// The detail of a visit the user may see.
pub async fn detail(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Detail> {
    let visit = get(st, ctx, id).await?;
    let s = settings(st, ctx).await?;
    let mut actions = Vec::new();
    if visit.status == VisitStatus::Planned.as_str() {
        if ctx.can(Permission::HandleVisits) {
            actions.extend(["record", "reassign"]);
        }
        if ctx.can(Permission::ManageSurveys) {
            actions.push("cancel");
        }
    }
    Ok(Detail {
        visit,
        low_rating: s.low_rating,
        actions,
    })
}

/// The members visits may be assigned to: (id, name, role).
pub async fn assignable(st: &AppState, org: i64) -> AppResult<Vec<(i64, String, String)>> {
    let mut h = st.db.acquire().await?;
    Ok(repo::assignable(&mut h.c(), org).await?)
}

/// Today on the organization's calendar (YYYY-MM-DD).
pub async fn today(st: &AppState, org: i64) -> AppResult<String> {
    let mut h = st.db.acquire().await?;
    let cal = crate::complaints::sla::calendar(&mut h.c(), org).await?;
    Ok(cal.local_date(st.now()))
}

async fn audit_visit(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    now: i64,
    action: &str,
    before: Option<&Visit>,
    after: &Visit,
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
    .await
}

/// Reads a planned visit for a change: visible, still at `version`, still planned.
async fn load_for_change(tx: &mut Tx, a: &Access, id: i64, version: i64) -> AppResult<Visit> {
    if !repo::visible(&mut tx.c(), a.org, a.scope, id).await? {
        return Err(AppError::NotFound);
    }
    let v = repo::get(&mut tx.c(), a.org, id).await?;
    if v.version != version {
        return Err(AppError::Stale);
    }
    if v.status != VisitStatus::Planned.as_str() {
        return Err(AppError::Transition("visit_not_planned"));
    }
    Ok(v)
}

/// A visit created by hand: for a customer, optionally a unit, a service order or a
/// complaint waiting at its return visit (then it is that complaint's visit).
#[derive(Debug, Clone, Default)]
pub struct Manual {
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub service_order_id: Option<i64>,
    pub complaint_id: Option<i64>,
    /// Default: the user creating it.
    pub assignee_id: Option<i64>,
    /// YYYY-MM-DD; default today.
    pub due_date: Option<String>,
}

impl Manual {
    /// Checks the shape (the references are checked against the archives on save).
    pub fn check(mut errs: FieldErrors, m: Manual) -> Result<Manual, DomainError> {
        if m.customer_id.is_none()
            && m.equipment_id.is_none()
            && m.service_order_id.is_none()
            && m.complaint_id.is_none()
            && errs.get("customer_id").is_none()
        {
            errs.add("customer_id", "required", None);
        }
        if let Some(d) = &m.due_date
            && !domain::satisfaction::visits::valid_date(d)
        {
            errs.add("due_date", "date", None);
        }
        errs.into_result(m)
    }
}

/// Creates a planned visit by hand.
pub async fn create(st: &AppState, ctx: &Ctx, m: Manual) -> AppResult<Visit> {
    let a = access(ctx, Permission::HandleVisits)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let mut errs = FieldErrors::default();
    let mut v = NewVisit {
        source: Source::Manual.as_str().into(),
        customer_id: m.customer_id,
        equipment_id: m.equipment_id,
        assignee_id: Some(m.assignee_id.unwrap_or(ctx.user_id)),
        ..Default::default()
    };
    if let Some(id) = m.complaint_id {
        match store::complaints::get(&mut tx.c(), a.org, id).await {
            Ok(k) if k.status == "return_visit" => {
                v.source = Source::Complaint.as_str().into();
                v.complaint_id = Some(id);
                v.customer_id = v.customer_id.or(k.customer_id);
                v.equipment_id = v.equipment_id.or(k.equipment_id);
            }
            Ok(_) => errs.add("complaint_id", "visit_complaint_not_waiting", None),
            Err(store::StoreError::NotFound) => errs.add("complaint_id", "unknown", None),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(id) = m.service_order_id {
        match store::maintenance::orders::get(&mut tx.c(), a.org, id).await {
            Ok(o) => {
                v.service_order_id = Some(id);
                v.customer_id = v.customer_id.or(o.customer_id);
                v.equipment_id = v.equipment_id.or(o.equipment_id);
                v.engineer_id = o.engineer_id;
            }
            Err(store::StoreError::NotFound) => errs.add("service_order_id", "unknown", None),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(id) = m.equipment_id {
        match store::archives::equipment::get(&mut tx.c(), a.org, id).await {
            Ok(e) => v.customer_id = v.customer_id.or(Some(e.customer_id)),
            Err(store::StoreError::NotFound) => errs.add("equipment_id", "unknown", None),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(id) = v.customer_id
        && let Err(e) = store::archives::customers::get_customer(&mut tx.c(), a.org, id).await
    {
        match e {
            store::StoreError::NotFound => errs.add("customer_id", "unknown", None),
            e => return Err(e.into()),
        }
    }
    if let Some(u) = v.assignee_id
        && !repo::is_assignable(&mut tx.c(), a.org, u).await?
    {
        errs.add("assignee_id", "choice", None);
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let cal = crate::complaints::sla::calendar(&mut tx.c(), a.org).await?;
    v.due_date = m.due_date.unwrap_or_else(|| cal.local_date(now));
    let ids = repo::insert_planned(&mut tx.c(), a.org, std::slice::from_ref(&v), now).await?;
    let Some(id) = ids.first().copied().flatten() else {
        // A unique index holds another visit of this order or an open one of this complaint.
        let field = if v.service_order_id.is_some() {
            "service_order_id"
        } else {
            "complaint_id"
        };
        return Err(AppError::Invalid(FieldErrors::single(field, "visit_taken")));
    };
    let after = repo::get(&mut tx.c(), a.org, id).await?;
    audit_visit(&mut tx, ctx, a.org, now, "create", None, &after).await?;
    if let Some(u) = after.assignee_id
        && u != ctx.user_id
    {
        rules::notify_assignee(&mut tx, a.org, u, id, &after.due_date, now).await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// The complaint channel of a visit method.
fn channel_of(m: Method) -> Channel {
    match m {
        Method::Phone => Channel::Phone,
        Method::OnSite => Channel::Visit,
        Method::Online => Channel::Web,
    }
}

/// Records the return-visit form on a planned visit read at `version`, and its outcome in
/// the same transaction: a complaint's visit closes (satisfied) or reopens (not) the
/// complaint through its lifecycle; any other unsatisfied visit registers a new complaint
/// for the customer (and unit) with the customer's own words.
pub async fn record(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    r: Record,
) -> AppResult<Visit> {
    let a = access(ctx, Permission::HandleVisits)?;
    let now = st.now();
    let by = By::user(ctx);
    let mut tx = st.db.begin().await?;
    let before = load_for_change(&mut tx, &a, id, version).await?;
    let note = r
        .customer_words
        .clone()
        .or_else(|| r.follow_up.clone())
        .unwrap_or_else(|| format!("{}/5", r.rating));
    let (outcome, opened) = match (Source::parse(&before.source), before.complaint_id) {
        (Some(Source::Complaint), Some(cid)) => {
            let k = store::complaints::get(&mut tx.c(), a.org, cid).await?;
            if k.status != "return_visit" {
                return Err(AppError::Transition("visit_complaint_moved"));
            }
            let ca = complaints::Access {
                org: a.org,
                user_id: a.user_id,
                role: a.role,
                departments: Vec::new(),
                scope: store::complaints::Scope::All,
            };
            let step = Step::Visit {
                satisfied: r.satisfied,
                note: Some(note),
            };
            complaints::act_in(&mut tx, &by, &ca, now, cid, k.version, step).await?;
            let o = if r.satisfied {
                Outcome::Closed
            } else {
                Outcome::Reopened
            };
            (o, None)
        }
        _ if !r.satisfied => {
            let reg = Registration {
                channel: channel_of(r.method),
                class: Class::Other,
                severity: "minor".into(),
                fault_category: r.problem_category.clone(),
                customer_id: before.customer_id,
                customer_name: String::new(),
                contact_name: None,
                contact_phone: None,
                address: None,
                order_id: None,
                order_no: None,
                product_id: None,
                part_no: None,
                equipment_id: before.equipment_id,
                serial: None,
                batch_no: None,
                ship_date: None,
                quantity: None,
                defective_quantity: None,
                days_in_service: None,
                description: note,
                demand: r.follow_up.clone(),
            };
            let k = complaints::register_in(&mut tx, &by, a.org, now, reg, None).await?;
            (Outcome::ComplaintOpened, Some(k.id))
        }
        _ => (Outcome::None, None),
    };
    let cols: Vec<(&'static str, Val)> = vec![
        ("status", VisitStatus::Done.as_str().into()),
        ("visited_at", r.visited_at.into()),
        ("method", r.method.as_str().into()),
        ("rating", r.rating.into()),
        ("problem_category", r.problem_category.clone().into()),
        ("customer_words", r.customer_words.clone().into()),
        ("follow_up", r.follow_up.clone().into()),
        ("satisfied", r.satisfied.into()),
        ("outcome", outcome.as_str().into()),
        ("outcome_complaint_id", opened.into()),
        ("visitor_id", ctx.user_id.into()),
    ];
    repo::patch(&mut tx.c(), a.org, id, version, &cols, now).await?;
    let after = repo::get(&mut tx.c(), a.org, id).await?;
    if after.customer_id.is_some() || after.equipment_id.is_some() {
        let words: String = r
            .customer_words
            .as_deref()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect();
        let summary = format!("{}/5 {words}", r.rating).trim_end().to_string();
        store::timeline::add(
            &mut tx.c(),
            &store::timeline::NewEvent {
                org_id: a.org,
                customer_id: after.customer_id,
                equipment_id: after.equipment_id,
                at: r.visited_at,
                kind: KIND,
                ref_id: id,
                summary: &summary,
            },
        )
        .await?;
    }
    audit_visit(
        &mut tx,
        ctx,
        a.org,
        now,
        "visit_record",
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    if opened.is_some() {
        st.complaint_index.poke(&st.db);
    }
    Ok(after)
}

/// Gives a planned visit read at `version` to another member, who is notified.
pub async fn reassign(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    assignee_id: i64,
) -> AppResult<Visit> {
    let a = access(ctx, Permission::HandleVisits)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = load_for_change(&mut tx, &a, id, version).await?;
    if !repo::is_assignable(&mut tx.c(), a.org, assignee_id).await? {
        return Err(AppError::Invalid(FieldErrors::single(
            "assignee_id",
            "choice",
        )));
    }
    repo::patch(
        &mut tx.c(),
        a.org,
        id,
        version,
        &[("assignee_id", assignee_id.into())],
        now,
    )
    .await?;
    let after = repo::get(&mut tx.c(), a.org, id).await?;
    audit_visit(
        &mut tx,
        ctx,
        a.org,
        now,
        "visit_reassign",
        Some(&before),
        &after,
    )
    .await?;
    if before.assignee_id != Some(assignee_id) && assignee_id != ctx.user_id {
        rules::notify_assignee(&mut tx, a.org, assignee_id, id, &after.due_date, now).await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// Cancels a planned visit read at `version`, with the reason.
pub async fn cancel(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    reason: String,
) -> AppResult<Visit> {
    let a = access(ctx, Permission::ManageSurveys)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = load_for_change(&mut tx, &a, id, version).await?;
    repo::patch(
        &mut tx.c(),
        a.org,
        id,
        version,
        &[
            ("status", VisitStatus::Cancelled.as_str().into()),
            ("cancel_reason", reason.into()),
        ],
        now,
    )
    .await?;
    let after = repo::get(&mut tx.c(), a.org, id).await?;
    audit_visit(
        &mut tx,
        ctx,
        a.org,
        now,
        "visit_cancel",
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Runs the generation for the user's organization now (managers).
pub async fn generate_now(st: &AppState, ctx: &Ctx) -> AppResult<Generated> {
    let a = access(ctx, Permission::ManageSurveys)?;
    rules::generate_org(&st.db, a.org, st.now()).await
}

/// The sampling counts of the last months: (month, orders seen, orders picked).
pub async fn sampling(st: &AppState, ctx: &Ctx) -> AppResult<Vec<(String, i64, i64)>> {
    let a = access(ctx, Permission::ViewSatisfaction)?;
    let mut h = st.db.acquire().await?;
    Ok(repo::sampling_months(&mut h.c(), a.org, 12).await?)
}

/// The user's planned visits: (all, due by today).
pub async fn my_counts(st: &AppState, ctx: &Ctx) -> AppResult<(i64, i64)> {
    let a = access(ctx, Permission::ViewSatisfaction)?;
    let today = today(st, a.org).await?;
    let mut h = st.db.acquire().await?;
    Ok(repo::my_counts(&mut h.c(), a.org, a.user_id, &today).await?)
}
