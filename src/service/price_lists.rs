//! Price lists: `SALE` or `OVERRIDE`, `ACTIVE` or `DRAFT`, with an optional
//! window. Their prices are written through [`super::prices`].

use chrono::{DateTime, Utc};
use entity::values::{PriceListStatus, PriceListType};
use entity::{customer_group_price_list as link, price, price_list};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, JsonValue, QueryFilter, Select,
};
use uuid::Uuid;

use super::{
    Patch, check_version, description, find_ref, metadata, new_id, now, required_text, save_versioned,
    update_description, update_metadata, update_text,
};
use crate::domain::SearchText;
use crate::error::{Problems, ServiceResult, UserError, UserErrorCode};
use crate::events::{Action, Event};
use crate::page::{Page, PageRequest};
use crate::store::Store;
use crate::store::page::{contains_ignoring_case, fetch_page};

#[derive(Clone, Debug, Default)]
pub struct NewPriceList {
    pub name: String,
    pub description: Option<String>,
    /// `SALE` when not given.
    pub list_type: Option<PriceListType>,
    /// `ACTIVE` when not given.
    pub status: Option<PriceListStatus>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Makes it a derived list (docs/pricing.md#derived-lists).
    pub rule: Option<NewRule>,
    pub metadata: Option<JsonValue>,
}

/// A derived list's rule as the caller wrote it.
#[derive(Clone, Debug, Default)]
pub struct NewRule {
    /// A decimal string, checked by [`crate::domain::percent_off`].
    pub percent_off: String,
}

#[derive(Clone, Debug, Default)]
pub struct PriceListChanges {
    pub id: String,
    pub version: Option<i32>,
    pub name: Option<String>,
    pub description: Patch<String>,
    pub list_type: Option<PriceListType>,
    pub status: Option<PriceListStatus>,
    pub starts_at: Patch<DateTime<Utc>>,
    pub ends_at: Patch<DateTime<Utc>>,
    /// `Clear` makes it a list of fixed amounts only again.
    pub rule: Patch<NewRule>,
    pub metadata: Option<JsonValue>,
}

#[derive(Clone, Debug, Default)]
pub struct PriceListFilter {
    pub status: Option<PriceListStatus>,
    pub list_type: Option<PriceListType>,
    pub name_contains: Option<SearchText>,
}

impl PriceListFilter {
    fn select(&self) -> Select<price_list::Entity> {
        let mut select = price_list::Entity::find();
        if let Some(status) = self.status {
            select = select.filter(price_list::Column::Status.eq(status));
        }
        if let Some(list_type) = self.list_type {
            select = select.filter(price_list::Column::ListType.eq(list_type));
        }
        if let Some(needle) = self.name_contains.as_ref().map(SearchText::as_str) {
            select = select.filter(contains_ignoring_case(price_list::Column::Name, needle));
        }
        select
    }
}

pub async fn page(
    db: &DatabaseConnection,
    filter: &PriceListFilter,
    request: PageRequest,
) -> ServiceResult<Page<price_list::Model>> {
    Ok(fetch_page(db, filter.select(), price_list::Column::Id, request).await?)
}

pub async fn count(db: &DatabaseConnection, filter: &PriceListFilter) -> ServiceResult<u64> {
    Ok(crate::store::page::count(db, filter.select()).await?)
}

/// Loads a price list for a change, or says it does not exist.
pub(crate) async fn existing(
    db: &impl ConnectionTrait,
    field: &[&str],
    raw_id: &str,
) -> ServiceResult<price_list::Model> {
    find_ref::<price_list::Entity>(db, field, "price list", raw_id).await
}

/// The window is `startsAt ≤ at < endsAt`; an empty or inverted one could
/// never apply, so it is refused.
fn window(starts_at: Option<DateTime<Utc>>, ends_at: Option<DateTime<Utc>>) -> Result<(), UserError> {
    if let Some(start) = starts_at {
        crate::domain::instant("startsAt", start)?;
    }
    if let Some(end) = ends_at {
        crate::domain::instant("endsAt", end)?;
    }
    match (starts_at, ends_at) {
        (Some(start), Some(end)) if start >= end => Err(UserError::new(
            &["endsAt"],
            UserErrorCode::InvalidWindow,
            format!(
                "endsAt ({}) must be after startsAt ({})",
                end.to_rfc3339(),
                start.to_rfc3339()
            ),
        )),
        _ => Ok(()),
    }
}

/// A rule's discount as stored: hundredths of a percent.
fn percent_off(rule: &NewRule) -> Result<i32, UserError> {
    crate::domain::percent_off(&["rule", "percentOff"], &rule.percent_off).map(|p| i32::from(p.hundredths()))
}

pub async fn create(store: &Store, input: NewPriceList) -> ServiceResult<price_list::Model> {
    let mut problems = Problems::default();
    let name = problems.check(required_text("name", &input.name));
    let description = problems.check(description("description", input.description));
    let metadata = problems.check(metadata(input.metadata));
    problems.check(window(input.starts_at, input.ends_at));
    let rule = input.rule.as_ref().map(percent_off).transpose();
    let (Some(name), Some(description), Some(metadata), Some(percent_off)) =
        (name, description, metadata, problems.check(rule))
    else {
        return Err(problems.refused());
    };
    problems.into_result()?;
    let now = now();
    let list = price_list::Model {
        id: new_id(),
        name,
        description,
        list_type: input.list_type.unwrap_or(PriceListType::Sale),
        status: input.status.unwrap_or(PriceListStatus::Active),
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        percent_off,
        metadata,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let mut txn = store.begin().await?;
    price_list::Entity::insert(list.clone().into_active_model())
        .exec_without_returning(&*txn)
        .await?;
    txn.emit([Event::price_list_changed(list.id, Action::Created)]);
    txn.commit().await?;
    Ok(list)
}

pub async fn update(store: &Store, input: PriceListChanges) -> ServiceResult<price_list::Model> {
    let db = store.conn();
    let current = existing(db, &["id"], &input.id).await?;
    check_version(input.version, current.version, "price list")?;
    let mut problems = Problems::default();
    let mut next = current.clone();
    update_text(&mut problems, "name", input.name.as_deref(), &mut next.name);
    update_description(&mut problems, input.description, &mut next.description);
    update_metadata(&mut problems, input.metadata, &mut next.metadata);
    next.starts_at = input.starts_at.apply(current.starts_at);
    next.ends_at = input.ends_at.apply(current.ends_at);
    problems.check(window(next.starts_at, next.ends_at));
    next.percent_off = match input.rule {
        Patch::Keep => current.percent_off,
        Patch::Clear => None,
        Patch::Set(rule) => problems.check(percent_off(&rule)).or(current.percent_off),
    };
    problems.into_result()?;
    next.list_type = input.list_type.unwrap_or(current.list_type);
    next.status = input.status.unwrap_or(current.status);
    next.version = current.version + 1;
    next.updated_at = now();
    let mut txn = store.begin().await?;
    let saved = save_versioned::<price_list::Entity>(&*txn, next, current.id, current.version, "price list", || {
        UserError::new(&["id"], UserErrorCode::Invalid, "the price list could not be saved")
    })
    .await?;
    txn.lists_changed(&[saved.id]);
    txn.emit([Event::price_list_changed(saved.id, Action::Updated)]);
    txn.commit().await?;
    Ok(saved)
}

/// Deletes a price list with its prices and its links to groups.
pub async fn delete(store: &Store, raw_id: &str, version: Option<i32>) -> ServiceResult<Uuid> {
    let db = store.conn();
    let list = existing(db, &["id"], raw_id).await?;
    check_version(version, list.version, "price list")?;
    let mut txn = store.begin().await?;
    price::Entity::delete_many()
        .filter(price::Column::PriceListId.eq(list.id))
        .exec(&*txn)
        .await?;
    link::Entity::delete_many()
        .filter(link::Column::PriceListId.eq(list.id))
        .exec(&*txn)
        .await?;
    price_list::Entity::delete_by_id(list.id).exec(&*txn).await?;
    txn.lists_changed(&[list.id]);
    txn.emit([Event::price_list_changed(list.id, Action::Deleted)]);
    txn.commit().await?;
    Ok(list.id)
}

/// The price list `raw_id` names (a root lookup), or `NOT_FOUND` at `id`.
pub async fn get(db: &DatabaseConnection, raw_id: &str) -> ServiceResult<entity::price_list::Model> {
    super::find_ref::<entity::price_list::Entity>(db, &["id"], "price list", raw_id).await
}
