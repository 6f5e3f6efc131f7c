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
