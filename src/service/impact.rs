//! The impact preview (docs/api.md#impact-preview): a mutation run with
//! `dryRun` is rehearsed — its write rolled back instead of committed — and
//! every shopper's price, now and at quantity 1, is compared in the world it
//! would leave and the world as it is.
//!
//! Shoppers with the same effective groups pay the same prices, so the
//! comparison runs once per distinct pair of (groups before, groups after),
//! and only over the products the change can reach: what its write names
//! (prices, lists, groups, customers), widened to every product when a
//! derived list or a product-line restriction is involved.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;

use chrono::{DateTime, Utc};
use migration::EVERYONE_GROUP_ID;
use uuid::Uuid;

use crate::cache::Invalidation;
use crate::error::{ServiceError, ServiceResult, UserError, UserErrorCode};
use crate::money::CurrencyCode;
use crate::pricing::{Candidates, EffectiveGroup, Link, Membership, Offer, Shopper, Strategy, effective_groups};
use crate::store::world::{GroupFacts, World};
use crate::store::{Store, rehearse, world};

/// Most (shopper kind × product) comparisons one preview makes: a change
/// that reaches more is refused rather than left to run for minutes.
pub const MAX_COMPARISONS: u64 = 10_000_000;

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
/// first, then customers by id, each with the changes of their kind.
#[derive(Debug, Default)]
pub struct Impact {
    /// (customer, or `None` for an anonymous shopper; index into `kinds`).
    affected: Vec<(Option<Uuid>, usize)>,
    /// The changes of each kind of shopper, by product and currency.
    kinds: Vec<Vec<PriceChange>>,
    /// How many changes come before each entry of `affected`.
    offsets: Vec<u64>,
    pub customers_affected: u64,
    pub products_affected: u64,
}

impl Impact {
    /// How many (shopper, product, currency) changes there are in all.
    pub fn total(&self) -> u64 {
        match (self.offsets.last(), self.affected.last()) {
            (Some(offset), Some((_, kind))) => offset + self.kinds[*kind].len() as u64,
            _ => 0,
        }
    }

    /// Up to `size` changes from position `from`, each with its position.
    pub fn page(&self, from: u64, size: usize) -> Vec<(u64, Option<Uuid>, PriceChange)> {
        let mut page = Vec::with_capacity(size);
        let start = self.offsets.partition_point(|offset| *offset <= from).saturating_sub(1);
        for (n, (customer, kind)) in self.affected.iter().enumerate().skip(start) {
            let offset = self.offsets[n];
            for (i, change) in self.kinds[*kind].iter().enumerate() {
                let position = offset + i as u64;
                if position < from {
                    continue;
                }
                if page.len() == size {
                    return page;
                }
                page.push((position, *customer, *change));
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

/// Which products a change can reach, for which shoppers.
struct Reach {
    /// Shoppers in any of these groups (before or after); `None`: everyone.
    groups: Option<HashSet<Uuid>>,
    /// `None`: every product.
    products: Option<BTreeSet<(Uuid, CurrencyCode)>>,
}

/// Both worlds, with what reaching into them needs.
struct Worlds<'w> {
    before: &'w World,
    after: &'w World,
    /// The (product, currency) pairs each list has prices for, in either world.
    rows: HashMap<Uuid, BTreeSet<(Uuid, CurrencyCode)>>,
}

impl<'w> Worlds<'w> {
    fn new(before: &'w World, after: &'w World) -> Self {
        let mut rows: HashMap<Uuid, BTreeSet<(Uuid, CurrencyCode)>> = HashMap::new();
        for world in [before, after] {
            for (key, offer) in &world.offers {
                for (list, _) in offer.list_tiers.iter() {
                    rows.entry(*list).or_default().insert(*key);
                }
            }
        }
        Self { before, after, rows }
    }

    fn both(&self) -> [&'w World; 2] {
        [self.before, self.after]
    }

    /// The products a list prices, in either world; `None` (all) when it is
    /// derived in either.
    fn list_products(&self, list: Uuid) -> Option<BTreeSet<(Uuid, CurrencyCode)>> {
        let derived = self
            .both()
            .iter()
            .any(|w| w.lists.get(&list).is_some_and(|l| l.rule.is_some()));
        (!derived).then(|| self.rows.get(&list).cloned().unwrap_or_default())
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
    fn group_reach(&self, group: Uuid) -> Option<Reach> {
        let empty = GroupFacts::default();
        let before = self.before.groups.get(&group).unwrap_or(&empty);
        let after = self.after.groups.get(&group).unwrap_or(&empty);
        let groups = Some(HashSet::from([group]));
        if before.product_lines != after.product_lines {
            return Some(Reach { groups, products: None });
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
        if changed.is_empty() {
            return None;
        }
        let mut products = BTreeSet::new();
        for (list, _) in changed {
            match self.list_products(list) {
                Some(rows) => products.extend(rows),
                None => return Some(Reach { groups, products: None }),
            }
        }
        Some(Reach {
            groups,
            products: Some(products),
        })
    }

    fn groups_linking(&self, list: Uuid) -> HashSet<Uuid> {
        self.both()
            .iter()
            .flat_map(|w| w.groups.iter())
            .filter(|(_, facts)| facts.links.iter().any(|(l, _)| *l == list))
            .map(|(id, _)| *id)
            .collect()
    }

    fn reach(&self, change: &Invalidation) -> Vec<Reach> {
        match change {
            Invalidation::Offers(keys) => {
                let products = keys
                    .iter()
                    .filter_map(|(product, code)| Some((*product, CurrencyCode::parse(code).ok()?)))
                    .collect();
                vec![Reach {
                    groups: None,
                    products: Some(products),
                }]
            }
            // A list whose pricing is the same in both worlds (a rename)
            // reaches nobody.
            Invalidation::Lists(ids) => ids
                .iter()
                .filter(|list| self.before.lists.get(list) != self.after.lists.get(list) || self.rows_differ(**list))
                .map(|list| Reach {
                    groups: Some(self.groups_linking(*list)),
                    products: self.list_products(*list),
                })
                .collect(),
            Invalidation::Groups(ids) => ids.iter().filter_map(|group| self.group_reach(*group)).collect(),
            // A customer's or an organization's groups: the shoppers whose
            // groups differ between the worlds, handled per kind below.
            Invalidation::Customers(_) | Invalidation::Organizations(_) => Vec::new(),
            Invalidation::Catalog | Invalidation::Everything => vec![Reach {
                groups: None,
                products: None,
            }],
        }
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

/// Compares every kind of shopper's prices over what the change reaches.
async fn compare(before: &World, after: &World, changes: &[Invalidation], at: DateTime<Utc>) -> ServiceResult<Impact> {
    let worlds = Worlds::new(before, after);
    let reaches: Vec<Reach> = changes.iter().flat_map(|c| worlds.reach(c)).collect();

    // Every shopper's kind: the anonymous one, then the customers by id.
    let mut kinds: Vec<Kind> = Vec::new();
    let mut kind_index: HashMap<Kind, usize> = HashMap::new();
    let mut shoppers: Vec<(Option<Uuid>, usize)> = Vec::with_capacity(before.customers.len() + 1);
    let after_customers: HashMap<Uuid, Option<Uuid>> = after.customers.iter().copied().collect();
    let anonymous = Kind {
        before: groups_of(before, None),
        after: groups_of(after, None),
    };
    let everyone_kinds = std::iter::once((None, anonymous));
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
    for (customer, kind) in everyone_kinds.chain(customer_kinds) {
        let next = kinds.len();
        let index = *kind_index.entry(kind.clone()).or_insert(next);
        if index == next {
            kinds.push(kind);
        }
        shoppers.push((customer, index));
    }

    // What each kind must compare.
    let every_product: BTreeSet<(Uuid, CurrencyCode)> =
        before.offers.keys().chain(after.offers.keys()).copied().collect();
    let mut scopes: Vec<Option<BTreeSet<(Uuid, CurrencyCode)>>> = Vec::with_capacity(kinds.len());
    let mut comparisons: u64 = 0;
    for kind in &kinds {
        let mut scope: Option<BTreeSet<(Uuid, CurrencyCode)>> = Some(BTreeSet::new());
        let mut widen = |products: Option<&BTreeSet<(Uuid, CurrencyCode)>>| match (scope.as_mut(), products) {
            (Some(scope), Some(products)) => scope.extend(products.iter().copied()),
            _ => scope = None,
        };
        if kind.before != kind.after {
            let moved: HashSet<Uuid> = kind
                .before
                .iter()
                .chain(&kind.after)
                .filter(|g| !(kind.before.contains(g) && kind.after.contains(g)))
                .copied()
                .collect();
            widen(worlds.group_products(&moved).as_ref());
        }
        for reach in &reaches {
            let reaches_kind = reach
                .groups
                .as_ref()
                .is_none_or(|groups| kind.before.iter().chain(&kind.after).any(|g| groups.contains(g)));
            if reaches_kind {
                widen(reach.products.as_ref());
            }
        }
        comparisons += scope.as_ref().map_or(every_product.len(), BTreeSet::len) as u64;
        scopes.push(scope);
    }
    if comparisons > MAX_COMPARISONS {
        return Err(ServiceError::from(UserError::new(
            &["dryRun"],
            UserErrorCode::TooMany,
            format!(
                "this change reaches {comparisons} (kind of shopper × product) prices, more than a preview \
                 compares ({MAX_COMPARISONS}); preview a smaller change"
            ),
        )));
    }

    // The comparison itself.
    let mut changed: Vec<Vec<PriceChange>> = Vec::with_capacity(kinds.len());
    let mut done: u64 = 0;
    let empty = Offer::default();
    for (kind, scope) in kinds.iter().zip(&scopes) {
        let (shopper_before, shopper_after) = (shopper(before, &kind.before), shopper(after, &kind.after));
        let (walk_before, walk_after) = (
            Candidates::new(&shopper_before, at),
            Candidates::new(&shopper_after, at),
        );
        let mut changes = Vec::new();
        for &(product, currency) in scope.as_ref().unwrap_or(&every_product) {
            let price = |world: &World, walk: &Candidates<'_>| {
                let line = world.products.get(&product)?;
                let offer = world.offers.get(&(product, currency)).unwrap_or(&empty);
                walk.price(*line, offer, 1, Strategy::Priority).amount
            };
            let (was, will_be) = (price(before, &walk_before), price(after, &walk_after));
            if was != will_be {
                changes.push(PriceChange {
                    product_id: product,
                    currency,
                    before: was,
                    after: will_be,
                });
            }
            done += 1;
            if done.is_multiple_of(COMPARISONS_PER_TURN) {
                tokio::task::yield_now().await;
            }
        }
        changed.push(changes);
    }

    let mut impact = Impact {
        kinds: changed,
        ..Impact::default()
    };
    let mut products: HashSet<Uuid> = HashSet::new();
    let mut offset = 0;
    for (customer, kind) in shoppers {
        let changes = &impact.kinds[kind];
        if changes.is_empty() {
            continue;
        }
        products.extend(changes.iter().map(|c| c.product_id));
        impact.customers_affected += u64::from(customer.is_some());
        impact.affected.push((customer, kind));
        impact.offsets.push(offset);
        offset += changes.len() as u64;
    }
    impact.products_affected = products.len() as u64;
    Ok(impact)
}
