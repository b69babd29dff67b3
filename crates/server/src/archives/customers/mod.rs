//! Customers (顾客档案) with their contacts and sites. `service` holds the transactions,
//! `pages` the HTML (contacts and sites are managed on the customer's page), `api` the JSON
//! endpoints under `/api/v1/customers`.

pub mod api;
pub mod pages;
pub mod service;

use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;

use crate::app::AppState;

pub use service::{insert_contact, insert_customer, insert_site};

/// HTML and API routes of customers.
pub fn routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/archives/customers", get(list).post(create))
        .route("/archives/customers/new", get(new))
        .route("/archives/customers/{id}", get(view).post(update))
        .route("/archives/customers/{id}/edit", get(edit))
        .route("/archives/customers/{id}/retire", post(retire))
        .route("/archives/customers/{id}/restore", post(restore))
        .route("/archives/customers/{id}/delete", post(delete))
        .route("/archives/customers/{id}/contacts", post(contact_create))
        .route(
            "/archives/customers/{id}/contacts/{cid}",
            post(contact_update),
        )
        .route(
            "/archives/customers/{id}/contacts/{cid}/edit",
            get(contact_edit),
        )
        .route(
            "/archives/customers/{id}/contacts/{cid}/delete",
            post(contact_delete),
        )
        .route("/archives/customers/{id}/sites", post(site_create))
        .route("/archives/customers/{id}/sites/{sid}", post(site_update))
        .route("/archives/customers/{id}/sites/{sid}/edit", get(site_edit))
        .route(
            "/archives/customers/{id}/sites/{sid}/delete",
            post(site_delete),
        )
        .merge(api::routes())
}

/// The OpenAPI paths of customers.
#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_customers,
        api::create_customer,
        api::get_customer,
        api::update_customer,
        api::delete_customer,
        api::retire_customer,
        api::restore_customer,
        api::create_contact,
        api::update_contact,
        api::delete_contact,
        api::create_site,
        api::update_site,
        api::delete_site,
        api::customer_timeline,
    ),
    components(schemas(
        store::archives::customers::Customer,
        store::archives::customers::Contact,
        store::archives::customers::Site,
        store::timeline::Event,
        service::CustomerDetail,
        api::CustomerInput,
        api::ContactInput,
        api::SiteInput,
    ))
)]
pub struct Api;
