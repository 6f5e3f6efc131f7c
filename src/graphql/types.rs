//! The API's object types: thin wrappers over the entity models, so the API
//! is designed rather than leaked from the tables. One file per type family.

pub mod customer;
pub mod customer_group;
pub mod group_usage;
pub mod organization;
pub mod price_list;
pub mod pricing;
pub mod product;

use async_graphql::{Enum, SimpleObject};

pub use customer::Customer;
pub use customer_group::{CustomerGroup, CustomerGroupPriceList};
pub use organization::Organization;
pub use price_list::{Price, PriceList, PriceListRule};
pub use product::{BasePrice, Product, ProductLine};

use super::scalars::Decimal;
use crate::money::{CurrencyCode, Money as DomainMoney};

/// What a customer group is for (docs/pricing.md#effective-groups).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::values::GroupKind")]
pub enum GroupKind {
    /// Classifies a customer; each customer has exactly one.
    Type,
    /// Decides prices and product access; a customer has zero or many.
    Pricing,
}

/// How a price list's price competes with the base price
/// (docs/pricing.md#step-5-first-price).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::values::PriceListType")]
pub enum PriceListType {
    /// Its price applies only when it is below the product's base price (or
    /// the product has none): a sale never raises a price.
    Sale,
    /// Its price applies even when it is above the base price.
    Override,
}

/// Whether a price list may apply at all.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::values::PriceListStatus")]
pub enum PriceListStatus {
    /// Applies within its window (`startsAt`, `endsAt`) to the groups it is linked to.
    Active,
    /// Never applies; for preparing a list before it goes live.
    Draft,
}

/// An exact amount in a currency (docs/pricing.md#money).
#[derive(SimpleObject, Clone, Debug)]
// `@shareable` in the subgraph SDL: other subgraphs of a federated graph
// may define `Money` too (composition fails otherwise).
#[graphql(shareable)]
pub struct Money {
    /// Exact decimal string with the currency's minor-unit digits: "10.50", "1050" (JPY), "1.050" (KWD).
    pub amount: Decimal,
    /// The currency's ISO 4217 code, upper-case, e.g. "USD".
    pub currency_code: String,
}

impl From<DomainMoney> for Money {
    fn from(money: DomainMoney) -> Self {
        Self {
            amount: Decimal(money.to_string()),
            currency_code: money.currency().code().to_owned(),
        }
    }
}

/// Money from a stored row. Rows are validated on the way in, so a failure
/// here means the database was edited by hand; it surfaces as an internal error.
pub fn stored_money(minor_units: i64, currency: &str) -> async_graphql::Result<Money> {
    let currency = CurrencyCode::parse(currency).map_err(super::errors::internal)?;
    let money = DomainMoney::from_minor_units(minor_units, currency).map_err(super::errors::internal)?;
    Ok(money.into())
}

/// A loader's failure, as the fields that waited on it report it.
pub fn load_failed(error: crate::graphql::loaders::LoadError) -> async_graphql::Error {
    async_graphql::ErrorExtensions::extend(&*error)
}

/// A foreign key pointing nowhere: the database guarantees it cannot happen.
pub fn dangling(what: &str, id: uuid::Uuid) -> async_graphql::Error {
    super::errors::internal(format!("dangling reference to {what} {id}"))
}
