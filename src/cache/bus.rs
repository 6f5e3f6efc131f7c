//! Invalidation across instances over Redis pub/sub (SPEC §7, §10): every
//! invalidation an instance makes is published on one channel; every
//! instance subscribes and applies what the others send.
//!
//! Pub/sub delivers only to whoever is subscribed at that moment, so an
//! instance whose subscription is down could miss a write made elsewhere.
//! Hence: until it is subscribed, and whenever the subscription drops, the
//! instance serves nothing from its cache (every read goes to the
//! database); each time it (re)subscribes it first empties the cache, since
//! messages may have been lost meanwhile. Redis being down therefore costs
//! speed, never a correct answer, and never a failed request.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Cache, Invalidation};

#[derive(Clone, Debug)]
pub struct BusOptions {
    pub redis_url: String,
    /// Several deployments (or test runs) can share one Redis.
    pub key_prefix: String,
    /// For connecting and for each command.
    pub timeout: Duration,
}

impl BusOptions {
    pub fn channel(&self) -> String {
        format!("{}pricing:invalidations", self.key_prefix)
    }
}

/// What travels on the channel.
#[derive(Debug, Serialize, Deserialize)]
struct Message {
    /// The sending instance, which has applied it already.
    origin: Uuid,
    invalidation: Invalidation,
}

/// Starts publishing this instance's invalidations and applying the
/// others'. The cache serves nothing until the first subscription is up.
pub fn start(cache: Arc<Cache>, options: BusOptions) -> Result<(), redis::RedisError> {
    let client = redis::Client::open(options.redis_url.as_str())?;
    let origin = Uuid::now_v7();
    let (outbox, inbox) = mpsc::unbounded_channel();
    cache.pause(true);
    cache.attach(outbox);
    tokio::spawn(publish(client.clone(), options.clone(), origin, inbox));
    tokio::spawn(subscribe(client, options, origin, cache));
    Ok(())
}

async fn publish(
    client: redis::Client,
    options: BusOptions,
    origin: Uuid,
    mut inbox: mpsc::UnboundedReceiver<Invalidation>,
) {
    let channel = options.channel();
    let mut connection = None;
    while let Some(invalidation) = inbox.recv().await {
        let Ok(payload) = serde_json::to_string(&Message { origin, invalidation }) else {
            continue;
        };
        // One retry on a fresh connection; after that the message is lost,
        // and other instances rely on the TTL for it.
        for _ in 0..2 {
            if connection.is_none() {
                connection = tokio::time::timeout(options.timeout, client.get_multiplexed_async_connection())
                    .await
                    .ok()
                    .and_then(Result::ok);
            }
            let Some(conn) = connection.as_mut() else { continue };
            let sent = tokio::time::timeout(
                options.timeout,
                redis::cmd("PUBLISH")
                    .arg(&channel)
                    .arg(&payload)
                    .query_async::<i64>(conn),
            )
            .await;
            if matches!(sent, Ok(Ok(_))) {
                break;
            }
            tracing::warn!("could not publish a cache invalidation to Redis; retrying on a new connection");
            connection = None;
        }
    }
}

async fn subscribe(client: redis::Client, options: BusOptions, origin: Uuid, cache: Arc<Cache>) {
    let channel = options.channel();
    let mut logged_down = false;
    loop {
        let subscribed = tokio::time::timeout(options.timeout, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match subscribed {
            Ok(Ok(pubsub)) => {
                // Anything sent while we were not listening is unknown.
                cache.clear();
                cache.pause(false);
                tracing::info!(%channel, "cache invalidations subscribed; serving from the cache");
                logged_down = false;
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    let parsed = message
                        .get_payload::<String>()
                        .ok()
                        .and_then(|payload| serde_json::from_str::<Message>(&payload).ok());
                    match parsed {
                        Some(message) if message.origin != origin => cache.apply(&message.invalidation),
                        Some(_) => {}
                        None => tracing::warn!("ignored a malformed cache invalidation message"),
                    }
                }
                cache.pause(true);
                tracing::warn!("cache invalidation subscription lost; reading from the database until it is back");
            }
            _ => {
                if !logged_down {
                    tracing::warn!("Redis unreachable; reading from the database, retrying every second");
                    logged_down = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
