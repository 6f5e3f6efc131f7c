use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Stored trimmed and lower-cased, so uniqueness ignores case.
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    pub organization_id: Option<Uuid>,
    pub type_group_id: Uuid,
    pub commission_exempt: bool,
    pub free_freight: bool,
    #[sea_orm(column_type = "JsonBinary")]
    pub metadata: Json,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
