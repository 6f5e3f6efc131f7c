use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, pk_uuid, string};

use crate::columns::timestamps;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("product_line")
            .col(pk_uuid("id"))
            .col(string("name").check(Expr::cust("length(trim(name)) > 0")))
            .col(integer("version").check(Expr::col("version").gte(1)));
        manager.create_table(timestamps(&mut table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("product_line").to_owned()).await
    }
}
