//! Unit tests of the pricing rules (docs/pricing.md), one table per rule.
//! The property test against an independent model is in
//! `tests/api/pricing_model.rs`; these pin each rule on its own.

use std::num::NonZeroI32;

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use super::*;

mod derived;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

const GROUP: u128 = 100;
const OTHER_GROUP: u128 = 200;

fn group(n: u128, is_active: bool, lines: &[u128]) -> EffectiveGroup {
    EffectiveGroup {
        id: id(n),
        is_active,
        via: Membership::Direct,
        product_lines: lines.iter().copied().map(id).collect(),
    }
}

fn list(n: u128, list_type: ListType) -> ListInfo {
    ListInfo {
        id: id(n),
        list_type,
        status: ListStatus::Active,
        starts_at: None,
        ends_at: None,
        created_at: now() - Duration::days(30) + Duration::seconds(n as i64),
        rule: None,
    }
}

fn link(group: u128, priority: i32, list: ListInfo) -> Link {
    Link {
        group_id: id(group),
        priority,
        list,
    }
}

fn shopper(links: Vec<Link>) -> Shopper {
    Shopper {
        groups: vec![group(GROUP, true, &[]), group(OTHER_GROUP, true, &[])],
        links,
    }
}

fn tier(min: i32, max: Option<i32>, amount: i64) -> Tier {
    Tier {
        min_quantity: min,
        max_quantity: max.and_then(NonZeroI32::new),
        amount,
    }
}

/// An offer with a base price (when given) and each list's tiers.
fn offer(base: Option<i64>, lists: &[(u128, Tier)]) -> Offer {
    Offer {
        base: base
            .map(|amount| BaseTier {
                min_quantity: 1,
                amount,
            })
            .into_iter()
            .collect(),
        list_tiers: lists.iter().map(|(list, tier)| (id(*list), *tier)).collect(),
    }
}

fn resolve(shopper: &Shopper, offer: &Offer, strategy: Strategy) -> Resolved {
    Candidates::new(shopper, now()).price_and_explain(None, offer, 1, strategy)
}

#[test]
fn an_organization_with_an_active_group_replaces_the_customers_own_groups() {
    // (group, active) of the organization and of the customer → the
    // effective groups and how each was reached.
    type Groups = Vec<(u128, bool)>;
    type Effective = Vec<(u128, Membership)>;
    let active = |g: &(u128, bool)| g.1;
    let table: [(Groups, Groups, Effective); 4] = [
        // The organization's groups, then Everyone.
        (
            vec![(1, true)],
            vec![(2, true)],
            vec![(1, Membership::Organization), (0, Membership::Everyone)],
        ),
        // Only inactive organization groups: as if it had none.
        (
            vec![(1, false)],
            vec![(2, true)],
            vec![(2, Membership::Direct), (0, Membership::Everyone)],
        ),
        // One active among inactive ones: all of the organization's count.
        (
            vec![(1, false), (3, true)],
            vec![(2, true)],
            vec![
                (1, Membership::Organization),
                (3, Membership::Organization),
                (0, Membership::Everyone),
            ],
        ),
        // No organization groups: the customer's own.
        (
            vec![],
            vec![(2, false)],
            vec![(2, Membership::Direct), (0, Membership::Everyone)],
        ),
    ];
    for (organization, own, expected) in table {
        let groups = effective_groups(organization.clone(), own.clone(), Some((0, true)), active);
        let got: Vec<(u128, Membership)> = groups.into_iter().map(|((n, _), via)| (n, via)).collect();
        assert_eq!(got, expected, "organization {organization:?}, own {own:?}");
    }
}

#[test]
fn product_access_is_the_union_of_the_active_groups_lines() {
    let (chairs, desks, lamps) = (Some(id(1)), Some(id(2)), Some(id(3)));
    let table = [
        // No group lists lines: everything may be ordered.
        (vec![group(GROUP, true, &[])], vec![(chairs, true), (None, true)]),
        // Lines of active groups, and products without a line.
        (
            vec![group(GROUP, true, &[1]), group(OTHER_GROUP, true, &[2])],
            vec![(chairs, true), (desks, true), (lamps, false), (None, true)],
        ),
        // An inactive group's lines restrict nothing.
        (
            vec![group(GROUP, false, &[1]), group(OTHER_GROUP, true, &[])],
            vec![(chairs, true), (lamps, true)],
        ),
    ];
    for (groups, cases) in table {
        let shopper = Shopper { groups, links: vec![] };
        for (line, may) in cases {
            assert_eq!(shopper.may_order(line), may, "{line:?} for {:?}", shopper.groups);
        }
    }
    // A product the shopper may not order has no amount at all.
    let shopper = Shopper {
        groups: vec![group(GROUP, true, &[1])],
        links: vec![],
    };
    let resolved = Candidates::new(&shopper, now()).price(lamps, &offer(Some(1000), &[]), 1, Strategy::Priority);
    assert_eq!((resolved.source, resolved.amount), (Source::NotOrderable, None));
}

#[test]
fn lists_outside_their_window_drafts_and_inactive_groups_do_not_take_part() {
    let at = now();
    let window = |starts: Option<i64>, ends: Option<i64>| ListInfo {
        starts_at: starts.map(|h| at + Duration::hours(h)),
        ends_at: ends.map(|h| at + Duration::hours(h)),
        ..list(1, ListType::Override)
    };
    let table = [
        (window(None, None), true, Outcome::Applied),
        (window(Some(-1), Some(1)), true, Outcome::Applied),
        // startsAt is inclusive, endsAt exclusive.
        (window(Some(0), None), true, Outcome::Applied),
        (window(None, Some(0)), true, Outcome::Ended),
        (window(Some(1), None), true, Outcome::NotStarted),
        (window(None, Some(-1)), true, Outcome::Ended),
        (
            ListInfo {
                status: ListStatus::Draft,
                ..window(None, None)
            },
            true,
            Outcome::ListDraft,
        ),
        (window(None, None), false, Outcome::GroupInactive),
    ];
    for (list, group_active, outcome) in table {
        let shopper = Shopper {
            groups: vec![group(GROUP, group_active, &[])],
            links: vec![link(GROUP, 0, list.clone())],
        };
        let resolved = resolve(
            &shopper,
            &offer(Some(1000), &[(1, tier(1, None, 900))]),
            Strategy::Priority,
        );
        assert_eq!(resolved.explanation.len(), 1, "{list:?}");
        assert_eq!(resolved.explanation[0].outcome, outcome, "{list:?}");
        let expected = if outcome == Outcome::Applied { 900 } else { 1000 };
        assert_eq!(resolved.amount, Some(expected), "{list:?}");
    }
}

#[test]
fn candidates_are_walked_by_priority_then_creation_then_id() {
    let (early, late) = (list(1, ListType::Override), list(2, ListType::Override));
    let table = [
        // The lower priority wins, whatever the order of the links.
        (vec![link(GROUP, 5, early.clone()), link(GROUP, 1, late.clone())], 2),
        // Equal priorities: the list created first.
        (vec![link(GROUP, 1, late.clone()), link(GROUP, 1, early.clone())], 1),
        // A list reached through two groups counts once, at its best priority.
        (
            vec![
                link(GROUP, 9, early.clone()),
                link(OTHER_GROUP, 0, early.clone()),
                link(GROUP, 1, late.clone()),
            ],
            1,
        ),
    ];
    let prices = offer(Some(1000), &[(1, tier(1, None, 700)), (2, tier(1, None, 800))]);
    for (links, winner) in table {
        let resolved = resolve(&shopper(links.clone()), &prices, Strategy::Priority);
        assert_eq!(resolved.price_list_id, Some(id(winner)), "{links:?}");
        assert_eq!(resolved.source, Source::PriceList);
    }
    // The same list through a worse group is explained as outranked.
    let resolved = resolve(
        &shopper(vec![link(GROUP, 9, early.clone()), link(OTHER_GROUP, 0, early)]),
        &prices,
        Strategy::Priority,
    );
    assert_eq!(resolved.customer_group_id, Some(id(OTHER_GROUP)));
    assert_eq!(resolved.priority, Some(0));
    assert!(
        resolved
            .explanation
            .iter()
            .any(|e| e.group_id == id(GROUP) && e.outcome == Outcome::Outranked),
        "{:?}",
        resolved.explanation
    );
}

#[test]
fn a_sale_applies_only_below_the_base_price_and_an_override_always() {
    let sale = list(1, ListType::Sale);
    let fallback = list(2, ListType::Override);
    // (base, sale amount) → (amount, list, the sale's outcome)
    let table = [
        (Some(1000), 900, 900, Some(1), Outcome::Applied),
        (Some(1000), 1000, 1100, Some(2), Outcome::SaleNotBelowBase),
        (Some(1000), 1200, 1100, Some(2), Outcome::SaleNotBelowBase),
        // No base price: the sale applies.
        (None, 1200, 1200, Some(1), Outcome::Applied),
    ];
    for (base, sale_amount, amount, winner, outcome) in table {
        let shopper = shopper(vec![link(GROUP, 0, sale.clone()), link(GROUP, 1, fallback.clone())]);
        let prices = offer(base, &[(1, tier(1, None, sale_amount)), (2, tier(1, None, 1100))]);
        let resolved = resolve(&shopper, &prices, Strategy::Priority);
        assert_eq!(resolved.amount, Some(amount), "{base:?} {sale_amount}");
        assert_eq!(resolved.price_list_id, winner.map(id));
        assert_eq!(resolved.explanation[0].outcome, outcome);
    }
    // An override above the base price still applies: it overrides.
    let resolved = resolve(
        &shopper(vec![link(GROUP, 0, fallback)]),
        &offer(Some(1000), &[(2, tier(1, None, 1100))]),
        Strategy::Priority,
    );
    assert_eq!((resolved.amount, resolved.source), (Some(1100), Source::PriceList));
}

#[test]
fn without_a_list_price_the_base_price_applies_and_without_either_none() {
    let shopper = shopper(vec![link(GROUP, 0, list(1, ListType::Override))]);
    let table = [
        (offer(Some(1000), &[]), Some(1000), Source::Base, Outcome::NoPrice),
        (offer(None, &[]), None, Source::None, Outcome::NoPrice),
    ];
    for (prices, amount, source, outcome) in table {
        let resolved = resolve(&shopper, &prices, Strategy::Priority);
        assert_eq!((resolved.amount, resolved.source), (amount, source));
        assert_eq!(resolved.price_list_id, None);
        assert_eq!(resolved.explanation[0].outcome, outcome);
    }
}

#[test]
fn the_tier_is_the_largest_minimum_within_its_maximum() {
    let tiers = [
        tier(1, Some(9), 1000),
        tier(10, Some(99), 900),
        tier(50, None, 800),
        tier(200, None, 700),
    ];
    let table = [
        (1, Some(1)),
        (9, Some(1)),
        (10, Some(10)),
        (49, Some(10)),
        (50, Some(50)),
        (150, Some(50)),
        (500, Some(200)),
    ];
    for (quantity, min) in table {
        assert_eq!(
            tier_for_quantity(&tiers, quantity).map(|t| t.min_quantity),
            min,
            "{quantity}"
        );
    }
    // A gap between tiers has no price.
    let gapped = [tier(1, Some(4), 1000), tier(10, None, 900)];
    assert_eq!(tier_for_quantity(&gapped, 5), None);
    // Base tiers run up to the next one.
    let base = [
        BaseTier {
            min_quantity: 1,
            amount: 1000,
        },
        BaseTier {
            min_quantity: 10,
            amount: 950,
        },
    ];
    let table = [(1, Some(1000)), (9, Some(1000)), (10, Some(950)), (1000, Some(950))];
    for (quantity, amount) in table {
        assert_eq!(base_tier(&base, quantity).map(|t| t.amount), amount, "{quantity}");
    }
    assert_eq!(
        base_tier(
            &[BaseTier {
                min_quantity: 5,
                amount: 1
            }],
            4
        ),
        None
    );
}

#[test]
fn lowest_price_takes_an_override_first_else_the_lowest_sale_or_base() {
    let (sale_a, sale_b, over) = (
        list(1, ListType::Sale),
        list(2, ListType::Sale),
        list(3, ListType::Override),
    );
    // (links, list prices) → (amount, winning list)
    let table = [
        // The lowest of the sales, whatever their priority.
        (
            vec![link(GROUP, 0, sale_a.clone()), link(GROUP, 1, sale_b.clone())],
            vec![(1, 900), (2, 800)],
            800,
            Some(2),
        ),
        // A tie goes to the earlier candidate.
        (
            vec![link(GROUP, 0, sale_a.clone()), link(GROUP, 1, sale_b.clone())],
            vec![(1, 800), (2, 800)],
            800,
            Some(1),
        ),
        // A sale not below base does not count; the base is the lowest.
        (vec![link(GROUP, 0, sale_a.clone())], vec![(1, 1200)], 1000, None),
        // An override wins even above the sales and the base.
        (
            vec![link(GROUP, 0, sale_a.clone()), link(GROUP, 5, over.clone())],
            vec![(1, 700), (3, 1100)],
            1100,
            Some(3),
        ),
    ];
    for (links, amounts, amount, winner) in table {
        let tiers: Vec<(u128, Tier)> = amounts.iter().map(|(l, a)| (*l, tier(1, None, *a))).collect();
        let resolved = resolve(&shopper(links), &offer(Some(1000), &tiers), Strategy::LowestPrice);
        assert_eq!(resolved.amount, Some(amount), "{amounts:?}");
        assert_eq!(resolved.price_list_id, winner.map(id), "{amounts:?}");
    }
}

#[test]
fn price_and_price_and_explain_agree() {
    let shopper = shopper(vec![
        link(GROUP, 0, list(1, ListType::Sale)),
        link(OTHER_GROUP, 1, list(2, ListType::Override)),
    ]);
    let prices = offer(Some(1000), &[(1, tier(1, None, 1100)), (2, tier(5, None, 900))]);
    let candidates = Candidates::new(&shopper, now());
    for strategy in [Strategy::Priority, Strategy::LowestPrice] {
        for quantity in [1, 5, 50] {
            let plain = candidates.price(None, &prices, quantity, strategy);
            let explained = candidates.price_and_explain(None, &prices, quantity, strategy);
            assert_eq!(
                Resolved {
                    explanation: vec![],
                    ..explained
                },
                plain,
                "{strategy:?} at {quantity}"
            );
        }
    }
}

#[test]
fn an_explanation_does_not_depend_on_the_order_links_were_read_in() {
    let mut draft = list(3, ListType::Sale);
    draft.status = ListStatus::Draft;
    let mut ended = list(4, ListType::Sale);
    ended.ends_at = Some(now() - Duration::days(1));
    let links = vec![
        link(GROUP, 5, draft),
        link(OTHER_GROUP, 1, ended),
        link(GROUP, 2, list(1, ListType::Override)),
        link(OTHER_GROUP, 3, list(1, ListType::Override)),
        link(GROUP, 1, list(2, ListType::Sale)),
    ];
    let offer = offer(Some(100), &[(1, tier(1, None, 80)), (2, tier(1, None, 90))]);
    let explain = |links: Vec<Link>| {
        Candidates::new(&shopper(links), now()).price_and_explain(None, &offer, 1, Strategy::Priority)
    };
    let forwards = explain(links.clone());
    let mut reversed = links.clone();
    reversed.reverse();
    assert_eq!(explain(reversed), forwards);
    let mut rotated = links;
    rotated.rotate_left(2);
    assert_eq!(explain(rotated), forwards);
    let outcomes: Vec<(i32, Outcome)> = forwards.explanation.iter().map(|e| (e.priority, e.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (1, Outcome::Ended),
            (3, Outcome::Outranked),
            (5, Outcome::ListDraft),
            (1, Outcome::Applied),
            (2, Outcome::Outranked),
        ]
    );
}
