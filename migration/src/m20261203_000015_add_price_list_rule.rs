//! A price list's rule (docs/pricing.md#derived-lists): `percent_off` in
//! hundredths of a percent makes the list price every product that has a
//! base price, at that discount, where it has no row of its own. `NULL`
//! is a list of fixed amounts only, as every list was before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::integer_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("price_list")
                    .add_column(integer_null("percent_off").check(Expr::cust(
                        "percent_off IS NULL OR (percent_off > 0 AND percent_off <= 10000)",
                    )))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("price_list").drop_column("percent_off").to_owned())
            .await
    }
}
