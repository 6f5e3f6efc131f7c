//! The pricing health report (docs/api.md#pricing-health): each check
//! against a small world that has exactly its one mistake, a healthy world
//! that has none, lists ahead that do or do not shadow a list, the cap on
//! findings, the statements it costs, the demo's findings, and who may ask.

use pricegraph::http::HttpOptions;
use pricegraph::seed;
use serde_json::{Value, json};

use crate::fixtures::{
    UPSERT_PRICES, add_customers, base_price, create_group, customer, link_price_list, list_price, organization,
    price_list, pricing_group, product, write,
};
use crate::helpers::{TestApp, id, on_each_backend};
use crate::security::{SHOP_KEY, auth, customer_token, post};

const HEALTH: &str = "{ pricingHealth { checkedAt
    findings { code severity message subjects { __typename id } }
    checks { code severity found listed } } }";

/// The healthy world: CHAIR (100.00) and DESK (250.00) with USD base
/// prices; VIP, with Ann, and its OVERRIDE list "VIP prices" at priority 1
/// pricing CHAIR at 80.00 from one unit.
struct World {
    chair: String,
    desk: String,
    ann: String,
    vip: String,
    vip_prices: String,
}

async fn healthy(app: &TestApp) -> World {
    let chair = product(app, "CHAIR", json!({ "name": "Office Chair" })).await;
    base_price(app, &chair, 1, "100.00").await;
    let desk = product(app, "DESK", json!({ "name": "Standing Desk" })).await;
    base_price(app, &desk, 1, "250.00").await;
    let ann = customer(app, "ann@example.com", json!({})).await;
    let vip = pricing_group(app, "VIP").await;
    add_customers(app, &vip, &[&ann]).await;
    let vip_prices = price_list(app, "VIP prices", json!({ "type": "OVERRIDE" })).await;
    list_price(app, &vip_prices, &chair, "80.00").await;
    link_price_list(app, &vip, &vip_prices, 1).await;
    World {
        chair,
        desk,
        ann,
        vip,
        vip_prices,
    }
}

/// Sets a list's tiers: (product, currency, min, max, amount).
async fn tiers(app: &TestApp, list: &str, tiers: &[(&str, &str, i32, Option<i32>, &str)]) {
    let prices: Vec<Value> = tiers
        .iter()
        .map(|(product, currency, min, max, amount)| {
            json!({ "productId": product, "currency": currency, "minQuantity": min, "maxQuantity": max, "amount": amount })
        })
        .collect();
    app.mutate(
        "upsertPrices",
        UPSERT_PRICES,
        json!({ "input": { "priceListId": list, "prices": prices } }),
    )
    .await;
}

fn days_from_now(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

async fn report(app: &TestApp) -> Value {
    app.data(HEALTH, json!({})).await["pricingHealth"].clone()
}

/// One mistake, as a case of the table below.
#[derive(Clone, Copy, Debug)]
enum Mistake {
    GroupWithoutLists,
    EmptyGroup,
    ListLinkedToAnInactiveGroup,
    ListLinkedToNoGroup,
    ExpiredListLinked,
    DraftListLinked,
    TwoListsTied,
    DerivedListTied,
    SaleNeverBelowBase,
    PriceWithoutBase,
    ListNeverWins,
    OrganizationGroupsInactive,
}

/// What the report must say about a mistake.
struct Expected {
    code: &'static str,
    severity: &'static str,
    subjects: Vec<String>,
    /// What the message must name.
    named: Vec<&'static str>,
}

fn expect(code: &'static str, severity: &'static str, subjects: Vec<String>, named: Vec<&'static str>) -> Expected {
    Expected {
        code,
        severity,
        subjects,
        named,
    }
}

/// Adds `mistake` to the healthy world `w`.
async fn make(app: &TestApp, w: &World, mistake: Mistake) -> Expected {
    match mistake {
        Mistake::GroupWithoutLists => {
            let trade = pricing_group(app, "Trade").await;
            add_customers(app, &trade, &[&w.ann]).await;
            expect("GROUP_WITHOUT_LISTS", "INFO", vec![trade], vec!["\"Trade\""])
        }
        Mistake::EmptyGroup => {
            let ghosts = pricing_group(app, "Ghosts").await;
            link_price_list(app, &ghosts, &w.vip_prices, 1).await;
            expect("EMPTY_GROUP", "INFO", vec![ghosts], vec!["\"Ghosts\"", "no members"])
        }
        Mistake::ListLinkedToAnInactiveGroup => {
            let legacy = id(&create_group(app, json!({ "name": "Legacy", "isActive": false })).await);
            add_customers(app, &legacy, &[&w.ann]).await;
            let list = price_list(app, "Legacy terms", json!({ "type": "OVERRIDE" })).await;
            list_price(app, &list, &w.chair, "70.00").await;
            link_price_list(app, &legacy, &list, 1).await;
            let named = vec!["\"Legacy terms\"", "inactive group \"Legacy\""];
            expect("LIST_WITHOUT_ACTIVE_GROUP", "WARNING", vec![list, legacy], named)
        }
        Mistake::ListLinkedToNoGroup => {
            let list = price_list(app, "Loose list", json!({})).await;
            list_price(app, &list, &w.chair, "70.00").await;
            let named = vec!["\"Loose list\"", "linked to no group"];
            expect("LIST_WITHOUT_ACTIVE_GROUP", "WARNING", vec![list], named)
        }
        Mistake::ExpiredListLinked => {
            let input = json!({ "type": "SALE", "startsAt": days_from_now(-30), "endsAt": days_from_now(-1) });
            let list = price_list(app, "Summer sale", input).await;
            list_price(app, &list, &w.chair, "90.00").await;
            link_price_list(app, &w.vip, &list, 5).await;
            let named = vec!["\"Summer sale\"", "ended on", "\"VIP\""];
            expect("LIST_EXPIRED_BUT_LINKED", "INFO", vec![list, w.vip.clone()], named)
        }
        Mistake::DraftListLinked => {
            let list = price_list(app, "Autumn preview", json!({ "type": "SALE", "status": "DRAFT" })).await;
            list_price(app, &list, &w.chair, "85.00").await;
            link_price_list(app, &w.vip, &list, 5).await;
            let named = vec!["\"Autumn preview\"", "\"VIP\"", "DRAFT"];
            expect("LIST_DRAFT_BUT_LINKED", "WARNING", vec![list, w.vip.clone()], named)
        }
        Mistake::TwoListsTied => {
            // DESK, which "VIP prices" does not price, keeps the newer list a winner.
            let list = price_list(app, "VIP extras", json!({ "type": "OVERRIDE" })).await;
            tiers(
                app,
                &list,
                &[
                    (&w.chair, "USD", 1, Some(9), "75.00"),
                    (&w.chair, "USD", 10, None, "70.00"),
                    (&w.desk, "USD", 1, None, "200.00"),
                ],
            )
            .await;
            link_price_list(app, &w.vip, &list, 1).await;
            let named = vec![
                "\"VIP\"",
                "\"VIP prices\"",
                "\"VIP extras\"",
                "priority 1",
                "1 product in the same currency",
                "\"Office Chair\" (CHAIR) in USD",
            ];
            let subjects = vec![w.vip.clone(), w.vip_prices.clone(), list];
            expect("SAME_PRIORITY_OVERLAP", "ERROR", subjects, named)
        }
        Mistake::DerivedListTied => {
            // A rule prices every product with a base price: CHAIR and DESK.
            // "VIP prices" prices CHAIR, so the two tie there.
            let rule = json!({ "type": "SALE", "rule": { "percentOff": "10" } });
            let list = price_list(app, "VIP 10 % off", rule).await;
            link_price_list(app, &w.vip, &list, 1).await;
            let named = vec![
                "\"VIP prices\"",
                "\"VIP 10 % off\"",
                "priority 1",
                "1 product in the same currency",
                "\"Office Chair\" (CHAIR) in USD",
            ];
            let subjects = vec![w.vip.clone(), w.vip_prices.clone(), list];
            expect("SAME_PRIORITY_OVERLAP", "ERROR", subjects, named)
        }
        Mistake::SaleNeverBelowBase => {
            // 95.00 from 10 units is below the unit base price but not the
            // 90.00 base tier that applies from 10.
            base_price(app, &w.chair, 10, "90.00").await;
            let list = price_list(app, "Fake sale", json!({ "type": "SALE" })).await;
            tiers(
                app,
                &list,
                &[
                    (&w.chair, "USD", 1, Some(9), "100.00"),
                    (&w.chair, "USD", 10, None, "95.00"),
                    (&w.desk, "USD", 1, None, "260.00"),
                ],
            )
            .await;
            link_price_list(app, &w.vip, &list, 2).await;
            let named = vec!["\"Fake sale\"", "None of the 3 prices", "OVERRIDE"];
            expect("SALE_NEVER_BELOW_BASE", "ERROR", vec![list], named)
        }
        Mistake::PriceWithoutBase => {
            let list = price_list(app, "Euro prices", json!({ "type": "OVERRIDE" })).await;
            tiers(app, &list, &[(&w.chair, "EUR", 1, None, "90.00")]).await;
            link_price_list(app, &w.vip, &list, 2).await;
            let named = vec!["\"Euro prices\"", "1 price", "\"Office Chair\" (CHAIR) in EUR"];
            expect("NO_BASE_PRICE", "WARNING", vec![list], named)
        }
        Mistake::ListNeverWins => {
            // "VIP prices" (priority 1, from one unit up) covers both tiers.
            let list = price_list(app, "Shadowed sale", json!({ "type": "SALE" })).await;
            tiers(
                app,
                &list,
                &[
                    (&w.chair, "USD", 1, Some(9), "85.00"),
                    (&w.chair, "USD", 10, None, "82.00"),
                ],
            )
            .await;
            link_price_list(app, &w.vip, &list, 2).await;
            let named = vec![
                "\"Shadowed sale\"",
                "never wins",
                "\"VIP prices\" at priority 1",
                "\"VIP\"",
            ];
            let subjects = vec![list, w.vip.clone(), w.vip_prices.clone()];
            expect("LIST_NEVER_WINS", "WARNING", subjects, named)
        }
        Mistake::OrganizationGroupsInactive => {
            let contract = id(&create_group(app, json!({ "name": "Acme Contract", "isActive": false })).await);
            let acme = organization(app, "Acme", json!({})).await;
            write(
                app,
                "setOrganizationGroups",
                json!({ "organizationId": acme, "groupIds": [contract] }),
            )
            .await;
            let named = vec!["\"Acme\"", "\"Acme Contract\"", "inactive"];
            expect(
                "ORGANIZATION_GROUPS_ALL_INACTIVE",
                "WARNING",
                vec![acme, contract],
                named,
            )
        }
    }
}

#[tokio::test]
async fn each_mistake_is_found_once_with_its_code_severity_subjects_and_names() {
    let mistakes = [
        Mistake::GroupWithoutLists,
        Mistake::EmptyGroup,
        Mistake::ListLinkedToAnInactiveGroup,
        Mistake::ListLinkedToNoGroup,
        Mistake::ExpiredListLinked,
        Mistake::DraftListLinked,
        Mistake::TwoListsTied,
        Mistake::DerivedListTied,
        Mistake::SaleNeverBelowBase,
        Mistake::PriceWithoutBase,
        Mistake::ListNeverWins,
        Mistake::OrganizationGroupsInactive,
    ];
    on_each_backend(|first| async move {
        for mistake in mistakes {
            let app = TestApp::spawn(first.backend).await;
            let w = healthy(&app).await;
            let expected = make(&app, &w, mistake).await;
            let report = report(&app).await;
            let context = format!("[{:?}] {mistake:?}: {report}", app.backend);
            let findings = report["findings"].as_array().expect("findings");
            assert_eq!(findings.len(), 1, "{context}");
            let finding = &findings[0];
            assert_eq!(finding["code"], expected.code, "{context}");
            assert_eq!(finding["severity"], expected.severity, "{context}");
            let subjects: Vec<&str> = finding["subjects"]
                .as_array()
                .expect("subjects")
                .iter()
                .filter_map(|s| s["id"].as_str())
                .collect();
            assert_eq!(subjects, expected.subjects, "{context}");
            let message = finding["message"].as_str().unwrap_or_default();
            for name in &expected.named {
                assert!(message.contains(name), "the message names {name}: {context}");
            }
            let check = report["checks"]
                .as_array()
                .and_then(|checks| checks.iter().find(|c| c["code"] == expected.code))
                .unwrap_or_else(|| panic!("no check {}: {context}", expected.code));
            assert_eq!(
                check,
                &json!({ "code": expected.code, "severity": expected.severity, "found": 1, "listed": 1 })
            );
            app.cleanup().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_healthy_world_has_no_findings_and_every_check_ran() {
    on_each_backend(|app| async move {
        healthy(&app).await;
        let report = report(&app).await;
        assert_eq!(report["findings"], json!([]), "{report}");
        let checks = report["checks"].as_array().expect("checks");
        assert_eq!(checks.len(), 10, "{report}");
        assert!(checks.iter().all(|c| c["found"] == 0 && c["listed"] == 0), "{report}");
        assert!(report["checkedAt"].is_string());
    })
    .await;
}

/// A list ahead shadows a list only when it is an `OVERRIDE` that is
/// active, open for as long as the shadowed list is, ahead in the walk, and
/// prices every quantity the shadowed list prices (its tiers may be many).
#[tokio::test]
async fn only_a_list_ahead_that_prices_everything_always_shadows() {
    type Tiers = &'static [(i32, Option<i32>)];
    // (case, the list ahead: type, its extra input, its priority, its tiers; the
    // list behind's tiers; whether the list behind never wins)
    let table: [(&str, &str, Value, i32, Tiers, Tiers, bool); 9] = [
        (
            "one tier covers",
            "OVERRIDE",
            json!({}),
            1,
            &[(1, None)],
            &[(1, None)],
            true,
        ),
        (
            "contiguous tiers cover",
            "OVERRIDE",
            json!({}),
            1,
            &[(1, Some(9)), (10, None)],
            &[(1, None)],
            true,
        ),
        (
            "a gap lets it win",
            "OVERRIDE",
            json!({}),
            1,
            &[(1, Some(9)), (20, None)],
            &[(1, None)],
            false,
        ),
        (
            "a bounded tier lets it win above",
            "OVERRIDE",
            json!({}),
            1,
            &[(1, Some(9))],
            &[(5, None)],
            false,
        ),
        (
            "a sale ahead may not apply",
            "SALE",
            json!({}),
            1,
            &[(1, None)],
            &[(1, None)],
            false,
        ),
        (
            "a draft ahead is no candidate",
            "OVERRIDE",
            json!({ "status": "DRAFT" }),
            1,
            &[(1, None)],
            &[(1, None)],
            false,
        ),
        (
            "a list ahead that ends first",
            "OVERRIDE",
            json!({ "endsAt": days_from_now(10) }),
            1,
            &[(1, None)],
            &[(1, None)],
            false,
        ),
        (
            "a list behind is no threat",
            "OVERRIDE",
            json!({}),
            3,
            &[(1, None)],
            &[(1, None)],
            false,
        ),
        (
            "the same priority: the older wins",
            "OVERRIDE",
            json!({}),
            2,
            &[(1, None)],
            &[(1, None)],
            true,
        ),
    ];
    on_each_backend(|first| {
        let table = table.clone();
        async move {
            for (case, ahead_type, extra, priority, ahead_tiers, behind_tiers, never_wins) in table {
                let app = TestApp::spawn(first.backend).await;
                let chair = product(&app, "CHAIR", json!({})).await;
                base_price(&app, &chair, 1, "100.00").await;
                let vip = pricing_group(&app, "VIP").await;
                let ann = customer(&app, "ann@example.com", json!({})).await;
                add_customers(&app, &vip, &[&ann]).await;
                let mut input = json!({ "type": ahead_type });
                input
                    .as_object_mut()
                    .expect("an object")
                    .extend(extra.as_object().cloned().unwrap_or_default());
                let ahead = price_list(&app, "Ahead", input).await;
                let rows: Vec<_> = ahead_tiers
                    .iter()
                    .map(|(min, max)| (chair.as_str(), "USD", *min, *max, "90.00"))
                    .collect();
                tiers(&app, &ahead, &rows).await;
                link_price_list(&app, &vip, &ahead, priority).await;
                let behind = price_list(&app, "Behind", json!({ "type": "SALE" })).await;
                let rows: Vec<_> = behind_tiers
                    .iter()
                    .map(|(min, max)| (chair.as_str(), "USD", *min, *max, "80.00"))
                    .collect();
                tiers(&app, &behind, &rows).await;
                link_price_list(&app, &vip, &behind, 2).await;
                let report = report(&app).await;
                let found = report["findings"]
                    .as_array()
                    .expect("findings")
                    .iter()
                    .any(|f| f["code"] == "LIST_NEVER_WINS" && f["subjects"][0]["id"] == behind.as_str());
                assert_eq!(found, never_wins, "[{:?}] {case}: {report}", app.backend);
                app.cleanup().await;
            }
        }
    })
    .await;
}

/// A tie needs two lists that can apply together: both active, windows
/// that meet, one group and one priority, one product in one currency.
#[tokio::test]
async fn only_lists_that_can_meet_at_one_priority_tie() {
    // (case, the second list's input, its priority, its currency, a tie?)
    let table: [(&str, Value, i32, &str, bool); 6] = [
        ("same priority, product and currency", json!({}), 1, "USD", true),
        ("another priority", json!({}), 2, "USD", false),
        ("another currency", json!({}), 1, "EUR", false),
        ("a draft", json!({ "status": "DRAFT" }), 1, "USD", false),
        (
            "a window after the other's",
            json!({ "startsAt": days_from_now(20) }),
            1,
            "USD",
            false,
        ),
        (
            "a window that meets the other's",
            json!({ "startsAt": days_from_now(5) }),
            1,
            "USD",
            true,
        ),
    ];
    on_each_backend(|first| {
        let table = table.clone();
        async move {
            for (case, input, priority, currency, tie) in table {
                let app = TestApp::spawn(first.backend).await;
                let w = healthy(&app).await;
                let eur = json!([{ "productId": w.chair, "currency": "EUR", "minQuantity": 1, "amount": "95.00" }]);
                app.mutate(
                    "upsertBasePrices",
                    crate::fixtures::UPSERT_BASE_PRICES,
                    json!({ "input": { "prices": eur } }),
                )
                .await;
                // "VIP prices" ends in 10 days here, for the windows' cases.
                write(
                    &app,
                    "updatePriceList",
                    json!({ "id": w.vip_prices, "endsAt": days_from_now(10) }),
                )
                .await;
                let mut second = json!({ "type": "OVERRIDE" });
                second
                    .as_object_mut()
                    .expect("an object")
                    .extend(input.as_object().cloned().unwrap_or_default());
                let list = price_list(&app, "Second", second).await;
                tiers(
                    &app,
                    &list,
                    &[
                        (&w.chair, currency, 1, Some(5), "70.00"),
                        (&w.desk, "USD", 1, None, "200.00"),
                    ],
                )
                .await;
                link_price_list(&app, &w.vip, &list, priority).await;
                let report = report(&app).await;
                let found = report["findings"]
                    .as_array()
                    .expect("findings")
                    .iter()
                    .any(|f| f["code"] == "SAME_PRIORITY_OVERLAP");
                assert_eq!(found, tie, "[{:?}] {case}: {report}", app.backend);
                app.cleanup().await;
            }
        }
    })
    .await;
}

/// At most 100 findings per check; `checks` says how many there are.
#[tokio::test]
async fn findings_are_capped_per_check_and_counted_in_all() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    // 101 new groups, each without lists and without members: two checks
    // with 101 findings, created 20 to a request.
    for chunk in 0..6 {
        let fields: Vec<String> = (chunk * 20..(chunk * 20 + 20).min(101))
            .map(|n| {
                format!("g{n}: createCustomerGroup(input: {{ name: \"Group {n:03}\" }}) {{ userErrors {{ code }} }}")
            })
            .collect();
        app.data(&format!("mutation {{ {} }}", fields.join(" ")), json!({}))
            .await;
    }
    let report = report(&app).await;
    for code in ["GROUP_WITHOUT_LISTS", "EMPTY_GROUP"] {
        let check = report["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|c| c["code"] == code))
            .cloned();
        assert_eq!(
            check,
            Some(json!({ "code": code, "severity": "INFO", "found": 101, "listed": 100 }))
        );
        let listed: Vec<&Value> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["code"] == code)
            .collect();
        assert_eq!(listed.len(), 100);
        // In name order: the last group is the one left out.
        assert!(
            listed[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("\"Group 000\""))
        );
        assert!(
            listed[99]["message"]
                .as_str()
                .is_some_and(|m| m.contains("\"Group 099\""))
        );
    }
}

/// A world with `n` of several mistakes: groups without lists (each with a
/// member), draft lists linked to VIP, organizations whose one group is
/// inactive, and lists tied with "VIP prices".
async fn messy(app: &TestApp, n: usize) {
    let w = healthy(app).await;
    for i in 0..n {
        let group = pricing_group(app, &format!("Listless {i}")).await;
        add_customers(app, &group, &[&w.ann]).await;
        let draft = price_list(app, &format!("Draft {i}"), json!({ "status": "DRAFT" })).await;
        link_price_list(app, &w.vip, &draft, 10 + i as i32).await;
        let inactive = id(&create_group(app, json!({ "name": format!("Dormant {i}"), "isActive": false })).await);
        let organization = organization(app, &format!("Org {i}"), json!({})).await;
        write(
            app,
            "setOrganizationGroups",
            json!({ "organizationId": organization, "groupIds": [inactive] }),
        )
        .await;
        let tied = price_list(app, &format!("Tied {i}"), json!({ "type": "OVERRIDE" })).await;
        tiers(
            app,
            &tied,
            &[
                (&w.chair, "USD", 1, Some(9), "75.00"),
                (&w.desk, "USD", 1, None, "200.00"),
            ],
        )
        .await;
        link_price_list(app, &w.vip, &tied, 1).await;
    }
}

#[tokio::test]
async fn the_report_costs_the_same_statements_for_few_and_many_findings() {
    on_each_backend(|first| async move {
        let mut counts = Vec::new();
        for n in [1, 6] {
            let app = TestApp::spawn(first.backend).await;
            messy(&app, n).await;
            let (count, report) = app.count_statements(report(&app)).await;
            let findings = report["findings"].as_array().map_or(0, Vec::len);
            // Per mistake: a group without lists, a draft linked, an
            // organization, a tie; and ties among the tied lists.
            assert!(findings >= 4 * n, "[{:?}] {n}: {report}", app.backend);
            counts.push((n, count));
            app.cleanup().await;
        }
        assert_eq!(
            counts[0].1, counts[1].1,
            "[{:?}] statements by findings: {counts:?}",
            first.backend
        );
        // One per check, and one per kind of subject (groups, lists, organizations).
        assert!(counts[0].1 <= 13, "[{:?}] {counts:?}", first.backend);
    })
    .await;
}

/// The demo data set is not spotless, on purpose: the report has something
/// to show on `serve --demo` (docs/api.md#pricing-health).
#[tokio::test]
async fn the_demo_has_findings_to_show() {
    on_each_backend(|app| async move {
        seed::demo(&app.db).await.expect("demo loads");
        let report = report(&app).await;
        let findings = report["findings"].as_array().expect("findings");
        let found = |code: &str, name: &str| {
            findings
                .iter()
                .any(|f| f["code"] == code && f["message"].as_str().is_some_and(|m| m.contains(name)))
        };
        for (code, name) in [
            ("LIST_DRAFT_BUT_LINKED", "\"VIP Autumn Preview\""),
            ("LIST_EXPIRED_BUT_LINKED", "\"End-of-Season Clearance\""),
            ("LIST_WITHOUT_ACTIVE_GROUP", "\"Legacy Partner Pricing\""),
            ("GROUP_WITHOUT_LISTS", "\"Trade Show Leads\""),
        ] {
            assert!(found(code, name), "[{:?}] {code} {name}: {report}", app.backend);
        }
        assert!(
            findings.iter().all(|f| f["severity"] != "ERROR"),
            "[{:?}] the demo's prices are what they mean to be: {report}",
            app.backend
        );
    })
    .await;
}

#[tokio::test]
async fn only_admins_may_read_the_report() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let w = healthy(&app).await;
    let served = app.served_with(auth(), HttpOptions::default());
    let token = customer_token(&w.ann);
    for (who, credential) in [("storefront key", SHOP_KEY), ("customer token", token.as_str())] {
        let response = post(&served, Some(credential), HEALTH, json!({})).await;
        assert_eq!(
            response.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{who}: {}",
            response.body
        );
        assert_eq!(response.body["data"], Value::Null, "{who}: {}", response.body);
    }
    let response = post(&served, Some(crate::security::ADMIN_KEY), HEALTH, json!({})).await;
    assert!(response.body["errors"].is_null(), "{}", response.body);
}

/// A derived list (docs/pricing.md#derived-lists) prices every product with
/// a base price, so rows that would make a plain list a never-winning list
/// or a sale never below base do not: its rule still wins, below base.
#[tokio::test]
async fn a_derived_list_is_not_judged_by_its_rows_alone() {
    on_each_backend(|app| async move {
        let w = healthy(&app).await;
        let codes = |report: &Value| -> Vec<String> {
            report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| f["code"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        // Behind "VIP prices", pricing only what it prices; a sale above base.
        let behind = price_list(&app, "Behind", json!({ "type": "OVERRIDE" })).await;
        list_price(&app, &behind, &w.chair, "90.00").await;
        link_price_list(&app, &w.vip, &behind, 5).await;
        let dear = price_list(&app, "Dear sale", json!({})).await;
        list_price(&app, &dear, &w.chair, "120.00").await;
        link_price_list(&app, &w.vip, &dear, 9).await;
        let plain = codes(&report(&app).await);
        assert!(plain.contains(&"LIST_NEVER_WINS".to_owned()), "{plain:?}");
        assert!(plain.contains(&"SALE_NEVER_BELOW_BASE".to_owned()), "{plain:?}");

        for list in [&behind, &dear] {
            let input = json!({ "id": list, "rule": { "percentOff": "10" } });
            crate::fixtures::write(&app, "updatePriceList", input).await;
        }
        let derived = codes(&report(&app).await);
        assert!(!derived.contains(&"LIST_NEVER_WINS".to_owned()), "{derived:?}");
        assert!(!derived.contains(&"SALE_NEVER_BELOW_BASE".to_owned()), "{derived:?}");
    })
    .await;
}
