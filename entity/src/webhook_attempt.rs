use sea_orm::entity::prelude::*;

/// One attempt to deliver: the receiver's status, or why there was none.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempt")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub attempted_at: DateTimeUtc,
    pub response_status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

impl ActiveModelBehavior for ActiveModel {}
