//! Price resolution queries: `resolvedPrice`, `resolvePrices` and the
//! admin's `simulatePrices`. The fields on `Product` and `Customer` live
//! with those types.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use super::access;
use super::errors::{internal, query_error};
use super::loaders::loaders;
use super::types::pricing::{PricingStrategy, ResolvedPrice};
use super::{metrics, store};
use crate::domain::Quantity;
use crate::error::{Problems, ServiceError};
use crate::service::parse_id;
use crate::service::resolution::{self, PriceItem, PriceQuestion, PricedItem};
use crate::service::simulation;

/// One product to price, at one quantity.
#[derive(InputObject)]
pub struct PriceItemInput {
    /// The product. An id that names no product is a `NOT_FOUND` error.
    pub product_id: ID,
    /// How many units are bought, 1 or more; 1 when omitted. It picks the
    /// quantity tier; the answer is the price per unit.
    #[graphql(default = 1)]
    pub quantity: i64,
}

/// A price question about many products: one shopper, currency, instant
/// and strategy for all of them.
#[derive(InputObject)]
pub struct ResolvePricesInput {
    /// The customer who buys; omitted: an anonymous shopper, whose only group
    /// is `Everyone`. A customer token may name only its own customer (or
    /// none): another is a `FORBIDDEN` error.
    pub customer_id: Option<ID>,
    /// ISO 4217 code, e.g. "USD", in any case.
    pub currency: String,
    /// The instant to price at; now when omitted.
    pub at: Option<DateTime<Utc>>,
    /// How to choose among the lists that have a price; `PRIORITY` when omitted.
    #[graphql(default)]
    pub strategy: PricingStrategy,
    /// At most 1,000; answered in the same order.
    pub items: Vec<PriceItemInput>,
}

/// A price question about a shopper who need not exist: as if they were in
/// exactly these groups, or this organization (docs/api.md#simulate-prices).
#[derive(InputObject)]
pub struct SimulatePricesInput {
    /// Start from this customer: its own groups and its organization, unless
    /// `organizationId` replaces the organization. Not with `groupIds`.
    pub customer_id: Option<ID>,
    /// The shopper's own `PRICING` groups (at most 100); `Everyone` always
    /// counts besides. Not with `customerId`; a `TYPE` group is a
    /// `WRONG_GROUP_KIND` error.
    pub group_ids: Option<Vec<ID>>,
    /// The shopper's organization: its groups replace the own ones when it
    /// has an active one (docs/pricing.md#effective-groups).
    pub organization_id: Option<ID>,
    /// ISO 4217 code, e.g. "USD", in any case.
    pub currency: String,
    /// The instant to price at, such as next Monday; now when omitted.
    pub at: Option<DateTime<Utc>>,
    /// How to choose among the lists that have a price; `PRIORITY` when omitted.
    #[graphql(default)]
    pub strategy: PricingStrategy,
    /// At most 1,000; answered in the same order.
    pub items: Vec<PriceItemInput>,
}

#[derive(Default)]
pub struct PricingQuery;

#[Object]
impl PricingQuery {
    /// What `customerId` pays for `productId`, and why (docs/pricing.md#the-walk).
    /// Without a customer: what an anonymous shopper pays. Open to every
    /// credential. `null`, with an error naming the argument, when the
    /// question cannot be answered: bad arguments are `BAD_USER_INPUT`, an
    /// unknown customer or product `NOT_FOUND`.
    #[allow(clippy::too_many_arguments)]
    async fn resolved_price(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The customer who buys; omitted: an anonymous shopper, whose only group is `Everyone`. \
                          A customer token may name only its own customer (or none): another is a `FORBIDDEN` error."
        )]
        customer_id: Option<ID>,
        #[graphql(desc = "The product bought.")] product_id: ID,
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
        let product_id = parse_id(&["productId"], "product", &product_id).map_err(|e| query_error(e.into()))?;
        let item = PriceItem { product_id, quantity };
        let mut answers = resolution::resolve(store(ctx), &question, &[item])
            .await
            .map_err(|e| query_error(at_argument(e)))?;
        let answer = answers.pop().ok_or_else(|| internal("no answer for the one item"))?;
        Ok(Some(ResolvedPrice::answers(ctx, vec![answer]).remove(0)))
    }

    /// Prices for many products and quantities at once: one answer per item,
    /// in input order, for the same shopper at the same instant, in a fixed
    /// number of database reads however many items. Open to every
    /// credential. A bad item is an error (`BAD_USER_INPUT`, or `NOT_FOUND`
    /// for an unknown product) whose `extensions.field` names it, such as
    /// `items.3.quantity`; then no item is answered (`null`).
    #[graphql(complexity = "1 + input.items.len().max(1) * child_complexity")]
    async fn resolve_prices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shopper, currency, instant and strategy, and the items to price.")]
        input: ResolvePricesInput,
    ) -> Result<Option<Vec<ResolvedPrice>>> {
        let customer_id = input.customer_id.as_deref().map(String::as_str);
        access::check_customer(ctx, customer_id)?;
        let raw: Vec<(String, i64)> = input.items.into_iter().map(|i| (i.product_id.0, i.quantity)).collect();
        let mut problems = Problems::default();
        let now = loaders(ctx).now();
        let question = PriceQuestion::parse(
            customer_id,
            &input.currency,
            input.at,
            input.strategy.into(),
            now,
            &mut problems,
        );
        let items = resolution::parse_items(&raw, &mut problems);
        let Some(question) = question else {
            return Err(query_error(problems.refused()));
        };
        problems.into_result().map_err(query_error)?;
        let question = question.explained(explains(ctx));
        let answers = resolution::resolve(store(ctx), &question, &items)
            .await
            .map_err(query_error)?;
        Ok(Some(ResolvedPrice::answers(ctx, answers)))
    }
}

#[Object]
impl SimulationQuery {
    /// What a shopper would pay, and why, if they were in exactly these
    /// groups or this organization, at this instant — without creating a
    /// customer; nothing is written and nothing is counted. The same walk and
    /// explanations as `resolvePrices`. Admin only. Bad input is a
    /// `BAD_USER_INPUT` or `NOT_FOUND` error whose `extensions.field` names it
    /// (`groupIds.2`, `items.0.productId`).
    #[graphql(complexity = "1 + input.items.len().max(1) * child_complexity")]
    async fn simulate_prices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who to imagine, the currency, instant and strategy, and the items to price.")]
        input: SimulatePricesInput,
    ) -> Result<Vec<ResolvedPrice>> {
        let group_ids: Option<Vec<String>> = input.group_ids.map(|ids| ids.into_iter().map(|id| id.0).collect());
        let imagined = simulation::Imagined {
            customer_id: input.customer_id.as_deref().map(String::as_str),
            group_ids: group_ids.as_deref(),
            organization_id: input.organization_id.as_deref().map(String::as_str),
        };
        let raw: Vec<(String, i64)> = input.items.into_iter().map(|i| (i.product_id.0, i.quantity)).collect();
        let mut problems = Problems::default();
        let question = PriceQuestion::parse(
            None,
            &input.currency,
            input.at,
            input.strategy.into(),
            loaders(ctx).now(),
            &mut problems,
        );
        let items = resolution::parse_items(&raw, &mut problems);
        let as_if = simulation::imagine(store(ctx), &imagined, &mut problems)
            .await
            .map_err(query_error)?;
        let Some(question) = question else {
            return Err(query_error(problems.refused()));
        };
        problems.into_result().map_err(query_error)?;
        let question = question.explained(explains(ctx));
        let answers = simulation::simulate(store(ctx), &as_if, &question, &items)
            .await
            .map_err(query_error)?;
        Ok(ResolvedPrice::imagined(answers))
    }
}

/// `simulatePrices`, beside the other price questions.
#[derive(Default)]
pub struct SimulationQuery;

/// The arguments of a one-product price question (`resolvedPrice`,
/// `Product.resolvedPrice`), checked once, after the caller's access to
/// the customer's prices.
pub(crate) fn question(
    ctx: &Context<'_>,
    customer_id: Option<ID>,
    currency: &str,
    quantity: i64,
    at: Option<DateTime<Utc>>,
    strategy: PricingStrategy,
) -> Result<(PriceQuestion, Quantity)> {
    let customer_id = customer_id.as_deref().map(String::as_str);
    access::check_customer(ctx, customer_id)?;
    let mut problems = Problems::default();
    let question = PriceQuestion::parse(
        customer_id,
        currency,
        at,
        strategy.into(),
        loaders(ctx).now(),
        &mut problems,
    );
    let quantity = problems.check(Quantity::parse("quantity", quantity));
    let (Some(question), Some(quantity)) = (question, quantity) else {
        return Err(query_error(problems.refused()));
    };
    Ok((question.explained(explains(ctx)), quantity))
}

/// Whether the caller reads `explanation`: explaining costs a walk over
/// every candidate.
fn explains(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("explanation").exists()
}

/// An answer as the API shows it, counted in `/metrics` by its source.
pub(crate) fn answered(ctx: &Context<'_>, item: PricedItem) -> ResolvedPrice {
    metrics(ctx).resolved(std::iter::once(item.resolved.source));
    ResolvedPrice::new(item)
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
