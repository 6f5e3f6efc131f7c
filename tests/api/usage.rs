//! Group usage (docs/api.md#group-usage): the prices that came through
//! each group, counted in memory where real prices are resolved, flushed
//! to the database and summed over instances, with no statement added to
//! the storefront; and what each group reaches now.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use entity::group_usage;
use migration::{DEFAULT_TYPE_GROUP_ID, EVERYONE_GROUP_ID};
use pricegraph::http::HttpOptions;
use pricegraph::service::usage::{Flusher, flush, prune};
use pricegraph::usage::hour_of;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::fixtures::{
    add_customers, base_price, customer, link_price_list, list_price, organization, price_list, pricing_group, product,
    type_group, write,
};
use crate::helpers::{TestApp, on_each_backend};
use crate::security::{SHOP_KEY, auth, customer_token, post};

struct World {
    chair: String,
    desk: String,
    lamp: String,
    stool: String,
    vip: String,
    spare: String,
    retail: String,
    ann: String,
    bob: String,
}

/// Chair: base 100, VIP's override at 80. Desk: base 100, a storewide
/// sale at 90 (linked to `Everyone`). Lamp: a base price only. Stool: no
/// price at all. Ann and Bob are VIP members, and Acme has VIP too; Carl
/// is in the `TYPE` group Retail; Spare is a pricing group with nothing.
async fn world(app: &TestApp) -> World {
    let chair = product(app, "CHAIR", json!({})).await;
    let desk = product(app, "DESK", json!({})).await;
    let lamp = product(app, "LAMP", json!({})).await;
    let stool = product(app, "STOOL", json!({})).await;
    for (item, amount) in [(&chair, "100.00"), (&desk, "100.00"), (&lamp, "50.00")] {
        base_price(app, item, 1, amount).await;
    }
    let vip = pricing_group(app, "VIP").await;
    let vip_list = price_list(app, "VIP prices", json!({ "type": "OVERRIDE" })).await;
    list_price(app, &vip_list, &chair, "80.00").await;
    link_price_list(app, &vip, &vip_list, 1).await;
    let sale = price_list(app, "Storewide sale", json!({ "type": "SALE" })).await;
    list_price(app, &sale, &desk, "90.00").await;
    link_price_list(app, &EVERYONE_GROUP_ID.to_string(), &sale, 1).await;
    let spare = pricing_group(app, "Spare").await;
    let retail = type_group(app, "Retail").await;
    let ann = customer(app, "ann@example.com", json!({})).await;
    let bob = customer(app, "bob@example.com", json!({})).await;
    customer(app, "carl@example.com", json!({ "typeGroupId": retail })).await;
    add_customers(app, &vip, &[&ann, &bob]).await;
    let acme = organization(app, "Acme", json!({})).await;
    write(
        app,
        "setOrganizationGroups",
        json!({ "organizationId": acme, "groupIds": [vip] }),
    )
    .await;
    World {
        chair,
        desk,
        lamp,
        stool,
        vip,
        spare,
        retail,
        ann,
        bob,
    }
}

const USAGE: &str = "query($id: ID!) { customerGroup(id: $id) { usage {
    customers organizations priceLists day: pricesResolved(last: DAY) week: pricesResolved(last: WEEK) lastAppliedAt } } }";

async fn usage(app: &TestApp, group: &str) -> Value {
    app.data(USAGE, json!({ "id": group })).await["customerGroup"]["usage"].clone()
}

/// Prices through `group` in the last day and week, and the latest.
async fn prices(app: &TestApp, group: &str) -> (u64, u64, Option<DateTime<Utc>>) {
    let usage = usage(app, group).await;
    let last = usage["lastAppliedAt"].as_str().map(|text| {
        DateTime::parse_from_rfc3339(text)
            .expect("an RFC 3339 date-time")
            .with_timezone(&Utc)
    });
    let count = |field: &str| usage[field].as_u64().unwrap_or_else(|| panic!("{field} in {usage}"));
    (count("day"), count("week"), last)
}

async fn flushed(app: &TestApp) -> u64 {
    flush(&app.store).await.expect("the flush writes")
}

const RESOLVE: &str = "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") {
    source customerGroup { name } } }";
const RESOLVE_MANY: &str = "query($input: ResolvePricesInput!) { resolvePrices(input: $input) { source } }";
const PAGE: &str = "query($c: ID) { products(first: 10) { edges { node {
    resolvedPrice(customerId: $c, currency: \"USD\") { source priceList { name } customerGroup { name } } } } } }";

async fn resolve(app: &TestApp, shopper: Option<&str>, product: &str) -> Value {
    app.data(RESOLVE, json!({ "c": shopper, "p": product })).await["resolvedPrice"].clone()
}

fn items(shopper: &str, products: &[&str]) -> Value {
    let items: Vec<Value> = products.iter().map(|p| json!({ "productId": p })).collect();
    json!({ "input": { "customerId": shopper, "currency": "USD", "items": items } })
}

#[tokio::test]
async fn prices_through_a_group_count_for_it_once_flushed() {
    on_each_backend(|app| async move {
        let w = world(&app).await;
        let started = Utc::now();
        for _ in 0..3 {
            let answer = resolve(&app, Some(&w.ann), &w.chair).await;
            assert_eq!(answer["customerGroup"]["name"], "VIP", "{answer}");
        }
        // VIP twice, Everyone once; the lamp's base price and the stool's
        // missing price count for no group.
        let many = items(&w.ann, &[&w.chair, &w.chair, &w.desk, &w.lamp, &w.stool]);
        app.data(RESOLVE_MANY, many).await;
        assert_eq!(resolve(&app, None, &w.desk).await["customerGroup"]["name"], "Everyone");
        // A page of products: VIP for the chair, Everyone for the desk.
        app.data(PAGE, json!({ "c": w.bob })).await;
        // Imagined prices do not count.
        let simulate = "query($input: SimulatePricesInput!) { simulatePrices(input: $input) { source } }";
        let imagined = json!({ "groupIds": [w.vip], "currency": "USD", "items": [{ "productId": w.chair }, { "productId": w.desk }] });
        let answer = app.data(simulate, json!({ "input": imagined })).await;
        assert_eq!(answer["simulatePrices"][0]["source"], "PRICE_LIST");

        assert_eq!(prices(&app, &w.vip).await, (0, 0, None), "nothing shows before a flush");
        assert_eq!(flushed(&app).await, 9);
        assert_eq!(flushed(&app).await, 0, "each count is written once");
        let everyone = EVERYONE_GROUP_ID.to_string();
        let default = DEFAULT_TYPE_GROUP_ID.to_string();
        for (name, group, expected) in [
            ("VIP", &w.vip, 6),
            ("Everyone", &everyone, 3),
            ("Spare", &w.spare, 0),
            ("Default", &default, 0),
            ("Retail", &w.retail, 0),
        ] {
            let (day, week, last) = prices(&app, group).await;
            assert_eq!((day, week), (expected, expected), "{name}");
            match last {
                None => assert_eq!(expected, 0, "{name} has counts but no lastAppliedAt"),
                Some(last) => {
                    assert!(expected > 0, "{name} has a lastAppliedAt but no counts");
                    let window = started - TimeDelta::milliseconds(1)..=Utc::now();
                    assert!(window.contains(&last), "{name}: {last} not in {window:?}");
                }
            }
        }
    })
    .await;
}

/// Counting adds no statement: a warm storefront runs none at all while
/// it counts, a cold one no more than it ever did; the counts are right
/// once flushed.
#[tokio::test]
async fn the_storefront_runs_no_more_statements_while_it_counts() {
    on_each_backend(|app| async move {
        let w = world(&app).await;
        let many = items(&w.ann, &[&w.chair, &w.desk, &w.lamp]);
        let page = json!({ "c": w.bob });
        app.data(RESOLVE_MANY, many.clone()).await;
        app.data(PAGE, page.clone()).await;
        let (warm, _) = app
            .count_warm_statements(async {
                for _ in 0..5 {
                    app.data(RESOLVE_MANY, many.clone()).await;
                    app.data(PAGE, page.clone()).await;
                }
            })
            .await;
        assert_eq!(warm, 0, "a warm storefront runs no SQL, counting or not");
        let (cold, _) = app.count_statements(app.data(RESOLVE_MANY, many.clone())).await;
        assert!(cold <= 3, "shopper, products, prices: {cold} statements");
        // (Without the list's and group's names, which are rows of their own.)
        let sources = "query($c: ID) { products(first: 10) { edges { node {
            resolvedPrice(customerId: $c, currency: \"USD\") { source } } } } }";
        let (cold, _) = app.count_statements(app.data(sources, page.clone())).await;
        assert!(cold <= 3, "page, shopper, prices: {cold} statements");
        // Each request: the chair through VIP, the desk through Everyone.
        flushed(&app).await;
        assert_eq!(prices(&app, &w.vip).await.0, 14);
        assert_eq!(prices(&app, &EVERYONE_GROUP_ID.to_string()).await.0, 14);
    })
    .await;
}

#[tokio::test]
async fn two_instances_count_and_their_sums_add_up() {
    on_each_backend(|a| async move {
        let w = world(&a).await;
        let b = a.twin(crate::helpers::test_cache()).await;
        for (instance, times) in [(&a, 2), (&b, 3)] {
            for _ in 0..times {
                resolve(instance, Some(&w.ann), &w.chair).await;
            }
        }
        let (from_a, from_b) = tokio::join!(flush(&a.store), flush(&b.store));
        assert_eq!((from_a.expect("A flushes"), from_b.expect("B flushes")), (2, 3));
        resolve(&b, Some(&w.ann), &w.chair).await;
        flushed(&b).await;
        for instance in [&a, &b] {
            assert_eq!(prices(instance, &w.vip).await.0, 6, "{:?}", instance.backend);
        }
    })
    .await;
}

async fn insert_hour(app: &TestApp, group: &str, hour: DateTime<Utc>, prices: i64) {
    group_usage::ActiveModel {
        group_id: Set(group.parse().expect("a uuid")),
        bucket_start: Set(hour),
        prices_resolved: Set(prices),
        last_applied_at: Set(hour + TimeDelta::minutes(10)),
    }
    .insert(&app.db.conn)
    .await
    .expect("a usage row");
}

/// `DAY` counts the last 24 hours, `WEEK` the last 7 days; older hours
/// are pruned after eight, but a group's latest stays for `lastAppliedAt`.
#[tokio::test]
async fn the_week_counts_hours_the_day_does_not_and_pruning_keeps_the_latest() {
    on_each_backend(|app| async move {
        let w = world(&app).await;
        let now = Utc::now();
        let (three_days_ago, ten_days_ago) = (hour_of(now - TimeDelta::days(3)), hour_of(now - TimeDelta::days(10)));
        insert_hour(&app, &w.vip, three_days_ago, 7).await;
        insert_hour(&app, &w.vip, ten_days_ago, 100).await;
        insert_hour(&app, &w.spare, ten_days_ago, 4).await;
        assert_eq!(
            prices(&app, &w.vip).await,
            (0, 7, Some(three_days_ago + TimeDelta::minutes(10)))
        );
        resolve(&app, Some(&w.ann), &w.chair).await;
        flushed(&app).await;
        let (day, week, last) = prices(&app, &w.vip).await;
        assert_eq!((day, week), (1, 8));
        assert!(last.is_some_and(|last| last >= now), "{last:?}");
        assert_eq!(
            prices(&app, &w.spare).await,
            (0, 0, Some(ten_days_ago + TimeDelta::minutes(10)))
        );

        assert_eq!(prune(&app.db.conn, Utc::now()).await.expect("pruned"), 1);
        let rows = |group: &str| {
            let group: uuid::Uuid = group.parse().expect("a uuid");
            group_usage::Entity::find()
                .filter(group_usage::Column::GroupId.eq(group))
                .count(&app.db.conn)
        };
        assert_eq!(
            rows(&w.vip).await.expect("counted"),
            2,
            "VIP's hour of ten days ago went"
        );
        assert_eq!(rows(&w.spare).await.expect("counted"), 1, "Spare's only hour stays");
        assert_eq!(
            prices(&app, &w.spare).await.2,
            Some(ten_days_ago + TimeDelta::minutes(10))
        );
    })
    .await;
}

#[tokio::test]
async fn customers_organizations_and_price_lists_are_those_of_now() {
    on_each_backend(|app| async move {
        let w = world(&app).await;
        let everyone = EVERYONE_GROUP_ID.to_string();
        let default = DEFAULT_TYPE_GROUP_ID.to_string();
        let table = [
            ("VIP: direct members; Acme", &w.vip, [2, 1, 1]),
            ("Everyone: every customer", &everyone, [3, 0, 1]),
            ("Spare", &w.spare, [0, 0, 0]),
            ("Default: the customers of no other type group", &default, [2, 0, 0]),
            ("Retail", &w.retail, [1, 0, 0]),
        ];
        for (case, group, [customers, organizations, lists]) in table {
            let usage = usage(&app, group).await;
            let seen = [&usage["customers"], &usage["organizations"], &usage["priceLists"]];
            assert_eq!(
                seen,
                [&json!(customers), &json!(organizations), &json!(lists)],
                "{case}"
            );
        }
    })
    .await;
}

/// A page of groups' usage costs the same statements as a page of one.
#[tokio::test]
async fn a_page_of_usage_runs_a_fixed_number_of_statements() {
    on_each_backend(|app| async move {
        let w = world(&app).await;
        for n in 0..12 {
            let group = pricing_group(&app, &format!("Extra {n}")).await;
            let list = price_list(&app, &format!("Extra list {n}"), json!({})).await;
            link_price_list(&app, &group, &list, 1).await;
            add_customers(&app, &group, &[&w.ann]).await;
        }
        resolve(&app, Some(&w.ann), &w.chair).await;
        flushed(&app).await;
        let query = "query($first: Int) { customerGroups(first: $first) { nodes { name usage {
            customers organizations priceLists day: pricesResolved(last: DAY) week: pricesResolved(last: WEEK) lastAppliedAt } } } }";
        let mut counts = Vec::new();
        for first in [3, 17] {
            let (count, data) = app.count_statements(app.data(query, json!({ "first": first }))).await;
            assert_eq!(data["customerGroups"]["nodes"].as_array().map(Vec::len), Some(first));
            counts.push(count);
        }
        assert_eq!(counts[0], counts[1], "statements must not grow with the groups");
        assert!(
            counts[1] <= 7,
            "page, customers (one per kind of group), organizations, lists, prices: {counts:?}"
        );
    })
    .await;
}

/// Usage is the admin's: a storefront key and a customer token reach
/// groups, but not their usage.
#[tokio::test]
async fn only_admins_read_usage() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let w = world(&app).await;
    let served = app.served_with(auth(), HttpOptions::default());
    let through_a_price = "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") {
        customerGroup { name usage { customers } } } }";
    let own_groups = "query($c: ID!) { customer(id: $c) { groups { name usage { pricesResolved(last: DAY) } } } }";
    let ann_token = customer_token(&w.ann);
    for (case, bearer, query) in [
        ("storefront key", SHOP_KEY, through_a_price),
        ("customer token", ann_token.as_str(), through_a_price),
        ("customer token, own groups", ann_token.as_str(), own_groups),
    ] {
        let response = post(&served, Some(bearer), query, json!({ "c": w.ann, "p": w.chair })).await;
        let errors = response.body["errors"].as_array().cloned().unwrap_or_default();
        assert!(!errors.is_empty(), "{case}: {}", response.body);
        for error in &errors {
            assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{case}: {error}");
            assert_eq!(
                error["path"].as_array().and_then(|p| p.last()),
                Some(&json!("usage")),
                "{case}"
            );
        }
    }
    let admin = post(&app, None, through_a_price, json!({ "c": w.ann, "p": w.chair })).await;
    assert_eq!(
        admin.body["data"]["resolvedPrice"]["customerGroup"]["usage"]["customers"],
        2
    );
}

/// A flush that cannot write (here: its table is away) keeps its counts
/// for the next, which writes them with those counted meanwhile; the
/// failure shows in `/metrics`.
#[tokio::test]
async fn a_failed_flush_keeps_its_counts() {
    on_each_backend(|app| async move {
        let w = world(&app).await;
        let rename = |from: &str, to: &str| format!("ALTER TABLE {from} RENAME TO {to}");
        for _ in 0..2 {
            resolve(&app, Some(&w.ann), &w.chair).await;
        }
        app.db
            .conn
            .execute_unprepared(&rename("group_usage", "group_usage_away"))
            .await
            .expect("renamed");
        assert!(flush(&app.store).await.is_err(), "the flush cannot write");
        resolve(&app, Some(&w.ann), &w.chair).await;
        assert!(flush(&app.store).await.is_err(), "nor can the next");
        app.db
            .conn
            .execute_unprepared(&rename("group_usage_away", "group_usage"))
            .await
            .expect("renamed back");
        assert_eq!(flushed(&app).await, 3);
        assert_eq!(prices(&app, &w.vip).await.0, 3);
        let metrics = app
            .request(
                axum::http::Request::get("/metrics")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await;
        let text = metrics.body.as_str().expect("text");
        assert!(text.contains("pricegraph_group_usage_flush_failures_total 2"), "{text}");
    })
    .await;
}

/// Deleting a group removes its usage with it; counts of the group still
/// in memory are dropped by the next flush, which does not fail.
#[tokio::test]
async fn a_deleted_group_leaves_no_usage_and_does_not_fail_the_flush() {
    on_each_backend(|app| async move {
        let w = world(&app).await;
        let seasonal = pricing_group(&app, "Seasonal").await;
        let list = price_list(&app, "Seasonal prices", json!({ "type": "OVERRIDE" })).await;
        list_price(&app, &list, &w.lamp, "40.00").await;
        link_price_list(&app, &seasonal, &list, 1).await;
        let dan = customer(&app, "dan@example.com", json!({})).await;
        add_customers(&app, &seasonal, &[&dan]).await;
        resolve(&app, Some(&dan), &w.lamp).await;
        flushed(&app).await;
        resolve(&app, Some(&dan), &w.lamp).await;
        write(&app, "deleteCustomerGroup", json!({ "id": seasonal })).await;
        let left = group_usage::Entity::find()
            .filter(group_usage::Column::GroupId.eq(seasonal.parse::<uuid::Uuid>().expect("a uuid")))
            .count(&app.db.conn)
            .await
            .expect("counted");
        assert_eq!(left, 0, "the group's usage went with it");
        assert_eq!(flushed(&app).await, 0, "its last count is dropped, not written");
        assert_eq!(app.store.usage.held().1, 0, "and not kept for a retry");
    })
    .await;
}

/// The background flush writes every interval, and once more when it stops.
#[tokio::test]
async fn the_background_flush_writes_on_its_interval_and_when_it_stops() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let w = world(&app).await;
    let flusher = Flusher::start(&app.store, Duration::from_millis(50));
    resolve(&app, Some(&w.ann), &w.chair).await;
    let started = std::time::Instant::now();
    while prices(&app, &w.vip).await.0 < 1 {
        assert!(started.elapsed() < Duration::from_secs(30), "no flush within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..2 {
        resolve(&app, Some(&w.ann), &w.chair).await;
    }
    flusher.stop(Duration::from_secs(30)).await;
    assert_eq!(prices(&app, &w.vip).await.0, 3);
    assert_eq!(
        app.store.usage.held(),
        (1, 0),
        "nothing waits; VIP's counter stays for its next price"
    );
}

/// The real server writes what it counted since its last write when it
/// stops, however long its interval.
#[test]
fn the_server_writes_its_counts_when_it_stops() {
    use crate::binary::{Process, post_graphql};
    let (mut server, addr) = Process::serve(&["--demo", "--usage-flush-seconds", "3600"]);
    let vip = "{ customerGroups(first: 1, filter: { nameContains: \"VIP\" }) { nodes { customers(first: 1) { nodes { id } } } } }";
    let vip = post_graphql(addr, "usage-vip", vip).json();
    let member = vip["data"]["customerGroups"]["nodes"][0]["customers"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no VIP member in the demo: {vip}"))
        .to_owned();
    let page = format!(
        "{{ products(first: 20) {{ nodes {{ resolvedPrice(customerId: \"{member}\", currency: \"USD\") {{ source }} }} }} }}"
    );
    let page = post_graphql(addr, "usage-page", &page).json();
    let through_lists = page["data"]["products"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|node| node["resolvedPrice"]["source"] == "PRICE_LIST")
        .count();
    assert!(through_lists > 0, "no list price in the demo: {page}");

    server.terminate();
    assert_eq!(server.wait_for_exit().code(), Some(0), "{}", server.log());
    let log = server.log();
    let line = format!("group usage flushed on the way out prices={through_lists}");
    assert!(log.contains(&line), "no {line:?} in the log:\n{log}");
}
