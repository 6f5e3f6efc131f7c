use sea_orm_migration::prelude::*;

use crate::columns::create_junction;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_junction(
            manager,
            "organization_group",
            ("organization_id", "organization"),
            ("group_id", "customer_group"),
            vec![],
            vec![],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("organization_group").to_owned())
            .await
    }
}
