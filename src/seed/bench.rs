//! Generated rows for benchmarks (`seed --customers N --groups N ...`):
//! enough customers, groups, lists and prices to measure resolution at scale,
//! shaped like real data (most lists active, a few scheduled; customers in
//! zero to three groups; some in organizations) and drawn from a fixed seed.
//! What the draws pick from (products, lists, groups) is read in a fixed
//! order, so the same command gives the same rows on SQLite and PostgreSQL.
//!
//! Each kind is written in one transaction, in batches (see [`Sink`]); what
//! a kind reads first (the lists to link, the next free name) is read just
//! before that transaction begins: nothing else writes during a seed.

use std::collections::HashMap;
use std::future::Future;
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
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::rows::{
    Rows, base_price_row, list_link_row, membership_row, new_customer, new_group, new_organization, new_price_list,
    new_product, organization_group_row, percent_of, price_row,
};
use super::sink::Sink;
use crate::config::SeedArgs;
use crate::db::Db;

const BENCH_SEED: u64 = 7;
/// Customers or products built and written at a time (with their
/// memberships or base prices), so memory stays flat however many the seed
/// makes. All of a kind's batches go into one transaction.
const BATCH: u32 = 10_000;
/// Price lists built and written at a time, with their 20–50 products' prices.
const LIST_BATCH: u32 = 500;
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
        timed("products", bench.products(db, args.products)).await?;
    }
    if args.price_lists > 0 {
        timed("price lists", bench.price_lists(db, args.price_lists)).await?;
    }
    if args.groups > 0 {
        timed("groups", bench.groups(db, args.groups)).await?;
    }
    if args.customers > 0 {
        timed("customers", bench.customers(db, args.customers)).await?;
    }
    tracing::info!("generated the benchmark rows in {:.1?}", started.elapsed());
    Ok(())
}

/// Runs one kind's generation and logs how long it took.
async fn timed(kind: &str, work: impl Future<Output = Result<(), DbErr>>) -> anyhow::Result<()> {
    let started = Instant::now();
    work.await.with_context(|| format!("generating {kind}"))?;
    tracing::info!("seeded the {kind} in {:.1?}", started.elapsed());
    Ok(())
}

/// Logs how far a long kind has got, about every twentieth of the way.
struct Progress {
    kind: &'static str,
    total: usize,
    done: usize,
    started: Instant,
}

impl Progress {
    fn new(kind: &'static str, total: usize) -> Self {
        Self {
            kind,
            total,
            done: 0,
            started: Instant::now(),
        }
    }

    fn advance(&mut self, rows: usize) {
        let step = (self.total / 20).max(1);
        let before = self.done / step;
        self.done += rows;
        if self.done / step != before || self.done == self.total {
            let elapsed = self.started.elapsed();
            let rate = self.done as f64 / elapsed.as_secs_f64().max(1e-9);
            tracing::info!(
                "{}: {}/{} in {elapsed:.1?} ({rate:.0}/s)",
                self.kind,
                self.done,
                self.total
            );
        }
    }
}

struct Bench {
    rng: StdRng,
    now: DateTime<Utc>,
}

impl Bench {
    /// Products, nine in ten in a random line, each with a USD base price
    /// and one in five with a quantity break at 10.
    async fn products(&mut self, db: &Db, count: u32) -> Result<(), DbErr> {
        let lines: Vec<Uuid> = select_column(
            product_line::Entity::find()
                .order_by_asc(product_line::Column::Name)
                .order_by_asc(product_line::Column::Id),
            product_line::Column::Id,
        )
        .all(&db.conn)
        .await?;
        let first = next_serial::<product::Entity>(&db.conn, product::Column::Sku, "BENCH-").await?;
        tracing::info!("generating {count} products with their base prices");
        let mut progress = Progress::new("products", count as usize);
        let mut sink = Sink::begin(db).await?;
        for batch in batches(first, count, BATCH) {
            let mut rows = Rows::default();
            for n in batch.clone() {
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
            rows.write(&mut sink).await?;
            progress.advance(batch.len());
        }
        sink.commit().await
    }

    /// Price lists (mostly active SALE lists, some scheduled or bounded),
    /// each pricing 20–50 random products in USD below their base price, a
    /// quarter of them in two tiers.
    async fn price_lists(&mut self, db: &Db, count: u32) -> Result<(), DbErr> {
        let products: Vec<Uuid> = select_column(
            product::Entity::find().order_by_asc(product::Column::Sku),
            product::Column::Id,
        )
        .all(&db.conn)
        .await?;
        let unit_prices: HashMap<Uuid, i64> = base_price::Entity::find()
            .filter(base_price::Column::Currency.eq("USD"))
            .filter(base_price::Column::MinQuantity.eq(1))
            .select_only()
            .columns([base_price::Column::ProductId, base_price::Column::AmountMinor])
            .into_tuple::<(Uuid, i64)>()
            .all(&db.conn)
            .await?
            .into_iter()
            .collect();
        let first = next_serial::<price_list::Entity>(&db.conn, price_list::Column::Name, "Bench List ").await?;
        tracing::info!("generating {count} price lists with their prices");
        let mut progress = Progress::new("price lists", count as usize);
        let mut sink = Sink::begin(db).await?;
        for batch in batches(first, count, LIST_BATCH) {
            let mut rows = Rows::default();
            for n in batch.clone() {
                self.price_list(n, &products, &unit_prices, &mut rows);
            }
            rows.write(&mut sink).await?;
            progress.advance(batch.len());
        }
        sink.commit().await
    }

    /// List number `n` and its prices.
    fn price_list(&mut self, n: u32, products: &[Uuid], unit_prices: &HashMap<Uuid, i64>, rows: &mut Rows) {
        let now = self.now;
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

    /// Active pricing groups, each linked to [`LISTS_PER_GROUP`] distinct
    /// random price lists at random priorities.
    async fn groups(&mut self, db: &Db, count: u32) -> Result<(), DbErr> {
        let lists: Vec<Uuid> = select_column(
            price_list::Entity::find()
                .order_by_asc(price_list::Column::Name)
                .order_by_asc(price_list::Column::Id),
            price_list::Column::Id,
        )
        .all(&db.conn)
        .await?;
        let first =
            next_serial::<customer_group::Entity>(&db.conn, customer_group::Column::NameKey, "bench group ").await?;
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
        let mut sink = Sink::begin(db).await?;
        rows.write(&mut sink).await?;
        sink.commit().await
    }

    /// Customers with a random type group and 0–3 random pricing groups; one
    /// in ten belongs to one of a few generated organizations (one per
    /// thousand customers), most of which have pricing groups of their own.
    async fn customers(&mut self, db: &Db, count: u32) -> Result<(), DbErr> {
        let groups: Vec<(Uuid, GroupKind)> = customer_group::Entity::find()
            .order_by_asc(customer_group::Column::NameKey)
            .select_only()
            .columns([customer_group::Column::Id, customer_group::Column::Kind])
            .into_tuple()
            .all(&db.conn)
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
        let organization_count = (count / 1000).max(1);
        let first_organization =
            next_serial::<organization::Entity>(&db.conn, organization::Column::Name, "Bench Organization ").await?;
        // Emails must be new on every run; everything else stays deterministic.
        let run = format!("{:08x}", rand::random::<u32>());
        tracing::info!("generating {count} customers with their memberships");
        let mut progress = Progress::new("customers", count as usize);
        let mut sink = Sink::begin(db).await?;
        let organizations = self
            .organizations(&mut sink, first_organization, organization_count, &pricing_groups)
            .await?;
        for batch in batches(1, count, BATCH) {
            let mut rows = Rows::default();
            for n in batch.clone() {
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
            rows.write(&mut sink).await?;
            progress.advance(batch.len());
        }
        sink.commit().await
    }

    /// Organizations for generated customers; three in four get one or two
    /// pricing groups.
    async fn organizations(
        &mut self,
        sink: &mut Sink,
        first: u32,
        count: u32,
        pricing_groups: &[Uuid],
    ) -> Result<Vec<Uuid>, DbErr> {
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
        rows.write(sink).await?;
        Ok(ids)
    }
}

/// `count` numbers from `first` on, in ranges of at most `size`.
fn batches(first: u32, count: u32, size: u32) -> impl Iterator<Item = std::ops::Range<u32>> {
    let end = first + count;
    (first..end)
        .step_by(size as usize)
        .map(move |start| start..end.min(start + size))
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
async fn next_serial<E: EntityTrait>(conn: &DatabaseConnection, column: E::Column, prefix: &str) -> Result<u32, DbErr> {
    let names: Vec<String> = select_column(E::find().filter(column.starts_with(prefix)), column)
        .all(conn)
        .await?;
    let numbers = names
        .iter()
        .filter_map(|name| name.strip_prefix(prefix)?.parse::<u32>().ok());
    Ok(numbers.max().map_or(1, |highest| highest + 1))
}
