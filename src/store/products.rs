//! Products as pricing reads them: by id, and the pages of the catalog
//! that storefronts ask for all day. Both are cached until any product
//! changes (`Cache::catalog_changed`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use entity::product;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

use super::Store;
use super::page::{contains_ignoring_case, fetch_page, shared};
use crate::domain::SearchText;
use crate::error::ServiceResult;
use crate::page::{Page, PageRequest};

#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    pub product_line_id: Option<Uuid>,
    /// Case-insensitive substring of the sku or the name.
    pub search: Option<SearchText>,
}

impl ProductFilter {
    pub(crate) fn select(&self) -> Select<product::Entity> {
        let mut select = product::Entity::find();
        if let Some(line) = self.product_line_id {
            select = select.filter(product::Column::ProductLineId.eq(line));
        }
        if let Some(needle) = self.search.as_ref().map(SearchText::as_str) {
            select = select.filter(
                contains_ignoring_case(product::Column::Sku, needle)
                    .or(contains_ignoring_case(product::Column::Name, needle)),
            );
        }
        select
    }
}

/// A page of products; storefronts ask for the same few pages all day, so
/// they are cached until any product changes.
pub async fn product_page(
    store: &Store,
    filter: &ProductFilter,
    request: PageRequest,
) -> ServiceResult<Arc<Page<Arc<product::Model>>>> {
    let key = format!("{filter:?}{request:?}");
    if let Some(page) = store.cache.product_page(&key) {
        return Ok(page);
    }
    let since = store.cache.generation();
    let load = || async {
        let page = shared(fetch_page(store.conn(), filter.select(), product::Column::Id, request).await?);
        store.cache.fill(since, |fill| {
            fill.product_page(key.clone(), page.clone());
            for product in &page.items {
                fill.product(product.clone());
            }
        });
        Ok(page)
    };
    store.loads.product_pages.share(key.clone(), since, load).await
}

/// The products among `ids` that exist: from the cache, the rest in one
/// statement.
pub async fn products_by_id(store: &Store, ids: &BTreeSet<Uuid>) -> ServiceResult<HashMap<Uuid, Arc<product::Model>>> {
    let mut found = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match store.cache.product(*id) {
            Some(product) => {
                found.insert(*id, product);
            }
            None => missing.push(*id),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let since = store.cache.generation();
    let loaded: Vec<Arc<product::Model>> = product::Entity::find()
        .filter(product::Column::Id.is_in(missing))
        .all(store.conn())
        .await?
        .into_iter()
        .map(Arc::new)
        .collect();
    store.cache.fill(since, |fill| {
        for product in &loaded {
            fill.product(product.clone());
        }
    });
    found.extend(loaded.into_iter().map(|p| (p.id, p)));
    Ok(found)
}
