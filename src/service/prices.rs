//! Prices of price lists, and base prices of products, written in batches.

use std::collections::{BTreeSet, HashMap, HashSet};

use entity::{base_price, price, price_list, product};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Select,
};
use uuid::Uuid;

use crate::domain::Quantity;
use crate::error::{Problems, ServiceResult, UserError, UserErrorCode};
use crate::events::Event;
use crate::money::{AmountError, CurrencyCode, Money};
use crate::page::{Page, PageRequest};
use crate::store::Store;

mod upsert;

pub use upsert::{TierTable, Written};
pub(super) use upsert::{plan, upsert};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PriceFilter {
    pub price_list_id: Uuid,
    pub product_id: Option<Uuid>,
    pub currency: Option<CurrencyCode>,
}

impl PriceFilter {
    pub fn parse(price_list_id: Uuid, product_id: Option<&str>, currency: Option<&str>) -> Result<Self, UserError> {
        let product_id = product_id
            .map(|raw| super::parse_id(&["productId"], "product", raw))
            .transpose()?;
        let currency = currency.map(self::currency).transpose()?;
        Ok(Self {
            price_list_id,
            product_id,
            currency,
        })
    }

    /// The filter without its list, for many lists at once.
    fn select_any_list(&self) -> Select<price::Entity> {
        let mut select = price::Entity::find();
        if let Some(product_id) = self.product_id {
            select = select.filter(price::Column::ProductId.eq(product_id));
        }
        if let Some(currency) = self.currency {
            select = select.filter(price::Column::Currency.eq(currency.code()));
        }
        select
    }
}

/// Filters that differ only in their list share one statement.
fn same_but_list(a: &PriceFilter, b: &PriceFilter) -> bool {
    (a.product_id, a.currency) == (b.product_id, b.currency)
}

fn by_same_filter(filters: &[PriceFilter]) -> Vec<(PriceFilter, Vec<Uuid>)> {
    let mut batches: Vec<(PriceFilter, Vec<Uuid>)> = Vec::new();
    for filter in filters {
        match batches.iter_mut().find(|(f, _)| same_but_list(f, filter)) {
            Some((_, lists)) => lists.push(filter.price_list_id),
            None => batches.push((*filter, vec![filter.price_list_id])),
        }
    }
    batches
}

/// One page of prices for each filter: one statement per distinct product
/// and currency filter, whatever the number of lists.
pub async fn pages_by_list(
    db: &DatabaseConnection,
    filters: &[PriceFilter],
    request: PageRequest,
) -> ServiceResult<HashMap<PriceFilter, Page<price::Model>>> {
    let mut pages = HashMap::new();
    for (filter, lists) in by_same_filter(filters) {
        let found = crate::store::page::fetch_pages(
            db,
            filter.select_any_list(),
            (price::Entity, price::Column::PriceListId),
            &lists,
            price::Column::Id,
            request,
        )
        .await?;
        pages.extend(found.into_iter().map(|(list, page)| {
            (
                PriceFilter {
                    price_list_id: list,
                    ..filter
                },
                page,
            )
        }));
    }
    Ok(pages)
}

/// How many prices each filter matches, batched like [`pages_by_list`].
pub async fn counts_by_list(
    db: &DatabaseConnection,
    filters: &[PriceFilter],
) -> ServiceResult<HashMap<PriceFilter, u64>> {
    let mut counts = HashMap::new();
    for (filter, lists) in by_same_filter(filters) {
        let found = crate::store::page::count_by_parent(
            db,
            filter.select_any_list(),
            (price::Entity, price::Column::PriceListId),
            &lists,
        )
        .await?;
        counts.extend(found.into_iter().map(|(list, n)| {
            (
                PriceFilter {
                    price_list_id: list,
                    ..filter
                },
                n,
            )
        }));
    }
    Ok(counts)
}

/// Most prices one upsert or delete takes.
pub const MAX_PRICES_PER_CALL: usize = 1000;

/// One price of an upsert, as the caller sent it.
#[derive(Clone, Debug, Default)]
pub struct PriceInput {
    pub product_id: String,
    pub currency: String,
    /// 1 when not given.
    pub min_quantity: Option<i64>,
    /// Open-ended when not given. Base prices have none.
    pub max_quantity: Option<i64>,
    pub amount: String,
}

/// Names one price (or base price) to delete: its product, currency and tier.
#[derive(Clone, Debug, Default)]
pub struct PriceKeyInput {
    pub product_id: String,
    pub currency: String,
    /// 1 when not given.
    pub min_quantity: Option<i64>,
}

/// The identity of a tier: product, currency, first quantity.
pub(super) type TierKey = (Uuid, CurrencyCode, i32);

/// A validated price.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tier {
    pub product_id: Uuid,
    pub money: Money,
    pub min_quantity: i32,
    pub max_quantity: Option<i32>,
}

impl Tier {
    pub fn key(&self) -> TierKey {
        (self.product_id, self.money.currency(), self.min_quantity)
    }
}

/// A tier bound: a [`Quantity`], kept as the column's integer.
fn quantity(field: &str, raw: i64) -> Result<i32, UserError> {
    Quantity::parse(field, raw).map(Quantity::get)
}

pub fn currency(raw: &str) -> Result<CurrencyCode, UserError> {
    CurrencyCode::parse(raw).map_err(|e| UserError::new(&["currency"], UserErrorCode::InvalidCurrency, e.to_string()))
}

pub(super) fn amount(raw: &str, currency: CurrencyCode) -> Result<Money, UserError> {
    Money::parse(raw, currency).map_err(|e| {
        let message = match e {
            AmountError::NotADecimal(_) => e.to_string(),
            _ => format!("'{raw}': {e}"),
        };
        UserError::new(&["amount"], UserErrorCode::InvalidAmount, message)
    })
}

fn too_many(field: &str, count: usize) -> Result<(), UserError> {
    if count > MAX_PRICES_PER_CALL {
        return Err(UserError::new(
            &[field],
            UserErrorCode::TooMany,
            format!("at most {MAX_PRICES_PER_CALL} prices per call, got {count}"),
        ));
    }
    Ok(())
}

/// Validates one price; errors are reported under `prices.<index>`.
fn tier(index: &str, input: &PriceInput, problems: &mut Problems) -> Option<Tier> {
    let at = ["prices", index];
    let product_id =
        problems.check(super::parse_id(&["productId"], "product", &input.product_id).map_err(|e| e.under(&at)));
    let currency = problems.check(currency(&input.currency).map_err(|e| e.under(&at)));
    let money = currency.and_then(|c| problems.check(amount(&input.amount, c).map_err(|e| e.under(&at))));
    let min_quantity =
        problems.check(quantity("minQuantity", input.min_quantity.unwrap_or(1)).map_err(|e| e.under(&at)));
    let max_quantity = match input.max_quantity {
        None => Some(None),
        Some(raw) => problems
            .check(quantity("maxQuantity", raw).map_err(|e| e.under(&at)))
            .map(Some),
    };
    if let (Some(min), Some(Some(max))) = (min_quantity, max_quantity)
        && max < min
    {
        problems.push(UserError::new(
            &["prices", index, "maxQuantity"],
            UserErrorCode::InvalidQuantity,
            format!("maxQuantity ({max}) must not be below minQuantity ({min})"),
        ));
        return None;
    }
    Some(Tier {
        product_id: product_id?,
        money: money?,
        min_quantity: min_quantity?,
        max_quantity: max_quantity?,
    })
}

/// Validates a batch: every price, no tier twice, every product known.
async fn tiers(db: &impl ConnectionTrait, inputs: &[PriceInput], problems: &mut Problems) -> ServiceResult<Vec<Tier>> {
    if let Err(error) = too_many("prices", inputs.len()) {
        problems.push(error);
        return Ok(vec![]);
    }
    let mut tiers = Vec::with_capacity(inputs.len());
    let mut seen = HashSet::new();
    for (index, input) in inputs.iter().enumerate() {
        let index = index.to_string();
        if let Some(tier) = tier(&index, input, problems) {
            if !seen.insert(tier.key()) {
                problems.push(UserError::new(
                    &["prices", &index],
                    UserErrorCode::Invalid,
                    format!(
                        "the {} tier from {} of product '{}' appears twice in this batch",
                        tier.money.currency(),
                        tier.min_quantity,
                        tier.product_id
                    ),
                ));
            }
            tiers.push((index, tier));
        }
    }
    check_products_exist(
        db,
        tiers.iter().map(|(index, t)| (index.as_str(), t.product_id)),
        problems,
    )
    .await?;
    Ok(tiers.into_iter().map(|(_, tier)| tier).collect())
}

/// Reports every product id that names no product, at `prices.<index>.productId`.
async fn check_products_exist<'a>(
    db: &impl ConnectionTrait,
    wanted: impl Iterator<Item = (&'a str, Uuid)> + Clone,
    problems: &mut Problems,
) -> ServiceResult<()> {
    let ids: BTreeSet<Uuid> = wanted.clone().map(|(_, id)| id).collect();
    let found: HashSet<Uuid> = product::Entity::find()
        .select_only()
        .column(product::Column::Id)
        .filter(product::Column::Id.is_in(ids))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    for (index, id) in wanted {
        if !found.contains(&id) {
            problems.push(UserError::not_found(
                &["prices", index, "productId"],
                "product",
                &id.to_string(),
            ));
        }
    }
    Ok(())
}

fn keys(inputs: &[PriceKeyInput], problems: &mut Problems) -> Vec<TierKey> {
    if let Err(error) = too_many("prices", inputs.len()) {
        problems.push(error);
        return vec![];
    }
    let mut keys = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let at = ["prices", &index.to_string()];
        let product_id =
            problems.check(super::parse_id(&["productId"], "product", &input.product_id).map_err(|e| e.under(&at)));
        let currency = problems.check(currency(&input.currency).map_err(|e| e.under(&at)));
        let min = problems.check(quantity("minQuantity", input.min_quantity.unwrap_or(1)).map_err(|e| e.under(&at)));
        if let (Some(product_id), Some(currency), Some(min)) = (product_id, currency, min) {
            keys.push((product_id, currency, min));
        }
    }
    keys
}

/// The cached offers (product, currency) that deleting `keys` changes.
fn key_offers(keys: &[TierKey]) -> Vec<(Uuid, CurrencyCode)> {
    let offers: HashSet<(Uuid, CurrencyCode)> = keys
        .iter()
        .map(|(product, currency, _)| (*product, *currency))
        .collect();
    offers.into_iter().collect()
}

/// Rows per insert statement: well under SQLite's 32,766 bind parameters.
pub(super) const ROWS_PER_STATEMENT: usize = 500;
/// Keys per delete statement: well under SQLite's expression depth of 1,000.
const KEYS_PER_DELETE: usize = 100;

/// Writes a list's prices: new tiers are added, existing tiers (same product,
/// currency and minQuantity) get the new amount and maxQuantity; tiers
/// already as given are left alone. All or nothing.
pub async fn upsert_prices(
    store: &Store,
    raw_price_list_id: &str,
    inputs: &[PriceInput],
) -> ServiceResult<(price_list::Model, Vec<price::Model>, Written)> {
    let db = store.conn();
    let mut problems = Problems::default();
    let list = problems.gather(super::price_lists::existing(db, &["priceListId"], raw_price_list_id).await)?;
    let tiers = tiers(db, inputs, &mut problems).await?;
    let Some(list) = list else {
        return Err(problems.refused());
    };
    problems.into_result()?;
    let written = upsert(store, TierTable::List(list.id), &tiers).await?;
    let stored = price::Entity::find()
        .filter(price::Column::PriceListId.eq(list.id))
        .filter(price::Column::ProductId.is_in(tiers.iter().map(|t| t.product_id).collect::<BTreeSet<_>>()))
        .all(db)
        .await?;
    let rows = in_input_order(&tiers, stored, |p| (p.product_id, p.currency.clone(), p.min_quantity));
    Ok((list, rows, written))
}

/// Picks the rows of `stored` that `tiers` wrote, in the order they were given.
fn in_input_order<M>(tiers: &[Tier], stored: Vec<M>, key: impl Fn(&M) -> (Uuid, String, i32)) -> Vec<M> {
    let mut by_key: HashMap<(Uuid, String, i32), M> = stored.into_iter().map(|row| (key(&row), row)).collect();
    tiers
        .iter()
        .filter_map(|t| by_key.remove(&(t.product_id, t.money.currency().code().to_owned(), t.min_quantity)))
        .collect()
}

/// Deletes a list's prices by tier; tiers that do not exist are skipped.
/// Returns how many were deleted.
pub async fn delete_prices(
    store: &Store,
    raw_price_list_id: &str,
    inputs: &[PriceKeyInput],
) -> ServiceResult<(price_list::Model, u64)> {
    let db = store.conn();
    let mut problems = Problems::default();
    let list = problems.gather(super::price_lists::existing(db, &["priceListId"], raw_price_list_id).await)?;
    let keys = keys(inputs, &mut problems);
    let Some(list) = list else {
        return Err(problems.refused());
    };
    problems.into_result()?;
    let mut txn = store.begin().await?;
    let mut deleted = 0;
    for chunk in keys.chunks(KEYS_PER_DELETE) {
        let any = chunk.iter().fold(Condition::any(), |any, (product_id, currency, min)| {
            any.add(
                Condition::all()
                    .add(price::Column::ProductId.eq(*product_id))
                    .add(price::Column::Currency.eq(currency.code()))
                    .add(price::Column::MinQuantity.eq(*min)),
            )
        });
        deleted += price::Entity::delete_many()
            .filter(price::Column::PriceListId.eq(list.id))
            .filter(any)
            .exec(&*txn)
            .await?
            .rows_affected;
    }
    let offers = key_offers(&keys);
    txn.offers_changed(&offers);
    if deleted > 0 {
        txn.emit(Event::prices_changed(list.id, &offers));
    }
    txn.commit().await?;
    Ok((list, deleted))
}

/// Writes base prices: new tiers are added, existing tiers (same product,
/// currency and minQuantity) get the new amount; tiers already as given are
/// left alone. All or nothing.
pub async fn upsert_base_prices(
    store: &Store,
    inputs: &[PriceInput],
) -> ServiceResult<(Vec<base_price::Model>, Written)> {
    let db = store.conn();
    let mut problems = Problems::default();
    for (index, input) in inputs.iter().enumerate() {
        if input.max_quantity.is_some() {
            problems.push(no_base_max_quantity(&["prices", &index.to_string(), "maxQuantity"]));
        }
    }
    let tiers = tiers(db, inputs, &mut problems).await?;
    problems.into_result()?;
    let written = upsert(store, TierTable::Base, &tiers).await?;
    let stored = base_price::Entity::find()
        .filter(base_price::Column::ProductId.is_in(tiers.iter().map(|t| t.product_id).collect::<BTreeSet<_>>()))
        .all(db)
        .await?;
    let rows = in_input_order(&tiers, stored, |p| (p.product_id, p.currency.clone(), p.min_quantity));
    Ok((rows, written))
}

pub(super) fn no_base_max_quantity(field: &[&str]) -> UserError {
    UserError::new(
        field,
        UserErrorCode::InvalidQuantity,
        "a base price applies from its minQuantity up to the next tier; it has no maxQuantity",
    )
}

/// Deletes base prices by tier; tiers that do not exist are skipped.
pub async fn delete_base_prices(store: &Store, inputs: &[PriceKeyInput]) -> ServiceResult<u64> {
    let mut problems = Problems::default();
    let keys = keys(inputs, &mut problems);
    problems.into_result()?;
    let mut txn = store.begin().await?;
    let mut deleted = 0;
    for chunk in keys.chunks(KEYS_PER_DELETE) {
        let any = chunk.iter().fold(Condition::any(), |any, (product_id, currency, min)| {
            any.add(
                Condition::all()
                    .add(base_price::Column::ProductId.eq(*product_id))
                    .add(base_price::Column::Currency.eq(currency.code()))
                    .add(base_price::Column::MinQuantity.eq(*min)),
            )
        });
        deleted += base_price::Entity::delete_many()
            .filter(any)
            .exec(&*txn)
            .await?
            .rows_affected;
    }
    let offers = key_offers(&keys);
    txn.offers_changed(&offers);
    if deleted > 0 {
        txn.emit(Event::base_prices_changed(&offers));
    }
    txn.commit().await?;
    Ok(deleted)
}
