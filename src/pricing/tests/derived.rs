//! Derived lists (docs/pricing.md#derived-lists): the rule's arithmetic,
//! a list's own rows against its rule, and the walk's shortcuts against a
//! plain walk over every candidate on random worlds.

use proptest::prelude::{Strategy as Generate, prop, prop_assert_eq, proptest};

use super::*;

fn percent(hundredths: i64) -> PercentOff {
    PercentOff::from_hundredths(hundredths).unwrap_or_else(|| panic!("{hundredths} is a percentOff"))
}

fn derived_list(n: u128, list_type: ListType, hundredths: i64) -> ListInfo {
    ListInfo {
        rule: Some(percent(hundredths)),
        ..list(n, list_type)
    }
}

#[test]
fn the_rule_takes_its_percentage_off_rounding_half_to_even() {
    // (base in minor units, hundredths of a percent off, derived amount)
    let table: [(i64, i64, i64); 11] = [
        (1000, 2000, 800),
        (1999, 2000, 1599), // 15.992 → 15.99
        (1, 5000, 0),       // 0.5 → 0, the even neighbour
        (3, 5000, 2),       // 1.5 → 2
        (5, 5000, 2),       // 2.5 → 2
        (7, 5000, 4),       // 3.5 → 4
        (999, 3333, 666),   // 666.0333
        (1, 2000, 1),       // 0.8 → 1: not below a base of 1
        (0, 2000, 0),
        (12_345, 10_000, 0),
        (i64::MAX, 1, 9_222_449_699_651_090_329), // 0.01 % off the largest amount, exact
    ];
    for (base, hundredths, expected) in table {
        assert_eq!(percent(hundredths).apply(base), expected, "{hundredths} off {base}");
    }
}

#[test]
fn a_rule_reads_as_its_shortest_decimal() {
    for (hundredths, shown) in [
        (2000, "20"),
        (1250, "12.5"),
        (25, "0.25"),
        (1, "0.01"),
        (10_000, "100"),
        (1005, "10.05"),
    ] {
        assert_eq!(percent(hundredths).to_string(), shown);
    }
    for out_of_range in [0, -1, 10_001, i64::MAX] {
        assert_eq!(PercentOff::from_hundredths(out_of_range), None, "{out_of_range}");
    }
}

#[test]
fn a_lists_own_matching_row_wins_over_its_rule() {
    // A 20 %-off override list with its own price for quantities 1 to 9.
    let shopper = shopper(vec![link(GROUP, 0, derived_list(1, ListType::Override, 2000))]);
    let offer = offer(Some(1000), &[(1, tier(1, Some(9), 950))]);
    let table = [
        // Its own row matches: 9.50, no rule.
        (1, 950, None, 1),
        (9, 950, None, 1),
        // It does not: the rule, from the base tier's first quantity.
        (10, 800, Some(2000), 1),
    ];
    for (quantity, amount, rule, tier_min) in table {
        let resolved = Candidates::new(&shopper, now()).price_and_explain(None, &offer, quantity, Strategy::Priority);
        assert_eq!(resolved.amount, Some(amount), "quantity {quantity}");
        assert_eq!(resolved.rule.map(PercentOff::hundredths), rule.map(|r: i64| r as u16));
        assert_eq!(resolved.tier_min_quantity, Some(tier_min));
        assert_eq!(resolved.explanation[0].outcome, Outcome::Applied);
        assert_eq!(resolved.explanation[0].rule, resolved.rule);
    }
}

#[test]
fn a_derived_sale_applies_only_below_the_base_and_needs_one() {
    let links = vec![
        link(GROUP, 0, derived_list(1, ListType::Sale, 2000)),
        link(GROUP, 1, list(2, ListType::Override)),
    ];
    let shopper = shopper(links);
    let table = [
        // 20 % off 10.00: the sale applies.
        (Some(1000), Some(800), Some(id(1)), Outcome::Applied),
        // 20 % off 0.01 rounds back to 0.01: not below, the walk goes on.
        (Some(1), Some(700), Some(id(2)), Outcome::SaleNotBelowBase),
        // No base price: nothing to derive from.
        (None, Some(700), Some(id(2)), Outcome::NoPrice),
    ];
    for (base, amount, list, outcome) in table {
        let offer = offer(base, &[(2, tier(1, None, 700))]);
        let resolved = Candidates::new(&shopper, now()).price_and_explain(None, &offer, 1, Strategy::Priority);
        assert_eq!(
            (resolved.amount, resolved.price_list_id),
            (amount, list),
            "base {base:?}"
        );
        assert_eq!(resolved.explanation[0].outcome, outcome, "base {base:?}");
    }
}

/// Resolution by the letter of docs/pricing.md: judge every candidate in
/// walking order, then pick. No shortcut, no index.
fn plainly(shopper: &Shopper, offer: &Offer, quantity: i32, strategy: Strategy) -> Option<(Uuid, i64)> {
    let candidates = Candidates::new(shopper, now());
    let explained = candidates.price_and_explain(None, offer, quantity, Strategy::Priority);
    let base = base_tier(&offer.base, quantity).map(|b| b.amount);
    let list_type = |list: Uuid| {
        shopper
            .links
            .iter()
            .find(|l| l.list.id == list)
            .map(|l| l.list.list_type)
    };
    // Every candidate's price that applies, in walking order.
    let applicable: Vec<(Uuid, i64, ListType)> = explained
        .explanation
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Applied | Outcome::Outranked) && e.amount.is_some())
        .filter_map(|e| Some((e.price_list_id, e.amount?, list_type(e.price_list_id)?)))
        .collect();
    let winner = match strategy {
        Strategy::Priority => applicable.first().copied(),
        Strategy::LowestPrice => applicable
            .iter()
            .find(|(_, _, t)| *t == ListType::Override)
            .or_else(|| {
                applicable
                    .iter()
                    .filter(|(_, _, t)| *t == ListType::Sale)
                    .reduce(|best, next| if next.1 < best.1 { next } else { best })
            })
            .copied(),
    };
    winner
        .map(|(list, amount, _)| (list, amount))
        .or(base.map(|b| (Uuid::nil(), b)))
}

/// A world of up to 40 candidates on one group, some derived, few with
/// rows for the product, so the walk takes its shortcuts.
fn world() -> impl Generate<Value = (Shopper, Offer, i32)> {
    // Few distinct discounts, so equal derived amounts (ties) are common.
    let discount = prop::sample::select(vec![1i64, 500, 2000, 2500, 5000, 5001, 10_000]);
    let list = (
        prop::bool::weighted(0.3),
        prop::option::weighted(0.5, discount),
        0..4i32,
    );
    (
        prop::collection::vec(list, 1..40),
        prop::option::weighted(0.9, 0..2000i64),
        prop::collection::vec((0..40usize, 1..3i32, 0..2000i64), 0..4),
        1..4i32,
    )
        .prop_map(|(lists, base, rows, quantity)| {
            let links = lists
                .iter()
                .enumerate()
                .map(|(n, (is_override, rule, priority))| {
                    let list_type = if *is_override {
                        ListType::Override
                    } else {
                        ListType::Sale
                    };
                    let info = ListInfo {
                        rule: rule.map(percent),
                        ..super::list(n as u128 + 1, list_type)
                    };
                    link(GROUP, *priority, info)
                })
                .collect();
            let rows: Vec<(u128, Tier)> = rows
                .into_iter()
                .filter(|(n, _, _)| *n < lists.len())
                .map(|(n, min, amount)| (n as u128 + 1, tier(min, None, amount)))
                .collect();
            (shopper(links), offer(base, &rows), quantity)
        })
}

proptest! {
    #[test]
    fn the_walks_shortcuts_agree_with_a_plain_walk((shopper, offer, quantity) in world()) {
        for strategy in [Strategy::Priority, Strategy::LowestPrice] {
            let resolved = Candidates::new(&shopper, now()).price(None, &offer, quantity, strategy);
            let got = resolved.amount.map(|amount| (resolved.price_list_id.unwrap_or_default(), amount));
            prop_assert_eq!(got, plainly(&shopper, &offer, quantity, strategy), "{:?}", strategy);
        }
    }
}
