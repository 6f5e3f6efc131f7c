use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, string, uuid, uuid_null};

use crate::columns::{entity_table, fk, index, timestamps, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = entity_table("customer");
        table
            .col(string("email").check(Expr::cust("length(trim(email)) > 0")))
            .col(string("name"))
            .col(uuid_null("organization_id"))
            .col(uuid("type_group_id"))
            .col(boolean("commission_exempt"))
            .col(boolean("free_freight"))
            .foreign_key(&mut fk(
                "customer",
                "organization_id",
                "organization",
                ForeignKeyAction::SetNull,
            ))
            .foreign_key(&mut fk(
                "customer",
                "type_group_id",
                "customer_group",
                ForeignKeyAction::Restrict,
            ));
        manager.create_table(timestamps(&mut table).to_owned()).await?;
        manager.create_index(unique_index("customer", &["email"])).await?;
        manager.create_index(index("customer", &["organization_id"])).await?;
        manager.create_index(index("customer", &["type_group_id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("customer").to_owned()).await
    }
}
