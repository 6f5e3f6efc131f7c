//! Group usage (docs/api.md#group-usage): how many resolved prices came
//! through each group, per hour. Every instance adds its counts to the
//! row of the group and hour (an upsert), so the rows hold the sum over
//! all instances. Hours older than eight days are pruned, except each
//! group's latest, which keeps `last_applied_at`. Rows go with their group.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, timestamp_with_time_zone, uuid};

use crate::columns::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "group_usage";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(uuid("group_id"))
                    // The start of the hour counted.
                    .col(timestamp_with_time_zone("bucket_start"))
                    .col(big_integer("prices_resolved").check(Expr::col("prices_resolved").gte(0)))
                    .col(timestamp_with_time_zone("last_applied_at"))
                    .primary_key(Index::create().col("group_id").col("bucket_start"))
                    .foreign_key(&mut fk(TABLE, "group_id", "customer_group", ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        // Pruning deletes by hour.
        manager.create_index(index(TABLE, &["bucket_start"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
