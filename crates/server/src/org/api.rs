//! JSON endpoints for departments, posts and staff, with the same permissions and rules as
//! the pages (they call the same service functions).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::org::{DepartmentDraft, PostDraft, StaffDraft, StaffRaw};
use serde::Deserialize;
use store::PageReq;
use store::org::{Department, ListFilter, Post, Staff};
use utoipa::{IntoParams, ToSchema};

use super::service;
use crate::api::{ApiJson, ListResponse, VersionBody};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::AppResult;

/// API routes of this feature.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/departments",
            get(list_departments).post(create_department),
        )
        .route(
            "/api/v1/departments/{id}",
            get(get_department).put(update_department),
        )
        .route("/api/v1/departments/{id}/retire", post(retire_department))
        .route("/api/v1/departments/{id}/restore", post(restore_department))
        .route("/api/v1/posts", get(list_posts).post(create_post))
        .route("/api/v1/posts/{id}", get(get_post).put(update_post))
        .route("/api/v1/posts/{id}/retire", post(retire_post))
        .route("/api/v1/posts/{id}/restore", post(restore_post))
        .route("/api/v1/staff", get(list_staff).post(create_staff))
        .route("/api/v1/staff/{id}", get(get_staff).put(update_staff))
        .route("/api/v1/staff/{id}/retire", post(retire_staff))
        .route("/api/v1/staff/{id}/restore", post(restore_staff))
}

/// Filters and paging of the list endpoints.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct ListParams {
    /// Text to look for in names (and codes, employee numbers, phones).
    pub q: Option<String>,
    /// Include retired records.
    pub include_retired: Option<bool>,
    /// Only this department (posts and staff).
    pub department_id: Option<i64>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

impl ListParams {
    fn filter(&self) -> ListFilter {
        ListFilter {
            q: self.q.clone(),
            include_retired: self.include_retired.unwrap_or(false),
            department_id: self.department_id,
        }
    }
    fn page(&self) -> PageReq {
        PageReq::new(self.page, self.per_page)
    }
}

/// A department as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DepartmentInput {
    pub code: Option<String>,
    pub name: String,
    pub parent_id: Option<i64>,
    pub description: Option<String>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl DepartmentInput {
    fn draft(&self) -> AppResult<DepartmentDraft> {
        Ok(DepartmentDraft::parse(
            FieldErrors::default(),
            self.code.as_deref(),
            &self.name,
            self.parent_id,
            self.description.as_deref(),
        )?)
    }
}

fn version(v: Option<i64>) -> AppResult<i64> {
    v.ok_or_else(|| crate::error::AppError::Invalid(FieldErrors::single("version", "required")))
}

/// List departments.
#[utoipa::path(get, path = "/api/v1/departments", tag = "org", params(ListParams),
    responses((status = 200, body = ListResponse<Department>)), security(("bearer" = [])))]
pub async fn list_departments(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListParams>,
) -> AppResult<Response> {
    let p = service::list_departments(&st, &ctx, &q.filter(), q.page()).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Create a department.
#[utoipa::path(post, path = "/api/v1/departments", tag = "org", request_body = DepartmentInput,
    responses((status = 201, body = Department), (status = 422, description = "invalid fields")), security(("bearer" = [])))]
pub async fn create_department(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<DepartmentInput>,
) -> AppResult<Response> {
    let d = service::create_department(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(d)).into_response())
}

/// One department.
#[utoipa::path(get, path = "/api/v1/departments/{id}", tag = "org", params(("id" = i64, Path)),
    responses((status = 200, body = Department), (status = 404)), security(("bearer" = [])))]
pub async fn get_department(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::get_department(&st, &ctx, id).await?).into_response())
}

/// Update a department (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/departments/{id}", tag = "org", params(("id" = i64, Path)), request_body = DepartmentInput,
    responses((status = 200, body = Department), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_department(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<DepartmentInput>,
) -> AppResult<Response> {
    let d = service::update_department(&st, &ctx, id, version(b.version)?, b.draft()?).await?;
    Ok(axum::Json(d).into_response())
}

/// Retire a department (refused while it has active staff).
#[utoipa::path(post, path = "/api/v1/departments/{id}/retire", tag = "org", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Department), (status = 409)), security(("bearer" = [])))]
pub async fn retire_department(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(
        axum::Json(service::set_department_active(&st, &ctx, id, b.version, false).await?)
            .into_response(),
    )
}

/// Restore a retired department.
#[utoipa::path(post, path = "/api/v1/departments/{id}/restore", tag = "org", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Department), (status = 409)), security(("bearer" = [])))]
pub async fn restore_department(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(
        axum::Json(service::set_department_active(&st, &ctx, id, b.version, true).await?)
            .into_response(),
    )
}

/// A post as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PostInput {
    pub name: String,
    pub department_id: Option<i64>,
    /// Duties (岗位职能), one item each.
    pub duties: Vec<String>,
    /// Authority, one item each.
    #[serde(default)]
    pub authority: Vec<String>,
    /// Required on update.
    pub version: Option<i64>,
}

impl PostInput {
    fn draft(&self) -> AppResult<PostDraft> {
        Ok(PostDraft::parse(
            FieldErrors::default(),
            &self.name,
            self.department_id,
            self.duties.clone(),
            self.authority.clone(),
        )?)
    }
}

/// List posts.
#[utoipa::path(get, path = "/api/v1/posts", tag = "org", params(ListParams),
    responses((status = 200, body = ListResponse<Post>)), security(("bearer" = [])))]
pub async fn list_posts(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListParams>,
) -> AppResult<Response> {
    let p = service::list_posts(&st, &ctx, &q.filter(), q.page()).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Create a post.
#[utoipa::path(post, path = "/api/v1/posts", tag = "org", request_body = PostInput,
    responses((status = 201, body = Post), (status = 422)), security(("bearer" = [])))]
pub async fn create_post(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<PostInput>,
) -> AppResult<Response> {
    let p = service::create_post(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(p)).into_response())
}

/// One post.
#[utoipa::path(get, path = "/api/v1/posts/{id}", tag = "org", params(("id" = i64, Path)),
    responses((status = 200, body = Post), (status = 404)), security(("bearer" = [])))]
pub async fn get_post(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::get_post(&st, &ctx, id).await?).into_response())
}

/// Update a post.
#[utoipa::path(put, path = "/api/v1/posts/{id}", tag = "org", params(("id" = i64, Path)), request_body = PostInput,
    responses((status = 200, body = Post), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_post(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PostInput>,
) -> AppResult<Response> {
    let p = service::update_post(&st, &ctx, id, version(b.version)?, b.draft()?).await?;
    Ok(axum::Json(p).into_response())
}

/// Retire a post.
#[utoipa::path(post, path = "/api/v1/posts/{id}/retire", tag = "org", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Post), (status = 409)), security(("bearer" = [])))]
pub async fn retire_post(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(
        axum::Json(service::set_post_active(&st, &ctx, id, b.version, false).await?)
            .into_response(),
    )
}

/// Restore a post.
#[utoipa::path(post, path = "/api/v1/posts/{id}/restore", tag = "org", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Post), (status = 409)), security(("bearer" = [])))]
pub async fn restore_post(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_post_active(&st, &ctx, id, b.version, true).await?).into_response())
}

/// A staff member as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StaffInput {
    pub name: String,
    pub employee_no: Option<String>,
    pub department_id: Option<i64>,
    pub post_id: Option<i64>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// YYYY-MM-DD.
    pub hired_on: Option<String>,
    /// Required on update.
    pub version: Option<i64>,
}

impl StaffInput {
    fn draft(&self) -> AppResult<StaffDraft> {
        Ok(StaffDraft::parse(
            FieldErrors::default(),
            StaffRaw {
                name: &self.name,
                employee_no: self.employee_no.as_deref(),
                department_id: self.department_id,
                post_id: self.post_id,
                phone: self.phone.as_deref(),
                email: self.email.as_deref(),
                hired_on: self.hired_on.as_deref(),
            },
        )?)
    }
}

/// List staff.
#[utoipa::path(get, path = "/api/v1/staff", tag = "org", params(ListParams),
    responses((status = 200, body = ListResponse<Staff>)), security(("bearer" = [])))]
pub async fn list_staff(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListParams>,
) -> AppResult<Response> {
    let p = service::list_staff(&st, &ctx, &q.filter(), q.page()).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Create a staff member.
#[utoipa::path(post, path = "/api/v1/staff", tag = "org", request_body = StaffInput,
    responses((status = 201, body = Staff), (status = 422)), security(("bearer" = [])))]
pub async fn create_staff(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<StaffInput>,
) -> AppResult<Response> {
    let p = service::create_staff(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(p)).into_response())
}

/// One staff member.
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "org", params(("id" = i64, Path)),
    responses((status = 200, body = Staff), (status = 404)), security(("bearer" = [])))]
pub async fn get_staff(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::get_staff(&st, &ctx, id).await?).into_response())
}

/// Update a staff member.
#[utoipa::path(put, path = "/api/v1/staff/{id}", tag = "org", params(("id" = i64, Path)), request_body = StaffInput,
    responses((status = 200, body = Staff), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_staff(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StaffInput>,
) -> AppResult<Response> {
    let p = service::update_staff(&st, &ctx, id, version(b.version)?, b.draft()?).await?;
    Ok(axum::Json(p).into_response())
}

/// Retire a staff member.
#[utoipa::path(post, path = "/api/v1/staff/{id}/retire", tag = "org", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Staff), (status = 409)), security(("bearer" = [])))]
pub async fn retire_staff(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(
        axum::Json(service::set_staff_active(&st, &ctx, id, b.version, false).await?)
            .into_response(),
    )
}

/// Restore a staff member.
#[utoipa::path(post, path = "/api/v1/staff/{id}/restore", tag = "org", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Staff), (status = 409)), security(("bearer" = [])))]
pub async fn restore_staff(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(
        axum::Json(service::set_staff_active(&st, &ctx, id, b.version, true).await?)
            .into_response(),
    )
}
