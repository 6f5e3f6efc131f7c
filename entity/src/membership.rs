//! A customer's membership of a `PRICING` group.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_group_membership")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: Uuid,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "customer_id", to = "id")]
    pub customer: BelongsTo<super::customer::Entity>,
    #[sea_orm(belongs_to, from = "group_id", to = "id")]
    pub group: BelongsTo<super::customer_group::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
