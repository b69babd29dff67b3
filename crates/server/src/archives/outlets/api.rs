//! JSON endpoints for service outlets, calling the same service functions as the pages.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::archives::outlets::{OutletDraft, OutletRaw};
use serde::Deserialize;
use store::PageReq;
use store::archives::outlets::{Outlet, OutletFilter};
use utoipa::{IntoParams, ToSchema};

use super::service;
use crate::api::{ApiJson, ListResponse, VersionBody};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of outlets.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/outlets", get(list_outlets).post(create_outlet))
        .route("/api/v1/outlets/{id}", get(get_outlet).put(update_outlet))
        .route("/api/v1/outlets/{id}/retire", post(retire_outlet))
        .route("/api/v1/outlets/{id}/restore", post(restore_outlet))
}

/// Filters and paging of the outlet list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct OutletParams {
    /// Text to look for in names, regions, addresses and contacts.
    pub q: Option<String>,
    /// Only this kind: own or partner.
    pub kind: Option<String>,
    /// Include retired outlets.
    pub include_retired: Option<bool>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// An outlet as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OutletInput {
    /// Unique in the organization.
    pub name: String,
    /// own (default) or partner.
    pub kind: Option<String>,
    /// Regions covered, e.g. ["华东", "华中"].
    #[serde(default)]
    pub regions: Vec<String>,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// YYYY-MM-DD.
    pub contract_start: Option<String>,
    /// YYYY-MM-DD, on or after the start.
    pub contract_end: Option<String>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl OutletInput {
    fn draft(&self) -> AppResult<OutletDraft> {
        Ok(OutletDraft::parse(
            FieldErrors::default(),
            OutletRaw {
                name: &self.name,
                kind: self.kind.as_deref(),
                regions: self.regions.clone(),
                address: self.address.as_deref(),
                contact_name: self.contact_name.as_deref(),
                contact_phone: self.contact_phone.as_deref(),
                contract_start: self.contract_start.as_deref(),
                contract_end: self.contract_end.as_deref(),
            },
        )?)
    }
}

/// List service outlets.
#[utoipa::path(get, path = "/api/v1/outlets", tag = "archives", params(OutletParams),
    responses((status = 200, body = ListResponse<Outlet>)), security(("bearer" = [])))]
pub async fn list_outlets(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OutletParams>,
) -> AppResult<Response> {
    let f = OutletFilter {
        q: q.q.clone(),
        kind: q.kind.clone(),
        include_retired: q.include_retired.unwrap_or(false),
    };
    let p = service::list(&st, &ctx, &f, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Create a service outlet.
#[utoipa::path(post, path = "/api/v1/outlets", tag = "archives", request_body = OutletInput,
    responses((status = 201, body = Outlet), (status = 422, description = "invalid fields (a taken name is `taken` on `name`)")),
    security(("bearer" = [])))]
pub async fn create_outlet(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<OutletInput>,
) -> AppResult<Response> {
    let o = service::create(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(o)).into_response())
}

/// One service outlet.
#[utoipa::path(get, path = "/api/v1/outlets/{id}", tag = "archives", params(("id" = i64, Path)),
    responses((status = 200, body = Outlet), (status = 404)), security(("bearer" = [])))]
pub async fn get_outlet(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::get(&st, &ctx, id).await?).into_response())
}

/// Update a service outlet (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/outlets/{id}", tag = "archives", params(("id" = i64, Path)), request_body = OutletInput,
    responses((status = 200, body = Outlet), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_outlet(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<OutletInput>,
) -> AppResult<Response> {
    let version = b
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let o = service::update(&st, &ctx, id, version, b.draft()?).await?;
    Ok(axum::Json(o).into_response())
}

/// Retire a service outlet.
#[utoipa::path(post, path = "/api/v1/outlets/{id}/retire", tag = "archives", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Outlet), (status = 409)), security(("bearer" = [])))]
pub async fn retire_outlet(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_active(&st, &ctx, id, b.version, false).await?).into_response())
}

/// Restore a retired service outlet.
#[utoipa::path(post, path = "/api/v1/outlets/{id}/restore", tag = "archives", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Outlet), (status = 409)), security(("bearer" = [])))]
pub async fn restore_outlet(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_active(&st, &ctx, id, b.version, true).await?).into_response())
}
