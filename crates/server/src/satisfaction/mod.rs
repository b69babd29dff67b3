//! Return visits (回访) and satisfaction measurement: visit rules, lists and records; survey
//! templates; studies with samples, answer links (QR) and phone entry; statistics with
//! confidence intervals, reliability and the importance-performance matrix; study reports.

pub mod stats;
pub mod studies;
pub mod surveys;
pub mod visits;

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// HTML and API routes of satisfaction.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(visits::routes())
        .merge(surveys::routes())
        .merge(studies::routes())
        .merge(stats::routes())
}

/// The OpenAPI description of satisfaction.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = visits::Api::openapi();
    doc.merge(surveys::Api::openapi());
    doc.merge(studies::Api::openapi());
    doc.merge(stats::Api::openapi());
    doc
}
