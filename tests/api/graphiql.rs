//! GraphiQL works offline: `GET /graphql` and every file it loads come from this
//! server (compiled in, or read from `--graphiql-assets`), and the query it
//! opens with runs against the demo data.

use std::path::Path;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use pricegraph::auth::Auth;
use pricegraph::http::{GraphiqlAssets, HttpOptions};
use pricegraph::seed;
use serde_json::json;
use tower::ServiceExt;

use crate::binary::Process;
use crate::helpers::{Backend, TestApp, on_each_backend};

/// A GET through the real router, headers included (the harness's `Response`
/// keeps only status and body).
async fn get(app: &TestApp, path: &str) -> (StatusCode, HeaderMap, Bytes) {
    let request = Request::get(path).body(Body::empty()).expect("request");
    let response = app.router.clone().oneshot(request).await.expect("router answers");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    (parts.status, parts.headers, bytes)
}

fn header_value<'a>(headers: &'a HeaderMap, name: &header::HeaderName) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ASCII header")
}

async fn graphiql_page(app: &TestApp) -> String {
    let (status, headers, body) = get(app, "/graphql").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        header_value(&headers, &header::CONTENT_TYPE).starts_with("text/html"),
        "{headers:?}"
    );
    String::from_utf8(body.to_vec()).expect("UTF-8 page")
}

/// The values of every `src="…"` and `href="…"` attribute in the page.
fn loaded_urls(page: &str) -> Vec<&str> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| page.match_indices(attribute).map(|(at, _)| at + attribute.len()))
        .map(|start| {
            let end = page[start..].find('"').expect("closing quote");
            &page[start..start + end]
        })
        .collect()
}

#[tokio::test]
async fn graphiql_page_loads_nothing_from_elsewhere() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let page = graphiql_page(&app).await;

    assert!(page.contains("<title>pricegraph</title>"), "{page}");
    for outside in [
        "http://",
        "https://",
        "//unpkg",
        "unpkg",
        "cdn",
        "jsdelivr",
        "src=\"http",
        "href=\"http",
    ] {
        assert!(
            !page.to_lowercase().contains(outside),
            "page mentions {outside:?}:\n{page}"
        );
    }
    let mut urls = loaded_urls(&page);
    urls.sort_unstable();
    assert_eq!(
        urls,
        [
            "/graphiql/graphiql.min.css",
            "/graphiql/graphiql.min.js",
            "/graphiql/react-dom.production.min.js",
            "/graphiql/react.production.min.js",
        ]
    );
}

#[tokio::test]
async fn every_file_the_page_loads_is_served_with_its_type() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let page = graphiql_page(&app).await;

    for url in loaded_urls(&page) {
        let (status, headers, body) = get(&app, url).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        let expected_type = if url.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        assert_eq!(header_value(&headers, &header::CONTENT_TYPE), expected_type, "{url}");
        assert_eq!(
            header_value(&headers, &header::CACHE_CONTROL),
            "public, max-age=86400",
            "{url}"
        );
        let name = url.trim_start_matches("/graphiql/");
        let vendored = std::fs::read(format!("{}/assets/graphiql/{name}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{name} is vendored: {e}"));
        assert!(vendored.len() > 10_000, "{name} is only {} bytes", vendored.len());
        assert!(body == vendored, "{url} differs from assets/graphiql/{name}");
    }
}

#[tokio::test]
async fn unknown_graphiql_files_are_not_found() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (status, _, _) = get(&app, "/graphiql/graphiql.min.js.map").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn default_query_runs_against_the_demo_data() {
    on_each_backend(|app| async move {
        seed::demo(&app.db).await.expect("demo loads");
        let page = graphiql_page(&app).await;
        let start = page.find("const defaultQuery = `").expect("a default query") + "const defaultQuery = `".len();
        let query = &page[start..start + page[start..].find('`').expect("closing backtick")];

        let data = app.data(query, json!({})).await;
        let groups = &data["customerGroups"];
        assert!(groups["totalCount"].as_i64().is_some_and(|n| n > 0), "{data}");
        let edges = groups["edges"].as_array().expect("edges");
        assert!(!edges.is_empty(), "{data}");
        assert!(
            edges.iter().any(|edge| edge["node"]["priceLists"]
                .as_array()
                .is_some_and(|links| !links.is_empty())),
            "no demo group has a price list: {data}"
        );
    })
    .await;
}

/// Where each file the page loads sits in `node_modules` after
/// `npm install graphiql@3.8.3 react@18.3.1 react-dom@18.3.1`.
const NPM_PATHS: [(&str, &str); 4] = [
    ("graphiql.min.css", "graphiql/graphiql.min.css"),
    ("graphiql.min.js", "graphiql/graphiql.min.js"),
    ("react.production.min.js", "react/umd/react.production.min.js"),
    (
        "react-dom.production.min.js",
        "react-dom/umd/react-dom.production.min.js",
    ),
];

/// A file's stand-in content: short, and telling where it was read from.
fn marker(layout: &str, name: &str) -> String {
    format!("/* {layout} {name} */")
}

/// Writes each `(name, relative path)` under `dir`, with its marker.
fn write_assets(dir: &Path, layout: &str, files: &[(&str, &str)]) {
    for (name, relative) in files {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, marker(layout, name)).expect("write");
    }
}

fn served_from(app: &TestApp, dir: &Path) -> TestApp {
    let assets = GraphiqlAssets::from_dir(dir).unwrap_or_else(|e| panic!("{e}"));
    app.served_with(
        Auth::open(),
        HttpOptions {
            graphiql: assets,
            ..HttpOptions::default()
        },
    )
}

/// Every file the page loads comes from the directory, marked `layout`.
async fn assert_served_from(app: &TestApp, layout: &str) {
    let page = graphiql_page(app).await;
    let urls = loaded_urls(&page);
    assert_eq!(urls.len(), 4, "{page}");
    for url in urls {
        let (status, headers, body) = get(app, url).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        let name = url.trim_start_matches("/graphiql/");
        assert_eq!(String::from_utf8_lossy(&body), marker(layout, name), "{url}");
        assert_eq!(header_value(&headers, &header::CACHE_CONTROL), "no-cache", "{url}");
        let expected_type = if url.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            header_value(&headers, &header::CONTENT_TYPE).starts_with(expected_type),
            "{url}: {headers:?}"
        );
    }
}

#[tokio::test]
async fn assets_from_a_directory_laid_out_like_the_embedded_ones() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let flat: Vec<(&str, &str)> = NPM_PATHS.iter().map(|(name, _)| (*name, *name)).collect();
    write_assets(dir.path(), "flat", &flat);

    assert_served_from(&served_from(&app, dir.path()), "flat").await;
}

#[tokio::test]
async fn assets_from_an_npm_install_its_node_modules_or_the_directory_holding_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let project = tempfile::tempdir().expect("temp dir");
    let node_modules = project.path().join("node_modules");
    write_assets(&node_modules, "npm", &NPM_PATHS);

    assert_served_from(&served_from(&app, project.path()), "npm").await;
    assert_served_from(&served_from(&app, &node_modules), "npm").await;
}

#[tokio::test]
async fn directory_assets_leave_other_files_not_found() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    write_assets(dir.path(), "npm", &NPM_PATHS);
    std::fs::write(dir.path().join("secret.txt"), "not for the web").expect("write");
    let app = served_from(&app, dir.path());

    for path in [
        "/graphiql/secret.txt",
        "/graphiql/react/umd/react.production.min.js",
        "/graphiql/../secret.txt",
        "/graphiql/graphiql.min.js.map",
    ] {
        let (status, _, _) = get(&app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[test]
fn a_directory_without_a_file_is_refused_naming_the_file_and_what_to_install() {
    // What `npm install graphiql react react-dom` gives today: React 19,
    // which publishes no UMD build.
    let dir = tempfile::tempdir().expect("temp dir");
    let without_react = [NPM_PATHS[0], NPM_PATHS[1], NPM_PATHS[3]];
    write_assets(dir.path(), "npm", &without_react);

    let error = GraphiqlAssets::from_dir(dir.path())
        .expect_err("a file is missing")
        .to_string();
    assert!(error.contains("has no react.production.min.js"), "{error}");
    assert!(error.contains("react/umd/react.production.min.js"), "{error}");
    assert!(error.contains("react@18.3.1"), "{error}");
}

#[test]
fn an_empty_file_or_a_missing_directory_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_assets(dir.path(), "npm", &NPM_PATHS);
    std::fs::write(dir.path().join("graphiql/graphiql.min.js"), "").expect("truncate");
    let error = GraphiqlAssets::from_dir(dir.path()).expect_err("empty").to_string();
    assert!(error.contains("graphiql.min.js is empty"), "{error}");

    let missing = dir.path().join("nowhere");
    let error = GraphiqlAssets::from_dir(&missing).expect_err("no dir").to_string();
    assert!(error.contains("nowhere does not exist"), "{error}");
}

#[test]
fn the_server_does_not_start_on_an_incomplete_assets_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_assets(dir.path(), "npm", &NPM_PATHS[..3]);
    let assets = dir.path().to_str().expect("UTF-8 temp path");

    let mut process = Process::start(&["serve", "--listen", "127.0.0.1:0", "--graphiql-assets", assets]);
    let status = process.wait_for_exit();

    assert!(!status.success(), "{}", process.log());
    let log = process.log();
    assert!(log.contains("has no react-dom.production.min.js"), "{log}");
    assert!(!log.contains("listening"), "{log}");
}
