//! The whole pricing world as one snapshot, for the impact preview
//! (docs/api.md#impact-preview): who is in which group, every group's
//! links and product lines, every list, and every product's offers. Read
//! in a fixed number of statements, inside a write's transaction (the
//! world after a change) or outside it (the world before), never through
//! the caches: a preview must see exactly what the transaction sees.

use std::collections::HashMap;

use entity::values::GroupKind;
use entity::{
    base_price, customer, customer_group, customer_group_price_list as link, customer_group_product_line as group_line,
    membership, organization_group, price, price_list, product,
};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect};
use uuid::Uuid;

use crate::money::CurrencyCode;
use crate::pricing::{BaseTier, ListInfo, Offer, Tier};

/// A pricing group as resolution sees it, with its links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupFacts {
    pub is_active: bool,
    pub product_lines: Vec<Uuid>,
    /// (price list, priority).
    pub links: Vec<(Uuid, i32)>,
}

/// Everything resolution reads, for every shopper and product at once.
#[derive(Debug, Default)]
pub struct World {
    /// Pricing groups only (a `TYPE` group prices nothing).
    pub groups: HashMap<Uuid, GroupFacts>,
    pub lists: HashMap<Uuid, ListInfo>,
    /// Every customer and its organization, by id.
    pub customers: Vec<(Uuid, Option<Uuid>)>,
    /// A customer's own pricing groups.
    pub memberships: HashMap<Uuid, Vec<Uuid>>,
    /// An organization's pricing groups.
    pub organizations: HashMap<Uuid, Vec<Uuid>>,
    /// Every product and its line.
    pub products: HashMap<Uuid, Option<Uuid>>,
    /// Every product's offer in every currency it has a price in.
    pub offers: HashMap<(Uuid, CurrencyCode), Offer>,
}

/// Reads the world as `db` sees it: ten statements, whatever its size.
pub async fn read(db: &impl ConnectionTrait) -> Result<World, DbErr> {
    let mut world = World::default();
    let groups: Vec<(Uuid, bool, GroupKind)> = customer_group::Entity::find()
        .select_only()
        .columns([
            customer_group::Column::Id,
            customer_group::Column::IsActive,
            customer_group::Column::Kind,
        ])
        .into_tuple()
        .all(db)
        .await?;
    for (id, is_active, kind) in groups {
        if kind == GroupKind::Pricing {
            world.groups.insert(
                id,
                GroupFacts {
                    is_active,
                    ..GroupFacts::default()
                },
            );
        }
    }
    let lines: Vec<(Uuid, Uuid)> = pairs(
        db,
        group_line::Entity::find(),
        [group_line::Column::GroupId, group_line::Column::ProductLineId],
    )
    .await?;
    for (group, line) in lines {
        if let Some(facts) = world.groups.get_mut(&group) {
            facts.product_lines.push(line);
        }
    }
    let links: Vec<(Uuid, Uuid, i32)> = link::Entity::find()
        .select_only()
        .columns([link::Column::GroupId, link::Column::PriceListId, link::Column::Priority])
        .into_tuple()
        .all(db)
        .await?;
    for (group, list, priority) in links {
        if let Some(facts) = world.groups.get_mut(&group) {
            facts.links.push((list, priority));
        }
    }
    for list in price_list::Entity::find().all(db).await? {
        world.lists.insert(list.id, super::profiles::list_info(&list));
    }
    let mut customers: Vec<(Uuid, Option<Uuid>)> = customer::Entity::find()
        .select_only()
        .columns([customer::Column::Id, customer::Column::OrganizationId])
        .into_tuple()
        .all(db)
        .await?;
    customers.sort_unstable();
    world.customers = customers;
    let members: Vec<(Uuid, Uuid)> = pairs(
        db,
        membership::Entity::find(),
        [membership::Column::CustomerId, membership::Column::GroupId],
    )
    .await?;
    for (customer, group) in members {
        world.memberships.entry(customer).or_default().push(group);
    }
    let organization_groups: Vec<(Uuid, Uuid)> = pairs(
        db,
        organization_group::Entity::find(),
        [
            organization_group::Column::OrganizationId,
            organization_group::Column::GroupId,
        ],
    )
    .await?;
    for (organization, group) in organization_groups {
        world.organizations.entry(organization).or_default().push(group);
    }
    let products: Vec<(Uuid, Option<Uuid>)> = product::Entity::find()
        .select_only()
        .columns([product::Column::Id, product::Column::ProductLineId])
        .into_tuple()
        .all(db)
        .await?;
    world.products = products.into_iter().collect();
    read_offers(db, &mut world).await?;
    Ok(world)
}

/// Two uuid columns of a table.
async fn pairs<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: sea_orm::Select<E>,
    columns: [E::Column; 2],
) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    select.select_only().columns(columns).into_tuple().all(db).await
}

/// Every base price and list price, as offers by product and currency.
async fn read_offers(db: &impl ConnectionTrait, world: &mut World) -> Result<(), DbErr> {
    let currency = |code: &str| {
        CurrencyCode::parse(code).map_err(|_| DbErr::Type(format!("unknown currency '{code}' in the database")))
    };
    let base: Vec<(Uuid, String, i32, i64)> = base_price::Entity::find()
        .select_only()
        .columns([
            base_price::Column::ProductId,
            base_price::Column::Currency,
            base_price::Column::MinQuantity,
            base_price::Column::AmountMinor,
        ])
        .into_tuple()
        .all(db)
        .await?;
    for (product, code, min_quantity, amount) in base {
        let offer = world.offers.entry((product, currency(&code)?)).or_default();
        offer.base.push(BaseTier { min_quantity, amount });
    }
    let rows: Vec<(Uuid, Uuid, String, i32, Option<i32>, i64)> = price::Entity::find()
        .select_only()
        .columns([
            price::Column::PriceListId,
            price::Column::ProductId,
            price::Column::Currency,
            price::Column::MinQuantity,
            price::Column::MaxQuantity,
            price::Column::AmountMinor,
        ])
        .into_tuple()
        .all(db)
        .await?;
    let mut tiers: HashMap<(Uuid, CurrencyCode), Vec<(Uuid, Tier)>> = HashMap::new();
    for (list, product, code, min_quantity, max_quantity, amount) in rows {
        let tier = Tier::stored(min_quantity, max_quantity, amount);
        tiers.entry((product, currency(&code)?)).or_default().push((list, tier));
    }
    for (key, tiers) in tiers {
        world.offers.entry(key).or_default().list_tiers = tiers.into_iter().collect();
    }
    Ok(())
}
