use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, pk_uuid, string_len, uuid};

use crate::columns::{fk, timestamps, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("base_price")
            .col(pk_uuid("id"))
            .col(uuid("product_id"))
            .col(string_len("currency", 3))
            .col(integer("min_quantity").check(Expr::col("min_quantity").gte(1)))
            .col(big_integer("amount_minor").check(Expr::col("amount_minor").gte(0)))
            .foreign_key(&mut fk(
                "base_price",
                "product_id",
                "product",
                ForeignKeyAction::Cascade,
            ));
        manager.create_table(timestamps(&mut table).to_owned()).await?;
        // Also the index of the product foreign key (its first column).
        manager
            .create_index(unique_index("base_price", &["product_id", "currency", "min_quantity"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("base_price").to_owned()).await
    }
}
