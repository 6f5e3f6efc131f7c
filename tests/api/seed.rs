//! `pricegraph seed`: the demo data set and the generated benchmark rows,
//! checked in the database itself.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use entity::values::{GroupKind, PriceListStatus, PriceListType};
use entity::{
    base_price, customer, customer_group, customer_group_price_list, customer_group_product_line, membership,
    organization, organization_group, price, price_list, product, product_line,
};
use pricegraph::config::{DatabaseArgs, SeedArgs};
use pricegraph::seed;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, backends, on_each_backend};

/// Rows per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    groups: u64,
    organizations: u64,
    organization_groups: u64,
    customers: u64,
    memberships: u64,
    product_lines: u64,
    products: u64,
    base_prices: u64,
    price_lists: u64,
    prices: u64,
    list_links: u64,
    line_links: u64,
}

async fn count<E>(conn: &DatabaseConnection) -> u64
where
    E: EntityTrait,
    E::Model: Sync,
{
    E::find().count(conn).await.expect("count")
}

async fn counts(conn: &DatabaseConnection) -> Counts {
    Counts {
        groups: count::<customer_group::Entity>(conn).await,
        organizations: count::<organization::Entity>(conn).await,
        organization_groups: count::<organization_group::Entity>(conn).await,
        customers: count::<customer::Entity>(conn).await,
        memberships: count::<membership::Entity>(conn).await,
        product_lines: count::<product_line::Entity>(conn).await,
        products: count::<product::Entity>(conn).await,
        base_prices: count::<base_price::Entity>(conn).await,
        price_lists: count::<price_list::Entity>(conn).await,
        prices: count::<price::Entity>(conn).await,
        list_links: count::<customer_group_price_list::Entity>(conn).await,
        line_links: count::<customer_group_product_line::Entity>(conn).await,
    }
}

fn seed_args(demo: bool, customers: u32, groups: u32, price_lists: u32, products: u32) -> SeedArgs {
    SeedArgs {
        database: DatabaseArgs {
            database_url: "unused: the test passes its own Db".into(),
            db_max_connections: 1,
        },
        demo,
        customers,
        groups,
        price_lists,
        products,
    }
}

async fn all<E: EntityTrait>(conn: &DatabaseConnection) -> Vec<E::Model> {
    E::find().all(conn).await.expect("select")
}

#[tokio::test]
async fn the_demo_has_an_example_of_every_rule() {
    on_each_backend(|app| async move {
        seed::demo(&app.db).await.expect("demo loads");
        let conn = &app.db.conn;
        let now = Utc::now();

        // Groups: the named TYPE and PRICING groups, exemptions, an inactive one.
        let groups = all::<customer_group::Entity>(conn).await;
        let by_name: HashMap<&str, &customer_group::Model> = groups.iter().map(|g| (g.name.as_str(), g)).collect();
        for (name, kind) in [
            ("Default", GroupKind::Type),
            ("Everyone", GroupKind::Pricing),
            ("Retail", GroupKind::Type),
            ("Wholesale Trade", GroupKind::Type),
            ("Distributor", GroupKind::Type),
            ("VIP", GroupKind::Pricing),
            ("Wholesale", GroupKind::Pricing),
            ("Employee", GroupKind::Pricing),
        ] {
            let group = by_name
                .get(name)
                .unwrap_or_else(|| panic!("[{:?}] no group {name}", app.backend));
            assert_eq!(group.kind, kind, "{name}");
        }
        assert!(by_name["Employee"].free_freight);
        assert!(groups.iter().any(|g| g.kind == GroupKind::Type && g.commission_exempt));
        assert!(
            groups.iter().any(|g| g.kind == GroupKind::Pricing && !g.is_active),
            "an inactive pricing group"
        );
        for group in &groups {
            assert_eq!(group.name_key, group.name.to_lowercase());
            assert!(group.metadata.is_object());
        }
        let kind_of: HashMap<Uuid, GroupKind> = groups.iter().map(|g| (g.id, g.kind)).collect();

        // Price lists: both types, drafts, scheduled and ended windows.
        let lists = all::<price_list::Entity>(conn).await;
        assert!(lists.iter().any(|l| l.list_type == PriceListType::Sale));
        assert!(lists.iter().any(|l| l.list_type == PriceListType::Override));
        assert!(lists.iter().any(|l| l.status == PriceListStatus::Draft));
        assert!(
            lists.iter().any(|l| l.starts_at.is_some_and(|start| start > now)),
            "a scheduled list"
        );
        assert!(
            lists.iter().any(|l| l.ends_at.is_some_and(|end| end < now)),
            "an ended list"
        );
        assert!(lists.iter().any(|l| l.name.starts_with("Black Friday")));

        // Links: only PRICING groups; storewide lists on Everyone; several
        // lists per group at different priorities.
        let links = all::<customer_group_price_list::Entity>(conn).await;
        assert!(
            links
                .iter()
                .all(|link| kind_of[&link.group_id] == GroupKind::Pricing && link.priority >= 0)
        );
        let everyone = by_name["Everyone"].id;
        assert!(
            links.iter().filter(|link| link.group_id == everyone).count() >= 2,
            "storewide lists"
        );
        let vip_priorities: HashSet<i32> = links
            .iter()
            .filter(|link| link.group_id == by_name["VIP"].id)
            .map(|link| link.priority)
            .collect();
        assert!(
            vip_priorities.len() >= 3,
            "VIP has lists at several priorities: {vip_priorities:?}"
        );

        // Product access: some groups restrict lines, others do not.
        let line_links = all::<customer_group_product_line::Entity>(conn).await;
        let restricting: HashSet<Uuid> = line_links.iter().map(|link| link.group_id).collect();
        assert!(restricting.contains(&by_name["Wholesale"].id));
        assert!(!restricting.contains(&by_name["VIP"].id));
        assert!(restricting.iter().all(|group| kind_of[group] == GroupKind::Pricing));

        // Catalog: lines, a few products without one, base prices in three
        // currencies with quantity breaks, in whole minor units.
        assert!(count::<product_line::Entity>(conn).await >= 6);
        let products = all::<product::Entity>(conn).await;
        assert!(products.len() >= 200, "{} products", products.len());
        assert!(products.iter().any(|p| p.product_line_id.is_none()));
        let base_prices = all::<base_price::Entity>(conn).await;
        for currency in ["USD", "EUR", "JPY"] {
            let priced: HashSet<Uuid> = base_prices
                .iter()
                .filter(|b| b.currency == currency)
                .map(|b| b.product_id)
                .collect();
            assert!(priced.len() >= 200, "{} products priced in {currency}", priced.len());
        }
        assert!(base_prices.iter().all(|b| b.amount_minor >= 0 && b.min_quantity >= 1));
        assert!(
            base_prices.iter().any(|b| b.min_quantity > 1),
            "quantity breaks in base prices"
        );
        let unit_price = |product: Uuid, currency: &str| {
            base_prices
                .iter()
                .find(|b| b.product_id == product && b.currency == currency && b.min_quantity == 1)
                .map(|b| b.amount_minor)
        };
        // JPY has no minor unit: a $10.00 item (1000 cents) costs about ¥1500, not ¥150000.
        for product in &products {
            if let (Some(usd), Some(jpy)) = (unit_price(product.id, "USD"), unit_price(product.id, "JPY")) {
                assert!(
                    usd == 0 || (jpy * 10 > usd * 12 && jpy * 10 < usd * 18),
                    "{}: {usd} cents vs ¥{jpy}",
                    product.sku
                );
            }
        }

        // List prices: tiers with upper bounds that never overlap.
        let prices = all::<price::Entity>(conn).await;
        assert!(prices.iter().all(|p| p.amount_minor >= 0));
        assert!(prices.iter().any(|p| p.max_quantity.is_some()), "tiered prices");
        let mut prices = prices;
        prices.sort_by_key(|p| (p.price_list_id, p.product_id, p.currency.clone(), p.min_quantity));
        for pair in prices.windows(2) {
            let [lower, upper] = pair else { continue };
            let same_row = (lower.price_list_id, lower.product_id, &lower.currency)
                == (upper.price_list_id, upper.product_id, &upper.currency);
            if same_row {
                let ordered = lower.max_quantity.is_some_and(|max| max < upper.min_quantity);
                assert!(ordered, "overlapping tiers: {lower:?} and {upper:?}");
            }
        }

        // Organizations: a parent, and pricing groups of their own.
        let organizations = all::<organization::Entity>(conn).await;
        assert!(organizations.iter().any(|o| o.parent_id.is_some()));
        let organization_groups = all::<organization_group::Entity>(conn).await;
        assert!(!organization_groups.is_empty());
        assert!(
            organization_groups
                .iter()
                .all(|link| kind_of[&link.group_id] == GroupKind::Pricing)
        );

        // Customers: spread over type groups and organizations, with memberships
        // of PRICING groups only (never of the implicit Everyone).
        let customers = all::<customer::Entity>(conn).await;
        assert!(customers.len() >= 24, "{} customers", customers.len());
        assert!(
            customers
                .iter()
                .all(|c| kind_of[&c.type_group_id] == GroupKind::Type && c.email == c.email.to_lowercase())
        );
        let type_groups: HashSet<Uuid> = customers.iter().map(|c| c.type_group_id).collect();
        assert!(type_groups.len() >= 3);
        assert!(customers.iter().any(|c| c.organization_id.is_some()));
        assert!(customers.iter().any(|c| c.commission_exempt));
        assert!(customers.iter().any(|c| c.free_freight));
        let memberships = all::<membership::Entity>(conn).await;
        assert!(memberships.len() >= 20);
        assert!(
            memberships
                .iter()
                .all(|m| kind_of[&m.group_id] == GroupKind::Pricing && m.group_id != everyone)
        );

        let data = app
            .data("{ customerGroups(first: 100) { totalCount } }", json!({}))
            .await;
        assert_eq!(data["customerGroups"]["totalCount"], json!(groups.len()));
    })
    .await;
}

#[tokio::test]
async fn loading_the_demo_again_adds_nothing() {
    on_each_backend(|app| async move {
        seed::demo(&app.db).await.expect("demo loads");
        let loaded = counts(&app.db.conn).await;
        seed::demo_if_empty(&app.db).await.expect("demo_if_empty");
        assert_eq!(
            counts(&app.db.conn).await,
            loaded,
            "[{:?}] demo_if_empty after demo",
            app.backend
        );
        seed::run(&app.db, &seed_args(true, 0, 0, 0, 0))
            .await
            .expect("seed --demo again");
        assert_eq!(
            counts(&app.db.conn).await,
            loaded,
            "[{:?}] seed --demo twice",
            app.backend
        );
    })
    .await;
}

#[tokio::test]
async fn demo_if_empty_loads_only_an_empty_database() {
    on_each_backend(|app| async move {
        seed::demo_if_empty(&app.db).await.expect("demo_if_empty");
        assert!(
            counts(&app.db.conn).await.customers > 0,
            "an empty database gets the demo"
        );
    })
    .await;
    on_each_backend(|app| async move {
        seed::run(&app.db, &seed_args(false, 0, 0, 0, 1))
            .await
            .expect("one product");
        let before = counts(&app.db.conn).await;
        seed::demo_if_empty(&app.db).await.expect("demo_if_empty");
        assert_eq!(
            counts(&app.db.conn).await,
            before,
            "a database with a product is left alone"
        );
    })
    .await;
}

#[tokio::test]
async fn generated_rows_come_in_exactly_the_numbers_asked_for() {
    on_each_backend(|app| async move {
        let conn = &app.db.conn;
        for run in 0..2 {
            let before = counts(conn).await;
            seed::run(&app.db, &seed_args(false, 50, 5, 10, 20))
                .await
                .expect("seed runs");
            let after = counts(conn).await;
            assert_eq!(
                (after.customers - before.customers, after.groups - before.groups),
                (50, 5),
                "[{:?}] run {run}",
                app.backend
            );
            assert_eq!(
                (after.price_lists - before.price_lists, after.products - before.products),
                (10, 20)
            );
            assert_eq!(
                after.list_links - before.list_links,
                5 * 10,
                "each group gets ten lists"
            );
        }

        let groups = all::<customer_group::Entity>(conn).await;
        let kind_of: HashMap<Uuid, GroupKind> = groups.iter().map(|g| (g.id, g.kind)).collect();
        let names: HashSet<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        assert!(
            names.contains("Bench Group 00001") && names.contains("Bench Group 00010"),
            "{names:?}"
        );

        let customers = all::<customer::Entity>(conn).await;
        let emails: HashSet<&str> = customers.iter().map(|c| c.email.as_str()).collect();
        assert_eq!(emails.len(), 100, "every run's emails are new");
        assert!(customers.iter().all(|c| kind_of[&c.type_group_id] == GroupKind::Type));
        let memberships = all::<membership::Entity>(conn).await;
        assert!(!memberships.is_empty());
        assert!(
            memberships
                .iter()
                .all(|m| kind_of[&m.group_id] == GroupKind::Pricing && m.group_id != migration::EVERYONE_GROUP_ID)
        );
        let mut per_customer: HashMap<Uuid, usize> = HashMap::new();
        for m in &memberships {
            *per_customer.entry(m.customer_id).or_default() += 1;
        }
        assert!(per_customer.values().all(|&n| n <= 3));

        let mut priced: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
        for p in all::<price::Entity>(conn).await {
            assert!(p.amount_minor >= 0);
            priced.entry(p.price_list_id).or_default().insert(p.product_id);
        }
        for list in all::<price_list::Entity>(conn).await {
            let products = priced.get(&list.id).map_or(0, HashSet::len);
            assert!(products >= 20, "{} prices {products} products", list.name);
        }
    })
    .await;
}

#[tokio::test]
async fn generated_rows_go_on_top_of_the_demo() {
    on_each_backend(|app| async move {
        seed::demo(&app.db).await.expect("demo loads");
        let before = counts(&app.db.conn).await;
        seed::run(&app.db, &seed_args(true, 30, 3, 4, 6))
            .await
            .expect("seed --demo with extra rows");
        let after = counts(&app.db.conn).await;
        let added = (
            after.customers - before.customers,
            after.groups - before.groups,
            after.price_lists - before.price_lists,
            after.products - before.products,
        );
        assert_eq!(added, (30, 3, 4, 6), "[{:?}] the demo is not loaded twice", app.backend);
        assert_eq!(after.product_lines, before.product_lines);
    })
    .await;
}

/// A seed leaves fresh planner statistics behind (SQLite's `sqlite_stat1`,
/// PostgreSQL's `reltuples`), so the first queries after it do not scan.
#[tokio::test]
async fn a_seed_leaves_planner_statistics_behind() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    on_each_backend(|app| async move {
        seed::run(&app.db, &seed_args(false, 50, 5, 10, 20))
            .await
            .expect("seed runs");
        let conn = &app.db.conn;
        let backend = conn.get_database_backend();
        for table in ["customer", "customer_group_membership", "product", "price"] {
            let sql = match backend {
                DbBackend::Postgres => {
                    format!("SELECT reltuples::float8 AS n FROM pg_class WHERE oid = '{table}'::regclass")
                }
                _ => format!("SELECT CAST(count(*) AS REAL) AS n FROM sqlite_stat1 WHERE tbl = '{table}'"),
            };
            let row = conn
                .query_one_raw(Statement::from_string(backend, sql))
                .await
                .expect("the statistics query runs")
                .expect("a row");
            let n: f64 = row.try_get("", "n").expect("a number");
            assert!(n > 0.0, "[{:?}] {table} has no statistics after the seed", app.backend);
        }
    })
    .await;
}

/// Every seeded row without its ids and times, which differ from run to
/// run: references by name, flags, amounts and metadata, one sorted list
/// per table. Two seeds with the same arguments give the same contents.
async fn contents(conn: &DatabaseConnection) -> BTreeMap<&'static str, Vec<String>> {
    let groups = all::<customer_group::Entity>(conn).await;
    let group: HashMap<Uuid, &str> = groups.iter().map(|g| (g.id, g.name.as_str())).collect();
    let organizations = all::<organization::Entity>(conn).await;
    let organization: HashMap<Uuid, &str> = organizations.iter().map(|o| (o.id, o.name.as_str())).collect();
    let customers = all::<customer::Entity>(conn).await;
    let customer: HashMap<Uuid, &str> = customers.iter().map(|c| (c.id, c.name.as_str())).collect();
    let lines = all::<product_line::Entity>(conn).await;
    let line: HashMap<Uuid, &str> = lines.iter().map(|l| (l.id, l.name.as_str())).collect();
    let products = all::<product::Entity>(conn).await;
    let sku: HashMap<Uuid, &str> = products.iter().map(|p| (p.id, p.sku.as_str())).collect();
    let lists = all::<price_list::Entity>(conn).await;
    let list: HashMap<Uuid, &str> = lists.iter().map(|l| (l.id, l.name.as_str())).collect();
    let name = |names: &HashMap<Uuid, &str>, id: Option<Uuid>| id.map(|id| names[&id].to_owned());
    // A generated email ends in the run's random tag, so that runs never collide.
    let email = |email: &str| match email.strip_prefix("bench-") {
        Some(rest) => format!("bench-{}", rest.split('-').next().unwrap_or_default()),
        None => email.to_owned(),
    };
    let days =
        |at: Option<chrono::DateTime<Utc>>, created: chrono::DateTime<Utc>| at.map(|at| (at - created).num_days());

    let mut tables: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut add = |table: &'static str, row: String| tables.entry(table).or_default().push(row);
    for g in &groups {
        let fresh = g.created_at == g.updated_at;
        let row = format!(
            "{} {} {:?} {} {} {} {} {} {} {fresh}",
            g.name,
            g.name_key,
            g.kind,
            g.is_active,
            g.commission_exempt,
            g.free_freight,
            g.metadata,
            g.version,
            g.description.as_deref().unwrap_or("-")
        );
        add("customer_group", row);
    }
    for o in &organizations {
        let parent = name(&organization, o.parent_id);
        add(
            "organization",
            format!("{} {parent:?} {} {}", o.name, o.metadata, o.version),
        );
    }
    for link in all::<organization_group::Entity>(conn).await {
        add(
            "organization_group",
            format!("{} {}", organization[&link.organization_id], group[&link.group_id]),
        );
    }
    for c in &customers {
        let row = format!(
            "{} {} {:?} {} {} {} {} {}",
            c.name,
            email(&c.email),
            name(&organization, c.organization_id),
            group[&c.type_group_id],
            c.commission_exempt,
            c.free_freight,
            c.metadata,
            c.version
        );
        add("customer", row);
    }
    for m in all::<membership::Entity>(conn).await {
        add(
            "membership",
            format!("{} {}", customer[&m.customer_id], group[&m.group_id]),
        );
    }
    for l in &lines {
        add("product_line", format!("{} {}", l.name, l.version));
    }
    for p in &products {
        let row = format!(
            "{} {} {:?} {} {}",
            p.sku,
            p.name,
            name(&line, p.product_line_id),
            p.metadata,
            p.version
        );
        add("product", row);
    }
    for b in all::<base_price::Entity>(conn).await {
        let row = format!(
            "{} {} {} {}",
            sku[&b.product_id], b.currency, b.min_quantity, b.amount_minor
        );
        add("base_price", row);
    }
    for l in &lists {
        let row = format!(
            "{} {:?} {:?} {:?} {:?} {:?} {} {}",
            l.name,
            l.list_type,
            l.status,
            days(l.starts_at, l.created_at),
            days(l.ends_at, l.created_at),
            l.percent_off,
            l.metadata,
            l.version
        );
        add("price_list", row);
    }
    for p in all::<price::Entity>(conn).await {
        let row = format!(
            "{} {} {} {} {:?} {}",
            list[&p.price_list_id], sku[&p.product_id], p.currency, p.min_quantity, p.max_quantity, p.amount_minor
        );
        add("price", row);
    }
    for link in all::<customer_group_price_list::Entity>(conn).await {
        let row = format!(
            "{} {} {}",
            group[&link.group_id], list[&link.price_list_id], link.priority
        );
        add("customer_group_price_list", row);
    }
    for link in all::<customer_group_product_line::Entity>(conn).await {
        let row = format!("{} {}", group[&link.group_id], line[&link.product_line_id]);
        add("customer_group_product_line", row);
    }
    for rows in tables.values_mut() {
        rows.sort();
    }
    tables
}

/// The same seed gives the same rows on a second database and on every
/// backend: PostgreSQL's `COPY` stores what SQLite's `INSERT`s store, to
/// the names, amounts, links and metadata.
#[tokio::test]
async fn a_seed_gives_the_same_rows_on_every_backend() {
    let args = seed_args(true, 300, 7, 12, 40);
    let mut seeded = Vec::new();
    for backend in [Backend::Sqlite].into_iter().chain(backends()) {
        let app = TestApp::spawn(backend).await;
        let started = Utc::now();
        seed::run(&app.db, &args).await.expect("seed runs");
        let conn = &app.db.conn;
        for c in all::<customer::Entity>(conn).await {
            let age = c.created_at - started;
            assert!(
                c.created_at == c.updated_at && age >= chrono::Duration::zero() && age < chrono::Duration::minutes(5),
                "[{backend:?}] {}: created {}",
                c.name,
                c.created_at
            );
        }
        seeded.push((backend, counts(conn).await, contents(conn).await));
        app.cleanup().await;
    }
    let (_, first_counts, first_contents) = &seeded[0];
    assert!(
        first_contents["customer"]
            .iter()
            .any(|c| c.starts_with("Bench Customer 000300 "))
    );
    for (backend, counts, contents) in &seeded[1..] {
        assert_eq!(counts, first_counts, "[{backend:?}] row counts");
        for (table, rows) in first_contents {
            let other = &contents[table];
            let differing: Vec<_> = rows.iter().zip(other).filter(|(a, b)| a != b).take(3).collect();
            assert!(
                rows.len() == other.len() && differing.is_empty(),
                "[{backend:?}] {table}: {} rows against {}, first differences {differing:?}",
                other.len(),
                rows.len()
            );
        }
    }
}
