//! The test harness: a fresh database per test, on SQLite always and on
//! PostgreSQL too when `TEST_DATABASE_URL` is set (each test in a schema of
//! its own, dropped when the last handle on it goes, also when the test
//! fails). Requests go through the real router.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use pricegraph::cache::{Cache, CacheOptions};
use pricegraph::db::{Db, DbOptions, Statements};
use pricegraph::store::Store;
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
    /// The pool.
    pub db: Db,
    /// The pool with this server's cache in front of it.
    pub store: Store,
    /// Every statement this server's pool ran.
    pub statements: Statements,
    pub router: Router,
    /// The task that follows the change log for this server's cache.
    pub follower: tokio::task::AbortHandle,
    /// Where the database lives: the SQLite file's directory, or the
    /// PostgreSQL schema to drop.
    _place: Arc<Place>,
    /// How to open the same database again.
    url: String,
    schema: Option<String>,
}

enum Place {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] TestSchema),
}

pub struct Response {
    pub status: StatusCode,
    pub body: Value,
}

/// The cache of a test instance: as configured by default, but with a
/// lease long enough that a busy test machine never makes it lapse (tests
/// of the lease itself set their own).
pub fn test_cache() -> CacheOptions {
    CacheOptions {
        lease: std::time::Duration::from_secs(600),
        ..CacheOptions::default()
    }
}

/// A store whose cache follows the change log, once it has caught up; and
/// the task that follows it.
pub async fn following(db: Db, cache: &CacheOptions) -> (Store, tokio::task::AbortHandle) {
    let store = Store::new(db, Arc::new(Cache::new(cache)));
    let follower = pricegraph::store::changes::follow(&store).abort_handle();
    let started = std::time::Instant::now();
    while cache.enabled && !store.cache.is_serving() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the change log was not caught up with"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    (store, follower)
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        let statements = Statements::default();
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
                    &statements,
                )
                .await
                .expect("sqlite opens");
                (db, Place::Sqlite(dir), url, None)
            }
            Backend::Postgres => {
                let test_schema = TestSchema::new().await;
                let (url, schema) = (test_schema.url.clone(), test_schema.name.clone());
                let place = Place::Postgres(test_schema);
                let options = DbOptions {
                    max_connections: 4,
                    schema: Some(schema.clone()),
                    ..DbOptions::default()
                };
                let db = Db::connect(&url, &options, &statements).await.expect("postgres opens");
                (db, place, url, Some(schema))
            }
        };
        db.migrate().await.expect("migrations apply");
        let (store, follower) = following(db.clone(), &test_cache()).await;
        let router = build_app(AppState::new(store.clone()));
        Self {
            backend,
            db,
            store,
            statements,
            follower,
            router,
            _place: Arc::new(place),
            url,
            schema,
        }
    }

    /// Waits until this server has read the change log to its end with a
    /// read that began after this call: it has seen every write before it
    /// (its own included), and fills the shared cache as of then.
    pub async fn caught_up(&self) {
        let called = std::time::Instant::now();
        loop {
            let behind = self.store.cache.followed().behind();
            if behind.is_some_and(|behind| behind < called.elapsed()) {
                return;
            }
            assert!(
                called.elapsed() < std::time::Duration::from_secs(30),
                "the change log was not caught up with"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
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
        self.reopened(connections, test_cache()).await
    }

    async fn reopened(&self, max_connections: u32, cache: CacheOptions) -> TestApp {
        self.reopened_at(&self.url.clone(), max_connections, cache).await
    }

    /// A second server on the same database reached at `url` (PostgreSQL:
    /// through a proxy in front of it), with a cache of its own.
    pub async fn twin_at(&self, url: &str, cache: CacheOptions) -> TestApp {
        self.reopened_at(url, 2, cache).await
    }

    /// This server's database URL, for [`Self::twin_at`].
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn reopened_at(&self, url: &str, max_connections: u32, cache: CacheOptions) -> TestApp {
        let options = DbOptions {
            max_connections,
            schema: self.schema.clone(),
            ..DbOptions::default()
        };
        let statements = Statements::default();
        let db = Db::connect(url, &options, &statements)
            .await
            .expect("the database opens again");
        let (store, follower) = following(db.clone(), &cache).await;
        Self {
            follower,
            router: build_app(AppState::new(store.clone())),
            db,
            store,
            statements,
            ..self.clone()
        }
    }

    /// The same server (same database and cache) behind other credentials
    /// and limits.
    pub fn served_with(&self, auth: pricegraph::auth::Auth, options: pricegraph::http::HttpOptions) -> TestApp {
        Self {
            router: build_app(AppState::with(self.store.clone(), auth, options)),
            ..self.clone()
        }
    }

    /// The same server (same database and cache) with webhooks registered
    /// and delivered as `options` say (tests allow private addresses).
    pub fn with_webhooks(&self, options: pricegraph::events::WebhookOptions) -> TestApp {
        let store = self.store.clone().with_webhooks(options);
        Self {
            router: build_app(AppState::new(store.clone())),
            store,
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

    /// Closes this handle's pool; the schema goes with the last handle
    /// (see [`Place`]'s `Drop`).
    pub async fn cleanup(self) {
        self.db.conn.clone().close().await.ok();
    }

    /// The answer as it goes on the wire: status, headers, body bytes.
    pub async fn raw(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, axum::body::Bytes) {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, headers, bytes)
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
        self.store.cache.clear();
        self.count_warm_statements(f).await
    }

    /// The statements one call runs with the cache as it is.
    pub async fn count_warm_statements<F: Future<Output = T>, T>(&self, f: F) -> (u64, T) {
        let before = self.statements.total();
        let result = f.await;
        (self.statements.total() - before, result)
    }
}

/// A PostgreSQL schema of its own in `TEST_DATABASE_URL`'s database,
/// dropped when this goes however the test ends. A set URL that cannot be
/// reached fails the test.
pub struct TestSchema {
    pub url: String,
    pub name: String,
}

impl TestSchema {
    pub async fn new() -> Self {
        let url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
        let admin = admin(&url)
            .await
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but cannot be reached: {e}"));
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        admin
            .conn
            .execute_unprepared(&format!("CREATE SCHEMA {name}"))
            .await
            .expect("create schema");
        admin.conn.close().await.ok();
        Self { url, name }
    }
}

async fn admin(url: &str) -> Result<Db, sea_orm::DbErr> {
    let options = DbOptions {
        max_connections: 1,
        ..DbOptions::default()
    };
    Db::connect(url, &options, &Statements::default()).await
}

impl Drop for TestSchema {
    /// Drop cannot await, and the test's runtime may be shutting down, so
    /// a thread of its own drops the schema.
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let admin = admin(&url).await?;
                admin
                    .conn
                    .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await?;
                admin.conn.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("the test schema {} could not be dropped: {dropped:?}", self.name);
        }
    }
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
