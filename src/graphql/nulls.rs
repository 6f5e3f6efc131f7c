//! Spec-shaped partial results (docs/api.md#nulls-and-errors).
//!
//! The GraphQL spec (§6.4.4 "Handling Field Errors") says a field that fails
//! is `null` at its key, with an error whose `path` names it; a failing
//! *non-null* position makes its nearest nullable ancestor `null` instead,
//! up to `data` itself. async-graphql 7 does neither: a failed field's key
//! is left out of its object, and an object whose every field failed
//! becomes `null` however its type is declared. Clients that normalize
//! responses (Apollo's `InMemoryCache`, Relay) then report missing fields
//! and refetch for ever.
//!
//! [`Nulls`] puts the spec's shape back. Every field and every list item
//! passes through the access extension's `resolve` hook, children before
//! their parents, and there through [`Nulls::settle`]:
//!
//! - a nullable position that fails becomes `null`, and its error is kept
//!   for the response;
//! - a non-null position that fails is remembered, and the hook of the
//!   position that holds it (its object, or its list) turns into `null`
//!   when nullable, or is remembered in turn;
//! - what is still remembered when the operation ends reached the root:
//!   `data` is `null`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use async_graphql::{PathSegment, QueryPathNode, QueryPathSegment, Response, ServerError, ServerResult, Value};

/// The spec's shape, per request: kept by the access extension (see
/// [`super::access`]), whose `resolve` hook every field and list item
/// already passes, so that the shape costs no hook of its own.
#[derive(Default)]
pub struct Nulls {
    /// Errors of positions turned into `null` here, which async-graphql
    /// would otherwise have recorded as it dropped them.
    errors: Mutex<Vec<ServerError>>,
    /// Failed non-null positions not yet absorbed by a nullable ancestor.
    failed: Mutex<Vec<Vec<PathSegment>>>,
    /// Whether `failed` may hold anything: lets the hook of every field that
    /// succeeds skip the lock.
    any_failed: AtomicBool,
}

fn path_of(node: &QueryPathNode<'_>) -> Vec<PathSegment> {
    let mut path: Vec<PathSegment> = std::iter::once(node)
        .chain(node.parents())
        .map(|node| match node.segment {
            QueryPathSegment::Index(index) => PathSegment::Index(index),
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
        })
        .collect();
    path.reverse();
    path
}

impl Nulls {
    fn remember_failed(&self, path: Vec<PathSegment>) {
        self.failed.lock().unwrap_or_else(PoisonError::into_inner).push(path);
        self.any_failed.store(true, Ordering::Release);
    }

    /// Takes the failed positions directly inside `path` (its fields, or its
    /// list's items): whether there was any.
    fn take_failed_children(&self, path: &[PathSegment]) -> bool {
        let mut failed = self.failed.lock().unwrap_or_else(PoisonError::into_inner);
        let before = failed.len();
        failed.retain(|child| !(child.len() == path.len() + 1 && child.starts_with(path)));
        before != failed.len()
    }

    /// What the position at `path_node`, of type `return_type`, resolves
    /// to, given what resolving it gave.
    pub fn settle(
        &self,
        path_node: &QueryPathNode<'_>,
        return_type: &str,
        result: ServerResult<Option<Value>>,
    ) -> ServerResult<Option<Value>> {
        let nullable = !return_type.ends_with('!');
        let child_failed = self.any_failed.load(Ordering::Acquire) && self.take_failed_children(&path_of(path_node));
        match result {
            Err(mut error) => {
                if error.path.is_empty() {
                    error.path = path_of(path_node);
                }
                if nullable {
                    self.errors.lock().unwrap_or_else(PoisonError::into_inner).push(error);
                    return Ok(Some(Value::Null));
                }
                // Left out of its object by async-graphql (which records the
                // error), or failing its whole list: the holder decides.
                self.remember_failed(path_of(path_node));
                Err(error)
            }
            Ok(_) if child_failed && nullable => Ok(Some(Value::Null)),
            Ok(value) => {
                if child_failed {
                    self.remember_failed(path_of(path_node));
                }
                Ok(value)
            }
        }
    }

    /// Once the operation has run: `data` is `null` when a failure reached
    /// the root, and the errors of the positions made `null` here join the rest.
    pub fn finish(&self, response: &mut Response) {
        let failed = std::mem::take(&mut *self.failed.lock().unwrap_or_else(PoisonError::into_inner));
        if failed.iter().any(|path| path.len() == 1) {
            response.data = Value::Null;
        }
        let mut kept = std::mem::take(&mut *self.errors.lock().unwrap_or_else(PoisonError::into_inner));
        response.errors.append(&mut kept);
    }
}
