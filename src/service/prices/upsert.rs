//! The batch upsert of tiers that GraphQL's `upsertPrices` /
//! `upsertBasePrices` and the CSV import share: a plan that classifies each
//! tier as created, updated or unchanged against what is stored, then one
//! transaction that writes only what changed, then the invalidation.

use std::collections::{BTreeSet, HashMap, HashSet};

use entity::{base_price, price};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement};
use uuid::Uuid;

use super::{ROWS_PER_STATEMENT, Tier, TierKey};
use crate::error::ServiceResult;
use crate::events::Event;
use crate::money::CurrencyCode;
use crate::service::{new_id, now};
use crate::store::Store;

/// Where tiers are written: one price list's prices, or the base prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierTable {
    List(Uuid),
    Base,
}

/// What an upsert did (or, dry, would do) to each tier it was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl Written {
    pub fn add(&mut self, other: Written) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }

    pub fn total(&self) -> u64 {
        self.created + self.updated + self.unchanged
    }
}

/// The stored side of a tier: its upper bound and amount.
type Stored = (Option<i32>, i64);

/// An upsert worked out against what is stored: the tiers that differ and
/// how each given tier counts.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub written: Written,
    changes: HashMap<TierKey, Tier>,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The cached offers (product, currency) that applying this changes.
    pub fn offers(&self) -> Vec<(Uuid, CurrencyCode)> {
        let offers: HashSet<(Uuid, CurrencyCode)> = self.changes.keys().map(|(p, c, _)| (*p, *c)).collect();
        offers.into_iter().collect()
    }
}

/// Compares `tiers` with the stored ones, in order: a tier given twice
/// counts against the one before it, and the last one wins. Reads only
/// (outside any transaction: on SQLite a transaction that reads before it
/// writes cannot wait for the write lock); a writer racing in between only
/// changes the counts, never the rows, since [`apply`] upserts.
pub(crate) async fn plan(conn: &impl ConnectionTrait, table: TierTable, tiers: &[Tier]) -> ServiceResult<Plan> {
    let mut state = stored_tiers(conn, table, tiers).await?;
    let mut plan = Plan::default();
    for tier in tiers {
        let new: Stored = (tier.max_quantity, tier.money.minor_units());
        match state.insert(tier.key(), new) {
            None => plan.written.created += 1,
            Some(old) if old == new => {
                plan.written.unchanged += 1;
                continue;
            }
            Some(_) => plan.written.updated += 1,
        }
        plan.changes.insert(tier.key(), *tier);
    }
    Ok(plan)
}

/// The stored tiers of the products `tiers` name.
async fn stored_tiers(
    conn: &impl ConnectionTrait,
    table: TierTable,
    tiers: &[Tier],
) -> ServiceResult<HashMap<TierKey, Stored>> {
    let products: Vec<Uuid> = tiers
        .iter()
        .map(|t| t.product_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut stored = HashMap::new();
    for chunk in products.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(Uuid, String, i32, Option<i32>, i64)> = match table {
            TierTable::List(list_id) => {
                price::Entity::find()
                    .select_only()
                    .columns([
                        price::Column::ProductId,
                        price::Column::Currency,
                        price::Column::MinQuantity,
                        price::Column::MaxQuantity,
                        price::Column::AmountMinor,
                    ])
                    .filter(price::Column::PriceListId.eq(list_id))
                    .filter(price::Column::ProductId.is_in(chunk.iter().copied()))
                    .into_tuple()
                    .all(conn)
                    .await?
            }
            TierTable::Base => base_price::Entity::find()
                .select_only()
                .columns([
                    base_price::Column::ProductId,
                    base_price::Column::Currency,
                    base_price::Column::MinQuantity,
                    base_price::Column::AmountMinor,
                ])
                .filter(base_price::Column::ProductId.is_in(chunk.iter().copied()))
                .into_tuple::<(Uuid, String, i32, i64)>()
                .all(conn)
                .await?
                .into_iter()
                .map(|(product_id, currency, min, amount)| (product_id, currency, min, None, amount))
                .collect(),
        };
        for (product_id, currency, min, max, amount) in rows {
            // A currency this build does not know cannot match a given tier.
            if let Ok(currency) = CurrencyCode::parse(&currency) {
                stored.insert((product_id, currency, min), (max, amount));
            }
        }
    }
    Ok(stored)
}

/// Writes the tiers a [`plan`] found changed, as upserts (never a delete
/// and insert): on SQLite in statements of [`ROWS_PER_STATEMENT`] rows, on
/// PostgreSQL in one statement (see [`apply_on_postgres`]).
async fn apply(conn: &impl ConnectionTrait, table: TierTable, plan: &Plan) -> ServiceResult<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        return apply_on_postgres(conn, table, plan).await;
    }
    let now = now();
    let tiers: Vec<&Tier> = plan.changes.values().collect();
    for chunk in tiers.chunks(ROWS_PER_STATEMENT) {
        match table {
            TierTable::List(list_id) => {
                let rows = chunk.iter().map(|t| price::ActiveModel {
                    id: Set(new_id()),
                    price_list_id: Set(list_id),
                    product_id: Set(t.product_id),
                    currency: Set(t.money.currency().code().to_owned()),
                    min_quantity: Set(t.min_quantity),
                    max_quantity: Set(t.max_quantity),
                    amount_minor: Set(t.money.minor_units()),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
                price::Entity::insert_many(rows)
                    .on_conflict(
                        OnConflict::columns([
                            price::Column::PriceListId,
                            price::Column::ProductId,
                            price::Column::Currency,
                            price::Column::MinQuantity,
                        ])
                        .update_columns([
                            price::Column::MaxQuantity,
                            price::Column::AmountMinor,
                            price::Column::UpdatedAt,
                        ])
                        .to_owned(),
                    )
                    .exec_without_returning(conn)
                    .await?;
            }
            TierTable::Base => {
                let rows = chunk.iter().map(|t| base_price::ActiveModel {
                    id: Set(new_id()),
                    product_id: Set(t.product_id),
                    currency: Set(t.money.currency().code().to_owned()),
                    min_quantity: Set(t.min_quantity),
                    amount_minor: Set(t.money.minor_units()),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
                base_price::Entity::insert_many(rows)
                    .on_conflict(
                        OnConflict::columns([
                            base_price::Column::ProductId,
                            base_price::Column::Currency,
                            base_price::Column::MinQuantity,
                        ])
                        .update_columns([base_price::Column::AmountMinor, base_price::Column::UpdatedAt])
                        .to_owned(),
                    )
                    .exec_without_returning(conn)
                    .await?;
            }
        }
    }
    Ok(())
}

/// PostgreSQL plans a statement with thousands of bind parameters slowly
/// (a 500-row insert took 55 ms, a tenth of a millisecond a row): here the
/// rows travel as one JSON parameter that `jsonb_to_recordset` unpacks, so
/// a statement has two parameters whatever the number of rows.
async fn apply_on_postgres(conn: &impl ConnectionTrait, table: TierTable, plan: &Plan) -> ServiceResult<()> {
    let rows: Vec<serde_json::Value> = plan
        .changes
        .values()
        .map(|t| {
            serde_json::json!({
                "id": new_id(),
                "product_id": t.product_id,
                "currency": t.money.currency().code(),
                "min_quantity": t.min_quantity,
                "max_quantity": t.max_quantity,
                "amount_minor": t.money.minor_units(),
            })
        })
        .collect();
    let (sql, list) = match table {
        TierTable::List(list_id) => (
            r#"INSERT INTO "price" ("id", "price_list_id", "product_id", "currency", "min_quantity", "max_quantity",
                   "amount_minor", "created_at", "updated_at")
               SELECT t.id, $3, t.product_id, t.currency, t.min_quantity, t.max_quantity, t.amount_minor, $2, $2
               FROM jsonb_to_recordset($1) AS t(id uuid, product_id uuid, currency text, min_quantity int,
                   max_quantity int, amount_minor bigint)
               ON CONFLICT ("price_list_id", "product_id", "currency", "min_quantity") DO UPDATE
               SET "max_quantity" = EXCLUDED."max_quantity", "amount_minor" = EXCLUDED."amount_minor",
                   "updated_at" = EXCLUDED."updated_at""#,
            Some(list_id),
        ),
        TierTable::Base => (
            r#"INSERT INTO "base_price" ("id", "product_id", "currency", "min_quantity", "amount_minor",
                   "created_at", "updated_at")
               SELECT t.id, t.product_id, t.currency, t.min_quantity, t.amount_minor, $2, $2
               FROM jsonb_to_recordset($1) AS t(id uuid, product_id uuid, currency text, min_quantity int,
                   amount_minor bigint)
               ON CONFLICT ("product_id", "currency", "min_quantity") DO UPDATE
               SET "amount_minor" = EXCLUDED."amount_minor", "updated_at" = EXCLUDED."updated_at""#,
            None,
        ),
    };
    let mut values: Vec<sea_orm::Value> = vec![serde_json::Value::Array(rows).into(), now().into()];
    values.extend(list.map(sea_orm::Value::from));
    conn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
        .await?;
    Ok(())
}

/// Plans and applies an upsert in one transaction, then invalidates what
/// changed. An upsert that changes nothing writes nothing.
pub(crate) async fn upsert(store: &Store, table: TierTable, tiers: &[Tier]) -> ServiceResult<Written> {
    let plan = plan(store.conn(), table, tiers).await?;
    if !plan.has_changes() {
        return Ok(plan.written);
    }
    let mut txn = store.begin().await?;
    apply(&*txn, table, &plan).await?;
    let offers = plan.offers();
    txn.offers_changed(&offers);
    txn.emit(match table {
        TierTable::List(list_id) => Event::prices_changed(list_id, &offers),
        TierTable::Base => Event::base_prices_changed(&offers),
    });
    txn.commit().await?;
    Ok(plan.written)
}
