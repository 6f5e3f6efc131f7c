use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{customer_group, organization};
use serde_json::Value as JsonValue;

use super::customer::customers_of;
use super::{Customer, CustomerGroup, load_failed};
use crate::graphql::connection::CountedConnection;
use crate::graphql::loaders::loaders;
use crate::service::customers::Owner;

/// A company that customers belong to. When it has pricing groups, they are
/// its customers' effective groups (seed 004); its parent's never are.
#[derive(Clone)]
pub struct Organization(pub organization::Model);

/// A company that customers belong to. When it has an active pricing
/// group, its pricing groups price its customers instead of their own; its
/// parent's groups never do (docs/pricing.md#effective-groups).
#[Object]
impl Organization {
    /// The organization's id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The organization's name (not necessarily unique).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Your own data about the organization: a JSON object, `{}` when none was given.
    async fn metadata(&self) -> &JsonValue {
        &self.0.metadata
    }
    /// Increases by one with every update; pass it back as `version` to refuse stale edits.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the organization was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the organization was last updated (setting its groups does not count).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The organization above this one; null for a top-level organization.
    /// Its groups do not price this organization's customers.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let Some(id) = self.0.parent_id else {
            return Ok(None);
        };
        let parent = loaders(ctx).organizations.load_one(id).await.map_err(load_failed)?;
        Ok(parent.map(Organization))
    }

    /// The organization's `PRICING` groups, by name, inactive ones included.
    /// While at least one is active, they price the organization's customers.
    async fn groups(&self, ctx: &Context<'_>) -> Result<Vec<CustomerGroup>> {
        let groups = loaders(ctx)
            .groups_by_organization
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?;
        Ok(groups
            .unwrap_or_default()
            .into_iter()
            .map(|g| CustomerGroup(customer_group::Model::clone(&g)))
            .collect())
    }

    /// The organization's customers (not those of its child organizations),
    /// in creation order. Admin only.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
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
    ) -> Result<CountedConnection<Customer>> {
        customers_of(ctx, Owner::Organization(self.0.id), first, after, last, before).await
    }
}
