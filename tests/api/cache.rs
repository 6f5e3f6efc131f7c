//! The read cache never shows a price that an acknowledged write replaced:
//! after every kind of write that changes what a shopper pays, the next
//! request (through `resolvedPrice` and through a page of products) sees it.

use serde_json::{Value, json};

use crate::fixtures::{
    add_customers, base_price, customer, link_price_list, list_price, organization, price_list, pricing_group, product,
    product_line, write,
};
use crate::helpers::{TestApp, on_each_backend};

/// What `customer` pays for `sku` as (amount, source), asked both ways; the
/// two must agree.
async fn pays(app: &TestApp, customer: &str, product: &str) -> (Value, Value) {
    let single = app
        .data(
            "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") {
                amount { amount } source } }",
            json!({ "c": customer, "p": product }),
        )
        .await;
    let page = app
        .data(
            "query($c: ID) { products(first: 100) { edges { node { id
                resolvedPrice(customerId: $c, currency: \"USD\") { amount { amount } source } } } } }",
            json!({ "c": customer }),
        )
        .await;
    let single = &single["resolvedPrice"];
    let on_page = page["products"]["edges"]
        .as_array()
        .and_then(|edges| edges.iter().find(|e| e["node"]["id"] == product))
        .map(|e| e["node"]["resolvedPrice"].clone())
        .unwrap_or_else(|| panic!("{product} is not on the page: {page}"));
    assert_eq!(single, &on_page, "resolvedPrice and Product.resolvedPrice disagree");
    (single["amount"]["amount"].clone(), single["source"].clone())
}

fn price(amount: &str, source: &str) -> (Value, Value) {
    (json!(amount), json!(source))
}

#[tokio::test]
async fn every_kind_of_write_shows_on_the_next_request() {
    on_each_backend(|app| async move {
        let chair = product(&app, "CHAIR", json!({})).await;
        base_price(&app, &chair, 1, "100.00").await;
        let shopper = customer(&app, "shopper@example.com", json!({})).await;
        let vip = pricing_group(&app, "VIP").await;
        let vip_list = price_list(&app, "VIP prices", json!({ "type": "OVERRIDE" })).await;
        list_price(&app, &vip_list, &chair, "80.00").await;
        link_price_list(&app, &vip, &vip_list, 1).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("100.00", "BASE"));

        // Memberships.
        add_customers(&app, &vip, &[&shopper]).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("80.00", "PRICE_LIST"));

        // A list's status.
        write(&app, "updatePriceList", json!({ "id": vip_list, "status": "DRAFT" })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("100.00", "BASE"));
        write(&app, "updatePriceList", json!({ "id": vip_list, "status": "ACTIVE" })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("80.00", "PRICE_LIST"));

        // A list's window.
        write(
            &app,
            "updatePriceList",
            json!({ "id": vip_list, "endsAt": "2001-01-01T00:00:00Z" }),
        )
        .await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("100.00", "BASE"));
        write(&app, "updatePriceList", json!({ "id": vip_list, "endsAt": null })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("80.00", "PRICE_LIST"));

        // List prices.
        list_price(&app, &vip_list, &chair, "70.00").await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("70.00", "PRICE_LIST"));
        let key = json!([{ "productId": chair, "currency": "USD", "minQuantity": 1 }]);
        write(&app, "deletePrices", json!({ "priceListId": vip_list, "prices": key })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("100.00", "BASE"));
        list_price(&app, &vip_list, &chair, "70.00").await;

        // Base prices.
        base_price(&app, &chair, 1, "90.00").await;
        write(&app, "updatePriceList", json!({ "id": vip_list, "status": "DRAFT" })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("90.00", "BASE"));
        write(&app, "deleteBasePrices", json!({ "prices": key })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, (Value::Null, json!("NONE")));
        base_price(&app, &chair, 1, "100.00").await;
        write(&app, "updatePriceList", json!({ "id": vip_list, "status": "ACTIVE" })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("70.00", "PRICE_LIST"));

        // A group's activity.
        write(&app, "updateCustomerGroup", json!({ "id": vip, "isActive": false })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("100.00", "BASE"));
        write(&app, "updateCustomerGroup", json!({ "id": vip, "isActive": true })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("70.00", "PRICE_LIST"));

        // Links: removed, added, re-prioritized.
        write(
            &app,
            "removePriceListFromGroup",
            json!({ "groupId": vip, "priceListId": vip_list }),
        )
        .await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("100.00", "BASE"));
        link_price_list(&app, &vip, &vip_list, 1).await;
        let promo = price_list(&app, "Promo", json!({ "type": "OVERRIDE" })).await;
        list_price(&app, &promo, &chair, "50.00").await;
        link_price_list(&app, &vip, &promo, 5).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("70.00", "PRICE_LIST"));
        link_price_list(&app, &vip, &promo, 0).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("50.00", "PRICE_LIST"));

        // Organizations: joining one, and its groups changing.
        let trade = pricing_group(&app, "Trade").await;
        let trade_list = price_list(&app, "Trade prices", json!({ "type": "OVERRIDE" })).await;
        list_price(&app, &trade_list, &chair, "40.00").await;
        link_price_list(&app, &trade, &trade_list, 1).await;
        let acme = organization(&app, "Acme", json!({})).await;
        write(
            &app,
            "setOrganizationGroups",
            json!({ "organizationId": acme, "groupIds": [trade] }),
        )
        .await;
        write(&app, "updateCustomer", json!({ "id": shopper, "organizationId": acme })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("40.00", "PRICE_LIST"));
        write(
            &app,
            "setOrganizationGroups",
            json!({ "organizationId": acme, "groupIds": [] }),
        )
        .await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("50.00", "PRICE_LIST"));
        write(
            &app,
            "setOrganizationGroups",
            json!({ "organizationId": acme, "groupIds": [trade] }),
        )
        .await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("40.00", "PRICE_LIST"));
        write(&app, "deleteOrganization", json!({ "id": acme })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("50.00", "PRICE_LIST"));

        // Product lines: a group's restriction, a product changing line, a line deleted.
        let outdoor = product_line(&app, "Outdoor").await;
        let indoor = product_line(&app, "Indoor").await;
        write(&app, "updateProduct", json!({ "id": chair, "productLineId": indoor })).await;
        write(
            &app,
            "setGroupProductLines",
            json!({ "groupId": vip, "productLineIds": [outdoor] }),
        )
        .await;
        assert_eq!(
            pays(&app, &shopper, &chair).await,
            (Value::Null, json!("NOT_ORDERABLE"))
        );
        write(&app, "updateProduct", json!({ "id": chair, "productLineId": outdoor })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("50.00", "PRICE_LIST"));
        write(&app, "updateProduct", json!({ "id": chair, "productLineId": indoor })).await;
        assert_eq!(
            pays(&app, &shopper, &chair).await,
            (Value::Null, json!("NOT_ORDERABLE"))
        );
        write(&app, "deleteProductLine", json!({ "id": outdoor })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("50.00", "PRICE_LIST"));

        // Deleting a list, then the group.
        write(&app, "deletePriceList", json!({ "id": promo })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("70.00", "PRICE_LIST"));
        write(
            &app,
            "removeCustomersFromGroup",
            json!({ "groupId": vip, "customerIds": [shopper] }),
        )
        .await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("100.00", "BASE"));
        add_customers(&app, &vip, &[&shopper]).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("70.00", "PRICE_LIST"));
        write(&app, "deleteCustomerGroup", json!({ "id": vip })).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("100.00", "BASE"));

        // Storewide lists through `Everyone`, for an anonymous shopper too.
        let everyone = app
            .data(
                "{ customerGroups(first: 10, filter: { nameContains: \"Everyone\" }) { edges { node { id } } } }",
                json!({}),
            )
            .await["customerGroups"]["edges"][0]["node"]["id"]
            .as_str()
            .expect("Everyone")
            .to_owned();
        link_price_list(&app, &everyone, &trade_list, 1).await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("40.00", "PRICE_LIST"));
        write(
            &app,
            "updateCustomerGroup",
            json!({ "id": everyone, "isActive": false }),
        )
        .await;
        assert_eq!(pays(&app, &shopper, &chair).await, price("100.00", "BASE"));

        // A deleted customer is not found, cached or not.
        write(&app, "deleteCustomer", json!({ "id": shopper })).await;
        let body = app
            .graphql(
                "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") { source } }",
                json!({ "c": shopper, "p": chair }),
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{body}");
    })
    .await;
}

#[tokio::test]
async fn a_product_page_shows_new_and_changed_products_at_once() {
    on_each_backend(|app| async move {
        let skus = |data: Value| -> Vec<String> {
            data["products"]["edges"]
                .as_array()
                .map(|edges| {
                    edges
                        .iter()
                        .filter_map(|e| e["node"]["sku"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let query = "{ products(first: 10) { edges { node { sku } } } }";
        let first = product(&app, "A-1", json!({})).await;
        assert_eq!(skus(app.data(query, json!({})).await), ["A-1"]);
        product(&app, "B-2", json!({})).await;
        assert_eq!(skus(app.data(query, json!({})).await), ["A-1", "B-2"]);
        write(&app, "updateProduct", json!({ "id": first, "sku": "A-9" })).await;
        assert_eq!(skus(app.data(query, json!({})).await), ["A-9", "B-2"]);
        write(&app, "deleteProduct", json!({ "id": first })).await;
        assert_eq!(skus(app.data(query, json!({})).await), ["B-2"]);
    })
    .await;
}

/// A warm storefront page runs no SQL at all, and a warm `resolvedPrice`
/// only reads its product: nothing about groups, links, lists or prices.
#[tokio::test]
async fn warm_requests_run_no_sql_at_all() {
    on_each_backend(|app| async move {
        let chair = product(&app, "CHAIR", json!({})).await;
        base_price(&app, &chair, 1, "100.00").await;
        let shopper = customer(&app, "shopper@example.com", json!({})).await;
        let vip = pricing_group(&app, "VIP").await;
        let list = price_list(&app, "VIP prices", json!({})).await;
        list_price(&app, &list, &chair, "80.00").await;
        link_price_list(&app, &vip, &list, 1).await;
        add_customers(&app, &vip, &[&shopper]).await;

        let page = "query($c: ID) { products(first: 50) { edges { node { id
            resolvedPrice(customerId: $c, currency: \"USD\") { amount { amount } source } } } } }";
        let (cold, _) = app.count_statements(app.data(page, json!({ "c": shopper }))).await;
        assert_eq!(cold, 3, "page, shopper, prices");
        let (warm, data) = app.count_warm_statements(app.data(page, json!({ "c": shopper }))).await;
        assert_eq!(warm, 0);
        assert_eq!(
            data["products"]["edges"][0]["node"]["resolvedPrice"]["amount"]["amount"],
            "80.00"
        );

        let single = "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") {
            amount { amount } } }";
        let variables = json!({ "c": shopper, "p": chair });
        let (warm, data) = app.count_warm_statements(app.data(single, variables)).await;
        assert_eq!(warm, 0, "the page read the product already");
        assert_eq!(data["resolvedPrice"]["amount"]["amount"], "80.00");

        // What a storefront shows beside a sale price: the list and the
        // group it came through. Warm, still no SQL; renamed, never stale.
        let badge = "query($c: ID) { products(first: 50) { edges { node { id
            resolvedPrice(customerId: $c, currency: \"USD\") { amount { amount } source basePrice { amount }
                tierMinQuantity priceList { id name type } customerGroup { id name } rule { percentOff }
                explanation { outcome priority amount { amount } rule { percentOff }
                    priceList { id name } customerGroup { id name } } } } } } }";
        app.data(badge, json!({ "c": shopper })).await;
        let (warm, data) = app
            .count_warm_statements(app.data(badge, json!({ "c": shopper })))
            .await;
        assert_eq!(warm, 0, "the list's and the group's rows come from the cache");
        let price = &data["products"]["edges"][0]["node"]["resolvedPrice"];
        assert_eq!(price["priceList"]["name"], "VIP prices");
        assert_eq!(price["customerGroup"]["name"], "VIP");
        assert_eq!(price["rule"], Value::Null, "the list's own price applied");
        assert_eq!(
            price["explanation"],
            json!([{ "outcome": "APPLIED", "priority": 1, "amount": { "amount": "80.00" }, "rule": null,
                "priceList": { "id": list, "name": "VIP prices" }, "customerGroup": { "id": vip, "name": "VIP" } }])
        );
        write(&app, "updatePriceList", json!({ "id": list, "name": "VIP deals" })).await;
        write(
            &app,
            "updateCustomerGroup",
            json!({ "id": vip, "name": "Very Important" }),
        )
        .await;
        let data = app.data(badge, json!({ "c": shopper })).await;
        let price = &data["products"]["edges"][0]["node"]["resolvedPrice"];
        assert_eq!(price["priceList"]["name"], "VIP deals");
        assert_eq!(price["customerGroup"]["name"], "Very Important");
        assert_eq!(price["explanation"][0]["priceList"]["name"], "VIP deals");
        assert_eq!(price["explanation"][0]["customerGroup"]["name"], "Very Important");

        // A derived list's rule, warm too.
        let derived = price_list(&app, "Staff discount", json!({ "rule": { "percentOff": "12.5" } })).await;
        link_price_list(&app, &vip, &derived, 0).await;
        app.data(badge, json!({ "c": shopper })).await;
        let (warm, data) = app
            .count_warm_statements(app.data(badge, json!({ "c": shopper })))
            .await;
        assert_eq!(warm, 0, "a rule and an explanation come from the cache: {data}");
        let price = &data["products"]["edges"][0]["node"]["resolvedPrice"];
        assert_eq!(price["rule"]["percentOff"], "12.5");
        assert_eq!(price["amount"]["amount"], "87.50");
        assert_eq!(price["explanation"][0]["rule"]["percentOff"], "12.5");
        assert_eq!(price["explanation"][0]["priceList"]["name"], "Staff discount");
    })
    .await;
}

/// Twenty shoppers' requests arriving together on a cold cache share one
/// read of each kind (single flight): 3 statements in all, not 60.
#[tokio::test]
async fn concurrent_cold_requests_share_one_load() {
    on_each_backend(|app| async move {
        let chair = product(&app, "CHAIR", json!({})).await;
        base_price(&app, &chair, 1, "100.00").await;
        let shopper = customer(&app, "shopper@example.com", json!({})).await;
        let page = "query($c: ID) { products(first: 50) { edges { node { id
            resolvedPrice(customerId: $c, currency: \"USD\") { amount { amount } source } } } } }";
        let requests = (0..20).map(|_| app.data(page, json!({ "c": shopper })));
        let (statements, answers) = app.count_statements(futures_util::future::join_all(requests)).await;
        assert_eq!(statements, 3, "page, shopper and prices, once each");
        for data in answers {
            assert_eq!(
                data["products"]["edges"][0]["node"]["resolvedPrice"]["amount"]["amount"],
                "100.00"
            );
        }
    })
    .await;
}

/// A customer's relations as a storefront or an admin screen shows them:
/// groups with their lists, organization with its groups, type group.
const RELATIONS: &str = "query($c: ID!) { customer(id: $c) { name
    groups { name isActive priceLists { priority priceList { name } } }
    organization { name groups { name isActive priceLists { priority priceList { name } } } }
    typeGroup { name } } }";
/// The same relations for a page of customers.
const RELATIONS_PAGE: &str = "{ customers(first: 10) { nodes { name
    groups { name isActive priceLists { priority priceList { name } } }
    organization { name groups { name } } typeGroup { name } } } }";

/// Checks that `app` answers [`RELATIONS`] and [`RELATIONS_PAGE`] from its
/// cache (no SQL at all), then runs `write` and checks that the
/// next answers are the database's (`truth` has no cache). Returns the
/// customer's relations after the write.
async fn after_write(
    app: &TestApp,
    truth: &TestApp,
    shopper: &str,
    what: &str,
    write: impl std::future::Future<Output = ()>,
) -> Value {
    let variables = json!({ "c": shopper });
    let (warm, _) = app.count_warm_statements(app.data(RELATIONS, variables.clone())).await;
    assert_eq!(warm, 0, "warm before: {what}");
    let (warm, _) = app.count_warm_statements(app.data(RELATIONS_PAGE, json!({}))).await;
    assert_eq!(warm, 0, "warm before (the page too): {what}");
    write.await;
    let after = app.data(RELATIONS, variables.clone()).await;
    assert_eq!(after, truth.data(RELATIONS, variables).await, "after: {what}");
    let page = app.data(RELATIONS_PAGE, json!({})).await;
    assert_eq!(
        page,
        truth.data(RELATIONS_PAGE, json!({})).await,
        "the page after: {what}"
    );
    after["customer"].clone()
}

/// Relational reads served from the cache are never stale: after each kind
/// of write that changes a customer's groups, their lists, its organization
/// or its type group, the next (warm) answer is the database's.
#[tokio::test]
async fn warm_relational_reads_show_every_write() {
    on_each_backend(|app| async move {
        let truth = app.uncached().await;
        let shopper = customer(&app, "shopper@example.com", json!({})).await;
        customer(&app, "other@example.com", json!({})).await;
        let vip = pricing_group(&app, "VIP").await;
        let staff = pricing_group(&app, "Staff").await;
        let trade = pricing_group(&app, "Trade").await;
        let vip_list = price_list(&app, "VIP prices", json!({})).await;
        let promo = price_list(&app, "Promo", json!({})).await;
        link_price_list(&app, &vip, &vip_list, 1).await;
        add_customers(&app, &vip, &[&shopper]).await;
        let acme = organization(&app, "Acme", json!({})).await;
        let retail = crate::fixtures::type_group(&app, "Retail").await;
        // Fills the cache.
        app.data(RELATIONS, json!({ "c": shopper })).await;
        app.data(RELATIONS_PAGE, json!({})).await;

        let names = |groups: &Value| -> Vec<Value> {
            groups
                .as_array()
                .expect("groups")
                .iter()
                .map(|g| g["name"].clone())
                .collect()
        };
        let c = after_write(&app, &truth, &shopper, "rename a group", async {
            write(
                &app,
                "updateCustomerGroup",
                json!({ "id": vip, "name": "Very Important" }),
            )
            .await;
        })
        .await;
        assert_eq!(names(&c["groups"]), [json!("Very Important")]);
        let c = after_write(&app, &truth, &shopper, "rename a list", async {
            write(&app, "updatePriceList", json!({ "id": vip_list, "name": "VIP deals" })).await;
        })
        .await;
        assert_eq!(c["groups"][0]["priceLists"][0]["priceList"]["name"], "VIP deals");
        let c = after_write(&app, &truth, &shopper, "link a list", async {
            link_price_list(&app, &vip, &promo, 0).await;
        })
        .await;
        assert_eq!(c["groups"][0]["priceLists"][0]["priceList"]["name"], "Promo");
        let c = after_write(&app, &truth, &shopper, "change a link's priority", async {
            link_price_list(&app, &vip, &promo, 5).await;
        })
        .await;
        assert_eq!(c["groups"][0]["priceLists"][1]["priority"], 5);
        let c = after_write(&app, &truth, &shopper, "unlink a list", async {
            write(
                &app,
                "removePriceListFromGroup",
                json!({ "groupId": vip, "priceListId": promo }),
            )
            .await;
        })
        .await;
        assert_eq!(c["groups"][0]["priceLists"].as_array().map(Vec::len), Some(1));
        let c = after_write(&app, &truth, &shopper, "add a member", async {
            add_customers(&app, &staff, &[&shopper]).await;
        })
        .await;
        assert_eq!(names(&c["groups"]), [json!("Staff"), json!("Very Important")]);
        let c = after_write(&app, &truth, &shopper, "remove a member", async {
            write(
                &app,
                "removeCustomersFromGroup",
                json!({ "groupId": staff, "customerIds": [shopper] }),
            )
            .await;
        })
        .await;
        assert_eq!(names(&c["groups"]), [json!("Very Important")]);
        write(
            &app,
            "setOrganizationGroups",
            json!({ "organizationId": acme, "groupIds": [trade] }),
        )
        .await;
        let c = after_write(
            &app,
            &truth,
            &shopper,
            "move the customer to an organization with groups",
            async {
                write(&app, "updateCustomer", json!({ "id": shopper, "organizationId": acme })).await;
            },
        )
        .await;
        assert_eq!(c["organization"]["name"], "Acme");
        assert_eq!(names(&c["organization"]["groups"]), [json!("Trade")]);
        let c = after_write(&app, &truth, &shopper, "set the organization's groups", async {
            write(
                &app,
                "setOrganizationGroups",
                json!({ "organizationId": acme, "groupIds": [trade, staff] }),
            )
            .await;
        })
        .await;
        assert_eq!(names(&c["organization"]["groups"]), [json!("Staff"), json!("Trade")]);
        let c = after_write(&app, &truth, &shopper, "rename the organization", async {
            write(&app, "updateOrganization", json!({ "id": acme, "name": "Acme Inc." })).await;
        })
        .await;
        assert_eq!(c["organization"]["name"], "Acme Inc.");
        let c = after_write(&app, &truth, &shopper, "deactivate a group", async {
            write(&app, "updateCustomerGroup", json!({ "id": vip, "isActive": false })).await;
        })
        .await;
        assert_eq!(c["groups"][0]["isActive"], false);
        let c = after_write(&app, &truth, &shopper, "rename the customer", async {
            write(&app, "updateCustomer", json!({ "id": shopper, "name": "Shopper Two" })).await;
        })
        .await;
        assert_eq!(c["name"], "Shopper Two");
        let c = after_write(&app, &truth, &shopper, "change the type group", async {
            write(&app, "updateCustomer", json!({ "id": shopper, "typeGroupId": retail })).await;
        })
        .await;
        assert_eq!(c["typeGroup"]["name"], "Retail");
        // Deletes leave entries that name what is gone: still never shown.
        let c = after_write(&app, &truth, &shopper, "delete a linked list", async {
            write(&app, "deletePriceList", json!({ "id": vip_list })).await;
        })
        .await;
        assert_eq!(c["groups"][0]["priceLists"], json!([]));
        let c = after_write(
            &app,
            &truth,
            &shopper,
            "delete a group of the customer and its organization",
            async {
                write(&app, "deleteCustomerGroup", json!({ "id": staff })).await;
            },
        )
        .await;
        assert_eq!(names(&c["organization"]["groups"]), [json!("Trade")]);
        let c = after_write(&app, &truth, &shopper, "delete the customer's type group", async {
            write(&app, "deleteCustomerGroup", json!({ "id": retail })).await;
        })
        .await;
        assert_eq!(c["typeGroup"]["name"], "Default");
        let c = after_write(&app, &truth, &shopper, "delete the customer's organization", async {
            write(&app, "deleteOrganization", json!({ "id": acme })).await;
        })
        .await;
        assert_eq!(c["organization"], Value::Null);
        let c = after_write(&app, &truth, &shopper, "delete a group the customer is in", async {
            write(&app, "deleteCustomerGroup", json!({ "id": vip })).await;
        })
        .await;
        assert_eq!(c["groups"], json!([]));
        // And warm again.
        let (warm, _) = app
            .count_warm_statements(app.data(RELATIONS, json!({ "c": shopper })))
            .await;
        assert_eq!(warm, 0);

        // Pages of customers, whole and filtered, are cached too: each write
        // that adds, removes or changes a customer on them shows at once.
        let pages = "query($g: ID!) { all: customers(first: 10) { nodes { email } pageInfo { hasNextPage } }
            members: customers(first: 10, filter: { groupId: $g }) { nodes { email } }
            found: customers(first: 10, filter: { emailContains: \"new\" }) { nodes { email } } }";
        let members = pricing_group(&app, "Members").await;
        let vars = json!({ "g": members });
        let check = async |what: &str| {
            let (warm, _) = app.count_warm_statements(app.data(pages, vars.clone())).await;
            // Only the look-up of the filter's group, which checks it is one.
            assert_eq!(warm, 1, "pages warm after: {what}");
        };
        app.data(pages, vars.clone()).await;
        check("start").await;
        let newcomer = customer(&app, "new@example.com", json!({})).await;
        assert_eq!(
            app.data(pages, vars.clone()).await,
            truth.data(pages, vars.clone()).await,
            "a create"
        );
        check("a create").await;
        add_customers(&app, &members, &[&newcomer]).await;
        let data = app.data(pages, vars.clone()).await;
        assert_eq!(data, truth.data(pages, vars.clone()).await, "a member added");
        assert_eq!(data["members"]["nodes"], json!([{ "email": "new@example.com" }]));
        check("a member added").await;
        write(
            &app,
            "updateCustomer",
            json!({ "id": newcomer, "email": "renewed@example.com" }),
        )
        .await;
        let data = app.data(pages, vars.clone()).await;
        assert_eq!(data, truth.data(pages, vars.clone()).await, "an email changed");
        assert_eq!(data["members"]["nodes"], json!([{ "email": "renewed@example.com" }]));
        check("an email changed").await;
        write(&app, "deleteCustomer", json!({ "id": newcomer })).await;
        let data = app.data(pages, vars.clone()).await;
        assert_eq!(data, truth.data(pages, vars.clone()).await, "a delete");
        assert_eq!(data["members"]["nodes"], json!([]));
        assert_eq!(data["found"]["nodes"], json!([]));
        check("a delete").await;
        truth.cleanup().await;
    })
    .await;
}
