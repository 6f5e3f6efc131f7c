//! The rules of docs/pricing.md, one table or scenario per rule, through the API.

use serde_json::{Value, json};

use crate::fixtures::{
    UPSERT_PRICES, add_customers, base_price, create_group, customer, link_price_list, organization, price_list,
    pricing_group, product, product_line, type_group,
};
use crate::helpers::{TestApp, on_each_backend};

const RESOLVE: &str = "query($c: ID, $p: ID!, $q: Int!, $at: DateTime, $s: PricingStrategy!) {
    resolvedPrice(customerId: $c, productId: $p, currency: \"USD\", quantity: $q, at: $at, strategy: $s) {
        amount { amount currencyCode } basePrice { amount } source priceList { name } customerGroup { name }
        priority tierMinQuantity quantity
        explanation { customerGroup { name } priceList { name } priority outcome amount { amount } } } }";

/// Tiers as (minQuantity, maxQuantity, amount).
async fn list_prices(app: &TestApp, list_id: &str, product_id: &str, tiers: &[(i32, Option<i32>, &str)]) {
    let prices: Vec<Value> = tiers
        .iter()
        .map(|(min, max, amount)| {
            json!({ "productId": product_id, "currency": "USD", "minQuantity": min, "maxQuantity": max, "amount": amount })
        })
        .collect();
    app.mutate(
        "upsertPrices",
        UPSERT_PRICES,
        json!({ "input": { "priceListId": list_id, "prices": prices } }),
    )
    .await;
}

/// A list with one price for `product_id`, linked to `group_id`.
async fn list_with_price(
    app: &TestApp,
    name: &str,
    extra: Value,
    group_id: &str,
    priority: i32,
    product_id: &str,
    amount: &str,
) -> String {
    let list = price_list(app, name, extra).await;
    list_prices(app, &list, product_id, &[(1, None, amount)]).await;
    link_price_list(app, group_id, &list, priority).await;
    list
}

async fn resolve(app: &TestApp, customer_id: Option<&str>, product_id: &str, quantity: i32) -> Value {
    resolve_with(app, customer_id, product_id, quantity, json!({})).await
}

async fn resolve_with(
    app: &TestApp,
    customer_id: Option<&str>,
    product_id: &str,
    quantity: i32,
    extra: Value,
) -> Value {
    let mut variables = json!({ "c": customer_id, "p": product_id, "q": quantity, "s": "PRIORITY" });
    if let (Some(vars), Value::Object(extra)) = (variables.as_object_mut(), extra) {
        vars.extend(extra);
    }
    app.data(RESOLVE, variables).await["resolvedPrice"].clone()
}

/// (amount, source, list) — what a shopper sees first.
fn summary(price: &Value) -> (Value, Value, Value) {
    (
        price["amount"]["amount"].clone(),
        price["source"].clone(),
        price["priceList"]["name"].clone(),
    )
}

fn outcomes(price: &Value) -> Vec<(String, String)> {
    price["explanation"]
        .as_array()
        .expect("explanation")
        .iter()
        .map(|e| {
            (
                e["priceList"]["name"].as_str().unwrap_or("").to_owned(),
                e["outcome"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn pair(list: &str, outcome: &str) -> (String, String) {
    (list.to_owned(), outcome.to_owned())
}

#[tokio::test]
async fn seed_002_edge_cases_fall_back_to_the_base_price_or_nothing() {
    on_each_backend(|app| async move {
        let chair = chair(&app).await;
        let no_base = product(&app, "NB-1", json!({})).await;

        // No group at all.
        let loner = customer(&app, "loner@example.com", json!({})).await;
        let price = resolve(&app, Some(&loner), &chair, 1).await;
        assert_eq!(summary(&price), (json!("100.00"), json!("BASE"), Value::Null));
        assert_eq!(price["basePrice"]["amount"], "100.00");
        assert_eq!(price["tierMinQuantity"], 1);

        // An inactive group's lists are ignored.
        let dormant = id_of(create_group(&app, json!({ "name": "Dormant", "isActive": false })).await);
        list_with_price(
            &app,
            "Dormant list",
            json!({ "type": "OVERRIDE" }),
            &dormant,
            1,
            &chair,
            "50.00",
        )
        .await;
        let member = customer(&app, "dormant@example.com", json!({})).await;
        add_customers(&app, &dormant, &[&member]).await;
        let price = resolve(&app, Some(&member), &chair, 1).await;
        assert_eq!(summary(&price), (json!("100.00"), json!("BASE"), Value::Null));
        assert_eq!(outcomes(&price), [pair("Dormant list", "GROUP_INACTIVE")]);

        // A group whose list is empty.
        let empty = pricing_group(&app, "Empty").await;
        let empty_list = price_list(&app, "Empty list", json!({ "type": "OVERRIDE" })).await;
        link_price_list(&app, &empty, &empty_list, 1).await;
        let member = customer(&app, "empty@example.com", json!({})).await;
        add_customers(&app, &empty, &[&member]).await;
        let price = resolve(&app, Some(&member), &chair, 1).await;
        assert_eq!(summary(&price), (json!("100.00"), json!("BASE"), Value::Null));
        assert_eq!(outcomes(&price), [pair("Empty list", "NO_PRICE")]);

        // Every list inactive (draft).
        let drafts = pricing_group(&app, "Drafts").await;
        list_with_price(
            &app,
            "Draft A",
            json!({ "status": "DRAFT", "type": "OVERRIDE" }),
            &drafts,
            1,
            &chair,
            "10.00",
        )
        .await;
        list_with_price(
            &app,
            "Draft B",
            json!({ "status": "DRAFT" }),
            &drafts,
            2,
            &chair,
            "20.00",
        )
        .await;
        let member = customer(&app, "drafts@example.com", json!({})).await;
        add_customers(&app, &drafts, &[&member]).await;
        let price = resolve(&app, Some(&member), &chair, 1).await;
        assert_eq!(summary(&price), (json!("100.00"), json!("BASE"), Value::Null));
        assert_eq!(
            outcomes(&price),
            [pair("Draft A", "LIST_DRAFT"), pair("Draft B", "LIST_DRAFT")]
        );

        // No price anywhere: no amount, and no error.
        let price = resolve(&app, Some(&member), &no_base, 1).await;
        assert_eq!(summary(&price), (Value::Null, json!("NONE"), Value::Null));
        assert_eq!(price["basePrice"], Value::Null);
        let price = resolve(&app, None, &no_base, 1).await;
        assert_eq!(summary(&price), (Value::Null, json!("NONE"), Value::Null));
    })
    .await;
}

/// A chair with a base price of 100.00 USD, and a VIP group with one member.
struct Shop {
    chair: String,
    vip: String,
    shopper: String,
}

async fn chair(app: &TestApp) -> String {
    let chair = product(app, "CH-1", json!({})).await;
    base_price(app, &chair, 1, "100.00").await;
    chair
}

async fn shop(app: &TestApp) -> Shop {
    let chair = chair(app).await;
    let vip = pricing_group(app, "VIP").await;
    let shopper = customer(app, "vip@example.com", json!({})).await;
    add_customers(app, &vip, &[&shopper]).await;
    Shop { chair, vip, shopper }
}

fn id_of(value: Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn sale_prices_never_raise_a_price_and_override_prices_always_apply() {
    on_each_backend(|app| async move {
        let Shop { chair, vip, shopper } = shop(&app).await;
        let no_base = product(&app, "NB-1", json!({})).await;

        // (list type, list amount, expected amount, expected source, outcome)
        let cases = [
            ("SALE", "90.00", "90.00", "PRICE_LIST", "APPLIED"),
            ("SALE", "100.00", "100.00", "BASE", "SALE_NOT_BELOW_BASE"),
            ("SALE", "120.00", "100.00", "BASE", "SALE_NOT_BELOW_BASE"),
            ("OVERRIDE", "120.00", "120.00", "PRICE_LIST", "APPLIED"),
            ("OVERRIDE", "80.00", "80.00", "PRICE_LIST", "APPLIED"),
        ];
        for (n, (list_type, amount, expected, source, outcome)) in cases.into_iter().enumerate() {
            let name = format!("{list_type} {n}");
            let list = list_with_price(&app, &name, json!({ "type": list_type }), &vip, 1, &chair, amount).await;
            let price = resolve(&app, Some(&shopper), &chair, 1).await;
            assert_eq!(price["amount"]["amount"], expected, "{list_type} at {amount}");
            assert_eq!(price["source"], source, "{list_type} at {amount}");
            assert_eq!(outcomes(&price), [pair(&name, outcome)], "{list_type} at {amount}");
            app.data(
                "mutation($input: DeleteInput!) { deletePriceList(input: $input) { deletedId } }",
                json!({ "input": { "id": list } }),
            )
            .await;
        }
        // A sale with no base price to compare with applies.
        list_with_price(&app, "Sale only", json!({ "type": "SALE" }), &vip, 1, &no_base, "5.00").await;
        let price = resolve(&app, Some(&shopper), &no_base, 1).await;
        assert_eq!(
            summary(&price),
            (json!("5.00"), json!("PRICE_LIST"), json!("Sale only"))
        );
        assert_eq!(price["customerGroup"]["name"], "VIP");
        assert_eq!(price["priority"], 1);
    })
    .await;
}

#[tokio::test]
async fn lists_are_walked_by_priority_then_age_and_a_skipped_sale_passes_the_turn() {
    on_each_backend(|app| async move {
        let chair = chair(&app).await;
        let vip = pricing_group(&app, "VIP").await;
        let staff = pricing_group(&app, "Staff").await;
        let shopper = customer(&app, "both@example.com", json!({})).await;
        add_customers(&app, &vip, &[&shopper]).await;
        add_customers(&app, &staff, &[&shopper]).await;

        // Created in this order; equal priorities go to the older list.
        list_with_price(&app, "Older", json!({ "type": "OVERRIDE" }), &vip, 5, &chair, "70.00").await;
        list_with_price(&app, "Newer", json!({ "type": "OVERRIDE" }), &staff, 5, &chair, "60.00").await;
        list_with_price(
            &app,
            "Poor sale",
            json!({ "type": "SALE" }),
            &staff,
            1,
            &chair,
            "150.00",
        )
        .await;
        list_with_price(&app, "Last", json!({ "type": "OVERRIDE" }), &vip, 9, &chair, "10.00").await;

        let price = resolve(&app, Some(&shopper), &chair, 1).await;
        assert_eq!(summary(&price), (json!("70.00"), json!("PRICE_LIST"), json!("Older")));
        assert_eq!(price["customerGroup"]["name"], "VIP");
        assert_eq!(
            outcomes(&price),
            [
                pair("Poor sale", "SALE_NOT_BELOW_BASE"),
                pair("Older", "APPLIED"),
                pair("Newer", "OUTRANKED"),
                pair("Last", "OUTRANKED"),
            ],
            "a customer in several groups gets the rule's price, not the newest list's"
        );

        // LOWEST_PRICE: an OVERRIDE still wins first...
        let lowest = resolve_with(&app, Some(&shopper), &chair, 1, json!({ "s": "LOWEST_PRICE" })).await;
        assert_eq!(summary(&lowest), (json!("70.00"), json!("PRICE_LIST"), json!("Older")));
    })
    .await;
}

#[tokio::test]
async fn lowest_price_takes_the_cheapest_sale_or_the_base() {
    on_each_backend(|app| async move {
        let Shop { chair, vip, shopper } = shop(&app).await;
        list_with_price(&app, "Sale 90", json!({ "type": "SALE" }), &vip, 1, &chair, "90.00").await;
        list_with_price(&app, "Sale 80", json!({ "type": "SALE" }), &vip, 2, &chair, "80.00").await;
        list_with_price(&app, "Also 80", json!({ "type": "SALE" }), &vip, 3, &chair, "80.00").await;

        let priority = resolve(&app, Some(&shopper), &chair, 1).await;
        assert_eq!(
            summary(&priority),
            (json!("90.00"), json!("PRICE_LIST"), json!("Sale 90"))
        );
        let lowest = resolve_with(&app, Some(&shopper), &chair, 1, json!({ "s": "LOWEST_PRICE" })).await;
        assert_eq!(
            summary(&lowest),
            (json!("80.00"), json!("PRICE_LIST"), json!("Sale 80")),
            "ties go to the earlier candidate"
        );
        assert_eq!(
            outcomes(&lowest),
            [
                pair("Sale 90", "OUTRANKED"),
                pair("Sale 80", "APPLIED"),
                pair("Also 80", "OUTRANKED")
            ]
        );

        // With an OVERRIDE above every sale, LOWEST_PRICE still takes the override.
        list_with_price(
            &app,
            "Contract",
            json!({ "type": "OVERRIDE" }),
            &vip,
            7,
            &chair,
            "95.00",
        )
        .await;
        let lowest = resolve_with(&app, Some(&shopper), &chair, 1, json!({ "s": "LOWEST_PRICE" })).await;
        assert_eq!(
            summary(&lowest),
            (json!("95.00"), json!("PRICE_LIST"), json!("Contract"))
        );
    })
    .await;
}

#[tokio::test]
async fn quantity_tiers_apply_from_their_first_quantity_to_their_last() {
    on_each_backend(|app| async move {
        let Shop { chair, vip, shopper } = shop(&app).await;
        base_price(&app, &chair, 10, "90.00").await;
        let list = price_list(&app, "Tiers", json!({ "type": "OVERRIDE" })).await;
        list_prices(
            &app,
            &list,
            &chair,
            &[
                (20, Some(49), "80.00"),
                (50, Some(99), "70.00"),
                (60, Some(60), "65.00"),
            ],
        )
        .await;
        link_price_list(&app, &vip, &list, 1).await;

        // (quantity, amount, source, tierMinQuantity, base)
        let cases = [
            (1, "100.00", "BASE", 1, "100.00"),
            (9, "100.00", "BASE", 1, "100.00"),
            (10, "90.00", "BASE", 10, "90.00"),
            (19, "90.00", "BASE", 10, "90.00"),
            (20, "80.00", "PRICE_LIST", 20, "90.00"),
            (49, "80.00", "PRICE_LIST", 20, "90.00"),
            (50, "70.00", "PRICE_LIST", 50, "90.00"),
            (59, "70.00", "PRICE_LIST", 50, "90.00"),
            (60, "65.00", "PRICE_LIST", 60, "90.00"),
            (61, "70.00", "PRICE_LIST", 50, "90.00"),
            (99, "70.00", "PRICE_LIST", 50, "90.00"),
            (100, "90.00", "BASE", 10, "90.00"),
        ];
        for (quantity, amount, source, tier, base) in cases {
            let price = resolve(&app, Some(&shopper), &chair, quantity).await;
            assert_eq!(price["amount"]["amount"], amount, "quantity {quantity}");
            assert_eq!(price["source"], source, "quantity {quantity}");
            assert_eq!(price["tierMinQuantity"], tier, "quantity {quantity}");
            assert_eq!(price["basePrice"]["amount"], base, "quantity {quantity}");
            assert_eq!(price["quantity"], quantity);
        }
    })
    .await;
}

#[tokio::test]
async fn windows_start_inclusive_and_end_exclusive_at_the_microsecond() {
    on_each_backend(|app| async move {
        let Shop { chair, vip, shopper } = shop(&app).await;
        let window =
            json!({ "type": "OVERRIDE", "startsAt": "2026-12-01T00:00:00Z", "endsAt": "2026-12-24T18:00:00Z" });
        list_with_price(&app, "Advent", window, &vip, 1, &chair, "75.00").await;

        let cases = [
            ("2026-11-30T23:59:59.999999Z", "100.00", "NOT_STARTED"),
            ("2026-12-01T00:00:00Z", "75.00", "APPLIED"),
            ("2026-12-01T01:00:00+01:00", "75.00", "APPLIED"),
            ("2026-11-30T23:00:00-01:00", "75.00", "APPLIED"),
            ("2026-12-01T00:59:59.999999+01:00", "100.00", "NOT_STARTED"),
            ("2026-11-30T23:30:00-00:30", "75.00", "APPLIED"),
            ("2026-12-24T17:59:59.999999Z", "75.00", "APPLIED"),
            ("2026-12-24T18:00:00Z", "100.00", "ENDED"),
            ("2026-12-24T19:00:00+01:00", "100.00", "ENDED"),
        ];
        for (at, amount, outcome) in cases {
            let price = resolve_with(&app, Some(&shopper), &chair, 1, json!({ "at": at })).await;
            assert_eq!(price["amount"]["amount"], amount, "at {at}");
            assert_eq!(outcomes(&price), [pair("Advent", outcome)], "at {at}");
        }
    })
    .await;
}

#[tokio::test]
async fn an_organization_with_groups_prices_its_customers_and_a_parent_never_does() {
    on_each_backend(|app| async move {
        let chair = chair(&app).await;
        let own = pricing_group(&app, "Own").await;
        let org_group = pricing_group(&app, "Org deal").await;
        let parent_group = pricing_group(&app, "Parent deal").await;
        list_with_price(&app, "Own list", json!({ "type": "OVERRIDE" }), &own, 1, &chair, "90.00").await;
        list_with_price(&app, "Org list", json!({ "type": "OVERRIDE" }), &org_group, 1, &chair, "80.00").await;
        list_with_price(&app, "Parent list", json!({ "type": "OVERRIDE" }), &parent_group, 1, &chair, "10.00").await;
        let holding = organization(&app, "Holding", json!({})).await;
        let acme = organization(&app, "Acme", json!({ "parentId": holding })).await;
        let set_groups = "mutation($input: SetOrganizationGroupsInput!) { setOrganizationGroups(input: $input) { userErrors { code } } }";
        app.data(set_groups, json!({ "input": { "organizationId": holding, "groupIds": [parent_group] } })).await;

        let buyer = customer(&app, "buyer@acme.test", json!({ "organizationId": acme })).await;
        add_customers(&app, &own, &[&buyer]).await;
        let groups = "query($id: ID!) { customer(id: $id) { effectiveGroups { customerGroup { name } via } } }";

        // The organization has no groups of its own: the customer's count; the parent's never.
        let price = resolve(&app, Some(&buyer), &chair, 1).await;
        assert_eq!(summary(&price), (json!("90.00"), json!("PRICE_LIST"), json!("Own list")));
        let effective = app.data(groups, json!({ "id": buyer })).await;
        assert_eq!(
            effective["customer"]["effectiveGroups"],
            json!([{ "customerGroup": { "name": "Own" }, "via": "DIRECT" }, { "customerGroup": { "name": "Everyone" }, "via": "EVERYONE" }])
        );

        // An organization whose only group is inactive has no groups (inactive
        // groups are absent everywhere): the customer's own still count.
        let dormant = id_of(create_group(&app, json!({ "name": "Dormant org deal", "isActive": false })).await);
        app.data(set_groups, json!({ "input": { "organizationId": acme, "groupIds": [dormant] } })).await;
        let price = resolve(&app, Some(&buyer), &chair, 1).await;
        assert_eq!(summary(&price), (json!("90.00"), json!("PRICE_LIST"), json!("Own list")));

        // Once it has an active one, the organization's groups replace the customer's own.
        app.data(set_groups, json!({ "input": { "organizationId": acme, "groupIds": [org_group] } })).await;
        let price = resolve(&app, Some(&buyer), &chair, 1).await;
        assert_eq!(summary(&price), (json!("80.00"), json!("PRICE_LIST"), json!("Org list")));
        assert_eq!(price["customerGroup"]["name"], "Org deal");
        let effective = app.data(groups, json!({ "id": buyer })).await;
        assert_eq!(
            effective["customer"]["effectiveGroups"],
            json!([{ "customerGroup": { "name": "Org deal" }, "via": "ORGANIZATION" }, { "customerGroup": { "name": "Everyone" }, "via": "EVERYONE" }])
        );
    })
    .await;
}

#[tokio::test]
async fn group_prices_reach_every_member_and_nobody_else() {
    on_each_backend(|app| async move {
        let chair = chair(&app).await;
        let vip = pricing_group(&app, "VIP").await;
        list_with_price(
            &app,
            "VIP list",
            json!({ "type": "OVERRIDE" }),
            &vip,
            1,
            &chair,
            "60.00",
        )
        .await;
        let members: Vec<String> = [
            customer(&app, "a@example.com", json!({})).await,
            customer(&app, "b@example.com", json!({})).await,
            customer(&app, "c@example.com", json!({})).await,
        ]
        .into();
        let refs: Vec<&str> = members.iter().map(String::as_str).collect();
        add_customers(&app, &vip, &refs).await;
        let outsider = customer(&app, "outsider@example.com", json!({})).await;

        for member in &members {
            let price = resolve(&app, Some(member), &chair, 1).await;
            assert_eq!(
                summary(&price),
                (json!("60.00"), json!("PRICE_LIST"), json!("VIP list"))
            );
        }
        let price = resolve(&app, Some(&outsider), &chair, 1).await;
        assert_eq!(
            summary(&price),
            (json!("100.00"), json!("BASE"), Value::Null),
            "no leak to a non-member"
        );
        assert_eq!(outcomes(&price), Vec::<(String, String)>::new());
        let anonymous = resolve(&app, None, &chair, 1).await;
        assert_eq!(summary(&anonymous), (json!("100.00"), json!("BASE"), Value::Null));
    })
    .await;
}

#[tokio::test]
async fn everyone_lists_are_storewide_and_switch_off_with_the_group() {
    on_each_backend(|app| async move {
        let chair = chair(&app).await;
        let everyone = app.data("{ customerGroups(first: 1, filter: { nameContains: \"everyone\" }) { edges { node { id } } } }", json!({})).await;
        let everyone = everyone["customerGroups"]["edges"][0]["node"]["id"].as_str().expect("id").to_owned();
        list_with_price(&app, "Black Friday", json!({ "type": "SALE" }), &everyone, 10, &chair, "79.00").await;
        let shopper = customer(&app, "any@example.com", json!({})).await;
        for who in [Some(shopper.as_str()), None] {
            let price = resolve(&app, who, &chair, 1).await;
            assert_eq!(summary(&price), (json!("79.00"), json!("PRICE_LIST"), json!("Black Friday")), "{who:?}");
            assert_eq!(price["customerGroup"]["name"], "Everyone");
        }
        let update = "mutation($input: UpdateCustomerGroupInput!) { updateCustomerGroup(input: $input) { userErrors { code } } }";
        app.data(update, json!({ "input": { "id": everyone, "isActive": false } })).await;
        let price = resolve(&app, None, &chair, 1).await;
        assert_eq!(summary(&price), (json!("100.00"), json!("BASE"), Value::Null));
        assert_eq!(outcomes(&price), [pair("Black Friday", "GROUP_INACTIVE")]);
    })
    .await;
}

#[tokio::test]
async fn product_lines_restrict_ordering_as_the_union_of_active_groups() {
    on_each_backend(|app| async move {
        let chairs = product_line(&app, "Chairs").await;
        let desks = product_line(&app, "Desks").await;
        let lamps = product_line(&app, "Lamps").await;
        let chair = product(&app, "CH-1", json!({ "productLineId": chairs })).await;
        let desk = product(&app, "DE-1", json!({ "productLineId": desks })).await;
        let lamp = product(&app, "LA-1", json!({ "productLineId": lamps })).await;
        let loose = product(&app, "LO-1", json!({})).await;
        for id in [&chair, &desk, &lamp, &loose] {
            base_price(&app, id, 1, "10.00").await;
        }
        let set_lines = "mutation($input: SetGroupProductLinesInput!) { setGroupProductLines(input: $input) { userErrors { code } } }";
        let seating = pricing_group(&app, "Seating").await;
        app.data(set_lines, json!({ "input": { "groupId": seating, "productLineIds": [chairs] } })).await;
        let office = pricing_group(&app, "Office").await;
        app.data(set_lines, json!({ "input": { "groupId": office, "productLineIds": [desks] } })).await;
        let open = pricing_group(&app, "Open").await;
        let closed = id_of(create_group(&app, json!({ "name": "Closed", "isActive": false })).await);
        app.data(set_lines, json!({ "input": { "groupId": closed, "productLineIds": [lamps] } })).await;

        let restricted = customer(&app, "r@example.com", json!({})).await;
        add_customers(&app, &seating, &[&restricted]).await;
        add_customers(&app, &office, &[&restricted]).await;
        add_customers(&app, &open, &[&restricted]).await;
        add_customers(&app, &closed, &[&restricted]).await;
        let free = customer(&app, "f@example.com", json!({})).await;
        add_customers(&app, &open, &[&free]).await;

        let can_order = "query($c: ID!, $p: ID!) { customer(id: $c) { canOrder(productId: $p) } }";
        // (customer, product, may order)
        let cases = [
            (&restricted, &chair, true),
            (&restricted, &desk, true),
            (&restricted, &lamp, false),
            (&restricted, &loose, true),
            (&free, &lamp, true),
        ];
        for (who, what, allowed) in cases {
            let data = app.data(can_order, json!({ "c": who, "p": what })).await;
            assert_eq!(data["customer"]["canOrder"], allowed);
            let price = resolve(&app, Some(who), what, 1).await;
            if allowed {
                assert_eq!(price["source"], "BASE");
            } else {
                assert_eq!(price["source"], "NOT_ORDERABLE");
                assert_eq!(price["amount"], Value::Null);
            }
        }
    })
    .await;
}

#[tokio::test]
async fn exemptions_are_the_or_of_customer_type_group_and_pricing_groups() {
    on_each_backend(|app| async move {
        let distributor = id_of(create_group(&app, json!({ "name": "Distributor", "kind": "TYPE", "commissionExempt": true })).await);
        let retail = type_group(&app, "Retail").await;
        let employees = id_of(create_group(&app, json!({ "name": "Employees", "freeFreight": true })).await);
        let old = id_of(create_group(&app, json!({ "name": "Old perks", "isActive": false, "commissionExempt": true, "freeFreight": true })).await);

        let query = "query($id: ID!) { customer(id: $id) { exemptions { commissionExempt freeFreight
            commissionExemptSources { kind customerGroup { name } } freeFreightSources { kind customerGroup { name } } } } }";
        let plain = customer(&app, "plain@example.com", json!({ "typeGroupId": retail })).await;
        add_customers(&app, &old, &[&plain]).await;
        let data = app.data(query, json!({ "id": plain })).await;
        assert_eq!(
            data["customer"]["exemptions"],
            json!({ "commissionExempt": false, "freeFreight": false, "commissionExemptSources": [], "freeFreightSources": [] }),
            "an inactive group's flags do not count"
        );

        let mixed = customer(&app, "mixed@example.com", json!({ "typeGroupId": distributor, "freeFreight": true })).await;
        add_customers(&app, &employees, &[&mixed]).await;
        let data = app.data(query, json!({ "id": mixed })).await;
        assert_eq!(
            data["customer"]["exemptions"],
            json!({
                "commissionExempt": true, "freeFreight": true,
                "commissionExemptSources": [{ "kind": "TYPE_GROUP", "customerGroup": { "name": "Distributor" } }],
                "freeFreightSources": [
                    { "kind": "CUSTOMER", "customerGroup": null },
                    { "kind": "PRICING_GROUP", "customerGroup": { "name": "Employees" } }
                ]
            })
        );
    })
    .await;
}

#[tokio::test]
async fn bad_price_questions_are_refused_with_a_code() {
    on_each_backend(|app| async move {
        let chair = product(&app, "CH-1", json!({})).await;
        let shopper = customer(&app, "s@example.com", json!({})).await;
        let unknown = uuid::Uuid::now_v7().to_string();
        let cases = [
            (
                json!({ "c": shopper, "p": chair, "q": 0, "s": "PRIORITY" }),
                "BAD_USER_INPUT",
                "quantity must be a whole number from 1 to 2147483647, got 0",
            ),
            (
                json!({ "c": unknown, "p": chair, "q": 1, "s": "PRIORITY" }),
                "NOT_FOUND",
                "",
            ),
            (
                json!({ "c": shopper, "p": unknown, "q": 1, "s": "PRIORITY" }),
                "NOT_FOUND",
                "",
            ),
            (
                json!({ "c": "nope", "p": chair, "q": 1, "s": "PRIORITY" }),
                "NOT_FOUND",
                "no customer with id 'nope'",
            ),
        ];
        for (variables, code, message) in cases {
            let body = app.graphql(RESOLVE, variables.clone()).await;
            assert_eq!(body["errors"][0]["extensions"]["code"], code, "{variables}: {body}");
            if !message.is_empty() {
                assert_eq!(body["errors"][0]["message"], message);
            }
        }
        let bad_currency = app
            .graphql(
                "query($p: ID!) { resolvedPrice(productId: $p, currency: \"XX1\") { source } }",
                json!({ "p": chair }),
            )
            .await;
        assert_eq!(bad_currency["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(bad_currency["errors"][0]["extensions"]["reason"], "INVALID_CURRENCY");

        let batch = "query($input: ResolvePricesInput!) { resolvePrices(input: $input) { source } }";
        let items: Vec<Value> = (0..1001)
            .map(|_| json!({ "productId": chair, "quantity": 1 }))
            .collect();
        let body = app
            .graphql(batch, json!({ "input": { "currency": "USD", "items": items } }))
            .await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["message"], "at most 1000 items per call, got 1001");
        let body = app
            .graphql(
                batch,
                json!({ "input": { "currency": "USD", "items": [{ "productId": chair, "quantity": -3 }] } }),
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "items.0.quantity");
        let body = app
            .graphql(
                batch,
                json!({ "input": { "currency": "USD", "items": [{ "productId": chair }, { "productId": unknown }] } }),
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
        assert_eq!(body["errors"][0]["extensions"]["field"], "items.1.productId");
    })
    .await;
}

#[tokio::test]
async fn resolve_prices_answers_in_input_order() {
    on_each_backend(|app| async move {
        let a = product(&app, "A", json!({})).await;
        let b = product(&app, "B", json!({})).await;
        base_price(&app, &a, 1, "1.00").await;
        base_price(&app, &b, 1, "2.00").await;
        base_price(&app, &b, 5, "1.50").await;
        let batch = "query($input: ResolvePricesInput!) { resolvePrices(input: $input) { product { sku } quantity amount { amount } } }";
        let items = json!([{ "productId": b, "quantity": 5 }, { "productId": a }, { "productId": b, "quantity": 1 }, { "productId": a, "quantity": 2 }]);
        let data = app.data(batch, json!({ "input": { "currency": "USD", "items": items } })).await;
        assert_eq!(
            data["resolvePrices"],
            json!([
                { "product": { "sku": "B" }, "quantity": 5, "amount": { "amount": "1.50" } },
                { "product": { "sku": "A" }, "quantity": 1, "amount": { "amount": "1.00" } },
                { "product": { "sku": "B" }, "quantity": 1, "amount": { "amount": "2.00" } },
                { "product": { "sku": "A" }, "quantity": 2, "amount": { "amount": "1.00" } },
            ])
        );
    })
    .await;
}

#[tokio::test]
async fn a_list_reached_through_several_groups_counts_once_at_its_smallest_priority() {
    on_each_backend(|app| async move {
        let Shop { chair, vip, shopper } = shop(&app).await;
        let staff = pricing_group(&app, "Staff").await;
        add_customers(&app, &staff, &[&shopper]).await;
        let shared = list_with_price(&app, "Shared", json!({ "type": "OVERRIDE" }), &vip, 20, &chair, "70.00").await;
        link_price_list(&app, &staff, &shared, 1).await;
        list_with_price(&app, "Middle", json!({ "type": "OVERRIDE" }), &vip, 10, &chair, "60.00").await;

        let price = resolve(&app, Some(&shopper), &chair, 1).await;
        assert_eq!(
            summary(&price),
            (json!("70.00"), json!("PRICE_LIST"), json!("Shared")),
            "priority 1 through Staff beats Middle's 10"
        );
        assert_eq!(
            (price["customerGroup"]["name"].clone(), price["priority"].clone()),
            (json!("Staff"), json!(1))
        );
        let mut entries = outcomes(&price);
        entries.sort();
        assert_eq!(
            entries,
            [
                pair("Middle", "OUTRANKED"),
                pair("Shared", "APPLIED"),
                pair("Shared", "OUTRANKED")
            ]
        );
    })
    .await;
}
