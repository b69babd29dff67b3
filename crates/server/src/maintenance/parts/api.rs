//! JSON endpoints for spare parts and stock, calling the same service functions as the
//! pages: `/api/v1/parts…` and `/api/v1/stock…` (stock rows, locations, receipts and
//! corrections).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::archives::orders::Price;
use domain::maintenance::parts::{MoveDraft, PartDraft, PartRaw, parse_location};
use serde::Deserialize;
use store::PageReq;
use store::maintenance::parts::{Location, Move, Part, PartFilter, StockRow};
use utoipa::{IntoParams, ToSchema};

use super::service::{self, MoveRecord};
use crate::api::{ApiJson, ListResponse, VersionBody};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of parts and stock.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/parts", get(list_parts).post(create_part))
        .route("/api/v1/parts/{id}", get(get_part).put(update_part))
        .route("/api/v1/parts/{id}/retire", post(retire_part))
        .route("/api/v1/parts/{id}/restore", post(restore_part))
        .route("/api/v1/parts/{id}/moves", get(part_moves))
        .route("/api/v1/stock", get(list_stock))
        .route(
            "/api/v1/stock/locations",
            get(list_locations).post(create_location),
        )
        .route(
            "/api/v1/stock/locations/{id}",
            axum::routing::put(rename_location),
        )
        .route("/api/v1/stock/locations/{id}/retire", post(retire_location))
        .route(
            "/api/v1/stock/locations/{id}/restore",
            post(restore_location),
        )
        .route("/api/v1/stock/receipts", post(create_receipt))
        .route("/api/v1/stock/corrections", post(create_correction))
}

/// Filters and paging of the parts list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct PartParams {
    /// Text to look for in codes and names.
    pub q: Option<String>,
    /// Only parts with at most this many on hand (all locations together).
    pub low: Option<i64>,
    /// Include retired parts.
    pub include_retired: Option<bool>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// A part as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PartInput {
    /// Unique in the organization: letters, digits, `-`, `_`, `.`.
    pub code: String,
    pub name: String,
    /// Unit of count, e.g. 个, 块, 台.
    pub unit: String,
    /// Unit cost in fen (0 or more).
    pub unit_cost_fen: i64,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl PartInput {
    fn draft(&self) -> AppResult<PartDraft> {
        Ok(PartDraft::parse(
            FieldErrors::default(),
            PartRaw {
                code: &self.code,
                name: &self.name,
                unit: &self.unit,
                unit_cost: Price::Fen(self.unit_cost_fen),
            },
        )?)
    }
}

/// List spare parts with their totals on hand.
#[utoipa::path(get, path = "/api/v1/parts", tag = "maintenance", params(PartParams),
    responses((status = 200, body = ListResponse<Part>)), security(("bearer" = [])))]
pub async fn list_parts(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PartParams>,
) -> AppResult<Response> {
    let f = PartFilter {
        q: q.q.clone(),
        low: q.low.filter(|n| *n >= 0),
        include_retired: q.include_retired.unwrap_or(false),
    };
    let p = service::list(&st, &ctx, &f, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Create a spare part.
#[utoipa::path(post, path = "/api/v1/parts", tag = "maintenance", request_body = PartInput,
    responses((status = 201, body = Part), (status = 403), (status = 422, description = "invalid fields (a taken code is `taken` on `code`)")),
    security(("bearer" = [])))]
pub async fn create_part(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<PartInput>,
) -> AppResult<Response> {
    let p = service::create(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(p)).into_response())
}

/// One spare part.
#[utoipa::path(get, path = "/api/v1/parts/{id}", tag = "maintenance", params(("id" = i64, Path)),
    responses((status = 200, body = Part), (status = 404)), security(("bearer" = [])))]
pub async fn get_part(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::get(&st, &ctx, id).await?).into_response())
}

/// Update a spare part (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/parts/{id}", tag = "maintenance", params(("id" = i64, Path)), request_body = PartInput,
    responses((status = 200, body = Part), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_part(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PartInput>,
) -> AppResult<Response> {
    let version = b
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let p = service::update(&st, &ctx, id, version, b.draft()?).await?;
    Ok(axum::Json(p).into_response())
}

/// Retire a spare part.
#[utoipa::path(post, path = "/api/v1/parts/{id}/retire", tag = "maintenance", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Part), (status = 409)), security(("bearer" = [])))]
pub async fn retire_part(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_active(&st, &ctx, id, b.version, false).await?).into_response())
}

/// Restore a retired spare part.
#[utoipa::path(post, path = "/api/v1/parts/{id}/restore", tag = "maintenance", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Part), (status = 409)), security(("bearer" = [])))]
pub async fn restore_part(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_active(&st, &ctx, id, b.version, true).await?).into_response())
}

/// Paging.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct PageParams {
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// The stock moves of a part, newest first.
#[utoipa::path(get, path = "/api/v1/parts/{id}/moves", tag = "maintenance", params(("id" = i64, Path), PageParams),
    responses((status = 200, body = ListResponse<Move>), (status = 404)), security(("bearer" = [])))]
pub async fn part_moves(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PageParams>,
) -> AppResult<Response> {
    let p = service::moves(&st, &ctx, id, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Filters of the stock list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct StockParams {
    /// Only this part.
    pub part_id: Option<i64>,
    /// Only this location.
    pub location_id: Option<i64>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// Quantities on hand per part and location.
#[utoipa::path(get, path = "/api/v1/stock", tag = "maintenance", params(StockParams),
    responses((status = 200, body = ListResponse<StockRow>)), security(("bearer" = [])))]
pub async fn list_stock(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StockParams>,
) -> AppResult<Response> {
    let p = PageReq::new(q.page, q.per_page);
    let rows = service::stock(&st, &ctx, q.part_id, q.location_id, p).await?;
    Ok(ListResponse::from(rows).into_response())
}

/// Whether to list retired locations too.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct LocationParams {
    /// Include retired locations.
    pub include_retired: Option<bool>,
}

/// List stock locations.
#[utoipa::path(get, path = "/api/v1/stock/locations", tag = "maintenance", params(LocationParams),
    responses((status = 200, body = Vec<Location>)), security(("bearer" = [])))]
pub async fn list_locations(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LocationParams>,
) -> AppResult<Response> {
    let all = q.include_retired.unwrap_or(false);
    Ok(axum::Json(service::locations(&st, &ctx, all).await?).into_response())
}

/// A stock location as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LocationInput {
    /// Unique in the organization.
    pub name: String,
}

/// Create a stock location.
#[utoipa::path(post, path = "/api/v1/stock/locations", tag = "maintenance", request_body = LocationInput,
    responses((status = 201, body = Location), (status = 422)), security(("bearer" = [])))]
pub async fn create_location(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<LocationInput>,
) -> AppResult<Response> {
    let name = parse_location(FieldErrors::default(), &b.name)?;
    let l = service::create_location(&st, &ctx, &name).await?;
    Ok((StatusCode::CREATED, axum::Json(l)).into_response())
}

/// Rename a stock location.
#[utoipa::path(put, path = "/api/v1/stock/locations/{id}", tag = "maintenance", params(("id" = i64, Path)), request_body = LocationInput,
    responses((status = 200, body = Location), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn rename_location(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<LocationInput>,
) -> AppResult<Response> {
    let name = parse_location(FieldErrors::default(), &b.name)?;
    Ok(axum::Json(service::rename_location(&st, &ctx, id, &name).await?).into_response())
}

/// Retire a stock location (it takes no more receipts).
#[utoipa::path(post, path = "/api/v1/stock/locations/{id}/retire", tag = "maintenance", params(("id" = i64, Path)),
    responses((status = 200, body = Location), (status = 404)), security(("bearer" = [])))]
pub async fn retire_location(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_location_active(&st, &ctx, id, false).await?).into_response())
}

/// Restore a retired stock location.
#[utoipa::path(post, path = "/api/v1/stock/locations/{id}/restore", tag = "maintenance", params(("id" = i64, Path)),
    responses((status = 200, body = Location), (status = 404)), security(("bearer" = [])))]
pub async fn restore_location(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_location_active(&st, &ctx, id, true).await?).into_response())
}

/// A receipt of goods into a location.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReceiptInput {
    pub part_id: i64,
    pub location_id: i64,
    /// Whole quantity, 1 or more.
    pub qty: i64,
}

/// Receive stock (a `stock_move` with reason `receipt`).
#[utoipa::path(post, path = "/api/v1/stock/receipts", tag = "maintenance", request_body = ReceiptInput,
    responses((status = 201, body = MoveRecord), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn create_receipt(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<ReceiptInput>,
) -> AppResult<Response> {
    let loc = b.location_id.to_string();
    let d = MoveDraft::receipt(FieldErrors::default(), Some(&loc), &b.qty.to_string())?;
    let m = service::record_move(&st, &ctx, b.part_id, d).await?;
    Ok((StatusCode::CREATED, axum::Json(m)).into_response())
}

/// A correction of the quantity at a location.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CorrectionInput {
    pub part_id: i64,
    pub location_id: i64,
    /// The change, e.g. -2 after a count (never 0; the result never below 0).
    pub delta: i64,
    /// Why (required).
    pub note: String,
}

/// Correct stock (a `stock_move` with reason `correction`); taking more than is on hand is
/// 422 `stock_short` on `delta`, naming the part, the location and the quantity on hand.
#[utoipa::path(post, path = "/api/v1/stock/corrections", tag = "maintenance", request_body = CorrectionInput,
    responses((status = 201, body = MoveRecord), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn create_correction(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<CorrectionInput>,
) -> AppResult<Response> {
    let loc = b.location_id.to_string();
    let delta = b.delta.to_string();
    let d = MoveDraft::correction(FieldErrors::default(), Some(&loc), &delta, Some(&b.note))?;
    let m = service::record_move(&st, &ctx, b.part_id, d).await?;
    Ok((StatusCode::CREATED, axum::Json(m)).into_response())
}
