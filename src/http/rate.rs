//! Per-credential request rates: each API key, and each customer behind its
//! tokens, gets a bucket of `rate` requests a second with a burst of twice
//! that; past it, requests are answered `429` with `Retry-After`, so that
//! one storefront key cannot starve the others. Open development mode (no
//! credentials, loopback only) is not limited: there is no one to tell apart.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::auth::Principal;

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// The limiter of one server; `None` when off.
#[derive(Clone, Default)]
pub struct RateLimits(Option<Arc<Keyed>>);

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RateLimits").field(&self.0.is_some()).finish()
    }
}

impl RateLimits {
    /// `per_second` requests a second per credential, bursts of twice that;
    /// 0 turns the limit off.
    pub fn new(per_second: u32) -> Self {
        let Some(rate) = NonZeroU32::new(per_second) else {
            return Self(None);
        };
        let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        let limiter = Arc::new(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)));
        // Buckets that are full again hold nothing worth keeping.
        let weak = Arc::downgrade(&limiter);
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                while let Some(limiter) = {
                    every.tick().await;
                    weak.upgrade()
                } {
                    limiter.retain_recent();
                }
            });
        }
        Self(Some(limiter))
    }

    /// Takes one request from the caller's bucket, or says how long to wait.
    pub fn check(&self, principal: Principal, headers: &HeaderMap) -> Result<(), Duration> {
        let Some(limiter) = &self.0 else { return Ok(()) };
        let key = match principal {
            Principal::Customer(id) => format!("customer:{id}"),
            _ => {
                let credential = headers
                    .get(header::AUTHORIZATION)
                    .map(|v| v.as_bytes())
                    .unwrap_or_default();
                let digest = Sha256::digest(credential);
                format!(
                    "key:{}",
                    digest.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>()
                )
            }
        };
        limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// `Retry-After` in whole seconds, at least 1.
pub fn retry_after(wait: Duration) -> String {
    wait.as_secs()
        .saturating_add(u64::from(wait.subsec_nanos() > 0))
        .max(1)
        .to_string()
}
