//! HTML pages of complaints.

use axum::Router;

use crate::app::AppState;

/// Page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
