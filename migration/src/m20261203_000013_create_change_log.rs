//! The change log: one row per committed write that changes what pricing
//! reads, written in the write's own transaction. Instances follow it to
//! invalidate their caches, so no lost message, restart or Redis restored
//! from a snapshot can bring back a replaced value.
//!
//! `change_position` holds one row, the last position handed out. A write
//! takes the next one by updating that row, which it then holds locked up to
//! its commit: positions become visible in the order they were handed out,
//! and a reader that has seen position `n` has seen every change before it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, text, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("change_log")
                    .col(big_integer("seq").primary_key())
                    .col(timestamp_with_time_zone("changed_at"))
                    .col(uuid("origin"))
                    .col(text("body"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("change_position")
                    .col(integer("id").primary_key())
                    .col(big_integer("seq"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("change_position")
                    .columns(["id", "seq"])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("change_position").to_owned())
            .await?;
        manager.drop_table(Table::drop().table("change_log").to_owned()).await
    }
}
