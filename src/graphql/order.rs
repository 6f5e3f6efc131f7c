//! Response fields in the order the query selected them.
//!
//! The GraphQL spec orders a response map as the selection set (§7.1.1
//! "Serialized Map Ordering"). async-graphql 7 resolves a query's fields
//! concurrently and inserts each into the map as it completes, so a field
//! that waits on the database (a connection's `totalCount`) can come after
//! fields selected after it, differently from one request to the next.
//! This extension puts each object's keys back in selection order once the
//! operation has run.
//!
//! Order of first appearance, with fragments expanded in place, is the
//! spec's order for every object type here; selections under a type
//! condition count whether or not it applies, which differs only when an
//! abstract type's fragments repeat a field in another order.

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Response, ServerResult, Value, Variables};

/// Registers [`FieldOrderExtension`] with a schema.
pub struct FieldOrder;

impl ExtensionFactory for FieldOrder {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FieldOrderExtension::default())
    }
}

#[derive(Default)]
pub struct FieldOrderExtension {
    document: Mutex<Option<ExecutableDocument>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for FieldOrderExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        *self.document.lock().unwrap_or_else(PoisonError::into_inner) = Some(document.clone());
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let document = self.document.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(document) = document
            && let Some(set) = operation_selection(&document, operation_name)
        {
            reorder(&mut response.data, &[set], &document);
        }
        response
    }
}

fn operation_selection<'d>(document: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d SelectionSet> {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next()?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    Some(&operation.node.selection_set.node)
}

/// Orders `value`'s keys as `sets` (the merged selections of its field)
/// select them, and its children's as theirs do.
fn reorder(value: &mut Value, sets: &[&SelectionSet], document: &ExecutableDocument) {
    match value {
        Value::List(items) => {
            for item in items {
                reorder(item, sets, document);
            }
        }
        Value::Object(map) => {
            let mut keys: Vec<(Name, Vec<&SelectionSet>)> = Vec::new();
            for set in sets {
                collect(set, document, &mut keys);
            }
            let mut unordered = std::mem::take(map);
            for (key, children) in keys {
                if let Some(mut child) = unordered.shift_remove(&key) {
                    reorder(&mut child, &children, document);
                    map.insert(key, child);
                }
            }
            // Nothing should be left; if something is, it keeps its place
            // after the selected keys rather than being lost.
            map.extend(unordered);
        }
        _ => {}
    }
}

/// The response keys `set` selects, in order of first appearance, each with
/// the sub-selections of every field that answers to it.
fn collect<'d>(set: &'d SelectionSet, document: &'d ExecutableDocument, keys: &mut Vec<(Name, Vec<&'d SelectionSet>)>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = field.node.response_key().node.clone();
                let children = &field.node.selection_set.node;
                match keys.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, sets)) => sets.push(children),
                    None => keys.push((key, vec![children])),
                }
            }
            Selection::InlineFragment(fragment) => collect(&fragment.node.selection_set.node, document, keys),
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    collect(&fragment.node.selection_set.node, document, keys);
                }
            }
        }
    }
}
