//! The catalog: product lines, products and their base prices.

use super::impact::run;
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
use crate::service::{catalog, prices, resolution};

/// Narrows `productLines`.
#[derive(InputObject, Default)]
pub struct ProductLineFilter {
    /// Only lines whose name contains this text, ignoring case; at most 100 characters.
    pub name_contains: Option<String>,
}

/// Narrows `products`: a product must match every condition given.
#[derive(InputObject, Default)]
pub struct ProductFilter {
    /// Only the products of this line.
    pub product_line_id: Option<ID>,
    /// Only products whose sku or name contains this text, ignoring case; at most 100 characters.
    pub search: Option<String>,
}

#[derive(Default)]
pub struct ProductQuery;

#[Object]
impl ProductQuery {
    /// The product line with this id, or `null` (and no error) when there is none; an id that is not a UUID is `BAD_USER_INPUT`. Open to every credential.
    async fn product_line(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The line's id.")] id: ID,
    ) -> Result<Option<ProductLine>> {
        Ok(look_up(&loaders(ctx).product_lines, "id", &id).await?.map(ProductLine))
    }

    /// Product lines, in creation order. Open to every credential.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn product_lines(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the lines that match; all when omitted.")] filter: Option<ProductLineFilter>,
        #[graphql(
            desc = "Page forwards: this many product lines from the start, or after `after`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only product lines after that one.")] after: Option<String>,
        #[graphql(
            desc = "Page backwards: this many product lines from the end, or before `before`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only product lines before that one.")] before: Option<String>,
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

    /// The product with this id, or `null` (and no error) when there is none; an id that is not a UUID is `BAD_USER_INPUT`. Open to every credential.
    async fn product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product's id.")] id: ID,
    ) -> Result<Option<Product>> {
        Ok(look_up(&loaders(ctx).products, "id", &id).await?.map(Product::from))
    }

    /// Products, in creation order. Open to every credential.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the products that match; all when omitted.")] filter: Option<ProductFilter>,
        #[graphql(
            desc = "Page forwards: this many products from the start, or after `after`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only products after that one.")] after: Option<String>,
        #[graphql(
            desc = "Page backwards: this many products from the end, or before `before`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only products before that one.")] before: Option<String>,
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
        let page = catalog::page_products(store(ctx), &filter, request);
        // The page's prices need its shopper: read beside the page.
        let (page, ahead) = match shopper_asked(ctx) {
            Some(customer) => tokio::join!(page, resolution::read_ahead(store(ctx), customer.as_deref())),
            None => (page.await, None),
        };
        let page = page.map_err(query_error)?;
        let together = ProductPrices::with_shopper(page.items.iter().map(|p| &**p), ahead);
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

/// A new product line.
#[derive(InputObject)]
pub struct CreateProductLineInput {
    /// The line's name, up to 255 characters.
    pub name: String,
}

/// Changes to a product line: what is left out stays as it is.
#[derive(InputObject)]
pub struct UpdateProductLineInput {
    /// The line to change.
    pub id: ID,
    /// The `version` you read: if the record has changed since, nothing is written
    /// (`STALE_VERSION`). Omitted: no check.
    pub version: Option<i32>,
    /// A new name, up to 255 characters.
    pub name: Option<String>,
}

/// A new product.
#[derive(InputObject)]
pub struct CreateProductInput {
    /// The stock-keeping unit: up to 255 characters without spaces; unique
    /// (case counts).
    pub sku: String,
    /// The product's name, up to 255 characters.
    pub name: String,
    /// The product's line; none when omitted.
    pub product_line_id: Option<ID>,
    /// Your own data: a JSON object; `{}` when omitted.
    pub metadata: Option<JsonValue>,
}

/// Changes to a product: what is left out stays as it is. Its prices
/// change with `upsertBasePrices` and `upsertPrices`.
#[derive(InputObject)]
pub struct UpdateProductInput {
    /// The product to change.
    pub id: ID,
    /// The `version` you read: if the record has changed since, nothing is written
    /// (`STALE_VERSION`). Omitted: no check.
    pub version: Option<i32>,
    /// A new sku: without spaces, unique.
    pub sku: Option<String>,
    /// A new name, up to 255 characters.
    pub name: Option<String>,
    /// Another line; `null` takes the product out of its line.
    pub product_line_id: MaybeUndefined<ID>,
    /// New metadata, a JSON object: it replaces the old one whole.
    pub metadata: Option<JsonValue>,
}

/// A base price to write: the tier is (product, currency, minQuantity).
#[derive(InputObject)]
pub struct BasePriceInput {
    /// The product.
    pub product_id: ID,
    /// ISO 4217 code, e.g. "USD", in any case.
    pub currency: String,
    /// First quantity of the tier; 1 when omitted.
    pub min_quantity: Option<i32>,
    /// The price per unit as an exact decimal string, e.g. "12.50": not
    /// negative, and no digit finer than the currency's minor unit (nothing
    /// is rounded).
    pub amount: String,
}

/// Base prices to write, in one batch.
#[derive(InputObject)]
pub struct UpsertBasePricesInput {
    /// At most 1,000. Existing tiers get the new amount; all or nothing.
    pub prices: Vec<BasePriceInput>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

/// Names a tier: (product, currency, minQuantity).
#[derive(InputObject)]
pub struct PriceKeyInput {
    /// The product.
    pub product_id: ID,
    /// ISO 4217 code, e.g. "USD", in any case.
    pub currency: String,
    /// The tier's first quantity; 1 when omitted.
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

/// Base prices to delete, in one batch.
#[derive(InputObject)]
pub struct DeleteBasePricesInput {
    /// At most 1,000; tiers that do not exist are skipped.
    pub prices: Vec<PriceKeyInput>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

payload!(
    CreateProductLinePayload,
    product_line: ProductLine,
    "createProductLine",
    "The new line"
);
payload!(
    UpdateProductLinePayload,
    product_line: ProductLine,
    "updateProductLine",
    "The line as updated"
);
payload!(
    CreateProductPayload,
    product: Product,
    "createProduct",
    "The new product"
);
payload!(
    UpdateProductPayload,
    product: Product,
    "updateProduct",
    "The product as updated"
);

/// The result of `upsertBasePrices`.
#[derive(SimpleObject)]
pub struct UpsertBasePricesPayload {
    /// The base prices as stored now, in input order.
    pub base_prices: Option<Vec<BasePrice>>,
    /// How many given tiers were new, changed, or already as given.
    pub summary: Option<UpsertSummary>,
    /// What was wrong with the input, if anything; when not empty, nothing was written.
    pub user_errors: Vec<UserError>,
    /// With `dryRun`, what the change would do to prices (nothing was
    /// written); null otherwise, and when `userErrors` is not empty.
    pub impact: Option<crate::graphql::impact::PriceImpact>,
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

/// The result of `deletePrices` and `deleteBasePrices`.
#[derive(SimpleObject)]
pub struct DeletePricesPayload {
    /// How many prices were deleted; null when `userErrors` is not empty.
    pub deleted_count: Option<u64>,
    /// What was wrong with the input, if anything; when not empty, nothing was written.
    pub user_errors: Vec<UserError>,
    /// With `dryRun`, what the change would do to prices (nothing was
    /// written); null otherwise, and when `userErrors` is not empty.
    pub impact: Option<crate::graphql::impact::PriceImpact>,
}

#[derive(Default)]
pub struct ProductMutation;

#[Object]
impl ProductMutation {
    /// Creates a product line.
    async fn create_product_line(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new line.")] input: CreateProductLineInput,
    ) -> Result<CreateProductLinePayload> {
        CreateProductLinePayload::from_result(catalog::create_line(store(ctx), &input.name).await, ProductLine)
    }

    /// Renames a product line.
    async fn update_product_line(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The line and its changes.")] input: UpdateProductLineInput,
    ) -> Result<UpdateProductLinePayload> {
        let input = catalog::ProductLineChanges {
            id: input.id.0,
            version: input.version,
            name: input.name,
        };
        UpdateProductLinePayload::from_result(catalog::update_line(store(ctx), input).await, ProductLine)
    }

    /// Deletes the line: its products stay, without a line; groups stop listing it.
    async fn delete_product_line(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The line to delete.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
        DeletePayload::from_run(
            crate::graphql::impact::run(
                ctx,
                input.dry_run,
                catalog::delete_line(store(ctx), &input.id, input.version),
            )
            .await,
        )
    }

    /// Creates a product, without prices: give it base prices with `upsertBasePrices`.
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new product.")] input: CreateProductInput,
    ) -> Result<CreateProductPayload> {
        let input = catalog::NewProduct {
            sku: input.sku,
            name: input.name,
            product_line_id: input.product_line_id.map(|id| id.0),
            metadata: input.metadata,
        };
        CreateProductPayload::from_result(catalog::create_product(store(ctx), input).await, Product::from)
    }

    /// Changes a product's sku, name, line or metadata.
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product and its changes.")] input: UpdateProductInput,
    ) -> Result<UpdateProductPayload> {
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
    async fn delete_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product to delete.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
        DeletePayload::from_run(
            crate::graphql::impact::run(
                ctx,
                input.dry_run,
                catalog::delete_product(store(ctx), &input.id, input.version),
            )
            .await,
        )
    }

    /// Writes base prices in one batch: new tiers are added, existing tiers
    /// (same product, currency and `minQuantity`) get the new amount. All or
    /// nothing.
    async fn upsert_base_prices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The base prices to write.")] input: UpsertBasePricesInput,
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
        let (result, impact) = run(ctx, input.dry_run, prices::upsert_base_prices(store(ctx), &inputs)).await;
        let (written, user_errors) = mutation_result(result, |(rows, written)| {
            (rows.into_iter().map(BasePrice).collect(), UpsertSummary::from(written))
        })?;
        let (base_prices, summary) = written.unzip();
        Ok(UpsertBasePricesPayload {
            base_prices,
            summary,
            user_errors,
            impact,
        })
    }

    /// Deletes base prices by tier, in one batch; tiers that do not exist are
    /// skipped.
    async fn delete_base_prices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tiers to delete.")] input: DeleteBasePricesInput,
    ) -> Result<DeletePricesPayload> {
        let keys: Vec<prices::PriceKeyInput> = input.prices.into_iter().map(Into::into).collect();
        let (result, impact) = run(ctx, input.dry_run, prices::delete_base_prices(store(ctx), &keys)).await;
        let (deleted_count, user_errors) = mutation_result(result, |n| n)?;
        Ok(DeletePricesPayload {
            deleted_count,
            user_errors,
            impact,
        })
    }
}

/// Whether the page's products are asked their `resolvedPrice`, and for
/// whom: `Some(None)` for an anonymous shopper, `Some(Some(id))` for the
/// `customerId` as sent (variables resolved). The first such selection
/// decides; others read their shopper as usual.
fn shopper_asked(ctx: &Context<'_>) -> Option<Option<String>> {
    let look = ctx.look_ahead();
    let mut asked = look
        .field("edges")
        .field("node")
        .field("resolvedPrice")
        .selection_fields();
    asked.extend(look.field("nodes").field("resolvedPrice").selection_fields());
    let arguments = asked.first()?.arguments().ok()?;
    match arguments.into_iter().find(|(name, _)| name.as_str() == "customerId") {
        None | Some((_, async_graphql::Value::Null)) => Some(None),
        Some((_, async_graphql::Value::String(id))) => Some(Some(id)),
        Some(_) => None,
    }
}
