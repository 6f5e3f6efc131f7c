//! The test harness: a fresh database per test, on SQLite always and on
//! PostgreSQL too when `TEST_DATABASE_URL` is set (each test in a schema of
//! its own, dropped afterwards). Requests go through the real router.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use pricegraph::cache::CacheOptions;
use pricegraph::db::{Db, DbOptions};
use pricegraph::{AppState, build_app};
use proptest::test_runner::{Config, RngSeed};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends every storage test runs on. A set `TEST_DATABASE_URL` that
/// cannot be reached fails the test; it never skips.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        backends.push(Backend::Postgres);
    }
    backends
}

#[derive(Clone)]
pub struct TestApp {
    pub backend: Backend,
    pub db: Db,
    pub router: Router,
    /// Where the database lives: the SQLite file's directory, or the
    /// PostgreSQL schema to drop.
    place: Arc<Place>,
    /// How to open the same database again.
    url: String,
    schema: Option<String>,
}

enum Place {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin: Db, schema: String },
}

pub struct Response {
    pub status: StatusCode,
    pub body: Value,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        let (db, place, url, schema) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
                let db = Db::connect(
                    &url,
                    &DbOptions {
                        max_connections: 4,
                        ..DbOptions::default()
                    },
                )
                .await
                .expect("sqlite opens");
                (db, Place::Sqlite(dir), url, None)
            }
            Backend::Postgres => {
                let (url, admin, schema) = postgres_schema().await;
                let options = DbOptions {
                    max_connections: 4,
                    schema: Some(schema.clone()),
                    ..DbOptions::default()
                };
                let db = Db::connect(&url, &options).await.expect("postgres opens");
                (
                    db,
                    Place::Postgres {
                        admin,
                        schema: schema.clone(),
                    },
                    url,
                    Some(schema),
                )
            }
        };
        db.migrate().await.expect("migrations apply");
        let router = build_app(AppState::new(db.clone()));
        Self {
            backend,
            db,
            router,
            place: Arc::new(place),
            url,
            schema,
        }
    }

    /// A second server on the same database, with the read cache off: the
    /// database's truth, to compare the cached answers with.
    pub async fn uncached(&self) -> TestApp {
        self.twin(CacheOptions::off()).await
    }

    /// A second server on the same database, with a cache of its own.
    pub async fn twin(&self, cache: CacheOptions) -> TestApp {
        self.reopened(2, cache).await
    }

    /// A second server on the same database with a pool of `connections`,
    /// for tests of concurrent writers.
    pub async fn pooled(&self, connections: u32) -> TestApp {
        self.reopened(connections, CacheOptions::default()).await
    }

    async fn reopened(&self, max_connections: u32, cache: CacheOptions) -> TestApp {
        let options = DbOptions {
            max_connections,
            schema: self.schema.clone(),
            cache,
        };
        let db = Db::connect(&self.url, &options)
            .await
            .expect("the database opens again");
        Self {
            router: build_app(AppState::new(db.clone())),
            db,
            ..self.clone()
        }
    }

    /// The same server (same database and cache) behind other credentials
    /// and limits.
    pub fn served_with(&self, auth: pricegraph::auth::Auth, options: pricegraph::http::HttpOptions) -> TestApp {
        Self {
            router: build_app(AppState::with(self.db.clone(), auth, options)),
            ..self.clone()
        }
    }

    /// A URL of this test's database for the `pricegraph` binary (on
    /// PostgreSQL, the schema travels as the connection's search_path).
    pub fn database_url(&self) -> String {
        match &self.schema {
            None => self.url.clone(),
            Some(schema) => {
                let joint = if self.url.contains('?') { '&' } else { '?' };
                format!("{}{joint}options=-c%20search_path%3D{schema}", self.url)
            }
        }
    }

    /// Drops the test's PostgreSQL schema (the SQLite directory goes with the app).
    pub async fn cleanup(self) {
        if let Place::Postgres { admin, schema } = &*self.place {
            self.db.conn.clone().close().await.ok();
            admin
                .conn
                .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .expect("drop schema");
        }
    }

    pub async fn request(&self, request: Request<Body>) -> Response {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Response { status, body }
    }

    /// POSTs a GraphQL request and returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables });
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let response = self.request(request).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        response.body
    }

    /// Runs a query that must succeed and returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "[{:?}] unexpected errors: {body}",
            self.backend
        );
        body["data"].clone()
    }

    /// Runs a mutation that must succeed without userErrors; returns its payload.
    pub async fn mutate(&self, name: &str, query: &str, variables: Value) -> Value {
        let data = self.data(query, variables).await;
        let payload = data[name].clone();
        assert_eq!(
            payload["userErrors"],
            json!([]),
            "[{:?}] {name}: {payload}",
            self.backend
        );
        payload
    }

    /// The statements one call runs with a cold cache.
    pub async fn count_statements<F: Future<Output = T>, T>(&self, f: F) -> (u64, T) {
        self.db.cache.clear();
        self.count_warm_statements(f).await
    }

    /// The statements one call runs with the cache as it is.
    pub async fn count_warm_statements<F: Future<Output = T>, T>(&self, f: F) -> (u64, T) {
        let before = self.db.statement_count();
        let result = f.await;
        (self.db.statement_count() - before, result)
    }
}

/// An empty schema of its own in `TEST_DATABASE_URL`'s database: the URL, a
/// connection outside the schema (to drop it with), and the schema's name.
/// A set URL that cannot be reached fails the test.
pub async fn postgres_schema() -> (String, Db, String) {
    let url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let options = DbOptions {
        max_connections: 2,
        ..DbOptions::default()
    };
    let admin = Db::connect(&url, &options)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but cannot be reached: {e}"));
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    admin
        .conn
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    (url, admin, schema)
}

/// Runs `test` once per backend, each time on a fresh database.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        test(app.clone()).await;
        app.cleanup().await;
    }
}

/// The first userError's code, or `None`.
pub fn first_error_code(payload: &Value) -> Option<String> {
    payload["userErrors"][0]["code"].as_str().map(str::to_owned)
}

pub fn id(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

/// proptest's own settings from `PROPTEST_*` variables, with `default_cases`
/// cases when `PROPTEST_CASES` is unset, bounded shrinking (each step is a
/// round trip) and a seed to print, so every failure can be replayed.
pub fn proptest_config(default_cases: u32) -> (Config, u64) {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default_cases;
    }
    if std::env::var_os("PROPTEST_MAX_SHRINK_ITERS").is_none() {
        config.max_shrink_iters = 200;
    }
    if std::env::var_os("PROPTEST_MAX_SHRINK_TIME").is_none() {
        config.max_shrink_time = 60_000;
    }
    config.failure_persistence = None;
    let seed = match config.rng_seed {
        RngSeed::Fixed(seed) => seed,
        RngSeed::Random => rand::random(),
    };
    config.rng_seed = RngSeed::Fixed(seed);
    (config, seed)
}
