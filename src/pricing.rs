//! The price resolution core (docs/pricing.md): pure functions over data that
//! has already been loaded. No I/O, no async, no clock: `at` is an input.
//!
//! [`Shopper`] is what resolution needs to know about who is buying (their
//! effective groups, the lists linked to them, the product lines they may
//! order); [`Offer`] is what it needs to know about one product in one
//! currency (its base tiers and every list's tiers; the product's line is
//! passed beside it). [`Candidates`] works out a shopper's lists at one
//! instant once, then prices each product by the numbered steps of the walk
//! ([`Candidates::price`], or [`Candidates::price_and_explain`] with every
//! decision explained). The rules, with worked examples, are in
//! `docs/pricing.md`.

#[cfg(test)]
mod tests;
mod walk;

use walk::Access;
pub use walk::{Candidates, base_tier, tier_for_quantity};

use std::num::NonZeroI32;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// How a shopper came to be in a pricing group (docs/pricing.md#effective-groups).
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

/// How a list's price applies (docs/pricing.md#step-5-first-price): a sale only when it is
/// below the base price, an override always.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListType {
    Sale,
    Override,
}

/// Only active lists take part in resolution; a draft never applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListStatus {
    Active,
    Draft,
}

impl ListType {
    /// The code the API and storage use.
    pub fn code(self) -> &'static str {
        match self {
            Self::Sale => "SALE",
            Self::Override => "OVERRIDE",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Sale, Self::Override].into_iter().find(|t| t.code() == code)
    }
}

impl ListStatus {
    /// The code the API and storage use.
    pub fn code(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Draft => "DRAFT",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Active, Self::Draft].into_iter().find(|s| s.code() == code)
    }
}

/// A price list as resolution sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListInfo {
    pub id: Uuid,
    pub list_type: ListType,
    pub status: ListStatus,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// A derived list's rule (docs/pricing.md#derived-lists): it prices
    /// every product with a base price where it has no matching row.
    pub rule: Option<PercentOff>,
}

/// A derived list's discount off the base price, in hundredths of a
/// percent: `2000` is 20 %. Between 0.01 % and 100 % by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PercentOff(u16);

impl PercentOff {
    /// Hundredths of a percent in a whole percent.
    pub const SCALE: u16 = 100;

    /// `None` unless `0 < hundredths ≤ 10000`.
    pub fn from_hundredths(hundredths: i64) -> Option<Self> {
        u16::try_from(hundredths)
            .ok()
            .filter(|h| (1..=100 * Self::SCALE).contains(h))
            .map(Self)
    }

    pub fn hundredths(self) -> u16 {
        self.0
    }

    /// `amount × (100 − p) / 100` in the same minor units, rounded half to
    /// even (docs/pricing.md#derived-lists). Exact: the product of an `i64`
    /// and at most 10,000 fits an `i128`, and the result is never larger
    /// than `amount`.
    pub fn apply(self, amount: i64) -> i64 {
        const WHOLE: i128 = 10_000;
        let scaled = i128::from(amount) * (WHOLE - i128::from(self.0));
        let (quotient, remainder) = (scaled.div_euclid(WHOLE), scaled.rem_euclid(WHOLE));
        let rounded = match (2 * remainder).cmp(&WHOLE) {
            std::cmp::Ordering::Less => quotient,
            std::cmp::Ordering::Greater => quotient + 1,
            std::cmp::Ordering::Equal => quotient + (quotient & 1),
        };
        // Between 0 and `amount` (or `amount` and 0), so it fits.
        i64::try_from(rounded).unwrap_or(amount)
    }
}

impl std::fmt::Display for PercentOff {
    /// The shortest exact decimal: "20", "12.5", "0.25".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (whole, hundredths) = (self.0 / Self::SCALE, self.0 % Self::SCALE);
        match hundredths {
            0 => write!(f, "{whole}"),
            h if h % 10 == 0 => write!(f, "{whole}.{}", h / 10),
            h => write!(f, "{whole}.{h:02}"),
        }
    }
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
    /// `NonZeroI32` (a maximum is at least the minimum, so at least 1)
    /// keeps a tier at 16 bytes: resolution over many lists is bound by how
    /// many bytes of tiers it reads.
    pub max_quantity: Option<NonZeroI32>,
    pub amount: i64,
}

impl Tier {
    /// A tier as stored: a stored maximum is at least its minimum (a CHECK),
    /// so at least 1.
    pub fn stored(min_quantity: i32, max_quantity: Option<i32>, amount: i64) -> Self {
        Self {
            min_quantity,
            max_quantity: max_quantity.and_then(NonZeroI32::new),
            amount,
        }
    }
}

/// A quantity tier of a base price: from `min_quantity` up to the next tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseTier {
    pub min_quantity: i32,
    pub amount: i64,
}

/// Maps keyed by list id. Uuids are already random, so a fast non-keyed
/// hash is safe here and several times quicker than the default SipHash,
/// which matters at a million look-ups per request.
pub type ListMap<V> = FxHashMap<Uuid, V>;

/// A list's tiers for one product. Most lists have one or two, kept inline so
/// a walk over many lists does not chase a pointer per list.
pub type Tiers = SmallVec<[Tier; 2]>;

/// One product in one currency: its base tiers and, per list id, that
/// list's tiers for it. The same for every shopper, so it can be cached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offer {
    pub base: Vec<BaseTier>,
    pub list_tiers: ListTiers,
}

/// Each list's tiers for one product, by list id. (A sorted array was
/// tried: it reads fewer bytes when walking every list, but its binary
/// searches made the default strategy's few look-ups six times slower.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListTiers(ListMap<Tiers>);

impl ListTiers {
    pub fn get(&self, list_id: &Uuid) -> Option<&Tiers> {
        self.0.get(list_id)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Uuid, &Tiers)> {
        self.0.iter()
    }
}

impl FromIterator<(Uuid, Tier)> for ListTiers {
    /// Groups (list id, tier) pairs by list, in any order.
    fn from_iter<I: IntoIterator<Item = (Uuid, Tier)>>(pairs: I) -> Self {
        let mut by_list: ListMap<Tiers> = ListMap::default();
        for (list_id, tier) in pairs {
            by_list.entry(list_id).or_default().push(tier);
        }
        by_list.shrink_to_fit();
        Self(by_list)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The first candidate with an applicable price wins (docs/pricing.md#the-walk, steps 4–6).
    #[default]
    Priority,
    /// An `OVERRIDE` price still wins; otherwise the lowest of the base price
    /// and every applicable `SALE` price (docs/pricing.md#step-7-lowest-price).
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
    /// The rule that gave `amount`, when the list's own rows did not.
    pub rule: Option<PercentOff>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub amount: Option<i64>,
    pub base_price: Option<i64>,
    pub source: Source,
    pub price_list_id: Option<Uuid>,
    pub customer_group_id: Option<Uuid>,
    pub priority: Option<i32>,
    /// The first quantity of the tier that gave the amount (for a derived
    /// amount, the base price's tier it was derived from).
    pub tier_min_quantity: Option<i32>,
    /// The derived list's rule, when the amount came from it.
    pub rule: Option<PercentOff>,
    pub explanation: Vec<Explanation>,
}

/// Effective pricing groups (docs/pricing.md#effective-groups): the organization's groups
/// when it has an active one (inactive groups are absent everywhere, so an
/// organization with only inactive groups has none), else the customer's
/// own; then `Everyone`, whom every shopper belongs to. Only the direct
/// organization is ever passed in; parents never count.
pub fn effective_groups<G>(
    organization: Vec<G>,
    own: Vec<G>,
    everyone: Option<G>,
    is_active: impl Fn(&G) -> bool,
) -> Vec<(G, Membership)> {
    let mut groups: Vec<(G, Membership)> = if organization.iter().any(is_active) {
        organization
            .into_iter()
            .map(|g| (g, Membership::Organization))
            .collect()
    } else {
        own.into_iter().map(|g| (g, Membership::Direct)).collect()
    };
    groups.extend(everyone.map(|g| (g, Membership::Everyone)));
    groups
}

impl Shopper {
    /// Product access (docs/pricing.md#product-access): unrestricted unless an active group lists
    /// product lines; then the union of those, plus products without a line.
    pub fn may_order(&self, product_line: Option<Uuid>) -> bool {
        Access::of(self).allows(product_line)
    }
}
