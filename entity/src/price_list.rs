use sea_orm::entity::prelude::*;

use crate::values::{PriceListStatus, PriceListType};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "price_list")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    #[sea_orm(column_name = "type")]
    pub list_type: PriceListType,
    pub status: PriceListStatus,
    pub starts_at: Option<DateTimeUtc>,
    pub ends_at: Option<DateTimeUtc>,
    /// A derived list's discount in hundredths of a percent (1 to 10,000);
    /// `None` for a list of fixed amounts only.
    pub percent_off: Option<i32>,
    #[sea_orm(column_type = "JsonBinary")]
    pub metadata: Json,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
