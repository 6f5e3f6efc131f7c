//! Keyset pagination in SQL: one page of a selection, the same page for
//! many parents in one statement, and counts (see [`crate::page`] for the
//! types).

use std::collections::HashMap;

use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, IntoColumnRef, LikeExpr, Order, Query, WindowStatement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use std::sync::Arc;

use crate::page::{Direction, Page, PageRequest};

/// Applies the cursors and order of `request` to `select`, fetching one row
/// more than asked to learn whether another page exists. One statement.
pub async fn fetch_page<E, C>(
    db: &C,
    select: Select<E>,
    id: E::Column,
    request: PageRequest,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select = select;
    if let Some(after) = request.after {
        select = select.filter(id.gt(after));
    }
    if let Some(before) = request.before {
        select = select.filter(id.lt(before));
    }
    let order = order(request);
    let items = select.order_by(id, order).limit(request.size + 1).all(db).await?;
    Ok(finish(items, request))
}

fn order(request: PageRequest) -> Order {
    match request.direction {
        Direction::Forward => Order::Asc,
        Direction::Backward => Order::Desc,
    }
}

/// Cuts the extra row that tells whether there is more, and restores
/// ascending order for a backward page.
fn finish<T>(mut items: Vec<T>, request: PageRequest) -> Page<T> {
    let has_more = items.len() as u64 > request.size;
    items.truncate(request.size as usize);
    match request.direction {
        Direction::Forward => Page {
            items,
            has_previous_page: request.after.is_some(),
            has_next_page: has_more,
        },
        Direction::Backward => {
            items.reverse();
            Page {
                items,
                has_previous_page: has_more,
                has_next_page: request.before.is_some(),
            }
        }
    }
}

/// The same page of children for many parents, in one statement: each
/// parent's rows are numbered by id (`ROW_NUMBER() OVER (PARTITION BY
/// parent)`) and the first `size + 1` of each are kept. `parent` is the
/// column of `select` that names a row's parent.
pub async fn fetch_pages<E, C, P>(
    db: &C,
    select: Select<E>,
    parent: P,
    parents: &[Uuid],
    id: E::Column,
    request: PageRequest,
) -> Result<HashMap<Uuid, Page<E::Model>>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
    P: IntoColumnRef + Clone,
{
    const PARENT: &str = "page_parent";
    const ROW: &str = "page_row";
    let mut select = select.filter(Expr::col(parent.clone()).is_in(parents.iter().copied()));
    if let Some(after) = request.after {
        select = select.filter(id.gt(after));
    }
    if let Some(before) = request.before {
        select = select.filter(id.lt(before));
    }
    let mut inner = select.into_query();
    inner.expr_as(Expr::col(parent.clone()), Alias::new(PARENT));
    inner.expr_window_as(
        Expr::cust("ROW_NUMBER()"),
        WindowStatement::partition_by(parent)
            .order_by((E::default(), id), order(request))
            .take(),
        Alias::new(ROW),
    );
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("paged"))
        .and_where(Expr::col(Alias::new(ROW)).lte(request.size + 1))
        .order_by(Alias::new(ROW), Order::Asc)
        .to_owned();
    let mut rows: HashMap<Uuid, Vec<E::Model>> = parents.iter().map(|p| (*p, Vec::new())).collect();
    for row in db.query_all(&outer).await? {
        let parent: Uuid = row.try_get("", PARENT)?;
        rows.entry(parent)
            .or_default()
            .push(E::Model::from_query_result(&row, "")?);
    }
    Ok(rows
        .into_iter()
        .map(|(parent, items)| (parent, finish(items, request)))
        .collect())
}

/// `totalCount` for many parents in one statement: rows of `select` grouped
/// by their `parent` column.
pub async fn count_by_parent<E, C, P>(
    db: &C,
    select: Select<E>,
    parent: P,
    parents: &[Uuid],
) -> Result<HashMap<Uuid, u64>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
    P: IntoColumnRef + Clone,
{
    let counts: Vec<(Uuid, i64)> = select
        .select_only()
        .column_as(Expr::col(parent.clone()), "parent")
        .column_as(Expr::cust("COUNT(*)"), "count")
        .filter(Expr::col(parent.clone()).is_in(parents.iter().copied()))
        .group_by(Expr::col(parent))
        .into_tuple()
        .all(db)
        .await?;
    let mut totals: HashMap<Uuid, u64> = parents.iter().map(|p| (*p, 0)).collect();
    for (parent, count) in counts {
        totals.insert(parent, u64::try_from(count).unwrap_or_default());
    }
    Ok(totals)
}

/// `totalCount` of a filtered selection, run only when the field is asked for.
pub async fn count<E, C>(db: &C, select: Select<E>) -> Result<u64, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    select.count(db).await
}

/// `lower(column) LIKE %needle%`, with LIKE's wildcards in the needle escaped.
pub fn contains_ignoring_case(column: impl ColumnTrait, needle: &str) -> sea_orm::sea_query::SimpleExpr {
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(column.into_expr())).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// A page as the caches keep it: shared, its rows shared with the rows'
/// own cache layer.
pub fn shared<M>(page: Page<M>) -> Arc<Page<Arc<M>>> {
    Arc::new(Page {
        items: page.items.into_iter().map(Arc::new).collect(),
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
    })
}
