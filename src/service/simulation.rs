//! The price simulator (docs/api.md#simulate-prices): what a shopper would
//! pay if they were in exactly these groups, or this organization, at this
//! instant — asked without creating a customer, and writing nothing. The
//! same walk and explanations as `resolvePrices`, over a shopper read fresh
//! from the database and kept out of every cache.

use std::collections::{BTreeSet, HashMap};

use entity::customer_group;
use entity::values::GroupKind;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::parse_id;
use super::resolution::{PriceItem, PriceQuestion, PricedItem};
use crate::error::{Problems, ServiceResult, UserError, UserErrorCode};
use crate::store::{self, AsIf, Store};
use migration::EVERYONE_GROUP_ID;

/// Most groups one simulation takes.
pub const MAX_GROUPS: usize = 100;

/// Who to imagine, as the caller sent it.
#[derive(Debug, Default)]
pub struct Imagined<'a> {
    pub customer_id: Option<&'a str>,
    pub group_ids: Option<&'a [String]>,
    pub organization_id: Option<&'a str>,
}

/// Checks who to imagine: a customer, groups and an organization that
/// exist, only `PRICING` groups, not both a customer and groups (which
/// groups would count?). Every problem at once.
pub async fn imagine(store: &Store, imagined: &Imagined<'_>, problems: &mut Problems) -> ServiceResult<AsIf> {
    if imagined.customer_id.is_some() && imagined.group_ids.is_some() {
        problems.push(UserError::new(
            &["groupIds"],
            UserErrorCode::Invalid,
            "give `customerId` or `groupIds`, not both: a customer's own groups are its memberships",
        ));
    }
    let customer =
        existing::<entity::customer::Entity>(store, imagined.customer_id, "customerId", "customer", problems).await?;
    let organization = existing::<entity::organization::Entity>(
        store,
        imagined.organization_id,
        "organizationId",
        "organization",
        problems,
    )
    .await?;
    let groups = match imagined.group_ids {
        Some(raw) => Some(pricing_groups(store, raw, problems).await?),
        None => None,
    };
    Ok(AsIf {
        customer,
        organization,
        groups,
    })
}

/// The id `raw` gives at `field`, when it names a row of `E`; a problem
/// otherwise.
async fn existing<E: EntityTrait>(
    store: &Store,
    raw: Option<&str>,
    field: &str,
    what: &str,
    problems: &mut Problems,
) -> ServiceResult<Option<Uuid>>
where
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    let Some(raw) = raw else { return Ok(None) };
    let Some(id) = problems.check(parse_id(&[field], what, raw)) else {
        return Ok(None);
    };
    if E::find_by_id(id).one(store.conn()).await?.is_some() {
        return Ok(Some(id));
    }
    problems.push(UserError::not_found(&[field], what, raw));
    Ok(None)
}

/// The `PRICING` groups `raw` names, each checked.
async fn pricing_groups(store: &Store, raw: &[String], problems: &mut Problems) -> ServiceResult<Vec<Uuid>> {
    if raw.len() > MAX_GROUPS {
        problems.push(UserError::new(
            &["groupIds"],
            UserErrorCode::TooMany,
            format!("at most {MAX_GROUPS} groups, got {}", raw.len()),
        ));
        return Ok(Vec::new());
    }
    let parsed: Vec<Option<Uuid>> = raw
        .iter()
        .enumerate()
        .map(|(index, id)| problems.check(parse_id(&["groupIds", &index.to_string()], "customer group", id)))
        .collect();
    let wanted: BTreeSet<Uuid> = parsed.iter().flatten().copied().collect();
    let found: HashMap<Uuid, customer_group::Model> = customer_group::Entity::find()
        .filter(customer_group::Column::Id.is_in(wanted.iter().copied()))
        .all(store.conn())
        .await?
        .into_iter()
        .map(|group| (group.id, group))
        .collect();
    let mut groups = Vec::new();
    for (index, id) in parsed.into_iter().enumerate() {
        let Some(id) = id else { continue };
        let field = ["groupIds", &index.to_string()];
        match found.get(&id) {
            None => problems.push(UserError::not_found(&field, "customer group", &raw[index])),
            Some(group) => match super::groups::require_kind(&field, group, GroupKind::Pricing, "price a shopper") {
                // `Everyone` counts for every shopper already.
                Ok(()) if !groups.contains(&id) && id != EVERYONE_GROUP_ID => groups.push(id),
                Ok(()) => {}
                Err(error) => problems.push(error),
            },
        }
    }
    Ok(groups)
}

/// Prices `items` for the imagined shopper. Unknown products are user
/// errors at `items.N.productId`, as in `resolvePrices`.
pub async fn simulate(
    store: &Store,
    as_if: &AsIf,
    question: &PriceQuestion,
    items: &[PriceItem],
) -> ServiceResult<Vec<PricedItem>> {
    let shopper = store::imagined_shopper(store, as_if).await?;
    let (products, known) = super::resolution::known_products(store, items).await?;
    let mut priced = super::resolution::price_for(&shopper, store, question, items, &known).await?;
    for item in &mut priced {
        item.product = products.get(&item.product_id).map(|p| entity::product::Model::clone(p));
    }
    Ok(priced)
}
