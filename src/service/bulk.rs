//! Bulk import and export of prices and base prices as CSV (docs/operations.md#bulk), for
//! the `import` and `export` subcommands.
//!
//! One format both ways: `sku,currency,min_quantity,max_quantity,amount`,
//! amounts as decimal strings ("12.50"), `max_quantity` empty when open
//! (always, for base prices). An import streams: it holds one batch of rows
//! at a time, writes each batch in one transaction with the same upsert as
//! the GraphQL batch mutations ([`super::prices`]), and reports each row it
//! refuses while the valid rows still go in.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};

use entity::{base_price, price, product};
use futures_util::{Stream, TryStreamExt};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationDef,
};
use uuid::Uuid;

use super::prices::{self, TierTable, Written};
use crate::error::ServiceError;
use crate::money::{CurrencyCode, Money};
use crate::store::Store;

/// The columns of the format, in the order `export` writes them.
pub const COLUMNS: [&str; 5] = ["sku", "currency", "min_quantity", "max_quantity", "amount"];

/// Rows per batch (and transaction) unless told otherwise.
pub const DEFAULT_BATCH_ROWS: usize = 2_000;

/// Skus per lookup statement.
const SKUS_PER_STATEMENT: usize = 500;

#[derive(Clone, Copy, Debug)]
pub struct ImportOptions {
    /// Work out and report what would change, write nothing.
    pub dry_run: bool,
    /// Rows per batch; each batch is one transaction.
    pub batch_rows: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            batch_rows: DEFAULT_BATCH_ROWS,
        }
    }
}

/// A row the import refused, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file, counting the header as line 1.
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<&'static str>,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(column) => write!(f, "line {}, column {column}: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// What an import did, so far or in all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    /// What the accepted rows did (or, dry, would do).
    pub written: Written,
    /// Rows refused.
    pub refused: u64,
    /// Bytes of the input read.
    pub bytes: u64,
}

/// Hears about an import as it goes.
pub trait ImportProgress {
    /// A row was refused.
    fn refused(&mut self, error: &RowError);
    /// A batch was written (or, dry, worked out).
    fn advanced(&mut self, report: &ImportReport);
}

/// Why an import stopped. Batches before the one that failed are committed;
/// a bad header or price list stops it before anything is written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Header(String),
    #[error("reading line {line}: {source}")]
    Read { line: u64, source: csv::Error },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<DbErr> for ImportError {
    fn from(error: DbErr) -> Self {
        Self::Service(error.into())
    }
}

/// Which header column each field is in.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// `at[i]` is the record index of `COLUMNS[i]`.
    at: [usize; 5],
}

impl Layout {
    /// Columns may come in any order and in any case; each of the five
    /// exactly once, nothing else.
    fn from_header(header: &csv::StringRecord) -> Result<Self, ImportError> {
        let expected = || format!("expected the columns {}", COLUMNS.join(","));
        if header.iter().all(|h| h.trim().is_empty()) {
            return Err(ImportError::Header(format!("the file is empty; {}", expected())));
        }
        let mut at = [usize::MAX; 5];
        for (index, name) in header.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
            let Some(column) = COLUMNS.iter().position(|c| *c == name) else {
                return Err(ImportError::Header(format!(
                    "the header has an unknown column '{name}'; {}",
                    expected()
                )));
            };
            if at[column] != usize::MAX {
                return Err(ImportError::Header(format!("the header names '{name}' twice")));
            }
            at[column] = index;
        }
        let missing: Vec<&str> = COLUMNS
            .iter()
            .zip(at)
            .filter(|(_, index)| *index == usize::MAX)
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::Header(format!(
                "the header has no {} column; {}",
                missing.join(", "),
                expected()
            )));
        }
        Ok(Self { at })
    }

    fn field<'r>(&self, record: &'r csv::StringRecord, column: usize) -> &'r str {
        record.get(self.at[column]).unwrap_or_default()
    }
}

/// A row that parsed, waiting for its sku to be looked up.
#[derive(Debug)]
struct Row {
    line: u64,
    sku: String,
    money: Money,
    min_quantity: i32,
    max_quantity: Option<i32>,
}

/// Parses one record; every column at fault is reported.
fn parse_row(table: TierTable, layout: &Layout, record: &csv::StringRecord, line: u64) -> Result<Row, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut fail = |column: &'static str, reason: String| {
        errors.push(RowError {
            line,
            column: Some(column),
            reason,
        });
    };
    if record.len() != COLUMNS.len() {
        return Err(vec![RowError {
            line,
            column: None,
            reason: format!("expected {} fields, found {}", COLUMNS.len(), record.len()),
        }]);
    }
    let sku = layout.field(record, 0);
    if sku.is_empty() {
        fail("sku", "is empty".to_owned());
    }
    let currency = prices::currency(layout.field(record, 1))
        .map_err(|e| fail("currency", e.message))
        .ok();
    let min_quantity = match layout.field(record, 2) {
        "" => Some(1),
        raw => quantity(raw).map_err(|reason| fail("min_quantity", reason)).ok(),
    };
    let max_quantity = match (layout.field(record, 3), table) {
        ("", _) => Some(None),
        (_, TierTable::Base) => {
            fail(
                "max_quantity",
                "must be empty: a base price applies from its min_quantity up to the next tier".to_owned(),
            );
            None
        }
        (raw, TierTable::List(_)) => quantity(raw)
            .map(Some)
            .map_err(|reason| fail("max_quantity", reason))
            .ok(),
    };
    if let (Some(min), Some(Some(max))) = (min_quantity, max_quantity)
        && max < min
    {
        fail("max_quantity", format!("{max} is below min_quantity ({min})"));
    }
    let money = currency.and_then(|currency| {
        prices::amount(layout.field(record, 4), currency)
            .map_err(|e| fail("amount", e.message))
            .ok()
    });
    match (money, min_quantity, max_quantity) {
        (Some(money), Some(min_quantity), Some(max_quantity)) if errors.is_empty() => Ok(Row {
            line,
            sku: sku.to_owned(),
            money,
            min_quantity,
            max_quantity,
        }),
        _ => Err(errors),
    }
}

fn quantity(raw: &str) -> Result<i32, String> {
    raw.parse::<i64>()
        .map_err(|_| format!("'{}' is not a whole number", raw.chars().take(40).collect::<String>()))
        .and_then(|n| {
            crate::domain::Quantity::parse("quantity", n)
                .map(crate::domain::Quantity::get)
                .map_err(|_| format!("must be from 1 to {}, got {n}", i32::MAX))
        })
}

/// Imports a CSV of prices (into `table`) from `input`, reporting to
/// `progress` as it goes.
pub async fn import_csv(
    store: &Store,
    table: TierTable,
    input: impl Read,
    options: ImportOptions,
    progress: &mut impl ImportProgress,
) -> Result<ImportReport, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let header = reader
        .headers()
        .map_err(|source| ImportError::Read { line: 1, source })?
        .clone();
    let layout = Layout::from_header(&header)?;
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(options.batch_rows.max(1));
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, csv::Position::line);
                report.rows += 1;
                match parse_row(table, &layout, &record, line) {
                    Ok(row) => batch.push(row),
                    Err(errors) => refuse(&mut report, progress, &errors),
                }
            }
            Err(error) => {
                let line = error.position().map_or(line, csv::Position::line);
                match error.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        report.rows += 1;
                        let reason = "is not valid UTF-8".to_owned();
                        refuse(
                            &mut report,
                            progress,
                            &[RowError {
                                line,
                                column: None,
                                reason,
                            }],
                        );
                    }
                    _ => return Err(ImportError::Read { line, source: error }),
                }
            }
        }
        if batch.len() >= options.batch_rows.max(1) {
            report.bytes = reader.position().byte();
            import_batch(store, table, std::mem::take(&mut batch), options, &mut report, progress).await?;
        }
    }
    report.bytes = reader.position().byte();
    import_batch(store, table, batch, options, &mut report, progress).await?;
    Ok(report)
}

fn refuse(report: &mut ImportReport, progress: &mut impl ImportProgress, errors: &[RowError]) {
    report.refused += 1;
    for error in errors {
        progress.refused(error);
    }
}

/// Looks up the batch's skus, refuses rows whose sku names no product, and
/// upserts the rest in one transaction.
async fn import_batch(
    store: &Store,
    table: TierTable,
    batch: Vec<Row>,
    options: ImportOptions,
    report: &mut ImportReport,
    progress: &mut impl ImportProgress,
) -> Result<(), ImportError> {
    let skus: Vec<&str> = batch
        .iter()
        .map(|row| row.sku.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let products = product_ids(store.conn(), &skus).await?;
    let mut tiers = Vec::with_capacity(batch.len());
    for row in &batch {
        match products.get(&row.sku) {
            Some(product_id) => tiers.push(prices::Tier {
                product_id: *product_id,
                money: row.money,
                min_quantity: row.min_quantity,
                max_quantity: row.max_quantity,
            }),
            None => {
                let reason = format!("no product has the sku '{}'", row.sku);
                refuse(
                    report,
                    progress,
                    &[RowError {
                        line: row.line,
                        column: Some("sku"),
                        reason,
                    }],
                );
            }
        }
    }
    let written = if options.dry_run {
        prices::plan(store.conn(), table, &tiers).await?.written
    } else {
        prices::upsert(store, table, &tiers).await?
    };
    let created_before = report.written.created;
    report.written.add(written);
    if !options.dry_run && crossed_power_of_two(created_before, report.written.created) {
        refresh_statistics(store, table).await;
    }
    progress.advanced(report);
    Ok(())
}

/// Whether the rows created so far passed 2,000, 4,000, 8,000, …
fn crossed_power_of_two(before: u64, after: u64) -> bool {
    let step = |n: u64| (n / 1_000).checked_ilog2();
    after >= 2_000 && step(before) != step(after)
}

/// An import into a table whose planner statistics say it is tiny (new on
/// PostgreSQL; on SQLite, `sqlite_stat1` from a seed's `ANALYZE` taken
/// when the table held a few rows): the lookup of stored tiers is planned
/// as a scan, and every batch reads the whole table (on PostgreSQL a
/// 250,000-row import spent 21 s there; on SQLite 1,000,000 rows took 184 s
/// instead of 24). ANALYZE updates the statistics and invalidates those
/// plans; done as the rows created double, it costs a few tens of ANALYZEs
/// at most (about 0.4 s for 400,000 rows on SQLite).
async fn refresh_statistics(store: &Store, table: TierTable) {
    let name = match table {
        TierTable::List(_) => "price",
        TierTable::Base => "base_price",
    };
    if let Err(error) = store.conn().execute_unprepared(&format!("ANALYZE \"{name}\"")).await {
        tracing::warn!(%error, "could not ANALYZE {name}; the import goes on, maybe slower");
    }
}

async fn product_ids(conn: &impl ConnectionTrait, skus: &[&str]) -> Result<HashMap<String, Uuid>, DbErr> {
    let mut found = HashMap::with_capacity(skus.len());
    for chunk in skus.chunks(SKUS_PER_STATEMENT) {
        let rows: Vec<(String, Uuid)> = product::Entity::find()
            .select_only()
            .columns([product::Column::Sku, product::Column::Id])
            .filter(product::Column::Sku.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Writes `table` as CSV, ordered by sku, currency and min_quantity, one
/// row at a time from a database cursor. Returns the rows written.
pub async fn export_csv(store: &Store, table: TierTable, output: impl Write) -> Result<u64, ExportError> {
    let mut writer = csv::Writer::from_writer(output);
    writer.write_record(COLUMNS)?;
    let mut rows = match table {
        TierTable::List(list_id) => Box::pin(
            price::Entity::find()
                .select_only()
                .column(product::Column::Sku)
                .columns([
                    price::Column::Currency,
                    price::Column::MinQuantity,
                    price::Column::MaxQuantity,
                    price::Column::AmountMinor,
                ])
                .join(JoinType::InnerJoin, price_product())
                .filter(price::Column::PriceListId.eq(list_id))
                .order_by_asc(product::Column::Sku)
                .order_by_asc(price::Column::Currency)
                .order_by_asc(price::Column::MinQuantity)
                .into_tuple::<(String, String, i32, Option<i32>, i64)>()
                .stream(store.conn())
                .await?,
        )
            as std::pin::Pin<Box<dyn Stream<Item = Result<ExportRow, DbErr>> + Send + '_>>,
        TierTable::Base => Box::pin(
            base_price::Entity::find()
                .select_only()
                .column(product::Column::Sku)
                .columns([
                    base_price::Column::Currency,
                    base_price::Column::MinQuantity,
                    base_price::Column::AmountMinor,
                ])
                .join(JoinType::InnerJoin, base_price_product())
                .order_by_asc(product::Column::Sku)
                .order_by_asc(base_price::Column::Currency)
                .order_by_asc(base_price::Column::MinQuantity)
                .into_tuple::<(String, String, i32, i64)>()
                .stream(store.conn())
                .await?
                .map_ok(|(sku, currency, min, amount)| (sku, currency, min, None, amount)),
        ),
    };
    let mut count = 0;
    while let Some((sku, currency, min, max, amount_minor)) = rows.try_next().await? {
        let amount = CurrencyCode::parse(&currency)
            .ok()
            .and_then(|c| Money::from_minor_units(amount_minor, c).ok())
            .map_or_else(|| amount_minor.to_string(), |m| m.to_string());
        let max = max.map(|m| m.to_string()).unwrap_or_default();
        writer.write_record([sku.as_str(), &currency, &min.to_string(), &max, &amount])?;
        count += 1;
    }
    writer.flush()?;
    Ok(count)
}

/// sku, currency, min_quantity, max_quantity, amount in minor units.
type ExportRow = (String, String, i32, Option<i32>, i64);

fn price_product() -> RelationDef {
    price::Entity::belongs_to(product::Entity)
        .from(price::Column::ProductId)
        .to(product::Column::Id)
        .into()
}

fn base_price_product() -> RelationDef {
    base_price::Entity::belongs_to(product::Entity)
        .from(base_price::Column::ProductId)
        .to(product::Column::Id)
        .into()
}

impl ExportError {
    pub fn is_broken_pipe(&self) -> bool {
        let io = match self {
            Self::Write(error) => Some(error),
            Self::Csv(error) => match error.kind() {
                csv::ErrorKind::Io(error) => Some(error),
                _ => None,
            },
            Self::Database(_) => None,
        };
        io.is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the file: {0}")]
    Write(#[from] std::io::Error),
    #[error("writing the file: {0}")]
    Csv(#[from] csv::Error),
    #[error("reading the database: {0}")]
    Database(#[from] DbErr),
}
