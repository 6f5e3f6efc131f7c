//! Accepting connections so that no client can hold the server: a request
//! head (and, on a kept-alive connection, the next one) must arrive within
//! the header timeout; the connections served at once are bounded, below
//! the process's file-descriptor limit; past the bound a connection is
//! answered `503` with `Retry-After` and closed at once instead of waiting,
//! so the listener keeps accepting and the server never runs out of file
//! descriptors. (Bodies are bounded in time by the handlers that read them.)

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

/// File descriptors kept for everything but client connections: the
/// database pool, Redis, logs, the shed connections being answered.
const RESERVED_DESCRIPTORS: u64 = 128;

/// How connections are accepted (`--max-connections`, `--header-timeout-seconds`).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionOptions {
    /// Connections served at once; `None`: as many as the file-descriptor
    /// limit leaves room for.
    pub max_connections: Option<usize>,
    /// A request head must arrive within this; it bounds an idle kept-alive
    /// connection too.
    pub header_timeout: Duration,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            header_timeout: Duration::from_secs(10),
        }
    }
}

impl ConnectionOptions {
    /// The bound on connections: the one configured, else the soft
    /// file-descriptor limit (raised to the hard one first) less a reserve,
    /// and never more than that either way. Logged at start.
    pub fn connection_limit(&self) -> usize {
        let descriptors = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
        let room = usize::try_from(descriptors.saturating_sub(RESERVED_DESCRIPTORS).max(16)).unwrap_or(usize::MAX);
        let limit = self.max_connections.map_or(room, |wanted| wanted.clamp(1, room));
        tracing::info!(
            file_descriptors = descriptors,
            max_connections = limit,
            header_timeout_seconds = self.header_timeout.as_secs_f64(),
            "connections: at most {limit} at once (file-descriptor limit {descriptors}); more are answered 503"
        );
        limit
    }
}

/// Accepts and serves until `closing` completes; returns the slots, whose
/// permits come back as connections end (so the caller can wait for them),
/// and the sender that asks the open connections to finish.
pub(super) async fn accept(
    listener: TcpListener,
    app: Router,
    options: ConnectionOptions,
    limit: usize,
    closing: impl Future<Output = ()>,
) -> Connections {
    let slots = Arc::new(Semaphore::new(limit));
    let (finish, finishing) = watch::channel(false);
    tokio::pin!(closing);
    let mut failures = 0u64;
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut closing => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, or a connection reset before it
                // was taken: wait a moment rather than spin.
                failures += 1;
                if failures.is_power_of_two() {
                    tracing::warn!(%error, failures, "cannot accept a connection");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                tokio::spawn(serve(stream, app.clone(), options, slot, finishing.clone()));
            }
            Err(_) => {
                tokio::spawn(shed(stream));
            }
        }
    }
    Connections { slots, limit, finish }
}

/// The connections still open once the listener closed.
pub(super) struct Connections {
    slots: Arc<Semaphore>,
    limit: usize,
    finish: watch::Sender<bool>,
}

impl Connections {
    /// Asks every connection to finish its request in flight and close,
    /// then waits until all have.
    pub(super) async fn finished(self) {
        let _ = self.finish.send(true);
        let all = u32::try_from(self.limit).unwrap_or(u32::MAX);
        let _ = self.slots.acquire_many(all).await;
    }
}

async fn serve(
    stream: TcpStream,
    app: Router,
    options: ConnectionOptions,
    slot: OwnedSemaphorePermit,
    mut finishing: watch::Receiver<bool>,
) {
    let service = TowerToHyperService::new(app.map_request(|request: Request<Incoming>| request.map(Body::new)));
    // HTTP/1.1 only: the auto-detecting builder reads the first bytes to
    // tell HTTP/2's preface apart with no timeout at all, so a connection
    // that sends nothing would hold its slot for ever. (HTTP/2 reaches the
    // server through a proxy that terminates TLS, speaking HTTP/1.1 here.)
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
    tokio::pin!(connection);
    loop {
        tokio::select! {
            _ = connection.as_mut() => break,
            changed = finishing.changed() => {
                if changed.is_err() || *finishing.borrow() {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                    break;
                }
            }
        }
    }
    drop(slot);
}

/// Past the bound: a short answer that tells the client to come back, then
/// the connection is closed, whatever the client sent.
async fn shed(mut stream: TcpStream) {
    const BODY: &str = r#"{"errors":[{"message":"the server is at its connection limit; retry shortly","extensions":{"code":"OVERLOADED"}}]}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
