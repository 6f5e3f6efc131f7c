use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::integer;

use crate::columns::create_junction;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_junction(
            manager,
            "customer_group_price_list",
            ("group_id", "customer_group"),
            ("price_list_id", "price_list"),
            vec![integer("priority")],
            vec![Expr::col("priority").gte(0)],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("customer_group_price_list").to_owned())
            .await
    }
}
