//! When the next price list window opens or closes: the instant a
//! scheduled list starts or ends changes prices with no write at all, and
//! subscriptions must recompute then (docs/api.md#subscriptions).

use chrono::{DateTime, Utc};
use entity::price_list;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::Store;

/// The earliest `startsAt` or `endsAt` of any list after `after`; `None`
/// when no list has one ahead. Every list counts, linked or not: an edge
/// of an unlinked list costs a recompute that changes nothing.
pub async fn next_window_edge(store: &Store, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
    let mut next: Option<DateTime<Utc>> = None;
    for column in [price_list::Column::StartsAt, price_list::Column::EndsAt] {
        let edge: Option<Option<DateTime<Utc>>> = price_list::Entity::find()
            .select_only()
            .expr(Expr::col(column).min())
            .filter(column.gt(after))
            .into_tuple()
            .one(store.conn())
            .await?;
        if let Some(edge) = edge.flatten() {
            next = Some(next.map_or(edge, |n| Ord::min(n, edge)));
        }
    }
    Ok(next)
}
