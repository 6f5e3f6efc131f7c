//! Relay cursor connections over the service's keyset pages. The types are
//! our own rather than async-graphql's, so that every field can say what it
//! means to the API's users; the wire shape is Relay's.

use std::borrow::Cow;

use async_graphql::{Object, OutputType, SimpleObject, TypeName};
use futures_util::future::BoxFuture;
use uuid::Uuid;

use super::errors::{bad_input, query_error};
use crate::error::ServiceResult;
use crate::page::{Direction, MAX_PAGE_SIZE, Page, PageRequest, encode_cursor};
use crate::store::Store;

/// A page of `T` (the type `TConnection`), with a lazily counted `totalCount`.
pub struct CountedConnection<T> {
    edges: Vec<Edge<T>>,
    has_previous_page: bool,
    has_next_page: bool,
    total: TotalCount,
}

impl<T: OutputType> TypeName for CountedConnection<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", T::type_name()).into()
    }
}

/// One page of a list, in the list's order (a Relay cursor connection).
/// Page forwards with `first` and `after`, or backwards with `last` and
/// `before`: 1 to 100 items at a time.
#[Object(name_type, shareable)]
impl<T: OutputType> CountedConnection<T> {
    /// Whether there are items before or after this page, and the cursors
    /// to reach them.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: self.edges.last().map(|edge| edge.cursor.clone()),
        }
    }

    /// The page's items, each with its cursor.
    async fn edges(&self) -> &[Edge<T>] {
        &self.edges
    }

    /// The page's items without their cursors (the same as `edges { node }`).
    async fn nodes(&self) -> Vec<&T> {
        self.edges.iter().map(|edge| &edge.node).collect()
    }

    /// How many items the list holds across all its pages (with the same
    /// filter). Counted only when asked for: ask only when you show it.
    async fn total_count(&self) -> async_graphql::Result<u64> {
        (self.total.0)().await
    }
}

/// One item of a page (the type `TEdge`) and the cursor that names its place.
pub struct Edge<T> {
    cursor: String,
    node: T,
}

impl<T: OutputType> TypeName for Edge<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", T::type_name()).into()
    }
}

/// One item of a page, with its cursor.
#[Object(name_type, shareable)]
impl<T: OutputType> Edge<T> {
    /// The item.
    async fn node(&self) -> &T {
        &self.node
    }

    /// Names this item's place in the list: pass it as `after` to continue
    /// after it, or as `before` to go back from it. Opaque; use it as it is.
    async fn cursor(&self) -> &str {
        &self.cursor
    }
}

/// Where a page lies in its list.
#[derive(SimpleObject)]
#[graphql(shareable)]
pub struct PageInfo {
    /// Whether items come before this page: paging backwards (`last`),
    /// whether more remain; paging forwards, true when `after` was given.
    pub has_previous_page: bool,
    /// Whether items come after this page: paging forwards (`first`),
    /// whether more remain; paging backwards, true when `before` was given.
    pub has_next_page: bool,
    /// The cursor of the page's first item; null when the page is empty.
    /// Pass it as `before` for the page before.
    pub start_cursor: Option<String>,
    /// The cursor of the page's last item; null when the page is empty.
    /// Pass it as `after` for the page after.
    pub end_cursor: Option<String>,
}

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

/// A connection whose items come with their own cursors (a list that is
/// not a table, such as an impact preview's changes).
pub fn positioned<T: OutputType>(
    items: Vec<(String, T)>,
    has_previous_page: bool,
    has_next_page: bool,
    total: TotalCount,
) -> CountedConnection<T> {
    CountedConnection {
        edges: items.into_iter().map(|(cursor, node)| Edge { cursor, node }).collect(),
        has_previous_page,
        has_next_page,
        total,
    }
}

/// Builds the connection of a fetched page; `id` gives each node's cursor.
pub fn connection<M, T: OutputType>(
    page: Page<M>,
    id: impl Fn(&M) -> Uuid,
    node: impl Fn(M) -> T,
    total: TotalCount,
) -> CountedConnection<T> {
    CountedConnection {
        edges: page
            .items
            .into_iter()
            .map(|item| Edge {
                cursor: encode_cursor(id(&item)),
                node: node(item),
            })
            .collect(),
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        total,
    }
}
