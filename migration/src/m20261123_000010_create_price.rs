use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, integer_null, pk_uuid, string_len, uuid};

use crate::columns::{fk, index, timestamps, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("price")
            .col(pk_uuid("id"))
            .col(uuid("price_list_id"))
            .col(uuid("product_id"))
            .col(string_len("currency", 3))
            .col(integer("min_quantity").check(Expr::col("min_quantity").gte(1)))
            .col(integer_null("max_quantity"))
            .col(big_integer("amount_minor").check(Expr::col("amount_minor").gte(0)))
            .check(Expr::cust("max_quantity IS NULL OR max_quantity >= min_quantity"))
            .foreign_key(&mut fk(
                "price",
                "price_list_id",
                "price_list",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk("price", "product_id", "product", ForeignKeyAction::Cascade));
        manager.create_table(timestamps(&mut table).to_owned()).await?;
        // Also the index of the price-list foreign key (its first column).
        manager
            .create_index(unique_index(
                "price",
                &["price_list_id", "product_id", "currency", "min_quantity"],
            ))
            .await?;
        // Resolution looks prices up by product and currency across lists.
        manager.create_index(index("price", &["product_id", "currency"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("price").to_owned()).await
    }
}
