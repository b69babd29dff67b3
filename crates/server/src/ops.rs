//! Operations endpoints: liveness, readiness (database reachable, migrations current) and
//! Prometheus metrics.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::app::AppState;

/// `/healthz`, `/readyz`, `/metrics`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    let db = st.db.ping().await;
    let current = store::migrate::current(&st.db).await.unwrap_or(-1);
    let latest = store::migrate::latest();
    let ok = db && current == latest;
    let body = serde_json::json!({
        "database": db,
        "migrations": {"applied": current, "expected": latest},
        "ready": ok,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let queue = store::jobs::counts(&st.db).await.unwrap_or_default();
    let mut text = st.metrics.render(&queue);
    text.push_str(&st.registrations.stats.render());
    text.push_str(&st.complaint_index.stats.render());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
