//! The answer to "what does this customer pay, and why" (docs/pricing.md#the-walk), and the
//! shopper facts it rests on: effective groups and exemptions (docs/pricing.md#effective-groups).

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::{CustomerGroup, Money, PriceList, Product, load_failed};
use crate::graphql::errors::internal;
use crate::graphql::loaders::{ProductPrices, loaders};
use crate::money::{CurrencyCode, Money as DomainMoney};
use crate::pricing::Explanation;
use crate::service::resolution::PricedItem;
use crate::store::profiles::ExemptionSource as Source;

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

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::pricing::Source")]
pub enum PriceSource {
    /// A price list's price applied.
    PriceList,
    /// No list price applied; the base price did.
    Base,
    /// Neither a list price nor a base price exists.
    None,
    /// The customer may not order this product (product-line access).
    NotOrderable,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::pricing::Outcome")]
pub enum PriceOutcome {
    /// This list's price is the answer.
    Applied,
    /// The group is inactive, so its lists do not count.
    GroupInactive,
    /// The list is a draft.
    ListDraft,
    /// The list's window has not started at `at`.
    NotStarted,
    /// The list's window had ended at `at`.
    Ended,
    /// The list has no price for this product, currency and quantity.
    NoPrice,
    /// A SALE price that is not below the base price (a sale never raises a price).
    SaleNotBelowBase,
    /// Another list won first, or this list reached the customer through a
    /// group with a better priority.
    Outranked,
}

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

fn money(minor_units: Option<i64>, currency: CurrencyCode) -> Result<Option<Money>> {
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
        let together = ProductPrices::new(items.iter().filter_map(|item| item.product.as_ref()));
        items
            .into_iter()
            .map(|item| Self(item, Some(together.clone())))
            .collect()
    }
}

#[Object]
impl ResolvedPrice {
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
    async fn quantity(&self) -> i32 {
        self.0.quantity.get()
    }
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
    async fn source(&self) -> PriceSource {
        self.0.resolved.source.into()
    }
    /// The list whose price applied.
    async fn price_list(&self, ctx: &Context<'_>) -> Result<Option<PriceList>> {
        let Some(id) = self.0.resolved.price_list_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .price_lists
            .load_one(id)
            .await
            .map_err(load_failed)?
            .map(PriceList))
    }
    /// The group through which that list applied.
    async fn customer_group(&self, ctx: &Context<'_>) -> Result<Option<CustomerGroup>> {
        let Some(id) = self.0.resolved.customer_group_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .groups
            .load_one(id)
            .await
            .map_err(load_failed)?
            .map(CustomerGroup))
    }
    /// The priority of that group's link to that list.
    async fn priority(&self) -> Option<i32> {
        self.0.resolved.priority
    }
    /// The first quantity of the tier (list or base) that gave the amount.
    async fn tier_min_quantity(&self) -> Option<i32> {
        self.0.resolved.tier_min_quantity
    }
    /// One entry per group and list considered, with what happened to it.
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

#[Object]
impl PriceExplanation {
    async fn customer_group(&self, ctx: &Context<'_>) -> Result<Option<CustomerGroup>> {
        let group = loaders(ctx)
            .groups
            .load_one(self.entry.group_id)
            .await
            .map_err(load_failed)?;
        Ok(group.map(CustomerGroup))
    }
    async fn price_list(&self, ctx: &Context<'_>) -> Result<Option<PriceList>> {
        let list = loaders(ctx)
            .price_lists
            .load_one(self.entry.price_list_id)
            .await
            .map_err(load_failed)?;
        Ok(list.map(PriceList))
    }
    async fn priority(&self) -> i32 {
        self.entry.priority
    }
    async fn outcome(&self) -> PriceOutcome {
        self.entry.outcome.into()
    }
    /// The list's price for this quantity, when it has one.
    async fn amount(&self) -> Result<Option<Money>> {
        money(self.entry.amount, self.currency)
    }
}

/// One of a customer's effective pricing groups, and how it was reached.
#[derive(SimpleObject)]
pub struct EffectiveGroup {
    pub customer_group: CustomerGroup,
    pub via: GroupMembership,
}

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

/// A customer's exemptions (seed 003): each is the OR of the customer's own
/// flag, its type group's and every active effective pricing group's.
#[derive(SimpleObject)]
pub struct Exemptions {
    pub commission_exempt: bool,
    pub free_freight: bool,
    /// Where `commissionExempt` comes from; empty when it is false.
    pub commission_exempt_sources: Vec<ExemptionSource>,
    /// Where `freeFreight` comes from; empty when it is false.
    pub free_freight_sources: Vec<ExemptionSource>,
}
