use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{customer_group, customer_group_price_list as link};
use serde_json::Value as JsonValue;

use super::customer::customers_of;
use super::{Customer, GroupKind, PriceList, ProductLine, dangling, load_failed};
use crate::graphql::connection::CountedConnection;
use crate::graphql::loaders::loaders;
use crate::service::EVERYONE_GROUP_ID;
use crate::service::customers::Owner;

/// A segment of customers. `TYPE` groups classify (one per customer);
/// `PRICING` groups carry price lists and product-line access.
#[derive(Clone)]
pub struct CustomerGroup(pub customer_group::Model);

#[Object]
impl CustomerGroup {
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn kind(&self) -> GroupKind {
        self.0.kind.into()
    }
    /// Inactive groups are treated as absent everywhere.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    async fn commission_exempt(&self) -> bool {
        self.0.commission_exempt
    }
    async fn free_freight(&self) -> bool {
        self.0.free_freight
    }
    /// `Default` and `Everyone` are built in and cannot be deleted.
    async fn is_built_in(&self) -> bool {
        self.0.id == crate::service::DEFAULT_TYPE_GROUP_ID || self.0.id == EVERYONE_GROUP_ID
    }
    async fn metadata(&self) -> &JsonValue {
        &self.0.metadata
    }
    /// Increases with every update; pass it back to refuse stale edits.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Members: customers of a `TYPE` group, or direct members of a `PRICING`
    /// group (`Everyone` has every customer).
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CountedConnection<Customer>> {
        customers_of(ctx, Owner::of_group(&self.0), first, after, last, before).await
    }

    /// Linked price lists in the order resolution walks them: priority (lower
    /// first), then the list's creation time, then its id.
    async fn price_lists(&self, ctx: &Context<'_>) -> Result<Vec<CustomerGroupPriceList>> {
        let links = loaders(ctx)
            .price_list_links_by_group
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?;
        Ok(links
            .unwrap_or_default()
            .into_iter()
            .map(|l| CustomerGroupPriceList {
                link: l.link,
                price_list: Some(l.price_list),
                group: Some(self.0.clone()),
            })
            .collect())
    }

    /// Product lines this group may order from; empty means no restriction.
    async fn product_lines(&self, ctx: &Context<'_>) -> Result<Vec<ProductLine>> {
        let lines = loaders(ctx)
            .product_lines_by_group
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?;
        Ok(lines
            .unwrap_or_default()
            .into_iter()
            .map(|(_, l)| ProductLine(l))
            .collect())
    }
}

/// A price list linked to a pricing group at a priority (lower wins).
pub struct CustomerGroupPriceList {
    pub link: link::Model,
    /// Already loaded with the link, or `None` to load it.
    pub price_list: Option<entity::price_list::Model>,
    pub group: Option<customer_group::Model>,
}

#[Object]
impl CustomerGroupPriceList {
    async fn priority(&self) -> i32 {
        self.link.priority
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.link.created_at
    }
    async fn price_list(&self, ctx: &Context<'_>) -> Result<PriceList> {
        if let Some(list) = &self.price_list {
            return Ok(PriceList(list.clone()));
        }
        let list = loaders(ctx)
            .price_lists
            .load_one(self.link.price_list_id)
            .await
            .map_err(load_failed)?;
        list.map(PriceList)
            .ok_or_else(|| dangling("price list", self.link.price_list_id))
    }
    async fn customer_group(&self, ctx: &Context<'_>) -> Result<CustomerGroup> {
        if let Some(group) = &self.group {
            return Ok(CustomerGroup(group.clone()));
        }
        let group = loaders(ctx)
            .groups
            .load_one(self.link.group_id)
            .await
            .map_err(load_failed)?;
        group
            .map(CustomerGroup)
            .ok_or_else(|| dangling("customer group", self.link.group_id))
    }
}
