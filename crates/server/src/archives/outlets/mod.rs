//! Service outlets (服务网点): own or partner, regions covered, address, contact and
//! contract dates. `service` holds the transactions, `pages` the HTML, `api` the JSON
//! endpoints under `/api/v1/outlets`.

pub mod api;
pub mod pages;
pub mod service;

use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;

use crate::app::AppState;

/// HTML and API routes of outlets.
pub fn routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/archives/outlets", get(list).post(create))
        .route("/archives/outlets/new", get(new))
        .route("/archives/outlets/{id}", get(view).post(update))
        .route("/archives/outlets/{id}/edit", get(edit))
        .route("/archives/outlets/{id}/retire", post(retire))
        .route("/archives/outlets/{id}/restore", post(restore))
        .merge(api::routes())
}

/// The OpenAPI paths of outlets.
#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_outlets,
        api::create_outlet,
        api::get_outlet,
        api::update_outlet,
        api::retire_outlet,
        api::restore_outlet,
    ),
    components(schemas(store::archives::outlets::Outlet, api::OutletInput))
)]
pub struct Api;
