//! Instances learn of each other's writes from the change log in the
//! database, with or without Redis: a write on one shows on the other
//! within the lease; an instance that cannot follow the log stops serving
//! from its caches once the lease has passed; a Redis entry whose delete
//! was lost (a restart, a restored snapshot) is never served; Redis
//! unreachable or silent fails nothing. The Redis cases run when
//! `TEST_REDIS_URL` is set, as `.ci/run` does.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use pricegraph::cache::CacheOptions;
use pricegraph::cache::shared::{self, RedisOptions};
use serde_json::{Value, json};

use crate::fixtures::{base_price, customer, product};
use crate::helpers::{TestApp, on_each_backend, test_cache};
use crate::test_redis::TestRedis;

async fn pays(app: &TestApp, customer: &str, product: &str) -> Value {
    app.data(
        "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") { amount { amount } } }",
        json!({ "c": customer, "p": product }),
    )
    .await["resolvedPrice"]["amount"]["amount"]
        .clone()
}

/// Polls `done` until it holds, for at most `bound`; returns how long it took.
async fn within<F, Fut>(bound: Duration, mut done: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < bound {
        if done().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    done().await.then(|| started.elapsed())
}

/// A write on A reaches B's warm cache through the log: within a second
/// (the lease is 250 ms; the log is read every 50 ms).
async fn shows_on_the_other(a: &TestApp, b: &TestApp) {
    let chair = product(a, "CHAIR", json!({})).await;
    base_price(a, &chair, 1, "100.00").await;
    let shopper = customer(a, "shopper@example.com", json!({})).await;
    // (Once B has applied A's writes, which empties what they touch.)
    b.caught_up().await;
    assert_eq!(pays(b, &shopper, &chair).await, "100.00");
    // B now answers from its cache.
    let (statements, price) = b.count_warm_statements(pays(b, &shopper, &chair)).await;
    assert_eq!((statements, price), (0, json!("100.00")));

    base_price(a, &chair, 1, "90.00").await;
    let seen = within(Duration::from_secs(1), || async {
        pays(b, &shopper, &chair).await == "90.00"
    })
    .await;
    assert!(
        seen.is_some(),
        "instance B still shows the old price a second after A's write"
    );
    // And from its cache again.
    b.caught_up().await;
    pays(b, &shopper, &chair).await;
    let (statements, price) = b.count_warm_statements(pays(b, &shopper, &chair)).await;
    assert_eq!((statements, price), (0, json!("90.00")));
}

#[tokio::test]
async fn a_write_on_one_instance_shows_on_the_other_through_the_change_log() {
    on_each_backend(|a| async move {
        let b = a.twin(test_cache()).await;
        shows_on_the_other(&a, &b).await;
    })
    .await;
}

#[tokio::test]
async fn with_redis_a_write_on_one_instance_shows_on_the_other() {
    on_each_backend(|a| async move {
        let Some(redis) = TestRedis::new() else { return };
        let b = a.twin(test_cache()).await;
        redis.attach(&a).await;
        redis.attach(&b).await;
        shows_on_the_other(&a, &b).await;
    })
    .await;
}

#[tokio::test]
async fn an_instance_cut_off_from_the_change_log_stops_serving_its_cache_after_the_lease() {
    on_each_backend(|a| async move {
        let lease = Duration::from_millis(150);
        let b = a
            .twin(CacheOptions {
                lease,
                ..CacheOptions::default()
            })
            .await;
        let chair = product(&a, "CHAIR", json!({})).await;
        base_price(&a, &chair, 1, "100.00").await;
        let shopper = customer(&a, "shopper@example.com", json!({})).await;
        assert_eq!(pays(&b, &shopper, &chair).await, "100.00");
        // B stops hearing of writes (its reader of the log is gone: as if
        // only B were cut off), and A writes.
        b.follower.abort();
        base_price(&a, &chair, 1, "90.00").await;
        tokio::time::sleep(lease + Duration::from_millis(20)).await;
        // Past the lease, B reads the database: the new price, every time.
        assert!(!b.store.cache.is_serving());
        let (statements, price) = b.count_warm_statements(pays(&b, &shopper, &chair)).await;
        assert_eq!(price, json!("90.00"));
        assert!(statements > 0, "B answered from a cache it cannot vouch for");
    })
    .await;
}

#[tokio::test]
async fn a_redis_entry_whose_delete_was_lost_is_never_served() {
    on_each_backend(|a| async move {
        let Some(redis) = TestRedis::new() else { return };
        redis.attach(&a).await;
        let chair = product(&a, "CHAIR", json!({})).await;
        base_price(&a, &chair, 1, "100.00").await;
        let shopper = customer(&a, "shopper@example.com", json!({})).await;
        // Once A's reader has seen its own writes, its fills are marked
        // with a position after them.
        a.caught_up().await;
        assert_eq!(pays(&a, &shopper, &chair).await, "100.00");
        let key = format!("pricing:prices:{chair}:USD");
        let snapshot = redis.get(&key).expect("the prices entry was stored");

        base_price(&a, &chair, 1, "90.00").await;
        assert_eq!(redis.get(&key), None, "the write deleted the entry");
        // Redis comes back from a snapshot taken before the write.
        redis.set(&key, &snapshot);

        // A fresh instance reads the log first: it never serves the entry.
        let c = a.twin(test_cache()).await;
        redis.attach(&c).await;
        assert_eq!(pays(&c, &shopper, &chair).await, "90.00");
        // Nor does A, once its cache has no entry of its own.
        a.store.cache.clear();
        assert_eq!(pays(&a, &shopper, &chair).await, "90.00");
    })
    .await;
}

#[tokio::test]
async fn with_redis_unreachable_every_request_is_answered_and_writes_still_show_everywhere() {
    on_each_backend(|a| async move {
        let b = a.twin(test_cache()).await;
        let options = RedisOptions {
            timeout: Duration::from_millis(20),
            ..RedisOptions::new("redis://127.0.0.1:9/", "unreachable:")
        };
        shared::attach(&a.store.cache, &options).expect("a Redis URL");
        shared::attach(&b.store.cache, &options).expect("a Redis URL");
        let ready = b
            .request(Request::get("/ready").body(Body::empty()).expect("request"))
            .await;
        assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
        shows_on_the_other(&a, &b).await;
        assert!(a.store.cache.redis_errors() > 0, "the failed commands were not counted");
    })
    .await;
}

#[tokio::test]
async fn with_redis_answering_nothing_every_request_is_answered() {
    // A "Redis" that accepts connections and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = silent.local_addr().expect("an address").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    on_each_backend(|a| async move {
        let b = a.twin(test_cache()).await;
        let options = RedisOptions {
            timeout: Duration::from_millis(20),
            ..RedisOptions::new(format!("redis://127.0.0.1:{port}/"), "silent:")
        };
        shared::attach(&a.store.cache, &options).expect("a Redis URL");
        shared::attach(&b.store.cache, &options).expect("a Redis URL");
        let chair = product(&a, "CHAIR", json!({})).await;
        let shopper = customer(&a, "shopper@example.com", json!({})).await;
        for amount in ["100.00", "90.00", "80.00"] {
            base_price(&a, &chair, 1, amount).await;
            assert_eq!(pays(&a, &shopper, &chair).await, amount);
            let seen = within(Duration::from_secs(1), || async {
                pays(&b, &shopper, &chair).await == amount
            })
            .await;
            assert!(seen.is_some(), "B did not show {amount} within a second");
        }
        assert!(a.store.cache.redis_errors() > 0, "the timeouts were not counted");
    })
    .await;
}
