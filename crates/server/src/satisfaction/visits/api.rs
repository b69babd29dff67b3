//! JSON endpoints of return visits under `/api/v1/visits`, calling the same service
//! functions as the pages: the list with its views and filters, create (by hand), detail,
//! record (the return-visit form and its outcome), reassign, cancel, the rules, and
//! "generate now" for managers.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::satisfaction::visits::{Record, RecordRaw, Settings, SettingsRaw, cancel_reason};
use serde::Deserialize;
use store::PageReq;
use store::satisfaction::visits::{Visit, VisitSettings};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::pages::{ListQ, filter_of};
use super::rules::Generated;
use super::service::{self, Detail, Manual};
use crate::api::{ApiJson, ListResponse};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::AppResult;

/// API routes of return visits.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/visits", get(list_visits).post(create_visit))
        .route(
            "/api/v1/visits/settings",
            get(get_settings).put(put_settings),
        )
        .route("/api/v1/visits/generate", post(generate_visits))
        .route("/api/v1/visits/{id}", get(get_visit))
        .route("/api/v1/visits/{id}/record", post(record_visit))
        .route("/api/v1/visits/{id}/reassign", post(reassign_visit))
        .route("/api/v1/visits/{id}/cancel", post(cancel_visit))
}

/// OpenAPI of the return-visit endpoints.
#[derive(OpenApi)]
#[openapi(
    paths(
        list_visits,
        create_visit,
        get_visit,
        record_visit,
        reassign_visit,
        cancel_visit,
        get_settings,
        put_settings,
        generate_visits
    ),
    components(schemas(
        Visit,
        Detail,
        VisitSettings,
        Generated,
        ManualInput,
        RecordInput,
        ReassignInput,
        CancelInput,
        SettingsInput
    ))
)]
pub struct Api;

/// Views, filters and paging of the visit list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct VisitParams {
    /// all (default), mine (planned, assigned to me), due (planned, due by today), overdue
    /// (planned, due before today), done.
    pub view: Option<String>,
    /// complaint, service_order, survey or manual.
    pub source: Option<String>,
    /// planned, done or cancelled.
    pub status: Option<String>,
    pub assignee_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub complaint_id: Option<i64>,
    pub service_order_id: Option<i64>,
    /// YYYY-MM of the due date.
    pub month: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// List return visits.
#[utoipa::path(get, path = "/api/v1/visits", tag = "satisfaction", params(VisitParams),
    responses((status = 200, body = ListResponse<Visit>)), security(("bearer" = [])))]
pub async fn list_visits(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(p): Query<VisitParams>,
) -> AppResult<Response> {
    let id = |v: Option<i64>| v.map(|x| x.to_string());
    let q = ListQ {
        view: p.view,
        source: p.source,
        status: p.status,
        assignee_id: id(p.assignee_id),
        customer_id: id(p.customer_id),
        complaint_id: id(p.complaint_id),
        service_order_id: id(p.service_order_id),
        month: p.month,
        page: p.page,
    };
    let f = filter_of(&st, &ctx, &q).await?;
    let page = service::list(&st, &ctx, &f, PageReq::new(p.page, p.per_page)).await?;
    Ok(ListResponse::from(page).into_response())
}

/// A visit created by hand.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct ManualInput {
    /// The customer (or give a unit, order or complaint and the customer comes from it).
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub service_order_id: Option<i64>,
    /// A complaint waiting at its return visit: the visit becomes its return visit.
    pub complaint_id: Option<i64>,
    /// Default: the caller.
    pub assignee_id: Option<i64>,
    /// YYYY-MM-DD; default today.
    pub due_date: Option<String>,
}

/// Create a return visit by hand.
#[utoipa::path(post, path = "/api/v1/visits", tag = "satisfaction", request_body = ManualInput,
    responses((status = 201, body = Visit), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_visit(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<ManualInput>,
) -> AppResult<Response> {
    let m = Manual::check(
        FieldErrors::default(),
        Manual {
            customer_id: b.customer_id,
            equipment_id: b.equipment_id,
            service_order_id: b.service_order_id,
            complaint_id: b.complaint_id,
            assignee_id: b.assignee_id,
            due_date: b.due_date.filter(|d| !d.trim().is_empty()),
        },
    )?;
    let v = service::create(&st, &ctx, m).await?;
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

/// A visit with the rating threshold and the moves the caller may make.
#[utoipa::path(get, path = "/api/v1/visits/{id}", tag = "satisfaction", params(("id" = i64, Path)),
    responses((status = 200, body = Detail), (status = 404)), security(("bearer" = [])))]
pub async fn get_visit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::detail(&st, &ctx, id).await?).into_response())
}

/// The return-visit record (回访记录).
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct RecordInput {
    /// The visit's version as read.
    pub version: i64,
    /// When the customer was reached (Unix seconds); default now.
    pub visited_at: Option<i64>,
    /// phone, on_site or online.
    pub method: Option<String>,
    /// 1 to 5.
    pub rating: Option<i64>,
    pub problem_category: Option<String>,
    /// The customer's own words (required when not satisfied).
    pub customer_words: Option<String>,
    pub follow_up: Option<String>,
    /// Default: the rating above the organization's low rating.
    pub satisfied: Option<bool>,
}

/// Record a planned visit; a complaint's visit closes or reopens it, any other unsatisfied
/// visit registers a new complaint.
#[utoipa::path(post, path = "/api/v1/visits/{id}/record", tag = "satisfaction", params(("id" = i64, Path)),
    request_body = RecordInput,
    responses((status = 200, body = Visit), (status = 403), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn record_visit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RecordInput>,
) -> AppResult<Response> {
    let d = service::detail(&st, &ctx, id).await?;
    let rating = b.rating.map(|r| r.to_string());
    let satisfied = b.satisfied.map(|s| if s { "yes" } else { "no" });
    let r = Record::parse(
        FieldErrors::default(),
        RecordRaw {
            visited_at: Some(b.visited_at.unwrap_or_else(|| st.now())),
            method: b.method.as_deref(),
            rating: rating.as_deref(),
            problem_category: b.problem_category.as_deref(),
            customer_words: b.customer_words.as_deref(),
            follow_up: b.follow_up.as_deref(),
            satisfied,
        },
        d.low_rating,
        st.now(),
    )?;
    Ok(axum::Json(service::record(&st, &ctx, id, b.version, r).await?).into_response())
}

/// Whom a visit goes to.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReassignInput {
    pub version: i64,
    pub assignee_id: i64,
}

/// Reassign a planned visit (the new assignee is notified).
#[utoipa::path(post, path = "/api/v1/visits/{id}/reassign", tag = "satisfaction", params(("id" = i64, Path)),
    request_body = ReassignInput,
    responses((status = 200, body = Visit), (status = 403), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn reassign_visit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReassignInput>,
) -> AppResult<Response> {
    let v = service::reassign(&st, &ctx, id, b.version, b.assignee_id).await?;
    Ok(axum::Json(v).into_response())
}

/// Why a visit is cancelled.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelInput {
    pub version: i64,
    pub reason: Option<String>,
}

/// Cancel a planned visit with a reason (managers).
#[utoipa::path(post, path = "/api/v1/visits/{id}/cancel", tag = "satisfaction", params(("id" = i64, Path)),
    request_body = CancelInput,
    responses((status = 200, body = Visit), (status = 403), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn cancel_visit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CancelInput>,
) -> AppResult<Response> {
    let reason = cancel_reason(b.reason.as_deref())?;
    let v = service::cancel(&st, &ctx, id, b.version, reason).await?;
    Ok(axum::Json(v).into_response())
}

/// The visit and trigger rules.
#[utoipa::path(get, path = "/api/v1/visits/settings", tag = "satisfaction",
    responses((status = 200, body = VisitSettings)), security(("bearer" = [])))]
pub async fn get_settings(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(axum::Json(service::settings(&st, &ctx).await?).into_response())
}

/// The visit and trigger rules as sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SettingsInput {
    pub version: i64,
    /// Working days after a complaint reaches its return visit (0-30).
    pub complaint_days: i64,
    /// Working days after a service order completes or a low score (0-30).
    pub order_days: i64,
    pub tier1_max: i64,
    pub tier1_percent: i64,
    /// At least tier1_max.
    pub tier2_max: i64,
    pub tier2_percent: i64,
    pub tier3_percent: i64,
    /// 1-4: a rating at or below is unsatisfied by default.
    pub low_rating: i64,
    /// 0-100: a survey response scoring at or below triggers the action.
    pub low_score: i64,
    /// task or complaint.
    pub low_score_action: String,
    /// Days an answer link stays valid (1-365).
    pub link_days: i64,
}

/// Replace the visit and trigger rules (managers; 409 when stale).
#[utoipa::path(put, path = "/api/v1/visits/settings", tag = "satisfaction", request_body = SettingsInput,
    responses((status = 200, body = VisitSettings), (status = 403), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn put_settings(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<SettingsInput>,
) -> AppResult<Response> {
    let n = |v: i64| v.to_string();
    let (c, o, m1, p1, m2, p2, p3, lr, ls, ld) = (
        n(b.complaint_days),
        n(b.order_days),
        n(b.tier1_max),
        n(b.tier1_percent),
        n(b.tier2_max),
        n(b.tier2_percent),
        n(b.tier3_percent),
        n(b.low_rating),
        n(b.low_score),
        n(b.link_days),
    );
    let s = Settings::parse(
        FieldErrors::default(),
        SettingsRaw {
            complaint_days: Some(&c),
            order_days: Some(&o),
            tier1_max: Some(&m1),
            tier1_percent: Some(&p1),
            tier2_max: Some(&m2),
            tier2_percent: Some(&p2),
            tier3_percent: Some(&p3),
            low_rating: Some(&lr),
            low_score: Some(&ls),
            low_score_action: Some(&b.low_score_action),
            link_days: Some(&ld),
        },
    )?;
    Ok(axum::Json(service::put_settings(&st, &ctx, b.version, &s).await?).into_response())
}

/// Run the visit generation now for the caller's organization (managers).
#[utoipa::path(post, path = "/api/v1/visits/generate", tag = "satisfaction",
    responses((status = 200, body = Generated), (status = 403)), security(("bearer" = [])))]
pub async fn generate_visits(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(axum::Json(service::generate_now(&st, &ctx).await?).into_response())
}
