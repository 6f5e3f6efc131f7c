//! Small builders over the GraphQL API, shared by the feature tests.

use serde_json::{Value, json};

use crate::helpers::{TestApp, id};

pub async fn create_group(app: &TestApp, input: Value) -> Value {
    let payload = app
        .mutate(
            "createCustomerGroup",
            "mutation($input: CreateCustomerGroupInput!) { createCustomerGroup(input: $input) {
                customerGroup { id name kind isActive version } userErrors { field message code } } }",
            json!({ "input": input }),
        )
        .await;
    payload["customerGroup"].clone()
}

pub async fn pricing_group(app: &TestApp, name: &str) -> String {
    id(&create_group(app, json!({ "name": name })).await)
}

/// Runs a create mutation that must succeed and returns its object.
pub async fn create(app: &TestApp, mutation: &str, object: &str, selection: &str, input: Value) -> Value {
    let input_type = format!("{}Input", capitalize(mutation));
    let query = format!(
        "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {object} {{ {selection} }} userErrors {{ field message code }} }} }}"
    );
    app.mutate(mutation, &query, json!({ "input": input })).await[object].clone()
}

fn capitalize(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

pub async fn type_group(app: &TestApp, name: &str) -> String {
    id(&create_group(app, json!({ "name": name, "kind": "TYPE" })).await)
}

pub async fn customer(app: &TestApp, email: &str, extra: Value) -> String {
    let mut input = json!({ "email": email, "name": email.split('@').next().unwrap_or("someone") });
    merge(&mut input, extra);
    id(&create(app, "createCustomer", "customer", "id", input).await)
}

pub async fn organization(app: &TestApp, name: &str, extra: Value) -> String {
    let mut input = json!({ "name": name });
    merge(&mut input, extra);
    id(&create(app, "createOrganization", "organization", "id", input).await)
}

pub async fn product_line(app: &TestApp, name: &str) -> String {
    id(&create(app, "createProductLine", "productLine", "id", json!({ "name": name })).await)
}

pub async fn product(app: &TestApp, sku: &str, extra: Value) -> String {
    let mut input = json!({ "sku": sku, "name": format!("Product {sku}") });
    merge(&mut input, extra);
    id(&create(app, "createProduct", "product", "id", input).await)
}

pub async fn price_list(app: &TestApp, name: &str, extra: Value) -> String {
    let mut input = json!({ "name": name });
    merge(&mut input, extra);
    id(&create(app, "createPriceList", "priceList", "id", input).await)
}

pub async fn add_customers(app: &TestApp, group_id: &str, customer_ids: &[&str]) {
    app.mutate(
        "addCustomersToGroup",
        "mutation($input: GroupCustomersInput!) { addCustomersToGroup(input: $input) { userErrors { field message code } } }",
        json!({ "input": { "groupId": group_id, "customerIds": customer_ids } }),
    )
    .await;
}

pub async fn link_price_list(app: &TestApp, group_id: &str, price_list_id: &str, priority: i32) {
    app.mutate(
        "addPriceListToGroup",
        "mutation($input: AddPriceListToGroupInput!) { addPriceListToGroup(input: $input) { userErrors { field message code } } }",
        json!({ "input": { "groupId": group_id, "priceListId": price_list_id, "priority": priority } }),
    )
    .await;
}

/// Runs a mutation that must succeed, naming only its input.
pub async fn write(app: &TestApp, mutation: &str, input: Value) {
    let input_type = match mutation {
        "addCustomersToGroup" | "removeCustomersFromGroup" => "GroupCustomersInput".to_owned(),
        m if m.starts_with("delete") && !m.ends_with("Prices") => "DeleteInput".to_owned(),
        m => format!("{}{}Input", m[..1].to_uppercase(), &m[1..]),
    };
    let query = format!(
        "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ userErrors {{ field message code }} }} }}"
    );
    app.mutate(mutation, &query, json!({ "input": input })).await;
}

pub const UPSERT_PRICES: &str = "mutation($input: UpsertPricesInput!) { upsertPrices(input: $input) {
    prices { id amount { amount currencyCode } minQuantity maxQuantity } userErrors { field message code } } }";

/// Sets one list price tier (from quantity 1) of a product in USD.
pub async fn list_price(app: &TestApp, list: &str, product: &str, amount: &str) {
    let prices = json!([{ "productId": product, "currency": "USD", "minQuantity": 1, "amount": amount }]);
    app.mutate(
        "upsertPrices",
        UPSERT_PRICES,
        json!({ "input": { "priceListId": list, "prices": prices } }),
    )
    .await;
}

/// Sets one base price tier of a product in USD.
pub async fn base_price(app: &TestApp, product_id: &str, min_quantity: i32, amount: &str) {
    let prices = json!([{ "productId": product_id, "currency": "USD", "minQuantity": min_quantity, "amount": amount }]);
    app.mutate(
        "upsertBasePrices",
        UPSERT_BASE_PRICES,
        json!({ "input": { "prices": prices } }),
    )
    .await;
}

pub const UPSERT_BASE_PRICES: &str = "mutation($input: UpsertBasePricesInput!) { upsertBasePrices(input: $input) {
    basePrices { id amount { amount currencyCode } minQuantity } userErrors { field message code } } }";

fn merge(into: &mut Value, extra: Value) {
    if let (Some(into), Value::Object(extra)) = (into.as_object_mut(), extra) {
        into.extend(extra);
    }
}
