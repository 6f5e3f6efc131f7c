//! Per-request DataLoaders: every relation of the API loads through one of
//! these, one statement per batch, whatever the number of parents. Those
//! that pricing reads too (customers' and organizations' groups, groups'
//! price lists, and the rows of customers, groups, lists and organizations)
//! ask the store, which answers from the cache when it can
//! ([`crate::store::relations`], [`crate::store::rows`]): no statement at
//! all when warm.
//!
//! Loaders are created for each request by the HTTP handler and never shared
//! between requests, so no request sees another's data. Their batch delay is
//! zero: sibling fields register their keys in the same poll, and a storefront
//! request should not wait a millisecond per level.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use chrono::{DateTime, Utc};
use entity::{
    base_price, customer, customer_group, customer_group_price_list as link, customer_group_product_line as group_line,
    organization, price, price_list, product, product_line,
};
use sea_orm::sea_query::ValueType;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, ModelTrait, QueryFilter, QueryOrder, Related, SelectTwo};
use uuid::Uuid;

mod relations;
mod webhooks;

use super::batching::LoadQueue;
use crate::domain::Quantity;
use crate::error::ServiceError;
use crate::page::{Page, PageRequest};
use crate::pricing::Shopper;
use crate::service::customers::{self, Owner};
use crate::service::prices::{self, PriceFilter};
use crate::service::resolution::{self, KnownProduct, PriceQuestion, PricedItem};
use crate::service::usage::{self, Activity, Reach};
use crate::store::Store;
use crate::store::profiles::Profile;
pub use relations::{
    GroupsByCustomerLoader, GroupsByOrganizationLoader, LinksByPairLoader, PriceListLinksByGroupLoader,
};
pub use webhooks::{AttemptsByDeliveryLoader, DeliveryCountsLoader, DeliveryPagesLoader};

/// A loader's failure: the service's error, shared by every field that
/// waited on the batch.
pub type LoadError = Arc<ServiceError>;

fn load_error(error: impl Into<ServiceError>) -> LoadError {
    Arc::new(error.into())
}

/// Entities whose primary key is a single `id` uuid.
pub trait IdEntity: EntityTrait {
    const ID: Self::Column;
    fn id(model: &Self::Model) -> Uuid;
}

macro_rules! id_entities {
    ($($module:ident),*) => {$(
        impl IdEntity for $module::Entity {
            const ID: Self::Column = $module::Column::Id;
            fn id(model: &Self::Model) -> Uuid {
                model.id
            }
        }
    )*};
}
id_entities!(
    customer,
    customer_group,
    organization,
    product,
    product_line,
    price_list,
    price,
    base_price
);

/// Loads rows of `E` by id.
pub struct ById<E> {
    db: DatabaseConnection,
    entity: PhantomData<fn() -> E>,
}

impl<E> Loader<Uuid> for ById<E>
where
    E: IdEntity,
    E::Model: Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = E::find()
            .filter(E::ID.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(load_error)?;
        Ok(rows.into_iter().map(|row| (E::id(&row), row)).collect())
    }
}

/// Groups every row under its parent key, with an empty list for every
/// requested key that matched nothing.
fn group_by_key<V>(keys: &[Uuid], rows: impl IntoIterator<Item = (Uuid, V)>) -> HashMap<Uuid, Vec<V>> {
    let mut grouped: HashMap<Uuid, Vec<V>> = keys.iter().map(|key| (*key, Vec::new())).collect();
    for (key, value) in rows {
        grouped.entry(key).or_default().push(value);
    }
    grouped
}

/// A many-to-many relation through a junction table, as a loader reads
/// it: the junction's column that holds the key, the target it joins, and
/// the order of each key's rows.
pub trait Junction: Send + Sync + 'static {
    type Link: EntityTrait + Related<Self::Target>;
    type Target: EntityTrait;
    fn key_column() -> <Self::Link as EntityTrait>::Column;
    fn order(select: SelectTwo<Self::Link, Self::Target>) -> SelectTwo<Self::Link, Self::Target>;
}

/// Rows related to each key through a [`Junction`], with their junction
/// row: one join, one statement per batch; every key present (an empty
/// list when nothing matched).
pub struct Through<J>(DatabaseConnection, PhantomData<fn() -> J>);

type LinkedRows<J> = Vec<(
    <<J as Junction>::Link as EntityTrait>::Model,
    <<J as Junction>::Target as EntityTrait>::Model,
)>;

impl<J: Junction> Loader<Uuid> for Through<J>
where
    <J::Link as EntityTrait>::Model: Clone + Send + Sync,
    <J::Target as EntityTrait>::Model: Clone + Send + Sync,
{
    type Value = LinkedRows<J>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let select = J::Link::find()
            .filter(J::key_column().is_in(keys.iter().copied()))
            .find_also_related(J::Target::default());
        let rows = J::order(select).all(&self.0).await.map_err(load_error)?;
        Ok(group_by_key(
            keys,
            rows.into_iter().filter_map(|(link, target)| {
                let key = <Uuid as ValueType>::try_from(link.get(J::key_column())).ok()?;
                Some((key, (link, target?)))
            }),
        ))
    }
}

/// Declares a [`Junction`] and the loader type named after what it returns.
macro_rules! junction {
    ($(#[$doc:meta])* $loader:ident, $name:ident: $link:ident . $key:ident -> $target:ident, |$select:ident| $order:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl Junction for $name {
            type Link = $link::Entity;
            type Target = $target::Entity;
            fn key_column() -> $link::Column {
                $link::Column::$key
            }
            fn order($select: SelectTwo<$link::Entity, $target::Entity>) -> SelectTwo<$link::Entity, $target::Entity> {
                $order
            }
        }

        $(#[$doc])*
        pub type $loader = Through<$name>;
    };
}

junction!(
    /// The groups a price list is linked to (with the links), by priority
    /// then group name.
    GroupLinksByPriceListLoader, GroupsOfPriceList: link.PriceListId -> customer_group,
    |select| select
        .order_by_asc(link::Column::Priority)
        .order_by_asc(customer_group::Column::NameKey)
);
junction!(
    /// The product lines a group may order from, by name.
    ProductLinesByGroupLoader, ProductLinesOfGroup: group_line.GroupId -> product_line,
    |select| select.order_by_asc(product_line::Column::Name)
);

/// A product's base prices, by currency then tier.
pub struct BasePricesByProductLoader(DatabaseConnection);

impl Loader<Uuid> for BasePricesByProductLoader {
    type Value = Vec<base_price::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = base_price::Entity::find()
            .filter(base_price::Column::ProductId.is_in(keys.iter().copied()))
            .order_by_asc(base_price::Column::Currency)
            .order_by_asc(base_price::Column::MinQuantity)
            .all(&self.0)
            .await
            .map_err(load_error)?;
        Ok(group_by_key(keys, rows.into_iter().map(|row| (row.product_id, row))))
    }
}

/// Splits keys that carry a page request into one list per request.
fn by_request<K: Copy>(keys: &[(K, PageRequest)]) -> Vec<(PageRequest, Vec<K>)> {
    let mut batches: Vec<(PageRequest, Vec<K>)> = Vec::new();
    for (key, request) in keys {
        match batches.iter_mut().find(|(r, _)| r == request) {
            Some((_, keys)) => keys.push(*key),
            None => batches.push((*request, vec![*key])),
        }
    }
    batches
}

/// Pages of nested customer connections (`CustomerGroup.customers`,
/// `Organization.customers`): one statement per kind of owner and page request.
pub struct CustomerPagesLoader(DatabaseConnection);

impl Loader<(Owner, PageRequest)> for CustomerPagesLoader {
    type Value = Page<customer::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(Owner, PageRequest)],
    ) -> Result<HashMap<(Owner, PageRequest), Self::Value>, Self::Error> {
        let mut pages = HashMap::new();
        for (request, owners) in by_request(keys) {
            let found = customers::pages_by_owner(&self.0, &owners, request)
                .await
                .map_err(load_error)?;
            pages.extend(found.into_iter().map(|(owner, page)| ((owner, request), page)));
        }
        Ok(pages)
    }
}

/// `totalCount` of nested customer connections.
pub struct CustomerCountsLoader(DatabaseConnection);

impl Loader<Owner> for CustomerCountsLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[Owner]) -> Result<HashMap<Owner, u64>, Self::Error> {
        customers::counts_by_owner(&self.0, keys).await.map_err(load_error)
    }
}

/// Pages of `PriceList.prices`: one statement per filter and page request.
pub struct PricePagesLoader(DatabaseConnection);

impl Loader<(PriceFilter, PageRequest)> for PricePagesLoader {
    type Value = Page<price::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(PriceFilter, PageRequest)],
    ) -> Result<HashMap<(PriceFilter, PageRequest), Self::Value>, Self::Error> {
        let mut pages = HashMap::new();
        for (request, filters) in by_request(keys) {
            let found = prices::pages_by_list(&self.0, &filters, request)
                .await
                .map_err(load_error)?;
            pages.extend(found.into_iter().map(|(filter, page)| ((filter, request), page)));
        }
        Ok(pages)
    }
}

/// `totalCount` of `PriceList.prices`.
pub struct PriceCountsLoader(DatabaseConnection);

impl Loader<PriceFilter> for PriceCountsLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[PriceFilter]) -> Result<HashMap<PriceFilter, u64>, Self::Error> {
        prices::counts_by_list(&self.0, keys).await.map_err(load_error)
    }
}

/// Customers' shopper profiles: effective groups, links, product lines and
/// exemption sources, in a fixed number of statements for any number of customers.
pub struct ProfilesLoader(DatabaseConnection);

impl Loader<Uuid> for ProfilesLoader {
    type Value = Profile;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Profile>, Self::Error> {
        let customers = customer::Entity::find()
            .filter(customer::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await
            .map_err(load_error)?;
        let profiles = crate::store::profiles::profiles(&self.0, &customers, false, true)
            .await
            .map_err(load_error)?;
        Ok(profiles
            .into_iter()
            .filter_map(|(id, profile)| Some((id?, profile)))
            .collect())
    }
}

/// Products read together — a page, one batch of the products loader, or a
/// lone product — are priced together: each distinct question (shopper,
/// currency, `at`, strategy) at each quantity is answered once for all of
/// them, in the statements of one resolution. This is the one batching
/// path of `Product.resolvedPrice`, on a page or off it.
pub struct ProductPrices {
    products: Vec<KnownProduct>,
    answers: Mutex<HashMap<(PriceQuestion, Quantity), Arc<Answers>>>,
    /// A shopper read beside the products, and whose (see
    /// [`resolution::read_ahead`]).
    ahead: Option<(Option<Uuid>, Shopper)>,
}

type Answers = tokio::sync::OnceCell<Result<HashMap<Uuid, PricedItem>, LoadError>>;

impl ProductPrices {
    pub fn new<'a>(products: impl IntoIterator<Item = &'a product::Model>) -> Arc<Self> {
        Self::with_shopper(products, None)
    }

    /// With the shopper a question about them will ask for, read already.
    pub fn with_shopper<'a>(
        products: impl IntoIterator<Item = &'a product::Model>,
        ahead: Option<(Option<Uuid>, Shopper)>,
    ) -> Arc<Self> {
        Arc::new(Self {
            products: products.into_iter().map(KnownProduct::from).collect(),
            answers: Mutex::default(),
            ahead,
        })
    }

    /// The answer to `question` at `quantity` for `product`, one of these.
    pub async fn answer(
        &self,
        store: &Store,
        question: PriceQuestion,
        quantity: Quantity,
        product: Uuid,
    ) -> Result<Option<PricedItem>, LoadError> {
        let answers = self
            .answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((question, quantity))
            .or_default()
            .clone();
        let answers = answers
            .get_or_init(|| async {
                let ahead = self
                    .ahead
                    .as_ref()
                    .filter(|(customer, _)| *customer == question.customer_id)
                    .map(|(_, shopper)| shopper);
                let priced = resolution::resolve_known(store, &question, &self.products, quantity, ahead)
                    .await
                    .map_err(load_error)?;
                Ok(priced.into_iter().map(|item| (item.product_id, item)).collect())
            })
            .await;
        match answers {
            Ok(answers) => Ok(answers.get(&product).cloned()),
            Err(error) => Err(error.clone()),
        }
    }
}

/// A product with the others it was read with (see [`ProductPrices`]).
#[derive(Clone)]
pub struct ReadProduct {
    pub model: Arc<product::Model>,
    pub together: Arc<ProductPrices>,
}

/// Products by id; each batch is priced together.
pub struct ProductsLoader(ById<product::Entity>);

impl Loader<Uuid> for ProductsLoader {
    type Value = ReadProduct;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, ReadProduct>, Self::Error> {
        let rows = self.0.load(keys).await?;
        let together = ProductPrices::new(rows.values());
        Ok(rows
            .into_iter()
            .map(|(id, row)| {
                let read = ReadProduct {
                    model: Arc::new(row),
                    together: together.clone(),
                };
                (id, read)
            })
            .collect())
    }
}

/// Each group's recent prices and its latest (`GroupUsage`), as of the
/// request's instant: one statement per batch.
pub struct ActivityByGroupLoader {
    db: DatabaseConnection,
    now: DateTime<Utc>,
}

impl Loader<Uuid> for ActivityByGroupLoader {
    type Value = Activity;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Activity>, Self::Error> {
        usage::activity(&self.db, keys, self.now).await.map_err(load_error)
    }
}

/// How many organizations, or price lists, each group has (`GroupUsage`):
/// one statement per batch and kind.
pub struct ReachByGroupLoader(DatabaseConnection);

impl Loader<(Reach, Uuid)> for ReachByGroupLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[(Reach, Uuid)]) -> Result<HashMap<(Reach, Uuid), u64>, Self::Error> {
        let mut counts = HashMap::new();
        for what in [Reach::Organizations, Reach::PriceLists] {
            let groups: Vec<Uuid> = keys.iter().filter(|(w, _)| *w == what).map(|(_, id)| *id).collect();
            if groups.is_empty() {
                continue;
            }
            let found = usage::reach(&self.0, what, &groups).await.map_err(load_error)?;
            counts.extend(found.into_iter().map(|(group, count)| ((what, group), count)));
        }
        Ok(counts)
    }
}

/// Rows by id, read through the store's cache (see [`crate::store::rows`]).
pub struct CachedRows<E>(Store, PhantomData<fn() -> E>);

impl<E> Loader<Uuid> for CachedRows<E>
where
    E: crate::store::rows::CachedRow,
    E::Model: Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = crate::store::rows::by_id::<E>(&self.0, keys)
            .await
            .map_err(load_error)?;
        Ok(rows.into_iter().map(|(id, row)| (id, E::Model::clone(&row))).collect())
    }
}

/// A row by id: from the cache at once when it is there, otherwise
/// through `loader`'s batch. A warm page asks for the same few lists and
/// groups on each of its prices; a batch round per field cost a sale
/// badge's page half its throughput.
pub async fn cached_row<E>(loader: &DataLoader<CachedRows<E>>, id: Uuid) -> Result<Option<E::Model>, LoadError>
where
    E: crate::store::rows::CachedRow,
    E::Model: Clone + Send + Sync,
{
    match E::cached(&loader.loader().0.cache, id) {
        Some(row) => Ok(Some(E::Model::clone(&row))),
        None => loader.load_one(id).await,
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// The request's "now": every price of one request is resolved at the
    /// same instant. `None` for a subscription, whose answers come later,
    /// each at its own "now" ([`Loaders::now`]).
    fixed_now: Option<DateTime<Utc>>,
    pub profiles: DataLoader<ProfilesLoader>,
    pub customers: DataLoader<CachedRows<customer::Entity>>,
    pub groups: DataLoader<CachedRows<customer_group::Entity>>,
    pub organizations: DataLoader<CachedRows<organization::Entity>>,
    pub products: DataLoader<ProductsLoader>,
    pub product_lines: DataLoader<ById<product_line::Entity>>,
    pub price_lists: DataLoader<CachedRows<price_list::Entity>>,
    pub prices: DataLoader<ById<price::Entity>>,
    pub base_prices: DataLoader<ById<base_price::Entity>>,
    pub groups_by_customer: DataLoader<GroupsByCustomerLoader>,
    pub groups_by_organization: DataLoader<GroupsByOrganizationLoader>,
    pub price_list_links_by_group: DataLoader<PriceListLinksByGroupLoader>,
    pub links_by_pair: DataLoader<LinksByPairLoader>,
    pub group_links_by_price_list: DataLoader<GroupLinksByPriceListLoader>,
    pub product_lines_by_group: DataLoader<ProductLinesByGroupLoader>,
    pub base_prices_by_product: DataLoader<BasePricesByProductLoader>,
    pub customer_pages: DataLoader<CustomerPagesLoader>,
    /// Shared with the lazily counted `totalCount` of each connection.
    pub customer_counts: Arc<DataLoader<CustomerCountsLoader>>,
    pub price_pages: DataLoader<PricePagesLoader>,
    pub price_counts: Arc<DataLoader<PriceCountsLoader>>,
    pub group_activity: DataLoader<ActivityByGroupLoader>,
    pub group_reach: DataLoader<ReachByGroupLoader>,
    pub webhook_attempts: DataLoader<AttemptsByDeliveryLoader>,
    pub webhook_deliveries: DataLoader<DeliveryPagesLoader>,
    pub webhook_delivery_counts: Arc<DataLoader<DeliveryCountsLoader>>,
}

impl Loaders {
    /// The loaders of one request; their batches start through `queue`
    /// (see [`super::batching`]), so no delay is needed.
    pub fn new(store: &Store, queue: &LoadQueue) -> Self {
        let conn = store.conn();
        let now = Utc::now();
        Self {
            fixed_now: Some(now),
            profiles: loader(ProfilesLoader(conn.clone()), queue),
            customers: loader(CachedRows(store.clone(), PhantomData), queue),
            groups: loader(CachedRows(store.clone(), PhantomData), queue),
            organizations: loader(CachedRows(store.clone(), PhantomData), queue),
            products: loader(ProductsLoader(by_id(conn)), queue),
            product_lines: loader(by_id(conn), queue),
            price_lists: loader(CachedRows(store.clone(), PhantomData), queue),
            prices: loader(by_id(conn), queue),
            base_prices: loader(by_id(conn), queue),
            groups_by_customer: loader(GroupsByCustomerLoader(store.clone()), queue),
            groups_by_organization: loader(GroupsByOrganizationLoader(store.clone()), queue),
            price_list_links_by_group: loader(PriceListLinksByGroupLoader(store.clone()), queue),
            links_by_pair: loader(LinksByPairLoader(conn.clone()), queue),
            group_links_by_price_list: loader(through(conn), queue),
            product_lines_by_group: loader(through(conn), queue),
            base_prices_by_product: loader(BasePricesByProductLoader(conn.clone()), queue),
            customer_pages: loader(CustomerPagesLoader(conn.clone()), queue),
            customer_counts: Arc::new(loader(CustomerCountsLoader(conn.clone()), queue)),
            price_pages: loader(PricePagesLoader(conn.clone()), queue),
            price_counts: Arc::new(loader(PriceCountsLoader(conn.clone()), queue)),
            group_activity: loader(ActivityByGroupLoader { db: conn.clone(), now }, queue),
            group_reach: loader(ReachByGroupLoader(conn.clone()), queue),
            webhook_attempts: loader(AttemptsByDeliveryLoader(conn.clone()), queue),
            webhook_deliveries: loader(DeliveryPagesLoader(conn.clone()), queue),
            webhook_delivery_counts: Arc::new(loader(DeliveryCountsLoader(conn.clone()), queue)),
        }
    }

    /// The loaders of a subscription: each answer it sends is resolved at
    /// the moment it is sent, not when the subscription started.
    pub fn live(store: &Store, queue: &LoadQueue) -> Self {
        Self {
            fixed_now: None,
            ..Self::new(store, queue)
        }
    }

    /// "Now" for this request's prices.
    pub fn now(&self) -> DateTime<Utc> {
        self.fixed_now.unwrap_or_else(Utc::now)
    }
}

fn loader<T: Send + Sync + 'static>(inner: T, queue: &LoadQueue) -> DataLoader<T> {
    DataLoader::new(inner, queue.spawner()).delay(Duration::ZERO)
}

fn through<J>(db: &DatabaseConnection) -> Through<J> {
    Through(db.clone(), PhantomData)
}

fn by_id<E>(db: &DatabaseConnection) -> ById<E> {
    ById {
        db: db.clone(),
        entity: PhantomData,
    }
}

/// The request's loaders.
pub fn loaders<'a>(ctx: &async_graphql::Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}
