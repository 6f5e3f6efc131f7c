//! The pure resolution core at storefront scale: 10,000 items for a customer
//! with 10 effective groups × 20 price lists each, over 1,000,000 list price
//! rows held in memory (docs/pricing.md#the-walk; the price-resolution issue's goal is at most
//! 1 µs per item). Run with `cargo bench --bench pricing`.

use std::num::NonZeroI32;

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pricegraph::pricing::{
    BaseTier, Candidates, EffectiveGroup, Link, ListInfo, ListStatus, ListTiers, ListType, Membership, Offer,
    PercentOff, Shopper, Strategy, Tier,
};
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

const GROUPS: usize = 10;
const LISTS_PER_GROUP: usize = 20;
const ITEMS: usize = 10_000;
/// Lists that price each product, two tiers each: 10,000 × 50 × 2 = 1,000,000 rows.
const LISTS_PER_PRODUCT: usize = 50;

/// `with_overrides`: every third list is an `OVERRIDE`; else all are sales,
/// so `LOWEST_PRICE` has to compare every list that prices a product.
/// `half_derived`: every other list also has a rule of 1 to 40 % off, so
/// it prices every product (docs/pricing.md#derived-lists).
fn world(rng: &mut StdRng, with_overrides: bool, half_derived: bool) -> (Shopper, Vec<Offer>) {
    let created = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid date");
    let mut groups = Vec::new();
    let mut links = Vec::new();
    for g in 0..GROUPS {
        let group_id = Uuid::from_u128(g as u128 + 1);
        groups.push(EffectiveGroup {
            id: group_id,
            is_active: g != 3,
            via: Membership::Direct,
            product_lines: vec![],
        });
        for l in 0..LISTS_PER_GROUP {
            let n = (g * LISTS_PER_GROUP + l) as u128;
            links.push(Link {
                group_id,
                priority: rng.random_range(0..30),
                list: ListInfo {
                    id: Uuid::from_u128(1_000 + n),
                    list_type: if with_overrides && n.is_multiple_of(3) {
                        ListType::Override
                    } else {
                        ListType::Sale
                    },
                    status: if n.is_multiple_of(17) {
                        ListStatus::Draft
                    } else {
                        ListStatus::Active
                    },
                    starts_at: None,
                    ends_at: None,
                    created_at: created + chrono::Duration::seconds(n as i64),
                    rule: (half_derived && n.is_multiple_of(2))
                        .then(|| PercentOff::from_hundredths(rng.random_range(100..=4_000)))
                        .flatten(),
                },
            });
        }
    }
    let list_ids: Vec<Uuid> = links.iter().map(|l| l.list.id).collect();
    let offers = (0..ITEMS)
        .map(|_| {
            let base = 10_000 + rng.random_range(0..5_000);
            let list_tiers: ListTiers = sample(rng, list_ids.len(), LISTS_PER_PRODUCT)
                .into_iter()
                .flat_map(|i| {
                    let amount = rng.random_range(8_000..16_000);
                    let tiers = [
                        Tier {
                            min_quantity: 1,
                            max_quantity: NonZeroI32::new(9),
                            amount,
                        },
                        Tier {
                            min_quantity: 10,
                            max_quantity: None,
                            amount: amount - 500,
                        },
                    ];
                    tiers.map(|tier| (list_ids[i], tier))
                })
                .collect();
            Offer {
                base: vec![
                    BaseTier {
                        min_quantity: 1,
                        amount: base,
                    },
                    BaseTier {
                        min_quantity: 10,
                        amount: base - 300,
                    },
                ],
                list_tiers,
            }
        })
        .collect();
    (Shopper { groups, links }, offers)
}

fn resolve_batch(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    let (shopper, offers) = world(&mut rng, true, false);
    let quantities: Vec<i32> = (0..ITEMS).map(|i| 1 + (i % 20) as i32).collect();
    let at = Utc
        .with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
        .single()
        .expect("a valid date");

    let mut group = c.benchmark_group("resolve 10,000 items");
    group.throughput(Throughput::Elements(ITEMS as u64));
    for (name, strategy) in [
        ("priority", Strategy::Priority),
        ("lowest price", Strategy::LowestPrice),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let candidates = Candidates::new(&shopper, at);
                for (offer, quantity) in offers.iter().zip(&quantities) {
                    black_box(candidates.price(None, offer, *quantity, strategy));
                }
            })
        });
    }
    let (sale_shopper, sale_offers) = world(&mut StdRng::seed_from_u64(7), false, false);
    group.bench_function("lowest price, sales only", |b| {
        b.iter(|| {
            let candidates = Candidates::new(&sale_shopper, at);
            for (offer, quantity) in sale_offers.iter().zip(&quantities) {
                black_box(candidates.price(None, offer, *quantity, Strategy::LowestPrice));
            }
        })
    });
    group.bench_function("priority, explained", |b| {
        b.iter(|| {
            let candidates = Candidates::new(&shopper, at);
            for (offer, quantity) in offers.iter().zip(&quantities) {
                black_box(candidates.price_and_explain(None, offer, *quantity, Strategy::Priority));
            }
        })
    });
    // Half the lists derived: they price every product, so the walk's
    // shortcuts have to take them into account without walking them all.
    let (derived_shopper, derived_offers) = world(&mut StdRng::seed_from_u64(7), true, true);
    let (derived_sales, derived_sale_offers) = world(&mut StdRng::seed_from_u64(7), false, true);
    for (name, shopper, offers, strategy) in [
        (
            "priority, half derived",
            &derived_shopper,
            &derived_offers,
            Strategy::Priority,
        ),
        (
            "lowest price, half derived",
            &derived_shopper,
            &derived_offers,
            Strategy::LowestPrice,
        ),
        (
            "lowest price, sales only, half derived",
            &derived_sales,
            &derived_sale_offers,
            Strategy::LowestPrice,
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let candidates = Candidates::new(shopper, at);
                for (offer, quantity) in offers.iter().zip(&quantities) {
                    black_box(candidates.price(None, offer, *quantity, strategy));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, resolve_batch);
criterion_main!(benches);
