//! The API's relations that pricing reads too — a customer's own groups,
//! an organization's groups, a group's price lists with their priorities —
//! read from the same cache entries as the shopper ([`super::shopper`]):
//! the in-process cache, then Redis, then one statement per kind of entry
//! for every key of a batch, filling the layers that missed. The rows they
//! name (names and the other fields the API shows) come through
//! [`super::rows`]. Both are evicted by the writes that change them, on
//! every instance through the change log, so a warm read is never stale.
//!
//! An entry may name a row deleted since it was filled: deleting a group
//! evicts the group, not the entries of its members or organizations, and
//! deleting a list evicts the list, not its groups' entries. Such entries
//! are read again from the database (which refills them), so that they do
//! not cost a statement on every later request.

mod sql;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use entity::{customer_group, price_list};
use uuid::Uuid;

use super::Store;
use super::parts::LoadedParts;
use super::rows::{self, CachedRow};
use crate::cache::Cache;
use crate::cache::shared::Key;
use crate::error::ServiceResult;

/// A group's link to a price list, as the group's entry holds it, with the
/// list's row.
#[derive(Clone, Debug)]
pub struct ListLink {
    pub group_id: Uuid,
    pub priority: i32,
    pub list: Arc<price_list::Model>,
}

/// Each customer's own `PRICING` groups (its memberships), by name; every
/// customer asked for is present (with no groups when it does not exist).
pub async fn groups_of_customers(
    store: &Store,
    customer_ids: &[Uuid],
) -> ServiceResult<HashMap<Uuid, Vec<Arc<customer_group::Model>>>> {
    let related = related::<customer_group::Entity, Uuid>(store, Kind::Customers, customer_ids, |parts, id| {
        parts.customers.get(&id).map(|c| c.groups.clone()).unwrap_or_default()
    })
    .await?;
    Ok(by_name(related))
}

/// Each organization's `PRICING` groups, by name; every organization asked
/// for is present.
pub async fn groups_of_organizations(
    store: &Store,
    organization_ids: &[Uuid],
) -> ServiceResult<HashMap<Uuid, Vec<Arc<customer_group::Model>>>> {
    let related = related::<customer_group::Entity, Uuid>(store, Kind::Organizations, organization_ids, |parts, id| {
        parts.organizations.get(&id).map(|g| g.to_vec()).unwrap_or_default()
    })
    .await?;
    Ok(by_name(related))
}

/// Each group's links in the order resolution walks them: priority, then
/// the list's creation time, then its id (docs/pricing.md#step-4-order);
/// every group asked for is present.
pub async fn price_list_links(store: &Store, group_ids: &[Uuid]) -> ServiceResult<HashMap<Uuid, Vec<ListLink>>> {
    let related = related::<price_list::Entity, (Uuid, i32)>(store, Kind::Groups, group_ids, |parts, id| {
        parts.groups.get(&id).map(|g| g.links.clone()).unwrap_or_default()
    })
    .await?;
    Ok(related
        .into_iter()
        .map(|(group_id, links)| {
            let mut links: Vec<ListLink> = links
                .into_iter()
                .map(|((_, priority), list)| ListLink {
                    group_id,
                    priority,
                    list,
                })
                .collect();
            links.sort_by_key(|link| (link.priority, link.list.created_at, link.list.id));
            (group_id, links)
        })
        .collect())
}

fn by_name(
    related: HashMap<Uuid, Vec<(Uuid, Arc<customer_group::Model>)>>,
) -> HashMap<Uuid, Vec<Arc<customer_group::Model>>> {
    related
        .into_iter()
        .map(|(owner, groups)| {
            let mut groups: Vec<_> = groups.into_iter().map(|(_, group)| group).collect();
            groups.sort_by(|a, b| a.name_key.cmp(&b.name_key));
            (owner, groups)
        })
        .collect()
}

/// What an entry names: a row's id, perhaps with more (a link's priority).
trait Target: Copy {
    fn id(&self) -> Uuid;
}

impl Target for Uuid {
    fn id(&self) -> Uuid {
        *self
    }
}

impl Target for (Uuid, i32) {
    fn id(&self) -> Uuid {
        self.0
    }
}

/// For each of `ids`, what its entry of `kind` names (`targets`), with the
/// row of `E` each names; targets whose row is gone are left out, after
/// the entries that named them were read again.
async fn related<E, T>(
    store: &Store,
    kind: Kind,
    ids: &[Uuid],
    targets: impl Fn(&LoadedParts, Uuid) -> Vec<T>,
) -> ServiceResult<HashMap<Uuid, Vec<(T, Arc<E::Model>)>>>
where
    E: CachedRow,
    T: Target,
{
    let ids: Vec<Uuid> = ids.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
    let mut parts = entries(store, kind, &ids, Trust::Caches).await?;
    let named = |parts: &LoadedParts, ids: &[Uuid]| -> Vec<Uuid> {
        let named: BTreeSet<Uuid> = ids.iter().flat_map(|id| targets(parts, *id)).map(|t| t.id()).collect();
        named.into_iter().collect()
    };
    let mut rows = rows::by_id::<E>(store, &named(&parts, &ids)).await?;
    let stale: Vec<Uuid> = ids
        .iter()
        .copied()
        .filter(|id| targets(&parts, *id).iter().any(|t| !rows.contains_key(&t.id())))
        .collect();
    if !stale.is_empty() {
        parts.extend(entries(store, kind, &stale, Trust::DatabaseOnly).await?);
        let unread: Vec<Uuid> = named(&parts, &stale)
            .into_iter()
            .filter(|id| !rows.contains_key(id))
            .collect();
        if !unread.is_empty() {
            rows.extend(rows::by_id::<E>(store, &unread).await?);
        }
    }
    Ok(ids
        .iter()
        .map(|id| {
            let related = targets(&parts, *id)
                .into_iter()
                .filter_map(|t| Some((t, rows.get(&t.id())?.clone())))
                .collect();
            (*id, related)
        })
        .collect())
}

/// The kinds of entries a relation starts from.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A customer's organization and own groups.
    Customers,
    /// An organization's groups.
    Organizations,
    /// A group's activity, links and product lines.
    Groups,
}

impl Kind {
    fn key(self, id: Uuid) -> Key {
        match self {
            Kind::Customers => Key::Customer(id),
            Kind::Organizations => Key::Organization(id),
            Kind::Groups => Key::Group(id),
        }
    }

    /// Takes the entry of `id` from the in-process cache into `parts`;
    /// whether it was there.
    fn cached(self, cache: &Cache, id: Uuid, parts: &mut LoadedParts) -> bool {
        match self {
            Kind::Customers => cache.customer(id).map(|e| parts.customers.insert(id, e)).is_some(),
            Kind::Organizations => cache
                .organization(id)
                .map(|e| parts.organizations.insert(id, e))
                .is_some(),
            Kind::Groups => cache.group(id).map(|e| parts.groups.insert(id, e)).is_some(),
        }
    }

    fn found(self, parts: &LoadedParts, id: Uuid) -> bool {
        match self {
            Kind::Customers => parts.customers.contains_key(&id),
            Kind::Organizations => parts.organizations.contains_key(&id),
            Kind::Groups => parts.groups.contains_key(&id),
        }
    }
}

/// Which layers a read may answer from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trust {
    /// The in-process cache, then Redis, then the database.
    Caches,
    /// The database only: the cached entries are known to be outdated.
    DatabaseOnly,
}

/// The entries of `kind` for `ids` (those that exist): from the in-process
/// cache, then Redis, the rest in one statement; every layer that missed
/// is filled, unless an invalidation came meanwhile.
async fn entries(store: &Store, kind: Kind, ids: &[Uuid], trust: Trust) -> ServiceResult<LoadedParts> {
    let mut found = LoadedParts::default();
    let mut missing = Vec::new();
    for id in ids {
        if trust == Trust::DatabaseOnly || !kind.cached(&store.cache, *id, &mut found) {
            missing.push(*id);
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let since = store.cache.generation();
    let mut read = LoadedParts::default();
    // The change-log position to fill Redis at, taken before the database read.
    let mut epoch = None;
    if let Some(shared) = store.cache.shared() {
        let keys = match trust {
            Trust::Caches => missing.iter().map(|id| kind.key(*id)).collect(),
            Trust::DatabaseOnly => Vec::new(),
        };
        if let Some((position, _)) = read.take(shared, keys).await {
            epoch = Some(position);
            missing.retain(|id| !kind.found(&read, *id));
        }
    }
    if !missing.is_empty() {
        let db = store.conn();
        let loaded = match kind {
            Kind::Customers => sql::customers(db, &missing).await?,
            Kind::Organizations => sql::organizations(db, &missing).await?,
            Kind::Groups => sql::groups(db, &missing).await?,
        };
        if let (Some(shared), Some(epoch)) = (store.cache.shared(), epoch) {
            shared.fill(epoch, &loaded.entries()).await;
        }
        read.extend(loaded);
    }
    read.fill_local(&store.cache, since);
    found.extend(read);
    Ok(found)
}
