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

use std::sync::{Mutex, PoisonError};

use async_graphql::extensions::{Extension, ExtensionContext, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Response, ServerResult, Value, Variables};

/// The plan of each operation of the request's document, made as it is
/// parsed (a single anonymous operation has no name). Part of the schema's
/// one extension ([`super::hooks`]).
#[derive(Default)]
pub struct FieldOrderExtension {
    plans: Mutex<Vec<(Option<Name>, Plan)>>,
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
        let plans = document
            .operations
            .iter()
            .map(|(name, operation)| {
                let plan = Plan::of(&[&operation.node.selection_set.node], &document);
                (name.cloned(), plan)
            })
            .collect();
        *self.plans.lock().unwrap_or_else(PoisonError::into_inner) = plans;
        Ok(document)
    }
}

impl FieldOrderExtension {
    /// Once the operation has run: its response's keys in selection order.
    pub fn reorder(&self, operation_name: Option<&str>, response: &mut Response) {
        let plans = std::mem::take(&mut *self.plans.lock().unwrap_or_else(PoisonError::into_inner));
        let plan = match operation_name {
            Some(wanted) => plans.iter().find(|(name, _)| name.as_deref() == Some(wanted)),
            None if plans.len() == 1 => plans.first(),
            None => None,
        };
        if let Some((_, plan)) = plan {
            apply(&mut response.data, plan);
        }
    }
}

/// The response keys a field's selections ask for, in order, each with
/// the plan of its own value. Built once per operation, from the query; as
/// large as the query, not as the response.
#[derive(Default)]
struct Plan {
    keys: Vec<(Name, Plan)>,
}

impl Plan {
    fn of(sets: &[&SelectionSet], document: &ExecutableDocument) -> Self {
        let mut keys: Vec<(Name, Vec<&SelectionSet>)> = Vec::new();
        for set in sets {
            collect(set, document, &mut keys);
        }
        Self {
            keys: keys
                .into_iter()
                .map(|(key, children)| (key, Plan::of(&children, document)))
                .collect(),
        }
    }
}

/// Objects already in order (most of them) are left as they are: no
/// allocation, one pass over their keys.
fn apply(value: &mut Value, plan: &Plan) {
    match value {
        Value::List(items) => {
            for item in items {
                apply(item, plan);
            }
        }
        Value::Object(map) if !plan.keys.is_empty() => {
            let mut planned = plan.keys.iter();
            let in_order = map.keys().all(|key| planned.any(|(k, _)| k == key));
            if !in_order {
                let mut unordered = std::mem::take(map);
                for (key, _) in &plan.keys {
                    if let Some(child) = unordered.shift_remove(key) {
                        map.insert(key.clone(), child);
                    }
                }
                // Nothing should be left; if something is, it keeps its
                // place after the selected keys rather than being lost.
                map.extend(unordered);
            }
            let mut planned = plan.keys.iter();
            for (key, child) in map.iter_mut() {
                if let Some((_, child_plan)) = planned.find(|(k, _)| k == key) {
                    apply(child, child_plan);
                }
            }
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
