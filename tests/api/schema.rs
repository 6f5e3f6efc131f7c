use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{FieldDefinition, InputValueDefinition, TypeKind, TypeSystemDefinition};

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

/// The schema is the API's reference for frontend developers and admins:
/// every type, field, argument, enum value and input field says what it is
/// for, in their terms. Checked in the schema and in the federation
/// subgraph SDL (which leaves out the federation machinery: `_Any`,
/// `_Entity`, `_Service`).
#[test]
fn every_type_field_argument_and_value_has_a_description_for_the_apis_users() {
    for (which, sdl) in [
        ("schema", pricegraph::graphql::sdl()),
        ("subgraph SDL", pricegraph::graphql::subgraph_sdl()),
    ] {
        let (missing, rust) = undescribed(&sdl);
        assert!(
            missing.is_empty(),
            "the {which} has {} elements without a description:\n  {}",
            missing.len(),
            missing.join("\n  ")
        );
        assert!(
            rust.is_empty(),
            "the {which} has {} descriptions that speak Rust or cite a document users do not have:\n  {}",
            rust.len(),
            rust.join("\n  ")
        );
    }
}

/// Date-times are RFC 3339 strings, and the schema says so in the way tools read.
#[test]
fn date_times_are_specified_by_rfc_3339() {
    let sdl = pricegraph::graphql::sdl();
    assert!(
        sdl.contains("scalar DateTime @specifiedBy(url: \"https://datatracker.ietf.org/doc/html/rfc3339\")"),
        "DateTime carries no @specifiedBy(url: RFC 3339)"
    );
}

/// What no description may contain: Rust type names and references to
/// documents outside the repository.
const NOT_FOR_USERS: &[&str] = &[
    "<Utc>", "Option<", "Vec<", "Uuid", "i32", "i64", "u64", "&str", "::", "SPEC", "seed 0",
];

/// The paths of the schema's elements that have no description (such as
/// `Customer.email`, `Query.customers(first:)`, `GroupKind.TYPE`), and of
/// those whose description holds something from [`NOT_FOR_USERS`].
fn undescribed(sdl: &str) -> (Vec<String>, Vec<String>) {
    let document = parse_schema(sdl).expect("the SDL parses");
    let mut described: Vec<(String, Option<String>)> = Vec::new();
    let field = |ty: &str, field: &FieldDefinition, described: &mut Vec<(String, Option<String>)>| {
        let path = format!("{ty}.{}", field.name.node);
        described.push((path.clone(), text(&field.description)));
        for argument in &field.arguments {
            let path = format!("{path}({}:)", argument.node.name.node);
            described.push((path, text(&argument.node.description)));
        }
    };
    let input =
        |ty: &str, value: &InputValueDefinition| (format!("{ty}.{}", value.name.node), text(&value.description));
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let ty = &ty.node;
        let name = ty.name.node.as_str();
        if name.starts_with('_') {
            continue;
        }
        described.push((name.to_owned(), text(&ty.description)));
        match &ty.kind {
            TypeKind::Object(object) => object.fields.iter().for_each(|f| field(name, &f.node, &mut described)),
            TypeKind::Interface(interface) => interface
                .fields
                .iter()
                .for_each(|f| field(name, &f.node, &mut described)),
            TypeKind::Enum(values) => described.extend(
                values
                    .values
                    .iter()
                    .map(|v| (format!("{name}.{}", v.node.value.node), text(&v.node.description))),
            ),
            TypeKind::InputObject(object) => described.extend(object.fields.iter().map(|f| input(name, &f.node))),
            TypeKind::Scalar | TypeKind::Union(_) => {}
        }
    }
    let missing = described
        .iter()
        .filter(|(_, description)| description.is_none())
        .map(|(path, _)| path.clone())
        .collect();
    let rust = described
        .iter()
        .filter_map(|(path, description)| {
            let description = description.as_deref()?;
            let found: Vec<&str> = NOT_FOR_USERS
                .iter()
                .copied()
                .filter(|word| description.contains(word))
                .collect();
            (!found.is_empty()).then(|| format!("{path}: {}", found.join(", ")))
        })
        .collect();
    (missing, rust)
}

/// A description, unless it is absent or blank.
fn text(description: &Option<async_graphql::Positioned<String>>) -> Option<String> {
    description
        .as_ref()
        .map(|d| d.node.trim().to_owned())
        .filter(|d| !d.is_empty())
}
