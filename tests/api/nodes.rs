//! Object identification and spec-shaped partial results
//! (docs/api.md#object-identification, docs/api.md#nulls-and-errors):
//! `node`/`nodes` for every type with an id, through HTTP, with the access
//! rules of each type's root field; unknown ids `null` without an error;
//! failing fields `null` at their key, non-null failures reaching the
//! nearest nullable ancestor.

use pricegraph::http::HttpOptions;
use serde_json::{Value, json};

use crate::fixtures::{
    add_customers, base_price, customer, link_price_list, list_price, price_list, pricing_group, product, product_line,
};
use crate::helpers::{TestApp, on_each_backend};
use crate::security::{SHOP_KEY, auth, customer_token, post};

const NOBODY: &str = "00000000-0000-4000-8000-000000000000";

/// One object of every type with an id: (typename, id).
async fn one_of_each(app: &TestApp) -> Vec<(&'static str, String)> {
    let line = product_line(app, "Chairs").await;
    let chair = product(app, "CHAIR", json!({ "productLineId": line })).await;
    base_price(app, &chair, 1, "100.00").await;
    let ann = customer(app, "ann@example.com", json!({})).await;
    let vip = pricing_group(app, "VIP").await;
    add_customers(app, &vip, &[&ann]).await;
    let list = price_list(app, "VIP prices", json!({ "type": "OVERRIDE" })).await;
    list_price(app, &list, &chair, "80.00").await;
    link_price_list(app, &vip, &list, 1).await;
    let acme = crate::fixtures::organization(app, "Acme", json!({})).await;
    let ids = app
        .data(
            "query($p: ID!, $l: ID!) { product(id: $p) { basePrices { id } } priceList(id: $l) { prices(first: 1) { edges { node { id } } } } }",
            json!({ "p": chair, "l": list }),
        )
        .await;
    let base = ids["product"]["basePrices"][0]["id"]
        .as_str()
        .expect("a base price")
        .to_owned();
    let price = ids["priceList"]["prices"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("a price")
        .to_owned();
    vec![
        ("Customer", ann),
        ("CustomerGroup", vip),
        ("Organization", acme),
        ("PriceList", list),
        ("Price", price),
        ("Product", chair),
        ("ProductLine", line),
        ("BasePrice", base),
    ]
}

#[tokio::test]
async fn every_object_with_an_id_refetches_by_node_and_nodes() {
    on_each_backend(|app| async move {
        let objects = one_of_each(&app).await;
        for (typename, id) in &objects {
            let body = app.graphql("query($id: ID!) { node(id: $id) { __typename id } }", json!({ "id": id })).await;
            assert_eq!(body, json!({ "data": { "node": { "__typename": typename, "id": id } } }), "{typename}");
        }
        // Every type, an unknown id and a repeat, in the order asked.
        let mut ids: Vec<&str> = objects.iter().map(|(_, id)| id.as_str()).collect();
        ids.insert(3, NOBODY);
        ids.push(&objects[0].1);
        let body = app.graphql("query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", json!({ "ids": ids })).await;
        assert!(body.get("errors").is_none(), "{body}");
        let got: Vec<Value> = body["data"]["nodes"].as_array().expect("a list").clone();
        assert_eq!(got.len(), ids.len());
        for (got, asked) in got.iter().zip(&ids) {
            match objects.iter().find(|(_, id)| id == asked) {
                Some((typename, id)) => assert_eq!(got, &json!({ "__typename": typename, "id": id })),
                None => assert_eq!(got, &Value::Null, "an unknown id is null"),
            }
        }
        // Fields of the concrete type through fragments.
        let body = app
            .data(
                "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { email groups { name } } ... on Product { sku } } }",
                json!({ "ids": [objects[0].1, objects[5].1] }),
            )
            .await;
        assert_eq!(
            body,
            json!({ "nodes": [{ "email": "ann@example.com", "groups": [{ "name": "VIP" }] }, { "sku": "CHAIR" }] })
        );
    })
    .await;
}

#[tokio::test]
async fn a_page_of_ids_costs_the_statements_of_a_few() {
    on_each_backend(|app| async move {
        let mut products = Vec::new();
        for n in 0..40 {
            products.push(product(&app, &format!("SKU-{n}"), json!({})).await);
        }
        let mut customers = Vec::new();
        for n in 0..40 {
            customers.push(customer(&app, &format!("c{n}@example.com"), json!({})).await);
        }
        let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Product { sku } ... on Customer { email } } }";
        let mut counts = Vec::new();
        for size in [2, 40] {
            let ids: Vec<&String> = products.iter().take(size).chain(customers.iter().take(size)).collect();
            let (count, data) = app.count_statements(app.data(query, json!({ "ids": ids }))).await;
            assert_eq!(data["nodes"].as_array().map(Vec::len), Some(2 * size));
            counts.push(count);
        }
        assert_eq!(counts[0], counts[1], "statements must not grow with the ids");
        assert!(
            counts[1] <= 3,
            "kinds, then one per type present: {} statements",
            counts[1]
        );
    })
    .await;
}

#[tokio::test]
async fn bad_ids_are_coded_errors_naming_the_argument() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let chair = product(&app, "CHAIR", json!({})).await;
    let cases = [
        ("{ node(id: \"not-an-id\") { id } }", json!({ "node": null }), "id"),
        ("{ product(id: \"42\") { id } }", json!({ "product": null }), "id"),
        ("{ customer(id: \"\") { id } }", json!({ "customer": null }), "id"),
    ];
    for (query, data, field) in cases {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(body["data"], data, "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .expect("a string")
                .contains("must be an id"),
            "{body}"
        );
    }
    // `nodes` is a non-null list: a malformed id fails it, and `data` with it.
    let body = app
        .graphql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [chair, "x"] }),
        )
        .await;
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "ids[1]", "{body}");
    let many: Vec<String> = (0..101).map(|_| NOBODY.to_owned()).collect();
    let body = app
        .graphql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": many }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("a string")
            .contains("at most 100"),
        "{body}"
    );
}

#[tokio::test]
async fn node_opens_nothing_the_root_fields_keep_closed() {
    let open = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let objects = one_of_each(&open).await;
    let other = customer(&open, "other@example.com", json!({})).await;
    let app = open.served_with(auth(), HttpOptions::default());
    let id_of = |typename: &str| {
        objects
            .iter()
            .find(|(t, _)| *t == typename)
            .map(|(_, id)| id.clone())
            .expect("one of each")
    };
    let ann = id_of("Customer");
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";

    // A storefront key reads the catalog, nothing else.
    let ids: Vec<String> = objects.iter().map(|(_, id)| id.clone()).collect();
    let response = post(&app, Some(SHOP_KEY), query, json!({ "ids": ids })).await;
    let nodes = response.body["data"]["nodes"].as_array().expect("nodes").clone();
    for ((typename, _), got) in objects.iter().zip(&nodes) {
        let readable = matches!(*typename, "Product" | "ProductLine" | "BasePrice");
        assert_eq!(got.is_null(), !readable, "storefront × {typename}: {}", response.body);
    }
    let errors = response.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 5, "{}", response.body);
    for error in errors {
        assert_eq!(error["extensions"]["code"], "FORBIDDEN");
        assert_eq!(error["path"][0], "nodes");
        let index = error["path"][1].as_u64().expect("an index") as usize;
        assert!(nodes[index].is_null());
    }

    // A customer token reads itself, not another customer.
    let token = customer_token(&ann);
    let mine = post(
        &app,
        Some(&token),
        "query($id: ID!) { node(id: $id) { id } }",
        json!({ "id": ann }),
    )
    .await;
    assert_eq!(mine.body, json!({ "data": { "node": { "id": ann } } }));
    let theirs = post(
        &app,
        Some(&token),
        "query($id: ID!) { node(id: $id) { id } }",
        json!({ "id": other }),
    )
    .await;
    assert_eq!(theirs.body["data"], json!({ "node": null }), "{}", theirs.body);
    assert_eq!(theirs.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(theirs.body["errors"][0]["path"], json!(["node"]));
}

/// The GraphQL spec's §6.4.4: a failed field is `null` at its key (present),
/// its error's `path` names it, a failed non-null field makes its nearest
/// nullable ancestor `null`, and the rest of the response stands.
#[tokio::test]
async fn failing_fields_are_null_at_their_key_and_the_rest_stands() {
    let open = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let objects = one_of_each(&open).await;
    let chair = objects[5].1.clone();
    let ann = objects[0].1.clone();

    // An unknown id: null, no error; the sibling stands.
    let body = open
        .graphql(
            "query($p: ID!) { a: customerGroup(id: \"00000000-0000-4000-8000-000000000000\") { id } b: product(id: $p) { sku } }",
            json!({ "p": chair }),
        )
        .await;
    assert_eq!(body, json!({ "data": { "a": null, "b": { "sku": "CHAIR" } } }));

    // A failing nullable field: null at its key, error with its path.
    let body = open
        .graphql(
            "query($p: ID!) { product(id: $p) { sku resolvedPrice(customerId: \"00000000-0000-4000-8000-000000000000\", currency: \"USD\") { amount { amount } } } }",
            json!({ "p": chair }),
        )
        .await;
    assert_eq!(
        body["data"],
        json!({ "product": { "sku": "CHAIR", "resolvedPrice": null } }),
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(body["errors"][0]["path"], json!(["product", "resolvedPrice"]));
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));

    // A failing non-null field (`PriceList.customerGroups`, closed to the
    // storefront) nulls its nullable parent (`ResolvedPrice.priceList`).
    let app = open.served_with(auth(), HttpOptions::default());
    let query = "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") {
        amount { amount } priceList { name customerGroups { priority } } } }";
    let response = post(&app, Some(SHOP_KEY), query, json!({ "c": ann, "p": chair })).await;
    assert_eq!(
        response.body["data"],
        json!({ "resolvedPrice": { "amount": { "amount": "80.00" }, "priceList": null } }),
        "{}",
        response.body
    );
    assert_eq!(response.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        response.body["errors"][0]["path"],
        json!(["resolvedPrice", "priceList", "customerGroups"])
    );
    assert_eq!(response.body["errors"].as_array().map(Vec::len), Some(1));

    // A refused root field beside an allowed one: null at its key.
    let response = post(
        &app,
        Some(SHOP_KEY),
        "{ products(first: 1) { totalCount } customers(first: 1) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        response.body["data"],
        json!({ "products": { "totalCount": 1 }, "customers": null }),
        "{}",
        response.body
    );
    assert_eq!(response.body["errors"][0]["path"], json!(["customers"]));
}
