//! `Subscription.priceChanges` as a storefront sees it
//! (docs/api.md#subscriptions): over graphql-ws (a real WebSocket client)
//! and over Server-Sent Events (a real HTTP client), a price written on
//! another instance arrives; a list whose window opens changes the price
//! with no write, within a second; a write that changes no answer sends
//! nothing; customer tokens and the per-connection bound are enforced.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use pricegraph::http::{HttpOptions, MAX_OPERATIONS_PER_CONNECTION};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::fixtures::{
    add_customers, base_price, customer, link_price_list, list_price, price_list, pricing_group, product,
};
use crate::helpers::{TestApp, on_each_backend, test_cache};
use crate::security::{auth, customer_token};
use crate::test_redis::TestRedis;

/// How long a test waits for a message before it fails (a hang guard, not
/// an assertion on speed).
const PATIENCE: Duration = Duration::from_secs(20);

const PRICE_CHANGES: &str = "subscription($c: ID, $p: [ID!]!, $cur: String! = \"USD\") {
    priceChanges(customerId: $c, productIds: $p, currency: $cur) {
        product { id sku } amount { amount } source } }";

/// Serves `app`'s router on a free loopback port.
async fn serve(app: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("an address");
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A graphql-transport-ws client.
struct Ws(tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>);

impl Ws {
    /// Connects and sends `connection_init` with `authorization`; returns
    /// the client, or the close reason when the server refused it.
    async fn connect(addr: SocketAddr, authorization: Option<&str>) -> Result<Self, String> {
        let request = format!("ws://{addr}/graphql").into_client_request().expect("a request");
        Self::connect_with(request, authorization).await
    }

    async fn connect_with(
        mut request: tokio_tungstenite::tungstenite::handshake::client::Request,
        authorization: Option<&str>,
    ) -> Result<Self, String> {
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("a header"),
        );
        let (stream, response) = tokio_tungstenite::connect_async(request).await.expect("the upgrade");
        assert_eq!(
            response.headers().get("sec-websocket-protocol").map(|v| v.as_bytes()),
            Some(&b"graphql-transport-ws"[..])
        );
        let mut ws = Self(stream);
        let payload = match authorization {
            Some(value) => json!({ "authorization": value }),
            None => json!({}),
        };
        ws.send(json!({ "type": "connection_init", "payload": payload })).await;
        match ws.message().await {
            Ok(ack) if ack["type"] == "connection_ack" => Ok(ws),
            Ok(other) => panic!("not an ack: {other}"),
            Err(reason) => Err(reason),
        }
    }

    async fn send(&mut self, message: Value) {
        self.0
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("sent");
    }

    /// The next protocol message; `Err` with the reason when the server closed.
    async fn message(&mut self) -> Result<Value, String> {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.0.next())
                .await
                .expect("a message in time");
            match message {
                Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).expect("JSON")),
                Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| f.reason.to_string()).unwrap_or_default()),
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Err(error.to_string()),
                None => return Err("closed".into()),
            }
        }
    }

    async fn subscribe(&mut self, id: &str, variables: Value) {
        let payload = json!({ "query": PRICE_CHANGES, "variables": variables });
        self.send(json!({ "id": id, "type": "subscribe", "payload": payload }))
            .await;
    }

    /// Reads until the server closes: the close frame's code (skipping
    /// any message before it).
    async fn close_code(&mut self) -> Option<u16> {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.0.next())
                .await
                .expect("the close in time");
            match message {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code.into()),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// The next `next` payload of subscription `id` (skipping others').
    async fn next(&mut self, id: &str) -> Value {
        loop {
            let message = self.message().await.expect("the connection stays open");
            if message["id"] == id && message["type"] == "next" {
                return message["payload"].clone();
            }
        }
    }
}

/// A graphql-sse (distinct connections mode) client: one subscription.
struct Sse {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>,
    buffer: String,
}

impl Sse {
    async fn subscribe(addr: SocketAddr, authorization: Option<&str>, variables: Value) -> Self {
        let mut request = reqwest::Client::new()
            .post(format!("http://{addr}/graphql"))
            .header("accept", "text/event-stream")
            .json(&json!({ "query": PRICE_CHANGES, "variables": variables }));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("an answer");
        assert_eq!(response.status(), 200);
        let content_type = response.headers().get("content-type").cloned();
        assert_eq!(
            content_type.as_ref().map(|v| v.as_bytes()),
            Some(&b"text/event-stream"[..])
        );
        Self {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event: its name and data.
    async fn event(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut data) = (String::from("message"), String::new());
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event:") {
                        event = name.trim().to_owned();
                    } else if let Some(chunk) = line.strip_prefix("data:") {
                        data.push_str(chunk.trim());
                    }
                }
                if block.lines().all(|line| line.starts_with(':') || line.is_empty()) {
                    continue; // a keep-alive comment
                }
                return (event, data);
            }
            let chunk = tokio::time::timeout(PATIENCE, self.body.next())
                .await
                .expect("an event in time")
                .expect("the stream stays open")
                .expect("a chunk");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Reads the stream to its end: the names of the events before it.
    async fn rest(&mut self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                names.extend(
                    block
                        .lines()
                        .filter_map(|l| l.strip_prefix("event:"))
                        .map(|n| n.trim().to_owned()),
                );
                continue;
            }
            match tokio::time::timeout(PATIENCE, self.body.next())
                .await
                .expect("the end in time")
            {
                Some(Ok(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Some(Err(_)) | None => return names,
            }
        }
    }

    /// The next `next` event's payload.
    async fn next(&mut self) -> Value {
        let (event, data) = self.event().await;
        assert_eq!(event, "next", "{data}");
        serde_json::from_str(&data).expect("JSON")
    }
}

/// (sku, amount) of one emitted answer.
fn price(payload: &Value) -> (String, Value) {
    let answer = &payload["data"]["priceChanges"];
    assert!(answer.is_object(), "not an answer: {payload}");
    (
        answer["product"]["sku"].as_str().unwrap_or_default().to_owned(),
        answer["amount"]["amount"].clone(),
    )
}

fn pays(sku: &str, amount: &str) -> (String, Value) {
    (sku.to_owned(), json!(amount))
}

fn error_code(payload: &Value) -> Value {
    payload["errors"][0]["extensions"]["code"].clone()
}

/// A shopper in VIP, whose list (not yet priced) is linked; a chair at 100.
struct Shop {
    shopper: String,
    chair: String,
    vip_list: String,
}

async fn shop(app: &TestApp) -> Shop {
    let chair = product(app, "CHAIR", json!({})).await;
    base_price(app, &chair, 1, "100.00").await;
    let shopper = customer(app, "shopper@example.com", json!({})).await;
    let vip = pricing_group(app, "VIP").await;
    add_customers(app, &vip, &[&shopper]).await;
    let vip_list = price_list(app, "VIP prices", json!({ "type": "OVERRIDE" })).await;
    link_price_list(app, &vip, &vip_list, 1).await;
    Shop {
        shopper,
        chair,
        vip_list,
    }
}

/// Redis in front of both instances when the tests have one.
async fn with_redis(apps: &[&TestApp]) {
    if let Some(redis) = TestRedis::new() {
        for app in apps {
            redis.attach(app).await;
        }
    }
}

#[tokio::test]
async fn a_price_written_on_another_instance_reaches_websocket_and_sse_subscribers() {
    on_each_backend(|app| async move {
        let shop = shop(&app).await;
        let other = app.twin(test_cache()).await;
        with_redis(&[&app, &other]).await;
        let addr = serve(&app).await;
        let variables = json!({ "c": shop.shopper, "p": [shop.chair] });

        let mut ws = Ws::connect(addr, None).await.expect("accepted");
        ws.subscribe("1", variables.clone()).await;
        assert_eq!(
            price(&ws.next("1").await),
            pays("CHAIR", "100.00"),
            "the answer now, first"
        );
        let mut sse = Sse::subscribe(addr, None, variables).await;
        assert_eq!(price(&sse.next().await), pays("CHAIR", "100.00"));

        // Written on the other instance: this one learns it from the change log.
        let written = std::time::Instant::now();
        list_price(&other, &shop.vip_list, &shop.chair, "80.00").await;
        assert_eq!(price(&ws.next("1").await), pays("CHAIR", "80.00"));
        println!(
            "{:?}: a write on another instance reached the WebSocket subscriber {} ms after it was sent",
            app.backend,
            written.elapsed().as_millis()
        );
        assert_eq!(price(&sse.next().await), pays("CHAIR", "80.00"));
    })
    .await;
}

#[tokio::test]
async fn a_list_whose_window_opens_changes_the_price_within_a_second_with_no_write() {
    on_each_backend(|app| async move {
        let shop = shop(&app).await;
        list_price(&app, &shop.vip_list, &shop.chair, "70.00").await;
        let starts_at = chrono::Utc::now() + chrono::Duration::seconds(2);
        let input =
            json!({ "id": shop.vip_list, "startsAt": starts_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true) });
        crate::fixtures::write(&app, "updatePriceList", input).await;
        let addr = serve(&app).await;

        let mut ws = Ws::connect(addr, None).await.expect("accepted");
        ws.subscribe("edge", json!({ "c": shop.shopper, "p": [shop.chair] }))
            .await;
        // A price asked again inside the answer is the price at the answer's
        // time too, not at the subscription's start.
        const NESTED: &str =
            "subscription($c: ID, $p: [ID!]!) { priceChanges(customerId: $c, productIds: $p, currency: \"USD\") {
            product { resolvedPrice(customerId: $c, currency: \"USD\") { amount { amount } } } } }";
        let payload = json!({ "query": NESTED, "variables": { "c": shop.shopper, "p": [shop.chair] } });
        // On a connection of its own: `next` skips other subscriptions' messages.
        let mut nested_ws = Ws::connect(addr, None).await.expect("accepted");
        nested_ws
            .send(json!({ "id": "nested", "type": "subscribe", "payload": payload }))
            .await;
        assert_eq!(
            price(&ws.next("edge").await),
            pays("CHAIR", "100.00"),
            "not started yet"
        );
        let nested =
            |payload: &Value| payload["data"]["priceChanges"]["product"]["resolvedPrice"]["amount"]["amount"].clone();
        assert_eq!(nested(&nested_ws.next("nested").await), json!("100.00"));
        let changed = ws.next("edge").await;
        let late = chrono::Utc::now() - starts_at;
        assert_eq!(price(&changed), pays("CHAIR", "70.00"));
        assert_eq!(
            nested(&nested_ws.next("nested").await),
            json!("70.00"),
            "the nested price at the answer's time"
        );
        println!(
            "the window's price arrived {} ms after startsAt",
            late.num_milliseconds()
        );
        assert!(late >= chrono::Duration::zero(), "before the window opened: {late}");
        assert!(
            late < chrono::Duration::milliseconds(1500),
            "{} ms after startsAt",
            late.num_milliseconds()
        );
    })
    .await;
}

#[tokio::test]
async fn a_write_that_changes_no_answer_sends_nothing() {
    on_each_backend(|app| async move {
        let shop = shop(&app).await;
        let table = product(&app, "TABLE", json!({})).await;
        base_price(&app, &table, 1, "300.00").await;
        let lamp = product(&app, "LAMP", json!({})).await;
        let addr = serve(&app).await;

        let mut sse = Sse::subscribe(addr, None, json!({ "c": shop.shopper, "p": [shop.chair, table] })).await;
        let mut first = vec![price(&sse.next().await), price(&sse.next().await)];
        first.sort_by_key(|(sku, _)| sku.clone());
        assert_eq!(first, vec![pays("CHAIR", "100.00"), pays("TABLE", "300.00")]);

        // None of these changes what the shopper pays for the chair or the table.
        base_price(&app, &lamp, 1, "20.00").await;
        list_price(&app, &shop.vip_list, &lamp, "15.00").await;
        base_price(&app, &table, 1, "300.00").await;
        crate::fixtures::write(&app, "updatePriceList", json!({ "id": shop.vip_list, "name": "VIP" })).await;
        // This one does: the next message is its answer, and only its.
        list_price(&app, &shop.vip_list, &shop.chair, "90.00").await;
        assert_eq!(price(&sse.next().await), pays("CHAIR", "90.00"));
        base_price(&app, &table, 1, "250.00").await;
        assert_eq!(price(&sse.next().await), pays("TABLE", "250.00"));
    })
    .await;
}

#[tokio::test]
async fn a_customer_token_subscribes_to_its_own_prices_only() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let shop = shop(&app).await;
    let stranger = customer(&app, "stranger@example.com", json!({})).await;
    let guarded = app.served_with(auth(), HttpOptions::default());
    let addr = serve(&guarded).await;
    let mine = format!("Bearer {}", customer_token(&shop.shopper));

    let mut ws = Ws::connect(addr, Some(&mine)).await.expect("accepted");
    ws.subscribe("theirs", json!({ "c": stranger, "p": [shop.chair] }))
        .await;
    let refused = ws.next("theirs").await;
    assert_eq!(error_code(&refused), json!("FORBIDDEN"), "{refused}");
    assert_eq!(refused["data"], Value::Null);
    ws.subscribe("mine", json!({ "c": shop.shopper, "p": [shop.chair] }))
        .await;
    assert_eq!(price(&ws.next("mine").await), pays("CHAIR", "100.00"));

    let mut sse = Sse::subscribe(addr, Some(&mine), json!({ "c": stranger, "p": [shop.chair] })).await;
    assert_eq!(error_code(&sse.next().await), json!("FORBIDDEN"));
    assert_eq!(sse.event().await.0, "complete");

    // No credentials at all: the connection is refused.
    let refused = Ws::connect(addr, None).await.err().expect("refused");
    assert!(refused.contains("credentials"), "{refused}");
    // Bad arguments name themselves.
    ws.subscribe("bad", json!({ "c": shop.shopper, "p": [shop.chair], "cur": "XXX" }))
        .await;
    let bad = ws.next("bad").await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], json!("currency"), "{bad}");
}

#[tokio::test]
async fn a_connection_holds_a_bounded_number_of_subscriptions() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let shop = shop(&app).await;
    let addr = serve(&app).await;
    let variables = json!({ "c": shop.shopper, "p": [shop.chair] });
    let mut ws = Ws::connect(addr, None).await.expect("accepted");
    for n in 0..MAX_OPERATIONS_PER_CONNECTION {
        ws.subscribe(&n.to_string(), variables.clone()).await;
        assert_eq!(price(&ws.next(&n.to_string()).await), pays("CHAIR", "100.00"));
    }
    ws.subscribe("one-too-many", variables.clone()).await;
    let refused = ws.next("one-too-many").await;
    assert_eq!(error_code(&refused), json!("TOO_MANY_SUBSCRIPTIONS"), "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&MAX_OPERATIONS_PER_CONNECTION.to_string()),
        "{message}"
    );

    // Completing one frees its place.
    ws.send(json!({ "id": "0", "type": "complete" })).await;
    ws.subscribe("in-its-place", variables).await;
    assert_eq!(price(&ws.next("in-its-place").await), pays("CHAIR", "100.00"));
    // And the others still hear of changes.
    list_price(&app, &shop.vip_list, &shop.chair, "60.00").await;
    assert_eq!(price(&ws.next("7").await), pays("CHAIR", "60.00"));
}

#[tokio::test]
async fn queries_over_the_websocket_keep_the_http_limits() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let addr = serve(&app).await;
    let mut ws = Ws::connect(addr, None).await.expect("accepted");
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {}}} }} }} }} }}",
        "ofType { ".repeat(20),
        "} ".repeat(20)
    );
    ws.send(json!({ "id": "q", "type": "subscribe", "payload": { "query": deep } }))
        .await;
    let answer = ws.next("q").await;
    assert_eq!(error_code(&answer), json!("QUERY_TOO_DEEP"), "{answer}");
    ws.send(json!({ "id": "t", "type": "subscribe", "payload": { "query": "{ __typename }" } }))
        .await;
    assert_eq!(ws.next("t").await["data"]["__typename"], json!("Query"));
}

#[tokio::test]
async fn a_credential_holds_a_bounded_number_of_streaming_connections() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let shop = shop(&app).await;
    let addr = serve(&app).await;
    let variables = json!({ "c": shop.shopper, "p": [shop.chair] });
    let mut open = Vec::new();
    for _ in 0..pricegraph::http::MAX_CONNECTIONS_PER_CREDENTIAL {
        let mut sse = Sse::subscribe(addr, None, variables.clone()).await;
        assert_eq!(price(&sse.next().await), pays("CHAIR", "100.00"));
        open.push(sse);
    }
    let refused = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("accept", "text/event-stream")
        .json(&json!({ "query": PRICE_CHANGES, "variables": variables }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(error_code(&body), json!("TOO_MANY_CONNECTIONS"), "{body}");
    // The open ones still hear of changes.
    list_price(&app, &shop.vip_list, &shop.chair, "55.00").await;
    assert_eq!(price(&open[42].next().await), pays("CHAIR", "55.00"));
}

/// Stopping the real server ends its subscriptions as the listener closes:
/// WebSocket clients get 1001 (going away), SSE streams end without
/// `complete`, so both reconnect elsewhere, and the server does not hold
/// its grace period (two minutes here) for streams that never finish.
#[test]
fn a_stopping_server_ends_its_subscriptions_so_that_clients_reconnect() {
    use crate::binary::{Process, post_graphql};
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the clients");
    let (mut server, addr) = Process::serve(&["--demo", "--shutdown-grace-seconds", "120"]);
    let products = post_graphql(addr, "stop-products", "{ products(first: 1) { nodes { id } } }").json();
    let id = products["data"]["products"]["nodes"][0]["id"].clone();
    assert!(id.is_string(), "{products}");
    let variables = json!({ "p": [id] });
    let (mut ws, mut sse) = runtime.block_on(async {
        let mut ws = Ws::connect(addr, None).await.expect("accepted");
        ws.subscribe("1", variables.clone()).await;
        ws.next("1").await;
        let mut sse = Sse::subscribe(addr, None, variables).await;
        sse.next().await;
        (ws, sse)
    });

    server.terminate();
    let (code, events) = runtime.block_on(async { (ws.close_code().await, sse.rest().await) });
    assert_eq!(code, Some(1001), "going away");
    assert!(
        !events.iter().any(|e| e == "complete"),
        "the subscription did not complete: {events:?}"
    );
    assert_eq!(server.wait_for_exit().code(), Some(0), "{}", server.log());
    let log = server.log();
    assert!(log.contains("every request in flight finished"), "{log}");
}

/// Browsers apply no CORS to WebSockets, so the server does: a page from
/// another origin may open one only when `--cors-origins` lists it; pages
/// it serves itself (GraphiQL), and clients that send no `Origin`, may.
#[tokio::test]
async fn a_websocket_from_a_page_of_another_origin_is_refused_unless_cors_allows_it() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let allowed = "https://shop.example";
    let options = HttpOptions {
        cors_origins: vec![allowed.parse().expect("an origin")],
        ..HttpOptions::default()
    };
    let addr = serve(&app.served_with(pricegraph::auth::Auth::open(), options)).await;
    let from = |origin: &str| {
        let mut request = format!("ws://{addr}/graphql").into_client_request().expect("a request");
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("a header"));
        request
    };
    let refused = tokio_tungstenite::connect_async(from("https://evil.example")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned();
            assert!(
                body.contains("ORIGIN_NOT_ALLOWED") && body.contains("https://evil.example"),
                "{body}"
            );
        }
        other => panic!("not refused: {:?}", other.map(|(_, response)| response.status())),
    }
    for origin in [allowed.to_owned(), format!("http://{addr}")] {
        Ws::connect_with(from(&origin), None)
            .await
            .unwrap_or_else(|reason| panic!("{origin} refused: {reason}"));
    }
}
