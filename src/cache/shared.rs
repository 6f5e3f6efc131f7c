//! The shared layer (README: Configuration, caching): Redis, between every instance's in-process
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
//! | `pricing:epoch` | a counter every invalidation bumps (no TTL) |
//!
//! Effective groups are not stored: they follow from a customer's entry
//! and its organization's, at the request's instant, and storing them
//! would make every organization write invalidate each of its members.
//!
//! Correctness: an invalidation deletes its keys, bumps the epoch and
//! publishes its message in one script, after the database commit and
//! before the write is acknowledged. A fill after a database read is a
//! script that stores only when the epoch is still the one read *before*
//! the database: a read that raced a write never stores what the write
//! replaced. When Redis cannot be reached, reads skip it for a moment, and
//! an invalidation that could not be delivered is retried in the background;
//! until it is, this instance does not read Redis (it could see the entries
//! the invalidation is meant to delete).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use uuid::Uuid;

use super::{CustomerEntry, GroupEntry, Invalidation, LayerStats};
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

    pub fn channel(&self) -> String {
        format!("{}pricing:invalidations", self.key_prefix)
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

/// The epoch read before a database read, which a fill must still match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epoch(u64);

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

/// Deletes the keys, bumps the epoch and publishes, in one step.
/// KEYS: the epoch, then the entries. ARGV: the channel, the message.
const INVALIDATE: &str = r"
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('INCR', KEYS[1])
return redis.call('PUBLISH', ARGV[1], ARGV[2])
";

/// Stores entries only if the epoch is still the one given.
/// KEYS: the epoch, then the entries. ARGV: the epoch expected, then a TTL
/// in milliseconds and a value per entry.
const FILL: &str = r"
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'PX', ARGV[2 * i - 2]) end
return #KEYS - 1
";

/// Redis failures: counted, and logged at most once per interval.
#[derive(Default)]
pub struct Outage {
    errors: AtomicU64,
    logged: Mutex<Option<(Instant, u64)>>,
}

impl Outage {
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
                "Redis {what} failed; serving from the database meanwhile (logged at most every {}s)",
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

pub struct Shared {
    connection: ConnectionManager,
    prefix: String,
    channel: String,
    timeout: Duration,
    ttl: Duration,
    /// This instance, so that it can ignore its own messages.
    pub origin: Uuid,
    invalidate: redis::Script,
    fill: redis::Script,
    /// Reads skip Redis until then, after a failure.
    skip_until: Mutex<Option<Instant>>,
    /// Invalidations made here that Redis has not taken yet.
    undelivered: Mutex<Vec<Invalidation>>,
    pub outage: Outage,
    hits: [AtomicU64; 5],
    misses: [AtomicU64; 5],
}

impl Shared {
    /// Does not connect: the first command does, and Redis being down
    /// then costs a timeout, not a failed start.
    pub fn new(options: &RedisOptions) -> Result<Self, redis::RedisError> {
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
            channel: options.channel(),
            timeout: options.timeout,
            ttl: options.ttl,
            origin: Uuid::now_v7(),
            invalidate: redis::Script::new(INVALIDATE),
            fill: redis::Script::new(FILL),
            skip_until: Mutex::new(None),
            undelivered: Mutex::new(Vec::new()),
            outage: Outage::default(),
            hits: Default::default(),
            misses: Default::default(),
        })
    }

    /// A key as stored, with the prefix.
    pub fn stored(&self, key: &Key) -> String {
        format!("{}{key}", self.prefix)
    }

    fn epoch_key(&self) -> String {
        format!("{}pricing:epoch", self.prefix)
    }

    /// Whether reads may go to Redis now.
    pub fn readable(&self) -> bool {
        let skipping = self
            .skip_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|until| Instant::now() < until);
        !skipping
            && self
                .undelivered
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty()
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

    /// The entries under `keys` (`None` for each missing or unreadable one)
    /// and the current epoch, in one round trip; `None` when Redis failed.
    pub async fn get(&self, keys: &[Key]) -> Option<(Epoch, Vec<Option<Entry>>)> {
        let mut names = Vec::with_capacity(keys.len() + 1);
        names.push(self.epoch_key());
        names.extend(keys.iter().map(|key| self.stored(key)));
        let mut connection = self.connection.clone();
        let values: Vec<Option<String>> = self
            .run("read", redis::cmd("MGET").arg(&names).query_async(&mut connection))
            .await?;
        let mut values = values.into_iter();
        let epoch = values.next().flatten().and_then(|e| e.parse().ok()).unwrap_or(0);
        let entries = keys
            .iter()
            .zip(values)
            .map(|(key, value)| {
                let entry = value.and_then(|value| decode(key, &value));
                let slot = KINDS.iter().position(|(kind, _)| *kind == key.kind()).unwrap_or(0);
                let counter = if entry.is_some() { &self.hits } else { &self.misses };
                counter[slot].fetch_add(1, Ordering::Relaxed);
                entry
            })
            .collect();
        Some((Epoch(epoch), entries))
    }

    /// Stores what a database read found, unless an invalidation came
    /// after `since` (then it may be what the invalidation replaced).
    pub async fn fill(&self, since: Epoch, entries: &[(Key, Entry)]) {
        if entries.is_empty() {
            return;
        }
        let mut invocation = self.fill.prepare_invoke();
        invocation.key(self.epoch_key()).arg(since.0.to_string());
        for (key, entry) in entries {
            invocation
                .key(self.stored(key))
                .arg(self.spread_ttl_ms())
                .arg(encode(entry));
        }
        let mut connection = self.connection.clone();
        let _: Option<i64> = self.run("write", invocation.invoke_async(&mut connection)).await;
    }

    /// The TTL, spread ±10 %.
    fn spread_ttl_ms(&self) -> u64 {
        let base = self.ttl.as_millis() as f64;
        (base * rand::random_range(0.9..=1.1)) as u64
    }

    /// Deletes what `invalidation` names and tells the other instances.
    /// Returns whether Redis took it; if not, it is kept for [`Self::retry`]
    /// and reads skip Redis until it is delivered.
    pub async fn deliver(&self, invalidation: Invalidation) -> bool {
        if self.send(&invalidation).await {
            return true;
        }
        self.undelivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(invalidation);
        false
    }

    async fn send(&self, invalidation: &Invalidation) -> bool {
        let message = super::bus::Message {
            origin: self.origin,
            invalidation: invalidation.clone(),
        };
        let Ok(payload) = serde_json::to_string(&message) else {
            return false;
        };
        let mut invocation = self.invalidate.prepare_invoke();
        invocation.key(self.epoch_key());
        for key in invalidated_keys(invalidation) {
            invocation.key(self.stored(&key));
        }
        invocation.arg(&self.channel).arg(payload);
        let mut connection = self.connection.clone();
        let sent: Option<i64> = self.run("invalidation", invocation.invoke_async(&mut connection)).await;
        sent.is_some()
    }

    /// Tries again to deliver what [`Self::deliver`] could not, in order;
    /// stops at the first that still fails.
    pub async fn retry(&self) {
        let pending = std::mem::take(&mut *self.undelivered.lock().unwrap_or_else(PoisonError::into_inner));
        let mut pending = pending.into_iter();
        while let Some(invalidation) = pending.next() {
            if !self.send(&invalidation).await {
                let mut undelivered = self.undelivered.lock().unwrap_or_else(PoisonError::into_inner);
                let newer = std::mem::take(&mut *undelivered);
                undelivered.push(invalidation);
                undelivered.extend(pending);
                undelivered.extend(newer);
                return;
            }
        }
    }

    pub fn has_undelivered(&self) -> bool {
        !self
            .undelivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
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
