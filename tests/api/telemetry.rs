//! Logs and traces of the real binary: JSON lines that carry the request
//! id, and spans exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT`
//! names a collector.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::post;

use crate::binary::{Process, post_graphql};

/// What a fake collector received: (path, body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

async fn collector() -> (SocketAddr, Received) {
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/{*path}",
            post(|State(received): State<Received>, uri: Uri, body: Bytes| async move {
                received
                    .lock()
                    .expect("lock")
                    .push((uri.path().to_owned(), body.to_vec()));
                ""
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, received)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_go_to_the_otlp_endpoint_with_the_request_id() {
    let (collector, received) = collector().await;
    let endpoint = format!("http://{collector}");
    let (_server, addr) = Process::serve_with(
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ],
    );
    assert_eq!(post_graphql(addr, "trace-me-42", "{ __typename }").status, 200);
    let exported = || {
        received
            .lock()
            .expect("lock")
            .iter()
            .find(|(path, body)| path == "/v1/traces" && contains(body, "trace-me-42"))
            .map(|(_, body)| body.clone())
    };
    let deadline = Instant::now() + crate::binary::START_GUARD;
    let body = loop {
        if let Some(body) = exported() {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "no span with the request id reached the collector"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(contains(&body, "pricegraph"), "the service is named");
    assert!(contains(&body, "request"), "the request span is there");
}

#[test]
fn json_log_lines_of_a_request_carry_its_id() {
    let (mut server, addr) = Process::serve_with(&["--log-format", "json"], &[("RUST_LOG", "info,tower_http=debug")]);
    assert_eq!(post_graphql(addr, "log-me-7", "{ __typename }").status, 200);
    assert_eq!(post_graphql(addr, "log-me-8", "{ nope }").status, 200);
    // Lines as each request starts, is answered, and its body ends.
    server.wait_for_line("log-me-8");
    server.wait_for_line("log-me-8");
    server.wait_for_line("log-me-8");
    let mut of_requests = 0;
    for line in &server.log {
        let parsed: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if parsed["target"].as_str().is_some_and(|t| t.starts_with("tower_http")) {
            of_requests += 1;
            let id = parsed["span"]["request_id"].as_str().unwrap_or_default();
            assert!(id == "log-me-7" || id == "log-me-8", "{line}");
        }
    }
    assert!(of_requests >= 6, "{}", server.log());
}

#[test]
fn without_an_endpoint_nothing_is_exported() {
    let (mut server, addr) = Process::serve_with(&[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "")]);
    assert_eq!(post_graphql(addr, "quiet-1", "{ __typename }").status, 200);
    server.terminate();
    assert!(server.wait_for_exit().success());
    assert!(server.log.iter().all(|l| !l.contains("OTLP")), "{}", server.log());
}
