//! The read cache in front of the database (docs/operations.md#caching): what every storefront
//! request reads — who a customer is for pricing, groups with their links,
//! price lists, each product's prices, pages of the catalog and of customers, and the rows of
//! customers, groups, lists and organizations the API shows — kept in
//! process, bounded in bytes (each kind of entry its share, so that one
//! kind cannot push out another), with a long TTL as a safety net.
//!
//! The rules that keep it correct:
//!
//! - Every service write that changes cached data names what it changed
//!   to the store's `Writing`, which logs it in the write's own
//!   transaction and applies it here after the commit. Other instances
//!   apply it when they read the change log ([`followed`]). Nothing else evicts.
//! - Nothing is served while this instance is behind the change log by
//!   more than the lease ([`followed`]): that bounds how old an answer
//!   from any cache can be, on any instance.
//! - A fill carries the [`Generation`] taken *before* its SQL read, and is
//!   dropped when any invalidation happened since: a read that raced a write
//!   can never store what the write replaced. Fills and invalidations
//!   exclude each other (a read-write lock), so the check and the insert are
//!   one step.
//! - Entries are the rows as resolution needs them, not decisions: effective
//!   groups, candidates and windows are still worked out per request, at
//!   the request's `at`.
//!
//! Keys and what they hold are documented on the private `Layers`; TTLs and sizes come
//! from [`CacheOptions`]. Behind these layers, when Redis is configured, is
//! the layer every instance shares ([`shared`]).

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use entity::{customer, customer_group, organization, price_list, product};
use rustc_hash::FxBuildHasher;
use uuid::Uuid;

use crate::money::CurrencyCode;
use crate::page::Page;
use crate::pricing::{ListInfo, Offer};
use weight::Weigh;

pub mod followed;
pub mod shared;
pub mod weight;

pub use followed::{Followed, Position};

#[derive(Clone, Debug)]
pub struct CacheOptions {
    /// Off: every read goes to the database (for comparison, and debugging).
    pub enabled: bool,
    /// Longest life of an entry. Invalidation does not depend on it (the
    /// change log reaches every instance); it bounds how long an entry
    /// nobody asks for takes room.
    pub ttl: Duration,
    /// Most bytes all in-process entries may take together, as estimated
    /// by [`weight`]; each kind of entry has its share (see `Cache::new`).
    pub max_bytes: u64,
    /// How far behind the change log this instance may be and still serve
    /// from its caches: the bound on how old an answer can be.
    pub lease: Duration,
}

impl CacheOptions {
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl: Duration::from_secs(3600),
            max_bytes: 256 << 20,
            lease: Duration::from_millis(250),
        }
    }
}

/// A customer as resolution sees it: its organization and its own pricing groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerEntry {
    pub organization_id: Option<Uuid>,
    pub groups: Vec<Uuid>,
}

/// A pricing group as resolution sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupEntry {
    pub is_active: bool,
    /// (price list id, priority) of each of its links.
    pub links: Vec<(Uuid, i32)>,
    pub product_lines: Vec<Uuid>,
}

/// One invalidation, as instances send it to each other.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "keys", rename_all = "snake_case")]
pub enum Invalidation {
    Customers(Vec<Uuid>),
    Organizations(Vec<Uuid>),
    Groups(Vec<Uuid>),
    Lists(Vec<Uuid>),
    /// (product id, currency code).
    Offers(Vec<(Uuid, String)>),
    Catalog,
    Everything,
}

/// A point in the cache's history of invalidations; see the module doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Generation(u64);

/// Hits and misses of one layer since start, and what it holds now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerStats {
    pub hits: u64,
    pub misses: u64,
    /// Entries held (in process only; moka's count, which trails inserts
    /// and evictions slightly).
    pub entries: u64,
    /// Their estimated bytes (in process only).
    pub bytes: u64,
}

pub struct Cache {
    layers: Option<Layers>,
    /// Counts invalidations, with the cache off too (single flights use it).
    generation: AtomicU64,
    /// Held for reading by fills, for writing by invalidations.
    fence: RwLock<()>,
    /// How far this instance has followed the change log.
    followed: Arc<Followed>,
    /// Redis, when configured; see [`shared`].
    shared: OnceLock<Arc<shared::Shared>>,
}

/// The in-process layers, one per kind of entry.
struct Layers {
    /// customer id → [`CustomerEntry`].
    customers: Layer<Uuid, CustomerEntry>,
    /// organization id → ids of its pricing groups.
    organizations: Layer<Uuid, Vec<Uuid>>,
    /// group id → [`GroupEntry`].
    groups: Layer<Uuid, GroupEntry>,
    /// price list id → its type, status and window.
    lists: Layer<Uuid, ListInfo>,
    /// (product id, currency) → base tiers and every list's tiers.
    offers: Layer<(Uuid, CurrencyCode), Offer>,
    /// the filter and page request, as text → a page of products.
    product_pages: Layer<String, Page<Arc<product::Model>>>,
    /// product id → the product (those that exist).
    products: Layer<Uuid, product::Model>,
    /// group id → the group's row, as the API shows it (names included).
    group_rows: Layer<Uuid, customer_group::Model>,
    /// price list id → the list's row, as the API shows it.
    list_rows: Layer<Uuid, price_list::Model>,
    /// organization id → the organization's row, as the API shows it.
    organization_rows: Layer<Uuid, organization::Model>,
    /// customer id → the customer's row, as the API shows it.
    customer_rows: Layer<Uuid, customer::Model>,
    /// the filter and page request, as text → a page of customers.
    customer_pages: Layer<String, Page<Arc<customer::Model>>>,
}

struct Layer<K, V> {
    entries: moka::sync::Cache<K, Arc<V>, FxBuildHasher>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> Layer<K, V>
where
    K: Hash + Eq + Send + Sync + Weigh + 'static,
    V: Send + Sync + Weigh + 'static,
{
    /// A layer with `percent` of the cache's bytes.
    fn new(options: &CacheOptions, percent: u64) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(options.max_bytes / 100 * percent)
                .weigher(weight::entry::<K, V>)
                .time_to_live(options.ttl)
                // Keys are random ids (or short texts): no need for SipHash.
                .build_with_hasher(FxBuildHasher),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.entries.get(key);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn evict<'a>(&self, keys: impl IntoIterator<Item = &'a K>)
    where
        K: 'a,
    {
        for key in keys {
            self.entries.invalidate(key);
        }
    }

    fn stats(&self) -> LayerStats {
        // Settle pending evictions first, so the figures are the bound's,
        // not a moment's overshoot (a scrape does this, not a request).
        self.entries.run_pending_tasks();
        LayerStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.entries.entry_count(),
            bytes: self.entries.weighted_size(),
        }
    }
}

/// What a fill may store; only handed out while the fill is still current.
pub struct Fill<'a>(&'a Layers);

impl Fill<'_> {
    pub fn customer(&self, id: Uuid, entry: CustomerEntry) {
        self.0.customers.entries.insert(id, Arc::new(entry));
    }
    pub fn organization(&self, id: Uuid, groups: Vec<Uuid>) {
        self.0.organizations.entries.insert(id, Arc::new(groups));
    }
    pub fn group(&self, id: Uuid, entry: Arc<GroupEntry>) {
        self.0.groups.entries.insert(id, entry);
    }
    pub fn list(&self, list: Arc<ListInfo>) {
        self.0.lists.entries.insert(list.id, list);
    }
    pub fn offer(&self, product_id: Uuid, currency: CurrencyCode, offer: Arc<Offer>) {
        self.0.offers.entries.insert((product_id, currency), offer);
    }
    pub fn product_page(&self, key: String, page: Arc<Page<Arc<product::Model>>>) {
        self.0.product_pages.entries.insert(key, page);
    }
    pub fn product(&self, product: Arc<product::Model>) {
        self.0.products.entries.insert(product.id, product);
    }
    pub fn group_row(&self, group: Arc<customer_group::Model>) {
        self.0.group_rows.entries.insert(group.id, group);
    }
    pub fn list_row(&self, list: Arc<price_list::Model>) {
        self.0.list_rows.entries.insert(list.id, list);
    }
    pub fn organization_row(&self, organization: Arc<organization::Model>) {
        self.0.organization_rows.entries.insert(organization.id, organization);
    }
    pub fn customer_row(&self, customer: Arc<customer::Model>) {
        self.0.customer_rows.entries.insert(customer.id, customer);
    }
    pub fn customer_page(&self, key: String, page: Arc<Page<Arc<customer::Model>>>) {
        self.0.customer_pages.entries.insert(key, page);
    }
}

impl Cache {
    pub fn new(options: &CacheOptions) -> Self {
        // Shares of the bytes, in percent (they add up to 100): prices
        // first, then who the customers are; groups, lists and
        // organizations are few. A share only caps a kind: a smaller data
        // set takes what it needs.
        let layers = options.enabled.then(|| Layers {
            customers: Layer::new(options, 10),
            organizations: Layer::new(options, 2),
            groups: Layer::new(options, 2),
            lists: Layer::new(options, 2),
            offers: Layer::new(options, 50),
            product_pages: Layer::new(options, 8),
            products: Layer::new(options, 8),
            group_rows: Layer::new(options, 2),
            list_rows: Layer::new(options, 2),
            organization_rows: Layer::new(options, 2),
            customer_rows: Layer::new(options, 10),
            customer_pages: Layer::new(options, 2),
        });
        Self {
            layers,
            generation: AtomicU64::new(0),
            fence: RwLock::new(()),
            followed: Arc::new(Followed::new(options.lease)),
            shared: OnceLock::new(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.layers.is_some()
    }

    /// To take before the SQL read whose rows a later [`Self::fill`] stores.
    pub fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::SeqCst))
    }

    /// Stores what a read found, unless an invalidation came after `since`.
    pub fn fill(&self, since: Generation, store: impl FnOnce(&Fill<'_>)) {
        let Some(layers) = self.serving() else { return };
        let _fence = self.fence.read().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::SeqCst) == since.0 {
            store(&Fill(layers));
        }
    }

    pub fn customer(&self, id: Uuid) -> Option<Arc<CustomerEntry>> {
        self.serving()?.customers.get(&id)
    }
    pub fn organization(&self, id: Uuid) -> Option<Arc<Vec<Uuid>>> {
        self.serving()?.organizations.get(&id)
    }
    pub fn group(&self, id: Uuid) -> Option<Arc<GroupEntry>> {
        self.serving()?.groups.get(&id)
    }
    pub fn list(&self, id: Uuid) -> Option<Arc<ListInfo>> {
        self.serving()?.lists.get(&id)
    }
    pub fn offer(&self, product_id: Uuid, currency: CurrencyCode) -> Option<Arc<Offer>> {
        self.serving()?.offers.get(&(product_id, currency))
    }
    pub fn product_page(&self, key: &str) -> Option<Arc<Page<Arc<product::Model>>>> {
        self.serving()?.product_pages.get(key)
    }
    pub fn product(&self, id: Uuid) -> Option<Arc<product::Model>> {
        self.serving()?.products.get(&id)
    }
    pub fn group_row(&self, id: Uuid) -> Option<Arc<customer_group::Model>> {
        self.serving()?.group_rows.get(&id)
    }
    pub fn list_row(&self, id: Uuid) -> Option<Arc<price_list::Model>> {
        self.serving()?.list_rows.get(&id)
    }
    pub fn organization_row(&self, id: Uuid) -> Option<Arc<organization::Model>> {
        self.serving()?.organization_rows.get(&id)
    }
    pub fn customer_row(&self, id: Uuid) -> Option<Arc<customer::Model>> {
        self.serving()?.customer_rows.get(&id)
    }
    pub fn customer_page(&self, key: &str) -> Option<Arc<Page<Arc<customer::Model>>>> {
        self.serving()?.customer_pages.get(key)
    }

    /// Applies what a write committed here changed — evictions, and a new
    /// generation so that fills begun before it are dropped — then, with
    /// Redis, deletes its keys there (to spare the others a check; the
    /// change log, not this delete, keeps them from being served).
    pub async fn invalidate(&self, invalidations: &[Invalidation]) {
        for invalidation in invalidations {
            self.apply(invalidation);
        }
        if let Some(shared) = self.shared.get() {
            shared.delete(invalidations).await;
        }
    }

    /// Applies an invalidation without passing it on: one that came from
    /// another instance, or this instance's own.
    pub fn apply(&self, invalidation: &Invalidation) {
        let _fence = self.fence.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(l) = &self.layers {
            match invalidation {
                Invalidation::Customers(ids) => {
                    l.customers.evict(ids);
                    l.customer_rows.evict(ids);
                    // Any customer may be on any page (or join one).
                    l.customer_pages.entries.invalidate_all();
                }
                Invalidation::Organizations(ids) => {
                    l.organizations.evict(ids);
                    l.organization_rows.evict(ids);
                }
                Invalidation::Groups(ids) => {
                    l.groups.evict(ids);
                    l.group_rows.evict(ids);
                }
                Invalidation::Lists(ids) => {
                    l.lists.evict(ids);
                    l.list_rows.evict(ids);
                }
                Invalidation::Offers(keys) => {
                    for (product, code) in keys {
                        if let Ok(currency) = code.parse::<CurrencyCode>() {
                            l.offers.entries.invalidate(&(*product, currency));
                        }
                    }
                }
                Invalidation::Catalog => {
                    l.product_pages.entries.invalidate_all();
                    l.products.entries.invalidate_all();
                }
                Invalidation::Everything => {
                    l.customers.entries.invalidate_all();
                    l.organizations.entries.invalidate_all();
                    l.groups.entries.invalidate_all();
                    l.lists.entries.invalidate_all();
                    l.offers.entries.invalidate_all();
                    l.product_pages.entries.invalidate_all();
                    l.products.entries.invalidate_all();
                    l.group_rows.entries.invalidate_all();
                    l.list_rows.entries.invalidate_all();
                    l.organization_rows.entries.invalidate_all();
                    l.customer_rows.entries.invalidate_all();
                    l.customer_pages.entries.invalidate_all();
                }
            }
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Everything goes, here only (tests, and writes that bypass the services).
    pub fn clear(&self) {
        self.apply(&Invalidation::Everything);
    }

    /// Whether entries may be served and filled: only while this instance
    /// is within a lease of the change log (see [`followed`]).
    fn serving(&self) -> Option<&Layers> {
        let layers = self.layers.as_ref()?;
        self.followed.is_fresh().then_some(layers)
    }

    /// How far this instance has followed the change log.
    pub fn followed(&self) -> &Arc<Followed> {
        &self.followed
    }

    /// Whether the caches serve now (the cache is on and the change log
    /// was caught up with within the lease).
    pub fn is_serving(&self) -> bool {
        self.serving().is_some()
    }

    /// Attaches Redis.
    pub fn attach(&self, shared: Arc<shared::Shared>) {
        let _ = self.shared.set(shared);
    }

    /// Redis, when it is attached and may be read now (the cache serves,
    /// and Redis answered lately).
    pub fn shared(&self) -> Option<&shared::Shared> {
        self.serving()?;
        self.shared
            .get()
            .map(|shared| &**shared)
            .filter(|shared| shared.readable())
    }

    /// Redis commands that failed or timed out since start.
    pub fn redis_errors(&self) -> u64 {
        self.shared.get().map_or(0, |shared| shared.outage.errors())
    }

    /// Hits and misses per layer, by layer name: the in-process layers,
    /// then Redis's by kind of key.
    pub fn stats(&self) -> Vec<(&'static str, LayerStats)> {
        let Some(l) = &self.layers else { return vec![] };
        let mut stats = vec![
            ("customers", l.customers.stats()),
            ("organizations", l.organizations.stats()),
            ("groups", l.groups.stats()),
            ("lists", l.lists.stats()),
            ("offers", l.offers.stats()),
            ("product_pages", l.product_pages.stats()),
            ("products", l.products.stats()),
            ("group_rows", l.group_rows.stats()),
            ("list_rows", l.list_rows.stats()),
            ("organization_rows", l.organization_rows.stats()),
            ("customer_rows", l.customer_rows.stats()),
            ("customer_pages", l.customer_pages.stats()),
        ];
        if let Some(shared) = self.shared.get() {
            stats.extend(shared.stats());
        }
        stats
    }
}

impl Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("enabled", &self.is_enabled()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_holds_no_more_bytes_than_its_bound() {
        let options = CacheOptions {
            max_bytes: 1 << 20,
            ..CacheOptions::default()
        };
        let cache = Cache::new(&options);
        cache.followed().advance(std::time::Instant::now(), &[], true);
        for _ in 0..100_000 {
            let entry = CustomerEntry {
                organization_id: None,
                groups: vec![Uuid::new_v4(); 2],
            };
            cache.fill(cache.generation(), |fill| fill.customer(Uuid::new_v4(), entry));
        }
        let stats: std::collections::HashMap<_, _> = cache.stats().into_iter().collect();
        let customers = stats["customers"];
        // Customers have a tenth of the bytes: ~100 KiB, a few hundred entries.
        assert!(customers.bytes <= (1 << 20) / 10, "{customers:?}");
        assert!((100..1_000).contains(&customers.entries), "{customers:?}");
        assert_eq!(stats["offers"].entries, 0);
    }
}
