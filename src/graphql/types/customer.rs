use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::customer;
use sea_orm::JsonValue;

use super::{CustomerGroup, Organization, dangling, load_failed};
use crate::graphql::connection::{CountedConnection, TotalCount, connection, counted, page_request};
use crate::graphql::loaders::loaders;
use crate::service::customers::Owner;
use crate::service::page::Page;

/// A shopper or buyer, with one type group and any number of pricing groups.
pub struct Customer(pub customer::Model);

#[Object]
impl Customer {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Stored lower-cased; unique.
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn commission_exempt(&self) -> bool {
        self.0.commission_exempt
    }
    async fn free_freight(&self) -> bool {
        self.0.free_freight
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

    /// The customer's own `PRICING` groups (memberships), by name.
    async fn groups(&self, ctx: &Context<'_>) -> Result<Vec<CustomerGroup>> {
        let groups = loaders(ctx)
            .groups_by_customer
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?;
        Ok(groups.unwrap_or_default().into_iter().map(CustomerGroup).collect())
    }

    /// The one `TYPE` group that classifies this customer.
    async fn type_group(&self, ctx: &Context<'_>) -> Result<CustomerGroup> {
        let group = loaders(ctx)
            .groups
            .load_one(self.0.type_group_id)
            .await
            .map_err(load_failed)?;
        group
            .map(CustomerGroup)
            .ok_or_else(|| dangling("customer group", self.0.type_group_id))
    }

    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        let organization = loaders(ctx).organizations.load_one(id).await.map_err(load_failed)?;
        Ok(organization.map(Organization))
    }
}

/// A nested connection of customers (`CustomerGroup.customers`,
/// `Organization.customers`), loaded and counted in batches with its siblings.
pub async fn customers_of(
    ctx: &Context<'_>,
    owner: Owner,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<CountedConnection<Customer>> {
    let request = page_request(first, after, last, before)?;
    let loaders = loaders(ctx);
    let page = loaders
        .customer_pages
        .load_one((owner, request))
        .await
        .map_err(load_failed)?
        .unwrap_or_else(Page::empty);
    let counts = loaders.customer_counts.clone();
    let total = TotalCount::new(move || {
        let counts = counts.clone();
        Box::pin(async move { Ok(counts.load_one(owner).await.map_err(counted)?.unwrap_or_default()) })
    });
    Ok(connection(page, |c| c.id, Customer, total))
}
