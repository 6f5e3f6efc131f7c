//! `Idempotency-Key` on mutations: a retry gets the first answer and writes
//! nothing; the key with another body is 422, while the first still runs
//! 409; keys are per credential, expire after a day, and are pruned.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::Utc;
use entity::idempotency_key;
use http_body_util::BodyExt;
use pricegraph::auth::{Auth, AuthSettings};
use pricegraph::http::HttpOptions;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::helpers::{TestApp, on_each_backend};

const ADMIN_KEY: &str = "admin-key-one-0123456789";
const OTHER_ADMIN_KEY: &str = "admin-key-two-0123456789";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

/// The body of a mutation creating the group `name`.
fn create(name: &str) -> String {
    json!({
        "query": "mutation ($name: String!) { createCustomerGroup(input: { name: $name, kind: PRICING }) { customerGroup { id name } userErrors { code } } }",
        "variables": { "name": name },
    })
    .to_string()
}

async fn post(app: &TestApp, body: &str, key: Option<&[u8]>, credential: Option<&str>) -> Answer {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    if let Some(credential) = credential {
        request = request.header(header::AUTHORIZATION, format!("Bearer {credential}"));
    }
    let request = request.body(Body::from(body.to_owned())).expect("request");
    let response = app.router.clone().oneshot(request).await.expect("router answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Answer { status, headers, body }
}

/// How many groups are named `name`.
async fn groups_named(app: &TestApp, name: &str) -> u64 {
    let data = app
        .data(
            "query ($name: String!) { customerGroups(first: 10, filter: { nameContains: $name }) { edges { node { name } } } }",
            json!({ "name": name }),
        )
        .await;
    let edges = data["customerGroups"]["edges"].as_array().cloned().unwrap_or_default();
    edges.iter().filter(|edge| edge["node"]["name"] == name).count() as u64
}

fn code(answer: &Answer) -> &str {
    answer.body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn with_keys(app: &TestApp) -> TestApp {
    let auth = Auth::from_settings(&AuthSettings {
        api_keys: Some(format!("admin:{ADMIN_KEY},admin:{OTHER_ADMIN_KEY}")),
        jwt_audience: "pricegraph".into(),
        ..AuthSettings::default()
    })
    .expect("keys");
    app.served_with(auth, HttpOptions::default())
}

#[tokio::test]
async fn a_retried_mutation_gets_the_first_answer_and_writes_once() {
    on_each_backend(|app| async move {
        let body = create("Retried");
        let first = post(&app, &body, Some(b"order-42"), None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert_eq!(first.body["data"]["createCustomerGroup"]["userErrors"], json!([]));
        assert!(first.headers.get("idempotent-replayed").is_none());

        let before = app.statements.total();
        let again = post(&app, &body, Some(b"order-42"), None).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.body, first.body, "the first answer, the same group id");
        assert_eq!(again.headers["idempotent-replayed"], "true");
        assert!(
            app.statements.total() - before <= 2,
            "a replay reads its key, nothing more"
        );
        assert_eq!(groups_named(&app, "Retried").await, 1);

        // Without a key, the same mutation runs again (and is refused: the name is taken).
        let unkeyed = post(&app, &body, None, None).await;
        assert_eq!(
            unkeyed.body["data"]["createCustomerGroup"]["userErrors"][0]["code"],
            "TAKEN"
        );
    })
    .await;
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422_and_runs_nothing() {
    on_each_backend(|app| async move {
        post(&app, &create("First body"), Some(b"k"), None).await;
        let reused = post(&app, &create("Second body"), Some(b"k"), None).await;
        assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reused.body);
        assert_eq!(code(&reused), "IDEMPOTENCY_KEY_REUSED");
        assert!(reused.body.to_string().contains("Idempotency-Key"), "{}", reused.body);
        assert_eq!(groups_named(&app, "Second body").await, 0);
    })
    .await;
}

/// Two credentials may pick the same key: each runs its own request.
#[tokio::test]
async fn keys_are_per_credential() {
    on_each_backend(|app| async move {
        let app = with_keys(&app);
        let body = create("Shared key");
        let first = post(&app, &body, Some(b"same"), Some(ADMIN_KEY)).await;
        assert_eq!(
            first.body["data"]["createCustomerGroup"]["userErrors"],
            json!([]),
            "{}",
            first.body
        );
        let other = post(&app, &body, Some(b"same"), Some(OTHER_ADMIN_KEY)).await;
        assert!(other.headers.get("idempotent-replayed").is_none());
        assert_eq!(
            other.body["data"]["createCustomerGroup"]["userErrors"][0]["code"], "TAKEN",
            "the other credential's request ran: {}",
            other.body
        );
        let replayed = post(&app, &body, Some(b"same"), Some(ADMIN_KEY)).await;
        assert_eq!(replayed.body, first.body);
    })
    .await;
}

#[tokio::test]
async fn a_malformed_key_is_400_naming_the_header_and_queries_ignore_it() {
    on_each_backend(|app| async move {
        let long = vec![b'k'; 256];
        let bad: [&[u8]; 4] = [b"", &long, "clé".as_bytes(), b"a\tb"];
        for key in bad {
            let answer = post(&app, &create("Never"), Some(key), None).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{key:?}: {}", answer.body);
            assert!(answer.body.to_string().contains("Idempotency-Key"), "{}", answer.body);
        }
        assert_eq!(groups_named(&app, "Never").await, 0);
        let longest = vec![b'~'; 255];
        let ok = post(&app, &create("Longest key"), Some(&longest), None).await;
        assert_eq!(
            ok.body["data"]["createCustomerGroup"]["userErrors"],
            json!([]),
            "{}",
            ok.body
        );

        let query = json!({ "query": "{ customerGroups(first: 1) { totalCount } }" }).to_string();
        for key in bad {
            let answer = post(&app, &query, Some(key), None).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        }
    })
    .await;
}

/// The row a request claims, for the open server's (empty) credential.
fn claimed(key: &str, body: &str) -> idempotency_key::ActiveModel {
    let now = Utc::now();
    idempotency_key::ActiveModel {
        scope: Set(hex(&Sha256::digest(b""))),
        key: Set(key.to_owned()),
        request_hash: Set(hex(&Sha256::digest(body.as_bytes()))),
        status: Set(None),
        response: Set(None),
        created_at: Set(now),
        expires_at: Set(now + chrono::TimeDelta::hours(24)),
    }
}

/// A request whose key is still running is 409 with `Retry-After`; one
/// running for over a minute is taken to be abandoned (its server died)
/// and runs.
#[tokio::test]
async fn while_the_first_runs_a_retry_is_409_until_it_is_abandoned() {
    on_each_backend(|app| async move {
        let body = create("In flight");
        claimed("running", &body).insert(&app.db.conn).await.expect("insert");
        let answer = post(&app, &body, Some(b"running"), None).await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
        assert_eq!(code(&answer), "IDEMPOTENCY_KEY_IN_FLIGHT");
        assert_eq!(answer.headers[header::RETRY_AFTER], "1");
        assert_eq!(groups_named(&app, "In flight").await, 0);

        let mut abandoned = claimed("abandoned", &body);
        abandoned.created_at = Set(Utc::now() - chrono::TimeDelta::seconds(61));
        abandoned.insert(&app.db.conn).await.expect("insert");
        let answer = post(&app, &body, Some(b"abandoned"), None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(groups_named(&app, "In flight").await, 1);
    })
    .await;
}

/// A key is kept 24 hours: an expired one runs its request again, and
/// expired rows are pruned.
#[tokio::test]
async fn keys_expire_after_a_day_and_are_pruned() {
    on_each_backend(|app| async move {
        let old = Utc::now() - chrono::TimeDelta::hours(25);
        let mut stale = claimed("yesterday", "{}");
        stale.created_at = Set(old);
        stale.expires_at = Set(old + chrono::TimeDelta::hours(24));
        stale.insert(&app.db.conn).await.expect("insert");

        let body = create("Expiring");
        let first = post(&app, &body, Some(b"e"), None).await;
        assert_eq!(first.body["data"]["createCustomerGroup"]["userErrors"], json!([]));
        let pruned = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::Key.eq("yesterday"))
            .one(&app.db.conn)
            .await
            .expect("select");
        assert!(pruned.is_none(), "the expired key was not pruned");

        idempotency_key::Entity::update_many()
            .col_expr(
                idempotency_key::Column::ExpiresAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .exec(&app.db.conn)
            .await
            .expect("expire");
        let after = post(&app, &body, Some(b"e"), None).await;
        assert!(after.headers.get("idempotent-replayed").is_none());
        assert_eq!(
            after.body["data"]["createCustomerGroup"]["userErrors"][0]["code"],
            "TAKEN"
        );
    })
    .await;
}

/// A mutation answered `TIMEOUT` wrote nothing and never will (its write is
/// rolled back past the deadline), so its key is free: a retry with it runs
/// and writes once; a retry after that gets the stored answer.
#[tokio::test]
async fn a_retry_after_a_timeout_gets_the_mutations_answer() {
    on_each_backend(|app| async move {
        let options = HttpOptions {
            request_timeout: Duration::from_millis(1),
            ..HttpOptions::default()
        };
        let impatient = app.served_with(Auth::open(), options);
        let body = create("Slow");
        let first = post(&impatient, &body, Some(b"slow"), None).await;
        assert!(
            first.status == StatusCode::SERVICE_UNAVAILABLE || first.status == StatusCode::OK,
            "{}",
            first.body
        );
        if first.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(
                first.body["errors"][0]["extensions"]["code"], "TIMEOUT",
                "{}",
                first.body
            );
            assert_eq!(groups_named(&app, "Slow").await, 0, "a TIMEOUT wrote");
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let answer = loop {
            let answer = post(&app, &body, Some(b"slow"), None).await;
            if answer.status != StatusCode::CONFLICT || std::time::Instant::now() > deadline {
                break answer;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(
            answer.body["data"]["createCustomerGroup"]["customerGroup"]["name"],
            "Slow"
        );
        let again = post(&app, &body, Some(b"slow"), None).await;
        assert_eq!(again.headers["idempotent-replayed"], "true");
        assert_eq!(again.body, answer.body);
        assert_eq!(groups_named(&app, "Slow").await, 1);
    })
    .await;
}
