//! `CustomerGroup.usage` (docs/api.md#group-usage): which groups are used,
//! and how much. Every field loads through a batched loader, so a page of
//! groups costs the same few statements as one group.

use async_graphql::{Context, Enum, Object, Result};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::load_failed;
use crate::graphql::loaders::loaders;
use crate::service::customers::Owner;
use crate::service::usage::{Activity, Reach, Window};

/// How far back `pricesResolved` counts, in whole hours: the current hour
/// and those before it.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::service::usage::Window")]
pub enum UsageWindow {
    /// The last 24 hours: the current hour and the 23 before it.
    Day,
    /// The last 7 days: the current hour and the 167 before it.
    Week,
}

/// What one group's usage is about: the group, and whose customers it has.
pub struct GroupUsage {
    pub group_id: Uuid,
    pub members: Owner,
}

/// How much a group is used: who is in it and what is linked to it now,
/// and how many prices came through it lately. Price counts come from
/// every server, each of which writes what it counted every few seconds
/// (10 by default), so a price shows here after at most that long.
#[Object]
impl GroupUsage {
    /// Customers in the group now, as `CustomerGroup.customers` lists them:
    /// the direct members of a `PRICING` group (customers priced by it
    /// through their organization are not counted here: see
    /// `organizations`), every customer for `Everyone`, and the customers
    /// classified by a `TYPE` group.
    async fn customers(&self, ctx: &Context<'_>) -> Result<u64> {
        let count = loaders(ctx)
            .customer_counts
            .load_one(self.members)
            .await
            .map_err(load_failed)?;
        Ok(count.unwrap_or_default())
    }

    /// Organizations that have the group now. While one of an
    /// organization's groups is active, its customers are priced by its
    /// groups instead of their own.
    async fn organizations(&self, ctx: &Context<'_>) -> Result<u64> {
        self.reach(ctx, Reach::Organizations).await
    }

    /// Price lists linked to the group now, whatever their status or window.
    async fn price_lists(&self, ctx: &Context<'_>) -> Result<u64> {
        self.reach(ctx, Reach::PriceLists).await
    }

    /// How many resolved prices came through the group in the window: real
    /// shoppers' prices (`resolvedPrice`, `resolvePrices`,
    /// `Product.resolvedPrice`) whose `source` is `PRICE_LIST` and whose
    /// `customerGroup` is this group, summed over every server. Prices from
    /// the base price, with no price, or simulated (`simulatePrices`) do not
    /// count.
    async fn prices_resolved(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The window: `DAY` or `WEEK`, counted in whole hours up to now.")] last: UsageWindow,
    ) -> Result<u64> {
        Ok(self.activity(ctx).await?.prices_resolved(Window::from(last)))
    }

    /// The last time a price came through the group, to the millisecond, as
    /// of the last write of any server; null if none ever did. Kept after
    /// the counts of older hours are dropped (after eight days).
    async fn last_applied_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.activity(ctx).await?.last_applied_at)
    }
}

impl GroupUsage {
    async fn reach(&self, ctx: &Context<'_>, what: Reach) -> Result<u64> {
        let count = loaders(ctx)
            .group_reach
            .load_one((what, self.group_id))
            .await
            .map_err(load_failed)?;
        Ok(count.unwrap_or_default())
    }

    async fn activity(&self, ctx: &Context<'_>) -> Result<Activity> {
        let activity = loaders(ctx)
            .group_activity
            .load_one(self.group_id)
            .await
            .map_err(load_failed)?;
        Ok(activity.unwrap_or_default())
    }
}
