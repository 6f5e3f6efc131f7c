//! Customer groups: `TYPE` groups classify, `PRICING` groups price (docs/pricing.md#effective-groups).
//! Also the group's links: memberships, price lists and product lines.

use std::collections::{BTreeSet, HashMap, HashSet};

use entity::values::GroupKind;
use entity::{
    customer, customer_group, customer_group_price_list as link, customer_group_product_line as group_line, membership,
    price_list,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, JsonValue,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::{
    DEFAULT_TYPE_GROUP_ID, EVERYONE_GROUP_ID, Patch, check_unique, check_version, description, metadata, new_id, now,
    parse_id, required_text, save_versioned, update_description, update_metadata,
};
use crate::domain::{Priority, SearchText};
use crate::error::{Problems, ServiceError, ServiceResult, UserError, UserErrorCode};
use crate::events::{Action, Event};
use crate::page::{Page, PageRequest};
use crate::store::Store;
use crate::store::page::{contains_ignoring_case, fetch_page};

mod members;

pub use members::{Unlinked, add_customers, add_price_list, remove_customers, remove_price_list, set_product_lines};

/// Most ids one membership or product-line call takes.
pub const MAX_IDS_PER_CALL: usize = 1000;

#[derive(Clone, Debug, Default)]
pub struct NewGroup {
    pub name: String,
    pub description: Option<String>,
    /// `PRICING` when not given.
    pub kind: Option<GroupKind>,
    pub is_active: Option<bool>,
    pub commission_exempt: Option<bool>,
    pub free_freight: Option<bool>,
    pub metadata: Option<JsonValue>,
    /// Price lists to link at creation (the REST body, docs/api.md#rest).
    pub price_lists: Vec<NewLink>,
}

#[derive(Clone, Debug, Default)]
pub struct NewLink {
    pub price_list_id: String,
    pub priority: i64,
}

#[derive(Clone, Debug, Default)]
pub struct GroupChanges {
    pub id: String,
    pub version: Option<i32>,
    pub name: Option<String>,
    pub description: Patch<String>,
    pub is_active: Option<bool>,
    pub commission_exempt: Option<bool>,
    pub free_freight: Option<bool>,
    pub metadata: Option<JsonValue>,
}

#[derive(Clone, Debug, Default)]
pub struct GroupFilter {
    pub kind: Option<GroupKind>,
    pub is_active: Option<bool>,
    pub name_contains: Option<SearchText>,
}

/// A group's link to a price list, with the list.
#[derive(Clone, Debug)]
pub struct PriceListLink {
    pub link: link::Model,
    pub price_list: price_list::Model,
}

/// What [`add_price_list`] did: the link as it left it, and whether the pair
/// was linked before (then only its priority may have changed).
#[derive(Clone, Debug)]
pub struct Linked {
    pub link: PriceListLink,
    pub created: bool,
}

/// The price-list links of many groups in one statement, every group
/// present, each group's in the order resolution walks them: priority, then
/// the list's creation time, then its id (docs/pricing.md#step-4-order). GraphQL's loader
/// and the REST endpoints both read links through here.
pub async fn price_list_links(
    db: &impl ConnectionTrait,
    group_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<PriceListLink>>, sea_orm::DbErr> {
    let mut grouped: HashMap<Uuid, Vec<PriceListLink>> = group_ids.iter().map(|id| (*id, Vec::new())).collect();
    if group_ids.is_empty() {
        return Ok(grouped);
    }
    let rows = link::Entity::find()
        .filter(link::Column::GroupId.is_in(group_ids.iter().copied()))
        .find_also_related(price_list::Entity)
        .order_by_asc(link::Column::Priority)
        .order_by_asc(price_list::Column::CreatedAt)
        .order_by_asc(price_list::Column::Id)
        .all(db)
        .await?;
    for (link, price_list) in rows {
        if let Some(price_list) = price_list {
            grouped
                .entry(link.group_id)
                .or_default()
                .push(PriceListLink { link, price_list });
        }
    }
    Ok(grouped)
}

fn filtered(filter: &GroupFilter) -> sea_orm::Select<customer_group::Entity> {
    let mut select = customer_group::Entity::find();
    if let Some(kind) = filter.kind {
        select = select.filter(customer_group::Column::Kind.eq(kind));
    }
    if let Some(is_active) = filter.is_active {
        select = select.filter(customer_group::Column::IsActive.eq(is_active));
    }
    if let Some(needle) = filter.name_contains.as_ref().map(SearchText::as_str) {
        select = select.filter(contains_ignoring_case(customer_group::Column::Name, needle));
    }
    select
}

pub async fn page(
    db: &DatabaseConnection,
    filter: &GroupFilter,
    request: PageRequest,
) -> ServiceResult<Page<customer_group::Model>> {
    Ok(fetch_page(db, filtered(filter), customer_group::Column::Id, request).await?)
}

pub async fn count(db: &DatabaseConnection, filter: &GroupFilter) -> ServiceResult<u64> {
    Ok(crate::store::page::count(db, filtered(filter)).await?)
}

async fn check_name_free(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<Uuid>,
) -> ServiceResult<Result<(), UserError>> {
    let key = name.to_lowercase();
    check_unique::<customer_group::Entity>(db, customer_group::Column::NameKey, &key, except, || name_taken(name)).await
}

fn name_taken(name: &str) -> UserError {
    UserError::new(
        &["name"],
        UserErrorCode::Taken,
        format!("a customer group named '{name}' already exists"),
    )
}

pub async fn create(store: &Store, input: NewGroup) -> ServiceResult<customer_group::Model> {
    let db = store.conn();
    let mut problems = Problems::default();
    let name = problems.check(required_text("name", &input.name));
    let description = problems.check(description("description", input.description));
    let metadata = problems.check(metadata(input.metadata));
    let kind = input.kind.unwrap_or(GroupKind::Pricing);
    if let Some(name) = &name {
        problems.check(check_name_free(db, name, None).await?);
    }
    let links = validate_new_links(db, kind, &input.price_lists, &mut problems).await?;
    let (Some(name), Some(description), Some(metadata)) = (name, description, metadata) else {
        return Err(problems.refused());
    };
    problems.into_result()?;

    let now = now();
    let group = customer_group::Model {
        id: new_id(),
        name_key: name.to_lowercase(),
        name,
        description,
        kind,
        is_active: input.is_active.unwrap_or(true),
        commission_exempt: input.commission_exempt.unwrap_or(false),
        free_freight: input.free_freight.unwrap_or(false),
        metadata,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let mut txn = store.begin().await?;
    let inserted = customer_group::Entity::insert(group.clone().into_active_model())
        .exec(&*txn)
        .await;
    if let Err(error) = inserted {
        return Err(ServiceError::unique_violation(error, || name_taken(&group.name)));
    }
    for (price_list_id, priority) in links {
        insert_link(&*txn, group.id, price_list_id, priority, now).await?;
    }
    txn.groups_changed(&[group.id]);
    txn.emit([Event::group_changed(group.id, Action::Created)]);
    txn.commit().await?;
    Ok(group)
}

/// Checks a creation's `priceLists`: each list exists, appears once, has a
/// valid priority, and the group can carry lists at all.
async fn validate_new_links(
    db: &DatabaseConnection,
    kind: GroupKind,
    links: &[NewLink],
    problems: &mut Problems,
) -> ServiceResult<Vec<(Uuid, i32)>> {
    if links.is_empty() {
        return Ok(vec![]);
    }
    if kind == GroupKind::Type {
        problems.push(UserError::new(
            &["priceLists"],
            UserErrorCode::WrongGroupKind,
            "only PRICING groups can have price lists",
        ));
        return Ok(vec![]);
    }
    let mut parsed = Vec::new();
    let mut seen = HashSet::new();
    for (index, link) in links.iter().enumerate() {
        let index = index.to_string();
        let id = problems.check(parse_id(
            &["priceLists", &index, "priceListId"],
            "price list",
            &link.price_list_id,
        ));
        let priority = problems.check(
            Priority::parse(link.priority)
                .map(Priority::get)
                .map_err(|e| e.under(&["priceLists", &index])),
        );
        if let (Some(id), Some(priority)) = (id, priority) {
            if !seen.insert(id) {
                problems.push(UserError::new(
                    &["priceLists", &index, "priceListId"],
                    UserErrorCode::Taken,
                    format!("price list '{id}' is listed twice"),
                ));
            }
            parsed.push((index, id, priority));
        }
    }
    let ids: Vec<Uuid> = parsed.iter().map(|(_, id, _)| *id).collect();
    let found: HashSet<Uuid> = price_list::Entity::find()
        .filter(price_list::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|list| list.id)
        .collect();
    for (index, id, _) in &parsed {
        if !found.contains(id) {
            problems.push(UserError::not_found(
                &["priceLists", index, "priceListId"],
                "price list",
                &id.to_string(),
            ));
        }
    }
    Ok(parsed.into_iter().map(|(_, id, priority)| (id, priority)).collect())
}

async fn insert_link(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    price_list_id: Uuid,
    priority: i32,
    created_at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<()> {
    let row = link::ActiveModel {
        group_id: Set(group_id),
        price_list_id: Set(price_list_id),
        priority: Set(priority),
        created_at: Set(created_at),
    };
    link::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([link::Column::GroupId, link::Column::PriceListId])
                .update_column(link::Column::Priority)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Loads a group for a change, or says it does not exist.
pub(crate) async fn existing(
    db: &impl ConnectionTrait,
    field: &[&str],
    raw_id: &str,
) -> ServiceResult<customer_group::Model> {
    let id = parse_id(field, "customer group", raw_id)?;
    customer_group::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| UserError::not_found(field, "customer group", raw_id).into())
}

/// Refuses a group of the wrong kind where only `PRICING` (memberships,
/// organization groups, price lists, product lines) or only `TYPE` fits.
pub(crate) fn require_kind(
    field: &[&str],
    group: &customer_group::Model,
    kind: GroupKind,
    purpose: &str,
) -> Result<(), UserError> {
    if group.kind == kind {
        return Ok(());
    }
    let wanted = match kind {
        GroupKind::Type => "TYPE",
        GroupKind::Pricing => "PRICING",
    };
    Err(UserError::new(
        field,
        UserErrorCode::WrongGroupKind,
        format!(
            "'{}' is not a {wanted} group; only {wanted} groups {purpose}",
            group.name
        ),
    ))
}

pub async fn update(store: &Store, input: GroupChanges) -> ServiceResult<customer_group::Model> {
    let db = store.conn();
    let current = existing(db, &["id"], &input.id).await?;
    check_version(input.version, current.version, "customer group")?;
    let mut problems = Problems::default();
    let mut next = current.clone();
    if let Some(raw) = &input.name
        && let Some(name) = problems.check(required_text("name", raw))
    {
        problems.check(check_name_free(db, &name, Some(current.id)).await?);
        next.name_key = name.to_lowercase();
        next.name = name;
    }
    update_description(&mut problems, input.description, &mut next.description);
    update_metadata(&mut problems, input.metadata, &mut next.metadata);
    problems.into_result()?;
    next.is_active = input.is_active.unwrap_or(current.is_active);
    next.commission_exempt = input.commission_exempt.unwrap_or(current.commission_exempt);
    next.free_freight = input.free_freight.unwrap_or(current.free_freight);
    next.version = current.version + 1;
    next.updated_at = now();

    let name = next.name.clone();
    let mut txn = store.begin().await?;
    let saved =
        save_versioned::<customer_group::Entity>(&*txn, next, current.id, current.version, "customer group", || {
            name_taken(&name)
        })
        .await?;
    txn.groups_changed(&[saved.id]);
    txn.emit([Event::group_changed(saved.id, Action::Updated)]);
    txn.commit().await?;
    Ok(saved)
}

/// Deletes a group with its memberships, links and usage. Customers of a deleted
/// `TYPE` group move to the built-in `Default` group, so each keeps exactly one.
pub async fn delete(store: &Store, raw_id: &str, version: Option<i32>) -> ServiceResult<Uuid> {
    let db = store.conn();
    let group = existing(db, &["id"], raw_id).await?;
    check_version(version, group.version, "customer group")?;
    if group.id == DEFAULT_TYPE_GROUP_ID || group.id == EVERYONE_GROUP_ID {
        return Err(UserError::new(
            &["id"],
            UserErrorCode::BuiltIn,
            format!("'{}' is built in and cannot be deleted", group.name),
        )
        .into());
    }
    let mut txn = store.begin().await?;
    if group.kind == GroupKind::Type {
        // Their rows are cached (`customer(id)`): they are named.
        let customers = txn
            .update_returning_ids(
                customer::Entity::update_many()
                    .col_expr(customer::Column::TypeGroupId, DEFAULT_TYPE_GROUP_ID.into())
                    .col_expr(customer::Column::UpdatedAt, now().into())
                    .filter(customer::Column::TypeGroupId.eq(group.id)),
                customer::Column::Id,
            )
            .await?;
        if !customers.is_empty() {
            txn.customers_changed(&customers);
        }
    }
    membership::Entity::delete_many()
        .filter(membership::Column::GroupId.eq(group.id))
        .exec(&*txn)
        .await?;
    entity::organization_group::Entity::delete_many()
        .filter(entity::organization_group::Column::GroupId.eq(group.id))
        .exec(&*txn)
        .await?;
    link::Entity::delete_many()
        .filter(link::Column::GroupId.eq(group.id))
        .exec(&*txn)
        .await?;
    group_line::Entity::delete_many()
        .filter(group_line::Column::GroupId.eq(group.id))
        .exec(&*txn)
        .await?;
    super::usage::forget_group(&*txn, group.id).await?;
    customer_group::Entity::delete_by_id(group.id).exec(&*txn).await?;
    txn.groups_changed(&[group.id]);
    txn.emit([Event::group_changed(group.id, Action::Deleted)]);
    txn.commit().await?;
    Ok(group.id)
}

/// Parses a list of ids, reporting each bad one at `field.index`, and
/// dropping repeats (adding the same customer twice is a no-op).
pub(crate) fn parse_ids(field: &str, what: &str, raw: &[String], problems: &mut Problems) -> Vec<Uuid> {
    if raw.len() > MAX_IDS_PER_CALL {
        problems.push(UserError::new(
            &[field],
            UserErrorCode::TooMany,
            format!("at most {MAX_IDS_PER_CALL} ids per call"),
        ));
        return vec![];
    }
    let mut seen = BTreeSet::new();
    raw.iter()
        .enumerate()
        .filter_map(|(index, id)| problems.check(parse_id(&[field, &index.to_string()], what, id)))
        .filter(|id| seen.insert(*id))
        .collect()
}

/// Reports every id of `wanted` that is not in `found`.
pub(crate) fn report_missing(
    field: &str,
    what: &str,
    wanted: &[Uuid],
    found: &HashSet<Uuid>,
    raw: &[String],
    problems: &mut Problems,
) {
    for (index, id) in raw.iter().enumerate() {
        if let Ok(uuid) = uuid::Uuid::parse_str(id.trim())
            && wanted.contains(&uuid)
            && !found.contains(&uuid)
        {
            problems.push(UserError::not_found(&[field, &index.to_string()], what, id));
        }
    }
}

/// The customer group `raw_id` names (a root lookup), or `NOT_FOUND` at `id`.
pub async fn get(db: &DatabaseConnection, raw_id: &str) -> ServiceResult<entity::customer_group::Model> {
    super::find_ref::<entity::customer_group::Entity>(db, &["id"], "customer group", raw_id).await
}
