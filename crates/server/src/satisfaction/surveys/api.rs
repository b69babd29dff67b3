//! JSON endpoints of survey templates under `/api/v1/survey-templates`, calling the same
//! service functions as the pages.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::auth::Permission;
use domain::satisfaction::survey::{ItemRaw, TemplateDraft, TemplateRaw};
use serde::Deserialize;
use store::satisfaction::surveys::{Full, ListFilter, Template, TemplateRow};
use utoipa::{IntoParams, ToSchema};

use super::service::{self, Saved};
use crate::api::{ApiJson, ListResponse, VersionBody};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of survey templates.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/survey-templates",
            get(list_templates).post(create_template),
        )
        .route(
            "/api/v1/survey-templates/{id}",
            get(get_template).put(update_template),
        )
        .route(
            "/api/v1/survey-templates/{id}/retire",
            post(retire_template),
        )
        .route(
            "/api/v1/survey-templates/{id}/restore",
            post(restore_template),
        )
}

/// Which templates to list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct TemplateParams {
    /// Every version, not only the newest of each code.
    pub all_versions: Option<bool>,
    /// Include retired templates.
    pub include_retired: Option<bool>,
}

/// A question as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ItemInput {
    /// scale, csat, nps, ces or text.
    pub kind: String,
    pub text: String,
    /// 0-based index into `dimensions`.
    pub dimension: Option<usize>,
    /// Scale items 1-5, 1-7 or 0-10; csat 1-5 or 1-7; nps 0-10; ces 1-7; text none.
    /// Leave both out for the kind's default.
    pub scale_min: Option<i64>,
    pub scale_max: Option<i64>,
    /// Importance weight of a scale item (≥ 0; default 1); ignored for the other kinds.
    pub weight: Option<f64>,
    /// Default true.
    pub required: Option<bool>,
}

/// A template as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TemplateInput {
    /// Letters, digits, `-` and `_`; unique in the organization. Required on create; on update
    /// it cannot change and may be left out.
    pub code: Option<String>,
    pub name: String,
    pub intro: Option<String>,
    /// Dimension (service stage) names, unique, in display order.
    #[serde(default)]
    pub dimensions: Vec<String>,
    /// The questions in display order.
    #[serde(default)]
    pub items: Vec<ItemInput>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl TemplateInput {
    fn draft(&self, code: &str) -> AppResult<TemplateDraft> {
        let raw = TemplateRaw {
            code,
            name: &self.name,
            intro: self.intro.as_deref(),
            dimensions: self.dimensions.iter().map(String::as_str).collect(),
            items: self
                .items
                .iter()
                .map(|i| ItemRaw {
                    kind: &i.kind,
                    text: &i.text,
                    dimension: i.dimension,
                    scale_min: i.scale_min,
                    scale_max: i.scale_max,
                    weight: i.weight,
                    required: i.required.unwrap_or(true),
                })
                .collect(),
        };
        Ok(TemplateDraft::parse(FieldErrors::default(), raw)?)
    }
}

/// List survey templates (the newest version of each code unless `all_versions`).
#[utoipa::path(get, path = "/api/v1/survey-templates", tag = "satisfaction", params(TemplateParams),
    responses((status = 200, body = ListResponse<TemplateRow>)), security(("bearer" = [])))]
pub async fn list_templates(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TemplateParams>,
) -> AppResult<Response> {
    let f = ListFilter {
        all_versions: q.all_versions.unwrap_or(false),
        include_retired: q.include_retired.unwrap_or(false),
    };
    let items = service::list(&st, &ctx, f).await?;
    let n = items.len() as i64;
    Ok(ListResponse {
        items,
        total: n,
        page: 1,
        per_page: n.max(1),
    }
    .into_response())
}

/// Create a survey template (version 1 of a new code).
#[utoipa::path(post, path = "/api/v1/survey-templates", tag = "satisfaction", request_body = TemplateInput,
    responses((status = 201, body = Full),
        (status = 422, description = "invalid fields, named per row: `items[3].scale_max`, `dimensions[0].name`, `items` (no scale item with a positive weight)")),
    security(("bearer" = [])))]
pub async fn create_template(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<TemplateInput>,
) -> AppResult<Response> {
    ctx.require(Permission::ManageSurveys)?;
    let d = b.draft(b.code.as_deref().unwrap_or(""))?;
    let t = service::create(&st, &ctx, d).await?;
    Ok((StatusCode::CREATED, axum::Json(t)).into_response())
}

/// One survey template with its dimensions and items.
#[utoipa::path(get, path = "/api/v1/survey-templates/{id}", tag = "satisfaction", params(("id" = i64, Path)),
    responses((status = 200, body = Full), (status = 404)), security(("bearer" = [])))]
pub async fn get_template(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::get(&st, &ctx, id).await?).into_response())
}

/// Save a survey template: in place when nobody answered it, else as a new version (the old
/// one is superseded and keeps its questions). 409 when `version` is stale or the template is
/// superseded.
#[utoipa::path(put, path = "/api/v1/survey-templates/{id}", tag = "satisfaction", params(("id" = i64, Path)),
    request_body = TemplateInput,
    responses((status = 200, body = Saved), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_template(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TemplateInput>,
) -> AppResult<Response> {
    ctx.require(Permission::ManageSurveys)?;
    let version = b
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let cur = service::get(&st, &ctx, id).await?;
    let d = b.draft(&cur.template.code)?;
    Ok(axum::Json(service::save(&st, &ctx, id, version, d).await?).into_response())
}

/// Retire a survey template (no longer offered for new studies).
#[utoipa::path(post, path = "/api/v1/survey-templates/{id}/retire", tag = "satisfaction", params(("id" = i64, Path)),
    request_body = VersionBody,
    responses((status = 200, body = Template), (status = 409)), security(("bearer" = [])))]
pub async fn retire_template(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_retired(&st, &ctx, id, b.version, true).await?).into_response())
}

/// Restore a retired survey template.
#[utoipa::path(post, path = "/api/v1/survey-templates/{id}/restore", tag = "satisfaction", params(("id" = i64, Path)),
    request_body = VersionBody,
    responses((status = 200, body = Template), (status = 409)), security(("bearer" = [])))]
pub async fn restore_template(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(service::set_retired(&st, &ctx, id, b.version, false).await?).into_response())
}
