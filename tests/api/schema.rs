/// `schema.graphql` is what the server serves: regenerate it with
/// `cargo run -- export-schema` after changing the API.
#[test]
fn schema_file_matches_the_served_schema() {
    let served = pricegraph::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let file = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        file == served,
        "schema.graphql differs from the served schema: run `cargo run -- export-schema`"
    );
}
