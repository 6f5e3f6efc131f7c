//! GraphQL over HTTP, as clients and caches rely on it: a GET's parameters,
//! the media type an answer takes from `Accept`, a code on every error,
//! the body of an answer (no `data` when it never ran), caching headers
//! on GET answers, and what is wrong with a body that is not a GraphQL
//! request.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::http::graphql_error;

/// A GET request's parameters (GraphQL over HTTP): `query`, and optionally
/// `operationName`, `variables` and `extensions` (JSON). async-graphql's
/// own parser reads `operation_name` instead, so it is not used.
pub(super) fn parse_get(query_string: &str) -> Result<async_graphql::Request, String> {
    let mut query = None;
    let mut operation_name = None;
    let mut variables = None;
    let mut extensions = None;
    for (key, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
        let slot = match &*key {
            "query" => &mut query,
            "operationName" => &mut operation_name,
            "variables" => &mut variables,
            "extensions" => &mut extensions,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(format!("the parameter `{key}` is given twice"));
        }
    }
    let json = |name: &str, raw: Option<String>| -> Result<Option<serde_json::Value>, String> {
        raw.filter(|raw| !raw.is_empty())
            .map(|raw| serde_json::from_str(&raw).map_err(|e| format!("`{name}` is not JSON: {e}")))
            .transpose()
    };
    let mut request = async_graphql::Request::new(query.unwrap_or_default());
    request.operation_name = operation_name.filter(|name| !name.is_empty());
    if let Some(variables) = json("variables", variables)? {
        request.variables = async_graphql::Variables::from_json(variables);
    }
    if let Some(serde_json::Value::Object(fields)) = json("extensions", extensions)? {
        for (name, value) in fields {
            let value = async_graphql::Value::from_json(value).map_err(|e| format!("`extensions`: {e}"))?;
            request.extensions.insert(name, value);
        }
    }
    Ok(request)
}

/// Caching headers on a GET query's answer: the answer is the caller's
/// alone and may change with any write, so `private, no-cache` (a browser
/// keeps it and asks again; a shared cache never serves it to anyone
/// else), `Vary` on what it depends on, and an `ETag` of the body. A
/// request whose `If-None-Match` names the same body is answered 304.
pub(super) async fn revalidated(headers: &HeaderMap, answer: Response) -> Response {
    use sha2::Digest;
    if answer.status() != StatusCode::OK {
        return answer;
    }
    let (mut parts, body) = answer.into_parts();
    // The body is in memory already (an answer is built whole).
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return graphql_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "the answer could not be read",
        );
    };
    let digest = sha2::Sha256::digest(&bytes);
    let tag = format!(
        "W/\"{}\"",
        digest[..16].iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let cache = [
        (header::CACHE_CONTROL, "private, no-cache"),
        (header::VARY, "Authorization, Accept, Accept-Encoding, Origin"),
    ];
    for (name, value) in cache {
        parts.headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(value) = HeaderValue::from_str(&tag) {
        parts.headers.insert(header::ETAG, value);
    }
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|candidate| {
            let candidate = candidate.trim();
            candidate == "*" || candidate.trim_start_matches("W/") == tag.trim_start_matches("W/")
        });
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The media type of an answer, from the request's `Accept` (GraphQL over
/// HTTP): `application/graphql-response+json` when the client accepts it,
/// else `application/json` (also when it sends no `Accept`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MediaType {
    GraphqlResponse,
    Json,
}

impl MediaType {
    pub(super) fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }
}

/// [`MediaType`] of the request; `None` when its `Accept` allows neither.
pub(super) fn media_type(headers: &HeaderMap) -> Option<MediaType> {
    let accepted: Vec<String> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect();
    if accepted.is_empty() {
        return Some(MediaType::Json);
    }
    if accepted.iter().any(|v| v == "application/graphql-response+json") {
        return Some(MediaType::GraphqlResponse);
    }
    accepted
        .iter()
        .any(|v| v == "application/json" || v == "application/*" || v == "*/*")
        .then_some(MediaType::Json)
}

/// 406: the request's `Accept` allows no media type this API answers in.
pub(super) fn not_acceptable() -> Response {
    graphql_error(
        StatusCode::NOT_ACCEPTABLE,
        "NOT_ACCEPTABLE",
        "the Accept header allows no media type this API answers in: send application/graphql-response+json or application/json",
    )
}

/// Gives every error a code: those of a request that never ran, whether it
/// did not parse (`GRAPHQL_PARSE_FAILED`) or did not validate
/// (`GRAPHQL_VALIDATION_FAILED`); any other uncoded one is an argument
/// async-graphql could not read (`BAD_USER_INPUT`). Drops locations that
/// point nowhere (line 0, from checks of the whole document).
pub(super) fn code_request_errors(response: &mut async_graphql::BatchResponse, parsed: &[bool]) {
    let responses: Vec<&mut async_graphql::Response> = match response {
        async_graphql::BatchResponse::Single(one) => vec![one],
        async_graphql::BatchResponse::Batch(many) => many.iter_mut().collect(),
    };
    for (one, parsed) in responses.into_iter().zip(parsed.iter().copied()) {
        let never_ran = one.data == async_graphql::Value::Null;
        for error in &mut one.errors {
            error.locations.retain(|at| at.line > 0 && at.column > 0);
            let coded = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
            if coded {
                continue;
            }
            let code = match () {
                _ if never_ran && error.path.is_empty() && parsed => "GRAPHQL_VALIDATION_FAILED",
                _ if never_ran && error.path.is_empty() => "GRAPHQL_PARSE_FAILED",
                // async-graphql's own errors while it reads a field's
                // arguments ("Failed to parse \"Int\"…"); every error of
                // pricegraph's resolvers carries its code.
                _ => "BAD_USER_INPUT",
            };
            error.extensions.get_or_insert_with(Default::default).set("code", code);
        }
    }
}

/// Names the member of a JSON body that is not a GraphQL request, where
/// serde's untagged error ("data did not match any variant") would not.
pub(super) fn explain_bad_request(bytes: &[u8]) -> Option<String> {
    fn member(request: &serde_json::Value, at: &str) -> Option<String> {
        let Some(object) = request.as_object() else {
            return Some(format!("{at}must be an object with a `query` string"));
        };
        let wrong = |key: &str, ok: fn(&serde_json::Value) -> bool| object.get(key).is_some_and(|v| !ok(v));
        match () {
            _ if !object.get("query").is_some_and(|q| q.is_string()) => Some(format!("{at}`query` must be a string")),
            _ if wrong("variables", |v| v.is_object() || v.is_null()) => {
                Some(format!("{at}`variables` must be an object"))
            }
            _ if wrong("operationName", |v| v.is_string() || v.is_null()) => {
                Some(format!("{at}`operationName` must be a string"))
            }
            _ if wrong("extensions", |v| v.is_object() || v.is_null()) => {
                Some(format!("{at}`extensions` must be an object"))
            }
            _ => None,
        }
    }
    if let Some(repeated) = repeated_member(bytes) {
        return Some(repeated);
    }
    match serde_json::from_slice::<serde_json::Value>(bytes).ok()? {
        serde_json::Value::Array(requests) if requests.is_empty() => {
            Some("a batch must hold at least one operation".into())
        }
        serde_json::Value::Array(requests) => requests
            .iter()
            .enumerate()
            .find_map(|(index, request)| member(request, &format!("operation {index}: "))),
        request => member(&request, ""),
    }
}

/// serde's words for a body that is not JSON at all ("expected value at
/// line 1 column 1"); never the name of a Rust type, which its error for an
/// untagged enum would give.
pub(super) fn json_error(error: &serde_json::Error) -> String {
    if error.is_syntax() || error.is_eof() {
        error.to_string()
    } else {
        "it is not an object with a `query` string, nor a list of them".to_owned()
    }
}

/// A member named twice in one operation (`{"query": …, "query": …}`):
/// which one was meant cannot be known, so it is refused by name.
fn repeated_member(bytes: &[u8]) -> Option<String> {
    let repeated = |keys: &Keys| {
        keys.0
            .iter()
            .enumerate()
            .find(|(i, key)| keys.0[..*i].contains(key))
            .map(|(_, key)| key.clone())
    };
    if let Ok(keys) = serde_json::from_slice::<Keys>(bytes) {
        return repeated(&keys).map(|key| format!("`{key}` appears more than once"));
    }
    let batch = serde_json::from_slice::<Vec<Keys>>(bytes).ok()?;
    batch.iter().enumerate().find_map(|(index, keys)| {
        Some(format!(
            "operation {index}: `{}` appears more than once",
            repeated(keys)?
        ))
    })
}

/// The member names of a JSON object, in order, repeats included (a map
/// keeps only the last of a repeated member).
struct Keys(Vec<String>);

impl<'de> serde::Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Whether a request never ran: it did not parse, validate or pass the
/// limits, so it has no data and only errors without a `path`.
pub(super) fn never_ran(one: &async_graphql::Response) -> bool {
    one.data == async_graphql::Value::Null
        && !one.errors.is_empty()
        && one.errors.iter().all(|error| error.path.is_empty())
}

/// The JSON body of an answer (or of a batch's). The answer of a request
/// that [never ran](never_ran) has no `data` entry at all, as the GraphQL
/// specification says of errors raised before execution begins (and GraphQL
/// over HTTP checks); one that ran keeps its `data`, `null` or not.
/// async-graphql always writes `data`, so it is taken out here.
pub(super) fn body(response: &async_graphql::BatchResponse) -> serde_json::Result<String> {
    // Written straight from the response, never through `serde_json::Value`,
    // whose maps would sort the keys out of the order the query asked for.
    fn one_body(one: &async_graphql::Response) -> serde_json::Result<String> {
        if !never_ran(one) {
            return serde_json::to_string(one);
        }
        #[derive(serde::Serialize)]
        struct WithoutData<'a> {
            errors: &'a [async_graphql::ServerError],
            #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
            extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
        }
        serde_json::to_string(&WithoutData {
            errors: &one.errors,
            extensions: &one.extensions,
        })
    }
    match response {
        async_graphql::BatchResponse::Single(one) => one_body(one),
        async_graphql::BatchResponse::Batch(many) => {
            let bodies = many.iter().map(one_body).collect::<serde_json::Result<Vec<_>>>()?;
            Ok(format!("[{}]", bodies.join(",")))
        }
    }
}
