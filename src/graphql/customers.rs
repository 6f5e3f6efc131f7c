//! Customers: queries and mutations.

use super::loaders::loaders;
use super::node::look_up;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use serde_json::Value as JsonValue;

use super::connection::{CountedConnection, TotalCount, connection, page_request};
use super::errors::search_text;
use super::errors::{DeletePayload, impact_payload, payload, query_error};
use super::groups::{DeleteInput, patch};
use super::store;
use super::types::Customer;
use crate::service::customers;

/// Narrows `customers`: a customer must match every condition given.
#[derive(InputObject, Default)]
pub struct CustomerFilter {
    /// Customers of this group: its members (PRICING), its customers (TYPE),
    /// or everyone (`Everyone`). An id that names no group is a `NOT_FOUND` error.
    pub group_id: Option<ID>,
    /// Only customers whose email contains this text, ignoring case; at most 100 characters.
    pub email_contains: Option<String>,
    /// Only the customers of this organization (not of its child
    /// organizations). An id that names no organization is a `NOT_FOUND` error.
    pub organization_id: Option<ID>,
}

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// The customer with this id, or `null` (and no error) when there is
    /// none; an id that is not a UUID is `BAD_USER_INPUT`. Admins may read
    /// any customer; a customer token only its own (another id is a
    /// `FORBIDDEN` error).
    async fn customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
    ) -> Result<Option<Customer>> {
        crate::graphql::access::check_customer(ctx, Some(id.as_str()))?;
        Ok(look_up(&loaders(ctx).customers, "id", &id).await?.map(Customer))
    }

    /// Customers, in creation order. Admin only.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the customers that match; all when omitted.")] filter: Option<CustomerFilter>,
        #[graphql(
            desc = "Page forwards: this many customers from the start, or after `after`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only customers after that one.")] after: Option<String>,
        #[graphql(
            desc = "Page backwards: this many customers from the end, or before `before`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only customers before that one.")] before: Option<String>,
    ) -> Result<Option<CountedConnection<Customer>>> {
        let request = page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = customers::CustomerFilter::parse(
            store(ctx).conn(),
            filter.group_id.as_ref().map(|id| id.as_str()),
            filter.organization_id.as_ref().map(|id| id.as_str()),
            search_text("emailContains", filter.email_contains.as_deref())?,
        )
        .await
        .map_err(query_error)?;
        let page = customers::page(store(ctx), &filter, request)
            .await
            .map_err(query_error)?;
        // The rows are shared with the cache: the API's objects own copies.
        let page = crate::page::Page {
            items: page.items.iter().map(|c| entity::customer::Model::clone(c)).collect(),
            has_previous_page: page.has_previous_page,
            has_next_page: page.has_next_page,
        };
        let total = TotalCount::counting(store(ctx), filter, |store, filter| async move {
            customers::count(store.conn(), &filter).await
        });
        Ok(Some(connection(page, |c| c.id, Customer, total)))
    }
}

/// A new customer.
#[derive(InputObject)]
pub struct CreateCustomerInput {
    /// An email address such as name@example.com: unique ignoring case,
    /// stored lower-cased.
    pub email: String,
    /// The customer's name, up to 255 characters.
    pub name: String,
    /// The organization the customer belongs to; none when omitted.
    pub organization_id: Option<ID>,
    /// A TYPE group; the built-in `Default` when omitted.
    pub type_group_id: Option<ID>,
    /// The customer's own commission exemption; `false` when omitted.
    pub commission_exempt: Option<bool>,
    /// The customer's own free-freight flag; `false` when omitted.
    pub free_freight: Option<bool>,
    /// Your own data: a JSON object; `{}` when omitted.
    pub metadata: Option<JsonValue>,
}

/// Changes to a customer: what is left out stays as it is. Group
/// memberships change with `addCustomersToGroup` and `removeCustomersFromGroup`.
#[derive(InputObject)]
pub struct UpdateCustomerInput {
    /// The customer to change.
    pub id: ID,
    /// The `version` you read: if the record has changed since, nothing is written
    /// (`STALE_VERSION`). Omitted: no check.
    pub version: Option<i32>,
    /// A new email address: unique ignoring case, stored lower-cased.
    pub email: Option<String>,
    /// A new name, up to 255 characters.
    pub name: Option<String>,
    /// Another organization; `null` takes the customer out of its organization.
    pub organization_id: MaybeUndefined<ID>,
    /// Another TYPE group.
    pub type_group_id: Option<ID>,
    /// The customer's own commission exemption.
    pub commission_exempt: Option<bool>,
    /// The customer's own free-freight flag.
    pub free_freight: Option<bool>,
    /// New metadata, a JSON object: it replaces the old one whole.
    pub metadata: Option<JsonValue>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

payload!(
    CreateCustomerPayload,
    customer: Customer,
    "createCustomer",
    "The new customer"
);
impact_payload!(
    UpdateCustomerPayload,
    customer: Customer,
    "updateCustomer",
    "The customer as updated"
);

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Creates a customer, in the `Default` type group unless told otherwise.
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new customer.")] input: CreateCustomerInput,
    ) -> Result<CreateCustomerPayload> {
        let input = customers::NewCustomer {
            email: input.email,
            name: input.name,
            organization_id: input.organization_id.map(|id| id.0),
            type_group_id: input.type_group_id.map(|id| id.0),
            commission_exempt: input.commission_exempt,
            free_freight: input.free_freight,
            metadata: input.metadata,
        };
        CreateCustomerPayload::from_result(customers::create(store(ctx), input).await, Customer)
    }

    /// Changes a customer's email, name, organization, type group, flags or metadata.
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer and its changes.")] input: UpdateCustomerInput,
    ) -> Result<UpdateCustomerPayload> {
        let dry_run = input.dry_run;
        let input = customers::CustomerChanges {
            id: input.id.0,
            version: input.version,
            email: input.email,
            name: input.name,
            organization_id: patch(input.organization_id.map_value(|id| id.0)),
            type_group_id: input.type_group_id.map(|id| id.0),
            commission_exempt: input.commission_exempt,
            free_freight: input.free_freight,
            metadata: input.metadata,
        };
        UpdateCustomerPayload::from_run(
            crate::graphql::impact::run(ctx, dry_run, customers::update(store(ctx), input)).await,
            Customer,
        )
    }

    /// Deletes the customer with its memberships.
    async fn delete_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer to delete.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
        DeletePayload::from_run(
            crate::graphql::impact::run(
                ctx,
                input.dry_run,
                customers::delete(store(ctx), &input.id, input.version),
            )
            .await,
        )
    }
}
