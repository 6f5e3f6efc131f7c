//! pricegraph: customer groups, price lists and the answer to "what does this
//! customer pay, and why". Data flows HTTP → GraphQL/REST → service →
//! pricing core / store; nothing reaches back up.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod money;
pub mod page;
pub mod pricing;
pub mod seed;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod usage;

pub use http::{AppState, build_app};
