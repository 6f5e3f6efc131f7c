//! The delivery worker: every instance runs one. It claims due deliveries
//! for a lease ([`outbox::claim`]), POSTs each event signed to its endpoint,
//! and records the attempt: `DELIVERED` on a 2xx answer; otherwise `PENDING`
//! again after an exponential backoff, or `FAILED` once the next attempt
//! would fall outside the retry window.
//!
//! The body is `{"id", "type", "createdAt", "data"}`; `id` is the event's,
//! the same on every attempt and for every endpoint, for the receiver's
//! idempotency. An instance stopped or killed mid-delivery records nothing:
//! its claims expire after the lease and the deliveries go out again (at
//! least once). Stopping waits for attempts in flight only as long as told.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio::sync::watch;

use super::outbox::{self, Attempt, Claimed, DELIVERED, FAILED, PENDING};
use super::{WebhookOptions, signature, target};

/// Deliveries claimed (and sent at once) per round.
const BATCH: u64 = 16;
/// How often delivered and failed events are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Events at most this old are kept (with their deliveries and attempts),
/// beyond the retry window.
const KEEP_FOR: Duration = Duration::from_secs(7 * 24 * 3600);
/// Longest error text recorded.
const MAX_ERROR: usize = 500;

/// A running worker.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts delivering from `db`, as `options` say.
    pub fn start(db: DatabaseConnection, options: Arc<WebhookOptions>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(crate::db::Statements::uncounted(Box::pin(run(db, options, stopped))));
        Self { stop, task }
    }

    /// For tests: the handle that kills the worker where it stands.
    pub fn abort_handle(&self) -> tokio::task::AbortHandle {
        self.task.abort_handle()
    }

    /// Stops claiming, lets attempts in flight finish within `within`, then
    /// cuts them (their claims expire; they go out again later).
    pub async fn stop(self, within: Duration) {
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        if tokio::time::timeout(within, self.task).await.is_err() {
            abort.abort();
            tracing::warn!("webhook deliveries in flight were cut at shutdown; they will be sent again");
        }
    }
}

/// Makes ring the process's TLS provider. reqwest is built with rustls but
/// without a provider of its own (the webhook client passes its own
/// configuration); every other reqwest client in the process, such as the
/// OpenTelemetry exporter's, asks rustls for the process default, and
/// without one cannot be built. Call once at start; later calls do nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client: TLS on ring with the webpki roots, the SSRF guard's
/// resolver, no redirects, no proxy, the attempt's time limit.
fn client(options: &WebhookOptions) -> Result<reqwest::Client, Box<dyn std::error::Error + Send + Sync>> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(options.timeout)
        .connect_timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(target::resolver(options.allow_private))
        .user_agent(concat!("pricegraph-webhooks/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(4)
        .build()?)
}

async fn run(db: DatabaseConnection, options: Arc<WebhookOptions>, mut stopped: watch::Receiver<bool>) {
    let client = match client(&options) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhook deliveries are off: the HTTP client could not be built");
            return;
        }
    };
    let mut pruned = Instant::now();
    let mut busy = false;
    loop {
        if !busy {
            tokio::select! {
                _ = stopped.changed() => return,
                () = tokio::time::sleep(options.poll_every) => {}
            }
        }
        if *stopped.borrow() {
            return;
        }
        busy = false;
        // Boxed, here and below: database and HTTP futures are large, and a
        // task's poll must fit a small stack.
        match Box::pin(outbox::claim(&db, BATCH, options.lease)).await {
            Ok(claimed) => {
                busy = claimed.len() as u64 == BATCH;
                let attempts = claimed
                    .into_iter()
                    .map(|c| Box::pin(deliver(&db, &client, &options, c)));
                futures_util::future::join_all(attempts).await;
            }
            Err(error) => tracing::warn!(%error, "could not claim webhook deliveries; trying again"),
        }
        if pruned.elapsed() >= PRUNE_EVERY {
            pruned = Instant::now();
            let keep = chrono::Duration::from_std(options.retry_for + KEEP_FOR).unwrap_or(chrono::Duration::days(8));
            if let Err(error) = Box::pin(outbox::prune(&db, Utc::now() - keep, 1_000)).await {
                tracing::warn!(%error, "could not prune old webhook events");
            }
        }
    }
}

/// The body as sent: the same bytes are signed.
pub fn body(event: &entity::webhook_event::Model) -> Vec<u8> {
    let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or(serde_json::Value::Null);
    let body = json!({
        "id": event.id,
        "type": event.event_type,
        "createdAt": event.created_at,
        "data": data,
    });
    body.to_string().into_bytes()
}

fn truncated(mut text: String) -> String {
    if text.len() > MAX_ERROR {
        let mut end = MAX_ERROR;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// An error with its sources, which say what actually went wrong.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    let mut depth = 0;
    while let Some(inner) = source
        && depth < 5
    {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
        depth += 1;
    }
    truncated(text)
}

async fn deliver(db: &DatabaseConnection, client: &reqwest::Client, options: &WebhookOptions, claimed: Claimed) {
    let Claimed {
        delivery,
        event,
        endpoint,
    } = claimed;
    let at = Utc::now();
    let started = Instant::now();
    let outcome: Result<u16, (Option<u16>, String, bool)> = match url::Url::parse(&endpoint.url) {
        Err(error) => Err((None, format!("the endpoint's URL is not usable: {error}"), true)),
        Ok(url) => match target::check_literal(&url, options.allow_private) {
            Err(error) => Err((None, format!("refused: the URL {error}"), true)),
            Ok(()) => {
                let body = body(&event);
                let timestamp = Utc::now().timestamp();
                let request = client
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(signature::HEADER, signature::header(&endpoint.secret, timestamp, &body))
                    .header("Pricegraph-Event-Id", event.id.to_string())
                    .header("Pricegraph-Event-Type", event.event_type.as_str())
                    .body(body);
                match Box::pin(request.send()).await {
                    Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
                    Ok(response) => Err((
                        Some(response.status().as_u16()),
                        format!("the receiver answered {}", response.status()),
                        false,
                    )),
                    Err(error) => Err((None, describe(&error), false)),
                }
            }
        },
    };
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let attempt = match outcome {
        Ok(status) => Attempt {
            at,
            response_status: Some(status),
            error: None,
            duration_ms,
            status: DELIVERED,
            next_attempt_at: at,
        },
        Err((response_status, error, permanent)) => {
            let attempts = u32::try_from(delivery.attempts).unwrap_or(0).saturating_add(1);
            let wait = chrono::Duration::from_std(options.jittered_backoff(attempts, rand::random::<f64>()))
                .unwrap_or(chrono::Duration::hours(1));
            let next = Utc::now() + wait;
            let window = chrono::Duration::from_std(options.retry_for).unwrap_or(chrono::Duration::days(1));
            let gives_up = permanent || next > delivery.retry_from + window;
            Attempt {
                at,
                response_status,
                error: Some(error),
                duration_ms,
                status: if gives_up { FAILED } else { PENDING },
                next_attempt_at: if gives_up { at } else { next },
            }
        }
    };
    options.counts.attempted(attempt.status);
    if let Err(error) = Box::pin(outbox::record(db, &delivery, &attempt)).await {
        // Not recorded: the claim expires and the delivery goes out again.
        tracing::warn!(%error, delivery = %delivery.id, "could not record a webhook attempt");
    }
}
