//! The signed-in user's notifications in the current organization: SLA warnings and breaches,
//! approvals waiting, rejected remedies and overdue corrective actions. The page `/notices`
//! and `/api/v1/notices`; messages come from the keys `notice.<kind>` filled with the JSON
//! arguments stored with each notification, so they follow the reader's language.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::notifications::{self, Notification};
use store::{Page, PageReq};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::api::ApiJson;
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::web::{Shell, render, see_other};

/// Prefix of the SLA target names (complaints.toml).
const TARGET: &str = "complaint.target";

/// Page and API routes of notifications.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notices", get(page))
        .route("/notices/read", post(read_all))
        .route("/notices/{id}/read", post(read_one))
        .route("/api/v1/notices", get(list_notices))
        .route("/api/v1/notices/read", post(mark_notices_read))
}

/// The OpenAPI paths of notifications.
#[derive(OpenApi)]
#[openapi(
    paths(list_notices, mark_notices_read),
    components(schemas(Notice, NoticeList, ReadBody, ReadResult))
)]
pub struct Api;

/// A notification with its message in the reader's language and a link to its record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notice {
    pub id: i64,
    /// sla_warning, sla_breach, approval_waiting, remedy_rejected, capa_overdue.
    pub kind: String,
    /// complaint or capa.
    pub ref_kind: String,
    pub ref_id: i64,
    /// The message arguments (number, target…).
    #[schema(value_type = Object)]
    pub args: Value,
    /// The message, localised.
    pub message: String,
    /// The record's page.
    pub link: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// The text of a notice: `notice.<kind>` with `{name}` filled from the arguments; an SLA
/// target name is translated too.
pub fn message(tr: &Tr, kind: &str, args: &Value) -> String {
    let mut text = tr.tk("notice", kind);
    if let Some(obj) = args.as_object() {
        for (k, v) in obj {
            let val = match (k.as_str(), v) {
                ("target", Value::String(t)) => tr.tk(TARGET, t),
                (_, Value::String(s)) => s.clone(),
                (_, other) => other.to_string(),
            };
            text = text.replace(&format!("{{{k}}}"), &val);
        }
    }
    text
}

/// The page of the record a notice is about.
pub fn link(ref_kind: &str, ref_id: i64) -> Option<String> {
    match ref_kind {
        "complaint" => Some(format!("/complaints/{ref_id}")),
        "capa" => Some(format!("/capas/{ref_id}")),
        "service_order" => Some(format!("/service-orders/{ref_id}")),
        "return_visit" => Some(format!("/visits/{ref_id}")),
        _ => None,
    }
}

fn notice(tr: &Tr, n: Notification) -> Notice {
    // Arguments are written by the server as JSON; anything else shows the bare message.
    let args: Value = serde_json::from_str(&n.args).unwrap_or(Value::Null);
    Notice {
        message: message(tr, &n.kind, &args),
        link: link(&n.ref_kind, n.ref_id),
        id: n.id,
        kind: n.kind,
        ref_kind: n.ref_kind,
        ref_id: n.ref_id,
        args,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

/// A page of the caller's notifications, newest first.
pub async fn list(
    st: &AppState,
    ctx: &Ctx,
    unread_only: bool,
    p: PageReq,
) -> AppResult<Page<Notice>> {
    let org = ctx.org()?.id;
    let mut h = st.db.acquire().await?;
    let page = notifications::list(&mut h.c(), org, ctx.user_id, unread_only, p).await?;
    Ok(Page {
        items: page.items.into_iter().map(|n| notice(&ctx.tr, n)).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    })
}

/// How many of the caller's notifications in the current organization are unread (the
/// navigation badge); 0 outside an organization.
pub async fn unread_count(st: &AppState, ctx: &Ctx) -> AppResult<i64> {
    let Some(o) = &ctx.org else {
        return Ok(0);
    };
    let mut h = st.db.acquire().await?;
    Ok(notifications::unread(&mut h.c(), o.id, ctx.user_id).await?)
}

/// Marks one of the caller's notifications read (404 when it is not theirs), or all of them
/// with `None`; returns how many changed.
pub async fn mark_read(st: &AppState, ctx: &Ctx, id: Option<i64>) -> AppResult<u64> {
    let org = ctx.org()?.id;
    let mut tx = st.db.begin().await?;
    if let Some(id) = id
        && notifications::get(&mut tx.c(), org, ctx.user_id, id)
            .await?
            .is_none()
    {
        return Err(AppError::NotFound);
    }
    let n = notifications::mark_read(&mut tx.c(), org, ctx.user_id, id, st.now()).await?;
    tx.commit().await?;
    Ok(n)
}

// ---------- page ----------

/// Query of the notifications page.
#[derive(Debug, Deserialize, Default)]
pub struct NoticesQ {
    pub unread: Option<String>,
    pub page: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    s: Shell,
    tr: Tr,
    items: Vec<Notice>,
    pager: Pager,
    unread_only: bool,
    unread: i64,
}

async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<NoticesQ>,
) -> AppResult<Response> {
    let unread_only = q.unread.as_deref() == Some("1");
    let p = list(&st, &ctx, unread_only, PageReq::new(q.page, Some(20))).await?;
    let unread = unread_count(&st, &ctx).await?;
    let s = Shell::load(&st, &ctx, &uri, "notices.title").await?;
    render(&NoticesPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &p),
        items: p.items,
        unread_only,
        unread,
        s,
    })
}

fn back(f: &FormData) -> String {
    if f.get("unread") == "1" {
        "/notices?ok=notices_read&unread=1".into()
    } else {
        "/notices?ok=notices_read".into()
    }
}

async fn read_all(State(st): State<AppState>, ctx: Ctx, f: FormData) -> AppResult<Response> {
    mark_read(&st, &ctx, None).await?;
    Ok(see_other(&back(&f)))
}

async fn read_one(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    mark_read(&st, &ctx, Some(id)).await?;
    Ok(see_other(&back(&f)))
}

// ---------- API ----------

/// Filters and paging of the notifications list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct NoticeParams {
    /// Only unread notifications.
    pub unread: Option<bool>,
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// One page of notifications, with the unread count.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeList {
    pub items: Vec<Notice>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// Unread notifications in the organization, whatever the filter.
    pub unread: i64,
}

/// The caller's notifications in the current organization, newest first.
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(NoticeParams),
    responses((status = 200, body = NoticeList)), security(("bearer" = [])))]
pub async fn list_notices(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeParams>,
) -> AppResult<Response> {
    let p = list(
        &st,
        &ctx,
        q.unread.unwrap_or(false),
        PageReq::new(q.page, q.per_page),
    )
    .await?;
    let unread = unread_count(&st, &ctx).await?;
    Ok(axum::Json(NoticeList {
        items: p.items,
        total: p.total,
        page: p.page,
        per_page: p.per_page,
        unread,
    })
    .into_response())
}

/// Which notification to mark read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReadBody {
    /// One notification; absent = all of the caller's.
    pub id: Option<i64>,
}

/// What marking read changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadResult {
    pub marked: u64,
    pub unread: i64,
}

/// Mark one notification (or all) read.
#[utoipa::path(post, path = "/api/v1/notices/read", tag = "notices", request_body = ReadBody,
    responses((status = 200, body = ReadResult), (status = 404, description = "not one of the caller's notifications")),
    security(("bearer" = [])))]
pub async fn mark_notices_read(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<ReadBody>,
) -> AppResult<Response> {
    let marked = mark_read(&st, &ctx, b.id).await?;
    let unread = unread_count(&st, &ctx).await?;
    Ok(axum::Json(ReadResult { marked, unread }).into_response())
}
