//! Webhook endpoints (docs/api.md#webhooks): registration with the SSRF
//! guard ([`crate::events::target`]), changes, deletion, their deliveries,
//! and the manual retry of a failed delivery.
//!
//! A secret is optional at registration: without one, a random one is made
//! (`whsec_` and 64 hex digits) and answered once, in the creation's
//! payload; it is never shown again (a lost secret is replaced with
//! `updateWebhookEndpoint`).

use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{find_ref, new_id, now};
use crate::error::{Problems, ServiceResult, UserError, UserErrorCode};
use crate::events::outbox::{FAILED, PENDING};
use crate::events::{EventType, target};
use crate::page::{Page, PageRequest};
use crate::store::Store;
use crate::store::page::fetch_page;

/// Most endpoints: every event is fanned out to each subscribed one, in
/// the write's transaction.
pub const MAX_ENDPOINTS: u64 = 100;
/// A secret's length bounds.
pub const MIN_SECRET: usize = 16;
pub const MAX_SECRET: usize = 256;
/// Attempts listed per delivery, the most recent.
pub const MAX_ATTEMPTS_LISTED: u64 = 50;

#[derive(Clone, Debug, Default)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<EventType>,
    pub secret: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct EndpointChanges {
    pub id: String,
    pub url: Option<String>,
    pub events: Option<Vec<EventType>>,
    pub secret: Option<String>,
}

/// A new endpoint, and its secret when it was made here (shown once).
pub struct Created {
    pub endpoint: webhook_endpoint::Model,
    pub generated_secret: Option<String>,
}

async fn checked_url(store: &Store, raw: &str) -> Result<String, UserError> {
    let url = target::parse(raw).map_err(|e| UserError::new(&["url"], UserErrorCode::Invalid, format!("url {e}")))?;
    target::check(&url, store.webhooks.allow_private)
        .await
        .map_err(|e| UserError::new(&["url"], UserErrorCode::Invalid, format!("url {e}")))?;
    Ok(url.to_string())
}

fn checked_events(events: &[EventType]) -> Result<String, UserError> {
    if events.is_empty() {
        return Err(UserError::new(
            &["events"],
            UserErrorCode::Invalid,
            "give at least one event type",
        ));
    }
    let mut types: Vec<EventType> = events.to_vec();
    types.sort();
    types.dedup();
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    Ok(format!(",{},", names.join(",")))
}

fn checked_secret(raw: &str) -> Result<String, UserError> {
    let length = raw.chars().count();
    let problem = if length < MIN_SECRET {
        Some(format!("the secret must be at least {MIN_SECRET} characters long"))
    } else if length > MAX_SECRET {
        Some(format!("the secret must be at most {MAX_SECRET} characters long"))
    } else if raw.chars().any(char::is_control) {
        Some("the secret must not contain control characters".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(UserError::new(&["secret"], UserErrorCode::Invalid, message)),
        None => Ok(raw.to_owned()),
    }
}

fn generated_secret() -> String {
    format!("whsec_{}", hex::encode(rand::random::<[u8; 32]>()))
}

/// The subscribed types of a stored endpoint, in the enum's order.
pub fn event_types(endpoint: &webhook_endpoint::Model) -> Vec<EventType> {
    endpoint.events.split(',').filter_map(EventType::parse).collect()
}

pub async fn create(store: &Store, input: NewEndpoint) -> ServiceResult<Created> {
    let mut problems = Problems::default();
    let url = problems.check(checked_url(store, &input.url).await);
    let events = problems.check(checked_events(&input.events));
    let secret = match input.secret {
        Some(raw) => problems.check(checked_secret(&raw)).map(|s| (s, false)),
        None => Some((generated_secret(), true)),
    };
    let count = webhook_endpoint::Entity::find().count(store.conn()).await?;
    if count >= MAX_ENDPOINTS {
        problems.push(UserError::new(
            &[],
            UserErrorCode::TooMany,
            format!("at most {MAX_ENDPOINTS} webhook endpoints; delete one first"),
        ));
    }
    let (Some(url), Some(events), Some((secret, generated))) = (url, events, secret) else {
        return Err(problems.refused());
    };
    problems.into_result()?;
    let now = now();
    let endpoint = webhook_endpoint::Model {
        id: new_id(),
        url,
        events,
        secret: secret.clone(),
        created_at: now,
        updated_at: now,
    };
    let txn = store.begin().await?;
    webhook_endpoint::Entity::insert(endpoint.clone().into_active_model())
        .exec_without_returning(&*txn)
        .await?;
    txn.commit().await?;
    Ok(Created {
        endpoint,
        generated_secret: generated.then_some(secret),
    })
}

pub async fn update(store: &Store, input: EndpointChanges) -> ServiceResult<webhook_endpoint::Model> {
    let current = find_ref::<webhook_endpoint::Entity>(store.conn(), &["id"], "webhook endpoint", &input.id).await?;
    let mut problems = Problems::default();
    let mut next = current.clone();
    if let Some(raw) = &input.url
        && let Some(url) = problems.check(checked_url(store, raw).await)
    {
        next.url = url;
    }
    if let Some(events) = &input.events
        && let Some(events) = problems.check(checked_events(events))
    {
        next.events = events;
    }
    if let Some(raw) = &input.secret
        && let Some(secret) = problems.check(checked_secret(raw))
    {
        next.secret = secret;
    }
    problems.into_result()?;
    next.updated_at = now();
    let txn = store.begin().await?;
    next.clone().into_active_model().reset_all().update(&*txn).await?;
    txn.commit().await?;
    Ok(next)
}

/// Deletes an endpoint with its deliveries and their attempts.
pub async fn delete(store: &Store, raw_id: &str) -> ServiceResult<Uuid> {
    let endpoint = find_ref::<webhook_endpoint::Entity>(store.conn(), &["id"], "webhook endpoint", raw_id).await?;
    let txn = store.begin().await?;
    let deliveries: Vec<Uuid> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::Id)
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .into_tuple()
        .all(&*txn)
        .await?;
    for chunk in deliveries.chunks(500) {
        webhook_attempt::Entity::delete_many()
            .filter(webhook_attempt::Column::DeliveryId.is_in(chunk.iter().copied()))
            .exec(&*txn)
            .await?;
    }
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .exec(&*txn)
        .await?;
    webhook_endpoint::Entity::delete_by_id(endpoint.id).exec(&*txn).await?;
    txn.commit().await?;
    Ok(endpoint.id)
}

/// Sends a `FAILED` delivery again: it is `PENDING` at once, with a new
/// retry window.
pub async fn retry(store: &Store, raw_id: &str) -> ServiceResult<webhook_delivery::Model> {
    let current = find_ref::<webhook_delivery::Entity>(store.conn(), &["id"], "webhook delivery", raw_id).await?;
    if current.status != FAILED {
        return Err(UserError::new(
            &["id"],
            UserErrorCode::Invalid,
            format!("only a FAILED delivery can be retried; this one is {}", current.status),
        )
        .into());
    }
    let now = now();
    let next = webhook_delivery::Model {
        status: PENDING.to_owned(),
        next_attempt_at: now,
        retry_from: now,
        claimed_until: None,
        claim: None,
        updated_at: now,
        ..current
    };
    let txn = store.begin().await?;
    let updated = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, PENDING.into())
        .col_expr(webhook_delivery::Column::NextAttemptAt, now.into())
        .col_expr(webhook_delivery::Column::RetryFrom, now.into())
        .col_expr(
            webhook_delivery::Column::ClaimedUntil,
            Option::<chrono::DateTime<chrono::Utc>>::None.into(),
        )
        .col_expr(webhook_delivery::Column::Claim, Option::<Uuid>::None.into())
        .col_expr(webhook_delivery::Column::UpdatedAt, now.into())
        .filter(webhook_delivery::Column::Id.eq(next.id))
        .filter(webhook_delivery::Column::Status.eq(FAILED))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    if updated.rows_affected == 0 {
        return Err(UserError::new(
            &["id"],
            UserErrorCode::Invalid,
            "the delivery changed meanwhile; read it again",
        )
        .into());
    }
    Ok(next)
}

pub async fn page(db: &DatabaseConnection, request: PageRequest) -> ServiceResult<Page<webhook_endpoint::Model>> {
    Ok(fetch_page(
        db,
        webhook_endpoint::Entity::find(),
        webhook_endpoint::Column::Id,
        request,
    )
    .await?)
}

pub async fn count(db: &DatabaseConnection) -> ServiceResult<u64> {
    Ok(webhook_endpoint::Entity::find().count(db).await?)
}

/// Each endpoint's page of deliveries, oldest first: one statement for
/// every endpoint listed.
pub async fn deliveries_by_endpoint(
    db: &DatabaseConnection,
    endpoint_ids: &[Uuid],
    request: PageRequest,
) -> ServiceResult<std::collections::HashMap<Uuid, Page<webhook_delivery::Model>>> {
    Ok(crate::store::page::fetch_pages(
        db,
        webhook_delivery::Entity::find(),
        (webhook_delivery::Entity, webhook_delivery::Column::EndpointId),
        endpoint_ids,
        webhook_delivery::Column::Id,
        request,
    )
    .await?)
}

/// How many deliveries each endpoint has: one statement.
pub async fn count_deliveries(
    db: &DatabaseConnection,
    endpoint_ids: &[Uuid],
) -> ServiceResult<std::collections::HashMap<Uuid, u64>> {
    Ok(crate::store::page::count_by_parent(
        db,
        webhook_delivery::Entity::find(),
        (webhook_delivery::Entity, webhook_delivery::Column::EndpointId),
        endpoint_ids,
    )
    .await?)
}

/// A delivery's most recent attempts, oldest first.
pub async fn attempts(
    db: &DatabaseConnection,
    delivery_ids: &[Uuid],
) -> ServiceResult<std::collections::HashMap<Uuid, Vec<webhook_attempt::Model>>> {
    // One statement for a page of deliveries; a delivery's attempts are
    // few (the backoff doubles), and only the most recent are kept.
    let rows = webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(delivery_ids.iter().copied()))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(db)
        .await?;
    let mut by_delivery: std::collections::HashMap<Uuid, Vec<webhook_attempt::Model>> =
        delivery_ids.iter().map(|id| (*id, Vec::new())).collect();
    for row in rows {
        by_delivery.entry(row.delivery_id).or_default().push(row);
    }
    for attempts in by_delivery.values_mut() {
        let extra = attempts.len().saturating_sub(MAX_ATTEMPTS_LISTED as usize);
        attempts.drain(..extra);
    }
    Ok(by_delivery)
}
