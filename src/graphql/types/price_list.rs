use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{price, price_list};
use serde_json::Value as JsonValue;

use super::{
    CustomerGroupPriceList, Money, PriceListStatus, PriceListType, Product, dangling, load_failed, stored_money,
};
use crate::graphql::connection::{CountedConnection, TotalCount, connection, page_request};
use crate::graphql::errors::query_error;
use crate::graphql::loaders::loaders;
use crate::page::Page;
use crate::service::prices;

/// A set of prices that applies to the pricing groups it is linked to, while
/// `ACTIVE` and inside its window.
#[derive(Clone)]
pub struct PriceList(pub price_list::Model);

#[Object]
impl PriceList {
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    #[graphql(name = "type")]
    async fn list_type(&self) -> PriceListType {
        self.0.list_type.into()
    }
    async fn status(&self) -> PriceListStatus {
        self.0.status.into()
    }
    /// Inclusive start of the window; null is open.
    async fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.0.starts_at
    }
    /// Exclusive end of the window; null is open.
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.ends_at
    }
    async fn metadata(&self) -> &JsonValue {
        &self.0.metadata
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The pricing groups this list is linked to, by priority.
    async fn customer_groups(&self, ctx: &Context<'_>) -> Result<Vec<CustomerGroupPriceList>> {
        let links = loaders(ctx)
            .group_links_by_price_list
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?;
        Ok(links
            .unwrap_or_default()
            .into_iter()
            .map(|(link, group)| CustomerGroupPriceList {
                link,
                price_list: Some(self.0.clone()),
                group: Some(group),
            })
            .collect())
    }

    /// The list's prices, optionally for one product or currency.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn prices(
        &self,
        ctx: &Context<'_>,
        product_id: Option<ID>,
        currency: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
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

#[Object]
impl Price {
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn amount(&self) -> Result<Money> {
        stored_money(self.0.amount_minor, &self.0.currency)
    }
    async fn min_quantity(&self) -> i32 {
        self.0.min_quantity
    }
    async fn max_quantity(&self) -> Option<i32> {
        self.0.max_quantity
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
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
