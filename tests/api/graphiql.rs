//! GraphiQL works offline: `GET /graphql` and every file it loads come from this
//! server, and the query it opens with runs against the demo data.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use pricegraph::seed;
use serde_json::json;
use tower::ServiceExt;

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
