//! GraphQL over WebSocket on `/graphql` (docs/api.md#subscriptions): the
//! `graphql-transport-ws` protocol (graphql-ws), and the legacy
//! `graphql-ws` one (subscriptions-transport-ws), as the client asks in
//! `Sec-WebSocket-Protocol`.
//!
//! Credentials come with the upgrade (`Authorization` header) or in the
//! `connection_init` payload (`{"authorization": "Bearer …"}`), which wins;
//! refused ones close the connection. A client that does not read its
//! messages within [`SEND_WITHIN`] is disconnected. When the server stops,
//! its sockets close with 1001 (going away) as the listener closes.

use std::str::FromStr;
use std::time::Duration;

use async_graphql::http::{ClientMessage, WebSocket, WebSocketProtocols as Protocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket as Socket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt, future};

use super::streams::{Caller, Operations, holder, too_many_connections};
use crate::http::{AppState, graphql_error};

/// How long one message may take to go out before the client counts as
/// not reading, and is disconnected.
pub const SEND_WITHIN: Duration = Duration::from_secs(10);

/// The close code sent when the server stops (RFC 6455 §7.4.1).
const GOING_AWAY: u16 = 1001;

/// Whether a request asks to become a WebSocket.
pub(super) fn is_upgrade(request: &Request) -> bool {
    request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The first protocol the client offers that is spoken here; graphql-ws
/// when it offers none.
fn protocol(request: &Request) -> Option<Protocols> {
    match request.headers().get(header::SEC_WEBSOCKET_PROTOCOL) {
        None => Some(Protocols::GraphQLWS),
        Some(offered) => offered
            .to_str()
            .ok()?
            .split(',')
            .find_map(|p| Protocols::from_str(p.trim()).ok()),
    }
}

/// Whether a browser page from `origin` may open a socket here: one served
/// by this server (the origin's host is the request's `Host`), or one the
/// CORS setting allows (`--cors-origins`). Browsers apply no CORS to
/// WebSockets; this is the same rule, applied by the server. Clients other
/// than browsers send no `Origin` and are not asked.
fn origin_allowed(origin: &HeaderValue, host: Option<&HeaderValue>, allowed: &[HeaderValue]) -> bool {
    if allowed.contains(origin) {
        return true;
    }
    origin
        .to_str()
        .ok()
        .and_then(|o| o.strip_prefix("http://").or_else(|| o.strip_prefix("https://")))
        .zip(host.and_then(|h| h.to_str().ok()))
        .is_some_and(|(origin_host, host)| origin_host.eq_ignore_ascii_case(host))
}

pub(super) async fn upgrade(state: AppState, request: Request) -> Response {
    if let Some(origin) = request.headers().get(header::ORIGIN)
        && !origin_allowed(origin, request.headers().get(header::HOST), &state.options.cors_origins)
    {
        let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
        return graphql_error(
            StatusCode::FORBIDDEN,
            "ORIGIN_NOT_ALLOWED",
            format!(
                "a WebSocket from the page at {origin} is not allowed: serve the page from this server, \
                 or list its origin in --cors-origins"
            ),
        );
    }
    let Some(protocol) = protocol(&request) else {
        return graphql_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "offer the `graphql-transport-ws` (or legacy `graphql-ws`) WebSocket protocol",
        );
    };
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // A credential sent with the upgrade is checked before it is accepted.
    if authorization.is_some()
        && let Err(error) = state.authenticate(request.headers())
    {
        return super::unauthenticated(error);
    }
    let (mut parts, _) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    upgrade
        .protocols([protocol.sec_websocket_protocol()])
        .on_upgrade(move |socket| serve(socket, state, protocol, authorization))
}

/// The credential `connection_init` carries, if any.
fn init_authorization(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    ["authorization", "Authorization"]
        .iter()
        .find_map(|name| object.get(*name)?.as_str())
        .map(str::to_owned)
}

async fn serve(socket: Socket, state: AppState, protocol: Protocols, upgrade_authorization: Option<String>) {
    let (mut sink, incoming) = socket.split();
    let incoming = incoming
        .take_while(|message| future::ready(matches!(message, Ok(m) if !matches!(m, Message::Close(_)))))
        .filter_map(|message| {
            future::ready(match message {
                Ok(Message::Text(text)) => Some(ClientMessage::from_bytes(text.as_bytes())),
                Ok(Message::Binary(bytes)) => Some(ClientMessage::from_bytes(bytes)),
                _ => None,
            })
        });
    let caller = Caller::default();
    let closed = state.lifecycle.closed();
    let operations = Operations::new(state.clone(), caller.clone());
    let connections = state.streaming.clone();
    let on_init = move |payload: serde_json::Value| async move {
        let authorization = init_authorization(&payload).or(upgrade_authorization);
        let principal = state
            .auth
            .authenticate(authorization.as_deref())
            .map_err(|error| async_graphql::Error::new(error.to_string()))?;
        let held = connections
            .hold(holder(principal, authorization.as_deref()))
            .ok_or_else(|| async_graphql::Error::new(too_many_connections()))?;
        caller.set(principal, authorization.as_deref(), held);
        Ok(async_graphql::Data::default())
    };
    let mut outgoing = WebSocket::from_message_stream(operations, incoming, protocol).on_connection_init(on_init);
    let mut closed = std::pin::pin!(closed);
    loop {
        let message = tokio::select! {
            message = outgoing.next() => match message {
                Some(message) => message,
                None => break,
            },
            () = &mut closed => {
                // 1001 "going away": graphql-ws clients reconnect (to
                // another instance, behind a load balancer).
                let frame = CloseFrame {
                    code: GOING_AWAY,
                    reason: "the server is stopping; reconnect".into(),
                };
                let _ = tokio::time::timeout(SEND_WITHIN, sink.send(Message::Close(Some(frame)))).await;
                return;
            }
        };
        let message = match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        };
        let closing = matches!(message, Message::Close(_));
        match tokio::time::timeout(SEND_WITHIN, sink.send(message)).await {
            Ok(Ok(())) if !closing => {}
            Ok(Ok(())) | Ok(Err(_)) => return,
            Err(_) => {
                tracing::info!("a WebSocket client did not read its messages in time; disconnected");
                return;
            }
        }
    }
    let _ = sink.close().await;
}
