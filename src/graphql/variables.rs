//! Variables the chosen operation requires (GraphQL spec §6.1.2, "Coercing
//! Variable Values"): a non-null variable without a default that the
//! request leaves out, or gives `null`, fails the whole request before
//! anything runs. async-graphql notices only when a field reads it, and
//! then fails that field alone with an uncoded error.

use async_graphql::Variables;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};

/// The first required variable of the operation `name` picks that the
/// request does not give a value, as the refusal's message.
pub fn missing(document: &ExecutableDocument, name: Option<&str>, variables: &Variables) -> Option<String> {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next()?,
        // No operation to run: validation says so.
        (DocumentOperations::Multiple(_), None) => return None,
    };
    operation.node.variable_definitions.iter().find_map(|definition| {
        let definition = &definition.node;
        let required = !definition.var_type.node.nullable && definition.default_value.is_none();
        let given = variables
            .get(&definition.name.node)
            .is_some_and(|value| *value != async_graphql::Value::Null);
        (required && !given).then(|| {
            format!(
                "the variable `${}` of type `{}` is required, and the request gives it no value",
                definition.name.node, definition.var_type.node
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use serde_json::json;

    use super::*;

    #[test]
    fn required_variables_must_be_given() {
        let cases = [
            ("query($id: ID!) { a }", None, json!({}), Some("`$id` of type `ID!`")),
            ("query($id: ID!) { a }", None, json!({ "id": null }), Some("`$id`")),
            ("query($id: ID!) { a }", None, json!({ "id": "1" }), None),
            ("query($id: ID) { a }", None, json!({}), None),
            ("query($n: Int! = 1) { a }", None, json!({}), None),
            ("query A($x: [ID!]!) { a } query B { a }", Some("B"), json!({}), None),
            (
                "query A($x: [ID!]!) { a } query B { a }",
                Some("A"),
                json!({}),
                Some("`$x` of type `[ID!]!`"),
            ),
            ("query A($x: ID!) { a } query B { a }", None, json!({}), None),
        ];
        for (document, name, variables, expected) in cases {
            let parsed = parse_query(document).expect("a document");
            let got = missing(&parsed, name, &Variables::from_json(variables));
            match expected {
                None => assert_eq!(got, None, "{document}"),
                Some(part) => assert!(got.as_deref().is_some_and(|m| m.contains(part)), "{document}: {got:?}"),
            }
        }
    }
}
