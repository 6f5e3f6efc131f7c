//! Kinds of shopper that pay alike for one product: the preview walks once
//! per class, not once per kind.
//!
//! A kind's price for a product depends only on which of its groups (before
//! and after) link a list that prices the product: one with rows for it, or
//! a derived list (which prices every product), and on the groups that
//! restrict product lines (access). Groups every kind has, or no kind has,
//! tell no kinds apart. So kinds are first split by the groups that matter
//! for every product (the *base* classes), and then, per product, by the
//! few groups whose lists have rows for it. Products priced by the same
//! groups share one partition, worked out once.

use std::collections::HashSet;

use rustc_hash::FxHashMap;
use uuid::Uuid;

/// A kind of shopper, by its index.
pub(super) type KindId = u32;

/// One class of kinds: any of its kinds stands for all of them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Class {
    pub stand_in: KindId,
    /// How many kinds it holds; a base class can be left empty.
    pub size: u32,
}

/// The kinds of shopper, split into classes for the products priced by one
/// set of groups.
#[derive(Debug, Default)]
pub(super) struct Partition {
    /// The kinds whose class is not their base class.
    explicit: FxHashMap<KindId, u32>,
    /// The base classes first (same indices), then the others.
    pub classes: Vec<Class>,
}

/// Every partition a preview needs, and the kinds' base classes.
#[derive(Debug, Default)]
pub(super) struct Classes {
    /// Each kind's base class.
    base: Vec<u32>,
    /// The kinds of each base class, in order.
    base_members: Vec<Vec<KindId>>,
    /// For each group that tells kinds apart (and is not in the base): the
    /// kinds that have it, with a bit for before (1) and after (2).
    kinds_of: FxHashMap<Uuid, Vec<(KindId, u8)>>,
    partitions: Vec<Partition>,
    memo: FxHashMap<Vec<Uuid>, u32>,
    /// Kinds visited building partitions: the work beyond the walks.
    pub visits: u64,
}

/// A kind of shopper's effective groups before and after, each sorted.
pub(super) trait Groups {
    fn before(&self) -> &[Uuid];
    fn after(&self) -> &[Uuid];
}

impl Classes {
    /// Splits `kinds` by `always`: the groups that matter for every product.
    pub fn new<K: Groups>(kinds: &[K], always: &HashSet<Uuid>) -> Self {
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
        let mut classes = Self::default();
        let mut base_index: FxHashMap<(Vec<Uuid>, Vec<Uuid>), u32> = FxHashMap::default();
        for (id, kind) in kinds.iter().enumerate() {
            let id = id as KindId;
            let pick = |groups: &[Uuid]| -> Vec<Uuid> {
                groups
                    .iter()
                    .filter(|g| always.contains(g) && distinguishes(g))
                    .copied()
                    .collect()
            };
            let next = classes.base_members.len() as u32;
            let class = *base_index
                .entry((pick(kind.before()), pick(kind.after())))
                .or_insert(next);
            if class == next {
                classes.base_members.push(Vec::new());
            }
            classes.base_members[class as usize].push(id);
            classes.base.push(class);
            let mut sides: FxHashMap<Uuid, u8> = FxHashMap::default();
            for (side, groups) in [(1, kind.before()), (2, kind.after())] {
                for group in groups.iter().filter(|g| !always.contains(g) && distinguishes(g)) {
                    *sides.entry(*group).or_default() |= side;
                }
            }
            for (group, side) in sides {
                classes.kinds_of.entry(group).or_default().push((id, side));
            }
        }
        let base_only = Partition {
            explicit: FxHashMap::default(),
            classes: classes
                .base_members
                .iter()
                .map(|members| Class {
                    stand_in: members[0],
                    size: members.len() as u32,
                })
                .collect(),
        };
        classes.partitions.push(base_only);
        classes.memo.insert(Vec::new(), 0);
        classes
    }

    /// The partition for a product priced by lists of `groups` (any order,
    /// repeats allowed), worked out on first use.
    pub fn partition_for(&mut self, groups: impl IntoIterator<Item = Uuid>) -> u32 {
        let mut key: Vec<Uuid> = groups.into_iter().filter(|g| self.kinds_of.contains_key(g)).collect();
        key.sort_unstable();
        key.dedup();
        if let Some(index) = self.memo.get(&key) {
            return *index;
        }
        // Each kind that has one of the groups: which it has, on which side.
        let mut marks: FxHashMap<KindId, Vec<u8>> = FxHashMap::default();
        for (i, group) in key.iter().enumerate() {
            for (kind, side) in &self.kinds_of[group] {
                marks.entry(*kind).or_insert_with(|| vec![0; key.len()])[i] = *side;
                self.visits += 1;
            }
        }
        let mut marked: Vec<(KindId, Vec<u8>)> = marks.into_iter().collect();
        marked.sort_unstable_by_key(|(kind, _)| *kind);
        let mut classes: Vec<Class> = self
            .base_members
            .iter()
            .map(|members| Class {
                stand_in: members[0],
                size: members.len() as u32,
            })
            .collect();
        let mut explicit: FxHashMap<KindId, u32> = FxHashMap::default();
        let mut index: FxHashMap<(u32, Vec<u8>), u32> = FxHashMap::default();
        for (kind, mark) in marked {
            let base = self.base[kind as usize];
            classes[base as usize].size -= 1;
            let next = classes.len() as u32;
            let class = *index.entry((base, mark)).or_insert(next);
            if class == next {
                classes.push(Class {
                    stand_in: kind,
                    size: 0,
                });
            }
            classes[class as usize].size += 1;
            explicit.insert(kind, class);
        }
        // A base class's stand-in must still be in it.
        for (class, members) in classes.iter_mut().zip(&self.base_members) {
            if class.size > 0 {
                class.stand_in = *members
                    .iter()
                    .find(|kind| !explicit.contains_key(kind))
                    .expect("a base class with kinds left has one not moved out");
            }
        }
        let at = self.partitions.len() as u32;
        self.partitions.push(Partition { explicit, classes });
        self.memo.insert(key, at);
        at
    }

    pub fn partition(&self, index: u32) -> &Partition {
        &self.partitions[index as usize]
    }

    /// A kind's class in a partition.
    pub fn class_of(&self, partition: u32, kind: KindId) -> u32 {
        let partition = &self.partitions[partition as usize];
        partition
            .explicit
            .get(&kind)
            .copied()
            .unwrap_or(self.base[kind as usize])
    }

    /// For each kind, how many of `counts` it has: `counts` gives, for some
    /// partitions, a number per class (how many products of that partition
    /// change for the class).
    pub fn per_kind(&self, counts: &FxHashMap<u32, Vec<u64>>) -> Vec<u64> {
        let mut base_totals = vec![0u64; self.base_members.len()];
        let mut adjust = vec![0i64; self.base.len()];
        for (partition, counts) in counts {
            for (total, count) in base_totals.iter_mut().zip(counts) {
                *total += count;
            }
            for (kind, class) in &self.partitions[*partition as usize].explicit {
                let base = self.base[*kind as usize] as usize;
                adjust[*kind as usize] += counts[*class as usize] as i64 - counts[base] as i64;
            }
        }
        self.base
            .iter()
            .zip(adjust)
            .map(|(base, adjust)| (base_totals[*base as usize] as i64 + adjust) as u64)
            .collect()
    }
}
