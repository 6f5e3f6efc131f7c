//! Correctness under faults of the services pricegraph depends on (issue:
//! faults). A small TCP proxy in the test, as Toxiproxy does, stands between
//! one instance and Redis and delays, blackholes or refuses its traffic
//! while a writer on the other instance changes a price again and again;
//! every answer on the faulty instance is checked against the history of
//! acknowledged writes, and none may be older than the lease. A mutation
//! that cannot get a connection before its deadline answers `TIMEOUT` and
//! never writes afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pricegraph::cache::CacheOptions;
use pricegraph::cache::shared::{self, RedisOptions};
use pricegraph::http::HttpOptions;
use sea_orm::TransactionTrait;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::fixtures::{base_price, product};
use crate::helpers::{Backend, TestApp, on_each_backend};
use crate::test_redis::TestRedis;

/// What the proxy does to its traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Fault {
    None = 0,
    /// Every chunk waits this long before it is passed on.
    Latency500ms = 1,
    /// Connections stay open; nothing passes either way.
    Blackhole = 2,
    /// New connections are closed at once, and open ones are cut.
    Refuse = 3,
}

/// Each fault in turn, between two stretches without one (the second shows
/// the recovery).
const FAULTS: [Fault; 5] = [
    Fault::None,
    Fault::Latency500ms,
    Fault::Blackhole,
    Fault::Refuse,
    Fault::None,
];

/// A TCP proxy whose fault can be changed at any moment.
struct Proxy {
    port: u16,
    fault: Arc<AtomicU8>,
}

impl Proxy {
    async fn to(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let fault = Arc::new(AtomicU8::new(Fault::None as u8));
        let shared = fault.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let fault = shared.clone();
                if fault.load(Ordering::SeqCst) == Fault::Refuse as u8 {
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::select! {
                        _ = pipe(client_read, server_write, fault.clone()) => {}
                        _ = pipe(server_read, client_write, fault) => {}
                    }
                });
            }
        });
        Self { port, fault }
    }

    fn set(&self, fault: Fault) {
        self.fault.store(fault as u8, Ordering::SeqCst);
    }
}

/// Copies one direction, applying the fault to each chunk.
async fn pipe(mut from: tokio::net::tcp::OwnedReadHalf, mut to: tokio::net::tcp::OwnedWriteHalf, fault: Arc<AtomicU8>) {
    use tokio::io::AsyncReadExt;
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        loop {
            match fault.load(Ordering::SeqCst) {
                f if f == Fault::Refuse as u8 => return,
                f if f == Fault::Blackhole as u8 => tokio::time::sleep(Duration::from_millis(10)).await,
                f if f == Fault::Latency500ms as u8 => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
                _ => break,
            }
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

const PAYS: &str = "query($p: ID!) { resolvedPrice(productId: $p, currency: \"USD\") { amount { amount } } }";

/// The amount a request answered, or why it failed.
async fn pays(app: &TestApp, product: &str) -> Result<u64, String> {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "query": PAYS, "variables": { "p": product } }).to_string(),
        ))
        .expect("request");
    let body = app.request(request).await.body;
    body["data"]["resolvedPrice"]["amount"]["amount"]
        .as_str()
        .and_then(|amount| amount.strip_suffix(".00"))
        .and_then(|units| units.parse().ok())
        .ok_or_else(|| body.to_string())
}

/// Writes on `writer` and reads on `reader` under each fault in turn,
/// for `each` per fault. Returns, per fault, the reads, the failed reads
/// and the largest staleness: how long before the read began the first
/// write the answer does not show had been acknowledged.
async fn under_faults(
    writer: &TestApp,
    reader: &TestApp,
    proxy: &Proxy,
    faults: &[Fault],
    each: Duration,
) -> Vec<(Fault, usize, Vec<String>, Duration)> {
    let chair = product(writer, "CHAIR", json!({})).await;
    base_price(writer, &chair, 1, "1.00").await;
    // (amount, when its write was acknowledged), in order; an amount is
    // there from just before its write (it may be read before its answer).
    let acknowledged = Arc::new(std::sync::Mutex::new(vec![(1u64, Some(Instant::now()))]));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writing = {
        let (writer, chair, acknowledged, stop) = (writer.clone(), chair.clone(), acknowledged.clone(), stop.clone());
        tokio::spawn(async move {
            let mut amount = 1;
            while !stop.load(Ordering::SeqCst) {
                amount += 1;
                acknowledged.lock().expect("not poisoned").push((amount, None));
                base_price(&writer, &chair, 1, &format!("{amount}.00")).await;
                if let Some(last) = acknowledged.lock().expect("not poisoned").last_mut() {
                    last.1 = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let mut report = Vec::new();
    for fault in faults {
        proxy.set(*fault);
        let started = Instant::now();
        let (mut reads, mut failed, mut stalest) = (0, Vec::new(), Duration::ZERO);
        while started.elapsed() < each {
            let began = Instant::now();
            reads += 1;
            match pays(reader, &chair).await {
                Ok(amount) => {
                    let history = acknowledged.lock().expect("not poisoned").clone();
                    assert!(history.iter().any(|(a, _)| *a == amount), "{amount} was never written");
                    // The first acknowledged write the answer does not show.
                    let missed = history
                        .iter()
                        .filter(|(a, _)| *a > amount)
                        .find_map(|(_, at)| at.filter(|at| *at < began));
                    if let Some(at) = missed {
                        stalest = stalest.max(began - at);
                    }
                }
                Err(error) => failed.push(error),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        report.push((*fault, reads, failed, stalest));
    }
    proxy.set(Fault::None);
    stop.store(true, Ordering::SeqCst);
    writing.await.expect("the writer ran");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_slow_blackholed_or_refused_for_one_instance_fails_no_read_and_serves_nothing_older_than_the_lease() {
    let Some(redis) = TestRedis::new() else { return };
    let upstream = {
        let url = url::Url::parse(&redis.url).expect("TEST_REDIS_URL is a URL");
        format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(6379)
        )
    };
    let proxy = Proxy::to(upstream).await;
    let lease = CacheOptions::default().lease;
    let (redis, proxy) = (&redis, &proxy);
    on_each_backend(|a| {
        async move {
            // B has the default lease, and reaches Redis through the proxy.
            let b = a
                .twin(CacheOptions {
                    lease,
                    ..CacheOptions::default()
                })
                .await;
            redis.attach(&a).await;
            let options = RedisOptions {
                redis_url: format!("redis://127.0.0.1:{}/", proxy.port),
                ..redis.options()
            };
            shared::attach(&b.store.cache, &options).expect("a Redis URL");
            let report = under_faults(&a, &b, proxy, &FAULTS, Duration::from_secs(2)).await;
            for (fault, reads, failed, stalest) in &report {
                eprintln!(
                    "[{:?}] Redis {fault:?} for B: {reads} reads, {} failed, stalest {stalest:?}",
                    a.backend,
                    failed.len()
                );
                assert!(failed.is_empty(), "{fault:?}: {failed:?}");
                assert!(*reads > 5, "{fault:?}: only {reads} reads");
                assert!(*stalest <= lease, "{fault:?}: an answer {stalest:?} older than a write");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_that_cannot_get_a_connection_in_time_answers_timeout_and_never_writes() {
    on_each_backend(|a| async move {
        let one = a.pooled(1).await;
        let options = HttpOptions {
            request_timeout: Duration::from_millis(300),
            ..HttpOptions::default()
        };
        let served = one.served_with(pricegraph::auth::Auth::open(), options);
        // Something else holds the only connection of the pool.
        let held = one.store.conn().begin().await.expect("a connection");
        let body = json!({
            "query": "mutation { createPriceList(input: { name: \"Late\" }) { priceList { id } userErrors { message } } }",
        });
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let started = Instant::now();
        let response = served.request(request).await;
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE, "{}", response.body);
        assert_eq!(response.body["errors"][0]["extensions"]["code"], "TIMEOUT", "{}", response.body);
        assert!(started.elapsed() < Duration::from_secs(5), "answered after {:?}", started.elapsed());
        // The connection frees; nothing is written later.
        held.rollback().await.expect("rolled back");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let lists = a
            .data("{ priceLists(first: 10) { totalCount } }", json!({}))
            .await;
        assert_eq!(lists["priceLists"]["totalCount"], 0, "the timed-out mutation wrote after its answer");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_slow_blackholed_or_refused_for_one_instance_serves_nothing_older_than_the_lease() {
    let backends: Vec<_> = crate::helpers::backends()
        .into_iter()
        .filter(|b| *b == Backend::Postgres)
        .collect();
    if backends.is_empty() {
        return;
    }
    let a = TestApp::spawn(Backend::Postgres).await;
    let mut url = url::Url::parse(a.url()).expect("TEST_DATABASE_URL is a URL");
    let upstream = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    );
    let proxy = Proxy::to(upstream).await;
    url.set_port(Some(proxy.port)).expect("a port");
    let lease = CacheOptions::default().lease;
    let b = a
        .twin_at(
            url.as_str(),
            CacheOptions {
                lease,
                ..CacheOptions::default()
            },
        )
        .await;
    let report = under_faults(&a, &b, &proxy, &FAULTS, Duration::from_secs(3)).await;
    for (fault, reads, failed, stalest) in &report {
        eprintln!(
            "PostgreSQL {fault:?} for B: {reads} reads, {} failed, stalest {stalest:?}",
            failed.len()
        );
        for error in failed.iter().take(2) {
            eprintln!("    {error}");
        }
        assert!(*stalest <= lease, "{fault:?}: an answer {stalest:?} older than a write");
        // A database out of reach is said so, never INTERNAL.
        for error in failed {
            assert!(
                error.contains("DATABASE_UNAVAILABLE") || error.contains("TIMEOUT"),
                "{fault:?}: {error}"
            );
        }
    }
    // Once PostgreSQL is back, no read fails.
    let (_, _, failed, _) = report.last().expect("the last phase");
    assert!(failed.is_empty(), "after the faults: {failed:?}");
    a.cleanup().await;
}
