//! The price resolution core (SPEC §3 and §4): pure functions over data that
//! has already been loaded. No I/O, no async, no clock: `at` is an input.
//!
//! [`Shopper`] is what resolution needs to know about who is buying (their
//! effective groups, the lists linked to them, the product lines they may
//! order); [`Offer`] is what it needs to know about one product in one
//! currency (its line, base tiers and every candidate list's tiers).
//! [`resolve`] follows the numbered steps of §4 and explains every decision.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::values::{PriceListStatus, PriceListType};
use uuid::Uuid;

/// How a shopper came to be in a pricing group (SPEC §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Membership {
    /// The customer's own membership.
    Direct,
    /// Through the customer's organization, whose groups replace the customer's own.
    Organization,
    /// The built-in `Everyone` group: every shopper, implicitly.
    Everyone,
}

/// One of the shopper's effective pricing groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveGroup {
    pub id: Uuid,
    pub is_active: bool,
    pub via: Membership,
    /// The product lines this group lists; empty means it restricts nothing.
    pub product_lines: Vec<Uuid>,
}

/// A price list as resolution sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListInfo {
    pub id: Uuid,
    pub list_type: PriceListType,
    pub status: PriceListStatus,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A link from one of the shopper's groups to a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub group_id: Uuid,
    pub priority: i32,
    pub list: ListInfo,
}

/// Who is buying: everything about them that resolution reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shopper {
    /// The effective pricing groups, `Everyone` included, active or not.
    pub groups: Vec<EffectiveGroup>,
    /// Every link of those groups.
    pub links: Vec<Link>,
}

/// A quantity tier of a list price: from `min_quantity` to `max_quantity`
/// (inclusive; `None` is open-ended), in minor units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    pub min_quantity: i32,
    pub max_quantity: Option<i32>,
    pub amount: i64,
}

/// A quantity tier of a base price: from `min_quantity` up to the next tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseTier {
    pub min_quantity: i32,
    pub amount: i64,
}

/// One product in one currency: its line, its base tiers and, per list id,
/// that list's tiers for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offer {
    pub product_line: Option<Uuid>,
    pub base: Vec<BaseTier>,
    pub list_tiers: HashMap<Uuid, Vec<Tier>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The first candidate with an applicable price wins (§4 steps 4–6).
    #[default]
    Priority,
    /// An `OVERRIDE` price still wins; otherwise the lowest of the base price
    /// and every applicable `SALE` price (§4 step 7).
    LowestPrice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    PriceList,
    Base,
    None,
    NotOrderable,
}

/// What happened to one (group, list) pair during resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// This list's price is the answer.
    Applied,
    /// The group is inactive, so its lists do not count.
    GroupInactive,
    /// The list is a draft.
    ListDraft,
    /// `at` is before the list's `startsAt`.
    NotStarted,
    /// `at` is at or after the list's `endsAt`.
    Ended,
    /// The list has no tier for this product, currency and quantity.
    NoPrice,
    /// A `SALE` price that is not below the base price.
    SaleNotBelowBase,
    /// Another candidate won first, or this list also reached the shopper
    /// through a group with a better priority.
    Outranked,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub group_id: Uuid,
    pub price_list_id: Uuid,
    pub priority: i32,
    pub outcome: Outcome,
    /// The list's price for this quantity, when it has one.
    pub amount: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub amount: Option<i64>,
    pub base_price: Option<i64>,
    pub source: Source,
    pub price_list_id: Option<Uuid>,
    pub customer_group_id: Option<Uuid>,
    pub priority: Option<i32>,
    /// The first quantity of the tier that gave the amount.
    pub tier_min_quantity: Option<i32>,
    pub explanation: Vec<Explanation>,
}

/// What one resolution is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question {
    pub quantity: i32,
    pub at: DateTime<Utc>,
    pub strategy: Strategy,
}

impl Shopper {
    /// Product access (seed 003): unrestricted unless an active group lists
    /// product lines; then the union of those, plus products without a line.
    pub fn may_order(&self, product_line: Option<Uuid>) -> bool {
        let listed: HashSet<Uuid> = self
            .groups
            .iter()
            .filter(|g| g.is_active)
            .flat_map(|g| g.product_lines.iter().copied())
            .collect();
        listed.is_empty() || product_line.is_none_or(|line| listed.contains(&line))
    }

    /// Step 3 and 4: every list reachable through an active group, active
    /// and inside its window, once each at its smallest priority, in walking
    /// order. Pairs that cannot take part are explained on the way.
    fn candidate_lists(&self, at: DateTime<Utc>, explanation: &mut Vec<Explanation>) -> Vec<Candidate<'_>> {
        let active: HashSet<Uuid> = self.groups.iter().filter(|g| g.is_active).map(|g| g.id).collect();
        let mut best: BTreeMap<Uuid, Candidate<'_>> = BTreeMap::new();
        for link in &self.links {
            let refused = if !active.contains(&link.group_id) {
                Some(Outcome::GroupInactive)
            } else if link.list.status == PriceListStatus::Draft {
                Some(Outcome::ListDraft)
            } else if link.list.starts_at.is_some_and(|start| at < start) {
                Some(Outcome::NotStarted)
            } else if link.list.ends_at.is_some_and(|end| at >= end) {
                Some(Outcome::Ended)
            } else {
                None
            };
            if let Some(outcome) = refused {
                explanation.push(entry(link, outcome, None));
                continue;
            }
            let candidate = Candidate { link };
            match best.get(&link.list.id) {
                Some(current) if current.rank_within_list() <= candidate.rank_within_list() => {
                    explanation.push(entry(link, Outcome::Outranked, None));
                }
                Some(current) => {
                    explanation.push(entry(current.link, Outcome::Outranked, None));
                    best.insert(link.list.id, candidate);
                }
                None => {
                    best.insert(link.list.id, candidate);
                }
            }
        }
        let mut candidates: Vec<Candidate<'_>> = best.into_values().collect();
        candidates.sort_by_key(|c| c.walking_order());
        candidates
    }
}

/// A list that takes part, through the link with its smallest priority.
#[derive(Clone, Copy, Debug)]
struct Candidate<'a> {
    link: &'a Link,
}

impl Candidate<'_> {
    /// Which of several links to the same list counts: the smallest
    /// priority, then the smallest group id, so the choice is stable.
    fn rank_within_list(&self) -> (i32, Uuid) {
        (self.link.priority, self.link.group_id)
    }

    /// Step 4: priority, then the list's creation time, then its id; a total
    /// order, so the answer never depends on storage order.
    fn walking_order(&self) -> (i32, DateTime<Utc>, Uuid) {
        (self.link.priority, self.link.list.created_at, self.link.list.id)
    }
}

fn entry(link: &Link, outcome: Outcome, amount: Option<i64>) -> Explanation {
    Explanation {
        group_id: link.group_id,
        price_list_id: link.list.id,
        priority: link.priority,
        outcome,
        amount,
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
        .filter(|t| t.min_quantity <= quantity && t.max_quantity.is_none_or(|max| quantity <= max))
        .max_by_key(|t| t.min_quantity)
        .copied()
}

/// A candidate's price, judged against the base price.
#[derive(Clone, Copy, Debug)]
enum Judged {
    NoPrice,
    /// A sale that would not lower the price (a sale never raises one).
    SaleNotBelowBase(Tier),
    Applicable(Tier),
}

fn judge(candidate: &Candidate<'_>, offer: &Offer, base: Option<BaseTier>, quantity: i32) -> Judged {
    let tiers = offer
        .list_tiers
        .get(&candidate.link.list.id)
        .map_or(&[][..], Vec::as_slice);
    let Some(tier) = tier_for_quantity(tiers, quantity) else {
        return Judged::NoPrice;
    };
    match (candidate.link.list.list_type, base) {
        (PriceListType::Sale, Some(base)) if tier.amount >= base.amount => Judged::SaleNotBelowBase(tier),
        _ => Judged::Applicable(tier),
    }
}

/// Resolves one product in one currency for one shopper (SPEC §4).
pub fn resolve(shopper: &Shopper, offer: &Offer, question: Question) -> Resolved {
    let quantity = question.quantity;
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
        explanation: Vec::new(),
    };
    // 1. Not orderable: no amount.
    if !shopper.may_order(offer.product_line) {
        resolved.source = Source::NotOrderable;
        return resolved;
    }
    // 3, 4. The candidates, in walking order.
    let mut explanation = Vec::new();
    let candidates = shopper.candidate_lists(question.at, &mut explanation);
    let judged: Vec<Judged> = candidates.iter().map(|c| judge(c, offer, base, quantity)).collect();
    // 5, 7. The winner, by strategy.
    let winner = match question.strategy {
        Strategy::Priority => judged.iter().position(|j| matches!(j, Judged::Applicable(_))),
        Strategy::LowestPrice => lowest_price(&candidates, &judged, base),
    };
    for (index, (candidate, judged)) in candidates.iter().zip(&judged).enumerate() {
        let (outcome, amount) = match *judged {
            Judged::NoPrice => (Outcome::NoPrice, None),
            Judged::SaleNotBelowBase(tier) => (Outcome::SaleNotBelowBase, Some(tier.amount)),
            Judged::Applicable(tier) if Some(index) == winner => (Outcome::Applied, Some(tier.amount)),
            Judged::Applicable(tier) => (Outcome::Outranked, Some(tier.amount)),
        };
        explanation.push(entry(candidate.link, outcome, amount));
    }
    resolved.explanation = explanation;
    match winner.map(|index| (candidates[index], judged[index])) {
        Some((candidate, Judged::Applicable(tier))) => {
            resolved.amount = Some(tier.amount);
            resolved.source = Source::PriceList;
            resolved.price_list_id = Some(candidate.link.list.id);
            resolved.customer_group_id = Some(candidate.link.group_id);
            resolved.priority = Some(candidate.link.priority);
            resolved.tier_min_quantity = Some(tier.min_quantity);
        }
        // 6. No list price: the base price, or nothing. Neither is an error.
        _ => {
            if let Some(base) = base {
                resolved.amount = Some(base.amount);
                resolved.source = Source::Base;
                resolved.tier_min_quantity = Some(base.min_quantity);
            }
        }
    }
    resolved
}

/// Step 7: the first applicable `OVERRIDE` price wins outright; otherwise the
/// lowest applicable `SALE` price, if it is below the base price (it always
/// is: a sale that is not is not applicable). Ties go to the earlier candidate.
fn lowest_price(candidates: &[Candidate<'_>], judged: &[Judged], base: Option<BaseTier>) -> Option<usize> {
    let applicable = || {
        judged.iter().enumerate().filter_map(|(index, j)| match j {
            Judged::Applicable(tier) => Some((index, tier.amount)),
            _ => None,
        })
    };
    if let Some((index, _)) =
        applicable().find(|(index, _)| candidates[*index].link.list.list_type == PriceListType::Override)
    {
        return Some(index);
    }
    let (index, amount) = applicable().min_by_key(|(index, amount)| (*amount, *index))?;
    match base {
        Some(base) if base.amount <= amount => None,
        _ => Some(index),
    }
}
