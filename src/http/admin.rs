//! The REST admin endpoints (docs/api.md#rest), over the same service layer
//! as GraphQL: a handler reads its input, calls the service, and shapes the
//! answer. Validation, transactions and cache invalidation happen in the service.
//!
//! What a caller sees:
//!
//! - Bodies are JSON objects with camelCase fields, sent with
//!   `Content-Type: application/json` (anything else is 415, before the body is
//!   read). Unknown fields, wrong JSON types and missing required fields are 400
//!   and name the field: a typo must not be silently ignored.
//! - The service's user errors keep their codes: a group the path names that
//!   does not exist (or an id that cannot exist) is 404, as GraphQL's
//!   `NOT_FOUND`; a taken name, a stale `version` and deleting a built-in
//!   group are 409; every other refusal is 422. See [`error`].
//! - Every error is `{"error": {"code", "message", "field"}}`; a database failure
//!   is 500 `INTERNAL` with a generic message, the detail only in the log.
//!   The refusals the HTTP layer makes on these paths before a handler runs
//!   (401 and 403 from the admin check, 413 for a body over the limit) are
//!   [`ApiError`]s too, so that [`error`] is the one place the shape is written.
//!
//! The module lives under `http` because it is another HTTP surface beside
//! GraphQL, mounted by [`crate::http::build_app`] behind the admin check.

mod error;
mod groups;
mod input;

use axum::Router;
use axum::routing::{delete, get, post};

use super::AppState;

pub use error::ApiError;

/// The REST admin routes, to merge into the application router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(groups::COLLECTION, get(groups::list).post(groups::create))
        .route(
            "/admin/pricing/customer-groups/{id}",
            get(groups::show).patch(groups::update).delete(groups::delete),
        )
        .route(
            "/admin/pricing/customer-groups/{id}/price-lists",
            post(groups::add_price_list),
        )
        .route(
            "/admin/pricing/customer-groups/{id}/price-lists/{price_list_id}",
            delete(groups::remove_price_list),
        )
        .method_not_allowed_fallback(error::method_not_allowed)
}
