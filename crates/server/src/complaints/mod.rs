//! Complaint handling (客户投诉处理, DOMAIN.md §4): registration, the lifecycle with its
//! department tasks and remedy approvals, working-time SLAs with warnings and escalation,
//! recurrence, corrective actions (CAPA / 8D), attachments, printable forms and figures.
//! `service` holds the transactions, `pages` the HTML, `api` the JSON under
//! `/api/v1/complaints`; the other modules are the parts around them.

pub mod api;
pub mod attachments;
pub mod batch;
pub mod capa;
pub mod figures;
pub mod index;
pub mod pages;
pub mod print;
pub mod service;
pub mod settings;
pub mod sla;

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// HTML and API routes of complaint handling.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(settings::routes())
        .merge(capa::routes())
        .merge(figures::routes())
        .merge(print::routes())
        .merge(attachments::routes())
}

/// The OpenAPI description of complaint handling.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api::Api::openapi();
    doc.merge(settings::Api::openapi());
    doc.merge(capa::Api::openapi());
    doc.merge(figures::Api::openapi());
    doc.merge(attachments::Api::openapi());
    doc
}
