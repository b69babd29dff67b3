//! Service orders (服务单) of every type: repair, maintenance, installation, delivery, return /
//! exchange, take-back, technical support. Lifecycle created → scheduled → dispatched → on
//! site → completed → accepted (the customer's sign-off) → closed, or cancelled with a reason;
//! the nested checklist worked on a phone; parts used; a repair order opened in one step from
//! a failed item; the printed form. `service` holds the transactions, `pages` the HTML,
//! `api` the JSON under /api/v1/service-orders, `print` the printed form.

pub mod api;
pub mod pages;
pub mod print;
pub mod service;

use axum::Router;

use crate::app::AppState;

pub use api::Api;

/// Routes of this part.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(print::routes())
}
