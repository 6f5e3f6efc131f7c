//! Organizations: companies that customers belong to. An organization's
//! pricing groups, when it has any, replace its customers' own (docs/pricing.md#effective-groups).

use std::collections::HashSet;

use entity::values::GroupKind;
use entity::{customer, customer_group, organization, organization_group};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, JsonValue, QueryFilter, Select,
};
use uuid::Uuid;

use super::groups::{parse_ids, report_missing, require_kind};
use super::{
    EVERYONE_GROUP_ID, Patch, check_version, find_ref, metadata, new_id, now, required_text, save_versioned,
    update_metadata, update_text,
};
use crate::domain::SearchText;
use crate::error::{Problems, ServiceResult, UserError, UserErrorCode};
use crate::events::Event;
use crate::page::{Page, PageRequest};
use crate::store::Store;
use crate::store::page::{contains_ignoring_case, fetch_page};

/// How deep a chain of parents may go; deeper is surely a mistake.
pub const MAX_DEPTH: usize = 32;

#[derive(Clone, Debug, Default)]
pub struct NewOrganization {
    pub name: String,
    pub parent_id: Option<String>,
    pub metadata: Option<JsonValue>,
}

#[derive(Clone, Debug, Default)]
pub struct OrganizationChanges {
    pub id: String,
    pub version: Option<i32>,
    pub name: Option<String>,
    pub parent_id: Patch<String>,
    pub metadata: Option<JsonValue>,
}

#[derive(Clone, Debug, Default)]
pub struct OrganizationFilter {
    pub name_contains: Option<SearchText>,
    pub parent_id: Option<Uuid>,
}

impl OrganizationFilter {
    fn select(&self) -> Select<organization::Entity> {
        let mut select = organization::Entity::find();
        if let Some(needle) = self.name_contains.as_ref().map(SearchText::as_str) {
            select = select.filter(contains_ignoring_case(organization::Column::Name, needle));
        }
        if let Some(parent) = self.parent_id {
            select = select.filter(organization::Column::ParentId.eq(parent));
        }
        select
    }
}

pub async fn page(
    db: &DatabaseConnection,
    filter: &OrganizationFilter,
    request: PageRequest,
) -> ServiceResult<Page<organization::Model>> {
    Ok(fetch_page(db, filter.select(), organization::Column::Id, request).await?)
}

pub async fn count(db: &DatabaseConnection, filter: &OrganizationFilter) -> ServiceResult<u64> {
    Ok(crate::store::page::count(db, filter.select()).await?)
}

/// The parent named by `raw`, refused when it would put `child` above itself.
async fn parent(
    db: &impl ConnectionTrait,
    raw: &str,
    child: Option<Uuid>,
    problems: &mut Problems,
) -> ServiceResult<Option<Uuid>> {
    let found = find_ref::<organization::Entity>(db, &["parentId"], "organization", raw).await;
    let Some(parent) = problems.gather(found)? else {
        return Ok(None);
    };
    let Some(child) = child else {
        return Ok(Some(parent.id));
    };
    // Walk up from the new parent: meeting the child would close a loop.
    let mut ancestor = Some(parent.clone());
    for _ in 0..MAX_DEPTH {
        let Some(current) = ancestor else {
            return Ok(Some(parent.id));
        };
        if current.id == child {
            problems.push(UserError::new(
                &["parentId"],
                UserErrorCode::Invalid,
                format!(
                    "'{}' is this organization or one of its descendants; an organization cannot be its own ancestor",
                    parent.name
                ),
            ));
            return Ok(None);
        }
        ancestor = match current.parent_id {
            Some(id) => organization::Entity::find_by_id(id).one(db).await?,
            None => None,
        };
    }
    problems.push(UserError::new(
        &["parentId"],
        UserErrorCode::Invalid,
        format!("organizations nest at most {MAX_DEPTH} levels deep"),
    ));
    Ok(None)
}

pub async fn create(store: &Store, input: NewOrganization) -> ServiceResult<organization::Model> {
    let db = store.conn();
    let mut problems = Problems::default();
    let name = problems.check(required_text("name", &input.name));
    let metadata = problems.check(metadata(input.metadata));
    let parent_id = match &input.parent_id {
        Some(raw) => parent(db, raw, None, &mut problems).await?,
        None => None,
    };
    let (Some(name), Some(metadata)) = (name, metadata) else {
        return Err(problems.refused());
    };
    problems.into_result()?;
    let now = now();
    let organization = organization::Model {
        id: new_id(),
        name,
        parent_id,
        metadata,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let txn = store.begin().await?;
    organization::Entity::insert(organization.clone().into_active_model())
        .exec_without_returning(&*txn)
        .await?;
    txn.commit().await?;
    Ok(organization)
}

pub async fn update(store: &Store, input: OrganizationChanges) -> ServiceResult<organization::Model> {
    let db = store.conn();
    let current = find_ref::<organization::Entity>(db, &["id"], "organization", &input.id).await?;
    check_version(input.version, current.version, "organization")?;
    let mut problems = Problems::default();
    let mut next = current.clone();
    update_text(&mut problems, "name", input.name.as_deref(), &mut next.name);
    update_metadata(&mut problems, input.metadata, &mut next.metadata);
    next.parent_id = match input.parent_id {
        Patch::Keep => current.parent_id,
        Patch::Clear => None,
        Patch::Set(raw) => parent(db, &raw, Some(current.id), &mut problems).await?,
    };
    problems.into_result()?;
    next.version = current.version + 1;
    next.updated_at = now();
    let mut txn = store.begin().await?;
    let saved =
        save_versioned::<organization::Entity>(&*txn, next, current.id, current.version, "organization", || {
            UserError::new(&["id"], UserErrorCode::Invalid, "the organization could not be saved")
        })
        .await?;
    // Its row is cached (`Customer.organization { name }`).
    txn.organizations_changed(&[saved.id]);
    txn.commit().await?;
    Ok(saved)
}

/// Deletes an organization: its customers and child organizations stay,
/// without it; its group links go.
pub async fn delete(store: &Store, raw_id: &str, version: Option<i32>) -> ServiceResult<Uuid> {
    let db = store.conn();
    let organization = find_ref::<organization::Entity>(db, &["id"], "organization", raw_id).await?;
    check_version(version, organization.version, "organization")?;
    let now = now();
    let mut txn = store.begin().await?;
    // The rows of its customers and child organizations change, and are
    // cached (`customer(id)`, `Organization.parent`): they are named.
    let customers = txn
        .update_returning_ids(
            customer::Entity::update_many()
                .col_expr(customer::Column::OrganizationId, Option::<Uuid>::None.into())
                .col_expr(customer::Column::UpdatedAt, now.into())
                .filter(customer::Column::OrganizationId.eq(organization.id)),
            customer::Column::Id,
        )
        .await?;
    let children = txn
        .update_returning_ids(
            organization::Entity::update_many()
                .col_expr(organization::Column::ParentId, Option::<Uuid>::None.into())
                .col_expr(organization::Column::UpdatedAt, now.into())
                .filter(organization::Column::ParentId.eq(organization.id)),
            organization::Column::Id,
        )
        .await?;
    if !customers.is_empty() {
        txn.customers_changed(&customers);
    }
    if !children.is_empty() {
        txn.organizations_changed(&children);
    }
    organization_group::Entity::delete_many()
        .filter(organization_group::Column::OrganizationId.eq(organization.id))
        .exec(&*txn)
        .await?;
    organization::Entity::delete_by_id(organization.id).exec(&*txn).await?;
    txn.organizations_changed(&[organization.id]);
    txn.emit([Event::organization_groups_changed(organization.id, &[])]);
    txn.commit().await?;
    Ok(organization.id)
}

/// Replaces an organization's pricing groups. They must be `PRICING` groups;
/// `Everyone` is everybody's already. An empty list makes the organization's
/// customers priced by their own groups again.
pub async fn set_groups(
    store: &Store,
    raw_organization_id: &str,
    raw_group_ids: &[String],
) -> ServiceResult<organization::Model> {
    let db = store.conn();
    let organization =
        find_ref::<organization::Entity>(db, &["organizationId"], "organization", raw_organization_id).await?;
    let mut problems = Problems::default();
    let ids = parse_ids("groupIds", "customer group", raw_group_ids, &mut problems);
    let groups = customer_group::Entity::find()
        .filter(customer_group::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    let found: HashSet<Uuid> = groups.iter().map(|g| g.id).collect();
    report_missing("groupIds", "customer group", &ids, &found, raw_group_ids, &mut problems);
    for group in &groups {
        let index = raw_group_ids
            .iter()
            .position(|raw| Uuid::parse_str(raw.trim()).ok() == Some(group.id))
            .unwrap_or_default()
            .to_string();
        let field = ["groupIds", index.as_str()];
        if problems
            .check(require_kind(&field, group, GroupKind::Pricing, "price an organization"))
            .is_some()
            && group.id == EVERYONE_GROUP_ID
        {
            problems.push(UserError::new(
                &field,
                UserErrorCode::BuiltIn,
                format!(
                    "every shopper belongs to '{}' implicitly; it cannot be given to an organization",
                    group.name
                ),
            ));
        }
    }
    problems.into_result()?;
    let now = now();
    let mut txn = store.begin().await?;
    organization_group::Entity::delete_many()
        .filter(organization_group::Column::OrganizationId.eq(organization.id))
        .exec(&*txn)
        .await?;
    let groups_given = ids.clone();
    let rows: Vec<_> = ids
        .into_iter()
        .map(|group_id| organization_group::ActiveModel {
            organization_id: Set(organization.id),
            group_id: Set(group_id),
            created_at: Set(now),
        })
        .collect();
    if !rows.is_empty() {
        organization_group::Entity::insert_many(rows)
            .exec_without_returning(&*txn)
            .await?;
    }
    txn.organizations_changed(&[organization.id]);
    txn.emit([Event::organization_groups_changed(organization.id, &groups_given)]);
    txn.commit().await?;
    Ok(organization)
}

/// The organization `raw_id` names (a root lookup), or `NOT_FOUND` at `id`.
pub async fn get(db: &DatabaseConnection, raw_id: &str) -> ServiceResult<entity::organization::Model> {
    super::find_ref::<entity::organization::Entity>(db, &["id"], "organization", raw_id).await
}
