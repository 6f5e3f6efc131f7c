//! Per-request DataLoaders: every relation of the API loads through one of
//! these, one statement per batch, whatever the number of parents.
//!
//! Loaders are created for each request by the HTTP handler and never shared
//! between requests, so no request sees another's data. Their batch delay is
//! zero: sibling fields register their keys in the same poll, and a storefront
//! request should not wait a millisecond per level (SPEC §1).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{
    base_price, customer, customer_group, customer_group_price_list as link, customer_group_product_line as group_line,
    membership, organization, organization_group, price_list, product, product_line,
};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::db::Db;

pub type LoadError = Arc<DbErr>;

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
    price_list
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
            .await?;
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

/// A customer's own `PRICING` groups (its memberships), by name.
pub struct GroupsByCustomerLoader(DatabaseConnection);

impl Loader<Uuid> for GroupsByCustomerLoader {
    type Value = Vec<customer_group::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = membership::Entity::find()
            .filter(membership::Column::CustomerId.is_in(keys.iter().copied()))
            .find_also_related(customer_group::Entity)
            .order_by_asc(customer_group::Column::NameKey)
            .all(&self.0)
            .await?;
        Ok(group_by_key(
            keys,
            rows.into_iter().filter_map(|(m, group)| Some((m.customer_id, group?))),
        ))
    }
}

/// An organization's `PRICING` groups, by name.
pub struct GroupsByOrganizationLoader(DatabaseConnection);

impl Loader<Uuid> for GroupsByOrganizationLoader {
    type Value = Vec<customer_group::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = organization_group::Entity::find()
            .filter(organization_group::Column::OrganizationId.is_in(keys.iter().copied()))
            .find_also_related(customer_group::Entity)
            .order_by_asc(customer_group::Column::NameKey)
            .all(&self.0)
            .await?;
        Ok(group_by_key(
            keys,
            rows.into_iter()
                .filter_map(|(link, group)| Some((link.organization_id, group?))),
        ))
    }
}

/// A link between a group and a price list, with the list.
#[derive(Clone, Debug)]
pub struct LinkWithList {
    pub link: link::Model,
    pub price_list: price_list::Model,
}

/// A group's price lists in the order resolution walks them: priority, then
/// the list's creation time, then its id (SPEC §4 step 4).
pub struct PriceListLinksByGroupLoader(DatabaseConnection);

impl Loader<Uuid> for PriceListLinksByGroupLoader {
    type Value = Vec<LinkWithList>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = link::Entity::find()
            .filter(link::Column::GroupId.is_in(keys.iter().copied()))
            .find_also_related(price_list::Entity)
            .order_by_asc(link::Column::Priority)
            .order_by_asc(price_list::Column::CreatedAt)
            .order_by_asc(price_list::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group_by_key(
            keys,
            rows.into_iter().filter_map(|(link, list)| {
                Some((
                    link.group_id,
                    LinkWithList {
                        link,
                        price_list: list?,
                    },
                ))
            }),
        ))
    }
}

/// A link between a group and a price list, with the group.
#[derive(Clone, Debug)]
pub struct LinkWithGroup {
    pub link: link::Model,
    pub group: customer_group::Model,
}

/// The groups a price list is linked to, by priority then group name.
pub struct GroupLinksByPriceListLoader(DatabaseConnection);

impl Loader<Uuid> for GroupLinksByPriceListLoader {
    type Value = Vec<LinkWithGroup>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = link::Entity::find()
            .filter(link::Column::PriceListId.is_in(keys.iter().copied()))
            .find_also_related(customer_group::Entity)
            .order_by_asc(link::Column::Priority)
            .order_by_asc(customer_group::Column::NameKey)
            .all(&self.0)
            .await?;
        Ok(group_by_key(
            keys,
            rows.into_iter()
                .filter_map(|(link, group)| Some((link.price_list_id, LinkWithGroup { link, group: group? }))),
        ))
    }
}

/// The product lines a group may order from, by name.
pub struct ProductLinesByGroupLoader(DatabaseConnection);

impl Loader<Uuid> for ProductLinesByGroupLoader {
    type Value = Vec<product_line::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = group_line::Entity::find()
            .filter(group_line::Column::GroupId.is_in(keys.iter().copied()))
            .find_also_related(product_line::Entity)
            .order_by_asc(product_line::Column::Name)
            .all(&self.0)
            .await?;
        Ok(group_by_key(
            keys,
            rows.into_iter().filter_map(|(link, line)| Some((link.group_id, line?))),
        ))
    }
}

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
            .await?;
        Ok(group_by_key(keys, rows.into_iter().map(|row| (row.product_id, row))))
    }
}

/// The loaders of one request.
pub struct Loaders {
    pub customers: DataLoader<ById<customer::Entity>>,
    pub groups: DataLoader<ById<customer_group::Entity>>,
    pub organizations: DataLoader<ById<organization::Entity>>,
    pub products: DataLoader<ById<product::Entity>>,
    pub product_lines: DataLoader<ById<product_line::Entity>>,
    pub price_lists: DataLoader<ById<price_list::Entity>>,
    pub groups_by_customer: DataLoader<GroupsByCustomerLoader>,
    pub groups_by_organization: DataLoader<GroupsByOrganizationLoader>,
    pub price_list_links_by_group: DataLoader<PriceListLinksByGroupLoader>,
    pub group_links_by_price_list: DataLoader<GroupLinksByPriceListLoader>,
    pub product_lines_by_group: DataLoader<ProductLinesByGroupLoader>,
    pub base_prices_by_product: DataLoader<BasePricesByProductLoader>,
}

fn loader<T: Send + Sync + 'static>(inner: T) -> DataLoader<T> {
    DataLoader::new(inner, tokio::spawn).delay(Duration::ZERO)
}

fn by_id<E>(db: &DatabaseConnection) -> DataLoader<ById<E>>
where
    ById<E>: Send + Sync + 'static,
{
    loader(ById {
        db: db.clone(),
        entity: PhantomData,
    })
}

impl Loaders {
    pub fn new(db: &Db) -> Self {
        let conn = &db.conn;
        Self {
            customers: by_id(conn),
            groups: by_id(conn),
            organizations: by_id(conn),
            products: by_id(conn),
            product_lines: by_id(conn),
            price_lists: by_id(conn),
            groups_by_customer: loader(GroupsByCustomerLoader(conn.clone())),
            groups_by_organization: loader(GroupsByOrganizationLoader(conn.clone())),
            price_list_links_by_group: loader(PriceListLinksByGroupLoader(conn.clone())),
            group_links_by_price_list: loader(GroupLinksByPriceListLoader(conn.clone())),
            product_lines_by_group: loader(ProductLinesByGroupLoader(conn.clone())),
            base_prices_by_product: loader(BasePricesByProductLoader(conn.clone())),
        }
    }
}

/// The request's loaders.
pub fn loaders<'a>(ctx: &async_graphql::Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}
