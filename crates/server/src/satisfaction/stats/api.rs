//! JSON endpoints of the statistics: a study's figures, its free-text answers (paged), and
//! the trends across studies with the return-visit ratings by month.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use store::PageReq;
use store::satisfaction::stats::TextAnswer;
use utoipa::IntoParams;

use super::{Overview, StudyStats, service};
use crate::api::ListResponse;
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::AppResult;

/// API routes of the statistics.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/studies/{id}/stats", get(study_stats))
        .route("/api/v1/studies/{id}/stats/texts", get(study_texts))
        .route("/api/v1/satisfaction/trends", get(trends))
}

/// Paging of the free-text answers.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct TextParams {
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// Every figure of a study's report: CSI, CSAT, NPS, CES and the response rate with n and
/// 95% intervals, items, dimensions with Cronbach's α, the importance-performance matrix,
/// breakdowns by product / engineer / region / outlet, the newest free-text answers.
#[utoipa::path(get, path = "/api/v1/studies/{id}/stats", tag = "satisfaction", params(("id" = i64, Path)),
    responses((status = 200, body = StudyStats), (status = 404)), security(("bearer" = [])))]
pub async fn study_stats(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::stats(&st, &ctx, id).await?).into_response())
}

/// A study's free-text answers with their response's score, newest first.
#[utoipa::path(get, path = "/api/v1/studies/{id}/stats/texts", tag = "satisfaction",
    params(("id" = i64, Path), TextParams),
    responses((status = 200, body = ListResponse<TextAnswer>), (status = 404)), security(("bearer" = [])))]
pub async fn study_texts(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<TextParams>,
) -> AppResult<Response> {
    let (_, p) = service::texts(&st, &ctx, id, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Trends across studies (per template code, all its versions: CSI, CSAT, NPS, CES with n
/// and 95% intervals per study, by period) and return-visit ratings by month (twelve months).
#[utoipa::path(get, path = "/api/v1/satisfaction/trends", tag = "satisfaction",
    responses((status = 200, body = Overview)), security(("bearer" = [])))]
pub async fn trends(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(axum::Json(service::overview(&st, &ctx).await?).into_response())
}
