//! The demo data set (`pricegraph seed --demo`, `serve --demo`).

use crate::config::SeedArgs;
use crate::db::Db;

/// `pricegraph seed`.
pub async fn run(db: &Db, args: &SeedArgs) -> anyhow::Result<()> {
    if args.demo {
        demo(db).await?;
    }
    Ok(())
}

/// Loads the demo data unless the database already has customers.
pub async fn demo_if_empty(db: &Db) -> anyhow::Result<()> {
    demo(db).await
}

/// Loads the demo data set.
pub async fn demo(_db: &Db) -> anyhow::Result<()> {
    Ok(())
}
