//! A price list's price for one product, currency and quantity tier.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "price")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub price_list_id: Uuid,
    pub product_id: Uuid,
    pub currency: String,
    pub min_quantity: i32,
    /// Inclusive upper bound of the tier; `None` is open-ended.
    pub max_quantity: Option<i32>,
    pub amount_minor: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
