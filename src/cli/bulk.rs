//! `import` and `export`: the CSV side of [`crate::service::bulk`], with
//! progress on the terminal and the exit codes scripts test for.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{ExportArgs, ImportArgs, PriceTable};
use crate::error::ServiceError;
use crate::service::bulk::{self, ImportError, ImportOptions, ImportProgress, ImportReport, RowError};
use crate::service::prices::{TierTable, Written};
use crate::store::Store;

/// The exit code of an import that refused rows (the others went in).
pub const ROWS_REFUSED: u8 = 3;

/// Plain progress lines at most this often when not on a terminal.
const LINE_EVERY: Duration = Duration::from_secs(2);

pub async fn import(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let (input, size): (Box<dyn std::io::Read>, Option<u64>) = if args.file.as_os_str() == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file = std::fs::File::open(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(std::io::BufReader::with_capacity(1 << 16, file)), size)
    };
    let store = super::connect_existing(&args.database).await?;
    let table = table(&store, args.table, args.price_list.as_deref()).await?;
    let options = ImportOptions {
        dry_run: args.dry_run,
        batch_rows: usize::try_from(args.batch_rows).unwrap_or(bulk::DEFAULT_BATCH_ROWS),
    };
    let mut progress = Progress::new(size);
    let result = bulk::import_csv(&store, table, input, options, &mut progress).await;
    progress.finish();
    let report = match result {
        Ok(report) => report,
        Err(ImportError::Header(message)) => anyhow::bail!("{}: {message}; nothing was imported", args.file.display()),
        Err(error) => {
            let done = progress.last;
            anyhow::bail!(
                "{}: the import stopped: {error}; the {} rows before were {}",
                args.file.display(),
                done.rows,
                if args.dry_run { "checked" } else { "committed" }
            )
        }
    };
    println!("{}", summary(&report, args.dry_run));
    Ok(if report.refused > 0 {
        ExitCode::from(ROWS_REFUSED)
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let store = super::connect_existing(&args.database).await?;
    let table = table(&store, args.table, args.price_list.as_deref()).await?;
    let rows = if args.output.as_os_str() == "-" {
        let stdout = std::io::stdout().lock();
        match bulk::export_csv(&store, table, std::io::BufWriter::new(stdout)).await {
            Ok(rows) => rows,
            // `pricegraph export … | head` is not a failure.
            Err(error) if error.is_broken_pipe() => return Ok(ExitCode::SUCCESS),
            Err(error) => anyhow::bail!("{error}"),
        }
    } else {
        // Written beside the target and renamed, so a failed export never
        // leaves half a file where a whole one is expected.
        let partial = args.output.with_extension("partial");
        let file = std::fs::File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
        let written = bulk::export_csv(&store, table, std::io::BufWriter::new(file)).await;
        let rows = match written {
            Ok(rows) => rows,
            Err(error) => {
                let _ = std::fs::remove_file(&partial);
                anyhow::bail!("{error}");
            }
        };
        std::fs::rename(&partial, &args.output).with_context(|| format!("cannot write {}", args.output.display()))?;
        rows
    };
    eprintln!("exported {rows} rows");
    Ok(ExitCode::SUCCESS)
}

/// The table a command works on; a price list must exist.
async fn table(store: &Store, table: PriceTable, price_list: Option<&str>) -> anyhow::Result<TierTable> {
    match (table, price_list) {
        (PriceTable::Prices, None) => anyhow::bail!("prices need --price-list ID"),
        (PriceTable::BasePrices, Some(_)) => {
            anyhow::bail!("base prices belong to no price list: drop --price-list")
        }
        (PriceTable::BasePrices, None) => Ok(TierTable::Base),
        (PriceTable::Prices, Some(raw)) => {
            match crate::service::price_lists::existing(store.conn(), &["priceList"], raw).await {
                Ok(list) => Ok(TierTable::List(list.id)),
                Err(ServiceError::Invalid(errors)) => {
                    let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
                    anyhow::bail!("--price-list: {}", messages.join("; "))
                }
                Err(error) => Err(error.into()),
            }
        }
    }
}

fn summary(report: &ImportReport, dry_run: bool) -> String {
    let Written {
        created,
        updated,
        unchanged,
    } = report.written;
    let refused = report.refused;
    let rows = report.rows;
    if dry_run {
        format!(
            "dry run, nothing written: {rows} rows; would create {created}, update {updated}, leave {unchanged} \
             unchanged; {refused} refused"
        )
    } else {
        format!("{rows} rows: {created} created, {updated} updated, {unchanged} unchanged, {refused} refused")
    }
}

/// A bar on a terminal, plain lines otherwise; refused rows always go to
/// standard error, one line each.
struct Progress {
    bar: Option<ProgressBar>,
    /// When the last plain line went out; the first goes out at once.
    last_line: Option<Instant>,
    last: ImportReport,
}

impl Progress {
    fn new(size: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = size.map_or_else(ProgressBar::new_spinner, ProgressBar::new);
            let template = if size.is_some() {
                "{bar:30} {bytes}/{total_bytes} ({eta}) {msg}"
            } else {
                "{spinner} {bytes} {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        Self {
            bar,
            last_line: None,
            last: ImportReport::default(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn counts(report: &ImportReport) -> String {
    let w = report.written;
    format!(
        "{} rows: {} created, {} updated, {} unchanged, {} refused",
        report.rows, w.created, w.updated, w.unchanged, report.refused
    )
}

impl ImportProgress for Progress {
    fn refused(&mut self, error: &RowError) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{error}")),
            None => eprintln!("{error}"),
        }
    }

    fn advanced(&mut self, report: &ImportReport) {
        self.last = *report;
        match &self.bar {
            Some(bar) => {
                bar.set_position(report.bytes);
                bar.set_message(counts(report));
            }
            None if self.last_line.is_none_or(|at| at.elapsed() >= LINE_EVERY) => {
                self.last_line = Some(Instant::now());
                let _ = writeln!(std::io::stderr(), "progress: {}", counts(report));
            }
            None => {}
        }
    }
}
