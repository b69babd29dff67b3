//! Checklist templates (DOMAIN.md §1.4): one per maintenance level, each including the level
//! below it (annual ⊃ quarterly ⊃ routine), with items grouped A, B, C… of four kinds (pass /
//! fail, measured value with limits, text, photo). Pages under /maintenance/checklists, the API
//! under /api/v1/checklist-templates, and the seed's three levels for the demo company.

pub mod api;
pub mod pages;
pub mod seed;
pub mod service;

use axum::Router;

use crate::app::AppState;

pub use api::Api;
pub use seed::seed_demo;

/// Routes of this part.
pub fn routes() -> Router<AppState> {
    Router::new().merge(pages::routes()).merge(api::routes())
}
