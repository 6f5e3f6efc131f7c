//! Response maps follow the selection set's order (GraphQL spec §7.1.1),
//! whichever field finishes first.

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::fixtures::{pricing_group, product};
use crate::helpers::{TestApp, on_each_backend};

/// The response body as sent, so that key order is visible.
async fn raw(app: &TestApp, query: &str) -> String {
    let body = json!({ "query": query }).to_string();
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request");
    let response = app.router.clone().oneshot(request).await.expect("answer");
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

/// Whether `keys` appear in `text` in this order, each after the one before.
fn in_order(text: &str, keys: &[&str]) -> bool {
    let mut from = 0;
    keys.iter().all(|key| match text[from..].find(&format!("\"{key}\":")) {
        Some(at) => {
            from += at + key.len();
            true
        }
        None => false,
    })
}

#[tokio::test]
async fn fields_come_back_in_the_order_they_were_selected() {
    on_each_backend(|app| async move {
        pricing_group(&app, "VIP").await;
        product(&app, "MUG-1", json!({})).await;
        // totalCount waits on the database; the other fields do not.
        let cases: &[(&str, &[&str])] = &[
            (
                "{ customerGroups(first: 1) { totalCount edges { node { name } } pageInfo { hasNextPage } } }",
                &["totalCount", "edges", "pageInfo"],
            ),
            (
                "{ customerGroups(first: 1) { pageInfo { hasNextPage } totalCount edges { cursor } } }",
                &["pageInfo", "totalCount", "edges"],
            ),
            (
                "query { count: products(first: 1) { totalCount } first: products(first: 1) { edges { node { sku } } }
                   groups: customerGroups(first: 1) { ...Counted pageInfo { hasPreviousPage } } }
                 fragment Counted on CustomerGroupConnection { totalCount ... on CustomerGroupConnection { edges { cursor } } }",
                &["count", "first", "groups", "totalCount", "edges", "pageInfo"],
            ),
        ];
        for (query, keys) in cases {
            for attempt in 0..20 {
                app.store.cache.clear();
                let text = raw(&app, query).await;
                assert!(!text.contains("\"errors\""), "{text}");
                assert!(in_order(&text, keys), "attempt {attempt}: {keys:?} out of order in {text}");
            }
        }
    })
    .await;
}
