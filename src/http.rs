//! The HTTP surface: GraphQL (GraphiQL on GET, queries on POST), health and
//! readiness. Handlers stay thin; the work happens in the service layer.

use std::net::SocketAddr;

use async_graphql::BatchRequest;
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{StatusCode, header};
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
        .merge(graphiql_assets())
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(state)
}

async fn graphiql() -> Html<&'static str> {
    Html(GRAPHIQL_PAGE)
}

/// GraphiQL 3 on React 18, every file from this server (never a CDN), so the
/// IDE works offline. The default query runs against the `--demo` data.
const GRAPHIQL_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>pricegraph</title>
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <noscript>GraphiQL needs JavaScript; queries can still be POSTed to /graphql.</noscript>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script>
    const defaultQuery = `# Ctrl-Enter runs the query;
# the book icon (top left) opens the docs.
{
  customerGroups(first: 10) {
    totalCount
    edges {
      node {
        name
        kind
        isActive
        priceLists {
          priority
          priceList { name type status }
        }
      }
    }
  }
}
`;
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher: GraphiQL.createFetcher({ url: '/graphql' }),
        defaultQuery,
      }),
    );
  </script>
</body>
</html>
"#;

/// A file the GraphiQL page loads, compiled into the binary.
struct GraphiqlAsset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Vendored from npm; `assets/graphiql/README.md` says from where and how to
/// refresh them.
static GRAPHIQL_ASSETS: [GraphiqlAsset; 4] = [
    GraphiqlAsset {
        path: "/graphiql/graphiql.min.css",
        content_type: CSS,
        body: include_bytes!("../assets/graphiql/graphiql.min.css"),
    },
    GraphiqlAsset {
        path: "/graphiql/graphiql.min.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../assets/graphiql/graphiql.min.js"),
    },
    GraphiqlAsset {
        path: "/graphiql/react.production.min.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../assets/graphiql/react.production.min.js"),
    },
    GraphiqlAsset {
        path: "/graphiql/react-dom.production.min.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    },
];

/// The assets change only with the binary, so browsers may keep them a day
/// (their paths carry no version, hence not `immutable`).
fn graphiql_assets() -> Router<AppState> {
    GRAPHIQL_ASSETS.iter().fold(Router::new(), |router, asset| {
        router.route(
            asset.path,
            get(move || async move {
                (
                    [
                        (header::CONTENT_TYPE, asset.content_type),
                        (header::CACHE_CONTROL, "public, max-age=86400"),
                    ],
                    asset.body,
                )
            }),
        )
    })
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
