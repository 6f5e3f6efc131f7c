use sea_orm::entity::prelude::*;

use crate::values::GroupKind;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_group")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Lower-cased name: names are unique without regard to case.
    #[sea_orm(unique)]
    pub name_key: String,
    pub description: Option<String>,
    pub kind: GroupKind,
    pub is_active: bool,
    pub commission_exempt: bool,
    pub free_freight: bool,
    #[sea_orm(column_type = "JsonBinary")]
    pub metadata: Json,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
