//! Derived price lists (docs/pricing.md#derived-lists): a rule of
//! `percentOff` prices every product with a base price, a list's own
//! matching row wins over its rule, and bad rules write nothing.

use serde_json::{Value, json};

use crate::fixtures::{
    UPSERT_PRICES, base_price, customer, link_price_list, price_list, pricing_group, product, write,
};
use crate::helpers::{TestApp, on_each_backend};

const CREATE: &str = "mutation($input: CreatePriceListInput!) { createPriceList(input: $input) {
    priceList { id rule { percentOff } } userErrors { field message code } } }";

const UPDATE: &str = "mutation($input: UpdatePriceListInput!) { updatePriceList(input: $input) {
    priceList { rule { percentOff } version } userErrors { field message code } } }";

const PRICE: &str = "query($c: ID, $p: ID!, $cur: String!, $q: Int) {
    resolvedPrice(customerId: $c, productId: $p, currency: $cur, quantity: $q) {
        amount { amount } source tierMinQuantity rule { percentOff } priceList { name }
        explanation { priceList { name } outcome amount { amount } rule { percentOff } } } }";

async fn price(app: &TestApp, customer: &str, product: &str, currency: &str, quantity: i32) -> Value {
    let data = app
        .data(
            PRICE,
            json!({ "c": customer, "p": product, "cur": currency, "q": quantity }),
        )
        .await;
    data["resolvedPrice"].clone()
}

/// A customer in a group linked to `list`: the customer and the group.
async fn shopper(app: &TestApp, list: &str) -> (String, String) {
    let vip = pricing_group(app, "VIP").await;
    link_price_list(app, &vip, list, 1).await;
    let buyer = customer(app, "vip@example.com", json!({})).await;
    crate::fixtures::add_customers(app, &vip, &[&buyer]).await;
    (buyer, vip)
}

#[tokio::test]
async fn a_derived_list_prices_every_product_with_a_base_price_and_says_so() {
    on_each_backend(|app| async move {
        let data = app
            .data(
                CREATE,
                json!({ "input": { "name": "VIP 20 % off", "type": "OVERRIDE", "rule": { "percentOff": "20.00" } } }),
            )
            .await;
        assert_eq!(data["createPriceList"]["userErrors"], json!([]));
        assert_eq!(
            data["createPriceList"]["priceList"]["rule"],
            json!({ "percentOff": "20" }),
            "shown in its shortest form"
        );
        let list = data["createPriceList"]["priceList"]["id"]
            .as_str()
            .expect("an id")
            .to_owned();
        let (buyer, _) = shopper(&app, &list).await;
        let chair = product(&app, "CH-1", json!({})).await;
        let lamp = product(&app, "LA-1", json!({})).await;
        base_price(&app, &chair, 1, "19.99").await;
        base_price(&app, &chair, 10, "17.50").await;

        let priced = price(&app, &buyer, &chair, "USD", 1).await;
        assert_eq!(
            priced,
            json!({ "amount": { "amount": "15.99" }, "source": "PRICE_LIST", "tierMinQuantity": 1,
                "rule": { "percentOff": "20" }, "priceList": { "name": "VIP 20 % off" },
                "explanation": [{ "priceList": { "name": "VIP 20 % off" }, "outcome": "APPLIED",
                    "amount": { "amount": "15.99" }, "rule": { "percentOff": "20" } }] }),
            "19.99 × 0.8 = 15.992"
        );
        let priced = price(&app, &buyer, &chair, "USD", 12).await;
        assert_eq!(
            (&priced["amount"]["amount"], &priced["tierMinQuantity"]),
            (&json!("14.00"), &json!(10)),
            "from the base tier of 10"
        );
        let priced = price(&app, &buyer, &lamp, "USD", 1).await;
        assert_eq!(
            (&priced["amount"], &priced["source"], &priced["rule"]),
            (&Value::Null, &json!("NONE"), &Value::Null),
            "no base price, nothing to derive"
        );

        // The list's own row wins over its rule, for the quantities it covers.
        let own =
            json!([{ "productId": chair, "currency": "USD", "minQuantity": 1, "maxQuantity": 4, "amount": "18.00" }]);
        app.mutate(
            "upsertPrices",
            UPSERT_PRICES,
            json!({ "input": { "priceListId": list, "prices": own } }),
        )
        .await;
        let priced = price(&app, &buyer, &chair, "USD", 2).await;
        assert_eq!(
            (&priced["amount"]["amount"], &priced["rule"]),
            (&json!("18.00"), &Value::Null)
        );
        let priced = price(&app, &buyer, &chair, "USD", 5).await;
        assert_eq!(
            (&priced["amount"]["amount"], &priced["rule"]),
            (&json!("15.99"), &json!({ "percentOff": "20" }))
        );

        // It follows the base price (cached answers included) …
        base_price(&app, &chair, 1, "25.00").await;
        assert_eq!(price(&app, &buyer, &chair, "USD", 5).await["amount"]["amount"], "20.00");
        // … and a rule's change or removal.
        let data = app
            .data(
                UPDATE,
                json!({ "input": { "id": list, "rule": { "percentOff": "12.5" } } }),
            )
            .await;
        assert_eq!(
            data["updatePriceList"]["priceList"]["rule"],
            json!({ "percentOff": "12.5" })
        );
        assert_eq!(
            price(&app, &buyer, &chair, "USD", 5).await["amount"]["amount"],
            "21.88",
            "21.875 to the even cent"
        );
        let data = app
            .data(UPDATE, json!({ "input": { "id": list, "name": "Renamed" } }))
            .await;
        assert_eq!(
            data["updatePriceList"]["priceList"]["rule"],
            json!({ "percentOff": "12.5" }),
            "left out: kept"
        );
        let data = app.data(UPDATE, json!({ "input": { "id": list, "rule": null } })).await;
        assert_eq!(data["updatePriceList"]["priceList"]["rule"], Value::Null);
        let priced = price(&app, &buyer, &chair, "USD", 5).await;
        assert_eq!(
            (&priced["amount"]["amount"], &priced["source"]),
            (&json!("25.00"), &json!("BASE"))
        );
    })
    .await;
}

#[tokio::test]
async fn derived_amounts_round_half_to_even_in_each_currencys_minor_unit() {
    on_each_backend(|app| async move {
        // (currency, base, percentOff, derived amount)
        let table = [
            ("USD", "0.05", "50", "0.02"),   // 2.5 cents → 2
            ("USD", "0.07", "50", "0.04"),   // 3.5 cents → 4
            ("JPY", "999", "12.5", "874"),   // 874.125 yen
            ("JPY", "5", "50", "2"),         // 2.5 yen → 2
            ("KWD", "1.005", "50", "0.502"), // 502.5 fils → 502
            ("USD", "19.99", "100", "0.00"),
            ("USD", "123.45", "0.01", "123.44"), // 123.437655
        ];
        let chair = product(&app, "CH-1", json!({})).await;
        let vip = pricing_group(&app, "VIP").await;
        let buyer = customer(&app, "vip@example.com", json!({})).await;
        crate::fixtures::add_customers(&app, &vip, &[&buyer]).await;
        for (n, (currency, base, percent_off, expected)) in table.into_iter().enumerate() {
            let list = price_list(
                &app,
                &format!("L{n}"),
                json!({ "type": "OVERRIDE", "rule": { "percentOff": percent_off } }),
            )
            .await;
            link_price_list(&app, &vip, &list, 0).await;
            let input =
                json!({ "prices": [{ "productId": chair, "currency": currency, "minQuantity": 1, "amount": base }] });
            write(&app, "upsertBasePrices", input).await;
            let priced = price(&app, &buyer, &chair, currency, 1).await;
            assert_eq!(
                priced["amount"]["amount"], expected,
                "{percent_off} % off {base} {currency}"
            );
            write(
                &app,
                "removePriceListFromGroup",
                json!({ "groupId": vip, "priceListId": list }),
            )
            .await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_derived_sale_never_raises_a_price_and_the_walk_goes_on() {
    on_each_backend(|app| async move {
        let sale = price_list(&app, "Tiny sale", json!({ "rule": { "percentOff": "20" } })).await;
        let fallback = price_list(&app, "Fallback", json!({ "type": "OVERRIDE" })).await;
        let (buyer, vip) = shopper(&app, &sale).await;
        link_price_list(&app, &vip, &fallback, 2).await;
        let penny = product(&app, "PE-1", json!({})).await;
        base_price(&app, &penny, 1, "0.01").await;
        let input =
            json!({ "priceListId": fallback, "prices": [{ "productId": penny, "currency": "USD", "amount": "0.50" }] });
        app.mutate("upsertPrices", UPSERT_PRICES, json!({ "input": input }))
            .await;
        let priced = price(&app, &buyer, &penny, "USD", 1).await;
        assert_eq!(
            priced["amount"]["amount"], "0.50",
            "0.8 cents rounds to 1: not below base"
        );
        assert_eq!(priced["explanation"][0]["outcome"], "SALE_NOT_BELOW_BASE");
        assert_eq!(priced["explanation"][0]["rule"], json!({ "percentOff": "20" }));
        assert_eq!(priced["explanation"][1]["outcome"], "APPLIED");
    })
    .await;
}

#[tokio::test]
async fn a_bad_rule_is_invalid_rule_naming_the_field_and_writes_nothing() {
    on_each_backend(|app| async move {
        let list = price_list(&app, "Kept", json!({ "rule": { "percentOff": "10" } })).await;
        let table = [
            "0",
            "0.00",
            "100.01",
            "250",
            "-5",
            "12.345",
            "abc",
            "",
            "1e1",
            " 20",
            "99999999999999999999",
        ];
        for percent_off in table {
            let rule = json!({ "percentOff": percent_off });
            let data = app
                .data(CREATE, json!({ "input": { "name": "New", "rule": rule } }))
                .await;
            let payload = &data["createPriceList"];
            assert_eq!(payload["priceList"], Value::Null, "{percent_off:?}");
            assert_eq!(payload["userErrors"][0]["code"], "INVALID_RULE", "{percent_off:?}");
            assert_eq!(
                payload["userErrors"][0]["field"],
                json!(["rule", "percentOff"]),
                "{percent_off:?}"
            );
            let message = payload["userErrors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("percentOff"), "{message}");

            let data = app
                .data(
                    UPDATE,
                    json!({ "input": { "id": list, "name": "Changed", "rule": rule } }),
                )
                .await;
            assert_eq!(
                data["updatePriceList"]["userErrors"][0]["code"], "INVALID_RULE",
                "{percent_off:?}"
            );
        }
        let read = app
            .data(
                "{ priceLists(first: 10) { totalCount nodes { name version rule { percentOff } } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            read["priceLists"],
            json!({ "totalCount": 1, "nodes": [{ "name": "Kept", "version": 1, "rule": { "percentOff": "10" } }] }),
            "no list created, none changed"
        );
        let number = app
            .graphql(
                CREATE,
                json!({ "input": { "name": "N", "rule": { "percentOff": 20 } } }),
            )
            .await;
        let message = number["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("input.rule.percentOff"),
            "a JSON number is not a string, and the error says where: {number}"
        );
    })
    .await;
}
