//! Prices resolved through a group in one hour, summed over every instance
//! (docs/api.md#group-usage).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_usage")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: Uuid,
    /// The start of the hour counted.
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket_start: DateTimeUtc,
    /// Resolved prices whose list applied through the group in that hour.
    pub prices_resolved: i64,
    /// The latest of them.
    pub last_applied_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
