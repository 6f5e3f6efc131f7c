//! Generated rows for benchmarks (`seed --customers N --groups N ...`):
//! enough customers, groups, lists and prices to measure resolution at scale,
//! shaped like real data (most lists active, a few scheduled; customers in
//! zero to three groups; some in organizations) and drawn from a fixed seed.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use entity::values::{GroupKind, PriceListStatus, PriceListType};
use entity::{base_price, customer_group, organization, price_list, product, product_line};
use migration::{DEFAULT_TYPE_GROUP_ID, EVERYONE_GROUP_ID};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::rows::{
    Rows, base_price_row, list_link_row, membership_row, new_customer, new_group, new_organization, new_price_list,
    new_product, organization_group_row, percent_of, price_row,
};
use crate::config::SeedArgs;
use crate::db::Db;

const BENCH_SEED: u64 = 7;
/// Customers built and inserted at a time, so memory stays flat and the log
/// shows progress.
const CUSTOMER_BATCH: usize = 10_000;
/// Price lists linked to each generated group.
const LISTS_PER_GROUP: usize = 10;
/// Base prices of generated products, and of list prices for products
/// without a USD base price, in US cents.
const BENCH_PRICE_RANGE: std::ops::RangeInclusive<i64> = 199..=49_999;

/// Adds the generated rows `args` asks for, one transaction per kind. Names
/// continue from earlier runs' numbers, so repeated runs never collide.
pub(super) async fn generate(db: &Db, args: &SeedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut bench = Bench {
        rng: StdRng::seed_from_u64(BENCH_SEED),
        now: Utc::now(),
    };
    if args.products > 0 {
        let txn = db.conn.begin().await?;
        bench
            .products(&txn, args.products)
            .await
            .context("generating products")?;
        txn.commit().await?;
    }
    if args.price_lists > 0 {
        let txn = db.conn.begin().await?;
        bench
            .price_lists(&txn, args.price_lists)
            .await
            .context("generating price lists")?;
        txn.commit().await?;
    }
    if args.groups > 0 {
        let txn = db.conn.begin().await?;
        bench.groups(&txn, args.groups).await.context("generating groups")?;
        txn.commit().await?;
    }
    if args.customers > 0 {
        let txn = db.conn.begin().await?;
        bench
            .customers(&txn, args.customers)
            .await
            .context("generating customers")?;
        txn.commit().await?;
    }
    tracing::info!("generated the benchmark rows in {:.1?}", started.elapsed());
    Ok(())
}

struct Bench {
    rng: StdRng,
    now: DateTime<Utc>,
}

impl Bench {
    /// Products, nine in ten in a random line, each with a USD base price
    /// and one in five with a quantity break at 10.
    async fn products(&mut self, txn: &DatabaseTransaction, count: u32) -> Result<(), DbErr> {
        let lines: Vec<Uuid> = select_column(product_line::Entity::find(), product_line::Column::Id)
            .all(txn)
            .await?;
        let first = next_serial::<product::Entity>(txn, product::Column::Sku, "BENCH-").await?;
        let mut rows = Rows::default();
        for n in first..first + count {
            let mut row = new_product(format!("BENCH-{n:06}"), format!("Bench Product {n:06}"), self.now);
            if self.rng.random_ratio(9, 10) {
                row.product_line_id = lines.choose(&mut self.rng).copied();
            }
            let usd = self.rng.random_range(BENCH_PRICE_RANGE);
            rows.base_prices.push(base_price_row(row.id, "USD", 1, usd, self.now));
            if self.rng.random_ratio(1, 5) {
                rows.base_prices
                    .push(base_price_row(row.id, "USD", 10, percent_of(usd, 90), self.now));
            }
            rows.products.push(row.into_active_model());
        }
        tracing::info!("generating {count} products ({} base prices)", rows.base_prices.len());
        rows.insert(txn).await
    }

    /// Price lists (mostly active SALE lists, some scheduled or bounded),
    /// each pricing 20–50 random products in USD below their base price, a
    /// quarter of them in two tiers.
    async fn price_lists(&mut self, txn: &DatabaseTransaction, count: u32) -> Result<(), DbErr> {
        let products: Vec<Uuid> = select_column(product::Entity::find(), product::Column::Id)
            .all(txn)
            .await?;
        let unit_prices: HashMap<Uuid, i64> = base_price::Entity::find()
            .filter(base_price::Column::Currency.eq("USD"))
            .filter(base_price::Column::MinQuantity.eq(1))
            .select_only()
            .columns([base_price::Column::ProductId, base_price::Column::AmountMinor])
            .into_tuple::<(Uuid, i64)>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        let first = next_serial::<price_list::Entity>(txn, price_list::Column::Name, "Bench List ").await?;
        let now = self.now;
        let mut rows = Rows::default();
        for n in first..first + count {
            let list_type = if self.rng.random_ratio(3, 5) {
                PriceListType::Sale
            } else {
                PriceListType::Override
            };
            let status = if self.rng.random_ratio(9, 10) {
                PriceListStatus::Active
            } else {
                PriceListStatus::Draft
            };
            let mut row = new_price_list(format!("Bench List {n:05}"), list_type, status, now);
            match self.rng.random_range(0..10) {
                0 => (row.starts_at, row.ends_at) = (Some(now - Duration::days(30)), Some(now + Duration::days(30))),
                1 => row.starts_at = Some(now + Duration::days(10)),
                _ => {}
            }
            let size = self.rng.random_range(20..=50).min(products.len());
            let chosen: Vec<Uuid> = products.choose_multiple(&mut self.rng, size).copied().collect();
            for product_id in chosen {
                let unit = match unit_prices.get(&product_id) {
                    Some(&unit) => unit,
                    None => self.rng.random_range(BENCH_PRICE_RANGE),
                };
                let percent = self.rng.random_range(60..=95);
                if self.rng.random_ratio(1, 4) {
                    rows.prices.push(price_row(
                        row.id,
                        product_id,
                        "USD",
                        (1, Some(9)),
                        percent_of(unit, percent),
                        now,
                    ));
                    let amount = percent_of(unit, percent - 5);
                    rows.prices
                        .push(price_row(row.id, product_id, "USD", (10, None), amount, now));
                } else {
                    rows.prices.push(price_row(
                        row.id,
                        product_id,
                        "USD",
                        (1, None),
                        percent_of(unit, percent),
                        now,
                    ));
                }
            }
            rows.price_lists.push(row.into_active_model());
        }
        tracing::info!("generating {count} price lists ({} prices)", rows.prices.len());
        rows.insert(txn).await
    }

    /// Active pricing groups, each linked to [`LISTS_PER_GROUP`] distinct
    /// random price lists at random priorities.
    async fn groups(&mut self, txn: &DatabaseTransaction, count: u32) -> Result<(), DbErr> {
        let lists: Vec<Uuid> = select_column(price_list::Entity::find(), price_list::Column::Id)
            .all(txn)
            .await?;
        let first = next_serial::<customer_group::Entity>(txn, customer_group::Column::NameKey, "bench group ").await?;
        let mut rows = Rows::default();
        for n in first..first + count {
            let mut row = new_group(format!("Bench Group {n:05}"), GroupKind::Pricing, self.now);
            row.commission_exempt = self.rng.random_ratio(1, 10);
            row.free_freight = self.rng.random_ratio(1, 20);
            let chosen: Vec<Uuid> = lists
                .choose_multiple(&mut self.rng, LISTS_PER_GROUP.min(lists.len()))
                .copied()
                .collect();
            for price_list_id in chosen {
                let priority = self.rng.random_range(0..1000);
                rows.list_links
                    .push(list_link_row(row.id, price_list_id, priority, self.now));
            }
            rows.groups.push(row.into_active_model());
        }
        tracing::info!(
            "generating {count} pricing groups ({} price-list links)",
            rows.list_links.len()
        );
        rows.insert(txn).await
    }

    /// Customers with a random type group and 0–3 random pricing groups; one
    /// in ten belongs to one of a few generated organizations (one per
    /// thousand customers), most of which have pricing groups of their own.
    async fn customers(&mut self, txn: &DatabaseTransaction, count: u32) -> Result<(), DbErr> {
        let groups: Vec<(Uuid, GroupKind)> = customer_group::Entity::find()
            .select_only()
            .columns([customer_group::Column::Id, customer_group::Column::Kind])
            .into_tuple()
            .all(txn)
            .await?;
        let type_groups: Vec<Uuid> = groups
            .iter()
            .filter(|(_, kind)| *kind == GroupKind::Type)
            .map(|g| g.0)
            .collect();
        // `Everyone` is implicit: nobody is made a member of it.
        let pricing_groups: Vec<Uuid> = groups
            .iter()
            .filter(|&&(id, kind)| kind == GroupKind::Pricing && id != EVERYONE_GROUP_ID)
            .map(|g| g.0)
            .collect();
        let organizations = self.organizations(txn, (count / 1000).max(1), &pricing_groups).await?;
        // Emails must be new on every run; everything else stays deterministic.
        let run = format!("{:08x}", rand::random::<u32>());
        let count = count as usize;
        let mut done = 0;
        while done < count {
            let batch = CUSTOMER_BATCH.min(count - done);
            let mut rows = Rows::default();
            for n in done + 1..=done + batch {
                let type_group_id = type_groups
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or(DEFAULT_TYPE_GROUP_ID);
                let email = format!("bench-{n:06}-{run}@example.com");
                let mut row = new_customer(email, format!("Bench Customer {n:06}"), type_group_id, self.now);
                if self.rng.random_ratio(1, 10) {
                    row.organization_id = organizations.choose(&mut self.rng).copied();
                }
                row.commission_exempt = self.rng.random_ratio(1, 50);
                row.free_freight = self.rng.random_ratio(1, 33);
                let memberships = self.rng.random_range(0..=3).min(pricing_groups.len());
                let chosen: Vec<Uuid> = pricing_groups
                    .choose_multiple(&mut self.rng, memberships)
                    .copied()
                    .collect();
                for group_id in chosen {
                    rows.memberships.push(membership_row(row.id, group_id, self.now));
                }
                rows.customers.push(row.into_active_model());
            }
            rows.insert(txn).await?;
            done += batch;
            tracing::info!("customers: {done}/{count}");
        }
        Ok(())
    }

    /// Organizations for generated customers; three in four get one or two
    /// pricing groups.
    async fn organizations(
        &mut self,
        txn: &DatabaseTransaction,
        count: u32,
        pricing_groups: &[Uuid],
    ) -> Result<Vec<Uuid>, DbErr> {
        let first = next_serial::<organization::Entity>(txn, organization::Column::Name, "Bench Organization ").await?;
        let mut rows = Rows::default();
        let mut ids = Vec::new();
        for n in first..first + count {
            let row = new_organization(format!("Bench Organization {n:05}"), self.now);
            let size = if self.rng.random_ratio(3, 4) {
                self.rng.random_range(1..=2)
            } else {
                0
            };
            let chosen: Vec<Uuid> = pricing_groups
                .choose_multiple(&mut self.rng, size.min(pricing_groups.len()))
                .copied()
                .collect();
            for group_id in chosen {
                rows.organization_groups
                    .push(organization_group_row(row.id, group_id, self.now));
            }
            ids.push(row.id);
            rows.organizations.push(row.into_active_model());
        }
        tracing::info!("generating {count} organizations for the customers");
        rows.insert(txn).await?;
        Ok(ids)
    }
}

/// One column of every row, as plain values.
fn select_column<E, T>(
    select: sea_orm::Select<E>,
    column: E::Column,
) -> sea_orm::Selector<sea_orm::SelectGetableTuple<T>>
where
    E: EntityTrait,
    T: sea_orm::TryGetableMany,
{
    select.select_only().column(column).into_tuple()
}

/// The number after the highest `<prefix><number>` in `column`, or 1: what
/// the next generated name starts from.
async fn next_serial<E: EntityTrait>(txn: &DatabaseTransaction, column: E::Column, prefix: &str) -> Result<u32, DbErr> {
    let names: Vec<String> = select_column(E::find().filter(column.starts_with(prefix)), column)
        .all(txn)
        .await?;
    let numbers = names
        .iter()
        .filter_map(|name| name.strip_prefix(prefix)?.parse::<u32>().ok());
    Ok(numbers.max().map_or(1, |highest| highest + 1))
}
