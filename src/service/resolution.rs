//! Loading for price resolution: who is buying (effective groups, their
//! links and product lines, exemptions) and what is on offer, in a fixed
//! number of statements however many customers, products or groups a request
//! holds. The decisions themselves are made by the pure [`crate::pricing`] core.

use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroI32;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::{
    base_price, customer, customer_group, customer_group_price_list as link, customer_group_product_line as group_line,
    membership, organization_group, price, price_list, product,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, UnionType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryFilter,
};
use uuid::Uuid;

use super::{EVERYONE_GROUP_ID, parse_id};
use crate::cache::shared::{Entry, Epoch, Key, Shared};
use crate::cache::{Cache, CustomerEntry, Generation, GroupEntry};
use crate::db::Db;
use crate::error::{Problems, ServiceError, ServiceResult, UserError, UserErrorCode};
use crate::money::CurrencyCode;
use crate::pricing::{
    BaseTier, Candidates, EffectiveGroup, Link, ListInfo, Membership, Offer, Resolved, Shopper, Strategy, Tier,
    effective_groups,
};
use entity::values::{PriceListStatus, PriceListType};
use sea_orm::ActiveEnum;

/// Most items one `resolvePrices` call takes.
pub const MAX_ITEMS: usize = 1000;

/// Effective pricing groups with how each was reached.
pub type EffectiveGroups = Vec<(customer_group::Model, Membership)>;

/// Everything known about one shopper: a customer, or the anonymous shopper.
#[derive(Clone, Debug)]
pub struct Profile {
    pub customer: Option<customer::Model>,
    pub type_group: Option<customer_group::Model>,
    /// Effective pricing groups (SPEC §3), `Everyone` last, active or not.
    pub groups: EffectiveGroups,
    /// What the pricing core reads.
    pub shopper: Shopper,
}

/// One source of an exemption: the customer's own flag, or a group's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExemptionSource {
    Customer,
    TypeGroup(customer_group::Model),
    PricingGroup(customer_group::Model),
}

impl Profile {
    /// Where `flag` comes from: the customer, its active type group and its
    /// active effective pricing groups (seed 003: the OR of all of them).
    pub fn exemption_sources(&self, flag: impl Fn(bool, bool) -> bool) -> Vec<ExemptionSource> {
        let mut sources = Vec::new();
        if let Some(customer) = &self.customer
            && flag(customer.commission_exempt, customer.free_freight)
        {
            sources.push(ExemptionSource::Customer);
        }
        if let Some(group) = &self.type_group
            && group.is_active
            && flag(group.commission_exempt, group.free_freight)
        {
            sources.push(ExemptionSource::TypeGroup(group.clone()));
        }
        for (group, _) in &self.groups {
            if group.is_active && flag(group.commission_exempt, group.free_freight) {
                sources.push(ExemptionSource::PricingGroup(group.clone()));
            }
        }
        sources
    }

    pub fn commission_exempt_sources(&self) -> Vec<ExemptionSource> {
        self.exemption_sources(|commission, _| commission)
    }

    pub fn free_freight_sources(&self) -> Vec<ExemptionSource> {
        self.exemption_sources(|_, freight| freight)
    }
}

/// Loads the profiles of `customers` (and of the anonymous shopper, keyed by
/// `None`, when `anonymous` is set) in at most six statements; type groups,
/// which only exemptions need, when `with_type_groups` is set.
pub async fn profiles(
    db: &DatabaseConnection,
    customers: &[customer::Model],
    anonymous: bool,
    with_type_groups: bool,
) -> ServiceResult<HashMap<Option<Uuid>, Profile>> {
    // The organization's groups replace the customer's own (seed 004); only
    // the direct organization counts. Inactive groups are absent everywhere
    // (seed 002), so an organization whose groups are all inactive has none,
    // and its customers keep their own.
    let organizations: BTreeSet<Uuid> = customers.iter().filter_map(|c| c.organization_id).collect();
    let reachable = reachable_groups(db, customers, &organizations).await?;
    let mut everyone = None;
    let mut groups_by_organization: HashMap<Uuid, Vec<customer_group::Model>> = HashMap::new();
    let mut groups_by_customer: HashMap<Uuid, Vec<customer_group::Model>> = HashMap::new();
    for (reach, group) in reachable {
        match reach {
            Reach::Everyone => everyone = Some(group),
            Reach::Organization(id) => groups_by_organization.entry(id).or_default().push(group),
            Reach::Member(id) => groups_by_customer.entry(id).or_default().push(group),
        }
    }
    let type_groups: HashMap<Uuid, customer_group::Model> = if customers.is_empty() || !with_type_groups {
        HashMap::new()
    } else {
        customer_group::Entity::find()
            .filter(customer_group::Column::Id.is_in(customers.iter().map(|c| c.type_group_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|g| (g.id, g))
            .collect()
    };

    let effective = |customer: Option<&customer::Model>| {
        let by_name = |groups: Option<&Vec<customer_group::Model>>| {
            let mut groups = groups.cloned().unwrap_or_default();
            groups.sort_by(|a, b| a.name_key.cmp(&b.name_key));
            groups
        };
        let organization = customer
            .and_then(|c| c.organization_id)
            .and_then(|id| groups_by_organization.get(&id));
        let own = customer.and_then(|c| groups_by_customer.get(&c.id));
        effective_groups(by_name(organization), by_name(own), everyone.clone(), |g| g.is_active)
    };
    let mut shoppers: Vec<(Option<customer::Model>, EffectiveGroups)> = customers
        .iter()
        .map(|c| (Some(c.clone()), effective(Some(c))))
        .collect();
    if anonymous {
        shoppers.push((None, effective(None)));
    }

    let group_ids: BTreeSet<Uuid> = shoppers
        .iter()
        .flat_map(|(_, groups)| groups.iter().map(|(g, _)| g.id))
        .collect();
    let mut lines_by_group: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut links_by_group: HashMap<Uuid, Vec<Link>> = HashMap::new();
    if !group_ids.is_empty() {
        for row in group_line::Entity::find()
            .filter(group_line::Column::GroupId.is_in(group_ids.iter().copied()))
            .all(db)
            .await?
        {
            lines_by_group
                .entry(row.group_id)
                .or_default()
                .push(row.product_line_id);
        }
        for (row, list) in link::Entity::find()
            .filter(link::Column::GroupId.is_in(group_ids.iter().copied()))
            .find_also_related(price_list::Entity)
            .all(db)
            .await?
        {
            if let Some(list) = list {
                links_by_group.entry(row.group_id).or_default().push(Link {
                    group_id: row.group_id,
                    priority: row.priority,
                    list: list_info(&list),
                });
            }
        }
    }

    Ok(shoppers
        .into_iter()
        .map(|(customer, groups)| {
            let shopper = Shopper {
                groups: groups
                    .iter()
                    .map(|(g, via)| EffectiveGroup {
                        id: g.id,
                        is_active: g.is_active,
                        via: *via,
                        product_lines: lines_by_group.get(&g.id).cloned().unwrap_or_default(),
                    })
                    .collect(),
                links: groups
                    .iter()
                    .flat_map(|(g, _)| links_by_group.get(&g.id).into_iter().flatten().cloned())
                    .collect(),
            };
            let key = customer.as_ref().map(|c| c.id);
            let type_group = customer
                .as_ref()
                .and_then(|c| type_groups.get(&c.type_group_id).cloned());
            (
                key,
                Profile {
                    customer,
                    type_group,
                    groups,
                    shopper,
                },
            )
        })
        .collect())
}

fn list_info(list: &price_list::Model) -> ListInfo {
    ListInfo {
        id: list.id,
        list_type: list.list_type,
        status: list.status,
        starts_at: list.starts_at,
        ends_at: list.ends_at,
        created_at: list.created_at,
    }
}

/// A validated price question about many products for one shopper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceQuery {
    pub customer_id: Option<Uuid>,
    pub currency: CurrencyCode,
    pub at: DateTime<Utc>,
    pub strategy: Strategy,
    /// (product id, quantity), in the caller's order.
    pub items: Vec<(Uuid, i32)>,
    /// Whether to explain each answer; it costs a walk over every candidate.
    pub explain: bool,
}

/// One answer, in the order of the question's items.
#[derive(Clone, Debug)]
pub struct PricedItem {
    pub product_id: Uuid,
    /// The product, when this call read it (not when the caller knew it already).
    pub product: Option<product::Model>,
    pub quantity: i32,
    pub currency: CurrencyCode,
    pub resolved: Resolved,
}

/// A quantity argument: a whole number from 1.
pub fn quantity(field: &str, raw: i64) -> Result<i32, UserError> {
    i32::try_from(raw).ok().filter(|q| *q >= 1).ok_or_else(|| {
        UserError::new(
            &[field],
            UserErrorCode::InvalidQuantity,
            format!("{field} must be a whole number from 1 to {}, got {raw}", i32::MAX),
        )
    })
}

/// Checks the arguments of a price question as the caller sent them.
pub fn price_query(
    customer_id: Option<&str>,
    currency: &str,
    at: Option<DateTime<Utc>>,
    strategy: Strategy,
    items: &[(String, i64)],
    now: DateTime<Utc>,
) -> Result<PriceQuery, Vec<UserError>> {
    let mut problems = Problems::default();
    let customer_id = customer_id.and_then(|raw| problems.check(parse_id(&["customerId"], "customer", raw)));
    let currency = problems.check(super::prices::currency(currency));
    if items.len() > MAX_ITEMS {
        problems.push(UserError::new(
            &["items"],
            UserErrorCode::TooMany,
            format!("at most {MAX_ITEMS} items per call, got {}", items.len()),
        ));
    }
    let mut parsed = Vec::with_capacity(items.len());
    for (index, (product_id, quantity)) in items.iter().enumerate().take(MAX_ITEMS) {
        let at = ["items", &index.to_string()];
        let product_id = problems.check(parse_id(&["productId"], "product", product_id).map_err(|e| e.under(&at)));
        let quantity = problems.check(self::quantity("quantity", *quantity).map_err(|e| e.under(&at)));
        if let (Some(product_id), Some(quantity)) = (product_id, quantity) {
            parsed.push((product_id, quantity));
        }
    }
    match (problems.into_result(), currency) {
        (Ok(()), Some(currency)) => Ok(PriceQuery {
            customer_id,
            currency,
            at: at.unwrap_or(now),
            strategy,
            items: parsed,
            explain: true,
        }),
        (Err(crate::error::ServiceError::Invalid(errors)), _) => Err(errors),
        _ => Err(vec![]),
    }
}

/// Answers a price question in a fixed number of statements: the products,
/// the shopper, and their base and list prices (fewer when cached).
pub async fn resolve_prices(store: &Db, query: &PriceQuery) -> ServiceResult<Vec<PricedItem>> {
    let shopper = shopper(store, query.customer_id).await?;
    let product_ids: BTreeSet<Uuid> = query.items.iter().map(|(id, _)| *id).collect();
    let products = products_by_id(store, &product_ids).await?;
    let mut problems = Problems::default();
    for (index, (id, _)) in query.items.iter().enumerate() {
        if !products.contains_key(id) {
            problems.push(UserError::not_found(
                &["items", &index.to_string(), "productId"],
                "product",
                &id.to_string(),
            ));
        }
    }
    problems.into_result()?;
    let lines = products.iter().map(|(id, p)| (*id, p.product_line_id)).collect();
    let mut priced = price_products(store, &shopper, query, &lines).await?;
    for item in &mut priced {
        item.product = products.get(&item.product_id).map(|p| product::Model::clone(p));
    }
    Ok(priced)
}

/// The products among `ids` that exist: from the cache, the rest in one
/// statement.
async fn products_by_id(store: &Db, ids: &BTreeSet<Uuid>) -> ServiceResult<HashMap<Uuid, Arc<product::Model>>> {
    let mut found = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match store.cache.product(*id) {
            Some(product) => {
                found.insert(*id, product);
            }
            None => missing.push(*id),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let since = store.cache.generation();
    let loaded: Vec<Arc<product::Model>> = product::Entity::find()
        .filter(product::Column::Id.is_in(missing))
        .all(&store.conn)
        .await?
        .into_iter()
        .map(Arc::new)
        .collect();
    store.cache.fill(since, |fill| {
        for product in &loaded {
            fill.product(product.clone());
        }
    });
    found.extend(loaded.into_iter().map(|p| (p.id, p)));
    Ok(found)
}

/// Answers a price question about products the caller has already read
/// (`Product.resolvedPrice`): `lines` gives each product's line.
pub async fn resolve_known_products(
    store: &Db,
    query: &PriceQuery,
    lines: &HashMap<Uuid, Option<Uuid>>,
) -> ServiceResult<Vec<PricedItem>> {
    let shopper = shopper(store, query.customer_id).await?;
    price_products(store, &shopper, query, lines).await
}

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

/// The parts one read of [`shopper_statement`], or of Redis, found.
#[derive(Default)]
struct LoadedParts {
    customers: HashMap<Uuid, Arc<CustomerEntry>>,
    organizations: HashMap<Uuid, Arc<Vec<Uuid>>>,
    groups: HashMap<Uuid, Arc<GroupEntry>>,
    lists: HashMap<Uuid, Arc<ListInfo>>,
}

impl LoadedParts {
    /// Reads `keys` from Redis into these parts: the epoch and whether every
    /// key was there, or `None` when Redis failed.
    async fn take(&mut self, shared: &Shared, keys: Vec<Key>) -> Option<(Epoch, bool)> {
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
    fn fill_local(&self, cache: &Cache, since: Generation) {
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
    fn entries(&self) -> Vec<(Key, Entry)> {
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

/// Builds the shopper from its parts (SPEC §3): the organization's groups
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
/// read, by [`assemble`] (SPEC §3).
pub async fn shopper(store: &Db, customer_id: Option<Uuid>) -> ServiceResult<Shopper> {
    if let Some(shopper) = assemble(&*store.cache, customer_id) {
        return Ok(shopper);
    }
    let since = store.cache.generation();
    store
        .cache
        .shopper_loads
        .share(customer_id, since, || load_shopper(store, customer_id, since))
        .await
}

/// [`shopper`]'s read, for when the in-process cache cannot answer; fills
/// the caches it passed.
async fn load_shopper(store: &Db, customer_id: Option<Uuid>, since: Generation) -> ServiceResult<Shopper> {
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
    let parts = read_shopper(&store.conn, customer_id).await?;
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
async fn shared_parts(shared: &Shared, customer_id: Option<Uuid>) -> Option<(Epoch, Option<LoadedParts>)> {
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

/// [`shopper_statement`], read into parts.
async fn read_shopper(db: &DatabaseConnection, customer_id: Option<Uuid>) -> ServiceResult<LoadedParts> {
    let rows = db.query_all(&shopper_statement(customer_id)).await?;
    let mut customer: Option<(Uuid, Option<Uuid>)> = None;
    let mut organization_groups: Vec<Uuid> = Vec::new();
    let mut own_groups: Vec<Uuid> = Vec::new();
    let mut groups: HashMap<Uuid, GroupEntry> = HashMap::new();
    let mut lists: HashMap<Uuid, Arc<ListInfo>> = HashMap::new();
    for row in rows {
        let reach: String = row.try_get("", "reach")?;
        let group_id = || -> Result<Uuid, sea_orm::DbErr> { row.try_get("", "group_id") };
        let mut group = |id: Uuid| -> Result<(), sea_orm::DbErr> {
            groups.entry(id).or_default().is_active = row.try_get("", "is_active")?;
            Ok(())
        };
        match reach.as_str() {
            "C" => customer = Some((row.try_get("", "owner")?, row.try_get("", "group_id")?)),
            "E" => group(group_id()?)?,
            "O" => {
                organization_groups.push(group_id()?);
                group(group_id()?)?;
            }
            "M" => {
                own_groups.push(group_id()?);
                group(group_id()?)?;
            }
            "L" => {
                let list_type: String = row.try_get("", "list_type")?;
                let status: String = row.try_get("", "list_status")?;
                let list = ListInfo {
                    id: row.try_get("", "list_id")?,
                    list_type: PriceListType::try_from_value(&list_type)?,
                    status: PriceListStatus::try_from_value(&status)?,
                    starts_at: row.try_get("", "starts_at")?,
                    ends_at: row.try_get("", "ends_at")?,
                    created_at: row.try_get("", "list_created_at")?,
                };
                let priority: i32 = row.try_get("", "priority")?;
                groups.entry(group_id()?).or_default().links.push((list.id, priority));
                lists.insert(list.id, Arc::new(list));
            }
            _ => {
                let line: Uuid = row.try_get("", "line_id")?;
                groups.entry(group_id()?).or_default().product_lines.push(line);
            }
        }
    }
    let mut parts = LoadedParts {
        groups: groups.into_iter().map(|(id, group)| (id, Arc::new(group))).collect(),
        lists,
        ..LoadedParts::default()
    };
    if let Some((id, organization_id)) = customer {
        parts.customers.insert(
            id,
            Arc::new(CustomerEntry {
                organization_id,
                groups: own_groups,
            }),
        );
        if let Some(organization) = organization_id {
            parts.organizations.insert(organization, Arc::new(organization_groups));
        }
    }
    Ok(parts)
}

/// The branches of [`shopper`]'s statement share one column list; each
/// fills its own columns and leaves the rest typed NULLs.
fn shopper_statement(customer_id: Option<Uuid>) -> sea_orm::sea_query::SelectStatement {
    use entity::{customer_group_price_list as link, customer_group_product_line as group_line};
    use sea_orm::sea_query::SimpleExpr;

    #[derive(Default)]
    struct Branch {
        owner: Option<SimpleExpr>,
        group_id: Option<SimpleExpr>,
        is_active: Option<SimpleExpr>,
        priority: Option<SimpleExpr>,
        list: Option<[SimpleExpr; 6]>,
        line_id: Option<SimpleExpr>,
    }
    let select = |reach: &str, branch: Branch| {
        let none_uuid = || Expr::val(Option::<Uuid>::None);
        let none_time = || Expr::val(Option::<chrono::DateTime<Utc>>::None);
        let none_text = || Expr::val(Option::<String>::None);
        let [list_id, list_type, list_status, starts_at, ends_at, list_created_at] = branch.list.unwrap_or_else(|| {
            [
                none_uuid(),
                none_text(),
                none_text(),
                none_time(),
                none_time(),
                none_time(),
            ]
        });
        Query::select()
            .expr_as(Expr::val(reach), Alias::new("reach"))
            .expr_as(branch.owner.unwrap_or_else(none_uuid), Alias::new("owner"))
            .expr_as(branch.group_id.unwrap_or_else(none_uuid), Alias::new("group_id"))
            .expr_as(
                branch.is_active.unwrap_or_else(|| Expr::val(Option::<bool>::None)),
                Alias::new("is_active"),
            )
            .expr_as(
                branch.priority.unwrap_or_else(|| Expr::val(Option::<i32>::None)),
                Alias::new("priority"),
            )
            .expr_as(list_id, Alias::new("list_id"))
            .expr_as(list_type, Alias::new("list_type"))
            .expr_as(list_status, Alias::new("list_status"))
            .expr_as(starts_at, Alias::new("starts_at"))
            .expr_as(ends_at, Alias::new("ends_at"))
            .expr_as(list_created_at, Alias::new("list_created_at"))
            .expr_as(branch.line_id.unwrap_or_else(none_uuid), Alias::new("line_id"))
            .to_owned()
    };
    let group_columns = |owner: SimpleExpr| Branch {
        owner: Some(owner),
        group_id: Some(Expr::col((customer_group::Entity, customer_group::Column::Id))),
        is_active: Some(Expr::col((customer_group::Entity, customer_group::Column::IsActive))),
        ..Branch::default()
    };

    // Everyone, always.
    let mut statement = select("E", group_columns(Expr::val(Option::<Uuid>::None)))
        .from(customer_group::Entity)
        .and_where(Expr::col((customer_group::Entity, customer_group::Column::Id)).eq(EVERYONE_GROUP_ID))
        .to_owned();
    // The ids of every group the shopper may reach, as one subquery: an
    // `IN` over a `UNION ALL` lets SQLite use the link table's key, where
    // `= … OR IN … OR IN …` made it scan every link.
    let mut reachable = Query::select().expr(Expr::val(EVERYONE_GROUP_ID)).to_owned();

    if let Some(customer_id) = customer_id {
        let organization = Query::select()
            .column(customer::Column::OrganizationId)
            .from(customer::Entity)
            .and_where(Expr::col(customer::Column::Id).eq(customer_id))
            .to_owned();
        let organization_groups = Query::select()
            .column(organization_group::Column::GroupId)
            .from(organization_group::Entity)
            .and_where(Expr::col(organization_group::Column::OrganizationId).in_subquery(organization.clone()))
            .to_owned();
        let own_groups = Query::select()
            .column(membership::Column::GroupId)
            .from(membership::Entity)
            .and_where(Expr::col(membership::Column::CustomerId).eq(customer_id))
            .to_owned();
        statement.union(
            UnionType::All,
            select(
                "C",
                Branch {
                    owner: Some(Expr::col(customer::Column::Id)),
                    group_id: Some(Expr::col(customer::Column::OrganizationId)),
                    ..Branch::default()
                },
            )
            .from(customer::Entity)
            .and_where(Expr::col(customer::Column::Id).eq(customer_id))
            .to_owned(),
        );
        statement.union(
            UnionType::All,
            select("O", group_columns(Expr::val(Option::<Uuid>::None)))
                .from(customer_group::Entity)
                .and_where(
                    Expr::col((customer_group::Entity, customer_group::Column::Id))
                        .in_subquery(organization_groups.clone()),
                )
                .to_owned(),
        );
        statement.union(
            UnionType::All,
            select("M", group_columns(Expr::val(Option::<Uuid>::None)))
                .from(customer_group::Entity)
                .and_where(
                    Expr::col((customer_group::Entity, customer_group::Column::Id)).in_subquery(own_groups.clone()),
                )
                .to_owned(),
        );
        reachable.union(UnionType::All, organization_groups);
        reachable.union(UnionType::All, own_groups);
    }

    let list = |column: price_list::Column| -> SimpleExpr { Expr::col((price_list::Entity, column)) };
    statement.union(
        UnionType::All,
        select(
            "L",
            Branch {
                group_id: Some(Expr::col((link::Entity, link::Column::GroupId))),
                priority: Some(Expr::col((link::Entity, link::Column::Priority))),
                list: Some([
                    list(price_list::Column::Id),
                    list(price_list::Column::ListType),
                    list(price_list::Column::Status),
                    list(price_list::Column::StartsAt),
                    list(price_list::Column::EndsAt),
                    list(price_list::Column::CreatedAt),
                ]),
                ..Branch::default()
            },
        )
        .from(link::Entity)
        .inner_join(
            price_list::Entity,
            Expr::col((price_list::Entity, price_list::Column::Id)).equals((link::Entity, link::Column::PriceListId)),
        )
        .and_where(Expr::col((link::Entity, link::Column::GroupId)).in_subquery(reachable.clone()))
        .to_owned(),
    );
    statement.union(
        UnionType::All,
        select(
            "P",
            Branch {
                group_id: Some(Expr::col(group_line::Column::GroupId)),
                line_id: Some(Expr::col(group_line::Column::ProductLineId)),
                ..Branch::default()
            },
        )
        .from(group_line::Entity)
        .and_where(Expr::col(group_line::Column::GroupId).in_subquery(reachable))
        .to_owned(),
    );
    statement
}

/// Prices `query`'s items for `shopper`: base and list prices in one
/// statement at most.
async fn price_products(
    store: &Db,
    shopper: &Shopper,
    query: &PriceQuery,
    lines: &HashMap<Uuid, Option<Uuid>>,
) -> ServiceResult<Vec<PricedItem>> {
    let product_ids: BTreeSet<Uuid> = query.items.iter().map(|(id, _)| *id).collect();
    let list_ids: BTreeSet<Uuid> = shopper.links.iter().map(|l| l.list.id).collect();
    let offers = offers(store, &product_ids, &list_ids, query.currency).await?;

    let candidates = Candidates::new(shopper, query.at);
    let no_offer = Offer::default();
    let priced: Vec<PricedItem> = query
        .items
        .iter()
        .filter_map(|(product_id, quantity)| {
            let product_line = *lines.get(product_id)?;
            let offer = offers.get(product_id).map_or(&no_offer, |offer| offer.as_ref());
            let resolved = if query.explain {
                candidates.price_and_explain(product_line, offer, *quantity, query.strategy)
            } else {
                candidates.price(product_line, offer, *quantity, query.strategy)
            };
            Some(PricedItem {
                product_id: *product_id,
                product: None,
                quantity: *quantity,
                currency: query.currency,
                resolved,
            })
        })
        .collect();
    store.metrics.resolved(priced.iter().map(|item| item.resolved.source));
    Ok(priced)
}

/// Checks the arguments of a one-product price question (`resolvedPrice`,
/// `Product.resolvedPrice`).
pub fn question_args(
    customer_id: Option<&str>,
    currency: &str,
    quantity: i64,
) -> Result<(Option<Uuid>, CurrencyCode, i32), crate::error::ServiceError> {
    let mut problems = Problems::default();
    let customer_id = customer_id.and_then(|raw| problems.check(parse_id(&["customerId"], "customer", raw)));
    let currency = problems.check(super::prices::currency(currency));
    let quantity = problems.check(self::quantity("quantity", quantity));
    problems.into_result()?;
    match (currency, quantity) {
        (Some(currency), Some(quantity)) => Ok((customer_id, currency, quantity)),
        _ => unreachable!("problems were empty, so every value was checked"),
    }
}

/// The offers of `products` in one currency: from the cache, and the rest
/// in one statement. With the cache on, an offer holds every list's tiers,
/// so it serves every shopper; with it off, only those of `lists`.
async fn offers(
    store: &Db,
    products: &BTreeSet<Uuid>,
    lists: &BTreeSet<Uuid>,
    currency: CurrencyCode,
) -> ServiceResult<HashMap<Uuid, Arc<Offer>>> {
    let cache = &store.cache;
    let mut found = HashMap::with_capacity(products.len());
    let mut missing = Vec::new();
    for id in products {
        match cache.offer(*id, currency) {
            Some(offer) => {
                found.insert(*id, offer);
            }
            None => missing.push(*id),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let since = cache.generation();
    let loaded = if cache.is_enabled() {
        cache
            .offer_loads
            .share((missing.clone(), currency), since, || {
                load_shared_offers(store, &missing, currency, since)
            })
            .await?
    } else {
        load_offers(store, &missing, Some(lists), currency, since).await?
    };
    found.extend(loaded);
    Ok(found)
}

/// The offers the in-process cache did not have: from Redis, the rest from
/// the database; fills the caches it passed.
async fn load_shared_offers(
    store: &Db,
    missing: &[Uuid],
    currency: CurrencyCode,
    since: Generation,
) -> ServiceResult<HashMap<Uuid, Arc<Offer>>> {
    let Some(shared) = store.cache.shared() else {
        return load_offers(store, missing, None, currency, since).await;
    };
    let keys: Vec<Key> = missing.iter().map(|id| Key::Prices(*id, currency)).collect();
    let Some((epoch, entries)) = shared.get(&keys).await else {
        return load_offers(store, missing, None, currency, since).await;
    };
    let mut found = HashMap::with_capacity(missing.len());
    let mut unread = Vec::new();
    for (id, entry) in missing.iter().zip(entries) {
        match entry {
            Some(Entry::Prices(offer)) => {
                found.insert(*id, Arc::new(offer));
            }
            _ => unread.push(*id),
        }
    }
    store.cache.fill(since, |fill| {
        for (id, offer) in &found {
            fill.offer(*id, currency, offer.clone());
        }
    });
    if !unread.is_empty() {
        let loaded = load_offers(store, &unread, None, currency, since).await?;
        let entries: Vec<(Key, Entry)> = loaded
            .iter()
            .map(|(id, offer)| (Key::Prices(*id, currency), Entry::Prices(Offer::clone(offer))))
            .collect();
        shared.fill(epoch, &entries).await;
        found.extend(loaded);
    }
    Ok(found)
}

/// [`offers`]' read of the offers the caches did not have; fills the
/// in-process cache.
async fn load_offers(
    store: &Db,
    missing: &[Uuid],
    only_lists: Option<&BTreeSet<Uuid>>,
    currency: CurrencyCode,
    since: Generation,
) -> ServiceResult<HashMap<Uuid, Arc<Offer>>> {
    let cache = &store.cache;
    let mut base: HashMap<Uuid, Vec<BaseTier>> = HashMap::new();
    let mut list_tiers: HashMap<Uuid, Vec<(Uuid, Tier)>> = HashMap::new();
    for row in store
        .conn
        .query_all(&offers_statement(missing, only_lists, currency))
        .await?
    {
        let product_id: Uuid = row.try_get("", "product_id")?;
        let min_quantity: i32 = row.try_get("", "min_quantity")?;
        let amount: i64 = row.try_get("", "amount_minor")?;
        match row.try_get::<Option<Uuid>>("", "price_list_id")? {
            None => base
                .entry(product_id)
                .or_default()
                .push(BaseTier { min_quantity, amount }),
            Some(list_id) => {
                let max: Option<i32> = row.try_get("", "max_quantity")?;
                list_tiers.entry(product_id).or_default().push((
                    list_id,
                    Tier {
                        min_quantity,
                        // Stored maxima are at least their minimum (a CHECK), so at least 1.
                        max_quantity: max.and_then(NonZeroI32::new),
                        amount,
                    },
                ));
            }
        }
    }
    let loaded: HashMap<Uuid, Offer> = missing
        .iter()
        .map(|id| {
            let offer = Offer {
                base: base.remove(id).unwrap_or_default(),
                list_tiers: list_tiers.remove(id).unwrap_or_default().into_iter().collect(),
            };
            (*id, offer)
        })
        .collect();
    let loaded: HashMap<Uuid, Arc<Offer>> = loaded.into_iter().map(|(id, offer)| (id, Arc::new(offer))).collect();
    cache.fill(since, |fill| {
        for (id, offer) in &loaded {
            fill.offer(*id, currency, offer.clone());
        }
    });
    Ok(loaded)
}

/// The base prices of `products` and their list prices (in `lists` only,
/// when given) in one currency: one `UNION ALL`, a base row has no list.
fn offers_statement(
    products: &[Uuid],
    lists: Option<&BTreeSet<Uuid>>,
    currency: CurrencyCode,
) -> sea_orm::sea_query::SelectStatement {
    let mut statement = Query::select()
        .expr_as(Expr::col(base_price::Column::ProductId), Alias::new("product_id"))
        .expr_as(Expr::val(Option::<Uuid>::None), Alias::new("price_list_id"))
        .expr_as(Expr::col(base_price::Column::MinQuantity), Alias::new("min_quantity"))
        .expr_as(Expr::val(Option::<i32>::None), Alias::new("max_quantity"))
        .expr_as(Expr::col(base_price::Column::AmountMinor), Alias::new("amount_minor"))
        .from(base_price::Entity)
        .and_where(base_price::Column::ProductId.is_in(products.iter().copied()))
        .and_where(base_price::Column::Currency.eq(currency.code()))
        .to_owned();
    if lists.is_none_or(|lists| !lists.is_empty()) {
        let mut list_prices = Query::select()
            .columns([
                price::Column::ProductId,
                price::Column::PriceListId,
                price::Column::MinQuantity,
                price::Column::MaxQuantity,
                price::Column::AmountMinor,
            ])
            .from(price::Entity)
            .and_where(price::Column::ProductId.is_in(products.iter().copied()))
            .and_where(price::Column::Currency.eq(currency.code()))
            .to_owned();
        if let Some(lists) = lists {
            list_prices.and_where(price::Column::PriceListId.is_in(lists.iter().copied()));
        }
        statement.union(UnionType::All, list_prices);
    }
    statement
}

/// How a group is reachable for the shoppers of one call.
enum Reach {
    Everyone,
    Organization(Uuid),
    Member(Uuid),
}

/// `Everyone`, the organizations' groups and the customers' own groups, in
/// one statement (`UNION ALL` of the three, each row tagged with its owner).
async fn reachable_groups(
    db: &DatabaseConnection,
    customers: &[customer::Model],
    organizations: &BTreeSet<Uuid>,
) -> ServiceResult<Vec<(Reach, customer_group::Model)>> {
    let groups = |reach: &str, owner: Expr| {
        let mut select = Query::select();
        select
            .expr_as(Expr::val(reach), Alias::new("reach"))
            .expr_as(owner, Alias::new("owner"));
        for column in customer_group::Column::iter() {
            select.expr_as(Expr::col((customer_group::Entity, column)), Alias::new(column.as_str()));
        }
        select.from(customer_group::Entity).to_owned()
    };
    let mut statement = groups("E", Expr::val(Option::<Uuid>::None))
        .and_where(Expr::col((customer_group::Entity, customer_group::Column::Id)).eq(EVERYONE_GROUP_ID))
        .to_owned();
    if !organizations.is_empty() {
        let by_organization = groups(
            "O",
            Expr::col((organization_group::Entity, organization_group::Column::OrganizationId)),
        )
        .inner_join(
            organization_group::Entity,
            Expr::col((organization_group::Entity, organization_group::Column::GroupId))
                .equals((customer_group::Entity, customer_group::Column::Id)),
        )
        .and_where(
            Expr::col((organization_group::Entity, organization_group::Column::OrganizationId))
                .is_in(organizations.iter().copied()),
        )
        .to_owned();
        statement.union(UnionType::All, by_organization);
    }
    if !customers.is_empty() {
        let by_membership = groups("M", Expr::col((membership::Entity, membership::Column::CustomerId)))
            .inner_join(
                membership::Entity,
                Expr::col((membership::Entity, membership::Column::GroupId))
                    .equals((customer_group::Entity, customer_group::Column::Id)),
            )
            .and_where(
                Expr::col((membership::Entity, membership::Column::CustomerId)).is_in(customers.iter().map(|c| c.id)),
            )
            .to_owned();
        statement.union(UnionType::All, by_membership);
    }
    let mut reachable = Vec::new();
    for row in db.query_all(&statement).await? {
        let group = customer_group::Model::from_query_result(&row, "")?;
        let owner: Option<Uuid> = row.try_get("", "owner")?;
        let reach = match (row.try_get::<String>("", "reach")?.as_str(), owner) {
            ("O", Some(id)) => Reach::Organization(id),
            ("M", Some(id)) => Reach::Member(id),
            _ => Reach::Everyone,
        };
        reachable.push((reach, group));
    }
    Ok(reachable)
}
