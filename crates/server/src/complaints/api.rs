//! JSON endpoints of complaints under `/api/v1/complaints`, calling the same service
//! functions as the pages: list with the same filters and views, register, detail, correct
//! the registration, every lifecycle move, approval decisions and department tasks.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::complaints::draft::{
    Analysis, AnalysisRaw, Registration, RegistrationRaw, Remedy, RemedyRaw, step_text,
};
use serde::Deserialize;
use store::PageReq;
use store::complaints::steps::{Approval, Event, Linked, Task};
use store::complaints::{Complaint, ComplaintRow};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::pages::{ListQ, filter_of};
use super::service::{self, Detail, Step};
use super::sla::TargetView;
use crate::api::{ApiJson, ListResponse};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of complaints.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/complaints",
            get(list_complaints).post(create_complaint),
        )
        .route(
            "/api/v1/complaints/{id}",
            get(get_complaint).put(update_complaint),
        )
        .route(
            "/api/v1/complaints/{id}/actions/{action}",
            post(act_complaint),
        )
        .route(
            "/api/v1/complaints/{id}/approvals/{approval_id}",
            post(decide_approval),
        )
        .route("/api/v1/complaint-tasks", get(my_tasks))
        .route("/api/v1/complaint-tasks/{id}/done", post(finish_task))
}

/// OpenAPI of the complaint endpoints.
#[derive(OpenApi)]
#[openapi(
    paths(
        list_complaints,
        create_complaint,
        get_complaint,
        update_complaint,
        act_complaint,
        decide_approval,
        my_tasks,
        finish_task
    ),
    components(schemas(
        Complaint,
        ComplaintRow,
        Detail,
        Event,
        Task,
        Approval,
        Linked,
        TargetView,
        ComplaintInput,
        ActionInput,
        DecisionInput,
        TaskDoneInput
    ))
)]
pub struct Api;

/// Filters, view and paging of the complaint list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct ComplaintParams {
    /// Text in the number, customer, part number, serial or description.
    pub q: Option<String>,
    /// One status (received, confirmed, analysing, not_ours, remedy_proposed, remedy_approved,
    /// remedy_agreed, implementing, return_visit, closed, reopened, withdrawn).
    pub status: Option<String>,
    /// quality, human or other.
    pub class: Option<String>,
    pub severity: Option<String>,
    /// Responsible department, or a department with a task on the complaint.
    pub department_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub product_id: Option<i64>,
    /// Only complaints with a target past due.
    pub overdue: Option<bool>,
    /// Only complaints whose warning time has come.
    pub breaching_soon: Option<bool>,
    /// Only repeats.
    pub repeat: Option<bool>,
    /// Received on or after this local date (YYYY-MM-DD).
    pub from: Option<String>,
    /// Received on or before this local date (YYYY-MM-DD).
    pub to: Option<String>,
    /// newest (default), oldest, due, number.
    pub sort: Option<String>,
    /// all (default), open, tasks (my departments' open tasks), approvals (waiting for me), overdue.
    pub view: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// List the complaints the caller may see (staff: those their departments work on).
/// Matches are not counted: `total` is exact on the last page; before it, it is
/// `page × per_page + 1`, meaning "there is a next page".
#[utoipa::path(get, path = "/api/v1/complaints", tag = "complaints", params(ComplaintParams),
    responses((status = 200, body = ListResponse<ComplaintRow>)), security(("bearer" = [])))]
pub async fn list_complaints(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ComplaintParams>,
) -> AppResult<Response> {
    let flag = |b: Option<bool>| b.unwrap_or(false).then(|| "1".to_string());
    let q = ListQ {
        q: p.q,
        status: p.status,
        class: p.class,
        severity: p.severity,
        department_id: p.department_id.map(|v| v.to_string()),
        customer_id: p.customer_id.map(|v| v.to_string()),
        product_id: p.product_id.map(|v| v.to_string()),
        overdue: flag(p.overdue),
        soon: flag(p.breaching_soon),
        repeat: flag(p.repeat),
        from: p.from,
        to: p.to,
        sort: p.sort,
        view: p.view,
        page: p.page,
    };
    let (a, f) = filter_of(&st, &ctx, &q).await?;
    let page = service::list(&st, &a, &f, PageReq::new(p.page, p.per_page)).await?;
    Ok(ListResponse::from(page).into_response())
}

/// A complaint as registered. Customer, order, product and unit are linked by id, or by the
/// typed name / number when it matches the archives exactly; otherwise kept as typed.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct ComplaintInput {
    /// visit, phone, letter, email, web, other.
    pub channel: String,
    /// quality, human, other.
    pub class: String,
    /// minor, serious or a configured level.
    pub severity: String,
    pub fault_category: Option<String>,
    /// When it was received (Unix seconds); default now.
    pub received_at: Option<i64>,
    pub customer_id: Option<i64>,
    #[serde(default)]
    pub customer_name: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub order_id: Option<i64>,
    pub order_no: Option<String>,
    pub product_id: Option<i64>,
    pub part_no: Option<String>,
    pub equipment_id: Option<i64>,
    pub serial: Option<String>,
    pub batch_no: Option<String>,
    /// YYYY-MM-DD.
    pub ship_date: Option<String>,
    pub quantity: Option<i64>,
    pub defective_quantity: Option<i64>,
    pub days_in_service: Option<i64>,
    pub description: String,
    /// The customer's demand.
    pub demand: Option<String>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl ComplaintInput {
    fn draft(&self, severities: &[String]) -> AppResult<Registration> {
        let n = |v: Option<i64>| v.map(|x| x.to_string());
        let (q, dq, ds) = (
            n(self.quantity),
            n(self.defective_quantity),
            n(self.days_in_service),
        );
        Ok(Registration::parse(
            FieldErrors::default(),
            RegistrationRaw {
                channel: Some(&self.channel),
                class: Some(&self.class),
                severity: Some(&self.severity),
                fault_category: self.fault_category.as_deref(),
                customer_id: self.customer_id,
                customer_name: &self.customer_name,
                contact_name: self.contact_name.as_deref(),
                contact_phone: self.contact_phone.as_deref(),
                address: self.address.as_deref(),
                order_id: self.order_id,
                order_no: self.order_no.as_deref(),
                product_id: self.product_id,
                part_no: self.part_no.as_deref(),
                equipment_id: self.equipment_id,
                serial: self.serial.as_deref(),
                batch_no: self.batch_no.as_deref(),
                ship_date: self.ship_date.as_deref(),
                quantity: q.as_deref(),
                defective_quantity: dq.as_deref(),
                days_in_service: ds.as_deref(),
                description: &self.description,
                demand: self.demand.as_deref(),
            },
            severities,
        )?)
    }
}

/// Register a complaint: it gets its number, acknowledgement, SLA clock and recurrence check.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body = ComplaintInput,
    responses((status = 201, body = Complaint), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
pub async fn create_complaint(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<ComplaintInput>,
) -> AppResult<Response> {
    let org = ctx.require(domain::auth::Permission::HandleComplaints)?.id;
    let sev = service::severities(&st, org).await?;
    let c = service::register(&st, &ctx, b.draft(&sev)?, b.received_at).await?;
    Ok((StatusCode::CREATED, axum::Json(c)).into_response())
}

/// A complaint with its history, tasks, approvals, repeats, SLA targets and allowed moves.
#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "complaints", params(("id" = i64, Path)),
    responses((status = 200, body = Detail), (status = 404)), security(("bearer" = [])))]
pub async fn get_complaint(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::detail(&st, &ctx, id).await?).into_response())
}

/// Correct the registration (received, confirmed or analysing only). 409 with `changed_by`
/// and `changed_at` when `version` is stale.
#[utoipa::path(put, path = "/api/v1/complaints/{id}", tag = "complaints", params(("id" = i64, Path)),
    request_body = ComplaintInput,
    responses((status = 200, body = Complaint), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_complaint(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ComplaintInput>,
) -> AppResult<Response> {
    let org = ctx.require(domain::auth::Permission::HandleComplaints)?.id;
    let version = b
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let sev = service::severities(&st, org).await?;
    let c = service::edit_registration(&st, &ctx, id, version, b.draft(&sev)?).await?;
    Ok(axum::Json(c).into_response())
}

/// The data of a move; each action reads the fields it needs.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct ActionInput {
    /// The version that was read.
    pub version: i64,
    /// analyse: quality, human, other.
    pub class: Option<String>,
    /// analyse: ours, customer_use, supplier, logistics, not_established.
    pub responsibility: Option<String>,
    /// analyse: required when ours.
    pub responsible_department_id: Option<i64>,
    pub fault_category: Option<String>,
    pub investigation: Option<String>,
    /// analyse: required.
    pub cause: Option<String>,
    /// analyse: required when not ours.
    pub inspection_result: Option<String>,
    /// analyse: required when not ours.
    pub inspection_basis: Option<String>,
    /// explain: the explanation sent to the customer.
    pub explanation: Option<String>,
    /// respond: the customer accepted the explanation.
    pub accepted: Option<bool>,
    /// respond: the customer's words.
    pub response: Option<String>,
    /// propose: repair, replace, return, refund, compensation, explanation.
    pub remedy_type: Option<String>,
    /// propose: amount in fen (required for refund and compensation).
    pub amount_fen: Option<i64>,
    /// propose: what is offered.
    pub detail: Option<String>,
    /// propose: who proposes it (e.g. production and business).
    pub proposed_by: Option<String>,
    /// propose: YYYY-MM-DD.
    pub agreed_reply_date: Option<String>,
    /// progress: the message to the customer.
    pub message: Option<String>,
    /// complete: what was done.
    pub implementation: Option<String>,
    /// visit: the customer is satisfied.
    pub satisfied: Option<bool>,
    /// withdraw / pause: why.
    pub reason: Option<String>,
    /// agree / start / resume / visit: a note.
    pub note: Option<String>,
}

fn need_bool(v: Option<bool>, field: &str) -> AppResult<bool> {
    v.ok_or_else(|| AppError::Invalid(FieldErrors::single(field, "required")))
}

impl ActionInput {
    fn step(&self, action: &str) -> AppResult<Step> {
        let text = |field: &str, v: &Option<String>, needed: bool| -> AppResult<Option<String>> {
            Ok(step_text(field, v.as_deref(), needed)?)
        };
        Ok(match action {
            "confirm" => Step::Confirm,
            "analyse" => Step::Analyse(Analysis::parse(
                FieldErrors::default(),
                AnalysisRaw {
                    class: self.class.as_deref(),
                    responsibility: self.responsibility.as_deref(),
                    responsible_department_id: self.responsible_department_id,
                    fault_category: self.fault_category.as_deref(),
                    investigation: self.investigation.as_deref(),
                    cause: self.cause.as_deref(),
                    inspection_result: self.inspection_result.as_deref(),
                    inspection_basis: self.inspection_basis.as_deref(),
                },
            )?),
            "explain" => {
                Step::Explain(text("explanation", &self.explanation, true)?.unwrap_or_default())
            }
            "respond" => Step::Respond {
                accepted: need_bool(self.accepted, "accepted")?,
                text: text("response", &self.response, true)?.unwrap_or_default(),
            },
            "propose" => Step::Propose(Remedy::parse(
                FieldErrors::default(),
                RemedyRaw {
                    remedy_type: self.remedy_type.as_deref(),
                    amount_fen: self.amount_fen,
                    detail: self.detail.as_deref(),
                    proposed_by: self.proposed_by.as_deref(),
                    agreed_reply_date: self.agreed_reply_date.as_deref(),
                },
            )?),
            "agree" => Step::Agree {
                note: text("note", &self.note, false)?,
            },
            "start" => Step::Start {
                note: text("note", &self.note, false)?,
            },
            "progress" => Step::Progress(text("message", &self.message, true)?.unwrap_or_default()),
            "complete" => Step::Complete(
                text("implementation", &self.implementation, true)?.unwrap_or_default(),
            ),
            "visit" => {
                let satisfied = need_bool(self.satisfied, "satisfied")?;
                Step::Visit {
                    satisfied,
                    note: text("note", &self.note, !satisfied)?,
                }
            }
            "withdraw" => Step::Withdraw(text("reason", &self.reason, true)?.unwrap_or_default()),
            "pause" => Step::Pause(text("reason", &self.reason, true)?.unwrap_or_default()),
            "resume" => Step::Resume(text("note", &self.note, false)?),
            _ => return Err(AppError::NotFound),
        })
    }
}

/// Move a complaint: confirm, analyse, explain, respond, propose, agree, start, progress,
/// complete, visit, withdraw, pause, resume. A move the rules forbid is 409 with the reason.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/actions/{action}", tag = "complaints",
    params(("id" = i64, Path), ("action" = String, Path)), request_body = ActionInput,
    responses((status = 200, body = Complaint), (status = 409, description = "stale version or a move the rules forbid"),
        (status = 422)), security(("bearer" = [])))]
pub async fn act_complaint(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, action)): Path<(i64, String)>,
    ApiJson(b): ApiJson<ActionInput>,
) -> AppResult<Response> {
    let step = b.step(&action)?;
    Ok(axum::Json(service::act(&st, &ctx, id, b.version, step).await?).into_response())
}

/// An approval decision.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionInput {
    pub approve: bool,
    /// Required to reject.
    pub comment: Option<String>,
}

/// Approve or reject a waiting remedy approval addressed to the caller's role or department.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/approvals/{approval_id}", tag = "complaints",
    params(("id" = i64, Path), ("approval_id" = i64, Path)), request_body = DecisionInput,
    responses((status = 200, body = Complaint), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn decide_approval(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, aid)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<DecisionInput>,
) -> AppResult<Response> {
    let c = service::decide(&st, &ctx, id, aid, b.approve, b.comment).await?;
    Ok(axum::Json(c).into_response())
}

/// Open tasks of the caller's departments.
#[utoipa::path(get, path = "/api/v1/complaint-tasks", tag = "complaints",
    responses((status = 200, body = [Task])), security(("bearer" = [])))]
pub async fn my_tasks(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(axum::Json(service::my_tasks(&st, &ctx, 200).await?).into_response())
}

/// A task marked done.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct TaskDoneInput {
    pub note: Option<String>,
}

/// Mark a department task done (members of that department, the manager or an admin).
#[utoipa::path(post, path = "/api/v1/complaint-tasks/{id}/done", tag = "complaints",
    params(("id" = i64, Path)), request_body = TaskDoneInput,
    responses((status = 200, body = Task), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn finish_task(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TaskDoneInput>,
) -> AppResult<Response> {
    let note = b.note.filter(|s| !s.trim().is_empty());
    Ok(axum::Json(service::finish_task(&st, &ctx, id, note).await?).into_response())
}
