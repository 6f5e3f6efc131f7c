//! The reads behind the pricing health report (docs/api.md#pricing-health):
//! one statement per check, whatever the number of groups, lists, prices
//! or findings ([`sql`]), each answering at most `cap` findings and how
//! many there are in all. Never cached: the report is for admins who have
//! just changed something.
//!
//! What a list prices is decided in one place, [`priced`].

mod priced;
mod sql;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement, Value};
use uuid::Uuid;

use crate::error::ServiceResult;
use migration::EVERYONE_GROUP_ID;

/// An object a finding names: its id and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub id: Uuid,
    pub name: String,
}

/// The first findings of a check, and how many it found in all.
#[derive(Clone, Debug)]
pub struct Found<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// A product and currency a finding gives as an example.
#[derive(Clone, Debug)]
pub struct Example {
    pub currency: String,
    pub sku: String,
    /// `None` when the product went between the statement's reads.
    pub product_name: Option<String>,
}

/// A price list and the groups a check found it linked to.
#[derive(Clone, Debug)]
pub struct LinkedList {
    pub list: Named,
    pub ends_at: Option<DateTime<Utc>>,
    pub groups: Vec<Named>,
}

/// Two lists linked to one group at one priority that price the same
/// products and currencies: `first` is the older, tried first.
#[derive(Clone, Debug)]
pub struct Tie {
    pub group: Named,
    pub priority: i32,
    pub first: Named,
    pub second: Named,
    /// How many products and currencies both price.
    pub shared: u64,
    pub example: Option<Example>,
}

/// A price list, how many of its prices a check counted, and an example.
#[derive(Clone, Debug)]
pub struct CountedList {
    pub list: Named,
    pub prices: u64,
    pub example: Option<Example>,
}

/// A list that never wins, and what is ahead of it in each group.
#[derive(Clone, Debug)]
pub struct Outranked {
    pub list: Named,
    pub ahead: Vec<Ahead>,
}

/// An `OVERRIDE` list ahead of another in a group, pricing all it prices.
#[derive(Clone, Debug)]
pub struct Ahead {
    pub group: Named,
    pub list: Named,
    pub priority: i32,
}

/// An organization and its pricing groups.
#[derive(Clone, Debug)]
pub struct OrganizationGroups {
    pub organization: Named,
    pub groups: Vec<Named>,
}

/// How to read: the instant the report is about, and the most findings
/// per check.
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    pub now: DateTime<Utc>,
    pub cap: u64,
}

/// Active `PRICING` groups (not `Everyone`) linked to no list.
pub async fn groups_without_lists(db: &DatabaseConnection, reading: Reading) -> ServiceResult<Found<Named>> {
    named_groups(db, reading, &sql::groups_where(sql::WITHOUT_LISTS, reading.cap)).await
}

/// Active `PRICING` groups (not `Everyone`) with no members and no organizations.
pub async fn empty_groups(db: &DatabaseConnection, reading: Reading) -> ServiceResult<Found<Named>> {
    named_groups(db, reading, &sql::groups_where(sql::WITHOUT_MEMBERS, reading.cap)).await
}

async fn named_groups(db: &DatabaseConnection, reading: Reading, sql: &str) -> ServiceResult<Found<Named>> {
    let rows = query(db, sql, reading.now).await?;
    Ok(one_per_row(&rows, |row| named(row, "id", "name"))?)
}

/// Active lists that have not ended, linked to no active group; with the
/// inactive groups they are linked to.
pub async fn lists_without_active_group(db: &DatabaseConnection, reading: Reading) -> ServiceResult<Found<LinkedList>> {
    linked_lists(db, reading, &sql::without_active_group(), false).await
}

/// Lists whose window has ended, linked to an active group; with those groups.
pub async fn expired_lists_linked(db: &DatabaseConnection, reading: Reading) -> ServiceResult<Found<LinkedList>> {
    linked_lists(db, reading, &sql::expired_but_linked(), true).await
}

/// `DRAFT` lists linked to an active group; with those groups.
pub async fn draft_lists_linked(db: &DatabaseConnection, reading: Reading) -> ServiceResult<Found<LinkedList>> {
    linked_lists(db, reading, &sql::draft_but_linked(), true).await
}

async fn linked_lists(
    db: &DatabaseConnection,
    reading: Reading,
    condition: &str,
    active_groups: bool,
) -> ServiceResult<Found<LinkedList>> {
    let rows = query(
        db,
        &sql::lists_with_groups(condition, active_groups, reading.cap),
        reading.now,
    )
    .await?;
    let items = heads_with_details(
        &rows,
        |row| {
            Ok(LinkedList {
                list: named(row, "id", "name")?,
                ends_at: row.try_get("", "ends_at")?,
                groups: Vec::new(),
            })
        },
        |list| list.list.id,
        |row| optional_named(row, "group_id", "group_name"),
        |list, group| list.groups.push(group),
    )?;
    Ok(Found {
        items,
        total: total(&rows)?,
    })
}

/// Pairs of lists tied at one priority in one active group over the same
/// products and currencies.
pub async fn same_priority_ties(db: &DatabaseConnection, reading: Reading) -> ServiceResult<Found<Tie>> {
    let rows = query(db, &sql::same_priority_ties(reading.cap), reading.now).await?;
    Ok(one_per_row(&rows, |row| {
        Ok(Tie {
            group: named(row, "group_id", "group_name")?,
            priority: row.try_get("", "priority")?,
            first: named(row, "first_id", "first_name")?,
            second: named(row, "second_id", "second_name")?,
            shared: count(row, "shared")?,
            example: example(row)?,
        })
    })?)
}

/// `SALE` lists none of whose prices is below the base price.
pub async fn sales_never_below_base(db: &DatabaseConnection, reading: Reading) -> ServiceResult<Found<CountedList>> {
    counted_lists(db, reading, &sql::sales_never_below_base(reading.cap), false).await
}

/// Lists with prices in currencies in which their product has no base price.
pub async fn prices_without_base(db: &DatabaseConnection, reading: Reading) -> ServiceResult<Found<CountedList>> {
    counted_lists(db, reading, &sql::prices_without_base(reading.cap), true).await
}

/// Lists with how many of their prices a check found (and one of them).
async fn counted_lists(
    db: &DatabaseConnection,
    reading: Reading,
    sql: &str,
    with_example: bool,
) -> ServiceResult<Found<CountedList>> {
    let rows = query(db, sql, reading.now).await?;
    Ok(one_per_row(&rows, |row| {
        Ok(CountedList {
            list: named(row, "id", "name")?,
            prices: count(row, "prices")?,
            example: if with_example { example(row)? } else { None },
        })
    })?)
}

/// Lists that never win: lists ahead of them price everything they price.
pub async fn never_winning_lists(db: &DatabaseConnection, reading: Reading) -> ServiceResult<Found<Outranked>> {
    let rows = query(db, &sql::never_winning_lists(reading.cap), reading.now).await?;
    let items = heads_with_details(
        &rows,
        |row| {
            Ok(Outranked {
                list: named(row, "id", "name")?,
                ahead: Vec::new(),
            })
        },
        |outranked| outranked.list.id,
        |row| {
            Ok(Some(Ahead {
                group: named(row, "group_id", "group_name")?,
                list: named(row, "ahead_id", "ahead_name")?,
                priority: row.try_get("", "priority")?,
            }))
        },
        |outranked, ahead| outranked.ahead.push(ahead),
    )?;
    Ok(Found {
        items,
        total: total(&rows)?,
    })
}

/// Organizations whose pricing groups are all inactive; with those groups.
pub async fn organizations_with_inactive_groups(
    db: &DatabaseConnection,
    reading: Reading,
) -> ServiceResult<Found<OrganizationGroups>> {
    let rows = query(db, &sql::organizations_with_inactive_groups(reading.cap), reading.now).await?;
    let items = heads_with_details(
        &rows,
        |row| {
            Ok(OrganizationGroups {
                organization: named(row, "id", "name")?,
                groups: Vec::new(),
            })
        },
        |found| found.organization.id,
        |row| optional_named(row, "group_id", "group_name"),
        |found, group| found.groups.push(group),
    )?;
    Ok(Found {
        items,
        total: total(&rows)?,
    })
}

/// Runs `sql` with its markers bound (see [`bind`]).
async fn query(db: &DatabaseConnection, sql: &str, now: DateTime<Utc>) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all_raw(bind(db.get_database_backend(), sql, now)).await
}

/// `sql` as a statement of `backend`: each `:now` and `:everyone` becomes
/// a placeholder bound to the instant and to `Everyone`'s id (`$n` on
/// PostgreSQL, `?` elsewhere, in order).
fn bind(backend: DbBackend, sql: &str, now: DateTime<Utc>) -> Statement {
    let mut text = String::with_capacity(sql.len());
    let mut values: Vec<Value> = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find(':') {
        text.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let length = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let value = match &after[..length] {
            "now" => Some(Value::from(now)),
            "everyone" => Some(Value::from(EVERYONE_GROUP_ID)),
            _ => None,
        };
        match value {
            Some(value) => {
                values.push(value);
                match backend {
                    DbBackend::Postgres => text.push_str(&format!("${}", values.len())),
                    _ => text.push('?'),
                }
                rest = &after[length..];
            }
            None => {
                text.push(':');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    Statement::from_sql_and_values(backend, text, values)
}

/// The number of findings in all, as every row of a check carries it.
/// One finding per row, with the total every row carries.
fn one_per_row<T>(rows: &[QueryResult], item: impl Fn(&QueryResult) -> Result<T, DbErr>) -> Result<Found<T>, DbErr> {
    Ok(Found {
        items: rows.iter().map(item).collect::<Result<_, DbErr>>()?,
        total: total(rows)?,
    })
}

fn total(rows: &[QueryResult]) -> Result<u64, DbErr> {
    match rows.first() {
        Some(row) => count(row, "total"),
        None => Ok(0),
    }
}

fn count(row: &QueryResult, column: &str) -> Result<u64, DbErr> {
    let value: i64 = row.try_get("", column)?;
    Ok(u64::try_from(value).unwrap_or_default())
}

fn named(row: &QueryResult, id: &str, name: &str) -> Result<Named, DbErr> {
    Ok(Named {
        id: row.try_get("", id)?,
        name: row.try_get("", name)?,
    })
}

/// A related object of a left join: `None` when the row has none.
fn optional_named(row: &QueryResult, id: &str, name: &str) -> Result<Option<Named>, DbErr> {
    let id: Option<Uuid> = row.try_get("", id)?;
    let name: Option<String> = row.try_get("", name)?;
    Ok(id.zip(name).map(|(id, name)| Named { id, name }))
}

fn example(row: &QueryResult) -> Result<Option<Example>, DbErr> {
    let currency: Option<String> = row.try_get("", "currency")?;
    let sku: Option<String> = row.try_get("", "sku")?;
    let product_name: Option<String> = row.try_get("", "product_name")?;
    Ok(currency.zip(sku).map(|(currency, sku)| Example {
        currency,
        sku,
        product_name,
    }))
}

/// Rows ordered by their head (a finding) with one related object each,
/// folded into one head per finding, in order.
fn heads_with_details<H, D>(
    rows: &[QueryResult],
    head: impl Fn(&QueryResult) -> Result<H, DbErr>,
    id: impl Fn(&H) -> Uuid,
    detail: impl Fn(&QueryResult) -> Result<Option<D>, DbErr>,
    add: impl Fn(&mut H, D),
) -> Result<Vec<H>, DbErr> {
    let mut heads: Vec<H> = Vec::new();
    for row in rows {
        let next = head(row)?;
        if heads.last().is_none_or(|last| id(last) != id(&next)) {
            heads.push(next);
        }
        if let (Some(detail), Some(current)) = (detail(row)?, heads.last_mut()) {
            add(current, detail);
        }
    }
    Ok(heads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_become_placeholders_of_the_backend() {
        let sql = "a <= :now AND g.id <> :everyone AND b > :now AND c::text = :other";
        let now = Utc::now();
        let postgres = bind(DbBackend::Postgres, sql, now);
        assert_eq!(postgres.sql, "a <= $1 AND g.id <> $2 AND b > $3 AND c::text = :other");
        let sqlite = bind(DbBackend::Sqlite, sql, now);
        assert_eq!(sqlite.sql, "a <= ? AND g.id <> ? AND b > ? AND c::text = :other");
        assert_eq!(sqlite.values.map(|v| v.0.len()), Some(3));
    }
}
