//! Changes to maintenance plans: permission check, one transaction with the reference checks,
//! the write and its audit row, then commit — and then the plan's orders are reconciled at
//! once (small plans before the answer, large ones in the background), so an edit affects
//! due dates from the edit date on.

use domain::FieldErrors;
use domain::auth::Permission;
use domain::maintenance::schedule::{PlanDraft, Target};
use store::maintenance::plans::{self as repo, Plan, PlanFilter, PlanOrder, PlanValues};
use store::{Page, PageReq, Tx};

use super::scheduler::{self, SchedulerReport};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::complaints::sla;
use crate::error::{AppError, AppResult};
use crate::org::service::{Change, audit};

/// The audit entity of a plan.
pub const ENTITY: &str = "maintenance_plan";
/// Plans covering at most this many units are scheduled before the answer.
const SYNC_UNITS: usize = 2000;

fn values(d: &PlanDraft) -> PlanValues<'_> {
    let (equipment_id, product_id) = match d.target {
        Target::Unit(e) => (Some(e), None),
        Target::Product(p) => (None, Some(p)),
    };
    PlanValues {
        name: &d.name,
        equipment_id,
        product_id,
        template_id: d.template_id,
        interval_days: d.interval_days,
        mode: d.mode.as_str(),
        meter_interval: d.meter.as_ref().map(|m| m.0),
        meter_unit: d.meter.as_ref().map(|m| m.1.as_str()),
        start_date: &d.start_date,
        lead_days: d.lead_days,
        horizon_days: d.horizon_days,
    }
}

async fn check(tx: &mut Tx, org: i64, d: &PlanDraft) -> AppResult<()> {
    let mut e = FieldErrors::default();
    if !repo::template_exists(&mut tx.c(), org, d.template_id).await? {
        e.add("template_id", "choice", None);
    }
    match d.target {
        Target::Unit(id) => {
            if !repo::unit_exists(&mut tx.c(), org, id).await? {
                e.add("equipment_id", "choice", None);
            }
        }
        Target::Product(id) => {
            if !repo::product_exists(&mut tx.c(), org, id).await? {
                e.add("product_id", "choice", None);
            }
        }
    }
    Ok(e.into_result(())?)
}

/// Reconciles the plan's orders after a change: a plan of up to [`SYNC_UNITS`] units before
/// returning, a larger one in the background (the periodic run repeats it anyway). A failure
/// is logged, not returned: the change itself is saved.
async fn reschedule(st: &AppState, org: i64, id: i64) {
    let db = st.db.clone();
    let now = st.now();
    match scheduler::unit_count(&db, org, id).await {
        Ok(n) if n <= SYNC_UNITS => {
            if let Err(e) = scheduler::run_plan(&db, org, id, now).await {
                tracing::warn!(plan = id, error = ?e, "scheduling after a plan change failed");
            }
        }
        Ok(_) => {
            tokio::spawn(async move {
                if let Err(e) = store::offload(scheduler::run_plan(&db, org, id, now)).await {
                    tracing::warn!(plan = id, error = ?e, "scheduling after a plan change failed");
                }
            });
        }
        Err(e) => tracing::warn!(plan = id, error = ?e, "scheduling after a plan change failed"),
    }
}

/// Creates a plan.
pub async fn create(st: &AppState, ctx: &Ctx, d: PlanDraft) -> AppResult<Plan> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    check(&mut tx, org, &d).await?;
    let id = repo::insert(&mut tx.c(), org, &values(&d), now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: ENTITY,
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    reschedule(st, org, id).await;
    Ok(after)
}

/// Updates a plan read at `version`.
pub async fn update(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: PlanDraft,
) -> AppResult<Plan> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    check(&mut tx, org, &d).await?;
    repo::update(&mut tx.c(), org, id, version, &values(&d), now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: ENTITY,
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    reschedule(st, org, id).await;
    Ok(after)
}

/// Deactivates (its un-started orders from today on are cancelled) or reactivates (they come
/// back) a plan read at `version`.
pub async fn set_active(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
) -> AppResult<Plan> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    repo::set_active(&mut tx.c(), org, id, version, active, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: if active { "restore" } else { "retire" },
            entity: ENTITY,
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    reschedule(st, org, id).await;
    Ok(after)
}

/// Runs the scheduler for one plan now.
pub async fn run_now(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<SchedulerReport> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    scheduler::run_plan(&st.db, org, id, st.now()).await
}

/// A page of plans.
pub async fn list(st: &AppState, ctx: &Ctx, f: &PlanFilter, p: PageReq) -> AppResult<Page<Plan>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), org, f, p).await?)
}

/// One plan.
pub async fn get(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Plan> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get(&mut h.c(), org, id).await?)
}

/// A page of a plan's orders: still to be done (`upcoming`) or done and cancelled.
pub async fn orders(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    upcoming: bool,
    p: PageReq,
) -> AppResult<Page<PlanOrder>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    repo::get(&mut h.c(), org, id).await?;
    Ok(repo::orders(&mut h.c(), org, id, upcoming, p).await?)
}

/// A plan with its orders, for its page.
pub struct Detail {
    pub plan: Plan,
    /// Still to be done, earliest first.
    pub upcoming: Page<PlanOrder>,
    /// Done or cancelled, latest first.
    pub past: Page<PlanOrder>,
    /// Still to be done and past their due date.
    pub overdue: i64,
    /// The organization's date today.
    pub today: String,
}

/// A plan with the first pages of its upcoming and past orders.
pub async fn detail(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    upcoming_page: PageReq,
    past_page: PageReq,
) -> AppResult<Detail> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    let plan = repo::get(&mut h.c(), org, id).await?;
    let today = sla::calendar(&mut h.c(), org).await?.local_date(st.now());
    Ok(Detail {
        upcoming: repo::orders(&mut h.c(), org, id, true, upcoming_page).await?,
        past: repo::orders(&mut h.c(), org, id, false, past_page).await?,
        overdue: repo::overdue_count(&mut h.c(), org, id, &today).await?,
        plan,
        today,
    })
}

/// The organization's date today (the form's default start date).
pub async fn today(st: &AppState, ctx: &Ctx) -> AppResult<String> {
    let org = ctx.org()?.id;
    let mut h = st.db.acquire().await?;
    Ok(sla::calendar(&mut h.c(), org).await?.local_date(st.now()))
}

/// The checklist levels a plan can use.
pub async fn templates(st: &AppState, ctx: &Ctx) -> AppResult<Vec<repo::TemplateChoice>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::templates(&mut h.c(), org).await?)
}

/// The unit with this serial number and the product with this part number, looked up for
/// the form (the form names them, the plan stores ids).
pub async fn lookup(
    st: &AppState,
    ctx: &Ctx,
    serial: Option<&str>,
    part_no: Option<&str>,
) -> AppResult<(Option<i64>, Option<i64>)> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    let unit = match serial {
        Some(s) => repo::unit_by_serial(&mut h.c(), org, s).await?,
        None => None,
    };
    let product = match part_no {
        Some(p) => repo::product_by_part_no(&mut h.c(), org, p).await?,
        None => None,
    };
    Ok((unit, product))
}
