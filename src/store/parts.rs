//! The cache entries pricing is assembled from — customers, organizations'
//! groups, groups, lists — as one read found them, in the database or in
//! Redis: the shopper's read ([`super::shopper`]) and the relational reads
//! ([`super::relations`]) fill the layers from here.

pub(super) mod sql;

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use crate::cache::Position;
use crate::cache::shared::{Entry, Key, Shared};
use crate::cache::{Cache, CustomerEntry, Generation, GroupEntry};
use crate::pricing::ListInfo;

/// The parts one read of the database, or of Redis, found.
#[derive(Default)]
pub(super) struct LoadedParts {
    pub customers: HashMap<Uuid, Arc<CustomerEntry>>,
    pub organizations: HashMap<Uuid, Arc<Vec<Uuid>>>,
    pub groups: HashMap<Uuid, Arc<GroupEntry>>,
    pub lists: HashMap<Uuid, Arc<ListInfo>>,
}

impl LoadedParts {
    /// Adds what another read found.
    pub fn extend(&mut self, other: LoadedParts) {
        self.customers.extend(other.customers);
        self.organizations.extend(other.organizations);
        self.groups.extend(other.groups);
        self.lists.extend(other.lists);
    }

    /// Reads `keys` from Redis into these parts: the epoch and whether every
    /// key was there, or `None` when Redis failed.
    pub async fn take(&mut self, shared: &Shared, keys: Vec<Key>) -> Option<(Position, bool)> {
        let (epoch, entries) = shared.get(&keys).await?;
        let mut complete = true;
        for (key, entry) in keys.into_iter().zip(entries) {
            match (key, entry) {
                (Key::Customer(id), Some(Entry::Customer(customer))) => {
                    self.customers.insert(id, Arc::new(customer));
                }
                (Key::Organization(id), Some(Entry::Organization(groups))) => {
                    self.organizations.insert(id, Arc::new(groups));
                }
                (Key::Group(id), Some(Entry::Group(group))) => {
                    self.groups.insert(id, Arc::new(group));
                }
                (Key::List(_), Some(Entry::List(list))) => {
                    self.lists.insert(list.id, Arc::new(list));
                }
                _ => complete = false,
            }
        }
        Some((epoch, complete))
    }

    /// Stores every part in process, unless an invalidation came after `since`.
    pub fn fill_local(&self, cache: &Cache, since: Generation) {
        cache.fill(since, |fill| {
            for (id, customer) in &self.customers {
                fill.customer(*id, CustomerEntry::clone(customer));
            }
            for (id, groups) in &self.organizations {
                fill.organization(*id, groups.to_vec());
            }
            for (id, group) in &self.groups {
                fill.group(*id, group.clone());
            }
            for list in self.lists.values() {
                fill.list(list.clone());
            }
        });
    }

    /// Every part, as Redis entries.
    pub fn entries(&self) -> Vec<(Key, Entry)> {
        let customers = self
            .customers
            .iter()
            .map(|(id, c)| (Key::Customer(*id), Entry::Customer(CustomerEntry::clone(c))));
        let organizations = self
            .organizations
            .iter()
            .map(|(id, groups)| (Key::Organization(*id), Entry::Organization(groups.to_vec())));
        let groups = self
            .groups
            .iter()
            .map(|(id, group)| (Key::Group(*id), Entry::Group(GroupEntry::clone(group))));
        let lists = self
            .lists
            .values()
            .map(|list| (Key::List(list.id), Entry::List(ListInfo::clone(list))));
        customers.chain(organizations).chain(groups).chain(lists).collect()
    }
}
