//! JSON endpoints of dispatch: the week calendar, the ranked candidates for an order, and
//! engineer profiles.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use domain::FieldErrors;
use serde::Deserialize;
use store::maintenance::dispatch::Engineer;
use utoipa::{IntoParams, ToSchema};

use super::service::{self, Candidate, ProfileDraft, WeekView};
use crate::api::ApiJson;
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of dispatch.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dispatch/week", get(week))
        .route("/api/v1/dispatch/candidates/{order_id}", get(candidates))
        .route("/api/v1/dispatch/engineers", get(list_engineers))
        .route(
            "/api/v1/dispatch/engineers/{user_id}",
            put(save_engineer).get(get_engineer),
        )
}

/// Which week and whose.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct WeekParams {
    /// `YYYY-Www`, e.g. 2026-W48; this week when absent (422 `week_format` when malformed).
    pub week: Option<String>,
    /// Only this engineer (user id).
    pub engineer: Option<i64>,
    /// Only this team.
    pub team: Option<String>,
}

/// The week calendar: each engineer's scheduled orders, overlapping ones flagged `conflict`.
#[utoipa::path(get, path = "/api/v1/dispatch/week", tag = "maintenance", params(WeekParams),
    responses((status = 200, body = WeekView), (status = 422)), security(("bearer" = [])))]
pub async fn week(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<WeekParams>,
) -> AppResult<Response> {
    let v = service::week_view(&st, &ctx, q.week.as_deref(), q.engineer, q.team.as_deref()).await?;
    Ok(axum::Json(v).into_response())
}

/// Engineers who could take an order, best first (region, skill, then load).
#[utoipa::path(get, path = "/api/v1/dispatch/candidates/{order_id}", tag = "maintenance", params(("order_id" = i64, Path)),
    responses((status = 200, body = Vec<Candidate>), (status = 404)), security(("bearer" = [])))]
pub async fn candidates(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(order_id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::candidates(&st, &ctx, order_id).await?).into_response())
}

/// The engineers (role engineer, or anyone with a profile) and their profiles.
#[utoipa::path(get, path = "/api/v1/dispatch/engineers", tag = "maintenance",
    responses((status = 200, body = Vec<Engineer>)), security(("bearer" = [])))]
pub async fn list_engineers(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(axum::Json(service::engineers(&st, &ctx).await?).into_response())
}

/// One member as an engineer (version 0: no profile yet).
#[utoipa::path(get, path = "/api/v1/dispatch/engineers/{user_id}", tag = "maintenance", params(("user_id" = i64, Path)),
    responses((status = 200, body = Engineer), (status = 404)), security(("bearer" = [])))]
pub async fn get_engineer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(user_id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::engineer(&st, &ctx, user_id).await?).into_response())
}

/// An engineer profile as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileInput {
    /// Regions served, e.g. ["华东", "华中"].
    #[serde(default)]
    pub regions: Vec<String>,
    /// Skills: product categories, e.g. ["机床", "电气"].
    #[serde(default)]
    pub skills: Vec<String>,
    pub team: Option<String>,
    /// The version that was read (0 when there was no profile).
    pub version: Option<i64>,
}

/// Save an engineer profile (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/dispatch/engineers/{user_id}", tag = "maintenance", params(("user_id" = i64, Path)), request_body = ProfileInput,
    responses((status = 200, body = Engineer), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn save_engineer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(user_id): Path<i64>,
    ApiJson(b): ApiJson<ProfileInput>,
) -> AppResult<Response> {
    let version = b
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let d = ProfileDraft::parse(&b.regions, &b.skills, b.team.as_deref())?;
    Ok(axum::Json(service::save_profile(&st, &ctx, user_id, version, d).await?).into_response())
}
