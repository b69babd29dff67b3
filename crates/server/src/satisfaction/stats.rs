//! Placeholder: stats (being written).

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// Routes of stats.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// OpenAPI of stats.
#[derive(OpenApi)]
#[openapi()]
pub struct Api;
