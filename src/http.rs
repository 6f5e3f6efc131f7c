//! The HTTP surface: GraphQL (GraphiQL on GET, queries on GET and POST,
//! mutations on POST only), the REST admin endpoints, health and
//! readiness. Every response carries an `X-Request-Id`. Handlers stay
//! thin; the work happens in the service layer.
//!
//! This file is the map: the state every handler shares and the router that
//! puts the pieces together. The handlers live beside it, one file per
//! surface (`graphql`, `admin`, `health`), and what wraps them all in
//! `middleware`. The submodules use this file's [`AppState`]; among them,
//! the middleware uses the surfaces (to answer in each one's error shape)
//! and no surface uses the middleware, so no two of them import each other.
//! That is why `AppState::authenticate` and `request_id` live here: both
//! the surfaces and the middleware need them.

mod admin;
mod graphiql;
mod graphql;
mod health;
mod idempotency;
mod middleware;
mod rate;
mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::auth::{Auth, AuthError, Principal};
use crate::graphql::{PricegraphSchema, SchemaOptions, build_schema};
use crate::metrics::Metrics;
use crate::store::Store;

pub use graphiql::{GraphiqlAssets, GraphiqlAssetsError};
pub use graphql::streams::{MAX_CONNECTIONS_PER_CREDENTIAL, MAX_OPERATIONS_PER_CONNECTION};
pub use rate::RateLimits;
pub use server::{ConnectionOptions, Lifecycle, Server, ShutdownOptions, shutdown_signal};

/// How requests are served (docs/api.md#limits).
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub schema: SchemaOptions,
    /// Largest request body, refused with 413 before it is read.
    pub body_limit: usize,
    /// Most operations in one batch.
    pub max_batch: usize,
    /// A query still running after this is cut (`TIMEOUT`); a mutation's
    /// writes that cannot commit by then are rolled back (`TIMEOUT`, nothing
    /// written), and one that commits is answered with its outcome.
    pub request_timeout: Duration,
    /// A request body must arrive within this, however slowly it is sent.
    pub body_timeout: Duration,
    /// Requests a second each credential may send (bursts of twice that);
    /// 0 is no limit. Open development mode is never limited.
    pub rate_limit_per_second: u32,
    /// The files the GraphiQL page loads.
    pub graphiql: GraphiqlAssets,
    /// Origins whose browser apps may call the API (see [`cors`]).
    pub cors_origins: Vec<HeaderValue>,
    /// Redis, where persisted queries are shared between instances; `None`
    /// keeps them in the process.
    pub redis: Option<crate::cache::shared::RedisOptions>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            schema: SchemaOptions::default(),
            body_limit: 1 << 20,
            max_batch: 10,
            request_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            rate_limit_per_second: 0,
            graphiql: GraphiqlAssets::embedded(),
            cors_origins: Vec::new(),
            redis: None,
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
    /// Each credential's request rate.
    pub rate: RateLimits,
    /// When this server last pruned expired `Idempotency-Key`s.
    idempotency: Arc<idempotency::Pruning>,
    /// Automatic persisted queries (see [`graphql::persisted`]).
    persisted: Arc<graphql::persisted::PersistedQueries>,
    /// WebSocket and SSE connections open per credential (see [`graphql::streams`]).
    streaming: Arc<graphql::streams::OpenConnections>,
}

impl AppState {
    /// The development defaults: open (every request is admin), GraphiQL on.
    pub fn new(store: Store) -> Self {
        Self::with(store, Auth::open(), HttpOptions::default())
    }

    pub fn with(store: Store, auth: Auth, options: HttpOptions) -> Self {
        // Any HTTP client in the process (webhooks, tracing export, a test's
        // own) needs the process's TLS provider: set it however the server
        // is started, not only from the command line.
        crate::events::delivery::install_tls_provider();
        let metrics = Arc::new(Metrics::new(
            store.cache.clone(),
            store.usage.clone(),
            store.webhooks.counts.clone(),
        ));
        let schema = build_schema(store.clone(), metrics.clone(), options.schema);
        let persisted = Arc::new(persisted_queries(options.redis.as_ref()));
        let rate = match auth.is_open() {
            true => RateLimits::default(),
            false => RateLimits::new(options.rate_limit_per_second),
        };
        Self {
            store,
            metrics,
            rate,
            schema,
            auth: Arc::new(auth),
            options: Arc::new(options),
            lifecycle: Arc::default(),
            idempotency: Arc::default(),
            persisted,
            streaming: Arc::default(),
        }
    }

    /// Who sends a request, from its `Authorization` header. Here, with the
    /// keys, because both GraphQL and the admin check ask it.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        self.auth.authenticate(authorization)
    }
}

pub use graphql::persisted::sha256_hex as persisted_query_hash;

/// Persisted queries in Redis when it is configured, else in the process.
fn persisted_queries(redis: Option<&crate::cache::shared::RedisOptions>) -> graphql::persisted::PersistedQueries {
    match redis.map(graphql::persisted::PersistedQueries::shared) {
        Some(Ok(shared)) => shared,
        Some(Err(error)) => {
            tracing::error!(%error, "persisted queries stay in this process: the Redis URL is not usable");
            graphql::persisted::PersistedQueries::default()
        }
        None => graphql::persisted::PersistedQueries::default(),
    }
}

pub fn build_app(state: AppState) -> Router {
    let request_id = header::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .merge(graphiql::routes(&state.options.graphiql))
        .merge(admin::router().route_layer(from_fn_with_state(state.clone(), middleware::admin_only)))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .layer(from_fn_with_state(state.clone(), middleware::body_limit))
        .layer(from_fn_with_state(state.clone(), middleware::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(middleware::request_span)
                // A 5xx is a warning here: `/ready` answers 503 all through
                // a drain, a timeout is 503 too, and an internal error is
                // logged as an error, with its detail, where it happens.
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(axum::middleware::from_fn(middleware::drop_unsafe_request_id))
        .layer(CompressionLayer::new())
        .layer(cors(&state.options.cors_origins))
        .layer(from_fn_with_state(state.clone(), server::count_in_flight))
        .with_state(state)
}

/// CORS for browser apps on the configured origins: a preflight from one
/// of them is answered (methods, the headers clients send, 10 minutes);
/// any other origin gets no CORS headers, and its browser keeps the answer
/// from it. With no origins configured, no origin is allowed.
fn cors(origins: &[HeaderValue]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
            header::ETAG,
        ])
        .max_age(Duration::from_secs(600))
        .vary([header::ORIGIN])
}

/// Parses the configured origins (`scheme://host[:port]`, no path).
pub fn cors_origins(raw: &[String]) -> anyhow::Result<Vec<HeaderValue>> {
    raw.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|origin| {
            let url = url::Url::parse(origin)
                .map_err(|e| anyhow::anyhow!("PRICEGRAPH_CORS_ORIGINS: '{origin}' is not an origin ({e})"))?;
            let serialized = url.origin().ascii_serialization();
            if serialized == "null" || origin.trim_end_matches('/') != serialized {
                anyhow::bail!(
                    "PRICEGRAPH_CORS_ORIGINS: '{origin}' is not an origin: give scheme://host[:port], without a path (e.g. https://shop.example.com)"
                );
            }
            Ok(HeaderValue::from_str(&serialized)?)
        })
        .collect()
}

/// The id [`build_app`] gives every request (the caller's `X-Request-Id`, or
/// a new one), for the log lines and error bodies that must name it.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A GraphQL-shaped error response: `{"errors": [{message, extensions: {code}}]}`.
fn graphql_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message.into(), "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

/// `Internal server error`, with the id the log line of its detail carries.
fn internal_error(request_id: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": "Internal server error",
        "extensions": { "code": "INTERNAL", "requestId": request_id } }] });
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

/// 503 `DATABASE_UNAVAILABLE` with `Retry-After`, in GraphQL's shape.
fn database_unavailable() -> Response {
    let mut response = graphql_error(
        StatusCode::SERVICE_UNAVAILABLE,
        crate::graphql::errors::UNAVAILABLE,
        "the database is unavailable; retry after the time in `Retry-After`",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(DATABASE_RETRY_AFTER));
    response
}

/// Seconds a client should wait before retrying after `DATABASE_UNAVAILABLE`.
const DATABASE_RETRY_AFTER: &str = "1";

/// A database failure outside the schema, answered in GraphQL's shape:
/// [`database_unavailable`] when it could not be reached, else internal.
fn database_error(error: &sea_orm::DbErr, request_id: &str) -> Response {
    if crate::error::is_unavailable(error) {
        tracing::warn!(request_id, %error, "the database is unavailable");
        database_unavailable()
    } else {
        tracing::error!(request_id, %error, "internal error");
        internal_error(request_id)
    }
}

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Over the body limit (cut while it was read).
    TooLarge,
    /// Not all there within the body timeout.
    TooSlow,
}

/// Reads a request body within the body limit and the body timeout: a
/// client can neither send too much nor hold the request open by sending
/// slowly.
pub async fn read_body(body: axum::body::Body, options: &HttpOptions) -> Result<axum::body::Bytes, BodyError> {
    match tokio::time::timeout(options.body_timeout, axum::body::to_bytes(body, options.body_limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::TooSlow),
    }
}
