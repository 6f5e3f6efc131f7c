//! Group usage (docs/api.md#group-usage): the counts each server keeps in
//! memory ([`crate::usage`]) are added to the `group_usage` table in the
//! background, per group and hour, so the table holds the sum over every
//! instance; `CustomerGroup.usage` reads it with the group's members,
//! organizations and lists. Nothing here runs on the storefront path.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{customer_group, customer_group_price_list as link, group_usage, organization_group};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::store::Store;
use crate::usage::{Deltas, GroupCounters, RETENTION, hour_of};

/// The interval flag's default, in seconds.
pub const DEFAULT_FLUSH_SECONDS: u64 = 10;

/// Rows (and ids) per statement: far below SQLite's 32,766 parameters.
const CHUNK: usize = 1000;

/// How often a server deletes hours past the retention.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The windows `pricesResolved` sums over, in hours counted back from the
/// current one (which is included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    /// The current hour and the 23 before it.
    Day,
    /// The current hour and the 167 before it.
    Week,
}

impl Window {
    /// The first hour the window counts, at `now`.
    pub fn first_hour(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let hours = match self {
            Self::Day => 24,
            Self::Week => 24 * 7,
        };
        hour_of(now) - TimeDelta::hours(hours - 1)
    }
}

/// How much prices came through a group lately, as flushed by every instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    pub day: u64,
    pub week: u64,
    /// The latest price through the group; kept after its hour is pruned.
    pub last_applied_at: Option<DateTime<Utc>>,
}

impl Activity {
    pub fn prices_resolved(&self, window: Window) -> u64 {
        match window {
            Window::Day => self.day,
            Window::Week => self.week,
        }
    }
}

/// Writes what this server counted since the last flush (and what a
/// failed flush gave back) to the database; returns the prices written.
/// On failure, or if the flush is dropped half-way, the counts go back to
/// memory for the next flush: none is lost silently. A group deleted
/// meanwhile is skipped, and its counts forgotten.
pub async fn flush(store: &Store) -> Result<u64, DbErr> {
    let now = super::now();
    let deltas = store.usage.take(now);
    if deltas.is_empty() {
        return Ok(0);
    }
    let mut taken = Taken {
        counters: &store.usage,
        deltas,
        now,
        written: false,
    };
    let written = write(store.conn(), &taken.deltas).await?;
    taken.written = true;
    Ok(written)
}

/// Deltas taken for a flush, given back unless the flush wrote them.
struct Taken<'a> {
    counters: &'a GroupCounters,
    deltas: Deltas,
    now: DateTime<Utc>,
    written: bool,
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if !self.written {
            self.counters.restore(std::mem::take(&mut self.deltas), self.now);
        }
    }
}

/// Adds `deltas` to the rows of their group and hour, in one transaction:
/// all or nothing, so a retry never counts twice. Rows go in key order,
/// so instances flushing at once lock them in the same order.
async fn write(conn: &DatabaseConnection, deltas: &Deltas) -> Result<u64, DbErr> {
    let wanted: BTreeSet<Uuid> = deltas.iter().map(|(group, _, _)| group).collect();
    let wanted: Vec<Uuid> = wanted.into_iter().collect();
    let mut existing = HashSet::new();
    for ids in wanted.chunks(CHUNK) {
        let found: Vec<Uuid> = customer_group::Entity::find()
            .select_only()
            .column(customer_group::Column::Id)
            .filter(customer_group::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        existing.extend(found);
    }
    let rows: Vec<group_usage::ActiveModel> = deltas
        .iter()
        .filter(|(group, _, _)| existing.contains(group))
        .map(|(group, hour, delta)| group_usage::ActiveModel {
            group_id: Set(group),
            bucket_start: Set(hour),
            prices_resolved: Set(i64::try_from(delta.prices).unwrap_or(i64::MAX)),
            last_applied_at: Set(delta.last_applied_at),
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    let written = deltas
        .iter()
        .filter(|(group, _, _)| existing.contains(group))
        .map(|(_, _, delta)| delta.prices)
        .sum();
    let txn = conn.begin().await?;
    for chunk in rows.chunks(CHUNK) {
        group_usage::Entity::insert_many(chunk.iter().cloned())
            .on_conflict(add_on_conflict())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(written)
}

/// `prices_resolved` adds up, `last_applied_at` keeps the later: the same
/// statement on SQLite and PostgreSQL.
fn add_on_conflict() -> OnConflict {
    use group_usage::Column::{BucketStart, GroupId, LastAppliedAt, PricesResolved};
    let stored = |column| Expr::col((group_usage::Entity, column));
    let incoming = |column| Expr::col((Alias::new("excluded"), column));
    OnConflict::columns([GroupId, BucketStart])
        .value(PricesResolved, stored(PricesResolved).add(incoming(PricesResolved)))
        .value(
            LastAppliedAt,
            Expr::case(
                incoming(LastAppliedAt).gt(stored(LastAppliedAt)),
                incoming(LastAppliedAt),
            )
            .finally(stored(LastAppliedAt)),
        )
        .to_owned()
}

/// Deletes hours past [`RETENTION`], except each group's latest, which
/// keeps `lastAppliedAt` for as long as the group lives.
pub async fn prune(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    use group_usage::Column::{BucketStart, GroupId};
    let latest = Alias::new("latest");
    let latest_of_group = Query::select()
        .expr(Func::max(Expr::col((latest.clone(), BucketStart))))
        .from_as(group_usage::Entity, latest.clone())
        .and_where(Expr::col((latest, GroupId)).equals((group_usage::Entity, GroupId)))
        .to_owned();
    let delete = Query::delete()
        .from_table(group_usage::Entity)
        .and_where(Expr::col(BucketStart).lt(hour_of(now - RETENTION)))
        .and_where(Expr::col(BucketStart).lt(Expr::SubQuery(None, Box::new(latest_of_group.into()))))
        .to_owned();
    Ok(conn.execute(&delete).await?.rows_affected())
}

/// Removes a group's usage with the group, in its transaction.
pub async fn forget_group(txn: &impl ConnectionTrait, group_id: Uuid) -> Result<(), DbErr> {
    group_usage::Entity::delete_many()
        .filter(group_usage::Column::GroupId.eq(group_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Each group's prices of the last day and week and its latest price, as
/// of `now`: one statement for any number of groups.
pub async fn activity(
    conn: &DatabaseConnection,
    groups: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, Activity>, DbErr> {
    use group_usage::Column::{BucketStart, GroupId, LastAppliedAt, PricesResolved};
    let since = |window: Window| {
        Func::cast_as(
            Func::sum(
                Expr::case(
                    Expr::col(BucketStart).gte(window.first_hour(now)),
                    Expr::col(PricesResolved),
                )
                .finally(0),
            ),
            Alias::new("BIGINT"),
        )
    };
    let mut found: HashMap<Uuid, Activity> = groups.iter().map(|group| (*group, Activity::default())).collect();
    for ids in groups.chunks(CHUNK) {
        let rows: Vec<(Uuid, i64, i64, Option<DateTime<Utc>>)> = group_usage::Entity::find()
            .select_only()
            .column(GroupId)
            .column_as(Expr::expr(since(Window::Day)), "day")
            .column_as(Expr::expr(since(Window::Week)), "week")
            .column_as(Expr::expr(Func::max(Expr::col(LastAppliedAt))), "last_applied_at")
            .filter(GroupId.is_in(ids.iter().copied()))
            .group_by(GroupId)
            .into_tuple()
            .all(conn)
            .await?;
        for (group, day, week, last_applied_at) in rows {
            found.insert(
                group,
                Activity {
                    day: u64::try_from(day).unwrap_or_default(),
                    week: u64::try_from(week).unwrap_or_default(),
                    last_applied_at,
                },
            );
        }
    }
    Ok(found)
}

/// What a group's usage counts besides prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reach {
    /// Organizations that have the group.
    Organizations,
    /// Price lists linked to the group.
    PriceLists,
}

/// How many organizations or lists each group has: one statement.
pub async fn reach(conn: &DatabaseConnection, what: Reach, groups: &[Uuid]) -> Result<HashMap<Uuid, u64>, DbErr> {
    use crate::store::page::count_by_parent;
    match what {
        Reach::Organizations => {
            let parent = (organization_group::Entity, organization_group::Column::GroupId);
            count_by_parent(conn, organization_group::Entity::find(), parent, groups).await
        }
        Reach::PriceLists => {
            count_by_parent(
                conn,
                link::Entity::find(),
                (link::Entity, link::Column::GroupId),
                groups,
            )
            .await
        }
    }
}

/// The background flush of one server: every interval, and once more when
/// it stops.
pub struct Flusher {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Flusher {
    /// Flushes `store`'s counts every `every` (and prunes old hours every
    /// hour) until [`Flusher::stop`]. Its statements are not counted as
    /// any request's.
    pub fn start(store: &Store, every: Duration) -> Self {
        let (stop, mut stopped) = oneshot::channel();
        let store = store.clone();
        let task = tokio::spawn(crate::db::Statements::uncounted(async move {
            let mut ticks = tokio::time::interval(every.max(Duration::from_millis(10)));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            let mut pruned: Option<std::time::Instant> = None;
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = &mut stopped => break,
                }
                flush_logged(&store).await;
                if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                    pruned = Some(std::time::Instant::now());
                    if let Err(error) = prune(store.conn(), super::now()).await {
                        tracing::warn!(%error, "pruning old group usage failed; trying again in an hour");
                    }
                }
            }
            let written = flush_logged(&store).await;
            tracing::info!(prices = written, "group usage flushed on the way out");
        }));
        Self { stop, task }
    }

    /// Stops the interval and flushes once more, waiting at most `within`
    /// (a database that does not answer must not hold the exit).
    pub async fn stop(self, within: Duration) {
        let _ = self.stop.send(());
        if tokio::time::timeout(within, self.task).await.is_err() {
            tracing::warn!(
                within_seconds = within.as_secs_f64(),
                "the last flush of group usage did not finish in time; its counts are lost"
            );
        }
    }
}

/// A flush whose failure is logged (the counts wait in memory for the next).
async fn flush_logged(store: &Store) -> u64 {
    match flush(store).await {
        Ok(written) => written,
        Err(error) => {
            let (_, waiting) = store.usage.held();
            tracing::warn!(%error, waiting, "flushing group usage failed; its counts wait for the next flush");
            0
        }
    }
}
