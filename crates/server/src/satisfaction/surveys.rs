//! Placeholder: surveys (being written).

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// Routes of surveys.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// OpenAPI of surveys.
#[derive(OpenApi)]
#[openapi()]
pub struct Api;
