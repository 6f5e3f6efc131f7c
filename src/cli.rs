//! The subcommands of the `pricegraph` binary.

mod bulk;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::cache::{Cache, CacheOptions};
use crate::config::{Command, DatabaseArgs, LogFormat, ServeArgs};
use crate::db::{Db, DbOptions, Statements};
use crate::http::{AppState, Server, shutdown_signal};
use crate::store::Store;

pub use bulk::ROWS_REFUSED;

/// Runs a subcommand; the exit code is 0 unless the command says otherwise
/// (an error is exit code 1).
pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    crate::events::delivery::install_tls_provider();
    match command {
        Command::Import(args) => {
            let _telemetry = crate::telemetry::init(LogFormat::Text);
            return bulk::import(&args).await;
        }
        Command::Export(args) => {
            let _telemetry = crate::telemetry::init(LogFormat::Text);
            return bulk::export(&args).await;
        }
        Command::Serve(args) => serve(*args).await,
        Command::Migrate(args) => {
            let _telemetry = crate::telemetry::init(LogFormat::Text);
            let store = connect(&args, CacheOptions::off()).await?;
            store.db.migrate().await.context("applying migrations")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed(args) => {
            let _telemetry = crate::telemetry::init(LogFormat::Text);
            let store = connect(&args.database, CacheOptions::off()).await?;
            store.db.migrate().await.context("applying migrations")?;
            crate::seed::run(&store.db, &args).await
        }
        Command::HashKey(args) => {
            let mut key = String::new();
            std::io::stdin()
                .read_line(&mut key)
                .context("reading the key from standard input")?;
            let key = key.trim();
            anyhow::ensure!(key.len() >= 16, "an API key must be at least 16 characters long");
            println!("{}", crate::auth::key_file_line(&args.role, key));
            Ok(())
        }
        Command::ExportSchema(args) => {
            let sdl = if args.federation {
                crate::graphql::subgraph_sdl()
            } else {
                crate::graphql::sdl()
            };
            let output = args.output();
            if output.as_os_str() == "-" {
                std::io::stdout().write_all(sdl.as_bytes())?;
            } else {
                std::fs::write(&output, sdl).with_context(|| format!("writing {}", output.display()))?;
            }
            Ok(())
        }
    }
    .map(|()| ExitCode::SUCCESS)
}

/// Opens the database with a cache in front of it; only `serve` reads
/// through the cache.
async fn connect(args: &DatabaseArgs, cache: CacheOptions) -> anyhow::Result<Store> {
    let options = DbOptions {
        max_connections: args.db_max_connections,
        ..DbOptions::default()
    };
    let db = Db::connect(&args.database_url, &options, &Statements::default())
        .await
        .with_context(|| format!("cannot open the database at {}", redact(&args.database_url)))?;
    Ok(Store::new(db, Arc::new(Cache::new(&cache))))
}

/// Opens a database that must exist already: a SQLite file is not
/// created (a mistyped path must not leave an empty database behind).
async fn connect_existing(args: &DatabaseArgs) -> anyhow::Result<Store> {
    let args = DatabaseArgs {
        database_url: args.database_url.replace("mode=rwc", "mode=rw"),
        ..args.clone()
    };
    connect(&args, CacheOptions::off()).await
}

/// A database URL without its password, fit for a log line.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// How long the last flush of group usage may hold the exit: a flush takes
/// milliseconds, and the stop must stay within what orchestrators wait.
const USAGE_LAST_FLUSH_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// How long attempts in flight may hold the exit; those cut are sent
/// again once their claim expires.
const WEBHOOKS_STOP_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let _telemetry = crate::telemetry::init(args.log.log_format);
    let security = &args.security;
    let auth = crate::auth::Auth::from_settings(&crate::auth::AuthSettings {
        api_keys: security.api_keys.clone(),
        api_keys_file: security.api_keys_file.clone(),
        jwt_secret: security.jwt_secret.clone(),
        jwt_audience: security.jwt_audience.clone(),
    })?;
    crate::auth::check_listen(&auth, args.listen.ip())?;
    if auth.is_open() {
        tracing::warn!(
            "open development mode: no API keys or token secret configured, every request is admin \
             (allowed on loopback addresses only)"
        );
    }
    let production = security.profile == crate::config::Profile::Production;
    let graphiql = match &args.graphiql_assets {
        Some(dir) => crate::http::GraphiqlAssets::from_dir(dir)?,
        None => crate::http::GraphiqlAssets::embedded(),
    };
    let options = crate::http::HttpOptions {
        schema: crate::graphql::SchemaOptions {
            production,
            federation: args.federation,
            ..Default::default()
        },
        request_timeout: std::time::Duration::from_millis(security.request_timeout_ms.max(1)),
        body_timeout: std::time::Duration::from_secs(args.limits.body_timeout_seconds.max(1)),
        rate_limit_per_second: args.limits.rate_limit,
        graphiql,
        cors_origins: crate::http::cors_origins(&security.cors_origins)?,
        redis: args.redis.options(),
        ..Default::default()
    };
    let store = connect(&args.database, args.cache.options())
        .await?
        .with_webhooks(args.webhooks.options()?);
    store.db.migrate().await.context("applying migrations")?;
    if args.demo {
        crate::seed::demo_if_empty(&store.db).await?;
    }
    let cache = args.cache.options();
    if !cache.enabled {
        tracing::info!("read cache off: every read goes to the database");
    } else if let Some(options) = args.redis.options() {
        crate::cache::shared::attach(&store.cache, &options).context("REDIS_URL is not a Redis URL")?;
        tracing::info!(
            ttl_seconds = cache.ttl.as_secs(),
            lease_ms = cache.lease.as_millis() as u64,
            "read cache on, in process and in Redis; serving from it while the change log is followed within the lease"
        );
    } else {
        tracing::info!(
            ttl_seconds = cache.ttl.as_secs(),
            max_mib = cache.max_bytes >> 20,
            lease_ms = cache.lease.as_millis() as u64,
            "read cache on, in process; serving from it while the change log is followed within the lease"
        );
    }
    // Every instance follows the change log: other instances' writes, and the CLI's.
    crate::store::changes::follow(&store);
    let usage = crate::service::usage::Flusher::start(&store, std::time::Duration::from_secs(args.usage_flush_seconds));
    // Every instance delivers webhooks and announces window edges; the
    // database makes each go out once (docs/operations.md#webhooks).
    let deliveries = crate::events::delivery::Worker::start(store.conn().clone(), store.webhooks.clone());
    let windows = crate::events::windows::Windows::start(store.conn().clone(), store.webhooks.clone());
    if store.webhooks.allow_private {
        tracing::warn!("webhook endpoints on private and loopback addresses are allowed (--webhook-allow-private)");
    }
    if args.federation {
        tracing::info!("serving as an Apollo Federation v2 subgraph (`_entities`, `_service`)");
    }
    if production {
        tracing::info!("production profile: GraphiQL, introspection and field suggestions are off");
    } else if let Some(dir) = options.graphiql.origin() {
        tracing::info!("GraphiQL's files from {}", dir.display());
    }
    let server = Server::bind(
        args.listen,
        AppState::with(store, auth, options),
        args.limits.connections(),
    )
    .await
    .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = server.local_addr()?;
    let signal = shutdown_signal();
    tracing::info!("pricegraph listening on http://{addr} (GraphiQL at http://{addr}/graphql)");
    server
        .run_until(signal, args.shutdown.options(security.profile))
        .await?;
    // After the requests: the last of their counts go with this flush.
    usage.stop(USAGE_LAST_FLUSH_WITHIN).await;
    windows.stop(WEBHOOKS_STOP_WITHIN).await;
    deliveries.stop(WEBHOOKS_STOP_WITHIN).await;
    tracing::info!("stopped");
    Ok(())
}
