//! Automatic persisted queries, as Apollo's `PersistedQueryLink` speaks
//! them (docs/api.md#persisted-queries): a hash-only request is
//! `PERSISTED_QUERY_NOT_FOUND` until the query came once with its hash;
//! then the hash alone runs it, by POST or by GET (revalidated by `ETag`);
//! a query under another's hash is refused and stores nothing; with Redis,
//! what one instance was told every instance knows.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pricegraph::http::HttpOptions;
use serde_json::{Value, json};

use crate::fixtures::product;
use crate::helpers::{Backend, TestApp};
use crate::test_redis::TestRedis;

const QUERY: &str = "query Catalog { products(first: 5) { totalCount edges { node { id sku } } } }";

fn sha256(text: &str) -> String {
    pricegraph::http::persisted_query_hash(text)
}

fn extension(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> (StatusCode, axum::http::HeaderMap, Value) {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request");
    let (status, headers, bytes) = app.raw(request).await;
    (status, headers, serde_json::from_slice(&bytes).expect("a JSON body"))
}

fn get_request(hash: &str, etag: Option<&str>) -> Request<Body> {
    let extensions = extension(hash).to_string();
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("operationName", "Catalog")
        .append_pair("extensions", &extensions)
        .finish();
    let mut request = Request::get(format!("/graphql?{query}")).header(header::ACCEPT, "application/json");
    if let Some(etag) = etag {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    request.body(Body::empty()).expect("a request")
}

fn not_found(status: StatusCode, headers: &axum::http::HeaderMap, body: &Value) {
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        &json!({ "errors": [{ "message": "PersistedQueryNotFound", "extensions": { "code": "PERSISTED_QUERY_NOT_FOUND" } }] })
    );
    let cache_control = headers[header::CACHE_CONTROL].to_str().expect("a header");
    assert!(
        cache_control.contains("no-cache") && cache_control.contains("private"),
        "{cache_control}"
    );
}

#[tokio::test]
async fn a_hash_runs_its_query_once_the_query_came_with_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    product(&app, "CHAIR", json!({})).await;
    let hash = sha256(QUERY);

    // Unknown hash: the client must send the query.
    let (status, headers, body) = post(&app, json!({ "extensions": extension(&hash) })).await;
    not_found(status, &headers, &body);
    let (status, headers, bytes) = app.raw(get_request(&hash, None)).await;
    not_found(status, &headers, &serde_json::from_slice(&bytes).expect("JSON"));

    // The query with its hash runs, and registers it.
    let (status, _, full) = post(&app, json!({ "query": QUERY, "extensions": extension(&hash) })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(full["data"]["products"]["totalCount"], 1, "{full}");

    // Now the hash alone runs it, by POST and by GET.
    let (status, _, by_hash) = post(
        &app,
        json!({ "extensions": extension(&hash), "operationName": "Catalog" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_hash, full);
    let (status, headers, bytes) = app.raw(get_request(&hash, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<Value>(&bytes).expect("JSON"), full);
    let cache_control = headers[header::CACHE_CONTROL].to_str().expect("a header");
    assert!(
        cache_control.contains("private"),
        "one caller's answer: {cache_control}"
    );
    let etag = headers[header::ETAG].to_str().expect("a header").to_owned();
    let (status, _, _) = app.raw(get_request(&hash, Some(&etag))).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    // Variables travel beside the hash as with any query.
    let query = "query One($sku: String) { products(first: 1, filter: { search: $sku }) { totalCount } }";
    let hash = sha256(query);
    let variables = json!({ "sku": "CHAIR" });
    post(
        &app,
        json!({ "query": query, "variables": variables, "extensions": extension(&hash) }),
    )
    .await;
    let (_, _, body) = post(
        &app,
        json!({ "variables": { "sku": "NONE" }, "extensions": extension(&hash) }),
    )
    .await;
    assert_eq!(body, json!({ "data": { "products": { "totalCount": 0 } } }));
}

#[tokio::test]
async fn a_query_under_another_hash_is_refused_and_stores_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let innocent = sha256("{ __typename }");
    let (status, _, body) = post(&app, json!({ "query": QUERY, "extensions": extension(&innocent) })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_HASH_MISMATCH");
    let message = body["errors"][0]["message"].as_str().expect("a string");
    assert!(
        message.contains(&sha256(QUERY)) && message.contains("nothing was run or stored"),
        "{message}"
    );
    assert!(body.get("data").is_none(), "nothing ran: {body}");
    let (status, headers, body) = post(&app, json!({ "extensions": extension(&innocent) })).await;
    not_found(status, &headers, &body);

    // A query that does not parse runs (and fails) but is not kept.
    let broken = "{ products(first: 1) { ";
    let (_, _, body) = post(
        &app,
        json!({ "query": broken, "extensions": extension(&sha256(broken)) }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
        "{body}"
    );
    let (status, headers, body) = post(&app, json!({ "extensions": extension(&sha256(broken)) })).await;
    not_found(status, &headers, &body);
}

#[tokio::test]
async fn malformed_persisted_query_extensions_are_bad_requests_saying_why() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let cases = [
        (
            json!({ "persistedQuery": { "version": 1, "sha256Hash": "abc" } }),
            "64 hexadecimal digits",
        ),
        (
            json!({ "persistedQuery": { "version": 1, "sha256Hash": 7 } }),
            "`sha256Hash`, a string",
        ),
        (
            json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256(QUERY) } }),
            "version 2 is not supported",
        ),
        (json!({ "persistedQuery": "yes" }), "must be an object"),
    ];
    for (extensions, expected) in cases {
        let (status, _, body) = post(&app, json!({ "extensions": extensions })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extensions}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
        let message = body["errors"][0]["message"].as_str().expect("a string");
        assert!(
            message.contains("extensions.persistedQuery") && message.contains(expected),
            "{message}"
        );
    }
}

/// With Redis, a query registered through one instance runs by its hash on
/// another, which never saw it.
#[tokio::test]
async fn with_redis_every_instance_knows_what_one_was_told() {
    let Some(redis) = TestRedis::new() else { return };
    let app = TestApp::spawn(Backend::Sqlite).await;
    product(&app, "CHAIR", json!({})).await;
    let options = || HttpOptions {
        redis: Some(redis.options()),
        ..HttpOptions::default()
    };
    let one = app.served_with(pricegraph::auth::Auth::open(), options());
    let other = app.served_with(pricegraph::auth::Auth::open(), options());
    let hash = sha256(QUERY);
    let (status, headers, body) = post(&other, json!({ "extensions": extension(&hash) })).await;
    not_found(status, &headers, &body);
    post(&one, json!({ "query": QUERY, "extensions": extension(&hash) })).await;
    assert_eq!(redis.get(&format!("apq:{hash}")).as_deref(), Some(QUERY));
    let ttl = redis.pttl(&format!("apq:{hash}"));
    assert!(ttl > 0 && ttl <= 24 * 3600 * 1000, "kept for a day at most: {ttl} ms");
    let (status, _, body) = post(&other, json!({ "extensions": extension(&hash) })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["products"]["totalCount"], 1, "{body}");

    // A value planted under a hash it does not match is never run.
    let planted = sha256("{ __typename }");
    redis.set(&format!("apq:{planted}"), QUERY);
    let fresh = app.served_with(pricegraph::auth::Auth::open(), options());
    let (status, headers, body) = post(&fresh, json!({ "extensions": extension(&planted) })).await;
    not_found(status, &headers, &body);
}
