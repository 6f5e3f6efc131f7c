use serde_json::json;

use crate::fixtures::{customer, organization, pricing_group, type_group};
use crate::helpers::{first_error_code, on_each_backend};

const UPDATE: &str = "mutation($input: UpdateOrganizationInput!) { updateOrganization(input: $input) {
    organization { name version parent { name } } userErrors { field message code } } }";

const SET_GROUPS: &str = "mutation($input: SetOrganizationGroupsInput!) { setOrganizationGroups(input: $input) {
    organization { groups { name } } userErrors { field message code } } }";

const READ: &str = "query($id: ID!) { organization(id: $id) { name metadata parent { name } groups { name }
    customers(first: 10) { totalCount edges { node { email organization { name } } } } } }";

#[tokio::test]
async fn organizations_nest_hold_customers_and_pricing_groups() {
    on_each_backend(|app| async move {
        let holding = organization(&app, "Acme Holding", json!({})).await;
        let acme = organization(&app, "Acme Hotels", json!({ "parentId": holding, "metadata": { "duns": "123" } })).await;
        customer(&app, "buyer@acme.test", json!({ "organizationId": acme })).await;
        let vip = pricing_group(&app, "VIP").await;
        let hotels = pricing_group(&app, "Hotels").await;
        let data = app.data(SET_GROUPS, json!({ "input": { "organizationId": acme, "groupIds": [vip, hotels, vip] } })).await;
        assert_eq!(data["setOrganizationGroups"]["organization"]["groups"], json!([{ "name": "Hotels" }, { "name": "VIP" }]));

        let read = app.data(READ, json!({ "id": acme })).await;
        assert_eq!(
            read["organization"],
            json!({
                "name": "Acme Hotels", "metadata": { "duns": "123" }, "parent": { "name": "Acme Holding" },
                "groups": [{ "name": "Hotels" }, { "name": "VIP" }],
                "customers": { "totalCount": 1, "edges": [{ "node": { "email": "buyer@acme.test", "organization": { "name": "Acme Hotels" } } }] }
            })
        );
        let data = app.data(SET_GROUPS, json!({ "input": { "organizationId": acme, "groupIds": [hotels] } })).await;
        assert_eq!(data["setOrganizationGroups"]["organization"]["groups"], json!([{ "name": "Hotels" }]), "the set is replaced");

        let children = app.data("query($p: ID) { organizations(first: 10, filter: { parentId: $p }) { edges { node { name } } } }", json!({ "p": holding })).await;
        assert_eq!(children["organizations"]["edges"], json!([{ "node": { "name": "Acme Hotels" } }]));
    })
    .await;
}

#[tokio::test]
async fn organization_groups_must_be_pricing_groups_and_not_everyone() {
    on_each_backend(|app| async move {
        let acme = organization(&app, "Acme", json!({})).await;
        let retail = type_group(&app, "Retail").await;
        let vip = pricing_group(&app, "VIP").await;
        let everyone = app
            .data(
                "{ customerGroups(first: 1, filter: { nameContains: \"everyone\" }) { edges { node { id } } } }",
                json!({}),
            )
            .await;
        let everyone = everyone["customerGroups"]["edges"][0]["node"]["id"].clone();
        for (group, code) in [
            (json!(retail), "WRONG_GROUP_KIND"),
            (everyone, "BUILT_IN"),
            (json!(uuid::Uuid::now_v7()), "NOT_FOUND"),
        ] {
            let data = app
                .data(
                    SET_GROUPS,
                    json!({ "input": { "organizationId": acme, "groupIds": [vip, group] } }),
                )
                .await;
            let payload = &data["setOrganizationGroups"];
            assert_eq!(payload["userErrors"][0]["code"], code);
            assert_eq!(payload["userErrors"][0]["field"], json!(["groupIds", "1"]));
        }
        let read = app.data(READ, json!({ "id": acme })).await;
        assert_eq!(
            read["organization"]["groups"],
            json!([]),
            "a refused call changes nothing"
        );
        let data = app
            .data(
                SET_GROUPS,
                json!({ "input": { "organizationId": uuid::Uuid::now_v7(), "groupIds": [] } }),
            )
            .await;
        assert_eq!(
            first_error_code(&data["setOrganizationGroups"]).as_deref(),
            Some("NOT_FOUND")
        );
    })
    .await;
}

#[tokio::test]
async fn an_organization_cannot_be_its_own_ancestor() {
    on_each_backend(|app| async move {
        let top = organization(&app, "Top", json!({})).await;
        let middle = organization(&app, "Middle", json!({ "parentId": top })).await;
        let bottom = organization(&app, "Bottom", json!({ "parentId": middle })).await;
        for parent in [&top, &bottom] {
            let data = app
                .data(UPDATE, json!({ "input": { "id": top, "parentId": parent } }))
                .await;
            assert_eq!(
                first_error_code(&data["updateOrganization"]).as_deref(),
                Some("INVALID")
            );
            assert_eq!(
                data["updateOrganization"]["userErrors"][0]["field"],
                json!(["parentId"])
            );
        }
        let data = app
            .data(
                UPDATE,
                json!({ "input": { "id": bottom, "version": 1, "parentId": null, "name": "Free" } }),
            )
            .await;
        assert_eq!(
            data["updateOrganization"]["organization"],
            json!({ "name": "Free", "version": 2, "parent": null })
        );
        let data = app
            .data(
                UPDATE,
                json!({ "input": { "id": bottom, "version": 1, "name": "Late" } }),
            )
            .await;
        assert_eq!(
            first_error_code(&data["updateOrganization"]).as_deref(),
            Some("STALE_VERSION")
        );
    })
    .await;
}

#[tokio::test]
async fn deleting_an_organization_keeps_its_customers_and_children() {
    on_each_backend(|app| async move {
        let acme = organization(&app, "Acme", json!({})).await;
        let child = organization(&app, "Acme West", json!({ "parentId": acme })).await;
        let buyer = customer(&app, "buyer@acme.test", json!({ "organizationId": acme })).await;
        let vip = pricing_group(&app, "VIP").await;
        app.data(SET_GROUPS, json!({ "input": { "organizationId": acme, "groupIds": [vip] } })).await;
        let data = app.data("mutation($input: DeleteInput!) { deleteOrganization(input: $input) { deletedId userErrors { code } } }", json!({ "input": { "id": acme } })).await;
        assert_eq!(data["deleteOrganization"]["deletedId"], acme.as_str());
        let read = app.data("query($c: ID!, $o: ID!) { customer(id: $c) { organization { name } } organization(id: $o) { parent { name } } }", json!({ "c": buyer, "o": child })).await;
        assert_eq!(read, json!({ "customer": { "organization": null }, "organization": { "parent": null } }));
        let gone = app.graphql(READ, json!({ "id": acme })).await;
        // Gone: `null` at its key, and no error (docs/api.md#nulls-and-errors).
        assert_eq!(gone, json!({ "data": { "organization": null } }), "{gone}");
    })
    .await;
}
