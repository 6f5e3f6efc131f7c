//! Relay cursor connections over the service's keyset pages.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Object, OutputType};
use futures_util::future::BoxFuture;
use uuid::Uuid;

use super::errors::{bad_input, query_error};
use crate::error::ServiceResult;
use crate::page::{Direction, MAX_PAGE_SIZE, Page, PageRequest, encode_cursor};
use crate::store::Store;

/// A connection of `T` with a lazily counted `totalCount`.
pub type CountedConnection<T> = Connection<String, T, TotalCount, EmptyFields>;

/// `totalCount`, counted only when the client asks for it.
pub struct TotalCount(Box<dyn Fn() -> BoxFuture<'static, async_graphql::Result<u64>> + Send + Sync>);

impl TotalCount {
    pub fn new<F>(count: F) -> Self
    where
        F: Fn() -> BoxFuture<'static, async_graphql::Result<u64>> + Send + Sync + 'static,
    {
        Self(Box::new(count))
    }

    /// Counts with `count(store, filter)`, for a top-level connection.
    pub fn counting<F, Fut>(store: &Store, filter: F, count: impl Fn(Store, F) -> Fut + Send + Sync + 'static) -> Self
    where
        F: Clone + Send + Sync + 'static,
        Fut: std::future::Future<Output = ServiceResult<u64>> + Send + 'static,
    {
        let store = store.clone();
        Self::new(move || {
            let counted = count(store.clone(), filter.clone());
            Box::pin(async move { counted.await.map_err(query_error) })
        })
    }
}

#[Object]
impl TotalCount {
    /// How many items match, across all pages.
    async fn total_count(&self) -> async_graphql::Result<u64> {
        (self.0)().await
    }
}

fn decode_cursor(argument: &str, cursor: &str) -> async_graphql::Result<Uuid> {
    crate::page::decode_cursor(cursor)
        .ok_or_else(|| bad_input(format!("{argument}: '{cursor}' is not a cursor of this connection")))
}

/// What a page of a connection counts towards a query's complexity limit:
/// its size (as asked, at most the largest page) times what each item selects.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first.or(last).unwrap_or(1).clamp(1, MAX_PAGE_SIZE as i32) as usize;
    1 + size * child_complexity
}

/// Validates `first`/`after`/`last`/`before`: exactly one of `first` and
/// `last`, from 1 to 100 (README: Security), and cursors this API issued.
pub fn page_request(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<PageRequest> {
    let (size, direction, argument) = match (first, last) {
        (Some(first), None) => (first, Direction::Forward, "first"),
        (None, Some(last)) => (last, Direction::Backward, "last"),
        (Some(_), Some(_)) => return Err(bad_input("pass either `first` or `last`, not both")),
        (None, None) => {
            return Err(bad_input(format!(
                "pass `first` or `last` (1 to {MAX_PAGE_SIZE}) to page through this connection"
            )));
        }
    };
    let size = u64::try_from(size)
        .ok()
        .filter(|size| (1..=MAX_PAGE_SIZE).contains(size))
        .ok_or_else(|| {
            bad_input(format!(
                "`{argument}` must be between 1 and {MAX_PAGE_SIZE}, got {size}"
            ))
        })?;
    Ok(PageRequest {
        size,
        direction,
        after: after.as_deref().map(|c| decode_cursor("after", c)).transpose()?,
        before: before.as_deref().map(|c| decode_cursor("before", c)).transpose()?,
    })
}

/// Builds the connection of a fetched page; `id` gives each node's cursor.
pub fn connection<M, T: OutputType>(
    page: Page<M>,
    id: impl Fn(&M) -> Uuid,
    node: impl Fn(M) -> T,
    total: TotalCount,
) -> CountedConnection<T> {
    let mut connection = Connection::with_additional_fields(page.has_previous_page, page.has_next_page, total);
    connection.edges = page
        .items
        .into_iter()
        .map(|item| Edge::new(encode_cursor(id(&item)), node(item)))
        .collect();
    connection
}
