//! Kinds of shopper that pay alike for one product: the preview walks once
//! per class, not once per kind, and keeps one answer per class.
//!
//! A kind's price for a product depends only on which of its groups (before
//! and after) link a list that can price the product: one with rows for it,
//! or a derived list (which prices every product), and on the groups that
//! restrict product lines (access). Groups every kind has, or no kind has,
//! tell no kinds apart. So kinds first split by the groups that matter for
//! every product: their *base* class, which is their class for every product
//! none of their other groups' lists price. Only for the products those
//! other groups' lists price does a kind's class depend on which of them it
//! has. That is few products per kind, so the work grows with the links
//! shoppers have, not with kinds × products.

use std::collections::HashSet;

use rustc_hash::FxHashMap;
use uuid::Uuid;

/// A kind of shopper, by its index.
pub(super) type KindId = u32;

/// A price before and after: `None` is no amount.
pub(super) type Pair = (Option<i64>, Option<i64>);

pub(super) fn differs((before, after): Pair) -> bool {
    before != after
}

/// A kind of shopper's effective groups before and after, each sorted.
pub(super) trait Groups {
    fn before(&self) -> &[Uuid];
    fn after(&self) -> &[Uuid];
}

/// How kinds of shopper split, product by product.
#[derive(Debug, Default)]
pub(super) struct Split {
    /// Each kind's base class.
    pub base: Vec<u32>,
    /// How many kinds each base class holds.
    pub base_size: Vec<u32>,
    /// For each base class, the groups (before, after) of a shopper who
    /// stands for it: a member's, without the groups that set kinds apart
    /// product by product.
    pub base_groups: Vec<(Vec<Uuid>, Vec<Uuid>)>,
    /// Each kind's groups that set kinds apart product by product, as
    /// `index << 2 | side` (side: 1 before, 2 after, 3 both), sorted.
    own: Vec<Vec<u32>>,
    /// Each product's groups (indices) whose lists have rows for it, sorted.
    pricing: Vec<Vec<u32>>,
    /// The products (indices) each group's lists have rows for, sorted.
    products_of: Vec<Vec<u32>>,
}

impl Split {
    /// Splits `kinds` for `products` products: `always` are the groups that
    /// matter for every product, `pricing(p)` the groups whose lists have
    /// rows for product `p` (any order, repeats allowed).
    pub fn new<K: Groups, I: IntoIterator<Item = Uuid>>(
        kinds: &[K],
        always: &HashSet<Uuid>,
        products: usize,
        pricing: impl Fn(usize) -> I,
    ) -> Self {
        let mut counts: FxHashMap<Uuid, (usize, usize)> = FxHashMap::default();
        for kind in kinds {
            for group in kind.before() {
                counts.entry(*group).or_default().0 += 1;
            }
            for group in kind.after() {
                counts.entry(*group).or_default().1 += 1;
            }
        }
        let all = kinds.len();
        let distinguishes = |group: &Uuid| {
            counts
                .get(group)
                .is_some_and(|(before, after)| !([0, all].contains(before) && [0, all].contains(after)))
        };
        // The groups that set kinds apart product by product, indexed.
        let mut index: FxHashMap<Uuid, u32> = FxHashMap::default();
        for group in counts.keys() {
            if !always.contains(group) && distinguishes(group) {
                let next = index.len() as u32;
                index.insert(*group, next);
            }
        }
        let mut split = Self {
            products_of: vec![Vec::new(); index.len()],
            ..Self::default()
        };
        let mut base_index: FxHashMap<(Vec<Uuid>, Vec<Uuid>), u32> = FxHashMap::default();
        for kind in kinds {
            let keep = |groups: &[Uuid], keep: &dyn Fn(&Uuid) -> bool| -> Vec<Uuid> {
                groups.iter().filter(|g| keep(g)).copied().collect()
            };
            let in_base = |g: &Uuid| always.contains(g) && distinguishes(g);
            let signature = (keep(kind.before(), &in_base), keep(kind.after(), &in_base));
            let next = split.base_size.len() as u32;
            let class = *base_index.entry(signature).or_insert(next);
            if class == next {
                let outside = |g: &Uuid| !index.contains_key(g);
                split
                    .base_groups
                    .push((keep(kind.before(), &outside), keep(kind.after(), &outside)));
                split.base_size.push(0);
            }
            split.base_size[class as usize] += 1;
            split.base.push(class);
            let mut own: FxHashMap<u32, u32> = FxHashMap::default();
            for (side, groups) in [(1, kind.before()), (2, kind.after())] {
                for group in groups {
                    if let Some(i) = index.get(group) {
                        *own.entry(*i).or_default() |= side;
                    }
                }
            }
            let mut own: Vec<u32> = own.into_iter().map(|(i, side)| i << 2 | side).collect();
            own.sort_unstable();
            split.own.push(own);
        }
        for product in 0..products {
            let mut groups: Vec<u32> = pricing(product)
                .into_iter()
                .filter_map(|g| index.get(&g).copied())
                .collect();
            groups.sort_unstable();
            groups.dedup();
            for group in &groups {
                split.products_of[*group as usize].push(product as u32);
            }
            split.pricing.push(groups);
        }
        split
    }

    pub fn bases(&self) -> usize {
        self.base_size.len()
    }

    /// How many (kind, product) pairs [`Self::reach_of`] will give in all, at most.
    pub fn pairs(&self) -> u64 {
        self.own
            .iter()
            .flatten()
            .map(|entry| self.products_of[(*entry >> 2) as usize].len() as u64)
            .sum()
    }

    pub fn has_own(&self, kind: KindId) -> bool {
        !self.own[kind as usize].is_empty()
    }

    /// The products whose class depends on a kind's own groups, sorted.
    pub fn reach_of(&self, kind: KindId, reach: &mut Vec<u32>) {
        reach.clear();
        for entry in &self.own[kind as usize] {
            reach.extend(&self.products_of[(*entry >> 2) as usize]);
        }
        reach.sort_unstable();
        reach.dedup();
    }

    /// A kind's class for a product in its reach, as a key: the product,
    /// the base class, then which of the product's groups it has, on which
    /// side.
    pub fn key(&self, kind: KindId, product: u32, key: &mut Vec<u32>) {
        key.clear();
        key.extend([product, self.base[kind as usize]]);
        let pricing = &self.pricing[product as usize];
        key.extend(
            self.own[kind as usize]
                .iter()
                .filter(|entry| pricing.binary_search(&(*entry >> 2)).is_ok()),
        );
    }
}

/// Every class's price before and after, for every product compared.
#[derive(Debug, Default)]
pub(super) struct Prices {
    bases: usize,
    /// By product, then base class.
    base: Vec<Pair>,
    /// By [`Split::key`].
    classes: FxHashMap<Box<[u32]>, Pair>,
}

impl Prices {
    pub fn new(bases: usize, base: Vec<Pair>) -> Self {
        Self {
            bases,
            base,
            classes: FxHashMap::default(),
        }
    }

    pub fn base(&self, product: u32, base: u32) -> Pair {
        self.base[product as usize * self.bases + base as usize]
    }

    pub fn class(&self, key: &[u32]) -> Option<Pair> {
        self.classes.get(key).copied()
    }

    pub fn insert(&mut self, key: &[u32], pair: Pair) {
        self.classes.insert(key.into(), pair);
    }
}
