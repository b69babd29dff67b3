//! Staff JSON endpoints of studies under `/api/v1/studies`, calling the same service
//! functions as the pages: list, create, read, update (draft), open, close, draw the sample,
//! invitations with their answer links, answers taken by phone, a response, and the
//! sample-size calculator.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::auth::Permission;
use domain::satisfaction::sampling::{self, Confidence, StudyDraft, StudyRaw, status};
use serde::{Deserialize, Serialize};
use store::PageReq;
use store::satisfaction::studies::{Answer, Invitation, InvitationFilter, Study, StudyFilter};
use utoipa::{IntoParams, ToSchema};

use super::{qr, service};
use crate::api::{ApiJson, ListResponse, VersionBody};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// API routes of studies.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/studies", get(list_studies).post(create_study))
        .route("/api/v1/studies/{id}", get(get_study).put(update_study))
        .route("/api/v1/studies/{id}/open", post(open_study))
        .route("/api/v1/studies/{id}/close", post(close_study))
        .route("/api/v1/studies/{id}/sample", post(draw_sample))
        .route(
            "/api/v1/studies/{id}/invitations",
            get(list_invitations).post(add_invitation),
        )
        .route(
            "/api/v1/studies/{id}/invitations/{inv}/answers",
            post(phone_answer),
        )
        .route("/api/v1/survey-responses/{id}", get(get_response))
        .route("/api/v1/sample-size", get(sample_size))
}

/// Filters and paging of the study list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct StudyParams {
    /// draft, open or closed.
    pub status: Option<String>,
    /// Text in the name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A study as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StudyInput {
    pub name: String,
    /// An active survey template.
    pub template_id: i64,
    /// YYYY-MM-DD.
    pub period_start: String,
    /// YYYY-MM-DD, inclusive, not before the start.
    pub period_end: String,
    /// Only customers of this region.
    pub region: Option<String>,
    /// Only customers with a unit of this product.
    pub product_id: Option<i64>,
    /// Only customers with a unit under this contract level.
    pub contract_level: Option<String>,
    /// Only customers with a service order completed in the period.
    #[serde(default)]
    pub served: bool,
    /// 90, 95 (default) or 99.
    pub confidence: Option<i64>,
    /// Margin of error in percent, default 5.
    pub margin: Option<f64>,
    /// The sample size; default the calculator's, at most the population.
    pub sample_size: Option<i64>,
    /// The random seed of the draw; default a random one.
    pub seed: Option<i64>,
    /// Validity of an answer link in days (1-365); default the organization's.
    pub link_days: Option<i64>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

fn s<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl StudyInput {
    async fn draft(&self, st: &AppState, org: i64) -> AppResult<StudyDraft> {
        let template_id = self.template_id.to_string();
        let product_id = s(self.product_id);
        let confidence = s(self.confidence);
        let margin = s(self.margin);
        let sample_size = s(self.sample_size);
        let seed = self.seed.unwrap_or_else(service::new_seed).to_string();
        let link_days = match self.link_days {
            Some(d) => d,
            None => service::default_link_days(st, org).await?,
        }
        .to_string();
        Ok(StudyDraft::parse(
            FieldErrors::default(),
            StudyRaw {
                name: &self.name,
                template_id: &template_id,
                period_start: &self.period_start,
                period_end: &self.period_end,
                region: self.region.as_deref().unwrap_or(""),
                product_id: &product_id,
                contract_level: self.contract_level.as_deref().unwrap_or(""),
                served: self.served,
                confidence: &confidence,
                margin: &margin,
                sample_size: &sample_size,
                seed: &seed,
                link_days: &link_days,
            },
        )?)
    }
}

/// An invitation with its answer link.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOut {
    #[serde(flatten)]
    pub invitation: Invitation,
    /// The customer's answer link (absolute URL as seen by this request).
    pub link: String,
}

/// A customer to invite by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InvitationAdd {
    /// The customer's code, or its id.
    pub customer: String,
}

/// One answer.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerInput {
    pub item_id: i64,
    /// A point of the item's scale (scale, csat, nps, ces items).
    pub value: Option<f64>,
    /// Free text (text items).
    pub text: Option<String>,
}

/// The answers of a response.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswersBody {
    pub answers: Vec<AnswerInput>,
}

/// A saved response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Saved {
    pub response_id: i64,
}

/// The calculator's result.
#[derive(Debug, Serialize, ToSchema)]
pub struct SampleSize {
    /// N (absent: an infinite population).
    pub population: Option<i64>,
    pub confidence: i64,
    /// Margin of error, percent.
    pub margin: f64,
    /// z² p (1 - p) / e² with p = 0.5, before rounding.
    pub n0: f64,
    /// The sample size: n0 corrected for N, rounded up, at most N.
    pub sample_size: i64,
}

/// A response with its answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseOut {
    pub response: store::satisfaction::studies::Response,
    pub answers: Vec<Answer>,
}

/// The raw answer of an item from a JSON body (the same parsing as a form).
pub fn raw_of_json(b: &AnswersBody) -> impl Fn(i64) -> Option<String> + '_ {
    move |id| {
        let a = b.answers.iter().find(|a| a.item_id == id)?;
        match (&a.value, &a.text) {
            (Some(v), _) => Some(v.to_string()),
            (None, Some(t)) => Some(t.clone()),
            _ => None,
        }
    }
}

fn out(base: &str, i: Invitation) -> InvitationOut {
    InvitationOut {
        link: format!("{base}{}", qr::path(&i.token)),
        invitation: i,
    }
}

/// List studies.
#[utoipa::path(get, path = "/api/v1/studies", tag = "satisfaction", params(StudyParams),
    responses((status = 200, body = ListResponse<Study>)), security(("bearer" = [])))]
pub async fn list_studies(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StudyParams>,
) -> AppResult<Response> {
    let f = StudyFilter {
        status: q.status.clone().filter(|s| !s.is_empty()),
        q: q.q.clone(),
    };
    let p = service::list(&st, &ctx, &f, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Create a draft study (the population size and sample size are computed).
#[utoipa::path(post, path = "/api/v1/studies", tag = "satisfaction", request_body = StudyInput,
    responses((status = 201, body = Study), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_study(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<StudyInput>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let d = b.draft(&st, org).await?;
    let s = service::create(&st, &ctx, d).await?;
    Ok((StatusCode::CREATED, axum::Json(s)).into_response())
}

/// One study with its counters.
#[utoipa::path(get, path = "/api/v1/studies/{id}", tag = "satisfaction", params(("id" = i64, Path)),
    responses((status = 200, body = Study), (status = 404)), security(("bearer" = [])))]
pub async fn get_study(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::get(&st, &ctx, id).await?).into_response())
}

/// Update a draft study before its sample is drawn (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/studies/{id}", tag = "satisfaction", params(("id" = i64, Path)),
    request_body = StudyInput,
    responses((status = 200, body = Study), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update_study(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StudyInput>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let version = b
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let d = b.draft(&st, org).await?;
    Ok(axum::Json(service::update(&st, &ctx, id, version, d).await?).into_response())
}

/// Open a draft study: its links take answers.
#[utoipa::path(post, path = "/api/v1/studies/{id}/open", tag = "satisfaction", params(("id" = i64, Path)),
    request_body = VersionBody, responses((status = 200, body = Study), (status = 409)), security(("bearer" = [])))]
pub async fn open_study(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(
        axum::Json(service::set_status(&st, &ctx, id, b.version, status::OPEN).await?)
            .into_response(),
    )
}

/// Close an open study: its links stop taking answers.
#[utoipa::path(post, path = "/api/v1/studies/{id}/close", tag = "satisfaction", params(("id" = i64, Path)),
    request_body = VersionBody, responses((status = 200, body = Study), (status = 409)), security(("bearer" = [])))]
pub async fn close_study(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(
        axum::Json(service::set_status(&st, &ctx, id, b.version, status::CLOSED).await?)
            .into_response(),
    )
}

/// Draw the sample: `sample_size` customers of the population picked with the study's seed,
/// one invitation (answer link) each, in one transaction. Once per study (409 after).
#[utoipa::path(post, path = "/api/v1/studies/{id}/sample", tag = "satisfaction", params(("id" = i64, Path)),
    responses((status = 200, body = Study), (status = 409)), security(("bearer" = [])))]
pub async fn draw_sample(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(service::draw(&st, &ctx, id).await?).into_response())
}

/// Paging and status filter of the invitation list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct InvitationParams {
    /// pending, answered or revoked.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A study's invitations with their answer links.
#[utoipa::path(get, path = "/api/v1/studies/{id}/invitations", tag = "satisfaction",
    params(("id" = i64, Path), InvitationParams),
    responses((status = 200, body = ListResponse<InvitationOut>), (status = 404)), security(("bearer" = [])))]
pub async fn list_invitations(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<InvitationParams>,
) -> AppResult<Response> {
    let f = InvitationFilter {
        status: q.status.clone().filter(|s| !s.is_empty()),
    };
    let p = service::invitations(&st, &ctx, id, &f, PageReq::new(q.page, q.per_page)).await?;
    let base = qr::base_url(&st, &headers);
    Ok(ListResponse {
        items: p.items.into_iter().map(|i| out(&base, i)).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }
    .into_response())
}

/// Invite one more customer by hand (active, consenting, not invited yet).
#[utoipa::path(post, path = "/api/v1/studies/{id}/invitations", tag = "satisfaction",
    params(("id" = i64, Path)), request_body = InvitationAdd,
    responses((status = 201, body = InvitationOut), (status = 422)), security(("bearer" = [])))]
pub async fn add_invitation(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<InvitationAdd>,
) -> AppResult<Response> {
    let i = service::add_invitation(&st, &ctx, id, &b.customer).await?;
    let base = qr::base_url(&st, &headers);
    Ok((StatusCode::CREATED, axum::Json(out(&base, i))).into_response())
}

/// Record answers taken by phone for an invitation (channel phone, entered by the caller).
#[utoipa::path(post, path = "/api/v1/studies/{id}/invitations/{inv}/answers", tag = "satisfaction",
    params(("id" = i64, Path), ("inv" = i64, Path)), request_body = AnswersBody,
    responses((status = 201, body = Saved), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn phone_answer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, inv)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<AnswersBody>,
) -> AppResult<Response> {
    let rid = service::answer_by_phone(&st, &ctx, id, inv, raw_of_json(&b)).await?;
    Ok((StatusCode::CREATED, axum::Json(Saved { response_id: rid })).into_response())
}

/// One response with its answers.
#[utoipa::path(get, path = "/api/v1/survey-responses/{id}", tag = "satisfaction", params(("id" = i64, Path)),
    responses((status = 200, body = ResponseOut), (status = 404)), security(("bearer" = [])))]
pub async fn get_response(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let v = service::response(&st, &ctx, id).await?;
    Ok(axum::Json(ResponseOut {
        response: v.response,
        answers: v.answers,
    })
    .into_response())
}

/// Inputs of the calculator.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct SampleSizeParams {
    /// N; absent for an infinite population.
    pub population: Option<i64>,
    /// 90, 95 (default) or 99.
    pub confidence: Option<i64>,
    /// Margin of error in percent (default 5).
    pub margin: Option<f64>,
}

/// The sample-size calculator: n0 = z² p (1 - p) / e² (p = 0.5), n = n0 / (1 + (n0 - 1) / N)
/// rounded up, at most N.
#[utoipa::path(get, path = "/api/v1/sample-size", tag = "satisfaction", params(SampleSizeParams),
    responses((status = 200, body = SampleSize), (status = 422)), security(("bearer" = [])))]
pub async fn sample_size(ctx: Ctx, Query(q): Query<SampleSizeParams>) -> AppResult<Response> {
    ctx.require(Permission::ViewSatisfaction)?;
    let mut errs = FieldErrors::default();
    let c = match q.confidence {
        None => Confidence::P95,
        Some(p) => Confidence::from_percent(p).unwrap_or_else(|| {
            errs.add("confidence", "choice", None);
            Confidence::P95
        }),
    };
    let margin = q.margin.unwrap_or(5.0);
    if !(margin.is_finite() && margin > 0.0 && margin <= 50.0) {
        errs.add("margin", "study_margin", None);
    }
    if q.population.is_some_and(|n| n < 0) {
        errs.add("population", "study_sample_size", None);
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let e = margin / 100.0;
    Ok(axum::Json(SampleSize {
        population: q.population,
        confidence: c.percent(),
        margin,
        n0: sampling::n0(c.z(), 0.5, e),
        sample_size: sampling::sample_size(q.population, c, e, 0.5),
    })
    .into_response())
}
