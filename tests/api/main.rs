//! One integration-test binary, so the workspace links once.

mod cache;
mod cache_bus;
mod cache_model;
mod cache_redis;
mod catalog;
mod concurrency;
mod customers;
mod federation;
mod fixtures;
mod fuzz;
mod graphiql;
mod groups;
mod hardening;
mod helpers;
mod migrations;
mod money;
mod organizations;
mod price_lists;
mod pricing;
mod pricing_model;
mod rest;
mod schema;
mod security;
mod seed;
mod statements;
mod test_redis;
