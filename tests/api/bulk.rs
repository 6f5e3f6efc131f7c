//! Bulk import and export (`pricegraph import` / `export`): the service on
//! every backend, and the real binary for what a script sees (exit codes,
//! messages, files).

use std::process::{Command, Output};

use pricegraph::service::bulk::{self, ImportOptions, ImportProgress, ImportReport, RowError};
use pricegraph::service::prices::{TierTable, Written};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{UPSERT_PRICES, customer, price_list, product};
use crate::helpers::{TestApp, on_each_backend};

const HEADER: &str = "sku,currency,min_quantity,max_quantity,amount\n";

/// Collects what an import reports.
#[derive(Default)]
struct Heard {
    refused: Vec<RowError>,
    batches: usize,
}

impl ImportProgress for Heard {
    fn refused(&mut self, error: &RowError) {
        self.refused.push(error.clone());
    }
    fn advanced(&mut self, _report: &ImportReport) {
        self.batches += 1;
    }
}

async fn import(app: &TestApp, table: TierTable, csv: &str, options: ImportOptions) -> (ImportReport, Heard) {
    let mut heard = Heard::default();
    let report = bulk::import_csv(&app.store, table, csv.as_bytes(), options, &mut heard)
        .await
        .expect("the import runs");
    (report, heard)
}

async fn export(app: &TestApp, table: TierTable) -> String {
    let mut out = Vec::new();
    bulk::export_csv(&app.store, table, &mut out)
        .await
        .expect("the export runs");
    String::from_utf8(out).expect("UTF-8")
}

fn list(id: &str) -> TierTable {
    TierTable::List(Uuid::parse_str(id).expect("a list id"))
}

fn written(created: u64, updated: u64, unchanged: u64) -> Written {
    Written {
        created,
        updated,
        unchanged,
    }
}

/// The list's prices as GraphQL shows them: (sku-less) "currency min..max amount".
async fn shown_prices(app: &TestApp, list_id: &str) -> Vec<String> {
    let data = app
        .data(
            "query($id: ID!) { priceList(id: $id) { prices(first: 100) { edges { node {
                product { sku } amount { amount currencyCode } minQuantity maxQuantity } } } } }",
            json!({ "id": list_id }),
        )
        .await;
    let mut shown: Vec<String> = data["priceList"]["prices"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            format!(
                "{} {} {}..{} {}",
                node["product"]["sku"].as_str().unwrap_or("?"),
                node["amount"]["currencyCode"].as_str().unwrap_or("?"),
                node["minQuantity"],
                node["maxQuantity"],
                node["amount"]["amount"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    shown.sort();
    shown
}

#[tokio::test]
async fn an_import_writes_what_graphql_then_shows_and_exports_the_same_file() {
    on_each_backend(|app| async move {
        product(&app, "MUG-1", json!({})).await;
        product(&app, "MUG-2", json!({})).await;
        let list_id = price_list(&app, "Spring", json!({})).await;
        let file = format!("{HEADER}MUG-1,USD,1,9,12.50\nMUG-1,USD,10,,11\nMUG-2,EUR,1,,7.05\nMUG-2,JPY,5,,1200\n");
        let (report, heard) = import(&app, list(&list_id), &file, ImportOptions::default()).await;
        assert_eq!(heard.refused, vec![]);
        assert_eq!((report.rows, report.written, report.refused), (4, written(4, 0, 0), 0));
        assert_eq!(
            shown_prices(&app, &list_id).await,
            [
                "MUG-1 USD 1..9 12.50",
                "MUG-1 USD 10..null 11.00",
                "MUG-2 EUR 1..null 7.05",
                "MUG-2 JPY 5..null 1200"
            ]
        );
        let exported = export(&app, list(&list_id)).await;
        assert_eq!(
            exported,
            format!("{HEADER}MUG-1,USD,1,9,12.50\nMUG-1,USD,10,,11.00\nMUG-2,EUR,1,,7.05\nMUG-2,JPY,5,,1200\n")
        );
        // The export imports as is, and changes nothing.
        let (again, _) = import(&app, list(&list_id), &exported, ImportOptions::default()).await;
        assert_eq!(again.written, written(0, 0, 4));
        // Idempotent: importing the same file twice writes nothing the second time.
        let (statements, (twice, _)) = app
            .count_statements(import(&app, list(&list_id), &file, ImportOptions::default()))
            .await;
        assert_eq!(twice.written, written(0, 0, 4));
        assert_eq!(
            statements, 2,
            "an unchanged batch only reads: its skus and its stored tiers"
        );
    })
    .await;
}

#[tokio::test]
async fn an_import_updates_changed_tiers_and_leaves_the_rest_alone() {
    on_each_backend(|app| async move {
        product(&app, "MUG-1", json!({})).await;
        let list_id = price_list(&app, "Spring", json!({})).await;
        let first = format!("{HEADER}MUG-1,USD,1,,10.00\nMUG-1,USD,10,,9.00\nMUG-1,EUR,1,,8.00\n");
        import(&app, list(&list_id), &first, ImportOptions::default()).await;
        // Same tiers: one new amount, one new bound, one as before, one new tier.
        let second = format!("{HEADER}MUG-1,USD,1,,10.50\nMUG-1,USD,10,99,9.00\nMUG-1,EUR,1,,8\nMUG-1,EUR,5,,7\n");
        let (report, _) = import(&app, list(&list_id), &second, ImportOptions::default()).await;
        assert_eq!(report.written, written(1, 2, 1));
        assert_eq!(
            shown_prices(&app, &list_id).await,
            [
                "MUG-1 EUR 1..null 8.00",
                "MUG-1 EUR 5..null 7.00",
                "MUG-1 USD 1..null 10.50",
                "MUG-1 USD 10..99 9.00"
            ]
        );
        // The upsert never deletes: tiers missing from a file stay.
        let third = format!("{HEADER}MUG-1,USD,1,,10.50\n");
        let (report, _) = import(&app, list(&list_id), &third, ImportOptions::default()).await;
        assert_eq!(report.written, written(0, 0, 1));
        assert_eq!(shown_prices(&app, &list_id).await.len(), 4);
    })
    .await;
}

#[tokio::test]
async fn a_tier_given_twice_counts_against_the_one_before_and_the_last_wins() {
    on_each_backend(|app| async move {
        product(&app, "MUG-1", json!({})).await;
        let list_id = price_list(&app, "Spring", json!({})).await;
        let file = format!("{HEADER}MUG-1,USD,1,,1.00\nMUG-1,USD,1,,2.00\nMUG-1,USD,1,,2.00\nMUG-1,USD,1,,3.00\n");
        for batch_rows in [1, 2, 1000] {
            let options = ImportOptions {
                batch_rows,
                ..ImportOptions::default()
            };
            let (report, heard) = import(&app, list(&list_id), &format!("{HEADER}MUG-1,USD,1,,0.50\n"), options).await;
            assert!(heard.refused.is_empty());
            assert!(report.written.created + report.written.updated == 1);
            let (report, heard) = import(&app, list(&list_id), &file, options).await;
            assert_eq!(report.written, written(0, 3, 1), "batches of {batch_rows}");
            // A batch each time one fills, and the last (maybe empty) one.
            assert_eq!(heard.batches, 4 / batch_rows + 1);
            assert_eq!(shown_prices(&app, &list_id).await, ["MUG-1 USD 1..null 3.00"]);
        }
    })
    .await;
}

#[tokio::test]
async fn refused_rows_are_reported_by_line_and_column_and_the_rest_import() {
    on_each_backend(|app| async move {
        product(&app, "MUG-1", json!({})).await;
        let list_id = price_list(&app, "Spring", json!({})).await;
        // (row, column at fault, a word of the reason)
        let bad: &[(&str, Option<&str>, &str)] = &[
            ("MUG-1,XYZ,1,,1.00", Some("currency"), "ISO 4217"),
            ("MUG-1,US,1,,1.00", Some("currency"), "ISO 4217"),
            ("MUG-1,USD,1,,abc", Some("amount"), "decimal"),
            ("MUG-1,USD,1,,1.005", Some("amount"), "decimal places"),
            ("MUG-1,USD,1,,", Some("amount"), "decimal"),
            ("MUG-1,USD,1,,-1.00", Some("amount"), "negative"),
            ("MUG-1,USD,0,,1.00", Some("min_quantity"), "from 1"),
            ("MUG-1,USD,x,,1.00", Some("min_quantity"), "whole number"),
            ("MUG-1,USD,99999999999,,1.00", Some("min_quantity"), "from 1"),
            ("MUG-1,USD,10,5,1.00", Some("max_quantity"), "below min_quantity"),
            ("MUG-1,USD,2,-3,1.00", Some("max_quantity"), "from 1"),
            ("NOPE-9,USD,1,,1.00", Some("sku"), "no product has the sku 'NOPE-9'"),
            (",USD,1,,1.00", Some("sku"), "empty"),
            ("MUG-1,USD,1", None, "expected 5 fields, found 3"),
            ("MUG-1,USD,1,,1.00,extra", None, "expected 5 fields, found 6"),
        ];
        let mut file = String::from(HEADER);
        for (row, _, _) in bad {
            file.push_str(row);
            file.push('\n');
        }
        file.push_str("MUG-1,USD,1,,4.20\n");
        let (report, heard) = import(&app, list(&list_id), &file, ImportOptions::default()).await;
        assert_eq!(report.rows, bad.len() as u64 + 1);
        assert_eq!(report.refused, bad.len() as u64);
        assert_eq!(report.written, written(1, 0, 0));
        for (index, (row, column, reason)) in bad.iter().enumerate() {
            let line = index as u64 + 2;
            let found = heard.refused.iter().find(|e| e.line == line);
            let found = found.unwrap_or_else(|| panic!("line {line} ({row}) was not reported: {:?}", heard.refused));
            assert_eq!(found.column, *column, "line {line} ({row}): {found}");
            assert!(found.reason.contains(reason), "line {line} ({row}): {found}");
        }
        assert_eq!(shown_prices(&app, &list_id).await, ["MUG-1 USD 1..null 4.20"]);
    })
    .await;
}

#[tokio::test]
async fn base_prices_import_and_export_without_max_quantity() {
    on_each_backend(|app| async move {
        let mug = product(&app, "MUG-1", json!({})).await;
        let shopper = customer(&app, "shopper@example.com", json!({})).await;
        let pays = |quantity: i32| {
            let app = app.clone();
            let (mug, shopper) = (mug.clone(), shopper.clone());
            async move {
                let data = app
                    .data(
                        "query($c: ID, $p: ID!, $q: Int) { resolvedPrice(customerId: $c, productId: $p,
                            currency: \"USD\", quantity: $q) { amount { amount } } }",
                        json!({ "c": shopper, "p": mug, "q": quantity }),
                    )
                    .await;
                data["resolvedPrice"]["amount"]["amount"].clone()
            }
        };
        let file = format!("{HEADER}MUG-1,USD,1,,5.00\nMUG-1,USD,10,,4.50\nMUG-1,USD,20,30,4.00\n");
        let (report, heard) = import(&app, TierTable::Base, &file, ImportOptions::default()).await;
        assert_eq!(report.written, written(2, 0, 0));
        assert_eq!(heard.refused.len(), 1);
        assert_eq!(
            (heard.refused[0].line, heard.refused[0].column),
            (4, Some("max_quantity"))
        );
        assert_eq!(pays(12).await, json!("4.50"));
        assert_eq!(
            export(&app, TierTable::Base).await,
            format!("{HEADER}MUG-1,USD,1,,5.00\nMUG-1,USD,10,,4.50\n")
        );
        // A new amount shows at once: the import invalidates the cached offer.
        let (report, _) = import(
            &app,
            TierTable::Base,
            &format!("{HEADER}MUG-1,USD,10,,3.99\n"),
            ImportOptions::default(),
        )
        .await;
        assert_eq!(report.written, written(0, 1, 0));
        assert_eq!(pays(12).await, json!("3.99"));
    })
    .await;
}

#[tokio::test]
async fn a_dry_run_reports_what_a_real_run_then_does_and_writes_nothing() {
    on_each_backend(|app| async move {
        product(&app, "MUG-1", json!({})).await;
        let list_id = price_list(&app, "Spring", json!({})).await;
        import(
            &app,
            list(&list_id),
            &format!("{HEADER}MUG-1,USD,1,,1.00\nMUG-1,USD,5,,0.90\n"),
            ImportOptions::default(),
        )
        .await;
        let before = shown_prices(&app, &list_id).await;
        let file = format!("{HEADER}MUG-1,USD,1,,1.00\nMUG-1,USD,5,,0.80\nMUG-1,USD,9,,0.70\nNOPE,USD,1,,1\n");
        let dry = ImportOptions {
            dry_run: true,
            ..ImportOptions::default()
        };
        let (planned, heard) = import(&app, list(&list_id), &file, dry).await;
        assert_eq!((planned.written, planned.refused), (written(1, 1, 1), 1));
        assert_eq!(heard.refused.len(), 1);
        assert_eq!(shown_prices(&app, &list_id).await, before);
        let (done, _) = import(&app, list(&list_id), &file, ImportOptions::default()).await;
        assert_eq!(done, planned);
        assert_ne!(shown_prices(&app, &list_id).await, before);
    })
    .await;
}

#[tokio::test]
async fn a_wrong_header_stops_the_import_before_anything_is_written() {
    on_each_backend(|app| async move {
        product(&app, "MUG-1", json!({})).await;
        let list_id = price_list(&app, "Spring", json!({})).await;
        let cases = [
            ("", "empty"),
            ("sku,currency,min_quantity,amount\n", "no max_quantity column"),
            (
                "sku,currency,min_quantity,max_quantity,amount,note\n",
                "unknown column 'note'",
            ),
            ("sku,sku,currency,min_quantity,max_quantity,amount\n", "'sku' twice"),
            ("MUG-1,USD,1,,1.00\n", "unknown column 'mug-1'"),
        ];
        for (header, says) in cases {
            let file = if header.is_empty() {
                String::new()
            } else {
                format!("{header}MUG-1,USD,1,,1.00\n")
            };
            let mut heard = Heard::default();
            let error = bulk::import_csv(
                &app.store,
                list(&list_id),
                file.as_bytes(),
                ImportOptions::default(),
                &mut heard,
            )
            .await
            .expect_err("a bad header stops the import");
            assert!(error.to_string().contains(says), "{header:?}: {error}");
            assert!(
                error.to_string().contains("expected") || says.contains("twice"),
                "{error}"
            );
        }
        assert!(shown_prices(&app, &list_id).await.is_empty());
        // Columns may come in any order and case.
        let file = "Amount,SKU,currency,max_quantity,min_quantity\n2.00,MUG-1,USD,,1\n";
        let (report, _) = import(&app, list(&list_id), file, ImportOptions::default()).await;
        assert_eq!(report.written, written(1, 0, 0));
    })
    .await;
}

#[tokio::test]
async fn statements_per_import_grow_with_batches_not_rows() {
    on_each_backend(|app| async move {
        let mut file = String::from(HEADER);
        for n in 0..40 {
            product(&app, &format!("P-{n}"), json!({})).await;
            for tier in 1..=25 {
                file.push_str(&format!("P-{n},USD,{tier},,{}.00\n", 100 - tier));
            }
        }
        let list_id = price_list(&app, "Big", json!({})).await;
        let small = format!("{HEADER}P-0,USD,1,,1.00\n");
        let (small_statements, _) = app
            .count_statements(import(&app, list(&list_id), &small, ImportOptions::default()))
            .await;
        // 1,000 rows in one batch.
        let (big_statements, (report, _)) = app
            .count_statements(import(&app, list(&list_id), &file, ImportOptions::default()))
            .await;
        assert_eq!(report.written.total(), 1000);
        assert_eq!(
            small_statements, 7,
            "skus, stored tiers, insert, the change log's position and row, the webhook endpoints and \
             the outbox's events (BEGIN and COMMIT are not counted)"
        );
        // SQLite inserts 500 rows per statement; PostgreSQL takes a batch in one.
        let more_inserts = match app.backend {
            crate::helpers::Backend::Sqlite => 1,
            crate::helpers::Backend::Postgres => 0,
        };
        assert_eq!(big_statements, small_statements + more_inserts);
    })
    .await;
}

#[tokio::test]
async fn the_graphql_upsert_reports_the_same_summary() {
    on_each_backend(|app| async move {
        let mug = product(&app, "MUG-1", json!({})).await;
        let list_id = price_list(&app, "Spring", json!({})).await;
        let upsert = |prices: Value| {
            let app = app.clone();
            let list_id = list_id.clone();
            async move {
                let query = UPSERT_PRICES.replace("userErrors", "summary { created updated unchanged } userErrors");
                let payload = app
                    .mutate(
                        "upsertPrices",
                        &query,
                        json!({ "input": { "priceListId": list_id, "prices": prices } }),
                    )
                    .await;
                payload["summary"].clone()
            }
        };
        let tier = |min: i32, amount: &str| json!({ "productId": mug, "currency": "USD", "minQuantity": min, "amount": amount });
        assert_eq!(
            upsert(json!([tier(1, "2.00"), tier(10, "1.80")])).await,
            json!({ "created": 2, "updated": 0, "unchanged": 0 })
        );
        assert_eq!(
            upsert(json!([tier(1, "2.00"), tier(10, "1.70")])).await,
            json!({ "created": 0, "updated": 1, "unchanged": 1 })
        );
        // The CLI's import sees the same state.
        let (report, _) = import(
            &app,
            list(&list_id),
            &format!("{HEADER}MUG-1,USD,1,,2.00\nMUG-1,USD,10,,1.70\n"),
            ImportOptions::default(),
        )
        .await;
        assert_eq!(report.written, written(0, 0, 2));
    })
    .await;
}

// The binary, as a script runs it.

fn pricegraph(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pricegraph"))
        .args(args)
        .env("DATABASE_URL", app.database_url())
        .env("RUST_LOG", "warn")
        .env_remove("REDIS_URL")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn the_binary_exits_0_3_or_1_and_says_why() {
    on_each_backend(|app| async move {
        product(&app, "MUG-1", json!({})).await;
        let list_id = price_list(&app, "Spring", json!({})).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name).display().to_string();
        std::fs::write(path("good.csv"), format!("{HEADER}MUG-1,USD,1,,1.00\n")).expect("write");
        std::fs::write(
            path("mixed.csv"),
            format!("{HEADER}MUG-1,USD,5,,0.90\nMUG-1,XYZ,1,,1\nNOPE,USD,1,,1\n"),
        )
        .expect("write");
        std::fs::write(path("header.csv"), "sku;currency\nMUG-1,USD,9,,0.10\n").expect("write");

        let dry = pricegraph(
            &app,
            &[
                "import",
                "prices",
                &path("good.csv"),
                "--price-list",
                &list_id,
                "--dry-run",
            ],
        );
        assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
        assert!(
            text(&dry.stdout).contains("dry run, nothing written: 1 rows; would create 1"),
            "{}",
            text(&dry.stdout)
        );
        assert!(shown_prices(&app, &list_id).await.is_empty());

        let good = pricegraph(&app, &["import", "prices", &path("good.csv"), "--price-list", &list_id]);
        assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
        assert_eq!(
            text(&good.stdout),
            "1 rows: 1 created, 0 updated, 0 unchanged, 0 refused\n"
        );
        assert!(
            text(&good.stderr).contains("progress: 1 rows"),
            "plain progress off a terminal: {}",
            text(&good.stderr)
        );

        let mixed = pricegraph(
            &app,
            &["import", "prices", &path("mixed.csv"), "--price-list", &list_id],
        );
        assert_eq!(mixed.status.code(), Some(3), "rows were refused");
        let stderr = text(&mixed.stderr);
        assert!(
            stderr.contains("line 3, column currency: 'XYZ' is not an ISO 4217 currency code"),
            "{stderr}"
        );
        assert!(
            stderr.contains("line 4, column sku: no product has the sku 'NOPE'"),
            "{stderr}"
        );
        assert_eq!(
            text(&mixed.stdout),
            "3 rows: 1 created, 0 updated, 0 unchanged, 2 refused\n"
        );

        // Fatal: one line, exit 1, nothing written.
        let before = shown_prices(&app, &list_id).await;
        let (missing, header, good) = (path("missing.csv"), path("header.csv"), path("good.csv"));
        let fatal = [
            (
                vec!["import", "prices", &missing, "--price-list", &list_id],
                "cannot read",
            ),
            (
                vec!["import", "prices", &header, "--price-list", &list_id],
                "unknown column",
            ),
            (vec!["import", "prices", &good, "--price-list", "nope"], "--price-list"),
            (vec!["import", "prices", &good], "--price-list ID"),
            (
                vec!["import", "base-prices", &good, "--price-list", &list_id],
                "drop --price-list",
            ),
        ];
        for (args, says) in fatal {
            let out = pricegraph(&app, &args);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
            assert!(
                stderr.starts_with("pricegraph: ") && stderr.contains(says),
                "{args:?}: {stderr}"
            );
        }
        assert_eq!(shown_prices(&app, &list_id).await, before);

        // export → file → import: nothing changes.
        let out = pricegraph(
            &app,
            &["export", "prices", "--price-list", &list_id, "-o", &path("out.csv")],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let exported = std::fs::read_to_string(path("out.csv")).expect("the export is written");
        assert_eq!(exported, format!("{HEADER}MUG-1,USD,1,,1.00\nMUG-1,USD,5,,0.90\n"));
        let again = pricegraph(&app, &["import", "prices", &path("out.csv"), "--price-list", &list_id]);
        assert_eq!(
            text(&again.stdout),
            "2 rows: 0 created, 0 updated, 2 unchanged, 0 refused\n"
        );
    })
    .await;
}

#[test]
fn the_binary_does_not_create_a_missing_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("typo.db");
    let file = dir.path().join("prices.csv");
    std::fs::write(&file, format!("{HEADER}MUG-1,USD,1,,1.00\n")).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_pricegraph"))
        .args(["import", "base-prices", &file.display().to_string()])
        .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", db.display()))
        .output()
        .expect("the binary runs");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("pricegraph: cannot open the database"), "{stderr}");
    assert!(!db.exists(), "no empty database is left behind");
}

/// The planner's idea of how many price rows there are.
async fn price_rows_in_statistics(app: &TestApp) -> f64 {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let conn = &app.db.conn;
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'price'::regclass".to_owned(),
        // The first number of an index's `stat` is the table's row count.
        _ => "SELECT CAST(substr(stat, 1, instr(stat || ' ', ' ') - 1) AS REAL) AS n FROM sqlite_stat1 \
              WHERE tbl = 'price' ORDER BY n DESC LIMIT 1"
            .to_owned(),
    };
    match conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .expect("the query runs")
    {
        Some(row) => row.try_get("", "n").expect("a number"),
        None => 0.0,
    }
}

/// An import that makes a table many times larger than its planner
/// statistics say (as after a seed's `ANALYZE` of a few rows) refreshes
/// them on the way: stale ones made SQLite scan the table in every batch
/// (1,000,000 rows in 184 s instead of 24).
#[tokio::test]
async fn an_import_refreshes_planner_statistics_as_the_table_grows() {
    use sea_orm::ConnectionTrait;
    on_each_backend(|app| async move {
        let list_id = price_list(&app, "Big", json!({})).await;
        product(&app, "P-1", json!({})).await;
        app.db.conn.execute_unprepared("ANALYZE price").await.expect("ANALYZE");
        let before = price_rows_in_statistics(&app).await;
        assert!(before < 10.0, "[{:?}] {before} rows believed before", app.backend);
        // 5,000 tiers of one product: quantity breaks 1, 2, 3, …
        let mut file = String::from(HEADER);
        for n in 1..=5_000 {
            let high = if n == 5_000 { String::new() } else { n.to_string() };
            file.push_str(&format!("P-1,USD,{n},{high},{}.00\n", 10_000 - n));
        }
        let (report, heard) = import(&app, list(&list_id), &file, ImportOptions::default()).await;
        assert!(heard.refused.is_empty(), "{:?}", heard.refused);
        assert_eq!(report.written, written(5_000, 0, 0));
        let after = price_rows_in_statistics(&app).await;
        assert!(
            after >= 4_000.0,
            "[{:?}] the statistics still believe {after} rows after 5,000 were imported",
            app.backend
        );
    })
    .await;
}
