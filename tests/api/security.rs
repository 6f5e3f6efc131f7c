//! Who may do what (docs/api.md#roles): each role against each class of operation,
//! customer tokens that must be refused, and the open development mode.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pricegraph::auth::{Auth, AuthSettings};
use pricegraph::http::HttpOptions;
use serde_json::{Value, json};

use crate::fixtures::{
    add_customers, base_price, customer, link_price_list, list_price, organization, price_list, pricing_group, product,
};
use crate::helpers::{Backend, Response, TestApp};

pub(crate) const ADMIN_KEY: &str = "admin-key-for-the-tests-0001";
pub(crate) const SHOP_KEY: &str = "storefront-key-for-the-tests-0001";
const SECRET: &str = "a-secret-of-at-least-32-bytes-for-hs256";

pub(crate) fn auth() -> Auth {
    Auth::from_settings(&AuthSettings {
        api_keys: Some(format!("admin:{ADMIN_KEY},storefront:{SHOP_KEY}")),
        jwt_secret: Some(SECRET.to_owned()),
        jwt_audience: "pricegraph".to_owned(),
        ..AuthSettings::default()
    })
    .expect("valid settings")
}

fn in_an_hour() -> i64 {
    chrono::Utc::now().timestamp() + 3600
}

fn in_ten_minutes() -> i64 {
    chrono::Utc::now().timestamp() + 600
}

fn token(claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("a token")
}

pub(crate) fn customer_token(customer: &str) -> String {
    token(json!({ "sub": customer, "aud": "pricegraph", "exp": in_an_hour() }))
}

/// The world: `me` in VIP (with a list price), `other` in Trade, both
/// working for `acme`; one product.
struct World {
    open: TestApp,
    app: TestApp,
    me: String,
    other: String,
    chair: String,
}

async fn world() -> World {
    let open = TestApp::spawn(Backend::Sqlite).await;
    let chair = product(&open, "CHAIR", json!({})).await;
    base_price(&open, &chair, 1, "100.00").await;
    let acme = organization(&open, "Acme", json!({})).await;
    let me = customer(&open, "me@example.com", json!({ "organizationId": acme })).await;
    let other = customer(&open, "other@example.com", json!({ "organizationId": acme })).await;
    let vip = pricing_group(&open, "VIP").await;
    let trade = pricing_group(&open, "Trade").await;
    add_customers(&open, &vip, &[&me]).await;
    add_customers(&open, &trade, &[&other]).await;
    let vip_list = price_list(&open, "VIP prices", json!({ "type": "OVERRIDE" })).await;
    list_price(&open, &vip_list, &chair, "80.00").await;
    link_price_list(&open, &vip, &vip_list, 1).await;
    let app = open.served_with(auth(), HttpOptions::default());
    World {
        open,
        app,
        me,
        other,
        chair,
    }
}

pub(crate) async fn post(app: &TestApp, bearer: Option<&str>, query: &str, variables: Value) -> Response {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(bearer) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    app.request(request.body(Body::from(body)).expect("a request")).await
}

async fn rest(app: &TestApp, bearer: Option<&str>) -> Response {
    let mut request = Request::get("/admin/pricing/customer-groups");
    if let Some(bearer) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    }
    app.request(request.body(Body::empty()).expect("a request")).await
}

/// What a caller saw: `Ok` with the data, or the error codes.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Data,
    Codes(Vec<String>),
    Status(StatusCode),
}

fn seen(response: &Response) -> Seen {
    if response.status != StatusCode::OK {
        return Seen::Status(response.status);
    }
    match response.body["errors"].as_array() {
        None => Seen::Data,
        Some(errors) => Seen::Codes(
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("?").to_owned())
                .collect(),
        ),
    }
}

fn forbidden(n: usize) -> Seen {
    Seen::Codes(vec!["FORBIDDEN".to_owned(); n])
}

/// The operation classes, as (name, query, variables).
fn operations(w: &World) -> Vec<(&'static str, String, Value)> {
    let price = "resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") { amount { amount } }";
    vec![
        (
            "public catalog",
            "{ products(first: 5) { edges { node { sku } } } }".to_owned(),
            json!({}),
        ),
        (
            "own price",
            format!("query($c: ID, $p: ID!) {{ {price} }}"),
            json!({ "c": w.me, "p": w.chair }),
        ),
        (
            "another's price by argument",
            format!("query($c: ID, $p: ID!) {{ {price} }}"),
            json!({ "c": w.other, "p": w.chair }),
        ),
        (
            "another's price by alias",
            "query($me: ID, $c: ID, $p: ID!) {
                mine: resolvedPrice(customerId: $me, productId: $p, currency: \"USD\") { amount { amount } }
                theirs: resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") { amount { amount } } }"
                .to_owned(),
            json!({ "me": w.me, "c": w.other, "p": w.chair }),
        ),
        (
            "another's price through a product",
            "query($c: ID) { products(first: 5) { edges { node { resolvedPrice(customerId: $c, currency: \"USD\") {
                amount { amount } } } } } }"
                .to_owned(),
            json!({ "c": w.other }),
        ),
        (
            "another customer through an organization",
            "query($c: ID!) { customer(id: $c) { organization { customers(first: 5) { edges { node { email } } } } } }"
                .to_owned(),
            json!({ "c": w.me }),
        ),
        (
            "own groups",
            "query($c: ID!) { customer(id: $c) { email groups { name } effectiveGroups { customerGroup { name } } } }"
                .to_owned(),
            json!({ "c": w.me }),
        ),
        (
            "another customer",
            "query($c: ID!) { customer(id: $c) { email } }".to_owned(),
            json!({ "c": w.other }),
        ),
        (
            "group listing",
            "{ customerGroups(first: 5) { edges { node { name } } } }".to_owned(),
            json!({}),
        ),
        (
            "customer listing",
            "{ customers(first: 5) { edges { node { email } } } }".to_owned(),
            json!({}),
        ),
        (
            "members through a price's group",
            "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") {
                customerGroup { customers(first: 5) { edges { node { email } } } } } }"
                .to_owned(),
            json!({ "c": w.me, "p": w.chair }),
        ),
        (
            "mutation",
            "mutation { createCustomerGroup(input: { name: \"Intruders\" }) { customerGroup { id } } }".to_owned(),
            json!({}),
        ),
        (
            "pricing health",
            "{ pricingHealth { findings { code message } } }".to_owned(),
            json!({}),
        ),
    ]
}

async fn group_count(w: &World) -> i64 {
    w.open
        .data("{ customerGroups(first: 1) { totalCount } }", json!({}))
        .await["customerGroups"]["totalCount"]
        .as_i64()
        .unwrap_or_default()
}

#[tokio::test]
async fn each_role_may_do_exactly_its_share() {
    let w = world().await;
    let me_token = customer_token(&w.me);
    let unauthorized = Seen::Status(StatusCode::UNAUTHORIZED);
    // Expected outcome per operation, for: anonymous, storefront key, customer token, admin key.
    let expected: Vec<[Seen; 4]> = vec![
        [unauthorized.clone(), Seen::Data, Seen::Data, Seen::Data],
        [unauthorized.clone(), Seen::Data, Seen::Data, Seen::Data],
        [unauthorized.clone(), Seen::Data, forbidden(1), Seen::Data],
        [unauthorized.clone(), Seen::Data, forbidden(1), Seen::Data],
        [unauthorized.clone(), Seen::Data, forbidden(1), Seen::Data],
        [unauthorized.clone(), forbidden(1), forbidden(1), Seen::Data],
        [unauthorized.clone(), forbidden(1), Seen::Data, Seen::Data],
        [unauthorized.clone(), forbidden(1), forbidden(1), Seen::Data],
        [unauthorized.clone(), forbidden(1), forbidden(1), Seen::Data],
        [unauthorized.clone(), forbidden(1), forbidden(1), Seen::Data],
        [unauthorized.clone(), forbidden(1), forbidden(1), Seen::Data],
        [unauthorized.clone(), forbidden(1), forbidden(1), Seen::Data],
        [unauthorized.clone(), forbidden(1), forbidden(1), Seen::Data],
    ];
    let callers = [None, Some(SHOP_KEY), Some(me_token.as_str()), Some(ADMIN_KEY)];
    let names = ["anonymous", "storefront", "customer", "admin"];
    for ((name, query, variables), expected) in operations(&w).into_iter().zip(expected) {
        for ((caller, who), expected) in callers.iter().zip(names).zip(expected) {
            let before = group_count(&w).await;
            let response = post(&w.app, *caller, &query, variables.clone()).await;
            let outcome = seen(&response);
            assert_eq!(outcome, expected, "{who} × {name}: {}", response.body);
            if outcome != Seen::Data {
                assert_eq!(group_count(&w).await, before, "{who} × {name} changed data");
            }
            if outcome == Seen::Status(StatusCode::UNAUTHORIZED) {
                assert_eq!(response.body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
            }
        }
    }
    // The alias case: the customer still gets its own price beside the refusal.
    let (_, query, variables) = &operations(&w)[3];
    let response = post(&w.app, Some(&me_token), query, variables.clone()).await;
    assert_eq!(response.body["data"]["mine"]["amount"]["amount"], "80.00");
    assert_eq!(response.body["data"]["theirs"], Value::Null);
}

#[tokio::test]
async fn the_admin_endpoints_take_admin_keys_only() {
    let w = world().await;
    let me_token = customer_token(&w.me);
    for (caller, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(SHOP_KEY), StatusCode::FORBIDDEN),
        (Some(me_token.as_str()), StatusCode::FORBIDDEN),
        (Some("not-a-key-at-all-0000"), StatusCode::UNAUTHORIZED),
        (Some(ADMIN_KEY), StatusCode::OK),
    ] {
        let response = rest(&w.app, caller).await;
        assert_eq!(response.status, status, "{caller:?}: {}", response.body);
        if status != StatusCode::OK {
            assert!(response.body["error"]["code"].is_string(), "{}", response.body);
        }
    }
}

fn b64(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn bad_customer_tokens_are_refused() {
    let w = world().await;
    let claims = json!({ "sub": w.me, "aud": "pricegraph", "exp": in_an_hour() });
    let unsigned = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), b64(&claims));
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("a token");
    let wrong_secret = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!"),
    )
    .expect("a token");
    let cases = [
        ("alg none", unsigned, "HS256"),
        ("HS512", hs512, "HS256"),
        ("wrong secret", wrong_secret, "signature"),
        (
            "expired",
            token(json!({ "sub": w.me, "aud": "pricegraph", "exp": chrono::Utc::now().timestamp() - 600 })),
            "expired",
        ),
        ("no exp", token(json!({ "sub": w.me, "aud": "pricegraph" })), "claim"),
        (
            "other audience",
            token(json!({ "sub": w.me, "aud": "someone-else", "exp": in_an_hour() })),
            "audience",
        ),
        (
            "sub not a customer id",
            token(json!({ "sub": "admin", "aud": "pricegraph", "exp": in_an_hour() })),
            "sub",
        ),
        (
            "not valid for ten minutes (nbf)",
            token(json!({ "sub": w.me, "aud": "pricegraph", "exp": in_an_hour(), "nbf": in_ten_minutes() })),
            "not valid yet",
        ),
        (
            "issued in ten minutes (iat)",
            token(json!({ "sub": w.me, "aud": "pricegraph", "exp": in_an_hour(), "iat": in_ten_minutes() })),
            "issued in the future",
        ),
    ];
    for (name, token, says) in cases {
        let response = post(&w.app, Some(&token), "{ products(first: 1) { totalCount } }", json!({})).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{name}: {}", response.body);
        let message = response.body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{name}: {message}");
    }
    let fine = post(
        &w.app,
        Some(&customer_token(&w.me)),
        "{ products(first: 1) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(seen(&fine), Seen::Data, "{}", fine.body);
    // Within the leeway (a clock a little ahead), and in the past: fine.
    let now = chrono::Utc::now().timestamp();
    for claims in [
        json!({ "sub": w.me, "aud": "pricegraph", "exp": in_an_hour(), "nbf": now + 2, "iat": now + 2 }),
        json!({ "sub": w.me, "aud": "pricegraph", "exp": in_an_hour(), "nbf": now - 60, "iat": now - 60 }),
    ] {
        let response = post(
            &w.app,
            Some(&token(claims.clone())),
            "{ products(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
        assert_eq!(seen(&response), Seen::Data, "{claims}: {}", response.body);
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let w = world().await;
    for request in [
        Request::get("/health").body(Body::empty()),
        Request::get("/admin/pricing/customer-groups").body(Body::empty()),
        Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"query":"{ __typename }"}"#)),
    ] {
        let response = w.app.router.clone().oneshot_request(request.expect("a request")).await;
        let id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok());
        assert!(id.is_some_and(|id| id.len() >= 32), "{:?}", response.headers());
    }
}

/// A small extension so the test can see response headers.
trait Oneshot {
    async fn oneshot_request(self, request: Request<Body>) -> axum::response::Response;
}

impl Oneshot for axum::Router {
    async fn oneshot_request(self, request: Request<Body>) -> axum::response::Response {
        use tower::ServiceExt;
        self.oneshot(request).await.expect("the router answers")
    }
}
