//! Who is buying, as resolution needs it ([`Shopper`]): the customer's
//! organization and own groups, `Everyone`, each group's activity, links
//! and product lines, and the lists linked. Read from the in-process cache
//! when every part is there, else from Redis, else in one statement
//! ([`sql`]); the layers that missed are filled on the way back.

mod sql;

use std::collections::BTreeSet;
use std::sync::Arc;

use uuid::Uuid;

use super::Store;
use super::parts::LoadedParts;
use crate::cache::Position;
use crate::cache::shared::{Key, Shared};
use crate::cache::{Cache, CustomerEntry, Generation, GroupEntry};
use crate::error::{ServiceError, ServiceResult, UserError};
use crate::pricing::{EffectiveGroup, Link, ListInfo, Shopper, effective_groups};
use migration::EVERYONE_GROUP_ID;

/// What a shopper is assembled from: a customer's entry, its organization's
/// groups, group entries and lists, wherever they were read.
trait ShopperParts {
    fn customer(&self, id: Uuid) -> Option<Arc<CustomerEntry>>;
    fn organization(&self, id: Uuid) -> Option<Arc<Vec<Uuid>>>;
    fn group(&self, id: Uuid) -> Option<Arc<GroupEntry>>;
    fn list(&self, id: Uuid) -> Option<Arc<ListInfo>>;
}

impl ShopperParts for Cache {
    fn customer(&self, id: Uuid) -> Option<Arc<CustomerEntry>> {
        Cache::customer(self, id)
    }
    fn organization(&self, id: Uuid) -> Option<Arc<Vec<Uuid>>> {
        Cache::organization(self, id)
    }
    fn group(&self, id: Uuid) -> Option<Arc<GroupEntry>> {
        Cache::group(self, id)
    }
    fn list(&self, id: Uuid) -> Option<Arc<ListInfo>> {
        Cache::list(self, id)
    }
}

impl ShopperParts for LoadedParts {
    fn customer(&self, id: Uuid) -> Option<Arc<CustomerEntry>> {
        self.customers.get(&id).cloned()
    }
    fn organization(&self, id: Uuid) -> Option<Arc<Vec<Uuid>>> {
        self.organizations.get(&id).cloned()
    }
    fn group(&self, id: Uuid) -> Option<Arc<GroupEntry>> {
        self.groups.get(&id).cloned()
    }
    fn list(&self, id: Uuid) -> Option<Arc<ListInfo>> {
        self.lists.get(&id).cloned()
    }
}

/// Builds the shopper from its parts (docs/pricing.md#effective-groups): the organization's groups
/// or the customer's own, then `Everyone`, with the links of all of them.
/// `None` when a part is missing.
fn assemble(parts: &impl ShopperParts, customer_id: Option<Uuid>) -> Option<Shopper> {
    let everyone = parts.group(EVERYONE_GROUP_ID)?;
    let (organization, own) = match customer_id {
        None => (Vec::new(), Vec::new()),
        Some(id) => {
            let customer = parts.customer(id)?;
            let organization = match customer.organization_id {
                Some(organization) => parts.organization(organization)?.to_vec(),
                None => Vec::new(),
            };
            (organization, customer.groups.clone())
        }
    };
    let entries = |ids: Vec<Uuid>| -> Option<Vec<(Uuid, Arc<GroupEntry>)>> {
        let mut entries = ids
            .into_iter()
            .map(|id| Some((id, parts.group(id)?)))
            .collect::<Option<Vec<_>>>()?;
        entries.sort_by_key(|(id, _)| *id);
        Some(entries)
    };
    let groups = effective_groups(
        entries(organization)?,
        entries(own)?,
        Some((EVERYONE_GROUP_ID, everyone)),
        |(_, group)| group.is_active,
    );
    let mut links = Vec::new();
    for ((group_id, group), _) in &groups {
        for (list_id, priority) in &group.links {
            links.push(Link {
                group_id: *group_id,
                priority: *priority,
                list: ListInfo::clone(&*parts.list(*list_id)?),
            });
        }
    }
    Some(Shopper {
        groups: groups
            .into_iter()
            .map(|((id, group), via)| EffectiveGroup {
                id,
                is_active: group.is_active,
                via,
                product_lines: group.product_lines.clone(),
            })
            .collect(),
        links,
    })
}

/// Everything resolution needs about one shopper: from the in-process
/// cache when every part is there, else from Redis when every part is
/// there, else in one `UNION ALL` statement — the customer (to know it
/// exists, and its organization), `Everyone`, the groups of its
/// organization and its own groups (with their activity), and the links
/// (with their lists) and product lines of all of those. Which of the
/// organization's or the customer's own groups count is decided after the
/// read, by `assemble` (docs/pricing.md#effective-groups).
pub async fn shopper(store: &Store, customer_id: Option<Uuid>) -> ServiceResult<Shopper> {
    if let Some(shopper) = assemble(&*store.cache, customer_id) {
        return Ok(shopper);
    }
    let since = store.cache.generation();
    store
        .loads
        .shoppers
        .share(customer_id, since, || load_shopper(store, customer_id, since))
        .await
}

/// A shopper as an admin imagines one (`simulatePrices`): a customer with
/// its own groups or its organization replaced, or nobody with those
/// groups or that organization. Effective groups follow from them by the
/// usual rule (docs/pricing.md#effective-groups).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsIf {
    /// Whose own groups and organization to start from; nobody's when `None`.
    pub customer: Option<Uuid>,
    /// The organization instead of the customer's.
    pub organization: Option<Uuid>,
    /// The own pricing groups instead of the customer's memberships.
    pub groups: Option<Vec<Uuid>>,
}

impl AsIf {
    /// The imagined shopper's key among the parts read for it.
    fn key(&self) -> Uuid {
        self.customer.unwrap_or_default()
    }
}

/// The imagined shopper, read from the database in one statement and kept
/// out of every cache (it is nobody's). The caller has checked that every
/// id names what it should.
pub async fn imagined_shopper(store: &Store, as_if: &AsIf) -> ServiceResult<Shopper> {
    let parts = sql::read_shopper(store.conn(), as_if.customer, Some(as_if)).await?;
    assemble(&parts, Some(as_if.key())).ok_or_else(|| {
        ServiceError::Database(sea_orm::DbErr::RecordNotFound(
            "a group or list of the imagined shopper (deleted meanwhile)".into(),
        ))
    })
}

/// [`shopper`]'s read, for when the in-process cache cannot answer; fills
/// the caches it passed.
async fn load_shopper(store: &Store, customer_id: Option<Uuid>, since: Generation) -> ServiceResult<Shopper> {
    let mut epoch = None;
    if let Some(shared) = store.cache.shared() {
        match shared_parts(shared, customer_id).await {
            Some((_, Some(parts))) => {
                parts.fill_local(&store.cache, since);
                if let Some(shopper) = assemble(&parts, customer_id) {
                    return Ok(shopper);
                }
            }
            Some((read_at, None)) => epoch = Some(read_at),
            None => {}
        }
    }
    let parts = sql::read_shopper(store.conn(), customer_id, None).await?;
    parts.fill_local(&store.cache, since);
    if let (Some(shared), Some(epoch)) = (store.cache.shared(), epoch) {
        shared.fill(epoch, &parts.entries()).await;
    }
    match assemble(&parts, customer_id) {
        Some(shopper) => Ok(shopper),
        None => match customer_id {
            Some(id) if !parts.customers.contains_key(&id) => {
                Err(UserError::not_found(&["customerId"], "customer", &id.to_string()).into())
            }
            _ => Err(ServiceError::Database(sea_orm::DbErr::RecordNotFound(
                "the built-in group Everyone".into(),
            ))),
        },
    }
}

/// A shopper's parts from Redis, step by step along what each part names:
/// the customer and `Everyone`, then its organization and own groups, then
/// the organization's groups, then the lists of them all. `None` when Redis
/// failed; no parts when one was missing (the epoch is then the one to fill
/// with after reading the database).
async fn shared_parts(shared: &Shared, customer_id: Option<Uuid>) -> Option<(Position, Option<LoadedParts>)> {
    let mut parts = LoadedParts::default();
    let mut keys = vec![Key::Group(EVERYONE_GROUP_ID)];
    keys.extend(customer_id.map(Key::Customer));
    let epoch = match parts.take(shared, keys).await? {
        (epoch, true) => epoch,
        (epoch, false) => return Some((epoch, None)),
    };
    let customer = customer_id.and_then(|id| parts.customers.get(&id).cloned());
    if let Some(customer) = &customer {
        let mut keys: Vec<Key> = customer.organization_id.map(Key::Organization).into_iter().collect();
        keys.extend(customer.groups.iter().copied().map(Key::Group));
        if !parts.take(shared, keys).await?.1 {
            return Some((epoch, None));
        }
        if let Some(organization) = customer
            .organization_id
            .and_then(|id| parts.organizations.get(&id).cloned())
        {
            let keys = organization
                .iter()
                .filter(|id| !parts.groups.contains_key(id))
                .copied()
                .map(Key::Group)
                .collect();
            if !parts.take(shared, keys).await?.1 {
                return Some((epoch, None));
            }
        }
    }
    let lists: BTreeSet<Uuid> = parts
        .groups
        .values()
        .flat_map(|group| group.links.iter().map(|(list, _)| *list))
        .collect();
    if !parts.take(shared, lists.into_iter().map(Key::List).collect()).await?.1 {
        return Some((epoch, None));
    }
    Some((epoch, Some(parts)))
}
