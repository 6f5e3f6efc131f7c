use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, uuid_null};

use crate::columns::{entity_table, fk, index, timestamps};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = entity_table("organization");
        table
            .col(string("name").check(Expr::cust("length(trim(name)) > 0")))
            .col(uuid_null("parent_id"))
            .foreign_key(&mut fk(
                "organization",
                "parent_id",
                "organization",
                ForeignKeyAction::SetNull,
            ));
        manager.create_table(timestamps(&mut table).to_owned()).await?;
        manager.create_index(index("organization", &["parent_id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("organization").to_owned()).await
    }
}
