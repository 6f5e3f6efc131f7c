//! Rows by id, read through the in-process cache: the groups and price
//! lists the API shows (`ResolvedPrice.priceList`, `Customer.groups`, …),
//! so that a warm storefront that names a price's list or group runs no
//! SQL. Evicted with the pricing entries of the same ids, on every instance
//! through the change log.

use std::collections::HashMap;
use std::sync::Arc;

use entity::{customer_group, price_list};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::Store;
use crate::cache::{Cache, Fill};
use crate::error::ServiceResult;

/// The groups among `ids` that exist.
pub async fn groups_by_id(store: &Store, ids: &[Uuid]) -> ServiceResult<HashMap<Uuid, Arc<customer_group::Model>>> {
    read_through::<customer_group::Entity>(
        store,
        ids,
        customer_group::Column::Id,
        |group| group.id,
        Cache::group_row,
        |fill, row| fill.group_row(row),
    )
    .await
}

/// The price lists among `ids` that exist.
pub async fn lists_by_id(store: &Store, ids: &[Uuid]) -> ServiceResult<HashMap<Uuid, Arc<price_list::Model>>> {
    read_through::<price_list::Entity>(
        store,
        ids,
        price_list::Column::Id,
        |list| list.id,
        Cache::list_row,
        |fill, row| fill.list_row(row),
    )
    .await
}

/// From the cache, the rest in one statement, which then fills it (unless
/// an invalidation came in between).
async fn read_through<E: EntityTrait>(
    store: &Store,
    ids: &[Uuid],
    id_column: E::Column,
    id_of: fn(&E::Model) -> Uuid,
    cached: fn(&Cache, Uuid) -> Option<Arc<E::Model>>,
    fill: impl Fn(&Fill<'_>, Arc<E::Model>),
) -> ServiceResult<HashMap<Uuid, Arc<E::Model>>> {
    let mut found = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match cached(&store.cache, *id) {
            Some(row) => {
                found.insert(*id, row);
            }
            None => missing.push(*id),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let since = store.cache.generation();
    let loaded: Vec<Arc<E::Model>> = E::find()
        .filter(id_column.is_in(missing))
        .all(store.conn())
        .await?
        .into_iter()
        .map(Arc::new)
        .collect();
    store.cache.fill(since, |filling| {
        for row in &loaded {
            fill(filling, row.clone());
        }
    });
    found.extend(loaded.into_iter().map(|row| (id_of(&row), row)));
    Ok(found)
}
