//! The catalog: product lines, products and their base prices.

use super::loaders::loaders;
use super::node::look_up;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use serde_json::Value as JsonValue;

use super::connection::{CountedConnection, TotalCount, connection, page_request};
use super::errors::search_text;
use super::errors::{DeletePayload, UserError, mutation_result, payload, query_error};
use super::groups::{DeleteInput, id_arg, patch};
use super::loaders::ProductPrices;
use super::store;
use super::types::{BasePrice, Product, ProductLine};
use crate::service::{catalog, prices};

#[derive(InputObject, Default)]
pub struct ProductLineFilter {
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
}

#[derive(InputObject, Default)]
pub struct ProductFilter {
    pub product_line_id: Option<ID>,
    /// Case-insensitive substring of the sku or the name.
    pub search: Option<String>,
}

#[derive(Default)]
pub struct ProductQuery;

#[Object]
impl ProductQuery {
    async fn product_line(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ProductLine>> {
        Ok(look_up(&loaders(ctx).product_lines, "id", &id).await?.map(ProductLine))
    }

    /// Product lines in creation order.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn product_lines(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProductLineFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<CountedConnection<ProductLine>>> {
        let request = page_request(first, after, last, before)?;
        let filter = catalog::ProductLineFilter {
            name_contains: search_text("nameContains", filter.unwrap_or_default().name_contains.as_deref())?,
        };
        let conn = store(ctx).conn();
        let page = catalog::page_lines(conn, &filter, request).await.map_err(query_error)?;
        let total = TotalCount::counting(store(ctx), filter, |store, filter| async move {
            catalog::count_lines(store.conn(), &filter).await
        });
        Ok(Some(connection(page, |l| l.id, ProductLine, total)))
    }

    async fn product(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>> {
        Ok(look_up(&loaders(ctx).products, "id", &id).await?.map(Product::from))
    }

    /// Products in creation order.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProductFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<CountedConnection<Product>>> {
        let request = page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = catalog::ProductFilter {
            product_line_id: filter
                .product_line_id
                .map(|id| id_arg("product line", &id))
                .transpose()?,
            search: search_text("search", filter.search.as_deref())?,
        };
        let page = catalog::page_products(store(ctx), &filter, request)
            .await
            .map_err(query_error)?;
        let together = ProductPrices::new(page.items.iter().map(|p| &**p));
        let total = TotalCount::counting(store(ctx), filter, |store, filter| async move {
            catalog::count_products(store.conn(), &filter).await
        });
        Ok(Some(connection(
            crate::page::Page::clone(&page),
            |p| p.id,
            |p| Product::read_with(p, &together),
            total,
        )))
    }
}

#[derive(InputObject)]
pub struct CreateProductLineInput {
    pub name: String,
}

#[derive(InputObject)]
pub struct UpdateProductLineInput {
    pub id: ID,
    /// The version you read; a stale one is refused (`STALE_VERSION`).
    pub version: Option<i32>,
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct CreateProductInput {
    /// Unique; no spaces.
    pub sku: String,
    pub name: String,
    pub product_line_id: Option<ID>,
    /// A JSON object.
    pub metadata: Option<JsonValue>,
}

#[derive(InputObject)]
pub struct UpdateProductInput {
    pub id: ID,
    /// The version you read; a stale one is refused (`STALE_VERSION`).
    pub version: Option<i32>,
    pub sku: Option<String>,
    pub name: Option<String>,
    /// `null` takes the product out of its line.
    pub product_line_id: MaybeUndefined<ID>,
    pub metadata: Option<JsonValue>,
}

/// A base price to write: the tier is (product, currency, minQuantity).
#[derive(InputObject)]
pub struct BasePriceInput {
    pub product_id: ID,
    /// ISO 4217 code, e.g. "USD".
    pub currency: String,
    /// First quantity of the tier; 1 when omitted.
    pub min_quantity: Option<i32>,
    /// Exact decimal string with at most the currency's minor-unit digits, e.g. "12.50".
    pub amount: String,
}

#[derive(InputObject)]
pub struct UpsertBasePricesInput {
    /// At most 1,000. Existing tiers get the new amount; all or nothing.
    pub prices: Vec<BasePriceInput>,
}

/// Names a tier: (product, currency, minQuantity).
#[derive(InputObject)]
pub struct PriceKeyInput {
    pub product_id: ID,
    pub currency: String,
    /// 1 when omitted.
    pub min_quantity: Option<i32>,
}

impl From<PriceKeyInput> for prices::PriceKeyInput {
    fn from(key: PriceKeyInput) -> Self {
        Self {
            product_id: key.product_id.0,
            currency: key.currency,
            min_quantity: key.min_quantity.map(Into::into),
        }
    }
}

#[derive(InputObject)]
pub struct DeleteBasePricesInput {
    /// At most 1,000; tiers that do not exist are skipped.
    pub prices: Vec<PriceKeyInput>,
}

payload!(CreateProductLinePayload, product_line: ProductLine);
payload!(UpdateProductLinePayload, product_line: ProductLine);
payload!(CreateProductPayload, product: Product);
payload!(UpdateProductPayload, product: Product);

#[derive(SimpleObject)]
pub struct UpsertBasePricesPayload {
    /// The base prices as stored now, in input order.
    pub base_prices: Option<Vec<BasePrice>>,
    /// How many given tiers were new, changed, or already as given.
    pub summary: Option<UpsertSummary>,
    pub user_errors: Vec<UserError>,
}

/// What a batch upsert did with the tiers it was given (the CLI's
/// `import` counts the same way).
#[derive(SimpleObject)]
pub struct UpsertSummary {
    /// Tiers that did not exist and were added.
    pub created: u64,
    /// Tiers that existed with another amount or maxQuantity.
    pub updated: u64,
    /// Tiers already stored as given: not written.
    pub unchanged: u64,
}

impl From<prices::Written> for UpsertSummary {
    fn from(written: prices::Written) -> Self {
        Self {
            created: written.created,
            updated: written.updated,
            unchanged: written.unchanged,
        }
    }
}

/// The payload of a batch delete.
#[derive(SimpleObject)]
pub struct DeletePricesPayload {
    /// How many rows were deleted.
    pub deleted_count: Option<u64>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ProductMutation;

#[Object]
impl ProductMutation {
    async fn create_product_line(
        &self,
        ctx: &Context<'_>,
        input: CreateProductLineInput,
    ) -> Result<CreateProductLinePayload> {
        CreateProductLinePayload::from_result(catalog::create_line(store(ctx), &input.name).await, ProductLine)
    }

    async fn update_product_line(
        &self,
        ctx: &Context<'_>,
        input: UpdateProductLineInput,
    ) -> Result<UpdateProductLinePayload> {
        let input = catalog::ProductLineChanges {
            id: input.id.0,
            version: input.version,
            name: input.name,
        };
        UpdateProductLinePayload::from_result(catalog::update_line(store(ctx), input).await, ProductLine)
    }

    /// Deletes the line: its products stay, without a line; groups stop listing it.
    async fn delete_product_line(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        DeletePayload::from_result(catalog::delete_line(store(ctx), &input.id, input.version).await)
    }

    async fn create_product(&self, ctx: &Context<'_>, input: CreateProductInput) -> Result<CreateProductPayload> {
        let input = catalog::NewProduct {
            sku: input.sku,
            name: input.name,
            product_line_id: input.product_line_id.map(|id| id.0),
            metadata: input.metadata,
        };
        CreateProductPayload::from_result(catalog::create_product(store(ctx), input).await, Product::from)
    }

    async fn update_product(&self, ctx: &Context<'_>, input: UpdateProductInput) -> Result<UpdateProductPayload> {
        let input = catalog::ProductChanges {
            id: input.id.0,
            version: input.version,
            sku: input.sku,
            name: input.name,
            product_line_id: patch(input.product_line_id.map_value(|id| id.0)),
            metadata: input.metadata,
        };
        UpdateProductPayload::from_result(catalog::update_product(store(ctx), input).await, Product::from)
    }

    /// Deletes the product with its base prices and every list's prices for it.
    async fn delete_product(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        DeletePayload::from_result(catalog::delete_product(store(ctx), &input.id, input.version).await)
    }

    async fn upsert_base_prices(
        &self,
        ctx: &Context<'_>,
        input: UpsertBasePricesInput,
    ) -> Result<UpsertBasePricesPayload> {
        let inputs: Vec<prices::PriceInput> = input
            .prices
            .into_iter()
            .map(|p| prices::PriceInput {
                product_id: p.product_id.0,
                currency: p.currency,
                min_quantity: p.min_quantity.map(Into::into),
                max_quantity: None,
                amount: p.amount,
            })
            .collect();
        let result = prices::upsert_base_prices(store(ctx), &inputs).await;
        let (written, user_errors) = mutation_result(result, |(rows, written)| {
            (rows.into_iter().map(BasePrice).collect(), UpsertSummary::from(written))
        })?;
        let (base_prices, summary) = written.unzip();
        Ok(UpsertBasePricesPayload {
            base_prices,
            summary,
            user_errors,
        })
    }

    async fn delete_base_prices(&self, ctx: &Context<'_>, input: DeleteBasePricesInput) -> Result<DeletePricesPayload> {
        let keys: Vec<prices::PriceKeyInput> = input.prices.into_iter().map(Into::into).collect();
        let result = prices::delete_base_prices(store(ctx), &keys).await;
        let (deleted_count, user_errors) = mutation_result(result, |n| n)?;
        Ok(DeletePricesPayload {
            deleted_count,
            user_errors,
        })
    }
}
