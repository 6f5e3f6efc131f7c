//! The impact preview (docs/api.md#impact-preview): a mutation run with
//! `dryRun` is rehearsed — its write rolled back instead of committed — and
//! every shopper's price, now and at quantity 1, is compared in the world it
//! would leave and the world as it is.
//!
//! Shoppers with the same effective groups pay the same prices: they are
//! one *kind* of shopper, a distinct pair of (groups before, groups after).
//! For one product, kinds that share the groups whose lists can price it pay
//! alike too, so the walk runs once per such class (see `classes`), and
//! only over the products the change can reach: what its write names
//! (prices, lists, groups, customers), widened to every product when a
//! derived list or a product-line restriction is involved. The changes are
//! kept per product and class, so a change to every price of every shopper
//! stays small.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;

use chrono::{DateTime, Utc};
use migration::EVERYONE_GROUP_ID;
use rustc_hash::FxHashMap;
use uuid::Uuid;

use crate::cache::Invalidation;
use crate::error::{ServiceError, ServiceResult, UserError, UserErrorCode};
use crate::money::CurrencyCode;
use crate::pricing::{Candidates, EffectiveGroup, Link, Membership, Offer, Shopper, Strategy, effective_groups};
use crate::store::world::{GroupFacts, World};
use crate::store::{Store, rehearse, world};

mod classes;

use classes::{KindId, Pair, Prices, Split, differs};

/// Most walks (a class of shoppers × a product, before and after) one
/// preview makes: a change that reaches more is refused rather than left
/// to run for minutes.
pub const MAX_COMPARISONS: u64 = 10_000_000;

/// Most (kind of shopper × product) pairs whose class one preview works
/// out: each is a few look-ups, not a walk.
pub const MAX_PAIRS: u64 = 300_000_000;

/// Comparisons between two yields to the runtime.
const COMPARISONS_PER_TURN: u64 = 20_000;

/// One price that would change: `None` is no amount (no price, or not orderable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceChange {
    pub product_id: Uuid,
    pub currency: CurrencyCode,
    pub before: Option<i64>,
    pub after: Option<i64>,
}

/// What a change would do to prices: shoppers in the order anonymous
/// first, then customers by id, each with its changes by product and
/// currency. Kept as one answer per class of shopper and product (see
/// `classes`), so a change that moves every price of every shopper stays
/// small; a page is worked out when asked for.
#[derive(Debug, Default)]
pub struct Impact {
    /// (customer, or `None` for an anonymous shopper; its kind), for the
    /// shoppers with at least one change.
    affected: Vec<(Option<Uuid>, KindId)>,
    /// How many changes come before each entry of `affected`.
    offsets: Vec<u64>,
    total: u64,
    /// The (product, currency) pairs compared, in order.
    products: Vec<(Uuid, CurrencyCode)>,
    split: Split,
    prices: Prices,
    pub customers_affected: u64,
    pub products_affected: u64,
}

impl Impact {
    /// How many (shopper, product, currency) changes there are in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Up to `size` changes from position `from`, each with its position.
    pub fn page(&self, from: u64, size: usize) -> Vec<(u64, Option<Uuid>, PriceChange)> {
        let mut page = Vec::with_capacity(size.min(1024));
        let start = self.offsets.partition_point(|offset| *offset <= from).saturating_sub(1);
        let mut key = Vec::new();
        for (n, (customer, kind)) in self.affected.iter().enumerate().skip(start) {
            let mut position = self.offsets[n];
            for (index, &(product_id, currency)) in self.products.iter().enumerate() {
                let index = index as u32;
                let pair = if self.split.is_base(*kind, index) {
                    self.prices.base(index, self.split.base[*kind as usize])
                } else {
                    self.split.key(*kind, index, &mut key);
                    self.prices.class(index, &key).unwrap_or_default()
                };
                if !differs(pair) {
                    continue;
                }
                if position >= from {
                    if page.len() == size {
                        return page;
                    }
                    let (before, after) = pair;
                    let change = PriceChange {
                        product_id,
                        currency,
                        before,
                        after,
                    };
                    page.push((position, *customer, change));
                }
                position += 1;
            }
        }
        page
    }
}

/// Runs `work` (a service call that writes) without writing, and says what
/// it would change. User errors come back as they would have; then there is
/// no impact.
pub async fn preview<T>(store: &Store, work: impl Future<Output = ServiceResult<T>>) -> ServiceResult<(T, Impact)> {
    let (output, rehearsal) = rehearse(work).await;
    let output = output?;
    let Some(rehearsal) = rehearsal else {
        return Ok((output, Impact::default()));
    };
    let Some(after) = rehearsal.after else {
        return Ok((output, Impact::default()));
    };
    let started = std::time::Instant::now();
    let before = world::read(store.conn()).await?;
    let read = started.elapsed();
    let impact = compare(&before, &after, &rehearsal.changes, Utc::now()).await?;
    tracing::debug!(?read, compared = ?(started.elapsed() - read), "impact preview");
    Ok((output, impact))
}

/// The (product, currency) pairs a preview compares; `None` is every one.
/// Comparing more than a change reaches gives the same answer, only slower.
struct Scope(Option<BTreeSet<(Uuid, CurrencyCode)>>);

impl Scope {
    fn widen(&mut self, products: Option<BTreeSet<(Uuid, CurrencyCode)>>) {
        match (&mut self.0, products) {
            (Some(scope), Some(products)) => scope.extend(products),
            _ => self.0 = None,
        }
    }
}

/// Both worlds, with what reaching into them needs.
struct Worlds<'w> {
    before: &'w World,
    after: &'w World,
    /// The (product, currency) pairs each list has prices for, in either world.
    rows: HashMap<Uuid, BTreeSet<(Uuid, CurrencyCode)>>,
    /// The groups linking each list, in either world.
    linking: HashMap<Uuid, Vec<Uuid>>,
}

impl<'w> Worlds<'w> {
    fn new(before: &'w World, after: &'w World) -> Self {
        let mut rows: HashMap<Uuid, BTreeSet<(Uuid, CurrencyCode)>> = HashMap::new();
        let mut linking: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for world in [before, after] {
            for (key, offer) in &world.offers {
                for (list, _) in offer.list_tiers.iter() {
                    rows.entry(*list).or_default().insert(*key);
                }
            }
            for (group, facts) in &world.groups {
                for (list, _) in &facts.links {
                    linking.entry(*list).or_default().push(*group);
                }
            }
        }
        Self {
            before,
            after,
            rows,
            linking,
        }
    }

    fn both(&self) -> [&'w World; 2] {
        [self.before, self.after]
    }

    fn is_derived(&self, list: Uuid) -> bool {
        self.both()
            .iter()
            .any(|w| w.lists.get(&list).is_some_and(|l| l.rule.is_some()))
    }

    /// The products a list prices, in either world; `None` (all) when it is
    /// derived in either.
    fn list_products(&self, list: Uuid) -> Option<BTreeSet<(Uuid, CurrencyCode)>> {
        (!self.is_derived(list)).then(|| self.rows.get(&list).cloned().unwrap_or_default())
    }

    /// The products a group's lists price, in either world; `None` (all)
    /// when one is derived or the group restricts product lines.
    fn group_products(&self, groups: &HashSet<Uuid>) -> Option<BTreeSet<(Uuid, CurrencyCode)>> {
        let mut products = BTreeSet::new();
        for world in self.both() {
            for facts in groups.iter().filter_map(|g| world.groups.get(g)) {
                if !facts.product_lines.is_empty() {
                    return None;
                }
                for (list, _) in &facts.links {
                    products.extend(self.list_products(*list)?);
                }
            }
        }
        Some(products)
    }

    /// Whether a list's prices differ between the worlds (a deleted list's
    /// rows go with it, though no price write names them).
    fn rows_differ(&self, list: Uuid) -> bool {
        self.before.lists.contains_key(&list) != self.after.lists.contains_key(&list)
    }

    /// What a change to one group reaches: by what changed about it. Only
    /// links that were added, removed or moved reach their lists' products
    /// (linking a list to `Everyone` reaches that list's products, not those
    /// of every storewide list); a change of activity reaches all its lists';
    /// a change of product lines, every product.
    fn group_reach(&self, group: Uuid, scope: &mut Scope) {
        let empty = GroupFacts::default();
        let before = self.before.groups.get(&group).unwrap_or(&empty);
        let after = self.after.groups.get(&group).unwrap_or(&empty);
        if before.product_lines != after.product_lines {
            return scope.widen(None);
        }
        let changed: HashSet<(Uuid, i32)> = if before.is_active != after.is_active {
            before.links.iter().chain(&after.links).copied().collect()
        } else {
            let (was, is): (HashSet<_>, HashSet<_>) = (
                before.links.iter().copied().collect(),
                after.links.iter().copied().collect(),
            );
            was.symmetric_difference(&is).copied().collect()
        };
        for (list, _) in changed {
            scope.widen(self.list_products(list));
        }
    }

    fn reach(&self, change: &Invalidation, scope: &mut Scope) {
        match change {
            Invalidation::Offers(keys) => scope.widen(Some(
                keys.iter()
                    .filter_map(|(product, code)| Some((*product, CurrencyCode::parse(code).ok()?)))
                    .collect(),
            )),
            // A list whose pricing is the same in both worlds (a rename)
            // reaches nobody.
            Invalidation::Lists(ids) => {
                for list in ids {
                    if self.before.lists.get(list) != self.after.lists.get(list) || self.rows_differ(*list) {
                        scope.widen(self.list_products(*list));
                    }
                }
            }
            Invalidation::Groups(ids) => {
                for group in ids {
                    self.group_reach(*group, scope);
                }
            }
            // A customer's or an organization's groups: the shoppers whose
            // groups differ between the worlds, handled per kind.
            Invalidation::Customers(_) | Invalidation::Organizations(_) => {}
            Invalidation::Catalog | Invalidation::Everything => scope.widen(None),
        }
    }

    /// The groups whose lists can price any product: those linking a
    /// derived list, and those restricting product lines (access).
    fn always_relevant(&self) -> HashSet<Uuid> {
        let mut groups = HashSet::new();
        for world in self.both() {
            for (group, facts) in &world.groups {
                if !facts.product_lines.is_empty() || facts.links.iter().any(|(list, _)| self.is_derived(*list)) {
                    groups.insert(*group);
                }
            }
        }
        groups
    }

    /// The groups linking a list with rows for a product, in either world.
    fn groups_pricing(&self, product: (Uuid, CurrencyCode)) -> impl Iterator<Item = Uuid> + '_ {
        let lists = self.both().into_iter().filter_map(move |w| w.offers.get(&product));
        lists
            .flat_map(|offer| offer.list_tiers.iter().map(|(list, _)| *list))
            .flat_map(|list| self.linking.get(&list).into_iter().flatten().copied())
    }
}

/// A shopper's effective groups in a world (docs/pricing.md#effective-groups),
/// sorted: shoppers with equal lists pay equal prices.
fn groups_of(world: &World, customer: Option<(Uuid, Option<Uuid>)>) -> Vec<Uuid> {
    let known = |ids: Option<&Vec<Uuid>>| -> Vec<Uuid> {
        ids.into_iter()
            .flatten()
            .filter(|id| world.groups.contains_key(id))
            .copied()
            .collect()
    };
    let (organization, own) = match customer {
        Some((id, organization)) => (
            known(organization.and_then(|o| world.organizations.get(&o))),
            known(world.memberships.get(&id)),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let everyone = world
        .groups
        .contains_key(&EVERYONE_GROUP_ID)
        .then_some(EVERYONE_GROUP_ID);
    let is_active = |id: &Uuid| world.groups.get(id).is_some_and(|g| g.is_active);
    let mut groups: Vec<Uuid> = effective_groups(organization, own, everyone, is_active)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    groups
}

/// The shopper resolution sees for a list of effective groups.
fn shopper(world: &World, groups: &[Uuid]) -> Shopper {
    let mut shopper = Shopper::default();
    for id in groups {
        let Some(facts) = world.groups.get(id) else { continue };
        shopper.groups.push(EffectiveGroup {
            id: *id,
            is_active: facts.is_active,
            via: Membership::Direct,
            product_lines: facts.product_lines.clone(),
        });
        for (list, priority) in &facts.links {
            if let Some(info) = world.lists.get(list) {
                shopper.links.push(Link {
                    group_id: *id,
                    priority: *priority,
                    list: info.clone(),
                });
            }
        }
    }
    shopper
}

/// One kind of shopper: the effective groups before and after.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Kind {
    before: Vec<Uuid>,
    after: Vec<Uuid>,
}

impl classes::Groups for Kind {
    fn before(&self) -> &[Uuid] {
        &self.before
    }
    fn after(&self) -> &[Uuid] {
        &self.after
    }
}

/// Every shopper's kind: the anonymous one first, then the customers by id.
fn kinds_of_shoppers(before: &World, after: &World) -> (Vec<Kind>, Vec<(Option<Uuid>, KindId)>) {
    let mut kinds: Vec<Kind> = Vec::new();
    let mut kind_index: HashMap<Kind, KindId> = HashMap::new();
    let mut shoppers = Vec::with_capacity(before.customers.len() + 1);
    let after_customers: HashMap<Uuid, Option<Uuid>> = after.customers.iter().copied().collect();
    let anonymous = Kind {
        before: groups_of(before, None),
        after: groups_of(after, None),
    };
    let customer_kinds = before.customers.iter().filter_map(|(id, organization)| {
        let after_organization = after_customers.get(id)?;
        Some((
            Some(*id),
            Kind {
                before: groups_of(before, Some((*id, *organization))),
                after: groups_of(after, Some((*id, *after_organization))),
            },
        ))
    });
    for (customer, kind) in std::iter::once((None, anonymous)).chain(customer_kinds) {
        let next = kinds.len() as KindId;
        let index = *kind_index.entry(kind.clone()).or_insert(next);
        if index == next {
            kinds.push(kind);
        }
        shoppers.push((customer, index));
    }
    (kinds, shoppers)
}

/// A shopper's price for a product in a world, at quantity 1.
fn price_in(world: &World, walk: &Candidates<'_>, (product, currency): (Uuid, CurrencyCode)) -> Option<i64> {
    let line = world.products.get(&product)?;
    let empty = Offer::default();
    let offer = world.offers.get(&(product, currency)).unwrap_or(&empty);
    walk.price(*line, offer, 1, Strategy::Priority).amount
}

/// Compares every kind of shopper's prices over what the change reaches,
/// walking once per class of kinds that pay alike for a product.
async fn compare(before: &World, after: &World, changes: &[Invalidation], at: DateTime<Utc>) -> ServiceResult<Impact> {
    let worlds = Worlds::new(before, after);
    let (kinds, shoppers) = kinds_of_shoppers(before, after);

    // What to compare: what the write reaches, and what the groups of the
    // shoppers who move between groups price.
    let mut scope = Scope(Some(BTreeSet::new()));
    for change in changes {
        worlds.reach(change, &mut scope);
    }
    for kind in kinds.iter().filter(|kind| kind.before != kind.after) {
        let moved: HashSet<Uuid> = kind
            .before
            .iter()
            .chain(&kind.after)
            .filter(|g| !(kind.before.contains(g) && kind.after.contains(g)))
            .copied()
            .collect();
        scope.widen(worlds.group_products(&moved));
    }
    let products: Vec<(Uuid, CurrencyCode)> = match scope.0 {
        Some(products) => products.into_iter().collect(),
        None => {
            let every: BTreeSet<_> = before.offers.keys().chain(after.offers.keys()).copied().collect();
            every.into_iter().collect()
        }
    };

    // How kinds split, and what that costs.
    let split = Split::new(&kinds, &worlds.always_relevant(), products.len(), |p| {
        worlds.groups_pricing(products[p])
    });
    let bases = split.bases();
    let mut walks = products.len() as u64 * bases as u64;
    let pairs = split.visits();
    if walks > MAX_COMPARISONS || pairs > MAX_PAIRS {
        return Err(too_many(walks, pairs));
    }

    // Each base class's prices, product by product.
    let mut done: u64 = 0;
    let base_shoppers: Vec<(Shopper, Shopper)> = split
        .base_groups
        .iter()
        .map(|(was, is)| (shopper(before, was), shopper(after, is)))
        .collect();
    let base_walks: Vec<(Candidates<'_>, Candidates<'_>)> = base_shoppers
        .iter()
        .map(|(was, is)| (Candidates::new(was, at), Candidates::new(is, at)))
        .collect();
    let mut base = Vec::with_capacity(products.len() * bases);
    for product in &products {
        for (was, is) in &base_walks {
            base.push((price_in(before, was, *product), price_in(after, is, *product)));
            done += 1;
            if done.is_multiple_of(COMPARISONS_PER_TURN) {
                tokio::task::yield_now().await;
            }
        }
    }
    drop(base_walks);
    let mut prices = Prices::new(bases, base);

    // Product by product, the kinds in its pricing groups: each finds its
    // class (one walk per class, by a shopper with just the groups that
    // make it), and counts against its base class.
    let mut adjust = vec![0i64; kinds.len()];
    let mut in_base_elsewhere = vec![0u32; products.len() * bases];
    let mut affected = vec![false; products.len()];
    let mut seen = vec![u32::MAX; kinds.len()];
    let mut key = Vec::new();
    let mut found: FxHashMap<Box<[u32]>, Pair> = FxHashMap::default();
    for (index, product) in products.iter().enumerate() {
        let index = index as u32;
        found.clear();
        for group in split.pricing(index) {
            for &kind in &split.kinds_of[*group as usize] {
                if std::mem::replace(&mut seen[kind as usize], index) == index {
                    continue;
                }
                split.key(kind, index, &mut key);
                let pair = match found.get(key.as_slice()) {
                    Some(pair) => *pair,
                    None => {
                        walks += 1;
                        if walks > MAX_COMPARISONS {
                            return Err(too_many(walks, pairs));
                        }
                        let (was, is) = split.groups_of_class(&key);
                        let (was, is) = (shopper(before, &was), shopper(after, &is));
                        let pair = (
                            price_in(before, &Candidates::new(&was, at), *product),
                            price_in(after, &Candidates::new(&is, at), *product),
                        );
                        found.insert(key.as_slice().into(), pair);
                        pair
                    }
                };
                let base_class = split.base[kind as usize];
                let base_pair = prices.base(index, base_class);
                adjust[kind as usize] += i64::from(differs(pair)) - i64::from(differs(base_pair));
                in_base_elsewhere[index as usize * bases + base_class as usize] += 1;
                affected[index as usize] |= differs(pair);
                done += 1;
                if done.is_multiple_of(COMPARISONS_PER_TURN) {
                    tokio::task::yield_now().await;
                }
            }
        }
        prices.push(found.drain().collect());
    }

    // How many changes each kind has: its base class's, corrected for the
    // products where its own groups made it a class of its own.
    let mut base_totals = vec![0u64; bases];
    for (index, affected) in affected.iter_mut().enumerate() {
        for (class, total) in base_totals.iter_mut().enumerate() {
            let at = index * bases + class;
            if differs(prices.base(index as u32, class as u32)) {
                *total += 1;
                // Some kind of the class is in it for this product.
                *affected |= in_base_elsewhere[at] < split.base_size[class];
            }
        }
    }
    let mut impact = Impact {
        products_affected: products
            .iter()
            .zip(&affected)
            .filter(|(_, affected)| **affected)
            .map(|((product, _), _)| *product)
            .collect::<HashSet<Uuid>>()
            .len() as u64,
        ..Impact::default()
    };
    for (customer, kind) in shoppers {
        let count = base_totals[split.base[kind as usize] as usize] as i64 + adjust[kind as usize];
        if count <= 0 {
            continue;
        }
        impact.customers_affected += u64::from(customer.is_some());
        impact.affected.push((customer, kind));
        impact.offsets.push(impact.total);
        impact.total += count as u64;
    }
    impact.products = products;
    impact.split = split;
    impact.prices = prices;
    Ok(impact)
}

fn too_many(walks: u64, pairs: u64) -> ServiceError {
    ServiceError::from(UserError::new(
        &["dryRun"],
        UserErrorCode::TooMany,
        format!(
            "this change reaches more prices than a preview compares: {walks} walks (at most \
             {MAX_COMPARISONS}) over {pairs} (kind of shopper × product) pairs (at most {MAX_PAIRS}); \
             preview a smaller change"
        ),
    ))
}

#[cfg(test)]
mod tests;
