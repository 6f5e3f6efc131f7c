//! What operators and load balancers poll: liveness, readiness and the
//! metrics. They ask for no credentials (a balancer or a scraper has none),
//! and readiness fails while the server drains, so that a balancer stops
//! sending requests before the listener closes (see [`super::Server`]).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Alive: the process answers.
pub(super) async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready: the database answers, and the server is not stopping (a load
/// balancer must stop sending requests before the listener closes).
pub(super) async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if state.lifecycle.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "draining" })),
        );
    }
    let unavailable = || {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "database unavailable" })),
        )
    };
    match tokio::time::timeout(READY_PING_TIMEOUT, state.store.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(serde_json::json!({ "status": "ready" }))),
        Ok(Err(error)) => {
            tracing::warn!(%error, "database not reachable");
            unavailable()
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = READY_PING_TIMEOUT.as_millis() as u64,
                "database not reachable: no answer to a ping in time"
            );
            unavailable()
        }
    }
}

/// How long `/ready` waits for the database. A probe must hear an answer
/// within its own timeout (Kubernetes' default is 1 s); the pool would wait
/// its whole acquire timeout for a database that refuses connections, and
/// a silent one longer still.
const READY_PING_TIMEOUT: Duration = Duration::from_millis(750);

/// Prometheus's text format (OpenMetrics).
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], state.metrics.render()).into_response()
}
