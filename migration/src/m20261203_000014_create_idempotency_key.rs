//! The `Idempotency-Key`s of mutations and the answers they got, so a client
//! can retry a mutation safely (docs/api.md#idempotency). Rows expire
//! after a day and are pruned by the server; nothing references them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer_null, string_len, text_null, timestamp_with_time_zone};

use crate::columns::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "idempotency_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    // SHA-256 in hex.
                    .col(string_len("scope", 64))
                    .col(string_len("key", 255))
                    .col(string_len("request_hash", 64))
                    .col(integer_null("status"))
                    .col(text_null("response"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .primary_key(Index::create().col("scope").col("key"))
                    // A finished request has both its status and its answer.
                    .check(Expr::col("status").is_null().eq(Expr::col("response").is_null()))
                    .to_owned(),
            )
            .await?;
        // Pruning deletes by expiry.
        manager.create_index(index(TABLE, &["expires_at"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
