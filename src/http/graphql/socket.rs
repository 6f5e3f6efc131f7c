//! GraphQL over WebSocket on `/graphql` (docs/api.md#subscriptions): the
//! `graphql-transport-ws` protocol (graphql-ws), and the legacy
//! `graphql-ws` one (subscriptions-transport-ws), as the client asks in
//! `Sec-WebSocket-Protocol`.
//!
//! Credentials come with the upgrade (`Authorization` header) or in the
//! `connection_init` payload (`{"authorization": "Bearer …"}`), which wins;
//! refused ones close the connection. A client that does not read its
//! messages within [`SEND_WITHIN`] is disconnected.

use std::str::FromStr;
use std::time::Duration;

use async_graphql::http::{ClientMessage, WebSocket, WebSocketProtocols as Protocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket as Socket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt, future};

use super::streams::{Caller, Operations, holder, too_many_connections};
use crate::http::{AppState, graphql_error};

/// How long one message may take to go out before the client counts as
/// not reading, and is disconnected.
pub const SEND_WITHIN: Duration = Duration::from_secs(10);

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

pub(super) async fn upgrade(state: AppState, request: Request) -> Response {
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
    while let Some(message) = outgoing.next().await {
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
