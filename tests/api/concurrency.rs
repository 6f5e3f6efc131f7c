//! Concurrent writers (issue 5, item 5): one link per pair however many ask at
//! once, optimistic versions that lose no update under retries, and SQLite
//! writers that wait their turn instead of failing with "database is locked".

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::fixtures::{price_list, pricing_group};
use crate::helpers::{Backend, TestApp, on_each_backend};

const ADD_LINK: &str = "mutation($input: AddPriceListToGroupInput!) { addPriceListToGroup(input: $input) {
    customerGroupPriceList { priority } userErrors { field message code } } }";

const GROUP: &str = "query($id: ID!) { customerGroup(id: $id) {
    version description priceLists { priority priceList { id } } } }";

const UPDATE_GROUP: &str = "mutation($input: UpdateCustomerGroupInput!) { updateCustomerGroup(input: $input) {
    customerGroup { version } userErrors { field message code } } }";

/// Runs `count` copies of `task` at once, each on its own task of the
/// multi-threaded runtime, and returns their results in order.
async fn all_at_once<F, Fut, T>(count: usize, task: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..count).map(|i| tokio::spawn(task(i))).collect();
    join_all(handles)
        .await
        .into_iter()
        .map(|joined| joined.expect("no task panicked"))
        .collect()
}

/// Asserts a GraphQL response has no top-level errors (no "database is
/// locked", no INTERNAL) and returns the payload of `field`.
fn payload(body: &Value, field: &str, backend: Backend) -> Value {
    assert!(body.get("errors").is_none(), "[{backend:?}] {field}: {body}");
    body["data"][field].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_links_of_one_pair_leave_exactly_one_link() {
    on_each_backend(|app| async move {
        let group = pricing_group(&app, "Wholesale").await;
        let list = price_list(&app, "Wholesale 2027", json!({})).await;
        let writers = app.pooled(16).await;

        let answers = all_at_once(50, |i| {
            let (writers, group, list) = (writers.clone(), group.clone(), list.clone());
            async move {
                let input = json!({ "groupId": group, "priceListId": list, "priority": i });
                writers.graphql(ADD_LINK, json!({ "input": input })).await
            }
        })
        .await;

        // Linking a linked pair is an upsert of its priority: every call
        // succeeds and reports the link as it left it.
        for answer in &answers {
            let payload = payload(answer, "addPriceListToGroup", app.backend);
            assert_eq!(payload["userErrors"], json!([]), "[{:?}] {payload}", app.backend);
            assert!(
                payload["customerGroupPriceList"]["priority"]
                    .as_i64()
                    .is_some_and(|p| (0..50).contains(&p))
            );
        }
        let links = app.data(GROUP, json!({ "id": group })).await["customerGroup"]["priceLists"].clone();
        let links = links.as_array().expect("links");
        assert_eq!(links.len(), 1, "[{:?}] {links:?}", app.backend);
        assert_eq!(links[0]["priceList"]["id"], json!(list));
        let stored = count_rows(&app, "customer_group_price_list").await;
        assert_eq!(stored, 1, "[{:?}] one row for the pair", app.backend);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_versioned_edits_lose_no_update() {
    on_each_backend(|app| async move {
        let group = pricing_group(&app, "Counter").await;
        let writers = app.pooled(16).await;
        let edits = 100;

        // Each writer adds one to the counter kept in the description: read
        // it with its version, write it back with that version, and on
        // STALE_VERSION read again. A lost update would leave the count short.
        let attempts = all_at_once(edits, |_| {
            let (writers, group) = (writers.clone(), group.clone());
            async move {
                for attempt in 1..=1000 {
                    let read = writers.data(GROUP, json!({ "id": group })).await["customerGroup"].clone();
                    let count: u32 = read["description"].as_str().map_or(0, |d| d.parse().expect("a count"));
                    let input =
                        json!({ "id": group, "version": read["version"], "description": (count + 1).to_string() });
                    let answer = writers.graphql(UPDATE_GROUP, json!({ "input": input })).await;
                    let payload = payload(&answer, "updateCustomerGroup", writers.backend);
                    match payload["userErrors"][0]["code"].as_str() {
                        None => return attempt,
                        Some("STALE_VERSION") => continue,
                        Some(other) => panic!("[{:?}] unexpected {other}: {payload}", writers.backend),
                    }
                }
                panic!("an edit never got through in 1000 attempts")
            }
        })
        .await;

        let group = app.data(GROUP, json!({ "id": group })).await["customerGroup"].clone();
        assert_eq!(group["description"], json!(edits.to_string()), "[{:?}]", app.backend);
        assert_eq!(group["version"], json!(edits + 1));
        assert!(
            attempts.iter().any(|&a| a > 1),
            "[{:?}] the writers really raced: some had to retry",
            app.backend
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_sqlite_writers_are_never_told_the_database_is_locked() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let writers = app.pooled(20).await;
    let list = price_list(&app, "Shared", json!({})).await;

    // Each writer runs a mix of single statements and transactions: a
    // customer, a group created with a price list link, the customer added
    // to it, and a rename of the group.
    let outcomes = all_at_once(20, |i| {
        let (writers, list) = (writers.clone(), list.clone());
        async move {
            let mut answers = Vec::new();
            let customer = writers
                .graphql(
                    "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) {
                        customer { id } userErrors { code } } }",
                    json!({ "input": { "email": format!("writer{i}@example.com"), "name": format!("Writer {i}") } }),
                )
                .await;
            let group = writers
                .graphql(
                    "mutation($input: CreateCustomerGroupInput!) { createCustomerGroup(input: $input) {
                        customerGroup { id version } userErrors { code } } }",
                    json!({ "input": { "name": format!("Group {i}"), "priceLists": [{ "priceListId": list, "priority": i }] } }),
                )
                .await;
            let customer_id = customer["data"]["createCustomer"]["customer"]["id"].clone();
            let group_id = group["data"]["createCustomerGroup"]["customerGroup"]["id"].clone();
            answers.push(("createCustomer", customer));
            answers.push(("createCustomerGroup", group));
            let added = writers
                .graphql(
                    "mutation($input: GroupCustomersInput!) { addCustomersToGroup(input: $input) { userErrors { code } } }",
                    json!({ "input": { "groupId": group_id, "customerIds": [customer_id] } }),
                )
                .await;
            answers.push(("addCustomersToGroup", added));
            let renamed = writers
                .graphql(
                    UPDATE_GROUP,
                    json!({ "input": { "id": group_id, "version": 1, "name": format!("Group {i} renamed") } }),
                )
                .await;
            answers.push(("updateCustomerGroup", renamed));
            answers
        }
    })
    .await;

    for (field, answer) in outcomes.iter().flatten() {
        assert!(!answer.to_string().contains("locked"), "{field}: {answer}");
        assert_eq!(
            payload(answer, field, Backend::Sqlite)["userErrors"],
            json!([]),
            "{field}: {answer}"
        );
    }
    assert_eq!(count_rows(&app, "customer").await, 20);
    assert_eq!(count_rows(&app, "customer_group_membership").await, 20);
    assert_eq!(count_rows(&app, "customer_group_price_list").await, 20);
    let renamed = app
        .data(
            "{ customerGroups(first: 100, filter: { nameContains: \"renamed\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(renamed["customerGroups"]["totalCount"], json!(20));
    app.cleanup().await;
}

async fn count_rows(app: &TestApp, table: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let row = app
        .db
        .conn
        .query_one_raw(Statement::from_string(app.db.conn.get_database_backend(), sql))
        .await
        .expect("count runs")
        .expect("a row");
    row.try_get("", "n").expect("a count")
}
