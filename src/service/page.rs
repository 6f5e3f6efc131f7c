//! Keyset pagination over v7 UUID ids, for every connection of the API.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Order};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

/// The largest page anyone may ask for (SPEC §8).
pub const MAX_PAGE_SIZE: u64 = 100;

/// A validated page request: exactly one of `first`/`last`, 1..=100.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub size: u64,
    pub direction: Direction,
    pub after: Option<Uuid>,
    pub before: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `first`: from the start (or `after`) forwards.
    Forward,
    /// `last`: from the end (or `before`) backwards.
    Backward,
}

impl PageRequest {
    pub fn first(size: u64) -> Self {
        Self {
            size,
            direction: Direction::Forward,
            after: None,
            before: None,
        }
    }
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
        }
    }
}

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
    let order = match request.direction {
        Direction::Forward => Order::Asc,
        Direction::Backward => Order::Desc,
    };
    let mut items = select.order_by(id, order).limit(request.size + 1).all(db).await?;
    let has_more = items.len() as u64 > request.size;
    items.truncate(request.size as usize);
    Ok(match request.direction {
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
    })
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
