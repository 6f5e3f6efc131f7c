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
//! has. Product by product, the kinds in the groups pricing it are visited
//! (few), each finds its class among the product's few, and a class is
//! walked once, by a shopper with just the groups that make it. So the work
//! grows with the links shoppers have, not with kinds × products.

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
    /// The kinds that have each group (by index), on either side.
    pub kinds_of: Vec<Vec<KindId>>,
    /// Each group index's id.
    groups: Vec<Uuid>,
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
            kinds_of: vec![Vec::new(); index.len()],
            groups: vec![Uuid::nil(); index.len()],
            ..Self::default()
        };
        for (group, i) in &index {
            split.groups[*i as usize] = *group;
        }
        let mut base_index: FxHashMap<(Vec<Uuid>, Vec<Uuid>), u32> = FxHashMap::default();
        for (id, kind) in kinds.iter().enumerate() {
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
            for entry in &own {
                split.kinds_of[(*entry >> 2) as usize].push(id as KindId);
            }
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

    /// How many (kind, product) visits the products' pricing groups make in
    /// all, at most.
    pub fn visits(&self) -> u64 {
        self.pricing
            .iter()
            .flatten()
            .map(|group| self.kinds_of[*group as usize].len() as u64)
            .sum()
    }

    /// The groups (indices) whose lists have rows for a product.
    pub fn pricing(&self, product: u32) -> &[u32] {
        &self.pricing[product as usize]
    }

    /// Whether a kind's class for a product is its base class.
    pub fn is_base(&self, kind: KindId, product: u32) -> bool {
        let pricing = &self.pricing[product as usize];
        !self.own[kind as usize]
            .iter()
            .any(|entry| pricing.binary_search(&(*entry >> 2)).is_ok())
    }

    /// A kind's class for a product, as a key: the base class, then which of
    /// the product's pricing groups it has, on which side (empty: the base
    /// class).
    pub fn key(&self, kind: KindId, product: u32, key: &mut Vec<u32>) {
        key.clear();
        key.push(self.base[kind as usize]);
        let pricing = &self.pricing[product as usize];
        key.extend(
            self.own[kind as usize]
                .iter()
                .filter(|entry| pricing.binary_search(&(*entry >> 2)).is_ok()),
        );
    }

    /// The groups (before, after) of a shopper in the class `key`: its base
    /// class's and the pricing groups it has.
    pub fn groups_of_class(&self, key: &[u32]) -> (Vec<Uuid>, Vec<Uuid>) {
        let (mut before, mut after) = self.base_groups[key[0] as usize].clone();
        for entry in &key[1..] {
            let group = self.groups[(*entry >> 2) as usize];
            if entry & 1 != 0 {
                before.push(group);
            }
            if entry & 2 != 0 {
                after.push(group);
            }
        }
        (before, after)
    }
}

/// A class that is not a base class, by its [`Split::key`], and its price.
type Class = (Box<[u32]>, Pair);

/// Every class's price before and after, for every product compared.
#[derive(Debug, Default)]
pub(super) struct Prices {
    bases: usize,
    /// By product, then base class.
    base: Vec<Pair>,
    /// By product: the other classes, sorted by [`Split::key`].
    classes: Vec<Box<[Class]>>,
}

impl Prices {
    pub fn new(bases: usize, base: Vec<Pair>) -> Self {
        Self {
            bases,
            base,
            classes: Vec::new(),
        }
    }

    pub fn base(&self, product: u32, base: u32) -> Pair {
        self.base[product as usize * self.bases + base as usize]
    }

    /// The price of a class that is not a base class.
    pub fn class(&self, product: u32, key: &[u32]) -> Option<Pair> {
        let classes = self.classes.get(product as usize)?;
        let found = classes.binary_search_by(|(class, _)| class.as_ref().cmp(key)).ok()?;
        Some(classes[found].1)
    }

    /// Sets the next product's other classes.
    pub fn push(&mut self, mut classes: Vec<Class>) {
        classes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.classes.push(classes.into_boxed_slice());
    }
}
