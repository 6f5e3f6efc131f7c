//! Price resolution queries: `resolvedPrice` and `resolvePrices`. The fields
//! on `Product` and `Customer` live with those types.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use super::db;
use super::errors::query_error;
use super::loaders::loaders;
use super::types::pricing::{PricingStrategy, ResolvedPrice};
use crate::error::ServiceError;
use crate::service::resolution::{self, PriceQuery};

#[derive(InputObject)]
pub struct PriceItemInput {
    pub product_id: ID,
    /// 1 or more; 1 when omitted.
    #[graphql(default = 1)]
    pub quantity: i64,
}

#[derive(InputObject)]
pub struct ResolvePricesInput {
    /// Omitted: an anonymous shopper, whose only group is `Everyone`.
    pub customer_id: Option<ID>,
    /// ISO 4217 code, e.g. "USD".
    pub currency: String,
    /// RFC 3339; now when omitted.
    pub at: Option<DateTime<Utc>>,
    #[graphql(default)]
    pub strategy: PricingStrategy,
    /// At most 1,000; answered in the same order.
    pub items: Vec<PriceItemInput>,
}

#[derive(Default)]
pub struct PricingQuery;

#[Object]
impl PricingQuery {
    /// What `customerId` pays for `productId` (SPEC §4), and why. Without a
    /// customer: what an anonymous shopper pays.
    #[allow(clippy::too_many_arguments)]
    async fn resolved_price(
        &self,
        ctx: &Context<'_>,
        customer_id: Option<ID>,
        product_id: ID,
        currency: String,
        #[graphql(default = 1)] quantity: i64,
        at: Option<DateTime<Utc>>,
        #[graphql(default)] strategy: PricingStrategy,
    ) -> Result<ResolvedPrice> {
        crate::graphql::access::check_customer(ctx, customer_id.as_deref().map(String::as_str))?;
        let (customer_id, currency, quantity) =
            resolution::question_args(customer_id.as_deref().map(String::as_str), &currency, quantity)
                .map_err(query_error)?;
        let product_id =
            crate::service::parse_id(&["productId"], "product", &product_id).map_err(|e| query_error(e.into()))?;
        let query = PriceQuery {
            customer_id,
            currency,
            at: at.unwrap_or(loaders(ctx).now),
            strategy: strategy.into(),
            items: vec![(product_id, quantity)],
            explain: ctx.look_ahead().field("explanation").exists(),
        };
        let mut answers = resolution::resolve_prices(db(ctx), &query)
            .await
            .map_err(|e| query_error(at_argument(e)))?;
        answers
            .pop()
            .map(ResolvedPrice)
            .ok_or_else(|| super::errors::internal("no answer for the one item"))
    }

    /// Prices for many products and quantities at once, in input order, in a
    /// fixed number of SQL statements.
    async fn resolve_prices(&self, ctx: &Context<'_>, input: ResolvePricesInput) -> Result<Vec<ResolvedPrice>> {
        crate::graphql::access::check_customer(ctx, input.customer_id.as_deref().map(String::as_str))?;
        let items: Vec<(String, i64)> = input.items.into_iter().map(|i| (i.product_id.0, i.quantity)).collect();
        let query = resolution::price_query(
            input.customer_id.as_deref().map(String::as_str),
            &input.currency,
            input.at,
            input.strategy.into(),
            &items,
            loaders(ctx).now,
        )
        .map_err(|errors| query_error(ServiceError::Invalid(errors)))?;
        let query = PriceQuery {
            explain: ctx.look_ahead().field("explanation").exists(),
            ..query
        };
        let answers = resolution::resolve_prices(db(ctx), &query).await.map_err(query_error)?;
        Ok(answers.into_iter().map(ResolvedPrice).collect())
    }
}

/// In `resolvedPrice` the product is an argument, not `items.0.productId`.
fn at_argument(error: ServiceError) -> ServiceError {
    match error {
        ServiceError::Invalid(errors) => ServiceError::Invalid(
            errors
                .into_iter()
                .map(|mut e| {
                    if e.field.first().is_some_and(|f| f == "items") {
                        e.field = e.field.split_off(2);
                    }
                    e
                })
                .collect(),
        ),
        other => other,
    }
}
