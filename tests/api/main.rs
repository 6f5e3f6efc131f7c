//! One integration-test binary, so the workspace links once.

mod fixtures;
mod groups;
mod helpers;
mod migrations;
mod schema;
