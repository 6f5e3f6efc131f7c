//! Organizations: queries and mutations, including their pricing groups.

use super::loaders::loaders;
use super::node::look_up;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use serde_json::Value as JsonValue;

use super::connection::{CountedConnection, TotalCount, connection, page_request};
use super::errors::search_text;
use super::errors::{DeletePayload, impact_payload, payload, query_error};
use super::groups::{DeleteInput, id_arg, ids, patch};
use super::store;
use super::types::Organization;
use crate::service::organizations;

/// Narrows `organizations`: an organization must match every condition given.
#[derive(InputObject, Default)]
pub struct OrganizationFilter {
    /// Only organizations whose name contains this text, ignoring case; at most 100 characters.
    pub name_contains: Option<String>,
    /// Only the direct children of this organization.
    pub parent_id: Option<ID>,
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// The organization with this id, or `null` (and no error) when there is none; an id that is not a UUID is `BAD_USER_INPUT`. Admin only.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's id.")] id: ID,
    ) -> Result<Option<Organization>> {
        Ok(look_up(&loaders(ctx).organizations, "id", &id).await?.map(Organization))
    }

    /// Organizations, in creation order. Admin only.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the organizations that match; all when omitted.")] filter: Option<OrganizationFilter>,
        #[graphql(
            desc = "Page forwards: this many organizations from the start, or after `after`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only organizations after that one.")] after: Option<String>,
        #[graphql(
            desc = "Page backwards: this many organizations from the end, or before `before`; 1 to 100. \
                          Give exactly one of `first` and `last`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this connection: only organizations before that one.")] before: Option<String>,
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

/// A new organization.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// The organization's name, up to 255 characters.
    pub name: String,
    /// The organization above this one; a top-level organization when omitted.
    /// Organizations nest at most 32 levels deep.
    pub parent_id: Option<ID>,
    /// Your own data: a JSON object; `{}` when omitted.
    pub metadata: Option<JsonValue>,
}

/// Changes to an organization: what is left out stays as it is. Its
/// pricing groups change with `setOrganizationGroups`.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// The organization to change.
    pub id: ID,
    /// The `version` you read: if the record has changed since, nothing is written
    /// (`STALE_VERSION`). Omitted: no check.
    pub version: Option<i32>,
    /// A new name, up to 255 characters.
    pub name: Option<String>,
    /// Another parent, which must not be this organization or one of its
    /// descendants; `null` makes it a top-level organization.
    pub parent_id: MaybeUndefined<ID>,
    /// New metadata, a JSON object: it replaces the old one whole.
    pub metadata: Option<JsonValue>,
}

/// The pricing groups of an organization.
#[derive(InputObject)]
pub struct SetOrganizationGroupsInput {
    /// The organization.
    pub organization_id: ID,
    /// PRICING groups other than `Everyone`, at most 1,000; they replace the
    /// organization's groups. Empty: its customers are priced by their own
    /// groups again.
    pub group_ids: Vec<ID>,
    /// Rehearse only: nothing is written, and the payload's `impact` says
    /// which prices would change (docs/api.md#impact-preview). User errors
    /// are reported as they would be.
    pub dry_run: Option<bool>,
}

payload!(
    CreateOrganizationPayload,
    organization: Organization,
    "createOrganization",
    "The new organization"
);
payload!(
    UpdateOrganizationPayload,
    organization: Organization,
    "updateOrganization",
    "The organization as updated"
);
impact_payload!(
    SetOrganizationGroupsPayload,
    organization: Organization,
    "setOrganizationGroups",
    "The organization, with its new groups"
);

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    /// Creates an organization, under a parent if asked.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new organization.")] input: CreateOrganizationInput,
    ) -> Result<CreateOrganizationPayload> {
        let input = organizations::NewOrganization {
            name: input.name,
            parent_id: input.parent_id.map(|id| id.0),
            metadata: input.metadata,
        };
        CreateOrganizationPayload::from_result(organizations::create(store(ctx), input).await, Organization)
    }

    /// Changes an organization's name, parent or metadata.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization and its changes.")] input: UpdateOrganizationInput,
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
    async fn delete_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization to delete.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
        DeletePayload::from_run(
            crate::graphql::impact::run(
                ctx,
                input.dry_run,
                organizations::delete(store(ctx), &input.id, input.version),
            )
            .await,
        )
    }

    /// Replaces an organization's pricing groups. While one of them is
    /// active, they price the organization's customers instead of the
    /// customers' own groups (docs/pricing.md#effective-groups).
    async fn set_organization_groups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization and its groups.")] input: SetOrganizationGroupsInput,
    ) -> Result<SetOrganizationGroupsPayload> {
        let ids = ids(input.group_ids);
        let work = organizations::set_groups(store(ctx), &input.organization_id, &ids);
        SetOrganizationGroupsPayload::from_run(
            crate::graphql::impact::run(ctx, input.dry_run, work).await,
            Organization,
        )
    }
}
