//! Price subscriptions (docs/api.md#subscriptions): one feed per distinct
//! question (shopper, products, currency, quantity), recomputed once and
//! fanned out to every subscriber of it.
//!
//! A feed is recomputed when something may have changed its answer:
//!
//! - a committed write on any instance: ours as it commits, the others' as
//!   the change log brings them (every 50 ms, see [`crate::store::changes`]);
//! - the next edge of a price list window (`startsAt` or `endsAt`), with no
//!   write at all: a timer armed on the earliest edge ahead, re-armed after
//!   every write that touched lists and after each edge.
//!
//! Every live feed is recomputed on each trigger (bursts coalesced into one
//! pass): simpler than mapping invalidations to questions, and bounded,
//! since feeds are bounded by connections per credential times
//! subscriptions per connection. A feed sends only the products whose
//! answer differs from the one it sent last; each subscriber also drops
//! what equals what it last saw, so no answer is ever sent twice in a row.
//!
//! Memory is bounded: a feed's channel holds [`FEED_BACKLOG`] answers; a
//! subscriber that falls further behind (it does not read) gets a
//! `SLOW_CONSUMER` error and its subscription ends.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use uuid::Uuid;

use crate::cache::Invalidation;
use crate::domain::Quantity;
use crate::error::{Problems, ServiceResult, UserError, UserErrorCode};
use crate::money::CurrencyCode;
use crate::pricing::{Resolved, Strategy};
use crate::service::parse_id;
use crate::service::resolution::{self, PriceItem, PriceQuestion, PricedItem};
use crate::store::{self, Store};

/// Most products one subscription watches.
pub const MAX_PRODUCTS: usize = 100;
/// Answers a feed keeps for its slowest subscriber.
pub const FEED_BACKLOG: usize = 256;
/// With nothing scheduled, feeds are still recomputed this often: a safety
/// net for a signal lost with a database outage.
const IDLE_RECOMPUTE: Duration = Duration::from_secs(60);
/// Past a window edge by this much before recomputing, so that the
/// instant priced is surely at or after it.
const EDGE_MARGIN: Duration = Duration::from_millis(5);
/// Feeds recomputed at once.
const CONCURRENT_RECOMPUTES: usize = 8;

/// One distinct question that subscriptions watch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Watch {
    /// `None`: an anonymous shopper.
    pub customer_id: Option<Uuid>,
    /// Sorted, without repeats.
    pub product_ids: Vec<Uuid>,
    pub currency: CurrencyCode,
    pub quantity: Quantity,
    /// Whether answers carry their explanation (the subscriber reads it).
    pub explain: bool,
}

impl Watch {
    /// Checks `priceChanges`' arguments, reporting every problem at once.
    /// Products are checked to exist by [`PriceFeeds::current`].
    pub fn parse(
        customer_id: Option<&str>,
        product_ids: &[String],
        currency: &str,
        quantity: i64,
        explain: bool,
        problems: &mut Problems,
    ) -> Option<Self> {
        let customer_id = customer_id.map(|raw| problems.check(parse_id(&["customerId"], "customer", raw)));
        let currency = problems.check(crate::service::prices::currency(currency));
        let quantity = problems.check(Quantity::parse("quantity", quantity));
        if product_ids.is_empty() {
            problems.push(UserError::new(
                &["productIds"],
                UserErrorCode::Invalid,
                "name at least one product",
            ));
        }
        if product_ids.len() > MAX_PRODUCTS {
            problems.push(UserError::new(
                &["productIds"],
                UserErrorCode::TooMany,
                format!(
                    "at most {MAX_PRODUCTS} products per subscription, got {}",
                    product_ids.len()
                ),
            ));
        }
        let mut ids = BTreeSet::new();
        for (index, raw) in product_ids.iter().enumerate().take(MAX_PRODUCTS) {
            if let Some(id) = problems.check(parse_id(&["productIds", &index.to_string()], "product", raw)) {
                ids.insert(id);
            }
        }
        let customer_id = match customer_id {
            Some(parsed) => Some(parsed?),
            None => None,
        };
        Some(Self {
            customer_id,
            product_ids: ids.into_iter().collect(),
            currency: currency?,
            quantity: quantity?,
            explain,
        })
    }

    /// The question as of `at`.
    fn question(&self, at: DateTime<Utc>) -> PriceQuestion {
        PriceQuestion {
            customer_id: self.customer_id,
            currency: self.currency,
            at,
            strategy: Strategy::Priority,
            explain: self.explain,
        }
    }

    fn items(&self) -> Vec<PriceItem> {
        self.product_ids
            .iter()
            .map(|&product_id| PriceItem {
                product_id,
                quantity: self.quantity,
            })
            .collect()
    }

    /// The answers now, one per product.
    async fn answer(&self, store: &Store) -> ServiceResult<Vec<PricedItem>> {
        resolution::recompute(store, &self.question(crate::service::now()), &self.items()).await
    }
}

/// One answer as a feed sends it.
pub type Answer = Arc<PricedItem>;

/// The feeds of one schema (one server); cheap to clone. Its task starts
/// with the first subscription and ends when the feeds are dropped.
#[derive(Clone)]
pub struct PriceFeeds(Arc<Feeds>);

struct Feeds {
    store: Store,
    feeds: Mutex<HashMap<Watch, Arc<Feed>>>,
    started: std::sync::Once,
}

struct Feed {
    sender: broadcast::Sender<Answer>,
    /// What was sent last, per product.
    sent: Mutex<HashMap<Uuid, Resolved>>,
}

impl PriceFeeds {
    pub fn new(store: Store) -> Self {
        Self(Arc::new(Feeds {
            store,
            feeds: Mutex::default(),
            started: std::sync::Once::new(),
        }))
    }

    /// Subscribes to the feed of `watch` (created if it is the first), from
    /// now on. Must run inside the runtime: it starts the feeds' task.
    pub fn subscribe(&self, watch: &Watch) -> broadcast::Receiver<Answer> {
        self.0.started.call_once(|| {
            tokio::spawn(run(Arc::downgrade(&self.0), self.0.store.committed()));
        });
        let mut feeds = self.0.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        let feed = feeds.entry(watch.clone()).or_insert_with(|| {
            Arc::new(Feed {
                sender: broadcast::channel(FEED_BACKLOG).0,
                sent: Mutex::default(),
            })
        });
        feed.sender.subscribe()
    }

    /// The answers now, for a new subscriber; an unknown product is a
    /// `NOT_FOUND` error at `productIds.N` (its index in `raw_ids`).
    pub async fn current(&self, watch: &Watch, raw_ids: &[String]) -> ServiceResult<Vec<PricedItem>> {
        let ids: BTreeSet<Uuid> = watch.product_ids.iter().copied().collect();
        let known = store::products_by_id(&self.0.store, &ids).await?;
        let mut problems = Problems::default();
        for (index, raw) in raw_ids.iter().enumerate() {
            if let Ok(id) = Uuid::parse_str(raw.trim())
                && !known.contains_key(&id)
            {
                problems.push(UserError::not_found(
                    &["productIds", &index.to_string()],
                    "product",
                    raw,
                ));
            }
        }
        problems.into_result()?;
        watch.answer(&self.0.store).await
    }

    /// Feeds known (live, or emptied since the last recompute).
    pub fn len(&self) -> usize {
        self.0.feeds.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Feeds {
    /// Recomputes every feed that still has subscribers, each once, and
    /// sends what changed; forgets the others.
    async fn recompute(&self) {
        let live: Vec<(Watch, Arc<Feed>)> = {
            let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
            feeds.retain(|_, feed| feed.sender.receiver_count() > 0);
            feeds.iter().map(|(w, f)| (w.clone(), f.clone())).collect()
        };
        futures_util::stream::iter(live)
            .for_each_concurrent(CONCURRENT_RECOMPUTES, |(watch, feed)| async move {
                match watch.answer(&self.store).await {
                    Ok(answers) => feed.send_changed(answers),
                    // A product deleted since, or the database away: the
                    // subscribers keep their last answers until it answers.
                    Err(error) => tracing::debug!(%error, "a price feed could not be recomputed"),
                }
            })
            .await;
    }
}

impl Feed {
    fn send_changed(&self, answers: Vec<PricedItem>) {
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        for answer in answers {
            if sent.get(&answer.product_id) == Some(&answer.resolved) {
                continue;
            }
            sent.insert(answer.product_id, answer.resolved.clone());
            let _ = self.sender.send(Arc::new(answer));
        }
    }
}

/// Whether a write may have moved a window edge.
fn touches_lists(changes: &[Invalidation]) -> bool {
    changes
        .iter()
        .any(|change| matches!(change, Invalidation::Lists(_) | Invalidation::Everything))
}

/// The feeds' task: waits for a commit or the next window edge, then
/// recomputes every feed once.
async fn run(feeds: Weak<Feeds>, mut committed: broadcast::Receiver<store::Committed>) {
    let mut next_edge: Option<DateTime<Utc>> = None;
    let mut rearm = true;
    loop {
        let Some(store) = feeds.upgrade().map(|feeds| feeds.store.clone()) else {
            return;
        };
        if rearm {
            match store::windows::next_window_edge(&store, crate::service::now()).await {
                Ok(edge) => {
                    next_edge = edge;
                    rearm = false;
                }
                Err(error) => tracing::debug!(%error, "the next window edge could not be read"),
            }
        }
        drop(store);
        let wait = next_edge
            .map(|edge| (edge - crate::service::now()).to_std().unwrap_or_default() + EDGE_MARGIN)
            .map_or(IDLE_RECOMPUTE, |wait| wait.min(IDLE_RECOMPUTE));
        tokio::select! {
            received = committed.recv() => match received {
                Ok(changes) => rearm |= touches_lists(&changes),
                Err(RecvError::Lagged(_)) => rearm = true,
                Err(RecvError::Closed) => return,
            },
            () = tokio::time::sleep(wait) => rearm = true,
        }
        // A burst of commits is one recompute.
        loop {
            match committed.try_recv() {
                Ok(changes) => rearm |= touches_lists(&changes),
                Err(TryRecvError::Lagged(_)) => rearm = true,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
        let Some(feeds) = feeds.upgrade() else { return };
        feeds.recompute().await;
    }
}
