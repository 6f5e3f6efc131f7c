//! The HTTP surface: GraphQL (GraphiQL on GET, queries on GET and POST,
//! mutations on POST only), the REST admin endpoints, health and
//! readiness. Every response carries an `X-Request-Id`. Handlers stay
//! thin; the work happens in the service layer.

mod graphiql;
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::BatchRequest;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_axum::GraphQLResponse;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::auth::{Auth, Principal};
use crate::db::Statements;
use crate::graphql::batching::{LoadQueue, run_with_loads};
use crate::graphql::loaders::Loaders;
use crate::graphql::{PricegraphSchema, SchemaOptions, build_schema};
use crate::metrics::{Metrics, Outcome};
use crate::store::Store;

pub use graphiql::{GraphiqlAssets, GraphiqlAssetsError};
pub use server::{Lifecycle, Server, ShutdownOptions, shutdown_signal};

/// How requests are served (SPEC §8).
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub schema: SchemaOptions,
    /// Largest request body, refused with 413 before it is read.
    pub body_limit: usize,
    /// Most operations in one batch.
    pub max_batch: usize,
    /// A query still running after this is cut (`TIMEOUT`); a mutation is
    /// answered `TIMEOUT` too but runs to its end, so that no write stops
    /// between its commit and its cache invalidation.
    pub request_timeout: Duration,
    /// The files the GraphiQL page loads.
    pub graphiql: GraphiqlAssets,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            schema: SchemaOptions::default(),
            body_limit: 1 << 20,
            max_batch: 10,
            request_timeout: Duration::from_secs(10),
            graphiql: GraphiqlAssets::embedded(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// What `/metrics` reports.
    pub metrics: Arc<Metrics>,
    pub schema: PricegraphSchema,
    pub auth: Arc<Auth>,
    pub options: Arc<HttpOptions>,
    /// Shared with the [`Server`], which flips it to draining on a signal.
    pub lifecycle: Arc<Lifecycle>,
}

impl AppState {
    /// The development defaults: open (every request is admin), GraphiQL on.
    pub fn new(store: Store) -> Self {
        Self::with(store, Auth::open(), HttpOptions::default())
    }

    pub fn with(store: Store, auth: Auth, options: HttpOptions) -> Self {
        let metrics = Arc::new(Metrics::new(store.cache.clone()));
        let schema = build_schema(store.clone(), metrics.clone(), options.schema);
        Self {
            store,
            metrics,
            schema,
            auth: Arc::new(auth),
            options: Arc::new(options),
            lifecycle: Arc::default(),
        }
    }
}

pub fn build_app(state: AppState) -> Router {
    let request_id = header::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .merge(graphiql::routes(&state.options.graphiql))
        .merge(crate::rest::router().route_layer(middleware::from_fn_with_state(state.clone(), admin_only)))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(state.clone(), body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
                })
                // A 5xx is a warning here: `/ready` answers 503 all through
                // a drain, a timeout is 503 too, and an internal error is
                // logged as an error, with its detail, where it happens.
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(middleware::from_fn_with_state(state.clone(), server::count_in_flight))
        .with_state(state)
}

/// Counts every request, its time and its SQL statements.
async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let (statements, response) = Statements::counting(next.run(request)).await;
    state.metrics.request(
        &path,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
        statements,
    );
    response
}

/// Prometheus's text format (OpenMetrics).
async fn metrics(State(state): State<AppState>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], state.metrics.render()).into_response()
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A GraphQL-shaped error response: `{"errors": [{message, extensions: {code}}]}`.
fn graphql_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "errors": [{ "message": message.into(), "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

/// A REST-shaped error response: `{"error": {code, message, field}}`.
fn rest_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": { "code": code, "message": message.into(), "field": null } });
    (status, Json(body)).into_response()
}

fn unauthenticated(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn unauthenticated_graphql(error: crate::auth::AuthError) -> Response {
    unauthenticated(graphql_error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        error.to_string(),
    ))
}

/// A document or variables too deeply nested to parse safely: refused
/// before any parser recurses into them (see [`crate::graphql::nesting`]).
fn too_nested(error: crate::graphql::nesting::TooNested) -> Response {
    graphql_error(StatusCode::BAD_REQUEST, "QUERY_TOO_DEEP", error.to_string())
}

fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, crate::auth::AuthError> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    state.auth.authenticate(authorization)
}

/// `/admin` is for admin credentials only.
async fn admin_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match authenticate(&state, request.headers()) {
        Ok(Principal::Admin) => next.run(request).await,
        Ok(_) => rest_error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "the admin endpoints need an admin API key",
        ),
        Err(error) => unauthenticated(rest_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            error.to_string(),
        )),
    }
}

/// Refuses a body declared larger than the limit before reading any of it;
/// one sent without a length is cut while it is read (see [`read_body`]).
async fn body_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > state.options.body_limit as u64) {
        return too_large(&state, request.uri().path());
    }
    next.run(request).await
}

fn too_large(state: &AppState, path: &str) -> Response {
    let message = format!(
        "the request body is over the limit of {} bytes",
        state.options.body_limit
    );
    if path.starts_with("/admin") {
        rest_error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", message)
    } else {
        graphql_error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", message)
    }
}

/// GET: GraphiQL, or a query from the query string (never a mutation: a
/// link or an `<img>` must not be able to write).
async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    let Some(query_string) = request.uri().query().filter(|q| !q.is_empty()) else {
        if state.options.schema.production {
            return graphql_error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "GraphiQL is off in the production profile",
            );
        }
        return Html(graphiql::PAGE).into_response();
    };
    // Who asks comes first: nothing of an unauthenticated request is parsed.
    let principal = match authenticate(&state, request.headers()) {
        Ok(principal) => principal,
        Err(error) => return unauthenticated_graphql(error),
    };
    let graphql_request = match async_graphql::http::parse_query_string(query_string) {
        Ok(parsed) => parsed,
        Err(error) => return graphql_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", error.to_string()),
    };
    if let Err(error) = crate::graphql::nesting::check(&graphql_request) {
        return too_nested(error);
    }
    if is_mutation(&graphql_request) {
        let mut response = graphql_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent by POST with Content-Type: application/json",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let headers = request.headers().clone();
    execute(&state, &headers, principal, BatchRequest::Single(graphql_request)).await
}

/// What a request would run, as far as the HTTP layer cares.
#[derive(Debug, Default)]
struct Operation {
    /// Whether it is (or, with several and none chosen, may be) a mutation.
    mutation: bool,
    /// The operation's name, when the document gives it one.
    name: Option<String>,
}

fn operation(request: &async_graphql::Request) -> Operation {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return Operation::default();
    };
    let is = |ty: OperationType| ty == OperationType::Mutation;
    match (&document.operations, request.operation_name.as_deref()) {
        // Single: the document's one anonymous operation.
        (DocumentOperations::Single(operation), _) => Operation {
            mutation: is(operation.node.ty),
            name: None,
        },
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => Operation {
                mutation: is(operation.node.ty),
                name: Some(name.to_owned()),
            },
            None => Operation::default(),
        },
        (DocumentOperations::Multiple(operations), None) => Operation {
            mutation: operations.values().any(|op| is(op.node.ty)),
            name: match operations.len() {
                1 => operations.keys().next().map(ToString::to_string),
                _ => None,
            },
        },
    }
}

/// Whether the operation a request would run is a mutation.
fn is_mutation(request: &async_graphql::Request) -> bool {
    operation(request).mutation
}

/// POST: `application/json` only — a form, `text/plain` or multipart is
/// what a cross-site page can send without asking (CSRF).
async fn graphql_post(State(state): State<AppState>, request: Request) -> Response {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return graphql_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "send GraphQL requests with Content-Type: application/json",
        );
    }
    let principal = match authenticate(&state, request.headers()) {
        Ok(principal) => principal,
        Err(error) => return unauthenticated_graphql(error),
    };
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, state.options.body_limit).await {
        Ok(bytes) => bytes,
        Err(_) => return too_large(&state, parts.uri.path()),
    };
    let batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(error) => {
            return graphql_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                format!(
                    "the body is not a GraphQL request (or a batch of them): {}",
                    explain_bad_request(&bytes).unwrap_or_else(|| error.to_string())
                ),
            );
        }
    };
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > state.options.max_batch
    {
        return graphql_error(
            StatusCode::BAD_REQUEST,
            "BATCH_TOO_LARGE",
            format!(
                "a batch may hold at most {} operations; this one holds {} (none was run)",
                state.options.max_batch,
                requests.len()
            ),
        );
    }
    if let Some(error) = batch
        .iter()
        .find_map(|request| crate::graphql::nesting::check(request).err())
    {
        return too_nested(error);
    }
    execute(&state, &parts.headers, principal, batch).await
}

/// Names the member of a JSON body that is not a GraphQL request, where
/// serde's untagged error ("data did not match any variant") would not.
fn explain_bad_request(bytes: &[u8]) -> Option<String> {
    fn member(request: &serde_json::Value, at: &str) -> Option<String> {
        let Some(object) = request.as_object() else {
            return Some(format!("{at}must be an object with a `query` string"));
        };
        let wrong = |key: &str, ok: fn(&serde_json::Value) -> bool| object.get(key).is_some_and(|v| !ok(v));
        match () {
            _ if !object.get("query").is_some_and(|q| q.is_string()) => Some(format!("{at}`query` must be a string")),
            _ if wrong("variables", |v| v.is_object() || v.is_null()) => {
                Some(format!("{at}`variables` must be an object"))
            }
            _ if wrong("operationName", |v| v.is_string() || v.is_null()) => {
                Some(format!("{at}`operationName` must be a string"))
            }
            _ if wrong("extensions", |v| v.is_object() || v.is_null()) => {
                Some(format!("{at}`extensions` must be an object"))
            }
            _ => None,
        }
    }
    match serde_json::from_slice::<serde_json::Value>(bytes).ok()? {
        serde_json::Value::Array(requests) if requests.is_empty() => {
            Some("a batch must hold at least one operation".into())
        }
        serde_json::Value::Array(requests) => requests
            .iter()
            .enumerate()
            .find_map(|(index, request)| member(request, &format!("operation {index}: "))),
        request => member(&request, ""),
    }
}

/// Runs an authenticated request (or a batch) whose nesting was checked, each operation with
/// loaders of its own, within the request timeout.
async fn execute(state: &AppState, headers: &HeaderMap, principal: Principal, batch: BatchRequest) -> Response {
    let request_id = request_id(headers);
    let started = Instant::now();
    let operations: Vec<Operation> = batch.iter().map(operation).collect();
    let mutates = operations.iter().any(|op| op.mutation);
    let record = |outcomes: &mut dyn Iterator<Item = Outcome>| {
        for (op, outcome) in operations.iter().zip(outcomes) {
            state.metrics.operation(op.name.as_deref(), outcome, started.elapsed());
        }
    };
    let run = {
        let state = state.clone();
        async move {
            let queue = LoadQueue::default();
            let with_context =
                |request: async_graphql::Request| request.data(Loaders::new(&state.store, &queue)).data(principal);
            let batch = match batch {
                BatchRequest::Single(request) => BatchRequest::Single(with_context(request)),
                BatchRequest::Batch(requests) => BatchRequest::Batch(requests.into_iter().map(with_context).collect()),
            };
            run_with_loads(queue, state.schema.execute_batch(batch)).await
        }
    };
    // Spawned, so that a mutation outlives a timed-out request.
    let mut task = tokio::spawn(Statements::carry(run));
    let timeout = state.options.request_timeout;
    let mut response = match tokio::time::timeout(timeout, &mut task).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            tracing::error!(%error, request_id, "a GraphQL request failed");
            record(&mut std::iter::repeat(Outcome::internal));
            return internal_error(&request_id);
        }
        Err(_) => {
            record(&mut std::iter::repeat(Outcome::timeout));
            if !mutates {
                task.abort();
            }
            let message = if mutates {
                format!("the request took longer than {timeout:?}; its mutation still runs to its end")
            } else {
                format!("the request took longer than {timeout:?} and was stopped")
            };
            return graphql_error(StatusCode::SERVICE_UNAVAILABLE, "TIMEOUT", message);
        }
    };
    mark_internal_errors(&mut response, &request_id);
    record(&mut responses(&response).map(outcome));
    GraphQLResponse::from(response).into_response()
}

fn internal_error(request_id: &str) -> Response {
    let body = json!({ "errors": [{ "message": "Internal server error",
        "extensions": { "code": "INTERNAL", "requestId": request_id } }] });
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

fn responses(response: &async_graphql::BatchResponse) -> impl Iterator<Item = &async_graphql::Response> {
    match response {
        async_graphql::BatchResponse::Single(one) => std::slice::from_ref(one).iter(),
        async_graphql::BatchResponse::Batch(many) => many.iter(),
    }
}

fn is_internal(error: &async_graphql::ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .is_some_and(|code| *code == async_graphql::Value::from("INTERNAL"))
}

fn outcome(response: &async_graphql::Response) -> Outcome {
    match () {
        _ if response.errors.is_empty() => Outcome::ok,
        _ if response.errors.iter().any(is_internal) => Outcome::internal,
        _ => Outcome::error,
    }
}

/// Internal errors carry the request id, which the log has with the detail.
fn mark_internal_errors(response: &mut async_graphql::BatchResponse, request_id: &str) {
    let responses: Vec<&mut async_graphql::Response> = match response {
        async_graphql::BatchResponse::Single(one) => vec![one],
        async_graphql::BatchResponse::Batch(many) => many.iter_mut().collect(),
    };
    for one in responses {
        for error in &mut one.errors {
            if is_internal(error) {
                // The one log line of an internal error: its detail, under
                // the id the client sees.
                let detail = error
                    .source::<crate::graphql::errors::InternalDetail>()
                    .map_or(error.message.as_str(), |detail| detail.0.as_str());
                tracing::error!(request_id, error = %detail, "internal error");
                if let Some(extensions) = error.extensions.as_mut() {
                    extensions.set("requestId", request_id);
                }
            }
        }
    }
}

/// Alive: the process answers.
async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready: the database answers, and the server is not stopping (a load
/// balancer must stop sending requests before the listener closes).
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if state.lifecycle.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "draining" })),
        );
    }
    match state.store.db.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ready" }))),
        Err(error) => {
            tracing::warn!(%error, "database not reachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "database unavailable" })),
            )
        }
    }
}
