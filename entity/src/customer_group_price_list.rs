//! A price list linked to a `PRICING` group at a priority (lower wins).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_group_price_list")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub price_list_id: Uuid,
    pub priority: i32,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "group_id", to = "id")]
    pub group: BelongsTo<super::customer_group::Entity>,
    #[sea_orm(belongs_to, from = "price_list_id", to = "id")]
    pub price_list: BelongsTo<super::price_list::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
