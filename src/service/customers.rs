//! Customers: one type group each, any number of pricing-group memberships.

use entity::values::GroupKind;
use entity::{customer, customer_group, membership, organization, organization_group};
use sea_orm::sea_query::Query;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, JoinType, JsonValue, QueryFilter,
    QuerySelect, RelationTrait, Select,
};
use uuid::Uuid;

use super::{
    DEFAULT_TYPE_GROUP_ID, EVERYONE_GROUP_ID, MAX_TEXT_LEN, Patch, check_unique, check_version, find_ref, metadata,
    new_id, now, required_text, save_versioned, update_metadata, update_text,
};
use crate::domain::SearchText;
use crate::error::{Problems, ServiceError, ServiceResult, UserError, UserErrorCode};
use crate::events::Event;
use crate::page::{Page, PageRequest};
use crate::store::Store;
use crate::store::page::{contains_ignoring_case, count_by_parent, fetch_page, fetch_pages};

#[derive(Clone, Debug, Default)]
pub struct NewCustomer {
    pub email: String,
    pub name: String,
    pub organization_id: Option<String>,
    /// The built-in `Default` type group when not given.
    pub type_group_id: Option<String>,
    pub commission_exempt: Option<bool>,
    pub free_freight: Option<bool>,
    pub metadata: Option<JsonValue>,
}

#[derive(Clone, Debug, Default)]
pub struct CustomerChanges {
    pub id: String,
    pub version: Option<i32>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub organization_id: Patch<String>,
    pub type_group_id: Option<String>,
    pub commission_exempt: Option<bool>,
    pub free_freight: Option<bool>,
    pub metadata: Option<JsonValue>,
}

#[derive(Clone, Debug, Default)]
pub struct CustomerFilter {
    /// Direct members of this `PRICING` group.
    pub member_of: Option<Uuid>,
    pub type_group_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub email_contains: Option<SearchText>,
}

impl CustomerFilter {
    /// The customers a group holds: its type-group customers, its members,
    /// or (for `Everyone`) every customer.
    pub fn of_group(group: &customer_group::Model) -> Self {
        match group.kind {
            GroupKind::Type => Self {
                type_group_id: Some(group.id),
                ..Self::default()
            },
            GroupKind::Pricing if group.id == EVERYONE_GROUP_ID => Self::default(),
            GroupKind::Pricing => Self {
                member_of: Some(group.id),
                ..Self::default()
            },
        }
    }

    fn select(&self) -> Select<customer::Entity> {
        let mut select = customer::Entity::find();
        if let Some(group_id) = self.member_of {
            select = select.filter(
                customer::Column::Id.in_subquery(
                    Query::select()
                        .column(membership::Column::CustomerId)
                        .from(membership::Entity)
                        .and_where(membership::Column::GroupId.eq(group_id))
                        .to_owned(),
                ),
            );
        }
        if let Some(id) = self.type_group_id {
            select = select.filter(customer::Column::TypeGroupId.eq(id));
        }
        if let Some(id) = self.organization_id {
            select = select.filter(customer::Column::OrganizationId.eq(id));
        }
        if let Some(needle) = self.email_contains.as_ref().map(SearchText::as_str) {
            select = select.filter(contains_ignoring_case(customer::Column::Email, needle));
        }
        select
    }
}

/// A page of customers, from the store's cache when it has it.
pub async fn page(
    store: &Store,
    filter: &CustomerFilter,
    request: PageRequest,
) -> ServiceResult<Arc<Page<Arc<customer::Model>>>> {
    crate::store::rows::customer_page(store, format!("{filter:?}{request:?}"), filter.select(), request).await
}

pub async fn count(db: &DatabaseConnection, filter: &CustomerFilter) -> ServiceResult<u64> {
    Ok(crate::store::page::count(db, filter.select()).await?)
}

/// An email address: trimmed, lower-cased (so uniqueness ignores case), with
/// one `@` between a local part and a dotted domain, and no spaces.
pub fn email(raw: &str) -> Result<String, UserError> {
    let value = required_text("email", raw)?.to_lowercase();
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !value.chars().any(char::is_whitespace)
        && value.len() <= MAX_TEXT_LEN;
    if valid {
        Ok(value)
    } else {
        Err(UserError::new(
            &["email"],
            UserErrorCode::Invalid,
            format!("'{}' is not an email address such as name@example.com", raw.trim()),
        ))
    }
}

fn email_taken(email: &str) -> UserError {
    UserError::new(
        &["email"],
        UserErrorCode::Taken,
        format!("a customer with email '{email}' already exists"),
    )
}

/// The type group a customer is put in: it must exist and be a `TYPE` group.
async fn type_group(db: &impl ConnectionTrait, raw: &str, problems: &mut Problems) -> ServiceResult<Option<Uuid>> {
    let Some(group) =
        problems.gather(find_ref::<customer_group::Entity>(db, &["typeGroupId"], "customer group", raw).await)?
    else {
        return Ok(None);
    };
    Ok(problems
        .check(super::groups::require_kind(
            &["typeGroupId"],
            &group,
            GroupKind::Type,
            "classify customers",
        ))
        .map(|()| group.id))
}

async fn organization(db: &impl ConnectionTrait, raw: &str, problems: &mut Problems) -> ServiceResult<Option<Uuid>> {
    let found = find_ref::<organization::Entity>(db, &["organizationId"], "organization", raw).await;
    Ok(problems.gather(found)?.map(|org| org.id))
}

pub async fn create(store: &Store, input: NewCustomer) -> ServiceResult<customer::Model> {
    let db = store.conn();
    let mut problems = Problems::default();
    let email = problems.check(email(&input.email));
    let name = problems.check(required_text("name", &input.name));
    let metadata = problems.check(metadata(input.metadata));
    if let Some(email) = &email {
        problems.check(
            check_unique::<customer::Entity>(db, customer::Column::Email, email, None, || email_taken(email)).await?,
        );
    }
    let organization_id = match &input.organization_id {
        Some(raw) => organization(db, raw, &mut problems).await?,
        None => None,
    };
    let type_group_id = match &input.type_group_id {
        Some(raw) => type_group(db, raw, &mut problems).await?,
        None => Some(DEFAULT_TYPE_GROUP_ID),
    };
    let (Some(email), Some(name), Some(metadata), Some(type_group_id)) = (email, name, metadata, type_group_id) else {
        return Err(problems.refused());
    };
    problems.into_result()?;
    let now = now();
    let customer = customer::Model {
        id: new_id(),
        email,
        name,
        organization_id,
        type_group_id,
        commission_exempt: input.commission_exempt.unwrap_or(false),
        free_freight: input.free_freight.unwrap_or(false),
        metadata,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let mut txn = store.begin().await?;
    customer::Entity::insert(customer.clone().into_active_model())
        .exec_without_returning(&*txn)
        .await
        .map_err(|error| ServiceError::unique_violation(error, || email_taken(&customer.email)))?;
    // Pages of customers now hold one more.
    txn.customers_changed(&[customer.id]);
    txn.commit().await?;
    Ok(customer)
}

pub async fn update(store: &Store, input: CustomerChanges) -> ServiceResult<customer::Model> {
    let db = store.conn();
    let current = find_ref::<customer::Entity>(db, &["id"], "customer", &input.id).await?;
    check_version(input.version, current.version, "customer")?;
    let mut problems = Problems::default();
    let mut next = current.clone();
    if let Some(raw) = &input.email
        && let Some(email) = problems.check(email(raw))
    {
        problems.check(
            check_unique::<customer::Entity>(db, customer::Column::Email, &email, Some(current.id), || {
                email_taken(&email)
            })
            .await?,
        );
        next.email = email;
    }
    update_text(&mut problems, "name", input.name.as_deref(), &mut next.name);
    update_metadata(&mut problems, input.metadata, &mut next.metadata);
    next.organization_id = match input.organization_id {
        Patch::Keep => current.organization_id,
        Patch::Clear => None,
        Patch::Set(raw) => organization(db, &raw, &mut problems).await?,
    };
    if let Some(raw) = &input.type_group_id
        && let Some(id) = type_group(db, raw, &mut problems).await?
    {
        next.type_group_id = id;
    }
    problems.into_result()?;
    next.commission_exempt = input.commission_exempt.unwrap_or(current.commission_exempt);
    next.free_freight = input.free_freight.unwrap_or(current.free_freight);
    next.version = current.version + 1;
    next.updated_at = now();
    let email = next.email.clone();
    let mut txn = store.begin().await?;
    // Moving to another organization can change the effective pricing
    // groups: read both sides in the write's transaction.
    let moved = if next.organization_id == current.organization_id {
        None
    } else {
        let before = effective_groups(&*txn, current.id, current.organization_id).await?;
        let after = effective_groups(&*txn, current.id, next.organization_id).await?;
        Some((before, after))
    };
    let saved = save_versioned::<customer::Entity>(&*txn, next, current.id, current.version, "customer", || {
        email_taken(&email)
    })
    .await?;
    txn.customers_changed(&[saved.id]);
    if saved.type_group_id != current.type_group_id {
        // The customer left one TYPE group for another.
        txn.emit(Event::membership_changed(current.type_group_id, &[saved.id]));
        txn.emit(Event::membership_changed(saved.type_group_id, &[saved.id]));
    }
    if let Some((before, after)) = moved {
        // The groups it left or joined through the move.
        for group in before.symmetric_difference(&after) {
            txn.emit(Event::membership_changed(*group, &[saved.id]));
        }
    }
    txn.commit().await?;
    Ok(saved)
}

/// Deletes a customer with its memberships.
pub async fn delete(store: &Store, raw_id: &str, version: Option<i32>) -> ServiceResult<Uuid> {
    let db = store.conn();
    let customer = find_ref::<customer::Entity>(db, &["id"], "customer", raw_id).await?;
    check_version(version, customer.version, "customer")?;
    let mut txn = store.begin().await?;
    // Every group it was in, directly or through its organization, loses it.
    let mut left = effective_groups(&*txn, customer.id, customer.organization_id).await?;
    left.extend(own_groups(&*txn, customer.id).await?);
    left.insert(customer.type_group_id);
    membership::Entity::delete_many()
        .filter(membership::Column::CustomerId.eq(customer.id))
        .exec(&*txn)
        .await?;
    customer::Entity::delete_by_id(customer.id).exec(&*txn).await?;
    txn.customers_changed(&[customer.id]);
    for group in left {
        txn.emit(Event::membership_changed(group, &[customer.id]));
    }
    txn.commit().await?;
    Ok(customer.id)
}

/// A customer's own pricing groups (its memberships).
async fn own_groups(db: &impl ConnectionTrait, customer_id: Uuid) -> ServiceResult<BTreeSet<Uuid>> {
    let ids: Vec<Uuid> = membership::Entity::find()
        .select_only()
        .column(membership::Column::GroupId)
        .filter(membership::Column::CustomerId.eq(customer_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}

/// The pricing groups a customer has in `organization_id` (its own when
/// the organization has none; docs/pricing.md#effective-groups), active or
/// not, `Everyone` aside: what membership events name.
async fn effective_groups(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    organization_id: Option<Uuid>,
) -> ServiceResult<BTreeSet<Uuid>> {
    if let Some(organization_id) = organization_id {
        let ids: Vec<Uuid> = organization_group::Entity::find()
            .select_only()
            .column(organization_group::Column::GroupId)
            .filter(organization_group::Column::OrganizationId.eq(organization_id))
            .into_tuple()
            .all(db)
            .await?;
        if !ids.is_empty() {
            return Ok(ids.into_iter().collect());
        }
    }
    own_groups(db, customer_id).await
}

impl CustomerFilter {
    /// The filter of the `customers` query: a group (of any kind) and an
    /// organization must exist.
    pub async fn parse(
        db: &DatabaseConnection,
        group_id: Option<&str>,
        organization_id: Option<&str>,
        email_contains: Option<SearchText>,
    ) -> ServiceResult<Self> {
        let mut filter = match group_id {
            Some(raw) => {
                Self::of_group(&find_ref::<customer_group::Entity>(db, &["groupId"], "customer group", raw).await?)
            }
            None => Self::default(),
        };
        if let Some(raw) = organization_id {
            filter.organization_id = Some(
                find_ref::<organization::Entity>(db, &["organizationId"], "organization", raw)
                    .await?
                    .id,
            );
        }
        filter.email_contains = email_contains;
        Ok(filter)
    }
}

/// Whose customers a nested connection lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The customers classified by a `TYPE` group.
    TypeGroup(Uuid),
    /// The direct members of a `PRICING` group.
    Members(Uuid),
    Organization(Uuid),
    /// Every customer (the `Everyone` group).
    Everyone,
}

impl Owner {
    pub fn of_group(group: &customer_group::Model) -> Self {
        match group.kind {
            GroupKind::Type => Self::TypeGroup(group.id),
            GroupKind::Pricing if group.id == EVERYONE_GROUP_ID => Self::Everyone,
            GroupKind::Pricing => Self::Members(group.id),
        }
    }

    fn id(self) -> Option<Uuid> {
        match self {
            Self::TypeGroup(id) | Self::Members(id) | Self::Organization(id) => Some(id),
            Self::Everyone => None,
        }
    }

    /// Owners of the same kind share one statement.
    fn same_kind(self, other: Self) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

/// Runs `each` once per kind of owner among `owners`, with the ids of that kind.
async fn per_kind<T, Fut>(
    owners: &[Owner],
    mut each: impl FnMut(Owner, Vec<Uuid>) -> Fut,
) -> ServiceResult<HashMap<Owner, T>>
where
    Fut: Future<Output = ServiceResult<Vec<(Owner, T)>>>,
{
    let mut kinds: Vec<Owner> = Vec::new();
    for owner in owners {
        if !kinds.iter().any(|k| k.same_kind(*owner)) {
            kinds.push(*owner);
        }
    }
    let mut results = HashMap::new();
    for kind in kinds {
        let ids = owners
            .iter()
            .filter(|o| o.same_kind(kind))
            .filter_map(|o| o.id())
            .collect();
        results.extend(each(kind, ids).await?);
    }
    Ok(results)
}

fn owned(kind: Owner, id: Uuid) -> Owner {
    match kind {
        Owner::TypeGroup(_) => Owner::TypeGroup(id),
        Owner::Members(_) => Owner::Members(id),
        Owner::Organization(_) => Owner::Organization(id),
        Owner::Everyone => Owner::Everyone,
    }
}

/// One page of customers for each owner: one statement per kind of owner.
pub async fn pages_by_owner(
    db: &DatabaseConnection,
    owners: &[Owner],
    request: PageRequest,
) -> ServiceResult<HashMap<Owner, Page<customer::Model>>> {
    per_kind(owners, |kind, ids| async move {
        let select = customer::Entity::find();
        let pages = match kind {
            Owner::Everyone => {
                return Ok(vec![(
                    kind,
                    fetch_page(db, select, customer::Column::Id, request).await?,
                )]);
            }
            Owner::TypeGroup(_) => {
                let parent = (customer::Entity, customer::Column::TypeGroupId);
                fetch_pages(db, select, parent, &ids, customer::Column::Id, request).await?
            }
            Owner::Organization(_) => {
                let parent = (customer::Entity, customer::Column::OrganizationId);
                fetch_pages(db, select, parent, &ids, customer::Column::Id, request).await?
            }
            Owner::Members(_) => {
                let select = select.join(JoinType::InnerJoin, membership::Relation::Customer.def().rev());
                let parent = (membership::Entity, membership::Column::GroupId);
                fetch_pages(db, select, parent, &ids, customer::Column::Id, request).await?
            }
        };
        Ok(pages.into_iter().map(|(id, page)| (owned(kind, id), page)).collect())
    })
    .await
}

/// How many customers each owner has: one statement per kind of owner.
pub async fn counts_by_owner(db: &DatabaseConnection, owners: &[Owner]) -> ServiceResult<HashMap<Owner, u64>> {
    per_kind(owners, |kind, ids| async move {
        let select = customer::Entity::find();
        let counts = match kind {
            Owner::Everyone => return Ok(vec![(kind, crate::store::page::count(db, select).await?)]),
            Owner::TypeGroup(_) => {
                count_by_parent(db, select, (customer::Entity, customer::Column::TypeGroupId), &ids).await?
            }
            Owner::Organization(_) => {
                count_by_parent(db, select, (customer::Entity, customer::Column::OrganizationId), &ids).await?
            }
            Owner::Members(_) => {
                let select = select.join(JoinType::InnerJoin, membership::Relation::Customer.def().rev());
                count_by_parent(db, select, (membership::Entity, membership::Column::GroupId), &ids).await?
            }
        };
        Ok(counts.into_iter().map(|(id, count)| (owned(kind, id), count)).collect())
    })
    .await
}

/// The customer `raw_id` names (a root lookup), or `NOT_FOUND` at `id`.
pub async fn get(db: &DatabaseConnection, raw_id: &str) -> ServiceResult<entity::customer::Model> {
    super::find_ref::<entity::customer::Entity>(db, &["id"], "customer", raw_id).await
}
