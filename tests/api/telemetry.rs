//! Logs and traces of the real binary: JSON lines that carry the request
//! id, and spans exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT`
//! names a collector.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::post;

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

/// The server, started on a fresh SQLite file, and where it listens.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// Standard error, line by line (read in the background after the
    /// listening line).
    lines: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(envs: &[(&str, String)]) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pricegraph"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/t.db?mode=rwc", dir.path().display()),
        )
        .env_remove("REDIS_URL")
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut addr = None;
    let mut early = Vec::new();
    while addr.is_none() {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("read") > 0,
            "the server stopped before listening: {early:?}"
        );
        early.push(line.trim_end().to_owned());
        addr = line
            .split("listening on http://")
            .nth(1)
            .and_then(|rest| rest.split([' ', '"', '(']).next())
            .and_then(|a| a.parse().ok());
    }
    let lines = Arc::new(Mutex::new(early));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            sink.lock().expect("lock").push(line);
        }
    });
    Server {
        child,
        addr: addr.expect("address"),
        lines,
        _dir: dir,
    }
}

/// A GraphQL POST over a raw connection; returns the status line.
fn graphql(addr: SocketAddr, request_id: &str, query: &str) -> String {
    let body = serde_json::json!({ "query": query }).to_string();
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-Request-Id: {request_id}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer.lines().next().unwrap_or_default().to_owned()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_go_to_the_otlp_endpoint_with_the_request_id() {
    let (collector, received) = collector().await;
    let server = start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}")),
        ("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()),
    ]);
    let status = graphql(server.addr, "trace-me-42", "{ __typename }");
    assert!(status.contains("200"), "{status}");
    wait_for("a span with the request id", || {
        received
            .lock()
            .expect("lock")
            .iter()
            .any(|(path, body)| path == "/v1/traces" && contains(body, "trace-me-42"))
    });
    let received = received.lock().expect("lock");
    let (_, body) = received
        .iter()
        .find(|(_, body)| contains(body, "trace-me-42"))
        .expect("found above");
    assert!(contains(body, "pricegraph"), "the service is named");
    assert!(contains(body, "request"), "the request span is there");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_log_lines_of_a_request_carry_its_id() {
    let server = start(&[("RUST_LOG", "info,tower_http=debug".to_owned())]);
    assert!(graphql(server.addr, "log-me-7", "{ __typename }").contains("200"));
    assert!(graphql(server.addr, "log-me-8", "{ nope }").contains("200"));
    wait_for("the request's log lines", || {
        let lines = server.lines.lock().expect("lock");
        lines.iter().filter(|l| l.contains("log-me-8")).count() >= 2
    });
    let lines = server.lines.lock().expect("lock");
    let mut of_requests = 0;
    for line in lines.iter() {
        let parsed: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if parsed["target"].as_str().is_some_and(|t| t.starts_with("tower_http")) {
            of_requests += 1;
            let id = parsed["span"]["request_id"].as_str().unwrap_or_default();
            assert!(id == "log-me-7" || id == "log-me-8", "{line}");
        }
    }
    assert!(of_requests >= 4, "a line as each request starts and ends: {lines:?}");
}

#[test]
fn without_an_endpoint_nothing_is_exported() {
    // No collector, no variable: the server serves, and says nothing of OTLP.
    let server = start(&[("OTEL_EXPORTER_OTLP_ENDPOINT", String::new())]);
    assert!(graphql(server.addr, "quiet-1", "{ __typename }").contains("200"));
    std::thread::sleep(Duration::from_millis(200));
    let lines = server.lines.lock().expect("lock");
    assert!(lines.iter().all(|l| !l.contains("OTLP")), "{lines:?}");
}
