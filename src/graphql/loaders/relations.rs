//! The loaders of the relations pricing reads too: customers' and
//! organizations' groups and groups' price lists, from the store's cache
//! entries ([`crate::store::relations`]), and the link rows behind them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{customer_group, customer_group_price_list as link};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{LoadError, load_error};
use crate::store::Store;
use crate::store::relations::{self, ListLink};

/// A customer's own `PRICING` groups (its memberships), by name, from the
/// cache entries pricing reads (see [`crate::store::relations`]).
pub struct GroupsByCustomerLoader(pub(super) Store);

impl Loader<Uuid> for GroupsByCustomerLoader {
    type Value = Vec<Arc<customer_group::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        relations::groups_of_customers(&self.0, keys).await.map_err(load_error)
    }
}

/// An organization's `PRICING` groups, by name, from the cache entries
/// pricing reads.
pub struct GroupsByOrganizationLoader(pub(super) Store);

impl Loader<Uuid> for GroupsByOrganizationLoader {
    type Value = Vec<Arc<customer_group::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        relations::groups_of_organizations(&self.0, keys)
            .await
            .map_err(load_error)
    }
}

/// A group's price lists in the order resolution walks them, from the
/// cache entries pricing reads (see [`crate::store::relations::price_list_links`]).
pub struct PriceListLinksByGroupLoader(pub(super) Store);

impl Loader<Uuid> for PriceListLinksByGroupLoader {
    type Value = Vec<ListLink>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        relations::price_list_links(&self.0, keys).await.map_err(load_error)
    }
}

/// Link rows by (group, price list): what the cache does not keep of a link
/// (`createdAt`), one statement per batch.
pub struct LinksByPairLoader(pub(super) DatabaseConnection);

impl Loader<(Uuid, Uuid)> for LinksByPairLoader {
    type Value = link::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<HashMap<(Uuid, Uuid), Self::Value>, Self::Error> {
        let groups: BTreeSet<Uuid> = keys.iter().map(|(group, _)| *group).collect();
        let rows = link::Entity::find()
            .filter(link::Column::GroupId.is_in(groups))
            .all(&self.0)
            .await
            .map_err(load_error)?;
        let wanted: HashSet<&(Uuid, Uuid)> = keys.iter().collect();
        Ok(rows
            .into_iter()
            .map(|row| ((row.group_id, row.price_list_id), row))
            .filter(|(pair, _)| wanted.contains(pair))
            .collect())
    }
}
