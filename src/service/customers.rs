//! Customers: one type group each, any number of pricing-group memberships.

use entity::values::GroupKind;
use entity::{customer, customer_group, membership};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

use super::EVERYONE_GROUP_ID;
use super::page::{Page, PageRequest, contains_ignoring_case, fetch_page};
use crate::error::ServiceResult;

#[derive(Clone, Debug, Default)]
pub struct CustomerFilter {
    /// Direct members of this `PRICING` group.
    pub member_of: Option<Uuid>,
    pub type_group_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub email_contains: Option<String>,
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
        if let Some(needle) = self.email_contains.as_deref().filter(|n| !n.is_empty()) {
            select = select.filter(contains_ignoring_case(customer::Column::Email, needle));
        }
        select
    }
}

pub async fn find(db: &DatabaseConnection, id: Uuid) -> ServiceResult<Option<customer::Model>> {
    Ok(customer::Entity::find_by_id(id).one(db).await?)
}

pub async fn page(
    db: &DatabaseConnection,
    filter: &CustomerFilter,
    request: PageRequest,
) -> ServiceResult<Page<customer::Model>> {
    Ok(fetch_page(db, filter.select(), customer::Column::Id, request).await?)
}

pub async fn count(db: &DatabaseConnection, filter: &CustomerFilter) -> ServiceResult<u64> {
    Ok(super::page::count(db, filter.select()).await?)
}
