//! JSON endpoints of complaints.

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// OpenAPI of the complaint endpoints.
#[derive(OpenApi)]
pub struct Api;
