//! Archives (档案): customers, products, orders, installed equipment and service outlets,
//! with the shared search box, the shared timeline, and spreadsheet import and export.
//! Each record type has its module (service, pages and API together); `search` and
//! `timeline` are shared by all of them.

pub mod customers;
pub mod equipment;
pub mod orders;
pub mod outlets;
pub mod products;
pub mod search;
pub mod timeline;
pub mod transfer;

use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// HTML and API routes of every archive module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(customers::routes())
        .merge(products::routes())
        .merge(orders::routes())
        .merge(equipment::routes())
        .merge(outlets::routes())
        .merge(search::routes())
        .merge(transfer::routes())
}

/// The OpenAPI description of every archive module.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = search::Api::openapi();
    doc.merge(customers::Api::openapi());
    doc.merge(products::Api::openapi());
    doc.merge(orders::Api::openapi());
    doc.merge(equipment::Api::openapi());
    doc.merge(outlets::Api::openapi());
    doc.merge(transfer::Api::openapi());
    doc
}

/// The page of a record in the archives (search results and timelines link here).
pub fn link(kind: &str, id: i64) -> String {
    match kind {
        "customer" => format!("/archives/customers/{id}"),
        "product" => format!("/archives/products/{id}"),
        "order" => format!("/archives/orders/{id}"),
        "equipment" | "install" => format!("/archives/equipment/{id}"),
        "outlet" => format!("/archives/outlets/{id}"),
        k if k == "complaint" || k.starts_with("complaint_") => format!("/complaints/{id}"),
        "capa" => format!("/capas/{id}"),
        "return_visit" => format!("/visits/{id}"),
        "survey_response" => format!("/survey-responses/{id}"),
        k if k == "service_order" || k.starts_with("service_order_") => {
            format!("/service-orders/{id}")
        }
        _ => String::new(),
    }
}
