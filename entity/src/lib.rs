//! SeaORM entities for every table, and nothing else: no GraphQL,
//! no validation. The API wraps these models in types of its own.

pub mod base_price;
pub mod customer;
pub mod customer_group;
pub mod customer_group_price_list;
pub mod customer_group_product_line;
pub mod group_usage;
pub mod idempotency_key;
pub mod membership;
pub mod organization;
pub mod organization_group;
pub mod price;
pub mod price_list;
pub mod product;
pub mod product_line;
pub mod values;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_event;
