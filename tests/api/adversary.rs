//! An adversary's requests (issue: hardening against an adversary): each
//! class of attack is refused early with a coded error, the answer comes
//! well within the request timeout, and an ordinary query is answered as
//! before while the attack runs. Deeply nested documents are in
//! `hardening.rs`.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pricegraph::graphql::SchemaOptions;
use pricegraph::http::HttpOptions;
use serde_json::{Value, json};

use crate::fixtures::{product, write};
use crate::helpers::{Response, TestApp, on_each_backend};
use crate::security::{SHOP_KEY, auth, customer_token};

/// A request whose answer takes longer than this is a finding (the
/// request timeout is 10 s; these are refused before they run).
const PROMPT: Duration = Duration::from_secs(5);

fn post(body: &Value, bearer: &str) -> Request<Body> {
    Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
        .body(Body::from(body.to_string()))
        .expect("a request")
}

fn code(response: &Response) -> &str {
    response.body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

fn message(response: &Response) -> &str {
    response.body["errors"][0]["message"].as_str().unwrap_or_default()
}

/// Sends `attack`, checks it is refused with `expected` promptly, and that
/// an ordinary storefront query still answers.
async fn refused(app: &TestApp, bearer: &str, attack: Value, expected: &str, says: &str) {
    let size = attack.to_string().len();
    let started = Instant::now();
    let response = app.request(post(&attack, bearer)).await;
    let took = started.elapsed();
    assert_eq!(code(&response), expected, "{size} bytes: {}", response.body);
    assert!(message(&response).contains(says), "{}", message(&response));
    assert!(response.body["data"].is_null(), "nothing ran: {}", response.body);
    assert!(took < PROMPT, "{expected} took {took:?} for {size} bytes");
    let ordinary = app
        .request(post(
            &json!({ "query": "{ products(first: 5) { totalCount } }" }),
            bearer,
        ))
        .await;
    assert_eq!(ordinary.status, StatusCode::OK, "{}", ordinary.body);
    assert!(ordinary.body["errors"].is_null(), "{}", ordinary.body);
}

/// Eight levels of fragments, each spreading the next ten times: 10^8
/// fields once expanded, from 600 bytes.
pub(crate) fn fragment_bomb() -> String {
    let mut bomb = String::from("{ ...F0 }");
    for level in 0..8 {
        bomb.push_str(&format!(
            " fragment F{level} on Query {{ {} }}",
            format!("...F{} ", level + 1).repeat(10)
        ));
    }
    bomb.push_str(" fragment F8 on Query { __typename }");
    bomb
}

/// `count` fields, each `field(n)`, in one selection set.
pub(crate) fn aliased(count: usize, field: impl Fn(usize) -> String) -> String {
    let fields: Vec<String> = (0..count).map(field).collect();
    format!("{{ {} }}", fields.join(" "))
}

#[tokio::test]
async fn aliases_that_multiply_work_are_refused_before_they_run() {
    let open = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let app = open.served_with(auth(), HttpOptions::default());
    let chair = product(&open, "CHAIR", json!({})).await;

    // resolvePrices of 1,000 items under 3,000 aliases once asked for three
    // million resolutions (and ran past its timeout).
    let items: Vec<Value> = (0..1000).map(|_| json!({ "productId": chair })).collect();
    let query = aliased(3000, |i| format!("a{i}: resolvePrices(input: $input) {{ source }}"));
    let attack = json!({
        "query": format!("query($input: ResolvePricesInput!) {}", query),
        "variables": { "input": { "currency": "USD", "items": items } },
    });
    refused(&app, SHOP_KEY, attack, "QUERY_TOO_COMPLEX", "fields").await;

    // Fewer aliases, each with 1,000 items: the complexity counts the items.
    let query = aliased(20, |i| {
        format!("a{i}: resolvePrices(input: $input) {{ source amount {{ amount }} }}")
    });
    let attack = json!({
        "query": format!("query($input: ResolvePricesInput!) {}", query),
        "variables": { "input": { "currency": "USD", "items": items } },
    });
    refused(&app, SHOP_KEY, attack, "QUERY_TOO_COMPLEX", "complexity").await;
    // One such call is fine.
    let one = json!({
        "query": "query($input: ResolvePricesInput!) { resolvePrices(input: $input) { source } }",
        "variables": { "input": { "currency": "USD", "items": items } },
    });
    let response = app.request(post(&one, SHOP_KEY)).await;
    assert_eq!(
        response.body["data"]["resolvePrices"].as_array().map(Vec::len),
        Some(1000)
    );

    // 55,000 aliased `__typename` (1 MB): refused unparsed, by a count of
    // its names (parsing it took seconds, twice).
    let attack = json!({ "query": aliased(55_000, |i| format!("a{i}: __typename")) });
    refused(&app, SHOP_KEY, attack, "QUERY_TOO_COMPLEX", "field names and aliases").await;
    // A thousand-item list literal is fine; a 200,000-token one is not.
    let literal = vec!["{productId: \"x\"}"; 30_000].join(", ");
    let attack = json!({ "query": format!("{{ resolvePrices(input: {{currency: \"USD\", items: [{literal}]}}) {{ source }} }}") });
    refused(&app, SHOP_KEY, attack, "QUERY_TOO_COMPLEX", "tokens").await;

    // 1,500 aliased introspection queries, each the whole schema.
    let attack = json!({ "query": aliased(1500, |i| format!("a{i}: __schema {{ types {{ name }} }}")) });
    refused(&app, SHOP_KEY, attack, "QUERY_TOO_COMPLEX", "schema").await;

    // A fragment bomb: 10^8 fields once expanded, from 600 bytes.
    refused(
        &app,
        SHOP_KEY,
        json!({ "query": fragment_bomb() }),
        "QUERY_TOO_COMPLEX",
        "fields",
    )
    .await;

    // A customer token gets no more room than a storefront key.
    let me = crate::fixtures::customer(&open, "me@example.com", json!({})).await;
    let attack = json!({ "query": aliased(2_001, |i| format!("a{i}: __typename")) });
    refused(&app, &customer_token(&me), attack, "QUERY_TOO_COMPLEX", "2001 fields").await;
}

#[tokio::test]
async fn entities_with_thousands_of_representations_are_refused() {
    let open = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let options = HttpOptions {
        schema: SchemaOptions {
            federation: true,
            ..SchemaOptions::default()
        },
        ..HttpOptions::default()
    };
    let app = open.served_with(auth(), options);
    let chair = product(&open, "CHAIR", json!({})).await;
    let representations: Vec<Value> = (0..10_000)
        .map(|_| json!({ "__typename": "Product", "id": chair }))
        .collect();
    let query = aliased(30, |i| format!("a{i}: _entities(representations: $r) {{ __typename }}"));
    let attack = json!({
        "query": format!("query($r: [_Any!]!) {query}"),
        "variables": { "r": representations },
    });
    refused(&app, SHOP_KEY, attack, "QUERY_TOO_COMPLEX", "representations").await;
    // A thousand in one field are answered.
    let thousand = json!({
        "query": "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        "variables": { "r": &representations[..1000] },
    });
    let response = app.request(post(&thousand, SHOP_KEY)).await;
    assert_eq!(
        response.body["data"]["_entities"].as_array().map(Vec::len),
        Some(1000),
        "{}",
        response.body
    );
}

/// Input that once reached the database and came back `INTERNAL`: each is
/// a coded user error naming the field, on every backend, and nothing is
/// written.
#[tokio::test]
async fn bad_text_and_dates_are_user_errors_that_name_the_field() {
    on_each_backend(|app| async move {
        let keyed = app.served_with(auth(), HttpOptions::default());
        let long = "x".repeat(60_000);
        let filters = [
            ("customerGroups", "nameContains", long.as_str(), "at most 100 characters"),
            ("organizations", "nameContains", "a\u{0}", "NUL"),
            ("priceLists", "nameContains", "\u{0}", "NUL"),
            ("productLines", "nameContains", long.as_str(), "at most 100"),
            ("customers", "emailContains", "\u{0}", "NUL"),
        ];
        for (connection, field, needle, says) in filters {
            let query = format!("query($n: String) {{ {connection}(first: 1, filter: {{ {field}: $n }}) {{ totalCount }} }}");
            let body = app.graphql(&query, json!({ "n": needle })).await;
            let error = &body["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{connection}: {body}");
            assert_eq!(error["extensions"]["field"], format!("filter.{field}"), "{body}");
            assert!(error["message"].as_str().unwrap_or_default().contains(says), "{body}");
        }
        // A storefront key's product search too.
        let response = keyed
            .request(post(
                &json!({ "query": "query($s: String) { products(first: 1, filter: { search: $s }) { totalCount } }",
                         "variables": { "s": long } }),
                SHOP_KEY,
            ))
            .await;
        assert_eq!(code(&response), "BAD_USER_INPUT", "{}", response.body);

        let groups = || async { app.data("{ customerGroups(first: 1) { totalCount } }", json!({})).await };
        let before = groups().await;
        let writes = [
            (json!({ "name": "Bad\u{0}name" }), "name", "NUL"),
            (json!({ "name": "Tab\tname" }), "name", "control character"),
            (json!({ "name": "Fine", "description": "nul\u{0}" }), "description", "NUL"),
            (json!({ "name": "Fine", "metadata": { "note": "a\u{0}b" } }), "metadata", "NUL character (found in note)"),
            (json!({ "name": "Fine", "metadata": { "a\u{0}": 1 } }), "metadata", "NUL"),
        ];
        for (input, field, says) in writes {
            let data = app
                .data(
                    "mutation($input: CreateCustomerGroupInput!) { createCustomerGroup(input: $input) { userErrors { field message code } } }",
                    json!({ "input": input }),
                )
                .await;
            let error = &data["createCustomerGroup"]["userErrors"][0];
            assert_eq!(error["field"], json!([field]), "{input}: {data}");
            assert_eq!(error["code"], "INVALID", "{data}");
            assert!(error["message"].as_str().unwrap_or_default().contains(says), "{data}");
        }
        assert_eq!(groups().await, before, "nothing was written");

        // Date-times far outside the usual range.
        for (starts_at, ends_at, field) in [
            ("0000-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "startsAt"),
            ("-0001-06-01T00:00:00Z", "2027-01-01T00:00:00Z", "startsAt"),
            ("2026-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", "endsAt"),
            ("2026-01-01T00:00:00Z", "+200000-01-01T00:00:00Z", "endsAt"),
        ] {
            let data = app
                .graphql(
                    "mutation($input: CreatePriceListInput!) { createPriceList(input: $input) { priceList { id } userErrors { field message code } } }",
                    json!({ "input": { "name": "Far", "startsAt": starts_at, "endsAt": ends_at } }),
                )
                .await;
            let errors = &data["data"]["createPriceList"]["userErrors"];
            if data["errors"].is_null() {
                assert_eq!(errors[0]["field"], json!([field]), "{starts_at}..{ends_at}: {data}");
                assert_eq!(errors[0]["code"], "INVALID_WINDOW", "{data}");
            } else {
                // A date the scalar itself cannot read is refused as input.
                assert_ne!(data["errors"][0]["extensions"]["code"], "INTERNAL", "{data}");
            }
        }
        // The years 1 and 9999 are stored and compared as instants.
        write(
            &app,
            "createPriceList",
            json!({ "name": "Long", "startsAt": "0001-01-01T00:00:00Z", "endsAt": "9999-12-31T23:59:59Z" }),
        )
        .await;
    })
    .await;
}

/// A client's `X-Request-Id` goes into every log line of its request: only
/// a short id of safe characters is kept; any other is replaced.
#[tokio::test]
async fn only_safe_request_ids_are_kept() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let table: [(&[u8], bool); 6] = [
        (b"abc-123_x.y:z", true),
        (&[b'a'; 64], true),
        (&[b'a'; 65], false),
        (b"forged\" level=ERROR msg=\"owned", false),
        (b"with space", false),
        ("\u{fc}n\u{ef}code".as_bytes(), false),
    ];
    for (id, kept) in table {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                "x-request-id",
                axum::http::HeaderValue::from_bytes(id).expect("a header value"),
            )
            .body(Body::from(json!({ "query": "{ __typename }" }).to_string()))
            .expect("a request");
        let response = tower::ServiceExt::oneshot(app.router.clone(), request)
            .await
            .expect("an answer");
        let answered = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if kept {
            assert_eq!(answered.as_bytes(), id);
        } else {
            assert_ne!(answered.as_bytes(), id);
            assert!(uuid::Uuid::parse_str(&answered).is_ok(), "{id:?} became {answered:?}");
        }
    }
}

/// One credential past its rate gets 429 with `Retry-After`; the others are
/// served as before.
#[tokio::test]
async fn a_credential_past_its_rate_is_told_when_to_come_back() {
    let open = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let options = HttpOptions {
        rate_limit_per_second: 5,
        ..HttpOptions::default()
    };
    let app = open.served_with(auth(), options);
    let me = crate::fixtures::customer(&open, "me@example.com", json!({})).await;
    let query = json!({ "query": "{ __typename }" });
    // A burst of twice the rate goes through, then the bucket is empty.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = app.request(post(&query, SHOP_KEY)).await;
        statuses.push(response.status);
    }
    assert!(statuses[..10].iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    assert!(
        statuses[10..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let request = post(&query, SHOP_KEY);
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    // Another credential has a bucket of its own.
    let token = customer_token(&me);
    let response = app.request(post(&query, &token)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    // The REST admin is limited the same way, with its own error shape.
    let admin = crate::security::ADMIN_KEY;
    let mut last = None;
    for _ in 0..12 {
        let request = Request::get("/admin/pricing/customer-groups")
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .body(Body::empty())
            .expect("a request");
        last = Some(app.request(request).await);
    }
    let last = last.expect("answers");
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS, "{}", last.body);
    assert_eq!(last.body["error"]["code"], "RATE_LIMITED");
    // Open development mode is never limited.
    for _ in 0..30 {
        assert_eq!(open.request(post(&query, "anything")).await.status, StatusCode::OK);
    }
}
