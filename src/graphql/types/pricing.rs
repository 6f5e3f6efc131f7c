//! The answer to "what does this customer pay, and why" (docs/pricing.md#the-walk), and the
//! shopper facts it rests on: effective groups and exemptions (docs/pricing.md#effective-groups).

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::{CustomerGroup, Money, PriceList, PriceListRule, Product, load_failed};
use crate::graphql::errors::internal;
use crate::graphql::loaders::{ProductPrices, cached_row, loaders};
use crate::money::{CurrencyCode, Money as DomainMoney};
use crate::pricing::Explanation;
use crate::service::resolution::PricedItem;
use crate::store::profiles::ExemptionSource as Source;

/// How to choose among the candidate lists that have a price
/// (docs/pricing.md#step-7-lowest-price).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "crate::pricing::Strategy")]
pub enum PricingStrategy {
    /// The first candidate list (by priority) with an applicable price wins.
    #[default]
    Priority,
    /// An OVERRIDE price still wins; otherwise the lowest of the base price
    /// and every applicable SALE price.
    LowestPrice,
}

/// Where a resolved price came from.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::pricing::Source")]
pub enum PriceSource {
    /// A price list's price applied.
    PriceList,
    /// No list price applied; the base price did.
    Base,
    /// Neither a list price nor a base price exists: show "price on request".
    None,
    /// The shopper may not order this product (docs/pricing.md#product-access).
    NotOrderable,
}

/// What became of one candidate list in a price's walk
/// (docs/pricing.md#explanation).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::pricing::Outcome")]
pub enum PriceOutcome {
    /// This list's price is the answer.
    Applied,
    /// The group is inactive, so its lists do not count.
    GroupInactive,
    /// The list is a draft.
    ListDraft,
    /// `at` is before the list's `startsAt`.
    NotStarted,
    /// `at` is at or after the list's `endsAt`.
    Ended,
    /// The list has no price for this product, currency and quantity.
    NoPrice,
    /// A SALE price that is not below the base price (a sale never raises a price).
    SaleNotBelowBase,
    /// Another list won first, or this list reached the customer through a
    /// group with a better priority.
    Outranked,
}

/// How a shopper comes to be in one of its effective groups.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::pricing::Membership")]
pub enum GroupMembership {
    /// The customer is a member.
    Direct,
    /// Through the customer's organization, whose groups replace the customer's own.
    Organization,
    /// The built-in group every shopper belongs to.
    Everyone,
}

pub(crate) fn money(minor_units: Option<i64>, currency: CurrencyCode) -> Result<Option<Money>> {
    minor_units
        .map(|units| {
            DomainMoney::from_minor_units(units, currency)
                .map(Money::from)
                .map_err(internal)
        })
        .transpose()
}

/// What a shopper pays for a product at a quantity, and why.
pub struct ResolvedPrice(pub PricedItem, Option<Arc<ProductPrices>>);

impl ResolvedPrice {
    /// An answer about a product the caller had read.
    pub fn new(item: PricedItem) -> Self {
        Self(item, None)
    }

    /// Answers whose products were read with them: those products are
    /// priced together if the caller asks for their prices in turn.
    pub fn answers(ctx: &Context<'_>, items: Vec<PricedItem>) -> Vec<Self> {
        crate::graphql::metrics(ctx).resolved(items.iter().map(|item| item.resolved.source));
        Self::imagined(items)
    }

    /// One answer of a subscription, with the product read with it; the
    /// feed computed it once for every subscriber, so nothing is counted.
    pub fn watched(item: PricedItem) -> Self {
        let together = ProductPrices::new(item.product.iter());
        Self(item, Some(together))
    }

    /// Answers about an imagined shopper (`simulatePrices`): nobody was
    /// priced, so nothing is counted.
    pub fn imagined(items: Vec<PricedItem>) -> Vec<Self> {
        let together = ProductPrices::new(items.iter().filter_map(|item| item.product.as_ref()));
        items
            .into_iter()
            .map(|item| Self(item, Some(together.clone())))
            .collect()
    }
}

/// What a shopper pays per unit for a product at a quantity, in a currency,
/// at an instant, and why (docs/pricing.md#the-walk). No price is not an
/// error: `amount` is then null and `source` says why.
#[Object]
impl ResolvedPrice {
    /// The product priced.
    async fn product(&self, ctx: &Context<'_>) -> Result<Product> {
        if let (Some(product), Some(together)) = (&self.0.product, &self.1) {
            return Ok(Product::read_with(Arc::new(product.clone()), together));
        }
        let product = loaders(ctx)
            .products
            .load_one(self.0.product_id)
            .await
            .map_err(load_failed)?;
        product
            .map(Product::from)
            .ok_or_else(|| super::dangling("product", self.0.product_id))
    }
    /// The quantity priced.
    async fn quantity(&self) -> i32 {
        self.0.quantity.get()
    }
    /// The currency priced in: its ISO 4217 code, upper-case.
    async fn currency_code(&self) -> &str {
        self.0.currency.code()
    }
    /// The price per unit; null when there is none (`NONE`, `NOT_ORDERABLE`).
    async fn amount(&self) -> Result<Option<Money>> {
        money(self.0.resolved.amount, self.0.currency)
    }
    /// The product's base price for this quantity, if it has one.
    async fn base_price(&self) -> Result<Option<Money>> {
        money(self.0.resolved.base_price, self.0.currency)
    }
    /// Where `amount` came from, or why there is none.
    async fn source(&self) -> PriceSource {
        self.0.resolved.source.into()
    }
    /// The list whose price applied; null unless `source` is `PRICE_LIST`.
    async fn price_list(&self, ctx: &Context<'_>) -> Result<Option<PriceList>> {
        let Some(id) = self.0.resolved.price_list_id else {
            return Ok(None);
        };
        Ok(cached_row(&loaders(ctx).price_lists, id)
            .await
            .map_err(load_failed)?
            .map(PriceList))
    }
    /// The group through which that list applied; null unless `source` is `PRICE_LIST`.
    async fn customer_group(&self, ctx: &Context<'_>) -> Result<Option<CustomerGroup>> {
        let Some(id) = self.0.resolved.customer_group_id else {
            return Ok(None);
        };
        Ok(cached_row(&loaders(ctx).groups, id)
            .await
            .map_err(load_failed)?
            .map(CustomerGroup))
    }
    /// The priority of that group's link to that list; null unless `source` is `PRICE_LIST`.
    async fn priority(&self) -> Option<i32> {
        self.0.resolved.priority
    }
    /// The first quantity of the tier (list or base) that gave the amount;
    /// null when there is no amount.
    async fn tier_min_quantity(&self) -> Option<i32> {
        self.0.resolved.tier_min_quantity
    }
    /// The derived list's rule when the amount came from it (the list had
    /// no matching price of its own); null otherwise.
    async fn rule(&self) -> Option<PriceListRule> {
        self.0.resolved.rule.map(PriceListRule::new)
    }
    /// One entry per group and list considered, in the order of the walk,
    /// with what became of it; empty for `NOT_ORDERABLE`. Explaining costs a
    /// walk over every candidate: ask for it only when you show it.
    async fn explanation(&self) -> Vec<PriceExplanation> {
        self.0
            .resolved
            .explanation
            .iter()
            .map(|entry| PriceExplanation {
                entry: entry.clone(),
                currency: self.0.currency,
            })
            .collect()
    }
}

/// Why one list, reached through one group, did or did not set the price.
pub struct PriceExplanation {
    entry: Explanation,
    currency: CurrencyCode,
}

/// Why one list, reached through one group, did or did not set the price.
#[Object]
impl PriceExplanation {
    /// The group through which the list reached the shopper.
    async fn customer_group(&self, ctx: &Context<'_>) -> Result<Option<CustomerGroup>> {
        let group = cached_row(&loaders(ctx).groups, self.entry.group_id)
            .await
            .map_err(load_failed)?;
        Ok(group.map(CustomerGroup))
    }
    /// The list considered.
    async fn price_list(&self, ctx: &Context<'_>) -> Result<Option<PriceList>> {
        let list = cached_row(&loaders(ctx).price_lists, self.entry.price_list_id)
            .await
            .map_err(load_failed)?;
        Ok(list.map(PriceList))
    }
    /// The priority of the group's link to the list.
    async fn priority(&self) -> i32 {
        self.entry.priority
    }
    /// What became of the list.
    async fn outcome(&self) -> PriceOutcome {
        self.entry.outcome.into()
    }
    /// The list's price for this quantity; null when it has none.
    async fn amount(&self) -> Result<Option<Money>> {
        money(self.entry.amount, self.currency)
    }
    /// The derived list's rule when it, not a price of the list's own, gave
    /// `amount`; null otherwise.
    async fn rule(&self) -> Option<PriceListRule> {
        self.entry.rule.map(PriceListRule::new)
    }
}

/// One of a customer's effective pricing groups, and how it was reached.
#[derive(SimpleObject)]
pub struct EffectiveGroup {
    /// The group.
    pub customer_group: CustomerGroup,
    /// How the customer comes to be in it.
    pub via: GroupMembership,
}

/// Where an exemption flag is set.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExemptionSourceKind {
    /// The customer's own flag.
    Customer,
    /// The customer's type group.
    TypeGroup,
    /// One of the customer's active effective pricing groups.
    PricingGroup,
}

/// Where an exemption comes from.
#[derive(SimpleObject)]
pub struct ExemptionSource {
    /// Where the flag is set: on the customer, its type group, or a pricing group.
    pub kind: ExemptionSourceKind,
    /// The group, unless the flag is the customer's own.
    pub customer_group: Option<CustomerGroup>,
}

impl From<Source> for ExemptionSource {
    fn from(source: Source) -> Self {
        match source {
            Source::Customer => Self {
                kind: ExemptionSourceKind::Customer,
                customer_group: None,
            },
            Source::TypeGroup(group) => Self {
                kind: ExemptionSourceKind::TypeGroup,
                customer_group: Some(CustomerGroup(group)),
            },
            Source::PricingGroup(group) => Self {
                kind: ExemptionSourceKind::PricingGroup,
                customer_group: Some(CustomerGroup(group)),
            },
        }
    }
}

/// A customer's exemptions: each is the OR of the customer's own
/// flag, its type group's (when active) and every active effective pricing
/// group's (docs/pricing.md#exemptions).
#[derive(SimpleObject)]
pub struct Exemptions {
    /// Whether the customer is exempt from commission.
    pub commission_exempt: bool,
    /// Whether the customer ships free.
    pub free_freight: bool,
    /// Where `commissionExempt` comes from; empty when it is false.
    pub commission_exempt_sources: Vec<ExemptionSource>,
    /// Where `freeFreight` comes from; empty when it is false.
    pub free_freight_sources: Vec<ExemptionSource>,
}
