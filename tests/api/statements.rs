//! SQL statements per request must not grow with the size of the result:
//! every relation loads through a DataLoader, one statement per level.

use serde_json::json;

use crate::fixtures::{customer, link_price_list, organization, price_list, pricing_group, type_group};
use crate::helpers::{TestApp, on_each_backend};

/// Customers in a type group and an organization, each in two pricing groups
/// that carry two price lists each.
async fn world(app: &TestApp, customers: usize) {
    let retail = type_group(app, "Retail").await;
    let acme = organization(app, "Acme", json!({})).await;
    let mut groups = Vec::new();
    for name in ["VIP", "Staff"] {
        let group = pricing_group(app, name).await;
        for priority in [1, 2] {
            let list = price_list(app, &format!("{name} {priority}"), json!({})).await;
            link_price_list(app, &group, &list, priority).await;
        }
        groups.push(group);
    }
    let mut ids = Vec::new();
    for n in 0..customers {
        ids.push(
            customer(
                app,
                &format!("c{n}@example.com"),
                json!({ "typeGroupId": retail, "organizationId": acme }),
            )
            .await,
        );
    }
    for group in &groups {
        app.mutate(
            "addCustomersToGroup",
            "mutation($input: GroupCustomersInput!) { addCustomersToGroup(input: $input) { userErrors { code } } }",
            json!({ "input": { "groupId": group, "customerIds": ids } }),
        )
        .await;
    }
}

async fn statements_for(app: &TestApp, query: &str, first: usize, expected_nodes: usize) -> u64 {
    let (count, data) = app.count_statements(app.data(query, json!({ "first": first }))).await;
    let edges = data
        .as_object()
        .and_then(|o| o.values().next())
        .map(|c| c["edges"].as_array().map_or(0, Vec::len));
    assert_eq!(edges, Some(expected_nodes), "{data}");
    count
}

#[tokio::test]
async fn the_customers_tree_runs_the_same_few_statements_for_5_and_50_customers() {
    on_each_backend(|app| async move {
        world(&app, 50).await;
        let query = "query($first: Int) { customers(first: $first) { edges { node {
            groups { priceLists { priority priceList { name } } } organization { name } typeGroup { name } } } } }";
        let small = statements_for(&app, query, 5, 5).await;
        let large = statements_for(&app, query, 50, 50).await;
        assert_eq!(small, large, "statements must not grow with the page");
        assert!(large <= 8, "{large} statements");
        let data = app.data(query, json!({ "first": 1 })).await;
        let node = &data["customers"]["edges"][0]["node"];
        assert_eq!(node["groups"].as_array().map(Vec::len), Some(2));
        assert_eq!(node["groups"][0]["priceLists"].as_array().map(Vec::len), Some(2));
        assert_eq!(node["organization"]["name"], "Acme");

        let flat = "query($first: Int) { customers(first: $first) { edges { node { id email groups { name } } } } }";
        let small = statements_for(&app, flat, 5, 5).await;
        let large = statements_for(&app, flat, 50, 50).await;
        assert_eq!(small, large);
        assert!(large <= 3, "{large} statements");
    })
    .await;
}

#[tokio::test]
async fn nested_connections_are_batched_too() {
    on_each_backend(|app| async move {
        world(&app, 12).await;
        for n in 0..10 {
            let group = pricing_group(&app, &format!("Extra {n}")).await;
            let list = price_list(&app, &format!("Extra list {n}"), json!({})).await;
            link_price_list(&app, &group, &list, n).await;
        }
        let query = "query($first: Int) { customerGroups(first: $first) { edges { node {
            customers(first: 3) { totalCount edges { node { email } } } priceLists { priceList { prices(first: 5) { totalCount } } } } } } }";
        // Default and Retail (TYPE), Everyone, then PRICING groups: every
        // kind of owner is on both pages.
        let small = statements_for(&app, query, 4, 4).await;
        let large = statements_for(&app, query, 15, 15).await;
        assert_eq!(small, large, "statements must not grow with the number of parents");
        let data = app.data(query, json!({ "first": 4 })).await;
        let totals: Vec<_> = data["customerGroups"]["edges"].as_array().expect("edges").iter().map(|e| e["node"]["customers"]["totalCount"].clone()).collect();
        assert_eq!(totals, [json!(0), json!(12), json!(12), json!(12)], "Default, Everyone, VIP, Staff");
    })
    .await;
}
