//! The schema's one extension. async-graphql runs every field through
//! every extension's `resolve` hook, one boxed future per extension per
//! field, whether the extension has anything to do there or not: with
//! three extensions that was a tenth of a warm storefront page's CPU. So the
//! project's hooks live in their modules and are registered together, here:
//!
//! - [`cost`](super::cost): the document's size, before anything walks it;
//! - [`order`](super::order): response keys in selection order;
//! - [`access`](super::access): who may resolve what, the depth and
//!   complexity limits, and spec-shaped nulls (the only per-field hook).

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextResolve,
    NextValidation, ResolveInfo,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables};

use super::access::{AccessExtension, QueryLimits};
use super::cost::LimitsExtension;
use super::order::FieldOrderExtension;

/// Registers the hooks with a schema.
pub struct Hooks(pub QueryLimits);

impl ExtensionFactory for Hooks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(HooksExtension {
            access: AccessExtension::new(self.0),
            order: FieldOrderExtension::default(),
        })
    }
}

struct HooksExtension {
    access: AccessExtension,
    order: FieldOrderExtension,
}

#[async_graphql::async_trait::async_trait]
impl Extension for HooksExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        LimitsExtension.prepare_request(ctx, request, next).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        self.order.parse_query(ctx, query, variables, next).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        self.access.validation(ctx, next).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        self.order.reorder(operation_name, &mut response);
        self.access.finish(&mut response);
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        self.access.resolve(ctx, info, next).await
    }
}
