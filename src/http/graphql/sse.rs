//! GraphQL over Server-Sent Events on `/graphql`, graphql-sse's "distinct
//! connections mode" (docs/api.md#subscriptions): a POST (JSON body) or a
//! GET (query string) with `Accept: text/event-stream` runs one operation
//! and streams its answers as `event: next` messages, then `event:
//! complete`. The same credentials as any request, in `Authorization`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};

use super::streams::{Caller, Operations, holder, too_many_connections};
use super::wire::parse_get;
use crate::http::{AppState, graphql_error};

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Whether the client asks for an event stream.
pub(super) fn wants_events(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept.split(',').any(|media| {
                media
                    .split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/event-stream"))
            })
        })
}

pub(super) async fn serve(state: AppState, request: Request) -> Response {
    let principal = match state.authenticate(request.headers()) {
        Ok(principal) => principal,
        Err(error) => return super::unauthenticated(error),
    };
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(held) = state.streaming.hold(holder(principal, authorization.as_deref())) else {
        return graphql_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_CONNECTIONS",
            too_many_connections(),
        );
    };
    let graphql_request = match request.uri().query().filter(|q| !q.is_empty()) {
        Some(query_string) if request.method() == axum::http::Method::GET => match parse_get(query_string) {
            Ok(parsed) => parsed,
            Err(message) => return graphql_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", message),
        },
        _ => {
            let bytes = match crate::http::read_body(request.into_body(), &state.options).await {
                Ok(bytes) => bytes,
                Err(crate::http::BodyError::TooLarge) => return super::payload_too_large(state.options.body_limit),
                Err(crate::http::BodyError::TooSlow) => {
                    return graphql_error(
                        StatusCode::REQUEST_TIMEOUT,
                        "BODY_TIMEOUT",
                        "the request body came too slowly",
                    );
                }
            };
            match serde_json::from_slice::<async_graphql::Request>(&bytes) {
                Ok(parsed) => parsed,
                Err(error) => {
                    return graphql_error(
                        StatusCode::BAD_REQUEST,
                        "BAD_REQUEST",
                        format!("the body is not one GraphQL request: {error}"),
                    );
                }
            }
        }
    };
    let caller = Caller::default();
    caller.set(principal, authorization.as_deref(), held);
    // When the server stops, the stream ends without `complete`: the
    // client reconnects (to another instance) and subscribes again.
    let closed = state.lifecycle.closed();
    let operations = Operations::new(state, caller);
    let answers = async_graphql::Executor::execute_stream(&operations, graphql_request, None);
    let events = answers
        .map(|answer| {
            let data = serde_json::to_string(&answer).unwrap_or_else(|error| {
                tracing::error!(%error, "a GraphQL answer did not serialize");
                r#"{"errors":[{"message":"Internal server error","extensions":{"code":"INTERNAL"}}]}"#.to_owned()
            });
            Ok::<_, Infallible>(Event::default().event("next").data(data))
        })
        .chain(stream::once(async { Ok(Event::default().event("complete").data("")) }))
        .take_until(closed)
        // The operations (and the connection's place) live as long as the stream.
        .map(move |event| {
            let _connection = &operations;
            event
        });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}
