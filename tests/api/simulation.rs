//! The price simulator (docs/api.md#simulate-prices): what a shopper in
//! exactly these groups, or this organization, would pay at an instant,
//! with the same walk and explanations as a real customer's price, and
//! nothing written.

use pricegraph::http::HttpOptions;
use serde_json::{Value, json};

use crate::fixtures::{
    add_customers, base_price, create_group, customer, link_price_list, list_price, organization, price_list,
    pricing_group, product, write,
};
use crate::helpers::{TestApp, id, on_each_backend};
use crate::security::{SHOP_KEY, auth, post};

const SIMULATE: &str = "query($input: SimulatePricesInput!) { simulatePrices(input: $input) {
    amount { amount } source priceList { name } customerGroup { name }
    explanation { priceList { name } outcome } } }";

struct World {
    chair: String,
    vip: String,
    wholesale: String,
    trade: String,
    acme: String,
    ann: String,
}

/// Chair at 100. VIP: an override at 80 (priority 1). Wholesale: a sale at
/// 90 (priority 2), and a sale at 60 that starts in a week. Acme's group
/// Trade: an override at 70. Ann is in Wholesale, with no organization.
async fn world(app: &TestApp) -> World {
    let chair = product(app, "CHAIR", json!({})).await;
    base_price(app, &chair, 1, "100.00").await;
    let vip = pricing_group(app, "VIP").await;
    let wholesale = pricing_group(app, "Wholesale").await;
    let trade = pricing_group(app, "Trade").await;
    for (group, name, kind, amount, priority, starts) in [
        (&vip, "VIP prices", "OVERRIDE", "80.00", 1, None),
        (&wholesale, "Wholesale sale", "SALE", "90.00", 2, None),
        (&wholesale, "Next week's sale", "SALE", "60.00", 1, Some(in_days(7))),
        (&trade, "Trade prices", "OVERRIDE", "70.00", 1, None),
    ] {
        let list = price_list(app, name, json!({ "type": kind, "startsAt": starts })).await;
        list_price(app, &list, &chair, amount).await;
        link_price_list(app, group, &list, priority).await;
    }
    let acme = organization(app, "Acme", json!({})).await;
    write(
        app,
        "setOrganizationGroups",
        json!({ "organizationId": acme, "groupIds": [trade] }),
    )
    .await;
    let ann = customer(app, "ann@example.com", json!({})).await;
    add_customers(app, &wholesale, &[&ann]).await;
    World {
        chair,
        vip,
        wholesale,
        trade,
        acme,
        ann,
    }
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

async fn simulate(app: &TestApp, who: Value, chair: &str) -> Value {
    let mut input = json!({ "currency": "USD", "items": [{ "productId": chair }] });
    input
        .as_object_mut()
        .expect("an object")
        .extend(who.as_object().expect("an object").clone());
    app.data(SIMULATE, json!({ "input": input })).await["simulatePrices"][0].clone()
}

fn amount(answer: &Value) -> &str {
    answer["amount"]["amount"].as_str().unwrap_or("none")
}

#[tokio::test]
async fn a_shopper_is_priced_as_if_in_those_groups_or_that_organization() {
    on_each_backend(|app| async move {
        let w = world(&app).await;
        let table = [
            ("nobody: Everyone only", json!({}), "100.00"),
            ("no groups", json!({ "groupIds": [] }), "100.00"),
            ("VIP", json!({ "groupIds": [w.vip] }), "80.00"),
            ("Wholesale", json!({ "groupIds": [w.wholesale] }), "90.00"),
            (
                "VIP and Wholesale: priority",
                json!({ "groupIds": [w.wholesale, w.vip] }),
                "80.00",
            ),
            (
                "next week in Wholesale",
                json!({ "groupIds": [w.wholesale], "at": in_days(8) }),
                "60.00",
            ),
            (
                "Acme: its group replaces the own",
                json!({ "organizationId": w.acme, "groupIds": [w.vip] }),
                "70.00",
            ),
            ("Ann as she is", json!({ "customerId": w.ann }), "90.00"),
            (
                "Ann at Acme",
                json!({ "customerId": w.ann, "organizationId": w.acme }),
                "70.00",
            ),
        ];
        for (case, who, expected) in &table {
            let answer = simulate(&app, who.clone(), &w.chair).await;
            assert_eq!(amount(&answer), *expected, "{case}: {answer}");
        }
        // Trade inactive: Acme has no active group, so the own ones count.
        write(&app, "updateCustomerGroup", json!({ "id": w.trade, "isActive": false })).await;
        let answer = simulate(&app, json!({ "organizationId": w.acme, "groupIds": [w.vip] }), &w.chair).await;
        assert_eq!(amount(&answer), "80.00", "{answer}");
    })
    .await;
}

/// A simulated shopper gets exactly what a real customer in the same
/// groups gets, explanation included; and nothing is written or counted.
#[tokio::test]
async fn a_simulation_answers_as_a_real_customer_would_and_writes_nothing() {
    on_each_backend(|app| async move {
        let w = world(&app).await;
        let bob = customer(&app, "bob@example.com", json!({})).await;
        add_customers(&app, &w.vip, &[&bob]).await;
        add_customers(&app, &w.wholesale, &[&bob]).await;
        let real = app
            .data(
                "query($c: ID, $p: ID!) { resolvePrices(input: { customerId: $c, currency: \"USD\", items: [{ productId: $p }] }) {
                    amount { amount } source priceList { name } customerGroup { name } explanation { priceList { name } outcome } } }",
                json!({ "c": bob, "p": w.chair }),
            )
            .await["resolvePrices"][0]
            .clone();
        let counts = "{ customers(first: 1) { totalCount } customerGroups(first: 1) { totalCount } priceLists(first: 1) { totalCount } }";
        let before = app.data(counts, json!({})).await;
        let metrics_before = resolved_count(&app).await;
        assert!(metrics_before >= 1.0, "the real customer's price was counted");
        let imagined = simulate(&app, json!({ "groupIds": [w.vip, w.wholesale] }), &w.chair).await;
        assert_eq!(imagined, real);
        assert_eq!(app.data(counts, json!({})).await, before, "nothing written");
        assert_eq!(resolved_count(&app).await, metrics_before, "a simulation prices nobody");
        // Ann's own price is what it was.
        let answer = simulate(&app, json!({ "customerId": w.ann }), &w.chair).await;
        assert_eq!(amount(&answer), "90.00");
    })
    .await;
}

/// Prices resolved so far, as `/metrics` counts them.
async fn resolved_count(app: &TestApp) -> f64 {
    let request = axum::http::Request::get("/metrics")
        .body(axum::body::Body::empty())
        .expect("a request");
    let (_, _, body) = app.raw(request).await;
    String::from_utf8_lossy(&body)
        .lines()
        .filter(|line| line.starts_with("pricegraph_price_resolutions"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn bad_simulations_are_errors_naming_the_field() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let w = world(&app).await;
    let gold = id(&create_group(&app, json!({ "name": "Gold", "kind": "TYPE" })).await);
    let nobody = "00000000-0000-4000-8000-000000000000";
    let cases = [
        (
            json!({ "customerId": w.ann, "groupIds": [w.vip] }),
            "BAD_USER_INPUT",
            "INVALID",
            "groupIds",
        ),
        (
            json!({ "groupIds": [w.vip, gold] }),
            "BAD_USER_INPUT",
            "WRONG_GROUP_KIND",
            "groupIds.1",
        ),
        (json!({ "groupIds": [nobody] }), "NOT_FOUND", "NOT_FOUND", "groupIds.0"),
        (json!({ "groupIds": ["x"] }), "NOT_FOUND", "NOT_FOUND", "groupIds.0"),
        (
            json!({ "organizationId": nobody }),
            "NOT_FOUND",
            "NOT_FOUND",
            "organizationId",
        ),
        (json!({ "customerId": nobody }), "NOT_FOUND", "NOT_FOUND", "customerId"),
        (
            json!({ "groupIds": vec![w.vip.clone(); 101] }),
            "BAD_USER_INPUT",
            "TOO_MANY",
            "groupIds",
        ),
    ];
    for (who, code, reason, field) in cases {
        let mut input = json!({ "currency": "USD", "items": [{ "productId": w.chair }] });
        input
            .as_object_mut()
            .expect("an object")
            .extend(who.as_object().expect("an object").clone());
        let body = app.graphql(SIMULATE, json!({ "input": input })).await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], code, "{who}: {body}");
        assert_eq!(error["extensions"]["reason"], reason, "{who}: {body}");
        assert_eq!(error["extensions"]["field"], field, "{who}: {body}");
    }
    // An unknown product is named as in resolvePrices.
    let input =
        json!({ "currency": "USD", "groupIds": [w.vip], "items": [{ "productId": w.chair }, { "productId": nobody }] });
    let body = app.graphql(SIMULATE, json!({ "input": input })).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "items.1.productId", "{body}");

    // Admin only.
    let served = app.served_with(auth(), HttpOptions::default());
    let input = json!({ "currency": "USD", "items": [{ "productId": w.chair }] });
    let response = post(&served, Some(SHOP_KEY), SIMULATE, json!({ "input": input })).await;
    assert_eq!(
        response.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{}",
        response.body
    );
}
