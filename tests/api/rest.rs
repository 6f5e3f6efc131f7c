//! The REST admin endpoints of seed 002 (README: REST admin endpoints): what a client sends, the
//! status and JSON it gets back, and that a refused request changed nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::fixtures::{
    add_customers, base_price, customer, list_price, price_list, pricing_group, product, type_group,
};
use crate::helpers::{TestApp, id, on_each_backend};

const GROUPS: &str = "/admin/pricing/customer-groups";

/// The groups every database starts with: `Default` and `Everyone`.
const BUILT_IN: u64 = 2;

struct Reply {
    status: StatusCode,
    location: Option<String>,
    allow: Option<String>,
    body: Value,
}

async fn send(app: &TestApp, request: Request<Body>) -> Reply {
    let response = app.router.clone().oneshot(request).await.expect("router answers");
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (status, location, allow) = (response.status(), header(header::LOCATION), header(header::ALLOW));
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        location,
        allow,
        body,
    }
}

/// A request with a JSON body, or none.
async fn call(app: &TestApp, method: Method, uri: &str, body: Option<Value>) -> Reply {
    let builder = Request::builder().method(method).uri(uri);
    let request = match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    };
    send(app, request.expect("request")).await
}

/// A body sent exactly as given, with the given content type.
async fn call_raw(app: &TestApp, method: Method, uri: &str, content_type: Option<&str>, body: &str) -> Reply {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    send(app, builder.body(Body::from(body.to_owned())).expect("request")).await
}

async fn get(app: &TestApp, uri: &str) -> Reply {
    call(app, Method::GET, uri, None).await
}

async fn create(app: &TestApp, body: Value) -> Value {
    let reply = call(app, Method::POST, GROUPS, Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn group_count(app: &TestApp) -> u64 {
    let reply = get(app, GROUPS).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["totalCount"].as_u64().expect("totalCount")
}

/// Asserts the error envelope: status, code and field.
fn assert_error(reply: &Reply, status: StatusCode, code: &str, field: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let error = &reply.body["error"];
    assert_eq!(error["code"], code, "{}", reply.body);
    assert_eq!(error["field"], json!(field), "{}", reply.body);
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        reply.body
    );
}

fn message(reply: &Reply) -> &str {
    reply.body["error"]["message"].as_str().unwrap_or_default()
}

fn group_uri(group_id: &str) -> String {
    format!("{GROUPS}/{group_id}")
}

#[tokio::test]
async fn creates_the_seed_example_with_its_price_lists() {
    on_each_backend(|app| async move {
        let vip_pricing = price_list(&app, "VIP pricing", json!({})).await;
        let reply = call(
            &app,
            Method::POST,
            GROUPS,
            Some(json!({
                "name": "VIP",
                "description": "VIP customers",
                "isActive": true,
                "priceLists": [{ "priceListId": vip_pricing, "priority": 1 }]
            })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let group = reply.body;
        let group_id = id(&group);
        assert_eq!(reply.location.as_deref(), Some(group_uri(&group_id).as_str()));
        assert_eq!(group["name"], "VIP");
        assert_eq!(group["description"], "VIP customers");
        assert_eq!(group["kind"], "PRICING");
        assert_eq!(group["isActive"], true);
        assert_eq!(group["commissionExempt"], false);
        assert_eq!(group["freeFreight"], false);
        assert_eq!(group["metadata"], json!({}));
        assert_eq!(group["version"], 1);
        assert_eq!(
            group["priceLists"],
            json!([{ "priceListId": vip_pricing, "priority": 1 }])
        );
        for at in ["createdAt", "updatedAt"] {
            let text = group[at].as_str().unwrap_or_default();
            assert!(chrono::DateTime::parse_from_rfc3339(text).is_ok(), "{at}: {text}");
        }

        let read = get(&app, &group_uri(&group_id)).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.body, group, "a group reads back as it was created");

        let graphql = app
            .data(
                "query($id: ID!) { customerGroup(id: $id) { name priceLists { priority priceList { id } } } }",
                json!({ "id": group_id }),
            )
            .await;
        assert_eq!(
            graphql["customerGroup"],
            json!({ "name": "VIP", "priceLists": [{ "priority": 1, "priceList": { "id": vip_pricing } }] })
        );

        // And the group prices: its member pays the VIP list's price.
        let chair = product(&app, "CHAIR", json!({})).await;
        base_price(&app, &chair, 1, "100.00").await;
        list_price(&app, &vip_pricing, &chair, "80.00").await;
        let shopper = customer(&app, "vip@example.com", json!({})).await;
        add_customers(&app, &group_id, &[&shopper]).await;
        let price = app
            .data(
                "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") {
                    amount { amount } customerGroup { name } } }",
                json!({ "c": shopper, "p": chair }),
            )
            .await;
        assert_eq!(
            price["resolvedPrice"],
            json!({ "amount": { "amount": "80.00" }, "customerGroup": { "name": "VIP" } })
        );
    })
    .await;
}

#[tokio::test]
async fn creates_with_every_optional_field_of_graphql() {
    on_each_backend(|app| async move {
        let group = create(
            &app,
            json!({ "name": "Staff", "kind": "TYPE", "isActive": false, "commissionExempt": true,
                    "freeFreight": true, "metadata": { "tier": 2 }, "description": null }),
        )
        .await;
        assert_eq!(group["kind"], "TYPE");
        assert_eq!(group["isActive"], false);
        assert_eq!(group["commissionExempt"], true);
        assert_eq!(group["freeFreight"], true);
        assert_eq!(group["metadata"], json!({ "tier": 2 }));
        assert_eq!(group["description"], json!(null));
        assert_eq!(group["priceLists"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn reads_one_group_and_refuses_ids_that_name_none() {
    on_each_backend(|app| async move {
        let group_id = pricing_group(&app, "Wholesale").await;
        let reply = get(&app, &group_uri(&group_id)).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["name"], "Wholesale");

        // As GraphQL's `customerGroup(id:)`: an id that cannot exist is not found.
        for missing in ["not-a-uuid", "0190a000-0000-7000-8000-000000000000", "%20"] {
            let reply = get(&app, &group_uri(missing)).await;
            assert_error(&reply, StatusCode::NOT_FOUND, "NOT_FOUND", Some("id"));
        }
    })
    .await;
}

#[tokio::test]
async fn lists_groups_a_page_at_a_time() {
    on_each_backend(|app| async move {
        let mut created = Vec::new();
        for name in ["A", "B", "C"] {
            created.push(pricing_group(&app, name).await);
        }
        let list = price_list(&app, "L", json!({})).await;
        call(
            &app,
            Method::POST,
            &format!("{}/price-lists", group_uri(&created[1])),
            Some(json!({ "priceListId": list, "priority": 7 })),
        )
        .await;

        let all = get(&app, GROUPS).await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.body);
        assert_eq!(all.body["totalCount"], BUILT_IN + 3);
        let groups = all.body["customerGroups"].as_array().expect("customerGroups");
        assert_eq!(groups.len() as u64, BUILT_IN + 3, "50 a page by default");
        assert_eq!(all.body["pageInfo"]["hasNextPage"], false);
        let b = groups.iter().find(|g| g["name"] == "B").expect("B listed");
        assert_eq!(b["priceLists"], json!([{ "priceListId": list, "priority": 7 }]));

        let first = get(&app, &format!("{GROUPS}?first=2")).await;
        assert_eq!(first.body["customerGroups"].as_array().map(Vec::len), Some(2));
        assert_eq!(first.body["totalCount"], BUILT_IN + 3);
        assert_eq!(first.body["pageInfo"]["hasNextPage"], true);
        let cursor = first.body["pageInfo"]["endCursor"]
            .as_str()
            .expect("endCursor")
            .to_owned();

        let rest = get(&app, &format!("{GROUPS}?first=10&after={cursor}")).await;
        let names: Vec<&str> = rest.body["customerGroups"]
            .as_array()
            .expect("customerGroups")
            .iter()
            .filter_map(|g| g["name"].as_str())
            .collect();
        assert_eq!(names, ["A", "B", "C"], "in creation order, after the built-ins");
        assert_eq!(rest.body["pageInfo"]["hasNextPage"], false);

        // Cursors are GraphQL's: one from either API pages the other.
        let graphql = app
            .data("{ customerGroups(first: 3) { pageInfo { endCursor } } }", json!({}))
            .await;
        let graphql_cursor = graphql["customerGroups"]["pageInfo"]["endCursor"]
            .as_str()
            .expect("cursor");
        let after_graphql = get(&app, &format!("{GROUPS}?after={graphql_cursor}")).await;
        assert_eq!(after_graphql.body["customerGroups"][0]["name"], "B");

        let past_the_end = get(
            &app,
            &format!(
                "{GROUPS}?after={}",
                rest.body["pageInfo"]["endCursor"].as_str().unwrap_or_default()
            ),
        )
        .await;
        assert_eq!(past_the_end.body["customerGroups"], json!([]));
        assert_eq!(
            past_the_end.body["pageInfo"],
            json!({ "hasNextPage": false, "endCursor": null })
        );
    })
    .await;
}

#[tokio::test]
async fn refuses_page_sizes_outside_1_to_100_and_bad_cursors() {
    on_each_backend(|app| async move {
        for first in ["0", "101", "-1", "ten", "1.5", ""] {
            let reply = get(&app, &format!("{GROUPS}?first={first}")).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some("first"));
            assert!(message(&reply).contains("1 to 100"), "{}", reply.body);
        }
        for edge in ["1", "100"] {
            assert_eq!(
                get(&app, &format!("{GROUPS}?first={edge}")).await.status,
                StatusCode::OK
            );
        }
        let reply = get(&app, &format!("{GROUPS}?after=not-a-cursor")).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some("after"));
        let reply = get(&app, &format!("{GROUPS}?limit=5")).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some("limit"));
        let reply = get(&app, &format!("{GROUPS}?first=1&first=2")).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some("first"));
    })
    .await;
}

#[tokio::test]
async fn patch_changes_only_the_fields_given() {
    on_each_backend(|app| async move {
        let created = create(
            &app,
            json!({ "name": "VIP", "description": "Best", "metadata": { "tier": 1 }, "freeFreight": true }),
        )
        .await;
        let uri = group_uri(&id(&created));

        let reply = call(&app, Method::PATCH, &uri, Some(json!({ "name": "Gold", "version": 1 }))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["name"], "Gold");
        assert_eq!(reply.body["description"], "Best", "left out, so kept");
        assert_eq!(reply.body["metadata"], json!({ "tier": 1 }));
        assert_eq!(reply.body["freeFreight"], true);
        assert_eq!(reply.body["version"], 2);
        assert_eq!(reply.body["createdAt"], created["createdAt"]);

        let reply = call(
            &app,
            Method::PATCH,
            &uri,
            Some(json!({ "description": null, "isActive": false, "metadata": { "tier": 3 } })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["description"], json!(null), "null clears it");
        assert_eq!(reply.body["isActive"], false);
        assert_eq!(reply.body["metadata"], json!({ "tier": 3 }));
        assert_eq!(reply.body["name"], "Gold");
        assert_eq!(reply.body["version"], 3);
        assert_eq!(get(&app, &uri).await.body, reply.body);

        // A field that cannot be cleared is not cleared by null.
        let reply = call(&app, Method::PATCH, &uri, Some(json!({ "name": null }))).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some("name"));
        assert_eq!(get(&app, &uri).await.body["version"], 3);

        let reply = call(&app, Method::PATCH, &group_uri("nope"), Some(json!({ "name": "X" }))).await;
        assert_error(&reply, StatusCode::NOT_FOUND, "NOT_FOUND", Some("id"));
    })
    .await;
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_that_changes_nothing() {
    on_each_backend(|app| async move {
        let group_id = pricing_group(&app, "VIP").await;
        let uri = group_uri(&group_id);
        assert_eq!(
            call(&app, Method::PATCH, &uri, Some(json!({ "isActive": false })))
                .await
                .status,
            StatusCode::OK
        );

        let reply = call(&app, Method::PATCH, &uri, Some(json!({ "version": 1, "name": "Gold" }))).await;
        assert_error(&reply, StatusCode::CONFLICT, "STALE_VERSION", Some("version"));
        let read = get(&app, &uri).await;
        assert_eq!(
            (read.body["name"].clone(), read.body["version"].clone()),
            (json!("VIP"), json!(2))
        );

        let reply = call(&app, Method::DELETE, &format!("{uri}?version=1"), None).await;
        assert_error(&reply, StatusCode::CONFLICT, "STALE_VERSION", Some("version"));
        assert_eq!(get(&app, &uri).await.status, StatusCode::OK, "still there");
    })
    .await;
}

#[tokio::test]
async fn a_taken_name_is_a_conflict_that_changes_nothing() {
    on_each_backend(|app| async move {
        create(&app, json!({ "name": "Wholesale" })).await;
        let other = create(&app, json!({ "name": "Retail" })).await;

        let reply = call(&app, Method::POST, GROUPS, Some(json!({ "name": "WHOLESALE" }))).await;
        assert_error(&reply, StatusCode::CONFLICT, "TAKEN", Some("name"));
        assert_eq!(reply.body["errors"][0]["code"], "TAKEN");
        assert_eq!(group_count(&app).await, BUILT_IN + 2);

        let uri = group_uri(&id(&other));
        let reply = call(&app, Method::PATCH, &uri, Some(json!({ "name": "wholesale" }))).await;
        assert_error(&reply, StatusCode::CONFLICT, "TAKEN", Some("name"));
        assert_eq!(get(&app, &uri).await.body["name"], "Retail");
    })
    .await;
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name() {
    on_each_backend(|app| async move {
        let reply = call(
            &app,
            Method::POST,
            GROUPS,
            Some(json!({ "name": "VIP", "isActve": false })),
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some("isActve"));
        assert!(message(&reply).contains("isActve"), "{}", reply.body);
        assert!(
            message(&reply).contains("isActive"),
            "the message lists the fields: {}",
            reply.body
        );

        let list = price_list(&app, "L", json!({})).await;
        let reply = call(
            &app,
            Method::POST,
            GROUPS,
            Some(json!({ "name": "VIP", "priceLists": [{ "priceListId": list, "prio": 1 }] })),
        )
        .await;
        assert_error(
            &reply,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            Some("priceLists.0.prio"),
        );
        assert_eq!(group_count(&app).await, BUILT_IN, "nothing was created");

        let group_id = pricing_group(&app, "Gold").await;
        let uri = group_uri(&group_id);
        for (field, value) in [
            ("kind", json!("TYPE")),
            ("priceLists", json!([])),
            ("id", json!(group_id)),
        ] {
            let reply = call(&app, Method::PATCH, &uri, Some(json!({ field: value }))).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some(field));
        }
        let reply = call(
            &app,
            Method::POST,
            &format!("{uri}/price-lists"),
            Some(json!({ "priceListId": list, "priority": 1, "extra": true })),
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some("extra"));
        let read = get(&app, &uri).await;
        assert_eq!(
            (read.body["version"].clone(), read.body["priceLists"].clone()),
            (json!(1), json!([]))
        );
    })
    .await;
}

#[tokio::test]
async fn wrong_json_types_and_malformed_bodies_are_400() {
    on_each_backend(|app| async move {
        let list = price_list(&app, "L", json!({})).await;
        let cases = [
            (json!({ "name": "VIP", "isActive": "yes" }), Some("isActive")),
            (json!({ "name": 5 }), Some("name")),
            (json!({ "description": "no name" }), Some("name")),
            (json!({ "name": "VIP", "kind": "VIP" }), Some("kind")),
            (
                json!({ "name": "VIP", "priceLists": { "priceListId": list } }),
                Some("priceLists"),
            ),
            (json!({ "name": "VIP", "priceLists": [5] }), Some("priceLists.0")),
            (
                json!({ "name": "VIP", "priceLists": [{ "priceListId": list, "priority": "1" }] }),
                Some("priceLists.0.priority"),
            ),
            (
                json!({ "name": "VIP", "priceLists": [{ "priceListId": list, "priority": 1.5 }] }),
                Some("priceLists.0.priority"),
            ),
            (
                json!({ "name": "VIP", "priceLists": [{ "priority": 1 }] }),
                Some("priceLists.0.priceListId"),
            ),
            (json!(["name", "VIP"]), None),
            (json!("VIP"), None),
        ];
        for (body, field) in cases {
            let reply = call(&app, Method::POST, GROUPS, Some(body.clone())).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", field);
            if let Some(field) = field {
                assert!(message(&reply).contains(field), "{body}: {}", reply.body);
            }
        }
        for raw in ["{\"name\": ", "", "{\"name\": \"VIP\"} trailing", "{'name': 'VIP'}"] {
            let reply = call_raw(&app, Method::POST, GROUPS, Some("application/json"), raw).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", None);
        }
        let group_id = pricing_group(&app, "Gold").await;
        let uri = group_uri(&group_id);
        let reply = call(&app, Method::PATCH, &uri, Some(json!({ "version": "1" }))).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some("version"));
        let reply = call(&app, Method::DELETE, &format!("{uri}?version=one"), None).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some("version"));
        assert_eq!(group_count(&app).await, BUILT_IN + 1);
    })
    .await;
}

#[tokio::test]
async fn bodies_must_be_sent_as_json() {
    on_each_backend(|app| async move {
        let body = json!({ "name": "VIP" }).to_string();
        for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
            let reply = call_raw(&app, Method::POST, GROUPS, content_type, &body).await;
            assert_error(
                &reply,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                None,
            );
        }
        assert_eq!(group_count(&app).await, BUILT_IN);
        let reply = call_raw(
            &app,
            Method::POST,
            GROUPS,
            Some("application/json; charset=utf-8"),
            &body,
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    })
    .await;
}

#[tokio::test]
async fn service_validation_failures_are_422_with_every_problem() {
    on_each_backend(|app| async move {
        let reply = call(
            &app,
            Method::POST,
            GROUPS,
            Some(json!({ "name": "  ", "metadata": [1, 2] })),
        )
        .await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "BLANK", Some("name"));
        let fields: Vec<&Value> = reply.body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| &e["field"])
            .collect();
        assert_eq!(fields, [&json!("name"), &json!("metadata")]);

        let list = price_list(&app, "L", json!({})).await;
        let cases = [
            (
                json!([{ "priceListId": list, "priority": -1 }]),
                "INVALID_PRIORITY",
                "priceLists.0.priority",
            ),
            (
                json!([{ "priceListId": "vip-pricing-id", "priority": 1 }]),
                "NOT_FOUND",
                "priceLists.0.priceListId",
            ),
            (
                json!([{ "priceListId": list, "priority": 1 }, { "priceListId": list, "priority": 2 }]),
                "TAKEN",
                "priceLists.1.priceListId",
            ),
        ];
        for (price_lists, code, field) in cases {
            let reply = call(
                &app,
                Method::POST,
                GROUPS,
                Some(json!({ "name": "VIP", "priceLists": price_lists })),
            )
            .await;
            assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
        }
        let reply = call(
            &app,
            Method::POST,
            GROUPS,
            Some(json!({ "name": "Retail", "kind": "TYPE", "priceLists": [{ "priceListId": list, "priority": 1 }] })),
        )
        .await;
        assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "WRONG_GROUP_KIND",
            Some("priceLists"),
        );
        assert_eq!(group_count(&app).await, BUILT_IN, "nothing was created");

        let uri = group_uri(&pricing_group(&app, "Gold").await);
        let reply = call(&app, Method::PATCH, &uri, Some(json!({ "name": "", "metadata": 5 }))).await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "BLANK", Some("name"));
        assert_eq!(get(&app, &uri).await.body["name"], "Gold");
    })
    .await;
}

#[tokio::test]
async fn deletes_a_group() {
    on_each_backend(|app| async move {
        let list = price_list(&app, "L", json!({})).await;
        let group = create(
            &app,
            json!({ "name": "VIP", "priceLists": [{ "priceListId": list, "priority": 1 }] }),
        )
        .await;
        let uri = group_uri(&id(&group));

        let reply = call(&app, Method::DELETE, &format!("{uri}?version=1"), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        assert_eq!(reply.body, Value::Null);
        assert_error(&get(&app, &uri).await, StatusCode::NOT_FOUND, "NOT_FOUND", Some("id"));
        assert_eq!(group_count(&app).await, BUILT_IN);

        let again = call(&app, Method::DELETE, &uri, None).await;
        assert_error(&again, StatusCode::NOT_FOUND, "NOT_FOUND", Some("id"));
        let junk = call(&app, Method::DELETE, &group_uri("junk"), None).await;
        assert_error(&junk, StatusCode::NOT_FOUND, "NOT_FOUND", Some("id"));
        let unknown = call(&app, Method::DELETE, &format!("{uri}?force=true"), None).await;
        assert_error(&unknown, StatusCode::BAD_REQUEST, "BAD_REQUEST", Some("force"));
    })
    .await;
}

#[tokio::test]
async fn built_in_groups_cannot_be_deleted() {
    on_each_backend(|app| async move {
        for built_in in [migration::DEFAULT_TYPE_GROUP_ID, migration::EVERYONE_GROUP_ID] {
            let reply = call(&app, Method::DELETE, &group_uri(&built_in.to_string()), None).await;
            assert_error(&reply, StatusCode::CONFLICT, "BUILT_IN", Some("id"));
        }
        assert_eq!(group_count(&app).await, BUILT_IN);
    })
    .await;
}

#[tokio::test]
async fn links_and_relinks_a_price_list() {
    on_each_backend(|app| async move {
        let group_id = pricing_group(&app, "VIP").await;
        let links = format!("{}/price-lists", group_uri(&group_id));
        let first = price_list(&app, "First", json!({})).await;
        let second = price_list(&app, "Second", json!({})).await;

        let reply = call(
            &app,
            Method::POST,
            &links,
            Some(json!({ "priceListId": second, "priority": 10 })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.body["id"], group_id);
        assert_eq!(
            reply.body["priceLists"],
            json!([{ "priceListId": second, "priority": 10 }])
        );

        let reply = call(
            &app,
            Method::POST,
            &links,
            Some(json!({ "priceListId": first, "priority": 1 })),
        )
        .await;
        assert_eq!(
            reply.body["priceLists"],
            json!([{ "priceListId": first, "priority": 1 }, { "priceListId": second, "priority": 10 }]),
            "in priority order"
        );

        // Linking a linked pair again changes its priority; there is one link per pair.
        let reply = call(
            &app,
            Method::POST,
            &links,
            Some(json!({ "priceListId": second, "priority": 0 })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "a pair already linked: {}", reply.body);
        assert_eq!(
            reply.body["priceLists"],
            json!([{ "priceListId": second, "priority": 0 }, { "priceListId": first, "priority": 1 }])
        );
        let graphql = app
            .data(
                "query($id: ID!) { customerGroup(id: $id) { priceLists { priority priceList { id } } } }",
                json!({ "id": group_id }),
            )
            .await;
        assert_eq!(
            graphql["customerGroup"]["priceLists"],
            json!([{ "priority": 0, "priceList": { "id": second } }, { "priority": 1, "priceList": { "id": first } }])
        );
    })
    .await;
}

#[tokio::test]
async fn refused_links_change_nothing() {
    on_each_backend(|app| async move {
        let group_id = pricing_group(&app, "VIP").await;
        let links = format!("{}/price-lists", group_uri(&group_id));
        let list = price_list(&app, "L", json!({})).await;
        let retail = type_group(&app, "Retail").await;

        let cases = [
            (
                links.clone(),
                json!({ "priceListId": list, "priority": -5 }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "INVALID_PRIORITY",
                "priority",
            ),
            (
                links.clone(),
                json!({ "priceListId": "nope", "priority": 1 }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "NOT_FOUND",
                "priceListId",
            ),
            (
                format!("{}/price-lists", group_uri(&retail)),
                json!({ "priceListId": list, "priority": 1 }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "WRONG_GROUP_KIND",
                "id",
            ),
            (
                format!("{}/price-lists", group_uri("nope")),
                json!({ "priceListId": list, "priority": 1 }),
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "id",
            ),
            (
                links.clone(),
                json!({ "priceListId": list }),
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "priority",
            ),
            (
                links.clone(),
                json!({ "priceListId": list, "priority": true }),
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "priority",
            ),
        ];
        for (uri, body, status, code, field) in cases {
            let reply = call(&app, Method::POST, &uri, Some(body)).await;
            assert_error(&reply, status, code, Some(field));
        }
        assert_eq!(get(&app, &group_uri(&group_id)).await.body["priceLists"], json!([]));
        assert_eq!(get(&app, &group_uri(&retail)).await.body["priceLists"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn unlinks_a_price_list_and_404s_when_not_linked() {
    on_each_backend(|app| async move {
        let list = price_list(&app, "L", json!({})).await;
        let other = price_list(&app, "Other", json!({})).await;
        let group = create(
            &app,
            json!({ "name": "VIP", "priceLists": [{ "priceListId": list, "priority": 1 }] }),
        )
        .await;
        let group_id = id(&group);
        let link = |list: &str| format!("{}/price-lists/{list}", group_uri(&group_id));

        let reply = call(&app, Method::DELETE, &link(&other), None).await;
        assert_error(&reply, StatusCode::NOT_FOUND, "NOT_FOUND", Some("priceListId"));
        let reply = call(&app, Method::DELETE, &link("junk"), None).await;
        assert_error(&reply, StatusCode::NOT_FOUND, "NOT_FOUND", Some("priceListId"));
        let reply = call(
            &app,
            Method::DELETE,
            &format!("{}/price-lists/{list}", group_uri("junk")),
            None,
        )
        .await;
        assert_error(&reply, StatusCode::NOT_FOUND, "NOT_FOUND", Some("id"));
        assert_eq!(
            get(&app, &group_uri(&group_id)).await.body["priceLists"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );

        let reply = call(&app, Method::DELETE, &link(&list), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        assert_eq!(get(&app, &group_uri(&group_id)).await.body["priceLists"], json!([]));
        let again = call(&app, Method::DELETE, &link(&list), None).await;
        assert_error(&again, StatusCode::NOT_FOUND, "NOT_FOUND", Some("priceListId"));
    })
    .await;
}

#[tokio::test]
async fn listing_5_or_50_groups_runs_the_same_statements() {
    on_each_backend(|app| async move {
        let lists = [
            price_list(&app, "One", json!({})).await,
            price_list(&app, "Two", json!({})).await,
        ];
        for n in 0..50 {
            let links: Vec<Value> = lists
                .iter()
                .enumerate()
                .map(|(priority, list)| json!({ "priceListId": list, "priority": priority }))
                .collect();
            create(&app, json!({ "name": format!("Group {n}"), "priceLists": links })).await;
        }
        let mut counts = Vec::new();
        for first in [5, 50] {
            let (count, reply) = app
                .count_statements(get(&app, &format!("{GROUPS}?first={first}")))
                .await;
            let groups = reply.body["customerGroups"].as_array().cloned().unwrap_or_default();
            assert_eq!(groups.len(), first);
            let linked = groups
                .iter()
                .filter(|g| g["priceLists"].as_array().map(Vec::len) == Some(2))
                .count();
            assert_eq!(
                linked as u64,
                first as u64 - BUILT_IN,
                "every created group shows its two links"
            );
            counts.push(count);
        }
        assert_eq!(counts[0], counts[1], "statements for 5 and 50 groups");
        assert!(counts[0] <= 3, "the page, the count and the links: {}", counts[0]);
    })
    .await;
}

#[tokio::test]
async fn database_failures_are_masked() {
    on_each_backend(|app| async move {
        let group_id = pricing_group(&app, "VIP").await;
        app.db.conn.clone().close().await.expect("the pool closes");
        let requests = [
            (Method::GET, GROUPS.to_owned(), None),
            (Method::GET, group_uri(&group_id), None),
            (Method::POST, GROUPS.to_owned(), Some(json!({ "name": "Gold" }))),
            (Method::PATCH, group_uri(&group_id), Some(json!({ "name": "Gold" }))),
            (Method::DELETE, group_uri(&group_id), None),
        ];
        for (method, uri, body) in requests {
            let reply = call(&app, method.clone(), &uri, body).await;
            // A closed pool is a database out of reach: retryable, no detail.
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{method} {uri}: {}",
                reply.body
            );
            assert_eq!(
                reply.body,
                json!({ "error": { "code": "DATABASE_UNAVAILABLE",
                    "message": "the database is unavailable; retry after the time in `Retry-After`", "field": null } })
            );
        }
    })
    .await;
}

#[tokio::test]
async fn other_methods_are_405_in_the_same_envelope() {
    on_each_backend(|app| async move {
        let group_id = pricing_group(&app, "VIP").await;
        for (method, uri) in [
            (Method::PUT, GROUPS.to_owned()),
            (Method::DELETE, GROUPS.to_owned()),
            (Method::PUT, group_uri(&group_id)),
            (Method::GET, format!("{}/price-lists", group_uri(&group_id))),
        ] {
            let reply = call(&app, method, &uri, None).await;
            assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", None);
            assert!(reply.allow.is_some(), "Allow is set for {uri}");
        }
        assert_eq!(group_count(&app).await, BUILT_IN + 1);
    })
    .await;
}
