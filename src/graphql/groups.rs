//! Customer groups: queries and mutations, including memberships, price-list
//! links and product-line access.

use super::loaders::loaders;
use super::node::look_up;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use serde_json::Value as JsonValue;

use super::connection::{CountedConnection, TotalCount, connection, page_request};
use super::errors::search_text;
use super::errors::{DeletePayload, not_found, payload, query_error};
use super::store;
use super::types::{CustomerGroup, CustomerGroupPriceList, GroupKind};
use crate::service::{Patch, groups};

#[derive(InputObject, Default)]
pub struct CustomerGroupFilter {
    pub kind: Option<GroupKind>,
    pub is_active: Option<bool>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
}

impl CustomerGroupFilter {
    fn parse(self) -> Result<groups::GroupFilter> {
        Ok(groups::GroupFilter {
            kind: self.kind.map(Into::into),
            is_active: self.is_active,
            name_contains: search_text("nameContains", self.name_contains.as_deref())?,
        })
    }
}

/// Parses an id argument of a query; an id that cannot exist is not found.
pub fn id_arg(what: &str, id: &ID) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(id.trim()).map_err(|_| not_found(what, id))
}

#[derive(Default)]
pub struct GroupQuery;

#[Object]
impl GroupQuery {
    async fn customer_group(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CustomerGroup>> {
        Ok(look_up(&loaders(ctx).groups, "id", &id).await?.map(CustomerGroup))
    }

    /// Groups in creation order.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn customer_groups(
        &self,
        ctx: &Context<'_>,
        filter: Option<CustomerGroupFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<CountedConnection<CustomerGroup>>> {
        let request = page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default().parse()?;
        let conn = store(ctx).conn();
        let page = groups::page(conn, &filter, request).await.map_err(query_error)?;
        let total = TotalCount::counting(store(ctx), filter, |store, filter| async move {
            groups::count(store.conn(), &filter).await
        });
        Ok(Some(connection(page, |g| g.id, CustomerGroup, total)))
    }
}

#[derive(InputObject)]
pub struct PriceListLinkInput {
    pub price_list_id: ID,
    /// Lower wins; 0 or more.
    pub priority: i32,
}

#[derive(InputObject)]
pub struct CreateCustomerGroupInput {
    /// Unique, ignoring case.
    pub name: String,
    pub description: Option<String>,
    /// `PRICING` when omitted.
    pub kind: Option<GroupKind>,
    /// `true` when omitted.
    pub is_active: Option<bool>,
    pub commission_exempt: Option<bool>,
    pub free_freight: Option<bool>,
    /// A JSON object.
    pub metadata: Option<JsonValue>,
    /// Price lists to link right away (PRICING groups only).
    pub price_lists: Option<Vec<PriceListLinkInput>>,
}

#[derive(InputObject)]
pub struct UpdateCustomerGroupInput {
    pub id: ID,
    /// The version you read; a stale one is refused (`STALE_VERSION`).
    pub version: Option<i32>,
    pub name: Option<String>,
    /// `null` clears it.
    pub description: MaybeUndefined<String>,
    pub is_active: Option<bool>,
    pub commission_exempt: Option<bool>,
    pub free_freight: Option<bool>,
    pub metadata: Option<JsonValue>,
}

#[derive(InputObject)]
pub struct DeleteInput {
    pub id: ID,
    /// The version you read; a stale one is refused (`STALE_VERSION`).
    pub version: Option<i32>,
}

#[derive(InputObject)]
pub struct GroupCustomersInput {
    pub group_id: ID,
    pub customer_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct AddPriceListToGroupInput {
    pub group_id: ID,
    pub price_list_id: ID,
    /// Lower wins; 0 or more. Adding a linked pair again changes its priority.
    pub priority: i32,
}

#[derive(InputObject)]
pub struct RemovePriceListFromGroupInput {
    pub group_id: ID,
    pub price_list_id: ID,
}

#[derive(InputObject)]
pub struct SetGroupProductLinesInput {
    pub group_id: ID,
    /// Replaces the group's product lines; empty lifts the restriction.
    pub product_line_ids: Vec<ID>,
}

payload!(CreateCustomerGroupPayload, customer_group: CustomerGroup);
payload!(UpdateCustomerGroupPayload, customer_group: CustomerGroup);
payload!(AddCustomersToGroupPayload, customer_group: CustomerGroup);
payload!(RemoveCustomersFromGroupPayload, customer_group: CustomerGroup);
payload!(AddPriceListToGroupPayload, customer_group_price_list: CustomerGroupPriceList);
payload!(RemovePriceListFromGroupPayload, customer_group: CustomerGroup);
payload!(SetGroupProductLinesPayload, customer_group: CustomerGroup);

pub fn ids(ids: Vec<ID>) -> Vec<String> {
    ids.into_iter().map(|id| id.0).collect()
}

pub fn patch<T>(value: MaybeUndefined<T>) -> Patch<T> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(value) => Patch::Set(value),
    }
}

#[derive(Default)]
pub struct GroupMutation;

#[Object]
impl GroupMutation {
    async fn create_customer_group(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomerGroupInput,
    ) -> Result<CreateCustomerGroupPayload> {
        let input = groups::NewGroup {
            name: input.name,
            description: input.description,
            kind: input.kind.map(Into::into),
            is_active: input.is_active,
            commission_exempt: input.commission_exempt,
            free_freight: input.free_freight,
            metadata: input.metadata,
            price_lists: input
                .price_lists
                .unwrap_or_default()
                .into_iter()
                .map(|l| groups::NewLink {
                    price_list_id: l.price_list_id.0,
                    priority: l.priority.into(),
                })
                .collect(),
        };
        CreateCustomerGroupPayload::from_result(groups::create(store(ctx), input).await, CustomerGroup)
    }

    async fn update_customer_group(
        &self,
        ctx: &Context<'_>,
        input: UpdateCustomerGroupInput,
    ) -> Result<UpdateCustomerGroupPayload> {
        let input = groups::GroupChanges {
            id: input.id.0,
            version: input.version,
            name: input.name,
            description: patch(input.description),
            is_active: input.is_active,
            commission_exempt: input.commission_exempt,
            free_freight: input.free_freight,
            metadata: input.metadata,
        };
        UpdateCustomerGroupPayload::from_result(groups::update(store(ctx), input).await, CustomerGroup)
    }

    /// Deletes the group with its memberships and links; customers of a
    /// deleted TYPE group move to `Default`.
    async fn delete_customer_group(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        DeletePayload::from_result(groups::delete(store(ctx), &input.id, input.version).await)
    }

    /// Adding a customer that is already a member is a no-op.
    async fn add_customers_to_group(
        &self,
        ctx: &Context<'_>,
        input: GroupCustomersInput,
    ) -> Result<AddCustomersToGroupPayload> {
        let result = groups::add_customers(store(ctx), &input.group_id, &ids(input.customer_ids)).await;
        AddCustomersToGroupPayload::from_result(result, CustomerGroup)
    }

    async fn remove_customers_from_group(
        &self,
        ctx: &Context<'_>,
        input: GroupCustomersInput,
    ) -> Result<RemoveCustomersFromGroupPayload> {
        let result = groups::remove_customers(store(ctx), &input.group_id, &ids(input.customer_ids)).await;
        RemoveCustomersFromGroupPayload::from_result(result, CustomerGroup)
    }

    async fn add_price_list_to_group(
        &self,
        ctx: &Context<'_>,
        input: AddPriceListToGroupInput,
    ) -> Result<AddPriceListToGroupPayload> {
        let result =
            groups::add_price_list(store(ctx), &input.group_id, &input.price_list_id, input.priority.into()).await;
        AddPriceListToGroupPayload::from_result(result, |linked| CustomerGroupPriceList {
            link: linked.link.link,
            price_list: Some(linked.link.price_list),
            group: None,
        })
    }

    async fn remove_price_list_from_group(
        &self,
        ctx: &Context<'_>,
        input: RemovePriceListFromGroupInput,
    ) -> Result<RemovePriceListFromGroupPayload> {
        let result = groups::remove_price_list(store(ctx), &input.group_id, &input.price_list_id).await;
        RemovePriceListFromGroupPayload::from_result(result, |unlinked| CustomerGroup(unlinked.group))
    }

    async fn set_group_product_lines(
        &self,
        ctx: &Context<'_>,
        input: SetGroupProductLinesInput,
    ) -> Result<SetGroupProductLinesPayload> {
        let result = groups::set_product_lines(store(ctx), &input.group_id, &ids(input.product_line_ids)).await;
        SetGroupProductLinesPayload::from_result(result, CustomerGroup)
    }
}
