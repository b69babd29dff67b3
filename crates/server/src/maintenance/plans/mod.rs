//! Maintenance plans (保养计划): for one unit or every unit of a product, a checklist level,
//! an interval (fixed, or floating from the last completion), an optional meter basis,
//! lead time and horizon. `service` holds the transactions, `pages` the HTML under
//! `/maintenance/plans`, `api` the JSON under `/api/v1/maintenance-plans`, `scheduler` the
//! periodic runs ([`run_scheduler`], [`run_overdue`]) and `demo` the demo plans.

pub mod api;
pub mod demo;
pub mod pages;
pub mod scheduler;
pub mod service;

use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;

pub use demo::seed_demo;
pub use scheduler::{SchedulerReport, run_overdue, run_plan, run_scheduler};

use crate::app::AppState;

/// HTML and API routes of maintenance plans.
pub fn routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/maintenance/plans", get(list).post(create))
        .route("/maintenance/plans/new", get(new))
        .route("/maintenance/plans/{id}", get(view).post(update))
        .route("/maintenance/plans/{id}/edit", get(edit))
        .route("/maintenance/plans/{id}/deactivate", post(deactivate))
        .route("/maintenance/plans/{id}/activate", post(activate))
        .route("/maintenance/plans/{id}/run", post(run))
        .merge(api::routes())
}

/// The OpenAPI paths of maintenance plans.
#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_plans,
        api::create_plan,
        api::get_plan,
        api::update_plan,
        api::deactivate_plan,
        api::activate_plan,
        api::run_plan,
        api::plan_orders,
    ),
    components(schemas(
        store::maintenance::plans::Plan,
        store::maintenance::plans::PlanOrder,
        api::PlanInput,
        SchedulerReport
    ))
)]
pub struct Api;
