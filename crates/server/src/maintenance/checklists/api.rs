//! JSON endpoints of checklist templates under `/api/v1/checklist-templates`, calling the
//! same service functions as the pages: levels (code, name, the level below), their items,
//! and the effective checklist a level makes with the levels below it.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::maintenance::checklist::{ItemDraft, ItemRaw, TemplateDraft};
use serde::Deserialize;
use store::maintenance::checklists::{Item, Template};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::service::{self, Detail, Effective, EffectiveGroup, EffectiveItem, Level, MoveTo};
use crate::api::ApiJson;
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of checklist templates.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/checklist-templates",
            get(list_templates).post(create_template),
        )
        .route(
            "/api/v1/checklist-templates/{id}",
            get(get_template).put(update_template),
        )
        .route(
            "/api/v1/checklist-templates/{id}/active",
            post(set_template_active),
        )
        .route(
            "/api/v1/checklist-templates/{id}/checklist",
            get(get_checklist),
        )
        .route("/api/v1/checklist-templates/{id}/items", post(add_item))
        .route(
            "/api/v1/checklist-templates/{id}/items/{item_id}",
            axum::routing::put(update_item),
        )
        .route(
            "/api/v1/checklist-templates/{id}/items/{item_id}/active",
            post(set_item_active),
        )
        .route(
            "/api/v1/checklist-templates/{id}/items/{item_id}/move",
            post(move_item),
        )
}

/// OpenAPI of the checklist endpoints.
#[derive(OpenApi)]
#[openapi(
    paths(
        list_templates,
        create_template,
        get_template,
        update_template,
        set_template_active,
        get_checklist,
        add_item,
        update_item,
        set_item_active,
        move_item
    ),
    components(schemas(
        Template,
        Item,
        Detail,
        Effective,
        EffectiveGroup,
        EffectiveItem,
        Level,
        TemplateInput,
        ItemInput,
        ActiveInput,
        MoveInput
    ))
)]
pub struct Api;

/// Options of the template list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct TemplateParams {
    /// Include retired levels.
    pub retired: Option<bool>,
}

/// The organization's checklist levels, by code.
#[utoipa::path(get, path = "/api/v1/checklist-templates", tag = "maintenance", params(TemplateParams),
    responses((status = 200, body = [Template])), security(("bearer" = [])))]
pub async fn list_templates(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(p): Query<TemplateParams>,
) -> AppResult<Response> {
    let all = service::list(&st, &ctx, p.retired.unwrap_or(false)).await?;
    Ok(axum::Json(all).into_response())
}

/// A checklist level.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct TemplateInput {
    /// Unique in the organization: letters, digits, - and _.
    pub code: String,
    pub name: String,
    /// The level below, whose items this one includes (a cycle is refused).
    pub includes_id: Option<i64>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl TemplateInput {
    fn draft(&self) -> AppResult<TemplateDraft> {
        Ok(TemplateDraft::parse(
            FieldErrors::default(),
            &self.code,
            &self.name,
            self.includes_id,
        )?)
    }
}

/// Create a checklist level (managers and administrators).
#[utoipa::path(post, path = "/api/v1/checklist-templates", tag = "maintenance", request_body = TemplateInput,
    responses((status = 201, body = Template), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_template(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<TemplateInput>,
) -> AppResult<Response> {
    let t = service::create(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(t)).into_response())
}

/// A level with its own items and its effective checklist.
#[utoipa::path(get, path = "/api/v1/checklist-templates/{id}", tag = "maintenance", params(("id" = i64, Path)),
    responses((status = 200, body = Detail), (status = 404)), security(("bearer" = [])))]
pub async fn get_template(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::detail(&st, &ctx, id).await?).into_response())
}

/// Change a level's code, name or the level it includes. 409 when `version` is stale; a level
/// that would include itself (directly or below) is refused on `includes_id`.
#[utoipa::path(put, path = "/api/v1/checklist-templates/{id}", tag = "maintenance", params(("id" = i64, Path)),
    request_body = TemplateInput,
    responses((status = 200, body = Template), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_template(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TemplateInput>,
) -> AppResult<Response> {
    let version = b
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let t = service::update(&st, &ctx, id, version, b.draft()?).await?;
    Ok(axum::Json(t).into_response())
}

/// Retire or restore.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActiveInput {
    pub active: bool,
}

/// Retire or restore a level.
#[utoipa::path(post, path = "/api/v1/checklist-templates/{id}/active", tag = "maintenance",
    params(("id" = i64, Path)), request_body = ActiveInput,
    responses((status = 200, body = Template), (status = 403)), security(("bearer" = [])))]
pub async fn set_template_active(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ActiveInput>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_active(&st, &ctx, id, b.active).await?).into_response())
}

/// The effective checklist of a level: the items of the bottom level first, then each level
/// above, grouped by group code.
#[utoipa::path(get, path = "/api/v1/checklist-templates/{id}/checklist", tag = "maintenance",
    params(("id" = i64, Path)), responses((status = 200, body = Effective), (status = 404)), security(("bearer" = [])))]
pub async fn get_checklist(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::checklist(&st, &ctx, id).await?).into_response())
}

/// A checklist item.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct ItemInput {
    /// A, B, C…
    pub group_code: String,
    pub group_name: String,
    pub text: String,
    /// pass_fail, measure, text or photo.
    pub kind: String,
    /// measure: the unit (MΩ, V…).
    pub unit: Option<String>,
    /// measure: a value below is a fail.
    pub min_value: Option<f64>,
    /// measure: a value above is a fail.
    pub max_value: Option<f64>,
    /// Must be answered before completion (default true).
    pub required: Option<bool>,
}

impl ItemInput {
    fn draft(&self) -> AppResult<ItemDraft> {
        let n = |v: Option<f64>| v.map(|x| format!("{x}"));
        let (lo, hi) = (n(self.min_value), n(self.max_value));
        Ok(ItemDraft::parse(
            FieldErrors::default(),
            ItemRaw {
                group_code: &self.group_code,
                group_name: &self.group_name,
                text: &self.text,
                kind: Some(&self.kind),
                unit: self.unit.as_deref(),
                min_value: lo.as_deref(),
                max_value: hi.as_deref(),
                required: self.required.unwrap_or(true),
            },
        )?)
    }
}

/// Add an item at the end of a level.
#[utoipa::path(post, path = "/api/v1/checklist-templates/{id}/items", tag = "maintenance",
    params(("id" = i64, Path)), request_body = ItemInput,
    responses((status = 201, body = Item), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn add_item(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ItemInput>,
) -> AppResult<Response> {
    let i = service::add_item(&st, &ctx, id, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(i)).into_response())
}

/// Rewrite an item.
#[utoipa::path(put, path = "/api/v1/checklist-templates/{id}/items/{item_id}", tag = "maintenance",
    params(("id" = i64, Path), ("item_id" = i64, Path)), request_body = ItemInput,
    responses((status = 200, body = Item), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_item(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, item)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<ItemInput>,
) -> AppResult<Response> {
    let i = service::update_item(&st, &ctx, id, item, b.draft()?).await?;
    Ok(axum::Json(i).into_response())
}

/// Retire or restore an item (results already recorded against it stay).
#[utoipa::path(post, path = "/api/v1/checklist-templates/{id}/items/{item_id}/active", tag = "maintenance",
    params(("id" = i64, Path), ("item_id" = i64, Path)), request_body = ActiveInput,
    responses((status = 200, body = Item), (status = 404)), security(("bearer" = [])))]
pub async fn set_item_active(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, item)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<ActiveInput>,
) -> AppResult<Response> {
    let i = service::set_item_active(&st, &ctx, id, item, b.active).await?;
    Ok(axum::Json(i).into_response())
}

/// Where an item moves inside its level.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct MoveInput {
    /// up or down.
    pub dir: Option<String>,
    /// Or a 1-based position.
    pub position: Option<i64>,
}

/// Move an item up, down or to a position inside its level.
#[utoipa::path(post, path = "/api/v1/checklist-templates/{id}/items/{item_id}/move", tag = "maintenance",
    params(("id" = i64, Path), ("item_id" = i64, Path)), request_body = MoveInput,
    responses((status = 200, body = Item), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn move_item(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, item)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<MoveInput>,
) -> AppResult<Response> {
    let to = match (b.dir.as_deref(), b.position) {
        (Some("up"), _) => MoveTo::Up,
        (Some("down"), _) => MoveTo::Down,
        (None, Some(p)) => MoveTo::Position(p),
        _ => return Err(AppError::Invalid(FieldErrors::single("dir", "choice"))),
    };
    Ok(axum::Json(service::move_item(&st, &ctx, id, item, to).await?).into_response())
}
