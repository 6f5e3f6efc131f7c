use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::organization;
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

#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn metadata(&self) -> &JsonValue {
        &self.0.metadata
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let Some(id) = self.0.parent_id else {
            return Ok(None);
        };
        let parent = loaders(ctx).organizations.load_one(id).await.map_err(load_failed)?;
        Ok(parent.map(Organization))
    }

    /// The organization's `PRICING` groups, by name.
    async fn groups(&self, ctx: &Context<'_>) -> Result<Vec<CustomerGroup>> {
        let groups = loaders(ctx)
            .groups_by_organization
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?;
        Ok(groups
            .unwrap_or_default()
            .into_iter()
            .map(|(_, g)| CustomerGroup(g))
            .collect())
    }

    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CountedConnection<Customer>> {
        customers_of(ctx, Owner::Organization(self.0.id), first, after, last, before).await
    }
}
