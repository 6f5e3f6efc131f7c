//! Apollo Federation v2 (README: Federation): with `federation` on, the schema is a
//! subgraph whose entities a router resolves through `_entities`; off (the
//! default), nothing of it shows.

use pricegraph::auth::Auth;
use pricegraph::config::{Command, ExportSchemaArgs};
use pricegraph::graphql::SchemaOptions;
use pricegraph::http::HttpOptions;
use serde_json::{Value, json};

use crate::fixtures::{add_customers, customer, price_list, pricing_group, product};
use crate::helpers::{Backend, TestApp, on_each_backend};
use crate::security::{SHOP_KEY, auth, customer_token, post};

const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) {
    __typename
    ... on Customer { id name email }
    ... on CustomerGroup { id name }
    ... on PriceList { id name }
    ... on Product { id sku name }
} }";

fn subgraph() -> HttpOptions {
    HttpOptions {
        schema: SchemaOptions {
            federation: true,
            ..SchemaOptions::default()
        },
        ..HttpOptions::default()
    }
}

/// The app as an open (admin) subgraph.
fn open_subgraph(app: &TestApp) -> TestApp {
    app.served_with(Auth::open(), subgraph())
}

fn rep(typename: &str, id: &str) -> Value {
    json!({ "__typename": typename, "id": id })
}

fn error_messages(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn served_sdl(app: &TestApp) -> String {
    let data = app.data("{ _service { sdl } }", json!({})).await;
    data["_service"]["sdl"].as_str().expect("an sdl").to_owned()
}

#[tokio::test]
async fn the_service_sdl_links_federation_v2_and_keys_the_four_entities() {
    let app = open_subgraph(&TestApp::spawn(Backend::Sqlite).await);
    let sdl = served_sdl(&app).await;
    assert!(
        sdl.contains("extend schema @link(") && sdl.contains("url: \"https://specs.apollo.dev/federation/v2."),
        "no federation v2 link in:\n{sdl}"
    );
    assert!(sdl.contains("\"@key\""), "@key is not imported:\n{sdl}");
    for entity in ["Customer", "CustomerGroup", "PriceList", "Product"] {
        assert!(
            sdl.contains(&format!("type {entity} @key(fields: \"id\")")),
            "{entity} is not keyed by id:\n{sdl}"
        );
    }
    assert!(!sdl.contains("type Organization @key"), "Organization is no entity");
    assert!(
        !sdl.contains("_entities"),
        "the subgraph SDL leaves out the federation fields"
    );
    // Without a `schema { … }` block, composition finds the roots by name.
    assert!(sdl.contains("type Query {") && sdl.contains("type Mutation {"), "{sdl}");
    // A value type other subgraphs define too.
    assert!(
        sdl.contains("type Money @shareable {"),
        "Money is not shareable:\n{sdl}"
    );
    assert!(sdl.contains("\"@shareable\""), "@shareable is not imported:\n{sdl}");
    assert!(!sdl.contains("QueryRoot") && !sdl.contains("schema {"), "{sdl}");
    assert!(sdl.contains("\tproducts("), "the API's queries are in the subgraph SDL");
}

#[tokio::test]
async fn export_schema_federation_writes_what_the_server_serves() {
    let app = open_subgraph(&TestApp::spawn(Backend::Sqlite).await);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("subgraph.graphql");
    let args = ExportSchemaArgs {
        output: Some(path.clone()),
        federation: true,
    };
    pricegraph::cli::run(Command::ExportSchema(args))
        .await
        .expect("export-schema runs");
    let written = std::fs::read_to_string(&path).expect("the file is written");
    assert_eq!(written, served_sdl(&app).await);
    assert_eq!(written, pricegraph::graphql::subgraph_sdl());
    let default_output = ExportSchemaArgs {
        output: None,
        federation: true,
    };
    assert_eq!(
        default_output.output(),
        std::path::PathBuf::from("subgraph.graphql"),
        "the subgraph SDL does not overwrite schema.graphql by default"
    );
}

#[tokio::test]
async fn entities_of_every_type_resolve_in_request_order() {
    on_each_backend(|app| async move {
        let ada = customer(&app, "ada@example.com", json!({})).await;
        let chair = product(&app, "CHAIR", json!({})).await;
        let vip = pricing_group(&app, "VIP").await;
        let sale = price_list(&app, "Sale", json!({})).await;
        let lamp = product(&app, "LAMP", json!({})).await;
        let app = open_subgraph(&app);
        let representations = json!([
            rep("Product", &chair),
            rep("Customer", &ada),
            rep("PriceList", &sale),
            rep("CustomerGroup", &vip),
            rep("Product", &lamp),
        ]);
        let data = app.data(ENTITIES, json!({ "r": representations })).await;
        assert_eq!(
            data["_entities"],
            json!([
                { "__typename": "Product", "id": chair, "sku": "CHAIR", "name": "Product CHAIR" },
                { "__typename": "Customer", "id": ada, "name": "ada", "email": "ada@example.com" },
                { "__typename": "PriceList", "id": sale, "name": "Sale" },
                { "__typename": "CustomerGroup", "id": vip, "name": "VIP" },
                { "__typename": "Product", "id": lamp, "sku": "LAMP", "name": "Product LAMP" },
            ]),
            "[{:?}]",
            app.backend
        );
    })
    .await;
}

#[tokio::test]
async fn twenty_representations_cost_the_statements_of_two() {
    on_each_backend(|app| async move {
        let mut representations = Vec::new();
        for n in 0..10 {
            let product = product(&app, &format!("SKU-{n}"), json!({})).await;
            let customer = customer(&app, &format!("c{n}@example.com"), json!({})).await;
            representations.push(rep("Product", &product));
            representations.push(rep("Customer", &customer));
        }
        let app = open_subgraph(&app);
        let resolve = |representations: Vec<Value>| {
            let app = app.clone();
            async move {
                let data = app.data(ENTITIES, json!({ "r": representations })).await;
                data["_entities"].as_array().map(Vec::len)
            }
        };
        let (two, resolved) = app.count_statements(resolve(representations[..2].to_vec())).await;
        assert_eq!(resolved, Some(2));
        let (twenty, resolved) = app.count_statements(resolve(representations.clone())).await;
        assert_eq!(resolved, Some(20));
        assert_eq!(
            twenty, two,
            "[{:?}] statements grow with the representations",
            app.backend
        );
        assert!(two <= 2, "[{:?}] one statement per entity type, not {two}", app.backend);
    })
    .await;
}

#[tokio::test]
async fn entities_pass_the_rules_of_their_root_fields() {
    let open = TestApp::spawn(Backend::Sqlite).await;
    let me = customer(&open, "me@example.com", json!({})).await;
    let other = customer(&open, "other@example.com", json!({})).await;
    let chair = product(&open, "CHAIR", json!({})).await;
    let vip = pricing_group(&open, "VIP").await;
    add_customers(&open, &vip, &[&me]).await;
    let sale = price_list(&open, "Sale", json!({})).await;
    let app = open.served_with(auth(), subgraph());
    let me_token = customer_token(&me);
    let ask = |bearer: String, representations: Value| {
        let app = app.clone();
        async move {
            post(&app, Some(&bearer), ENTITIES, json!({ "r": representations }))
                .await
                .body
        }
    };

    // The catalog is everyone's.
    for bearer in [SHOP_KEY.to_owned(), me_token.clone()] {
        let body = ask(bearer, json!([rep("Product", &chair)])).await;
        assert_eq!(body["data"]["_entities"][0]["sku"], "CHAIR", "{body}");
    }
    // A customer token resolves itself, and follows its own relations.
    let own = post(
        &app,
        Some(&me_token),
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { email groups { name } } } }",
        json!({ "r": [rep("Customer", &me)] }),
    )
    .await
    .body;
    assert_eq!(
        own["data"]["_entities"],
        json!([{ "email": "me@example.com", "groups": [{ "name": "VIP" }] }]),
        "{own}"
    );
    // ...but no other customer, as with `customer(id)`.
    let refused = [
        (me_token.clone(), rep("Customer", &other), "only its own customer"),
        (me_token.clone(), rep("CustomerGroup", &vip), "`CustomerGroup` entities"),
        (me_token.clone(), rep("PriceList", &sale), "`PriceList` entities"),
        (SHOP_KEY.to_owned(), rep("Customer", &me), "`Customer` entities"),
        (
            SHOP_KEY.to_owned(),
            rep("CustomerGroup", &vip),
            "`CustomerGroup` entities",
        ),
        (SHOP_KEY.to_owned(), rep("PriceList", &sale), "`PriceList` entities"),
    ];
    for (bearer, representation, reason) in refused {
        let body = ask(bearer, json!([rep("Product", &chair), representation.clone()])).await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{representation}: {body}");
        assert!(body["data"].is_null(), "{representation}: nothing is resolved: {body}");
        assert!(error_messages(&body)[0].contains(reason), "{representation}: {body}");
    }
    // Relations refused on the normal fields are refused from entities too.
    let body = post(
        &app,
        Some(&me_token),
        "query($r: [_Any!]!) { _entities(representations: $r) {
            ... on Customer { groups { name customers(first: 5) { totalCount } } } } }",
        json!({ "r": [rep("Customer", &me)] }),
    )
    .await
    .body;
    assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
    assert!(error_messages(&body)[0].contains("CustomerGroup.customers"), "{body}");
    // The subgraph's renamed roots keep the rules of the plain ones.
    for (bearer, query) in [
        (SHOP_KEY.to_owned(), "{ customers(first: 1) { totalCount } }"),
        (me_token.clone(), "{ customerGroups(first: 1) { totalCount } }"),
        (
            SHOP_KEY.to_owned(),
            "mutation { createProductLine(input: { name: \"X\" }) { userErrors { code } } }",
        ),
    ] {
        let body = post(&app, Some(&bearer), query, json!({})).await.body;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{query}: {body}");
    }
    // The SDL is the admin's.
    let body = post(&app, Some(SHOP_KEY), "{ _service { sdl } }", json!({})).await.body;
    assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
    let body = post(&app, None, ENTITIES, json!({ "r": [rep("Product", &chair)] })).await;
    assert_ne!(body.status, axum::http::StatusCode::OK, "no credentials, no entities");
}

#[tokio::test]
async fn bad_representations_are_errors_that_name_the_problem() {
    let open = TestApp::spawn(Backend::Sqlite).await;
    let chair = product(&open, "CHAIR", json!({})).await;
    let app = open_subgraph(&open);
    let cases = [
        (
            json!({ "__typename": "Order", "id": chair }),
            "`Order` is not an entity",
        ),
        (
            json!({ "__typename": "Organization", "id": chair }),
            "`Organization` is not an entity",
        ),
        (json!({ "__typename": "Product" }), "needs an `id`"),
        (json!({ "__typename": "Product", "id": true }), "`id` is a string"),
        (rep("Product", "not-a-uuid"), "id 'not-a-uuid' is not an id"),
        (json!({ "id": chair }), "__typename"),
        (json!("Product"), "is an object"),
    ];
    for (representation, problem) in cases {
        let body = app
            .graphql(
                ENTITIES,
                json!({ "r": [rep("Product", &chair), representation.clone()] }),
            )
            .await;
        let messages = error_messages(&body);
        assert_eq!(messages.len(), 1, "{representation}: {body}");
        assert!(messages[0].contains(problem), "{representation}: {body}");
        assert!(body["data"].is_null(), "{representation}: {body}");
    }
    // An id that names nothing is a reference this subgraph cannot resolve: null.
    let unknown = uuid::Uuid::now_v7().to_string();
    let body = app
        .graphql(
            ENTITIES,
            json!({ "r": [rep("Customer", &unknown), rep("Product", &chair)] }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["_entities"][0], Value::Null, "{body}");
    assert_eq!(body["data"]["_entities"][1]["sku"], "CHAIR", "{body}");
}

#[tokio::test]
async fn the_default_server_is_no_subgraph() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let chair = product(&app, "CHAIR", json!({})).await;
    for query in [ENTITIES, "{ _service { sdl } }"] {
        let body = app.graphql(query, json!({ "r": [rep("Product", &chair)] })).await;
        assert!(body["data"].is_null(), "{body}");
        let message = error_messages(&body).join(" ");
        assert!(message.contains("Unknown field"), "{body}");
    }
    let sdl = pricegraph::graphql::sdl();
    assert!(!sdl.contains("_entities") && !sdl.contains("@key") && !sdl.contains("@link"));
}
