use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{price, price_list};
use serde_json::Value as JsonValue;

use super::{
    CustomerGroupPriceList, Money, PriceListStatus, PriceListType, Product, dangling, load_failed, stored_money,
};
use crate::graphql::connection::{CountedConnection, TotalCount, connection, page_request};
use crate::graphql::errors::query_error;
use crate::graphql::loaders::loaders;
use crate::graphql::scalars::Decimal;
use crate::page::Page;
use crate::pricing::PercentOff;
use crate::service::prices;

/// A derived list's rule: a discount off the base price.
#[derive(SimpleObject, Clone, Debug)]
pub struct PriceListRule {
    /// The discount in percent, above 0 and at most 100, with at most two
    /// decimals and no trailing zeros: `"20"`, `"12.5"`, `"0.25"`. The
    /// derived price is the base price × (100 − percentOff) / 100, rounded
    /// half to even to the currency's minor unit.
    pub percent_off: Decimal,
}

impl PriceListRule {
    pub fn new(rule: PercentOff) -> Self {
        Self {
            percent_off: Decimal(rule.to_string()),
        }
    }

    /// The rule of a stored list (its `percent_off` column).
    pub fn stored(percent_off: Option<i32>) -> Option<Self> {
        percent_off
            .and_then(|hundredths| PercentOff::from_hundredths(hundredths.into()))
            .map(Self::new)
    }
}

/// A set of prices that applies to the pricing groups it is linked to, while
/// `ACTIVE` and inside its window.
#[derive(Clone)]
pub struct PriceList(pub price_list::Model);

/// A set of prices that applies to the customers of the pricing groups it
/// is linked to, while `ACTIVE` and inside its window
/// (docs/pricing.md#step-3-candidates).
#[Object]
impl PriceList {
    /// The list's id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The list's name (not necessarily unique).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// A description for admins; null when none.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// `SALE` (applies only below the base price) or `OVERRIDE` (always applies).
    #[graphql(name = "type")]
    async fn list_type(&self) -> PriceListType {
        self.0.list_type.into()
    }
    /// `ACTIVE`, or `DRAFT` (never applies).
    async fn status(&self) -> PriceListStatus {
        self.0.status.into()
    }
    /// The first instant the list applies (inclusive); null: no start.
    async fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.0.starts_at
    }
    /// The instant the list stops applying (exclusive); null: no end.
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.ends_at
    }
    /// The rule that makes this a derived list, pricing every product that
    /// has a base price at a discount where the list has no matching price
    /// of its own (docs/pricing.md#derived-lists); null for a list of
    /// fixed prices only.
    async fn rule(&self) -> Option<PriceListRule> {
        PriceListRule::stored(self.0.percent_off)
    }
    /// Your own data about the list: a JSON object, `{}` when none was given.
    async fn metadata(&self) -> &JsonValue {
        &self.0.metadata
    }
    /// Increases by one with every update; pass it back as `version` to refuse stale edits.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the list was created. Among lists at the same priority, the
    /// older is tried first.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the list was last updated (writing its prices or links does not count).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The pricing groups this list is linked to, by priority then group
    /// name. Admin only.
    async fn customer_groups(&self, ctx: &Context<'_>) -> Result<Vec<CustomerGroupPriceList>> {
        let links = loaders(ctx)
            .group_links_by_price_list
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?;
        Ok(links
            .unwrap_or_default()
            .into_iter()
            .map(|(link, group)| CustomerGroupPriceList::of_row(link, Some(self.0.clone()), Some(group)))
            .collect())
    }

    /// The list's prices, optionally for one product or currency, in
    /// creation order.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn prices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this product's prices. A malformed id is a `NOT_FOUND` error.")] product_id: Option<ID>,
        #[graphql(
            desc = "Only prices in this currency: an ISO 4217 code such as \"USD\", in any case. \
                          An unknown code is a `BAD_USER_INPUT` error."
        )]
        currency: Option<String>,
        #[graphql(
            desc = "Page forwards: this many prices from the start, or after `after`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only prices after that one.")] after: Option<String>,
        #[graphql(
            desc = "Page backwards: this many prices from the end, or before `before`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only prices before that one.")] before: Option<String>,
    ) -> Result<CountedConnection<Price>> {
        let request = page_request(first, after, last, before)?;
        let filter = prices::PriceFilter::parse(
            self.0.id,
            product_id.as_ref().map(|id| id.as_str()),
            currency.as_deref(),
        )
        .map_err(|e| query_error(e.into()))?;
        let loaders = loaders(ctx);
        let page = loaders
            .price_pages
            .load_one((filter, request))
            .await
            .map_err(load_failed)?
            .unwrap_or_else(Page::empty);
        let counts = loaders.price_counts.clone();
        let total = TotalCount::new(move || {
            let counts = counts.clone();
            Box::pin(async move { Ok(counts.load_one(filter).await.map_err(load_failed)?.unwrap_or_default()) })
        });
        Ok(connection(page, |p| p.id, Price, total))
    }
}

/// A price list's price for one product and currency, for quantities from
/// `minQuantity` to `maxQuantity` (null: no upper bound).
#[derive(Clone)]
pub struct Price(pub price::Model);

/// A price list's price for one product and currency, per unit, for
/// quantities from `minQuantity` to `maxQuantity` (docs/pricing.md#tiers).
/// A list has at most one price per product, currency and `minQuantity`.
#[Object]
impl Price {
    /// The price's id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The price per unit.
    async fn amount(&self) -> Result<Money> {
        stored_money(self.0.amount_minor, &self.0.currency)
    }
    /// The first quantity this tier covers, 1 or more.
    async fn min_quantity(&self) -> i32 {
        self.0.min_quantity
    }
    /// The last quantity this tier covers (inclusive); null: no upper bound.
    async fn max_quantity(&self) -> Option<i32> {
        self.0.max_quantity
    }
    /// When the price was created, or last given a new amount or `maxQuantity`.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The product this price is for.
    async fn product(&self, ctx: &Context<'_>) -> Result<Product> {
        let product = loaders(ctx)
            .products
            .load_one(self.0.product_id)
            .await
            .map_err(load_failed)?;
        product
            .map(Product::from)
            .ok_or_else(|| dangling("product", self.0.product_id))
    }
    /// The list this price belongs to.
    async fn price_list(&self, ctx: &Context<'_>) -> Result<PriceList> {
        let list = loaders(ctx)
            .price_lists
            .load_one(self.0.price_list_id)
            .await
            .map_err(load_failed)?;
        list.map(PriceList)
            .ok_or_else(|| dangling("price list", self.0.price_list_id))
    }
}
