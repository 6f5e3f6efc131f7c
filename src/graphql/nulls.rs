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
//! This extension puts the spec's shape back. Every field and every list
//! item passes through its `resolve` hook, children before their parents:
//!
//! - a nullable position that fails becomes `null`, and its error is kept
//!   for the response;
//! - a non-null position that fails is remembered, and the hook of the
//!   position that holds it (its object, or its list) turns into `null`
//!   when nullable, or is remembered in turn;
//! - what is still remembered when the operation ends reached the root:
//!   `data` is `null`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo};
use async_graphql::{PathSegment, QueryPathNode, QueryPathSegment, Response, ServerError, ServerResult, Value};

/// Registers [`NullsExtension`] with a schema.
pub struct SpecNulls;

impl ExtensionFactory for SpecNulls {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NullsExtension::default())
    }
}

#[derive(Default)]
pub struct NullsExtension {
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

impl NullsExtension {
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
}

#[async_graphql::async_trait::async_trait]
impl Extension for NullsExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let nullable = !info.return_type.ends_with('!');
        let path_node = info.path_node;
        let result = next.run(ctx, info).await;
        let child_failed = self.any_failed.load(Ordering::Acquire) && self.take_failed_children(&path_of(path_node));
        match result {
            Err(mut error) if nullable => {
                if error.path.is_empty() {
                    error.path = path_of(path_node);
                }
                self.errors.lock().unwrap_or_else(PoisonError::into_inner).push(error);
                Ok(Some(Value::Null))
            }
            Err(mut error) => {
                if error.path.is_empty() {
                    error.path = path_of(path_node);
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

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let failed = std::mem::take(&mut *self.failed.lock().unwrap_or_else(PoisonError::into_inner));
        if failed.iter().any(|path| path.len() == 1) {
            response.data = Value::Null;
        }
        let mut kept = std::mem::take(&mut *self.errors.lock().unwrap_or_else(PoisonError::into_inner));
        if !kept.is_empty() {
            response.errors.append(&mut kept);
        }
        response
    }
}
