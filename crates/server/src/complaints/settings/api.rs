//! JSON endpoints of the complaint settings, calling the same service functions as the
//! pages. Budgets are working minutes and amounts fen here (the pages take hours and yuan).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use domain::FieldErrors;
use domain::auth::Permission;
use serde::{Deserialize, Serialize};
use store::complaints::settings::{ApprovalRule, Duty, Settings, SlaTarget};
use utoipa::{IntoParams, ToSchema};

use super::input;
use super::service::{
    self, CalendarData, CalendarInput, DayInput, DutyInput, Overview, RuleInput, TargetInput,
};
use crate::api::{ApiJson, VersionBody};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of the complaint settings.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/complaint-settings", get(get_all).put(put_settings))
        .route("/api/v1/calendar", get(get_calendar).put(put_calendar))
        .route("/api/v1/calendar/days", post(add_calendar_day))
        .route("/api/v1/calendar/days/{day}", delete(remove_calendar_day))
        .route("/api/v1/calendar/statutory", post(load_statutory))
        .route("/api/v1/calendar/working-time", get(working_time))
        .route(
            "/api/v1/sla-targets",
            get(list_sla_targets).post(create_sla_target),
        )
        .route(
            "/api/v1/sla-targets/{id}",
            axum::routing::put(update_sla_target).delete(delete_sla_target),
        )
        .route(
            "/api/v1/approval-rules",
            get(list_approval_rules).post(create_approval_rule),
        )
        .route(
            "/api/v1/approval-rules/{id}",
            axum::routing::put(update_approval_rule),
        )
        .route(
            "/api/v1/approval-rules/{id}/activate",
            post(activate_approval_rule),
        )
        .route(
            "/api/v1/approval-rules/{id}/deactivate",
            post(deactivate_approval_rule),
        )
        .route(
            "/api/v1/responsibility-matrix",
            get(list_duties).post(add_duty),
        )
        .route("/api/v1/responsibility-matrix/seed", post(seed_matrix))
        .route("/api/v1/responsibility-matrix/{id}", delete(remove_duty))
}

/// Refuses a change before its input is looked at, so a reader gets 403 rather than 422.
fn manage(ctx: &Ctx) -> AppResult<()> {
    ctx.require(Permission::ManageComplaintSettings)?;
    Ok(())
}

fn version_of(v: Option<i64>) -> AppResult<i64> {
    v.ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))
}

/// The version that was read, as a query parameter (deletes).
#[derive(Debug, Deserialize, IntoParams)]
pub struct VersionQ {
    pub version: Option<i64>,
}

/// Every complaint setting: numbering and windows, the calendar, SLA targets with the
/// severities they define, approval rules and the responsibility matrix.
#[utoipa::path(get, path = "/api/v1/complaint-settings", tag = "complaint settings",
    responses((status = 200, body = Overview)), security(("bearer" = [])))]
pub async fn get_all(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(axum::Json(service::overview(&st, &ctx).await?).into_response())
}

/// Numbering, windows and limits as written; every field is required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SettingsInput {
    /// Complaint number prefix: letters, digits, - and _ (TS → TS-2026-000123).
    pub number_prefix: Option<String>,
    /// Digits of the sequence part, 3 … 10.
    pub number_digits: Option<i64>,
    /// Days within which a matching complaint is a repeat, 0 … 3650.
    pub recurrence_days: Option<i64>,
    /// Working days for the return visit, 1 … 90.
    pub return_visit_days: Option<i64>,
    /// Warn when this share (%) of an SLA budget is left, 0 … 90.
    pub warn_percent: Option<i64>,
    /// Days without recurrence before a corrective action is effective (0 = not used).
    pub capa_effect_days: Option<i64>,
    /// Units shipped without recurrence before it is effective (0 = not used).
    pub capa_effect_units: Option<i64>,
    /// Largest attachment in bytes, up to 1 GiB.
    pub attachment_max_bytes: Option<i64>,
    /// The version read (0 while never saved).
    pub version: Option<i64>,
}

/// Save numbering, windows and limits (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/complaint-settings", tag = "complaint settings", request_body = SettingsInput,
    responses((status = 200, body = Settings), (status = 403), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn put_settings(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<SettingsInput>,
) -> AppResult<Response> {
    manage(&ctx)?;
    let mut errs = FieldErrors::default();
    let mut need = |field: &str, v: Option<i64>| {
        if v.is_none() {
            errs.add(field, "required", None);
        }
        v.unwrap_or(0)
    };
    let s = Settings {
        number_prefix: b.number_prefix.clone().unwrap_or_default(),
        number_digits: need("number_digits", b.number_digits),
        recurrence_days: need("recurrence_days", b.recurrence_days),
        return_visit_days: need("return_visit_days", b.return_visit_days),
        warn_percent: need("warn_percent", b.warn_percent),
        capa_effect_days: need("capa_effect_days", b.capa_effect_days),
        capa_effect_units: need("capa_effect_units", b.capa_effect_units),
        attachment_max_bytes: need("attachment_max_bytes", b.attachment_max_bytes),
        version: need("version", b.version),
    };
    if !errs.is_empty() {
        service::check_settings(&mut errs, &s);
        return Err(AppError::Invalid(errs));
    }
    Ok(axum::Json(service::save_settings(&st, &ctx, &s).await?).into_response())
}

/// The work calendar (`version` 0: the built-in default, not saved yet).
#[utoipa::path(get, path = "/api/v1/calendar", tag = "complaint settings",
    responses((status = 200, body = CalendarData)), security(("bearer" = [])))]
pub async fn get_calendar(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(axum::Json(service::calendar(&st, &ctx).await?).into_response())
}

/// The calendar's name, offset, working periods and weekdays, with the version read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CalendarPut {
    pub name: String,
    /// Minutes east of UTC, -720 … 840 (Asia/Shanghai: 480).
    pub utc_offset_minutes: i64,
    /// e.g. "09:00-12:00,13:00-18:00".
    pub periods: String,
    /// Working weekdays as digits, 1 = Monday … 7 = Sunday, e.g. "12345".
    pub weekdays: String,
    /// The version read (0 creates the calendar).
    pub version: Option<i64>,
}

/// Save the work calendar (0 creates it with the built-in 2026 schedule's days).
#[utoipa::path(put, path = "/api/v1/calendar", tag = "complaint settings", request_body = CalendarPut,
    responses((status = 200, body = CalendarData), (status = 409), (status = 422, description = "field codes: required, invalid, invalid_periods, time_order, periods_overlap, invalid_weekdays")),
    security(("bearer" = [])))]
pub async fn put_calendar(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<CalendarPut>,
) -> AppResult<Response> {
    manage(&ctx)?;
    let version = version_of(b.version)?;
    let input = CalendarInput {
        name: b.name,
        utc_offset_minutes: b.utc_offset_minutes,
        periods: b.periods,
        weekdays: b.weekdays,
    };
    Ok(axum::Json(service::save_calendar(&st, &ctx, version, &input).await?).into_response())
}

/// A holiday or make-up working day, with the calendar version read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DayPost {
    /// YYYY-MM-DD.
    pub day: String,
    /// holiday or workday.
    pub kind: String,
    pub name: Option<String>,
    pub version: Option<i64>,
}

/// Add a holiday or make-up working day (a date listed with the other kind: 422 `day_conflict`).
#[utoipa::path(post, path = "/api/v1/calendar/days", tag = "complaint settings", request_body = DayPost,
    responses((status = 201, body = CalendarData), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_calendar_day(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<DayPost>,
) -> AppResult<Response> {
    manage(&ctx)?;
    let version = version_of(b.version)?;
    let input = DayInput {
        day: b.day,
        kind: b.kind,
        name: b.name,
    };
    let c = service::add_day(&st, &ctx, version, &input).await?;
    Ok((StatusCode::CREATED, axum::Json(c)).into_response())
}

/// Remove a listed date.
#[utoipa::path(delete, path = "/api/v1/calendar/days/{day}", tag = "complaint settings",
    params(("day" = String, Path, description = "YYYY-MM-DD"), VersionQ),
    responses((status = 200, body = CalendarData), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn remove_calendar_day(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(day): Path<String>,
    Query(q): Query<VersionQ>,
) -> AppResult<Response> {
    manage(&ctx)?;
    let version = version_of(q.version)?;
    Ok(axum::Json(service::remove_day(&st, &ctx, version, &day).await?).into_response())
}

/// Which year's State Council schedule to load.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatutoryPost {
    /// Built in: 2026.
    pub year: i32,
    pub version: Option<i64>,
}

/// Load the State Council holiday schedule of a year (its dates replace what was listed on them).
#[utoipa::path(post, path = "/api/v1/calendar/statutory", tag = "complaint settings", request_body = StatutoryPost,
    responses((status = 200, body = CalendarData), (status = 409), (status = 422, description = "`no_schedule` on `year`")),
    security(("bearer" = [])))]
pub async fn load_statutory(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<StatutoryPost>,
) -> AppResult<Response> {
    manage(&ctx)?;
    let version = version_of(b.version)?;
    let (c, _) = service::load_statutory(&st, &ctx, version, b.year).await?;
    Ok(axum::Json(c).into_response())
}

/// A start instant and a working-time budget.
#[derive(Debug, Deserialize, IntoParams)]
pub struct WorkingTimeQ {
    /// Unix seconds.
    pub from: i64,
    /// Working minutes to add.
    pub minutes: i64,
}

/// When a working-time budget runs out.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkingTime {
    pub from: i64,
    pub minutes: i64,
    /// Unix seconds; null when the calendar has no working time ahead.
    pub due: Option<i64>,
}

/// The working-time calculator: `from` plus `minutes` of working time on the calendar the
/// SLA clock uses.
#[utoipa::path(get, path = "/api/v1/calendar/working-time", tag = "complaint settings", params(WorkingTimeQ),
    responses((status = 200, body = WorkingTime), (status = 422)), security(("bearer" = [])))]
pub async fn working_time(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<WorkingTimeQ>,
) -> AppResult<Response> {
    let mut errs = FieldErrors::default();
    input::within(&mut errs, "minutes", Some(q.minutes), 0, input::MAX_MINUTES);
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let due = service::due(&st, &ctx, q.from, q.minutes).await?;
    Ok(axum::Json(WorkingTime {
        from: q.from,
        minutes: q.minutes,
        due,
    })
    .into_response())
}

/// The SLA targets, by severity then contract level.
#[utoipa::path(get, path = "/api/v1/sla-targets", tag = "complaint settings",
    responses((status = 200, body = Vec<SlaTarget>)), security(("bearer" = [])))]
pub async fn list_sla_targets(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(axum::Json(service::targets(&st, &ctx).await?.0).into_response())
}

/// An SLA target as written: budgets in working minutes (null = no target).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TargetBody {
    /// minor, serious, or a new level (which it creates).
    pub severity: String,
    /// '' or absent = any contract.
    #[serde(default)]
    pub contract_level: String,
    pub ack_minutes: Option<i64>,
    pub response_minutes: Option<i64>,
    pub remedy_minutes: Option<i64>,
    pub close_minutes: Option<i64>,
    /// Required on update.
    pub version: Option<i64>,
}

impl TargetBody {
    fn input(&self) -> TargetInput {
        TargetInput {
            severity: self.severity.clone(),
            contract_level: self.contract_level.clone(),
            ack_minutes: self.ack_minutes,
            response_minutes: self.response_minutes,
            remedy_minutes: self.remedy_minutes,
            close_minutes: self.close_minutes,
        }
    }
}

/// Add an SLA target (a taken severity and contract level: 422 `taken` on `severity`).
#[utoipa::path(post, path = "/api/v1/sla-targets", tag = "complaint settings", request_body = TargetBody,
    responses((status = 201, body = SlaTarget), (status = 422)), security(("bearer" = [])))]
pub async fn create_sla_target(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<TargetBody>,
) -> AppResult<Response> {
    let t = service::create_target(&st, &ctx, FieldErrors::default(), &b.input()).await?;
    Ok((StatusCode::CREATED, axum::Json(t)).into_response())
}

/// Update an SLA target (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/sla-targets/{id}", tag = "complaint settings", params(("id" = i64, Path)),
    request_body = TargetBody,
    responses((status = 200, body = SlaTarget), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_sla_target(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TargetBody>,
) -> AppResult<Response> {
    manage(&ctx)?;
    let version = version_of(b.version)?;
    let t =
        service::update_target(&st, &ctx, id, version, FieldErrors::default(), &b.input()).await?;
    Ok(axum::Json(t).into_response())
}

/// Delete an SLA target.
#[utoipa::path(delete, path = "/api/v1/sla-targets/{id}", tag = "complaint settings", params(("id" = i64, Path), VersionQ),
    responses((status = 204), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn delete_sla_target(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<VersionQ>,
) -> AppResult<StatusCode> {
    service::delete_target(&st, &ctx, id, version_of(q.version)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every approval rule, active or not.
#[utoipa::path(get, path = "/api/v1/approval-rules", tag = "complaint settings",
    responses((status = 200, body = Vec<ApprovalRule>)), security(("bearer" = [])))]
pub async fn list_approval_rules(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(axum::Json(service::rules(&st, &ctx).await?).into_response())
}

/// An approval rule as written: conditions left out match anything; exactly one approver.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleBody {
    /// repair, replace, return, refund, compensation or explanation.
    pub remedy_type: Option<String>,
    /// Applies to amounts strictly above this, in fen; or
    pub min_amount_fen: Option<i64>,
    /// the same in yuan ("5000", "5,000.00").
    pub min_amount_yuan: Option<String>,
    /// ours, customer_use, supplier, logistics or not_established.
    pub responsibility: Option<String>,
    pub severity: Option<String>,
    /// admin, manager, engineer, staff or supervisor; or
    pub approver_role: Option<String>,
    /// a department id.
    pub approver_department_id: Option<i64>,
    pub note: Option<String>,
    /// Defaults to true on create; unchanged on update when absent.
    pub active: Option<bool>,
    /// Required on update.
    pub version: Option<i64>,
}

impl RuleBody {
    fn input(&self) -> (FieldErrors, RuleInput) {
        let mut errs = FieldErrors::default();
        let yuan = input::yuan(&mut errs, "min_amount", self.min_amount_yuan.as_deref());
        if yuan.is_some() && self.min_amount_fen.is_some() {
            errs.add("min_amount", "amount_one", None);
        }
        let r = RuleInput {
            remedy_type: self.remedy_type.clone(),
            min_amount_fen: self.min_amount_fen.or(yuan),
            responsibility: self.responsibility.clone(),
            severity: self.severity.clone(),
            approver_role: self.approver_role.clone(),
            approver_department_id: self.approver_department_id,
            note: self.note.clone(),
            active: self.active,
        };
        (errs, r)
    }
}

/// Add an approval rule.
#[utoipa::path(post, path = "/api/v1/approval-rules", tag = "complaint settings", request_body = RuleBody,
    responses((status = 201, body = ApprovalRule), (status = 422)), security(("bearer" = [])))]
pub async fn create_approval_rule(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<RuleBody>,
) -> AppResult<Response> {
    manage(&ctx)?;
    let (errs, r) = b.input();
    let rule = service::create_rule(&st, &ctx, errs, &r).await?;
    Ok((StatusCode::CREATED, axum::Json(rule)).into_response())
}

/// Update an approval rule (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/approval-rules/{id}", tag = "complaint settings", params(("id" = i64, Path)),
    request_body = RuleBody,
    responses((status = 200, body = ApprovalRule), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_approval_rule(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RuleBody>,
) -> AppResult<Response> {
    manage(&ctx)?;
    let version = version_of(b.version)?;
    let (errs, r) = b.input();
    Ok(axum::Json(service::update_rule(&st, &ctx, id, version, errs, &r).await?).into_response())
}

/// Activate an approval rule.
#[utoipa::path(post, path = "/api/v1/approval-rules/{id}/activate", tag = "complaint settings", params(("id" = i64, Path)),
    request_body = VersionBody,
    responses((status = 200, body = ApprovalRule), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn activate_approval_rule(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_rule_active(&st, &ctx, id, b.version, true).await?).into_response())
}

/// Deactivate an approval rule (it no longer routes approvals).
#[utoipa::path(post, path = "/api/v1/approval-rules/{id}/deactivate", tag = "complaint settings", params(("id" = i64, Path)),
    request_body = VersionBody,
    responses((status = 200, body = ApprovalRule), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn deactivate_approval_rule(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(
        axum::Json(service::set_rule_active(&st, &ctx, id, b.version, false).await?)
            .into_response(),
    )
}

/// The responsibility matrix in lifecycle order.
#[utoipa::path(get, path = "/api/v1/responsibility-matrix", tag = "complaint settings",
    responses((status = 200, body = Vec<Duty>)), security(("bearer" = [])))]
pub async fn list_duties(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(axum::Json(service::matrix(&st, &ctx).await?).into_response())
}

/// Add a matrix row.
#[utoipa::path(post, path = "/api/v1/responsibility-matrix", tag = "complaint settings", request_body = DutyInput,
    responses((status = 201, body = Duty), (status = 422)), security(("bearer" = [])))]
pub async fn add_duty(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<DutyInput>,
) -> AppResult<Response> {
    let d = service::add_duty(&st, &ctx, FieldErrors::default(), &b).await?;
    Ok((StatusCode::CREATED, axum::Json(d)).into_response())
}

/// Remove a matrix row.
#[utoipa::path(delete, path = "/api/v1/responsibility-matrix/{id}", tag = "complaint settings", params(("id" = i64, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn remove_duty(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    service::remove_duty(&st, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many rows a seed load added.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeedResult {
    pub added: usize,
    pub matrix: Vec<Duty>,
}

/// Load the seed's matrix, matching departments by code (BIZ, MKT, SVC, PRD, PUR); rows
/// already present are skipped (409 when no department has one of these codes).
#[utoipa::path(post, path = "/api/v1/responsibility-matrix/seed", tag = "complaint settings",
    responses((status = 200, body = SeedResult), (status = 409)), security(("bearer" = [])))]
pub async fn seed_matrix(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let added = service::load_seed_matrix(&st, &ctx).await?;
    let matrix = service::matrix(&st, &ctx).await?;
    Ok(axum::Json(SeedResult { added, matrix }).into_response())
}
