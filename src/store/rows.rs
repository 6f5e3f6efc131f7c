//! Rows by id, read through the in-process cache: the customers, groups,
//! price lists and organizations the API shows (`customer(id)`,
//! `ResolvedPrice.priceList`, `Customer.groups`, `Customer.organization`,
//! …), so that a warm storefront that names a price's list or group runs no
//! SQL. Evicted with the pricing entries of the same ids, on every instance
//! through the change log: every write to one of these tables names the
//! rows it changed.

use std::collections::HashMap;
use std::sync::Arc;

use entity::{customer, customer_group, organization, price_list};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::Store;
use crate::cache::{Cache, Fill};
use crate::error::ServiceResult;

/// A table whose rows the cache keeps by id.
pub trait CachedRow: EntityTrait {
    const ID: Self::Column;
    fn id_of(row: &Self::Model) -> Uuid;
    fn cached(cache: &Cache, id: Uuid) -> Option<Arc<Self::Model>>;
    fn fill(fill: &Fill<'_>, row: Arc<Self::Model>);
}

impl CachedRow for customer_group::Entity {
    const ID: Self::Column = customer_group::Column::Id;
    fn id_of(row: &Self::Model) -> Uuid {
        row.id
    }
    fn cached(cache: &Cache, id: Uuid) -> Option<Arc<Self::Model>> {
        cache.group_row(id)
    }
    fn fill(fill: &Fill<'_>, row: Arc<Self::Model>) {
        fill.group_row(row)
    }
}

impl CachedRow for price_list::Entity {
    const ID: Self::Column = price_list::Column::Id;
    fn id_of(row: &Self::Model) -> Uuid {
        row.id
    }
    fn cached(cache: &Cache, id: Uuid) -> Option<Arc<Self::Model>> {
        cache.list_row(id)
    }
    fn fill(fill: &Fill<'_>, row: Arc<Self::Model>) {
        fill.list_row(row)
    }
}

impl CachedRow for customer::Entity {
    const ID: Self::Column = customer::Column::Id;
    fn id_of(row: &Self::Model) -> Uuid {
        row.id
    }
    fn cached(cache: &Cache, id: Uuid) -> Option<Arc<Self::Model>> {
        cache.customer_row(id)
    }
    fn fill(fill: &Fill<'_>, row: Arc<Self::Model>) {
        fill.customer_row(row)
    }
}

impl CachedRow for organization::Entity {
    const ID: Self::Column = organization::Column::Id;
    fn id_of(row: &Self::Model) -> Uuid {
        row.id
    }
    fn cached(cache: &Cache, id: Uuid) -> Option<Arc<Self::Model>> {
        cache.organization_row(id)
    }
    fn fill(fill: &Fill<'_>, row: Arc<Self::Model>) {
        fill.organization_row(row)
    }
}

/// The rows among `ids` that exist: from the cache, the rest in one
/// statement, which then fills it (unless an invalidation came in between).
pub async fn by_id<E: CachedRow>(store: &Store, ids: &[Uuid]) -> ServiceResult<HashMap<Uuid, Arc<E::Model>>> {
    let mut found = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match E::cached(&store.cache, *id) {
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
        .filter(E::ID.is_in(missing))
        .all(store.conn())
        .await?
        .into_iter()
        .map(Arc::new)
        .collect();
    store.cache.fill(since, |filling| {
        for row in &loaded {
            E::fill(filling, row.clone());
        }
    });
    found.extend(loaded.into_iter().map(|row| (E::id_of(&row), row)));
    Ok(found)
}

/// A page of customers (`select` is its filter, `key` the filter and
/// request as text), cached until any customer — its row or its
/// memberships — changes: admin screens page through the same few.
pub async fn customer_page(
    store: &Store,
    key: String,
    select: sea_orm::Select<customer::Entity>,
    request: crate::page::PageRequest,
) -> ServiceResult<Arc<crate::page::Page<Arc<customer::Model>>>> {
    if let Some(page) = store.cache.customer_page(&key) {
        return Ok(page);
    }
    let since = store.cache.generation();
    let page = super::page::fetch_page(store.conn(), select, customer::Column::Id, request).await?;
    let page = super::page::shared(page);
    store.cache.fill(since, |fill| {
        fill.customer_page(key, page.clone());
        for customer in &page.items {
            fill.customer_row(customer.clone());
        }
    });
    Ok(page)
}
