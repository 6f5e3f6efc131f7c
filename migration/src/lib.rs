//! Migrations for every table, one file per table, applied in order.
//! Constraints live in the database as well as in the service layer: the
//! service gives the friendly error, the database makes sure nothing slips by.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261123_000001_create_customer_group;
mod m20261123_000002_create_organization;
mod m20261123_000003_create_customer;
mod m20261123_000004_create_customer_group_membership;
mod m20261123_000005_create_organization_group;
mod m20261123_000006_create_product_line;
mod m20261123_000007_create_product;
mod m20261123_000008_create_base_price;
mod m20261123_000009_create_price_list;
mod m20261123_000010_create_price;
mod m20261123_000011_create_customer_group_price_list;
mod m20261123_000012_create_customer_group_product_line;
mod m20261203_000013_create_change_log;
mod m20261203_000014_create_idempotency_key;
mod m20261203_000015_add_price_list_rule;
mod m20261203_000016_create_group_usage;
mod m20261203_000017_create_webhooks;

pub use m20261123_000001_create_customer_group::{DEFAULT_TYPE_GROUP_ID, EVERYONE_GROUP_ID};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_customer_group::Migration),
            Box::new(m20261123_000002_create_organization::Migration),
            Box::new(m20261123_000003_create_customer::Migration),
            Box::new(m20261123_000004_create_customer_group_membership::Migration),
            Box::new(m20261123_000005_create_organization_group::Migration),
            Box::new(m20261123_000006_create_product_line::Migration),
            Box::new(m20261123_000007_create_product::Migration),
            Box::new(m20261123_000008_create_base_price::Migration),
            Box::new(m20261123_000009_create_price_list::Migration),
            Box::new(m20261123_000010_create_price::Migration),
            Box::new(m20261123_000011_create_customer_group_price_list::Migration),
            Box::new(m20261123_000012_create_customer_group_product_line::Migration),
            Box::new(m20261203_000013_create_change_log::Migration),
            Box::new(m20261203_000014_create_idempotency_key::Migration),
            Box::new(m20261203_000015_add_price_list_rule::Migration),
            Box::new(m20261203_000016_create_group_usage::Migration),
            Box::new(m20261203_000017_create_webhooks::Migration),
        ]
    }
}
