//! `/metrics`: what an operator's Prometheus scrapes, with labels that stay
//! bounded whatever the clients send.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::fixtures::{base_price, customer, product};
use crate::helpers::{TestApp, on_each_backend};

/// The scrape, as text.
pub(crate) async fn scrape(app: &TestApp) -> String {
    let response = app
        .request(Request::get("/metrics").body(Body::empty()).expect("request"))
        .await;
    assert_eq!(response.status, StatusCode::OK);
    response.body.as_str().expect("text").to_owned()
}

/// The value of one sample (`name{labels}`), or 0 when absent.
pub(crate) fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn post(app: &TestApp, body: serde_json::Value) {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    app.request(request).await;
}

#[tokio::test]
async fn requests_are_counted_by_operation_name_and_outcome() {
    on_each_backend(|app| async move {
        let named = "query Storefront { products(first: 5) { totalCount } }";
        for _ in 0..3 {
            app.data(named, json!({})).await;
        }
        app.graphql("{ noSuchField }", json!({})).await;
        post(&app, json!({ "query": "query A { products(first: 1) { totalCount } } query B { __typename }", "operationName": "B" })).await;
        // A batch counts each of its operations.
        post(&app, json!([{ "query": "query Storefront { __typename }" }, { "query": "{ __typename }" }])).await;
        app.request(Request::get("/health").body(Body::empty()).expect("request")).await;

        let text = scrape(&app).await;
        let ops = "pricegraph_graphql_operations_total";
        assert_eq!(sample(&text, &format!(r#"{ops}{{operation="Storefront",outcome="ok"}}"#)), 4.0, "{text}");
        assert_eq!(sample(&text, &format!(r#"{ops}{{operation="anonymous",outcome="error"}}"#)), 1.0);
        assert_eq!(sample(&text, &format!(r#"{ops}{{operation="anonymous",outcome="ok"}}"#)), 1.0);
        assert_eq!(sample(&text, &format!(r#"{ops}{{operation="B",outcome="ok"}}"#)), 1.0);
        assert_eq!(
            sample(&text, r#"pricegraph_graphql_operation_duration_seconds_count{operation="Storefront"}"#),
            4.0
        );
        assert_eq!(
            sample(&text, r#"pricegraph_http_requests_total{route="/graphql",method="POST",status="200"}"#),
            6.0
        );
        assert_eq!(sample(&text, r#"pricegraph_http_requests_total{route="/health",method="GET",status="200"}"#), 1.0);
        assert_eq!(sample(&text, r#"pricegraph_http_request_duration_seconds_count{route="/graphql"}"#), 6.0);
        assert_eq!(
            sample(&text, r#"pricegraph_http_request_duration_seconds_bucket{le="+Inf",route="/graphql"}"#),
            6.0,
            "{text}"
        );
        assert!(text.trim_end().ends_with("# EOF"));
    })
    .await;
}

#[tokio::test]
async fn sql_statements_per_request_are_the_statements_the_request_ran() {
    on_each_backend(|app| async move {
        let mug = product(&app, "MUG-1", json!({})).await;
        base_price(&app, &mug, 1, "4.00").await;
        let before = sample(
            &scrape(&app).await,
            r#"pricegraph_sql_statements_per_request_sum{route="/graphql"}"#,
        );
        let query =
            "{ products(first: 10) { edges { node { sku resolvedPrice(currency: \"USD\") { amount { amount } } } } } }";
        let (ran, _) = app.count_statements(app.data(query, json!({}))).await;
        assert!(ran >= 2, "a cold query reads the database");
        let text = scrape(&app).await;
        let after = sample(&text, r#"pricegraph_sql_statements_per_request_sum{route="/graphql"}"#);
        assert_eq!(after - before, ran as f64, "{text}");
        let under = |le: &str| {
            sample(
                &text,
                &format!(r#"pricegraph_sql_statements_per_request_bucket{{le="{le}",route="/graphql"}}"#),
            )
        };
        assert!(under("+Inf") > under("0.0"), "{text}");
    })
    .await;
}

#[tokio::test]
async fn price_resolutions_are_counted_by_source_and_cache_reads_by_layer() {
    on_each_backend(|app| async move {
        let priced = product(&app, "MUG-1", json!({})).await;
        product(&app, "MUG-2", json!({})).await;
        base_price(&app, &priced, 1, "4.00").await;
        let shopper = customer(&app, "shopper@example.com", json!({})).await;
        let query = "query($c: ID) { products(first: 10) { edges { node {
            resolvedPrice(customerId: $c, currency: \"USD\") { source } } } } }";
        app.data(query, json!({ "c": shopper })).await;
        app.data(query, json!({ "c": shopper })).await;
        let text = scrape(&app).await;
        assert_eq!(
            sample(&text, r#"pricegraph_price_resolutions_total{source="base"}"#),
            2.0,
            "{text}"
        );
        assert_eq!(
            sample(&text, r#"pricegraph_price_resolutions_total{source="none"}"#),
            2.0
        );
        assert_eq!(
            sample(&text, r#"pricegraph_price_resolutions_total{source="price_list"}"#),
            0.0
        );
        let offers = |kind: &str| {
            sample(
                &text,
                &format!(r#"pricegraph_cache_{kind}_total{{tier="process",layer="offers"}}"#),
            )
        };
        assert_eq!(offers("misses"), 2.0, "the first request reads both offers");
        assert_eq!(offers("hits"), 2.0, "the second finds them cached");
        // What each layer holds now, and its estimated bytes.
        let held = |metric: &str| sample(&text, &format!(r#"{metric}{{tier="process",layer="offers"}}"#));
        assert_eq!(held("pricegraph_cache_entries"), 2.0, "{text}");
        let bytes = held("pricegraph_cache_bytes");
        assert!((500.0..10_000.0).contains(&bytes), "two small offers: {bytes} bytes");
    })
    .await;
}

#[tokio::test]
async fn labels_stay_bounded_and_hold_no_ids() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let mug = product(&app, "MUG-1", json!({})).await;
    for n in 0..(pricegraph::metrics::MAX_OPERATION_NAMES + 50) {
        post(&app, json!({ "query": format!("query Op{n} {{ __typename }}") })).await;
    }
    post(
        &app,
        json!({ "query": format!("query Q{} {{ __typename }}", "x".repeat(500)) }),
    )
    .await;
    app.request(
        Request::get(format!("/admin/pricing/customer-groups/{mug}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    app.request(
        Request::get(format!("/nowhere/{mug}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    let text = scrape(&app).await;
    let names: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("pricegraph_graphql_operations_total"))
        .filter_map(|l| l.split("operation=\"").nth(1)?.split('"').next())
        .collect();
    // The first names, then `other` (and the fixtures' anonymous mutations).
    assert_eq!(names.len(), pricegraph::metrics::MAX_OPERATION_NAMES + 2);
    assert!(names.contains("other") && names.contains("anonymous") && names.contains("Op0"));
    assert!(!names.contains(&*format!("Op{}", pricegraph::metrics::MAX_OPERATION_NAMES)));
    assert!(!text.contains(&mug), "no id in any label");
    assert!(text.contains(r#"route="/admin""#) && text.contains(r#"route="other""#));
    app.cleanup().await;
}
