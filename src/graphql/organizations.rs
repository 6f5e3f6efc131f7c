//! Organizations: queries and mutations, including their pricing groups.

use super::loaders::loaders;
use super::node::look_up;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use serde_json::Value as JsonValue;

use super::connection::{CountedConnection, TotalCount, connection, page_request};
use super::errors::search_text;
use super::errors::{DeletePayload, payload, query_error};
use super::groups::{DeleteInput, id_arg, ids, patch};
use super::store;
use super::types::Organization;
use crate::service::organizations;

#[derive(InputObject, Default)]
pub struct OrganizationFilter {
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
    /// Only the direct children of this organization.
    pub parent_id: Option<ID>,
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    async fn organization(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organization>> {
        Ok(look_up(&loaders(ctx).organizations, "id", &id).await?.map(Organization))
    }

    /// Organizations in creation order.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrganizationFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<CountedConnection<Organization>>> {
        let request = page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = organizations::OrganizationFilter {
            name_contains: search_text("nameContains", filter.name_contains.as_deref())?,
            parent_id: filter.parent_id.map(|id| id_arg("organization", &id)).transpose()?,
        };
        let conn = store(ctx).conn();
        let page = organizations::page(conn, &filter, request).await.map_err(query_error)?;
        let total = TotalCount::counting(store(ctx), filter, |store, filter| async move {
            organizations::count(store.conn(), &filter).await
        });
        Ok(Some(connection(page, |o| o.id, Organization, total)))
    }
}

#[derive(InputObject)]
pub struct CreateOrganizationInput {
    pub name: String,
    pub parent_id: Option<ID>,
    /// A JSON object.
    pub metadata: Option<JsonValue>,
}

#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    pub id: ID,
    /// The version you read; a stale one is refused (`STALE_VERSION`).
    pub version: Option<i32>,
    pub name: Option<String>,
    /// `null` makes it a top-level organization.
    pub parent_id: MaybeUndefined<ID>,
    pub metadata: Option<JsonValue>,
}

#[derive(InputObject)]
pub struct SetOrganizationGroupsInput {
    pub organization_id: ID,
    /// PRICING groups; replaces the organization's groups. Empty: its
    /// customers are priced by their own groups again.
    pub group_ids: Vec<ID>,
}

payload!(CreateOrganizationPayload, organization: Organization);
payload!(UpdateOrganizationPayload, organization: Organization);
payload!(SetOrganizationGroupsPayload, organization: Organization);

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> Result<CreateOrganizationPayload> {
        let input = organizations::NewOrganization {
            name: input.name,
            parent_id: input.parent_id.map(|id| id.0),
            metadata: input.metadata,
        };
        CreateOrganizationPayload::from_result(organizations::create(store(ctx), input).await, Organization)
    }

    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrganizationInput,
    ) -> Result<UpdateOrganizationPayload> {
        let input = organizations::OrganizationChanges {
            id: input.id.0,
            version: input.version,
            name: input.name,
            parent_id: patch(input.parent_id.map_value(|id| id.0)),
            metadata: input.metadata,
        };
        UpdateOrganizationPayload::from_result(organizations::update(store(ctx), input).await, Organization)
    }

    /// Deletes the organization: its customers and child organizations stay, without it.
    async fn delete_organization(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        DeletePayload::from_result(organizations::delete(store(ctx), &input.id, input.version).await)
    }

    async fn set_organization_groups(
        &self,
        ctx: &Context<'_>,
        input: SetOrganizationGroupsInput,
    ) -> Result<SetOrganizationGroupsPayload> {
        let result = organizations::set_groups(store(ctx), &input.organization_id, &ids(input.group_ids)).await;
        SetOrganizationGroupsPayload::from_result(result, Organization)
    }
}
