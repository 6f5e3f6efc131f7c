use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{customer_group, customer_group_price_list as link, price_list};
use serde_json::Value as JsonValue;
use uuid::Uuid;

use super::customer::customers_of;
use super::group_usage::GroupUsage;
use super::{Customer, GroupKind, PriceList, ProductLine, dangling, load_failed};
use crate::graphql::connection::CountedConnection;
use crate::graphql::loaders::loaders;
use crate::service::EVERYONE_GROUP_ID;
use crate::service::customers::Owner;

/// A segment of customers. `TYPE` groups classify (one per customer);
/// `PRICING` groups carry price lists and product-line access.
#[derive(Clone)]
pub struct CustomerGroup(pub customer_group::Model);

/// A segment of customers. A `TYPE` group classifies customers (each has
/// exactly one); a `PRICING` group carries price lists, product-line access
/// and exemptions for its members and its organizations' customers
/// (docs/pricing.md#effective-groups).
#[Object]
impl CustomerGroup {
    /// The group's id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The group's name; unique, ignoring case.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// A description for admins; null when none.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// `TYPE` or `PRICING`; fixed when the group is created.
    async fn kind(&self) -> GroupKind {
        self.0.kind.into()
    }
    /// Inactive groups are treated as absent everywhere: their lists do not
    /// price, their product lines do not restrict, their flags do not exempt.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    /// Whether the group exempts its customers from commission (while active).
    async fn commission_exempt(&self) -> bool {
        self.0.commission_exempt
    }
    /// Whether the group's customers ship free (while active).
    async fn free_freight(&self) -> bool {
        self.0.free_freight
    }
    /// `Default` (the `TYPE` group of customers given none) and `Everyone`
    /// (the `PRICING` group every shopper belongs to) are built in and
    /// cannot be deleted.
    async fn is_built_in(&self) -> bool {
        self.0.id == crate::service::DEFAULT_TYPE_GROUP_ID || self.0.id == EVERYONE_GROUP_ID
    }
    /// Your own data about the group: a JSON object, `{}` when none was given.
    async fn metadata(&self) -> &JsonValue {
        &self.0.metadata
    }
    /// Increases by one with every update; pass it back as `version` to refuse stale edits.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the group was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the group was last updated (changing its members, price lists or
    /// product lines does not count).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Members: customers of a `TYPE` group, or direct members of a `PRICING`
    /// group (`Everyone` has every customer), in creation order. Admin only.
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
        customers_of(ctx, Owner::of_group(&self.0), first, after, last, before).await
    }

    /// Linked price lists in the order resolution walks them: priority (lower
    /// first), then the list's creation time, then its id
    /// (docs/pricing.md#step-4-order). Always empty for a `TYPE` group.
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
                group_id: l.group_id,
                price_list_id: l.list.id,
                priority: l.priority,
                created_at: None,
                price_list: Some(price_list::Model::clone(&l.list)),
                group: Some(self.0.clone()),
            })
            .collect())
    }

    /// How much the group is used: its customers, organizations and price
    /// lists now, and how many prices came through it lately
    /// (docs/api.md#group-usage). Admin only.
    async fn usage(&self) -> GroupUsage {
        GroupUsage {
            group_id: self.0.id,
            members: Owner::of_group(&self.0),
        }
    }

    /// Product lines this group's customers may order from, by name; empty
    /// means this group restricts nothing (docs/pricing.md#product-access).
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
/// A pair is linked at most once.
pub struct CustomerGroupPriceList {
    pub group_id: Uuid,
    pub price_list_id: Uuid,
    pub priority: i32,
    /// When the link was made, if it was read with the link's row; the
    /// cache keeps links without it, so it is loaded when asked for.
    pub created_at: Option<DateTime<Utc>>,
    /// Already loaded with the link, or `None` to load it.
    pub price_list: Option<price_list::Model>,
    pub group: Option<customer_group::Model>,
}

impl CustomerGroupPriceList {
    /// A link read as a row, with what was read beside it.
    pub fn of_row(
        link: link::Model,
        price_list: Option<price_list::Model>,
        group: Option<customer_group::Model>,
    ) -> Self {
        Self {
            group_id: link.group_id,
            price_list_id: link.price_list_id,
            priority: link.priority,
            created_at: Some(link.created_at),
            price_list,
            group,
        }
    }
}

/// A price list linked to a pricing group at a priority: the list prices
/// that group's customers (docs/pricing.md#step-3-candidates).
#[Object]
impl CustomerGroupPriceList {
    /// 0 or more; among the lists that reach a shopper, the lower priority
    /// is tried first (docs/pricing.md#step-4-order).
    async fn priority(&self) -> i32 {
        self.priority
    }
    /// When the list was linked to the group (a new priority keeps it).
    async fn created_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        if let Some(created_at) = self.created_at {
            return Ok(created_at);
        }
        let link = loaders(ctx)
            .links_by_pair
            .load_one((self.group_id, self.price_list_id))
            .await
            .map_err(load_failed)?;
        link.map(|link| link.created_at)
            .ok_or_else(|| dangling("price list link", self.price_list_id))
    }
    /// The linked price list.
    async fn price_list(&self, ctx: &Context<'_>) -> Result<PriceList> {
        if let Some(list) = &self.price_list {
            return Ok(PriceList(list.clone()));
        }
        let list = loaders(ctx)
            .price_lists
            .load_one(self.price_list_id)
            .await
            .map_err(load_failed)?;
        list.map(PriceList)
            .ok_or_else(|| dangling("price list", self.price_list_id))
    }
    /// The group the list is linked to.
    async fn customer_group(&self, ctx: &Context<'_>) -> Result<CustomerGroup> {
        if let Some(group) = &self.group {
            return Ok(CustomerGroup(group.clone()));
        }
        let group = loaders(ctx).groups.load_one(self.group_id).await.map_err(load_failed)?;
        group
            .map(CustomerGroup)
            .ok_or_else(|| dangling("customer group", self.group_id))
    }
}
