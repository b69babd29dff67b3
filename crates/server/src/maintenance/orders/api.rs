//! JSON endpoints of service orders under `/api/v1/service-orders`, calling the same service
//! functions as the pages: the list with its filters and views, create, detail (with the
//! nested checklist and its results), the work (results upserted: sending them twice is
//! harmless), every lifecycle move, parts used (a `client_key` makes a re-send a no-op) and
//! a repair order opened from a failed checklist item.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use domain::FieldErrors;
use domain::maintenance::orders::{
    Acceptance, Appointment, OrderDraft, OrderRaw, Work, WorkRaw, cancel_reason,
};
use serde::{Deserialize, Serialize};
use store::PageReq;
use store::maintenance::orders::{Event, ItemResult, OrderRow, PartLine, ServiceOrder};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::pages::{ListQ, filter_of};
use super::service::{self, Detail, PartUse, RawAnswer, Step, WorkInput};
use crate::api::{ApiJson, ListResponse};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of service orders.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/service-orders",
            get(list_orders).post(create_order),
        )
        .route("/api/v1/service-orders/{id}", get(get_order))
        .route("/api/v1/service-orders/{id}/work", put(save_work))
        .route(
            "/api/v1/service-orders/{id}/actions/{action}",
            post(act_order),
        )
        .route("/api/v1/service-orders/{id}/parts", post(add_part))
        .route(
            "/api/v1/service-orders/{id}/items/{item_id}/repair",
            post(open_repair),
        )
}

/// OpenAPI of the service-order endpoints.
#[derive(OpenApi)]
#[openapi(
    paths(
        list_orders,
        create_order,
        get_order,
        save_work,
        act_order,
        add_part,
        open_repair
    ),
    components(schemas(
        ServiceOrder,
        OrderRow,
        Detail,
        Event,
        ItemResult,
        PartLine,
        OrderInput,
        WorkBody,
        ResultInput,
        ActionInput,
        PartInput,
        PartAdded
    ))
)]
pub struct Api;

/// Filters, view and paging of the order list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct OrderParams {
    /// Text in the number, symptom, customer or serial.
    pub q: Option<String>,
    /// One status (created, scheduled, dispatched, on_site, completed, accepted, closed, cancelled).
    pub status: Option<String>,
    /// repair, maintenance, installation, delivery, return_exchange, take_back, tech_support.
    pub kind: Option<String>,
    pub engineer_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub plan_id: Option<i64>,
    /// Only orders due before today and not done.
    pub overdue: Option<bool>,
    /// On or after this local date (YYYY-MM-DD): the due date, or the report without one.
    pub from: Option<String>,
    /// On or before this local date.
    pub to: Option<String>,
    /// newest (default, newest created first), oldest, due, appointment, number.
    pub sort: Option<String>,
    /// all (default), mine (assigned to me), open, overdue.
    pub view: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// List service orders.
#[utoipa::path(get, path = "/api/v1/service-orders", tag = "maintenance", params(OrderParams),
    responses((status = 200, body = ListResponse<OrderRow>)), security(("bearer" = [])))]
pub async fn list_orders(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(p): Query<OrderParams>,
) -> AppResult<Response> {
    let id = |v: Option<i64>| v.map(|x| x.to_string());
    let q = ListQ {
        q: p.q,
        status: p.status,
        kind: p.kind,
        engineer_id: id(p.engineer_id),
        customer_id: id(p.customer_id),
        equipment_id: id(p.equipment_id),
        plan_id: id(p.plan_id),
        overdue: p.overdue.unwrap_or(false).then(|| "1".to_string()),
        from: p.from,
        to: p.to,
        sort: p.sort,
        view: p.view,
        page: p.page,
    };
    let f = filter_of(&st, &ctx, &q).await?;
    let page = service::list(&st, &ctx, &f, PageReq::new(p.page, p.per_page)).await?;
    Ok(ListResponse::from(page).into_response())
}

/// A new service order: for a unit (by id or serial) or a customer.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct OrderInput {
    /// repair, maintenance, installation, delivery, return_exchange, take_back, tech_support.
    pub kind: String,
    pub equipment_id: Option<i64>,
    /// The unit's serial, when its id is not known.
    pub serial: Option<String>,
    /// Without a unit.
    pub customer_id: Option<i64>,
    /// Default: the unit's site or the customer's address.
    pub site: Option<String>,
    /// The checklist level (required for maintenance).
    pub template_id: Option<i64>,
    /// YYYY-MM-DD.
    pub due_date: Option<String>,
    /// Required for a repair.
    pub symptom: Option<String>,
    /// When it was reported (Unix seconds); default now.
    pub reported_at: Option<i64>,
}

/// Create a service order.
#[utoipa::path(post, path = "/api/v1/service-orders", tag = "maintenance", request_body = OrderInput,
    responses((status = 201, body = ServiceOrder), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_order(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<OrderInput>,
) -> AppResult<Response> {
    let d = OrderDraft::parse(
        FieldErrors::default(),
        OrderRaw {
            kind: Some(&b.kind),
            equipment_id: b.equipment_id,
            serial: b.serial.as_deref(),
            customer_id: b.customer_id,
            site: b.site.as_deref(),
            template_id: b.template_id,
            due_date: b.due_date.as_deref(),
            symptom: b.symptom.as_deref(),
            reported_at: b.reported_at,
        },
    )?;
    let o = service::create(&st, &ctx, d).await?;
    Ok((StatusCode::CREATED, axum::Json(o)).into_response())
}

/// An order with its nested checklist and results, parts, history, the repair orders opened
/// from it and the moves allowed now.
#[utoipa::path(get, path = "/api/v1/service-orders/{id}", tag = "maintenance", params(("id" = i64, Path)),
    responses((status = 200, body = Detail), (status = 404)), security(("bearer" = [])))]
pub async fn get_order(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::detail(&st, &ctx, id).await?).into_response())
}

/// The result of one checklist item.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct ResultInput {
    pub item_id: i64,
    /// pass, fail or na (a measured item's outcome comes from its limits).
    pub outcome: Option<String>,
    /// A measured item's value.
    pub value: Option<f64>,
    pub note: Option<String>,
}

/// The on-site work. Fields left out keep their stored value.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct WorkBody {
    /// The version that was read (a body equal to what is stored succeeds whatever it says).
    pub version: i64,
    pub symptom: Option<String>,
    pub diagnosis: Option<String>,
    pub cause: Option<String>,
    pub actions: Option<String>,
    pub labor_minutes: Option<i64>,
    /// Service fee in fen.
    pub fee_fen: Option<i64>,
    #[serde(default)]
    pub results: Vec<ResultInput>,
}

/// Save the work: checklist results (upserted per item) and the work fields. 409 when
/// `version` is stale and the body changes something; 409 `so_locked` once completed.
#[utoipa::path(put, path = "/api/v1/service-orders/{id}/work", tag = "maintenance", params(("id" = i64, Path)),
    request_body = WorkBody,
    responses((status = 200, body = Detail), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn save_work(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<WorkBody>,
) -> AppResult<Response> {
    let o = service::get(&st, &ctx, id).await?;
    let keep = |v: &Option<String>, stored: &Option<String>| v.clone().or_else(|| stored.clone());
    let (symptom, diagnosis, cause, actions) = (
        keep(&b.symptom, &o.symptom),
        keep(&b.diagnosis, &o.diagnosis),
        keep(&b.cause, &o.cause),
        keep(&b.actions, &o.actions),
    );
    let minutes = b.labor_minutes.or(o.labor_minutes).map(|m| m.to_string());
    let work = Work::parse(
        FieldErrors::default(),
        WorkRaw {
            symptom: symptom.as_deref(),
            diagnosis: diagnosis.as_deref(),
            cause: cause.as_deref(),
            actions: actions.as_deref(),
            labor_minutes: minutes.as_deref(),
            fee_fen: Some(b.fee_fen.unwrap_or(o.fee_fen)),
        },
    )?;
    let answers = b
        .results
        .iter()
        .map(|r| RawAnswer {
            item_id: r.item_id,
            outcome: r.outcome.clone(),
            value: r.value.map(|v| format!("{v}")),
            note: r.note.clone(),
        })
        .collect();
    service::save_work(&st, &ctx, id, b.version, WorkInput { work, answers }).await?;
    Ok(axum::Json(service::detail(&st, &ctx, id).await?).into_response())
}

/// The data of a move; each action reads the fields it needs.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct ActionInput {
    /// The version that was read.
    pub version: i64,
    /// schedule: the appointment (Unix seconds).
    pub scheduled_start: Option<i64>,
    pub scheduled_end: Option<i64>,
    /// dispatch: the engineer (a member who may work orders).
    pub engineer_id: Option<i64>,
    /// arrive: when (default now).
    pub arrived_at: Option<i64>,
    /// accept: the customer's name.
    pub accepted_by: Option<String>,
    /// accept: when (default now).
    pub accepted_at: Option<i64>,
    /// accept: a drawn signature as a PNG data URL.
    pub signature: Option<String>,
    /// accept: 1 to 5.
    pub rating: Option<i64>,
    /// cancel: why (required).
    pub reason: Option<String>,
    /// dispatch / complete / close: a note.
    pub note: Option<String>,
}

impl ActionInput {
    fn step(&self, action: &str, now: i64) -> AppResult<Step> {
        let note = self
            .note
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from);
        Ok(match action {
            "schedule" => Step::Schedule(Appointment::parse(
                FieldErrors::default(),
                self.scheduled_start,
                self.scheduled_end,
            )?),
            "dispatch" => Step::Dispatch {
                engineer_id: self.engineer_id.ok_or_else(|| {
                    AppError::Invalid(FieldErrors::single("engineer_id", "required"))
                })?,
                note,
            },
            "arrive" => Step::Arrive {
                at: self.arrived_at,
            },
            "complete" => Step::Complete { note },
            "accept" => Step::Accept(Acceptance::parse(
                FieldErrors::default(),
                self.accepted_by.as_deref().unwrap_or(""),
                self.accepted_at,
                self.signature.as_deref(),
                self.rating,
                now,
            )?),
            "close" => Step::Close { note },
            "cancel" => Step::Cancel {
                reason: cancel_reason(self.reason.as_deref())?,
            },
            _ => return Err(AppError::NotFound),
        })
    }
}

/// Move an order: schedule, dispatch, arrive, complete, accept (the customer's sign-off),
/// close, cancel. A move the rules forbid is 409 with the reason (`so_not_dispatched`,
/// `so_checklist_incomplete`…).
#[utoipa::path(post, path = "/api/v1/service-orders/{id}/actions/{action}", tag = "maintenance",
    params(("id" = i64, Path), ("action" = String, Path)), request_body = ActionInput,
    responses((status = 200, body = ServiceOrder), (status = 409, description = "stale version or a move the rules forbid"),
        (status = 422)), security(("bearer" = [])))]
pub async fn act_order(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, action)): Path<(i64, String)>,
    ApiJson(b): ApiJson<ActionInput>,
) -> AppResult<Response> {
    let step = b.step(&action, st.now())?;
    Ok(axum::Json(service::act(&st, &ctx, id, b.version, step).await?).into_response())
}

/// A part used.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PartInput {
    pub part_id: i64,
    pub location_id: i64,
    pub qty: i64,
    /// A random value chosen by the client for this use: sending it again changes nothing.
    pub client_key: String,
}

/// The order after a part was recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartAdded {
    pub order: ServiceOrder,
    /// False when `client_key` was already recorded (a re-send).
    pub added: bool,
}

/// Record a part used and take it from stock (201; 200 for a re-send of the same
/// `client_key`). Not enough stock is 422 on `part_qty`.
#[utoipa::path(post, path = "/api/v1/service-orders/{id}/parts", tag = "maintenance", params(("id" = i64, Path)),
    request_body = PartInput,
    responses((status = 201, body = PartAdded), (status = 200, body = PartAdded), (status = 422)),
    security(("bearer" = [])))]
pub async fn add_part(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PartInput>,
) -> AppResult<Response> {
    let (order, added) = service::add_part(
        &st,
        &ctx,
        id,
        PartUse {
            part_id: b.part_id,
            location_id: b.location_id,
            qty: b.qty,
            client_key: b.client_key,
        },
    )
    .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(PartAdded { order, added })).into_response())
}

/// Open a repair order for the same unit from a failed checklist item (201), with the item's
/// text as its symptom; when one was already opened for that item, that one (200).
#[utoipa::path(post, path = "/api/v1/service-orders/{id}/items/{item_id}/repair", tag = "maintenance",
    params(("id" = i64, Path), ("item_id" = i64, Path)),
    responses((status = 201, body = ServiceOrder), (status = 200, body = ServiceOrder),
        (status = 409, description = "the item did not fail")), security(("bearer" = [])))]
pub async fn open_repair(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, item)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let (o, created) = service::repair_from_item(&st, &ctx, id, item).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(o)).into_response())
}
