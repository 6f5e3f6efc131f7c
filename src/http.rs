//! The HTTP surface: GraphQL (GraphiQL on GET, queries on POST), health and
//! readiness. Handlers stay thin; the work happens in the service layer.

use std::net::SocketAddr;

use async_graphql::BatchRequest;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;

use crate::db::Db;
use crate::graphql::batching::{LoadQueue, run_with_loads};
use crate::graphql::loaders::Loaders;
use crate::graphql::{PricegraphSchema, build_schema};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub schema: PricegraphSchema,
}

impl AppState {
    pub fn new(db: Db) -> Self {
        let schema = build_schema(db.clone());
        Self { db, schema }
    }
}

pub fn build_app(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(state)
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("pricegraph")
            .finish(),
    )
}

/// Runs a request (or a batch), each operation with loaders of its own.
async fn graphql(State(state): State<AppState>, request: GraphQLBatchRequest) -> GraphQLResponse {
    let queue = LoadQueue::default();
    let with_loaders = |request: async_graphql::Request| request.data(Loaders::new(&state.db, &queue));
    let batch = match request.into_inner() {
        BatchRequest::Single(request) => BatchRequest::Single(with_loaders(request)),
        BatchRequest::Batch(requests) => BatchRequest::Batch(requests.into_iter().map(with_loaders).collect()),
    };
    run_with_loads(queue, state.schema.execute_batch(batch)).await.into()
}

/// Alive: the process answers.
async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready: the database answers.
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
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

/// A bound server: the listener is open (and its port known) before it runs,
/// so tests can bind port 0 and never wait for a server to come up.
pub struct Server {
    listener: TcpListener,
    app: Router,
}

impl Server {
    pub async fn bind(addr: SocketAddr, state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self {
            listener,
            app: build_app(state),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
