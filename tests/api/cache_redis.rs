//! The shared layer on a real Redis (`TEST_REDIS_URL`, a key prefix per
//! test): what a resolution stores and for how long, exactly which keys
//! each kind of write deletes, answers served from Redis alone, and every
//! request succeeding while Redis connections are killed under it.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use migration::EVERYONE_GROUP_ID;
use serde_json::{Value, json};

use crate::fixtures::{
    add_customers, base_price, create_group, customer, link_price_list, list_price, organization, price_list,
    pricing_group, product, product_line, write,
};
use crate::helpers::{Backend, TestApp};
use crate::test_redis::TestRedis;

const HOUR_MS: i64 = 3_600_000;

async fn pays(app: &TestApp, customer: &Value, product: &str) -> Value {
    app.data(
        "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") { amount { amount } } }",
        json!({ "c": customer, "p": product }),
    )
    .await["resolvedPrice"]["amount"]["amount"]
        .clone()
}

/// A small world on one instance with Redis, every shopper resolved once
/// (so Redis holds each of their keys):
/// `member` is in `vip` (linked to `vip_list`), `employee` works for `acme`
/// whose group is `trade` (linked to `trade_list`), `plain` is in neither.
struct World {
    app: TestApp,
    redis: TestRedis,
    chair: String,
    vip: String,
    trade: String,
    vip_list: String,
    trade_list: String,
    acme: String,
    member: String,
    employee: String,
    plain: String,
}

impl World {
    async fn new() -> Option<Self> {
        let redis = TestRedis::new()?;
        let app = TestApp::spawn(Backend::Sqlite).await;
        redis.attach(&app).await;
        let chair = product(&app, "CHAIR", json!({})).await;
        base_price(&app, &chair, 1, "100.00").await;
        let vip = pricing_group(&app, "VIP").await;
        let vip_list = price_list(&app, "VIP prices", json!({ "type": "OVERRIDE" })).await;
        list_price(&app, &vip_list, &chair, "80.00").await;
        link_price_list(&app, &vip, &vip_list, 1).await;
        let trade = pricing_group(&app, "Trade").await;
        let trade_list = price_list(&app, "Trade prices", json!({ "type": "OVERRIDE" })).await;
        list_price(&app, &trade_list, &chair, "70.00").await;
        link_price_list(&app, &trade, &trade_list, 1).await;
        let acme = organization(&app, "Acme", json!({})).await;
        write(
            &app,
            "setOrganizationGroups",
            json!({ "organizationId": acme, "groupIds": [trade] }),
        )
        .await;
        let member = customer(&app, "member@example.com", json!({})).await;
        add_customers(&app, &vip, &[&member]).await;
        let employee = customer(&app, "employee@example.com", json!({ "organizationId": acme })).await;
        let plain = customer(&app, "plain@example.com", json!({})).await;
        let world = Self {
            app,
            redis,
            chair,
            vip,
            trade,
            vip_list,
            trade_list,
            acme,
            member,
            employee,
            plain,
        };
        world.app.caught_up().await;
        world.resolve_all().await;
        Some(world)
    }

    /// What each shopper pays, in the order member, employee, plain, anonymous.
    async fn resolve_all(&self) -> Vec<Value> {
        let mut paid = Vec::new();
        for shopper in [&self.member, &self.employee, &self.plain] {
            paid.push(pays(&self.app, &json!(shopper), &self.chair).await);
        }
        paid.push(pays(&self.app, &Value::Null, &self.chair).await);
        paid
    }

    /// Every key a resolution of all the shoppers stores.
    fn all_keys(&self) -> BTreeSet<String> {
        keys([
            format!("pricing:customer:{}", self.member),
            format!("pricing:customer:{}", self.employee),
            format!("pricing:customer:{}", self.plain),
            format!("pricing:organization:{}", self.acme),
            format!("pricing:customer-group:{}", self.vip),
            format!("pricing:customer-group:{}", self.trade),
            format!("pricing:customer-group:{EVERYONE_GROUP_ID}"),
            format!("pricing:price-list:{}", self.vip_list),
            format!("pricing:price-list:{}", self.trade_list),
            format!("pricing:prices:{}:USD", self.chair),
        ])
    }

    /// The keys `change` deleted. It may delete, never add.
    async fn deleted_by(&self, change: impl Future<Output = ()>) -> BTreeSet<String> {
        let before = self.redis.keys();
        assert_eq!(before, self.all_keys(), "the world's keys before the write");
        change.await;
        let after = self.redis.keys();
        assert!(after.is_subset(&before), "the write added {:?}", &after - &before);
        &before - &after
    }

    /// An entry's value: `{position} {json}`, the position a number.
    fn entry(&self, key: &str) -> Value {
        let stored = self.redis.get(key).unwrap_or_else(|| panic!("{key} is stored"));
        let (position, json) = stored.split_once(' ').expect("a position, then the value");
        assert!(position.parse::<i64>().is_ok(), "{stored}");
        serde_json::from_str(json).expect("JSON")
    }

    async fn write(&self, mutation: &str, input: Value) {
        write(&self.app, mutation, input).await;
    }

    fn chair_prices(&self) -> BTreeSet<String> {
        keys([format!("pricing:prices:{}:USD", self.chair)])
    }
}

fn keys<const N: usize>(keys: [String; N]) -> BTreeSet<String> {
    keys.into_iter().collect()
}

#[tokio::test]
async fn a_resolution_stores_every_part_with_a_ttl_within_the_spread() {
    let Some(world) = World::new().await else { return };
    assert_eq!(world.redis.keys(), world.all_keys());
    for key in world.all_keys() {
        let ttl = world.redis.pttl(&key);
        // 0.9 h at the least, less the minute this test may take.
        let low = HOUR_MS * 9 / 10 - 60_000;
        let high = HOUR_MS * 11 / 10;
        assert!((low..=high).contains(&ttl), "{key} expires in {ttl} ms");
    }
    let group = world.entry(&format!("pricing:customer-group:{}", world.vip));
    assert_eq!(
        group,
        json!({ "isActive": true, "priceLists": [{ "priceListId": world.vip_list, "priority": 1 }], "productLineIds": [] })
    );
    let list = world.entry(&format!("pricing:price-list:{}", world.vip_list));
    assert_eq!((&list["type"], &list["status"]), (&json!("OVERRIDE"), &json!("ACTIVE")));
}

#[tokio::test]
async fn spread_ttls_differ_between_entries() {
    let Some(world) = World::new().await else { return };
    let ttls: BTreeSet<i64> = world
        .all_keys()
        .iter()
        .map(|key| world.redis.pttl(key) / 1000)
        .collect();
    assert!(
        ttls.len() > 1,
        "ten entries filled together all expire at once: {ttls:?}"
    );
}

#[tokio::test]
async fn answers_served_from_redis_alone_need_no_group_or_list_sql() {
    let Some(world) = World::new().await else { return };
    let expected = vec![json!("80.00"), json!("70.00"), json!("100.00"), json!("100.00")];
    assert_eq!(world.resolve_all().await, expected);
    // The in-process layers emptied: each shopper and the offer come from Redis.
    world.app.store.cache.clear();

    let (statements, paid) = world.app.count_warm_statements(world.resolve_all()).await;
    assert_eq!(paid, expected);
    // The product's own row (kept in process only), once; nothing of
    // customers, groups, lists or prices.
    assert_eq!(statements, 1);
    // And a second instance that never read the database answers the same.
    let other = world.app.twin(crate::helpers::test_cache()).await;
    world.redis.attach(&other).await;
    let (statements, paid) = other
        .count_warm_statements(async {
            let mut paid = Vec::new();
            for shopper in [&world.member, &world.employee, &world.plain] {
                paid.push(pays(&other, &json!(shopper), &world.chair).await);
            }
            paid.push(pays(&other, &Value::Null, &world.chair).await);
            paid
        })
        .await;
    assert_eq!((statements, paid), (1, expected));
}

#[tokio::test]
async fn creating_a_group_deletes_no_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(async {
            create_group(&world.app, json!({ "name": "New" })).await;
        })
        .await;
    assert_eq!(deleted, BTreeSet::new());
}

#[tokio::test]
async fn updating_a_group_deletes_its_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(world.write("updateCustomerGroup", json!({ "id": world.vip, "isActive": false })))
        .await;
    assert_eq!(deleted, keys([format!("pricing:customer-group:{}", world.vip)]));
    assert_eq!(world.resolve_all().await[0], "100.00");
}

#[tokio::test]
async fn deleting_a_group_deletes_its_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(world.write("deleteCustomerGroup", json!({ "id": world.vip })))
        .await;
    assert_eq!(deleted, keys([format!("pricing:customer-group:{}", world.vip)]));
    // The member's stored entry still names the group; it is missing, so
    // the member is read again from the database.
    assert_eq!(world.resolve_all().await[0], "100.00");
}

#[tokio::test]
async fn adding_a_link_deletes_the_groups_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(link_price_list(&world.app, &world.vip, &world.trade_list, 0))
        .await;
    assert_eq!(deleted, keys([format!("pricing:customer-group:{}", world.vip)]));
    assert_eq!(world.resolve_all().await[0], "70.00");
}

#[tokio::test]
async fn removing_a_link_deletes_the_groups_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(world.write(
            "removePriceListFromGroup",
            json!({ "groupId": world.vip, "priceListId": world.vip_list }),
        ))
        .await;
    assert_eq!(deleted, keys([format!("pricing:customer-group:{}", world.vip)]));
    assert_eq!(world.resolve_all().await[0], "100.00");
}

#[tokio::test]
async fn reprioritizing_a_link_deletes_the_groups_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(link_price_list(&world.app, &world.vip, &world.vip_list, 7))
        .await;
    assert_eq!(deleted, keys([format!("pricing:customer-group:{}", world.vip)]));
    let stored = world.resolve_all().await;
    assert_eq!(stored[0], "80.00");
    let group = world.redis.get(&format!("pricing:customer-group:{}", world.vip));
    assert!(group.is_some_and(|g| g.contains("\"priority\":7")));
}

#[tokio::test]
async fn editing_a_list_deletes_its_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(world.write("updatePriceList", json!({ "id": world.vip_list, "status": "DRAFT" })))
        .await;
    assert_eq!(deleted, keys([format!("pricing:price-list:{}", world.vip_list)]));
    assert_eq!(world.resolve_all().await[0], "100.00");
}

#[tokio::test]
async fn deleting_a_list_deletes_its_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(world.write("deletePriceList", json!({ "id": world.vip_list })))
        .await;
    assert_eq!(deleted, keys([format!("pricing:price-list:{}", world.vip_list)]));
    assert_eq!(world.resolve_all().await[0], "100.00");
}

#[tokio::test]
async fn upserting_a_list_price_deletes_the_products_prices() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(list_price(&world.app, &world.vip_list, &world.chair, "75.00"))
        .await;
    assert_eq!(deleted, world.chair_prices());
    assert_eq!(world.resolve_all().await[0], "75.00");
}

#[tokio::test]
async fn deleting_a_list_price_deletes_the_products_prices() {
    let Some(world) = World::new().await else { return };
    let key = json!([{ "productId": world.chair, "currency": "USD", "minQuantity": 1 }]);
    let deleted = world
        .deleted_by(world.write("deletePrices", json!({ "priceListId": world.vip_list, "prices": key })))
        .await;
    assert_eq!(deleted, world.chair_prices());
    assert_eq!(world.resolve_all().await[0], "100.00");
}

#[tokio::test]
async fn upserting_a_base_price_deletes_the_products_prices() {
    let Some(world) = World::new().await else { return };
    let deleted = world.deleted_by(base_price(&world.app, &world.chair, 1, "95.00")).await;
    assert_eq!(deleted, world.chair_prices());
    assert_eq!(world.resolve_all().await[2], "95.00");
}

#[tokio::test]
async fn deleting_a_base_price_deletes_the_products_prices() {
    let Some(world) = World::new().await else { return };
    let key = json!([{ "productId": world.chair, "currency": "USD", "minQuantity": 1 }]);
    let deleted = world
        .deleted_by(world.write("deleteBasePrices", json!({ "prices": key })))
        .await;
    assert_eq!(deleted, world.chair_prices());
    assert_eq!(world.resolve_all().await[2], Value::Null);
}

#[tokio::test]
async fn adding_a_member_deletes_the_customers_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(add_customers(&world.app, &world.vip, &[&world.plain]))
        .await;
    assert_eq!(deleted, keys([format!("pricing:customer:{}", world.plain)]));
    assert_eq!(world.resolve_all().await[2], "80.00");
}

#[tokio::test]
async fn removing_a_member_deletes_the_customers_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(world.write(
            "removeCustomersFromGroup",
            json!({ "groupId": world.vip, "customerIds": [world.member] }),
        ))
        .await;
    assert_eq!(deleted, keys([format!("pricing:customer:{}", world.member)]));
    assert_eq!(world.resolve_all().await[0], "100.00");
}

#[tokio::test]
async fn changing_an_organizations_groups_deletes_its_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(world.write(
            "setOrganizationGroups",
            json!({ "organizationId": world.acme, "groupIds": [world.vip] }),
        ))
        .await;
    assert_eq!(deleted, keys([format!("pricing:organization:{}", world.acme)]));
    assert_eq!(world.resolve_all().await[1], "80.00");
}

#[tokio::test]
async fn a_customer_joining_an_organization_deletes_the_customers_key() {
    let Some(world) = World::new().await else { return };
    let deleted = world
        .deleted_by(world.write(
            "updateCustomer",
            json!({ "id": world.plain, "organizationId": world.acme }),
        ))
        .await;
    assert_eq!(deleted, keys([format!("pricing:customer:{}", world.plain)]));
    assert_eq!(world.resolve_all().await[2], "70.00");
}

#[tokio::test]
async fn changing_a_groups_product_lines_deletes_its_key() {
    let Some(world) = World::new().await else { return };
    let line = product_line(&world.app, "Outdoor").await;
    let deleted = world
        .deleted_by(world.write(
            "setGroupProductLines",
            json!({ "groupId": world.vip, "productLineIds": [line] }),
        ))
        .await;
    assert_eq!(deleted, keys([format!("pricing:customer-group:{}", world.vip)]));
}

#[tokio::test]
async fn deleting_a_product_line_deletes_the_keys_of_the_groups_listing_it() {
    let Some(world) = World::new().await else { return };
    let line = product_line(&world.app, "Outdoor").await;
    world
        .write(
            "setGroupProductLines",
            json!({ "groupId": world.trade, "productLineIds": [line] }),
        )
        .await;
    world.resolve_all().await;
    let deleted = world
        .deleted_by(world.write("deleteProductLine", json!({ "id": line })))
        .await;
    assert_eq!(deleted, keys([format!("pricing:customer-group:{}", world.trade)]));
}

/// Redis's clients on database `db`, by id.
async fn clients_on(connection: &mut redis::aio::MultiplexedConnection, db: u32) -> Vec<String> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(connection)
        .await
        .expect("CLIENT LIST");
    let on_db = format!(" db={db} ");
    list.lines()
        .filter(|line| line.contains(&on_db))
        .filter_map(|line| line.strip_prefix("id=")?.split(' ').next().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn killing_redis_connections_mid_run_fails_no_request_and_shows_no_stale_price() {
    let Some(base) = TestRedis::new() else { return };
    // This test's instances talk to Redis database 15, which no other test
    // uses, so that it kills only their connections (pub/sub included).
    let mut url = url::Url::parse(&base.url).expect("TEST_REDIS_URL is a URL");
    url.set_path("/15");
    let redis = TestRedis::at(url.as_str());
    let a = TestApp::spawn(Backend::Sqlite).await;
    let b = a.twin(crate::helpers::test_cache()).await;
    let truth = a.uncached().await;
    redis.attach(&a).await;
    redis.attach(&b).await;

    let chair = product(&a, "CHAIR", json!({})).await;
    base_price(&a, &chair, 1, "100.00").await;
    let vip = pricing_group(&a, "VIP").await;
    let vip_list = price_list(&a, "VIP prices", json!({ "type": "OVERRIDE" })).await;
    link_price_list(&a, &vip, &vip_list, 1).await;
    let member = json!(customer(&a, "member@example.com", json!({})).await);
    add_customers(&a, &vip, &[member.as_str().unwrap_or_default()]).await;

    let killed = Arc::new(AtomicU64::new(0));
    let killer = {
        let client = redis::Client::open(base.url.as_str()).expect("a Redis URL");
        let killed = killed.clone();
        tokio::spawn(async move {
            let mut connection = client
                .get_multiplexed_async_connection()
                .await
                .expect("TEST_REDIS_URL is set but cannot be reached");
            loop {
                for client_id in clients_on(&mut connection, 15).await {
                    let gone: Result<(), _> = redis::cmd("CLIENT")
                        .arg("KILL")
                        .arg("ID")
                        .arg(&client_id)
                        .query_async(&mut connection)
                        .await;
                    if gone.is_ok() {
                        killed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_millis(7)).await;
            }
        })
    };

    let started = Instant::now();
    let mut round = 0;
    while started.elapsed() < Duration::from_secs(3) || killed.load(Ordering::Relaxed) < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the killer never got going"
        );
        round += 1;
        let amount = format!("{}.00", 100 + round);
        let list_amount = format!("{}.00", 50 + round);
        base_price(&a, &chair, 1, &amount).await;
        list_price(&a, &vip_list, &chair, &list_amount).await;
        // The writer sees its own write at once.
        assert_eq!(pays(&a, &Value::Null, &chair).await, json!(amount), "round {round}");
        assert_eq!(pays(&a, &member, &chair).await, json!(list_amount), "round {round}");
        assert_eq!(pays(&truth, &member, &chair).await, json!(list_amount));
        // The other instance within the bound of an invalidation message;
        // every request on the way must succeed (`data` asserts it).
        let bound = Instant::now();
        loop {
            let seen = (pays(&b, &Value::Null, &chair).await, pays(&b, &member, &chair).await);
            if seen == (json!(amount), json!(list_amount)) {
                break;
            }
            assert!(
                bound.elapsed() < Duration::from_secs(1),
                "round {round}: B shows {seen:?} a second after A wrote {amount}, {list_amount}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    killer.abort();
    assert!(killed.load(Ordering::Relaxed) >= 20, "too few connections were killed");
    assert!(
        a.store.cache.redis_errors() + b.store.cache.redis_errors() > 0,
        "connections were killed, yet no Redis failure was counted"
    );
    // Their in-process caches served all along: what vouches for them is
    // the change log, not Redis.
    assert!(a.store.cache.is_serving() && b.store.cache.is_serving());
}

/// Relational reads (`Customer.groups`, `CustomerGroup.priceLists`) use the
/// same entries as resolution: an instance whose own layers are cold reads
/// them from Redis, and a read that missed fills Redis for the others.
#[tokio::test]
async fn relational_reads_use_and_fill_the_entries_in_redis() {
    let Some(world) = World::new().await else { return };
    let query = "query($c: ID!) { customer(id: $c) { groups { id priceLists { priority priceList { id } } } } }";
    let other = world.app.twin(crate::helpers::test_cache()).await;
    world.redis.attach(&other).await;
    let (statements, data) = other
        .count_warm_statements(other.data(query, json!({ "c": world.member })))
        .await;
    let expected =
        json!([{ "id": world.vip, "priceLists": [{ "priority": 1, "priceList": { "id": world.vip_list } }] }]);
    assert_eq!(data["customer"]["groups"], expected);
    // The rows of the customer, its groups and the lists (kept in process
    // only); the customer's and the group's entries come from Redis.
    assert_eq!(statements, 3);

    let late = customer(&world.app, "late@example.com", json!({})).await;
    add_customers(&world.app, &world.vip, &[&late]).await;
    // Filled at a position after the write, so that the others may use it.
    world.app.caught_up().await;
    world.app.data(query, json!({ "c": late })).await;
    assert!(
        world.redis.keys().contains(&format!("pricing:customer:{late}")),
        "the relational read filled the customer's entry"
    );
    other.caught_up().await;
    let (statements, data) = other
        .count_warm_statements(other.data(query, json!({ "c": late })))
        .await;
    assert_eq!(data["customer"]["groups"], expected);
    assert_eq!(
        statements, 1,
        "the customer's row; the rest from Redis or this instance's cache"
    );
}
