//! The one statement that reads a shopper: a `UNION ALL` of the branches
//! of [`crate::store::parts::sql`], each tagged with what it reached.

use std::sync::Arc;

use entity::{customer, customer_group, membership, organization_group};
use sea_orm::sea_query::{Expr, ExprTrait, Query, UnionType};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::{AsIf, LoadedParts};
use crate::cache::CustomerEntry;
use crate::error::ServiceResult;
use crate::store::parts::sql::{Branch, groups, lines, links, read_rows, select};
use migration::EVERYONE_GROUP_ID;

/// [`shopper_statement`], read into parts. With `as_if`, the parts hold
/// the imagined shopper under [`AsIf::key`] instead of the customer.
pub(super) async fn read_shopper(
    db: &DatabaseConnection,
    customer_id: Option<Uuid>,
    as_if: Option<&AsIf>,
) -> ServiceResult<LoadedParts> {
    let rows = read_rows(db.query_all(&shopper_statement(customer_id, as_if)).await?)?;
    let customer = rows.customer;
    let mut parts = LoadedParts {
        groups: rows
            .groups
            .into_iter()
            .map(|(id, group)| (id, Arc::new(group)))
            .collect(),
        lists: rows.lists,
        ..LoadedParts::default()
    };
    let (key, organization_id) = match as_if {
        Some(as_if) => (
            as_if.key(),
            as_if
                .organization
                .or(customer.and_then(|(_, organization)| organization)),
        ),
        None => match customer {
            Some((id, organization_id)) => (id, organization_id),
            None => return Ok(parts),
        },
    };
    parts.customers.insert(
        key,
        Arc::new(CustomerEntry {
            organization_id,
            groups: rows.own_groups,
        }),
    );
    if let Some(organization) = organization_id {
        parts
            .organizations
            .insert(organization, Arc::new(rows.organization_groups));
    }
    Ok(parts)
}

/// The branches of [`shopper`]'s statement share one column list; each
/// fills its own columns and leaves the rest typed NULLs.
fn shopper_statement(customer_id: Option<Uuid>, as_if: Option<&AsIf>) -> sea_orm::sea_query::SelectStatement {
    // Everyone, always.
    let mut statement = groups("E", |id| id.eq(EVERYONE_GROUP_ID));
    // The ids of every group the shopper may reach, as one subquery: an
    // `IN` over a `UNION ALL` lets SQLite use the link table's key, where
    // `= … OR IN … OR IN …` made it scan every link.
    let mut reachable = Query::select().expr(Expr::val(EVERYONE_GROUP_ID)).to_owned();

    // The organization's groups and the own groups: the customer's, or
    // those imagined (`simulatePrices`).
    let organization_groups = match (as_if.and_then(|as_if| as_if.organization), customer_id) {
        (Some(organization), _) => Some(
            Query::select()
                .column(organization_group::Column::GroupId)
                .from(organization_group::Entity)
                .and_where(Expr::col(organization_group::Column::OrganizationId).eq(organization))
                .to_owned(),
        ),
        (None, Some(customer_id)) => Some(
            Query::select()
                .column(organization_group::Column::GroupId)
                .from(organization_group::Entity)
                .and_where(
                    Expr::col(organization_group::Column::OrganizationId).in_subquery(
                        Query::select()
                            .column(customer::Column::OrganizationId)
                            .from(customer::Entity)
                            .and_where(Expr::col(customer::Column::Id).eq(customer_id))
                            .to_owned(),
                    ),
                )
                .to_owned(),
        ),
        (None, None) => None,
    };
    let own_groups = match (as_if.and_then(|as_if| as_if.groups.as_ref()), customer_id) {
        (Some(groups), _) => Some(
            Query::select()
                .column(customer_group::Column::Id)
                .from(customer_group::Entity)
                .and_where(Expr::col(customer_group::Column::Id).is_in(groups.iter().copied()))
                .to_owned(),
        ),
        (None, Some(customer_id)) => Some(
            Query::select()
                .column(membership::Column::GroupId)
                .from(membership::Entity)
                .and_where(Expr::col(membership::Column::CustomerId).eq(customer_id))
                .to_owned(),
        ),
        (None, None) => None,
    };
    if let Some(customer_id) = customer_id {
        statement.union(
            UnionType::All,
            select(
                "C",
                Branch {
                    owner: Some(Expr::col(customer::Column::Id)),
                    group_id: Some(Expr::col(customer::Column::OrganizationId)),
                    ..Branch::default()
                },
            )
            .from(customer::Entity)
            .and_where(Expr::col(customer::Column::Id).eq(customer_id))
            .to_owned(),
        );
    }
    for (reach, reached) in [("O", organization_groups), ("M", own_groups)] {
        let Some(reached) = reached else { continue };
        statement.union(UnionType::All, groups(reach, |id| id.in_subquery(reached.clone())));
        reachable.union(UnionType::All, reached);
    }
    statement.union(UnionType::All, links(|group| group.in_subquery(reachable.clone())));
    statement.union(UnionType::All, lines(|group| group.in_subquery(reachable)));
    statement
}
