//! The catalog: product lines and products. Base prices, being prices, are
//! written through [`super::prices`].

use entity::{customer_group_product_line as group_line, product, product_line};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, JsonValue, QueryFilter,
    QuerySelect, Select,
};
use std::sync::Arc;

use uuid::Uuid;

use super::{
    Patch, check_unique, check_version, find_ref, metadata, new_id, now, required_text, save_versioned,
    update_metadata, update_text,
};
use crate::domain::SearchText;
use crate::error::{Problems, ServiceError, ServiceResult, UserError, UserErrorCode};
use crate::page::{Page, PageRequest};
use crate::store::Store;
use crate::store::page::{contains_ignoring_case, fetch_page};

#[derive(Clone, Debug, Default)]
pub struct ProductLineChanges {
    pub id: String,
    pub version: Option<i32>,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ProductLineFilter {
    pub name_contains: Option<SearchText>,
}

impl ProductLineFilter {
    fn select(&self) -> Select<product_line::Entity> {
        let mut select = product_line::Entity::find();
        if let Some(needle) = self.name_contains.as_ref().map(SearchText::as_str) {
            select = select.filter(contains_ignoring_case(product_line::Column::Name, needle));
        }
        select
    }
}

pub async fn page_lines(
    db: &DatabaseConnection,
    filter: &ProductLineFilter,
    request: PageRequest,
) -> ServiceResult<Page<product_line::Model>> {
    Ok(fetch_page(db, filter.select(), product_line::Column::Id, request).await?)
}

pub async fn count_lines(db: &DatabaseConnection, filter: &ProductLineFilter) -> ServiceResult<u64> {
    Ok(crate::store::page::count(db, filter.select()).await?)
}

pub async fn create_line(store: &Store, name: &str) -> ServiceResult<product_line::Model> {
    let name = required_text("name", name)?;
    let now = now();
    let line = product_line::Model {
        id: new_id(),
        name,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let txn = store.begin().await?;
    product_line::Entity::insert(line.clone().into_active_model())
        .exec_without_returning(&*txn)
        .await?;
    txn.commit().await?;
    Ok(line)
}

pub async fn update_line(store: &Store, input: ProductLineChanges) -> ServiceResult<product_line::Model> {
    let db = store.conn();
    let current = find_ref::<product_line::Entity>(db, &["id"], "product line", &input.id).await?;
    check_version(input.version, current.version, "product line")?;
    let mut next = current.clone();
    if let Some(raw) = &input.name {
        next.name = required_text("name", raw)?;
    }
    next.version = current.version + 1;
    next.updated_at = now();
    let txn = store.begin().await?;
    let saved =
        save_versioned::<product_line::Entity>(&*txn, next, current.id, current.version, "product line", || {
            UserError::new(&["id"], UserErrorCode::Invalid, "the product line could not be saved")
        })
        .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Deletes a product line: its products stay, without a line; groups that
/// listed it stop listing it.
pub async fn delete_line(store: &Store, raw_id: &str, version: Option<i32>) -> ServiceResult<Uuid> {
    let db = store.conn();
    let line = find_ref::<product_line::Entity>(db, &["id"], "product line", raw_id).await?;
    check_version(version, line.version, "product line")?;
    let mut txn = store.begin().await?;
    // A write first: SQLite then takes the write lock at once (waiting out
    // the busy timeout), where a read first would make the later write fail
    // outright if another writer committed in between.
    product::Entity::update_many()
        .col_expr(product::Column::ProductLineId, Option::<Uuid>::None.into())
        .col_expr(product::Column::UpdatedAt, now().into())
        .filter(product::Column::ProductLineId.eq(line.id))
        .exec(&*txn)
        .await?;
    let listing: Vec<Uuid> = group_line::Entity::find()
        .select_only()
        .column(group_line::Column::GroupId)
        .filter(group_line::Column::ProductLineId.eq(line.id))
        .into_tuple()
        .all(&*txn)
        .await?;
    group_line::Entity::delete_many()
        .filter(group_line::Column::ProductLineId.eq(line.id))
        .exec(&*txn)
        .await?;
    product_line::Entity::delete_by_id(line.id).exec(&*txn).await?;
    txn.groups_changed(&listing);
    txn.catalog_changed();
    txn.commit().await?;
    Ok(line.id)
}

#[derive(Clone, Debug, Default)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub product_line_id: Option<String>,
    pub metadata: Option<JsonValue>,
}

#[derive(Clone, Debug, Default)]
pub struct ProductChanges {
    pub id: String,
    pub version: Option<i32>,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub product_line_id: Patch<String>,
    pub metadata: Option<JsonValue>,
}

pub use crate::store::products::ProductFilter;

/// A page of products; storefronts ask for the same few pages all day, so
/// the store caches them until any product changes.
pub async fn page_products(
    store: &Store,
    filter: &ProductFilter,
    request: PageRequest,
) -> ServiceResult<Arc<Page<Arc<product::Model>>>> {
    crate::store::product_page(store, filter, request).await
}

pub async fn count_products(db: &DatabaseConnection, filter: &ProductFilter) -> ServiceResult<u64> {
    Ok(crate::store::page::count(db, filter.select()).await?)
}

/// A sku: trimmed, not blank, no inner spaces. Unique as given.
pub fn sku(raw: &str) -> Result<String, UserError> {
    let value = required_text("sku", raw)?;
    if value.chars().any(char::is_whitespace) {
        return Err(UserError::new(
            &["sku"],
            UserErrorCode::Invalid,
            format!("sku '{value}' must not contain spaces"),
        ));
    }
    Ok(value)
}

fn sku_taken(sku: &str) -> UserError {
    UserError::new(
        &["sku"],
        UserErrorCode::Taken,
        format!("a product with sku '{sku}' already exists"),
    )
}

async fn line(db: &impl ConnectionTrait, raw: &str, problems: &mut Problems) -> ServiceResult<Option<Uuid>> {
    let found = find_ref::<product_line::Entity>(db, &["productLineId"], "product line", raw).await;
    Ok(problems.gather(found)?.map(|line| line.id))
}

pub async fn create_product(store: &Store, input: NewProduct) -> ServiceResult<product::Model> {
    let db = store.conn();
    let mut problems = Problems::default();
    let sku = problems.check(sku(&input.sku));
    let name = problems.check(required_text("name", &input.name));
    let metadata = problems.check(metadata(input.metadata));
    if let Some(sku) = &sku {
        problems.check(check_unique::<product::Entity>(db, product::Column::Sku, sku, None, || sku_taken(sku)).await?);
    }
    let product_line_id = match &input.product_line_id {
        Some(raw) => line(db, raw, &mut problems).await?,
        None => None,
    };
    let (Some(sku), Some(name), Some(metadata)) = (sku, name, metadata) else {
        return Err(problems.refused());
    };
    problems.into_result()?;
    let now = now();
    let product = product::Model {
        id: new_id(),
        sku,
        name,
        product_line_id,
        metadata,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let mut txn = store.begin().await?;
    product::Entity::insert(product.clone().into_active_model())
        .exec_without_returning(&*txn)
        .await
        .map_err(|error| ServiceError::unique_violation(error, || sku_taken(&product.sku)))?;
    txn.catalog_changed();
    txn.commit().await?;
    Ok(product)
}

pub async fn update_product(store: &Store, input: ProductChanges) -> ServiceResult<product::Model> {
    let db = store.conn();
    let current = find_ref::<product::Entity>(db, &["id"], "product", &input.id).await?;
    check_version(input.version, current.version, "product")?;
    let mut problems = Problems::default();
    let mut next = current.clone();
    if let Some(raw) = &input.sku
        && let Some(sku) = problems.check(sku(raw))
    {
        problems.check(
            check_unique::<product::Entity>(db, product::Column::Sku, &sku, Some(current.id), || sku_taken(&sku))
                .await?,
        );
        next.sku = sku;
    }
    update_text(&mut problems, "name", input.name.as_deref(), &mut next.name);
    update_metadata(&mut problems, input.metadata, &mut next.metadata);
    next.product_line_id = match input.product_line_id {
        Patch::Keep => current.product_line_id,
        Patch::Clear => None,
        Patch::Set(raw) => line(db, &raw, &mut problems).await?,
    };
    problems.into_result()?;
    next.version = current.version + 1;
    next.updated_at = now();
    let sku = next.sku.clone();
    let mut txn = store.begin().await?;
    let saved =
        save_versioned::<product::Entity>(&*txn, next, current.id, current.version, "product", || sku_taken(&sku))
            .await?;
    txn.catalog_changed();
    txn.commit().await?;
    Ok(saved)
}

/// Deletes a product with its base prices and every list's prices for it.
pub async fn delete_product(store: &Store, raw_id: &str, version: Option<i32>) -> ServiceResult<Uuid> {
    let db = store.conn();
    let product = find_ref::<product::Entity>(db, &["id"], "product", raw_id).await?;
    check_version(version, product.version, "product")?;
    let mut txn = store.begin().await?;
    entity::base_price::Entity::delete_many()
        .filter(entity::base_price::Column::ProductId.eq(product.id))
        .exec(&*txn)
        .await?;
    entity::price::Entity::delete_many()
        .filter(entity::price::Column::ProductId.eq(product.id))
        .exec(&*txn)
        .await?;
    product::Entity::delete_by_id(product.id).exec(&*txn).await?;
    txn.catalog_changed();
    txn.commit().await?;
    Ok(product.id)
}

/// The product `raw_id` names (a root lookup), or `NOT_FOUND` at `id`.
pub async fn get_product(db: &DatabaseConnection, raw_id: &str) -> ServiceResult<entity::product::Model> {
    super::find_ref::<entity::product::Entity>(db, &["id"], "product", raw_id).await
}

/// The product line `raw_id` names (a root lookup), or `NOT_FOUND` at `id`.
pub async fn get_line(db: &DatabaseConnection, raw_id: &str) -> ServiceResult<entity::product_line::Model> {
    super::find_ref::<entity::product_line::Entity>(db, &["id"], "product line", raw_id).await
}
