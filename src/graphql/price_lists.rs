//! Price lists and their prices.

use super::loaders::loaders;
use super::node::look_up;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value as JsonValue;

use super::connection::{CountedConnection, TotalCount, connection, page_request};
use super::errors::search_text;
use super::errors::{DeletePayload, UserError, mutation_result, payload, query_error};
use super::groups::{DeleteInput, patch};
use super::products::{DeletePricesPayload, PriceKeyInput, UpsertSummary};
use super::store;
use super::types::{Price, PriceList, PriceListStatus, PriceListType};
use crate::service::{price_lists, prices};

#[derive(InputObject, Default)]
pub struct PriceListFilter {
    pub status: Option<PriceListStatus>,
    #[graphql(name = "type")]
    pub list_type: Option<PriceListType>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
}

#[derive(Default)]
pub struct PriceListQuery;

#[Object]
impl PriceListQuery {
    async fn price_list(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PriceList>> {
        Ok(look_up(&loaders(ctx).price_lists, "id", &id).await?.map(PriceList))
    }

    /// Price lists in creation order.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn price_lists(
        &self,
        ctx: &Context<'_>,
        filter: Option<PriceListFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
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

#[derive(InputObject)]
pub struct CreatePriceListInput {
    pub name: String,
    pub description: Option<String>,
    /// `SALE` when omitted.
    #[graphql(name = "type")]
    pub list_type: Option<PriceListType>,
    /// `ACTIVE` when omitted.
    pub status: Option<PriceListStatus>,
    /// Inclusive; RFC 3339. Open when omitted.
    pub starts_at: Option<DateTime<Utc>>,
    /// Exclusive; RFC 3339; after `startsAt`. Open when omitted.
    pub ends_at: Option<DateTime<Utc>>,
    /// A JSON object.
    pub metadata: Option<JsonValue>,
}

#[derive(InputObject)]
pub struct UpdatePriceListInput {
    pub id: ID,
    /// The version you read; a stale one is refused (`STALE_VERSION`).
    pub version: Option<i32>,
    pub name: Option<String>,
    /// `null` clears it.
    pub description: MaybeUndefined<String>,
    #[graphql(name = "type")]
    pub list_type: Option<PriceListType>,
    pub status: Option<PriceListStatus>,
    /// `null` opens the window's start.
    pub starts_at: MaybeUndefined<DateTime<Utc>>,
    /// `null` opens the window's end.
    pub ends_at: MaybeUndefined<DateTime<Utc>>,
    pub metadata: Option<JsonValue>,
}

/// A price to write: the tier is (product, currency, minQuantity).
#[derive(InputObject)]
pub struct PriceInput {
    pub product_id: ID,
    /// ISO 4217 code, e.g. "USD".
    pub currency: String,
    /// First quantity of the tier; 1 when omitted.
    pub min_quantity: Option<i32>,
    /// Last quantity of the tier (inclusive); open-ended when omitted.
    pub max_quantity: Option<i32>,
    /// Exact decimal string with at most the currency's minor-unit digits, e.g. "12.50".
    pub amount: String,
}

#[derive(InputObject)]
pub struct UpsertPricesInput {
    pub price_list_id: ID,
    /// At most 1,000. Existing tiers get the new amount and maxQuantity; all or nothing.
    pub prices: Vec<PriceInput>,
}

#[derive(InputObject)]
pub struct DeletePricesInput {
    pub price_list_id: ID,
    /// At most 1,000; tiers that do not exist are skipped.
    pub prices: Vec<PriceKeyInput>,
}

payload!(CreatePriceListPayload, price_list: PriceList);
payload!(UpdatePriceListPayload, price_list: PriceList);

#[derive(SimpleObject)]
pub struct UpsertPricesPayload {
    pub price_list: Option<PriceList>,
    /// The prices as stored now, in input order.
    pub prices: Option<Vec<Price>>,
    /// How many given tiers were new, changed, or already as given.
    pub summary: Option<UpsertSummary>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct PriceListMutation;

#[Object]
impl PriceListMutation {
    async fn create_price_list(
        &self,
        ctx: &Context<'_>,
        input: CreatePriceListInput,
    ) -> Result<CreatePriceListPayload> {
        let input = price_lists::NewPriceList {
            name: input.name,
            description: input.description,
            list_type: input.list_type.map(Into::into),
            status: input.status.map(Into::into),
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            metadata: input.metadata,
        };
        CreatePriceListPayload::from_result(price_lists::create(store(ctx), input).await, PriceList)
    }

    async fn update_price_list(
        &self,
        ctx: &Context<'_>,
        input: UpdatePriceListInput,
    ) -> Result<UpdatePriceListPayload> {
        let input = price_lists::PriceListChanges {
            id: input.id.0,
            version: input.version,
            name: input.name,
            description: patch(input.description),
            list_type: input.list_type.map(Into::into),
            status: input.status.map(Into::into),
            starts_at: patch(input.starts_at),
            ends_at: patch(input.ends_at),
            metadata: input.metadata,
        };
        UpdatePriceListPayload::from_result(price_lists::update(store(ctx), input).await, PriceList)
    }

    /// Deletes the list with its prices and its links to groups.
    async fn delete_price_list(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        DeletePayload::from_result(price_lists::delete(store(ctx), &input.id, input.version).await)
    }

    async fn upsert_prices(&self, ctx: &Context<'_>, input: UpsertPricesInput) -> Result<UpsertPricesPayload> {
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
        let result = prices::upsert_prices(store(ctx), &input.price_list_id, &inputs).await;
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
        })
    }

    async fn delete_prices(&self, ctx: &Context<'_>, input: DeletePricesInput) -> Result<DeletePricesPayload> {
        let keys: Vec<prices::PriceKeyInput> = input.prices.into_iter().map(Into::into).collect();
        let result = prices::delete_prices(store(ctx), &input.price_list_id, &keys).await;
        let (deleted_count, user_errors) = mutation_result(result, |(_, n)| n)?;
        Ok(DeletePricesPayload {
            deleted_count,
            user_errors,
        })
    }
}
