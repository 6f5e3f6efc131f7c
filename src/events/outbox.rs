//! The outbox: events written in the same transaction as the change they
//! describe, with one `PENDING` delivery per subscribed endpoint; and the
//! statements the delivery worker claims and records with.
//!
//! A claim is one `UPDATE … WHERE id IN (SELECT … LIMIT n)`: on PostgreSQL
//! the inner select takes its rows `FOR UPDATE SKIP LOCKED`, so instances
//! claiming at once take different rows; SQLite has one writer at a time,
//! which gives the same. The claim holds for a lease; a claim whose lease
//! ran out (its instance died mid-delivery) is claimed again, so an event
//! is delivered at least once.

use chrono::{DateTime, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint, webhook_event};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

use super::Event;

/// Delivery statuses, as stored and as the API shows them.
pub const PENDING: &str = "PENDING";
pub const DELIVERED: &str = "DELIVERED";
pub const FAILED: &str = "FAILED";

/// Rows per insert statement.
const ROWS_PER_INSERT: usize = 500;

/// Writes `events` and their deliveries inside the write's transaction.
pub async fn append(txn: &impl ConnectionTrait, events: &[Event]) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let endpoints: Vec<(Uuid, String)> = webhook_endpoint::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|e| (e.id, e.events))
        .collect();
    let now = Utc::now();
    let mut rows = Vec::with_capacity(events.len());
    let mut deliveries = Vec::new();
    for event in events {
        let id = Uuid::now_v7();
        let event_type = event.event_type.as_str();
        rows.push(webhook_event::ActiveModel {
            id: Set(id),
            event_type: Set(event_type.to_owned()),
            data: Set(event.data.to_string()),
            created_at: Set(now),
        });
        let tag = format!(",{event_type},");
        for (endpoint_id, _) in endpoints.iter().filter(|(_, types)| types.contains(&tag)) {
            deliveries.push(webhook_delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                event_id: Set(id),
                endpoint_id: Set(*endpoint_id),
                event_type: Set(event_type.to_owned()),
                status: Set(PENDING.to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                retry_from: Set(now),
                claimed_until: Set(None),
                claim: Set(None),
                last_response_status: Set(None),
                last_error: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                delivered_at: Set(None),
            });
        }
    }
    while !rows.is_empty() {
        let chunk: Vec<_> = rows.drain(..rows.len().min(ROWS_PER_INSERT)).collect();
        webhook_event::Entity::insert_many(chunk).exec(txn).await?;
    }
    while !deliveries.is_empty() {
        let chunk: Vec<_> = deliveries.drain(..deliveries.len().min(ROWS_PER_INSERT)).collect();
        webhook_delivery::Entity::insert_many(chunk).exec(txn).await?;
    }
    Ok(())
}

/// A claimed delivery, with what it takes to send it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub delivery: webhook_delivery::Model,
    pub event: webhook_event::Model,
    pub endpoint: webhook_endpoint::Model,
}

fn col(name: &'static str) -> Alias {
    Alias::new(name)
}

/// Claims up to `limit` due deliveries for `lease`, under a new claim token.
pub async fn claim(db: &DatabaseConnection, limit: u64, lease: std::time::Duration) -> Result<Vec<Claimed>, DbErr> {
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let token = Uuid::now_v7();
    let mut due = Query::select();
    due.column(col("id"))
        .from(col("webhook_delivery"))
        .and_where(Expr::col(col("status")).eq(PENDING))
        .and_where(Expr::col(col("next_attempt_at")).lte(now))
        .and_where(
            Expr::col(col("claimed_until"))
                .is_null()
                .or(Expr::col(col("claimed_until")).lt(now)),
        )
        .order_by(col("next_attempt_at"), Order::Asc)
        .limit(limit);
    if db.get_database_backend() == DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let update = Query::update()
        .table(col("webhook_delivery"))
        .value(col("claimed_until"), until)
        .value(col("claim"), token)
        .and_where(Expr::col(col("id")).in_subquery(due.to_owned()))
        .to_owned();
    let claimed = db.execute(&update).await?;
    if claimed.rows_affected() == 0 {
        return Ok(Vec::new());
    }
    let deliveries = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Claim.eq(token))
        .all(db)
        .await?;
    let event_ids: Vec<Uuid> = deliveries.iter().map(|d| d.event_id).collect();
    let endpoint_ids: Vec<Uuid> = deliveries.iter().map(|d| d.endpoint_id).collect();
    let events = webhook_event::Entity::find()
        .filter(webhook_event::Column::Id.is_in(event_ids))
        .all(db)
        .await?;
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Id.is_in(endpoint_ids))
        .all(db)
        .await?;
    Ok(deliveries
        .into_iter()
        .filter_map(|delivery| {
            let event = events.iter().find(|e| e.id == delivery.event_id)?.clone();
            let endpoint = endpoints.iter().find(|e| e.id == delivery.endpoint_id)?.clone();
            Some(Claimed {
                delivery,
                event,
                endpoint,
            })
        })
        .collect())
}

/// What one attempt came to.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub response_status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i32,
    /// The delivery's status after it, and when to try next.
    pub status: &'static str,
    pub next_attempt_at: DateTime<Utc>,
}

/// Records an attempt, and the delivery's new state, if the claim is still
/// this worker's (a claim taken over after its lease ran out is the new
/// holder's to record; the attempt is recorded either way).
pub async fn record(
    db: &DatabaseConnection,
    claimed: &webhook_delivery::Model,
    attempt: &Attempt,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    webhook_attempt::Entity::insert(webhook_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(claimed.id),
        attempted_at: Set(attempt.at),
        response_status: Set(attempt.response_status.map(i32::from)),
        error: Set(attempt.error.clone()),
        duration_ms: Set(attempt.duration_ms),
    })
    .exec(&txn)
    .await?;
    let delivered = (attempt.status == DELIVERED).then_some(attempt.at);
    let update = Query::update()
        .table(col("webhook_delivery"))
        .value(col("status"), attempt.status)
        .value(col("attempts"), Expr::col(col("attempts")).add(1))
        .value(col("next_attempt_at"), attempt.next_attempt_at)
        .value(col("claimed_until"), Option::<DateTime<Utc>>::None)
        .value(col("claim"), Option::<Uuid>::None)
        .value(col("last_response_status"), attempt.response_status.map(i32::from))
        .value(col("last_error"), attempt.error.clone())
        .value(col("updated_at"), attempt.at)
        .value(col("delivered_at"), delivered)
        .and_where(Expr::col(col("id")).eq(claimed.id))
        .and_where(Expr::col(col("claim")).eq(claimed.claim))
        .to_owned();
    txn.execute(&update).await?;
    txn.commit().await
}

/// Deletes events older than `before` whose deliveries are all settled
/// (their deliveries and attempts go with them), and events that found no
/// endpoint once they are an hour old. At most `limit` at a time.
pub async fn prune(db: &DatabaseConnection, before: DateTime<Utc>, limit: u64) -> Result<u64, DbErr> {
    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    let pending = Query::select()
        .column(col("event_id"))
        .from(col("webhook_delivery"))
        .and_where(Expr::col(col("status")).eq(PENDING))
        .to_owned();
    let with_deliveries = Query::select()
        .column(col("event_id"))
        .from(col("webhook_delivery"))
        .to_owned();
    let old = Query::select()
        .column(col("id"))
        .from(col("webhook_event"))
        .cond_where(
            Expr::col(col("created_at"))
                .lt(before)
                .and(Expr::col(col("id")).not_in_subquery(pending))
                .or(Expr::col(col("created_at"))
                    .lt(hour_ago)
                    .and(Expr::col(col("id")).not_in_subquery(with_deliveries))),
        )
        .limit(limit)
        .to_owned();
    // Deliveries and attempts first: SQLite enforces no cascade unless told.
    let ids: Vec<Uuid> = db
        .query_all(&old)
        .await?
        .into_iter()
        .filter_map(|row| row.try_get::<Uuid>("", "id").ok())
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let txn = db.begin().await?;
    let deliveries = Query::select()
        .column(col("id"))
        .from(col("webhook_delivery"))
        .and_where(Expr::col(col("event_id")).is_in(ids.clone()))
        .to_owned();
    let attempts = Query::delete()
        .from_table(col("webhook_attempt"))
        .and_where(Expr::col(col("delivery_id")).in_subquery(deliveries))
        .to_owned();
    txn.execute(&attempts).await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::EventId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    let deleted = webhook_event::Entity::delete_many()
        .filter(webhook_event::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(deleted.rows_affected)
}
