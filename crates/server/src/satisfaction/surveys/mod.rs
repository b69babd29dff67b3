//! Survey templates (DOMAIN.md §7): dimensions (service stages) and items (scale questions
//! with importance weights, CSAT, NPS, CES, free text), versioned: a template that has answers
//! is never changed in place, saving it writes a new version. `service` holds the
//! transactions, `pages` the HTML under /surveys, `api` the JSON under
//! /api/v1/survey-templates, `seed` the default after-sales template.

pub mod api;
pub mod pages;
pub mod seed;
pub mod service;

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

pub use seed::seed_default;

/// HTML and API routes of survey templates.
pub fn routes() -> Router<AppState> {
    Router::new().merge(pages::routes()).merge(api::routes())
}

/// The OpenAPI paths of survey templates.
#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_templates,
        api::create_template,
        api::get_template,
        api::update_template,
        api::retire_template,
        api::restore_template,
    ),
    components(schemas(
        store::satisfaction::surveys::Template,
        store::satisfaction::surveys::TemplateRow,
        store::satisfaction::surveys::Dimension,
        store::satisfaction::surveys::Item,
        store::satisfaction::surveys::Full,
        service::Saved,
        api::TemplateInput,
        api::ItemInput,
    ))
)]
pub struct Api;
