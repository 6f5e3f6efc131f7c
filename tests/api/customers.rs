use serde_json::{Value, json};

use crate::fixtures::{add_customers, customer, organization, pricing_group, type_group};
use crate::helpers::{first_error_code, on_each_backend};

const CREATE: &str = "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) {
    customer { id email name commissionExempt freeFreight metadata version typeGroup { name } organization { name } }
    userErrors { field message code } } }";

const UPDATE: &str = "mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) {
    customer { id email name version typeGroup { name } organization { name } } userErrors { field message code } } }";

const DELETE: &str =
    "mutation($input: DeleteInput!) { deleteCustomer(input: $input) { deletedId userErrors { field message code } } }";

const READ: &str =
    "query($id: ID!) { customer(id: $id) { email name typeGroup { name } organization { name } groups { name } } }";

#[tokio::test]
async fn creates_reads_updates_and_deletes_a_customer() {
    on_each_backend(|app| async move {
        let data = app.data(CREATE, json!({ "input": { "email": "  Ada@Example.COM ", "name": "Ada", "freeFreight": true, "metadata": { "crm": 7 } } })).await;
        let created = &data["createCustomer"];
        assert_eq!(created["userErrors"], json!([]));
        let customer = &created["customer"];
        assert_eq!(customer["email"], "ada@example.com");
        assert_eq!(customer["typeGroup"], json!({ "name": "Default" }), "the built-in type group when none is given");
        assert_eq!(customer["organization"], Value::Null);
        assert_eq!((customer["freeFreight"].clone(), customer["commissionExempt"].clone()), (json!(true), json!(false)));
        assert_eq!(customer["metadata"], json!({ "crm": 7 }));
        let customer_id = customer["id"].as_str().expect("id").to_owned();

        let retail = type_group(&app, "Retail").await;
        let acme = organization(&app, "Acme", json!({})).await;
        let vip = pricing_group(&app, "VIP").await;
        add_customers(&app, &vip, &[&customer_id]).await;
        let data = app.data(UPDATE, json!({ "input": { "id": customer_id, "version": 1, "name": "Ada L.", "typeGroupId": retail, "organizationId": acme } })).await;
        assert_eq!(data["updateCustomer"]["customer"]["version"], 2);
        let read = app.data(READ, json!({ "id": customer_id })).await;
        assert_eq!(
            read["customer"],
            json!({ "email": "ada@example.com", "name": "Ada L.", "typeGroup": { "name": "Retail" }, "organization": { "name": "Acme" }, "groups": [{ "name": "VIP" }] })
        );

        let data = app.data(UPDATE, json!({ "input": { "id": customer_id, "organizationId": null } })).await;
        assert_eq!(data["updateCustomer"]["customer"]["organization"], Value::Null);

        let data = app.data(DELETE, json!({ "input": { "id": customer_id, "version": 3 } })).await;
        assert_eq!(data["deleteCustomer"]["deletedId"], customer_id.as_str());
        let members = app.data("query($id: ID!) { customerGroup(id: $id) { customers(first: 10) { totalCount } } }", json!({ "id": vip })).await;
        assert_eq!(members["customerGroup"]["customers"]["totalCount"], 0, "the membership went with the customer");
        let gone = app.graphql(READ, json!({ "id": customer_id })).await;
        // Gone: `null` at its key, and no error (docs/api.md#nulls-and-errors).
        assert_eq!(gone, json!({ "data": { "customer": null } }), "{gone}");
    })
    .await;
}

#[tokio::test]
async fn bad_customer_input_names_the_field_and_writes_nothing() {
    on_each_backend(|app| async move {
        customer(&app, "taken@example.com", json!({})).await;
        let vip = pricing_group(&app, "VIP").await;
        let unknown = uuid::Uuid::now_v7().to_string();
        let cases = [
            (
                json!({ "email": "TAKEN@example.com", "name": "X" }),
                vec!["email"],
                "TAKEN",
            ),
            (
                json!({ "email": "not-an-email", "name": "X" }),
                vec!["email"],
                "INVALID",
            ),
            (
                json!({ "email": "a b@example.com", "name": "X" }),
                vec!["email"],
                "INVALID",
            ),
            (json!({ "email": "", "name": "X" }), vec!["email"], "BLANK"),
            (json!({ "email": "x@example.com", "name": " " }), vec!["name"], "BLANK"),
            (
                json!({ "email": "x@example.com", "name": "X", "typeGroupId": vip }),
                vec!["typeGroupId"],
                "WRONG_GROUP_KIND",
            ),
            (
                json!({ "email": "x@example.com", "name": "X", "typeGroupId": unknown }),
                vec!["typeGroupId"],
                "NOT_FOUND",
            ),
            (
                json!({ "email": "x@example.com", "name": "X", "organizationId": "nope" }),
                vec!["organizationId"],
                "NOT_FOUND",
            ),
            (
                json!({ "email": "x@example.com", "name": "X", "metadata": "text" }),
                vec!["metadata"],
                "INVALID",
            ),
        ];
        for (input, field, code) in cases {
            let data = app.data(CREATE, json!({ "input": input })).await;
            let payload = &data["createCustomer"];
            assert_eq!(payload["customer"], Value::Null, "{input}");
            assert_eq!(payload["userErrors"][0]["field"], json!(field), "{input}");
            assert_eq!(payload["userErrors"][0]["code"], code, "{input}");
            assert!(!payload["userErrors"][0]["message"].as_str().unwrap_or("").is_empty());
        }
        let count = app.data("{ customers(first: 10) { totalCount } }", json!({})).await;
        assert_eq!(count["customers"]["totalCount"], 1, "nothing was written");
    })
    .await;
}

#[tokio::test]
async fn customer_updates_check_version_email_and_type_group() {
    on_each_backend(|app| async move {
        customer(&app, "first@example.com", json!({})).await;
        let second = customer(&app, "second@example.com", json!({})).await;
        let vip = pricing_group(&app, "VIP").await;
        let data = app
            .data(
                UPDATE,
                json!({ "input": { "id": second, "email": "First@Example.com" } }),
            )
            .await;
        assert_eq!(first_error_code(&data["updateCustomer"]).as_deref(), Some("TAKEN"));
        let data = app
            .data(UPDATE, json!({ "input": { "id": second, "typeGroupId": vip } }))
            .await;
        assert_eq!(
            first_error_code(&data["updateCustomer"]).as_deref(),
            Some("WRONG_GROUP_KIND")
        );
        let data = app
            .data(
                UPDATE,
                json!({ "input": { "id": second, "version": 7, "name": "Late" } }),
            )
            .await;
        assert_eq!(
            first_error_code(&data["updateCustomer"]).as_deref(),
            Some("STALE_VERSION")
        );
        let read = app.data(READ, json!({ "id": second })).await;
        assert_eq!(read["customer"]["email"], "second@example.com");
        assert_eq!(read["customer"]["name"], "second");
    })
    .await;
}

#[tokio::test]
async fn customers_filter_by_group_organization_and_email() {
    on_each_backend(|app| async move {
        let retail = type_group(&app, "Retail").await;
        let vip = pricing_group(&app, "VIP").await;
        let acme = organization(&app, "Acme", json!({})).await;
        let ann = customer(&app, "ann@shop.test", json!({ "typeGroupId": retail })).await;
        let bob = customer(&app, "bob@acme.test", json!({ "organizationId": acme })).await;
        customer(&app, "cy@shop.test", json!({})).await;
        add_customers(&app, &vip, &[&ann, &bob, &ann]).await;
        let everyone = app.data("{ customerGroups(first: 1, filter: { nameContains: \"everyone\" }) { edges { node { id } } } }", json!({})).await;
        let everyone = everyone["customerGroups"]["edges"][0]["node"]["id"].clone();

        let q = "query($f: CustomerFilter) { customers(first: 10, filter: $f) { totalCount edges { node { email } } } }";
        let emails = |data: Value| -> Vec<String> {
            data["customers"]["edges"].as_array().expect("edges").iter().map(|e| e["node"]["email"].as_str().unwrap_or("").to_owned()).collect()
        };
        assert_eq!(emails(app.data(q, json!({ "f": { "groupId": vip } })).await), ["ann@shop.test", "bob@acme.test"]);
        assert_eq!(emails(app.data(q, json!({ "f": { "groupId": retail } })).await), ["ann@shop.test"]);
        assert_eq!(emails(app.data(q, json!({ "f": { "groupId": everyone } })).await).len(), 3);
        assert_eq!(emails(app.data(q, json!({ "f": { "organizationId": acme } })).await), ["bob@acme.test"]);
        assert_eq!(emails(app.data(q, json!({ "f": { "emailContains": "SHOP" } })).await), ["ann@shop.test", "cy@shop.test"]);
        assert_eq!(emails(app.data(q, json!({ "f": { "emailContains": "shop", "groupId": vip } })).await), ["ann@shop.test"]);
        let unknown = app.graphql(q, json!({ "f": { "groupId": uuid::Uuid::now_v7() } })).await;
        assert_eq!(unknown["errors"][0]["extensions"]["code"], "NOT_FOUND");

        let group = app.data("query($id: ID!) { customerGroup(id: $id) { customers(first: 10) { totalCount edges { node { email } } } } }", json!({ "id": vip })).await;
        assert_eq!(group["customerGroup"]["customers"]["totalCount"], 2);
    })
    .await;
}

#[tokio::test]
async fn deleting_a_type_group_moves_its_customers_to_default() {
    on_each_backend(|app| async move {
        let retail = type_group(&app, "Retail").await;
        let ann = customer(&app, "ann@shop.test", json!({ "typeGroupId": retail })).await;
        app.mutate("deleteCustomerGroup", "mutation($input: DeleteInput!) { deleteCustomerGroup(input: $input) { deletedId userErrors { field message code } } }", json!({ "input": { "id": retail } })).await;
        let read = app.data(READ, json!({ "id": ann })).await;
        assert_eq!(read["customer"]["typeGroup"], json!({ "name": "Default" }));
    })
    .await;
}

#[tokio::test]
async fn memberships_are_pricing_only_and_idempotent() {
    on_each_backend(|app| async move {
        let retail = type_group(&app, "Retail").await;
        let vip = pricing_group(&app, "VIP").await;
        let ann = customer(&app, "ann@shop.test", json!({})).await;
        let add = "mutation($input: GroupCustomersInput!) { addCustomersToGroup(input: $input) { customerGroup { name } userErrors { field message code } } }";
        let data = app.data(add, json!({ "input": { "groupId": retail, "customerIds": [ann] } })).await;
        assert_eq!(data["addCustomersToGroup"]["userErrors"][0]["code"], "WRONG_GROUP_KIND");
        assert_eq!(data["addCustomersToGroup"]["userErrors"][0]["field"], json!(["groupId"]));
        let everyone = app.data("{ customerGroups(first: 1, filter: { nameContains: \"everyone\" }) { edges { node { id } } } }", json!({})).await;
        let data = app.data(add, json!({ "input": { "groupId": everyone["customerGroups"]["edges"][0]["node"]["id"], "customerIds": [ann] } })).await;
        assert_eq!(data["addCustomersToGroup"]["userErrors"][0]["code"], "BUILT_IN");
        let data = app.data(add, json!({ "input": { "groupId": vip, "customerIds": [ann, uuid::Uuid::now_v7()] } })).await;
        assert_eq!(data["addCustomersToGroup"]["userErrors"][0]["code"], "NOT_FOUND");
        assert_eq!(data["addCustomersToGroup"]["userErrors"][0]["field"], json!(["customerIds", "1"]));
        let groups = app.data(READ, json!({ "id": ann })).await;
        assert_eq!(groups["customer"]["groups"], json!([]), "a refused call adds nobody");
        for _ in 0..2 {
            let data = app.data(add, json!({ "input": { "groupId": vip, "customerIds": [ann] } })).await;
            assert_eq!(data["addCustomersToGroup"]["userErrors"], json!([]));
        }
        let groups = app.data(READ, json!({ "id": ann })).await;
        assert_eq!(groups["customer"]["groups"], json!([{ "name": "VIP" }]));
        let remove = "mutation($input: GroupCustomersInput!) { removeCustomersFromGroup(input: $input) { userErrors { code } } }";
        app.data(remove, json!({ "input": { "groupId": vip, "customerIds": [ann] } })).await;
        let groups = app.data(READ, json!({ "id": ann })).await;
        assert_eq!(groups["customer"]["groups"], json!([]));
    })
    .await;
}
