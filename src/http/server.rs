//! Running the router, and stopping it without dropping work: on SIGTERM
//! or Ctrl-C, `/ready` answers 503 at once (so load balancers stop sending
//! new requests) while the listener stays open for the drain delay; then
//! the listener closes and the requests in flight get the grace period to
//! finish. Whatever still runs after it is cut, and the process exits 0
//! either way: stopping was asked for, and it stopped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::net::TcpListener;

use super::{AppState, build_app};

mod connections;

pub use connections::ConnectionOptions;

/// Whether the server is stopping, and how many requests it is serving.
#[derive(Debug)]
pub struct Lifecycle {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    /// Turns `true` when the listener closes: streaming responses
    /// (subscriptions) end then, so that their clients reconnect to
    /// another instance instead of holding this one for the grace period.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            draining: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            closing: tokio::sync::watch::Sender::new(false),
        }
    }
}

impl Lifecycle {
    /// Ends every stream open now or later ([`Lifecycle::closed`]).
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    /// Completes once the server closes its streams (at once when it has).
    pub fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            // An error means the lifecycle is gone: the server is too.
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// From now on `/ready` answers 503; everything else is served as before.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Requests whose response is not yet built.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }
}

/// One request in flight; dropped when its response is built, or when the
/// request is cut (the client went away, or the grace period ran out).
struct InFlight(Arc<Lifecycle>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts the requests in flight, for the shutdown's log lines.
pub(super) async fn count_in_flight(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let _in_flight = state.lifecycle.request_started();
    next.run(request).await
}

/// How the server stops (`--shutdown-drain-seconds`, `--shutdown-grace-seconds`).
#[derive(Clone, Copy, Debug)]
pub struct ShutdownOptions {
    /// How long the listener stays open after the signal, with `/ready`
    /// answering 503: the time a load balancer needs to notice.
    pub drain_delay: Duration,
    /// How long requests in flight may still run once the listener closed.
    pub grace: Duration,
}

impl Default for ShutdownOptions {
    /// No drain delay; a grace period that fits in Kubernetes' default 30 s
    /// between SIGTERM and SIGKILL.
    fn default() -> Self {
        Self {
            drain_delay: Duration::ZERO,
            grace: Duration::from_secs(25),
        }
    }
}

/// A bound server: the listener is open (and its port known) before it runs,
/// so tests can bind port 0 and never wait for a server to come up.
pub struct Server {
    listener: TcpListener,
    app: Router,
    lifecycle: Arc<Lifecycle>,
    connections: ConnectionOptions,
    /// Connections served at once, worked out (and logged) at bind.
    limit: usize,
}

impl Server {
    pub async fn bind(addr: SocketAddr, state: AppState, connections: ConnectionOptions) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self {
            listener,
            lifecycle: state.lifecycle.clone(),
            app: build_app(state),
            limit: connections.connection_limit(),
            connections,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `signal` completes, then drains and stops as
    /// [`ShutdownOptions`] say. Returns once every request finished or the
    /// grace period is over; requests still running then are dropped with
    /// the runtime.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
        options: ShutdownOptions,
    ) -> std::io::Result<()> {
        let Self {
            listener,
            app,
            lifecycle,
            connections,
            limit,
        } = self;
        let drain = {
            let lifecycle = lifecycle.clone();
            async move {
                signal.await;
                lifecycle.start_draining();
                tracing::info!(
                    drain_delay_seconds = options.drain_delay.as_secs_f64(),
                    in_flight = lifecycle.in_flight(),
                    "draining: /ready answers 503; still accepting requests for the drain delay"
                );
                tokio::time::sleep(options.drain_delay).await;
                tracing::info!(
                    grace_seconds = options.grace.as_secs_f64(),
                    in_flight = lifecycle.in_flight(),
                    "closing the listener; requests in flight may finish within the grace period"
                );
                // Subscriptions never finish by themselves: they end now,
                // their clients reconnect elsewhere.
                lifecycle.close_streams();
            }
        };
        // Returns once the drain is over, dropping (closing) the listener.
        let open = connections::accept(listener, app, connections, limit, drain).await;
        match tokio::time::timeout(options.grace, open.finished()).await {
            Ok(()) => tracing::info!("every request in flight finished"),
            Err(_) => {
                let cut = lifecycle.in_flight();
                tracing::warn!(
                    cut,
                    grace_seconds = options.grace.as_secs_f64(),
                    "the grace period is over: stopping anyway, cutting {cut} request(s) in flight"
                );
            }
        }
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed by this call,
/// not when the future is first polled: call it before telling anyone the
/// server listens, or a signal in between kills the process unhandled.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            wait_for(signal(SignalKind::interrupt()), "Ctrl-C"),
            wait_for(signal(SignalKind::terminate()), "SIGTERM"),
        )
    };
    #[cfg(not(unix))]
    let (interrupt, terminate) = (
        async {
            match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl-C",
                Err(error) => {
                    tracing::error!(%error, "cannot listen for Ctrl-C");
                    std::future::pending().await
                }
            }
        },
        std::future::pending::<&'static str>(),
    );
    async move {
        let name = tokio::select! {
            name = interrupt => name,
            name = terminate => name,
        };
        tracing::info!(signal = name, "shutting down");
    }
}

/// The first delivery of an installed signal; never, if it could not be installed.
#[cfg(unix)]
async fn wait_for(installed: std::io::Result<tokio::signal::unix::Signal>, name: &'static str) -> &'static str {
    match installed {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(error) => {
            tracing::error!(%error, "cannot listen for {name}");
            std::future::pending::<()>().await;
        }
    }
    name
}
