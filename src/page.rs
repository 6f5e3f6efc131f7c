//! Pages of a connection, as every layer sees them: what the caller asked
//! for ([`PageRequest`]), what came back ([`Page`]) and the cursors that
//! name a position. Keyset pagination over v7 UUID ids (ordered by
//! creation); the SQL that fetches a page lives in the store (`store::page`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// The largest page anyone may ask for (docs/api.md#connections).
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

#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            has_previous_page: false,
            has_next_page: false,
        }
    }
}

/// A cursor: the id's bytes in URL-safe base64, the same for GraphQL's
/// connections and the REST admin's lists.
pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// The id a cursor names, or `None` when this API did not issue it.
pub fn decode_cursor(cursor: &str) -> Option<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_names_the_id_it_was_made_from() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
        for bad in ["", "not a cursor", "AAAA", "%%%"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }
}
