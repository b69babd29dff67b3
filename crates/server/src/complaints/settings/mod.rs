//! Administration of complaint handling as data (DOMAIN.md §4, *configurable*): the work
//! calendar with statutory holidays and make-up days (调休), SLA targets per severity and
//! contract level, remedy approval rules, the responsibility matrix, numbering and windows.
//! `service` holds the transactions, `pages` the HTML under `/complaints/settings`, `api`
//! the JSON; `input` parses hours, yuan and sizes as typed.

pub mod api;
pub mod input;
pub mod pages;
pub mod service;

use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;

use crate::app::AppState;

pub use service::seed_defaults;

/// HTML and API routes of the complaint settings.
pub fn routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/complaints/settings", get(index))
        .route(
            "/complaints/settings/calendar",
            get(calendar_page).post(calendar_save),
        )
        .route("/complaints/settings/calendar/days", post(day_add))
        .route(
            "/complaints/settings/calendar/days/remove",
            post(day_remove),
        )
        .route(
            "/complaints/settings/calendar/statutory",
            post(statutory_load),
        )
        .route("/complaints/settings/sla", get(sla_list).post(sla_create))
        .route("/complaints/settings/sla/new", get(sla_new))
        .route("/complaints/settings/sla/{id}", post(sla_update))
        .route("/complaints/settings/sla/{id}/edit", get(sla_edit))
        .route("/complaints/settings/sla/{id}/delete", post(sla_delete))
        .route(
            "/complaints/settings/approvals",
            get(rules_list).post(rule_create),
        )
        .route("/complaints/settings/approvals/new", get(rule_new))
        .route("/complaints/settings/approvals/{id}", post(rule_update))
        .route("/complaints/settings/approvals/{id}/edit", get(rule_edit))
        .route(
            "/complaints/settings/approvals/{id}/activate",
            post(rule_activate),
        )
        .route(
            "/complaints/settings/approvals/{id}/deactivate",
            post(rule_deactivate),
        )
        .route(
            "/complaints/settings/matrix",
            get(matrix_page).post(duty_add),
        )
        .route("/complaints/settings/matrix/seed", post(matrix_seed))
        .route("/complaints/settings/matrix/{id}/delete", post(duty_remove))
        .route(
            "/complaints/settings/numbering",
            get(numbering_page).post(numbering_save),
        )
        .merge(api::routes())
}

/// The OpenAPI paths of the complaint settings.
#[derive(OpenApi)]
#[openapi(
    paths(
        api::get_all,
        api::put_settings,
        api::get_calendar,
        api::put_calendar,
        api::add_calendar_day,
        api::remove_calendar_day,
        api::load_statutory,
        api::working_time,
        api::list_sla_targets,
        api::create_sla_target,
        api::update_sla_target,
        api::delete_sla_target,
        api::list_approval_rules,
        api::create_approval_rule,
        api::update_approval_rule,
        api::activate_approval_rule,
        api::deactivate_approval_rule,
        api::list_duties,
        api::add_duty,
        api::remove_duty,
        api::seed_matrix,
    ),
    components(schemas(
        service::Overview,
        service::CalendarData,
        service::DutyInput,
        api::SettingsInput,
        api::CalendarPut,
        api::DayPost,
        api::StatutoryPost,
        api::WorkingTime,
        api::TargetBody,
        api::RuleBody,
        api::SeedResult,
        store::complaints::settings::Settings,
        store::complaints::settings::SlaTarget,
        store::complaints::settings::ApprovalRule,
        store::complaints::settings::Duty,
        store::calendar::Day,
    ))
)]
pub struct Api;
