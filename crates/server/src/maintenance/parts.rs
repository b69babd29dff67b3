//! Placeholder: filled in by its owner.

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// Routes of this part.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// OpenAPI of this part.
#[derive(OpenApi)]
pub struct Api;
