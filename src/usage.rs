//! Group usage counted in memory (docs/api.md#group-usage): how many
//! resolved prices came through each pricing group, and when the last one
//! did. Counting must not slow the storefront: no statement and no lock on
//! the way. A request tallies its answers in a [`Tally`] of its own, then
//! adds it to [`GroupCounters`] once per group: a lock-free read of a map
//! of atomic counters ([`ArcSwap`]), and one atomic add per group. A
//! background flush (the usage service, above this module) takes the counts as
//! [`Deltas`] per group and hour, adds them to the database, and gives
//! them back with [`GroupCounters::restore`] when it could not.
//!
//! Memory is bounded by the groups in use: a counter idle for
//! [`IDLE_FLUSHES`] flushes in a row is dropped (a deleted group's goes
//! that way), and deltas that could not be written are dropped once older
//! than [`RETENTION`], when the database would have pruned them anyway.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use chrono::{DateTime, TimeDelta, Utc};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use uuid::Uuid;

/// How long counts are kept: the longest window (`WEEK`) and a day to spare.
pub const RETENTION: TimeDelta = TimeDelta::days(8);

/// Flushes in a row that find a group's counter idle before it is dropped
/// (it comes back with the group's next price). Dropping costs a copy of
/// the map, so a group that prices now and then is not dropped every time.
pub const IDLE_FLUSHES: u32 = 10;

/// The hour an instant falls in: counts are kept per group and hour.
pub fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    let seconds = at.timestamp();
    DateTime::from_timestamp(seconds - seconds.rem_euclid(3600), 0).unwrap_or(at)
}

/// One request's prices per group, counted before the shared counters are
/// touched, so that a request of a thousand items adds once per group.
/// Shoppers have a few groups: a short list searched in place beats a map.
#[derive(Clone, Debug, Default)]
pub struct Tally(SmallVec<[(Uuid, u64); 4]>);

impl Tally {
    /// One more price through `group`.
    pub fn add(&mut self, group: Uuid) {
        match self.0.iter_mut().find(|(id, _)| *id == group) {
            Some((_, count)) => *count += 1,
            None => self.0.push((group, 1)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One group's counts since they were last taken. A cache line of its own:
/// requests on different cores counting different groups never write to
/// the same line.
#[repr(align(64))]
#[derive(Debug, Default)]
struct Counter {
    prices: AtomicU64,
    /// Milliseconds since the epoch of the latest count; 0: none since taken.
    last_ms: AtomicI64,
}

impl Counter {
    fn add(&self, prices: u64, at_ms: i64) {
        self.last_ms.fetch_max(at_ms, Ordering::Relaxed);
        self.prices.fetch_add(prices, Ordering::Relaxed);
    }

    /// The counts since the last take, zeroed; `None` when idle. A count
    /// that lands between the two swaps is taken next time, not lost.
    fn take(&self) -> Option<(u64, Option<DateTime<Utc>>)> {
        let prices = self.prices.swap(0, Ordering::Relaxed);
        let last_ms = self.last_ms.swap(0, Ordering::Relaxed);
        let last = (last_ms > 0)
            .then(|| DateTime::from_timestamp_millis(last_ms))
            .flatten();
        (prices > 0 || last.is_some()).then_some((prices, last))
    }
}

/// What one group added in one hour and is not yet written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delta {
    pub prices: u64,
    pub last_applied_at: DateTime<Utc>,
}

/// Counts not yet written, per group and hour, in key order (so that
/// instances writing at once take the rows' locks in the same order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deltas(BTreeMap<(Uuid, DateTime<Utc>), Delta>);

impl Deltas {
    /// Adds counts of `group` in the hour starting at `hour`.
    pub fn add(&mut self, group: Uuid, hour: DateTime<Utc>, prices: u64, last_applied_at: DateTime<Utc>) {
        self.0
            .entry((group, hour))
            .and_modify(|delta| {
                delta.prices += prices;
                delta.last_applied_at = delta.last_applied_at.max(last_applied_at);
            })
            .or_insert(Delta {
                prices,
                last_applied_at,
            });
    }

    /// Every delta, by group then hour.
    pub fn iter(&self) -> impl Iterator<Item = (Uuid, DateTime<Utc>, Delta)> + '_ {
        self.0.iter().map(|((group, hour), delta)| (*group, *hour, *delta))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Drops hours older than [`RETENTION`] before `now`.
    fn forget_before(&mut self, now: DateTime<Utc>) {
        let oldest = hour_of(now - RETENTION);
        self.0.retain(|(_, hour), _| *hour >= oldest);
    }

    fn merge(&mut self, other: Deltas) {
        for ((group, hour), delta) in other.0 {
            self.add(group, hour, delta.prices, delta.last_applied_at);
        }
    }
}

type Live = FxHashMap<Uuid, Arc<Counter>>;

/// The counters of one server, shared by every request it serves.
#[derive(Debug, Default)]
pub struct GroupCounters {
    /// Requests read this map without a lock; a new group is added by
    /// copying it (compare and swap), which happens once per group in use.
    live: ArcSwap<Live>,
    /// What only flushes touch.
    flushing: Mutex<Flushing>,
    /// Flushes that could not write, since start.
    failed_flushes: AtomicU64,
}

#[derive(Debug, Default)]
struct Flushing {
    /// Deltas a failed flush gave back.
    backlog: Deltas,
    /// Flushes in a row that found each counter idle.
    idle: FxHashMap<Uuid, u32>,
    /// Counters dropped from the map that a request may still hold: taken
    /// at every flush until nobody else does.
    retired: Vec<(Uuid, Arc<Counter>)>,
}

impl GroupCounters {
    /// Adds one request's tally, counted at `at`.
    pub fn record(&self, tally: &Tally, at: DateTime<Utc>) {
        let at_ms = at.timestamp_millis().max(1);
        let mut missing: SmallVec<[(Uuid, u64); 4]> = SmallVec::new();
        {
            let live = self.live.load();
            for &(group, prices) in &tally.0 {
                match live.get(&group) {
                    Some(counter) => counter.add(prices, at_ms),
                    None => missing.push((group, prices)),
                }
            }
        }
        // A group seen for the first time (or again after it was idle):
        // add its counter, then count. A flush may drop it in between
        // only when it was idle for many flushes, so this rarely loops.
        while !missing.is_empty() {
            self.live.rcu(|live| {
                let mut next = Live::clone(live);
                for (group, _) in &missing {
                    next.entry(*group).or_default();
                }
                next
            });
            let live = self.live.load();
            missing.retain(|(group, prices)| match live.get(group) {
                Some(counter) => {
                    counter.add(*prices, at_ms);
                    false
                }
                None => true,
            });
        }
    }

    /// Takes every count not yet written, those given back included, as
    /// deltas of the hour of `now`; drops counters idle for too long.
    pub fn take(&self, now: DateTime<Utc>) -> Deltas {
        let hour = hour_of(now);
        let mut flushing = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
        let Flushing { backlog, idle, retired } = &mut *flushing;
        let mut taken = std::mem::take(backlog);
        let mut add = |group: Uuid, (prices, last): (u64, Option<DateTime<Utc>>)| {
            taken.add(group, hour, prices, last.unwrap_or(now));
        };
        // A retired counter whose last holder is gone cannot change again.
        retired.retain(|(group, counter)| {
            let alone = Arc::strong_count(counter) == 1;
            if let Some(counts) = counter.take() {
                add(*group, counts);
            }
            !alone
        });
        let live = self.live.load_full();
        let mut stale = Vec::new();
        for (group, counter) in live.iter() {
            match counter.take() {
                Some(counts) => {
                    add(*group, counts);
                    idle.remove(group);
                }
                None => {
                    let flushes = idle.entry(*group).or_default();
                    *flushes += 1;
                    if *flushes >= IDLE_FLUSHES {
                        stale.push(*group);
                    }
                }
            }
        }
        if !stale.is_empty() {
            let before = self.live.rcu(|live| {
                let mut next = Live::clone(live);
                for group in &stale {
                    next.remove(group);
                }
                next
            });
            for group in &stale {
                idle.remove(group);
                if let Some(counter) = before.get(group) {
                    retired.push((*group, counter.clone()));
                }
            }
        }
        taken
    }

    /// Gives back deltas a flush could not write, for the next one; hours
    /// past [`RETENTION`] are dropped, so the backlog stays bounded while
    /// the database is down.
    pub fn restore(&self, deltas: Deltas, now: DateTime<Utc>) {
        self.failed_flushes.fetch_add(1, Ordering::Relaxed);
        let mut flushing = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
        flushing.backlog.merge(deltas);
        flushing.backlog.forget_before(now);
    }

    /// Flushes that could not write, since start (for `/metrics`).
    pub fn failed_flushes(&self) -> u64 {
        self.failed_flushes.load(Ordering::Relaxed)
    }

    /// Groups with a counter in memory, and deltas waiting for a retry.
    pub fn held(&self) -> (usize, usize) {
        let flushing = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
        (self.live.load().len() + flushing.retired.len(), flushing.backlog.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a date-time")
            .with_timezone(&Utc)
    }

    fn tally(groups: &[(Uuid, u64)]) -> Tally {
        let mut tally = Tally::default();
        for (group, prices) in groups {
            for _ in 0..*prices {
                tally.add(*group);
            }
        }
        tally
    }

    fn counts(deltas: &Deltas) -> Vec<(Uuid, DateTime<Utc>, u64, DateTime<Utc>)> {
        deltas
            .iter()
            .map(|(group, hour, delta)| (group, hour, delta.prices, delta.last_applied_at))
            .collect()
    }

    #[test]
    fn counts_are_taken_once_per_group_and_hour_with_the_latest_time() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let counters = GroupCounters::default();
        counters.record(&tally(&[(a, 3), (b, 1)]), at("2026-12-03T10:15:00Z"));
        counters.record(&tally(&[(a, 2)]), at("2026-12-03T10:20:00.250Z"));
        let taken = counters.take(at("2026-12-03T10:30:00Z"));
        let hour = at("2026-12-03T10:00:00Z");
        assert_eq!(
            counts(&taken),
            [
                (a, hour, 5, at("2026-12-03T10:20:00.250Z")),
                (b, hour, 1, at("2026-12-03T10:15:00Z"))
            ]
        );
        assert!(counters.take(at("2026-12-03T10:31:00Z")).is_empty(), "taken once");
    }

    /// A failed flush gives its deltas back: the next take has them, with
    /// what was counted meanwhile, and nothing is counted twice.
    #[test]
    fn a_failed_flush_keeps_its_counts_for_the_next() {
        let group = Uuid::now_v7();
        let counters = GroupCounters::default();
        counters.record(&tally(&[(group, 4)]), at("2026-12-03T10:15:00Z"));
        let failed = counters.take(at("2026-12-03T10:16:00Z"));
        counters.record(&tally(&[(group, 1)]), at("2026-12-03T11:05:00Z"));
        counters.restore(failed, at("2026-12-03T11:06:00Z"));
        assert_eq!(counters.failed_flushes(), 1);
        let retried = counters.take(at("2026-12-03T11:06:00Z"));
        assert_eq!(
            counts(&retried),
            [
                (group, at("2026-12-03T10:00:00Z"), 4, at("2026-12-03T10:15:00Z")),
                (group, at("2026-12-03T11:00:00Z"), 1, at("2026-12-03T11:05:00Z")),
            ]
        );
        assert!(counters.take(at("2026-12-03T11:07:00Z")).is_empty());
    }

    /// While the database stays down, the backlog holds at most the
    /// retention's hours per group: memory does not grow without bound.
    #[test]
    fn the_backlog_forgets_hours_past_the_retention() {
        let group = Uuid::now_v7();
        let counters = GroupCounters::default();
        let start = at("2026-12-01T00:00:00Z");
        for hour in 0..(24 * 20) {
            let now = start + TimeDelta::hours(hour);
            counters.record(&tally(&[(group, 1)]), now);
            let failed = counters.take(now);
            counters.restore(failed, now);
        }
        let (_, backlog) = counters.held();
        assert_eq!(backlog as i64, RETENTION.num_hours() + 1);
    }

    /// A group that stops pricing (deleted, say) leaves memory after
    /// [`IDLE_FLUSHES`] flushes; its counter comes back when it prices again.
    #[test]
    fn an_idle_group_leaves_memory_and_comes_back() {
        let (idle, busy) = (Uuid::now_v7(), Uuid::now_v7());
        let counters = GroupCounters::default();
        let now = at("2026-12-03T10:00:00Z");
        counters.record(&tally(&[(idle, 1), (busy, 1)]), now);
        assert_eq!(counters.held(), (2, 0));
        // One take finds its count, ten find it idle, one lets it go.
        for _ in 0..IDLE_FLUSHES + 2 {
            counters.record(&tally(&[(busy, 1)]), now);
            counters.take(now);
        }
        assert_eq!(counters.held(), (1, 0), "the idle group's counter is gone");
        counters.record(&tally(&[(idle, 2)]), now);
        assert_eq!(counts(&counters.take(now)), [(idle, now, 2, now)]);
    }

    /// A request that read the map before a flush dropped a counter still
    /// counts into it; the next flushes take that count, and let the
    /// counter go once nobody holds it.
    #[test]
    fn a_count_into_a_dropped_counter_is_not_lost() {
        let group = Uuid::now_v7();
        let counters = GroupCounters::default();
        let now = at("2026-12-03T10:00:00Z");
        counters.record(&tally(&[(group, 1)]), now);
        counters.take(now);
        let held = counters.live.load_full();
        for _ in 0..IDLE_FLUSHES {
            counters.take(now);
        }
        assert!(counters.live.load().get(&group).is_none(), "dropped from the map");
        held.get(&group).expect("still held").add(7, now.timestamp_millis());
        assert_eq!(counts(&counters.take(now)), [(group, now, 7, now)]);
        drop(held);
        counters.take(now);
        assert_eq!(counters.held(), (0, 0), "let go once nobody holds it");
    }

    #[test]
    fn counting_from_many_threads_loses_nothing() {
        let groups: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
        let counters = Arc::new(GroupCounters::default());
        let now = at("2026-12-03T10:00:00Z");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (counters, groups) = (counters.clone(), groups.clone());
                std::thread::spawn(move || {
                    let mut taken = Deltas::default();
                    for round in 0..2000 {
                        counters.record(&tally(&[(groups[round % 8], 1), (groups[0], 1)]), now);
                        if round % 100 == 0 {
                            taken.merge(counters.take(now));
                        }
                    }
                    taken
                })
            })
            .collect();
        let mut total = Deltas::default();
        for thread in threads {
            total.merge(thread.join().expect("the thread ends"));
        }
        total.merge(counters.take(now));
        let sum: u64 = total.iter().map(|(_, _, delta)| delta.prices).sum();
        assert_eq!(sum, 4 * 2000 * 2);
    }
}
