//! The shape shared by the statements that read entries: a `UNION ALL`
//! whose branches share one column list, each tagged with what it reached
//! (`reach`), and the reading of its rows. The shopper's statement
//! ([`crate::store::shopper`]) and the group entries' statement
//! ([`crate::store::relations`]) are built from these branches.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use entity::{
    customer_group, customer_group_price_list as link, customer_group_product_line as group_line, price_list,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{DbErr, QueryResult};
use uuid::Uuid;

use crate::cache::GroupEntry;
use crate::pricing::{ListInfo, ListStatus, ListType, PercentOff};

/// The columns one branch fills; the others are typed NULLs.
#[derive(Default)]
pub(in crate::store) struct Branch {
    pub owner: Option<SimpleExpr>,
    pub group_id: Option<SimpleExpr>,
    pub is_active: Option<SimpleExpr>,
    pub priority: Option<SimpleExpr>,
    pub list: Option<[SimpleExpr; 7]>,
    pub line_id: Option<SimpleExpr>,
}

/// One branch's `SELECT`, tagged `reach`, with every column of the union.
pub(in crate::store) fn select(reach: &str, branch: Branch) -> SelectStatement {
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
}

/// Groups (id and activity) whose id meets `which`, tagged `reach`.
pub(in crate::store) fn groups(reach: &str, which: impl FnOnce(SimpleExpr) -> SimpleExpr) -> SelectStatement {
    let id = || Expr::col((customer_group::Entity, customer_group::Column::Id));
    select(
        reach,
        Branch {
            group_id: Some(id()),
            is_active: Some(Expr::col((customer_group::Entity, customer_group::Column::IsActive))),
            ..Branch::default()
        },
    )
    .from(customer_group::Entity)
    .and_where(which(id()))
    .to_owned()
}

/// The links (with their lists) of the groups whose id meets `which`.
pub(in crate::store) fn links(which: impl FnOnce(SimpleExpr) -> SimpleExpr) -> SelectStatement {
    let list = |column: price_list::Column| -> SimpleExpr { Expr::col((price_list::Entity, column)) };
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
    .and_where(which(Expr::col((link::Entity, link::Column::GroupId))))
    .to_owned()
}

/// The product lines of the groups whose id meets `which`.
pub(in crate::store) fn lines(which: impl FnOnce(SimpleExpr) -> SimpleExpr) -> SelectStatement {
    select(
        "P",
        Branch {
            group_id: Some(Expr::col(group_line::Column::GroupId)),
            line_id: Some(Expr::col(group_line::Column::ProductLineId)),
            ..Branch::default()
        },
    )
    .from(group_line::Entity)
    .and_where(which(Expr::col(group_line::Column::GroupId)))
    .to_owned()
}

/// What the rows of such a statement held.
#[derive(Default)]
pub(in crate::store) struct Rows {
    /// The customer's id and organization (`C`).
    pub customer: Option<(Uuid, Option<Uuid>)>,
    /// Groups reached through the organization (`O`), and as own groups (`M`).
    pub organization_groups: Vec<Uuid>,
    pub own_groups: Vec<Uuid>,
    /// Every group reached (`E`, `O`, `M`, `G`), with its links (`L`) and product lines (`P`).
    pub groups: HashMap<Uuid, GroupEntry>,
    pub lists: HashMap<Uuid, Arc<ListInfo>>,
}

/// Reads the rows of a statement built from these branches.
pub(in crate::store) fn read_rows(rows: Vec<QueryResult>) -> Result<Rows, DbErr> {
    let mut read = Rows::default();
    for row in rows {
        let reach: String = row.try_get("", "reach")?;
        let group_id = || -> Result<Uuid, DbErr> { row.try_get("", "group_id") };
        let mut group = |id: Uuid| -> Result<(), DbErr> {
            read.groups.entry(id).or_default().is_active = row.try_get("", "is_active")?;
            Ok(())
        };
        match reach.as_str() {
            "C" => read.customer = Some((row.try_get("", "owner")?, row.try_get("", "group_id")?)),
            "E" | "G" => group(group_id()?)?,
            "O" => {
                group(group_id()?)?;
                read.organization_groups.push(group_id()?);
            }
            "M" => {
                group(group_id()?)?;
                read.own_groups.push(group_id()?);
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
                read.groups
                    .entry(group_id()?)
                    .or_default()
                    .links
                    .push((list.id, priority));
                read.lists.insert(list.id, Arc::new(list));
            }
            _ => {
                let line: Uuid = row.try_get("", "line_id")?;
                read.groups.entry(group_id()?).or_default().product_lines.push(line);
            }
        }
    }
    Ok(read)
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
