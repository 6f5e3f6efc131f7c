//! Every read that pricing needs — who a shopper is, what is on offer, the
//! products on a page — as read-through functions: the in-process cache,
//! then Redis (when configured), then SQL, then a fill of the layers that
//! missed. The SQL behind them lives here too, beside the read it serves.
//!
//! Services ask the store for values; they never steer cache generations,
//! fills or single flights themselves. Writes stay in the services, each in
//! a [`Writing`] that names what it changed ([`write`], [`changes`]).
//!
//! - [`shopper`]: a shopper's effective groups, links and product lines.
//! - [`offers`]: base tiers and every list's tiers of products in a currency.
//! - [`products`]: products by id, and cached pages of the catalog.
//! - [`profiles`]: customers' effective groups as rows, with exemptions.
//! - [`page`]: keyset pagination in SQL, for every connection.
//! - [`kinds`]: what kind of object each id names.
//! - [`health`]: the checks of the pricing health report, never cached.
//! - [`rows`]: groups, price lists and organizations by id, as the API shows them.
//! - [`relations`]: customers' and organizations' groups, groups' price
//!   lists: the API's relations, from the same entries as the shopper's.
//! - [`world`]: the whole pricing world at once, for impact previews.

pub mod changes;
pub mod flights;
pub mod health;
pub mod kinds;
mod offers;
pub mod page;
mod parts;
pub mod products;
pub mod profiles;
pub mod relations;
pub mod rows;
mod shopper;
pub mod windows;
pub mod world;
mod write;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use entity::product;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::cache::{Cache, Invalidation};
use crate::db::Db;
use crate::events::WebhookOptions;
use crate::money::CurrencyCode;
use crate::page::Page;
use crate::pricing::{Offer, Shopper};
use crate::usage::GroupCounters;
use flights::Flights;

pub use offers::offers;
pub use products::{product_page, products_by_id};
pub use shopper::{AsIf, imagined_shopper, shopper};
pub use write::{Rehearsal, Writing, rehearse, with_deadline};

/// The database and the caches in front of it.
#[derive(Clone)]
pub struct Store {
    pub db: Db,
    pub cache: Arc<Cache>,
    loads: Arc<Loads>,
    /// Prices resolved through each group, not yet written (see
    /// [`crate::usage`]): counted here, where every resolution passes.
    pub usage: Arc<GroupCounters>,
    /// This instance, as its rows in the change log name it.
    origin: Uuid,
    /// What each committed write changed, this instance's as it commits and
    /// the others' as the change log brings them: what subscriptions
    /// recompute on (the service's price subscriptions).
    committed: tokio::sync::broadcast::Sender<Committed>,
    /// How webhooks are registered and delivered (the SSRF guard's setting).
    pub webhooks: Arc<WebhookOptions>,
}

/// What one or more committed writes changed, as announced to listeners.
pub type Committed = Arc<[Invalidation]>;

/// Announcements kept for a listener that has not caught up; one that falls
/// further behind is told it lagged (and recomputes everything).
const COMMITTED_BACKLOG: usize = 256;

/// Cold reads in flight, by what they read (see [`flights`]).
#[derive(Default)]
struct Loads {
    shoppers: Flights<Option<Uuid>, Shopper>,
    offers: Flights<(Vec<Uuid>, CurrencyCode), HashMap<Uuid, Arc<Offer>>>,
    product_pages: Flights<String, Arc<Page<Arc<product::Model>>>>,
}

impl Store {
    pub fn new(db: Db, cache: Arc<Cache>) -> Self {
        Self {
            db,
            cache,
            loads: Arc::default(),
            usage: Arc::default(),
            origin: Uuid::now_v7(),
            committed: tokio::sync::broadcast::channel(COMMITTED_BACKLOG).0,
            webhooks: Arc::default(),
        }
    }

    /// The same store, with webhooks registered and delivered as `options` say.
    pub fn with_webhooks(self, options: WebhookOptions) -> Self {
        Self {
            webhooks: Arc::new(options),
            ..self
        }
    }

    /// Committed changes from now on, on any instance (ours as they commit,
    /// the others' as the change log is followed).
    pub fn committed(&self) -> tokio::sync::broadcast::Receiver<Committed> {
        self.committed.subscribe()
    }

    /// Tells the listeners what a commit changed.
    fn announce(&self, changes: &[Invalidation]) {
        announce(&self.committed, changes);
    }

    /// The pool, for writes and for reads that are not cached.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db.conn
    }
}

/// Sends what committed to the listeners; nobody listening is fine.
fn announce(to: &tokio::sync::broadcast::Sender<Committed>, changes: &[Invalidation]) {
    if !changes.is_empty() && to.receiver_count() > 0 {
        let _ = to.send(Arc::from(changes));
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}
