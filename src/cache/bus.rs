//! Invalidation across instances over Redis pub/sub (README: Configuration, caching): every
//! invalidation an instance makes is published on one channel, by the same
//! script that deletes its Redis keys (see [`super::shared`]); every
//! instance subscribes and applies what the others send.
//!
//! Pub/sub delivers only to whoever is subscribed at that moment, so an
//! instance whose subscription is down could miss a write made elsewhere.
//! Hence: until it is subscribed, and whenever the subscription drops, the
//! instance serves nothing from its in-process cache; each time it
//! (re)subscribes it first empties that cache, since messages may have been
//! lost meanwhile. Redis being down therefore costs speed, never a correct
//! answer, and never a failed request.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::shared::{RedisOptions, Shared};
use super::{Cache, Invalidation};

/// How often undelivered invalidations are retried.
const RETRY_EVERY: Duration = Duration::from_millis(200);

/// What travels on the channel.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Message {
    /// The sending instance, which has applied it already.
    pub origin: Uuid,
    pub invalidation: Invalidation,
}

/// Attaches Redis to the cache and starts applying the other instances'
/// invalidations. The in-process cache serves nothing until the first
/// subscription is up. Connects in the background: Redis being down never
/// delays or fails a start.
pub fn start(cache: Arc<Cache>, options: RedisOptions) -> Result<(), redis::RedisError> {
    let client = redis::Client::open(options.redis_url.as_str())?;
    let shared = Arc::new(Shared::new(&options)?);
    cache.pause(true);
    cache.attach(shared.clone());
    tokio::spawn(redeliver(Arc::downgrade(&shared)));
    tokio::spawn(subscribe(client, options, shared, cache));
    Ok(())
}

/// Retries what could not be delivered until it is; stops with the cache.
async fn redeliver(shared: std::sync::Weak<Shared>) {
    loop {
        tokio::time::sleep(RETRY_EVERY).await;
        let Some(shared) = shared.upgrade() else { return };
        if shared.has_undelivered() {
            shared.retry().await;
        }
    }
}

async fn subscribe(client: redis::Client, options: RedisOptions, shared: Arc<Shared>, cache: Arc<Cache>) {
    let channel = options.channel();
    loop {
        let subscribed = tokio::time::timeout(options.timeout, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        let pubsub = match subscribed {
            Ok(Ok(pubsub)) => pubsub,
            Ok(Err(error)) => {
                shared.outage.record("subscription", &error);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(_) => {
                shared.outage.record("subscription", &"no answer in time");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Anything sent while we were not listening is unknown.
        cache.clear();
        cache.pause(false);
        tracing::info!(%channel, "cache invalidations subscribed; serving from the cache");
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            let parsed = message
                .get_payload::<String>()
                .ok()
                .and_then(|payload| serde_json::from_str::<Message>(&payload).ok());
            match parsed {
                Some(message) if message.origin != shared.origin => cache.apply(&message.invalidation),
                Some(_) => {}
                None => tracing::warn!("ignored a malformed cache invalidation message"),
            }
        }
        cache.pause(true);
        shared.outage.record("subscription", &"connection lost");
    }
}
