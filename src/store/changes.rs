//! The change log (docs/operations.md#caching): what each committed
//! write changed, appended in the write's own transaction, and the task
//! that follows it so that every instance applies every other instance's
//! writes to its caches (see [`crate::cache::followed`] for the rules that
//! make this bound staleness).
//!
//! The SQL is here, beside the read it serves; [`super::Writing`] appends,
//! [`follow`] reads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use uuid::Uuid;

use super::Store;
use crate::cache::Invalidation;
use crate::cache::shared::Outage;

/// How often the log is read.
pub const POLL_EVERY: Duration = Duration::from_millis(50);
/// Most rows read at once; a longer backlog takes several reads.
const BATCH: u64 = 500;
/// How long rows stay in the log, and changes in memory: longer than any
/// Redis entry lives (an hour, +10 %), so that an entry is always checked
/// against every change after it was filled.
pub const RETENTION: Duration = Duration::from_secs(2 * 3600);
/// The first read, of the whole retention window, may take this long.
const START_WITHIN: Duration = Duration::from_secs(30);
/// How often old rows are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Past this many keys, one write is logged as a change to everything
/// (a cold cache after a large import, and a bounded log).
const MAX_KEYS: usize = 10_000;

fn table() -> Alias {
    Alias::new("change_log")
}
fn col(name: &'static str) -> Alias {
    Alias::new(name)
}

/// What one write changed, as logged: `Everything` when it names too many keys.
fn logged(changes: &[Invalidation]) -> Vec<Invalidation> {
    let keys: usize = changes
        .iter()
        .map(|change| match change {
            Invalidation::Customers(ids)
            | Invalidation::Organizations(ids)
            | Invalidation::Groups(ids)
            | Invalidation::Lists(ids) => ids.len(),
            Invalidation::Offers(keys) => keys.len(),
            Invalidation::Catalog | Invalidation::Everything => 1,
        })
        .sum();
    if keys > MAX_KEYS {
        vec![Invalidation::Everything]
    } else {
        changes.to_vec()
    }
}

/// Appends what a write changed, inside its transaction: takes the next
/// position (holding the position row until the commit, so positions
/// become visible in order) and writes the row. Returns the position and
/// what was logged.
pub(super) async fn append(
    txn: &impl ConnectionTrait,
    origin: Uuid,
    changes: &[Invalidation],
) -> Result<(i64, Vec<Invalidation>), DbErr> {
    let next = Query::update()
        .table(Alias::new("change_position"))
        .value(col("seq"), Expr::col(col("seq")).add(1))
        .and_where(Expr::col(col("id")).eq(1))
        .returning_col(col("seq"))
        .to_owned();
    let row = txn
        .query_one(&next)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the change log's position row".into()))?;
    let position: i64 = row.try_get("", "seq")?;
    let logged = logged(changes);
    let body = serde_json::to_string(&logged).map_err(|e| DbErr::Custom(e.to_string()))?;
    let insert = Query::insert()
        .into_table(table())
        .columns([col("seq"), col("changed_at"), col("origin"), col("body")])
        .values_panic([position.into(), Utc::now().into(), origin.into(), body.into()])
        .to_owned();
    txn.execute(&insert).await?;
    Ok((position, logged))
}

/// One row of the log: its position, who wrote it, what changed.
struct Change {
    position: i64,
    origin: Uuid,
    changes: Vec<Invalidation>,
}

/// Rows after `after`, in order, at most `limit`; and the last position
/// handed out when `with_end`.
async fn read_after(db: &DatabaseConnection, after: i64, limit: u64) -> Result<Vec<Change>, DbErr> {
    let select = Query::select()
        .columns([col("seq"), col("origin"), col("body")])
        .from(table())
        .and_where(Expr::col(col("seq")).gt(after))
        .order_by(col("seq"), Order::Asc)
        .limit(limit)
        .to_owned();
    db.query_all(&select)
        .await?
        .into_iter()
        .map(|row| {
            let body: String = row.try_get("", "body")?;
            Ok(Change {
                position: row.try_get("", "seq")?,
                origin: row.try_get("", "origin")?,
                // A body this version cannot read: treated as a change to everything.
                changes: serde_json::from_str(&body).unwrap_or_else(|_| vec![Invalidation::Everything]),
            })
        })
        .collect()
}

/// The last position handed out, and the position before the oldest row
/// that is younger than `retention` (from which on changes are read at start).
async fn bounds(db: &DatabaseConnection, retention: Duration) -> Result<(i64, i64), DbErr> {
    let end = Query::select()
        .column(col("seq"))
        .from(Alias::new("change_position"))
        .and_where(Expr::col(col("id")).eq(1))
        .to_owned();
    let end: i64 = match db.query_one(&end).await? {
        Some(row) => row.try_get("", "seq")?,
        None => 0,
    };
    let since = Utc::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::hours(2));
    let oldest = Query::select()
        .expr_as(Expr::col(col("seq")).min(), col("oldest"))
        .from(table())
        .and_where(Expr::col(col("changed_at")).gte(since))
        .to_owned();
    let oldest: Option<i64> = match db.query_one(&oldest).await? {
        Some(row) => row.try_get("", "oldest")?,
        None => None,
    };
    Ok((end, oldest.map_or(end, |oldest| oldest - 1)))
}

async fn prune(db: &DatabaseConnection, retention: Duration) -> Result<(), DbErr> {
    let before = Utc::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::hours(2));
    let delete = Query::delete()
        .from_table(table())
        .and_where(Expr::col(col("changed_at")).lt(before))
        .to_owned();
    db.execute(&delete).await.map(|_| ())
}

/// Follows the change log until the store's last clone is dropped:
/// applies the other instances' changes, and tells the cache how far it
/// is (see [`crate::cache::followed`]). Each read is bounded by the lease:
/// a slow database makes the caches stop serving, not wait.
pub fn follow(store: &Store) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(&store.loads);
    let (db, cache, origin) = (store.db.conn.clone(), store.cache.clone(), store.origin);
    let committed = store.committed.clone();
    tokio::spawn(crate::db::Statements::uncounted(async move {
        let followed = cache.followed().clone();
        let outage = Outage::named("reading the change log");
        let deadline = followed.lease().max(Duration::from_millis(100));
        let mut ticks = tokio::time::interval(POLL_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pruned = Instant::now();
        loop {
            ticks.tick().await;
            if weak.strong_count() == 0 {
                return;
            }
            let Some(position) = followed.position() else {
                match tokio::time::timeout(START_WITHIN, start(&db, &followed)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => {
                        outage.record("read", &error);
                    }
                    Err(_) => {
                        outage.record("read", &"no answer in time");
                    }
                }
                continue;
            };
            let began = Instant::now();
            match tokio::time::timeout(deadline, read_after(&db, position.0, BATCH)).await {
                Ok(Ok(rows)) => {
                    let caught_up = (rows.len() as u64) < BATCH;
                    let mut theirs = Vec::new();
                    for row in rows.iter().filter(|row| row.origin != origin) {
                        for change in &row.changes {
                            cache.apply(change);
                        }
                        theirs.extend(row.changes.iter().cloned());
                    }
                    let changes: Vec<(i64, Vec<Invalidation>)> =
                        rows.into_iter().map(|row| (row.position, row.changes)).collect();
                    followed.advance(began, &changes, caught_up);
                    // Ours were announced as they committed.
                    super::announce(&committed, &theirs);
                    if !caught_up {
                        ticks.reset_immediately();
                    }
                }
                Ok(Err(error)) => {
                    outage.record("read", &error);
                }
                Err(_) => {
                    outage.record("read", &"no answer in time");
                }
            }
            if pruned.elapsed() >= PRUNE_EVERY {
                pruned = Instant::now();
                followed.forget_older_than(RETENTION);
                if let Err(error) = prune(&db, RETENTION).await {
                    outage.record("prune", &error);
                }
            }
        }
    }))
}

/// The first read: where the log ends, and the changes of the retention
/// window, which shared-cache entries are checked against.
async fn start(db: &DatabaseConnection, followed: &crate::cache::Followed) -> Result<(), DbErr> {
    let (end, from) = bounds(db, RETENTION).await?;
    let mut recent = Vec::new();
    let mut after = from;
    while after < end {
        let rows = read_after(db, after, BATCH).await?;
        let Some(last) = rows.last() else { break };
        after = last.position;
        recent.extend(rows.into_iter().map(|row| (row.position, row.changes)));
    }
    followed.start(from, end, &recent);
    Ok(())
}
