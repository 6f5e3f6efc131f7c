//! A fuzz target on the GraphQL request path (issue 5): arbitrary bodies,
//! content types, methods, batches and mangled queries, documents nested
//! hundreds of levels deep, thousands of aliases and deeply nested
//! variables (the adversary issue), against the real router on the demo
//! data, as admin so that mutations run too. Whatever
//! comes in, the server answers without a panic, never with a 5xx, and no
//! answer leaks a database detail.
//!
//! A few hundred cases run with the suite; run it longer with
//! `PROPTEST_CASES=100000 cargo test --test api fuzz`, and replay a failure
//! with the printed `PROPTEST_RNG_SEED`.

use axum::body::Body;
use axum::http::{Method, Request, header};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

use crate::helpers::{Backend, TestApp, proptest_config};

/// Words a query is made of: every name in the schema, plus GraphQL's own.
fn words() -> Vec<String> {
    let schema = include_str!("../../schema.graphql");
    let mut words: Vec<String> = schema
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words.extend(
        [
            "query",
            "mutation",
            "subscription",
            "fragment",
            "on",
            "__typename",
            "__schema",
            "__type",
            "true",
            "null",
        ]
        .map(str::to_owned),
    );
    words
}

/// Well-formed requests to mangle: each touches a different part of the API.
const VALID: &[&str] = &[
    "{ customers(first: 5) { nodes { id email groups { id name } } totalCount } }",
    "query($sku: String!) { product(sku: $sku) { id resolvedPrice(quantity: 3, currency: \"USD\") { amount { amount } } } }",
    "{ customerGroups(first: 3) { nodes { id priceLists { priority priceList { id name } } } } }",
    "{ priceLists(first: 2) { nodes { id prices(first: 10) { nodes { amount { amount currencyCode } } } } } }",
    "mutation { createCustomerGroup(input: { name: \"Fuzzed\" }) { customerGroup { id } userErrors { field code } } }",
    "mutation($input: UpsertPricesInput!) { upsertPrices(input: $input) { userErrors { field message code } } }",
    "{ resolvePrices(items: [{ sku: \"X\", quantity: 1 }], currency: \"EUR\") { price { amount { amount } } } }",
];

const PUNCTUATION: &[&str] = &[
    "{", "}", "(", ")", "[", "]", ":", "$", "!", "@", "...", ",", "=", "|", "&", "\"", "\"\"\"", "#", "\n",
];

fn token(words: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(words),
        3 => proptest::sample::select(PUNCTUATION).prop_map(str::to_owned),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|n| n.to_string()),
        1 => "\"[^\"\\\\]{0,12}\"".prop_map(|s| s),
        1 => "\\PC{1,4}",
    ]
}

/// Text that looks like GraphQL: a run of its words and punctuation.
fn query_text(words: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(VALID).prop_map(str::to_owned),
        3 => (proptest::sample::select(VALID), vec((any::<prop::sample::Index>(), 0..3u8, "\\PC{0,3}"), 1..4))
            .prop_map(|(valid, edits)| mangle(valid, &edits)),
        2 => vec(token(words), 0..60).prop_map(|tokens| tokens.join(" ")),
        1 => "\\PC{0,200}",
        1 => deeply_nested(),
        1 => many_aliases(),
    ]
}

/// A document nested up to a few hundred levels deep: list and object
/// literals in arguments, directives and variable defaults, and selections
/// (500 levels once overflowed a worker's stack).
fn deeply_nested() -> impl Strategy<Value = String> {
    const SHAPES: &[(&str, &str, &str)] = &[
        ("{ products(first: 1, filter: ", "{a: ", "}) { totalCount } }"),
        ("{ a(b: ", "[", "]) }"),
        ("{ __typename @include(if: ", "[", ") }"),
        ("query($v: [[Int]] = ", "[", ") { __typename }"),
        ("{ ", "a { ", "}"),
    ];
    (proptest::sample::select(SHAPES), 1..600usize).prop_map(|((head, open, tail), depth)| {
        let close = match open {
            "[" => "]",
            "{a: " => "}",
            _ => "}",
        };
        let leaf = if open == "a { " { "b " } else { "1" };
        format!("{head}{}{leaf}{}{tail}", open.repeat(depth), close.repeat(depth))
    })
}

/// Thousands of aliases of something cheap or something the limits weigh:
/// `__typename`, the schema, an empty price question.
fn many_aliases() -> impl Strategy<Value = String> {
    const FIELDS: &[&str] = &[
        "__typename",
        "__schema { queryType { name } }",
        "resolvePrices(input: { currency: \"USD\", items: [] }) { source }",
    ];
    (proptest::sample::select(FIELDS), 1..12_000usize).prop_map(|(field, count)| {
        format!(
            "{{ {} }}",
            (0..count)
                .map(|i| format!("a{i}: {field}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    })
}

/// Deletes, replaces or inserts a few characters of a valid query.
fn mangle(valid: &str, edits: &[(prop::sample::Index, u8, String)]) -> String {
    let mut chars: Vec<char> = valid.chars().collect();
    for (at, kind, text) in edits {
        let at = at.index(chars.len().max(1)).min(chars.len());
        match kind {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 if at < chars.len() => {
                chars.splice(at..=at, text.chars());
            }
            _ => {
                chars.splice(at..at, text.chars());
            }
        }
    }
    chars.into_iter().collect()
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,16}".prop_map(Value::String),
        // Ids and the like that parse: a UUID, an amount, a currency.
        Just(json!("00000000-0000-0000-0000-000000000001")),
        Just(json!("12.345")),
        Just(json!("USD")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec(("[a-zA-Z]{1,12}", inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// One GraphQL request object, sometimes with wrong-typed members.
fn operation(words: Vec<String>) -> impl Strategy<Value = Value> {
    (
        query_text(words),
        prop_oneof![
            1 => Just(None),
            4 => vec(("[a-zA-Z]{1,8}", json_value()), 0..4).prop_map(|pairs| Some(Value::Object(pairs.into_iter().collect()))),
            1 => json_value().prop_map(Some),
            // Variables nested up to 200 levels (serde stops at 128, the
            // server's own check at 64).
            1 => (1..200usize).prop_map(|depth| {
                let deep = (0..depth).fold(json!(1), |inner, _| json!([inner]));
                Some(json!({ "v": deep }))
            }),
        ],
        proptest::option::weighted(0.2, "[a-zA-Z]{0,8}"),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(query, variables, name, wrong_types)| {
            let mut object = Map::new();
            object.insert("query".into(), if wrong_types { json!([query]) } else { json!(query) });
            if let Some(variables) = variables {
                object.insert("variables".into(), variables);
            }
            if let Some(name) = name {
                object.insert("operationName".into(), json!(name));
            }
            Value::Object(object)
        })
}

#[derive(Debug, Clone)]
struct Case {
    method: Method,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    /// The query string of a GET.
    query: String,
}

fn case() -> impl Strategy<Value = Case> {
    let words = words();
    let body = prop_oneof![
        4 => operation(words.clone()).prop_map(|op| op.to_string().into_bytes()),
        2 => vec(operation(words.clone()), 0..13).prop_map(|ops| Value::Array(ops).to_string().into_bytes()),
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => vec(any::<u8>(), 0..512),
    ];
    let content_type = prop_oneof![
        8 => Just(Some("application/json")),
        1 => Just(Some("application/json; charset=utf-8")),
        1 => proptest::sample::select(vec![
            Some("application/graphql-response+json"),
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            None,
        ]),
    ];
    let get_query = prop_oneof![
        (operation(words), any::<bool>()).prop_map(|(op, encode)| {
            let mut pairs = url::form_urlencoded::Serializer::new(String::new());
            for (key, value) in op.as_object().into_iter().flatten() {
                let value = match value {
                    Value::String(s) if encode => s.clone(),
                    other => other.to_string(),
                };
                pairs.append_pair(key, &value);
            }
            pairs.finish()
        }),
        "[a-zA-Z0-9=&%+{}]{0,80}",
    ];
    let method = proptest::sample::select(vec![Method::POST, Method::POST, Method::POST, Method::GET, Method::PUT]);
    (method, content_type, body, get_query).prop_map(|(method, content_type, body, query)| Case {
        method,
        content_type,
        body,
        query,
    })
}

async fn check(app: &TestApp, case: Case) -> Result<(), TestCaseError> {
    let uri = match case.method {
        Method::GET => format!("/graphql?{}", case.query),
        _ => "/graphql".to_owned(),
    };
    let mut request = Request::builder().method(case.method.clone()).uri(uri);
    if let Some(content_type) = case.content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let body = match case.method {
        Method::GET => Body::empty(),
        _ => Body::from(case.body.clone()),
    };
    // A URI over the http crate's length limit cannot be sent at all (a real
    // server's HTTP layer refuses such a head before the router).
    let Ok(request) = request.body(body) else {
        return Ok(());
    };
    let response = app.request(request).await;
    prop_assert!(
        !response.status.is_server_error(),
        "{} answered {}: {}",
        case.method,
        response.status,
        response.body
    );
    let text = response.body.to_string().to_lowercase();
    for leak in ["sqlite", "sqlx", "select ", "postgres", "test.db", "panicked"] {
        prop_assert!(!text.contains(leak), "the answer mentions {leak:?}: {}", response.body);
    }
    Ok(())
}

#[test]
fn no_request_body_panics_or_answers_5xx() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let app = runtime.block_on(async {
        let app = TestApp::spawn(Backend::Sqlite).await;
        pricegraph::seed::demo(&app.db).await.expect("the demo loads");
        app
    });
    let (config, seed) = proptest_config(400);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |case| runtime.block_on(check(&app, case)));
    runtime.block_on(app.cleanup());
    if let Err(failure) = result {
        panic!("{failure}\nReplay with PROPTEST_RNG_SEED={seed}");
    }
}
