//! The database out of reach: `/ready` says so within a second, requests
//! are answered `DATABASE_UNAVAILABLE` (503, `Retry-After`), never
//! `INTERNAL`; and once PostgreSQL is back, the first requests succeed, even
//! though every pooled connection died with the outage.
//!
//! The outage is real where it can be: a port nothing listens on, a server
//! that accepts and never answers, and (with `TEST_DATABASE_URL`) a TCP
//! proxy in front of PostgreSQL that the test cuts (closing the listener and
//! every connection through it, as a restart does) and restores.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use pricegraph::cache::{Cache, CacheOptions};
use pricegraph::db::{Db, DbOptions, Statements};
use pricegraph::store::Store;
use pricegraph::{AppState, build_app};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tower::ServiceExt;

use crate::helpers::{Backend, TestSchema, backends};

/// What a readiness probe waits, at most (Kubernetes' default timeout).
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Answer {
        status,
        retry_after,
        body,
    }
}

async fn ready(router: &Router) -> (Answer, Duration) {
    let started = Instant::now();
    let answer = send(router, Request::get("/ready").body(Body::empty()).expect("request")).await;
    (answer, started.elapsed())
}

async fn graphql(router: &Router, query: &str) -> Answer {
    let body = json!({ "query": query }).to_string();
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request");
    send(router, request).await
}

const READ: &str = "{ customerGroups(first: 5) { totalCount edges { node { name } } } }";
const WRITE: &str = r#"mutation { createCustomerGroup(input: { name: "Outage", kind: PRICING }) { customerGroup { name } userErrors { code } } }"#;

fn router_on(db: Db) -> Router {
    build_app(AppState::new(Store::new(
        db,
        Arc::new(Cache::new(&CacheOptions::default())),
    )))
}

/// A server whose pool points at `url` and has opened no connection yet:
/// what an instance is when its database goes away.
async fn router_for(url: &str) -> Router {
    let options = DbOptions {
        max_connections: 4,
        lazy: true,
        ..DbOptions::default()
    };
    router_on(
        Db::connect(url, &options, &Statements::default())
            .await
            .expect("a lazy pool opens"),
    )
}

/// The same request, answered 503 `DATABASE_UNAVAILABLE` with `Retry-After`.
fn assert_unavailable(answer: &Answer, what: &str) {
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {}",
        answer.body
    );
    assert_eq!(answer.retry_after.as_deref(), Some("1"), "{what}");
    assert_eq!(
        answer.body["errors"][0]["extensions"]["code"], "DATABASE_UNAVAILABLE",
        "{what}: {}",
        answer.body
    );
    assert!(!answer.body.to_string().contains("INTERNAL"), "{what}: {}", answer.body);
}

/// PostgreSQL refusing connections (nothing listens on the port), and a
/// server that accepts and never answers: `/ready` is 503 within a probe's
/// timeout; a query and a mutation are 503 `DATABASE_UNAVAILABLE`.
#[tokio::test]
async fn an_unreachable_database_is_503_within_a_second_never_internal() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("addr")
    };
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    let held = Arc::new(Mutex::new(Vec::new()));
    let accepting = {
        let held = held.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = silent.accept().await {
                held.lock().expect("lock").push(stream);
            }
        })
    };
    for (fault, addr) in [("refused", closed), ("silent", silent_addr)] {
        let router = router_for(&format!("postgres://pricegraph@{addr}/pricegraph")).await;
        let (answer, took) = ready(&router).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{fault}: {}",
            answer.body
        );
        assert_eq!(answer.body, json!({ "status": "database unavailable" }), "{fault}");
        assert!(took < PROBE_TIMEOUT, "{fault}: /ready took {took:?}");

        let started = Instant::now();
        let (read, write) = tokio::join!(graphql(&router, READ), graphql(&router, WRITE));
        assert_unavailable(&read, &format!("{fault} read"));
        assert_unavailable(&write, &format!("{fault} write"));
        assert!(
            started.elapsed() < Duration::from_secs(9),
            "{fault}: answered only after {:?}, past the request timeout's reach",
            started.elapsed()
        );
    }
    accepting.abort();
}

/// A TCP proxy the test can cut (listener and connections closed, as a
/// database restart does) and restore on the same port.
struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let proxy = Self {
            addr: listener.local_addr().expect("addr"),
            upstream,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let (upstream, tasks) = (self.upstream, self.tasks.clone());
        let accepting = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let piping = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().expect("lock").push(piping.abort_handle());
            }
        });
        self.tasks.lock().expect("lock").push(accepting.abort_handle());
    }

    /// Closes the listener (new connections are refused) and every
    /// connection through it.
    fn cut(&self) {
        for task in self.tasks.lock().expect("lock").drain(..) {
            task.abort();
        }
    }

    async fn restore(&self) {
        // The aborted listener is dropped as its task ends; bind again.
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(error) if Instant::now() > deadline => panic!("cannot bind {} again: {error}", self.addr),
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        self.serve(listener);
    }
}

/// `TEST_DATABASE_URL` with its host and port replaced by `addr`.
fn through(url: &str, addr: SocketAddr) -> String {
    let mut url = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    url.set_host(Some(&addr.ip().to_string())).expect("host");
    url.set_port(Some(addr.port())).expect("port");
    url.to_string()
}

/// Every pooled connection dies with PostgreSQL; once it is back, the
/// first requests are answered as if nothing happened, after a short
/// outage (connections idle under a second are not pinged: the read that
/// finds one dead runs again) and after a long one (idle connections are
/// pinged before use). While it is down, `/ready` is 503 within a second.
#[tokio::test]
async fn after_postgres_returns_the_first_requests_succeed() {
    if !backends().contains(&Backend::Postgres) {
        return; // PostgreSQL only: an SQLite file has no connection to lose.
    }
    let schema = TestSchema::new().await;
    let upstream = url::Url::parse(&schema.url).expect("a URL");
    let upstream = tokio::net::lookup_host((upstream.host_str().expect("a host"), upstream.port().unwrap_or(5432)))
        .await
        .expect("resolves")
        .next()
        .expect("an address");
    let proxy = Proxy::start(upstream).await;
    let options = DbOptions {
        max_connections: 4,
        schema: Some(schema.name.clone()),
        ..DbOptions::default()
    };
    let db = Db::connect(&through(&schema.url, proxy.addr), &options, &Statements::default())
        .await
        .expect("opens through the proxy");
    db.migrate().await.expect("migrations apply");
    let router = router_on(db.clone());

    for outage in [Duration::from_millis(100), Duration::from_millis(1500)] {
        // Fill the pool: four connections, all idle once answered.
        let reads = futures_util::future::join_all((0..8).map(|_| graphql(&router, READ))).await;
        assert!(reads.iter().all(|r| r.status == StatusCode::OK), "before {outage:?}");

        proxy.cut();
        let (answer, took) = ready(&router).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{outage:?}: {}",
            answer.body
        );
        assert!(took < PROBE_TIMEOUT, "{outage:?}: /ready took {took:?}");
        tokio::time::sleep(outage.saturating_sub(took)).await;
        proxy.restore().await;

        for n in 0..6 {
            let read = graphql(&router, READ).await;
            assert_eq!(read.status, StatusCode::OK, "read {n} after {outage:?}: {}", read.body);
            assert!(
                read.body.get("errors").is_none(),
                "read {n} after {outage:?}: {}",
                read.body
            );
        }
        let write = graphql(
            &router,
            &WRITE.replace("Outage", &format!("Outage {}", outage.as_millis())),
        )
        .await;
        assert_eq!(write.status, StatusCode::OK, "write after {outage:?}: {}", write.body);
        assert!(
            write.body.get("errors").is_none(),
            "write after {outage:?}: {}",
            write.body
        );
        let (answer, took) = ready(&router).await;
        assert_eq!(answer.status, StatusCode::OK, "ready after {outage:?}: {}", answer.body);
        assert!(took < PROBE_TIMEOUT);
    }
    db.conn.close().await.ok();
}
