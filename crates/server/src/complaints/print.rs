//! Placeholder: filled in by its owner.

use axum::Router;

use crate::app::AppState;

/// Routes of this part.
pub fn routes() -> Router<AppState> {
    Router::new()
}
