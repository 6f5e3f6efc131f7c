//! What a document asks for, measured as soon as it is parsed and before
//! anything else walks, validates or runs it: validation and execution visit every
//! field with fragments expanded, so a document of 55,000 aliases, or a
//! few fragments spread into each other ten times over, costs seconds of
//! CPU before the complexity limit could say no. Here the document is
//! measured in one pass (each fragment once, memoized), and refused when
//!
//! - it selects more than [`MAX_SELECTIONS`] fields, fragments expanded;
//! - it asks for the schema (`__schema`, `__type`) more than
//!   [`MAX_INTROSPECTIONS`] times: each answer is the whole schema;
//! - its `_entities` fields ask for more than [`MAX_REPRESENTATIONS`]
//!   representations in all (a list literal or a variable).
//!
//! Here too, a request that leaves out a required variable is refused
//! (see [`super::variables`]).
//!
//! The complexity limit (see [`super::access`]) still weighs what remains:
//! a connection counts its page size times its fields, `resolvePrices` its
//! items times theirs.

use std::collections::HashMap;

use async_graphql::extensions::{Extension, ExtensionContext, NextPrepareRequest};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensions, Name, Request, ServerError, ServerResult, Value, Variables};

/// Fields one document may select, with fragments expanded.
pub const MAX_SELECTIONS: usize = 2_000;
/// Introspection fields (`__schema`, `__type`) one document may ask for.
pub const MAX_INTROSPECTIONS: usize = 3;
/// Representations all the `_entities` fields of one document may ask for.
pub const MAX_REPRESENTATIONS: usize = 1_000;

/// What a document or a part of it asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    pub selections: usize,
    pub introspections: usize,
    pub representations: usize,
}

impl Cost {
    fn add(self, other: Cost) -> Cost {
        Cost {
            selections: self.selections.saturating_add(other.selections),
            introspections: self.introspections.saturating_add(other.introspections),
            representations: self.representations.saturating_add(other.representations),
        }
    }

    /// The first limit this cost passes, as the refusal's message.
    pub fn over_limits(&self) -> Option<String> {
        if self.introspections > MAX_INTROSPECTIONS {
            return Some(format!(
                "the document asks for the schema (`__schema`, `__type`) {} times; at most {MAX_INTROSPECTIONS} are allowed",
                self.introspections
            ));
        }
        if self.representations > MAX_REPRESENTATIONS {
            return Some(format!(
                "the document asks `_entities` for {} representations; at most {MAX_REPRESENTATIONS} are allowed",
                self.representations
            ));
        }
        if self.selections > MAX_SELECTIONS {
            return Some(format!(
                "the document selects {} fields (fragments expanded, aliases counted); at most {MAX_SELECTIONS} are allowed",
                self.selections
            ));
        }
        None
    }
}

/// Measures every operation of a document (validation visits them all).
pub fn measure(document: &ExecutableDocument, variables: &Variables) -> Cost {
    let mut measure = Measure {
        document,
        variables,
        fragments: HashMap::new(),
    };
    document
        .operations
        .iter()
        .map(|(_, operation)| measure.selection_set(&operation.node.selection_set.node))
        .fold(Cost::default(), Cost::add)
}

struct Measure<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Each fragment's cost once measured; `None` while it is being
    /// measured, so a cycle (which validation refuses) counts nothing.
    fragments: HashMap<&'a Name, Option<Cost>>,
}

impl<'a> Measure<'a> {
    /// Recursion follows the selection sets, whose nesting the request's
    /// nesting check has bounded.
    fn selection_set(&mut self, set: &'a SelectionSet) -> Cost {
        let mut cost = Cost::default();
        for selection in &set.items {
            let part = match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let own = Cost {
                        selections: 1,
                        introspections: usize::from(name == "__schema" || name == "__type"),
                        representations: if name == "_entities" {
                            self.representations(field.get_argument("representations").map(|v| &v.node))
                        } else {
                            0
                        },
                    };
                    own.add(self.selection_set(&field.selection_set.node))
                }
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node),
                Selection::InlineFragment(inline) => self.selection_set(&inline.node.selection_set.node),
            };
            cost = cost.add(part);
        }
        cost
    }

    fn fragment(&mut self, name: &'a Name) -> Cost {
        match self.fragments.get(name) {
            Some(Some(cost)) => return *cost,
            Some(None) => return Cost::default(),
            None => {}
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Cost::default();
        };
        self.fragments.insert(name, None);
        let cost = self.selection_set(&fragment.node.selection_set.node);
        self.fragments.insert(name, Some(cost));
        cost
    }

    /// The length of `_entities(representations: …)`: a list literal, or
    /// the list a variable holds.
    fn representations(&self, argument: Option<&async_graphql_value::Value>) -> usize {
        use async_graphql_value::Value as Literal;
        match argument {
            Some(Literal::List(items)) => items.len(),
            Some(Literal::Variable(name)) => match self.variables.get(name) {
                Some(Value::List(items)) => items.len(),
                _ => 0,
            },
            _ => 0,
        }
    }
}

/// Part of the schema's one extension ([`super::hooks`]).
pub struct LimitsExtension;

/// The check runs as the request is prepared, before async-graphql's own
/// parse step: that step checks the recursion depth by walking every
/// fragment spread unmemoized, which a fragment bomb makes exponential.
/// The document parsed here is kept in the request, so it is parsed once.
#[async_graphql::async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let variables = std::mem::take(&mut request.variables);
        let name = request.operation_name.clone();
        let document = request.parsed_query()?;
        let cost = measure(document, &variables);
        let missing = super::variables::missing(document, name.as_deref(), &variables);
        request.variables = variables;
        if let Some(message) = missing {
            return Err(async_graphql::Error::new(message)
                .extend_with(|_, e| e.set("code", "BAD_USER_INPUT"))
                .into_server_error(async_graphql::Pos::default()));
        }
        match cost.over_limits() {
            None => next.run(ctx, request).await,
            Some(message) => Err(too_complex(message)),
        }
    }
}

fn too_complex(message: String) -> ServerError {
    async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", "QUERY_TOO_COMPLEX"))
        .into_server_error(async_graphql::Pos::default())
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn cost(document: &str) -> Cost {
        let document = parse_query(document).expect("a document");
        measure(&document, &Variables::default())
    }

    #[test]
    fn fields_are_counted_with_aliases_and_fragments_expanded() {
        let table = [
            ("{ a }", 1),
            ("{ a { b c } }", 3),
            ("{ x: a y: a z: a }", 3),
            ("{ ...F } fragment F on Query { a b }", 2),
            ("{ ...F ...F ...F } fragment F on Query { a b }", 6),
            ("{ ... on Query { a b } }", 2),
            // A cycle (refused by validation) counts nothing more.
            (
                "{ ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }",
                2,
            ),
        ];
        for (document, selections) in table {
            assert_eq!(cost(document).selections, selections, "{document}");
        }
    }

    #[test]
    fn a_fragment_bomb_is_measured_in_one_pass() {
        // Ten fragments, each spreading the next ten times: 10^10 fields
        // once expanded, from a document of a few hundred bytes.
        let mut document = String::from("{ ...F0 }");
        for level in 0..10 {
            let spreads = format!("...F{} ", level + 1).repeat(10);
            document.push_str(&format!(" fragment F{level} on Query {{ {spreads} }}"));
        }
        document.push_str(" fragment F10 on Query { a }");
        let measured = cost(&document);
        assert_eq!(measured.selections, 10_000_000_000);
        assert!(measured.over_limits().is_some_and(|m| m.contains("fields")));
    }

    #[test]
    fn introspection_and_representations_are_counted() {
        assert_eq!(
            cost("{ a: __schema { types { name } } b: __type(name: \"Q\") { name } }").introspections,
            2
        );
        let four = "{ x: __schema { queryType { name } } y: __schema { queryType { name } } z: __schema { queryType { name } } w: __schema { queryType { name } } }";
        assert!(cost(four).over_limits().is_some_and(|m| m.contains("schema")));
        assert_eq!(
            cost("{ a: _entities(representations: [{}, {}]) { __typename } b: _entities(representations: [{}]) { __typename } }")
                .representations,
            3
        );
        let document =
            parse_query("query($r: [_Any!]!) { _entities(representations: $r) { __typename } }").expect("a document");
        let many = Value::List(vec![Value::Null; MAX_REPRESENTATIONS + 1]);
        let variables = Variables::from_value(Value::Object([(Name::new("r"), many)].into_iter().collect()));
        let measured = measure(&document, &variables);
        assert_eq!(measured.representations, MAX_REPRESENTATIONS + 1);
        assert!(measured.over_limits().is_some_and(|m| m.contains("representations")));
    }

    #[test]
    fn an_everyday_storefront_page_is_well_within() {
        let page = "query Page($c: ID) { products(first: 50) { totalCount edges { cursor node { id sku name
            resolvedPrice(customerId: $c, currency: \"USD\") { amount { amount currencyCode } basePrice { amount }
            source priceList { id name } explanation { outcome priority } } } } pageInfo { hasNextPage endCursor } } }";
        let measured = cost(page);
        assert!(measured.selections < 50, "{measured:?}");
        assert_eq!(measured.over_limits(), None);
    }
}
