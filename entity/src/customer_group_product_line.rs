//! A product line a `PRICING` group may order from (docs/pricing.md#product-access).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_group_product_line")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_line_id: Uuid,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "group_id", to = "id")]
    pub group: BelongsTo<super::customer_group::Entity>,
    #[sea_orm(belongs_to, from = "product_line_id", to = "id")]
    pub product_line: BelongsTo<super::product_line::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
