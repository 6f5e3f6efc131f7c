//! Idempotent retries of mutations (docs/api.md#idempotency).
//!
//! A client that sends a mutation by POST with an `Idempotency-Key` header
//! may send it again, after a timeout or a dropped connection, without
//! writing twice: the same key, from the same credential, with the same
//! body within 24 hours gets the first answer back (marked
//! `Idempotent-Replayed: true`) and runs nothing. The same key with another
//! body is refused (422 `IDEMPOTENCY_KEY_REUSED`); the same request while
//! the first is still running waits its turn (409
//! `IDEMPOTENCY_KEY_IN_FLIGHT`, `Retry-After`).
//!
//! Keys are scoped by credential (the API key's digest): two clients cannot
//! see each other's answers, whatever keys they pick. "The same body" is
//! byte for byte: a client retries by resending what it sent.
//!
//! An answer that says the database could not be reached is not kept (the
//! mutation did not run, and the retry should run it); every other answer,
//! errors included, is. The key is claimed in the database before the
//! mutation runs and its answer written once it ends, even when the client
//! stopped waiting (see `graphql::execute`), so a retry after a `TIMEOUT`
//! gets the mutation's real answer. The claim and the mutation are separate
//! transactions: a server that dies between the mutation's commit and the
//! answer's write leaves the key running; after a minute it is taken to be
//! abandoned and a retry runs again.
//!
//! Queries ignore the header: they can be retried as they are.

mod keys;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

use super::{AppState, database_error, graphql_error, request_id};

pub(super) use keys::Pruning;

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// The header on an answer given again.
const REPLAYED: &str = "idempotent-replayed";

/// The longest key, in bytes.
const MAX_KEY_LENGTH: usize = 255;

/// A key this request holds: the request must run, then [`Claim::finish`].
pub(super) struct Claim {
    db: DatabaseConnection,
    key: keys::KeyRef,
}

/// Claims the request's `Idempotency-Key`, if it sent one: `Ok(None)`
/// without a key, `Ok(Some)` when the mutation should run, and otherwise the
/// answer to give instead (the first answer again, or a refusal).
pub(super) async fn claim(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Option<Claim>, Response> {
    let Some(key) = key(headers).map_err(|InvalidKey| invalid_key())? else {
        return Ok(None);
    };
    let key = keys::KeyRef {
        scope: hex(&Sha256::digest(credential(headers).as_bytes())),
        key,
    };
    let db = state.store.db.conn.clone();
    let now = chrono::Utc::now();
    match state.idempotency.maybe_prune(&db, now).await {
        Ok(0) => {}
        Ok(pruned) => tracing::debug!(pruned, "pruned expired idempotency keys"),
        Err(error) => tracing::warn!(%error, "pruning expired idempotency keys failed"),
    }
    let request_hash = hex(&Sha256::digest(body));
    let found = keys::claim(&db, &key, &request_hash, now)
        .await
        .map_err(|error| database_error(&error, &request_id(headers)))?;
    match found {
        keys::Found::Claimed => Ok(Some(Claim { db, key })),
        keys::Found::Answered { status, body } => Err(replay(status, body)),
        keys::Found::Running => {
            let mut response = graphql_error(
                StatusCode::CONFLICT,
                "IDEMPOTENCY_KEY_IN_FLIGHT",
                "a request with this Idempotency-Key is still running; retry after the time in `Retry-After` to get its answer",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            Err(response)
        }
        keys::Found::Reused => Err(graphql_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "IDEMPOTENCY_KEY_REUSED",
            "this Idempotency-Key was sent with a different request body within the last 24 hours; \
             send a new key with a new request",
        )),
    }
}

impl Claim {
    /// Keeps the answer for the retries to come; an answer that says the
    /// database could not be reached is not kept, so a retry runs again.
    /// A failure here is logged: the key then stays running until it is
    /// taken to be abandoned.
    pub(super) async fn finish(self, status: StatusCode, body: String) {
        let kept = if status == StatusCode::SERVICE_UNAVAILABLE {
            keys::release(&self.db, &self.key).await
        } else {
            keys::finish(&self.db, &self.key, status.as_u16(), body).await
        };
        if let Err(error) = kept {
            tracing::warn!(%error, "could not record the answer of an Idempotency-Key");
        }
    }
}

/// A key the header cannot carry: empty, too long, not printable ASCII, or
/// sent twice.
struct InvalidKey;

/// The key the request sent: none, or one valid key.
fn key(headers: &HeaderMap) -> Result<Option<String>, InvalidKey> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let key = value.as_bytes();
    let valid = (1..=MAX_KEY_LENGTH).contains(&key.len()) && key.iter().all(|byte| (b' '..=b'~').contains(byte));
    match (valid, values.next()) {
        (true, None) => Ok(Some(String::from_utf8_lossy(key).into_owned())),
        _ => Err(InvalidKey),
    }
}

/// 400, naming the header.
fn invalid_key() -> Response {
    graphql_error(
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        format!("the Idempotency-Key header must be sent once, with 1 to {MAX_KEY_LENGTH} printable ASCII characters"),
    )
}

/// What the request authenticated with (empty in open mode): keys are
/// scoped by it.
fn credential(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().split_once(' '))
        .map_or("", |(_, credential)| credential.trim())
}

/// The first answer, again.
fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/graphql-response+json"),
    );
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
