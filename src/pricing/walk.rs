//! The walk of docs/pricing.md#the-walk: a shopper's candidate lists at one instant
//! (steps 3 and 4), then for each product the first list with an
//! applicable price (step 5), the base price (step 6), or the lowest of
//! them (step 7), with every decision explained.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    BaseTier, Explanation, Link, ListMap, ListStatus, ListType, Offer, Outcome, PercentOff, Resolved, Shopper, Source,
    Strategy, Tier,
};

/// The product lines a shopper may order from; `None` is unrestricted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Access(Option<HashSet<Uuid>>);

impl Access {
    pub(super) fn of(shopper: &Shopper) -> Self {
        let listed: HashSet<Uuid> = shopper
            .groups
            .iter()
            .filter(|g| g.is_active)
            .flat_map(|g| g.product_lines.iter().copied())
            .collect();
        Self((!listed.is_empty()).then_some(listed))
    }

    pub(super) fn allows(&self, product_line: Option<Uuid>) -> bool {
        match (&self.0, product_line) {
            (None, _) | (_, None) => true,
            (Some(lines), Some(line)) => lines.contains(&line),
        }
    }
}

/// A shopper's candidate lists at one instant (docs/pricing.md#the-walk, steps 3 and 4), worked
/// out once and then used for every product of a request.
#[derive(Clone, Debug)]
pub struct Candidates<'a> {
    access: Access,
    /// Lists that take part, once each through the link with the smallest
    /// priority, in walking order.
    ordered: Vec<&'a Link>,
    /// Position in `ordered` of each list.
    position: ListMap<usize>,
    /// Positions in `ordered` of the `OVERRIDE` lists, in walking order.
    overrides: Vec<usize>,
    /// Positions of the derived lists, which price products they have no
    /// rows for, in walking order; and of their `OVERRIDE`s.
    derived: Vec<usize>,
    derived_overrides: Vec<usize>,
    /// Positions of the derived `SALE` lists, largest discount first (then
    /// walking order): on one base price, the first gives the lowest amount.
    derived_sales: Vec<usize>,
    /// Links that cannot take part, and why.
    refused: Vec<(&'a Link, Outcome)>,
}

impl<'a> Candidates<'a> {
    pub fn new(shopper: &'a Shopper, at: DateTime<Utc>) -> Self {
        let active: HashSet<Uuid> = shopper.groups.iter().filter(|g| g.is_active).map(|g| g.id).collect();
        let mut refused = Vec::new();
        let mut best: HashMap<Uuid, &'a Link> = HashMap::new();
        for link in &shopper.links {
            let outcome = if !active.contains(&link.group_id) {
                Some(Outcome::GroupInactive)
            } else if link.list.status == ListStatus::Draft {
                Some(Outcome::ListDraft)
            } else if link.list.starts_at.is_some_and(|start| at < start) {
                Some(Outcome::NotStarted)
            } else if link.list.ends_at.is_some_and(|end| at >= end) {
                Some(Outcome::Ended)
            } else {
                None
            };
            if let Some(outcome) = outcome {
                refused.push((link, outcome));
                continue;
            }
            // A list reached through several groups counts once, at its
            // smallest priority (then the smallest group id, to be stable).
            match best.get(&link.list.id) {
                Some(current) if rank_within_list(current) <= rank_within_list(link) => {
                    refused.push((link, Outcome::Outranked));
                }
                Some(current) => {
                    refused.push((*current, Outcome::Outranked));
                    best.insert(link.list.id, link);
                }
                None => {
                    best.insert(link.list.id, link);
                }
            }
        }
        let mut ordered: Vec<&'a Link> = best.into_values().collect();
        ordered.sort_by_key(|link| walking_order(link));
        // The links that cannot take part are explained in the walk's order
        // too, whatever order storage or a cache gave them in.
        refused.sort_by_key(|(link, _)| (walking_order(link), link.group_id));
        let position = ordered.iter().enumerate().map(|(i, link)| (link.list.id, i)).collect();
        let positions =
            |keep: &dyn Fn(&Link) -> bool| -> Vec<usize> { (0..ordered.len()).filter(|i| keep(ordered[*i])).collect() };
        let is_override = |link: &Link| link.list.list_type == ListType::Override;
        let overrides = positions(&is_override);
        let derived = positions(&|link| link.list.rule.is_some());
        let derived_overrides = positions(&|link| link.list.rule.is_some() && is_override(link));
        let mut derived_sales = positions(&|link| link.list.rule.is_some() && !is_override(link));
        derived_sales.sort_by_key(|i| (std::cmp::Reverse(ordered[*i].list.rule), *i));
        Self {
            access: Access::of(shopper),
            ordered,
            position,
            overrides,
            derived,
            derived_overrides,
            derived_sales,
            refused,
        }
    }

    /// Resolves one product in one currency (docs/pricing.md#the-walk), without the
    /// explanation. Costs one look-up per list that prices the product,
    /// however many candidates there are.
    pub fn price(&self, product_line: Option<Uuid>, offer: &Offer, quantity: i32, strategy: Strategy) -> Resolved {
        // 2. The base price.
        let base = base_tier(&offer.base, quantity);
        let mut resolved = Resolved {
            amount: None,
            base_price: base.map(|b| b.amount),
            source: Source::None,
            price_list_id: None,
            customer_group_id: None,
            priority: None,
            tier_min_quantity: None,
            rule: None,
            explanation: Vec::new(),
        };
        // 1. Not orderable: no amount.
        if !self.access.allows(product_line) {
            resolved.source = Source::NotOrderable;
            return resolved;
        }
        // 5, 7. The winning candidate, by strategy.
        match self.winner(offer, quantity, base, strategy) {
            Some((position, price)) => {
                let link = self.ordered[position];
                resolved.amount = Some(price.tier.amount);
                resolved.source = Source::PriceList;
                resolved.price_list_id = Some(link.list.id);
                resolved.customer_group_id = Some(link.group_id);
                resolved.priority = Some(link.priority);
                resolved.tier_min_quantity = Some(price.tier.min_quantity);
                resolved.rule = price.rule;
            }
            // 6. No list price: the base price, or nothing. Neither is an error.
            None => {
                if let Some(base) = base {
                    resolved.amount = Some(base.amount);
                    resolved.source = Source::Base;
                    resolved.tier_min_quantity = Some(base.min_quantity);
                }
            }
        }
        resolved
    }

    /// [`Self::price`] with the explanation: one entry per group and list considered.
    pub fn price_and_explain(
        &self,
        product_line: Option<Uuid>,
        offer: &Offer,
        quantity: i32,
        strategy: Strategy,
    ) -> Resolved {
        let mut resolved = self.price(product_line, offer, quantity, strategy);
        if resolved.source == Source::NotOrderable {
            return resolved;
        }
        let base = base_tier(&offer.base, quantity);
        let winner = resolved.price_list_id;
        let mut explanation: Vec<Explanation> = self
            .refused
            .iter()
            .map(|(link, outcome)| entry(link, *outcome, None))
            .collect();
        for link in &self.ordered {
            let (outcome, price) = match judge(link, offer, base, quantity) {
                Judged::NoPrice => (Outcome::NoPrice, None),
                Judged::SaleNotBelowBase(price) => (Outcome::SaleNotBelowBase, Some(price)),
                Judged::Applicable(price) if Some(link.list.id) == winner => (Outcome::Applied, Some(price)),
                Judged::Applicable(price) => (Outcome::Outranked, Some(price)),
            };
            explanation.push(entry(link, outcome, price));
        }
        resolved.explanation = explanation;
        resolved
    }

    /// The first of `positions` whose list has an applicable price.
    fn first_applicable(
        &self,
        mut positions: impl Iterator<Item = usize>,
        offer: &Offer,
        base: Option<BaseTier>,
        quantity: i32,
    ) -> Option<(usize, Price)> {
        positions.find_map(|position| match judge(self.ordered[position], offer, base, quantity) {
            Judged::Applicable(price) => Some((position, price)),
            _ => None,
        })
    }

    /// Every candidate with rows for the product whose price applies (its
    /// own row, or its rule when none of its rows matches the quantity).
    fn listed_applicable<'s>(
        &'s self,
        offer: &'s Offer,
        base: Option<BaseTier>,
        quantity: i32,
    ) -> impl Iterator<Item = (usize, Price)> + 's {
        offer.list_tiers.iter().filter_map(move |(list_id, tiers)| {
            let position = *self.position.get(list_id)?;
            match judge_tiers(self.ordered[position], tiers, base, quantity) {
                Judged::Applicable(price) => Some((position, price)),
                _ => None,
            }
        })
    }

    /// The first applicable derived list among `positions` (walking order).
    /// Derived lists price through the base price, so without one they
    /// have nothing to offer.
    fn first_derived(
        &self,
        positions: &[usize],
        offer: &Offer,
        base: Option<BaseTier>,
        quantity: i32,
    ) -> Option<(usize, Price)> {
        base?;
        self.first_applicable(positions.iter().copied(), offer, base, quantity)
    }

    /// Step 7 without overrides: the lowest applicable `SALE` price, ties to
    /// the earlier candidate.
    fn cheapest_sale(&self, offer: &Offer, base: Option<BaseTier>, quantity: i32) -> Option<(usize, Price)> {
        let mut cheapest = self.cheapest_derived_sale(offer, base);
        for (list_id, tiers) in offer.list_tiers.iter() {
            let Some(&position) = self.position.get(list_id) else {
                continue;
            };
            let link = self.ordered[position];
            if link.list.list_type != ListType::Sale {
                continue;
            }
            if let Judged::Applicable(price) = judge_tiers(link, tiers, base, quantity)
                && cheapest.is_none_or(|(best, p)| (price.tier.amount, position) < (p.tier.amount, best))
            {
                cheapest = Some((position, price));
            }
        }
        cheapest
    }

    /// The lowest price a derived sale without rows for the product gives
    /// (those with rows are judged with them), ties to the earlier list.
    /// `derived_sales` is ordered by discount, so the amounts only grow
    /// along it: the walk stops at the first that is higher, or not below
    /// the base price.
    fn cheapest_derived_sale(&self, offer: &Offer, base: Option<BaseTier>) -> Option<(usize, Price)> {
        let base = base?;
        let mut cheapest: Option<(usize, Price)> = None;
        for &position in &self.derived_sales {
            let link = self.ordered[position];
            if offer.list_tiers.get(&link.list.id).is_some() {
                continue;
            }
            let Some(price) = derived(link, Some(base)) else {
                continue;
            };
            if price.tier.amount >= base.amount {
                break;
            }
            match cheapest {
                Some((_, best)) if price.tier.amount > best.tier.amount => break,
                Some((earlier, _)) if earlier < position => {}
                _ => cheapest = Some((position, price)),
            }
        }
        cheapest
    }

    /// The candidate whose price applies: under `PRIORITY` the first
    /// applicable one (step 5); under `LOWEST_PRICE` the first applicable
    /// `OVERRIDE`, else the lowest applicable `SALE`, ties to the earlier
    /// candidate (step 7). An applicable sale is always below the base price,
    /// so it always beats the base.
    fn winner(
        &self,
        offer: &Offer,
        quantity: i32,
        base: Option<BaseTier>,
        strategy: Strategy,
    ) -> Option<(usize, Price)> {
        // Under PRIORITY the walk can stop at the first applicable candidate,
        // and under LOWEST_PRICE at the first override with a price; when
        // the product has prices in only a few lists, looking those up (and
        // the derived lists, which price everything) is quicker than walking
        // every candidate.
        let walked = match strategy {
            Strategy::Priority => self.ordered.len(),
            Strategy::LowestPrice => self.overrides.len(),
        };
        let by_walk = offer.list_tiers.len() * 8 >= walked;
        let earliest = |a: Option<(usize, Price)>, b: Option<(usize, Price)>| {
            a.into_iter().chain(b).min_by_key(|(position, _)| *position)
        };
        match strategy {
            Strategy::Priority if by_walk => self.first_applicable(0..self.ordered.len(), offer, base, quantity),
            Strategy::Priority => earliest(
                self.listed_applicable(offer, base, quantity)
                    .min_by_key(|(position, _)| *position),
                self.first_derived(&self.derived, offer, base, quantity),
            ),
            Strategy::LowestPrice => {
                let first_override = if by_walk {
                    self.first_applicable(self.overrides.iter().copied(), offer, base, quantity)
                } else {
                    earliest(
                        self.listed_applicable(offer, base, quantity)
                            .filter(|(position, _)| self.ordered[*position].list.list_type == ListType::Override)
                            .min_by_key(|(position, _)| *position),
                        self.first_derived(&self.derived_overrides, offer, base, quantity),
                    )
                };
                // No override has a price: the cheapest applicable sale.
                first_override.or_else(|| self.cheapest_sale(offer, base, quantity))
            }
        }
    }
}

/// Step 4: priority, then the list's creation time, then its id; a total
/// order, so the answer never depends on storage order.
fn walking_order(link: &Link) -> (i32, DateTime<Utc>, Uuid) {
    (link.priority, link.list.created_at, link.list.id)
}

fn rank_within_list(link: &Link) -> (i32, Uuid) {
    (link.priority, link.group_id)
}

fn entry(link: &Link, outcome: Outcome, price: Option<Price>) -> Explanation {
    Explanation {
        group_id: link.group_id,
        price_list_id: link.list.id,
        priority: link.priority,
        outcome,
        amount: price.map(|p| p.tier.amount),
        rule: price.and_then(|p| p.rule),
    }
}

/// Step 2: the base tier with the largest `minQuantity ≤ quantity`.
pub fn base_tier(tiers: &[BaseTier], quantity: i32) -> Option<BaseTier> {
    tiers
        .iter()
        .filter(|t| t.min_quantity <= quantity)
        .max_by_key(|t| t.min_quantity)
        .copied()
}

/// Step 5: the list tier with `minQuantity ≤ quantity ≤ maxQuantity` and the
/// largest `minQuantity`.
pub fn tier_for_quantity(tiers: &[Tier], quantity: i32) -> Option<Tier> {
    tiers
        .iter()
        .filter(|t| t.min_quantity <= quantity && t.max_quantity.is_none_or(|max| quantity <= max.get()))
        .max_by_key(|t| t.min_quantity)
        .copied()
}

/// A candidate's price for one product and quantity: a tier of its own,
/// or, for a derived list without one, what its rule makes of the base
/// price (docs/pricing.md#derived-lists).
#[derive(Clone, Copy, Debug)]
struct Price {
    tier: Tier,
    /// Set when the rule gave the amount.
    rule: Option<PercentOff>,
}

/// A candidate's price, judged against the base price.
#[derive(Clone, Copy, Debug)]
enum Judged {
    NoPrice,
    /// A sale that would not lower the price (a sale never raises one).
    SaleNotBelowBase(Price),
    Applicable(Price),
}

#[inline]
fn judge(link: &Link, offer: &Offer, base: Option<BaseTier>, quantity: i32) -> Judged {
    let tiers = offer
        .list_tiers
        .get(&link.list.id)
        .map_or(&[][..], |tiers| tiers.as_slice());
    judge_tiers(link, tiers, base, quantity)
}

/// Step 5: the list's own matching row wins over its rule; a sale applies
/// only below the base price.
#[inline]
fn judge_tiers(link: &Link, tiers: &[Tier], base: Option<BaseTier>, quantity: i32) -> Judged {
    let price = match tier_for_quantity(tiers, quantity) {
        Some(tier) => Price { tier, rule: None },
        None => match link.list.rule {
            None => return Judged::NoPrice,
            Some(_) => match derived(link, base) {
                Some(price) => price,
                None => return Judged::NoPrice,
            },
        },
    };
    match (link.list.list_type, base) {
        (ListType::Sale, Some(base)) if price.tier.amount >= base.amount => Judged::SaleNotBelowBase(price),
        _ => Judged::Applicable(price),
    }
}

/// A derived list's price from the base tier for the quantity: the base
/// less the rule's discount, from the base tier's first quantity on.
fn derived(link: &Link, base: Option<BaseTier>) -> Option<Price> {
    let (rule, base) = (link.list.rule?, base?);
    Some(Price {
        tier: Tier {
            min_quantity: base.min_quantity,
            max_quantity: None,
            amount: rule.apply(base.amount),
        },
        rule: Some(rule),
    })
}
