//! Webhooks (docs/api.md#webhooks): endpoints, their deliveries and the
//! manual retry. Admin only, as every mutation and every query outside the
//! catalog and prices (see [`super::access`]).

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};

use super::connection::{CountedConnection, TotalCount, connection, page_request};
use super::errors::{UserError, mutation_result, payload, query_error};
use super::loaders::loaders;
use super::store;
use super::types::load_failed;
use crate::events::EventType;
use crate::page::Page;
use crate::service::webhooks;

/// What happened, as a webhook's `type` says it (docs/api.md#event-types).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::events::EventType")]
pub enum WebhookEventType {
    /// Prices of a price list changed: `data` has `priceListId`,
    /// `productIds` (at most 1,000 per event) and `currencies`.
    PricesChanged,
    /// Base prices changed: `data` has `productIds` (at most 1,000 per
    /// event) and `currencies`.
    BasePricesChanged,
    /// A price list was created, changed or deleted: `priceListId` and `action`.
    PriceListChanged,
    /// A price list's window opened (its `startsAt` passed): `priceListId` and `at`.
    PriceListStarted,
    /// A price list's window closed (its `endsAt` passed): `priceListId` and `at`.
    PriceListEnded,
    /// A customer group was created, changed (activity, price lists,
    /// product lines) or deleted: `groupId` and `action`.
    GroupChanged,
    /// Customers joined or left a group: `groupId` and `customerIds` (at
    /// most 1,000 per event).
    MembershipChanged,
    /// An organization's groups were replaced (or it was deleted):
    /// `organizationId` and `groupIds`.
    OrganizationGroupsChanged,
}

/// Where a delivery stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Not delivered yet: the next attempt is at `nextAttemptAt`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt within the retry window failed; `retryWebhookDelivery` sends it again.
    Failed,
}

impl WebhookDeliveryStatus {
    fn from_stored(raw: &str) -> Self {
        match raw {
            crate::events::outbox::DELIVERED => Self::Delivered,
            crate::events::outbox::FAILED => Self::Failed,
            _ => Self::Pending,
        }
    }
}

pub struct WebhookEndpoint(pub webhook_endpoint::Model);

/// A receiver of webhook events (docs/api.md#webhooks). Its secret is never shown.
#[Object]
impl WebhookEndpoint {
    /// The endpoint's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where events are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The event types sent here.
    async fn events(&self) -> Vec<WebhookEventType> {
        webhooks::event_types(&self.0).into_iter().map(Into::into).collect()
    }

    /// When the endpoint was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the endpoint was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Events sent (or being sent) here, oldest first, with their attempts.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page forwards: this many deliveries from the start, or after `after`; 1 to 100. \
                    Give exactly one of `first` and `last`."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only deliveries after that one.")] after: Option<String>,
        #[graphql(
            desc = "Page backwards: this many deliveries from the end, or before `before`; 1 to 100. \
                    Give exactly one of `first` and `last`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only deliveries before that one.")] before: Option<String>,
    ) -> Result<CountedConnection<WebhookDelivery>> {
        let request = page_request(first, after, last, before)?;
        let endpoint_id = self.0.id;
        let loaders = loaders(ctx);
        let page = loaders
            .webhook_deliveries
            .load_one((endpoint_id, request))
            .await
            .map_err(load_failed)?
            .unwrap_or_else(Page::empty);
        let counts = loaders.webhook_delivery_counts.clone();
        let total = TotalCount::new(move || {
            let counts = counts.clone();
            Box::pin(async move {
                Ok(counts
                    .load_one(endpoint_id)
                    .await
                    .map_err(load_failed)?
                    .unwrap_or_default())
            })
        });
        Ok(connection(page, |d| d.id, WebhookDelivery, total))
    }
}

pub struct WebhookDelivery(pub webhook_delivery::Model);

/// One event for one endpoint, and how its delivery went.
#[Object]
impl WebhookDelivery {
    /// The delivery's id (for `retryWebhookDelivery`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The event's id: the body's `id`, the same on every attempt.
    async fn event_id(&self) -> ID {
        ID(self.0.event_id.to_string())
    }

    /// The event's type.
    async fn event_type(&self) -> Option<WebhookEventType> {
        EventType::parse(&self.0.event_type).map(Into::into)
    }

    /// Where the delivery stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        WebhookDeliveryStatus::from_stored(&self.0.status)
    }

    /// Attempts made so far.
    async fn attempt_count(&self) -> i32 {
        self.0.attempts
    }

    /// The HTTP status the receiver answered last; null when it did not answer.
    async fn last_response_status(&self) -> Option<i32> {
        self.0.last_response_status
    }

    /// Why the last attempt failed; null when it succeeded or none was made.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    /// When the event happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the delivery last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When the next attempt is due; null unless `PENDING`.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == crate::events::outbox::PENDING).then_some(self.0.next_attempt_at)
    }

    /// When the receiver accepted it; null until then.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }

    /// The attempts, oldest first (the 50 most recent).
    async fn attempts(&self, ctx: &Context<'_>) -> Result<Vec<WebhookAttempt>> {
        let attempts = loaders(ctx)
            .webhook_attempts
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?;
        Ok(attempts
            .unwrap_or_default()
            .into_iter()
            .map(WebhookAttempt::from)
            .collect())
    }
}

/// One attempt to deliver an event.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// The HTTP status the receiver answered; null when it did not answer.
    pub response_status: Option<i32>,
    /// Why it failed; null when it succeeded.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i32,
}

impl From<webhook_attempt::Model> for WebhookAttempt {
    fn from(attempt: webhook_attempt::Model) -> Self {
        Self {
            attempted_at: attempt.attempted_at,
            response_status: attempt.response_status,
            error: attempt.error,
            duration_ms: attempt.duration_ms,
        }
    }
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Webhook endpoints, in registration order. Admin only.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page forwards: this many endpoints from the start, or after `after`; 1 to 100. \
                    Give exactly one of `first` and `last`."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only endpoints after that one.")] after: Option<String>,
        #[graphql(
            desc = "Page backwards: this many endpoints from the end, or before `before`; 1 to 100. \
                    Give exactly one of `first` and `last`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only endpoints before that one.")] before: Option<String>,
    ) -> Result<Option<CountedConnection<WebhookEndpoint>>> {
        let request = page_request(first, after, last, before)?;
        let conn = store(ctx).conn();
        let page = webhooks::page(conn, request).await.map_err(query_error)?;
        let total = TotalCount::counting(store(ctx), (), |store, ()| async move {
            webhooks::count(store.conn()).await
        });
        Ok(Some(connection(page, |e| e.id, WebhookEndpoint, total)))
    }
}

/// A new webhook endpoint.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// Where to POST events: an absolute http or https URL, at most 2,048
    /// characters, without credentials, on a public address (private and
    /// loopback addresses are refused unless the operator allows them).
    pub url: String,
    /// The event types to send; at least one.
    pub events: Vec<WebhookEventType>,
    /// The key of the `Pricegraph-Signature` HMAC: 16 to 256 characters.
    /// When omitted, one is made and answered once, in `secret`.
    pub secret: Option<String>,
}

/// Changes to an endpoint: what is left out stays as it is.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint to change.
    pub id: ID,
    /// A new URL, checked as at creation.
    pub url: Option<String>,
    /// The new event types; at least one.
    pub events: Option<Vec<WebhookEventType>>,
    /// A new secret (16 to 256 characters): signatures use it from now on.
    pub secret: Option<String>,
}

/// An endpoint to delete, with its deliveries.
#[derive(InputObject)]
pub struct DeleteWebhookEndpointInput {
    /// The endpoint to delete.
    pub id: ID,
}

/// A failed delivery to send again.
#[derive(InputObject)]
pub struct RetryWebhookDeliveryInput {
    /// The delivery (`WebhookDelivery.id`); it must be `FAILED`.
    pub id: ID,
}

/// The result of `createWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct CreateWebhookEndpointPayload {
    /// The new endpoint; null when `userErrors` is not empty.
    pub webhook_endpoint: Option<WebhookEndpoint>,
    /// The secret made for the endpoint when the input gave none: shown
    /// here once, never again. Null when you gave one.
    pub secret: Option<String>,
    /// What was wrong with the input, if anything; when not empty, nothing was written.
    pub user_errors: Vec<UserError>,
}

payload!(
    UpdateWebhookEndpointPayload,
    webhook_endpoint: WebhookEndpoint,
    "updateWebhookEndpoint",
    "The endpoint as changed"
);
payload!(
    DeleteWebhookEndpointPayload,
    deleted_id: ID,
    "deleteWebhookEndpoint",
    "The id of the deleted endpoint"
);
payload!(
    RetryWebhookDeliveryPayload,
    webhook_delivery: WebhookDelivery,
    "retryWebhookDelivery",
    "The delivery, `PENDING` again"
);

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a webhook endpoint for some event types.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new endpoint.")] input: CreateWebhookEndpointInput,
    ) -> Result<CreateWebhookEndpointPayload> {
        let input = webhooks::NewEndpoint {
            url: input.url,
            events: input.events.into_iter().map(Into::into).collect(),
            secret: input.secret,
        };
        let (created, user_errors) = mutation_result(webhooks::create(store(ctx), input).await, |c| c)?;
        let (webhook_endpoint, secret) = match created {
            Some(created) => (Some(WebhookEndpoint(created.endpoint)), created.generated_secret),
            None => (None, None),
        };
        Ok(CreateWebhookEndpointPayload {
            webhook_endpoint,
            secret,
            user_errors,
        })
    }

    /// Changes an endpoint's URL, event types or secret.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint and its changes.")] input: UpdateWebhookEndpointInput,
    ) -> Result<UpdateWebhookEndpointPayload> {
        let input = webhooks::EndpointChanges {
            id: input.id.0,
            url: input.url,
            events: input.events.map(|events| events.into_iter().map(Into::into).collect()),
            secret: input.secret,
        };
        UpdateWebhookEndpointPayload::from_result(webhooks::update(store(ctx), input).await, WebhookEndpoint)
    }

    /// Deletes an endpoint with its deliveries: nothing more is sent to it.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint to delete.")] input: DeleteWebhookEndpointInput,
    ) -> Result<DeleteWebhookEndpointPayload> {
        DeleteWebhookEndpointPayload::from_result(
            webhooks::delete(store(ctx), &input.id).await,
            |id| ID(id.to_string()),
        )
    }

    /// Sends a `FAILED` delivery again, at once, with a new retry window.
    async fn retry_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery to send again.")] input: RetryWebhookDeliveryInput,
    ) -> Result<RetryWebhookDeliveryPayload> {
        RetryWebhookDeliveryPayload::from_result(webhooks::retry(store(ctx), &input.id).await, WebhookDelivery)
    }
}
