//! Request shapes that must not take the server down or change anything
//! (README: Security): each refused before it executes, with nothing written.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pricegraph::auth::Auth;
use pricegraph::graphql::SchemaOptions;
use pricegraph::http::HttpOptions;
use serde_json::{Value, json};

use crate::fixtures::{customer, pricing_group};
use crate::helpers::{Backend, Response, TestApp};

const CREATE: &str = r#"mutation { createCustomerGroup(input: { name: "Sneaky" }) { customerGroup { id } } }"#;

async fn organizations(app: &TestApp) -> i64 {
    app.data("{ organizations(first: 1) { totalCount } }", json!({})).await["organizations"]["totalCount"]
        .as_i64()
        .unwrap_or_default()
}

async fn groups(app: &TestApp) -> i64 {
    app.data("{ customerGroups(first: 1) { totalCount } }", json!({})).await["customerGroups"]["totalCount"]
        .as_i64()
        .unwrap_or_default()
}

fn post_json(body: impl Into<Body>) -> Request<Body> {
    Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("a request")
}

fn code(response: &Response) -> String {
    response.body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn too_deep_a_query_is_refused_before_it_runs() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let before = organizations(&app).await;
    let parents = "parent { ".repeat(16) + "name" + &" }".repeat(16);
    let deep = format!("{{ organizations(first: 1) {{ edges {{ node {{ {parents} }} }} }} }}");
    let response = app.request(post_json(json!({ "query": deep }).to_string())).await;
    assert_eq!(code(&response), "QUERY_TOO_DEEP", "{}", response.body);
    assert_eq!(response.body["data"], Value::Null);
    // A mutation nested too deep writes nothing.
    let deep_mutation =
        format!("mutation {{ createOrganization(input: {{ name: \"Deep\" }}) {{ organization {{ {parents} }} }} }}");
    let response = app
        .request(post_json(json!({ "query": deep_mutation }).to_string()))
        .await;
    assert_eq!(code(&response), "QUERY_TOO_DEEP", "{}", response.body);
    assert_eq!(organizations(&app).await, before);
}

#[tokio::test]
async fn too_complex_a_query_is_refused_before_it_runs() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // 100 groups × 100 members × their fields: a million-row answer.
    let wide = "{ customerGroups(first: 100) { edges { node { customers(first: 100) { edges { node {
        id email name groups { name } } } } } } } }";
    let response = app.request(post_json(json!({ "query": wide }).to_string())).await;
    assert_eq!(code(&response), "QUERY_TOO_COMPLEX", "{}", response.body);
    // The everyday storefront page is well within the limit.
    let storefront = "{ products(first: 50) { edges { node { id resolvedPrice(currency: \"USD\") {
        amount { amount currencyCode } source } } } } }";
    app.data(storefront, json!({})).await;
}

#[tokio::test]
async fn pages_must_be_between_1_and_100() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for first in [0, 101, -1] {
        let body = app
            .graphql(
                "query($n: Int) { customers(first: $n) { totalCount } }",
                json!({ "n": first }),
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{first}: {body}"
        );
    }
}

#[tokio::test]
async fn a_batch_of_more_than_ten_runs_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let before = groups(&app).await;
    let batch: Vec<Value> = (0..11)
        .map(|n| json!({ "query": format!("mutation {{ createCustomerGroup(input: {{ name: \"B{n}\" }}) {{ customerGroup {{ id }} }} }}") }))
        .collect();
    let response = app.request(post_json(Value::Array(batch).to_string())).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&response), "BATCH_TOO_LARGE", "{}", response.body);
    assert_eq!(groups(&app).await, before);
    // Ten is fine.
    let batch: Vec<Value> = (0..10).map(|_| json!({ "query": "{ __typename }" })).collect();
    let response = app.request(post_json(Value::Array(batch).to_string())).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body.as_array().map(Vec::len), Some(10));
}

#[tokio::test]
async fn a_body_over_one_mib_is_refused_with_413() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let before = groups(&app).await;
    let padding = " ".repeat(1 << 20);
    let body = format!(r#"{{"query": "{CREATE}"{padding}}}"#).replace(r#""{CREATE}""#, &json!(CREATE).to_string());
    // With a Content-Length: refused before a byte is read.
    let response = app.request(post_json(body.clone())).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&response), "PAYLOAD_TOO_LARGE");
    // Streamed without a length: cut while reading.
    let chunks = futures_util::stream::iter(
        body.into_bytes()
            .chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let response = app.request(post_json(Body::from_stream(chunks))).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(groups(&app).await, before);
}

#[tokio::test]
async fn mutations_need_a_json_post() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let before = groups(&app).await;
    // GET: 405, and it says what is allowed.
    let uri = format!(
        "/graphql?query={}",
        url::form_urlencoded::byte_serialize(CREATE.as_bytes()).collect::<String>()
    );
    let response = app.router.clone();
    let raw = tower::ServiceExt::oneshot(response, Request::get(&uri).body(Body::empty()).expect("a request"))
        .await
        .expect("an answer");
    assert_eq!(raw.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        raw.headers().get(header::ALLOW).map(|v| v.as_bytes()),
        Some(&b"POST"[..])
    );
    // A cross-site page can POST these without asking: all refused.
    let body = json!({ "query": CREATE }).to_string();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
    ] {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.clone()))
            .expect("a request");
        let response = app.request(request).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{content_type}");
    }
    let request = Request::post("/graphql").body(Body::from(body)).expect("a request");
    assert_eq!(
        app.request(request).await.status,
        StatusCode::BAD_REQUEST,
        "no content type"
    );
    assert_eq!(groups(&app).await, before);
    // Queries by GET still work.
    let uri = format!(
        "/graphql?query={}",
        url::form_urlencoded::byte_serialize(b"{ customerGroups(first: 1) { totalCount } }").collect::<String>()
    );
    let response = app
        .request(Request::get(&uri).body(Body::empty()).expect("a request"))
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body["data"]["customerGroups"]["totalCount"], before);
}

#[tokio::test]
async fn a_slow_request_is_cut_with_timeout() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let impatient = app.served_with(
        Auth::open(),
        HttpOptions {
            request_timeout: Duration::from_nanos(1),
            ..HttpOptions::default()
        },
    );
    // The timer ticks by the millisecond, so a request that finishes within
    // the first tick may still get through: ask a few times, from a cold
    // cache, something that takes several round trips, until one is cut.
    let query = "{ customers(first: 100) { totalCount edges { node { email } } }
        customerGroups(first: 100) { totalCount edges { node { priceLists { priority } } } }
        priceLists(first: 100) { totalCount } products(first: 100) { totalCount } }";
    let mut cut = None;
    for _ in 0..20 {
        app.store.cache.clear();
        let response = impatient
            .request(post_json(json!({ "query": query }).to_string()))
            .await;
        if response.status == StatusCode::SERVICE_UNAVAILABLE {
            cut = Some(response);
            break;
        }
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }
    let response = cut.expect("a request past its timeout is cut");
    assert_eq!(code(&response), "TIMEOUT", "{}", response.body);
}

/// The pool is closed under the server: the database is out of reach, a
/// retryable 503 `DATABASE_UNAVAILABLE`, with no detail but the request id.
#[tokio::test]
async fn a_database_failure_shows_no_detail() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let someone = customer(&app, "someone@example.com", json!({})).await;
    let group = pricing_group(&app, "VIP").await;
    app.db.conn.clone().close().await.expect("the pool closes");
    let queries = [
        json!({ "query": "{ customers(first: 5) { edges { node { email } } } }" }),
        json!({ "query": "query($c: ID!) { customer(id: $c) { email groups { name } } }", "variables": { "c": someone } }),
        json!({ "query": "mutation($g: ID!) { updateCustomerGroup(input: { id: $g, name: \"X\" }) { userErrors { message } } }",
            "variables": { "g": group } }),
    ];
    for query in queries {
        let response = app.request(post_json(query.to_string())).await;
        let text = response.body.to_string();
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
        assert!(text.contains("the database is unavailable"), "{text}");
        assert_eq!(code(&response), "DATABASE_UNAVAILABLE", "{text}");
        assert!(
            response.body["errors"][0]["extensions"]["requestId"]
                .as_str()
                .is_some_and(|id| !id.is_empty()),
            "{text}"
        );
        for secret in ["sqlite", "test.db", "/tmp", "SELECT", "pool", "customer_group", "sqlx"] {
            assert!(
                !text.to_lowercase().contains(&secret.to_lowercase()),
                "{secret} leaked: {text}"
            );
        }
    }
}

#[tokio::test]
async fn the_production_profile_hides_the_schema_and_graphiql() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let production = app.served_with(
        Auth::open(),
        HttpOptions {
            schema: SchemaOptions {
                production: true,
                ..SchemaOptions::default()
            },
            ..HttpOptions::default()
        },
    );
    let introspection = production
        .request(post_json(
            json!({ "query": "{ __schema { types { name } } }" }).to_string(),
        ))
        .await;
    assert_eq!(
        introspection.body["data"]["__schema"],
        Value::Null,
        "{}",
        introspection.body
    );
    let typo = production
        .request(post_json(
            json!({ "query": "{ custmerGroups(first: 1) { totalCount } }" }).to_string(),
        ))
        .await;
    assert!(!typo.body.to_string().contains("Did you mean"), "{}", typo.body);
    let graphiql = production
        .request(Request::get("/graphql").body(Body::empty()).expect("a request"))
        .await;
    assert_eq!(graphiql.status, StatusCode::NOT_FOUND);
    // The development profile offers them.
    let typo = app
        .request(post_json(
            json!({ "query": "{ custmerGroups(first: 1) { totalCount } }" }).to_string(),
        ))
        .await;
    assert!(typo.body.to_string().contains("Did you mean"), "{}", typo.body);
}

#[tokio::test]
async fn a_body_that_is_not_a_graphql_request_is_told_which_member_is_wrong() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let cases = [
        (r#"{"query": 5}"#, "`query` must be a string"),
        (
            r#"{"query": "{ __typename }", "variables": [1]}"#,
            "`variables` must be an object",
        ),
        (
            r#"{"query": "{ __typename }", "operationName": 7}"#,
            "`operationName` must be a string",
        ),
        (
            r#"[{"query": "{ __typename }"}, "x"]"#,
            "operation 1: must be an object",
        ),
        (r#""{ __typename }""#, "must be an object with a `query` string"),
        (r#"{"query": "#, "EOF while parsing"),
        (
            r#"{"query": "{ __typename }", "query": "mutation { x }"}"#,
            "`query` appears more than once",
        ),
        (
            r#"[{"query": "{ __typename }"}, {"query": "{ a }", "variables": {}, "variables": {}}]"#,
            "operation 1: `variables` appears more than once",
        ),
    ];
    for (body, expected) in cases {
        let response = app.request(post_json(body)).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(code(&response), "BAD_REQUEST", "{body}");
        let message = response.body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{body}: {message}");
        // No Rust type ever reaches an answer.
        for word in ["enum", "struct", "BatchRequest", "untagged"] {
            assert!(!message.contains(word), "{body}: {message}");
        }
    }
    app.cleanup().await;
}

fn get(query_string: &str, bearer: Option<&str>) -> Request<Body> {
    let mut request = Request::get(format!("/graphql?{query_string}"));
    if let Some(bearer) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    }
    request.body(Body::empty()).expect("a request")
}

fn nested_lists(levels: usize) -> String {
    format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
}

/// A document nested thousands of levels deep once overflowed a worker's
/// stack and aborted the process; it is refused before the parser sees it,
/// on every path, and an unauthenticated GET is not parsed at all.
#[tokio::test]
async fn deeply_nested_documents_are_refused_before_parsing() {
    let open = TestApp::spawn(Backend::Sqlite).await;
    let keyed = open.served_with(crate::security::auth(), HttpOptions::default());
    // 500 levels overflowed a worker's stack; past about 700 the parser
    // gave up by itself.
    for levels in [100, 500, 2_000] {
        let lists = nested_lists(levels);
        let objects = format!("{}1{}", "{a: ".repeat(levels), "}".repeat(levels));
        let get_query = format!("query={}", url_encode(&format!("{{a(b:{lists})}}")));

        // Without a credential: 401, nothing parsed.
        let response = keyed.request(get(&get_query, None)).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{}", response.body);
        assert_eq!(code(&response), "UNAUTHENTICATED");
        // With one, on GET.
        let response = keyed.request(get(&get_query, Some(crate::security::SHOP_KEY))).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{}", response.body);
        assert_eq!(code(&response), "QUERY_TOO_DEEP", "{}", response.body);
        assert!(
            response.body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("64")
        );

        // And by POST: object literals, directive arguments, variable
        // defaults, selections, and one operation of a batch.
        let documents = [
            format!("{{ products(first: 1, filter: {objects}) {{ totalCount }} }}"),
            format!("{{ products(first: 1) @include(if: {lists}) {{ totalCount }} }}"),
            format!("query($v: [[Int]] = {lists}) {{ products(first: 1) {{ totalCount }} }}"),
            format!("{{ {} }}", "a { ".repeat(levels) + &"}".repeat(levels)),
        ];
        for document in &documents {
            let response = open.request(post_json(json!({ "query": document }).to_string())).await;
            assert_eq!(code(&response), "QUERY_TOO_DEEP", "{}", response.body);
            assert_eq!(response.status, StatusCode::BAD_REQUEST);
        }
        let batch = json!([{ "query": "{ products(first: 1) { totalCount } }" }, { "query": documents[0] }]);
        let response = open.request(post_json(batch.to_string())).await;
        assert_eq!(code(&response), "QUERY_TOO_DEEP", "{}", response.body);
    }
    // serde_json stops at 128 levels; 100 get through to the check.
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!([deep]);
    }
    let body = json!({ "query": "query($v: JSON) { products(first: 1) { totalCount } }", "variables": { "v": deep } });
    let response = open.request(post_json(body.to_string())).await;
    assert_eq!(code(&response), "QUERY_TOO_DEEP", "{}", response.body);
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("variables")
    );

    // Nesting up to the limit is parsed and answered as usual.
    let within = format!(
        "{{ products(first: 1, filter: {{ search: \"x\" }}) @include(if: true) {{ totalCount }} }} # {}",
        nested_lists(500)
    );
    let data = open.data(&within, json!({})).await;
    assert_eq!(data["products"]["totalCount"], 0);
    let response = open
        .request(post_json(
            json!({ "query": format!("{{ products(first: {}) {{ totalCount }} }}", nested_lists(60)) }).to_string(),
        ))
        .await;
    // (A list where an Int belongs: refused by validation, not by nesting.)
    assert_ne!(code(&response), "QUERY_TOO_DEEP", "{}", response.body);
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Int"),
        "{}",
        response.body
    );
    assert_eq!(
        open.data("{ products(first: 1) { totalCount } }", json!({})).await["products"]["totalCount"],
        0
    );
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
