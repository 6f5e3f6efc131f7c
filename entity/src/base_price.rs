//! A product's price without any list, per currency and quantity tier.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "base_price")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub product_id: Uuid,
    /// ISO 4217 alphabetic code.
    pub currency: String,
    pub min_quantity: i32,
    /// Integer minor units of `currency` (cents for USD, yen for JPY).
    pub amount_minor: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
