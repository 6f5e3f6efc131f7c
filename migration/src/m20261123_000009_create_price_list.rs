use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, string_null, timestamp_with_time_zone_null};

use crate::columns::{entity_table, index, timestamps};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = entity_table("price_list");
        table
            .col(string("name").check(Expr::cust("length(trim(name)) > 0")))
            .col(string_null("description"))
            .col(string("type").check(Expr::col("type").is_in(["SALE", "OVERRIDE"])))
            .col(string("status").check(Expr::col("status").is_in(["ACTIVE", "DRAFT"])))
            .col(timestamp_with_time_zone_null("starts_at"))
            .col(timestamp_with_time_zone_null("ends_at"))
            .check(Expr::cust(
                "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at",
            ));
        manager.create_table(timestamps(&mut table).to_owned()).await?;
        manager.create_index(index("price_list", &["status"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("price_list").to_owned()).await
    }
}
