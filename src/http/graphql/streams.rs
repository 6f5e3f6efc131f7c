//! What the streaming transports (graphql-ws in [`super::socket`], SSE in
//! [`super::sse`]) share: the executor that runs each operation as the
//! HTTP endpoint would (the same shape check, rate, loaders, principal,
//! limits and deadline), and the bounds on what one credential may hold
//! open (docs/api.md#subscriptions).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Data, ErrorExtensions, Executor, Pos, Request, Response};
use axum::http::{HeaderMap, HeaderValue, header};
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::graphql::batching::{LoadQueue, run_with_loads, stream_with_loads};
use crate::graphql::loaders::Loaders;
use crate::graphql::shape;
use crate::http::AppState;

/// Operations one connection may run at once (subscriptions, mostly).
pub const MAX_OPERATIONS_PER_CONNECTION: usize = 20;
/// Streaming connections (WebSocket or SSE) one credential may hold open.
pub const MAX_CONNECTIONS_PER_CREDENTIAL: usize = 100;

/// A GraphQL answer that is only an error with a code.
pub(super) fn refusal(code: &'static str, message: impl Into<String>) -> Response {
    let error = async_graphql::Error::new(message.into())
        .extend_with(|_, e| e.set("code", code))
        .into_server_error(Pos::default());
    Response::from_errors(vec![error])
}

/// Who holds a connection, for the per-credential bound: a customer, or a
/// digest of the key (never the key itself).
pub(super) fn holder(principal: Principal, authorization: Option<&str>) -> String {
    match principal {
        Principal::Customer(id) => format!("customer:{id}"),
        _ => {
            let digest = Sha256::digest(authorization.unwrap_or_default().as_bytes());
            format!(
                "key:{}",
                digest.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>()
            )
        }
    }
}

/// Streaming connections open, per credential.
#[derive(Default)]
pub struct OpenConnections(Mutex<HashMap<String, usize>>);

/// One open connection; dropping it frees its place.
pub(super) struct Held {
    connections: Arc<OpenConnections>,
    holder: String,
}

impl OpenConnections {
    /// A place for `holder`'s connection; `None` past the bound.
    pub(super) fn hold(self: &Arc<Self>, holder: String) -> Option<Held> {
        let mut open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(holder.clone()).or_default();
        if *count >= MAX_CONNECTIONS_PER_CREDENTIAL {
            return None;
        }
        *count += 1;
        Some(Held {
            connections: self.clone(),
            holder,
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self.connections.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.holder) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.holder);
            }
        }
    }
}

pub(super) fn too_many_connections() -> String {
    format!(
        "this credential already holds {MAX_CONNECTIONS_PER_CREDENTIAL} streaming connections (WebSocket or SSE); close one first"
    )
}

/// Operations running on one connection.
#[derive(Default)]
pub(super) struct Slots(AtomicUsize);

/// One running operation; dropping it (the operation ended or was stopped)
/// frees its slot.
struct Slot(Arc<Slots>);

impl Slots {
    fn take(self: &Arc<Self>) -> Option<Slot> {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_OPERATIONS_PER_CONNECTION).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(self.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Whom the operations of a connection run for: set once known (at the
/// upgrade, or by graphql-ws' `connection_init`).
#[derive(Clone, Default)]
pub(super) struct Caller(Arc<std::sync::OnceLock<(Principal, HeaderMap, Held)>>);

impl Caller {
    pub(super) fn set(&self, principal: Principal, authorization: Option<&str>, held: Held) {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(header::AUTHORIZATION, value);
        }
        let _ = self.0.set((principal, headers, held));
    }
}

/// Runs a connection's operations as the HTTP endpoint runs a request.
#[derive(Clone)]
pub(super) struct Operations {
    pub state: AppState,
    pub caller: Caller,
    pub slots: Arc<Slots>,
}

impl Operations {
    pub(super) fn new(state: AppState, caller: Caller) -> Self {
        Self {
            state,
            caller,
            slots: Arc::default(),
        }
    }
}

/// Whether the request's operation is a subscription (`None`: it does not parse).
fn is_subscription(request: &mut Request) -> Option<bool> {
    let wanted = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    let ty = match (&document.operations, wanted.as_deref()) {
        (DocumentOperations::Single(operation), _) => operation.node.ty,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?.node.ty,
        (DocumentOperations::Multiple(operations), None) => operations.values().next()?.node.ty,
    };
    Some(ty == OperationType::Subscription)
}

impl Executor for Operations {
    async fn execute(&self, request: Request) -> Response {
        self.execute_stream(request, None)
            .next()
            .await
            .unwrap_or_else(|| refusal("INTERNAL", "the operation gave no answer"))
    }

    fn execute_stream(&self, mut request: Request, session: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let refused = |code, message: String| stream::once(async move { refusal(code, message) }).boxed();
        let Some((principal, headers, _)) = self.caller.0.get() else {
            return refused("UNAUTHENTICATED", "the connection has no credentials yet".into());
        };
        if let Err(wait) = self.state.rate.check(*principal, headers) {
            return refused(
                "RATE_LIMITED",
                format!("too many requests with this credential; retry in {wait:?}"),
            );
        }
        if let Err(error) = shape::check(&request) {
            return refused(error.code(), error.to_string());
        }
        let Some(slot) = self.slots.take() else {
            return refused(
                "TOO_MANY_SUBSCRIPTIONS",
                format!(
                    "a connection may run at most {MAX_OPERATIONS_PER_CONNECTION} operations at once; stop one first"
                ),
            );
        };
        let subscription = is_subscription(&mut request).unwrap_or(false);
        let queue = LoadQueue::default();
        let loaders = if subscription {
            Loaders::live(&self.state.store, &queue)
        } else {
            Loaders::new(&self.state.store, &queue)
        };
        let request = request.data(loaders).data(*principal);
        let schema = self.state.schema.clone();
        if subscription {
            let answers = schema.execute_stream(request, session.unwrap_or_default());
            return stream_with_loads(queue, answers)
                .map(move |answer| {
                    let _running = &slot;
                    answer
                })
                .boxed();
        }
        // A query or mutation: within the request timeout, as over HTTP.
        let timeout = self.state.options.request_timeout;
        stream::once(async move {
            let _running = slot;
            let deadline = tokio::time::Instant::now() + timeout;
            let run = crate::store::with_deadline(deadline, run_with_loads(queue, schema.execute(request)));
            match tokio::time::timeout(timeout, run).await {
                Ok(answer) => answer,
                Err(_) => refusal(
                    "TIMEOUT",
                    format!("the request took longer than {timeout:?} and was stopped"),
                ),
            }
        })
        .boxed()
    }
}
