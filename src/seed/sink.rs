//! Where seeded rows go, one transaction per kind of row: SeaORM's
//! multi-row `INSERT`s on SQLite, `COPY … FROM STDIN` on PostgreSQL.
//!
//! `COPY` is PostgreSQL's bulk path: no statement to parse and plan per
//! chunk, no bind parameters, rows streamed as text. It is what makes a
//! seed of ten million customers (and their fifteen million memberships)
//! practical. Each call copies one table's rows of one chunk, so memory
//! stays that of a chunk however many rows the seed makes, and the
//! foreign-key checks PostgreSQL queues per statement stay small.
//!
//! The rows are encoded from the same active models the `INSERT` path
//! binds, column by column in the entity's order, so both paths store the
//! same values: a new column needs no change here.

use std::fmt::{Display, Write};
use std::sync::Arc;

use chrono::SecondsFormat;
use sea_orm::sea_query::{OptionEnum, Value};
use sea_orm::sqlx::{self, Postgres};
use sea_orm::{
    ActiveModelTrait, DatabaseTransaction, DbBackend, DbErr, EntityName, EntityTrait, IdenStatic, Iterable, RuntimeErr,
    TransactionTrait,
};

use crate::db::Db;

/// Bind parameters one `INSERT` may carry: SQLite allows 32766, PostgreSQL
/// 65535; a statement's rows × columns stays below both.
const MAX_BIND_PARAMETERS: usize = 32_000;

/// `COPY` data sent per message: large enough that messages cost nothing,
/// small enough that the buffer does not matter.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// An open transaction that seeded rows are written into.
pub(super) enum Sink {
    /// SeaORM `INSERT`s (SQLite).
    Insert(DatabaseTransaction),
    /// `COPY … FROM STDIN` on a connection of the pool (PostgreSQL). The
    /// connection keeps the pool's settings, its `search_path` included.
    Copy(sqlx::Transaction<'static, Postgres>),
}

impl Sink {
    /// Begins a transaction on a connection of `db`'s pool.
    pub(super) async fn begin(db: &Db) -> Result<Self, DbErr> {
        match db.conn.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.conn.get_postgres_connection_pool();
                Ok(Self::Copy(pool.begin().await.map_err(sqlx_error)?))
            }
            _ => Ok(Self::Insert(db.conn.begin().await?)),
        }
    }

    pub(super) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Insert(txn) => txn.commit().await,
            Self::Copy(txn) => txn.commit().await.map_err(sqlx_error),
        }
    }

    /// Writes one table's rows.
    pub(super) async fn table<E, A>(&mut self, rows: Vec<A>) -> Result<(), DbErr>
    where
        E: EntityTrait,
        A: ActiveModelTrait<Entity = E>,
    {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Self::Insert(txn) => insert_all(txn, rows).await,
            Self::Copy(txn) => copy_all(txn, &rows).await,
        }
    }
}

/// Inserts `rows` in as few statements as the bind-parameter limit allows.
async fn insert_all<E, A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<(), DbErr>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E>,
{
    let per_statement = (MAX_BIND_PARAMETERS / E::Column::iter().count()).max(1);
    let mut rows = rows.into_iter();
    loop {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        if chunk.is_empty() {
            return Ok(());
        }
        E::insert_many(chunk).exec_without_returning(txn).await?;
    }
}

/// Copies `rows` into their table in one `COPY` statement. The table name
/// is left unqualified, so the connection's `search_path` picks the schema.
async fn copy_all<E, A>(conn: &mut sqlx::PgConnection, rows: &[A]) -> Result<(), DbErr>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E>,
{
    let columns: Vec<E::Column> = E::Column::iter().collect();
    let names: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.as_str())).collect();
    let table = E::default().table_name().to_owned();
    let statement = format!("COPY \"{table}\" ({}) FROM STDIN", names.join(", "));
    let started = std::time::Instant::now();
    let mut copy = conn.copy_in_raw(&statement).await.map_err(sqlx_error)?;
    let mut data = String::with_capacity(COPY_CHUNK_BYTES + 4096);
    let mut sent = Ok(());
    for row in rows {
        if let Err(e) = encode_row(row, &columns, &mut data) {
            sent = Err(e);
            break;
        }
        if data.len() >= COPY_CHUNK_BYTES {
            if let Err(e) = copy.send(data.as_bytes()).await {
                sent = Err(sqlx_error(e));
                break;
            }
            data.clear();
        }
    }
    if sent.is_ok() && !data.is_empty() {
        sent = copy.send(data.as_bytes()).await.map(drop).map_err(sqlx_error);
    }
    if let Err(e) = sent {
        // Leaves the connection usable for the rollback that follows.
        let _ = copy.abort(e.to_string()).await;
        return Err(e);
    }
    let copied = copy.finish().await.map_err(sqlx_error)?;
    tracing::debug!(
        target: "pricegraph::sql",
        elapsed_us = started.elapsed().as_micros() as u64,
        rows = copied,
        sql = %statement,
    );
    Ok(())
}

/// One row in `COPY`'s text format: columns separated by tabs, `\N` for
/// NULL, backslash escapes for backslashes, tabs and line breaks.
fn encode_row<A: ActiveModelTrait>(
    row: &A,
    columns: &[<A::Entity as EntityTrait>::Column],
    out: &mut String,
) -> Result<(), DbErr> {
    for (i, &column) in columns.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        let value = row.get(column).into_value().ok_or_else(|| {
            DbErr::Custom(format!(
                "COPY writes every column, and {}.{} is not set",
                A::Entity::default().table_name(),
                column.as_str()
            ))
        })?;
        encode_value(value, out)?;
    }
    out.push('\n');
    Ok(())
}

/// A value as PostgreSQL reads it back into the column's type: the same
/// text its own output would give (`t`/`f`, ISO 8601 times in UTC to the
/// microsecond, which is what `timestamptz` keeps and what sqlx binds).
fn encode_value(value: Value, out: &mut String) -> Result<(), DbErr> {
    match value {
        Value::Bool(Some(b)) => out.push(if b { 't' } else { 'f' }),
        Value::SmallInt(Some(n)) => push_display(out, n),
        Value::Int(Some(n)) => push_display(out, n),
        Value::BigInt(Some(n)) => push_display(out, n),
        Value::String(Some(s)) => escape(&s, out),
        Value::Enum(OptionEnum::Some(e)) => escape(&e.value, out),
        Value::Uuid(Some(id)) => push_display(out, id.hyphenated()),
        Value::ChronoDateTimeUtc(Some(at)) => out.push_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true)),
        Value::Json(Some(json)) => escape(&json.to_string(), out),
        other if other == other.as_null() => out.push_str("\\N"),
        other => return Err(DbErr::Custom(format!("COPY cannot encode {other:?} yet"))),
    }
    Ok(())
}

fn push_display(out: &mut String, value: impl Display) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{value}");
}

fn escape(text: &str, out: &mut String) {
    if !text.contains(['\\', '\t', '\n', '\r']) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn sqlx_error(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(value: Value) -> String {
        let mut out = String::new();
        encode_value(value, &mut out).expect("encodes");
        out
    }

    #[test]
    fn text_format_escapes_what_copy_reads_specially() {
        assert_eq!(
            encoded(Value::String(Some("a\\b\tc\nd\re".into()))),
            "a\\\\b\\tc\\nd\\re"
        );
        assert_eq!(
            encoded(Value::String(Some("Bench Customer 000001".into()))),
            "Bench Customer 000001"
        );
        assert_eq!(encoded(Value::String(None)), "\\N");
        assert_eq!(encoded(Value::Uuid(None)), "\\N");
        assert_eq!(encoded(Value::Bool(Some(false))), "f");
        assert_eq!(encoded(Value::BigInt(Some(-42))), "-42");
        let json = serde_json::json!({"note": "tab\there"});
        assert_eq!(
            encoded(Value::Json(Some(Box::new(json)))),
            "{\"note\":\"tab\\\\there\"}"
        );
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-04T05:22:18.123456789Z")
            .expect("a time")
            .to_utc();
        assert_eq!(
            encoded(Value::ChronoDateTimeUtc(Some(at))),
            "2026-12-04T05:22:18.123456Z"
        );
    }
}
