//! Change events (SPEC §12): what tells storefronts and other systems that
//! a price changed.
//!
//! Webhooks (docs/api.md#webhooks) carry a write's events to the outside world:
//!
//! - [`Event`]: one event, its type and payload. Services declare them on
//!   their write transaction beside what they invalidate; ids are
//!   chunked ([`MAX_IDS`] per event), so a write of a million prices makes
//!   about a thousand events, never one per row.
//! - [`outbox`]: the events and their deliveries, written in the write's
//!   own transaction; the SQL the worker claims and records with.
//! - [`delivery`]: the worker each instance runs: claims due deliveries
//!   (for a lease), POSTs them signed ([`signature`]), backs off, fails.
//! - [`target`]: the SSRF guard, at registration and at delivery.
//! - [`windows`]: `PRICE_LIST_STARTED` / `PRICE_LIST_ENDED` at the instant,
//!   once, by one instance, caught up after a restart.
//!
//! Endpoints are managed by the service layer above; price subscriptions
//! live there too, since they price.
//!
//! Nothing here reads the store or its caches: the events module sits
//! below the store, which calls [`outbox::append`] when a write commits.

pub mod delivery;
pub mod outbox;
pub mod signature;
pub mod target;
pub mod windows;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use crate::money::CurrencyCode;

/// Most ids in one event's payload; a write that changed more sends several
/// events of the same type.
pub const MAX_IDS: usize = 1_000;

/// What happened, as receivers see it in `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    PricesChanged,
    BasePricesChanged,
    PriceListChanged,
    PriceListStarted,
    PriceListEnded,
    GroupChanged,
    MembershipChanged,
    OrganizationGroupsChanged,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        Self::PricesChanged,
        Self::BasePricesChanged,
        Self::PriceListChanged,
        Self::PriceListStarted,
        Self::PriceListEnded,
        Self::GroupChanged,
        Self::MembershipChanged,
        Self::OrganizationGroupsChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PricesChanged => "PRICES_CHANGED",
            Self::BasePricesChanged => "BASE_PRICES_CHANGED",
            Self::PriceListChanged => "PRICE_LIST_CHANGED",
            Self::PriceListStarted => "PRICE_LIST_STARTED",
            Self::PriceListEnded => "PRICE_LIST_ENDED",
            Self::GroupChanged => "GROUP_CHANGED",
            Self::MembershipChanged => "MEMBERSHIP_CHANGED",
            Self::OrganizationGroupsChanged => "ORGANIZATION_GROUPS_CHANGED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// What a change to a record was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Updated => "UPDATED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One event: its type and the `data` of its body.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub event_type: EventType,
    pub data: serde_json::Value,
}

/// Sorted, distinct ids in chunks of [`MAX_IDS`].
fn chunked(ids: impl IntoIterator<Item = Uuid>) -> Vec<Vec<String>> {
    let ids: BTreeSet<Uuid> = ids.into_iter().collect();
    let ids: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
    ids.chunks(MAX_IDS).map(<[String]>::to_vec).collect()
}

fn currencies(keys: &[(Uuid, CurrencyCode)]) -> Vec<&'static str> {
    let codes: BTreeSet<&'static str> = keys.iter().map(|(_, c)| c.code()).collect();
    codes.into_iter().collect()
}

impl Event {
    /// Prices of a list changed: its products (chunked) and the currencies.
    pub fn prices_changed(price_list_id: Uuid, keys: &[(Uuid, CurrencyCode)]) -> Vec<Event> {
        let currencies = currencies(keys);
        chunked(keys.iter().map(|(id, _)| *id))
            .into_iter()
            .map(|products| Event {
                event_type: EventType::PricesChanged,
                data: json!({ "priceListId": price_list_id, "productIds": products, "currencies": currencies }),
            })
            .collect()
    }

    /// Base prices changed: the products (chunked) and the currencies.
    pub fn base_prices_changed(keys: &[(Uuid, CurrencyCode)]) -> Vec<Event> {
        let currencies = currencies(keys);
        chunked(keys.iter().map(|(id, _)| *id))
            .into_iter()
            .map(|products| Event {
                event_type: EventType::BasePricesChanged,
                data: json!({ "productIds": products, "currencies": currencies }),
            })
            .collect()
    }

    /// A price list was created, changed or deleted.
    pub fn price_list_changed(price_list_id: Uuid, action: Action) -> Event {
        Event {
            event_type: EventType::PriceListChanged,
            data: json!({ "priceListId": price_list_id, "action": action.as_str() }),
        }
    }

    /// A list's window opened or closed at `at`.
    pub fn window_edge(event_type: EventType, price_list_id: Uuid, at: chrono::DateTime<chrono::Utc>) -> Event {
        Event {
            event_type,
            data: json!({ "priceListId": price_list_id, "at": at }),
        }
    }

    /// A group was created, changed (its activity, price lists, product
    /// lines) or deleted.
    pub fn group_changed(group_id: Uuid, action: Action) -> Event {
        Event {
            event_type: EventType::GroupChanged,
            data: json!({ "groupId": group_id, "action": action.as_str() }),
        }
    }

    /// Customers joined or left a group (chunked).
    pub fn membership_changed(group_id: Uuid, customer_ids: &[Uuid]) -> Vec<Event> {
        chunked(customer_ids.iter().copied())
            .into_iter()
            .map(|customers| Event {
                event_type: EventType::MembershipChanged,
                data: json!({ "groupId": group_id, "customerIds": customers }),
            })
            .collect()
    }

    /// An organization's groups changed.
    pub fn organization_groups_changed(organization_id: Uuid, group_ids: &[Uuid]) -> Event {
        let groups: Vec<String> = chunked(group_ids.iter().copied())
            .into_iter()
            .flatten()
            .take(MAX_IDS)
            .collect();
        Event {
            event_type: EventType::OrganizationGroupsChanged,
            data: json!({ "organizationId": organization_id, "groupIds": groups }),
        }
    }
}

/// How webhooks are delivered (`--webhook-*`, docs/operations.md#webhooks).
#[derive(Clone, Debug)]
pub struct WebhookOptions {
    /// Endpoints on private, loopback, link-local… addresses are allowed
    /// (for development and tests only: see [`target`]).
    pub allow_private: bool,
    /// Retries go on this long after the event (or a manual retry), then
    /// the delivery is `FAILED`.
    pub retry_for: Duration,
    /// The wait after the first failed attempt; doubled after each.
    pub first_retry: Duration,
    /// The longest wait between two attempts.
    pub max_retry_delay: Duration,
    /// One attempt's time limit: connecting, sending, the answer's status.
    pub timeout: Duration,
    /// How long a claim holds; an instance that died mid-delivery leaves a
    /// claim that another instance takes over after this. Longer than `timeout`.
    pub lease: Duration,
    /// How often the worker looks for due deliveries.
    pub poll_every: Duration,
    /// How far back window edges missed while no instance ran are still
    /// announced.
    pub catch_up: Duration,
    /// What this process's delivery worker did, for `/metrics`.
    pub counts: Arc<DeliveryCounts>,
}

/// Delivery attempts this process made, by outcome (`/metrics`:
/// `pricegraph_webhook_attempts_total`).
#[derive(Debug, Default)]
pub struct DeliveryCounts {
    delivered: AtomicU64,
    retrying: AtomicU64,
    failed: AtomicU64,
}

impl DeliveryCounts {
    /// One attempt recorded with its delivery's new status.
    pub fn attempted(&self, status: &str) {
        let counter = match status {
            outbox::DELIVERED => &self.delivered,
            outbox::FAILED => &self.failed,
            _ => &self.retrying,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// `(outcome, attempts)`: `delivered` (a 2xx answer), `retry` (failed,
    /// tried again later), `failed` (failed, and given up).
    pub fn snapshot(&self) -> [(&'static str, u64); 3] {
        [
            ("delivered", self.delivered.load(Ordering::Relaxed)),
            ("retry", self.retrying.load(Ordering::Relaxed)),
            ("failed", self.failed.load(Ordering::Relaxed)),
        ]
    }
}

impl Default for WebhookOptions {
    fn default() -> Self {
        Self {
            allow_private: false,
            retry_for: Duration::from_secs(24 * 3600),
            first_retry: Duration::from_secs(10),
            max_retry_delay: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
            poll_every: Duration::from_millis(250),
            catch_up: Duration::from_secs(24 * 3600),
            counts: Arc::default(),
        }
    }
}

impl WebhookOptions {
    /// The wait before the next attempt, after `attempts` attempts failed.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doubling = attempts.saturating_sub(1).min(30);
        self.first_retry
            .saturating_mul(1u32 << doubling)
            .min(self.max_retry_delay)
    }

    /// [`WebhookOptions::backoff`] with "equal jitter": a wait drawn
    /// between half of it and all of it (`spread` in `[0, 1)` picks where),
    /// so that the deliveries an endpoint's outage held back do not all
    /// come back at the same instant.
    pub fn jittered_backoff(&self, attempts: u32, spread: f64) -> Duration {
        let full = self.backoff(attempts);
        full.saturating_sub(full.div_f64(2.0).mul_f64(spread.clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_products_make_a_thousand_events() {
        let usd = CurrencyCode::parse("USD").expect("USD");
        let keys: Vec<(Uuid, CurrencyCode)> = (0..1_000_000u128).map(|n| (Uuid::from_u128(n), usd)).collect();
        let events = Event::prices_changed(Uuid::nil(), &keys);
        assert_eq!(events.len(), 1_000);
        assert!(
            events
                .iter()
                .all(|e| e.data["productIds"].as_array().is_some_and(|a| a.len() == MAX_IDS))
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let options = WebhookOptions {
            first_retry: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(10),
            ..WebhookOptions::default()
        };
        let waits: Vec<u64> = (1..=6).map(|n| options.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        assert_eq!(options.backoff(u32::MAX).as_secs(), 10);
    }

    #[test]
    fn jitter_stays_between_half_the_wait_and_all_of_it() {
        let options = WebhookOptions {
            first_retry: Duration::from_secs(8),
            max_retry_delay: Duration::from_secs(3600),
            ..WebhookOptions::default()
        };
        for (spread, expected_ms) in [
            (0.0, 8_000),
            (0.5, 6_000),
            (0.999_999, 4_000),
            (7.0, 4_000),
            (-1.0, 8_000),
        ] {
            let wait = options.jittered_backoff(1, spread).as_millis();
            assert!(wait.abs_diff(expected_ms) <= 1, "spread {spread}: {wait} ms");
        }
        assert_eq!(options.jittered_backoff(u32::MAX, 0.0), Duration::from_secs(3600));
    }

    #[test]
    fn every_type_parses_back() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
    }
}
