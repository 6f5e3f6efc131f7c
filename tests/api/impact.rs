//! Impact previews (docs/api.md#impact-preview): every mutation that can
//! change a price, run with `dryRun`, writes nothing and says which prices
//! would change — exactly the prices that do change when the same
//! mutation then runs for real.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::fixtures::{
    add_customers, base_price, customer, link_price_list, list_price, organization, price_list, pricing_group, product,
    product_line, write,
};
use crate::helpers::{TestApp, backends, on_each_backend};

/// The shoppers, products and lists every case starts from.
struct Cast {
    /// (name, id); the anonymous shopper is not among them.
    customers: Vec<(String, String)>,
    products: Vec<String>,
    groups: BTreeMap<&'static str, String>,
    lists: BTreeMap<&'static str, String>,
    organization: String,
    line: String,
}

async fn cast(app: &TestApp) -> Cast {
    let mut products = Vec::new();
    for (n, amount) in ["10.00", "20.00", "30.00"].iter().enumerate() {
        let id = product(app, &format!("P-{n}"), json!({})).await;
        base_price(app, &id, 1, amount).await;
        products.push(id);
    }
    let line = product_line(app, "Tools").await;
    write(
        app,
        "updateProduct",
        json!({ "id": products[2], "productLineId": line }),
    )
    .await;
    let toys = product_line(app, "Toys").await;
    write(
        app,
        "updateProduct",
        json!({ "id": products[1], "productLineId": toys }),
    )
    .await;
    let mut groups = BTreeMap::new();
    for name in ["VIP", "Trade"] {
        groups.insert(name, pricing_group(app, name).await);
    }
    let mut lists = BTreeMap::new();
    lists.insert(
        "VIP prices",
        price_list(app, "VIP prices", json!({ "type": "OVERRIDE" })).await,
    );
    lists.insert("Trade sale", price_list(app, "Trade sale", json!({})).await);
    lists.insert("Storewide", price_list(app, "Storewide", json!({})).await);
    list_price(app, &lists["VIP prices"], &products[0], "8.00").await;
    list_price(app, &lists["VIP prices"], &products[1], "25.00").await;
    list_price(app, &lists["Trade sale"], &products[1], "15.00").await;
    list_price(app, &lists["Storewide"], &products[2], "27.00").await;
    link_price_list(app, &groups["VIP"], &lists["VIP prices"], 1).await;
    link_price_list(app, &groups["Trade"], &lists["Trade sale"], 1).await;
    let everyone = app
        .data(
            "{ customerGroups(first: 10, filter: { nameContains: \"Everyone\" }) { nodes { id } } }",
            json!({}),
        )
        .await;
    let everyone = everyone["customerGroups"]["nodes"][0]["id"]
        .as_str()
        .expect("Everyone")
        .to_owned();
    link_price_list(app, &everyone, &lists["Storewide"], 10).await;
    let organization = organization(app, "Acme", json!({})).await;
    let mut customers = Vec::new();
    for name in ["ada", "bob", "cy", "dee"] {
        customers.push((
            name.to_owned(),
            customer(app, &format!("{name}@example.com"), json!({})).await,
        ));
    }
    add_customers(app, &groups["VIP"], &[&customers[0].1, &customers[1].1]).await;
    add_customers(app, &groups["Trade"], &[&customers[2].1]).await;
    write(
        app,
        "updateCustomer",
        json!({ "id": customers[3].1, "organizationId": organization }),
    )
    .await;
    write(
        app,
        "setOrganizationGroups",
        json!({ "organizationId": organization, "groupIds": [groups["Trade"]] }),
    )
    .await;
    Cast {
        customers,
        products,
        groups,
        lists,
        organization,
        line,
    }
}

/// Every shopper's price of every product in USD at quantity 1:
/// (customer id or "anonymous", product id) → amount.
async fn prices(app: &TestApp, cast: &Cast) -> BTreeMap<(String, String), Option<String>> {
    let mut prices = BTreeMap::new();
    let shoppers = std::iter::once(None).chain(cast.customers.iter().map(|(_, id)| Some(id.clone())));
    let items: Vec<Value> = cast.products.iter().map(|p| json!({ "productId": p })).collect();
    for shopper in shoppers {
        let data = app
            .data(
                "query($c: ID, $items: [PriceItemInput!]!) { resolvePrices(input: { customerId: $c, currency: \"USD\", items: $items }) { product { id } amount { amount } } }",
                json!({ "c": shopper, "items": items }),
            )
            .await;
        for answer in data["resolvePrices"].as_array().expect("answers") {
            let key = (
                shopper.clone().unwrap_or_else(|| "anonymous".into()),
                answer["product"]["id"].as_str().expect("a product").to_owned(),
            );
            prices.insert(key, answer["amount"]["amount"].as_str().map(str::to_owned));
        }
    }
    prices
}

const CHANGE: &str = "customer { id } product { id } currency before { amount } after { amount }";

/// Runs `mutation` with `dryRun`, reading every page of its impact's changes.
async fn preview(app: &TestApp, mutation: &str, input_type: &str, input: &Value) -> Value {
    let mut input = input.clone();
    input["dryRun"] = json!(true);
    let query = format!(
        "mutation($input: {input_type}!, $after: String) {{ {mutation}(input: $input) {{ userErrors {{ field code }}
            impact {{ customersAffected productsAffected changes(first: 2, after: $after) {{ totalCount
                pageInfo {{ hasNextPage endCursor }} nodes {{ {CHANGE} }} }} }} }} }}"
    );
    let mut after = Value::Null;
    let mut changes = Vec::new();
    loop {
        let data = app.data(&query, json!({ "input": input, "after": after })).await;
        let payload = data[mutation].clone();
        assert_eq!(payload["userErrors"], json!([]), "{mutation}: {payload}");
        let impact = &payload["impact"];
        changes.extend(impact["changes"]["nodes"].as_array().expect("changes").iter().cloned());
        if impact["changes"]["pageInfo"]["hasNextPage"] != json!(true) {
            let total = impact["changes"]["totalCount"].as_u64().expect("a count");
            assert_eq!(
                total,
                changes.len() as u64,
                "{mutation}: totalCount is every page's changes"
            );
            let mut impact = impact.clone();
            impact["changes"] = Value::Array(changes);
            return impact;
        }
        after = impact["changes"]["pageInfo"]["endCursor"].clone();
    }
}

/// The changes an impact lists, as (shopper, product) → (before, after).
fn listed(impact: &Value) -> BTreeMap<(String, String), (Option<String>, Option<String>)> {
    impact["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|change| {
            assert_eq!(change["currency"], "USD");
            let shopper = change["customer"]["id"].as_str().unwrap_or("anonymous").to_owned();
            let product = change["product"]["id"].as_str().expect("a product").to_owned();
            let amount = |v: &Value| v["amount"].as_str().map(str::to_owned);
            (
                (shopper, product),
                (amount(&change["before"]), amount(&change["after"])),
            )
        })
        .collect()
}

/// Each mutation that can change a price, as (mutation, input type, input).
fn cases(cast: &Cast) -> Vec<(&'static str, &'static str, Value)> {
    let (vip, trade) = (&cast.groups["VIP"], &cast.groups["Trade"]);
    let p = &cast.products;
    vec![
        (
            "upsertPrices",
            "UpsertPricesInput",
            json!({ "priceListId": cast.lists["Trade sale"], "prices": [
            { "productId": p[0], "currency": "USD", "amount": "9.00" }, { "productId": p[1], "currency": "USD", "amount": "21.00" }] }),
        ),
        (
            "deletePrices",
            "DeletePricesInput",
            json!({ "priceListId": cast.lists["VIP prices"], "prices": [{ "productId": p[0], "currency": "USD" }] }),
        ),
        (
            "upsertBasePrices",
            "UpsertBasePricesInput",
            json!({ "prices": [{ "productId": p[1], "currency": "USD", "amount": "14.00" }] }),
        ),
        (
            "deleteBasePrices",
            "DeleteBasePricesInput",
            json!({ "prices": [{ "productId": p[0], "currency": "USD" }] }),
        ),
        (
            "updatePriceList",
            "UpdatePriceListInput",
            json!({ "id": cast.lists["Storewide"], "rule": { "percentOff": "10" } }),
        ),
        (
            "updatePriceList",
            "UpdatePriceListInput",
            json!({ "id": cast.lists["VIP prices"], "status": "DRAFT" }),
        ),
        (
            "updatePriceList",
            "UpdatePriceListInput",
            json!({ "id": cast.lists["Trade sale"], "endsAt": "2001-01-01T00:00:00Z" }),
        ),
        (
            "deletePriceList",
            "DeleteInput",
            json!({ "id": cast.lists["VIP prices"] }),
        ),
        (
            "addPriceListToGroup",
            "AddPriceListToGroupInput",
            json!({ "groupId": trade, "priceListId": cast.lists["VIP prices"], "priority": 0 }),
        ),
        (
            "removePriceListFromGroup",
            "RemovePriceListFromGroupInput",
            json!({ "groupId": cast.groups["VIP"], "priceListId": cast.lists["VIP prices"] }),
        ),
        (
            "addCustomersToGroup",
            "GroupCustomersInput",
            json!({ "groupId": vip, "customerIds": [cast.customers[2].1] }),
        ),
        (
            "removeCustomersFromGroup",
            "GroupCustomersInput",
            json!({ "groupId": vip, "customerIds": [cast.customers[0].1] }),
        ),
        (
            "setOrganizationGroups",
            "SetOrganizationGroupsInput",
            json!({ "organizationId": cast.organization, "groupIds": [vip] }),
        ),
        (
            "updateCustomer",
            "UpdateCustomerInput",
            json!({ "id": cast.customers[0].1, "organizationId": cast.organization }),
        ),
        (
            "updateCustomerGroup",
            "UpdateCustomerGroupInput",
            json!({ "id": vip, "isActive": false }),
        ),
        ("deleteCustomerGroup", "DeleteInput", json!({ "id": trade })),
        (
            "setGroupProductLines",
            "SetGroupProductLinesInput",
            json!({ "groupId": vip, "productLineIds": [cast.line] }),
        ),
    ]
}

/// Each case on a fresh copy of the cast: preview, then write for real, and
/// compare the preview with what really changed.
#[tokio::test]
async fn a_dry_run_writes_nothing_and_lists_exactly_the_prices_the_change_then_changes() {
    for backend in backends() {
        let count = {
            let app = TestApp::spawn(backend).await;
            let count = cases(&cast(&app).await).len();
            app.cleanup().await;
            count
        };
        for n in 0..count {
            let app = TestApp::spawn(backend).await;
            let cast = cast(&app).await;
            let (mutation, input_type, input) = cases(&cast).swap_remove(n);
            let before = prices(&app, &cast).await;
            let rows = row_counts(&app).await;
            let impact = preview(&app, mutation, input_type, &input).await;
            assert_eq!(
                prices(&app, &cast).await,
                before,
                "{mutation} {input}: a dry run changes no price"
            );
            assert_eq!(
                row_counts(&app).await,
                rows,
                "{mutation} {input}: a dry run writes no row"
            );

            write(&app, mutation, input.clone()).await;
            let after = prices(&app, &cast).await;
            let actual: BTreeMap<_, _> = before
                .iter()
                .filter(|(key, was)| after.get(*key) != Some(*was))
                .map(|(key, was)| (key.clone(), (was.clone(), after.get(key).cloned().flatten())))
                .collect();
            assert!(!actual.is_empty(), "{mutation} {input}: the case must change a price");
            assert_eq!(
                listed(&impact),
                actual,
                "[{backend:?}] {mutation} {input}: the impact lists exactly what changed"
            );
            let customers: BTreeSet<_> = actual
                .keys()
                .map(|(shopper, _)| shopper)
                .filter(|s| *s != "anonymous")
                .collect();
            let products: BTreeSet<_> = actual.keys().map(|(_, product)| product).collect();
            assert_eq!(impact["customersAffected"], customers.len(), "{mutation}");
            assert_eq!(impact["productsAffected"], products.len(), "{mutation}");
            app.cleanup().await;
        }
    }
}

/// How many rows each table holds (the change log included: a dry run
/// logs nothing, so no instance evicts anything).
async fn row_counts(app: &TestApp) -> Vec<(String, i64)> {
    use sea_orm::{ConnectionTrait, Statement};
    let mut counts = Vec::new();
    for table in [
        "price",
        "base_price",
        "price_list",
        "customer_group",
        "customer_group_price_list",
        "customer_group_membership",
        "organization_group",
        "customer_group_product_line",
        "customer",
        "change_log",
    ] {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        let row = app
            .db
            .conn
            .query_one_raw(Statement::from_string(app.db.conn.get_database_backend(), sql))
            .await;
        let n: i64 = row
            .expect("a count")
            .expect("a row")
            .try_get("", "n")
            .expect("a number");
        counts.push((table.to_owned(), n));
    }
    counts
}

#[tokio::test]
async fn a_dry_run_with_user_errors_answers_them_and_no_impact() {
    on_each_backend(|app| async move {
        let list = price_list(&app, "List", json!({})).await;
        let data = app
            .data(
                "mutation($input: UpdatePriceListInput!) { updatePriceList(input: $input) { priceList { id } userErrors { code field } impact { customersAffected } } }",
                json!({ "input": { "id": list, "rule": { "percentOff": "0" }, "dryRun": true } }),
            )
            .await;
        assert_eq!(
            data["updatePriceList"],
            json!({ "priceList": null, "userErrors": [{ "code": "INVALID_RULE", "field": ["rule", "percentOff"] }], "impact": null })
        );
        // Without dryRun there is no impact either.
        let data = app
            .data(
                "mutation($input: UpdatePriceListInput!) { updatePriceList(input: $input) { priceList { name } impact { customersAffected } } }",
                json!({ "input": { "id": list, "name": "Renamed" } }),
            )
            .await;
        assert_eq!(data["updatePriceList"], json!({ "priceList": { "name": "Renamed" }, "impact": null }));
    })
    .await;
}

#[tokio::test]
async fn a_dry_run_leaves_the_cache_warm_and_costs_the_same_statements_for_a_larger_world() {
    on_each_backend(|app| async move {
        let cast = cast(&app).await;
        let page = "query($c: ID) { products(first: 10) { nodes { resolvedPrice(customerId: $c, currency: \"USD\") { amount { amount } } } } }";
        let ada = json!({ "c": cast.customers[0].1 });
        app.data(page, ada.clone()).await;
        let input = json!({ "priceListId": cast.lists["VIP prices"], "prices": [{ "productId": cast.products[0], "currency": "USD", "amount": "7.00" }], "dryRun": true });
        let upsert = "mutation($input: UpsertPricesInput!) { upsertPrices(input: $input) { impact { customersAffected } } }";
        let (small, data) = app.count_warm_statements(app.data(upsert, json!({ "input": input }))).await;
        assert_eq!(data["upsertPrices"]["impact"]["customersAffected"], 2);
        let (warm, _) = app.count_warm_statements(app.data(page, ada.clone())).await;
        assert_eq!(warm, 0, "nothing was evicted: the page is still served from the cache");

        // Ten times the customers, groups and products: the same statements.
        for n in 0..10 {
            let group = pricing_group(&app, &format!("G{n}")).await;
            let list = price_list(&app, &format!("L{n}"), json!({})).await;
            link_price_list(&app, &group, &list, n).await;
            for m in 0..3 {
                let product = product(&app, &format!("X-{n}-{m}"), json!({})).await;
                base_price(&app, &product, 1, "5.00").await;
                list_price(&app, &list, &product, "4.00").await;
                let buyer = customer(&app, &format!("x{n}-{m}@example.com"), json!({})).await;
                add_customers(&app, &group, &[&buyer]).await;
            }
        }
        let (large, _) = app.count_warm_statements(app.data(upsert, json!({ "input": input }))).await;
        assert_eq!(large, small, "the preview's statements do not grow with the world");
    })
    .await;
}
