//! Deterministic DataLoader batching.
//!
//! async-graphql's DataLoader hands each batch to a spawner and loads it after
//! a delay; with `tokio::spawn` and a zero delay, a batch can start while the
//! executor is still registering keys: `FuturesUnordered`, which resolves list
//! fields, yields every 32 items, and the load then runs with only those. A
//! longer delay trades that for latency on every level of every request.
//!
//! Here loads are not spawned. They are queued, and the request's execution
//! runs them itself only when it is truly blocked, not merely yielding: that
//! is when every key of the level has been registered. One batch per loader
//! and level, whatever the size of the page, with no timer involved.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;

/// Batches waiting to start, shared by the loaders of one request.
#[derive(Clone, Default)]
pub struct LoadQueue(Arc<Mutex<Vec<BoxFuture<'static, ()>>>>);

impl LoadQueue {
    /// The spawner to give each `DataLoader` of the request.
    pub fn spawner(&self) -> impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static {
        let queue = self.0.clone();
        move |load| queue.lock().unwrap_or_else(PoisonError::into_inner).push(load)
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Runs `execution`, starting queued loads whenever it waits on them.
pub fn run_with_loads<F: Future>(queue: LoadQueue, execution: F) -> impl Future<Output = F::Output> {
    Batched {
        execution: Box::pin(execution),
        queue,
        running: FuturesUnordered::new(),
        signal: Arc::new(Signal::default()),
    }
}

/// Records that something was woken, and passes the wake on to the task.
#[derive(Default)]
struct Signal {
    woken: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if let Some(task) = &*self.task.lock().unwrap_or_else(PoisonError::into_inner) {
            task.wake_by_ref();
        }
    }
}

struct Batched<F: Future> {
    execution: Pin<Box<F>>,
    queue: LoadQueue,
    running: FuturesUnordered<BoxFuture<'static, ()>>,
    signal: Arc<Signal>,
}

/// Polls per wake-up before giving other tasks a turn.
const ROUNDS_PER_POLL: usize = 64;

impl<F: Future> Future for Batched<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let execution = &mut this.execution;
        drive(&this.signal, &this.queue, &mut this.running, cx, |inner| {
            execution.as_mut().poll(inner)
        })
    }
}

/// Polls `step` (an execution) and starts the queued loads whenever it
/// waits on them, as [`Batched`] does.
fn drive<T>(
    signal: &Arc<Signal>,
    queue: &LoadQueue,
    running: &mut FuturesUnordered<BoxFuture<'static, ()>>,
    cx: &mut Context<'_>,
    mut step: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    *signal.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
    let waker = Waker::from(signal.clone());
    let mut inner = Context::from_waker(&waker);
    for _ in 0..ROUNDS_PER_POLL {
        signal.woken.store(false, Ordering::SeqCst);
        if let Poll::Ready(output) = step(&mut inner) {
            return Poll::Ready(output);
        }
        if signal.woken.swap(false, Ordering::SeqCst) {
            // The execution yielded rather than waited: let it register
            // the rest of its keys before any batch starts.
            continue;
        }
        running.extend(queue.take());
        while let Poll::Ready(Some(())) = running.poll_next_unpin(&mut inner) {}
        if !signal.woken.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
    }
    // Still busy: the signal has already rescheduled this task.
    Poll::Pending
}

/// [`run_with_loads`] for a stream: a subscription's answers, each
/// resolved with the loads it queues.
pub fn stream_with_loads<S: futures_util::Stream + Unpin>(
    queue: LoadQueue,
    stream: S,
) -> impl futures_util::Stream<Item = S::Item> {
    BatchedStream {
        stream,
        queue,
        running: FuturesUnordered::new(),
        signal: Arc::new(Signal::default()),
    }
}

struct BatchedStream<S> {
    stream: S,
    queue: LoadQueue,
    running: FuturesUnordered<BoxFuture<'static, ()>>,
    signal: Arc<Signal>,
}

impl<S: futures_util::Stream + Unpin> futures_util::Stream for BatchedStream<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.get_mut();
        let stream = &mut this.stream;
        drive(&this.signal, &this.queue, &mut this.running, cx, |inner| {
            stream.poll_next_unpin(inner)
        })
    }
}
