//! JSON endpoints for customers, their contacts, sites and timeline, with the same
//! permissions and rules as the pages (they call the same service functions).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use domain::FieldErrors;
use domain::archives::customers::{
    ContactDraft, ContactRaw, CustomerDraft, CustomerRaw, SiteDraft,
};
use serde::Deserialize;
use store::PageReq;
use store::archives::customers::{Contact, Customer, CustomerFilter, Site};
use store::timeline::Event;
use utoipa::{IntoParams, ToSchema};

use super::service::{self, CustomerDetail};
use crate::api::{ApiJson, ListResponse, VersionBody};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of customers.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/customers",
            get(list_customers).post(create_customer),
        )
        .route(
            "/api/v1/customers/{id}",
            get(get_customer)
                .put(update_customer)
                .delete(delete_customer),
        )
        .route("/api/v1/customers/{id}/retire", post(retire_customer))
        .route("/api/v1/customers/{id}/restore", post(restore_customer))
        .route("/api/v1/customers/{id}/contacts", post(create_contact))
        .route(
            "/api/v1/customers/{id}/contacts/{cid}",
            put(update_contact).delete(delete_contact),
        )
        .route("/api/v1/customers/{id}/sites", post(create_site))
        .route(
            "/api/v1/customers/{id}/sites/{sid}",
            put(update_site).delete(delete_site),
        )
        .route("/api/v1/customers/{id}/timeline", get(customer_timeline))
}

/// Filters and paging of the customer list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct CustomerParams {
    /// Text to look for in names, codes and regions.
    pub q: Option<String>,
    /// Only this region (exact).
    pub region: Option<String>,
    /// Only this kind: company or person.
    pub kind: Option<String>,
    /// Include retired customers.
    pub include_retired: Option<bool>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// Paging of the timeline.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct PageParams {
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

fn version(v: Option<i64>) -> AppResult<i64> {
    v.ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))
}

/// A customer as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerInput {
    /// Optional, unique in the organization: letters, digits, `-` and `_`.
    pub code: Option<String>,
    pub name: String,
    /// company (default) or person.
    pub kind: Option<String>,
    pub industry: Option<String>,
    /// Sales region, e.g. 华东.
    pub region: Option<String>,
    pub address: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub notes: Option<String>,
    /// An active staff member of the organization.
    pub owner_staff_id: Option<i64>,
    /// The customer agrees to be contacted about service.
    #[serde(default)]
    pub consent_contact: bool,
    /// The customer agrees to answer satisfaction surveys.
    #[serde(default)]
    pub consent_survey: bool,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl CustomerInput {
    fn draft(&self) -> AppResult<CustomerDraft> {
        Ok(CustomerDraft::parse(
            FieldErrors::default(),
            CustomerRaw {
                code: self.code.as_deref(),
                name: &self.name,
                kind: self.kind.as_deref(),
                industry: self.industry.as_deref(),
                region: self.region.as_deref(),
                address: self.address.as_deref(),
                tags: self.tags.clone(),
                notes: self.notes.as_deref(),
                owner_staff_id: self.owner_staff_id,
                consent_contact: self.consent_contact,
                consent_survey: self.consent_survey,
            },
        )?)
    }
}

/// A contact as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ContactInput {
    pub name: String,
    pub role: Option<String>,
    pub mobile: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub wechat: Option<String>,
    /// Required on update.
    pub version: Option<i64>,
}

impl ContactInput {
    fn draft(&self) -> AppResult<ContactDraft> {
        Ok(ContactDraft::parse(
            FieldErrors::default(),
            ContactRaw {
                name: &self.name,
                role: self.role.as_deref(),
                mobile: self.mobile.as_deref(),
                phone: self.phone.as_deref(),
                email: self.email.as_deref(),
                wechat: self.wechat.as_deref(),
            },
        )?)
    }
}

/// A site as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SiteInput {
    pub name: String,
    pub region: Option<String>,
    pub address: Option<String>,
    /// Required on update.
    pub version: Option<i64>,
}

impl SiteInput {
    fn draft(&self) -> AppResult<SiteDraft> {
        Ok(SiteDraft::parse(
            FieldErrors::default(),
            &self.name,
            self.region.as_deref(),
            self.address.as_deref(),
        )?)
    }
}

/// List customers.
#[utoipa::path(get, path = "/api/v1/customers", tag = "archives", params(CustomerParams),
    responses((status = 200, body = ListResponse<Customer>)), security(("bearer" = [])))]
pub async fn list_customers(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CustomerParams>,
) -> AppResult<Response> {
    let f = CustomerFilter {
        q: q.q.clone(),
        region: q.region.clone(),
        kind: q.kind.clone(),
        include_retired: q.include_retired.unwrap_or(false),
    };
    let p = service::list_customers(&st, &ctx, &f, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Create a customer.
#[utoipa::path(post, path = "/api/v1/customers", tag = "archives", request_body = CustomerInput,
    responses((status = 201, body = Customer), (status = 422, description = "invalid fields (a taken code is `taken` on `code`)")),
    security(("bearer" = [])))]
pub async fn create_customer(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<CustomerInput>,
) -> AppResult<Response> {
    let c = service::create_customer(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(c)).into_response())
}

/// One customer with its contacts and sites.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "archives", params(("id" = i64, Path)),
    responses((status = 200, body = CustomerDetail), (status = 404)), security(("bearer" = [])))]
pub async fn get_customer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::get_detail(&st, &ctx, id).await?).into_response())
}

/// Update a customer (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/customers/{id}", tag = "archives", params(("id" = i64, Path)), request_body = CustomerInput,
    responses((status = 200, body = Customer), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_customer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CustomerInput>,
) -> AppResult<Response> {
    let c = service::update_customer(&st, &ctx, id, version(b.version)?, b.draft()?).await?;
    Ok(axum::Json(c).into_response())
}

/// Delete a customer without history (409 `invalid_transition` when it has orders, equipment
/// or timeline events: retire it instead).
#[utoipa::path(delete, path = "/api/v1/customers/{id}", tag = "archives", params(("id" = i64, Path)),
    responses((status = 204), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn delete_customer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    service::delete_customer(&st, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Retire a customer.
#[utoipa::path(post, path = "/api/v1/customers/{id}/retire", tag = "archives", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Customer), (status = 409)), security(("bearer" = [])))]
pub async fn retire_customer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    let c = service::set_customer_active(&st, &ctx, id, b.version, false).await?;
    Ok(axum::Json(c).into_response())
}

/// Restore a retired customer.
#[utoipa::path(post, path = "/api/v1/customers/{id}/restore", tag = "archives", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Customer), (status = 409)), security(("bearer" = [])))]
pub async fn restore_customer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    let c = service::set_customer_active(&st, &ctx, id, b.version, true).await?;
    Ok(axum::Json(c).into_response())
}

/// Add a contact to a customer.
#[utoipa::path(post, path = "/api/v1/customers/{id}/contacts", tag = "archives", params(("id" = i64, Path)), request_body = ContactInput,
    responses((status = 201, body = Contact), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn create_contact(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ContactInput>,
) -> AppResult<Response> {
    let c = service::create_contact(&st, &ctx, id, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(c)).into_response())
}

/// Update a contact (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/customers/{id}/contacts/{cid}", tag = "archives",
    params(("id" = i64, Path), ("cid" = i64, Path)), request_body = ContactInput,
    responses((status = 200, body = Contact), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_contact(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, cid)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<ContactInput>,
) -> AppResult<Response> {
    let c = service::update_contact(&st, &ctx, id, cid, version(b.version)?, b.draft()?).await?;
    Ok(axum::Json(c).into_response())
}

/// Delete a contact.
#[utoipa::path(delete, path = "/api/v1/customers/{id}/contacts/{cid}", tag = "archives",
    params(("id" = i64, Path), ("cid" = i64, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_contact(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, cid)): Path<(i64, i64)>,
) -> AppResult<StatusCode> {
    service::delete_contact(&st, &ctx, id, cid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a site to a customer.
#[utoipa::path(post, path = "/api/v1/customers/{id}/sites", tag = "archives", params(("id" = i64, Path)), request_body = SiteInput,
    responses((status = 201, body = Site), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn create_site(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SiteInput>,
) -> AppResult<Response> {
    let s = service::create_site(&st, &ctx, id, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(s)).into_response())
}

/// Update a site (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/customers/{id}/sites/{sid}", tag = "archives",
    params(("id" = i64, Path), ("sid" = i64, Path)), request_body = SiteInput,
    responses((status = 200, body = Site), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_site(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, sid)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<SiteInput>,
) -> AppResult<Response> {
    let s = service::update_site(&st, &ctx, id, sid, version(b.version)?, b.draft()?).await?;
    Ok(axum::Json(s).into_response())
}

/// Delete a site (409 while installed units refer to it).
#[utoipa::path(delete, path = "/api/v1/customers/{id}/sites/{sid}", tag = "archives",
    params(("id" = i64, Path), ("sid" = i64, Path)),
    responses((status = 204), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn delete_site(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, sid)): Path<(i64, i64)>,
) -> AppResult<StatusCode> {
    service::delete_site(&st, &ctx, id, sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A customer's timeline (orders, installs, and later complaints, visits…), newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/timeline", tag = "archives",
    params(("id" = i64, Path), PageParams),
    responses((status = 200, body = ListResponse<Event>), (status = 404)), security(("bearer" = [])))]
pub async fn customer_timeline(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PageParams>,
) -> AppResult<Response> {
    let p = service::timeline(&st, &ctx, id, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}
