//! Price resolution (docs/pricing.md) against a reference model written here
//! from those rules alone, on a thousand small random worlds per run and backend.
//!
//! The model shares no code with `pricegraph::pricing`: it reads the rules'
//! numbered steps literally, so a disagreement is a question about the rules,
//! not about two copies of one implementation. Worlds go straight into the
//! database (SeaORM bulk inserts in shuffled order, one transaction), one
//! migrated database per backend is reused, and all of a world's questions —
//! every shopper, both strategies, quantities 1 to 6, which crosses every
//! tier boundary the generator can make — go in one GraphQL request.
//!
//! Reproduce a failure with the printed `PROPTEST_RNG_SEED`; `PROPTEST_CASES`
//! changes the number of worlds. One file rather than two because the world,
//! its generator and its model only make sense together.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::values::{GroupKind, PriceListStatus, PriceListType};
use entity::{
    base_price, customer, customer_group, customer_group_price_list as link, customer_group_product_line as group_line,
    membership, organization, organization_group, price, price_list, product, product_line,
};
use migration::{DEFAULT_TYPE_GROUP_ID, EVERYONE_GROUP_ID};
use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, TransactionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, backends, proptest_config};

const LINES: usize = 2;
/// Every tier starts at 1..=3 and ends at most 2 later, so asking 1..=6
/// asks every boundary (min − 1, min, max, max + 1).
const QUANTITIES: std::ops::RangeInclusive<i32> = 1..=6;

/// The moment every question is asked at; list windows sit around it.
fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
        .single()
        .expect("a valid date")
}

// ---------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------

/// A pricing group: one of the world's own, or the built-in `Everyone`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum GroupRef {
    Everyone,
    Own(usize),
}

#[derive(Clone, Debug)]
struct Group {
    id: Uuid,
    is_active: bool,
    lines: BTreeSet<usize>,
}

#[derive(Clone, Debug)]
struct Organization {
    id: Uuid,
    /// Always an earlier organization; parents must not matter (seed 004).
    parent: Option<usize>,
    groups: BTreeSet<usize>,
}

#[derive(Clone, Debug)]
struct Customer {
    id: Uuid,
    organization: Option<usize>,
    groups: BTreeSet<usize>,
}

#[derive(Clone, Debug)]
struct Product {
    id: Uuid,
    line: Option<usize>,
    /// minQuantity → amount in cents.
    base: BTreeMap<i32, i64>,
}

#[derive(Clone, Debug)]
struct ListPrice {
    max_quantity: Option<i32>,
    amount: i64,
}

#[derive(Clone, Debug)]
struct PriceList {
    id: Uuid,
    list_type: PriceListType,
    status: PriceListStatus,
    /// Seconds from `at()`.
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    /// Seconds after a fixed instant: often equal, so the id decides.
    created_at: i64,
    /// Group → priority; often equal.
    links: BTreeMap<GroupRef, i32>,
    /// Product → minQuantity → tier.
    prices: BTreeMap<usize, BTreeMap<i32, ListPrice>>,
    /// A derived list's discount, in hundredths of a percent.
    percent_off: Option<i64>,
}

#[derive(Clone, Debug)]
struct World {
    line_ids: Vec<Uuid>,
    everyone_active: bool,
    everyone_lines: BTreeSet<usize>,
    groups: Vec<Group>,
    organizations: Vec<Organization>,
    customers: Vec<Customer>,
    products: Vec<Product>,
    lists: Vec<PriceList>,
    /// Shuffles the rows of every table before they are inserted.
    insertion_seed: u64,
}

impl World {
    fn group_id(&self, group: GroupRef) -> Uuid {
        match group {
            GroupRef::Everyone => EVERYONE_GROUP_ID,
            GroupRef::Own(index) => self.groups[index].id,
        }
    }

    fn is_active(&self, group: GroupRef) -> bool {
        match group {
            GroupRef::Everyone => self.everyone_active,
            GroupRef::Own(index) => self.groups[index].is_active,
        }
    }

    fn lines_of(&self, group: GroupRef) -> &BTreeSet<usize> {
        match group {
            GroupRef::Everyone => &self.everyone_lines,
            GroupRef::Own(index) => &self.groups[index].lines,
        }
    }
}

// ---------------------------------------------------------------------------
// Generating worlds
// ---------------------------------------------------------------------------

fn id() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

/// Cents in steps of 1.25, so equal amounts (ties) are common.
fn amount() -> impl Strategy<Value = i64> {
    (0..=8i64).prop_map(|n| n * 125)
}

/// Mostly unrestricted: restrictions make products NOT_ORDERABLE.
fn lines() -> impl Strategy<Value = BTreeSet<usize>> {
    prop_oneof![4 => Just(BTreeSet::new()), 1 => btree_set(0..LINES, 1..=LINES)]
}

fn group() -> impl Strategy<Value = Group> {
    (id(), prop::bool::weighted(0.8), lines()).prop_map(|(id, is_active, lines)| Group { id, is_active, lines })
}

fn organization(index: usize, groups: usize) -> impl Strategy<Value = Organization> {
    let parent = if index == 0 {
        Just(None).boxed()
    } else {
        option::of(0..index).boxed()
    };
    let groups = prop_oneof![Just(BTreeSet::new()), btree_set(0..groups, 1..=2)];
    (id(), parent, groups).prop_map(|(id, parent, groups)| Organization { id, parent, groups })
}

fn customer(groups: usize, organizations: usize) -> impl Strategy<Value = Customer> {
    let organization = if organizations == 0 {
        Just(None).boxed()
    } else {
        option::of(0..organizations).boxed()
    };
    (id(), organization, btree_set(0..groups, 0..=groups)).prop_map(|(id, organization, groups)| Customer {
        id,
        organization,
        groups,
    })
}

fn product() -> impl Strategy<Value = Product> {
    (id(), option::of(0..LINES), btree_map(1..=3i32, amount(), 0..=2)).prop_map(|(id, line, base)| Product {
        id,
        line,
        base,
    })
}

/// (startsAt, endsAt) around `at`, on and next to it; startsAt < endsAt.
fn window() -> impl Strategy<Value = (Option<i64>, Option<i64>)> {
    let bound = || option::weighted(0.4, prop::sample::select(vec![-3600i64, -1, 0, 1, 3600]));
    (bound(), bound()).prop_map(|window| match window {
        (Some(start), Some(end)) if start > end => (Some(end), Some(start)),
        (Some(start), Some(end)) if start == end => (Some(start), Some(end + 1)),
        window => window,
    })
}

fn tiers() -> impl Strategy<Value = BTreeMap<i32, ListPrice>> {
    btree_map(1..=3i32, (option::of(0..=2i32), amount()), 1..=2).prop_map(|tiers| {
        tiers
            .into_iter()
            .map(|(min, (span, amount))| {
                let max_quantity = span.map(|span| min + span);
                (min, ListPrice { max_quantity, amount })
            })
            .collect()
    })
}

fn price_list(groups: usize, products: usize) -> impl Strategy<Value = PriceList> {
    let list_type = prop_oneof![Just(PriceListType::Sale), Just(PriceListType::Override)];
    let status = prop_oneof![6 => Just(PriceListStatus::Active), 1 => Just(PriceListStatus::Draft)];
    let group = prop_oneof![3 => (0..groups).prop_map(GroupRef::Own), 1 => Just(GroupRef::Everyone)];
    (
        id(),
        list_type,
        status,
        window(),
        0..3i64,
        btree_map(group, 0..3i32, 0..=3),
        btree_map(0..products, tiers(), 0..=products),
        // Half of 1.25 and its multiples, and 1 cent off 20 %, round to even.
        option::weighted(
            0.35,
            prop::sample::select(vec![1i64, 50, 1000, 2000, 2500, 5000, 10_000]),
        ),
    )
        .prop_map(
            |(id, list_type, status, (starts_at, ends_at), created_at, links, prices, percent_off)| PriceList {
                id,
                list_type,
                status,
                starts_at,
                ends_at,
                created_at,
                links,
                prices,
                percent_off,
            },
        )
}

fn world() -> impl Strategy<Value = World> {
    (1..=4usize, 0..=2usize, 1..=2usize, 1..=3usize, 0..=5usize).prop_flat_map(
        |(groups, organizations, customers, products, lists)| {
            (
                vec(id(), LINES),
                prop::bool::weighted(0.9),
                prop_oneof![6 => Just(BTreeSet::new()), 1 => btree_set(0..LINES, 1..=LINES)],
                vec(group(), groups),
                (0..organizations)
                    .map(|index| organization(index, groups))
                    .collect::<Vec<_>>(),
                vec(customer(groups, organizations), customers),
                vec(product(), products),
                vec(price_list(groups, products), lists),
                any::<u64>(),
            )
                .prop_map(
                    |(
                        line_ids,
                        everyone_active,
                        everyone_lines,
                        groups,
                        organizations,
                        customers,
                        products,
                        lists,
                        insertion_seed,
                    )| World {
                        line_ids,
                        everyone_active,
                        everyone_lines,
                        groups,
                        organizations,
                        customers,
                        products,
                        lists,
                        insertion_seed,
                    },
                )
        },
    )
}

// ---------------------------------------------------------------------------
// The reference model (docs/pricing.md, step by step)
// ---------------------------------------------------------------------------

/// What one question should be answered, in the API's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Priced {
    product: Uuid,
    quantity: i32,
    currency: String,
    /// "12.50 USD".
    amount: Option<String>,
    base_price: Option<String>,
    source: String,
    price_list: Option<Uuid>,
    customer_group: Option<Uuid>,
    priority: Option<i32>,
    tier_min_quantity: Option<i32>,
    /// The derived list's `percentOff` when its rule gave the amount.
    rule: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PricingStrategy {
    Priority,
    LowestPrice,
}

/// Effective groups: the organization's groups if it has any, else the customer's own, then
/// `Everyone` for every shopper. Inactive groups are absent everywhere, so an
/// organization whose only groups are inactive has no pricing groups.
fn effective_groups(world: &World, shopper: Option<usize>) -> Vec<GroupRef> {
    let present = |groups: &BTreeSet<usize>| -> Vec<GroupRef> {
        groups
            .iter()
            .map(|g| GroupRef::Own(*g))
            .filter(|g| world.is_active(*g))
            .collect()
    };
    let mut groups = Vec::new();
    if let Some(customer) = shopper.map(|c| &world.customers[c]) {
        let of_organization = customer
            .organization
            .map(|o| present(&world.organizations[o].groups))
            .unwrap_or_default();
        groups = if of_organization.is_empty() {
            present(&customer.groups)
        } else {
            of_organization
        };
    }
    if world.is_active(GroupRef::Everyone) {
        groups.push(GroupRef::Everyone);
    }
    groups
}

/// Product access: unrestricted unless a group lists lines; then the
/// union of the listed lines, and products without a line.
fn may_order(world: &World, groups: &[GroupRef], product: &Product) -> bool {
    let listed: BTreeSet<usize> = groups.iter().flat_map(|g| world.lines_of(*g).iter().copied()).collect();
    match product.line {
        None => true,
        Some(line) => listed.is_empty() || listed.contains(&line),
    }
}

/// Step 2: the base tier with the largest minQuantity ≤ quantity.
fn base_price(product: &Product, quantity: i32) -> Option<(i32, i64)> {
    product
        .base
        .range(..=quantity)
        .next_back()
        .map(|(min, amount)| (*min, *amount))
}

struct Candidate<'w> {
    list: &'w PriceList,
    group: GroupRef,
    priority: i32,
}

/// Steps 3–4: active lists open at `at`, linked to an effective group, each
/// once at its smallest priority (among equal ones, the smallest group id, as
/// the product documents), ordered by priority, createdAt, id.
fn candidates<'w>(world: &'w World, groups: &[GroupRef]) -> Vec<Candidate<'w>> {
    let open =
        |list: &PriceList| list.starts_at.is_none_or(|start| start <= 0) && list.ends_at.is_none_or(|end| 0 < end);
    let mut candidates: Vec<Candidate<'w>> = world
        .lists
        .iter()
        .filter(|list| list.status == PriceListStatus::Active && open(list))
        .filter_map(|list| {
            let (group, priority) = list
                .links
                .iter()
                .filter(|(group, _)| groups.contains(group))
                .min_by_key(|(group, priority)| (**priority, world.group_id(**group)))?;
            Some(Candidate {
                list,
                group: *group,
                priority: *priority,
            })
        })
        .collect();
    candidates.sort_by_key(|c| (c.priority, c.list.created_at, c.list.id));
    candidates
}

/// A list's price for a product and quantity: where it came from (the
/// tier's first quantity, or the base tier's for a derived amount), the
/// amount, and the rule when the rule gave it.
type ListAmount = (i32, i64, Option<i64>);

/// Step 5: the list's tier with min ≤ quantity ≤ max and the largest min;
/// else, for a derived list, the base price less its discount.
fn list_price(list: &PriceList, product: &Product, index: usize, quantity: i32) -> Option<ListAmount> {
    let own = list
        .prices
        .get(&index)
        .into_iter()
        .flatten()
        .filter(|(min, tier)| **min <= quantity && tier.max_quantity.is_none_or(|max| quantity <= max))
        .map(|(min, tier)| (*min, tier.amount, None))
        .next_back();
    own.or_else(|| {
        let percent_off = list.percent_off?;
        let (min, base) = base_price(product, quantity)?;
        Some((min, discounted(base, percent_off), Some(percent_off)))
    })
}

/// `base × (10000 − p) / 10000` to the nearest cent, a half to the even
/// cent: counted out in whole cents and compared with the half.
fn discounted(base: i64, hundredths_off: i64) -> i64 {
    let scaled = i128::from(base) * i128::from(10_000 - hundredths_off);
    let cents = scaled / 10_000;
    let twice_rest = 2 * (scaled - cents * 10_000);
    let up = twice_rest > 10_000 || (twice_rest == 10_000 && cents % 2 == 1);
    i64::try_from(cents + i128::from(up)).expect("never above the base")
}

/// "20", "12.5", "0.01": the shortest decimal for hundredths of a percent.
fn percent_text(hundredths: i64) -> String {
    let text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Step 5: a sale never raises a price; an override always applies.
fn applies(list: &PriceList, amount: i64, base: Option<(i32, i64)>) -> bool {
    match list.list_type {
        PriceListType::Override => true,
        PriceListType::Sale => base.is_none_or(|(_, base)| amount < base),
    }
}

/// Steps 1–7, for one product and quantity. `basePrice` is shown even
/// when the product may not be ordered: the schema documents it as the
/// product's base price for the quantity, "if it has one".
fn expected(world: &World, shopper: Option<usize>, product: usize, quantity: i32, strategy: PricingStrategy) -> Priced {
    let item = &world.products[product];
    let groups = effective_groups(world, shopper);
    let base = base_price(item, quantity);
    let mut priced = Priced {
        product: item.id,
        quantity,
        currency: "USD".into(),
        amount: None,
        base_price: base.map(|(_, amount)| dollars(amount)),
        source: "NONE".into(),
        price_list: None,
        customer_group: None,
        priority: None,
        tier_min_quantity: None,
        rule: None,
    };
    if !may_order(world, &groups, item) {
        priced.source = "NOT_ORDERABLE".into();
        return priced;
    }
    // Step 5: the candidates whose price applies, in walking order.
    let applicable: Vec<(Candidate<'_>, ListAmount)> = candidates(world, &groups)
        .into_iter()
        .filter_map(|c| list_price(c.list, item, product, quantity).map(|tier| (c, tier)))
        .filter(|(c, (_, amount, _))| applies(c.list, *amount, base))
        .collect();
    let winner = match strategy {
        PricingStrategy::Priority => applicable.first(),
        // Step 7: the first override; else the lowest applicable sale, the
        // earlier one on a tie (an applicable sale is always below base).
        PricingStrategy::LowestPrice => applicable
            .iter()
            .find(|(c, _)| c.list.list_type == PriceListType::Override)
            .or_else(|| {
                applicable
                    .iter()
                    .reduce(|best, next| if next.1.1 < best.1.1 { next } else { best })
            }),
    };
    match (winner, base) {
        (Some((candidate, (min, amount, rule))), _) => {
            priced.amount = Some(format!("{} USD", dollars(*amount)));
            priced.source = "PRICE_LIST".into();
            priced.price_list = Some(candidate.list.id);
            priced.customer_group = Some(world.group_id(candidate.group));
            priced.priority = Some(candidate.priority);
            priced.tier_min_quantity = Some(*min);
            priced.rule = rule.map(percent_text);
        }
        (None, Some((min, amount))) => {
            priced.amount = Some(format!("{} USD", dollars(amount)));
            priced.source = "BASE".into();
            priced.tier_min_quantity = Some(min);
        }
        (None, None) => {}
    }
    priced
}

fn dollars(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

// ---------------------------------------------------------------------------
// Storing a world
// ---------------------------------------------------------------------------

/// Replaces the previous world with `world` in one transaction, every table's
/// rows in a shuffled order, so the answers cannot lean on storage order.
async fn store(app: &TestApp, world: &World) -> Result<(), DbErr> {
    let txn = app.db.conn.begin().await?;
    clear(&txn).await?;
    let mut rng = StdRng::seed_from_u64(world.insertion_seed);
    let now = at() - Duration::days(30);
    let pricing_group = |id: Uuid, name: String, is_active: bool| customer_group::ActiveModel {
        id: Set(id),
        name_key: Set(name.to_lowercase()),
        name: Set(name),
        description: Set(None),
        kind: Set(GroupKind::Pricing),
        is_active: Set(is_active),
        commission_exempt: Set(false),
        free_freight: Set(false),
        metadata: Set(json!({})),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    customer_group::Entity::update_many()
        .col_expr(customer_group::Column::IsActive, Expr::value(world.everyone_active))
        .filter(customer_group::Column::Id.eq(EVERYONE_GROUP_ID))
        .exec(&txn)
        .await?;
    let groups = world.groups.iter().enumerate();
    let rows = groups.map(|(n, g)| pricing_group(g.id, format!("Model group {n}"), g.is_active));
    insert(&txn, shuffled(rows, &mut rng)).await?;
    let rows = world
        .line_ids
        .iter()
        .enumerate()
        .map(|(n, id)| product_line::ActiveModel {
            id: Set(*id),
            name: Set(format!("Line {n}")),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        });
    insert(&txn, shuffled(rows, &mut rng)).await?;
    let everyone_lines = world.everyone_lines.iter().map(|line| (EVERYONE_GROUP_ID, *line));
    let own_lines = (world.groups.iter()).flat_map(|g| g.lines.iter().map(|line| (g.id, *line)));
    let rows = everyone_lines
        .chain(own_lines)
        .map(|(group, line)| group_line::ActiveModel {
            group_id: Set(group),
            product_line_id: Set(world.line_ids[line]),
            created_at: Set(now),
        });
    insert(&txn, shuffled(rows, &mut rng)).await?;

    // Parents before children: the parent key is checked on insert.
    let rows = world
        .organizations
        .iter()
        .enumerate()
        .map(|(n, o)| organization::ActiveModel {
            id: Set(o.id),
            name: Set(format!("Organization {n}")),
            parent_id: Set(o.parent.map(|p| world.organizations[p].id)),
            metadata: Set(json!({})),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        });
    insert(&txn, rows.collect()).await?;
    let rows = (world.organizations.iter()).flat_map(|o| {
        o.groups.iter().map(|g| organization_group::ActiveModel {
            organization_id: Set(o.id),
            group_id: Set(world.groups[*g].id),
            created_at: Set(now),
        })
    });
    insert(&txn, shuffled(rows, &mut rng)).await?;
    let rows = world.customers.iter().enumerate().map(|(n, c)| customer::ActiveModel {
        id: Set(c.id),
        email: Set(format!("model{n}@example.com")),
        name: Set(format!("Customer {n}")),
        organization_id: Set(c.organization.map(|o| world.organizations[o].id)),
        type_group_id: Set(DEFAULT_TYPE_GROUP_ID),
        commission_exempt: Set(false),
        free_freight: Set(false),
        metadata: Set(json!({})),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    });
    insert(&txn, shuffled(rows, &mut rng)).await?;
    let rows = (world.customers.iter()).flat_map(|c| {
        c.groups.iter().map(|g| membership::ActiveModel {
            customer_id: Set(c.id),
            group_id: Set(world.groups[*g].id),
            created_at: Set(now),
        })
    });
    insert(&txn, shuffled(rows, &mut rng)).await?;

    let rows = world.products.iter().enumerate().map(|(n, p)| product::ActiveModel {
        id: Set(p.id),
        sku: Set(format!("MODEL-{n}")),
        name: Set(format!("Product {n}")),
        product_line_id: Set(p.line.map(|line| world.line_ids[line])),
        metadata: Set(json!({})),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    });
    insert(&txn, shuffled(rows, &mut rng)).await?;
    let rows = (world.products.iter()).flat_map(|p| {
        p.base.iter().map(|(min, amount)| base_price::ActiveModel {
            id: Set(Uuid::now_v7()),
            product_id: Set(p.id),
            currency: Set("USD".into()),
            min_quantity: Set(*min),
            amount_minor: Set(*amount),
            created_at: Set(now),
            updated_at: Set(now),
        })
    });
    insert(&txn, shuffled(rows, &mut rng)).await?;

    let moment = |seconds: Option<i64>| seconds.map(|s| at() + Duration::seconds(s));
    let rows = world.lists.iter().enumerate().map(|(n, l)| price_list::ActiveModel {
        id: Set(l.id),
        name: Set(format!("List {n}")),
        description: Set(None),
        list_type: Set(l.list_type),
        status: Set(l.status),
        starts_at: Set(moment(l.starts_at)),
        ends_at: Set(moment(l.ends_at)),
        percent_off: Set(l.percent_off.map(|p| i32::try_from(p).expect("at most 10000"))),
        metadata: Set(json!({})),
        version: Set(1),
        created_at: Set(now + Duration::seconds(l.created_at)),
        updated_at: Set(now),
    });
    insert(&txn, shuffled(rows, &mut rng)).await?;
    let rows = (world.lists.iter()).flat_map(|l| {
        l.links.iter().map(|(group, priority)| link::ActiveModel {
            group_id: Set(world.group_id(*group)),
            price_list_id: Set(l.id),
            priority: Set(*priority),
            created_at: Set(now),
        })
    });
    insert(&txn, shuffled(rows, &mut rng)).await?;
    let rows = (world.lists.iter()).flat_map(|l| {
        l.prices.iter().flat_map(move |(product, tiers)| {
            tiers.iter().map(move |(min, tier)| price::ActiveModel {
                id: Set(Uuid::now_v7()),
                price_list_id: Set(l.id),
                product_id: Set(world.products[*product].id),
                currency: Set("USD".into()),
                min_quantity: Set(*min),
                max_quantity: Set(tier.max_quantity),
                amount_minor: Set(tier.amount),
                created_at: Set(now),
                updated_at: Set(now),
            })
        })
    });
    insert(&txn, shuffled(rows, &mut rng)).await?;
    txn.commit().await?;
    // The world was written behind the services' backs, so nothing told
    // the cache; the previous world's entries must go.
    app.store.cache.clear();
    Ok(())
}

/// Removes the previous world, children first; the built-in groups stay.
async fn clear(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    price::Entity::delete_many().exec(txn).await?;
    base_price::Entity::delete_many().exec(txn).await?;
    link::Entity::delete_many().exec(txn).await?;
    group_line::Entity::delete_many().exec(txn).await?;
    membership::Entity::delete_many().exec(txn).await?;
    organization_group::Entity::delete_many().exec(txn).await?;
    customer::Entity::delete_many().exec(txn).await?;
    organization::Entity::delete_many().exec(txn).await?;
    product::Entity::delete_many().exec(txn).await?;
    product_line::Entity::delete_many().exec(txn).await?;
    price_list::Entity::delete_many().exec(txn).await?;
    customer_group::Entity::delete_many()
        .filter(customer_group::Column::Id.is_not_in([DEFAULT_TYPE_GROUP_ID, EVERYONE_GROUP_ID]))
        .exec(txn)
        .await?;
    Ok(())
}

fn shuffled<T>(rows: impl Iterator<Item = T>, rng: &mut StdRng) -> Vec<T> {
    let mut rows: Vec<T> = rows.collect();
    rows.shuffle(rng);
    rows
}

async fn insert<E, A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<(), DbErr>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E>,
{
    if !rows.is_empty() {
        E::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Asking and comparing
// ---------------------------------------------------------------------------

const STRATEGIES: [(PricingStrategy, &str); 2] = [
    (PricingStrategy::Priority, "PRIORITY"),
    (PricingStrategy::LowestPrice, "LOWEST_PRICE"),
];

/// One `resolvePrices` per shopper (the anonymous one first) and strategy.
struct Question {
    alias: String,
    shopper: Option<usize>,
    strategy: PricingStrategy,
}

fn questions(world: &World) -> Vec<Question> {
    let shoppers = std::iter::once(None).chain((0..world.customers.len()).map(Some));
    shoppers
        .flat_map(|shopper| {
            STRATEGIES.iter().map(move |(strategy, name)| Question {
                alias: format!(
                    "{}_{name}",
                    shopper.map_or("anonymous".into(), |c| format!("customer{c}"))
                ),
                shopper,
                strategy: *strategy,
            })
        })
        .collect()
}

/// Every product at every quantity, product by product.
fn items(world: &World) -> Vec<(usize, i32)> {
    (0..world.products.len())
        .flat_map(|product| QUANTITIES.map(move |quantity| (product, quantity)))
        .collect()
}

/// All of a world's questions in one request.
async fn ask(app: &TestApp, world: &World, questions: &[Question]) -> Value {
    let items: Vec<Value> = items(world)
        .into_iter()
        .map(|(product, quantity)| json!({ "productId": world.products[product].id, "quantity": quantity }))
        .collect();
    let mut variables = serde_json::Map::new();
    let mut declarations = Vec::new();
    let mut fields = Vec::new();
    for question in questions {
        let alias = &question.alias;
        declarations.push(format!("${alias}: ResolvePricesInput!"));
        fields.push(format!("{alias}: resolvePrices(input: ${alias}) {{ ...answer }}"));
        let strategy = STRATEGIES
            .iter()
            .find(|(s, _)| *s == question.strategy)
            .map(|(_, name)| *name);
        let input = json!({
            "customerId": question.shopper.map(|c| world.customers[c].id),
            "currency": "USD",
            "at": at().to_rfc3339(),
            "strategy": strategy,
            "items": items,
        });
        variables.insert(alias.clone(), input);
    }
    let query = format!(
        "query({}) {{ {} }}
        fragment answer on ResolvedPrice {{ product {{ id }} quantity currencyCode amount {{ amount currencyCode }}
            basePrice {{ amount }} source priceList {{ id }} customerGroup {{ id }} priority tierMinQuantity
            rule {{ percentOff }} }}",
        declarations.join(", "),
        fields.join(" "),
    );
    app.data(&query, Value::Object(variables)).await
}

/// An answer in the model's terms; anything missing or malformed shows up
/// as a difference rather than a panic.
fn answered(value: &Value) -> Priced {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let id = |v: &Value| v.as_str().and_then(|s| Uuid::parse_str(s).ok());
    let int = |v: &Value| v.as_i64().and_then(|n| i32::try_from(n).ok());
    let money = &value["amount"];
    Priced {
        product: id(&value["product"]["id"]).unwrap_or_default(),
        quantity: int(&value["quantity"]).unwrap_or_default(),
        currency: text(&value["currencyCode"]),
        amount: (!money.is_null()).then(|| format!("{} {}", text(&money["amount"]), text(&money["currencyCode"]))),
        base_price: (!value["basePrice"].is_null()).then(|| text(&value["basePrice"]["amount"])),
        source: text(&value["source"]),
        price_list: id(&value["priceList"]["id"]),
        customer_group: id(&value["customerGroup"]["id"]),
        priority: int(&value["priority"]),
        tier_min_quantity: int(&value["tierMinQuantity"]),
        rule: value["rule"]["percentOff"].as_str().map(str::to_owned),
    }
}

/// Stores the world, asks every question, and lists the answers that differ
/// from the model's.
async fn check(app: &TestApp, world: &World) -> Result<(), TestCaseError> {
    store(app, world)
        .await
        .map_err(|e| TestCaseError::fail(format!("storing the world: {e}")))?;
    let questions = questions(world);
    let data = ask(app, world, &questions).await;
    let items = items(world);
    let mut differences = Vec::new();
    for question in &questions {
        let answers = data[&question.alias].as_array().cloned().unwrap_or_default();
        if answers.len() != items.len() {
            differences.push(format!(
                "{}: {} answers for {} items",
                question.alias,
                answers.len(),
                items.len()
            ));
            continue;
        }
        for ((product, quantity), answer) in items.iter().zip(&answers) {
            let expected = expected(world, question.shopper, *product, *quantity, question.strategy);
            let actual = answered(answer);
            if actual != expected {
                differences.push(format!(
                    "{} product {product} quantity {quantity}:\n  expected {expected:?}\n  actual   {actual:?}",
                    question.alias
                ));
            }
        }
    }
    match differences.len() {
        0 => Ok(()),
        n => Err(TestCaseError::fail(format!(
            "{n} answers differ from the model, e.g.\n{}",
            differences.into_iter().take(3).collect::<Vec<_>>().join("\n")
        ))),
    }
}

#[test]
fn price_resolution_agrees_with_a_reference_model_on_random_worlds() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (config, seed) = proptest_config(1000);
    for backend in backends() {
        let app = runtime.block_on(TestApp::spawn(backend));
        let started = std::time::Instant::now();
        let mut runner = TestRunner::new(config.clone());
        let result = runner.run(&world(), |world| runtime.block_on(check(&app, &world)));
        let outcome = match &result {
            Ok(()) => format!("{} worlds agree", config.cases),
            Err(_) => "a world disagrees".to_owned(),
        };
        eprintln!(
            "pricing_model [{backend:?}]: {outcome} in {:.1?} (PROPTEST_RNG_SEED={seed})",
            started.elapsed()
        );
        runtime.block_on(app.cleanup());
        if let Err(failure) = result {
            panic!("[{backend:?}] {failure}\nReplay with PROPTEST_RNG_SEED={seed}");
        }
    }
}
