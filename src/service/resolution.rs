//! Price resolution as a service (docs/pricing.md#the-walk): a price question is parsed once
//! ([`PriceQuestion::parse`], [`parse_items`]), the store reads who is
//! buying and what is on offer, and the pure [`crate::pricing`] core
//! decides. A fixed number of statements answers any number of products.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::product;
use uuid::Uuid;

use super::parse_id;
use crate::domain::Quantity;
use crate::error::{Problems, ServiceResult, UserError, UserErrorCode};
use crate::money::CurrencyCode;
use crate::pricing::{Candidates, Offer, Resolved, Shopper, Source, Strategy};
use crate::store::{self, Store};
use crate::usage::Tally;

/// Most items one `resolvePrices` call takes.
pub const MAX_ITEMS: usize = 1000;

/// Items priced between two yields to the runtime.
const ITEMS_PER_TURN: usize = 64;

/// Who asks, in which currency, at which instant and how: what every item
/// of one price question shares. The same shape serves `resolvedPrice`,
/// `resolvePrices` and `Product.resolvedPrice`; equal questions are
/// answered once for all the products they ask about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PriceQuestion {
    /// `None`: an anonymous shopper, whose only group is `Everyone`.
    pub customer_id: Option<Uuid>,
    pub currency: CurrencyCode,
    pub at: DateTime<Utc>,
    pub strategy: Strategy,
    /// Whether to explain each answer; it costs a walk over every candidate.
    pub explain: bool,
}

/// One product of a question, at one quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PriceItem {
    pub product_id: Uuid,
    pub quantity: Quantity,
}

/// A product already read, with what pricing needs of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KnownProduct {
    pub id: Uuid,
    pub product_line_id: Option<Uuid>,
}

impl From<&product::Model> for KnownProduct {
    fn from(product: &product::Model) -> Self {
        Self {
            id: product.id,
            product_line_id: product.product_line_id,
        }
    }
}

/// One answer, in the order of the question's items.
#[derive(Clone, Debug)]
pub struct PricedItem {
    pub product_id: Uuid,
    /// The product, when this call read it (not when the caller knew it already).
    pub product: Option<product::Model>,
    pub quantity: Quantity,
    pub currency: CurrencyCode,
    pub resolved: Resolved,
}

impl PriceQuestion {
    /// Checks the arguments as the caller sent them, reporting every
    /// problem at once. `at` defaults to `now`, the request's instant.
    pub fn parse(
        customer_id: Option<&str>,
        currency: &str,
        at: Option<DateTime<Utc>>,
        strategy: Strategy,
        now: DateTime<Utc>,
        problems: &mut Problems,
    ) -> Option<Self> {
        let customer_id = customer_id.map(|raw| problems.check(parse_id(&["customerId"], "customer", raw)));
        let currency = problems.check(super::prices::currency(currency));
        let customer_id = match customer_id {
            Some(parsed) => Some(parsed?),
            None => None,
        };
        Some(Self {
            customer_id,
            currency: currency?,
            at: at.unwrap_or(now),
            strategy,
            explain: true,
        })
    }

    /// The same question, explained only when the caller reads why.
    pub fn explained(self, explain: bool) -> Self {
        Self { explain, ..self }
    }
}

/// Checks `resolvePrices`' items: at most [`MAX_ITEMS`], each a product id
/// and a quantity; problems name `items.N.field`.
pub fn parse_items(raw: &[(String, i64)], problems: &mut Problems) -> Vec<PriceItem> {
    if raw.len() > MAX_ITEMS {
        problems.push(UserError::new(
            &["items"],
            UserErrorCode::TooMany,
            format!("at most {MAX_ITEMS} items per call, got {}", raw.len()),
        ));
    }
    let mut items = Vec::with_capacity(raw.len().min(MAX_ITEMS));
    for (index, (product_id, quantity)) in raw.iter().enumerate().take(MAX_ITEMS) {
        let at = ["items", &index.to_string()];
        let product_id = problems.check(parse_id(&["productId"], "product", product_id).map_err(|e| e.under(&at)));
        let quantity = problems.check(Quantity::parse("quantity", *quantity).map_err(|e| e.under(&at)));
        if let (Some(product_id), Some(quantity)) = (product_id, quantity) {
            items.push(PriceItem { product_id, quantity });
        }
    }
    items
}

/// Answers a question about products given by id: reads them (an unknown
/// one is a user error at `items.N.productId`), then prices them.
pub async fn resolve(store: &Store, question: &PriceQuestion, items: &[PriceItem]) -> ServiceResult<Vec<PricedItem>> {
    let (products, known) = known_products(store, items).await?;
    let mut priced = price(store, question, items, &known, None).await?;
    for item in &mut priced {
        item.product = products.get(&item.product_id).map(|p| product::Model::clone(p));
    }
    Ok(priced)
}

/// Answers a question as [`resolve`] does, for a subscription's recompute
/// rather than a shopper's look: nothing is counted towards group usage.
pub async fn recompute(store: &Store, question: &PriceQuestion, items: &[PriceItem]) -> ServiceResult<Vec<PricedItem>> {
    let (products, known) = known_products(store, items).await?;
    let shopper = store::shopper(store, question.customer_id).await?;
    let mut priced = price_for(&shopper, store, question, items, &known).await?;
    for item in &mut priced {
        item.product = products.get(&item.product_id).map(|p| product::Model::clone(p));
    }
    Ok(priced)
}

/// The products `items` name, read; an unknown one is a user error at
/// `items.N.productId`.
pub(super) async fn known_products(
    store: &Store,
    items: &[PriceItem],
) -> ServiceResult<(HashMap<Uuid, Arc<product::Model>>, HashMap<Uuid, KnownProduct>)> {
    let ids: BTreeSet<Uuid> = items.iter().map(|item| item.product_id).collect();
    let products = store::products_by_id(store, &ids).await?;
    let mut problems = Problems::default();
    for (index, item) in items.iter().enumerate() {
        if !products.contains_key(&item.product_id) {
            problems.push(UserError::not_found(
                &["items", &index.to_string(), "productId"],
                "product",
                &item.product_id.to_string(),
            ));
        }
    }
    problems.into_result()?;
    let known: HashMap<Uuid, KnownProduct> = products.values().map(|p| (p.id, KnownProduct::from(&**p))).collect();
    Ok((products, known))
}

/// Answers a question about products the caller has already read (those
/// of a page, or of one batch): each at `quantity`.
/// `ahead`: the question's shopper when it was read already (see
/// [`read_ahead`]).
pub async fn resolve_known(
    store: &Store,
    question: &PriceQuestion,
    products: &[KnownProduct],
    quantity: Quantity,
    ahead: Option<&Shopper>,
) -> ServiceResult<Vec<PricedItem>> {
    let items: Vec<PriceItem> = products
        .iter()
        .map(|p| PriceItem {
            product_id: p.id,
            quantity,
        })
        .collect();
    let known = products.iter().map(|p| (p.id, *p)).collect();
    price(store, question, &items, &known, ahead).await
}

/// The shopper of a question that is about to be asked, read beside
/// what it will be asked about (a page of products): the shopper's read
/// does not need the page, so the two run at once. `raw` is the
/// `customerId` argument as sent, `None` for an anonymous shopper. Nothing
/// when the id is not one or the read fails: the question itself then
/// reads again and reports the problem where it belongs.
pub async fn read_ahead(store: &Store, raw: Option<&str>) -> Option<(Option<Uuid>, Shopper)> {
    let customer_id = match raw {
        Some(raw) => Some(parse_id(&["customerId"], "customer", raw).ok()?),
        None => None,
    };
    let shopper = store::shopper(store, customer_id).await.ok()?;
    Some((customer_id, shopper))
}

/// Prices `items` for the question's shopper: the shopper, then base and
/// list prices in one statement at most (fewer when cached). These are
/// real shoppers' prices, so they count towards each group's usage (the
/// simulator's imagined ones, priced by [`price_for`] alone, do not).
async fn price(
    store: &Store,
    question: &PriceQuestion,
    items: &[PriceItem],
    products: &HashMap<Uuid, KnownProduct>,
    ahead: Option<&Shopper>,
) -> ServiceResult<Vec<PricedItem>> {
    let read;
    let shopper = match ahead {
        Some(shopper) => shopper,
        None => {
            read = store::shopper(store, question.customer_id).await?;
            &read
        }
    };
    let priced = price_for(shopper, store, question, items, products).await?;
    count_usage(store, &priced);
    Ok(priced)
}

/// Counts the prices that came through a group (docs/api.md#group-usage),
/// in memory: one pass over the answers into a tally of their few groups,
/// then one atomic add per group. No statement, no lock.
fn count_usage(store: &Store, priced: &[PricedItem]) {
    let mut tally = Tally::default();
    for item in priced {
        if let (Source::PriceList, Some(group)) = (item.resolved.source, item.resolved.customer_group_id) {
            tally.add(group);
        }
    }
    if !tally.is_empty() {
        store.usage.record(&tally, super::now());
    }
}

/// Prices `items` for `shopper`: base and list prices in one statement at
/// most (fewer when cached), then the walk.
pub(super) async fn price_for(
    shopper: &Shopper,
    store: &Store,
    question: &PriceQuestion,
    items: &[PriceItem],
    products: &HashMap<Uuid, KnownProduct>,
) -> ServiceResult<Vec<PricedItem>> {
    let product_ids: BTreeSet<Uuid> = items.iter().map(|item| item.product_id).collect();
    let list_ids: BTreeSet<Uuid> = shopper.links.iter().map(|l| l.list.id).collect();
    let offers = store::offers(store, &product_ids, &list_ids, question.currency).await?;

    let candidates = Candidates::new(shopper, question.at);
    let no_offer = Offer::default();
    let mut priced = Vec::with_capacity(items.len());
    let turns = items.len().div_ceil(ITEMS_PER_TURN);
    for (turn, chunk) in items.chunks(ITEMS_PER_TURN).enumerate() {
        priced.extend(chunk.iter().filter_map(|item| {
            let product = products.get(&item.product_id)?;
            let offer = offers.get(&item.product_id).map_or(&no_offer, |offer| offer.as_ref());
            let quantity = item.quantity.get();
            let resolved = if question.explain {
                candidates.price_and_explain(product.product_line_id, offer, quantity, question.strategy)
            } else {
                candidates.price(product.product_line_id, offer, quantity, question.strategy)
            };
            Some(PricedItem {
                product_id: item.product_id,
                product: None,
                quantity: item.quantity,
                currency: question.currency,
                resolved,
            })
        }));
        // A yield point: other requests get the worker, and a request past
        // its deadline is stopped here rather than at the end.
        if turn + 1 < turns {
            tokio::task::yield_now().await;
        }
    }
    Ok(priced)
}
