//! Connecting to the database: the pool, SQLite's pragmas, migrations, and
//! the one counter of SQL statements that tests and metrics read.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use migration::MigratorTrait;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, TransactionTrait};

/// Rows SQLite's worker thread may hand over before the reader catches up;
/// above the largest page (100 + 1), so a page never waits on the channel.
const ROW_BUFFER: usize = 256;

/// How long a statement waits for a pooled connection (or for the database
/// to accept a new one) before failing with `DATABASE_UNAVAILABLE`.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A pooled connection idle this long is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

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
    /// Open no connection before one is needed, so the pool can exist
    /// while the database is down (tests of an unreachable database).
    pub lazy: bool,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            schema: None,
            lazy: false,
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
            // While PostgreSQL refuses connections, sqlx retries the connect
            // until this runs out; it must run out before the request
            // timeout (10 s by default), so the caller hears
            // `DATABASE_UNAVAILABLE`, not a generic `TIMEOUT`.
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings a pooled connection on every acquire by default: a
            // round trip per statement. Ping only connections that sat idle
            // for a moment: a busy pool's connections are proven by their
            // last use, while those of a quiet instance may have died with a
            // database restart (a 30 s threshold let connections idle 1–30 s
            // through dead, and the first requests after an outage failed).
            .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
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
        // PostgreSQL's JIT compiles a statement it estimates costly before
        // running it: for the health report's tie check (estimated at 100M
        // rows, run in 1–60 ms) that took 0.9–1.3 s of compiling on every
        // report. The server's statements are all short: no JIT.
        connect.map_sqlx_postgres_opts(|opts| opts.options([("jit", "off")]));
        connect.connect_lazy(options.lazy);
        // A connection that died within the last second fails the statement
        // that finds it dead; the others idle across that failure are pinged
        // before their next use, so one failure, not one per pooled
        // connection, reveals a restart (the failed read is run again, see
        // `http::graphql`).
        let failures = Arc::new(Failures::default());
        connect.map_sqlx_postgres_before_acquire({
            let failures = failures.clone();
            move |conn, meta| {
                let suspect = meta.idle_for < PING_IF_IDLE_FOR && failures.while_idle_for(meta.idle_for);
                Box::pin(async move {
                    if suspect {
                        sea_orm::sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            }
        });
        if let Some(schema) = &options.schema {
            connect.set_schema_search_path(schema.clone());
        }
        let mut conn = Database::connect(connect).await?;
        let statements = statements.clone();
        conn.set_metric_callback(move |info| {
            statements.count();
            if info.failed {
                failures.record();
            }
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

/// When a statement last failed, to tell which pooled connections sat idle
/// across it.
#[derive(Debug)]
struct Failures {
    origin: Instant,
    /// Milliseconds from `origin` to the last failure, plus one; 0: none yet.
    last: AtomicU64,
}

impl Default for Failures {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            last: AtomicU64::new(0),
        }
    }
}

impl Failures {
    fn record(&self) {
        let now = self.origin.elapsed().as_millis() as u64 + 1;
        self.last.fetch_max(now, Ordering::Relaxed);
    }

    /// Whether a statement failed during the `idle_for` a connection has
    /// been idle (to the millisecond, erring towards yes).
    fn while_idle_for(&self, idle_for: Duration) -> bool {
        let last = self.last.load(Ordering::Relaxed);
        let idle_since = self.origin.elapsed().saturating_sub(idle_for).as_millis() as u64 + 1;
        last != 0 && last + 1 >= idle_since
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
