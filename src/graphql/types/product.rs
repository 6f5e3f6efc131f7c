use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{base_price, product, product_line};
use serde_json::Value as JsonValue;

use super::pricing::{PricingStrategy, ResolvedPrice};
use super::{Money, load_failed, stored_money};
use crate::graphql::loaders::{ProductPrices, ReadProduct, loaders};
use crate::graphql::pricing::{answered, question};
use crate::graphql::store;

/// A group of products; pricing groups may restrict ordering to some lines.
#[derive(Clone)]
pub struct ProductLine(pub product_line::Model);

#[Object]
impl ProductLine {
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
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
}

#[derive(Clone)]
pub struct Product {
    pub model: Arc<product::Model>,
    /// The products this one was read with, priced together.
    together: Arc<ProductPrices>,
}

impl Product {
    /// A product read with others (a page, a loader batch).
    pub fn read_with(model: Arc<product::Model>, together: &Arc<ProductPrices>) -> Self {
        Self {
            model,
            together: together.clone(),
        }
    }
}

impl From<product::Model> for Product {
    /// A product read alone.
    fn from(model: product::Model) -> Self {
        let together = ProductPrices::new([&model]);
        Self {
            model: Arc::new(model),
            together,
        }
    }
}

impl From<ReadProduct> for Product {
    fn from(read: ReadProduct) -> Self {
        Self {
            model: read.model,
            together: read.together,
        }
    }
}

#[Object]
impl Product {
    pub async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }
    /// Unique.
    async fn sku(&self) -> &str {
        &self.model.sku
    }
    async fn name(&self) -> &str {
        &self.model.name
    }
    async fn metadata(&self) -> &JsonValue {
        &self.model.metadata
    }
    async fn version(&self) -> i32 {
        self.model.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }

    async fn product_line(&self, ctx: &Context<'_>) -> Result<Option<ProductLine>> {
        let Some(id) = self.model.product_line_id else {
            return Ok(None);
        };
        let line = loaders(ctx).product_lines.load_one(id).await.map_err(load_failed)?;
        Ok(line.map(ProductLine))
    }

    /// What `customerId` (or an anonymous shopper) pays for this product,
    /// and why. Batched: a page of products resolves together. `null`, with
    /// an error at this field, when the question cannot be answered (an
    /// unknown customer or currency, a quantity below 1…): the rest of the
    /// page stands.
    async fn resolved_price(
        &self,
        ctx: &Context<'_>,
        customer_id: Option<ID>,
        currency: String,
        #[graphql(default = 1)] quantity: i64,
        at: Option<DateTime<Utc>>,
        #[graphql(default)] strategy: PricingStrategy,
    ) -> Result<Option<ResolvedPrice>> {
        let (question, quantity) = question(ctx, customer_id, &currency, quantity, at, strategy)?;
        let answer = self
            .together
            .answer(store(ctx), question, quantity, self.model.id)
            .await
            .map_err(load_failed)?;
        let answer = answer
            .map(|item| answered(ctx, item))
            .ok_or_else(|| crate::graphql::errors::internal("no answer for a loaded product"))?;
        Ok(Some(answer))
    }

    /// Prices without any list, by currency then tier.
    async fn base_prices(&self, ctx: &Context<'_>) -> Result<Vec<BasePrice>> {
        let prices = loaders(ctx)
            .base_prices_by_product
            .load_one(self.model.id)
            .await
            .map_err(load_failed)?;
        Ok(prices.unwrap_or_default().into_iter().map(BasePrice).collect())
    }
}

/// A product's price without any list, for quantities from `minQuantity` up
/// to the next tier.
#[derive(Clone)]
pub struct BasePrice(pub base_price::Model);

#[Object]
impl BasePrice {
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn amount(&self) -> Result<Money> {
        stored_money(self.0.amount_minor, &self.0.currency)
    }
    async fn min_quantity(&self) -> i32 {
        self.0.min_quantity
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
