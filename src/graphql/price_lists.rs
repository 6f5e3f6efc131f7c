//! Price lists and their prices.

use super::loaders::loaders;
use super::node::look_up;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value as JsonValue;

use super::connection::{CountedConnection, TotalCount, connection, page_request};
use super::errors::search_text;
use super::errors::{DeletePayload, UserError, impact_payload, mutation_result, payload, query_error};
use super::groups::{DeleteInput, patch};
use super::impact::run;
use super::products::{DeletePricesPayload, PriceKeyInput, UpsertSummary};
use super::store;
use super::types::{Price, PriceList, PriceListStatus, PriceListType};
use crate::service::{price_lists, prices};

/// Narrows `priceLists`: a list must match every condition given.
#[derive(InputObject, Default)]
pub struct PriceListFilter {
    /// Only lists with this status.
    pub status: Option<PriceListStatus>,
    /// Only lists of this type.
    #[graphql(name = "type")]
    pub list_type: Option<PriceListType>,
    /// Only lists whose name contains this text, ignoring case; at most 100 characters.
    pub name_contains: Option<String>,
}

#[derive(Default)]
pub struct PriceListQuery;

#[Object]
impl PriceListQuery {
    /// The price list with this id, or `null` (and no error) when there is none; an id that is not a UUID is `BAD_USER_INPUT`. Admin only.
    async fn price_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The list's id.")] id: ID,
    ) -> Result<Option<PriceList>> {
        Ok(look_up(&loaders(ctx).price_lists, "id", &id).await?.map(PriceList))
    }

    /// Price lists, in creation order. Admin only.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn price_lists(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the lists that match; all when omitted.")] filter: Option<PriceListFilter>,
        #[graphql(
            desc = "Page forwards: this many price lists from the start, or after `after`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only price lists after that one.")] after: Option<String>,
        #[graphql(
            desc = "Page backwards: this many price lists from the end, or before `before`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only price lists before that one.")] before: Option<String>,
    ) -> Result<Option<CountedConnection<PriceList>>> {
        let request = page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = price_lists::PriceListFilter {
            status: filter.status.map(Into::into),
            list_type: filter.list_type.map(Into::into),
            name_contains: search_text("nameContains", filter.name_contains.as_deref())?,
        };
        let conn = store(ctx).conn();
        let page = price_lists::page(conn, &filter, request).await.map_err(query_error)?;
        let total = TotalCount::counting(store(ctx), filter, |store, filter| async move {
            price_lists::count(store.conn(), &filter).await
        });
        Ok(Some(connection(page, |l| l.id, PriceList, total)))
    }
}

/// A new price list, without prices: add them with `upsertPrices`, and
/// link the list to groups with `addPriceListToGroup`.
#[derive(InputObject)]
pub struct CreatePriceListInput {
    /// The list's name, up to 255 characters.
    pub name: String,
    /// A description for admins, up to 4,096 characters; blank means none.
    pub description: Option<String>,
    /// `SALE` when omitted.
    #[graphql(name = "type")]
    pub list_type: Option<PriceListType>,
    /// `ACTIVE` when omitted.
    pub status: Option<PriceListStatus>,
    /// The first instant the list applies (inclusive), in the years 1 to
    /// 9999; no start when omitted.
    pub starts_at: Option<DateTime<Utc>>,
    /// The instant the list stops applying (exclusive), after `startsAt`,
    /// in the years 1 to 9999; no end when omitted.
    pub ends_at: Option<DateTime<Utc>>,
    /// Makes it a derived list: it prices every product with a base price
    /// at this discount, where it has no matching price of its own. A list
    /// of fixed prices only when omitted.
    pub rule: Option<PriceListRuleInput>,
    /// Your own data: a JSON object; `{}` when omitted.
    pub metadata: Option<JsonValue>,
}

/// A derived list's rule (docs/pricing.md#derived-lists).
#[derive(InputObject)]
pub struct PriceListRuleInput {
    /// The discount off the base price in percent, as a string: above 0,
    /// at most 100, at most two decimals (`"20"`, `"12.5"`); anything else
    /// is `INVALID_RULE`.
    pub percent_off: String,
}

impl From<PriceListRuleInput> for price_lists::NewRule {
    fn from(input: PriceListRuleInput) -> Self {
        Self {
            percent_off: input.percent_off,
        }
    }
}

/// Changes to a price list: what is left out stays as it is. Its prices
/// change with `upsertPrices` and `deletePrices`.
#[derive(InputObject)]
pub struct UpdatePriceListInput {
    /// The list to change.
    pub id: ID,
    /// The `version` you read: if the record has changed since, nothing is written
    /// (`STALE_VERSION`). Omitted: no check.
    pub version: Option<i32>,
    /// A new name, up to 255 characters.
    pub name: Option<String>,
    /// A new description, up to 4,096 characters; `null` clears it.
    pub description: MaybeUndefined<String>,
    /// A new type.
    #[graphql(name = "type")]
    pub list_type: Option<PriceListType>,
    /// A new status: `DRAFT` takes the list out of pricing, `ACTIVE` puts it back.
    pub status: Option<PriceListStatus>,
    /// A new start (inclusive); `null` opens the window's start. The window
    /// as changed must end after it starts.
    pub starts_at: MaybeUndefined<DateTime<Utc>>,
    /// A new end (exclusive); `null` opens the window's end.
    pub ends_at: MaybeUndefined<DateTime<Utc>>,
    /// A new rule; `null` removes it, leaving the list's own prices only.
    pub rule: MaybeUndefined<PriceListRuleInput>,
    /// New metadata, a JSON object: it replaces the old one whole.
    pub metadata: Option<JsonValue>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

/// A price to write: the tier is (product, currency, minQuantity).
#[derive(InputObject)]
pub struct PriceInput {
    /// The product.
    pub product_id: ID,
    /// ISO 4217 code, e.g. "USD", in any case.
    pub currency: String,
    /// First quantity of the tier; 1 when omitted.
    pub min_quantity: Option<i32>,
    /// Last quantity of the tier (inclusive), not below `minQuantity`;
    /// open-ended when omitted.
    pub max_quantity: Option<i32>,
    /// The price per unit as an exact decimal string, e.g. "12.50": not
    /// negative, and no digit finer than the currency's minor unit (nothing
    /// is rounded).
    pub amount: String,
}

/// A price list's prices to write, in one batch.
#[derive(InputObject)]
pub struct UpsertPricesInput {
    /// The list.
    pub price_list_id: ID,
    /// At most 1,000. Existing tiers get the new amount and maxQuantity; all or nothing.
    pub prices: Vec<PriceInput>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

/// A price list's prices to delete, in one batch.
#[derive(InputObject)]
pub struct DeletePricesInput {
    /// The list.
    pub price_list_id: ID,
    /// At most 1,000; tiers that do not exist are skipped.
    pub prices: Vec<PriceKeyInput>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

payload!(
    CreatePriceListPayload,
    price_list: PriceList,
    "createPriceList",
    "The new list"
);
impact_payload!(
    UpdatePriceListPayload,
    price_list: PriceList,
    "updatePriceList",
    "The list as updated"
);

/// The result of `upsertPrices`.
#[derive(SimpleObject)]
pub struct UpsertPricesPayload {
    /// The list written to; null when `userErrors` is not empty.
    pub price_list: Option<PriceList>,
    /// The prices as stored now, in input order.
    pub prices: Option<Vec<Price>>,
    /// How many given tiers were new, changed, or already as given.
    pub summary: Option<UpsertSummary>,
    /// What was wrong with the input, if anything; when not empty, nothing was written.
    pub user_errors: Vec<UserError>,
    /// With `dryRun`, what the change would do to prices (nothing was
    /// written); null otherwise, and when `userErrors` is not empty.
    pub impact: Option<crate::graphql::impact::PriceImpact>,
}

#[derive(Default)]
pub struct PriceListMutation;

#[Object]
impl PriceListMutation {
    /// Creates a price list, `ACTIVE` and `SALE` unless told otherwise. It
    /// prices nobody until it is linked to a group.
    async fn create_price_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new list.")] input: CreatePriceListInput,
    ) -> Result<CreatePriceListPayload> {
        let input = price_lists::NewPriceList {
            name: input.name,
            description: input.description,
            list_type: input.list_type.map(Into::into),
            status: input.status.map(Into::into),
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            rule: input.rule.map(Into::into),
            metadata: input.metadata,
        };
        CreatePriceListPayload::from_result(price_lists::create(store(ctx), input).await, PriceList)
    }

    /// Changes a list's name, description, type, status, window, rule or metadata.
    async fn update_price_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The list and its changes.")] input: UpdatePriceListInput,
    ) -> Result<UpdatePriceListPayload> {
        let dry_run = input.dry_run;
        let input = price_lists::PriceListChanges {
            id: input.id.0,
            version: input.version,
            name: input.name,
            description: patch(input.description),
            list_type: input.list_type.map(Into::into),
            status: input.status.map(Into::into),
            starts_at: patch(input.starts_at),
            ends_at: patch(input.ends_at),
            rule: patch(input.rule.map_value(Into::into)),
            metadata: input.metadata,
        };
        UpdatePriceListPayload::from_run(
            run(ctx, dry_run, price_lists::update(store(ctx), input)).await,
            PriceList,
        )
    }

    /// Deletes the list with its prices and its links to groups.
    async fn delete_price_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The list to delete.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
        DeletePayload::from_run(
            crate::graphql::impact::run(
                ctx,
                input.dry_run,
                price_lists::delete(store(ctx), &input.id, input.version),
            )
            .await,
        )
    }

    /// Writes a list's prices in one batch: new tiers are added, existing
    /// tiers (same product, currency and `minQuantity`) get the new amount
    /// and `maxQuantity`. All or nothing.
    async fn upsert_prices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The list and the prices to write.")] input: UpsertPricesInput,
    ) -> Result<UpsertPricesPayload> {
        let inputs: Vec<prices::PriceInput> = input
            .prices
            .into_iter()
            .map(|p| prices::PriceInput {
                product_id: p.product_id.0,
                currency: p.currency,
                min_quantity: p.min_quantity.map(Into::into),
                max_quantity: p.max_quantity.map(Into::into),
                amount: p.amount,
            })
            .collect();
        let work = prices::upsert_prices(store(ctx), &input.price_list_id, &inputs);
        let (result, impact) = run(ctx, input.dry_run, work).await;
        let (written, user_errors) = mutation_result(result, |(list, rows, written)| {
            (
                PriceList(list),
                (rows.into_iter().map(Price).collect(), UpsertSummary::from(written)),
            )
        })?;
        let (price_list, written) = written.unzip();
        let (prices, summary) = written.unzip();
        Ok(UpsertPricesPayload {
            price_list,
            prices,
            summary,
            user_errors,
            impact,
        })
    }

    /// Deletes a list's prices by tier, in one batch; tiers that do not exist
    /// are skipped.
    async fn delete_prices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The list and the tiers to delete.")] input: DeletePricesInput,
    ) -> Result<DeletePricesPayload> {
        let keys: Vec<prices::PriceKeyInput> = input.prices.into_iter().map(Into::into).collect();
        let work = prices::delete_prices(store(ctx), &input.price_list_id, &keys);
        let (result, impact) = run(ctx, input.dry_run, work).await;
        let (deleted_count, user_errors) = mutation_result(result, |(_, n)| n)?;
        Ok(DeletePricesPayload {
            deleted_count,
            user_errors,
            impact,
        })
    }
}
