//! Placeholder: studies (being written).

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// Routes of studies.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// OpenAPI of studies.
#[derive(OpenApi)]
#[openapi()]
pub struct Api;
