//! One search box over the archives: customer names, contacts and phone numbers, serials,
//! order and part numbers, in Chinese or Latin script, by substring (see `domain::search`).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::FieldErrors;
use domain::auth::Permission;
use serde::Deserialize;
use store::search::Hit;
use utoipa::OpenApi;

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::{Shell, render};

/// Most results returned for one query.
pub const LIMIT: i64 = 50;

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/archives/search", get(page))
        .route("/api/v1/search", get(api))
}

/// Search parameters.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct SearchQ {
    /// At least two letters, digits or characters; substring match.
    pub q: Option<String>,
    /// Only this record type: customer, product, order, equipment, outlet.
    pub kind: Option<String>,
}

/// Runs a search in the caller's organization; `Ok(None)` when the query is too short.
pub async fn run(
    st: &AppState,
    ctx: &Ctx,
    q: &str,
    kind: Option<&str>,
) -> AppResult<Option<Vec<Hit>>> {
    let o = ctx.require(Permission::ViewArchives)?;
    let org = o.id;
    let Some(query) = domain::search::query(q) else {
        return Ok(None);
    };
    let mut h = st.db.acquire().await?;
    let mut hits = store::search::find(
        &mut h.c(),
        org,
        &query,
        kind.filter(|k| !k.is_empty()),
        LIMIT,
    )
    .await?;
    // Staff see only the complaints their departments work on: keep those hits only.
    if !o.role.sees_all_complaints() && hits.iter().any(|x| x.kind == "complaint") {
        let scope = store::complaints::Scope::Staff {
            user_id: ctx.user_id,
        };
        let ids: Vec<i64> = hits
            .iter()
            .filter(|x| x.kind == "complaint")
            .map(|x| x.ref_id)
            .collect();
        let seen = store::complaints::visible_ids(&mut h.c(), org, scope, &ids).await?;
        hits.retain(|x| x.kind != "complaint" || seen.contains(&x.ref_id));
    }
    Ok(Some(hits))
}

/// A result, ready to show.
pub struct Row {
    pub kind: String,
    pub title: String,
    pub link: String,
}

#[derive(askama::Template)]
#[template(path = "archives/search.html")]
struct SearchPage {
    s: Shell,
    tr: Tr,
    q: String,
    kind: String,
    rows: Vec<Row>,
    searched: bool,
    too_short: bool,
}

async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(p): Query<SearchQ>,
) -> AppResult<Response> {
    let q = p.q.clone().unwrap_or_default();
    let kind = p.kind.clone().unwrap_or_default();
    let (rows, searched, too_short) = if q.trim().is_empty() {
        (Vec::new(), false, false)
    } else {
        match run(&st, &ctx, &q, Some(&kind)).await? {
            Some(hits) => (
                hits.into_iter()
                    .map(|h| Row {
                        link: super::link(&h.kind, h.ref_id),
                        kind: h.kind,
                        title: h.title,
                    })
                    .collect(),
                true,
                false,
            ),
            None => (Vec::new(), false, true),
        }
    };
    let s = Shell::load(&st, &ctx, &uri, "search.title").await?;
    render(&SearchPage {
        tr: ctx.tr,
        s,
        q,
        kind,
        rows,
        searched,
        too_short,
    })
}

/// Search the archives.
#[utoipa::path(get, path = "/api/v1/search", tag = "archives", params(SearchQ),
    responses((status = 200, body = Vec<Hit>), (status = 422, description = "query too short")), security(("bearer" = [])))]
pub async fn api(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(p): Query<SearchQ>,
) -> AppResult<Response> {
    match run(&st, &ctx, p.q.as_deref().unwrap_or(""), p.kind.as_deref()).await? {
        Some(hits) => Ok(axum::Json(hits).into_response()),
        None => Err(AppError::Invalid(FieldErrors::single("q", "query_short"))),
    }
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(paths(api))]
pub struct Api;
