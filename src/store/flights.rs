//! Loads in flight: concurrent cold reads of one key share one load.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use crate::cache::Generation;

/// Loads in flight, so that concurrent cold reads of one key share one
/// load (single flight) instead of each sending the same SQL. A load is
/// shared only with requests of the same [`Generation`]: one that arrives
/// after an invalidation never waits for a read that began before it.
pub struct Flights<K, V> {
    running: Mutex<Running<K, V>>,
}

/// The loads under way, by key and generation; each holds its value, or
/// `None` when it failed.
type Running<K, V> = HashMap<(K, Generation), Arc<OnceCell<Option<V>>>>;

impl<K, V> Default for Flights<K, V> {
    fn default() -> Self {
        Self {
            running: Mutex::default(),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Flights<K, V> {
    /// Runs `load`, or waits for the same load begun by another request. A
    /// failed load is not shared: each waiter then runs its own, so every
    /// caller gets its own error.
    pub async fn share<E, Fut>(&self, key: K, since: Generation, load: impl Fn() -> Fut) -> Result<V, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        let flight = (key, since);
        let cell = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(flight.clone())
            .or_default()
            .clone();
        let mut own = None;
        let shared = cell
            .get_or_init(|| async {
                // Whether the load finishes or its request is dropped half
                // way, it stops being one to join.
                let _leave = Leave {
                    running: &self.running,
                    flight: &flight,
                    cell: &cell,
                };
                let result = load().await;
                let value = result.as_ref().ok().cloned();
                own = Some(result);
                value
            })
            .await
            .clone();
        if let Some(result) = own {
            return result;
        }
        match shared {
            Some(value) => Ok(value),
            None => load().await,
        }
    }

    /// Loads under way (for tests of the bookkeeping).
    pub fn running(&self) -> usize {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// Takes a load out of the running ones when dropped, if it is still the
/// one registered under its key.
struct Leave<'a, K: Hash + Eq, V> {
    running: &'a Mutex<Running<K, V>>,
    flight: &'a (K, Generation),
    cell: &'a Arc<OnceCell<Option<V>>>,
}

impl<K: Hash + Eq, V> Drop for Leave<'_, K, V> {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running
            .get(self.flight)
            .is_some_and(|cell| Arc::ptr_eq(cell, self.cell))
        {
            running.remove(self.flight);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::cache::{Cache, CacheOptions};

    fn generation() -> Generation {
        Cache::new(&CacheOptions::default()).generation()
    }

    #[tokio::test]
    async fn concurrent_loads_of_one_key_run_once_and_leave_nothing_behind() {
        let flights: Flights<u32, u32> = Flights::default();
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, ()>(7)
        };
        let since = generation();
        let (a, b, c) = tokio::join!(
            flights.share(1, since, load),
            flights.share(1, since, load),
            flights.share(1, since, load)
        );
        assert_eq!((a, b, c), (Ok(7), Ok(7), Ok(7)));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(flights.running(), 0);
    }

    #[tokio::test]
    async fn a_load_dropped_half_way_leaves_nothing_behind() {
        let flights: Flights<u32, u32> = Flights::default();
        let slow = || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, ()>(1)
        };
        let dropped = tokio::time::timeout(Duration::from_millis(10), flights.share(1, generation(), slow)).await;
        assert!(dropped.is_err());
        assert_eq!(flights.running(), 0);
        // The next request for the key loads afresh.
        let fresh = flights.share(1, generation(), || async { Ok::<_, ()>(2) }).await;
        assert_eq!(fresh, Ok(2));
    }
}
