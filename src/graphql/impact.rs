//! `dryRun` on the mutations that can change a price, and the `impact` their
//! payloads answer with (docs/api.md#impact-preview). The service rehearses
//! the write ([`crate::service::impact::preview`]); this file only shapes
//! the answer.

use std::future::Future;
use std::sync::Arc;

use async_graphql::{Context, Object, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::connection::{CountedConnection, TotalCount, positioned};
use super::errors::bad_input;
use super::loaders::loaders;
use super::store;
use super::types::pricing::money;
use super::types::{Customer, Money, Product, dangling, load_failed};
use crate::error::ServiceResult;
use crate::page::MAX_PAGE_SIZE;
use crate::service::impact::{self, Impact, PriceChange as Change};

/// Runs a mutation's service call, or with `dry_run` rehearses it and says
/// what it would change. Either way, the payload is built from its result.
pub async fn run<T>(
    ctx: &Context<'_>,
    dry_run: Option<bool>,
    work: impl Future<Output = ServiceResult<T>>,
) -> (ServiceResult<T>, Option<PriceImpact>) {
    if dry_run != Some(true) {
        return (work.await, None);
    }
    match impact::preview(store(ctx), work).await {
        Ok((output, impact)) => (Ok(output), Some(PriceImpact(Arc::new(impact)))),
        Err(error) => (Err(error), None),
    }
}

/// What a change would do to prices, now and at quantity 1, had it been
/// written: set only on a `dryRun`, when nothing was written.
#[derive(Clone)]
pub struct PriceImpact(Arc<Impact>);

/// What a change would do to prices, now and at quantity 1
/// (docs/api.md#impact-preview). Nothing was written.
#[Object]
impl PriceImpact {
    /// How many customers would pay a different price for at least one product.
    async fn customers_affected(&self) -> u64 {
        self.0.customers_affected
    }
    /// How many products would have a different price for at least one shopper.
    async fn products_affected(&self) -> u64 {
        self.0.products_affected
    }
    /// Every price that would change: the anonymous shopper first, then
    /// customers by id, each by product and currency.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(Some(first), None, child_complexity)")]
    async fn changes(
        &self,
        #[graphql(desc = "How many changes, 1 to 100.")] first: i32,
        #[graphql(desc = "A cursor from this connection: only changes after that one.")] after: Option<String>,
    ) -> Result<CountedConnection<PriceChange>> {
        let size = usize::try_from(first)
            .ok()
            .filter(|size| (1..=MAX_PAGE_SIZE as usize).contains(size))
            .ok_or_else(|| bad_input(format!("`first` must be between 1 and {MAX_PAGE_SIZE}, got {first}")))?;
        let from = match after.as_deref() {
            None => 0,
            Some(cursor) => decode(cursor)
                .ok_or_else(|| bad_input(format!("after: '{cursor}' is not a cursor of this connection")))?
                .saturating_add(1),
        };
        let mut page = self.0.page(from, size + 1);
        let has_next_page = page.len() > size;
        page.truncate(size);
        let items = page
            .into_iter()
            .map(|(position, customer, change)| (encode(position), PriceChange { customer, change }))
            .collect();
        let total = self.0.total();
        Ok(positioned(
            items,
            from > 0,
            has_next_page,
            TotalCount::new(move || Box::pin(async move { Ok(total) })),
        ))
    }
}

fn encode(position: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("change:{position}"))
}

fn decode(cursor: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    std::str::from_utf8(&bytes).ok()?.strip_prefix("change:")?.parse().ok()
}

/// One price that would change.
pub struct PriceChange {
    customer: Option<uuid::Uuid>,
    change: Change,
}

/// One shopper's price for one product and currency that would change.
#[Object]
impl PriceChange {
    /// The customer; null for an anonymous shopper (no customer).
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        let Some(id) = self.customer else { return Ok(None) };
        let customer = loaders(ctx).customers.load_one(id).await.map_err(load_failed)?;
        customer.map(Customer).map(Some).ok_or_else(|| dangling("customer", id))
    }
    /// The product.
    async fn product(&self, ctx: &Context<'_>) -> Result<Product> {
        let id = self.change.product_id;
        let product = loaders(ctx).products.load_one(id).await.map_err(load_failed)?;
        product.map(Product::from).ok_or_else(|| dangling("product", id))
    }
    /// The currency: its ISO 4217 code.
    async fn currency(&self) -> &str {
        self.change.currency.code()
    }
    /// What the shopper pays now; null when no amount (no price, or not orderable).
    async fn before(&self) -> Result<Option<Money>> {
        money(self.change.before, self.change.currency)
    }
    /// What the shopper would pay after the change; null when no amount.
    async fn after(&self) -> Result<Option<Money>> {
        money(self.change.after, self.change.currency)
    }
}
