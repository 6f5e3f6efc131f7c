//! What this instance knows of the change log (docs/operations.md#caching):
//! how far it has read it, when it last caught up, and which
//! shared-cache keys changed lately and at which position.
//!
//! Every write that changes what pricing reads appends to the log in its
//! own transaction (the store's `changes`); a background task reads the
//! log every few milliseconds and applies what other instances wrote. From
//! that follow the two rules that bound staleness:
//!
//! - **The lease.** The caches serve only while the last read of the log
//!   that caught up *began* less than a lease ago. A write acknowledged
//!   before that read began is in it; so no answer from a cache is older
//!   than the lease, whatever Redis or the network does. When the log
//!   cannot be read (the database is slow or away), reads go to the
//!   database.
//! - **Positions on shared entries.** A Redis entry carries the position
//!   known before the database read that filled it. It is served only if no
//!   change to its key is known after that position, so an entry whose
//!   delete was lost (Redis restarted, restored from a snapshot, a message
//!   dropped) is never served once its change is known.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::Invalidation;
use super::shared::{Key, invalidated_keys};

/// Most keys remembered; past this, everything older than now is treated
/// as changed (a cold shared cache, never a stale one).
const MAX_REMEMBERED: usize = 1_000_000;

/// A position in the change log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(pub i64);

pub struct Followed {
    lease: Duration,
    /// When the last read that caught up began, in microseconds since
    /// `base`, plus one (0: never). Read on every cache access, so kept
    /// out of the lock.
    caught_up_at: AtomicU64,
    base: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The last position read; `None` until the log was first read.
    position: Option<i64>,
    /// Every change from this position on is remembered below.
    remembered_from: i64,
    /// The last position of a change that touched everything.
    everything: i64,
    /// The last position at which each key changed.
    keys: HashMap<Key, i64>,
    /// (position, when it was read, its keys), oldest first, for forgetting.
    order: VecDeque<(i64, Instant, Vec<Key>)>,
}

impl Followed {
    pub fn new(lease: Duration) -> Self {
        Self {
            lease,
            caught_up_at: AtomicU64::new(0),
            // An hour back, so that any read this process makes began after it.
            base: Instant::now()
                .checked_sub(Duration::from_secs(3600))
                .unwrap_or_else(Instant::now),
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Whether the caches may serve: the log was caught up with by a read
    /// that began less than a lease ago.
    pub fn is_fresh(&self) -> bool {
        self.behind().is_some_and(|behind| behind < self.lease)
    }

    /// How long ago the last read that caught up began.
    pub fn behind(&self) -> Option<Duration> {
        let at = self.caught_up_at.load(Ordering::Acquire).checked_sub(1)?;
        Some(self.base.elapsed().saturating_sub(Duration::from_micros(at)))
    }

    /// The last position read, to take before a database read whose rows
    /// will fill the shared cache.
    pub fn position(&self) -> Option<Position> {
        self.state().position.map(Position)
    }

    /// The first read: the log ends at `position`, and `recent` holds every
    /// change after `from` (exclusive), in order.
    pub fn start(&self, from: i64, position: i64, recent: &[(i64, Vec<Invalidation>)]) {
        let mut state = self.state();
        state.remembered_from = from;
        state.position = Some(from);
        state.remember(recent);
        state.position = Some(state.position.unwrap_or(0).max(position));
    }

    /// Changes read after the last position, in order, by a read that
    /// began at `began`; `caught_up` when the read reached the end of the log.
    pub fn advance(&self, began: Instant, changes: &[(i64, Vec<Invalidation>)], caught_up: bool) {
        self.state().remember(changes);
        if caught_up {
            let at = began.saturating_duration_since(self.base).as_micros() as u64 + 1;
            self.caught_up_at.fetch_max(at, Ordering::AcqRel);
        }
    }

    /// Whether a shared entry filled at `filled_at` may be served for `key`:
    /// no change to it is known after that position.
    pub fn is_current(&self, key: &Key, filled_at: Position) -> bool {
        let state = self.state();
        filled_at.0 >= state.remembered_from
            && state.everything <= filled_at.0
            && state.keys.get(key).is_none_or(|changed| *changed <= filled_at.0)
    }

    /// Forgets changes read more than `age` ago; entries filled before them
    /// are then never served.
    pub fn forget_older_than(&self, age: Duration) {
        let mut state = self.state();
        while let Some((position, read_at, _)) = state.order.front() {
            if read_at.elapsed() < age {
                break;
            }
            let position = *position;
            let Some((_, _, keys)) = state.order.pop_front() else {
                break;
            };
            for key in keys {
                if state.keys.get(&key) == Some(&position) {
                    state.keys.remove(&key);
                }
            }
            state.remembered_from = position;
        }
    }
}

impl State {
    fn remember(&mut self, changes: &[(i64, Vec<Invalidation>)]) {
        let now = Instant::now();
        for (position, invalidations) in changes {
            let position = *position;
            let mut keys = Vec::new();
            for invalidation in invalidations {
                if matches!(invalidation, Invalidation::Everything) {
                    self.everything = self.everything.max(position);
                }
                keys.extend(invalidated_keys(invalidation));
            }
            for key in &keys {
                self.keys.insert(key.clone(), position);
            }
            self.order.push_back((position, now, keys));
            self.position = Some(self.position.unwrap_or(0).max(position));
        }
        if self.keys.len() > MAX_REMEMBERED {
            // Too much to remember: every entry filled before now counts as changed.
            let position = self.position.unwrap_or(0);
            self.keys.clear();
            self.order.clear();
            self.remembered_from = position;
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn an_entry_is_current_until_a_later_change_to_its_key_is_known() {
        let followed = Followed::new(Duration::from_secs(1));
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        followed.start(10, 10, &[]);
        followed.advance(Instant::now(), &[(11, vec![Invalidation::Groups(vec![a])])], true);
        assert!(followed.is_fresh());
        assert_eq!(followed.position(), Some(Position(11)));
        let key = |id| Key::Group(id);
        // Filled before the change: not current; at or after it: current.
        assert!(!followed.is_current(&key(a), Position(10)));
        assert!(followed.is_current(&key(a), Position(11)));
        assert!(followed.is_current(&key(b), Position(10)));
        // Filled before what is remembered: never current.
        assert!(!followed.is_current(&key(b), Position(9)));
        // A change to everything outdates every entry filled before it.
        followed.advance(Instant::now(), &[(12, vec![Invalidation::Everything])], true);
        assert!(!followed.is_current(&key(b), Position(11)));
        assert!(followed.is_current(&key(b), Position(12)));
    }

    #[test]
    fn the_caches_serve_only_within_a_lease_of_the_last_read_that_caught_up() {
        let followed = Followed::new(Duration::from_millis(50));
        assert!(!followed.is_fresh(), "never read");
        followed.start(0, 0, &[]);
        assert!(!followed.is_fresh(), "started but not caught up");
        followed.advance(Instant::now() - Duration::from_millis(60), &[], true);
        assert!(!followed.is_fresh(), "caught up longer than a lease ago");
        followed.advance(Instant::now(), &[], false);
        assert!(!followed.is_fresh(), "a read that did not reach the end");
        followed.advance(Instant::now(), &[], true);
        assert!(followed.is_fresh());
    }

    #[test]
    fn forgotten_changes_outdate_the_entries_filled_before_them() {
        let followed = Followed::new(Duration::from_secs(1));
        let a = Uuid::now_v7();
        followed.start(0, 0, &[]);
        followed.advance(Instant::now(), &[(1, vec![Invalidation::Customers(vec![a])])], true);
        followed.forget_older_than(Duration::ZERO);
        assert!(!followed.is_current(&Key::Customer(a), Position(0)));
        assert!(followed.is_current(&Key::Customer(a), Position(1)));
    }
}
