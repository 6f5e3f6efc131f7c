//! Prometheus metrics (docs/operations.md#metrics), served at `/metrics` in the text format.
//!
//! Every label takes a bounded set of values: routes are a fixed list,
//! operation names are the first [`MAX_OPERATION_NAMES`] distinct names
//! seen (later ones count as `other`), sources and outcomes are enums. No
//! id ever becomes a label.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::cache::Cache;
use crate::events::DeliveryCounts;
use crate::pricing::Source;
use crate::usage::GroupCounters;

/// Distinct operation names kept as labels; the rest count as `other`.
pub const MAX_OPERATION_NAMES: usize = 200;
/// Longest operation name kept as a label.
const MAX_NAME_LEN: usize = 64;

/// What became of a GraphQL operation.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum Outcome {
    /// Answered without errors.
    ok,
    /// Answered with errors the caller caused (validation, access, input).
    error,
    /// Answered with an internal error.
    internal,
    /// Answered `DATABASE_UNAVAILABLE`: the database could not be reached.
    unavailable,
    /// Cut by the request timeout.
    timeout,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
    outcome: Outcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationName {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency() -> Histogram {
    // 0.1 ms to about 6.5 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

fn statements() -> Histogram {
    Histogram::new([0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 64.0])
}

/// The metrics of one server (one database handle).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RouteLabel>,
    request_statements: Histograms<RouteLabel>,
    operations: Family<OperationLabels, Counter>,
    operation_seconds: Histograms<OperationName>,
    /// Price resolutions by [`Source`], in its order.
    resolutions: Arc<[AtomicU64; 4]>,
    names: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new(cache: Arc<Cache>, usage: Arc<GroupCounters>, webhooks: Arc<DeliveryCounts>) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds = Histograms::<RouteLabel>::new_with_constructor(latency as fn() -> Histogram);
        let request_statements = Histograms::<RouteLabel>::new_with_constructor(statements as fn() -> Histogram);
        let operations = Family::<OperationLabels, Counter>::default();
        let operation_seconds = Histograms::<OperationName>::new_with_constructor(latency as fn() -> Histogram);
        let resolutions: Arc<[AtomicU64; 4]> = Arc::default();
        registry.register(
            "pricegraph_http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "pricegraph_http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            request_seconds.clone(),
        );
        registry.register(
            "pricegraph_sql_statements_per_request",
            "SQL statements one HTTP request ran, by route",
            request_statements.clone(),
        );
        registry.register(
            "pricegraph_graphql_operations",
            "GraphQL operations by operation name and outcome",
            operations.clone(),
        );
        registry.register(
            "pricegraph_graphql_operation_duration_seconds",
            "Time to answer a GraphQL request, by operation name",
            operation_seconds.clone(),
        );
        registry.register_collector(Box::new(Scraped {
            cache,
            resolutions: resolutions.clone(),
            usage,
            webhooks,
        }));
        Self {
            registry,
            requests,
            request_seconds,
            request_statements,
            operations,
            operation_seconds,
            resolutions,
            names: Mutex::new(HashSet::new()),
        }
    }

    /// One HTTP request answered.
    pub fn request(&self, path: &str, method: &str, status: u16, elapsed: Duration, statements: u64) {
        let route = route(path);
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method: method_label(method),
                status,
            })
            .inc();
        let label = RouteLabel { route };
        self.request_seconds
            .get_or_create(&label)
            .observe(elapsed.as_secs_f64());
        self.request_statements.get_or_create(&label).observe(statements as f64);
    }

    /// One GraphQL operation answered (a batch reports each of its own).
    pub fn operation(&self, name: Option<&str>, outcome: Outcome, elapsed: Duration) {
        let operation = self.operation_label(name);
        self.operations
            .get_or_create(&OperationLabels {
                operation: operation.clone(),
                outcome,
            })
            .inc();
        self.operation_seconds
            .get_or_create(&OperationName { operation })
            .observe(elapsed.as_secs_f64());
    }

    /// Prices resolved, by where each came from.
    pub fn resolved(&self, sources: impl Iterator<Item = Source>) {
        for source in sources {
            self.resolutions[source_slot(source)].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".to_owned();
        };
        let valid = name.len() <= MAX_NAME_LEN
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid || name == "anonymous" || name == "other" {
            return "other".to_owned();
        }
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        if names.contains(name) {
            return name.to_owned();
        }
        if names.len() >= MAX_OPERATION_NAMES {
            return "other".to_owned();
        }
        names.insert(name.to_owned());
        name.to_owned()
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(%error, "cannot encode the metrics");
        }
        text
    }
}

/// The route label of a path: a fixed set.
fn route(path: &str) -> &'static str {
    match path {
        "/graphql" => "/graphql",
        "/health" => "/health",
        "/ready" => "/ready",
        "/metrics" => "/metrics",
        p if p.starts_with("/admin/") => "/admin",
        p if p.starts_with("/graphiql/") => "/graphiql",
        _ => "other",
    }
}

fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

const SOURCES: [(Source, &str); 4] = [
    (Source::PriceList, "price_list"),
    (Source::Base, "base"),
    (Source::None, "none"),
    (Source::NotOrderable, "not_orderable"),
];

fn source_slot(source: Source) -> usize {
    SOURCES.iter().position(|(s, _)| *s == source).unwrap_or(0)
}

/// What is read at scrape time: the cache's own counters, the
/// resolutions and the failed flushes of group usage.
#[derive(Debug)]
struct Scraped {
    cache: Arc<Cache>,
    resolutions: Arc<[AtomicU64; 4]>,
    usage: Arc<GroupCounters>,
    webhooks: Arc<DeliveryCounts>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LayerLabels {
    tier: &'static str,
    layer: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    source: &'static str,
}

impl Collector for Scraped {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.cache.stats();
        let layer = |name: &'static str| match name.strip_prefix("redis:") {
            Some(layer) => LayerLabels { tier: "redis", layer },
            None => LayerLabels {
                tier: "process",
                layer: name,
            },
        };
        let mut hits = encoder.encode_descriptor(
            "pricegraph_cache_hits",
            "Cache reads that found their entry, by tier and layer.",
            None,
            MetricType::Counter,
        )?;
        for (name, counts) in &stats {
            ConstCounter::new(counts.hits).encode(hits.encode_family(&layer(name))?)?;
        }
        let mut misses = encoder.encode_descriptor(
            "pricegraph_cache_misses",
            "Cache reads that did not, by tier and layer.",
            None,
            MetricType::Counter,
        )?;
        for (name, counts) in &stats {
            ConstCounter::new(counts.misses).encode(misses.encode_family(&layer(name))?)?;
        }
        let mut entries = encoder.encode_descriptor(
            "pricegraph_cache_entries",
            "Entries held in process, by layer.",
            None,
            MetricType::Gauge,
        )?;
        for (name, counts) in stats.iter().filter(|(name, _)| !name.starts_with("redis:")) {
            ConstGauge::new(counts.entries as i64).encode(entries.encode_family(&layer(name))?)?;
        }
        let mut bytes = encoder.encode_descriptor(
            "pricegraph_cache_bytes",
            "Estimated bytes of the entries held in process, by layer (bounded by --cache-max-mib).",
            None,
            MetricType::Gauge,
        )?;
        for (name, counts) in stats.iter().filter(|(name, _)| !name.starts_with("redis:")) {
            ConstGauge::new(counts.bytes as i64).encode(bytes.encode_family(&layer(name))?)?;
        }
        let errors = encoder.encode_descriptor(
            "pricegraph_redis_errors",
            "Redis commands that failed or timed out.",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(self.cache.redis_errors()).encode(errors)?;
        let mut resolutions = encoder.encode_descriptor(
            "pricegraph_price_resolutions",
            "Prices resolved, by where the price came from.",
            None,
            MetricType::Counter,
        )?;
        for (slot, (_, source)) in SOURCES.iter().enumerate() {
            let count = self.resolutions[slot].load(Ordering::Relaxed);
            ConstCounter::new(count).encode(resolutions.encode_family(&SourceLabel { source })?)?;
        }
        let failed_flushes = encoder.encode_descriptor(
            "pricegraph_group_usage_flush_failures",
            "Writes of group usage that failed; their counts wait in memory for the next.",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(self.usage.failed_flushes()).encode(failed_flushes)?;
        let mut attempts = encoder.encode_descriptor(
            "pricegraph_webhook_attempts",
            "Webhook delivery attempts this instance made, by outcome: delivered (a 2xx answer), \
             retry (failed, to be tried again), failed (failed, and given up).",
            None,
            MetricType::Counter,
        )?;
        for (outcome, count) in self.webhooks.snapshot() {
            ConstCounter::new(count).encode(attempts.encode_family(&OutcomeLabel { outcome })?)?;
        }
        Ok(())
    }
}
