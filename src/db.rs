//! Connecting to the database: the pool, SQLite's pragmas, migrations, and
//! the one counter of SQL statements that tests and metrics read.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::MigratorTrait;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, TransactionTrait};

/// Rows SQLite's worker thread may hand over before the reader catches up;
/// above the largest page (100 + 1), so a page never waits on the channel.
const ROW_BUFFER: usize = 256;

/// The connection pool.
#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
}

#[derive(Clone, Debug)]
pub struct DbOptions {
    pub max_connections: u32,
    /// A PostgreSQL `search_path`, so tests can give each run its own schema.
    pub schema: Option<String>,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            schema: None,
        }
    }
}

impl Db {
    /// Opens the pool; every statement it runs is counted by `statements`.
    pub async fn connect(url: &str, options: &DbOptions, statements: &Statements) -> Result<Self, DbErr> {
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
            // SeaORM would log every statement at INFO.
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
        let statements = statements.clone();
        conn.set_metric_callback(move |info| {
            statements.count();
            tracing::trace!(
                target: "pricegraph::sql",
                elapsed_us = info.elapsed.as_micros() as u64,
                failed = info.failed,
                sql = %info.statement.sql,
            );
        });
        Ok(Self { conn })
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

tokio::task_local! {
    /// The statements of the request being served.
    static REQUEST_STATEMENTS: Arc<AtomicU64>;
    /// Set in background work whose statements are not counted (following
    /// the change log): counts stay those of the requests.
    static UNCOUNTED: ();
}

/// Counts SQL statements: all of them since start (for tests), and those of
/// the request being served (for the statements-per-request histogram),
/// across the tasks a request spawns when they are [`Statements::carry`]d.
#[derive(Clone, Debug, Default)]
pub struct Statements {
    total: Arc<AtomicU64>,
}

impl Statements {
    fn count(&self) {
        if UNCOUNTED.try_with(|_| ()).is_ok() {
            return;
        }
        self.total.fetch_add(1, Ordering::Relaxed);
        let _ = REQUEST_STATEMENTS.try_with(|count| count.fetch_add(1, Ordering::Relaxed));
    }

    /// Statements run since the pool opened.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Runs `work`, counting the statements it (and work it carries into
    /// spawned tasks) runs.
    pub async fn counting<F: Future>(work: F) -> (u64, F::Output) {
        let count = Arc::new(AtomicU64::new(0));
        let output = REQUEST_STATEMENTS.scope(count.clone(), work).await;
        (count.load(Ordering::Relaxed), output)
    }

    /// `work`, whose statements are not counted.
    pub fn uncounted<F: Future>(work: F) -> impl Future<Output = F::Output> {
        UNCOUNTED.scope((), work)
    }

    /// `work`, counting its statements for the current request: for work
    /// that is spawned into a task of its own.
    pub fn carry<F: Future>(work: F) -> impl Future<Output = F::Output> {
        let count = REQUEST_STATEMENTS
            .try_with(Arc::clone)
            .unwrap_or_else(|_| Arc::new(AtomicU64::new(0)));
        REQUEST_STATEMENTS.scope(count, work)
    }
}
