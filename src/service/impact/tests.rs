//! The preview's classes of shoppers against a plain comparison of every
//! shopper's price for every product, on random pairs of worlds.

use chrono::Duration;
use proptest::prelude::{Strategy as Generate, any, prop, prop_assert_eq, proptest};

use super::*;
use crate::pricing::{BaseTier, ListInfo, ListStatus, ListType, PercentOff, Tier};

const GROUPS: usize = 4;
const LISTS: usize = 4;
const CUSTOMERS: usize = 12;
const ORGANIZATIONS: usize = 2;
const PRODUCTS: usize = 5;

fn id(n: usize) -> Uuid {
    Uuid::from_u128(n as u128 + 1)
}

fn group_id(g: usize) -> Uuid {
    if g == 0 { EVERYONE_GROUP_ID } else { id(400 + g) }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("a time")
}

/// (active, product lines as bits, links as bits, a priority per list)
type GroupDesc = (bool, u8, u8, [i32; LISTS]);
/// (override, percent off in hundredths, draft, window: 0 none, 1 started, 2 not yet, 3 ended)
type ListDesc = (bool, Option<i64>, bool, u8);
/// (exists, organization, own groups as bits)
type CustomerDesc = (bool, Option<usize>, u8);
/// (product line, base amount, each list's amount)
type ProductDesc = (Option<usize>, Option<i64>, [Option<i64>; LISTS]);

#[derive(Clone, Debug)]
struct Desc {
    groups: Vec<GroupDesc>,
    lists: Vec<ListDesc>,
    customers: Vec<CustomerDesc>,
    organizations: Vec<u8>,
    products: Vec<ProductDesc>,
}

fn desc() -> impl Generate<Value = Desc> {
    let group = (
        prop::bool::weighted(0.85),
        prop::sample::select(vec![0u8, 0, 0, 0, 1, 3]),
        0u8..16,
        [0i32..3, 0i32..3, 0i32..3, 0i32..3],
    );
    let list = (
        any::<bool>(),
        prop::option::weighted(0.3, prop::sample::select(vec![1000i64, 2000, 2500, 5000])),
        prop::bool::weighted(0.1),
        prop::sample::select(vec![0u8, 0, 0, 1, 2, 3]),
    );
    let customer = (
        prop::bool::weighted(0.9),
        prop::option::weighted(0.3, 0..ORGANIZATIONS),
        0u8..16,
    );
    let amount = || prop::option::weighted(0.5, 50i64..120);
    let product = (
        prop::option::weighted(0.3, 0usize..2),
        prop::option::weighted(0.8, 90i64..110),
        [amount(), amount(), amount(), amount()],
    );
    (
        prop::collection::vec(group, GROUPS),
        prop::collection::vec(list, LISTS),
        prop::collection::vec(customer, CUSTOMERS),
        prop::collection::vec(0u8..16, ORGANIZATIONS),
        prop::collection::vec(product, PRODUCTS),
    )
        .prop_map(|(groups, lists, customers, organizations, products)| Desc {
            groups,
            lists,
            customers,
            organizations,
            products,
        })
}

/// Each part from `a`, or from `b` where `take_b` says so: two worlds that
/// differ a little or a lot.
fn mixed(a: &Desc, b: &Desc, take_b: &[bool]) -> Desc {
    fn pick<T: Copy>(x: &[T], y: &[T], picks: &mut impl Iterator<Item = bool>) -> Vec<T> {
        x.iter()
            .zip(y)
            .map(|(x, y)| if picks.next().unwrap_or(false) { *y } else { *x })
            .collect()
    }
    let picks = &mut take_b.iter().cycle().copied();
    Desc {
        groups: pick(&a.groups, &b.groups, picks),
        lists: pick(&a.lists, &b.lists, picks),
        customers: pick(&a.customers, &b.customers, picks),
        organizations: pick(&a.organizations, &b.organizations, picks),
        products: pick(&a.products, &b.products, picks),
    }
}

fn bits<T>(mask: u8, each: impl Fn(usize) -> T) -> Vec<T> {
    (0..8).filter(|i| mask & (1 << i) != 0).map(each).collect()
}

fn world(desc: &Desc) -> World {
    let mut world = World::default();
    for (g, (is_active, lines, links, priorities)) in desc.groups.iter().enumerate() {
        let facts = GroupFacts {
            is_active: *is_active,
            product_lines: bits(*lines, |l| id(600 + l)),
            links: bits(*links, |l| (id(300 + l), priorities[l])),
        };
        world.groups.insert(group_id(g), facts);
    }
    for (l, (is_override, rule, draft, window)) in desc.lists.iter().enumerate() {
        let hour = Duration::hours(1);
        let list = ListInfo {
            id: id(300 + l),
            list_type: if *is_override {
                ListType::Override
            } else {
                ListType::Sale
            },
            status: if *draft { ListStatus::Draft } else { ListStatus::Active },
            starts_at: match window {
                1 => Some(now() - hour),
                2 => Some(now() + hour),
                _ => None,
            },
            ends_at: (*window == 3).then(|| now() - hour),
            created_at: now() - Duration::days(10) + Duration::seconds(l as i64),
            rule: rule.and_then(PercentOff::from_hundredths),
        };
        world.lists.insert(list.id, list);
    }
    for (c, (exists, organization, groups)) in desc.customers.iter().enumerate() {
        if *exists {
            world.customers.push((id(100 + c), organization.map(|o| id(500 + o))));
            world.memberships.insert(id(100 + c), bits(*groups & 0b1110, group_id));
        }
    }
    for (o, groups) in desc.organizations.iter().enumerate() {
        world
            .organizations
            .insert(id(500 + o), bits(*groups & 0b1110, group_id));
    }
    let euro = CurrencyCode::parse("EUR").expect("EUR");
    for (p, (line, base, rows)) in desc.products.iter().enumerate() {
        world.products.insert(id(200 + p), line.map(|l| id(600 + l)));
        let offer = Offer {
            base: base
                .iter()
                .map(|amount| BaseTier {
                    min_quantity: 1,
                    amount: *amount,
                })
                .collect(),
            list_tiers: rows
                .iter()
                .enumerate()
                .filter_map(|(l, amount)| Some((id(300 + l), Tier::stored(1, None, (*amount)?))))
                .collect(),
        };
        world.offers.insert((id(200 + p), euro), offer);
    }
    world
}

/// Every shopper's price for every product, one by one.
fn plainly(before: &World, after: &World) -> Vec<(Option<Uuid>, PriceChange)> {
    let after_customers: HashMap<Uuid, Option<Uuid>> = after.customers.iter().copied().collect();
    let mut shoppers = vec![(None, None, None)];
    for (customer, organization) in &before.customers {
        if let Some(after_organization) = after_customers.get(customer) {
            shoppers.push((
                Some(*customer),
                Some((*customer, *organization)),
                Some((*customer, *after_organization)),
            ));
        }
    }
    let products: BTreeSet<(Uuid, CurrencyCode)> = before.offers.keys().chain(after.offers.keys()).copied().collect();
    let empty = Offer::default();
    let price = |world: &World, who: Option<(Uuid, Option<Uuid>)>, (product, currency): (Uuid, CurrencyCode)| {
        let shopper = shopper(world, &groups_of(world, who));
        let line = world.products.get(&product)?;
        let offer = world.offers.get(&(product, currency)).unwrap_or(&empty);
        Candidates::new(&shopper, now())
            .price(*line, offer, 1, Strategy::Priority)
            .amount
    };
    let mut changes = Vec::new();
    for (customer, was, is) in shoppers {
        for key in &products {
            let (before, after) = (price(before, was, *key), price(after, is, *key));
            if before != after {
                let (product_id, currency) = *key;
                changes.push((
                    customer,
                    PriceChange {
                        product_id,
                        currency,
                        before,
                        after,
                    },
                ));
            }
        }
    }
    changes
}

fn run(future: impl Future<Output = ServiceResult<Impact>>) -> Impact {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(future).expect("a preview within its limits")
}

proptest! {
    #[test]
    fn classes_of_shoppers_find_every_change_a_plain_comparison_finds(
        a in desc(),
        b in desc(),
        take_b in prop::collection::vec(prop::bool::weighted(0.15), 1..40),
        page_from in 0u64..40,
    ) {
        let (before, after) = (world(&a), world(&mixed(&a, &b, &take_b)));
        let expected = plainly(&before, &after);
        let impact = run(compare(&before, &after, &[Invalidation::Everything], now()));
        let got: Vec<(Option<Uuid>, PriceChange)> =
            impact.page(0, 100_000).into_iter().map(|(_, customer, change)| (customer, change)).collect();
        prop_assert_eq!(&got, &expected);
        prop_assert_eq!(impact.total(), expected.len() as u64);
        let customers: HashSet<Uuid> = expected.iter().filter_map(|(customer, _)| *customer).collect();
        prop_assert_eq!(impact.customers_affected, customers.len() as u64);
        let products: HashSet<Uuid> = expected.iter().map(|(_, change)| change.product_id).collect();
        prop_assert_eq!(impact.products_affected, products.len() as u64);
        let page: Vec<u64> = impact.page(page_from, 3).into_iter().map(|(position, _, _)| position).collect();
        let positions: Vec<u64> = (page_from..expected.len() as u64).take(3).collect();
        prop_assert_eq!(page, positions);
    }
}
