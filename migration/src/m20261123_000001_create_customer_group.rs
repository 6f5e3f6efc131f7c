use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, string, string_null};

use crate::columns::{entity_table, index, timestamps, unique_index};

/// The built-in `Default` TYPE group, used for customers created without one.
pub const DEFAULT_TYPE_GROUP_ID: uuid::Uuid = uuid::Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);
/// The built-in `Everyone` PRICING group that every shopper belongs to implicitly.
pub const EVERYONE_GROUP_ID: uuid::Uuid = uuid::Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0002);

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = entity_table("customer_group");
        table
            .col(string("name").check(Expr::cust("length(trim(name)) > 0")))
            .col(string("name_key"))
            .col(string_null("description"))
            .col(string("kind").check(Expr::col("kind").is_in(["TYPE", "PRICING"])))
            .col(boolean("is_active"))
            .col(boolean("commission_exempt"))
            .col(boolean("free_freight"));
        manager.create_table(timestamps(&mut table).to_owned()).await?;
        manager
            .create_index(unique_index("customer_group", &["name_key"]))
            .await?;
        manager.create_index(index("customer_group", &["kind"])).await?;

        let now = chrono::Utc::now();
        for (id, name, kind) in [
            (DEFAULT_TYPE_GROUP_ID, "Default", "TYPE"),
            (EVERYONE_GROUP_ID, "Everyone", "PRICING"),
        ] {
            let insert = Query::insert()
                .into_table("customer_group")
                .columns([
                    "id",
                    "metadata",
                    "version",
                    "name",
                    "name_key",
                    "description",
                    "kind",
                    "is_active",
                    "commission_exempt",
                    "free_freight",
                    "created_at",
                    "updated_at",
                ])
                .values_panic([
                    id.into(),
                    serde_json_object().into(),
                    1.into(),
                    name.into(),
                    name.to_lowercase().into(),
                    Option::<String>::None.into(),
                    kind.into(),
                    true.into(),
                    false.into(),
                    false.into(),
                    now.into(),
                    now.into(),
                ])
                .to_owned();
            manager.exec_stmt(insert).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("customer_group").to_owned())
            .await
    }
}

fn serde_json_object() -> sea_orm_migration::sea_orm::JsonValue {
    sea_orm_migration::sea_orm::JsonValue::Object(Default::default())
}
