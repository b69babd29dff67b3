//! JSON endpoints for maintenance plans under `/api/v1/maintenance-plans`, calling the same
//! service functions as the pages.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::maintenance::schedule::{PlanDraft, PlanRaw};
use serde::Deserialize;
use store::PageReq;
use store::maintenance::plans::{Plan, PlanFilter, PlanOrder};
use utoipa::{IntoParams, ToSchema};

use super::scheduler::SchedulerReport;
use super::service;
use crate::api::{ApiJson, ListResponse, VersionBody};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of maintenance plans.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/maintenance-plans",
            get(list_plans).post(create_plan),
        )
        .route(
            "/api/v1/maintenance-plans/{id}",
            get(get_plan).put(update_plan),
        )
        .route(
            "/api/v1/maintenance-plans/{id}/deactivate",
            post(deactivate_plan),
        )
        .route(
            "/api/v1/maintenance-plans/{id}/activate",
            post(activate_plan),
        )
        .route("/api/v1/maintenance-plans/{id}/run", post(run_plan))
        .route("/api/v1/maintenance-plans/{id}/orders", get(plan_orders))
}

/// Filters and paging of the plan list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct PlanParams {
    /// Text to look for in names, serial numbers and products.
    pub q: Option<String>,
    /// true: active plans only; false: inactive only; absent: both.
    pub active: Option<bool>,
    /// Plans that cover this unit (its own and its product's).
    pub equipment_id: Option<i64>,
    /// Plans of this product.
    pub product_id: Option<i64>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// A maintenance plan as written: exactly one of `equipment_id` and `product_id`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanInput {
    pub name: String,
    /// A plan for one unit.
    pub equipment_id: Option<i64>,
    /// A plan for every unit in service of a product.
    pub product_id: Option<i64>,
    /// The checklist level (a checklist template id).
    pub template_id: Option<i64>,
    /// 1 to 3660.
    pub interval_days: i64,
    /// fixed (default) or floating.
    pub mode: Option<String>,
    /// Meter units between services ("whichever comes first"); needs `meter_unit`.
    pub meter_interval: Option<i64>,
    /// The meter unit of the readings (h, 次…).
    pub meter_unit: Option<String>,
    /// YYYY-MM-DD.
    pub start_date: String,
    /// 0 to 365 (default 14): orders exist at least this many days before their due date.
    pub lead_days: Option<i64>,
    /// 0 to 730 (default 90): orders are created this many days ahead.
    pub horizon_days: Option<i64>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl PlanInput {
    fn draft(&self) -> AppResult<PlanDraft> {
        let interval = self.interval_days.to_string();
        let meter = self.meter_interval.map(|m| m.to_string());
        let lead = self.lead_days.map(|m| m.to_string());
        let horizon = self.horizon_days.map(|m| m.to_string());
        Ok(PlanDraft::parse(
            FieldErrors::default(),
            PlanRaw {
                name: &self.name,
                equipment_id: self.equipment_id,
                product_id: self.product_id,
                template_id: self.template_id,
                interval_days: &interval,
                mode: self.mode.as_deref(),
                meter_interval: meter.as_deref(),
                meter_unit: self.meter_unit.as_deref(),
                start_date: &self.start_date,
                lead_days: lead.as_deref(),
                horizon_days: horizon.as_deref(),
            },
        )?)
    }
}

/// List maintenance plans.
#[utoipa::path(get, path = "/api/v1/maintenance-plans", tag = "maintenance", params(PlanParams),
    responses((status = 200, body = ListResponse<Plan>)), security(("bearer" = [])))]
pub async fn list_plans(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PlanParams>,
) -> AppResult<Response> {
    let f = PlanFilter {
        q: q.q.clone(),
        active: q.active,
        equipment_id: q.equipment_id,
        product_id: q.product_id,
    };
    let p = service::list(&st, &ctx, &f, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Create a maintenance plan; its orders inside the window are created at once (plans of
/// more than 2,000 units in the background).
#[utoipa::path(post, path = "/api/v1/maintenance-plans", tag = "maintenance", request_body = PlanInput,
    responses((status = 201, body = Plan), (status = 403), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
pub async fn create_plan(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<PlanInput>,
) -> AppResult<Response> {
    let p = service::create(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(p)).into_response())
}

/// One maintenance plan.
#[utoipa::path(get, path = "/api/v1/maintenance-plans/{id}", tag = "maintenance", params(("id" = i64, Path)),
    responses((status = 200, body = Plan), (status = 404)), security(("bearer" = [])))]
pub async fn get_plan(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::get(&st, &ctx, id).await?).into_response())
}

/// Update a maintenance plan (409 when `version` is stale). Dues from today on follow the
/// new rule: un-started orders the new rule no longer gives are cancelled.
#[utoipa::path(put, path = "/api/v1/maintenance-plans/{id}", tag = "maintenance", params(("id" = i64, Path)),
    request_body = PlanInput,
    responses((status = 200, body = Plan), (status = 403), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_plan(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PlanInput>,
) -> AppResult<Response> {
    let version = b
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let p = service::update(&st, &ctx, id, version, b.draft()?).await?;
    Ok(axum::Json(p).into_response())
}

/// Deactivate a maintenance plan: its un-started orders from today on are cancelled.
#[utoipa::path(post, path = "/api/v1/maintenance-plans/{id}/deactivate", tag = "maintenance",
    params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Plan), (status = 409)), security(("bearer" = [])))]
pub async fn deactivate_plan(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_active(&st, &ctx, id, b.version, false).await?).into_response())
}

/// Reactivate a maintenance plan.
#[utoipa::path(post, path = "/api/v1/maintenance-plans/{id}/activate", tag = "maintenance",
    params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Plan), (status = 409)), security(("bearer" = [])))]
pub async fn activate_plan(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_active(&st, &ctx, id, b.version, true).await?).into_response())
}

/// Run the scheduler for this plan now.
#[utoipa::path(post, path = "/api/v1/maintenance-plans/{id}/run", tag = "maintenance", params(("id" = i64, Path)),
    responses((status = 200, body = SchedulerReport), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn run_plan(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::run_now(&st, &ctx, id).await?).into_response())
}

/// Which orders of a plan, and paging.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct PlanOrderParams {
    /// true (default): still to be done, earliest due first; false: done or cancelled,
    /// latest first.
    pub upcoming: Option<bool>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// The service orders of a plan.
#[utoipa::path(get, path = "/api/v1/maintenance-plans/{id}/orders", tag = "maintenance",
    params(("id" = i64, Path), PlanOrderParams),
    responses((status = 200, body = ListResponse<PlanOrder>), (status = 404)), security(("bearer" = [])))]
pub async fn plan_orders(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PlanOrderParams>,
) -> AppResult<Response> {
    let p = service::orders(
        &st,
        &ctx,
        id,
        q.upcoming.unwrap_or(true),
        PageReq::new(q.page, q.per_page),
    )
    .await?;
    Ok(ListResponse::from(p).into_response())
}
