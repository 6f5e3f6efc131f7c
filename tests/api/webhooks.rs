//! Webhooks (docs/api.md#webhooks): a real receiver (an axum server on a
//! free port) records what the delivery worker sends; signatures are
//! checked as the docs tell a receiver to. Backoff, leases and polling are
//! configured short, so the tests take about a second each.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use pricegraph::events::WebhookOptions;
use pricegraph::events::delivery::Worker;
use pricegraph::events::windows::Windows;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::fixtures::{
    add_customers, base_price, customer, list_price, organization, price_list, pricing_group, product, write,
};
use crate::helpers::{TestApp, on_each_backend, test_cache};
use crate::security::{SHOP_KEY, auth, customer_token};

const SECRET: &str = "a-receivers-secret-0123456789";
const ALL: [&str; 8] = [
    "PRICES_CHANGED",
    "BASE_PRICES_CHANGED",
    "PRICE_LIST_CHANGED",
    "PRICE_LIST_STARTED",
    "PRICE_LIST_ENDED",
    "GROUP_CHANGED",
    "MEMBERSHIP_CHANGED",
    "ORGANIZATION_GROUPS_CHANGED",
];

/// What the receiver was sent, and what it answered.
#[derive(Clone, Debug)]
struct Received {
    signature: String,
    body: Vec<u8>,
    json: Value,
    at: chrono::DateTime<Utc>,
    status: u16,
}

#[derive(Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer, in order; 200 once they run out.
    script: Arc<Mutex<VecDeque<u16>>>,
    /// Requests to hold without ever answering.
    hang: Arc<AtomicUsize>,
}

impl Inbox {
    fn all(&self) -> Vec<Received> {
        self.received.lock().expect("inbox").clone()
    }
    fn answer(&self, statuses: &[u16]) {
        *self.script.lock().expect("script") = statuses.iter().copied().collect();
    }
    /// Requests answered 2xx.
    fn accepted(&self) -> Vec<Received> {
        self.all().into_iter().filter(|r| r.status == 200).collect()
    }
}

struct Receiver {
    url: String,
    inbox: Inbox,
    task: tokio::task::AbortHandle,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receiver() -> Receiver {
    let inbox = Inbox::default();
    let app = Router::new().route("/hook", post(receive)).with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    Receiver {
        url: format!("http://{addr}/hook"),
        inbox,
        task: task.abort_handle(),
    }
}

async fn receive(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let hang = inbox
        .hang
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if hang {
        0
    } else {
        inbox.script.lock().expect("script").pop_front().unwrap_or(200)
    };
    let signature = headers
        .get("pricegraph-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    inbox.received.lock().expect("inbox").push(Received {
        signature,
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body: body.to_vec(),
        at: Utc::now(),
        status,
    });
    if hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

/// What docs/api.md tells a receiver to do: take `t` and `v1` from the
/// header, compute HMAC-SHA256 of "<t>.<raw body>" with the secret, compare
/// in constant time, and refuse a timestamp older than five minutes.
fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1.push(value.to_owned()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<sha2_hmac::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    v1.iter()
        .any(|signature| hex::decode(signature).is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok()))
}

fn fast() -> WebhookOptions {
    WebhookOptions {
        allow_private: true,
        retry_for: Duration::from_secs(30),
        first_retry: Duration::from_millis(50),
        max_retry_delay: Duration::from_millis(400),
        timeout: Duration::from_secs(5),
        lease: Duration::from_secs(10),
        poll_every: Duration::from_millis(20),
        catch_up: Duration::from_secs(60),
        counts: Default::default(),
    }
}

fn worker(app: &TestApp) -> Worker {
    Worker::start(app.db.conn.clone(), app.store.webhooks.clone())
}

fn windows(app: &TestApp) -> Windows {
    Windows::start(app.db.conn.clone(), app.store.webhooks.clone())
}

const CREATE: &str = "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
    webhookEndpoint { id url events } secret userErrors { field message code } } }";

/// Registers an endpoint; its id and the secret made for it, if any.
async fn endpoint(app: &TestApp, url: &str, events: &[&str], secret: Option<&str>) -> (String, Option<String>) {
    let payload = app
        .mutate(
            "createWebhookEndpoint",
            CREATE,
            json!({ "input": { "url": url, "events": events, "secret": secret } }),
        )
        .await;
    let id = payload["webhookEndpoint"]["id"].as_str().expect("an id").to_owned();
    (id, payload["secret"].as_str().map(str::to_owned))
}

const DELIVERIES: &str = "query { webhookEndpoints(first: 10) { nodes { id deliveries(first: 100) {
    totalCount nodes { id eventId eventType status attemptCount lastResponseStatus lastError
    attempts { responseStatus error durationMs } } } } } }";

/// The deliveries of the first endpoint.
async fn deliveries(app: &TestApp) -> Vec<Value> {
    let data = app.data(DELIVERIES, json!({})).await;
    data["webhookEndpoints"]["nodes"][0]["deliveries"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Polls `check` until it answers, for at most `within`.
async fn eventually<T>(what: &str, within: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(started.elapsed() < within, "waited {within:?} for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn types(received: &[Received]) -> HashSet<String> {
    received
        .iter()
        .filter_map(|r| r.json["type"].as_str().map(str::to_owned))
        .collect()
}

fn of_type<'a>(received: &'a [Received], event_type: &str) -> Vec<&'a Received> {
    received.iter().filter(|r| r.json["type"] == event_type).collect()
}

#[test]
fn every_event_type_arrives_signed() {
    // The writes of every kind make one large future: a bigger stack than
    // a test thread's default.
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(Box::pin(every_event_type_arrives_signed_on_each_backend()))
        })
        .expect("a thread")
        .join()
        .expect("the test passes");
}

async fn every_event_type_arrives_signed_on_each_backend() {
    on_each_backend(|app| async move {
        let rx = receiver().await;
        let app = app.with_webhooks(fast());
        let (worker, windows) = (worker(&app), windows(&app));
        endpoint(&app, &rx.url, &ALL, Some(SECRET)).await;

        let group = pricing_group(&app, "VIP").await;
        let starts = Utc::now() + chrono::Duration::milliseconds(1_200);
        let ends = starts + chrono::Duration::milliseconds(500);
        let list = price_list(
            &app,
            "Flash sale",
            json!({ "startsAt": starts.to_rfc3339(), "endsAt": ends.to_rfc3339() }),
        )
        .await;
        let mug = product(&app, "MUG-1", json!({})).await;
        list_price(&app, &list, &mug, "9.00").await;
        base_price(&app, &mug, 1, "10.00").await;
        let ann = customer(&app, "ann@example.com", json!({})).await;
        add_customers(&app, &group, &[&ann]).await;
        let acme = organization(&app, "Acme", json!({})).await;
        write(
            &app,
            "setOrganizationGroups",
            json!({ "organizationId": acme, "groupIds": [group] }),
        )
        .await;

        let received = eventually("every event type", Duration::from_secs(15), async || {
            let all = rx.inbox.accepted();
            (types(&all).len() == ALL.len()).then_some(all)
        })
        .await;
        for r in &received {
            assert!(verify(SECRET, &r.signature, &r.body), "a bad signature on {}", r.json);
            assert!(!verify("another-secret-0123456789", &r.signature, &r.body));
            assert!(
                r.json["id"].is_string() && r.json["createdAt"].is_string(),
                "{}",
                r.json
            );
        }
        let ids: HashSet<&str> = received.iter().filter_map(|r| r.json["id"].as_str()).collect();
        assert_eq!(ids.len(), received.len(), "each event has an id of its own");

        let prices = of_type(&received, "PRICES_CHANGED");
        assert_eq!(
            prices[0].json["data"],
            json!({ "priceListId": list, "productIds": [mug], "currencies": ["USD"] })
        );
        let base = of_type(&received, "BASE_PRICES_CHANGED");
        assert_eq!(
            base[0].json["data"],
            json!({ "productIds": [mug], "currencies": ["USD"] })
        );
        let members = of_type(&received, "MEMBERSHIP_CHANGED");
        assert_eq!(
            members[0].json["data"],
            json!({ "groupId": group, "customerIds": [ann] })
        );
        let orgs = of_type(&received, "ORGANIZATION_GROUPS_CHANGED");
        assert_eq!(
            orgs[0].json["data"],
            json!({ "organizationId": acme, "groupIds": [group] })
        );
        let started = of_type(&received, "PRICE_LIST_STARTED");
        assert_eq!(started.len(), 1);
        assert_eq!(started[0].json["data"]["priceListId"], json!(list));
        let ended = of_type(&received, "PRICE_LIST_ENDED");
        assert_eq!(ended.len(), 1);
        assert!(ended[0].at >= ends, "announced before the window closed");

        windows.stop(Duration::from_secs(1)).await;
        worker.stop(Duration::from_secs(1)).await;
    })
    .await;
}

/// The `(groupId, customerIds)` of every `MEMBERSHIP_CHANGED` received, sorted.
fn memberships(received: &[Received]) -> Vec<(String, Value)> {
    let mut found: Vec<(String, Value)> = of_type(received, "MEMBERSHIP_CHANGED")
        .iter()
        .map(|r| {
            (
                r.json["data"]["groupId"].as_str().unwrap_or_default().to_owned(),
                r.json["data"]["customerIds"].clone(),
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[tokio::test]
async fn a_customer_moved_or_deleted_announces_the_groups_it_left_and_joined() {
    on_each_backend(|app| async move {
        let rx = receiver().await;
        let app = app.with_webhooks(fast());
        let worker = worker(&app);
        let vip = pricing_group(&app, "VIP").await;
        let trade = pricing_group(&app, "Trade").await;
        let ann = customer(&app, "ann@example.com", json!({})).await;
        add_customers(&app, &vip, &[&ann]).await;
        let acme = organization(&app, "Acme", json!({})).await;
        let empty = organization(&app, "Empty", json!({})).await;
        write(
            &app,
            "setOrganizationGroups",
            json!({ "organizationId": acme, "groupIds": [trade] }),
        )
        .await;
        // Only what follows is sent: the endpoint is registered now.
        endpoint(&app, &rx.url, &["MEMBERSHIP_CHANGED"], Some(SECRET)).await;
        let mut expected: Vec<(String, Value)> = Vec::new();
        let check = async |expected: &[(String, Value)]| {
            let mut expected = expected.to_vec();
            expected.sort_by(|a, b| a.0.cmp(&b.0));
            let received = eventually("the membership events", Duration::from_secs(10), async || {
                let all = rx.inbox.accepted();
                (all.len() >= expected.len()).then_some(all)
            })
            .await;
            assert_eq!(memberships(&received), expected);
            assert!(received.iter().all(|r| verify(SECRET, &r.signature, &r.body)));
        };

        // Into an organization with no groups: its own groups still count.
        write(&app, "updateCustomer", json!({ "id": ann, "organizationId": empty })).await;
        // Into one with groups: VIP is left, Trade joined.
        write(&app, "updateCustomer", json!({ "id": ann, "organizationId": acme })).await;
        expected.push((vip.clone(), json!([ann])));
        expected.push((trade.clone(), json!([ann])));
        check(&expected).await;

        // Deleted: every group it was in, directly, by type or through its
        // organization, loses it.
        write(&app, "deleteCustomer", json!({ "id": ann })).await;
        expected.push((vip.clone(), json!([ann])));
        expected.push((trade.clone(), json!([ann])));
        expected.push(("00000000-0000-7000-8000-000000000001".to_owned(), json!([ann])));
        check(&expected).await;
        // Time for a stray event to show, if there were one.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(memberships(&rx.inbox.accepted()).len(), expected.len());
        worker.stop(Duration::from_secs(1)).await;
    })
    .await;
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_the_event_once_after_four_attempts() {
    on_each_backend(|app| async move {
        let rx = receiver().await;
        rx.inbox.answer(&[500, 500, 500]);
        let app = app.with_webhooks(fast());
        let worker = worker(&app);
        // No secret given: one is made, and shown once.
        let (_, secret) = endpoint(&app, &rx.url, &["GROUP_CHANGED"], None).await;
        let secret = secret.expect("a secret made for the endpoint");
        assert!(secret.starts_with("whsec_") && secret.len() == 70, "{secret}");

        pricing_group(&app, "VIP").await;
        let delivery = eventually("the delivery", Duration::from_secs(10), async || {
            let found = deliveries(&app).await;
            found.first().filter(|d| d["status"] == "DELIVERED").cloned()
        })
        .await;
        assert_eq!(delivery["attemptCount"], 4);
        assert_eq!(delivery["lastResponseStatus"], 200);
        let statuses: Vec<&Value> = delivery["attempts"]
            .as_array()
            .expect("attempts")
            .iter()
            .map(|a| &a["responseStatus"])
            .collect();
        assert_eq!(statuses, [&json!(500), &json!(500), &json!(500), &json!(200)]);

        let all = rx.inbox.all();
        assert_eq!(all.len(), 4, "four requests");
        assert_eq!(rx.inbox.accepted().len(), 1, "delivered exactly once");
        assert!(
            all.iter().all(|r| r.json["id"] == delivery["eventId"]),
            "the same event id each time"
        );
        assert!(all.iter().all(|r| verify(&secret, &r.signature, &r.body)));
        // The waits doubled, each drawn between half of 50, 100, 200 ms and
        // all of it (jitter).
        let gaps: Vec<i64> = all.windows(2).map(|w| (w[1].at - w[0].at).num_milliseconds()).collect();
        assert!(gaps[0] >= 22 && gaps[1] >= 47 && gaps[2] >= 97, "{gaps:?}");
        // What an operator's Prometheus sees.
        let metrics = crate::metrics::scrape(&app).await;
        let attempts = |outcome: &str| {
            crate::metrics::sample(
                &metrics,
                &format!("pricegraph_webhook_attempts_total{{outcome=\"{outcome}\"}}"),
            )
        };
        assert_eq!(
            (attempts("delivered"), attempts("retry"), attempts("failed")),
            (1.0, 3.0, 0.0),
            "{metrics}"
        );
        worker.stop(Duration::from_secs(1)).await;
    })
    .await;
}

const RETRY: &str = "mutation($input: RetryWebhookDeliveryInput!) { retryWebhookDelivery(input: $input) {
    webhookDelivery { id status } userErrors { field message code } } }";

#[tokio::test]
async fn a_failed_delivery_is_sent_again_on_request() {
    on_each_backend(|app| async move {
        let rx = receiver().await;
        rx.inbox.answer(&[503; 100]);
        let app = app.with_webhooks(WebhookOptions {
            retry_for: Duration::from_millis(300),
            ..fast()
        });
        let worker = worker(&app);
        endpoint(&app, &rx.url, &["GROUP_CHANGED"], Some(SECRET)).await;
        pricing_group(&app, "VIP").await;
        let failed = eventually("the delivery to fail", Duration::from_secs(10), async || {
            deliveries(&app)
                .await
                .first()
                .filter(|d| d["status"] == "FAILED")
                .cloned()
        })
        .await;
        let attempts = failed["attemptCount"].as_i64().expect("a count");
        assert!(attempts >= 2, "{failed}");
        assert_eq!(failed["lastResponseStatus"], 503);
        assert_eq!(failed["attempts"].as_array().map(Vec::len), Some(attempts as usize));
        assert_eq!(rx.inbox.all().len(), attempts as usize);

        rx.inbox.answer(&[]);
        let payload = app
            .mutate(
                "retryWebhookDelivery",
                RETRY,
                json!({ "input": { "id": failed["id"] } }),
            )
            .await;
        assert_eq!(payload["webhookDelivery"]["status"], "PENDING");
        let delivered = eventually("the retried delivery", Duration::from_secs(10), async || {
            deliveries(&app)
                .await
                .first()
                .filter(|d| d["status"] == "DELIVERED")
                .cloned()
        })
        .await;
        assert_eq!(delivered["attemptCount"], attempts + 1);
        assert_eq!(rx.inbox.accepted().len(), 1);

        // Only a failed delivery can be retried; an unknown one is not found.
        for (id, code) in [
            (failed["id"].clone(), "INVALID"),
            (json!(uuid::Uuid::nil()), "NOT_FOUND"),
        ] {
            let data = app.data(RETRY, json!({ "input": { "id": id } })).await;
            let payload = &data["retryWebhookDelivery"];
            assert_eq!(payload["userErrors"][0]["field"], json!(["id"]), "{payload}");
            assert_eq!(payload["userErrors"][0]["code"], code, "{payload}");
        }
        worker.stop(Duration::from_secs(1)).await;
    })
    .await;
}

#[tokio::test]
async fn an_instance_stopped_mid_delivery_loses_nothing() {
    on_each_backend(|app| async move {
        let rx = receiver().await;
        rx.inbox.hang.store(1, Ordering::SeqCst);
        let options = WebhookOptions {
            timeout: Duration::from_secs(60),
            lease: Duration::from_secs(1),
            ..fast()
        };
        let first = app.with_webhooks(options.clone());
        let stopping = worker(&first);
        endpoint(&first, &rx.url, &["GROUP_CHANGED"], Some(SECRET)).await;
        pricing_group(&first, "VIP").await;
        eventually("the first attempt", Duration::from_secs(10), async || {
            (!rx.inbox.all().is_empty()).then_some(())
        })
        .await;
        // The receiver holds the request; stopping cuts it, and does not hang.
        let stop = Instant::now();
        stopping.stop(Duration::from_millis(200)).await;
        assert!(stop.elapsed() < Duration::from_secs(2), "{:?}", stop.elapsed());

        // Another instance takes the delivery over once the claim expires.
        let second = app.twin(test_cache()).await.with_webhooks(options);
        let taking_over = worker(&second);
        let delivered = eventually("the delivery after the stop", Duration::from_secs(10), async || {
            deliveries(&second)
                .await
                .first()
                .filter(|d| d["status"] == "DELIVERED")
                .cloned()
        })
        .await;
        let all = rx.inbox.all();
        assert_eq!(all.len(), 2, "the cut attempt and the one that succeeded");
        assert_eq!(all[0].json["id"], all[1].json["id"]);
        assert_eq!(all[1].json["id"], delivered["eventId"]);
        assert!(verify(SECRET, &all[1].signature, &all[1].body));
        taking_over.stop(Duration::from_secs(1)).await;
        second.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn two_instances_deliver_each_event_once() {
    on_each_backend(|app| async move {
        let rx = receiver().await;
        let a = app.with_webhooks(fast());
        let b = app.twin(test_cache()).await.with_webhooks(fast());
        let (on_a, on_b) = (worker(&a), worker(&b));
        endpoint(&a, &rx.url, &["GROUP_CHANGED"], Some(SECRET)).await;
        const EVENTS: usize = 30;
        for n in 0..EVENTS {
            let instance = if n % 2 == 0 { &a } else { &b };
            pricing_group(instance, &format!("Group {n}")).await;
        }
        eventually("every event", Duration::from_secs(20), async || {
            (rx.inbox.accepted().len() >= EVENTS).then_some(())
        })
        .await;
        // Time for a duplicate to show, if there were one.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let all = rx.inbox.all();
        let ids: HashSet<&str> = all.iter().filter_map(|r| r.json["id"].as_str()).collect();
        assert_eq!((all.len(), ids.len()), (EVENTS, EVENTS), "each event once");
        on_a.stop(Duration::from_secs(1)).await;
        on_b.stop(Duration::from_secs(1)).await;
        // Listing them, each with its attempts, takes the same few
        // statements however many there are (no statement per delivery).
        let (statements, listed) = a.count_statements(deliveries(&a)).await;
        assert_eq!(listed.len(), EVENTS);
        assert!(listed.iter().all(|d| d["attempts"].as_array().map_or(0, Vec::len) == 1));
        assert!(
            statements <= 5,
            "{statements} statements for {EVENTS} deliveries and their attempts"
        );
        b.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn a_list_starting_two_seconds_ahead_is_announced_once_at_the_instant() {
    on_each_backend(|app| async move {
        let rx = receiver().await;
        let a = app.with_webhooks(fast());
        let b = app.twin(test_cache()).await.with_webhooks(fast());
        // Both instances watch the windows; one delivers.
        let (on_a, on_b, delivering) = (windows(&a), windows(&b), worker(&a));
        endpoint(&a, &rx.url, &["PRICE_LIST_STARTED"], Some(SECRET)).await;
        let starts = Utc::now() + chrono::Duration::seconds(2);
        let list = price_list(&a, "Black Friday", json!({ "startsAt": starts.to_rfc3339() })).await;
        let started = eventually("PRICE_LIST_STARTED", Duration::from_secs(10), async || {
            rx.inbox.accepted().first().cloned()
        })
        .await;
        let late = (started.at - starts).num_milliseconds();
        assert!((0..=1_000).contains(&late), "announced {late} ms after the instant");
        assert_eq!(started.json["data"]["priceListId"], json!(list));
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(rx.inbox.all().len(), 1, "announced once, by one instance");

        // An edge that passes while no instance watches is caught up after a restart.
        on_a.stop(Duration::from_secs(1)).await;
        on_b.stop(Duration::from_secs(1)).await;
        let starts = Utc::now() + chrono::Duration::milliseconds(300);
        let missed = price_list(&a, "Missed", json!({ "startsAt": starts.to_rfc3339() })).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(rx.inbox.all().len(), 1, "nobody watching");
        let restarted = windows(&b);
        let caught_up = eventually("the missed edge", Duration::from_secs(10), async || {
            let all = rx.inbox.accepted();
            (all.len() == 2).then(|| all[1].clone())
        })
        .await;
        assert_eq!(caught_up.json["data"]["priceListId"], json!(missed));
        restarted.stop(Duration::from_secs(1)).await;
        delivering.stop(Duration::from_secs(1)).await;
        b.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn a_large_import_makes_a_bounded_number_of_events() {
    use pricegraph::service::bulk::{self, ImportOptions, ImportProgress, ImportReport, RowError};
    use pricegraph::service::prices::TierTable;

    struct Quiet;
    impl ImportProgress for Quiet {
        fn refused(&mut self, error: &RowError) {
            panic!("refused: {error}");
        }
        fn advanced(&mut self, _report: &ImportReport) {}
    }

    on_each_backend(|app| async move {
        const PRODUCTS: usize = 2_500;
        let now = Utc::now();
        let rows: Vec<entity::product::ActiveModel> = (0..PRODUCTS)
            .map(|n| {
                sea_orm::IntoActiveModel::into_active_model(entity::product::Model {
                    id: uuid::Uuid::now_v7(),
                    sku: format!("SKU-{n:05}"),
                    name: format!("Product {n}"),
                    product_line_id: None,
                    metadata: json!({}),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                })
            })
            .collect();
        for chunk in rows.chunks(500) {
            entity::product::Entity::insert_many(chunk.to_vec())
                .exec(&app.db.conn)
                .await
                .expect("products");
        }
        let list = price_list(&app, "Imported", json!({})).await;
        let mut csv = String::from("sku,currency,min_quantity,max_quantity,amount\n");
        for n in 0..PRODUCTS {
            csv.push_str(&format!("SKU-{n:05},USD,1,,{}.00\n", n % 90 + 1));
        }
        let table = TierTable::List(list.parse().expect("a uuid"));
        bulk::import_csv(&app.store, table, csv.as_bytes(), ImportOptions::default(), &mut Quiet)
            .await
            .expect("the import");
        let events = entity::webhook_event::Entity::find()
            .filter(entity::webhook_event::Column::EventType.eq("PRICES_CHANGED"))
            .all(&app.db.conn)
            .await
            .expect("events");
        // Two batches of 2,000 and 500 rows: 2 + 1 events of at most 1,000 ids.
        assert_eq!(events.len(), 3);
        let mut products = HashSet::new();
        for event in &events {
            let data: Value = serde_json::from_str(&event.data).expect("json");
            let ids = data["productIds"].as_array().expect("ids");
            assert!(ids.len() <= 1_000);
            products.extend(ids.iter().filter_map(Value::as_str).map(str::to_owned));
            assert_eq!(data["priceListId"], json!(list));
        }
        assert_eq!(products.len(), PRODUCTS);
    })
    .await;
}

#[tokio::test]
async fn bad_endpoints_are_refused_naming_the_field_and_nothing_is_written() {
    on_each_backend(|app| async move {
        // The default: private and loopback targets refused.
        let long_url = format!("https://example.com/{}", "a".repeat(2_100));
        let all = json!(ALL);
        let cases: Vec<(Value, &str)> = vec![
            (json!({ "url": "not a url", "events": all }), "url"),
            (json!({ "url": "ftp://example.com/hook", "events": all }), "url"),
            (
                json!({ "url": "https://user:pw@example.com/hook", "events": all }),
                "url",
            ),
            (json!({ "url": long_url, "events": all }), "url"),
            (json!({ "url": "http://127.0.0.1:9/hook", "events": all }), "url"),
            (json!({ "url": "http://localhost:9/hook", "events": all }), "url"),
            (json!({ "url": "http://10.0.0.1/hook", "events": all }), "url"),
            (json!({ "url": "http://169.254.169.254/latest", "events": all }), "url"),
            (json!({ "url": "http://[::1]/hook", "events": all }), "url"),
            (json!({ "url": "http://0.0.0.0/hook", "events": all }), "url"),
            (json!({ "url": "https://93.184.216.34/hook", "events": [] }), "events"),
            (
                json!({ "url": "https://93.184.216.34/hook", "events": all, "secret": "short" }),
                "secret",
            ),
            (
                json!({ "url": "https://93.184.216.34/hook", "events": all, "secret": "x".repeat(257) }),
                "secret",
            ),
        ];
        for (input, field) in cases {
            let data = app.data(CREATE, json!({ "input": input })).await;
            let payload = &data["createWebhookEndpoint"];
            assert!(payload["webhookEndpoint"].is_null(), "{input}: {payload}");
            assert_eq!(payload["userErrors"][0]["field"], json!([field]), "{input}: {payload}");
            assert_eq!(payload["userErrors"][0]["code"], "INVALID", "{input}: {payload}");
        }
        let count = app
            .data("query { webhookEndpoints(first: 1) { totalCount } }", json!({}))
            .await;
        assert_eq!(count["webhookEndpoints"]["totalCount"], 0);

        // A public address is fine; changing it to a private one is not.
        let (id, _) = endpoint(&app, "https://93.184.216.34/hook", &["GROUP_CHANGED"], Some(SECRET)).await;
        let update = "mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) {
            webhookEndpoint { url events } userErrors { field code } } }";
        let data = app
            .data(update, json!({ "input": { "id": id, "url": "http://192.168.1.10/" } }))
            .await;
        assert_eq!(data["updateWebhookEndpoint"]["userErrors"][0]["field"], json!(["url"]));
        let data = app
            .data(
                update,
                json!({ "input": { "id": id, "events": ["PRICES_CHANGED", "GROUP_CHANGED"] } }),
            )
            .await;
        assert_eq!(
            data["updateWebhookEndpoint"]["webhookEndpoint"],
            json!({ "url": "https://93.184.216.34/hook", "events": ["PRICES_CHANGED", "GROUP_CHANGED"] })
        );
        let delete = "mutation($input: DeleteWebhookEndpointInput!) { deleteWebhookEndpoint(input: $input) {
            deletedId userErrors { field code } } }";
        let data = app.data(delete, json!({ "input": { "id": id } })).await;
        assert_eq!(data["deleteWebhookEndpoint"]["deletedId"], json!(id));
    })
    .await;
}

#[tokio::test]
async fn only_admins_manage_endpoints() {
    on_each_backend(|app| async move {
        let secured = app.served_with(auth(), pricegraph::http::HttpOptions::default());
        let ann = customer(&app, "ann@example.com", json!({})).await;
        let input = json!({ "input": { "url": "https://93.184.216.34/hook", "events": ["GROUP_CHANGED"] } });
        for bearer in [customer_token(&ann), SHOP_KEY.to_owned()] {
            let response = crate::security::post(&secured, Some(&bearer), CREATE, input.clone()).await;
            assert_eq!(
                response.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{}",
                response.body
            );
            let response = crate::security::post(
                &secured,
                Some(&bearer),
                "query { webhookEndpoints(first: 5) { nodes { id url } } }",
                json!({}),
            )
            .await;
            assert_eq!(
                response.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{}",
                response.body
            );
        }
        let count = app
            .data("query { webhookEndpoints(first: 1) { totalCount } }", json!({}))
            .await;
        assert_eq!(count["webhookEndpoints"]["totalCount"], 0, "nothing written");
    })
    .await;
}

/// The real server killed (`SIGKILL`) while a delivery is in flight: the
/// event is in the database, not in the dead process, and the restarted
/// server sends it once the dead one's claim has run out.
#[test]
fn a_killed_server_delivers_the_event_after_a_restart() {
    use crate::binary::{Process, post_graphql};
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the receiver");
    let rx = runtime.block_on(receiver());
    rx.inbox.hang.store(1, Ordering::SeqCst);
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
    let envs = [("DATABASE_URL", database.as_str())];
    // An attempt may take a second, and a claim holds two.
    let args = [
        "--webhook-allow-private",
        "--webhook-timeout-seconds",
        "1",
        "--webhook-lease-seconds",
        "2",
    ];
    let (mut first, addr) = Process::serve_with(&args, &envs);
    let create = format!(
        "mutation {{ createWebhookEndpoint(input: {{ url: \"{}\", events: [GROUP_CHANGED], secret: \"{SECRET}\" }}) \
         {{ webhookEndpoint {{ id }} userErrors {{ message }} }} }}",
        rx.url
    );
    let created = post_graphql(addr, "kill-endpoint", &create).json();
    assert!(
        created["data"]["createWebhookEndpoint"]["webhookEndpoint"]["id"].is_string(),
        "{created}"
    );
    let group = "mutation { createCustomerGroup(input: { name: \"VIP\", kind: PRICING }) { userErrors { message } } }";
    let made = post_graphql(addr, "kill-group", group).json();
    assert_eq!(made["data"]["createCustomerGroup"]["userErrors"], json!([]), "{made}");

    let deadline = Instant::now() + Duration::from_secs(30);
    while rx.inbox.all().is_empty() {
        assert!(Instant::now() < deadline, "no attempt within 30 s:\n{}", first.log());
        std::thread::sleep(Duration::from_millis(10));
    }
    // The receiver holds the request: the attempt is in flight.
    first.signal("KILL");
    first.wait_for_exit();
    let cut = rx.inbox.all();
    assert_eq!(cut.len(), 1, "one attempt before the kill");

    let (second, addr) = Process::serve_with(&args, &envs);
    while rx.inbox.accepted().is_empty() {
        assert!(
            Instant::now() < deadline,
            "not delivered after the restart:\n{}",
            second.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let all = rx.inbox.all();
    assert_eq!(all.len(), 2, "the cut attempt and the delivery: {all:?}");
    assert_eq!(all[1].json["id"], cut[0].json["id"], "the same event");
    assert_eq!(all[1].json["type"], "GROUP_CHANGED");
    assert!(verify(SECRET, &all[1].signature, &all[1].body));
    let listed = post_graphql(
        addr,
        "kill-deliveries",
        "{ webhookEndpoints(first: 1) { nodes { deliveries(first: 5) { nodes { eventId status attemptCount } } } } }",
    )
    .json();
    let deliveries = &listed["data"]["webhookEndpoints"]["nodes"][0]["deliveries"]["nodes"];
    assert_eq!(
        deliveries,
        &json!([{ "eventId": cut[0].json["id"], "status": "DELIVERED", "attemptCount": 1 }]),
        "the killed attempt left no record; the one after the restart did"
    );
}

/// Listing endpoints with their deliveries and attempts takes the same
/// statements for one endpoint as for many (no statement per endpoint).
#[tokio::test]
async fn listing_endpoints_with_deliveries_takes_the_same_statements_for_one_or_many() {
    on_each_backend(|app| async move {
        let app = app.with_webhooks(fast());
        const LIST: &str = "query { webhookEndpoints(first: 10) { totalCount nodes { id deliveries(first: 10) {
            totalCount nodes { eventType attempts { responseStatus } } } } } }";
        let listed = async |app: &TestApp| {
            let (statements, data) = app.count_statements(app.data(LIST, json!({}))).await;
            let counts: Vec<i64> = data["webhookEndpoints"]["nodes"]
                .as_array()
                .expect("endpoints")
                .iter()
                .map(|e| e["deliveries"]["totalCount"].as_i64().expect("a count"))
                .collect();
            (statements, counts)
        };
        endpoint(&app, "http://127.0.0.1:9/one", &["GROUP_CHANGED"], None).await;
        pricing_group(&app, "First").await;
        let (one, counts) = listed(&app).await;
        assert_eq!(counts, [1]);
        endpoint(&app, "http://127.0.0.1:9/two", &["GROUP_CHANGED"], None).await;
        endpoint(&app, "http://127.0.0.1:9/three", &["GROUP_CHANGED"], None).await;
        pricing_group(&app, "Second").await;
        let (many, mut counts) = listed(&app).await;
        counts.sort_unstable();
        assert_eq!(counts, [1, 1, 2]);
        assert_eq!(one, many, "statements for one endpoint, then for three");
    })
    .await;
}
