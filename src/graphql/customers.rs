//! Customers: queries and mutations.

use super::loaders::loaders;
use super::node::look_up;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use serde_json::Value as JsonValue;

use super::connection::{CountedConnection, TotalCount, connection, page_request};
use super::errors::search_text;
use super::errors::{DeletePayload, payload, query_error};
use super::groups::{DeleteInput, patch};
use super::store;
use super::types::Customer;
use crate::service::customers;

#[derive(InputObject, Default)]
pub struct CustomerFilter {
    /// Customers of this group: its members (PRICING), its customers (TYPE),
    /// or everyone (`Everyone`).
    pub group_id: Option<ID>,
    /// Case-insensitive substring of the email.
    pub email_contains: Option<String>,
    pub organization_id: Option<ID>,
}

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Customer>> {
        crate::graphql::access::check_customer(ctx, Some(id.as_str()))?;
        Ok(look_up(&loaders(ctx).customers, "id", &id).await?.map(Customer))
    }

    /// Customers in creation order.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        filter: Option<CustomerFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<CountedConnection<Customer>>> {
        let request = page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let conn = store(ctx).conn();
        let filter = customers::CustomerFilter::parse(
            conn,
            filter.group_id.as_ref().map(|id| id.as_str()),
            filter.organization_id.as_ref().map(|id| id.as_str()),
            search_text("emailContains", filter.email_contains.as_deref())?,
        )
        .await
        .map_err(query_error)?;
        let page = customers::page(conn, &filter, request).await.map_err(query_error)?;
        let total = TotalCount::counting(store(ctx), filter, |store, filter| async move {
            customers::count(store.conn(), &filter).await
        });
        Ok(Some(connection(page, |c| c.id, Customer, total)))
    }
}

#[derive(InputObject)]
pub struct CreateCustomerInput {
    /// Unique, ignoring case; stored lower-cased.
    pub email: String,
    pub name: String,
    pub organization_id: Option<ID>,
    /// A TYPE group; the built-in `Default` when omitted.
    pub type_group_id: Option<ID>,
    pub commission_exempt: Option<bool>,
    pub free_freight: Option<bool>,
    /// A JSON object.
    pub metadata: Option<JsonValue>,
}

#[derive(InputObject)]
pub struct UpdateCustomerInput {
    pub id: ID,
    /// The version you read; a stale one is refused (`STALE_VERSION`).
    pub version: Option<i32>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// `null` takes the customer out of its organization.
    pub organization_id: MaybeUndefined<ID>,
    pub type_group_id: Option<ID>,
    pub commission_exempt: Option<bool>,
    pub free_freight: Option<bool>,
    pub metadata: Option<JsonValue>,
}

payload!(CreateCustomerPayload, customer: Customer);
payload!(UpdateCustomerPayload, customer: Customer);

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    async fn create_customer(&self, ctx: &Context<'_>, input: CreateCustomerInput) -> Result<CreateCustomerPayload> {
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

    async fn update_customer(&self, ctx: &Context<'_>, input: UpdateCustomerInput) -> Result<UpdateCustomerPayload> {
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
        UpdateCustomerPayload::from_result(customers::update(store(ctx), input).await, Customer)
    }

    /// Deletes the customer with its memberships.
    async fn delete_customer(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        DeletePayload::from_result(customers::delete(store(ctx), &input.id, input.version).await)
    }
}
