use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, uuid_null};

use crate::columns::{entity_table, fk, index, timestamps, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = entity_table("product");
        table
            .col(string("sku").check(Expr::cust("length(trim(sku)) > 0")))
            .col(string("name"))
            .col(uuid_null("product_line_id"))
            .foreign_key(&mut fk(
                "product",
                "product_line_id",
                "product_line",
                ForeignKeyAction::SetNull,
            ));
        manager.create_table(timestamps(&mut table).to_owned()).await?;
        manager.create_index(unique_index("product", &["sku"])).await?;
        manager.create_index(index("product", &["product_line_id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("product").to_owned()).await
    }
}
