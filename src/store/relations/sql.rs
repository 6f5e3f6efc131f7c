//! The statements behind [`super`]'s entries, one per kind, for every key
//! of a batch: the entries are those the shopper's statement reads
//! ([`crate::store::shopper`]), for many customers, organizations or groups
//! at once.

use std::collections::HashMap;
use std::sync::Arc;

use entity::{customer, membership, organization_group};
use sea_orm::sea_query::{Expr, ExprTrait, Query, UnionType};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::cache::CustomerEntry;
use crate::error::ServiceResult;
use crate::store::parts::LoadedParts;
use crate::store::parts::sql::{Branch, groups as group_rows, lines, links, read_rows, select};

/// Customers' entries: each customer (`C`: its organization) and its
/// memberships (`M`), in one statement. Customers that do not exist have none.
pub(super) async fn customers(db: &DatabaseConnection, ids: &[Uuid]) -> ServiceResult<LoadedParts> {
    let mut statement = select(
        "C",
        Branch {
            owner: Some(Expr::col(customer::Column::Id)),
            group_id: Some(Expr::col(customer::Column::OrganizationId)),
            ..Branch::default()
        },
    )
    .from(customer::Entity)
    .and_where(Expr::col(customer::Column::Id).is_in(ids.iter().copied()))
    .to_owned();
    statement.union(
        UnionType::All,
        select(
            "M",
            Branch {
                owner: Some(Expr::col(membership::Column::CustomerId)),
                group_id: Some(Expr::col(membership::Column::GroupId)),
                ..Branch::default()
            },
        )
        .from(membership::Entity)
        .and_where(Expr::col(membership::Column::CustomerId).is_in(ids.iter().copied()))
        .to_owned(),
    );
    let mut organizations: HashMap<Uuid, Option<Uuid>> = HashMap::new();
    let mut memberships: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in db.query_all(&statement).await? {
        let reach: String = row.try_get("", "reach")?;
        let owner: Uuid = row.try_get("", "owner")?;
        let group_id: Option<Uuid> = row.try_get("", "group_id")?;
        match (reach.as_str(), group_id) {
            ("C", organization) => {
                organizations.insert(owner, organization);
            }
            (_, Some(group)) => memberships.entry(owner).or_default().push(group),
            (_, None) => return Err(DbErr::Type("a membership without a group".into()).into()),
        }
    }
    let customers = organizations
        .into_iter()
        .map(|(id, organization_id)| {
            let entry = CustomerEntry {
                organization_id,
                groups: memberships.remove(&id).unwrap_or_default(),
            };
            (id, Arc::new(entry))
        })
        .collect();
    Ok(LoadedParts {
        customers,
        ..LoadedParts::default()
    })
}

/// Organizations' entries (their groups), in one statement; every
/// organization asked for has one.
pub(super) async fn organizations(db: &DatabaseConnection, ids: &[Uuid]) -> ServiceResult<LoadedParts> {
    let statement = Query::select()
        .columns([
            organization_group::Column::OrganizationId,
            organization_group::Column::GroupId,
        ])
        .from(organization_group::Entity)
        .and_where(Expr::col(organization_group::Column::OrganizationId).is_in(ids.iter().copied()))
        .to_owned();
    let mut organizations: HashMap<Uuid, Vec<Uuid>> = ids.iter().map(|id| (*id, Vec::new())).collect();
    for row in db.query_all(&statement).await? {
        let organization: Uuid = row.try_get("", "organization_id")?;
        let group: Uuid = row.try_get("", "group_id")?;
        organizations.entry(organization).or_default().push(group);
    }
    Ok(LoadedParts {
        organizations: organizations
            .into_iter()
            .map(|(id, groups)| (id, Arc::new(groups)))
            .collect(),
        ..LoadedParts::default()
    })
}

/// Groups' entries — activity (`G`), links with their lists (`L`), product
/// lines (`P`) — in one statement. Groups that do not exist have none.
pub(super) async fn groups(db: &DatabaseConnection, ids: &[Uuid]) -> ServiceResult<LoadedParts> {
    let mut statement = group_rows("G", |id| id.is_in(ids.iter().copied()));
    statement.union(UnionType::All, links(|group| group.is_in(ids.iter().copied())));
    statement.union(UnionType::All, lines(|group| group.is_in(ids.iter().copied())));
    let rows = read_rows(db.query_all(&statement).await?)?;
    Ok(LoadedParts {
        groups: rows
            .groups
            .into_iter()
            .map(|(id, group)| (id, Arc::new(group)))
            .collect(),
        lists: rows.lists,
        ..LoadedParts::default()
    })
}
