//! Corrective and preventive actions (CAPA / 8D, DOMAIN.md §4): opened from a complaint
//! (our quality problems and repeats), the D1–D8 report, actions with owners and due dates,
//! and the effectiveness check (no recurrence for N days or N units shipped) that must pass
//! before the CAPA can close; overdue actions escalate once. `service` holds the
//! transactions, `pages` the HTML under `/capas`, `api` the JSON under `/api/v1/capas`, and
//! `jobs` the two periodic runs the worker calls.

pub mod api;
pub mod jobs;
pub mod pages;
pub mod service;

use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;

use crate::app::AppState;

pub use jobs::{run_effectiveness, run_overdue};

/// Routes of this part: pages and API.
pub fn routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/capas", get(list))
        .route("/capas/{id}", get(view).post(update))
        .route("/capas/{id}/edit", get(edit))
        .route("/capas/{id}/actions", post(add_action))
        .route(
            "/capas/{id}/actions/{action_id}/finish",
            post(finish_action),
        )
        .route("/capas/{id}/start-check", post(start_check))
        .route("/capas/{id}/evaluate", post(evaluate))
        .route("/capas/{id}/close", post(close))
        .route("/complaints/{id}/capa", post(open))
        .merge(api::routes())
}

/// OpenAPI of this part.
#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_capas,
        api::get_capa,
        api::open_capa,
        api::update_capa,
        api::add_capa_action,
        api::finish_capa_action,
        api::start_capa_check,
        api::evaluate_capa,
        api::close_capa,
    ),
    components(schemas(
        store::complaints::capa::Capa,
        store::complaints::capa::CapaRow,
        store::complaints::capa::Action,
        store::complaints::capa::Recurrence,
        service::Detail,
        service::ActionView,
        service::EffectView,
        api::CapaInput,
        api::ActionInput,
        api::FinishInput,
    ))
)]
pub struct Api;
