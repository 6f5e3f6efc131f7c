//! Logs and traces (docs/operations.md#metrics): `tracing` to standard error as text or JSON,
//! and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, every span exported over
//! OTLP/HTTP as well. Unset, no OpenTelemetry layer exists at all: nothing
//! is recorded or sent.
//!
//! Each request runs in a `request` span carrying its `request_id` (see
//! the HTTP middleware), so every line logged while serving it names the id.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// The standard variable naming the collector (`http://host:4318`); the
/// other `OTEL_*` variables (headers, timeouts, batch delays) apply too.
pub const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Flushes the spans not yet exported when dropped.
#[must_use = "dropping it stops the span export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("pricegraph: could not flush the traces: {error}");
        }
    }
}

/// Installs the global subscriber. Without `RUST_LOG`, pricegraph logs at
/// INFO and the SQL layers only their warnings.
pub fn init(format: LogFormat) -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let (text, json) = match format {
        LogFormat::Text => (
            Some(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)),
            None,
        ),
        LogFormat::Json => (
            None,
            Some(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr)),
        ),
    };
    let (provider, problem) = match std::env::var(OTLP_ENDPOINT) {
        Ok(endpoint) if !endpoint.trim().is_empty() => match tracer_provider() {
            Ok(provider) => (Some(provider), None),
            Err(error) => (
                None,
                Some(format!("{OTLP_ENDPOINT} is set but the exporter failed: {error}")),
            ),
        },
        _ => (None, None),
    };
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("pricegraph")));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .with(otel)
        .try_init();
    if let Some(problem) = problem {
        tracing::warn!("{problem}; traces are not exported");
    } else if provider.is_some() {
        tracing::info!(endpoint = %std::env::var(OTLP_ENDPOINT).unwrap_or_default(), "exporting traces over OTLP/HTTP");
    }
    Telemetry { provider }
}

/// The exporter's blocking HTTP client must not be built on an async
/// runtime's thread (it starts a runtime of its own): built on a thread of
/// its own, it then lives in the batch processor's thread.
fn tracer_provider() -> Result<SdkTracerProvider, String> {
    let exporter = std::thread::spawn(|| {
        opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| e.to_string())
    })
    .join()
    .map_err(|_| "the exporter could not be built".to_owned())??;
    let resource = Resource::builder()
        .with_service_name("pricegraph")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
