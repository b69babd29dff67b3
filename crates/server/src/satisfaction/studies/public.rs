//! The customer's answer page `/s/{token}` and its JSON twin `/api/v1/answers/{token}`:
//! no sign-in (the unguessable token is the credential), Simplified Chinese unless
//! `?lang=en`, sized for a phone. A refused link gets a friendly page (404 unknown or not
//! open yet, 410 expired, revoked, answered or closed) that tells nothing about the study.
//! Form posts are protected by the pre-sign-in CSRF cookie (double submit: a foreign page
//! can neither read nor set it), whoever is signed in in the same browser.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use store::satisfaction::surveys::{Dimension, Item};
use utoipa::ToSchema;

use super::api::{AnswersBody, Saved, raw_of_json};
use super::service::{self, Refusal};
use crate::api::ApiJson;
use crate::app::AppState;
use crate::auth::{CSRF_COOKIE, FormData, ReqLang, ct_eq};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr};
use crate::web::{Errs, render, render_status, see_other};

/// `?lang=en` switches the page to English; anything else is Chinese.
#[derive(Debug, Deserialize, Default)]
pub struct LangQ {
    pub lang: Option<String>,
}

impl LangQ {
    fn tr(&self, st: &AppState) -> Tr {
        let lang = match self.lang.as_deref() {
            Some("en") => Lang::En,
            _ => Lang::ZhCn,
        };
        Tr::new(lang, st.settings.server.utc_offset_minutes)
    }
    /// The query to keep on links and the form action ("" or "?lang=en").
    fn keep(&self) -> &'static str {
        if self.lang.as_deref() == Some("en") {
            "?lang=en"
        } else {
            ""
        }
    }
}

/// One question as the form shows it.
pub struct Question {
    pub id: i64,
    pub kind: String,
    pub text: String,
    pub required: bool,
    /// The scale points (empty for free text).
    pub points: Vec<i64>,
    /// What was typed or chosen (kept when the form comes back with errors).
    pub value: String,
    pub error: String,
}

/// Questions under one dimension (the last group holds the overall questions).
pub struct Group {
    pub title: String,
    pub questions: Vec<Question>,
}

/// The questions of a template grouped by dimension, with typed values and messages.
pub fn groups(
    dims: &[Dimension],
    items: &[Item],
    value: impl Fn(i64) -> String,
    errs: &Errs,
    overall: &str,
) -> Vec<Group> {
    let q = |it: &Item| {
        let (lo, hi) = service::bounds(it);
        Question {
            id: it.id,
            kind: it.kind.clone(),
            text: it.text.clone(),
            required: it.required,
            points: if it.kind == "text" {
                vec![]
            } else {
                (lo..=hi).collect()
            },
            value: value(it.id),
            error: errs.msg(&format!("item_{}", it.id)).to_string(),
        }
    };
    let mut out: Vec<Group> = dims
        .iter()
        .map(|d| Group {
            title: d.name.clone(),
            questions: items
                .iter()
                .filter(|i| i.dimension_id == Some(d.id))
                .map(q)
                .collect(),
        })
        .filter(|g| !g.questions.is_empty())
        .collect();
    let rest: Vec<Question> = items
        .iter()
        .filter(|i| {
            i.dimension_id
                .is_none_or(|d| !dims.iter().any(|x| x.id == d))
        })
        .map(q)
        .collect();
    if !rest.is_empty() {
        out.push(Group {
            title: if out.is_empty() {
                String::new()
            } else {
                overall.to_string()
            },
            questions: rest,
        });
    }
    out
}

#[derive(askama::Template)]
#[template(path = "satisfaction/answer_form.html")]
struct AnswerPage {
    tr: Tr,
    keep: &'static str,
    token: String,
    csrf: String,
    org_name: String,
    study_name: String,
    intro: String,
    groups: Vec<Group>,
    errs: Errs,
    other_lang: String,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/answer_refused.html")]
struct RefusedPage {
    tr: Tr,
    code: &'static str,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/answer_thanks.html")]
struct ThanksPage {
    tr: Tr,
}

fn refused(tr: Tr, r: Refusal) -> AppResult<Response> {
    render_status(r.status(), &RefusedPage { tr, code: r.code() })
}

fn other_lang(token: &str, q: &LangQ) -> String {
    if q.keep().is_empty() {
        format!("/s/{token}?lang=en")
    } else {
        format!("/s/{token}")
    }
}

/// Links are never cached nor sent on to other sites.
fn private(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    r
}

/// The answer form.
pub async fn answer_page(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQ>,
    jar: CookieJar,
) -> AppResult<Response> {
    let tr = q.tr(&st);
    let link = match service::open_link(&st, &token).await? {
        Ok(l) => l,
        Err(r) => return Ok(private(refused(tr, r)?)),
    };
    let (jar, csrf) = crate::web::csrf_cookie(&st, jar);
    let errs = Errs::default();
    let page = AnswerPage {
        keep: q.keep(),
        csrf,
        org_name: link.org_name,
        study_name: link.study.name,
        intro: link.full.template.intro.clone().unwrap_or_default(),
        groups: groups(
            &link.full.dimensions,
            &link.full.items,
            |_| String::new(),
            &errs,
            tr.t("answer.overall"),
        ),
        errs,
        other_lang: other_lang(&token, &q),
        token,
        tr,
    };
    Ok(private((jar, render(&page)?).into_response()))
}

/// Saves the answers; the form comes back with its messages (422) and every value kept.
pub async fn answer_submit(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQ>,
    jar: CookieJar,
    body: Bytes,
) -> AppResult<Response> {
    let tr = q.tr(&st);
    let form = FormData::parse(&body);
    let expected = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if !ct_eq(form.get("_csrf"), &expected) {
        return Err(AppError::Csrf);
    }
    let raw = |id: i64| form.opt(&format!("item_{id}")).map(str::to_string);
    match service::answer_by_link(&st, &token, raw).await {
        Ok(Ok(_)) => Ok(see_other(&format!("/s/{token}/thanks{}", q.keep()))),
        Ok(Err(r)) => Ok(private(refused(tr, r)?)),
        Err(AppError::Invalid(f)) => {
            let link = match service::open_link(&st, &token).await? {
                Ok(l) => l,
                Err(r) => return Ok(private(refused(tr, r)?)),
            };
            let errs = Errs::of(&tr, &f);
            let page = AnswerPage {
                keep: q.keep(),
                csrf: expected,
                org_name: link.org_name,
                study_name: link.study.name,
                intro: link.full.template.intro.clone().unwrap_or_default(),
                groups: groups(
                    &link.full.dimensions,
                    &link.full.items,
                    |id| raw(id).unwrap_or_default(),
                    &errs,
                    tr.t("answer.overall"),
                ),
                errs,
                other_lang: other_lang(&token, &q),
                token,
                tr,
            };
            Ok(private(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page,
            )?))
        }
        Err(e) => Err(e),
    }
}

/// The thank-you page after an answer (the form again while the link is still open).
pub async fn thanks(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQ>,
) -> AppResult<Response> {
    let tr = q.tr(&st);
    match service::open_link(&st, &token).await? {
        Ok(_) => Ok(see_other(&format!("/s/{token}{}", q.keep()))),
        Err(Refusal::Answered) => Ok(private(render(&ThanksPage { tr })?)),
        Err(r) => Ok(private(refused(tr, r)?)),
    }
}

/// One question of an answer link (JSON).
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionOut {
    pub id: i64,
    pub dimension_id: Option<i64>,
    /// scale, csat, nps, ces or text.
    pub kind: String,
    pub text: String,
    /// The scale (absent for text).
    pub scale_min: Option<i64>,
    pub scale_max: Option<i64>,
    pub required: bool,
}

/// The questions behind an answer link.
#[derive(Debug, Serialize, ToSchema)]
pub struct Questions {
    pub organization: String,
    pub study: String,
    pub intro: Option<String>,
    /// Unix seconds after which the link no longer takes an answer.
    pub expires_at: i64,
    pub dimensions: Vec<Dimension>,
    pub items: Vec<QuestionOut>,
}

fn api_refused(lang: Option<Extension<ReqLang>>, st: &AppState, r: Refusal) -> Response {
    let tr = Tr::new(
        lang.map(|l| l.0.0).unwrap_or_default(),
        st.settings.server.utc_offset_minutes,
    );
    let body = serde_json::json!({
        "error": r.code(),
        "message": tr.t(&format!("answer.{}", r.code())),
        "fields": {},
    });
    (r.status(), axum::Json(body)).into_response()
}

/// The questions of an answer link (no authentication: the token is the credential). 404
/// `link_unknown` / `link_not_open`, 410 `link_expired` / `link_revoked` / `link_answered` /
/// `link_closed`.
#[utoipa::path(get, path = "/api/v1/answers/{token}", tag = "satisfaction",
    params(("token" = String, Path, description = "the token of the answer link")),
    responses((status = 200, body = Questions), (status = 404), (status = 410)))]
pub async fn api_questions(
    State(st): State<AppState>,
    lang: Option<Extension<ReqLang>>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let link = match service::open_link(&st, &token).await? {
        Ok(l) => l,
        Err(r) => return Ok(private(api_refused(lang, &st, r))),
    };
    let items = link
        .full
        .items
        .iter()
        .map(|it| {
            let (lo, hi) = service::bounds(it);
            let text = it.kind == "text";
            QuestionOut {
                id: it.id,
                dimension_id: it.dimension_id,
                kind: it.kind.clone(),
                text: it.text.clone(),
                scale_min: (!text).then_some(lo),
                scale_max: (!text).then_some(hi),
                required: it.required,
            }
        })
        .collect();
    Ok(private(
        axum::Json(Questions {
            organization: link.org_name,
            study: link.study.name,
            intro: link.full.template.intro.clone(),
            expires_at: link.inv.expires_at,
            dimensions: link.full.dimensions,
            items,
        })
        .into_response(),
    ))
}

/// Answer through a link (no authentication; one answer per link: a second one is 410
/// `link_answered`). Required items left out are 422 with `item_<id>` fields.
#[utoipa::path(post, path = "/api/v1/answers/{token}", tag = "satisfaction",
    params(("token" = String, Path, description = "the token of the answer link")), request_body = AnswersBody,
    responses((status = 201, body = Saved), (status = 404), (status = 410), (status = 422)))]
pub async fn api_answer(
    State(st): State<AppState>,
    lang: Option<Extension<ReqLang>>,
    Path(token): Path<String>,
    ApiJson(b): ApiJson<AnswersBody>,
) -> AppResult<Response> {
    match service::answer_by_link(&st, &token, raw_of_json(&b)).await? {
        Ok(id) => Ok((StatusCode::CREATED, axum::Json(Saved { response_id: id })).into_response()),
        Err(r) => Ok(private(api_refused(lang, &st, r))),
    }
}
