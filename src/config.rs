//! Configuration: one clap struct per subcommand; every setting is a flag
//! and an environment variable, with a default that works on a bare machine.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "pricegraph", version, about = "Customer-group pricing as a GraphQL API")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply pending migrations and serve the API (the default).
    Serve(Box<ServeArgs>),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Load data into the database.
    Seed(SeedArgs),
    /// Load prices or base prices from a CSV file (sku, currency,
    /// min_quantity, max_quantity, amount), as upserts.
    Import(ImportArgs),
    /// Write prices or base prices as CSV, in the format `import` reads.
    Export(ExportArgs),
    /// Write the GraphQL SDL.
    ExportSchema(ExportSchemaArgs),
    /// Print the API keys file line for a key read from standard input.
    HashKey(HashKeyArgs),
}

#[derive(Args, Debug, Clone)]
pub struct HashKeyArgs {
    /// The key's role: admin or storefront.
    #[arg(long, value_parser = ["admin", "storefront"])]
    pub role: String,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// GraphiQL, introspection and field suggestions on.
    Development,
    /// GraphiQL, introspection and field suggestions off.
    Production,
}

#[derive(Args, Debug, Clone)]
pub struct SecurityArgs {
    /// API keys as `role:key` pairs, comma-separated (roles: admin, storefront).
    #[arg(long, env = "PRICEGRAPH_API_KEYS", hide_env_values = true)]
    pub api_keys: Option<String>,
    /// A file of `role sha256:<hex>` lines (see `pricegraph hash-key`).
    #[arg(long, env = "PRICEGRAPH_API_KEYS_FILE")]
    pub api_keys_file: Option<PathBuf>,
    /// The HS256 secret customer tokens are signed with (at least 32 bytes).
    #[arg(long, env = "PRICEGRAPH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// The `aud` a customer token must carry.
    #[arg(long, env = "PRICEGRAPH_JWT_AUDIENCE", default_value = "pricegraph")]
    pub jwt_audience: String,
    /// Origins whose browser apps may call the API (CORS), comma-separated,
    /// e.g. `https://shop.example.com`; none when unset.
    #[arg(long, env = "PRICEGRAPH_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    #[arg(long, env = "PRICEGRAPH_PROFILE", value_enum, default_value_t = Profile::Development)]
    pub profile: Profile,
    /// A request still running after this many milliseconds is answered `TIMEOUT`.
    #[arg(long, env = "PRICEGRAPH_REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,
}

impl Cli {
    /// Parses the command line; with no subcommand, `serve` is meant.
    pub fn parse_with_default() -> Self {
        let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let first = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
        let is_top_level_flag = matches!(first, "-h" | "--help" | "-V" | "--version");
        if args.len() == 1 || (first.starts_with('-') && !is_top_level_flag) {
            args.insert(1, "serve".into());
        }
        Self::parse_from(args)
    }
}

#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// SQLite file (created if missing) or PostgreSQL URL.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://pricegraph.db?mode=rwc")]
    pub database_url: String,
    /// Most database connections in the pool.
    #[arg(long, env = "PRICEGRAPH_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "PRICEGRAPH_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub redis: RedisArgs,
    /// Load the demo data set first if the database has no customers and no products.
    #[arg(long, env = "PRICEGRAPH_DEMO", default_value_t = false)]
    pub demo: bool,
    /// Serve GraphiQL's files from this directory instead of the copies in
    /// the binary: the files of `assets/graphiql/` side by side, or what
    /// `npm install graphiql@3 react@18 react-dom@18` puts in `node_modules`
    /// (the directory itself or the one holding it). Checked at start-up.
    #[arg(long, env = "PRICEGRAPH_GRAPHIQL_ASSETS", value_name = "DIR")]
    pub graphiql_assets: Option<PathBuf>,
    #[command(flatten)]
    pub shutdown: ShutdownArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub security: SecurityArgs,
    /// Serve as an Apollo Federation v2 subgraph: `Customer`, `CustomerGroup`,
    /// `Product` and `PriceList` become entities keyed by `id`, resolved
    /// through `_entities`; `_service` answers the subgraph SDL.
    #[arg(long, env = "PRICEGRAPH_FEDERATION", default_value_t = false)]
    pub federation: bool,
    /// Seconds between two writes of the group usage this instance counted
    /// (`CustomerGroup.usage`): usage shows after at most this long. The
    /// counts are kept in memory meanwhile, and written once more on stop.
    #[arg(long, env = "PRICEGRAPH_USAGE_FLUSH_SECONDS",
          default_value_t = crate::service::usage::DEFAULT_FLUSH_SECONDS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub usage_flush_seconds: u64,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

/// Webhook delivery (docs/operations.md#webhooks).
#[derive(Args, Debug, Clone)]
pub struct WebhookArgs {
    /// Allow webhook endpoints on private, loopback, link-local and other
    /// internal addresses (refused by default: SSRF). For development and
    /// tests.
    #[arg(long, env = "PRICEGRAPH_WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,
    /// Seconds a delivery is retried (with exponential backoff) after its
    /// event, before it is marked `FAILED`.
    #[arg(long, env = "PRICEGRAPH_WEBHOOK_RETRY_FOR_SECONDS", default_value_t = 86_400,
          value_parser = clap::value_parser!(u64).range(1..=30 * 86_400))]
    pub webhook_retry_for_seconds: u64,
    /// Milliseconds before the first retry; each next wait doubles, up to an hour.
    #[arg(long, env = "PRICEGRAPH_WEBHOOK_FIRST_RETRY_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub webhook_first_retry_ms: u64,
    /// Seconds one delivery attempt may take (connect, send, the answer's status).
    #[arg(long, env = "PRICEGRAPH_WEBHOOK_TIMEOUT_SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub webhook_timeout_seconds: u64,
    /// Seconds a delivery claimed by an instance stays its own: an instance
    /// killed mid-delivery leaves claims that another instance (or this one,
    /// restarted) takes over after this. Longer than an attempt's timeout.
    /// Default: three timeouts plus 30 s.
    #[arg(long, env = "PRICEGRAPH_WEBHOOK_LEASE_SECONDS",
          value_parser = clap::value_parser!(u64).range(2..=3_600))]
    pub webhook_lease_seconds: Option<u64>,
}

impl WebhookArgs {
    pub fn options(&self) -> anyhow::Result<crate::events::WebhookOptions> {
        let timeout = std::time::Duration::from_secs(self.webhook_timeout_seconds);
        let retry_for = std::time::Duration::from_secs(self.webhook_retry_for_seconds);
        // A claim outlives its attempt: another instance takes it over only
        // when this one is gone, never while its attempt may still succeed.
        let lease = match self.webhook_lease_seconds {
            Some(seconds) => {
                anyhow::ensure!(
                    seconds > self.webhook_timeout_seconds,
                    "--webhook-lease-seconds ({seconds}) must be longer than --webhook-timeout-seconds ({})",
                    self.webhook_timeout_seconds
                );
                std::time::Duration::from_secs(seconds)
            }
            None => timeout * 3 + std::time::Duration::from_secs(30),
        };
        Ok(crate::events::WebhookOptions {
            allow_private: self.webhook_allow_private,
            retry_for,
            first_retry: std::time::Duration::from_millis(self.webhook_first_retry_ms),
            timeout,
            lease,
            catch_up: retry_for,
            ..Default::default()
        })
    }
}

#[derive(Args, Debug, Clone)]
pub struct RedisArgs {
    /// Redis: the cache shared by every instance; unset, each instance's
    /// in-process cache serves alone. (Instances learn of each other's
    /// writes from the change log in the database, with or without Redis.)
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so deployments can share one Redis.
    #[arg(long, env = "PRICEGRAPH_REDIS_KEY_PREFIX", default_value = "")]
    pub redis_key_prefix: String,
    /// Timeout of each Redis connect and command, in milliseconds.
    #[arg(long, env = "PRICEGRAPH_REDIS_TIMEOUT_MS", default_value_t = 50)]
    pub redis_timeout_ms: u64,
    /// Life of a Redis entry, in seconds, spread ±10 %.
    #[arg(long, env = "PRICEGRAPH_REDIS_TTL_SECONDS", default_value_t = 3600)]
    pub redis_ttl_seconds: u64,
}

impl RedisArgs {
    /// The Redis settings, when a Redis URL is given.
    pub fn options(&self) -> Option<crate::cache::shared::RedisOptions> {
        self.redis_url.as_ref().map(|url| crate::cache::shared::RedisOptions {
            redis_url: url.clone(),
            key_prefix: self.redis_key_prefix.clone(),
            timeout: std::time::Duration::from_millis(self.redis_timeout_ms.max(1)),
            ttl: std::time::Duration::from_secs(self.redis_ttl_seconds.max(1)),
        })
    }
}

/// What one client may hold of the server: connections, time, requests.
#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// Connections served at once; more are answered 503 with `Retry-After`.
    /// 0: as many as the file-descriptor limit leaves room for (logged at start).
    #[arg(long, env = "PRICEGRAPH_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,
    /// Seconds a request head may take to arrive; also how long an idle
    /// kept-alive connection stays open.
    #[arg(long, env = "PRICEGRAPH_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_timeout_seconds: u64,
    /// Seconds a request body may take to arrive (408 after that).
    #[arg(long, env = "PRICEGRAPH_BODY_TIMEOUT_SECONDS", default_value_t = 10)]
    pub body_timeout_seconds: u64,
    /// Requests a second each API key or customer may send, with bursts of
    /// twice that (429 with `Retry-After` past it); 0 is no limit. Open
    /// development mode is never limited.
    #[arg(long, env = "PRICEGRAPH_RATE_LIMIT", default_value_t = 100)]
    pub rate_limit: u32,
}

impl LimitArgs {
    pub fn connections(&self) -> crate::http::ConnectionOptions {
        crate::http::ConnectionOptions {
            max_connections: (self.max_connections > 0).then_some(self.max_connections),
            header_timeout: std::time::Duration::from_secs(self.header_timeout_seconds.max(1)),
        }
    }
}

/// How `serve` stops on SIGTERM or Ctrl-C: `/ready` answers 503 at once,
/// the listener stays open for the drain delay, then requests in flight get
/// the grace period to finish.
#[derive(Args, Debug, Clone)]
pub struct ShutdownArgs {
    /// Seconds the listener keeps accepting after the signal, while `/ready`
    /// answers 503, so that load balancers stop sending requests first.
    /// Default: 5 in the production profile (a few probe periods of a load
    /// balancer), 0 in development (Ctrl-C stops at once).
    #[arg(long, env = "PRICEGRAPH_SHUTDOWN_DRAIN_SECONDS")]
    pub shutdown_drain_seconds: Option<u64>,
    /// Seconds requests in flight may still run once the listener closed;
    /// those still running then are cut. Default: 25 less the default
    /// drain (25 in development, 20 in production), so that by default the
    /// worst case from the signal to the exit is 25 s in either profile.
    #[arg(long, env = "PRICEGRAPH_SHUTDOWN_GRACE_SECONDS")]
    pub shutdown_grace_seconds: Option<u64>,
}

/// The drain delay when none is given, in the production profile: without
/// one, a stopping instance closed its listener before any load balancer
/// could see `/ready` fail, and requests sent meanwhile were refused.
pub const PRODUCTION_DRAIN_SECONDS: u64 = 5;

/// Drain plus grace when neither is given: well within Kubernetes' default
/// 30 s between SIGTERM and SIGKILL.
const DEFAULT_STOP_SECONDS: u64 = 25;

impl ShutdownArgs {
    pub fn options(&self, profile: Profile) -> crate::http::ShutdownOptions {
        let default_drain = match profile {
            Profile::Production => PRODUCTION_DRAIN_SECONDS,
            Profile::Development => 0,
        };
        let grace = self
            .shutdown_grace_seconds
            .unwrap_or(DEFAULT_STOP_SECONDS - default_drain);
        crate::http::ShutdownOptions {
            drain_delay: std::time::Duration::from_secs(self.shutdown_drain_seconds.unwrap_or(default_drain)),
            grace: std::time::Duration::from_secs(grace),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct CacheArgs {
    /// The in-process read cache; `off` sends every read to the database.
    #[arg(long = "cache", env = "PRICEGRAPH_CACHE", value_enum, default_value_t = Switch::On)]
    pub cache: Switch,
    /// Longest life of an in-process entry, in seconds. Writes anywhere
    /// (other instances, the CLI) reach the cache through the change log,
    /// not through this.
    #[arg(long, env = "PRICEGRAPH_CACHE_TTL_SECONDS", default_value_t = 3600)]
    pub cache_ttl_seconds: u64,
    /// Most memory the in-process cache's entries take, in MiB (estimated
    /// per entry; each kind of entry has a share). 0 keeps nothing in
    /// process (with Redis, every read goes there).
    #[arg(long, env = "PRICEGRAPH_CACHE_MAX_MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(0..=1 << 20))]
    pub cache_max_mib: u64,
    /// The caches serve only while this instance has read the change log
    /// to its end within this many milliseconds: no cached answer is older.
    #[arg(long, env = "PRICEGRAPH_CACHE_LEASE_MS", default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub cache_lease_ms: u64,
}

impl CacheArgs {
    pub fn options(&self) -> crate::cache::CacheOptions {
        crate::cache::CacheOptions {
            enabled: self.cache == Switch::On,
            ttl: std::time::Duration::from_secs(self.cache_ttl_seconds.max(1)),
            max_bytes: self.cache_max_mib << 20,
            lease: std::time::Duration::from_millis(self.cache_lease_ms),
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

#[derive(Args, Debug, Clone)]
pub struct LogArgs {
    /// Log line format.
    #[arg(long, env = "PRICEGRAPH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Load the demo data set: groups, organizations, price lists, products.
    #[arg(long)]
    pub demo: bool,
    /// Extra generated customers, for benchmarks.
    #[arg(long, default_value_t = 0)]
    pub customers: u32,
    /// Extra generated pricing groups, for benchmarks.
    #[arg(long, default_value_t = 0)]
    pub groups: u32,
    /// Extra generated price lists, for benchmarks.
    #[arg(long, default_value_t = 0)]
    pub price_lists: u32,
    /// Extra generated products, for benchmarks.
    #[arg(long, default_value_t = 0)]
    pub products: u32,
}

/// What a CSV holds.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceTable {
    /// One price list's prices (needs `--price-list`).
    Prices,
    /// The products' base prices (`max_quantity` stays empty).
    BasePrices,
}

#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_enum)]
    pub table: PriceTable,
    /// The CSV file; `-` for standard input.
    pub file: PathBuf,
    /// The price list to import into (for `prices`).
    #[arg(long)]
    pub price_list: Option<String>,
    /// Report what would be created, updated and left alone; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Rows per batch; each batch is written in one transaction.
    #[arg(long, default_value_t = crate::service::bulk::DEFAULT_BATCH_ROWS as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_rows: u64,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// What to write.
    #[arg(value_enum)]
    pub table: PriceTable,
    /// The price list to export (for `prices`).
    #[arg(long)]
    pub price_list: Option<String>,
    /// Where to write the CSV; `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ExportSchemaArgs {
    /// Where to write the SDL; `-` for standard output. Default:
    /// `schema.graphql`, or `subgraph.graphql` with `--federation`.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write the Apollo Federation v2 subgraph SDL instead (what `serve
    /// --federation` answers to `_service { sdl }`).
    #[arg(long)]
    pub federation: bool,
}

impl ExportSchemaArgs {
    /// The file to write; the subgraph SDL never overwrites `schema.graphql` by default.
    pub fn output(&self) -> PathBuf {
        let default = if self.federation {
            "subgraph.graphql"
        } else {
            "schema.graphql"
        };
        self.output.clone().unwrap_or_else(|| default.into())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::{Cli, Command, ServeArgs};

    fn serve(args: &[&str]) -> ServeArgs {
        let argv = ["pricegraph", "serve"].iter().chain(args);
        match Cli::try_parse_from(argv).expect("the flags parse").command {
            Command::Serve(args) => *args,
            other => panic!("not serve: {other:?}"),
        }
    }

    fn shutdown(args: &[&str]) -> crate::http::ShutdownOptions {
        let args = serve(args);
        args.shutdown.options(args.security.profile)
    }

    /// Drain plus grace stay under Kubernetes' 30 s before SIGKILL; in
    /// production a load balancer sees `/ready` fail before the listener
    /// closes, while a developer's Ctrl-C stops at once.
    #[test]
    fn shutdown_defaults_fit_kubernetes_30_seconds() {
        let development = shutdown(&[]);
        assert_eq!(development.drain_delay, Duration::ZERO);
        assert_eq!(development.grace, Duration::from_secs(25));
        let production = shutdown(&["--profile", "production"]);
        assert_eq!(production.drain_delay, Duration::from_secs(5));
        assert_eq!(production.grace, Duration::from_secs(20));
        assert!(production.drain_delay + production.grace < Duration::from_secs(30));
        let explicit = shutdown(&["--profile", "production", "--shutdown-drain-seconds", "0"]);
        assert_eq!(explicit.drain_delay, Duration::ZERO, "an explicit 0 wins");
    }

    #[test]
    fn shutdown_and_graphiql_flags() {
        let args = serve(&[
            "--shutdown-drain-seconds",
            "5",
            "--shutdown-grace-seconds",
            "1",
            "--graphiql-assets",
            "/opt/graphiql",
        ]);
        let options = args.shutdown.options(args.security.profile);
        assert_eq!(options.drain_delay, Duration::from_secs(5));
        assert_eq!(options.grace, Duration::from_secs(1));
        assert_eq!(
            args.graphiql_assets.as_deref(),
            Some(std::path::Path::new("/opt/graphiql"))
        );
    }

    /// Federation is off unless asked for; `export-schema --federation`
    /// never overwrites `schema.graphql` unless told to.
    #[test]
    fn federation_flags() {
        assert!(!serve(&[]).federation);
        assert!(serve(&["--federation"]).federation);
        let export = |args: &[&str]| match Cli::try_parse_from(["pricegraph", "export-schema"].iter().chain(args))
            .expect("the flags parse")
            .command
        {
            Command::ExportSchema(args) => args,
            other => panic!("not export-schema: {other:?}"),
        };
        assert_eq!(export(&[]).output(), std::path::PathBuf::from("schema.graphql"));
        assert_eq!(
            export(&["--federation"]).output(),
            std::path::PathBuf::from("subgraph.graphql")
        );
        assert_eq!(
            export(&["--federation", "-o", "-"]).output(),
            std::path::PathBuf::from("-")
        );
    }

    #[test]
    fn usage_flush_interval() {
        assert_eq!(serve(&[]).usage_flush_seconds, 10);
        assert_eq!(serve(&["--usage-flush-seconds", "60"]).usage_flush_seconds, 60);
        assert!(!serve(&[]).webhooks.webhook_allow_private);
        assert!(serve(&["--webhook-allow-private"]).webhooks.webhook_allow_private);
        assert_eq!(
            serve(&[]).webhooks.options().expect("defaults").retry_for.as_secs(),
            86_400
        );
        assert_eq!(serve(&[]).webhooks.options().expect("defaults").lease.as_secs(), 60);
        let lease = serve(&["--webhook-timeout-seconds", "2", "--webhook-lease-seconds", "3"]);
        assert_eq!(
            lease
                .webhooks
                .options()
                .expect("longer than the timeout")
                .lease
                .as_secs(),
            3
        );
        let short = serve(&["--webhook-timeout-seconds", "5", "--webhook-lease-seconds", "5"]);
        let refused = short
            .webhooks
            .options()
            .expect_err("not longer than the timeout")
            .to_string();
        assert!(refused.contains("--webhook-lease-seconds"), "{refused}");
        for bad in ["0", "3601", "-1"] {
            let argv = ["pricegraph", "serve", "--usage-flush-seconds", bad];
            assert!(Cli::try_parse_from(argv).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_negative_or_fractional_grace_period_is_refused() {
        for bad in ["-1", "1.5", "soon"] {
            let argv = ["pricegraph", "serve", "--shutdown-grace-seconds", bad];
            assert!(Cli::try_parse_from(argv).is_err(), "{bad}");
        }
    }
}
