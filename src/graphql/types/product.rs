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

/// A group of products, such as "Furniture". A pricing group may limit its
/// customers to some lines (docs/pricing.md#product-access).
#[Object]
impl ProductLine {
    /// The line's id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The line's name (not necessarily unique).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Increases by one with every update; pass it back as `version` to refuse stale edits.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the line was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the line was last updated.
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

/// Something that can be bought, with base prices by currency and
/// quantity tier. Every credential reads the catalog.
#[Object]
impl Product {
    /// The product's id.
    pub async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }
    /// The stock-keeping unit: unique (as written, case counts), without spaces.
    async fn sku(&self) -> &str {
        &self.model.sku
    }
    /// The product's name.
    async fn name(&self) -> &str {
        &self.model.name
    }
    /// Your own data about the product: a JSON object, `{}` when none was given.
    async fn metadata(&self) -> &JsonValue {
        &self.model.metadata
    }
    /// Increases by one with every update; pass it back as `version` to refuse stale edits.
    async fn version(&self) -> i32 {
        self.model.version
    }
    /// When the product was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    /// When the product was last updated (writing its prices does not count).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }

    /// The product's line; null when it has none (then every shopper may order it).
    async fn product_line(&self, ctx: &Context<'_>) -> Result<Option<ProductLine>> {
        let Some(id) = self.model.product_line_id else {
            return Ok(None);
        };
        let line = loaders(ctx).product_lines.load_one(id).await.map_err(load_failed)?;
        Ok(line.map(ProductLine))
    }

    /// What `customerId` (or an anonymous shopper) pays for this product,
    /// and why (docs/pricing.md#the-walk). Batched: a page of products
    /// resolves together. `null`, with an error at this field, when the
    /// question cannot be answered (bad arguments are `BAD_USER_INPUT`, an
    /// unknown customer `NOT_FOUND`): the rest of the page stands.
    async fn resolved_price(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The customer who buys; omitted: an anonymous shopper, whose only group is `Everyone`. \
                          A customer token may name only its own customer (or none): another is a `FORBIDDEN` error."
        )]
        customer_id: Option<ID>,
        #[graphql(desc = "An ISO 4217 code such as \"USD\", in any case.")] currency: String,
        #[graphql(
            default = 1,
            desc = "How many units are bought, 1 or more: it picks the quantity tier. \
                                       The answer is the price per unit."
        )]
        quantity: i64,
        #[graphql(desc = "The instant to price at; now when omitted. Every price of one request \
                          uses the same now.")]
        at: Option<DateTime<Utc>>,
        #[graphql(default, desc = "How to choose among the lists that have a price.")] strategy: PricingStrategy,
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

    /// The product's base prices (the prices without any list), by currency
    /// then tier (docs/pricing.md#tiers).
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

/// A product's price without any list, per unit, for quantities from
/// `minQuantity` up to the next tier's `minQuantity` in the same currency
/// (docs/pricing.md#tiers). It applies when no list price does, and a
/// `SALE` price applies only below it.
#[Object]
impl BasePrice {
    /// The base price's id.
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
    /// When the base price was created, or last given a new amount.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
