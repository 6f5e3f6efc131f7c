//! Documents parsed lately, by their text. A storefront sends the same few
//! queries over and over, and parsing one (pest) cost about as much as
//! resolving the fields of a warm page of 50 prices. A document is a
//! function of its text alone, so a kept one is the one a parse would give;
//! a clone of it is several times cheaper than the parse.
//!
//! Bounded in bytes: a parsed document is taken as [`BYTES_PER_CHAR`]
//! times its text, and texts over [`MAX_KEPT_QUERY`] bytes are parsed every
//! time. A stream of distinct queries only takes turns in it; moka's
//! admission policy keeps the ones asked often.

use std::sync::{Arc, LazyLock};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerResult};
use rustc_hash::FxBuildHasher;

/// The largest query text kept parsed.
pub const MAX_KEPT_QUERY: usize = 16 * 1024;
/// Bytes of all parsed documents kept, estimated.
const KEPT_BYTES: u64 = 32 << 20;
/// A parsed document's size per byte of its text, at most about this
/// (storefront and admin queries measured 6–12).
const BYTES_PER_CHAR: usize = 16;

/// Keyed by the text; FxHash is not keyed, but a caller who makes texts
/// collide only slows their own look-ups.
type Documents = moka::sync::Cache<String, Arc<ExecutableDocument>, FxBuildHasher>;

static DOCUMENTS: LazyLock<Documents> = LazyLock::new(|| {
    moka::sync::Cache::builder()
        .max_capacity(KEPT_BYTES)
        .weigher(|text: &String, _| u32::try_from(text.len() * (BYTES_PER_CHAR + 1) + 256).unwrap_or(u32::MAX))
        .build_with_hasher(FxBuildHasher)
});

/// The request's document: the one it holds, a kept one, or parsed now
/// (and kept). The request keeps it for its execution, as async-graphql's
/// own `parsed_query` does.
pub fn parse(request: &mut Request) -> ServerResult<&ExecutableDocument> {
    if request.query.len() <= MAX_KEPT_QUERY {
        if let Some(document) = DOCUMENTS.get(&request.query) {
            request.set_parsed_query(ExecutableDocument::clone(&document));
        } else {
            let document = request.parsed_query()?.clone();
            DOCUMENTS.insert(request.query.clone(), Arc::new(document));
        }
    }
    request.parsed_query()
}
