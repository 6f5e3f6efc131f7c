//! What wraps every handler: the body limit, the request metrics, the admin
//! check in front of `/admin`, and the span that names each request's id.
//!
//! These answer before (or instead of) a handler, so they answer in the shape
//! of the surface a path belongs to: an [`ApiError`] under `/admin`, a
//! GraphQL error elsewhere. They borrow both shapes from the surfaces rather
//! than writing a body of their own, so each shape has one author.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::admin::ApiError;
use super::{AppState, graphql, request_id};
use crate::auth::Principal;

/// Counts every request, its time and its SQL statements.
pub(super) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let (statements, response) = crate::db::Statements::counting(next.run(request)).await;
    state.metrics.request(
        &path,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
        statements,
    );
    response
}

/// Longest request id kept from a client.
const MAX_REQUEST_ID_LEN: usize = 64;

/// A client's `X-Request-Id` is kept only when it is 1 to 64 letters,
/// digits, `-`, `_`, `.` or `:`; any other is dropped before the id layer,
/// which then makes a new one. An id goes into every log line of the
/// request, so it must not be able to forge log fields or lines.
pub(super) async fn drop_unsafe_request_id(mut request: Request, next: Next) -> Response {
    let safe = |id: &str| {
        (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    };
    let unsafe_id = request
        .headers()
        .get("x-request-id")
        .is_some_and(|id| !id.to_str().is_ok_and(safe));
    if unsafe_id {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}

/// The span every log line of a request is written in, so that each names
/// the request's id (see [`crate::telemetry`]).
pub(super) fn request_span(request: &Request) -> tracing::Span {
    let id = request_id(request.headers());
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
}

/// `/admin` is for admin credentials only.
pub(super) async fn admin_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match state.authenticate(request.headers()) {
        Ok(Principal::Admin) => match state.rate.check(Principal::Admin, request.headers()) {
            Ok(()) => next.run(request).await,
            Err(wait) => ApiError::rate_limited(wait).into_response(),
        },
        Ok(_) => ApiError::forbidden("the admin endpoints need an admin API key").into_response(),
        Err(error) => ApiError::unauthenticated(error.to_string()).into_response(),
    }
}

/// Refuses a body declared larger than the limit before reading any of it;
/// one sent without a length is cut while it is read (by the GraphQL handler
/// and the admin's JSON body reader).
pub(super) async fn body_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.options.body_limit;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return if request.uri().path().starts_with("/admin") {
            ApiError::payload_too_large(limit).into_response()
        } else {
            graphql::payload_too_large(limit)
        };
    }
    next.run(request).await
}
