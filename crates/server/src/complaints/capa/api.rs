//! JSON endpoints of corrective actions under `/api/v1/capas`, calling the same service
//! functions as the pages.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::auth::Permission;
use domain::complaints::capa::{ActionDraft, ActionRaw, EightD, EightDRaw};
use serde::Deserialize;
use store::PageReq;
use store::complaints::capa::{Action, Capa, CapaRow, Filter, Sort};
use utoipa::{IntoParams, ToSchema};

use super::service::{self, Detail, Opened};
use crate::api::{ApiJson, ListResponse, VersionBody};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of corrective actions.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/capas", get(list_capas))
        .route("/api/v1/capas/{id}", get(get_capa).put(update_capa))
        .route("/api/v1/capas/{id}/actions", post(add_capa_action))
        .route(
            "/api/v1/capas/{id}/actions/{action_id}/finish",
            post(finish_capa_action),
        )
        .route("/api/v1/capas/{id}/start-check", post(start_capa_check))
        .route("/api/v1/capas/{id}/evaluate", post(evaluate_capa))
        .route("/api/v1/capas/{id}/close", post(close_capa))
        .route("/api/v1/complaints/{id}/capa", post(open_capa))
}

/// Filters and paging of the CAPA list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct CapaParams {
    /// open, verifying, effective or closed.
    pub status: Option<String>,
    /// Only CAPAs with an open action past its due date.
    pub overdue: Option<bool>,
    /// Only the CAPAs of this complaint.
    pub complaint_id: Option<i64>,
    /// Only CAPAs owned by this user.
    pub owner_id: Option<i64>,
    /// Text in the number, title, part number, fault category or complaint number.
    pub q: Option<String>,
    /// newest (default), oldest or number.
    pub sort: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// The 8D report as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CapaInput {
    pub title: String,
    /// A member of the organization.
    pub owner_id: Option<i64>,
    /// YYYY-MM-DD.
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
    /// Days without recurrence for the check (absent keeps the current value; 0 = not used).
    pub effect_days: Option<i64>,
    /// Units shipped without recurrence for the check (absent keeps the current value).
    pub effect_units: Option<i64>,
    /// The version that was read.
    pub version: Option<i64>,
}

impl CapaInput {
    fn draft(&self, current: (i64, i64)) -> AppResult<EightD> {
        let owner = self.owner_id.map(|v| v.to_string());
        let days = self.effect_days.map(|v| v.to_string());
        let units = self.effect_units.map(|v| v.to_string());
        Ok(EightD::parse(
            FieldErrors::default(),
            EightDRaw {
                title: &self.title,
                owner_id: owner.as_deref(),
                due_date: self.due_date.as_deref(),
                d1_team: self.d1_team.as_deref(),
                d2_problem: self.d2_problem.as_deref(),
                d3_containment: self.d3_containment.as_deref(),
                d4_occurrence: self.d4_occurrence.as_deref(),
                d4_escape: self.d4_escape.as_deref(),
                d5_action: self.d5_action.as_deref(),
                d6_validation: self.d6_validation.as_deref(),
                d7_prevention: self.d7_prevention.as_deref(),
                d8_closure: self.d8_closure.as_deref(),
                effect_days: days.as_deref(),
                effect_units: units.as_deref(),
            },
            current,
        )?)
    }
}

/// An action as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActionInput {
    /// d3 (containment), d5 (permanent action) or d7 (prevention).
    pub discipline: Option<String>,
    pub description: String,
    /// A member of the organization.
    pub owner_id: Option<i64>,
    /// YYYY-MM-DD.
    pub due_date: Option<String>,
}

/// The result of a finished action.
#[derive(Debug, Deserialize, Default, ToSchema)]
pub struct FinishInput {
    pub result: Option<String>,
}

/// List corrective actions.
#[utoipa::path(get, path = "/api/v1/capas", tag = "complaints", params(CapaParams),
    responses((status = 200, body = ListResponse<CapaRow>)), security(("bearer" = [])))]
pub async fn list_capas(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CapaParams>,
) -> AppResult<Response> {
    let f = Filter {
        status: q.status.clone(),
        overdue: q.overdue.unwrap_or(false),
        complaint_id: q.complaint_id,
        owner_id: q.owner_id,
        q: q.q.clone(),
        today: String::new(),
        sort: Sort::parse(q.sort.as_deref().unwrap_or("")),
    };
    let p = service::list(&st, &ctx, f, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// One corrective action with its actions and the effectiveness check as measured now.
#[utoipa::path(get, path = "/api/v1/capas/{id}", tag = "complaints", params(("id" = i64, Path)),
    responses((status = 200, body = Detail), (status = 404)), security(("bearer" = [])))]
pub async fn get_capa(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::detail(&st, &ctx, id).await?).into_response())
}

/// Open a corrective action from a complaint (201). When the complaint already has one that
/// is not closed, answers 303 with its location instead.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/capa", tag = "complaints", params(("id" = i64, Path)),
    responses((status = 201, body = Capa), (status = 303, description = "the complaint's open CAPA"),
        (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn open_capa(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    match service::open(&st, &ctx, id).await? {
        Opened::Created(k) => Ok((StatusCode::CREATED, axum::Json(k)).into_response()),
        Opened::Existing(k) => Ok((
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/api/v1/capas/{k}"))],
        )
            .into_response()),
    }
}

/// Update the 8D report (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/capas/{id}", tag = "complaints", params(("id" = i64, Path)), request_body = CapaInput,
    responses((status = 200, body = Capa), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_capa(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CapaInput>,
) -> AppResult<Response> {
    ctx.require(Permission::ManageCapa)?;
    let version = b
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let cur = service::get(&st, &ctx, id).await?;
    let d = b.draft((cur.effect_days, cur.effect_units))?;
    Ok(axum::Json(service::update(&st, &ctx, id, version, d).await?).into_response())
}

/// Add an action (discipline, description, owner and due date required).
#[utoipa::path(post, path = "/api/v1/capas/{id}/actions", tag = "complaints", params(("id" = i64, Path)), request_body = ActionInput,
    responses((status = 201, body = Action), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_capa_action(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ActionInput>,
) -> AppResult<Response> {
    ctx.require(Permission::ManageCapa)?;
    let owner = b.owner_id.map(|v| v.to_string());
    let d = ActionDraft::parse(
        FieldErrors::default(),
        ActionRaw {
            discipline: b.discipline.as_deref(),
            description: &b.description,
            owner_id: owner.as_deref(),
            due_date: b.due_date.as_deref(),
        },
    )?;
    let a = service::add_action(&st, &ctx, id, d).await?;
    Ok((StatusCode::CREATED, axum::Json(a)).into_response())
}

/// Mark an action done (409 when it was done already).
#[utoipa::path(post, path = "/api/v1/capas/{id}/actions/{action_id}/finish", tag = "complaints",
    params(("id" = i64, Path), ("action_id" = i64, Path)), request_body = FinishInput,
    responses((status = 200, body = Action), (status = 409)), security(("bearer" = [])))]
pub async fn finish_capa_action(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, action_id)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<FinishInput>,
) -> AppResult<Response> {
    let a = service::finish_action(&st, &ctx, id, action_id, b.result).await?;
    Ok(axum::Json(a).into_response())
}

/// Start the effectiveness check (needs D2, D4 occurrence, D5 and every action done).
#[utoipa::path(post, path = "/api/v1/capas/{id}/start-check", tag = "complaints", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Capa), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn start_capa_check(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::start_check(&st, &ctx, id, b.version).await?).into_response())
}

/// Evaluate the effectiveness check now: passed → effective, recurrence → open again.
#[utoipa::path(post, path = "/api/v1/capas/{id}/evaluate", tag = "complaints", params(("id" = i64, Path)),
    responses((status = 200, body = Capa), (status = 409)), security(("bearer" = [])))]
pub async fn evaluate_capa(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (_, k) = service::evaluate(&st, &ctx, id).await?;
    Ok(axum::Json(k).into_response())
}

/// Close an effective CAPA whose D8 is written.
#[utoipa::path(post, path = "/api/v1/capas/{id}/close", tag = "complaints", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Capa), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn close_capa(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::close(&st, &ctx, id, b.version).await?).into_response())
}
