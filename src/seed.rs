//! Loading data: the demo data set (`pricegraph seed --demo`, `serve --demo`)
//! and generated rows for benchmarks (`seed --customers N --groups N ...`).
//!
//! Rows go in through the entities, in bulk, not through the service layer: a
//! benchmark seed of a hundred thousand customers must take seconds, not a
//! transaction per row. The service's rules hold by construction instead
//! (group names unique ignoring case, memberships and price-list links only to
//! `PRICING` groups and never to `Everyone`, amounts in whole minor units), and
//! the database's constraints back them up.
//!
//! Both are deterministic (a seeded [`StdRng`]): the same command on the same
//! database gives the same names, prices and links; only ids and times differ.
//! The file holds both halves because only the CLI uses them; if either grows,
//! `seed/demo.rs` and `seed/bench.rs` are the natural split.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use entity::values::{GroupKind, PriceListStatus, PriceListType};
use entity::{
    base_price, customer, customer_group, customer_group_price_list as list_link,
    customer_group_product_line as line_link, membership, organization, organization_group, price, price_list, product,
    product_line,
};
use migration::{DEFAULT_TYPE_GROUP_ID, EVERYONE_GROUP_ID};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, Iterable, JsonValue,
    PaginatorTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use crate::config::SeedArgs;
use crate::db::Db;
use crate::service::new_id;

/// `pricegraph seed`: the demo if asked for, then any generated rows.
pub async fn run(db: &Db, args: &SeedArgs) -> anyhow::Result<()> {
    if args.demo {
        demo(db).await?;
    }
    if args.customers > 0 || args.groups > 0 || args.price_lists > 0 || args.products > 0 {
        generate(db, args).await?;
    }
    Ok(())
}

/// Loads the demo data unless the database already holds customers or
/// products: `serve --demo` must never mix the demo into real data.
pub async fn demo_if_empty(db: &Db) -> anyhow::Result<()> {
    let customers = customer::Entity::find()
        .count(&db.conn)
        .await
        .context("counting customers")?;
    let products = product::Entity::find()
        .count(&db.conn)
        .await
        .context("counting products")?;
    if customers > 0 || products > 0 {
        tracing::info!(
            customers,
            products,
            "the database is not empty; not loading the demo data set"
        );
        return Ok(());
    }
    demo(db).await
}

/// Loads the demo data set in one transaction. When its groups are already
/// there it does nothing, so a second `seed --demo` is a no-op rather than a
/// unique violation.
pub async fn demo(db: &Db) -> anyhow::Result<()> {
    let name_keys: Vec<String> = DEMO_GROUPS.iter().map(|group| group.name.to_lowercase()).collect();
    let present: Vec<String> = customer_group::Entity::find()
        .filter(customer_group::Column::NameKey.is_in(name_keys))
        .select_only()
        .column(customer_group::Column::Name)
        .into_tuple()
        .all(&db.conn)
        .await
        .context("looking for the demo's groups")?;
    if !present.is_empty() {
        tracing::info!(
            "the demo data set is already loaded (found {}); skipping it",
            present.join(", ")
        );
        return Ok(());
    }
    let rows = DemoBuilder::new(Utc::now()).build()?;
    let summary = rows.summary();
    let txn = db.conn.begin().await?;
    rows.insert(&txn).await.context("inserting the demo data set")?;
    txn.commit().await.context("committing the demo data set")?;
    tracing::info!("loaded the demo data set: {summary}");
    Ok(())
}

// ---------------------------------------------------------------------------
// The demo data set: a hospitality supplier with retail, trade and contract
// customers, so that every rule of SPEC §3–4 has an example to look at. The
// tables are laid out by hand (`rustfmt::skip`) so that each row reads as one.
// ---------------------------------------------------------------------------

const DEMO_SEED: u64 = 20_261_123;

/// The exchange rates the demo converts its USD prices at, as minor units
/// per 100 US cents: EUR 0.92, JPY 150 yen to the dollar.
const CURRENCIES: [(&str, i64); 3] = [("USD", 100), ("EUR", 92), ("JPY", 150)];

// SKU prefixes name the product lines in the tables.
const COFFEE: &str = "COF";
const KITCHEN: &str = "KIT";
const TABLEWARE: &str = "TAB";
const CLEANING: &str = "CLN";
const LINENS: &str = "LIN";
const FURNITURE: &str = "FUR";

struct LineSpec {
    name: &'static str,
    sku_prefix: &'static str,
    /// Bulky goods are not shipped to Japan: no JPY price, so resolving one
    /// in JPY answers `NONE`.
    sold_in_japan: bool,
    /// Consumables are cheaper by the case: quantity breaks in the base price.
    quantity_breaks: bool,
    /// Items with their usual price in US cents.
    items: [(&'static str, i64); 7],
    /// Variants with the percentage of the usual price they sell at.
    variants: [(&'static str, i64); 7],
}

/// Six lines of 7 × 7 = 49 products.
#[rustfmt::skip]
const DEMO_LINES: [LineSpec; 6] = [
    LineSpec {
        name: "Coffee & Tea", sku_prefix: COFFEE, sold_in_japan: true, quantity_breaks: true,
        items: [("Whole Bean Coffee 1 kg", 2400), ("Ground Coffee 500 g", 1300), ("Espresso Pods, box of 50", 1900),
                ("Cold Brew Concentrate 1 L", 1500), ("Loose Leaf Tea 250 g", 1100), ("Tea Bags, box of 100", 900),
                ("Hot Chocolate Mix 1 kg", 1400)],
        variants: [("House", 85), ("Signature", 100), ("Organic", 120), ("Fair Trade", 110), ("Single Origin", 135),
                   ("Reserve", 160), ("Decaf", 105)],
    },
    LineSpec {
        name: "Kitchen Equipment", sku_prefix: KITCHEN, sold_in_japan: true, quantity_breaks: false,
        items: [("Chef's Knife 8\"", 8900), ("Stockpot 20 qt", 12900), ("Half Sheet Pan", 1800), ("Cutting Board", 3200),
                ("Immersion Blender", 14900), ("Food Storage Set", 4500), ("Probe Thermometer", 2900)],
        variants: [("Essentials", 70), ("Pro", 100), ("Commercial", 140), ("Stainless", 110), ("Heavy-Duty", 130),
                   ("Compact", 90), ("Chef Series", 160)],
    },
    LineSpec {
        name: "Tableware", sku_prefix: TABLEWARE, sold_in_japan: true, quantity_breaks: true,
        items: [("Dinner Plate 11\"", 1200), ("Salad Bowl 24 oz", 900), ("Wine Glass 12 oz", 800),
                ("Coffee Mug 12 oz", 700), ("Flatware Set, 20 pieces", 6500), ("Serving Platter", 3400),
                ("Tumbler 16 oz", 600)],
        variants: [("Classic White", 100), ("Bistro", 90), ("Porcelain", 125), ("Stoneware", 110), ("Crystal", 180),
                   ("Matte Black", 115), ("Rustic", 105)],
    },
    LineSpec {
        name: "Cleaning Supplies", sku_prefix: CLEANING, sold_in_japan: true, quantity_breaks: true,
        items: [("All-Purpose Cleaner 1 gal", 1600), ("Dish Detergent 5 L", 2200), ("Microfiber Cloths, pack of 24", 1900),
                ("Glass Cleaner 1 gal", 1400), ("Sanitizing Wipes, pack of 6", 2600),
                ("Floor Cleaner Concentrate 1 gal", 2800), ("Trash Bags, box of 100", 2400)],
        variants: [("Basic", 80), ("Eco", 115), ("Concentrated", 130), ("Fragrance-Free", 105), ("Lemon", 100),
                   ("Hospital-Grade", 150), ("Value", 70)],
    },
    LineSpec {
        name: "Linens", sku_prefix: LINENS, sold_in_japan: true, quantity_breaks: false,
        items: [("Bath Towel", 1400), ("Hand Towel", 700), ("Queen Sheet Set", 5900), ("Pillowcase Pair", 1800),
                ("King Duvet Cover", 7900), ("Table Napkins, pack of 12", 2400), ("Round Tablecloth 90\"", 3900)],
        variants: [("Cotton", 100), ("Egyptian Cotton", 160), ("Bamboo", 130), ("Linen Blend", 140), ("Percale", 110),
                   ("Sateen", 120), ("Hotel Collection", 150)],
    },
    LineSpec {
        name: "Furniture", sku_prefix: FURNITURE, sold_in_japan: false, quantity_breaks: false,
        items: [("Bistro Chair", 14900), ("Bar Stool", 17900), ("Café Table 30\"", 24900), ("Lounge Sofa", 129900),
                ("Patio Umbrella", 21900), ("Banquet Table 6 ft", 18900), ("Side Table", 9900)],
        variants: [("Oak", 100), ("Walnut", 130), ("Teak", 150), ("Aluminum", 85), ("Rattan", 95), ("Steel", 90),
                   ("Stackable", 80)],
    },
];

/// Products outside every line (always orderable, SPEC §3): sku, name, price
/// in US cents, sold in every currency. Gift cards are dollars only; the
/// sample box is free.
#[rustfmt::skip]
const UNLINED_PRODUCTS: [(&str, &str, i64, bool); 6] = [
    ("SVC-0001", "Gift Wrapping",    499,  true),
    ("SVC-0002", "Rush Handling",    1500, true),
    ("PRM-0001", "Sample Box",       0,    true),
    ("PRM-0002", "Branded Tote Bag", 1499, true),
    ("GFT-0025", "Gift Card $25",    2500, false),
    ("GFT-0050", "Gift Card $50",    5000, false),
];

#[derive(Clone, Copy)]
struct GroupSpec {
    name: &'static str,
    kind: GroupKind,
    description: &'static str,
    is_active: bool,
    commission_exempt: bool,
    free_freight: bool,
    /// Product lines (SKU prefixes) the group may order; none: every product.
    lines: &'static [&'static str],
}

#[rustfmt::skip]
impl GroupSpec {
    const fn new(kind: GroupKind, name: &'static str, description: &'static str) -> Self {
        Self { name, kind, description, is_active: true, commission_exempt: false, free_freight: false, lines: &[] }
    }
    const fn inactive(self) -> Self { Self { is_active: false, ..self } }
    const fn commission_exempt(self) -> Self { Self { commission_exempt: true, ..self } }
    const fn free_freight(self) -> Self { Self { free_freight: true, ..self } }
    const fn lines(self, lines: &'static [&'static str]) -> Self { Self { lines, ..self } }
}

const fn type_group(name: &'static str, description: &'static str) -> GroupSpec {
    GroupSpec::new(GroupKind::Type, name, description)
}

const fn pricing_group(name: &'static str, description: &'static str) -> GroupSpec {
    GroupSpec::new(GroupKind::Pricing, name, description)
}

/// Besides the built-in `Default` and `Everyone`. Names are unique across
/// both kinds, hence "Wholesale Trade" (TYPE) beside "Wholesale" (PRICING).
#[rustfmt::skip]
const DEMO_GROUPS: [GroupSpec; 10] = [
    type_group("Retail", "Individual shoppers buying for their own use"),
    type_group("Wholesale Trade", "Businesses buying for resale or for their own operations"),
    type_group("Distributor", "Distribution partners; no sales commission is paid on their orders").commission_exempt(),
    pricing_group("VIP", "Top customers: member prices and early access to sales"),
    pricing_group("Wholesale", "Trade prices with quantity breaks; consumables and kitchen equipment only")
        .lines(&[COFFEE, KITCHEN, TABLEWARE, CLEANING]),
    pricing_group("Employee", "Staff prices on everything; orders ship free").free_freight(),
    pricing_group("Legacy Partners", "The retired partner program, kept for reference").inactive(),
    pricing_group("Acme Contract", "Negotiated contract pricing for Acme Hospitality Group")
        .lines(&[COFFEE, TABLEWARE, LINENS, CLEANING]),
    pricing_group("Acme Corporate", "Head-office purchasing rates for Acme Holdings"),
    pricing_group("Café Partners", "Coffee program for partner cafés; coffee and tea only").lines(&[COFFEE]).free_freight(),
];

/// When a list applies, relative to the moment of seeding.
#[derive(Clone, Copy)]
enum Window {
    Always,
    /// Days from now to the start and to the end; `None` is open.
    Days(Option<i64>, Option<i64>),
    /// The next Black Friday through Cyber Monday.
    BlackFriday,
}

#[derive(Clone, Copy)]
struct ListSpec {
    name: &'static str,
    description: &'static str,
    list_type: PriceListType,
    status: PriceListStatus,
    window: Window,
    /// Groups the list is linked to, with the priority of each link.
    links: &'static [(&'static str, i32)],
    /// Product lines it prices (SKU prefixes); none: every product.
    lines: &'static [&'static str],
    /// Percentage of those products it prices (chosen at random).
    share: u32,
    /// Quantity tiers: (min, max, percentage of the product's unit base price).
    tiers: &'static [(i32, Option<i32>, i64)],
}

#[rustfmt::skip]
impl ListSpec {
    const fn new(list_type: PriceListType, name: &'static str, description: &'static str) -> Self {
        Self {
            name, description, list_type, status: PriceListStatus::Active, window: Window::Always,
            links: &[], lines: &[], share: 100, tiers: &[],
        }
    }
    const fn draft(self) -> Self { Self { status: PriceListStatus::Draft, ..self } }
    const fn window(self, window: Window) -> Self { Self { window, ..self } }
    const fn links(self, links: &'static [(&'static str, i32)]) -> Self { Self { links, ..self } }
    const fn lines(self, lines: &'static [&'static str]) -> Self { Self { lines, ..self } }
    const fn share(self, share: u32) -> Self { Self { share, ..self } }
    const fn tiers(self, tiers: &'static [(i32, Option<i32>, i64)]) -> Self { Self { tiers, ..self } }
}

const fn sale(name: &'static str, description: &'static str) -> ListSpec {
    ListSpec::new(PriceListType::Sale, name, description)
}

const fn override_list(name: &'static str, description: &'static str) -> ListSpec {
    ListSpec::new(PriceListType::Override, name, description)
}

/// Priorities: lower wins (SPEC §2), so a group's promotions sit above its
/// everyday prices, and storewide lists come after every group's own.
#[rustfmt::skip]
const DEMO_LISTS: [ListSpec; 15] = [
    override_list("VIP Everyday", "Member prices on much of the catalog")
        .links(&[("VIP", 10)]).share(60).tiers(&[(1, None, 90)]),
    sale("VIP Double Discount Days", "Twice the member discount, for a long weekend")
        .window(Window::Days(Some(7), Some(10))).links(&[("VIP", 5)]).share(40).tiers(&[(1, None, 80)]),
    sale("VIP Autumn Preview", "Next season's member sale, still being planned")
        .draft().links(&[("VIP", 20)]).share(30).tiers(&[(1, None, 85)]),
    override_list("Wholesale Tier Pricing", "Trade prices with quantity breaks at 10 and 50")
        .links(&[("Wholesale", 10)]).lines(&[COFFEE, KITCHEN, TABLEWARE, CLEANING])
        .tiers(&[(1, Some(9), 85), (10, Some(49), 80), (50, None, 75)]),
    sale("Wholesale Clearance", "End-of-line kitchen equipment and tableware")
        .links(&[("Wholesale", 5)]).lines(&[KITCHEN, TABLEWARE]).share(25).tiers(&[(1, None, 70)]),
    override_list("Employee Pricing", "Staff prices on everything")
        .links(&[("Employee", 0)]).tiers(&[(1, None, 60)]),
    override_list("Legacy Partner Pricing", "Terms of the retired partner program")
        .links(&[("Legacy Partners", 10)]).share(50).tiers(&[(1, None, 80)]),
    override_list("Acme Hospitality Contract", "Contract prices for the year; case prices from 24 units")
        .window(Window::Days(Some(-90), Some(275))).links(&[("Acme Contract", 10)])
        .lines(&[COFFEE, TABLEWARE, LINENS, CLEANING]).tiers(&[(1, Some(23), 82), (24, None, 76)]),
    sale("Acme Linen Program", "Linen replacement program for Acme properties")
        .links(&[("Acme Contract", 5)]).lines(&[LINENS]).tiers(&[(1, None, 70)]),
    override_list("Acme Corporate Rates", "Head-office purchasing rates")
        .links(&[("Acme Corporate", 10)]).share(30).tiers(&[(1, None, 88)]),
    override_list("Café Partner Pricing", "Coffee and tea for partner cafés; case prices from 12 units")
        .links(&[("Café Partners", 10)]).lines(&[COFFEE]).tiers(&[(1, Some(11), 88), (12, None, 80)]),
    sale("Everyday Low Prices", "Storewide markdowns for every shopper")
        .links(&[("Everyone", 100)]).share(15).tiers(&[(1, None, 90)]),
    sale("Black Friday", "Storewide sale from Black Friday through Cyber Monday; VIPs first in line")
        .window(Window::BlackFriday).links(&[("Everyone", 50), ("VIP", 1)]).share(35).tiers(&[(1, None, 70)]),
    sale("End-of-Season Clearance", "The last storewide clearance (ended)")
        .window(Window::Days(Some(-75), Some(-45))).links(&[("Everyone", 60)]).share(20).tiers(&[(1, None, 75)]),
    override_list("Holiday Catalog", "Prices for the next holiday catalog; not linked to any group yet")
        .draft().share(20).tiers(&[(1, None, 95)]),
];

const ACME_HOLDINGS: &str = "Acme Holdings";
const ACME_HOSPITALITY: &str = "Acme Hospitality Group";
const ACME_LOUNGES: &str = "Acme Airport Lounges";
const BLUEBIRD: &str = "Bluebird Café Co.";

/// Organizations, parents first: name, parent, pricing groups, account
/// manager. Acme Holdings' group does not reach its subsidiaries (only the
/// direct organization counts, SPEC §3); Acme Airport Lounges has no groups,
/// so its customers keep their own.
#[rustfmt::skip]
const DEMO_ORGANIZATIONS: [(&str, Option<&str>, &[&str], &str); 4] = [
    (ACME_HOLDINGS,    None,                &["Acme Corporate"],             "Dana Whitfield"),
    (ACME_HOSPITALITY, Some(ACME_HOLDINGS), &["Acme Contract", "Wholesale"], "Dana Whitfield"),
    (ACME_LOUNGES,     Some(ACME_HOLDINGS), &[],                             "Luis Ortega"),
    (BLUEBIRD,         None,                &["Café Partners"],              "Luis Ortega"),
];

#[derive(Clone, Copy)]
struct CustomerSpec {
    name: &'static str,
    email: &'static str,
    type_group: &'static str,
    organization: Option<&'static str>,
    groups: &'static [&'static str],
    commission_exempt: bool,
    free_freight: bool,
    preferred_currency: Option<&'static str>,
}

#[rustfmt::skip]
impl CustomerSpec {
    const fn org(self, organization: &'static str) -> Self { Self { organization: Some(organization), ..self } }
    const fn groups(self, groups: &'static [&'static str]) -> Self { Self { groups, ..self } }
    const fn commission_exempt(self) -> Self { Self { commission_exempt: true, ..self } }
    const fn free_freight(self) -> Self { Self { free_freight: true, ..self } }
    const fn prefers(self, currency: &'static str) -> Self { Self { preferred_currency: Some(currency), ..self } }
}

const fn customer(name: &'static str, email: &'static str, type_group: &'static str) -> CustomerSpec {
    CustomerSpec {
        name,
        email,
        type_group,
        organization: None,
        groups: &[],
        commission_exempt: false,
        free_freight: false,
        preferred_currency: None,
    }
}

/// James Carter at Acme Hospitality is a VIP member, but his organization's
/// groups replace his own (seed 004); Jenny Park at Bluebird likewise.
#[rustfmt::skip]
const DEMO_CUSTOMERS: [CustomerSpec; 36] = [
    customer("Olivia Martin", "olivia.martin@example.com", "Retail").groups(&["VIP"]),
    customer("Liam Johnson", "liam.johnson@example.com", "Retail"),
    customer("Emma Williams", "emma.williams@example.com", "Retail").groups(&["VIP"]).free_freight(),
    customer("Noah Brown", "noah.brown@example.com", "Retail"),
    customer("Ava Jones", "ava.jones@example.com", "Retail").groups(&["Legacy Partners"]),
    customer("Sophia Garcia", "sophia.garcia@example.com", "Retail").groups(&["VIP"]),
    customer("Mason Miller", "mason.miller@example.com", "Retail"),
    customer("Lucas Rodriguez", "lucas.rodriguez@example.com", "Retail"),
    customer("Mia Wilson", "mia.wilson@example.com", "Retail").groups(&["VIP"]),
    customer("Ethan Moore", "ethan.moore@example.com", "Default"),
    customer("Harper Taylor", "harper.taylor@example.com", "Default"),
    customer("Yuki Tanaka", "yuki.tanaka@example.com", "Retail").groups(&["VIP"]).prefers("JPY"),
    customer("Sofia Rossi", "sofia.rossi@example.com", "Retail").prefers("EUR"),
    customer("Lukas Schneider", "lukas.schneider@example.com", "Retail").groups(&["VIP"]).prefers("EUR"),
    customer("Chloé Dubois", "chloe.dubois@example.com", "Retail").groups(&["VIP"]).prefers("EUR"),
    customer("Hannah Lee", "hannah.lee@staff.example.com", "Retail").groups(&["Employee"]),
    customer("Daniel Kim", "daniel.kim@staff.example.com", "Retail").groups(&["Employee", "VIP"]),
    customer("Grace Chen", "grace.chen@staff.example.com", "Retail").groups(&["Employee"]).commission_exempt(),
    customer("Northwind Traders", "orders@northwind.example.com", "Wholesale Trade").groups(&["Wholesale"]),
    customer("Contoso Kitchens", "purchasing@contoso-kitchens.example.com", "Wholesale Trade")
        .groups(&["Wholesale", "VIP"]),
    customer("Fabrikam Catering", "buyer@fabrikam-catering.example.com", "Wholesale Trade")
        .groups(&["Wholesale"]).free_freight(),
    customer("Tailspin Deli", "accounts@tailspin-deli.example.com", "Wholesale Trade")
        .groups(&["Wholesale", "Legacy Partners"]),
    customer("Lakeside Bistro", "hello@lakeside-bistro.example.com", "Wholesale Trade"),
    customer("Global Foodservice Supply", "procurement@globalfoodservice.example.com", "Distributor")
        .groups(&["Wholesale"]),
    customer("Pacific Rim Distribution", "orders@pacificrim.example.com", "Distributor")
        .groups(&["Wholesale"]).prefers("JPY"),
    customer("EuroHospitality GmbH", "einkauf@eurohospitality.example.com", "Distributor")
        .groups(&["Legacy Partners"]).prefers("EUR"),
    customer("James Carter", "james.carter@acmehospitality.example.com", "Wholesale Trade")
        .org(ACME_HOSPITALITY).groups(&["VIP"]),
    customer("Priya Patel", "priya.patel@acmehospitality.example.com", "Wholesale Trade").org(ACME_HOSPITALITY),
    customer("Marcus Webb", "marcus.webb@acmehospitality.example.com", "Wholesale Trade")
        .org(ACME_HOSPITALITY).commission_exempt(),
    customer("Elena Petrova", "elena.petrova@acmehospitality.example.com", "Wholesale Trade")
        .org(ACME_HOSPITALITY).prefers("EUR"),
    customer("Chen Wei", "chen.wei@acmehospitality.example.com", "Wholesale Trade").org(ACME_HOSPITALITY),
    customer("Sarah O'Neil", "sarah.oneil@acmelounges.example.com", "Wholesale Trade")
        .org(ACME_LOUNGES).groups(&["VIP"]),
    customer("Tom Becker", "tom.becker@acmelounges.example.com", "Wholesale Trade").org(ACME_LOUNGES),
    customer("Richard Hale", "richard.hale@acmeholdings.example.com", "Retail").org(ACME_HOLDINGS),
    customer("Jenny Park", "jenny.park@bluebirdcafe.example.com", "Wholesale Trade").org(BLUEBIRD).groups(&["Wholesale"]),
    customer("Omar Haddad", "omar.haddad@bluebirdcafe.example.com", "Wholesale Trade").org(BLUEBIRD),
];

/// A demo product and its base prices for one unit, which its list prices
/// are percentages of.
struct DemoProduct {
    id: Uuid,
    line: Option<&'static str>,
    unit_prices: Vec<(&'static str, i64)>,
}

/// Turns the tables above into rows, resolving names to fresh ids.
struct DemoBuilder {
    now: DateTime<Utc>,
    rng: StdRng,
    rows: Rows,
    group_ids: HashMap<&'static str, Uuid>,
    line_ids: HashMap<&'static str, Uuid>,
    organization_ids: HashMap<&'static str, Uuid>,
    products: Vec<DemoProduct>,
}

impl DemoBuilder {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            rng: StdRng::seed_from_u64(DEMO_SEED),
            rows: Rows::default(),
            group_ids: HashMap::from([("Default", DEFAULT_TYPE_GROUP_ID), ("Everyone", EVERYONE_GROUP_ID)]),
            line_ids: HashMap::new(),
            organization_ids: HashMap::new(),
            products: Vec::new(),
        }
    }

    fn build(mut self) -> anyhow::Result<Rows> {
        self.catalog();
        self.groups()?;
        self.price_lists()?;
        self.organizations()?;
        self.customers()?;
        Ok(self.rows)
    }

    fn group_id(&self, name: &str) -> anyhow::Result<Uuid> {
        let id = self.group_ids.get(name).copied();
        id.with_context(|| format!("the demo has no group named {name}"))
    }

    fn catalog(&mut self) {
        for line in &DEMO_LINES {
            let line_id = new_id();
            self.line_ids.insert(line.sku_prefix, line_id);
            let row = product_line::Model {
                id: line_id,
                name: line.name.to_owned(),
                version: 1,
                created_at: self.now,
                updated_at: self.now,
            };
            self.rows.product_lines.push(row.into_active_model());
            let currencies = if line.sold_in_japan {
                &CURRENCIES[..]
            } else {
                &CURRENCIES[..2]
            };
            let combinations = line
                .items
                .iter()
                .flat_map(|item| line.variants.iter().map(move |variant| (item, variant)));
            for (n, (&(item, usual), &(variant, percent))) in combinations.enumerate() {
                let jitter = self.rng.random_range(95..=105);
                let usd = shelf_price("USD", percent_of(percent_of(usual, percent), jitter));
                let sku = format!("{}-{:04}", line.sku_prefix, n + 1);
                let metadata = json!({ "item": item, "variant": variant });
                let product = self.product(
                    sku,
                    format!("{variant} {item}"),
                    Some(line.sku_prefix),
                    metadata,
                    usd,
                    currencies,
                );
                if line.quantity_breaks {
                    for &(currency, unit) in &product.unit_prices {
                        for (min_quantity, percent) in [(12, 95), (48, 90)] {
                            let amount = round_minor(currency, percent_of(unit, percent));
                            self.rows.base_prices.push(base_price_row(
                                product.id,
                                currency,
                                min_quantity,
                                amount,
                                self.now,
                            ));
                        }
                    }
                }
                self.products.push(product);
            }
        }
        for (sku, name, usd, everywhere) in UNLINED_PRODUCTS {
            let currencies = if everywhere { &CURRENCIES[..] } else { &CURRENCIES[..1] };
            let product = self.product(sku.to_owned(), name.to_owned(), None, json!({}), usd, currencies);
            self.products.push(product);
        }
    }

    /// One product row and its base prices for one unit, converted from USD.
    fn product(
        &mut self,
        sku: String,
        name: String,
        line: Option<&'static str>,
        metadata: JsonValue,
        usd: i64,
        currencies: &[(&'static str, i64)],
    ) -> DemoProduct {
        let mut row = new_product(sku, name, self.now);
        row.product_line_id = line.and_then(|prefix| self.line_ids.get(prefix).copied());
        row.metadata = metadata;
        let id = row.id;
        self.rows.products.push(row.into_active_model());
        let unit_prices: Vec<(&'static str, i64)> = currencies
            .iter()
            .map(|&(currency, rate)| match currency {
                "USD" => (currency, usd),
                _ => (currency, shelf_price(currency, percent_of(usd, rate))),
            })
            .collect();
        for &(currency, amount) in &unit_prices {
            self.rows
                .base_prices
                .push(base_price_row(id, currency, 1, amount, self.now));
        }
        DemoProduct { id, line, unit_prices }
    }

    fn groups(&mut self) -> anyhow::Result<()> {
        for spec in &DEMO_GROUPS {
            let mut row = new_group(spec.name.to_owned(), spec.kind, self.now);
            row.description = Some(spec.description.to_owned());
            row.is_active = spec.is_active;
            row.commission_exempt = spec.commission_exempt;
            row.free_freight = spec.free_freight;
            self.group_ids.insert(spec.name, row.id);
            for prefix in spec.lines {
                let line_id = self
                    .line_ids
                    .get(prefix)
                    .copied()
                    .with_context(|| format!("the demo has no line {prefix}"))?;
                self.rows.line_links.push(line_link::ActiveModel {
                    group_id: Set(row.id),
                    product_line_id: Set(line_id),
                    created_at: Set(self.now),
                });
            }
            self.rows.groups.push(row.into_active_model());
        }
        Ok(())
    }

    fn price_lists(&mut self) -> anyhow::Result<()> {
        let now = self.now;
        for spec in &DEMO_LISTS {
            let mut row = new_price_list(spec.name.to_owned(), spec.list_type, spec.status, now);
            row.description = Some(spec.description.to_owned());
            match spec.window {
                Window::Always => {}
                Window::Days(start, end) => {
                    row.starts_at = start.map(|days| now + Duration::days(days));
                    row.ends_at = end.map(|days| now + Duration::days(days));
                }
                Window::BlackFriday => {
                    let start = next_black_friday(now).unwrap_or(now + Duration::days(30));
                    row.name = format!("{} {}", spec.name, start.year());
                    row.starts_at = Some(start);
                    row.ends_at = Some(start + Duration::days(4));
                }
            }
            let list_id = row.id;
            self.rows.price_lists.push(row.into_active_model());
            for &(group, priority) in spec.links {
                let group_id = self.group_id(group)?;
                self.rows
                    .list_links
                    .push(list_link_row(group_id, list_id, priority, now));
            }
            for product in &self.products {
                let in_lines = spec.lines.is_empty() || product.line.is_some_and(|line| spec.lines.contains(&line));
                if !in_lines || !self.rng.random_ratio(spec.share, 100) {
                    continue;
                }
                for &(currency, unit) in &product.unit_prices {
                    for &(min_quantity, max_quantity, percent) in spec.tiers {
                        let amount = round_minor(currency, percent_of(unit, percent));
                        let tier = (min_quantity, max_quantity);
                        self.rows
                            .prices
                            .push(price_row(list_id, product.id, currency, tier, amount, now));
                    }
                }
            }
        }
        Ok(())
    }

    fn organizations(&mut self) -> anyhow::Result<()> {
        for (name, parent, groups, account_manager) in DEMO_ORGANIZATIONS {
            let mut row = new_organization(name.to_owned(), self.now);
            row.metadata = json!({ "accountManager": account_manager });
            if let Some(parent) = parent {
                let parent_id = self.organization_ids.get(parent).copied();
                row.parent_id =
                    Some(parent_id.with_context(|| format!("organization {parent} must come before {name}"))?);
            }
            self.organization_ids.insert(name, row.id);
            for group in groups {
                let group_id = self.group_id(group)?;
                self.rows
                    .organization_groups
                    .push(organization_group_row(row.id, group_id, self.now));
            }
            self.rows.organizations.push(row.into_active_model());
        }
        Ok(())
    }

    fn customers(&mut self) -> anyhow::Result<()> {
        for spec in &DEMO_CUSTOMERS {
            let mut row = new_customer(
                spec.email.to_owned(),
                spec.name.to_owned(),
                self.group_id(spec.type_group)?,
                self.now,
            );
            if let Some(name) = spec.organization {
                let organization_id = self.organization_ids.get(name).copied();
                row.organization_id =
                    Some(organization_id.with_context(|| format!("the demo has no organization {name}"))?);
            }
            row.commission_exempt = spec.commission_exempt;
            row.free_freight = spec.free_freight;
            if let Some(currency) = spec.preferred_currency {
                row.metadata = json!({ "preferredCurrency": currency });
            }
            for group in spec.groups {
                let group_id = self.group_id(group)?;
                self.rows.memberships.push(membership_row(row.id, group_id, self.now));
            }
            self.rows.customers.push(row.into_active_model());
        }
        Ok(())
    }
}

/// Midnight UTC on the next Black Friday (the day after the fourth Thursday
/// of November) that is still ahead.
fn next_black_friday(now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (now.year()..=now.year() + 1).find_map(|year| {
        let thanksgiving = NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Thu, 4)?;
        let start = thanksgiving.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc();
        (start > now).then_some(start)
    })
}

// ---------------------------------------------------------------------------
// Generated rows for benchmarks
// ---------------------------------------------------------------------------

const BENCH_SEED: u64 = 7;
/// Customers built and inserted at a time, so memory stays flat and the log
/// shows progress.
const CUSTOMER_BATCH: usize = 10_000;
/// Price lists linked to each generated group.
const LISTS_PER_GROUP: usize = 10;
/// Base prices of generated products, and of list prices for products
/// without a USD base price, in US cents.
const BENCH_PRICE_RANGE: std::ops::RangeInclusive<i64> = 199..=49_999;

/// Adds the generated rows `args` asks for, one transaction per kind. Names
/// continue from earlier runs' numbers, so repeated runs never collide.
async fn generate(db: &Db, args: &SeedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut bench = Bench {
        rng: StdRng::seed_from_u64(BENCH_SEED),
        now: Utc::now(),
    };
    if args.products > 0 {
        let txn = db.conn.begin().await?;
        bench
            .products(&txn, args.products)
            .await
            .context("generating products")?;
        txn.commit().await?;
    }
    if args.price_lists > 0 {
        let txn = db.conn.begin().await?;
        bench
            .price_lists(&txn, args.price_lists)
            .await
            .context("generating price lists")?;
        txn.commit().await?;
    }
    if args.groups > 0 {
        let txn = db.conn.begin().await?;
        bench.groups(&txn, args.groups).await.context("generating groups")?;
        txn.commit().await?;
    }
    if args.customers > 0 {
        let txn = db.conn.begin().await?;
        bench
            .customers(&txn, args.customers)
            .await
            .context("generating customers")?;
        txn.commit().await?;
    }
    tracing::info!("generated the benchmark rows in {:.1?}", started.elapsed());
    Ok(())
}

struct Bench {
    rng: StdRng,
    now: DateTime<Utc>,
}

impl Bench {
    /// Products, nine in ten in a random line, each with a USD base price
    /// and one in five with a quantity break at 10.
    async fn products(&mut self, txn: &DatabaseTransaction, count: u32) -> Result<(), DbErr> {
        let lines: Vec<Uuid> = select_column(product_line::Entity::find(), product_line::Column::Id)
            .all(txn)
            .await?;
        let first = next_serial::<product::Entity>(txn, product::Column::Sku, "BENCH-").await?;
        let mut rows = Rows::default();
        for n in first..first + count {
            let mut row = new_product(format!("BENCH-{n:06}"), format!("Bench Product {n:06}"), self.now);
            if self.rng.random_ratio(9, 10) {
                row.product_line_id = lines.choose(&mut self.rng).copied();
            }
            let usd = self.rng.random_range(BENCH_PRICE_RANGE);
            rows.base_prices.push(base_price_row(row.id, "USD", 1, usd, self.now));
            if self.rng.random_ratio(1, 5) {
                rows.base_prices
                    .push(base_price_row(row.id, "USD", 10, percent_of(usd, 90), self.now));
            }
            rows.products.push(row.into_active_model());
        }
        tracing::info!("generating {count} products ({} base prices)", rows.base_prices.len());
        rows.insert(txn).await
    }

    /// Price lists (mostly active SALE lists, some scheduled or bounded),
    /// each pricing 20–50 random products in USD below their base price, a
    /// quarter of them in two tiers.
    async fn price_lists(&mut self, txn: &DatabaseTransaction, count: u32) -> Result<(), DbErr> {
        let products: Vec<Uuid> = select_column(product::Entity::find(), product::Column::Id)
            .all(txn)
            .await?;
        let unit_prices: HashMap<Uuid, i64> = base_price::Entity::find()
            .filter(base_price::Column::Currency.eq("USD"))
            .filter(base_price::Column::MinQuantity.eq(1))
            .select_only()
            .columns([base_price::Column::ProductId, base_price::Column::AmountMinor])
            .into_tuple::<(Uuid, i64)>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        let first = next_serial::<price_list::Entity>(txn, price_list::Column::Name, "Bench List ").await?;
        let now = self.now;
        let mut rows = Rows::default();
        for n in first..first + count {
            let list_type = if self.rng.random_ratio(3, 5) {
                PriceListType::Sale
            } else {
                PriceListType::Override
            };
            let status = if self.rng.random_ratio(9, 10) {
                PriceListStatus::Active
            } else {
                PriceListStatus::Draft
            };
            let mut row = new_price_list(format!("Bench List {n:05}"), list_type, status, now);
            match self.rng.random_range(0..10) {
                0 => (row.starts_at, row.ends_at) = (Some(now - Duration::days(30)), Some(now + Duration::days(30))),
                1 => row.starts_at = Some(now + Duration::days(10)),
                _ => {}
            }
            let size = self.rng.random_range(20..=50).min(products.len());
            let chosen: Vec<Uuid> = products.choose_multiple(&mut self.rng, size).copied().collect();
            for product_id in chosen {
                let unit = match unit_prices.get(&product_id) {
                    Some(&unit) => unit,
                    None => self.rng.random_range(BENCH_PRICE_RANGE),
                };
                let percent = self.rng.random_range(60..=95);
                if self.rng.random_ratio(1, 4) {
                    rows.prices.push(price_row(
                        row.id,
                        product_id,
                        "USD",
                        (1, Some(9)),
                        percent_of(unit, percent),
                        now,
                    ));
                    let amount = percent_of(unit, percent - 5);
                    rows.prices
                        .push(price_row(row.id, product_id, "USD", (10, None), amount, now));
                } else {
                    rows.prices.push(price_row(
                        row.id,
                        product_id,
                        "USD",
                        (1, None),
                        percent_of(unit, percent),
                        now,
                    ));
                }
            }
            rows.price_lists.push(row.into_active_model());
        }
        tracing::info!("generating {count} price lists ({} prices)", rows.prices.len());
        rows.insert(txn).await
    }

    /// Active pricing groups, each linked to [`LISTS_PER_GROUP`] distinct
    /// random price lists at random priorities.
    async fn groups(&mut self, txn: &DatabaseTransaction, count: u32) -> Result<(), DbErr> {
        let lists: Vec<Uuid> = select_column(price_list::Entity::find(), price_list::Column::Id)
            .all(txn)
            .await?;
        let first = next_serial::<customer_group::Entity>(txn, customer_group::Column::NameKey, "bench group ").await?;
        let mut rows = Rows::default();
        for n in first..first + count {
            let mut row = new_group(format!("Bench Group {n:05}"), GroupKind::Pricing, self.now);
            row.commission_exempt = self.rng.random_ratio(1, 10);
            row.free_freight = self.rng.random_ratio(1, 20);
            let chosen: Vec<Uuid> = lists
                .choose_multiple(&mut self.rng, LISTS_PER_GROUP.min(lists.len()))
                .copied()
                .collect();
            for price_list_id in chosen {
                let priority = self.rng.random_range(0..1000);
                rows.list_links
                    .push(list_link_row(row.id, price_list_id, priority, self.now));
            }
            rows.groups.push(row.into_active_model());
        }
        tracing::info!(
            "generating {count} pricing groups ({} price-list links)",
            rows.list_links.len()
        );
        rows.insert(txn).await
    }

    /// Customers with a random type group and 0–3 random pricing groups; one
    /// in ten belongs to one of a few generated organizations (one per
    /// thousand customers), most of which have pricing groups of their own.
    async fn customers(&mut self, txn: &DatabaseTransaction, count: u32) -> Result<(), DbErr> {
        let groups: Vec<(Uuid, GroupKind)> = customer_group::Entity::find()
            .select_only()
            .columns([customer_group::Column::Id, customer_group::Column::Kind])
            .into_tuple()
            .all(txn)
            .await?;
        let type_groups: Vec<Uuid> = groups
            .iter()
            .filter(|(_, kind)| *kind == GroupKind::Type)
            .map(|g| g.0)
            .collect();
        // `Everyone` is implicit: nobody is made a member of it.
        let pricing_groups: Vec<Uuid> = groups
            .iter()
            .filter(|&&(id, kind)| kind == GroupKind::Pricing && id != EVERYONE_GROUP_ID)
            .map(|g| g.0)
            .collect();
        let organizations = self.organizations(txn, (count / 1000).max(1), &pricing_groups).await?;
        // Emails must be new on every run; everything else stays deterministic.
        let run = format!("{:08x}", rand::random::<u32>());
        let count = count as usize;
        let mut done = 0;
        while done < count {
            let batch = CUSTOMER_BATCH.min(count - done);
            let mut rows = Rows::default();
            for n in done + 1..=done + batch {
                let type_group_id = type_groups
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or(DEFAULT_TYPE_GROUP_ID);
                let email = format!("bench-{n:06}-{run}@example.com");
                let mut row = new_customer(email, format!("Bench Customer {n:06}"), type_group_id, self.now);
                if self.rng.random_ratio(1, 10) {
                    row.organization_id = organizations.choose(&mut self.rng).copied();
                }
                row.commission_exempt = self.rng.random_ratio(1, 50);
                row.free_freight = self.rng.random_ratio(1, 33);
                let memberships = self.rng.random_range(0..=3).min(pricing_groups.len());
                let chosen: Vec<Uuid> = pricing_groups
                    .choose_multiple(&mut self.rng, memberships)
                    .copied()
                    .collect();
                for group_id in chosen {
                    rows.memberships.push(membership_row(row.id, group_id, self.now));
                }
                rows.customers.push(row.into_active_model());
            }
            rows.insert(txn).await?;
            done += batch;
            tracing::info!("customers: {done}/{count}");
        }
        Ok(())
    }

    /// Organizations for generated customers; three in four get one or two
    /// pricing groups.
    async fn organizations(
        &mut self,
        txn: &DatabaseTransaction,
        count: u32,
        pricing_groups: &[Uuid],
    ) -> Result<Vec<Uuid>, DbErr> {
        let first = next_serial::<organization::Entity>(txn, organization::Column::Name, "Bench Organization ").await?;
        let mut rows = Rows::default();
        let mut ids = Vec::new();
        for n in first..first + count {
            let row = new_organization(format!("Bench Organization {n:05}"), self.now);
            let size = if self.rng.random_ratio(3, 4) {
                self.rng.random_range(1..=2)
            } else {
                0
            };
            let chosen: Vec<Uuid> = pricing_groups
                .choose_multiple(&mut self.rng, size.min(pricing_groups.len()))
                .copied()
                .collect();
            for group_id in chosen {
                rows.organization_groups
                    .push(organization_group_row(row.id, group_id, self.now));
            }
            ids.push(row.id);
            rows.organizations.push(row.into_active_model());
        }
        tracing::info!("generating {count} organizations for the customers");
        rows.insert(txn).await?;
        Ok(ids)
    }
}

/// One column of every row, as plain values.
fn select_column<E, T>(
    select: sea_orm::Select<E>,
    column: E::Column,
) -> sea_orm::Selector<sea_orm::SelectGetableTuple<T>>
where
    E: EntityTrait,
    T: sea_orm::TryGetableMany,
{
    select.select_only().column(column).into_tuple()
}

/// The number after the highest `<prefix><number>` in `column`, or 1: what
/// the next generated name starts from.
async fn next_serial<E: EntityTrait>(txn: &DatabaseTransaction, column: E::Column, prefix: &str) -> Result<u32, DbErr> {
    let names: Vec<String> = select_column(E::find().filter(column.starts_with(prefix)), column)
        .all(txn)
        .await?;
    let numbers = names
        .iter()
        .filter_map(|name| name.strip_prefix(prefix)?.parse::<u32>().ok());
    Ok(numbers.max().map_or(1, |highest| highest + 1))
}

// ---------------------------------------------------------------------------
// Rows and bulk inserts
// ---------------------------------------------------------------------------

/// Bind parameters one statement may carry: SQLite allows 32766, PostgreSQL
/// 65535; a chunk's rows × columns stays below both.
const MAX_BIND_PARAMETERS: usize = 32_000;

/// Inserts `rows` in as few statements as the bind-parameter limit allows.
async fn insert_all<E, A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<(), DbErr>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E>,
{
    let per_statement = (MAX_BIND_PARAMETERS / E::Column::iter().count()).max(1);
    let mut rows = rows.into_iter();
    loop {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        if chunk.is_empty() {
            return Ok(());
        }
        E::insert_many(chunk).exec_without_returning(txn).await?;
    }
}

/// Rows waiting to be inserted, one vector per table.
#[derive(Default)]
struct Rows {
    groups: Vec<customer_group::ActiveModel>,
    /// Parents before their children.
    organizations: Vec<organization::ActiveModel>,
    organization_groups: Vec<organization_group::ActiveModel>,
    customers: Vec<customer::ActiveModel>,
    memberships: Vec<membership::ActiveModel>,
    product_lines: Vec<product_line::ActiveModel>,
    products: Vec<product::ActiveModel>,
    base_prices: Vec<base_price::ActiveModel>,
    price_lists: Vec<price_list::ActiveModel>,
    prices: Vec<price::ActiveModel>,
    list_links: Vec<list_link::ActiveModel>,
    line_links: Vec<line_link::ActiveModel>,
}

impl Rows {
    /// Inserts every table after the tables it refers to.
    async fn insert(self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        insert_all(txn, self.groups).await?;
        insert_all(txn, self.organizations).await?;
        insert_all(txn, self.organization_groups).await?;
        insert_all(txn, self.customers).await?;
        insert_all(txn, self.memberships).await?;
        insert_all(txn, self.product_lines).await?;
        insert_all(txn, self.products).await?;
        insert_all(txn, self.base_prices).await?;
        insert_all(txn, self.price_lists).await?;
        insert_all(txn, self.prices).await?;
        insert_all(txn, self.list_links).await?;
        insert_all(txn, self.line_links).await
    }

    fn summary(&self) -> String {
        format!(
            "{} groups, {} organizations, {} customers, {} memberships, {} product lines, {} products, \
             {} base prices, {} price lists, {} prices, {} group–price list links, {} group–product line links",
            self.groups.len(),
            self.organizations.len(),
            self.customers.len(),
            self.memberships.len(),
            self.product_lines.len(),
            self.products.len(),
            self.base_prices.len(),
            self.price_lists.len(),
            self.prices.len(),
            self.list_links.len(),
            self.line_links.len(),
        )
    }
}

// New rows with what every fresh row has (a new id, version 1, an empty
// metadata object, active and without exemptions); callers set the rest.

fn new_group(name: String, kind: GroupKind, now: DateTime<Utc>) -> customer_group::Model {
    customer_group::Model {
        id: new_id(),
        name_key: name.to_lowercase(),
        name,
        description: None,
        kind,
        is_active: true,
        commission_exempt: false,
        free_freight: false,
        metadata: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn new_organization(name: String, now: DateTime<Utc>) -> organization::Model {
    organization::Model {
        id: new_id(),
        name,
        parent_id: None,
        metadata: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn new_customer(email: String, name: String, type_group_id: Uuid, now: DateTime<Utc>) -> customer::Model {
    customer::Model {
        id: new_id(),
        email,
        name,
        organization_id: None,
        type_group_id,
        commission_exempt: false,
        free_freight: false,
        metadata: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn new_product(sku: String, name: String, now: DateTime<Utc>) -> product::Model {
    product::Model {
        id: new_id(),
        sku,
        name,
        product_line_id: None,
        metadata: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn new_price_list(
    name: String,
    list_type: PriceListType,
    status: PriceListStatus,
    now: DateTime<Utc>,
) -> price_list::Model {
    price_list::Model {
        id: new_id(),
        name,
        description: None,
        list_type,
        status,
        starts_at: None,
        ends_at: None,
        metadata: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn base_price_row(
    product_id: Uuid,
    currency: &str,
    min_quantity: i32,
    amount_minor: i64,
    now: DateTime<Utc>,
) -> base_price::ActiveModel {
    let currency = currency.to_owned();
    let row = base_price::Model {
        id: new_id(),
        product_id,
        currency,
        min_quantity,
        amount_minor,
        created_at: now,
        updated_at: now,
    };
    row.into_active_model()
}

/// `tier` is (min quantity, max quantity).
fn price_row(
    price_list_id: Uuid,
    product_id: Uuid,
    currency: &str,
    (min_quantity, max_quantity): (i32, Option<i32>),
    amount_minor: i64,
    now: DateTime<Utc>,
) -> price::ActiveModel {
    price::Model {
        id: new_id(),
        price_list_id,
        product_id,
        currency: currency.to_owned(),
        min_quantity,
        max_quantity,
        amount_minor,
        created_at: now,
        updated_at: now,
    }
    .into_active_model()
}

fn membership_row(customer_id: Uuid, group_id: Uuid, now: DateTime<Utc>) -> membership::ActiveModel {
    membership::ActiveModel {
        customer_id: Set(customer_id),
        group_id: Set(group_id),
        created_at: Set(now),
    }
}

fn organization_group_row(
    organization_id: Uuid,
    group_id: Uuid,
    now: DateTime<Utc>,
) -> organization_group::ActiveModel {
    organization_group::ActiveModel {
        organization_id: Set(organization_id),
        group_id: Set(group_id),
        created_at: Set(now),
    }
}

fn list_link_row(group_id: Uuid, price_list_id: Uuid, priority: i32, now: DateTime<Utc>) -> list_link::ActiveModel {
    list_link::ActiveModel {
        group_id: Set(group_id),
        price_list_id: Set(price_list_id),
        priority: Set(priority),
        created_at: Set(now),
    }
}

// ---------------------------------------------------------------------------
// Amounts, in integer minor units
// ---------------------------------------------------------------------------

/// `amount × percent / 100`, rounded half up (amounts are never negative).
fn percent_of(amount: i64, percent: i64) -> i64 {
    (amount * percent + 50) / 100
}

/// Yen in round tens; cents as they are.
fn round_minor(currency: &str, amount: i64) -> i64 {
    if currency == "JPY" {
        (amount + 5) / 10 * 10
    } else {
        amount
    }
}

/// A shelf price: dollars and euros ending in .99 (at least 0.99), yen in
/// round tens; free stays free.
fn shelf_price(currency: &str, amount: i64) -> i64 {
    match currency {
        _ if amount == 0 => 0,
        "JPY" => round_minor(currency, amount).max(10),
        _ => ((amount + 50) / 100 * 100 - 1).max(99),
    }
}
