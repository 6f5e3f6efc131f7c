//! Connecting to the database: the pool, SQLite's pragmas, the statement
//! counter that tests and metrics read, and the read cache in front of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::MigratorTrait;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, TransactionTrait};

use crate::cache::{Cache, CacheOptions};
use crate::metrics::Metrics;

/// Rows SQLite's worker thread may hand over before the reader catches up;
/// above the largest page (100 + 1), so a page never waits on the channel.
const ROW_BUFFER: usize = 256;

/// The pool, a count of every SQL statement it ran, and the cache that
/// services read through and invalidate after their writes.
#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    pub cache: Arc<Cache>,
    /// What `/metrics` reports.
    pub metrics: Arc<Metrics>,
    statements: Arc<AtomicU64>,
}

#[derive(Clone, Debug)]
pub struct DbOptions {
    pub max_connections: u32,
    /// A PostgreSQL `search_path`, so tests can give each run its own schema.
    pub schema: Option<String>,
    pub cache: CacheOptions,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            schema: None,
            cache: CacheOptions::default(),
        }
    }
}

impl Db {
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Self, DbErr> {
        let mut connect = ConnectOptions::new(url);
        connect
            .max_connections(options.max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings a pooled connection on every acquire by default: a
            // round trip per statement. Ping only connections idle long enough
            // to have been dropped by the server.
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            // SeaORM would log every statement at INFO (SPEC §1).
            .sqlx_logging(false)
            // WAL lets readers run beside the writer; the busy timeout makes
            // concurrent writers wait their turn instead of failing.
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .row_buffer_size(ROW_BUFFER)
                    .foreign_keys(true)
            });
        if let Some(schema) = &options.schema {
            connect.set_schema_search_path(schema.clone());
        }
        let mut conn = Database::connect(connect).await?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        conn.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::Relaxed);
            crate::metrics::count_statement();
            tracing::trace!(
                target: "pricegraph::sql",
                elapsed_us = info.elapsed.as_micros() as u64,
                failed = info.failed,
                sql = %info.statement.sql,
            );
        });
        let cache = Arc::new(Cache::new(&options.cache));
        Ok(Self {
            conn,
            metrics: Arc::new(Metrics::new(cache.clone())),
            cache,
            statements,
        })
    }

    /// Statements run since the pool opened.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Applies pending migrations. On PostgreSQL they run in one transaction
    /// that first takes an advisory lock on the current schema, so instances
    /// starting at once apply each migration once: the second waits, then
    /// finds nothing pending. (SQLite's write lock serializes them already.)
    pub async fn migrate(&self) -> Result<(), DbErr> {
        if self.conn.get_database_backend() != DbBackend::Postgres {
            return migration::Migrator::up(&self.conn, None).await;
        }
        let txn = self.conn.begin().await?;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(hashtext('pricegraph.migrate:' || current_schema()))")
            .await?;
        migration::Migrator::up(&txn, None).await?;
        txn.commit().await
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}
