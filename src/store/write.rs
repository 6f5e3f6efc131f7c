//! Every write that changes what pricing reads goes through a [`Writing`]:
//! a transaction that knows what it changed, logs that in the change log
//! in the same transaction ([`super::changes`]), and applies it to this
//! instance's caches once committed. The change events it was told of go
//! to the webhook outbox in the same transaction ([`crate::events::outbox`]).
//!
//! It also decides a mutation's outcome before its answer: the request's
//! deadline ([`with_deadline`]) covers waiting for a connection and every
//! statement, and a transaction whose deadline has passed is rolled back
//! instead of committed. A request answered `TIMEOUT` has therefore not
//! written, and never will.

use std::cell::RefCell;
use std::future::Future;
use std::ops::Deref;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryTrait, TransactionTrait, UpdateMany};
use tokio::time::Instant;
use uuid::Uuid;

use super::world::World;
use super::{Store, changes};
use crate::cache::Invalidation;
use crate::error::{ServiceError, ServiceResult};
use crate::events::Event;
use crate::money::CurrencyCode;

tokio::task_local! {
    /// When the request being served must have its answer.
    static DEADLINE: Instant;
    /// Set while a write is only rehearsed ([`rehearse`]): its commit
    /// reads the world it would leave, then rolls back.
    static REHEARSAL: RefCell<Option<Rehearsal>>;
}

/// What a rehearsed write would have done: what it changed, and the world
/// as its transaction saw it just before it was rolled back (`None` when it
/// changed nothing that pricing reads).
#[derive(Debug)]
pub struct Rehearsal {
    pub changes: Vec<Invalidation>,
    pub after: Option<World>,
}

/// Runs `work`, a service call, with every write it begins rolled back
/// instead of committed (docs/api.md#impact-preview): nothing is written,
/// logged or evicted. Returns what the (single) write would have done; a
/// call that failed or never committed returns `None`.
pub async fn rehearse<F: Future>(work: F) -> (F::Output, Option<Rehearsal>) {
    REHEARSAL
        .scope(RefCell::new(None), async move {
            let output = work.await;
            (output, REHEARSAL.with(|slot| slot.borrow_mut().take()))
        })
        .await
}

/// Runs `work` with a deadline its writes keep to.
pub async fn with_deadline<F: Future>(deadline: Instant, work: F) -> F::Output {
    DEADLINE.scope(deadline, work).await
}

/// The time left before the request's deadline; `None` without one.
fn time_left() -> Option<Duration> {
    DEADLINE
        .try_with(|deadline| deadline.saturating_duration_since(Instant::now()))
        .ok()
}

fn timed_out() -> ServiceError {
    ServiceError::Timeout("the request's deadline passed before its write could commit; nothing was written".into())
}

/// A write in progress: a transaction and what it changed.
pub struct Writing<'a> {
    store: &'a Store,
    txn: DatabaseTransaction,
    changes: Vec<Invalidation>,
    /// Change events for webhooks, written to the outbox at the commit.
    events: Vec<Event>,
}

impl Store {
    /// Begins a write, within the request's deadline (a connection that
    /// does not come in time is a `TIMEOUT`, and nothing was written).
    pub async fn begin(&self) -> ServiceResult<Writing<'_>> {
        let txn = match time_left() {
            None => self.db.conn.begin().await?,
            Some(left) => {
                let txn = tokio::time::timeout(left, self.db.conn.begin())
                    .await
                    .map_err(|_| timed_out())??;
                // On PostgreSQL the server itself stops a statement at the deadline.
                if txn.get_database_backend() == DbBackend::Postgres {
                    let millis = time_left().map_or(1, |left| left.as_millis().max(1));
                    txn.execute_unprepared(&format!("SET LOCAL statement_timeout = {millis}"))
                        .await?;
                }
                txn
            }
        };
        Ok(Writing {
            store: self,
            txn,
            changes: Vec::new(),
            events: Vec::new(),
        })
    }
}

impl Deref for Writing<'_> {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl Writing<'_> {
    /// Records that the write changed something cached.
    pub fn changed(&mut self, change: Invalidation) {
        self.changes.push(change);
    }

    /// A customer's row (its organization among others) or memberships
    /// changed, or it was deleted.
    pub fn customers_changed(&mut self, ids: &[Uuid]) {
        self.changed(Invalidation::Customers(ids.to_vec()));
    }
    /// An organization's groups or row (name, parent) changed, or it was deleted.
    pub fn organizations_changed(&mut self, ids: &[Uuid]) {
        self.changed(Invalidation::Organizations(ids.to_vec()));
    }
    /// A group's activity, links or product lines changed, or it was deleted.
    pub fn groups_changed(&mut self, ids: &[Uuid]) {
        self.changed(Invalidation::Groups(ids.to_vec()));
    }
    /// A list's type, status or window changed, or it was deleted.
    pub fn lists_changed(&mut self, ids: &[Uuid]) {
        self.changed(Invalidation::Lists(ids.to_vec()));
    }
    /// Base or list prices of these products in these currencies changed.
    pub fn offers_changed(&mut self, keys: &[(Uuid, CurrencyCode)]) {
        self.changed(Invalidation::Offers(
            keys.iter()
                .map(|(id, currency)| (*id, currency.code().to_owned()))
                .collect(),
        ));
    }
    /// A product was created, changed or deleted: every cached page and product goes.
    pub fn catalog_changed(&mut self) {
        self.changed(Invalidation::Catalog);
    }

    /// Runs `update` and returns the `id` of every row it changed (one
    /// statement, `RETURNING`): for a write that changes many cached rows
    /// and must name them, with no row changed between a read of the ids
    /// and the update left out.
    pub async fn update_returning_ids<E: EntityTrait>(
        &self,
        update: UpdateMany<E>,
        id: E::Column,
    ) -> Result<Vec<Uuid>, sea_orm::DbErr> {
        let mut statement = update.into_query();
        statement.returning_col(id);
        self.txn
            .query_all(&statement)
            .await?
            .into_iter()
            .map(|row| row.try_get_by_index::<Uuid>(0))
            .collect()
    }

    /// Declares change events (docs/api.md#webhooks): they go to the outbox
    /// in this transaction, so they exist exactly when the change does.
    pub fn emit(&mut self, events: impl IntoIterator<Item = Event>) {
        self.events.extend(events);
    }

    /// Logs what changed, commits unless the deadline has passed (then
    /// rolls back: `TIMEOUT`, nothing written), and applies the changes to
    /// this instance's caches before returning, so before the write is
    /// acknowledged.
    pub async fn commit(self) -> ServiceResult<()> {
        let Writing {
            store,
            txn,
            changes,
            events,
        } = self;
        if REHEARSAL.try_with(|_| ()).is_ok() {
            let after = if changes.is_empty() {
                None
            } else {
                Some(super::world::read(&txn).await?)
            };
            txn.rollback().await?;
            REHEARSAL.with(|slot| *slot.borrow_mut() = Some(Rehearsal { changes, after }));
            return Ok(());
        }
        let logged = if changes.is_empty() {
            Vec::new()
        } else {
            changes::append(&txn, store.origin, &changes).await?.1
        };
        if !events.is_empty() {
            Box::pin(crate::events::outbox::append(&txn, &events)).await?;
        }
        if time_left().is_some_and(|left| left.is_zero()) {
            txn.rollback().await?;
            return Err(timed_out());
        }
        // From here the outcome is the database's: the commit is not cut short.
        txn.commit().await?;
        store.cache.invalidate(&logged).await;
        store.announce(&logged);
        Ok(())
    }
}
