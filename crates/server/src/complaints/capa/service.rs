//! CAPA transactions: opening from a complaint (numbered, with the complaint's event, in one
//! transaction), 8D edits, actions, the start of the effectiveness check, its evaluation and
//! closing. Every change writes its audit row in the same transaction. Everyone with
//! `ViewComplaints` reads CAPAs; `ManageCapa` changes them (the auditor reads only).

use domain::auth::Permission;
use domain::complaints::capa::{self as rules, ActionDraft, CapaStatus, Effect, EightD, Facts};
use domain::{DomainError, FieldErrors};
use serde::Serialize;
use store::audit::{Actor, NewEntry};
use store::complaints::capa::{
    self as repo, Action, Capa, CapaRow, EightDValues, Filter, NewAction, NewCapa, Recurrence,
    State,
};
use store::{Conn, Page, PageReq, Tx};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::complaints::sla;
use crate::error::{AppError, AppResult};

/// The audit entity of a CAPA.
pub const ENTITY: &str = "capa";
/// The audit entity of a CAPA action.
pub const ACTION_ENTITY: &str = "capa_action";
/// Days of the check when the organization set neither days nor units: a CAPA without a
/// criterion could never pass.
pub const FALLBACK_DAYS: i64 = 90;
/// Recurrences listed on the page (the count covers all).
const RECURRENCES_SHOWN: i64 = 20;

/// Writes one audit row for `actor` inside `tx`.
#[allow(clippy::too_many_arguments)]
pub async fn audit_as<T: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    org: i64,
    now: i64,
    action: &str,
    entity: &str,
    id: i64,
    before: Option<&T>,
    after: Option<&T>,
) -> AppResult<()> {
    let to = |v: Option<&T>| v.and_then(|v| serde_json::to_value(v).ok());
    store::audit::record(
        &mut tx.c(),
        NewEntry {
            org_id: Some(org),
            at: now,
            actor,
            action,
            entity,
            entity_id: Some(id),
            before: to(before),
            after: to(after),
        },
    )
    .await?;
    Ok(())
}

fn status_of(k: &Capa) -> CapaStatus {
    // Statuses are only written from the vocabulary; an unknown one is treated as closed so
    // nothing changes it.
    CapaStatus::parse(&k.status).unwrap_or(CapaStatus::Closed)
}

fn facts(k: &Capa) -> Facts<'_> {
    Facts {
        status: status_of(k),
        d2_problem: k.d2_problem.as_deref(),
        d4_occurrence: k.d4_occurrence.as_deref(),
        d5_action: k.d5_action.as_deref(),
        d8_closure: k.d8_closure.as_deref(),
        open_actions: k.open_actions,
    }
}

/// The organization's local date at `now` (decides what is overdue).
pub async fn today(c: &mut Conn<'_>, org: i64, now: i64) -> AppResult<String> {
    Ok(sla::calendar(c, org).await?.local_date(now))
}

/// A page of CAPAs; `f.today` is filled here.
pub async fn list(st: &AppState, ctx: &Ctx, mut f: Filter, p: PageReq) -> AppResult<Page<CapaRow>> {
    let org = ctx.require(Permission::ViewComplaints)?.id;
    let mut h = st.db.acquire().await?;
    f.today = today(&mut h.c(), org, st.now()).await?;
    Ok(repo::list(&mut h.c(), org, &f, p).await?)
}

/// One CAPA.
pub async fn get(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Capa> {
    let org = ctx.require(Permission::ViewComplaints)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get(&mut h.c(), org, id).await?)
}

/// An action with whether it is past due today.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    #[serde(flatten)]
    pub action: Action,
    pub overdue: bool,
}

/// The effectiveness check as measured now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EffectView {
    /// When the check started (none before the first start).
    pub started_at: Option<i64>,
    /// Days without recurrence required (0 = not used).
    pub days: i64,
    pub days_elapsed: i64,
    /// Units shipped without recurrence required (0 = not used).
    pub units: i64,
    /// Units of the CAPA's product shipped since the start (none without a product).
    pub units_shipped: Option<i64>,
    /// Complaints repeating the problem since the start.
    pub recurrence_count: i64,
    /// The first of them.
    pub recurrences: Vec<Recurrence>,
    /// pending, passed or failed: what a check would decide now (while verifying).
    pub outcome: Option<String>,
    pub checked_at: Option<i64>,
    /// The last check's verdict: passed or failed.
    pub result: Option<String>,
}

/// A CAPA with its actions, the check and the moves its status offers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub capa: Capa,
    pub actions: Vec<ActionView>,
    pub effect: EffectView,
    /// start_check, evaluate or close (each still checked on submit).
    pub moves: Vec<&'static str>,
    /// The organization's local date the overdue flags were decided on.
    pub today: String,
}

/// The measures of the check of `k` since its start.
struct Measures {
    started_at: i64,
    recurrences: i64,
    units_shipped: Option<i64>,
}

async fn measure(c: &mut Conn<'_>, org: i64, k: &Capa, started_at: i64) -> AppResult<Measures> {
    let recurrences = repo::recurrences_since(c, org, k, started_at).await?;
    let units_shipped = match k.product_id {
        Some(p) => {
            let since = sla::calendar(c, org).await?.local_date(started_at);
            Some(repo::units_shipped_since(c, org, p, &since).await?)
        }
        None => None,
    };
    Ok(Measures {
        started_at,
        recurrences,
        units_shipped,
    })
}

fn verdict(k: &Capa, m: &Measures, now: i64) -> Effect {
    rules::effectiveness(
        m.started_at,
        now,
        k.effect_days,
        k.effect_units,
        m.units_shipped.unwrap_or(0),
        m.recurrences,
    )
}

/// Everything the detail page and the API detail show.
pub async fn detail(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Detail> {
    let org = ctx.require(Permission::ViewComplaints)?.id;
    let now = st.now();
    let mut h = st.db.acquire().await?;
    let k = repo::get(&mut h.c(), org, id).await?;
    let today = today(&mut h.c(), org, now).await?;
    let actions = repo::actions(&mut h.c(), org, id)
        .await?
        .into_iter()
        .map(|a| ActionView {
            overdue: rules::overdue(a.done_at.is_some(), &a.due_date, &today),
            action: a,
        })
        .collect();
    let status = status_of(&k);
    let effect = match k.effect_started_at {
        Some(started) => {
            // A closed or effective CAPA's check ended when it was last checked.
            let until = match status {
                CapaStatus::Verifying => now,
                _ => k.effect_checked_at.unwrap_or(now),
            };
            let m = measure(&mut h.c(), org, &k, started).await?;
            let recurrences =
                repo::recurrences(&mut h.c(), org, &k, started, RECURRENCES_SHOWN).await?;
            EffectView {
                started_at: Some(started),
                days: k.effect_days,
                days_elapsed: rules::days_elapsed(started, until),
                units: k.effect_units,
                units_shipped: m.units_shipped,
                recurrence_count: m.recurrences,
                recurrences,
                outcome: (status == CapaStatus::Verifying)
                    .then(|| verdict(&k, &m, now).as_str().to_string()),
                checked_at: k.effect_checked_at,
                result: k.effect_result.clone(),
            }
        }
        None => EffectView {
            started_at: None,
            days: k.effect_days,
            days_elapsed: 0,
            units: k.effect_units,
            units_shipped: None,
            recurrence_count: 0,
            recurrences: vec![],
            outcome: None,
            checked_at: k.effect_checked_at,
            result: k.effect_result.clone(),
        },
    };
    let moves = if ctx.can(Permission::ManageCapa) {
        rules::offered(status)
    } else {
        vec![]
    };
    Ok(Detail {
        capa: k,
        actions,
        effect,
        moves,
        today,
    })
}

/// What opening a CAPA from a complaint did.
#[derive(Debug)]
pub enum Opened {
    Created(Box<Capa>),
    /// The complaint already has a CAPA that is not closed: this one.
    Existing(i64),
}

/// The days and units of a new CAPA's check, from the settings.
fn criterion(s: &store::complaints::settings::Settings) -> (i64, i64) {
    let days = s.capa_effect_days.max(0);
    let units = s.capa_effect_units.max(0);
    if days == 0 && units == 0 {
        (FALLBACK_DAYS, 0)
    } else {
        (days, units)
    }
}

/// A title from the complaint: its number and fault category, or the start of its
/// description.
fn title_of(src: &repo::Source) -> String {
    let what = match src.fault_category.as_deref() {
        Some(f) if !f.trim().is_empty() => f.trim().to_string(),
        _ => {
            let d: String = src.description.trim().chars().take(60).collect();
            d.lines().next().unwrap_or("").to_string()
        }
    };
    format!("{} {}", src.number, what).trim().to_string()
}

/// Opens a CAPA from a complaint the user may see, copying customer, product, part number
/// and fault category, with the complaint's description as D2. A complaint whose CAPA is
/// not closed keeps that one.
pub async fn open(st: &AppState, ctx: &Ctx, complaint: i64) -> AppResult<Opened> {
    let a = crate::complaints::service::access(st, ctx, Permission::ManageCapa).await?;
    // Two CAPAs of different complaints may take the same number at once on PostgreSQL:
    // the unique constraint refuses the second, which then takes the next number.
    let mut attempt = 0;
    loop {
        match try_open(st, ctx, &a, complaint).await {
            Err(AppError::Duplicate) if attempt < 5 => attempt += 1,
            r => return r,
        }
    }
}

async fn try_open(
    st: &AppState,
    ctx: &Ctx,
    a: &crate::complaints::service::Access,
    complaint: i64,
) -> AppResult<Opened> {
    let org = a.org;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    if !store::complaints::visible(&mut tx.c(), org, a.scope, complaint).await? {
        return Err(AppError::NotFound);
    }
    let src = repo::lock_source(&mut tx.c(), org, complaint).await?;
    if let Some(existing) = repo::open_for_complaint(&mut tx.c(), org, complaint).await? {
        return Ok(Opened::Existing(existing));
    }
    let settings = store::complaints::settings::get(&mut tx.c(), org).await?;
    let local = today(&mut tx.c(), org, now).await?;
    let year: i32 = local.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(1970);
    let number = repo::next_number(&mut tx.c(), org, year).await?;
    let (days, units) = criterion(&settings);
    let title = title_of(&src);
    let id = repo::insert(
        &mut tx.c(),
        org,
        &NewCapa {
            number: &number,
            complaint_id: Some(complaint),
            title: &title,
            owner_id: Some(ctx.user_id),
            customer_id: src.customer_id,
            product_id: src.product_id,
            part_no: src.part_no.as_deref(),
            fault_category: src.fault_category.as_deref(),
            d2_problem: Some(&src.description),
            effect_days: days,
            effect_units: units,
            created_by: Some(ctx.user_id),
        },
        now,
    )
    .await?;
    store::complaints::steps::add_event(
        &mut tx.c(),
        org,
        &store::complaints::steps::NewEvent {
            complaint_id: complaint,
            at: now,
            user_id: Some(ctx.user_id),
            action: "capa_opened",
            from_status: None,
            to_status: None,
            note: Some(&number),
            data: None,
        },
    )
    .await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit_as(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        "create",
        ENTITY,
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(Opened::Created(Box::new(after)))
}

async fn load(tx: &mut Tx, org: i64, id: i64, version: Option<i64>) -> AppResult<Capa> {
    let k = repo::get(&mut tx.c(), org, id).await?;
    if version.is_some_and(|v| v != k.version) {
        return Err(AppError::Stale);
    }
    Ok(k)
}

async fn check_owner(tx: &mut Tx, org: i64, owner: Option<i64>) -> AppResult<()> {
    if let Some(u) = owner
        && !repo::is_member(&mut tx.c(), org, u).await?
    {
        return Err(AppError::Invalid(FieldErrors::single(
            "owner_id",
            "capa_owner_unknown",
        )));
    }
    Ok(())
}

/// Writes the 8D form of a CAPA read at `version`.
pub async fn update(st: &AppState, ctx: &Ctx, id: i64, version: i64, d: EightD) -> AppResult<Capa> {
    let org = ctx.require(Permission::ManageCapa)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = load(&mut tx, org, id, Some(version)).await?;
    rules::editable(status_of(&before))?;
    check_owner(&mut tx, org, d.owner_id).await?;
    repo::update_8d(
        &mut tx.c(),
        org,
        id,
        version,
        &EightDValues {
            title: &d.title,
            owner_id: d.owner_id,
            due_date: d.due_date.as_deref(),
            d1_team: d.d1_team.as_deref(),
            d2_problem: d.d2_problem.as_deref(),
            d3_containment: d.d3_containment.as_deref(),
            d4_occurrence: d.d4_occurrence.as_deref(),
            d4_escape: d.d4_escape.as_deref(),
            d5_action: d.d5_action.as_deref(),
            d6_validation: d.d6_validation.as_deref(),
            d7_prevention: d.d7_prevention.as_deref(),
            d8_closure: d.d8_closure.as_deref(),
            effect_days: d.effect_days,
            effect_units: d.effect_units,
        },
        now,
    )
    .await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit_as(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        "update",
        ENTITY,
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Adds an action to a CAPA that is not closed.
pub async fn add_action(st: &AppState, ctx: &Ctx, id: i64, d: ActionDraft) -> AppResult<Action> {
    let org = ctx.require(Permission::ManageCapa)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let k = load(&mut tx, org, id, None).await?;
    rules::editable(status_of(&k))?;
    check_owner(&mut tx, org, Some(d.owner_id)).await?;
    // The version bump orders this against a concurrent start of the check.
    if !repo::touch(&mut tx.c(), org, id, now).await? {
        return Err(DomainError::InvalidTransition("capa_closed").into());
    }
    let aid = repo::add_action(
        &mut tx.c(),
        org,
        id,
        &NewAction {
            discipline: d.discipline.as_str(),
            description: &d.description,
            owner_id: d.owner_id,
            due_date: &d.due_date,
        },
        now,
    )
    .await?;
    let after = repo::get_action(&mut tx.c(), org, id, aid).await?;
    audit_as(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        "create",
        ACTION_ENTITY,
        aid,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Marks an action done, with its result.
pub async fn finish_action(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    action_id: i64,
    result: Option<String>,
) -> AppResult<Action> {
    let org = ctx.require(Permission::ManageCapa)?.id;
    let mut errs = FieldErrors::default();
    let result = rules::action_result(&mut errs, result.as_deref());
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let k = load(&mut tx, org, id, None).await?;
    rules::editable(status_of(&k))?;
    let before = repo::get_action(&mut tx.c(), org, id, action_id).await?;
    if before.done_at.is_some()
        || !repo::finish_action(&mut tx.c(), org, id, action_id, result.as_deref(), now).await?
    {
        return Err(AppError::Transition("capa_action_done"));
    }
    if !repo::touch(&mut tx.c(), org, id, now).await? {
        return Err(AppError::Transition("capa_closed"));
    }
    let after = repo::get_action(&mut tx.c(), org, id, action_id).await?;
    audit_as(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        "capa_finish",
        ACTION_ENTITY,
        action_id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Starts the effectiveness check of a CAPA read at `version`.
pub async fn start_check(st: &AppState, ctx: &Ctx, id: i64, version: i64) -> AppResult<Capa> {
    let org = ctx.require(Permission::ManageCapa)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = load(&mut tx, org, id, Some(version)).await?;
    let to = rules::start_check(&facts(&before))?;
    repo::set_state(
        &mut tx.c(),
        org,
        id,
        version,
        &State {
            status: to.as_str(),
            effect_started_at: Some(now),
            effect_checked_at: None,
            effect_result: None,
            closed_at: None,
        },
        now,
    )
    .await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit_as(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        "capa_start_check",
        ENTITY,
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Closes an effective CAPA read at `version` whose D8 is written.
pub async fn close(st: &AppState, ctx: &Ctx, id: i64, version: i64) -> AppResult<Capa> {
    let org = ctx.require(Permission::ManageCapa)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = load(&mut tx, org, id, Some(version)).await?;
    let to = rules::close(&facts(&before))?;
    repo::set_state(
        &mut tx.c(),
        org,
        id,
        version,
        &State {
            status: to.as_str(),
            effect_started_at: before.effect_started_at,
            effect_checked_at: before.effect_checked_at,
            effect_result: before.effect_result.as_deref(),
            closed_at: Some(now),
        },
        now,
    )
    .await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit_as(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        "capa_close",
        ENTITY,
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// What one evaluation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The CAPA was not verifying (any more): nothing done.
    Skipped,
    Pending,
    Passed,
    Failed,
}

/// Evaluates the check of one CAPA inside `tx` as `actor`: passed → effective, failed →
/// open with result "failed" (the owner is notified), pending → only the check time is
/// noted. A concurrent change makes the move stale (`AppError::Stale`).
pub async fn check_in(
    tx: &mut Tx,
    actor: &Actor,
    org: i64,
    id: i64,
    now: i64,
) -> AppResult<Checked> {
    let before = repo::get(&mut tx.c(), org, id).await?;
    if status_of(&before) != CapaStatus::Verifying {
        return Ok(Checked::Skipped);
    }
    // A verifying CAPA always has a start; the update time is a safe stand-in otherwise.
    let started = before.effect_started_at.unwrap_or(before.updated_at);
    let m = measure(&mut tx.c(), org, &before, started).await?;
    let e = verdict(&before, &m, now);
    let to = rules::after_check(CapaStatus::Verifying, e)?;
    if e == Effect::Pending {
        repo::mark_checked(&mut tx.c(), org, id, now).await?;
        return Ok(Checked::Pending);
    }
    repo::set_state(
        &mut tx.c(),
        org,
        id,
        before.version,
        &State {
            status: to.as_str(),
            effect_started_at: Some(started),
            effect_checked_at: Some(now),
            effect_result: Some(e.as_str()),
            closed_at: None,
        },
        now,
    )
    .await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    let action = if e == Effect::Passed {
        "capa_effective"
    } else {
        "capa_check_failed"
    };
    audit_as(
        tx,
        actor,
        org,
        now,
        action,
        ENTITY,
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    if e == Effect::Failed {
        let who = store::notifications::Audience {
            users: after.owner_id.into_iter().collect(),
            roles: vec![],
            departments: vec![],
        };
        let args =
            serde_json::json!({"number": after.number, "recurrences": m.recurrences}).to_string();
        store::notifications::notify(
            &mut tx.c(),
            org,
            &who,
            "capa_check_failed",
            ENTITY,
            id,
            &args,
            now,
        )
        .await?;
    }
    Ok(if e == Effect::Passed {
        Checked::Passed
    } else {
        Checked::Failed
    })
}

/// "Evaluate now": checks one verifying CAPA for the signed-in user.
pub async fn evaluate(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<(Checked, Capa)> {
    let org = ctx.require(Permission::ManageCapa)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let k = load(&mut tx, org, id, None).await?;
    if status_of(&k) != CapaStatus::Verifying {
        return Err(AppError::Transition("capa_not_verifying"));
    }
    let r = check_in(&mut tx, &ctx.actor(), org, id, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    tx.commit().await?;
    Ok((r, after))
}

/// Members who may own a CAPA or an action: (user id, name).
pub async fn owners(st: &AppState, org: i64) -> AppResult<Vec<(i64, String)>> {
    let mut h = st.db.acquire().await?;
    Ok(repo::owners(&mut h.c(), org).await?)
}
