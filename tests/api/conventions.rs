//! What browsers and HTTP caches rely on (issue: first-class GraphQL
//! citizen): CORS for the configured origins only, compressed answers, and
//! GET answers that only the caller's own browser may keep, revalidated by
//! their `ETag`.

use std::io::Read;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use pricegraph::http::HttpOptions;
use serde_json::{Value, json};

use crate::fixtures::pricing_group;
use crate::helpers::{TestApp, on_each_backend};

const SHOP: &str = "https://shop.example.com";

fn allowing_shop(app: &TestApp) -> TestApp {
    let options = HttpOptions {
        cors_origins: vec![HeaderValue::from_static(SHOP)],
        ..HttpOptions::default()
    };
    app.served_with(pricegraph::auth::Auth::open(), options)
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/graphql")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "content-type,authorization,idempotency-key",
        )
        .body(Body::empty())
        .expect("request")
}

fn post(origin: Option<&str>, encoding: Option<&str>, query: &str) -> Request<Body> {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    if let Some(encoding) = encoding {
        request = request.header(header::ACCEPT_ENCODING, encoding);
    }
    request
        .body(Body::from(json!({ "query": query }).to_string()))
        .expect("request")
}

#[tokio::test]
async fn cors_answers_the_configured_origins_only() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let served = allowing_shop(&app);
    let (status, headers, _) = served.raw(preflight(SHOP)).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], SHOP);
    let methods = headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap_or_default();
    assert!(methods.contains("POST") && methods.contains("GET"), "{methods}");
    let allowed = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap_or_default();
    for name in ["content-type", "authorization", "idempotency-key"] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }
    assert_eq!(headers[header::ACCESS_CONTROL_MAX_AGE], "600");

    // Another origin: no CORS headers (its browser keeps the answer from
    // it); the request itself is still answered.
    let (_, headers, _) = served.raw(preflight("https://evil.example.com")).await;
    assert!(
        headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
        "{headers:?}"
    );
    let (status, headers, body) = served
        .raw(post(Some("https://evil.example.com"), None, "{ __typename }"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("JSON")["data"]["__typename"],
        "Query"
    );

    // The allowed origin's actual request carries its header, and what it may read.
    let (_, headers, _) = served.raw(post(Some(SHOP), None, "{ __typename }")).await;
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], SHOP);
    let exposed = headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap_or_default();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("retry-after"),
        "{exposed}"
    );

    // Nothing configured: no origin is allowed.
    let (_, headers, _) = app.raw(preflight(SHOP)).await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    app.cleanup().await;
}

#[test]
fn a_configured_origin_must_be_an_origin() {
    let parsed = pricegraph::http::cors_origins(&["https://shop.example.com".into(), " http://localhost:5173 ".into()])
        .expect("origins");
    assert_eq!(
        parsed,
        vec![
            HeaderValue::from_static(SHOP),
            HeaderValue::from_static("http://localhost:5173")
        ]
    );
    for bad in ["shop.example.com", "https://shop.example.com/app", "*"] {
        let error = pricegraph::http::cors_origins(&[bad.into()])
            .expect_err(bad)
            .to_string();
        assert!(
            error.contains("PRICEGRAPH_CORS_ORIGINS") && error.contains(bad),
            "{error}"
        );
    }
}

#[tokio::test]
async fn answers_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let query = "{ __schema { types { name description fields { name description } } } }";
    let (_, headers, plain) = app.raw(post(None, None, query)).await;
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    let (_, headers, gzipped) = app.raw(post(None, Some("gzip"), query)).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut unzipped)
        .expect("gzip");
    assert_eq!(unzipped, plain.to_vec());
    assert!(
        gzipped.len() * 4 < plain.len(),
        "{} of {} bytes",
        gzipped.len(),
        plain.len()
    );
    for encoding in ["br", "zstd"] {
        let (_, headers, compressed) = app.raw(post(None, Some(encoding), query)).await;
        assert_eq!(headers[header::CONTENT_ENCODING], encoding);
        assert!(
            compressed.len() * 4 < plain.len(),
            "{encoding}: {} bytes",
            compressed.len()
        );
    }
    app.cleanup().await;
}

#[tokio::test]
async fn get_answers_are_private_and_revalidated_by_their_etag() {
    on_each_backend(|app| async move {
        let group = pricing_group(&app, "Gold").await;
        let uri = format!("/graphql?query=%7B%20customerGroup(id%3A%20%22{group}%22)%20%7B%20name%20%7D%20%7D");
        let get = |tag: Option<&str>| {
            let mut request = Request::get(&uri);
            if let Some(tag) = tag {
                request = request.header(header::IF_NONE_MATCH, tag);
            }
            request.body(Body::empty()).expect("request")
        };
        let (status, headers, body) = app.raw(get(None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            serde_json::from_slice::<Value>(&body).expect("JSON")["data"]["customerGroup"]["name"],
            "Gold"
        );
        assert_eq!(headers[header::CACHE_CONTROL], "private, no-cache");
        let vary = headers[header::VARY].to_str().unwrap_or_default().to_owned();
        assert!(vary.contains("Authorization") && vary.contains("Accept"), "{vary}");
        let tag = headers[header::ETAG].to_str().expect("an ETag").to_owned();

        // The same answer: 304, no body.
        let (status, headers, body) = app.raw(get(Some(&tag))).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        assert!(body.is_empty());
        assert_eq!(headers[header::ETAG], tag.as_str());

        // Renamed: the full answer again, under another tag.
        crate::fixtures::write(&app, "updateCustomerGroup", json!({ "id": group, "name": "Platinum" })).await;
        let (status, headers, body) = app.raw(get(Some(&tag))).await;
        assert_eq!(status, StatusCode::OK);
        assert_ne!(headers[header::ETAG], tag.as_str());
        assert_eq!(
            serde_json::from_slice::<Value>(&body).expect("JSON")["data"]["customerGroup"]["name"],
            "Platinum"
        );
        // POST answers are not marked cacheable.
        let (_, headers, _) = app.raw(post(None, None, "{ __typename }")).await;
        assert!(headers.get(header::ETAG).is_none() && headers.get(header::CACHE_CONTROL).is_none());
    })
    .await;
}

fn accepting(accept: &str, query: &str) -> Request<Body> {
    Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept)
        .body(Body::from(json!({ "query": query }).to_string()))
        .expect("request")
}

/// GraphQL over HTTP: the media type follows `Accept`; a request that
/// never ran answers 4xx with the GraphQL media type and 200 with JSON;
/// every error has a code and only real locations.
#[tokio::test]
async fn the_answer_follows_accept_and_request_errors_are_coded() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    const GRAPHQL: &str = "application/graphql-response+json";
    let content_type =
        |headers: &axum::http::HeaderMap| headers[header::CONTENT_TYPE].to_str().unwrap_or_default().to_owned();
    let (status, headers, _) = app.raw(accepting("application/json", "{ __typename }")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type(&headers).starts_with("application/json"), "{headers:?}");
    let (status, headers, _) = app.raw(accepting(GRAPHQL, "{ __typename }")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type(&headers).starts_with(GRAPHQL), "{headers:?}");
    let (_, headers, _) = app.raw(post(None, None, "{ __typename }")).await;
    assert!(
        content_type(&headers).starts_with("application/json"),
        "no Accept: {headers:?}"
    );

    for (query, code) in [
        ("{ __typename", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
    ] {
        for (accept, expected) in [(GRAPHQL, StatusCode::BAD_REQUEST), ("application/json", StatusCode::OK)] {
            let (status, _, body) = app.raw(accepting(accept, query)).await;
            let body: Value = serde_json::from_slice(&body).expect("JSON");
            assert_eq!(status, expected, "{accept} {query}: {body}");
            let error = &body["errors"][0];
            assert_eq!(error["extensions"]["code"], code, "{body}");
            for at in error["locations"].as_array().into_iter().flatten() {
                assert!(
                    at["line"].as_u64() >= Some(1) && at["column"].as_u64() >= Some(1),
                    "{body}"
                );
            }
        }
    }
    // A limit's refusal: coded, and no location that points nowhere.
    let (status, _, body) = app.raw(accepting(GRAPHQL, &crate::adversary::fragment_bomb())).await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX");
    assert!(body["errors"][0].get("locations").is_none(), "{body}");

    // Nothing this API can answer in.
    let (status, _, body) = app.raw(accepting("text/html", "{ __typename }")).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("JSON")["errors"][0]["extensions"]["code"],
        "NOT_ACCEPTABLE"
    );
    let (status, _, _) = app
        .raw(
            Request::get("/graphql?query=%7B__typename%7D")
                .header(header::ACCEPT, "image/png")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    app.cleanup().await;
}

#[tokio::test]
async fn get_honours_operation_name() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let query = "query A { a: __typename } query B { b: __typename }";
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("query", query)
        .append_pair("operationName", "B")
        .finish();
    let (status, _, body) = app
        .raw(
            Request::get(format!("/graphql?{encoded}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!({ "b": "Query" }), "{body}");
    app.cleanup().await;
}

/// Every error carries `extensions.code`, whoever raised it: a required
/// variable left out is refused before anything runs (a request error),
/// an argument async-graphql cannot read, a value our checks refuse.
#[tokio::test]
async fn every_error_has_a_code() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    crate::fixtures::product(&app, "CHAIR", json!({})).await;
    let cases = [
        (
            "query($id: ID!) { node(id: $id) { id } }",
            json!({}),
            "BAD_USER_INPUT",
            true,
        ),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": null }),
            "BAD_USER_INPUT",
            true,
        ),
        (
            "query($q: Int!) { products(first: 1) { totalCount } resolvedPrice(productId: \"x\", currency: \"USD\", quantity: $q) { source } }",
            json!({ "q": "many" }),
            "GRAPHQL_VALIDATION_FAILED",
            true,
        ),
        (
            "{ products(first: 1) { edges { node { resolvedPrice(currency: \"USD\", quantity: 0) { source } } } } }",
            json!({}),
            "BAD_USER_INPUT",
            false,
        ),
        (
            "{ products(first: 0) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
            false,
        ),
        ("{ nosuchfield }", json!({}), "GRAPHQL_VALIDATION_FAILED", true),
        ("{ products(first: 1) { ", json!({}), "GRAPHQL_PARSE_FAILED", true),
    ];
    for (query, variables, code, never_ran) in cases {
        let body = app.graphql(query, variables.clone()).await;
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{query}: no errors in {body}"));
        assert_eq!(errors[0]["extensions"]["code"], code, "{query} {variables}: {body}");
        for error in errors {
            assert!(
                error["extensions"]["code"].is_string(),
                "{query}: an uncoded error in {body}"
            );
        }
        assert_eq!(body["data"].is_null(), never_ran, "{query}: {body}");
    }
}

/// The GraphQL specification: when an error is raised before execution
/// begins, the `data` entry is not present (graphql-http's audit checks it,
/// `.ci/e2e-clients`). A request that ran keeps `data`, even `null`.
#[tokio::test]
async fn a_request_that_never_ran_has_no_data_entry() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    const GRAPHQL: &str = "application/graphql-response+json";
    let send = |accept: &str, body: Value| {
        Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let never_ran = [
        (json!({ "query": "{ __typename" }), "GRAPHQL_PARSE_FAILED"),
        (json!({ "query": "{ noSuchField }" }), "GRAPHQL_VALIDATION_FAILED"),
        (
            json!({ "query": "query($n: Int!) { products(first: $n) { totalCount } }", "variables": { "n": "one" } }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    for (request, code) in never_ran {
        for (accept, expected) in [(GRAPHQL, StatusCode::BAD_REQUEST), ("application/json", StatusCode::OK)] {
            let (status, _, body) = app.raw(send(accept, request.clone())).await;
            let body: Value = serde_json::from_slice(&body).expect("JSON");
            assert_eq!(status, expected, "{accept} {request}: {body}");
            assert!(body.get("data").is_none(), "{accept} {request}: {body}");
            assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
        }
    }
    // A GET that does not parse.
    let (status, _, body) = app
        .raw(
            Request::get("/graphql?query=%7B__typename")
                .header(header::ACCEPT, GRAPHQL)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.get("data").is_none(), "{body}");

    // It ran: a failed non-null root field makes `data` null, and it stays.
    let (status, _, body) = app
        .raw(send(GRAPHQL, json!({ "query": "{ nodes(ids: [\"x\"]) { id } }" })))
        .await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.get("data"), Some(&Value::Null), "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["nodes"]), "{body}");

    // A batch: only the member that never ran goes without `data`.
    let (_, _, body) = app
        .raw(send(
            "application/json",
            json!([{ "query": "{ __typename }" }, { "query": "{ noSuchField }" }]),
        ))
        .await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(body[0], json!({ "data": { "__typename": "Query" } }), "{body}");
    assert!(body[1].get("data").is_none(), "{body}");
    assert_eq!(
        body[1]["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    app.cleanup().await;
}

/// A request with no document (no `query`, an empty one, and no persisted
/// query hash) is a bad request saying so, by POST and GET alike, whatever
/// the client accepts; not the parse failure of an empty document.
#[tokio::test]
async fn a_request_without_a_query_is_a_bad_request_saying_so() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let post = |body: Value| {
        Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let get = |parameters: &str| {
        Request::get(format!("/graphql?{parameters}"))
            .body(Body::empty())
            .expect("request")
    };
    let cases = [
        (post(json!({ "qeury": "{ __typename }" })), ""),
        (post(json!({ "query": "", "variables": {} })), ""),
        (post(json!({ "variables": { "n": 1 }, "extensions": {} })), ""),
        (post(json!([{ "query": "{ __typename }" }, {}])), "operation 1: "),
        (get("variables=%7B%7D"), ""),
        (get("query=&operationName=A"), ""),
    ];
    for (request, at) in cases {
        let what = format!("{} {}", request.method(), request.uri());
        let (status, _, body) = app.raw(request).await;
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("{at}the request has no `query`")),
            "{what}: {message}"
        );
        assert!(body.get("data").is_none(), "{body}");
    }
    // A hash-only request is not one: the client is asked for the query.
    let (status, _, body) = app
        .raw(post(json!({ "extensions": { "persistedQuery": {
            "version": 1,
            "sha256Hash": "4b10d2a5ca6d0b4a1f8bc8cf8ee2c04d3dbfb49be3d0c1b3a37fb6db1e1e0a3c"
        } } })))
        .await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{body}"
    );
    app.cleanup().await;
}
