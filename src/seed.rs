//! Loading data: the demo data set (`pricegraph seed --demo`, `serve --demo`)
//! and generated rows for benchmarks (`seed --customers N --groups N ...`).
//!
//! Rows go in through the entities, in bulk, not through the service layer: a
//! benchmark seed of a hundred thousand customers must take seconds, not a
//! transaction per row. The service's rules hold by construction instead
//! (group names unique ignoring case, memberships and price-list links only to
//! `PRICING` groups and never to `Everyone`, amounts in whole minor units), and
//! the database's constraints back them up.
//!
//! Both are deterministic (a seeded `StdRng`): the same command on the same
//! database gives the same names, prices and links; only ids and times differ.
//! This file holds what the CLI calls; `demo` and `bench` build the two
//! data sets out of the row builders in `rows`, and `sink` writes them:
//! multi-row `INSERT`s on SQLite, `COPY` on PostgreSQL.

mod bench;
mod demo;
mod rows;
mod sink;

use anyhow::Context;
use chrono::Utc;
use entity::{customer, customer_group, product};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use crate::config::SeedArgs;
use crate::db::Db;

/// `pricegraph seed`: the demo if asked for, then any generated rows.
pub async fn run(db: &Db, args: &SeedArgs) -> anyhow::Result<()> {
    if args.demo {
        demo(db).await?;
    }
    if args.customers > 0 || args.groups > 0 || args.price_lists > 0 || args.products > 0 {
        bench::generate(db, args).await?;
    }
    let started = std::time::Instant::now();
    analyze(db).await?;
    tracing::info!("analyzed the seeded tables in {:.1?}", started.elapsed());
    Ok(())
}

/// The tables a seed fills.
const SEEDED_TABLES: &[&str] = &[
    "customer_group",
    "organization",
    "organization_group",
    "customer",
    "customer_group_membership",
    "product_line",
    "product",
    "base_price",
    "price_list",
    "price",
    "customer_group_price_list",
    "customer_group_product_line",
];

/// Fresh planner statistics for what was just loaded. A planner that still
/// believes the tables empty picks scans: on PostgreSQL without autovacuum
/// the membership lookup read all 150,000 rows and a page of customers was
/// five times slower until `ANALYZE` ran. Table by table, so that only this
/// database's (or this schema's) tables are read.
async fn analyze(db: &Db) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    for table in SEEDED_TABLES {
        db.conn
            .execute_unprepared(&format!("ANALYZE \"{table}\""))
            .await
            .with_context(|| format!("ANALYZE {table} after seeding"))?;
    }
    Ok(())
}

/// Loads the demo data unless the database already holds customers or
/// products: `serve --demo` must never mix the demo into real data.
pub async fn demo_if_empty(db: &Db) -> anyhow::Result<()> {
    let customers = customer::Entity::find()
        .count(&db.conn)
        .await
        .context("counting customers")?;
    let products = product::Entity::find()
        .count(&db.conn)
        .await
        .context("counting products")?;
    if customers > 0 || products > 0 {
        tracing::info!(
            customers,
            products,
            "the database is not empty; not loading the demo data set"
        );
        return Ok(());
    }
    demo(db).await
}

/// Loads the demo data set in one transaction. When its groups are already
/// there it does nothing, so a second `seed --demo` is a no-op rather than a
/// unique violation.
pub async fn demo(db: &Db) -> anyhow::Result<()> {
    let name_keys: Vec<String> = demo::group_names().map(str::to_lowercase).collect();
    let present: Vec<String> = customer_group::Entity::find()
        .filter(customer_group::Column::NameKey.is_in(name_keys))
        .select_only()
        .column(customer_group::Column::Name)
        .into_tuple()
        .all(&db.conn)
        .await
        .context("looking for the demo's groups")?;
    if !present.is_empty() {
        tracing::info!(
            "the demo data set is already loaded (found {}); skipping it",
            present.join(", ")
        );
        return Ok(());
    }
    let rows = demo::rows(Utc::now())?;
    let summary = rows.summary();
    let mut sink = sink::Sink::begin(db).await?;
    rows.write(&mut sink).await.context("inserting the demo data set")?;
    sink.commit().await.context("committing the demo data set")?;
    tracing::info!("loaded the demo data set: {summary}");
    Ok(())
}
