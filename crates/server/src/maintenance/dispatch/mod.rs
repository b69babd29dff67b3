//! Dispatch (派工): engineer profiles (regions, skills, team), the week calendar per engineer
//! and team with conflicts shown, and ranked candidates for an order. `service` holds the
//! logic, `week` the pure date and ranking helpers, `pages` the HTML, `api` the JSON.

pub mod api;
pub mod pages;
pub mod service;
pub mod week;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

use crate::app::AppState;

pub use service::{Candidate, candidates};

/// HTML and API routes of dispatch.
pub fn routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/dispatch", get(week_page))
        .route("/dispatch/engineers", get(engineers))
        .route("/dispatch/engineers/add", get(add))
        .route("/dispatch/engineers/{user_id}", get(edit).post(save))
        .merge(api::routes())
}

/// The OpenAPI paths of dispatch.
#[derive(OpenApi)]
#[openapi(
    paths(
        api::week,
        api::candidates,
        api::list_engineers,
        api::get_engineer,
        api::save_engineer,
    ),
    components(schemas(
        store::maintenance::dispatch::Engineer,
        service::WeekView,
        service::EngineerWeek,
        service::WeekOrder,
        service::Candidate,
        service::ConflictRef,
        api::ProfileInput,
    ))
)]
pub struct Api;
