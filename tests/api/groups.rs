use serde_json::json;

use crate::fixtures::create_group;
use crate::helpers::{first_error_code, id, on_each_backend};

const CREATE: &str = "mutation($input: CreateCustomerGroupInput!) { createCustomerGroup(input: $input) {
    customerGroup { id name description kind isActive commissionExempt freeFreight metadata version }
    userErrors { field message code } } }";

const UPDATE: &str = "mutation($input: UpdateCustomerGroupInput!) { updateCustomerGroup(input: $input) {
    customerGroup { id name description isActive version } userErrors { field message code } } }";

const DELETE: &str = "mutation($input: DeleteInput!) { deleteCustomerGroup(input: $input) {
    deletedId userErrors { field message code } } }";

#[tokio::test]
async fn creates_reads_updates_and_deletes_a_group() {
    on_each_backend(|app| async move {
        let created = create_group(&app, json!({ "name": "  VIP  ", "description": "Best customers", "metadata": { "tier": 1 } })).await;
        assert_eq!(created["name"], "VIP");
        assert_eq!(created["kind"], "PRICING");
        assert_eq!(created["isActive"], true);
        assert_eq!(created["version"], 1);
        let group_id = id(&created);

        let read = app
            .data("query($id: ID!) { customerGroup(id: $id) { name description metadata } }", json!({ "id": group_id }))
            .await;
        assert_eq!(read["customerGroup"], json!({ "name": "VIP", "description": "Best customers", "metadata": { "tier": 1 } }));

        let updated = app
            .mutate(
                "updateCustomerGroup",
                UPDATE,
                json!({ "input": { "id": group_id, "version": 1, "name": "Gold", "description": null, "isActive": false } }),
            )
            .await;
        assert_eq!(
            updated["customerGroup"],
            json!({ "id": group_id, "name": "Gold", "description": null, "isActive": false, "version": 2 })
        );

        let deleted = app.mutate("deleteCustomerGroup", DELETE, json!({ "input": { "id": group_id } })).await;
        assert_eq!(deleted["deletedId"], group_id);
        let gone = app.graphql("query($id: ID!) { customerGroup(id: $id) { name } }", json!({ "id": group_id })).await;
        // Gone: `null` at its key, and no error (docs/api.md#nulls-and-errors).
        assert_eq!(gone, json!({ "data": { "customerGroup": null } }), "{gone}");
    })
    .await;
}

#[tokio::test]
async fn group_names_are_unique_ignoring_case() {
    on_each_backend(|app| async move {
        create_group(&app, json!({ "name": "Wholesale" })).await;
        let data = app.data(CREATE, json!({ "input": { "name": "WHOLESALE" } })).await;
        let payload = &data["createCustomerGroup"];
        assert_eq!(payload["customerGroup"], json!(null));
        assert_eq!(payload["userErrors"], json!([{ "field": ["name"], "message": "a customer group named 'WHOLESALE' already exists", "code": "TAKEN" }]));
        let count = app.data("{ customerGroups(first: 100) { totalCount } }", json!({})).await;
        assert_eq!(count["customerGroups"]["totalCount"], 3, "Default, Everyone, Wholesale");
    })
    .await;
}

#[tokio::test]
async fn bad_group_input_is_refused_with_every_problem_named() {
    on_each_backend(|app| async move {
        let data = app
            .data(CREATE, json!({ "input": { "name": "  ", "metadata": [1, 2] } }))
            .await;
        let errors = &data["createCustomerGroup"]["userErrors"];
        assert_eq!(errors[0]["field"], json!(["name"]));
        assert_eq!(errors[0]["code"], "BLANK");
        assert_eq!(errors[1]["field"], json!(["metadata"]));
        assert_eq!(errors[1]["code"], "INVALID");

        let data = app
            .data(UPDATE, json!({ "input": { "id": "not-an-id", "name": "x" } }))
            .await;
        assert_eq!(
            first_error_code(&data["updateCustomerGroup"]).as_deref(),
            Some("NOT_FOUND")
        );
        let data = app
            .data(
                UPDATE,
                json!({ "input": { "id": uuid::Uuid::now_v7().to_string(), "name": "x" } }),
            )
            .await;
        assert_eq!(
            first_error_code(&data["updateCustomerGroup"]).as_deref(),
            Some("NOT_FOUND")
        );
    })
    .await;
}

#[tokio::test]
async fn a_stale_version_is_refused_and_changes_nothing() {
    on_each_backend(|app| async move {
        let group_id = id(&create_group(&app, json!({ "name": "VIP" })).await);
        app.mutate(
            "updateCustomerGroup",
            UPDATE,
            json!({ "input": { "id": group_id, "version": 1, "name": "A" } }),
        )
        .await;
        let data = app
            .data(
                UPDATE,
                json!({ "input": { "id": group_id, "version": 1, "name": "B" } }),
            )
            .await;
        assert_eq!(
            first_error_code(&data["updateCustomerGroup"]).as_deref(),
            Some("STALE_VERSION")
        );
        assert_eq!(
            data["updateCustomerGroup"]["userErrors"][0]["field"],
            json!(["version"])
        );
        let data = app
            .data(DELETE, json!({ "input": { "id": group_id, "version": 1 } }))
            .await;
        assert_eq!(
            first_error_code(&data["deleteCustomerGroup"]).as_deref(),
            Some("STALE_VERSION")
        );
        let read = app
            .data(
                "query($id: ID!) { customerGroup(id: $id) { name version } }",
                json!({ "id": group_id }),
            )
            .await;
        assert_eq!(read["customerGroup"], json!({ "name": "A", "version": 2 }));
    })
    .await;
}

#[tokio::test]
async fn built_in_groups_cannot_be_deleted() {
    on_each_backend(|app| async move {
        let data = app
            .data("{ customerGroups(first: 2) { edges { node { id name } } } }", json!({}))
            .await;
        for edge in data["customerGroups"]["edges"].as_array().expect("edges") {
            let result = app.data(DELETE, json!({ "input": { "id": edge["node"]["id"] } })).await;
            assert_eq!(
                first_error_code(&result["deleteCustomerGroup"]).as_deref(),
                Some("BUILT_IN"),
                "{}",
                edge["node"]["name"]
            );
        }
    })
    .await;
}

#[tokio::test]
async fn groups_filter_by_kind_activity_and_name() {
    on_each_backend(|app| async move {
        create_group(&app, json!({ "name": "Retail", "kind": "TYPE" })).await;
        create_group(&app, json!({ "name": "VIP Gold" })).await;
        create_group(&app, json!({ "name": "VIP Old", "isActive": false })).await;
        let names = |data: serde_json::Value| -> Vec<String> {
            data["customerGroups"]["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap_or("").to_owned())
                .collect()
        };
        let q = "query($f: CustomerGroupFilter) { customerGroups(first: 10, filter: $f) { edges { node { name } } } }";
        assert_eq!(
            names(app.data(q, json!({ "f": { "kind": "TYPE" } })).await),
            ["Default", "Retail"]
        );
        assert_eq!(
            names(app.data(q, json!({ "f": { "nameContains": "vip" } })).await),
            ["VIP Gold", "VIP Old"]
        );
        assert_eq!(
            names(
                app.data(q, json!({ "f": { "nameContains": "vip", "isActive": true } }))
                    .await
            ),
            ["VIP Gold"]
        );
        assert_eq!(
            names(app.data(q, json!({ "f": { "nameContains": "%" } })).await),
            Vec::<String>::new()
        );
    })
    .await;
}

#[tokio::test]
async fn connections_page_forwards_and_backwards() {
    on_each_backend(|app| async move {
        for n in 0..5 {
            create_group(&app, json!({ "name": format!("G{n}") })).await;
        }
        let q = "query($first: Int, $after: String, $last: Int, $before: String, $f: CustomerGroupFilter) {
            customerGroups(first: $first, after: $after, last: $last, before: $before, filter: $f) {
                totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { name } } } }";
        let f = json!({ "nameContains": "g" });
        let page1 = app.data(q, json!({ "first": 2, "f": f })).await["customerGroups"].clone();
        assert_eq!(page1["totalCount"], 5);
        assert_eq!(page1["pageInfo"]["hasNextPage"], true);
        assert_eq!(
            page1["edges"],
            json!([{ "node": { "name": "G0" } }, { "node": { "name": "G1" } }])
        );
        let page2 = app
            .data(
                q,
                json!({ "first": 2, "after": page1["pageInfo"]["endCursor"], "f": f }),
            )
            .await["customerGroups"]
            .clone();
        assert_eq!(
            page2["edges"],
            json!([{ "node": { "name": "G2" } }, { "node": { "name": "G3" } }])
        );
        assert_eq!(page2["pageInfo"]["hasPreviousPage"], true);
        let last = app.data(q, json!({ "last": 2, "f": f })).await["customerGroups"].clone();
        assert_eq!(
            last["edges"],
            json!([{ "node": { "name": "G3" } }, { "node": { "name": "G4" } }])
        );
        assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
        assert_eq!(last["pageInfo"]["hasNextPage"], false);
        let before = app
            .data(
                q,
                json!({ "last": 5, "before": last["pageInfo"]["startCursor"], "f": f }),
            )
            .await["customerGroups"]
            .clone();
        assert_eq!(
            before["edges"],
            json!([{ "node": { "name": "G0" } }, { "node": { "name": "G1" } }, { "node": { "name": "G2" } }])
        );

        for (args, message) in [
            (json!({ "first": 0 }), "`first` must be between 1 and 100, got 0"),
            (json!({ "first": 101 }), "`first` must be between 1 and 100, got 101"),
            (json!({ "last": -1 }), "`last` must be between 1 and 100, got -1"),
            (
                json!({ "first": 1, "last": 1 }),
                "pass either `first` or `last`, not both",
            ),
            (
                json!({ "first": 1, "after": "garbage!" }),
                "after: 'garbage!' is not a cursor of this connection",
            ),
        ] {
            let body = app.graphql(q, args).await;
            assert_eq!(body["errors"][0]["message"], message);
            assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        }
    })
    .await;
}

#[tokio::test]
async fn deleting_a_group_removes_its_memberships_and_links() {
    on_each_backend(|app| async move {
        let vip = id(&create_group(&app, json!({ "name": "VIP" })).await);
        let member = crate::fixtures::customer(&app, "m@example.com", json!({})).await;
        crate::fixtures::add_customers(&app, &vip, &[&member]).await;
        let list = crate::fixtures::price_list(&app, "VIP list", json!({})).await;
        crate::fixtures::link_price_list(&app, &vip, &list, 1).await;

        app.mutate("deleteCustomerGroup", DELETE, json!({ "input": { "id": vip } })).await;
        let after = app
            .data(
                "query($c: ID!, $l: ID!) { customer(id: $c) { groups { name } } priceList(id: $l) { customerGroups { priority } } }",
                json!({ "c": member, "l": list }),
            )
            .await;
        assert_eq!(after, json!({ "customer": { "groups": [] }, "priceList": { "customerGroups": [] } }));
    })
    .await;
}
