use sea_orm_migration::prelude::*;

use crate::columns::create_junction;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_junction(
            manager,
            "customer_group_product_line",
            ("group_id", "customer_group"),
            ("product_line_id", "product_line"),
            vec![],
            vec![],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("customer_group_product_line").to_owned())
            .await
    }
}
