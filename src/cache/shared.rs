//! The shared layer (docs/operations.md#caching): Redis, between every instance's in-process
//! layers and the database, so that an instance that starts cold or has
//! just been invalidated reads from Redis, not from SQL.
//!
//! Keys, all under the configured prefix, each value JSON, each with a TTL
//! of one hour spread ±10 % (so that entries filled together do not all
//! expire together):
//!
//! | key | value |
//! |---|---|
//! | `pricing:customer:{id}` | a customer's memberships: `{"organizationId", "groupIds"}` |
//! | `pricing:organization:{id}` | an organization's pricing groups: `{"groupIds"}` |
//! | `pricing:customer-group:{id}` | a group and its price-list links: `{"isActive", "priceLists": [{"priceListId", "priority"}], "productLineIds"}` |
//! | `pricing:price-list:{id}` | a list, its status and window: `{"type", "status", "startsAt", "endsAt", "createdAt"}` |
//! | `pricing:prices:{productId}:{currency}` | a product's base tiers and every list's tiers in one currency |
//!
//! Effective groups are not stored: they follow from a customer's entry
//! and its organization's, at the request's instant, and storing them
//! would make every organization write invalidate each of its members.
//!
//! Correctness does not rest on Redis: an entry carries the change-log
//! position known before the database read that filled it, stored as
//! `{position} {json}`, and is served only while no later change to its
//! key is known (see [`super::followed`]). A write still deletes its keys
//! here after it commits, so that the others need not refill them to find
//! out; when Redis fails, reads skip it for a moment.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use uuid::Uuid;

use super::followed::{Followed, Position};
use super::{Cache, CustomerEntry, GroupEntry, Invalidation, LayerStats};
use crate::money::CurrencyCode;
use crate::pricing::{ListInfo, Offer};
use codec::{decode, encode};

mod codec;

/// How long reads skip Redis after a failure.
const BACKOFF: Duration = Duration::from_secs(1);
/// At most one warning per this interval while Redis is failing.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct RedisOptions {
    pub redis_url: String,
    /// Several deployments (or test runs) can share one Redis.
    pub key_prefix: String,
    /// For connecting and for each command.
    pub timeout: Duration,
    /// Before the ±10 % spread.
    pub ttl: Duration,
}

impl RedisOptions {
    pub fn new(redis_url: impl Into<String>, key_prefix: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            key_prefix: key_prefix.into(),
            timeout: Duration::from_millis(50),
            ttl: Duration::from_secs(3600),
        }
    }
}

/// One entry of the shared layer, by what it describes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Customer(Uuid),
    Organization(Uuid),
    Group(Uuid),
    List(Uuid),
    Prices(Uuid, CurrencyCode),
}

impl Key {
    fn kind(&self) -> Kind {
        match self {
            Key::Customer(_) => Kind::Customer,
            Key::Organization(_) => Kind::Organization,
            Key::Group(_) => Kind::Group,
            Key::List(_) => Kind::List,
            Key::Prices(..) => Kind::Prices,
        }
    }
}

/// The key as stored, without the prefix.
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Customer(id) => write!(f, "pricing:customer:{id}"),
            Key::Organization(id) => write!(f, "pricing:organization:{id}"),
            Key::Group(id) => write!(f, "pricing:customer-group:{id}"),
            Key::List(id) => write!(f, "pricing:price-list:{id}"),
            Key::Prices(id, currency) => write!(f, "pricing:prices:{id}:{currency}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Customer,
    Organization,
    Group,
    List,
    Prices,
}

const KINDS: [(Kind, &str); 5] = [
    (Kind::Customer, "redis:customers"),
    (Kind::Organization, "redis:organizations"),
    (Kind::Group, "redis:groups"),
    (Kind::List, "redis:lists"),
    (Kind::Prices, "redis:prices"),
];

/// What an entry holds, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Customer(CustomerEntry),
    Organization(Vec<Uuid>),
    Group(GroupEntry),
    List(ListInfo),
    Prices(Offer),
}

/// The keys of one invalidation, without the prefix.
pub fn invalidated_keys(invalidation: &Invalidation) -> Vec<Key> {
    match invalidation {
        Invalidation::Customers(ids) => ids.iter().copied().map(Key::Customer).collect(),
        Invalidation::Organizations(ids) => ids.iter().copied().map(Key::Organization).collect(),
        Invalidation::Groups(ids) => ids.iter().copied().map(Key::Group).collect(),
        Invalidation::Lists(ids) => ids.iter().copied().map(Key::List).collect(),
        Invalidation::Offers(keys) => keys
            .iter()
            .filter_map(|(id, code)| Some(Key::Prices(*id, code.parse().ok()?)))
            .collect(),
        // Pages of the catalog live in process only.
        Invalidation::Catalog | Invalidation::Everything => Vec::new(),
    }
}

/// Failures of a dependency: counted, and logged at most once per interval.
pub struct Outage {
    subject: &'static str,
    errors: AtomicU64,
    logged: Mutex<Option<(Instant, u64)>>,
}

impl Default for Outage {
    fn default() -> Self {
        Self::named("Redis")
    }
}

impl Outage {
    /// Failures of `subject`, as the warning names it.
    pub fn named(subject: &'static str) -> Self {
        Self {
            subject,
            errors: AtomicU64::new(0),
            logged: Mutex::new(None),
        }
    }

    /// Counts one failure; returns whether it was logged (the first of an interval).
    pub fn record(&self, what: &str, error: &dyn fmt::Display) -> bool {
        let errors = self.errors.fetch_add(1, Ordering::Relaxed) + 1;
        let mut logged = self.logged.lock().unwrap_or_else(PoisonError::into_inner);
        let due = logged.is_none_or(|(at, _)| at.elapsed() >= LOG_INTERVAL);
        if due {
            let since = logged.map_or(errors, |(_, before)| errors - before);
            tracing::warn!(
                %error,
                failures_since_last_warning = since,
                "{} ({what}) failed; serving from the database meanwhile (logged at most every {}s)",
                self.subject,
                LOG_INTERVAL.as_secs()
            );
            *logged = Some((Instant::now(), errors));
        }
        due
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}

/// Attaches Redis to the cache. Does not connect: the first command does,
/// and Redis being down then costs a timeout, never a failed start.
pub fn attach(cache: &Cache, options: &RedisOptions) -> Result<(), redis::RedisError> {
    cache.attach(Arc::new(Shared::new(options, cache.followed().clone())?));
    Ok(())
}

pub struct Shared {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
    ttl: Duration,
    /// What the change log says, against which entries are checked.
    followed: Arc<Followed>,
    /// Reads skip Redis until then, after a failure.
    skip_until: Mutex<Option<Instant>>,
    pub outage: Outage,
    hits: [AtomicU64; 5],
    misses: [AtomicU64; 5],
}

impl Shared {
    fn new(options: &RedisOptions, followed: Arc<Followed>) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(options.redis_url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(100));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            connection,
            prefix: options.key_prefix.clone(),
            timeout: options.timeout,
            ttl: options.ttl,
            followed,
            skip_until: Mutex::new(None),
            outage: Outage::default(),
            hits: Default::default(),
            misses: Default::default(),
        })
    }

    /// A key as stored, with the prefix.
    pub fn stored(&self, key: &Key) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Whether reads may go to Redis now.
    pub fn readable(&self) -> bool {
        !self
            .skip_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|until| Instant::now() < until)
    }

    fn failed(&self, what: &str, error: &dyn fmt::Display) {
        *self.skip_until.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + BACKOFF);
        self.outage.record(what, error);
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        what: &str,
        command: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.timeout, command).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                self.failed(what, &error);
                None
            }
            Err(_) => {
                self.failed(what, &format_args!("no answer within {:?}", self.timeout));
                None
            }
        }
    }

    /// The entries under `keys` (`None` for each missing, unreadable or
    /// outdated one) and the change-log position to fill the missing ones
    /// at, in one round trip; `None` when Redis failed.
    pub async fn get(&self, keys: &[Key]) -> Option<(Position, Vec<Option<Entry>>)> {
        // Taken before the database read that may follow.
        let position = self.followed.position()?;
        if keys.is_empty() {
            return Some((position, Vec::new()));
        }
        let names: Vec<String> = keys.iter().map(|key| self.stored(key)).collect();
        let mut connection = self.connection.clone();
        let values: Vec<Option<String>> = self
            .run("read", redis::cmd("MGET").arg(&names).query_async(&mut connection))
            .await?;
        let entries = keys
            .iter()
            .zip(values)
            .map(|(key, value)| {
                let entry = value.and_then(|value| {
                    let (filled_at, json) = value.split_once(' ')?;
                    let filled_at = Position(filled_at.parse().ok()?);
                    self.followed.is_current(key, filled_at).then(|| decode(key, json))?
                });
                let slot = KINDS.iter().position(|(kind, _)| *kind == key.kind()).unwrap_or(0);
                let counter = if entry.is_some() { &self.hits } else { &self.misses };
                counter[slot].fetch_add(1, Ordering::Relaxed);
                entry
            })
            .collect();
        Some((position, entries))
    }

    /// Stores what a database read found, marked with the position taken
    /// before that read.
    pub async fn fill(&self, filled_at: Position, entries: &[(Key, Entry)]) {
        if entries.is_empty() {
            return;
        }
        let mut pipeline = redis::pipe();
        for (key, entry) in entries {
            pipeline
                .cmd("SET")
                .arg(self.stored(key))
                .arg(format!("{} {}", filled_at.0, encode(entry)))
                .arg("PX")
                .arg(self.spread_ttl_ms())
                .ignore();
        }
        let mut connection = self.connection.clone();
        let _: Option<()> = self.run("write", pipeline.query_async(&mut connection)).await;
    }

    /// The TTL, spread ±10 %.
    fn spread_ttl_ms(&self) -> u64 {
        let base = self.ttl.as_millis() as f64;
        (base * rand::random_range(0.9..=1.1)) as u64
    }

    /// Deletes the keys of what a write changed; a failure only costs the
    /// others a check against the change log.
    pub async fn delete(&self, invalidations: &[Invalidation]) {
        let names: Vec<String> = invalidations
            .iter()
            .flat_map(invalidated_keys)
            .map(|key| self.stored(&key))
            .collect();
        if names.is_empty() {
            return;
        }
        let mut connection = self.connection.clone();
        let _: Option<i64> = self
            .run("delete", redis::cmd("DEL").arg(&names).query_async(&mut connection))
            .await;
    }

    /// Hits and misses per kind of key.
    pub fn stats(&self) -> Vec<(&'static str, LayerStats)> {
        KINDS
            .iter()
            .enumerate()
            .map(|(slot, (_, name))| {
                let stats = LayerStats {
                    hits: self.hits[slot].load(Ordering::Relaxed),
                    misses: self.misses[slot].load(Ordering::Relaxed),
                    ..LayerStats::default()
                };
                (*name, stats)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_counted_every_time_and_logged_once_per_interval() {
        let outage = Outage::default();
        let logged: Vec<bool> = (0..100).map(|_| outage.record("read", &"refused")).collect();
        assert_eq!(outage.errors(), 100);
        assert_eq!(logged.iter().filter(|l| **l).count(), 1);
        assert!(logged[0]);
        // An interval later, the next failure is logged again.
        *outage.logged.lock().expect("not poisoned") = Some((Instant::now() - LOG_INTERVAL, 100));
        assert!(outage.record("read", &"refused"));
        assert!(!outage.record("read", &"refused"));
    }
}
