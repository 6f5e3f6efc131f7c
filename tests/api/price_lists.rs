use serde_json::{Value, json};

use crate::fixtures::{UPSERT_PRICES, link_price_list, price_list, pricing_group, product, type_group};
use crate::helpers::{first_error_code, on_each_backend};

const CREATE: &str = "mutation($input: CreatePriceListInput!) { createPriceList(input: $input) {
    priceList { id name description type status startsAt endsAt metadata version } userErrors { field message code } } }";

const UPDATE: &str = "mutation($input: UpdatePriceListInput!) { updatePriceList(input: $input) {
    priceList { name type status startsAt endsAt version } userErrors { field message code } } }";

#[tokio::test]
async fn price_lists_are_created_updated_and_deleted_with_their_prices_and_links() {
    on_each_backend(|app| async move {
        let data = app.data(CREATE, json!({ "input": { "name": "Summer", "description": "Sale", "startsAt": "2026-06-01T00:00:00+02:00", "endsAt": "2026-09-01T00:00:00Z" } })).await;
        let list = &data["createPriceList"]["priceList"];
        assert_eq!(list["type"], "SALE", "SALE by default");
        assert_eq!(list["status"], "ACTIVE", "ACTIVE by default");
        assert_eq!(list["startsAt"], "2026-05-31T22:00:00+00:00", "stored as the same instant in UTC");
        let list_id = list["id"].as_str().expect("id").to_owned();

        let data = app.data(UPDATE, json!({ "input": { "id": list_id, "version": 1, "type": "OVERRIDE", "status": "DRAFT", "startsAt": null } })).await;
        assert_eq!(data["updatePriceList"]["priceList"], json!({ "name": "Summer", "type": "OVERRIDE", "status": "DRAFT", "startsAt": null, "endsAt": "2026-09-01T00:00:00+00:00", "version": 2 }));

        let vip = pricing_group(&app, "VIP").await;
        link_price_list(&app, &vip, &list_id, 5).await;
        let chair = product(&app, "CH-1", json!({})).await;
        app.mutate("upsertPrices", UPSERT_PRICES, json!({ "input": { "priceListId": list_id, "prices": [{ "productId": chair, "currency": "USD", "amount": "9.99" }] } })).await;
        let read = app.data("query($id: ID!) { priceList(id: $id) { customerGroups { priority customerGroup { name } } prices(first: 10) { totalCount } } }", json!({ "id": list_id })).await;
        assert_eq!(read["priceList"], json!({ "customerGroups": [{ "priority": 5, "customerGroup": { "name": "VIP" } }], "prices": { "totalCount": 1 } }));

        let data = app.data("mutation($input: DeleteInput!) { deletePriceList(input: $input) { deletedId userErrors { code } } }", json!({ "input": { "id": list_id, "version": 2 } })).await;
        assert_eq!(data["deletePriceList"]["deletedId"], list_id.as_str());
        let group = app.data("query($id: ID!) { customerGroup(id: $id) { priceLists { priority } } }", json!({ "id": vip })).await;
        assert_eq!(group["customerGroup"]["priceLists"], json!([]), "the link went with the list");
    })
    .await;
}

#[tokio::test]
async fn a_window_must_start_before_it_ends() {
    on_each_backend(|app| async move {
        let data = app.data(CREATE, json!({ "input": { "name": "Empty", "startsAt": "2026-06-01T00:00:00Z", "endsAt": "2026-06-01T00:00:00Z" } })).await;
        assert_eq!(first_error_code(&data["createPriceList"]).as_deref(), Some("INVALID_WINDOW"));
        assert_eq!(data["createPriceList"]["userErrors"][0]["field"], json!(["endsAt"]));
        let list = price_list(&app, "Later", json!({ "startsAt": "2026-06-01T00:00:00Z" })).await;
        let data = app.data(UPDATE, json!({ "input": { "id": list, "endsAt": "2026-05-01T00:00:00Z" } })).await;
        assert_eq!(first_error_code(&data["updatePriceList"]).as_deref(), Some("INVALID_WINDOW"));
        let data = app.data(UPDATE, json!({ "input": { "id": list, "version": 9, "name": "Stale" } })).await;
        assert_eq!(first_error_code(&data["updatePriceList"]).as_deref(), Some("STALE_VERSION"));
        let bad_time = app.graphql(CREATE, json!({ "input": { "name": "X", "startsAt": "next tuesday" } })).await;
        assert!(bad_time["errors"][0]["message"].as_str().unwrap_or("").contains("DateTime"), "{bad_time}");
        let count = app.data("{ priceLists(first: 10) { totalCount } }", json!({})).await;
        assert_eq!(count["priceLists"]["totalCount"], 1);
    })
    .await;
}

#[tokio::test]
async fn prices_are_upserted_by_tier_filtered_and_deleted() {
    on_each_backend(|app| async move {
        let list = price_list(&app, "Wholesale", json!({ "type": "OVERRIDE" })).await;
        let chair = product(&app, "CH-1", json!({})).await;
        let desk = product(&app, "DE-1", json!({})).await;
        let prices = json!([
            { "productId": chair, "currency": "USD", "minQuantity": 1, "maxQuantity": 9, "amount": "10" },
            { "productId": chair, "currency": "USD", "minQuantity": 10, "amount": "8.5" },
            { "productId": desk, "currency": "JPY", "amount": "12000" },
        ]);
        let data = app.mutate("upsertPrices", UPSERT_PRICES, json!({ "input": { "priceListId": list, "prices": prices } })).await;
        let rows: Vec<Value> = data["prices"].as_array().expect("rows").iter().map(|p| json!([p["amount"]["amount"], p["minQuantity"], p["maxQuantity"]])).collect();
        assert_eq!(rows, [json!(["10.00", 1, 9]), json!(["8.50", 10, null]), json!(["12000", 1, null])]);
        let first_id = data["prices"][0]["id"].clone();

        let change = json!([{ "productId": chair, "currency": "USD", "minQuantity": 1, "maxQuantity": 4, "amount": "11" }]);
        let data = app.mutate("upsertPrices", UPSERT_PRICES, json!({ "input": { "priceListId": list, "prices": change } })).await;
        assert_eq!(data["prices"][0]["id"], first_id, "the same tier is updated, not duplicated");
        assert_eq!(data["prices"][0]["maxQuantity"], 4);

        let q = "query($id: ID!, $p: ID, $c: String) { priceList(id: $id) { prices(first: 10, productId: $p, currency: $c) { totalCount edges { node { amount { amount } product { sku } } } } } }";
        let all = app.data(q, json!({ "id": list })).await;
        assert_eq!(all["priceList"]["prices"]["totalCount"], 3);
        let chairs = app.data(q, json!({ "id": list, "p": chair })).await;
        assert_eq!(chairs["priceList"]["prices"]["totalCount"], 2);
        let yen = app.data(q, json!({ "id": list, "c": "jpy" })).await;
        assert_eq!(yen["priceList"]["prices"]["edges"], json!([{ "node": { "amount": { "amount": "12000" }, "product": { "sku": "DE-1" } } }]));
        let bad = app.graphql(q, json!({ "id": list, "c": "EURO" })).await;
        assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(bad["errors"][0]["extensions"]["reason"], "INVALID_CURRENCY");
        assert_eq!(bad["errors"][0]["message"], "'EURO' is not an ISO 4217 currency code");

        let delete = "mutation($input: DeletePricesInput!) { deletePrices(input: $input) { deletedCount userErrors { field code } } }";
        let data = app.data(delete, json!({ "input": { "priceListId": list, "prices": [{ "productId": chair, "currency": "USD", "minQuantity": 10 }, { "productId": desk, "currency": "JPY" }] } })).await;
        assert_eq!(data["deletePrices"]["deletedCount"], 2);
        let data = app.data(delete, json!({ "input": { "priceListId": list, "prices": [{ "productId": chair, "currency": "USD", "minQuantity": 0 }] } })).await;
        assert_eq!(data["deletePrices"]["userErrors"], json!([{ "field": ["prices", "0", "minQuantity"], "code": "INVALID_QUANTITY" }]));
    })
    .await;
}

#[tokio::test]
async fn bad_prices_are_refused_all_or_nothing() {
    on_each_backend(|app| async move {
        let list = price_list(&app, "L", json!({})).await;
        let chair = product(&app, "CH-1", json!({})).await;
        let good = json!({ "productId": chair, "currency": "USD", "amount": "1.00" });
        for (bad, field, code) in [
            (
                json!({ "productId": chair, "currency": "USD", "minQuantity": 5, "maxQuantity": 4, "amount": "1" }),
                vec!["prices", "1", "maxQuantity"],
                "INVALID_QUANTITY",
            ),
            (
                json!({ "productId": chair, "currency": "USD", "minQuantity": 2, "maxQuantity": 0, "amount": "1" }),
                vec!["prices", "1", "maxQuantity"],
                "INVALID_QUANTITY",
            ),
            (
                json!({ "productId": chair, "currency": "KWD", "amount": "1.0001" }),
                vec!["prices", "1", "amount"],
                "INVALID_AMOUNT",
            ),
            (
                json!({ "productId": chair, "currency": "BTC", "amount": "1" }),
                vec!["prices", "1", "currency"],
                "INVALID_CURRENCY",
            ),
            (
                json!({ "productId": "chair", "currency": "USD", "minQuantity": 3, "amount": "1" }),
                vec!["prices", "1", "productId"],
                "NOT_FOUND",
            ),
        ] {
            let data = app
                .data(
                    UPSERT_PRICES,
                    json!({ "input": { "priceListId": list, "prices": [good, bad] } }),
                )
                .await;
            assert_eq!(data["upsertPrices"]["userErrors"][0]["field"], json!(field), "{bad}");
            assert_eq!(data["upsertPrices"]["userErrors"][0]["code"], code, "{bad}");
        }
        let data = app
            .data(
                UPSERT_PRICES,
                json!({ "input": { "priceListId": uuid::Uuid::now_v7(), "prices": [good] } }),
            )
            .await;
        assert_eq!(data["upsertPrices"]["userErrors"][0]["field"], json!(["priceListId"]));
        assert_eq!(data["upsertPrices"]["userErrors"][0]["code"], "NOT_FOUND");
        let count = app
            .data(
                "query($id: ID!) { priceList(id: $id) { prices(first: 10) { totalCount } } }",
                json!({ "id": list }),
            )
            .await;
        assert_eq!(count["priceList"]["prices"]["totalCount"], 0);
    })
    .await;
}

#[tokio::test]
async fn group_price_list_links_are_pricing_only_and_ordered_by_priority() {
    on_each_backend(|app| async move {
        let vip = pricing_group(&app, "VIP").await;
        let retail = type_group(&app, "Retail").await;
        let a = price_list(&app, "A", json!({})).await;
        let b = price_list(&app, "B", json!({})).await;
        let c = price_list(&app, "C", json!({})).await;
        link_price_list(&app, &vip, &a, 20).await;
        link_price_list(&app, &vip, &b, 10).await;
        link_price_list(&app, &vip, &c, 20).await;
        link_price_list(&app, &vip, &a, 30).await;
        let read = app.data("query($id: ID!) { customerGroup(id: $id) { priceLists { priority priceList { name } } } }", json!({ "id": vip })).await;
        let order: Vec<Value> = read["customerGroup"]["priceLists"].as_array().expect("links").iter().map(|l| json!([l["priority"], l["priceList"]["name"]])).collect();
        assert_eq!(order, [json!([10, "B"]), json!([20, "C"]), json!([30, "A"])], "one link per pair; re-adding changes the priority");

        let add = "mutation($input: AddPriceListToGroupInput!) { addPriceListToGroup(input: $input) { customerGroupPriceList { priority } userErrors { field code } } }";
        for (group, list, priority, field, code) in [
            (retail.as_str(), a.as_str(), 1, "groupId", "WRONG_GROUP_KIND"),
            (vip.as_str(), "nope", 1, "priceListId", "NOT_FOUND"),
            (vip.as_str(), a.as_str(), -1, "priority", "INVALID_PRIORITY"),
        ] {
            let data = app.data(add, json!({ "input": { "groupId": group, "priceListId": list, "priority": priority } })).await;
            assert_eq!(data["addPriceListToGroup"]["userErrors"][0], json!({ "field": [field], "code": code }));
        }
        let remove = "mutation($input: RemovePriceListFromGroupInput!) { removePriceListFromGroup(input: $input) { customerGroup { priceLists { priceList { name } } } userErrors { code } } }";
        let data = app.data(remove, json!({ "input": { "groupId": vip, "priceListId": b } })).await;
        assert_eq!(data["removePriceListFromGroup"]["customerGroup"]["priceLists"], json!([{ "priceList": { "name": "C" } }, { "priceList": { "name": "A" } }]));
    })
    .await;
}
