//! Invalidation across instances over Redis: two servers on one database
//! and one Redis (a prefix per test), and Redis unreachable. The first runs
//! when `TEST_REDIS_URL` is set, as `.ci/run` does; a set URL that cannot be
//! reached fails the test.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use pricegraph::cache::CacheOptions;
use pricegraph::cache::bus;
use pricegraph::cache::shared::RedisOptions;
use serde_json::{Value, json};

use crate::fixtures::{base_price, customer, product};
use crate::helpers::{TestApp, on_each_backend};
use crate::test_redis::TestRedis;

async fn pays(app: &TestApp, customer: &str, product: &str) -> Value {
    app.data(
        "query($c: ID, $p: ID!) { resolvedPrice(customerId: $c, productId: $p, currency: \"USD\") { amount { amount } } }",
        json!({ "c": customer, "p": product }),
    )
    .await["resolvedPrice"]["amount"]["amount"]
        .clone()
}

/// Polls `done` until it holds, for at most `bound`.
async fn within<F, Fut>(bound: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < bound {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    done().await
}

#[tokio::test]
async fn a_write_on_one_instance_shows_on_the_other_within_a_second() {
    on_each_backend(|a| async move {
        let Some(redis) = TestRedis::new() else { return };
        let b = a.twin(CacheOptions::default()).await;
        redis.attach(&a).await;
        redis.attach(&b).await;

        let chair = product(&a, "CHAIR", json!({})).await;
        base_price(&a, &chair, 1, "100.00").await;
        let shopper = customer(&a, "shopper@example.com", json!({})).await;
        assert_eq!(pays(&b, &shopper, &chair).await, "100.00");
        // B now answers from its cache.
        let (statements, price) = b.count_warm_statements(pays(&b, &shopper, &chair)).await;
        assert_eq!((statements, price), (0, json!("100.00")));

        base_price(&a, &chair, 1, "90.00").await;
        let seen = within(Duration::from_secs(1), || async {
            pays(&b, &shopper, &chair).await == "90.00"
        })
        .await;
        assert!(seen, "instance B still shows the old price a second after A's write");
    })
    .await;
}

#[tokio::test]
async fn with_redis_unreachable_every_request_is_served_from_the_database() {
    on_each_backend(|a| async move {
        let b = a.twin(CacheOptions::default()).await;
        let options = RedisOptions {
            timeout: Duration::from_millis(20),
            ..RedisOptions::new("redis://127.0.0.1:9/", "unreachable:")
        };
        bus::start(a.store.cache.clone(), options.clone()).expect("a Redis URL");
        bus::start(b.store.cache.clone(), options).expect("a Redis URL");
        let ready = b
            .request(Request::get("/ready").body(Body::empty()).expect("request"))
            .await;
        assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);

        let chair = product(&a, "CHAIR", json!({})).await;
        base_price(&a, &chair, 1, "100.00").await;
        let shopper = customer(&a, "shopper@example.com", json!({})).await;
        assert_eq!(pays(&b, &shopper, &chair).await, "100.00");
        base_price(&a, &chair, 1, "90.00").await;
        // No invalidation can reach B, so B must not answer from its cache.
        assert_eq!(pays(&b, &shopper, &chair).await, "90.00");
        assert_eq!(pays(&a, &shopper, &chair).await, "90.00");
        assert!(b.store.cache.is_paused());
        assert!(
            a.store.cache.redis_errors() > 0,
            "the failed invalidations were not counted"
        );
    })
    .await;
}

#[tokio::test]
async fn with_redis_answering_nothing_every_request_is_served_from_the_database() {
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
        let b = a.twin(CacheOptions::default()).await;
        let options = RedisOptions {
            timeout: Duration::from_millis(20),
            ..RedisOptions::new(format!("redis://127.0.0.1:{port}/"), "silent:")
        };
        bus::start(a.store.cache.clone(), options.clone()).expect("a Redis URL");
        bus::start(b.store.cache.clone(), options).expect("a Redis URL");
        let chair = product(&a, "CHAIR", json!({})).await;
        let shopper = customer(&a, "shopper@example.com", json!({})).await;
        for amount in ["100.00", "90.00", "80.00"] {
            base_price(&a, &chair, 1, amount).await;
            assert_eq!(pays(&a, &shopper, &chair).await, amount);
            assert_eq!(pays(&b, &shopper, &chair).await, amount);
        }
        assert!(a.store.cache.is_paused() && b.store.cache.is_paused());
        assert!(a.store.cache.redis_errors() > 0, "the timeouts were not counted");
    })
    .await;
}
