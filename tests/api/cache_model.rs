//! A property test of the read cache: random writes through the API, and
//! after each one every shopper's storefront page, asked of this server
//! (cache on) and of a twin on the same database with the cache off, must be
//! the same answer. With `TEST_REDIS_URL`, both the server and a third
//! instance share Redis, and the third empties its in-process cache before
//! every read, so that its answers come from Redis.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::fixtures::{
    add_customers, base_price, customer, link_price_list, list_price, organization, price_list, pricing_group, product,
    product_line,
};
use crate::helpers::{TestApp, backends};
use crate::test_redis::TestRedis;

const CUSTOMERS: usize = 3;
const GROUPS: usize = 3;
const LISTS: usize = 4;
const PRODUCTS: usize = 3;
const LINES: usize = 2;

/// The ids of the fixed cast the writes act on.
struct Cast {
    customers: Vec<String>,
    groups: Vec<String>,
    lists: Vec<String>,
    products: Vec<String>,
    lines: Vec<String>,
    organization: String,
}

#[derive(Clone, Debug)]
enum Write {
    AddMember(usize, usize),
    RemoveMember(usize, usize),
    Link(usize, usize, i32),
    Unlink(usize, usize),
    ListStatus(usize, bool),
    ListType(usize, bool),
    /// Ends in the past (`true`) or never.
    ListEnded(usize, bool),
    GroupActive(usize, bool),
    /// A derived list's `percentOff`, or no rule.
    ListRule(usize, Option<&'static str>),
    Price(usize, usize, i32, u32),
    DeletePrice(usize, usize, i32),
    BasePrice(usize, u32),
    OrganizationGroups(Vec<usize>),
    JoinOrganization(usize, bool),
    GroupLines(usize, Vec<usize>),
    ProductLine(usize, Option<usize>),
}

fn write() -> impl Strategy<Value = Write> {
    let c = 0..CUSTOMERS;
    let g = 0..GROUPS;
    let l = 0..LISTS;
    let p = 0..PRODUCTS;
    prop_oneof![
        (c.clone(), g.clone()).prop_map(|(c, g)| Write::AddMember(c, g)),
        (c.clone(), g.clone()).prop_map(|(c, g)| Write::RemoveMember(c, g)),
        (g.clone(), l.clone(), 0..4i32).prop_map(|(g, l, p)| Write::Link(g, l, p)),
        (g.clone(), l.clone()).prop_map(|(g, l)| Write::Unlink(g, l)),
        (l.clone(), any::<bool>()).prop_map(|(l, on)| Write::ListStatus(l, on)),
        (l.clone(), any::<bool>()).prop_map(|(l, sale)| Write::ListType(l, sale)),
        (l.clone(), any::<bool>()).prop_map(|(l, ended)| Write::ListEnded(l, ended)),
        (g.clone(), any::<bool>()).prop_map(|(g, on)| Write::GroupActive(g, on)),
        (
            l.clone(),
            proptest::option::of(proptest::sample::select(vec!["20", "50", "12.5"]))
        )
            .prop_map(|(l, rule)| Write::ListRule(l, rule)),
        (l.clone(), p.clone(), prop_oneof![Just(1), Just(5)], 1..200u32)
            .prop_map(|(l, p, min, amount)| Write::Price(l, p, min, amount)),
        (l, p.clone(), prop_oneof![Just(1), Just(5)]).prop_map(|(l, p, min)| Write::DeletePrice(l, p, min)),
        (p.clone(), 1..200u32).prop_map(|(p, amount)| Write::BasePrice(p, amount)),
        proptest::sample::subsequence((0..GROUPS).collect::<Vec<_>>(), 0..=2).prop_map(Write::OrganizationGroups),
        (c, any::<bool>()).prop_map(|(c, join)| Write::JoinOrganization(c, join)),
        (g, proptest::sample::subsequence((0..LINES).collect::<Vec<_>>(), 0..=1))
            .prop_map(|(g, lines)| Write::GroupLines(g, lines)),
        (p, proptest::option::of(0..LINES)).prop_map(|(p, line)| Write::ProductLine(p, line)),
    ]
}

async fn cast(app: &TestApp) -> Cast {
    let mut customers = Vec::new();
    for n in 0..CUSTOMERS {
        customers.push(customer(app, &format!("c{n}@example.com"), json!({})).await);
    }
    let mut groups = Vec::new();
    for n in 0..GROUPS {
        groups.push(pricing_group(app, &format!("G{n}")).await);
    }
    let mut lists = Vec::new();
    // The last list is derived, 20 % off, with no prices of its own yet:
    // it follows every base price write.
    for n in 0..LISTS {
        let rule = if n == LISTS - 1 {
            json!({ "rule": { "percentOff": "20" } })
        } else {
            json!({})
        };
        lists.push(price_list(app, &format!("L{n}"), rule).await);
    }
    let mut products = Vec::new();
    for n in 0..PRODUCTS {
        products.push(product(app, &format!("P{n}"), json!({})).await);
    }
    let mut lines = Vec::new();
    for n in 0..LINES {
        lines.push(product_line(app, &format!("Line {n}")).await);
    }
    let organization = organization(app, "Org", json!({})).await;
    // A start where most writes change someone's price: every product has
    // a base price and a price in every list (below and above base), each
    // group links two lists, each customer is in one group.
    for (p, product) in products.iter().enumerate() {
        base_price(app, product, 1, "10.00").await;
        for (l, list) in lists.iter().enumerate().take(LISTS - 1) {
            list_price(app, list, product, &money(500 + 300 * ((p + l) % 4) as u32)).await;
        }
    }
    for (g, group) in groups.iter().enumerate() {
        link_price_list(app, group, &lists[g], 1).await;
        link_price_list(app, group, &lists[(g + 1) % LISTS], 2).await;
    }
    for (c, customer) in customers.iter().enumerate() {
        add_customers(app, &groups[c % GROUPS], &[customer]).await;
    }
    Cast {
        customers,
        groups,
        lists,
        products,
        lines,
        organization,
    }
}

fn money(amount: u32) -> String {
    format!("{}.{:02}", amount / 100, amount % 100)
}

/// The mutation and its input for one write. Some may be refused (a
/// userError): that is a write too, and must change nothing.
fn mutation(cast: &Cast, write: &Write) -> (&'static str, &'static str, Value) {
    let pick = |ids: &[String], indexes: &[usize]| -> Vec<String> { indexes.iter().map(|i| ids[*i].clone()).collect() };
    match write {
        Write::AddMember(c, g) => (
            "addCustomersToGroup",
            "GroupCustomersInput",
            json!({ "groupId": cast.groups[*g], "customerIds": [cast.customers[*c]] }),
        ),
        Write::RemoveMember(c, g) => (
            "removeCustomersFromGroup",
            "GroupCustomersInput",
            json!({ "groupId": cast.groups[*g], "customerIds": [cast.customers[*c]] }),
        ),
        Write::Link(g, l, priority) => (
            "addPriceListToGroup",
            "AddPriceListToGroupInput",
            json!({ "groupId": cast.groups[*g], "priceListId": cast.lists[*l], "priority": priority }),
        ),
        Write::Unlink(g, l) => (
            "removePriceListFromGroup",
            "RemovePriceListFromGroupInput",
            json!({ "groupId": cast.groups[*g], "priceListId": cast.lists[*l] }),
        ),
        Write::ListStatus(l, active) => (
            "updatePriceList",
            "UpdatePriceListInput",
            json!({ "id": cast.lists[*l], "status": if *active { "ACTIVE" } else { "DRAFT" } }),
        ),
        Write::ListType(l, sale) => (
            "updatePriceList",
            "UpdatePriceListInput",
            json!({ "id": cast.lists[*l], "type": if *sale { "SALE" } else { "OVERRIDE" } }),
        ),
        Write::ListEnded(l, ended) => (
            "updatePriceList",
            "UpdatePriceListInput",
            json!({ "id": cast.lists[*l], "endsAt": ended.then_some("2001-01-01T00:00:00Z") }),
        ),
        Write::GroupActive(g, active) => (
            "updateCustomerGroup",
            "UpdateCustomerGroupInput",
            json!({ "id": cast.groups[*g], "isActive": active }),
        ),
        Write::ListRule(l, percent_off) => (
            "updatePriceList",
            "UpdatePriceListInput",
            json!({ "id": cast.lists[*l], "rule": percent_off.map(|p| json!({ "percentOff": p })) }),
        ),
        Write::Price(l, p, min, amount) => (
            "upsertPrices",
            "UpsertPricesInput",
            json!({ "priceListId": cast.lists[*l], "prices": [{ "productId": cast.products[*p], "currency": "USD",
                "minQuantity": min, "amount": money(*amount) }] }),
        ),
        Write::DeletePrice(l, p, min) => (
            "deletePrices",
            "DeletePricesInput",
            json!({ "priceListId": cast.lists[*l], "prices": [{ "productId": cast.products[*p], "currency": "USD",
                "minQuantity": min }] }),
        ),
        Write::BasePrice(p, amount) => (
            "upsertBasePrices",
            "UpsertBasePricesInput",
            json!({ "prices": [{ "productId": cast.products[*p], "currency": "USD", "minQuantity": 1,
                "amount": money(*amount) }] }),
        ),
        Write::OrganizationGroups(groups) => (
            "setOrganizationGroups",
            "SetOrganizationGroupsInput",
            json!({ "organizationId": cast.organization, "groupIds": pick(&cast.groups, groups) }),
        ),
        Write::JoinOrganization(c, join) => (
            "updateCustomer",
            "UpdateCustomerInput",
            json!({ "id": cast.customers[*c], "organizationId": join.then_some(&cast.organization) }),
        ),
        Write::GroupLines(g, lines) => (
            "setGroupProductLines",
            "SetGroupProductLinesInput",
            json!({ "groupId": cast.groups[*g], "productLineIds": pick(&cast.lines, lines) }),
        ),
        Write::ProductLine(p, line) => (
            "updateProduct",
            "UpdateProductInput",
            json!({ "id": cast.products[*p], "productLineId": line.map(|l| &cast.lines[l]) }),
        ),
    }
}

const PAGE: &str = "query($c: ID) { products(first: 10) { edges { node { sku
    priority: resolvedPrice(customerId: $c, currency: \"USD\", quantity: 5) {
        amount { amount } source priceList { name } customerGroup { name } tierMinQuantity rule { percentOff } }
    lowest: resolvedPrice(customerId: $c, currency: \"USD\", strategy: LOWEST_PRICE) {
        amount { amount } source priceList { name } rule { percentOff } } } } } }";

/// Every shopper's page, cached and not, after each write.
async fn check(
    app: &TestApp,
    truth: &TestApp,
    shared: Option<&TestApp>,
    cast: &Cast,
    writes: &[Write],
) -> Result<(), TestCaseError> {
    for (step, write) in writes.iter().enumerate() {
        let (name, input_type, input) = mutation(cast, write);
        let query = format!("mutation($input: {input_type}!) {{ {name}(input: $input) {{ userErrors {{ code }} }} }}");
        let body = app.graphql(&query, json!({ "input": input })).await;
        prop_assert!(body.get("errors").is_none(), "{write:?}: {body}");
        let shoppers = cast
            .customers
            .iter()
            .map(|c| Value::String(c.clone()))
            .chain([Value::Null]);
        for shopper in shoppers {
            let cached = app.data(PAGE, json!({ "c": shopper })).await;
            let uncached = truth.data(PAGE, json!({ "c": shopper })).await;
            prop_assert_eq!(
                &cached,
                &uncached,
                "[{:?}] after write {} ({:?}) of {:?}, shopper {}",
                app.backend,
                step,
                write,
                writes,
                shopper
            );
            if let Some(shared) = shared {
                shared.store.cache.clear();
                let from_redis = shared.data(PAGE, json!({ "c": shopper })).await;
                prop_assert_eq!(
                    &from_redis,
                    &uncached,
                    "[{:?}] from Redis, after write {} ({:?}) of {:?}, shopper {}",
                    app.backend,
                    step,
                    write,
                    writes,
                    shopper
                );
            }
        }
    }
    Ok(())
}

#[test]
fn cached_answers_equal_uncached_answers_after_random_writes() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let config = Config {
        cases: 40,
        failure_persistence: None,
        // The database carries over from case to case (every state must
        // agree), so shrinking cannot replay a case on its own.
        max_shrink_iters: 0,
        ..Config::default()
    };
    for backend in backends() {
        let app = runtime.block_on(TestApp::spawn(backend));
        let truth = runtime.block_on(app.uncached());
        let redis = TestRedis::new();
        let shared = redis.as_ref().map(|redis| {
            runtime.block_on(async {
                let shared = app.twin(crate::helpers::test_cache()).await;
                redis.attach(&app).await;
                redis.attach(&shared).await;
                shared
            })
        });
        let cast = runtime.block_on(cast(&app));
        let mut runner = TestRunner::new(config.clone());
        let result = runner.run(&proptest::collection::vec(write(), 1..12), |writes| {
            runtime.block_on(check(&app, &truth, shared.as_ref(), &cast, &writes))
        });
        runtime.block_on(app.cleanup());
        if let Err(failure) = result {
            panic!("[{backend:?}] {failure}");
        }
    }
}
