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

#[tokio::test]
async fn price_resolution_runs_the_same_statements_for_10_and_1000_items() {
    on_each_backend(|app| async move {
        world(&app, 1).await;
        let shopper = app.data("{ customers(first: 1) { edges { node { id } } } }", json!({})).await;
        let shopper = shopper["customers"]["edges"][0]["node"]["id"].clone();
        let mut products = Vec::new();
        for n in 0..100 {
            products.push(crate::fixtures::product(&app, &format!("P{n}"), json!({})).await);
        }
        let base: Vec<_> = products.iter().map(|p| json!({ "productId": p, "currency": "USD", "amount": "10.00" })).collect();
        app.mutate("upsertBasePrices", crate::fixtures::UPSERT_BASE_PRICES, json!({ "input": { "prices": base } })).await;

        let batch = "query($input: ResolvePricesInput!) { resolvePrices(input: $input) { amount { amount } source } }";
        let items = |n: usize| -> Vec<serde_json::Value> {
            (0..n).map(|i| json!({ "productId": products[i % products.len()], "quantity": 1 + i % 7 })).collect()
        };
        let mut counts = Vec::new();
        for n in [10, 1000] {
            let variables = json!({ "input": { "customerId": shopper, "currency": "USD", "items": items(n) } });
            let (count, data) = app.count_statements(app.data(batch, variables)).await;
            assert_eq!(data["resolvePrices"].as_array().map(Vec::len), Some(n));
            assert_eq!(data["resolvePrices"][n - 1]["amount"]["amount"], "10.00");
            counts.push(count);
        }
        assert_eq!(counts[0], counts[1], "resolvePrices statements must not grow with the items");
        assert!(counts[1] <= 3, "shopper, products, prices: {} statements", counts[1]);

        let page = "query($first: Int, $c: ID) { products(first: $first) { edges { node { sku
            resolvedPrice(customerId: $c, currency: \"USD\", quantity: 3) { amount { amount } source priceList { name } customerGroup { name } } } } } }";
        let mut counts = Vec::new();
        for first in [5, 100] {
            let (count, data) = app.count_statements(app.data(page, json!({ "first": first, "c": shopper }))).await;
            let edges = data["products"]["edges"].as_array().expect("edges");
            assert_eq!(edges.len(), first);
            assert!(edges.iter().all(|e| e["node"]["resolvedPrice"]["source"] == "BASE"));
            counts.push(count);
        }
        assert_eq!(counts[0], counts[1], "Product.resolvedPrice statements must not grow with the page");
        assert!(counts[1] <= 3, "page, shopper, prices: {} statements", counts[1]);
    })
    .await;
}

/// Relations that pricing reads too — a customer's groups and their price
/// lists, its organization and type group — come from the cache when warm:
/// a customer's tree runs no SQL at all, nor does a page of customers (its
/// `totalCount` is still counted).
#[tokio::test]
async fn warm_relational_reads_run_no_sql() {
    on_each_backend(|app| async move {
        world(&app, 50).await;
        let first = app.data("{ customers(first: 1) { nodes { id } } }", json!({})).await;
        let shopper = first["customers"]["nodes"][0]["id"].clone();

        let tree = "query($c: ID!) { customer(id: $c) { groups { name
            priceLists { priority priceList { id name } } } } }";
        let (cold, data) = app.count_statements(app.data(tree, json!({ "c": shopper }))).await;
        assert_eq!(
            cold, 5,
            "the customer, its entry, its groups' rows, their entries, the lists' rows"
        );
        let (warm, again) = app.count_warm_statements(app.data(tree, json!({ "c": shopper }))).await;
        assert_eq!(warm, 0, "{again}");
        assert_eq!(again, data);
        let groups = &data["customer"]["groups"];
        assert_eq!(
            (&groups[0]["name"], &groups[1]["name"]),
            (&json!("Staff"), &json!("VIP"))
        );
        let links: Vec<_> = groups[1]["priceLists"]
            .as_array()
            .expect("links")
            .iter()
            .map(|l| (l["priority"].clone(), l["priceList"]["name"].clone()))
            .collect();
        assert_eq!(links, [(json!(1), json!("VIP 1")), (json!(2), json!("VIP 2"))]);

        let page = "query($first: Int) { customers(first: $first) { nodes {
            groups { name } organization { name } typeGroup { name } } } }";
        let counted = "query($first: Int) { customers(first: $first) { totalCount nodes {
            groups { name } organization { name } typeGroup { name } } } }";
        let mut colds = Vec::new();
        for first in [5, 50] {
            let (cold, data) = app.count_statements(app.data(page, json!({ "first": first }))).await;
            let nodes = data["customers"]["nodes"].as_array().expect("nodes");
            assert_eq!(nodes.len(), first);
            colds.push(cold);
            let (warm, again) = app
                .count_warm_statements(app.data(page, json!({ "first": first })))
                .await;
            assert_eq!(warm, 0, "the page is cached too");
            assert_eq!(again, data);
            let node = &again["customers"]["nodes"][first - 1];
            assert_eq!(node["groups"], json!([{ "name": "Staff" }, { "name": "VIP" }]));
            assert_eq!(node["organization"]["name"], "Acme");
            assert_eq!(node["typeGroup"]["name"], "Retail");
            let (warm, _) = app
                .count_warm_statements(app.data(counted, json!({ "first": first })))
                .await;
            assert_eq!(warm, 1, "the count");
        }
        assert_eq!(colds[0], colds[1], "cold statements must not grow with the page");
        assert_eq!(
            colds[1], 5,
            "the page, the customers' entries, and the rows of groups, type groups, organizations"
        );
    })
    .await;
}

/// A page of products with prices reads its shopper beside the page (the
/// two do not depend on each other), once: with the cache off it is still
/// the page, the shopper and the prices, whatever the page size; a shopper
/// that cannot be read is reported at each price as before.
#[tokio::test]
async fn a_priced_page_reads_its_shopper_once_beside_the_page() {
    on_each_backend(|app| async move {
        world(&app, 1).await;
        let first = app.data("{ customers(first: 1) { nodes { id } } }", json!({})).await;
        let shopper = first["customers"]["nodes"][0]["id"].clone();
        for n in 0..20 {
            crate::fixtures::product(&app, &format!("P{n}"), json!({})).await;
        }
        let cold = app.uncached().await;
        let page = "query($first: Int, $c: ID) { products(first: $first) { nodes { sku
            resolvedPrice(customerId: $c, currency: \"USD\") { source } } } }";
        for first in [2, 20] {
            let (count, data) = cold
                .count_statements(cold.data(page, json!({ "first": first, "c": shopper })))
                .await;
            assert_eq!(count, 3, "page, shopper, prices: {data}");
            assert_eq!(data["products"]["nodes"][first - 1]["resolvedPrice"]["source"], "NONE");
        }
        let (count, _) = cold
            .count_statements(cold.data(page, json!({ "first": 20, "c": null })))
            .await;
        assert!(count <= 3, "an anonymous shopper too: {count}");

        let nobody = uuid::Uuid::now_v7().to_string();
        let body = cold.graphql(page, json!({ "first": 2, "c": nobody })).await;
        let errors = body["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 2, "{body}");
        assert!(errors.iter().all(|e| e["extensions"]["code"] == "NOT_FOUND"), "{body}");
        assert_eq!(body["data"]["products"]["nodes"][0]["sku"], "P0");
        assert_eq!(body["data"]["products"]["nodes"][0]["resolvedPrice"], json!(null));
    })
    .await;
}
