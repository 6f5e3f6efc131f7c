//! Redis for the tests that need it: `TEST_REDIS_URL` (set by `.ci/run`),
//! a key prefix per test, every key under it deleted when the test ends. A
//! set URL that cannot be reached fails the test; without one, the Redis
//! tests have nothing to run against and return at once.

use std::collections::BTreeSet;
use std::time::Duration;

use pricegraph::cache::shared::{self, RedisOptions};

use crate::helpers::TestApp;

pub struct TestRedis {
    pub url: String,
    pub prefix: String,
    client: redis::Client,
}

impl TestRedis {
    pub fn new() -> Option<Self> {
        let url = std::env::var("TEST_REDIS_URL").ok().filter(|url| !url.is_empty())?;
        Some(Self::at(&url))
    }

    /// Redis at `url`, with a prefix of its own.
    pub fn at(url: &str) -> Self {
        let client = redis::Client::open(url).expect("TEST_REDIS_URL is a Redis URL");
        Self {
            url: url.to_owned(),
            prefix: format!("test:{}:", uuid::Uuid::new_v4().simple()),
            client,
        }
    }

    pub fn options(&self) -> RedisOptions {
        RedisOptions {
            // Generous: the suite runs many tests at once on two cores.
            timeout: Duration::from_millis(500),
            ..RedisOptions::new(&self.url, &self.prefix)
        }
    }

    /// Attaches Redis to `app`'s cache, once it answers.
    pub async fn attach(&self, app: &TestApp) {
        self.attach_with(app, self.options()).await;
    }

    pub async fn attach_with(&self, app: &TestApp, options: RedisOptions) {
        let _: String = redis::cmd("PING").query(&mut self.connection()).expect("PING");
        shared::attach(&app.store.cache, &options).expect("a Redis URL");
    }

    fn connection(&self) -> redis::Connection {
        self.client
            .get_connection()
            .unwrap_or_else(|e| panic!("TEST_REDIS_URL is set but cannot be reached: {e}"))
    }

    /// Every key under this test's prefix, without the prefix.
    pub fn keys(&self) -> BTreeSet<String> {
        let mut connection = self.connection();
        let pattern = format!("{}*", self.prefix);
        let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query(&mut connection).expect("KEYS");
        keys.into_iter()
            .map(|key| key[self.prefix.len()..].to_owned())
            .collect()
    }

    /// A key's remaining life in milliseconds (-1: none, -2: no such key).
    pub fn pttl(&self, key: &str) -> i64 {
        redis::cmd("PTTL")
            .arg(format!("{}{key}", self.prefix))
            .query(&mut self.connection())
            .expect("PTTL")
    }

    /// Writes a key back as it was (a Redis restored from a snapshot).
    pub fn set(&self, key: &str, value: &str) {
        let _: () = redis::cmd("SET")
            .arg(format!("{}{key}", self.prefix))
            .arg(value)
            .query(&mut self.connection())
            .expect("SET");
    }

    pub fn get(&self, key: &str) -> Option<String> {
        redis::cmd("GET")
            .arg(format!("{}{key}", self.prefix))
            .query(&mut self.connection())
            .expect("GET")
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let Ok(mut connection) = self.client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut connection)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(&keys).query(&mut connection);
        }
    }
}
