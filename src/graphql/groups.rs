//! Customer groups: queries and mutations, including memberships, price-list
//! links and product-line access.

use super::loaders::loaders;
use super::node::look_up;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use serde_json::Value as JsonValue;

use super::connection::{CountedConnection, TotalCount, connection, page_request};
use super::errors::search_text;
use super::errors::{DeletePayload, impact_payload, not_found, payload, query_error};
use super::impact::run;
use super::store;
use super::types::{CustomerGroup, CustomerGroupPriceList, GroupKind};
use crate::service::{Patch, groups};

/// Narrows `customerGroups`: a group must match every condition given.
#[derive(InputObject, Default)]
pub struct CustomerGroupFilter {
    /// Only groups of this kind.
    pub kind: Option<GroupKind>,
    /// Only active (true) or only inactive (false) groups.
    pub is_active: Option<bool>,
    /// Only groups whose name contains this text, ignoring case; at most 100 characters.
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
    /// The customer group with this id, or `null` (and no error) when there is none; an id that is not a UUID is `BAD_USER_INPUT`. Admin only.
    async fn customer_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group's id.")] id: ID,
    ) -> Result<Option<CustomerGroup>> {
        Ok(look_up(&loaders(ctx).groups, "id", &id).await?.map(CustomerGroup))
    }

    /// Customer groups of both kinds, the built-in ones included, in creation
    /// order. Admin only.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn customer_groups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the groups that match; all when omitted.")] filter: Option<CustomerGroupFilter>,
        #[graphql(
            desc = "Page forwards: this many groups from the start, or after `after`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only groups after that one.")] after: Option<String>,
        #[graphql(
            desc = "Page backwards: this many groups from the end, or before `before`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only groups before that one.")] before: Option<String>,
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

/// A price list to link to a new group, at a priority.
#[derive(InputObject)]
pub struct PriceListLinkInput {
    /// The list to link; each list at most once.
    pub price_list_id: ID,
    /// Lower wins; 0 or more.
    pub priority: i32,
}

/// A new customer group.
#[derive(InputObject)]
pub struct CreateCustomerGroupInput {
    /// The group's name: up to 255 characters, unique ignoring case.
    pub name: String,
    /// A description for admins, up to 4,096 characters; blank means none.
    pub description: Option<String>,
    /// `PRICING` when omitted. It cannot change later.
    pub kind: Option<GroupKind>,
    /// `true` when omitted.
    pub is_active: Option<bool>,
    /// Whether the group exempts its customers from commission; `false` when omitted.
    pub commission_exempt: Option<bool>,
    /// Whether the group's customers ship free; `false` when omitted.
    pub free_freight: Option<bool>,
    /// Your own data: a JSON object; `{}` when omitted.
    pub metadata: Option<JsonValue>,
    /// Price lists to link right away (PRICING groups only).
    pub price_lists: Option<Vec<PriceListLinkInput>>,
}

/// Changes to a customer group: what is left out stays as it is. A group's
/// kind never changes.
#[derive(InputObject)]
pub struct UpdateCustomerGroupInput {
    /// The group to change.
    pub id: ID,
    /// The `version` you read: if the record has changed since, nothing is written
    /// (`STALE_VERSION`). Omitted: no check.
    pub version: Option<i32>,
    /// A new name: up to 255 characters, unique ignoring case.
    pub name: Option<String>,
    /// A new description, up to 4,096 characters; `null` clears it.
    pub description: MaybeUndefined<String>,
    /// Activate (true) or deactivate (false) the group.
    pub is_active: Option<bool>,
    /// Whether the group exempts its customers from commission.
    pub commission_exempt: Option<bool>,
    /// Whether the group's customers ship free.
    pub free_freight: Option<bool>,
    /// New metadata, a JSON object: it replaces the old one whole.
    pub metadata: Option<JsonValue>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

/// Names the record a delete mutation deletes.
#[derive(InputObject)]
pub struct DeleteInput {
    /// The id of the record to delete.
    pub id: ID,
    /// The `version` you read: if the record has changed since, nothing is written
    /// (`STALE_VERSION`). Omitted: no check.
    pub version: Option<i32>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

/// A pricing group and customers to add to it or remove from it.
#[derive(InputObject)]
pub struct GroupCustomersInput {
    /// A `PRICING` group other than `Everyone` (every shopper is in it already).
    pub group_id: ID,
    /// The customers, at most 1,000; repeats are ignored. Adding refuses ids
    /// that name no customer (`NOT_FOUND`).
    pub customer_ids: Vec<ID>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

/// A price list to link to a pricing group, and at which priority.
#[derive(InputObject)]
pub struct AddPriceListToGroupInput {
    /// The `PRICING` group.
    pub group_id: ID,
    /// The price list.
    pub price_list_id: ID,
    /// Lower wins; 0 or more. Adding a linked pair again changes its priority.
    pub priority: i32,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

/// A price list to unlink from a group.
#[derive(InputObject)]
pub struct RemovePriceListFromGroupInput {
    /// The group.
    pub group_id: ID,
    /// The price list.
    pub price_list_id: ID,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

/// The product lines a pricing group's customers may order from.
#[derive(InputObject)]
pub struct SetGroupProductLinesInput {
    /// The `PRICING` group.
    pub group_id: ID,
    /// Replaces the group's product lines (at most 1,000); empty lifts the restriction.
    pub product_line_ids: Vec<ID>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

payload!(
    CreateCustomerGroupPayload,
    customer_group: CustomerGroup,
    "createCustomerGroup",
    "The new group"
);
impact_payload!(
    UpdateCustomerGroupPayload,
    customer_group: CustomerGroup,
    "updateCustomerGroup",
    "The group as updated"
);
impact_payload!(
    AddCustomersToGroupPayload,
    customer_group: CustomerGroup,
    "addCustomersToGroup",
    "The group the customers were added to"
);
impact_payload!(
    RemoveCustomersFromGroupPayload,
    customer_group: CustomerGroup,
    "removeCustomersFromGroup",
    "The group the customers were removed from"
);
impact_payload!(
    AddPriceListToGroupPayload,
    customer_group_price_list: CustomerGroupPriceList,
    "addPriceListToGroup",
    "The link as it now is, with its priority"
);
impact_payload!(
    RemovePriceListFromGroupPayload,
    customer_group: CustomerGroup,
    "removePriceListFromGroup",
    "The group the list was unlinked from"
);
impact_payload!(
    SetGroupProductLinesPayload,
    customer_group: CustomerGroup,
    "setGroupProductLines",
    "The group, with its new product lines"
);

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
    /// Creates a customer group, and links it to price lists if asked.
    async fn create_customer_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new group.")] input: CreateCustomerGroupInput,
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

    /// Changes a group's name, description, flags or metadata.
    async fn update_customer_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group and its changes.")] input: UpdateCustomerGroupInput,
    ) -> Result<UpdateCustomerGroupPayload> {
        let dry_run = input.dry_run;
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
        UpdateCustomerGroupPayload::from_run(
            run(ctx, dry_run, groups::update(store(ctx), input)).await,
            CustomerGroup,
        )
    }

    /// Deletes the group with its memberships and links; customers of a
    /// deleted TYPE group move to `Default`. The built-in groups cannot be
    /// deleted (`BUILT_IN`).
    async fn delete_customer_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group to delete.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
        DeletePayload::from_run(
            crate::graphql::impact::run(ctx, input.dry_run, groups::delete(store(ctx), &input.id, input.version)).await,
        )
    }

    /// Makes customers direct members of a `PRICING` group. Adding a
    /// customer that is already a member does nothing.
    async fn add_customers_to_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group and the customers to add.")] input: GroupCustomersInput,
    ) -> Result<AddCustomersToGroupPayload> {
        let ids = ids(input.customer_ids);
        let work = groups::add_customers(store(ctx), &input.group_id, &ids);
        let result = run(ctx, input.dry_run, work).await;
        AddCustomersToGroupPayload::from_run(result, CustomerGroup)
    }

    /// Ends customers' direct membership of a group; customers that are not
    /// members are skipped.
    async fn remove_customers_from_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group and the customers to remove.")] input: GroupCustomersInput,
    ) -> Result<RemoveCustomersFromGroupPayload> {
        let ids = ids(input.customer_ids);
        let work = groups::remove_customers(store(ctx), &input.group_id, &ids);
        let result = run(ctx, input.dry_run, work).await;
        RemoveCustomersFromGroupPayload::from_run(result, CustomerGroup)
    }

    /// Links a price list to a `PRICING` group at a priority, so that it
    /// prices the group's customers. Linking a linked pair again changes its
    /// priority.
    async fn add_price_list_to_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group, the list and the priority.")] input: AddPriceListToGroupInput,
    ) -> Result<AddPriceListToGroupPayload> {
        let work = groups::add_price_list(store(ctx), &input.group_id, &input.price_list_id, input.priority.into());
        let result = run(ctx, input.dry_run, work).await;
        AddPriceListToGroupPayload::from_run(result, |linked| {
            CustomerGroupPriceList::of_row(linked.link.link, Some(linked.link.price_list), None)
        })
    }

    /// Unlinks a price list from a group; a pair that is not linked is left
    /// as it is.
    async fn remove_price_list_from_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group and the list.")] input: RemovePriceListFromGroupInput,
    ) -> Result<RemovePriceListFromGroupPayload> {
        let work = groups::remove_price_list(store(ctx), &input.group_id, &input.price_list_id);
        let result = run(ctx, input.dry_run, work).await;
        RemovePriceListFromGroupPayload::from_run(result, |unlinked| CustomerGroup(unlinked.group))
    }

    /// Replaces the product lines a `PRICING` group's customers may order
    /// from (docs/pricing.md#product-access).
    async fn set_group_product_lines(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group and its product lines.")] input: SetGroupProductLinesInput,
    ) -> Result<SetGroupProductLinesPayload> {
        let ids = ids(input.product_line_ids);
        let work = groups::set_product_lines(store(ctx), &input.group_id, &ids);
        let result = run(ctx, input.dry_run, work).await;
        SetGroupProductLinesPayload::from_run(result, CustomerGroup)
    }
}
