use serde_json::{Value, json};

use crate::fixtures::{UPSERT_BASE_PRICES, product, product_line};
use crate::helpers::{first_error_code, on_each_backend};

const READ: &str = "query($id: ID!) { product(id: $id) { sku name productLine { name }
    basePrices { amount { amount currencyCode } minQuantity } } }";

#[tokio::test]
async fn products_and_lines_are_created_updated_and_deleted() {
    on_each_backend(|app| async move {
        let chairs = product_line(&app, "Chairs").await;
        let chair = product(&app, "CH-1", json!({ "productLineId": chairs, "metadata": { "color": "red" } })).await;
        let read = app.data(READ, json!({ "id": chair })).await;
        assert_eq!(read["product"], json!({ "sku": "CH-1", "name": "Product CH-1", "productLine": { "name": "Chairs" }, "basePrices": [] }));

        let update = "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { product { sku version productLine { name } } userErrors { field code } } }";
        let data = app.data(update, json!({ "input": { "id": chair, "version": 1, "sku": "CH-100", "productLineId": null } })).await;
        assert_eq!(data["updateProduct"]["product"], json!({ "sku": "CH-100", "version": 2, "productLine": null }));
        let data = app.data(update, json!({ "input": { "id": chair, "version": 1, "name": "Old" } })).await;
        assert_eq!(first_error_code(&data["updateProduct"]).as_deref(), Some("STALE_VERSION"));

        let data = app.data(update, json!({ "input": { "id": chair, "productLineId": chairs } })).await;
        assert_eq!(data["updateProduct"]["userErrors"], json!([]));
        let line_update = "mutation($input: UpdateProductLineInput!) { updateProductLine(input: $input) { productLine { name version } userErrors { code } } }";
        let data = app.data(line_update, json!({ "input": { "id": chairs, "name": "Seating", "version": 1 } })).await;
        assert_eq!(data["updateProductLine"]["productLine"], json!({ "name": "Seating", "version": 2 }));
        let delete_line = "mutation($input: DeleteInput!) { deleteProductLine(input: $input) { deletedId userErrors { code } } }";
        app.data(delete_line, json!({ "input": { "id": chairs } })).await;
        let read = app.data(READ, json!({ "id": chair })).await;
        assert_eq!(read["product"]["productLine"], Value::Null, "the product outlives its line");

        let search = app.data("{ products(first: 10, filter: { search: \"ch-1\" }) { totalCount } productLines(first: 10) { totalCount } }", json!({})).await;
        assert_eq!(search, json!({ "products": { "totalCount": 1 }, "productLines": { "totalCount": 0 } }));
        let delete = "mutation($input: DeleteInput!) { deleteProduct(input: $input) { deletedId userErrors { code } } }";
        let data = app.data(delete, json!({ "input": { "id": chair } })).await;
        assert_eq!(data["deleteProduct"]["deletedId"], chair.as_str());
    })
    .await;
}

#[tokio::test]
async fn bad_product_input_is_refused() {
    on_each_backend(|app| async move {
        product(&app, "SKU-1", json!({})).await;
        let create = "mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } userErrors { field message code } } }";
        for (input, field, code) in [
            (json!({ "sku": "SKU-1", "name": "Again" }), "sku", "TAKEN"),
            (json!({ "sku": "SKU 2", "name": "Spaced" }), "sku", "INVALID"),
            (json!({ "sku": "SKU-2", "name": "" }), "name", "BLANK"),
            (json!({ "sku": "SKU-2", "name": "X", "productLineId": uuid::Uuid::now_v7() }), "productLineId", "NOT_FOUND"),
        ] {
            let data = app.data(create, json!({ "input": input })).await;
            assert_eq!(data["createProduct"]["userErrors"][0]["field"], json!([field]), "{input}");
            assert_eq!(data["createProduct"]["userErrors"][0]["code"], code, "{input}");
        }
        let count = app.data("{ products(first: 10) { totalCount } }", json!({})).await;
        assert_eq!(count["products"]["totalCount"], 1);
    })
    .await;
}

#[tokio::test]
async fn base_prices_are_exact_in_every_currency_and_upserted_by_tier() {
    on_each_backend(|app| async move {
        let chair = product(&app, "CH-1", json!({})).await;
        let prices = json!([
            { "productId": chair, "currency": "USD", "amount": "10.5" },
            { "productId": chair, "currency": "usd", "minQuantity": 10, "amount": "9" },
            { "productId": chair, "currency": "JPY", "amount": "1500" },
            { "productId": chair, "currency": "KWD", "amount": "3.25" },
            { "productId": chair, "currency": "EUR", "amount": "0" },
        ]);
        let data = app.mutate("upsertBasePrices", UPSERT_BASE_PRICES, json!({ "input": { "prices": prices } })).await;
        let written: Vec<Value> = data["basePrices"].as_array().expect("rows").iter().map(|p| p["amount"].clone()).collect();
        assert_eq!(
            written,
            [
                json!({ "amount": "10.50", "currencyCode": "USD" }),
                json!({ "amount": "9.00", "currencyCode": "USD" }),
                json!({ "amount": "1500", "currencyCode": "JPY" }),
                json!({ "amount": "3.250", "currencyCode": "KWD" }),
                json!({ "amount": "0.00", "currencyCode": "EUR" }),
            ]
        );
        let again = json!([{ "productId": chair, "currency": "USD", "amount": "11.00" }]);
        app.mutate("upsertBasePrices", UPSERT_BASE_PRICES, json!({ "input": { "prices": again } })).await;
        let read = app.data(READ, json!({ "id": chair })).await;
        assert_eq!(
            read["product"]["basePrices"],
            json!([
                { "amount": { "amount": "0.00", "currencyCode": "EUR" }, "minQuantity": 1 },
                { "amount": { "amount": "1500", "currencyCode": "JPY" }, "minQuantity": 1 },
                { "amount": { "amount": "3.250", "currencyCode": "KWD" }, "minQuantity": 1 },
                { "amount": { "amount": "11.00", "currencyCode": "USD" }, "minQuantity": 1 },
                { "amount": { "amount": "9.00", "currencyCode": "USD" }, "minQuantity": 10 },
            ])
        );
        let delete = "mutation($input: DeleteBasePricesInput!) { deleteBasePrices(input: $input) { deletedCount userErrors { code } } }";
        let data = app.data(delete, json!({ "input": { "prices": [
            { "productId": chair, "currency": "USD", "minQuantity": 10 },
            { "productId": chair, "currency": "EUR" },
            { "productId": chair, "currency": "GBP" },
        ] } })).await;
        assert_eq!(data["deleteBasePrices"]["deletedCount"], 2);
    })
    .await;
}

#[tokio::test]
async fn bad_base_prices_are_refused_all_or_nothing() {
    on_each_backend(|app| async move {
        let chair = product(&app, "CH-1", json!({})).await;
        let good = json!({ "productId": chair, "currency": "USD", "amount": "1.00" });
        let cases = [
            (
                json!({ "productId": chair, "currency": "XYZ", "amount": "1" }),
                vec!["prices", "1", "currency"],
                "INVALID_CURRENCY",
            ),
            (
                json!({ "productId": chair, "currency": "US", "amount": "1" }),
                vec!["prices", "1", "currency"],
                "INVALID_CURRENCY",
            ),
            (
                json!({ "productId": chair, "currency": "EUR", "amount": "1.234" }),
                vec!["prices", "1", "amount"],
                "INVALID_AMOUNT",
            ),
            (
                json!({ "productId": chair, "currency": "JPY", "amount": "10.5" }),
                vec!["prices", "1", "amount"],
                "INVALID_AMOUNT",
            ),
            (
                json!({ "productId": chair, "currency": "EUR", "amount": "-1.00" }),
                vec!["prices", "1", "amount"],
                "INVALID_AMOUNT",
            ),
            (
                json!({ "productId": chair, "currency": "EUR", "amount": "1e3" }),
                vec!["prices", "1", "amount"],
                "INVALID_AMOUNT",
            ),
            (
                json!({ "productId": chair, "currency": "EUR", "amount": "" }),
                vec!["prices", "1", "amount"],
                "INVALID_AMOUNT",
            ),
            (
                json!({ "productId": chair, "currency": "EUR", "minQuantity": 0, "amount": "1" }),
                vec!["prices", "1", "minQuantity"],
                "INVALID_QUANTITY",
            ),
            (
                json!({ "productId": uuid::Uuid::now_v7(), "currency": "EUR", "amount": "1" }),
                vec!["prices", "1", "productId"],
                "NOT_FOUND",
            ),
            (
                json!({ "productId": chair, "currency": "USD", "amount": "2.00" }),
                vec!["prices", "1"],
                "INVALID",
            ),
        ];
        for (bad, field, code) in cases {
            let data = app
                .data(UPSERT_BASE_PRICES, json!({ "input": { "prices": [good, bad] } }))
                .await;
            let payload = &data["upsertBasePrices"];
            assert_eq!(payload["basePrices"], Value::Null, "{bad}");
            assert_eq!(payload["userErrors"][0]["field"], json!(field), "{bad}");
            assert_eq!(payload["userErrors"][0]["code"], code, "{bad}: {payload}");
        }
        let read = app.data(READ, json!({ "id": chair })).await;
        assert_eq!(
            read["product"]["basePrices"],
            json!([]),
            "the good row was not written either"
        );

        let too_many: Vec<Value> = (0..1001)
            .map(|n| json!({ "productId": chair, "currency": "USD", "minQuantity": n + 1, "amount": "1" }))
            .collect();
        let data = app
            .data(UPSERT_BASE_PRICES, json!({ "input": { "prices": too_many } }))
            .await;
        assert_eq!(first_error_code(&data["upsertBasePrices"]).as_deref(), Some("TOO_MANY"));
    })
    .await;
}

#[tokio::test]
async fn deleting_a_product_removes_its_base_and_list_prices() {
    on_each_backend(|app| async move {
        let chair = product(&app, "CH-1", json!({})).await;
        let desk = product(&app, "DE-1", json!({})).await;
        let base = json!([{ "productId": chair, "currency": "USD", "amount": "1.00" }, { "productId": desk, "currency": "USD", "amount": "2.00" }]);
        app.mutate("upsertBasePrices", UPSERT_BASE_PRICES, json!({ "input": { "prices": base } })).await;
        let list = crate::fixtures::price_list(&app, "L", json!({})).await;
        let prices = json!([{ "productId": chair, "currency": "USD", "amount": "0.90" }, { "productId": desk, "currency": "USD", "amount": "1.90" }]);
        app.mutate("upsertPrices", crate::fixtures::UPSERT_PRICES, json!({ "input": { "priceListId": list, "prices": prices } })).await;

        let delete = "mutation($input: DeleteInput!) { deleteProduct(input: $input) { deletedId userErrors { code } } }";
        app.data(delete, json!({ "input": { "id": chair } })).await;
        let left = app
            .data("query($l: ID!) { priceList(id: $l) { prices(first: 10) { totalCount edges { node { product { sku } } } } } }", json!({ "l": list }))
            .await;
        assert_eq!(left["priceList"]["prices"], json!({ "totalCount": 1, "edges": [{ "node": { "product": { "sku": "DE-1" } } }] }));
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let chair_id = uuid::Uuid::parse_str(&chair).expect("uuid");
        let base_left = entity::base_price::Entity::find()
            .filter(entity::base_price::Column::ProductId.eq(chair_id))
            .count(&app.db.conn)
            .await
            .expect("count");
        assert_eq!(base_left, 0, "the chair's base price went with it");
        let read = app.data(READ, json!({ "id": desk })).await;
        assert_eq!(read["product"]["basePrices"][0]["amount"]["amount"], "2.00", "the desk's stays");
        let gone = app.data(delete, json!({ "input": { "id": chair } })).await;
        assert_eq!(gone["deleteProduct"]["userErrors"][0]["code"], "NOT_FOUND");
    })
    .await;
}
