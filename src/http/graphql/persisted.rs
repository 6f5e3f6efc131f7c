//! Automatic persisted queries, Apollo's APQ protocol
//! (docs/api.md#persisted-queries): a client sends only
//! `extensions.persistedQuery { version: 1, sha256Hash }`; a server that
//! knows the hash runs its query, one that does not answers
//! `PersistedQueryNotFound` (code `PERSISTED_QUERY_NOT_FOUND`, status 200,
//! as Apollo's clients expect), and the client sends the query once more
//! with its hash, which registers it. A hash-only GET is a short URL that a
//! browser or CDN can revalidate by `ETag`.
//!
//! The hash must be the SHA-256 of the query text exactly as sent: a
//! query under another's hash is refused and nothing is stored, so no
//! client can make a hash run a query it does not name.
//!
//! Registered queries live in the process, bounded by bytes (least recently
//! used go first), and in Redis when one is configured, under
//! `{prefix}apq:{hash}` for a day, so every instance (and a CDN in front
//! of them) knows what one of them was told. A query over 100 KiB runs but
//! is not registered. Redis failing costs a `PERSISTED_QUERY_NOT_FOUND`
//! (the client then sends the query), never a failed request.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::Value;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};

use crate::cache::shared::{Outage, RedisOptions};
use crate::http::graphql_error;

/// The largest query that is registered.
pub const MAX_REGISTERED_QUERY: usize = 100 * 1024;
/// What the process keeps, in bytes of query text.
const LOCAL_BYTES: u64 = 32 * 1024 * 1024;
/// How long Redis keeps a registered query.
const REDIS_TTL: Duration = Duration::from_secs(24 * 3600);

/// Why a persisted-query request cannot run.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The hash names no registered query (the client should send it).
    NotFound,
    /// The query's SHA-256 is not the hash it came with.
    HashMismatch { hash: String, actual: String },
    /// `extensions.persistedQuery` is not `{ version: 1, sha256Hash }`.
    Malformed(String),
}

/// A query to register once it has passed the document checks.
pub struct Registration {
    hash: String,
    query: String,
}

/// The registered queries of this process, and of every instance when
/// Redis is configured.
pub struct PersistedQueries {
    local: moka::sync::Cache<String, Arc<str>>,
    redis: Option<SharedQueries>,
}

struct SharedQueries {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
    outage: Outage,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        Self {
            local: moka::sync::Cache::builder()
                .weigher(|hash: &String, query: &Arc<str>| (hash.len() + query.len()).try_into().unwrap_or(u32::MAX))
                .max_capacity(LOCAL_BYTES)
                .build(),
            redis: None,
        }
    }
}

impl PersistedQueries {
    /// Shared through the Redis of `options` (without connecting: the first
    /// command does).
    pub fn shared(options: &RedisOptions) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(options.redis_url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(1);
        Ok(Self {
            redis: Some(SharedQueries {
                connection: ConnectionManager::new_lazy_with_config(client, config)?,
                prefix: options.key_prefix.clone(),
                timeout: options.timeout,
                outage: Outage::named("Redis (persisted queries)"),
            }),
            ..Self::default()
        })
    }

    /// Fills in the query of a hash-only request, or checks the hash of a
    /// full one; `Some` registration to make once the query has passed the
    /// document checks. Requests without `persistedQuery` pass untouched.
    pub async fn apply(&self, request: &mut async_graphql::Request) -> Result<Option<Registration>, Refusal> {
        let Some(extension) = request.extensions.get("persistedQuery") else {
            return Ok(None);
        };
        let hash = requested_hash(extension)?;
        if request.query.is_empty() {
            request.query = self.get(&hash).await.ok_or(Refusal::NotFound)?.to_string();
            return Ok(None);
        }
        let actual = sha256_hex(&request.query);
        if actual != hash {
            return Err(Refusal::HashMismatch { hash, actual });
        }
        let registered = self.local.contains_key(&hash);
        Ok(
            (!registered && request.query.len() <= MAX_REGISTERED_QUERY).then(|| Registration {
                hash,
                query: request.query.clone(),
            }),
        )
    }

    /// Registers the queries of requests whose documents passed the shape
    /// check and parsed (a document that does not parse is not kept).
    pub async fn register_parsed<'a>(
        &self,
        requests: impl IntoIterator<Item = (&'a mut async_graphql::Request, Option<Registration>)>,
    ) {
        for (request, registration) in requests {
            if let Some(registration) = registration
                && request.parsed_query().is_ok()
            {
                self.register(registration).await;
            }
        }
    }

    /// Registers a query that passed the document checks.
    async fn register(&self, registration: Registration) {
        let Registration { hash, query } = registration;
        if let Some(redis) = &self.redis {
            let mut set = redis::cmd("SET");
            set.arg(format!("{}apq:{hash}", redis.prefix))
                .arg(&query)
                .arg("EX")
                .arg(REDIS_TTL.as_secs());
            let mut connection = redis.connection.clone();
            redis.run("register", set.query_async::<()>(&mut connection)).await;
        }
        self.local.insert(hash, query.into());
    }

    async fn get(&self, hash: &str) -> Option<Arc<str>> {
        if let Some(query) = self.local.get(hash) {
            return Some(query);
        }
        let redis = self.redis.as_ref()?;
        let mut get = redis::cmd("GET");
        get.arg(format!("{}apq:{hash}", redis.prefix));
        let mut connection = redis.connection.clone();
        let query: Arc<str> = redis
            .run("read", get.query_async::<Option<String>>(&mut connection))
            .await
            .flatten()?
            .into();
        // Checked again: Redis may be shared with other deployments.
        if sha256_hex(&query) != hash {
            return None;
        }
        self.local.insert(hash.to_owned(), query.clone());
        Some(query)
    }
}

impl SharedQueries {
    async fn run<T>(&self, what: &str, command: impl Future<Output = redis::RedisResult<T>>) -> Option<T> {
        match tokio::time::timeout(self.timeout, command).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                self.outage.record(what, &error);
                None
            }
            Err(_) => {
                self.outage
                    .record(what, &format_args!("no answer within {:?}", self.timeout));
                None
            }
        }
    }
}

impl IntoResponse for Refusal {
    /// Answered as Apollo's clients expect: an unknown hash is 200
    /// `PersistedQueryNotFound` (the client then sends the query), never
    /// cached; the others are the client's mistakes.
    fn into_response(self) -> Response {
        match self {
            Refusal::NotFound => {
                let mut response = graphql_error(StatusCode::OK, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound");
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-cache, must-revalidate"),
                );
                response
            }
            Refusal::HashMismatch { hash, actual } => graphql_error(
                StatusCode::BAD_REQUEST,
                "PERSISTED_QUERY_HASH_MISMATCH",
                format!(
                    "the query's SHA-256 is {actual}, not the `extensions.persistedQuery.sha256Hash` {hash} it came with; nothing was run or stored"
                ),
            ),
            Refusal::Malformed(message) => graphql_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", message),
        }
    }
}

/// The hash `extensions.persistedQuery` asks for, lower-cased.
fn requested_hash(extension: &Value) -> Result<String, Refusal> {
    let malformed = |why: &str| Refusal::Malformed(format!("`extensions.persistedQuery` {why}"));
    let Value::Object(fields) = extension else {
        return Err(malformed("must be an object { version: 1, sha256Hash }"));
    };
    match fields.get("version") {
        Some(Value::Number(version)) if version.as_u64() == Some(1) => {}
        Some(other) => return Err(malformed(&format!("version {other} is not supported; only 1 is"))),
        None => return Err(malformed("needs `version: 1`")),
    }
    let hash = match fields.get("sha256Hash") {
        Some(Value::String(hash)) => hash,
        _ => return Err(malformed("needs `sha256Hash`, a string")),
    };
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed(
            "`sha256Hash` must be the 64 hexadecimal digits of the query's SHA-256",
        ));
    }
    Ok(hash.to_ascii_lowercase())
}

/// The SHA-256 of `text`, as 64 lower-case hexadecimal digits.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, extension: serde_json::Value) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(query);
        request
            .extensions
            .insert("persistedQuery".into(), Value::from_json(extension).expect("JSON"));
        request
    }

    #[tokio::test]
    async fn a_hash_runs_its_query_once_registered_and_no_other() {
        let store = PersistedQueries::default();
        // As `printf '%s' '{__typename}' | sha256sum` gives it (Apollo's docs use this example).
        let query = "{__typename}";
        let hash = sha256_hex(query);
        assert_eq!(hash, "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38");
        let ext = serde_json::json!({ "version": 1, "sha256Hash": hash });

        let mut hash_only = request("", ext.clone());
        assert_eq!(store.apply(&mut hash_only).await.err(), Some(Refusal::NotFound));

        let mut wrong = request("{ products { totalCount } }", ext.clone());
        assert!(matches!(
            store.apply(&mut wrong).await,
            Err(Refusal::HashMismatch { .. })
        ));
        let mut hash_only = request("", ext.clone());
        assert_eq!(
            store.apply(&mut hash_only).await.err(),
            Some(Refusal::NotFound),
            "nothing stored"
        );

        let mut full = request(query, ext.clone());
        let registration = store.apply(&mut full).await.expect("the hash matches").expect("new");
        store.register(registration).await;
        let mut hash_only = request("", ext.clone());
        assert!(store.apply(&mut hash_only).await.is_ok());
        assert_eq!(hash_only.query, query);
    }

    #[test]
    fn malformed_extensions_say_what_is_wrong() {
        let cases = [
            (serde_json::json!("abc"), "must be an object"),
            (serde_json::json!({ "sha256Hash": "00" }), "needs `version: 1`"),
            (
                serde_json::json!({ "version": 2, "sha256Hash": "00" }),
                "version 2 is not supported",
            ),
            (serde_json::json!({ "version": 1 }), "needs `sha256Hash`"),
            (
                serde_json::json!({ "version": 1, "sha256Hash": "xyz" }),
                "64 hexadecimal digits",
            ),
            (
                serde_json::json!({ "version": 1, "sha256Hash": "g".repeat(64) }),
                "64 hexadecimal digits",
            ),
        ];
        for (extension, expected) in cases {
            match requested_hash(&Value::from_json(extension.clone()).expect("JSON")) {
                Err(Refusal::Malformed(message)) => assert!(message.contains(expected), "{extension}: {message}"),
                other => panic!("{extension}: {other:?}"),
            }
        }
    }
}
