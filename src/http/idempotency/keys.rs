//! The `idempotency_key` table: claiming a key, keeping the answer, pruning.
//!
//! It lives beside the HTTP code rather than in `store`: the store holds the
//! reads pricing needs, through the cache; these rows are HTTP answers,
//! read and written only by [`super`], never cached.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use entity::idempotency_key::{ActiveModel, Column, Entity};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set, TryInsertResult};

/// How long a key and its answer are kept.
pub const KEEP: TimeDelta = TimeDelta::hours(24);

/// A request that has not finished this long after it started is taken to
/// be abandoned (its server stopped mid-request), and its key may run again.
/// Far above any mutation's run time: a request timeout stops waiting, not
/// the mutation, which still finishes its row.
pub const ABANDONED_AFTER: TimeDelta = TimeDelta::seconds(60);

/// Expired rows are deleted at most this often per server.
const PRUNE_EVERY: TimeDelta = TimeDelta::minutes(1);

/// What a key names, for the request that sends it.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// New (or forgotten, or abandoned): this request runs, and must
    /// [`finish`] or [`release`] the key.
    Claimed,
    /// The same request ran already: its answer.
    Answered { status: u16, body: String },
    /// The same request is running now.
    Running,
    /// The key was sent with another body.
    Reused,
}

/// Where a key is, in the database: the credential's scope and the key.
#[derive(Clone, Debug)]
pub struct KeyRef {
    pub scope: String,
    pub key: String,
}

impl KeyRef {
    fn filter<Q: QueryFilter>(&self, query: Q) -> Q {
        query
            .filter(Column::Scope.eq(self.scope.as_str()))
            .filter(Column::Key.eq(self.key.as_str()))
    }
}

/// Claims `key` for a request whose body hashes to `request_hash`, or says
/// why not. Safe between servers: the insert is the claim, and taking over
/// an expired or abandoned row is a conditional statement only one wins.
pub async fn claim(
    db: &impl ConnectionTrait,
    key: &KeyRef,
    request_hash: &str,
    now: DateTime<Utc>,
) -> Result<Found, DbErr> {
    // Each round either claims, answers, or removes the expired row that
    // stood in the way; three rounds lose only to a storm of racing retries.
    for _ in 0..3 {
        let row = ActiveModel {
            scope: Set(key.scope.clone()),
            key: Set(key.key.clone()),
            request_hash: Set(request_hash.to_owned()),
            status: Set(None),
            response: Set(None),
            created_at: Set(now),
            expires_at: Set(now + KEEP),
        };
        let inserted = Entity::insert(row)
            .on_conflict_do_nothing_on([Column::Scope, Column::Key])
            .exec_without_returning(db)
            .await?;
        if matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0) {
            return Ok(Found::Claimed);
        }
        let Some(found) = key.filter(Entity::find()).one(db).await? else {
            continue; // pruned in between
        };
        if found.expires_at <= now {
            key.filter(Entity::delete_many())
                .filter(Column::ExpiresAt.lte(now))
                .exec(db)
                .await?;
            continue;
        }
        if found.request_hash != request_hash {
            return Ok(Found::Reused);
        }
        if let (Some(status), Some(body)) = (found.status, found.response) {
            let status = u16::try_from(status).map_err(|_| DbErr::Custom(format!("stored status {status}")))?;
            return Ok(Found::Answered { status, body });
        }
        if found.created_at + ABANDONED_AFTER > now {
            return Ok(Found::Running);
        }
        let taken = key
            .filter(Entity::update_many())
            .col_expr(Column::CreatedAt, Expr::value(now))
            .filter(Column::Status.is_null())
            .filter(Column::CreatedAt.eq(found.created_at))
            .exec(db)
            .await?;
        return Ok(if taken.rows_affected == 1 {
            Found::Claimed
        } else {
            Found::Running
        });
    }
    Ok(Found::Running)
}

/// Keeps the answer of a claimed key.
pub async fn finish(db: &impl ConnectionTrait, key: &KeyRef, status: u16, body: String) -> Result<(), DbErr> {
    key.filter(Entity::update_many())
        .col_expr(Column::Status, Expr::value(i32::from(status)))
        .col_expr(Column::Response, Expr::value(body))
        .filter(Column::Status.is_null())
        .exec(db)
        .await
        .map(drop)
}

/// Forgets a claimed key whose request did not run, so a retry runs it.
pub async fn release(db: &impl ConnectionTrait, key: &KeyRef) -> Result<(), DbErr> {
    key.filter(Entity::delete_many())
        .filter(Column::Status.is_null())
        .exec(db)
        .await
        .map(drop)
}

/// When this server last pruned, so pruning costs one statement a minute at
/// most, in the path of a request that sends a key.
#[derive(Debug, Default)]
pub struct Pruning {
    /// The next prune's earliest time, in Unix seconds; 0: at once.
    next: AtomicI64,
}

impl Pruning {
    /// Deletes expired rows, unless this server did within the last minute.
    /// Returns how many went.
    pub async fn maybe_prune(&self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
        let next = self.next.load(Ordering::Relaxed);
        let then = (now + PRUNE_EVERY).timestamp();
        if now.timestamp() < next
            || self
                .next
                .compare_exchange(next, then, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(0);
        }
        prune(db, now).await
    }
}

/// Deletes every key that expired by `now`.
pub async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let deleted = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
