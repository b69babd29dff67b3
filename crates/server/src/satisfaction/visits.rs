//! Placeholder: visits (being written).

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// Routes of visits.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// OpenAPI of visits.
#[derive(OpenApi)]
#[openapi()]
pub struct Api;
