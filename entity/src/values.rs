//! Enumerations stored as short strings, so the database stays readable and a
//! new value never needs a type migration.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// `TYPE` groups classify a customer (exactly one each); `PRICING` groups
/// decide prices and product access (zero or many each). Seed 003.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum GroupKind {
    #[sea_orm(string_value = "TYPE")]
    Type,
    #[sea_orm(string_value = "PRICING")]
    Pricing,
}

/// `SALE` prices apply only below the base price; `OVERRIDE` prices always apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PriceListType {
    #[sea_orm(string_value = "SALE")]
    Sale,
    #[sea_orm(string_value = "OVERRIDE")]
    Override,
}

/// Only `ACTIVE` lists take part in resolution; `DRAFT` lists never apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PriceListStatus {
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "DRAFT")]
    Draft,
}
