use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::organization;
use sea_orm::JsonValue;

use super::{Customer, CustomerGroup, load_failed};
use crate::graphql::connection::{CountedConnection, TotalCount, connection, page_request};
use crate::graphql::errors::query_error;
use crate::graphql::{db, loaders::loaders};
use crate::service::customers;

/// A company that customers belong to. When it has pricing groups, they are
/// its customers' effective groups (seed 004); its parent's never are.
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    async fn id(&self) -> ID {
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
        Ok(groups.unwrap_or_default().into_iter().map(CustomerGroup).collect())
    }

    async fn customers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CountedConnection<Customer>> {
        let request = page_request(first, after, last, before)?;
        let filter = customers::CustomerFilter {
            organization_id: Some(self.0.id),
            ..Default::default()
        };
        let db = db(ctx).conn.clone();
        let page = customers::page(&db, &filter, request).await.map_err(query_error)?;
        let total = TotalCount::new(move || {
            let (db, filter) = (db.clone(), filter.clone());
            Box::pin(async move { customers::count(&db, &filter).await })
        });
        Ok(connection(page, |c| c.id, Customer, total))
    }
}
