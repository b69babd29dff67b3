//! Application state, the router with its middleware stack, and the HTTP server.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use store::Db;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{Hasher, LANG_COOKIE, ReqLang};
use crate::config::Settings;
use crate::error::ErrorInfo;
use crate::i18n::{Lang, Tr};
use crate::metrics::Metrics;

/// Shared state of one instance: nothing here may hold data that other instances need.
pub struct Inner {
    pub db: Db,
    pub settings: Settings,
    pub hasher: Hasher,
    pub metrics: Metrics,
    /// The queue of complaint registrations written in groups (SQLite).
    pub registrations: crate::complaints::batch::Registrations,
    /// Writes the search documents of registered complaints, many at a time.
    pub complaint_index: crate::complaints::index::Indexer,
}

/// Cheap-to-clone handle on the state.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state over an open database.
    pub fn new(db: Db, settings: Settings) -> AppState {
        let hasher = Hasher::new(
            settings.auth.argon2_memory_kib,
            settings.auth.argon2_iterations,
        );
        AppState(Arc::new(Inner {
            db,
            settings,
            hasher,
            metrics: Metrics::default(),
            registrations: Default::default(),
            complaint_index: Default::default(),
        }))
    }

    /// Current Unix time in seconds.
    pub fn now(&self) -> i64 {
        crate::now()
    }
}

#[derive(Clone, Default)]
struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _req: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&store::random_hex(8))
            .ok()
            .map(RequestId::new)
    }
}

/// The whole application: pages, API, operations endpoints and middleware.
pub fn router(st: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let timeout = Duration::from_secs(st.settings.server.request_timeout_secs.max(1));
    Router::new()
        .merge(crate::web::routes())
        .merge(crate::org::routes())
        .merge(crate::archives::routes())
        .merge(crate::complaints::routes())
        .merge(crate::maintenance::routes())
        .merge(crate::satisfaction::routes())
        .merge(crate::notices::routes())
        .merge(crate::admin::routes())
        .merge(crate::audit::routes())
        .merge(crate::api::routes())
        .merge(crate::ops::routes())
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(st.clone(), render_errors))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn(locale))
        .layer(middleware::from_fn_with_state(st.clone(), crate::metrics::track))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(SetRequestIdLayer::new(x_request_id, MakeId))
        .with_state(st)
}

async fn fallback() -> crate::error::AppError {
    crate::error::AppError::NotFound
}

/// Picks the request's language: `lang` cookie, then `Accept-Language`, then zh-CN.
async fn locale(mut req: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let lang = jar
        .get(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default();
    req.extensions_mut().insert(ReqLang(lang));
    next.run(req).await
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    tr: Tr,
    title: String,
    message: String,
}

/// Turns an [`ErrorInfo`] response into localised JSON (API) or an HTML page.
async fn render_errors(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let lang = req
        .extensions()
        .get::<ReqLang>()
        .map(|l| l.0)
        .unwrap_or_default();
    let tr = Tr::new(lang, st.settings.server.utc_offset_minutes);
    let path = req.uri().path().to_string();
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let is_api = path.starts_with("/api/");
    let resp = next.run(req).await;
    let Some(info) = resp.extensions().get::<ErrorInfo>().cloned() else {
        return resp;
    };
    let status = resp.status();
    let message = match &info.detail {
        Some(d) if info.code == "invalid_transition" => {
            tr.t(&format!("transition.{d}")).to_string()
        }
        Some(d) if info.code == "stale" => stale_by(&tr, d),
        _ => tr.t(&format!("error.{}", info.code)).to_string(),
    };
    if is_api {
        // The first error of a field wins, as beside the field in a form.
        let mut fields = serde_json::Map::new();
        for f in &info.fields.0 {
            fields
                .entry(f.field.clone())
                .or_insert_with(|| serde_json::Value::String(tr.field(f)));
        }
        let mut body =
            serde_json::json!({"error": info.code, "message": message, "fields": fields});
        if (info.code == "bad_request" || info.code == "invalid_transition")
            && let Some(d) = &info.detail
        {
            body["detail"] = serde_json::Value::String(d.clone());
        }
        if info.code == "stale"
            && let Some((by, at)) = info.detail.as_deref().and_then(|d| d.split_once('\u{1f}'))
        {
            body["changed_by"] = serde_json::Value::String(by.to_string());
            body["changed_at"] = serde_json::json!(at.parse::<i64>().unwrap_or(0));
        }
        return (status, axum::Json(body)).into_response();
    }
    if info.code == "unauthenticated" {
        let next = format!("{path}{query}");
        let target = format!("/login?next={}", urlencode(&next));
        return Redirect::to(&target).into_response();
    }
    let page = ErrorPage {
        tr,
        title: format!("{} {}", status.as_u16(), tr.t("error.title")),
        message,
    };
    match askama::Template::render(&page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, info.code).into_response(),
    }
}

/// "Changed by X at T" from the detail of a stale error.
pub fn stale_by(tr: &Tr, detail: &str) -> String {
    let (by, at) = detail.split_once('\u{1f}').unwrap_or((detail, "0"));
    tr.t("error.stale_by")
        .replace("{by}", by)
        .replace("{at}", &tr.time(at.parse().unwrap_or(0)))
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|v| v.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// Serves until Ctrl-C / SIGTERM, then drains.
pub async fn serve(st: AppState, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(st, listener).await
}

/// Serves on a bound listener (tests bind port 0).
pub async fn serve_on(st: AppState, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    // Complaints an earlier run queued for the search index are written now, not on the
    // first registration.
    st.complaint_index.poke(&st.db);
    let app = router(st).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
