//! Maintenance and service orders (服务单): plans and the scheduler, service orders with
//! their lifecycle, nested checklists worked on a phone, sign-off and print, spare parts
//! and stock, dispatch with a week calendar, and figures (PM compliance, MTBF, MTTR…).

pub mod checklists;
pub mod dispatch;
pub mod figures;
pub mod orders;
pub mod parts;
pub mod plans;

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// HTML and API routes of maintenance.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(orders::routes())
        .merge(plans::routes())
        .merge(checklists::routes())
        .merge(parts::routes())
        .merge(dispatch::routes())
        .merge(figures::routes())
}

/// The OpenAPI description of maintenance.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = orders::Api::openapi();
    doc.merge(plans::Api::openapi());
    doc.merge(checklists::Api::openapi());
    doc.merge(parts::Api::openapi());
    doc.merge(dispatch::Api::openapi());
    doc.merge(figures::Api::openapi());
    doc
}
