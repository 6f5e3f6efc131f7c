//! `PRICE_LIST_STARTED` / `PRICE_LIST_ENDED`: a price list's window opening
//! or closing changes prices with no write at all, so a timer announces it.
//!
//! Every instance looks, several times a second, for `ACTIVE` lists whose
//! `startsAt` or `endsAt` has passed and is not yet in `price_list_edge`.
//! It announces each edge by inserting its row (list, edge, instant) and the
//! event in one transaction; the row's primary key makes the insert of a
//! second instance conflict, so each edge is announced once. Looking back
//! over the catch-up window (not just since the last look) is what catches
//! up edges that passed while no instance ran. Edges at or before the
//! list's last change are not announced: that change's `PRICE_LIST_CHANGED`
//! already told, and a list created with a past `startsAt` did not start then.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::price_list;
use entity::values::PriceListStatus;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use tokio::sync::watch;
use uuid::Uuid;

use super::{Event, EventType, WebhookOptions, outbox};

/// How often the lists are looked at: edges are announced within this.
pub const LOOK_EVERY: Duration = Duration::from_millis(250);
/// Most edges announced per look; more wait for the next one.
const PER_LOOK: u64 = 200;
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// A running timer of window edges.
pub struct Windows {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Windows {
    pub fn start(db: DatabaseConnection, options: Arc<WebhookOptions>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(crate::db::Statements::uncounted(Box::pin(run(db, options, stopped))));
        Self { stop, task }
    }

    /// Stops looking; a look in progress may finish within `within`.
    pub async fn stop(self, within: Duration) {
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        if tokio::time::timeout(within, self.task).await.is_err() {
            abort.abort();
        }
    }
}

async fn run(db: DatabaseConnection, options: Arc<WebhookOptions>, mut stopped: watch::Receiver<bool>) {
    let mut pruned = Instant::now();
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            () = tokio::time::sleep(LOOK_EVERY) => {}
        }
        if let Err(error) = Box::pin(announce_passed(&db, options.catch_up)).await {
            tracing::warn!(%error, "could not announce price list windows; trying again");
        }
        if pruned.elapsed() >= PRUNE_EVERY {
            pruned = Instant::now();
            let before = Utc::now()
                - chrono::Duration::from_std(options.catch_up).unwrap_or(chrono::Duration::days(1))
                - chrono::Duration::days(1);
            let delete = Query::delete()
                .from_table(Alias::new("price_list_edge"))
                .and_where(Expr::col(Alias::new("at")).lt(before))
                .to_owned();
            if let Err(error) = db.execute(&delete).await {
                tracing::warn!(%error, "could not prune announced window edges");
            }
        }
    }
}

/// The edge kinds, their column and their event.
const EDGES: [(&str, price_list::Column, EventType); 2] = [
    ("STARTED", price_list::Column::StartsAt, EventType::PriceListStarted),
    ("ENDED", price_list::Column::EndsAt, EventType::PriceListEnded),
];

/// Announces the edges that passed within `catch_up` and were not yet.
/// Returns how many this instance announced.
pub async fn announce_passed(db: &DatabaseConnection, catch_up: Duration) -> Result<usize, DbErr> {
    let now = Utc::now();
    let since = now - chrono::Duration::from_std(catch_up).unwrap_or(chrono::Duration::days(1));
    let mut announced = 0;
    for (edge, column, event_type) in EDGES {
        let announced_already = Query::select()
            .expr(Expr::val(1))
            .from(Alias::new("price_list_edge"))
            .and_where(
                Expr::col((Alias::new("price_list_edge"), Alias::new("price_list_id")))
                    .equals((price_list::Entity, price_list::Column::Id)),
            )
            .and_where(Expr::col((Alias::new("price_list_edge"), Alias::new("edge"))).eq(edge))
            .and_where(
                Expr::col((Alias::new("price_list_edge"), Alias::new("at"))).equals((price_list::Entity, column)),
            )
            .to_owned();
        let passed: Vec<(Uuid, Option<DateTime<Utc>>)> = price_list::Entity::find()
            .select_only()
            .column(price_list::Column::Id)
            .column(column)
            .filter(price_list::Column::Status.eq(PriceListStatus::Active))
            .filter(column.gt(since))
            .filter(column.lte(now))
            .filter(
                Expr::col((price_list::Entity, column))
                    .gt(Expr::col((price_list::Entity, price_list::Column::UpdatedAt))),
            )
            .filter(Expr::exists(announced_already).not())
            .limit(PER_LOOK)
            .into_tuple()
            .all(db)
            .await?;
        for (list_id, at) in passed {
            let Some(at) = at else { continue };
            if Box::pin(announce(db, list_id, edge, at, event_type)).await? {
                announced += 1;
            }
        }
    }
    Ok(announced)
}

/// Claims the edge and writes its event, in one transaction; `false` when
/// another instance claimed it first.
async fn announce(
    db: &DatabaseConnection,
    list_id: Uuid,
    edge: &str,
    at: DateTime<Utc>,
    event_type: EventType,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let insert = Query::insert()
        .into_table(Alias::new("price_list_edge"))
        .columns([
            Alias::new("price_list_id"),
            Alias::new("edge"),
            Alias::new("at"),
            Alias::new("emitted_at"),
        ])
        .values_panic([list_id.into(), edge.into(), at.into(), Utc::now().into()])
        .on_conflict(
            OnConflict::columns([Alias::new("price_list_id"), Alias::new("edge"), Alias::new("at")])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    let claimed = txn.execute(&insert).await?.rows_affected() == 1;
    if claimed {
        outbox::append(&txn, &[Event::window_edge(event_type, list_id, at)]).await?;
    }
    txn.commit().await?;
    Ok(claimed)
}
