//! The one statement that reads a shopper: a `UNION ALL` whose branches
//! share one column list, each tagged with what it reached.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use entity::{customer, customer_group, membership, organization_group, price_list};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, UnionType};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use uuid::Uuid;

use super::{AsIf, LoadedParts};
use crate::cache::{CustomerEntry, GroupEntry};
use crate::error::ServiceResult;
use crate::pricing::{ListInfo, ListStatus, ListType, PercentOff};
use migration::EVERYONE_GROUP_ID;

/// [`shopper_statement`], read into parts. With `as_if`, the parts hold
/// the imagined shopper under [`AsIf::key`] instead of the customer.
pub(super) async fn read_shopper(
    db: &DatabaseConnection,
    customer_id: Option<Uuid>,
    as_if: Option<&AsIf>,
) -> ServiceResult<LoadedParts> {
    let rows = db.query_all(&shopper_statement(customer_id, as_if)).await?;
    let mut customer: Option<(Uuid, Option<Uuid>)> = None;
    let mut organization_groups: Vec<Uuid> = Vec::new();
    let mut own_groups: Vec<Uuid> = Vec::new();
    let mut groups: HashMap<Uuid, GroupEntry> = HashMap::new();
    let mut lists: HashMap<Uuid, Arc<ListInfo>> = HashMap::new();
    for row in rows {
        let reach: String = row.try_get("", "reach")?;
        let group_id = || -> Result<Uuid, sea_orm::DbErr> { row.try_get("", "group_id") };
        let mut group = |id: Uuid| -> Result<(), sea_orm::DbErr> {
            groups.entry(id).or_default().is_active = row.try_get("", "is_active")?;
            Ok(())
        };
        match reach.as_str() {
            "C" => customer = Some((row.try_get("", "owner")?, row.try_get("", "group_id")?)),
            "E" => group(group_id()?)?,
            "O" => {
                organization_groups.push(group_id()?);
                group(group_id()?)?;
            }
            "M" => {
                own_groups.push(group_id()?);
                group(group_id()?)?;
            }
            "L" => {
                let list_type: String = row.try_get("", "list_type")?;
                let status: String = row.try_get("", "list_status")?;
                let list = ListInfo {
                    id: row.try_get("", "list_id")?,
                    list_type: ListType::from_code(&list_type).ok_or_else(|| unknown("list type", &list_type))?,
                    status: ListStatus::from_code(&status).ok_or_else(|| unknown("list status", &status))?,
                    starts_at: row.try_get("", "starts_at")?,
                    ends_at: row.try_get("", "ends_at")?,
                    created_at: row.try_get("", "list_created_at")?,
                    rule: rule(row.try_get("", "percent_off")?)?,
                };
                let priority: i32 = row.try_get("", "priority")?;
                groups.entry(group_id()?).or_default().links.push((list.id, priority));
                lists.insert(list.id, Arc::new(list));
            }
            _ => {
                let line: Uuid = row.try_get("", "line_id")?;
                groups.entry(group_id()?).or_default().product_lines.push(line);
            }
        }
    }
    let mut parts = LoadedParts {
        groups: groups.into_iter().map(|(id, group)| (id, Arc::new(group))).collect(),
        lists,
        ..LoadedParts::default()
    };
    if let Some(as_if) = as_if {
        let organization_id = as_if
            .organization
            .or(customer.and_then(|(_, organization)| organization));
        parts.customers.insert(
            as_if.key(),
            Arc::new(CustomerEntry {
                organization_id,
                groups: own_groups,
            }),
        );
        if let Some(organization) = organization_id {
            parts.organizations.insert(organization, Arc::new(organization_groups));
        }
        return Ok(parts);
    }
    if let Some((id, organization_id)) = customer {
        parts.customers.insert(
            id,
            Arc::new(CustomerEntry {
                organization_id,
                groups: own_groups,
            }),
        );
        if let Some(organization) = organization_id {
            parts.organizations.insert(organization, Arc::new(organization_groups));
        }
    }
    Ok(parts)
}

/// The branches of [`shopper`]'s statement share one column list; each
/// fills its own columns and leaves the rest typed NULLs.
fn shopper_statement(customer_id: Option<Uuid>, as_if: Option<&AsIf>) -> sea_orm::sea_query::SelectStatement {
    use entity::{customer_group_price_list as link, customer_group_product_line as group_line};
    use sea_orm::sea_query::SimpleExpr;

    #[derive(Default)]
    struct Branch {
        owner: Option<SimpleExpr>,
        group_id: Option<SimpleExpr>,
        is_active: Option<SimpleExpr>,
        priority: Option<SimpleExpr>,
        list: Option<[SimpleExpr; 7]>,
        line_id: Option<SimpleExpr>,
    }
    let select = |reach: &str, branch: Branch| {
        let none_uuid = || Expr::val(Option::<Uuid>::None);
        let none_time = || Expr::val(Option::<chrono::DateTime<Utc>>::None);
        let none_text = || Expr::val(Option::<String>::None);
        let [
            list_id,
            list_type,
            list_status,
            starts_at,
            ends_at,
            list_created_at,
            percent_off,
        ] = branch.list.unwrap_or_else(|| {
            [
                none_uuid(),
                none_text(),
                none_text(),
                none_time(),
                none_time(),
                none_time(),
                Expr::val(Option::<i32>::None),
            ]
        });
        Query::select()
            .expr_as(Expr::val(reach), Alias::new("reach"))
            .expr_as(branch.owner.unwrap_or_else(none_uuid), Alias::new("owner"))
            .expr_as(branch.group_id.unwrap_or_else(none_uuid), Alias::new("group_id"))
            .expr_as(
                branch.is_active.unwrap_or_else(|| Expr::val(Option::<bool>::None)),
                Alias::new("is_active"),
            )
            .expr_as(
                branch.priority.unwrap_or_else(|| Expr::val(Option::<i32>::None)),
                Alias::new("priority"),
            )
            .expr_as(list_id, Alias::new("list_id"))
            .expr_as(list_type, Alias::new("list_type"))
            .expr_as(list_status, Alias::new("list_status"))
            .expr_as(starts_at, Alias::new("starts_at"))
            .expr_as(ends_at, Alias::new("ends_at"))
            .expr_as(list_created_at, Alias::new("list_created_at"))
            .expr_as(percent_off, Alias::new("percent_off"))
            .expr_as(branch.line_id.unwrap_or_else(none_uuid), Alias::new("line_id"))
            .to_owned()
    };
    let group_columns = |owner: SimpleExpr| Branch {
        owner: Some(owner),
        group_id: Some(Expr::col((customer_group::Entity, customer_group::Column::Id))),
        is_active: Some(Expr::col((customer_group::Entity, customer_group::Column::IsActive))),
        ..Branch::default()
    };

    // Everyone, always.
    let mut statement = select("E", group_columns(Expr::val(Option::<Uuid>::None)))
        .from(customer_group::Entity)
        .and_where(Expr::col((customer_group::Entity, customer_group::Column::Id)).eq(EVERYONE_GROUP_ID))
        .to_owned();
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
    for (reach, groups) in [("O", organization_groups), ("M", own_groups)] {
        let Some(groups) = groups else { continue };
        statement.union(
            UnionType::All,
            select(reach, group_columns(Expr::val(Option::<Uuid>::None)))
                .from(customer_group::Entity)
                .and_where(Expr::col((customer_group::Entity, customer_group::Column::Id)).in_subquery(groups.clone()))
                .to_owned(),
        );
        reachable.union(UnionType::All, groups);
    }

    let list = |column: price_list::Column| -> SimpleExpr { Expr::col((price_list::Entity, column)) };
    statement.union(
        UnionType::All,
        select(
            "L",
            Branch {
                group_id: Some(Expr::col((link::Entity, link::Column::GroupId))),
                priority: Some(Expr::col((link::Entity, link::Column::Priority))),
                list: Some([
                    list(price_list::Column::Id),
                    list(price_list::Column::ListType),
                    list(price_list::Column::Status),
                    list(price_list::Column::StartsAt),
                    list(price_list::Column::EndsAt),
                    list(price_list::Column::CreatedAt),
                    list(price_list::Column::PercentOff),
                ]),
                ..Branch::default()
            },
        )
        .from(link::Entity)
        .inner_join(
            price_list::Entity,
            Expr::col((price_list::Entity, price_list::Column::Id)).equals((link::Entity, link::Column::PriceListId)),
        )
        .and_where(Expr::col((link::Entity, link::Column::GroupId)).in_subquery(reachable.clone()))
        .to_owned(),
    );
    statement.union(
        UnionType::All,
        select(
            "P",
            Branch {
                group_id: Some(Expr::col(group_line::Column::GroupId)),
                line_id: Some(Expr::col(group_line::Column::ProductLineId)),
                ..Branch::default()
            },
        )
        .from(group_line::Entity)
        .and_where(Expr::col(group_line::Column::GroupId).in_subquery(reachable))
        .to_owned(),
    );
    statement
}

/// A stored rule, which the database's check keeps in range.
pub(in crate::store) fn rule(percent_off: Option<i32>) -> Result<Option<PercentOff>, DbErr> {
    percent_off
        .map(|hundredths| {
            PercentOff::from_hundredths(hundredths.into()).ok_or_else(|| unknown("percentOff", &hundredths.to_string()))
        })
        .transpose()
}

/// A stored code this version does not know: the database was edited by hand.
fn unknown(what: &str, code: &str) -> DbErr {
    DbErr::Type(format!("unknown {what} '{code}' in the database"))
}
