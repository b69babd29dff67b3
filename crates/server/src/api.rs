//! The JSON API under `/api/v1`: shared types, the account, users, tokens and audit
//! endpoints, the OpenAPI document and the browsable API page (served from the binary).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use domain::FieldErrors;
use domain::auth::Permission;
use domain::org::UserDraft;
use serde::{Deserialize, Serialize};
use store::Page;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use crate::audit::AuditQ;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// A JSON body whose parse errors come back as our JSON error shape.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, st: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, st).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(AppError::BadRequest(e.body_text())),
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> From<Page<T>> for ListResponse<T> {
    fn from(p: Page<T>) -> Self {
        ListResponse {
            items: p.items,
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }
    }
}

impl<T: Serialize> IntoResponse for ListResponse<T> {
    fn into_response(self) -> Response {
        axum::Json(self).into_response()
    }
}

/// The version of the record that was read (optimistic concurrency).
#[derive(Debug, Deserialize, ToSchema)]
pub struct VersionBody {
    pub version: i64,
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user_id: i64,
    pub login: String,
    pub display_name: String,
    pub organization_id: Option<i64>,
    pub organization: Option<String>,
    pub role: Option<String>,
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", responses((status = 200, body = Me), (status = 401)),
    security(("bearer" = [])))]
pub async fn me(ctx: Ctx) -> axum::Json<Me> {
    axum::Json(Me {
        user_id: ctx.user_id,
        login: ctx.login.clone(),
        display_name: ctx.name.clone(),
        organization_id: ctx.org.as_ref().map(|o| o.id),
        organization: ctx.org.as_ref().map(|o| o.name.clone()),
        role: ctx.org.as_ref().map(|o| o.role.as_str().to_string()),
    })
}

/// Audit rows of the organization, newest first. `total` is exact up to 10,000 and 10,001
/// beyond (filter to narrow).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQ),
    responses((status = 200, body = ListResponse<store::audit::Entry>), (status = 403)), security(("bearer" = [])))]
pub async fn audit(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQ>,
) -> AppResult<Response> {
    Ok(ListResponse::from(crate::audit::list_entries(&st, &ctx, &q).await?).into_response())
}

/// Paging of the users list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageParams {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Members of the organization (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", params(PageParams),
    responses((status = 200, body = ListResponse<store::tenants::Member>), (status = 403)), security(("bearer" = [])))]
pub async fn users(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PageParams>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageUsers)?.id;
    let mut h = st.db.acquire().await?;
    let p =
        store::tenants::members(&mut h.c(), org, store::PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// A new member.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserInput {
    pub login: String,
    pub display_name: String,
    /// admin, manager, engineer, staff, supervisor or auditor.
    pub role: String,
    #[serde(default)]
    pub department_ids: Vec<i64>,
    /// Required for a new login; leave empty to add an existing login to this organization.
    #[serde(default)]
    pub password: String,
}

/// Create a user in this organization (administrators).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = UserInput,
    responses((status = 201, body = store::tenants::Member), (status = 422)), security(("bearer" = [])))]
pub async fn create_user(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<UserInput>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageUsers)?.id;
    let d = UserDraft::parse(
        FieldErrors::default(),
        &b.login,
        &b.display_name,
        &b.role,
        b.department_ids.clone(),
    )?;
    let id = crate::admin::create_member(&st, &ctx.actor(), org, d, &b.password).await?;
    let mut h = st.db.acquire().await?;
    let u = store::users::get(&mut h.c(), id).await?;
    let (role, departments) = store::tenants::membership(&mut h.c(), id, org)
        .await?
        .ok_or(AppError::NotFound)?;
    let m = store::tenants::Member {
        user_id: id,
        login: u.login,
        display_name: u.display_name,
        active: u.active,
        role,
        departments,
    };
    Ok((StatusCode::CREATED, axum::Json(m)).into_response())
}

/// The caller's API tokens (administrators: everyone's).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "account",
    responses((status = 200, body = Vec<store::tokens::Token>)), security(("bearer" = [])))]
pub async fn tokens(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let org = ctx.org()?;
    let user = if org.role.allows(Permission::ManageUsers) {
        None
    } else {
        Some(ctx.user_id)
    };
    let mut h = st.db.acquire().await?;
    Ok(axum::Json(store::tokens::list(&mut h.c(), org.id, user).await?).into_response())
}

/// Revoke a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "account", params(("id" = i64, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn revoke_token(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    crate::admin::revoke_token(&st, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The OpenAPI description of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(title = "aftersales API", description = "After-sales service management (售后服务管理). Authenticate with `Authorization: Bearer <token>`; tokens are issued under “My API tokens” or with `aftersales token create --user LOGIN`."),
    paths(
        me, audit, users, create_user, tokens, revoke_token,
        crate::org::api::list_departments, crate::org::api::create_department, crate::org::api::get_department,
        crate::org::api::update_department, crate::org::api::retire_department, crate::org::api::restore_department,
        crate::org::api::list_posts, crate::org::api::create_post, crate::org::api::get_post,
        crate::org::api::update_post, crate::org::api::retire_post, crate::org::api::restore_post,
        crate::org::api::list_staff, crate::org::api::create_staff, crate::org::api::get_staff,
        crate::org::api::update_staff, crate::org::api::retire_staff, crate::org::api::restore_staff,
    ),
    components(schemas(VersionBody, Me, UserInput)),
    modifiers(&Bearer),
)]
pub struct ApiDoc;

/// The whole API description: the platform's paths and every feature's.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::archives::openapi());
    doc.merge(crate::complaints::openapi());
    doc.merge(crate::notices::Api::openapi());
    doc.merge(crate::maintenance::openapi());
    doc.merge(crate::satisfaction::openapi());
    doc
}

/// API routes and the API page.
pub fn routes() -> Router<AppState> {
    let doc = openapi_json();
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/users", get(users).post(create_user))
        .route("/api/v1/tokens", get(tokens))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .merge(crate::org::api::routes())
        .route(
            "/api/v1/openapi.json",
            get(move || async move { openapi_doc(doc) }),
        )
        .merge(
            SwaggerUi::new("/api/docs")
                .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")),
        )
}

/// The OpenAPI document, serialised once at start-up: kept as the document itself (what
/// `SwaggerUi::url` does) it was half the idle heap, 5 MB of small maps.
fn openapi_json() -> Bytes {
    Bytes::from(serde_json::to_vec(&openapi()).unwrap_or_default())
}

fn openapi_doc(doc: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc).into_response()
}
