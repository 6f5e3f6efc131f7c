//! The GraphQL API (README: Try it): schema building, and the conventions every
//! resolver follows. Resolvers stay thin: arguments in, a service call or a
//! loader out. Relations always load through the request's [`loaders::Loaders`].

pub mod access;
pub mod batching;
pub mod connection;
pub mod cost;
pub mod customers;
pub mod errors;
pub mod federation;
pub mod groups;
pub mod loaders;
pub mod node;
pub mod nulls;
pub mod order;
pub mod organizations;
pub mod price_lists;
pub mod pricing;
pub mod products;
pub mod scalars;
pub mod shape;
pub mod types;

use async_graphql::{BatchRequest, BatchResponse, EmptySubscription, MergedObject, ObjectType, Schema, SchemaBuilder};

use std::sync::Arc;

use crate::metrics::Metrics;
use crate::store::Store;

/// The API's queries, merged once for both query roots below. Never a root
/// itself, so its name appears in no schema.
#[derive(MergedObject, Default)]
pub struct Queries(
    groups::GroupQuery,
    customers::CustomerQuery,
    organizations::OrganizationQuery,
    products::ProductQuery,
    price_lists::PriceListQuery,
    pricing::PricingQuery,
    node::NodeQuery,
);

// Named `Query`, as GraphQL clients and SPEC §11 expect.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(Queries);

// The federation subgraph's roots: the same queries plus the entity
// resolvers, and the same mutations, under the root names Apollo composition
// expects (a federation SDL has no `schema { query: … }` to rename them).
// A merged object asks its members for entities last to first, so the
// catch-all comes first. (Plain comments: a doc comment here would become
// the root type's description.)
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct SubgraphQueryRoot(federation::UnresolvedRepresentation, Queries, federation::EntityQuery);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct SubgraphMutationRoot(Mutations);

/// The API's mutations, merged once for both mutation roots.
#[derive(MergedObject, Default)]
pub struct Mutations(
    groups::GroupMutation,
    customers::CustomerMutation,
    organizations::OrganizationMutation,
    products::ProductMutation,
    price_lists::PriceListMutation,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(Mutations);

/// The served schema: the API, or the same API as a federation subgraph.
/// Two Rust types, because async-graphql gives every schema whose query root
/// has entity resolvers `_entities` and `_service`; the default schema must
/// have neither.
#[derive(Clone)]
pub enum PricegraphSchema {
    Plain(Schema<QueryRoot, MutationRoot, EmptySubscription>),
    Subgraph(Schema<SubgraphQueryRoot, SubgraphMutationRoot, EmptySubscription>),
}

impl PricegraphSchema {
    pub async fn execute_batch(&self, batch: BatchRequest) -> BatchResponse {
        match self {
            Self::Plain(schema) => schema.execute_batch(batch).await,
            Self::Subgraph(schema) => schema.execute_batch(batch).await,
        }
    }
}

/// How the schema is served.
#[derive(Clone, Copy, Debug, Default)]
pub struct SchemaOptions {
    /// The production profile: no introspection, no field suggestions.
    pub production: bool,
    pub limits: access::QueryLimits,
    /// Serve as an Apollo Federation v2 subgraph (see [`federation`]).
    pub federation: bool,
}

/// The schema, holding only the store and the metrics. Per-request state (the
/// loaders, the principal) is attached to each request by the HTTP handler.
pub fn build_schema(store: Store, metrics: Arc<Metrics>, options: SchemaOptions) -> PricegraphSchema {
    if options.federation {
        PricegraphSchema::Subgraph(configured(subgraph_builder(), store, metrics, options))
    } else {
        PricegraphSchema::Plain(configured(
            Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription),
            store,
            metrics,
            options,
        ))
    }
}

fn subgraph_builder() -> SchemaBuilder<SubgraphQueryRoot, SubgraphMutationRoot, EmptySubscription> {
    Schema::build(
        SubgraphQueryRoot::default(),
        SubgraphMutationRoot::default(),
        EmptySubscription,
    )
    .enable_federation()
}

fn configured<Q: ObjectType + 'static, M: ObjectType + 'static>(
    builder: SchemaBuilder<Q, M, EmptySubscription>,
    store: Store,
    metrics: Arc<Metrics>,
    options: SchemaOptions,
) -> Schema<Q, M, EmptySubscription> {
    let mut schema = builder
        .data(store)
        .data(metrics)
        // First, so that it sees every other extension's refusals too.
        .extension(nulls::SpecNulls)
        .extension(access::Access(options.limits))
        .extension(order::FieldOrder)
        .extension(cost::Limits);
    if options.production {
        schema = schema.disable_introspection().disable_suggestions();
    }
    schema.finish()
}

/// The SDL as `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription)
        .finish()
        .sdl()
}

/// The subgraph SDL, exactly as `_service { sdl }` answers it: the schema
/// without `_entities` and `_service`, its entities marked `@key`, under the
/// federation v2 `@link`. What a router's composition (e.g. `rover
/// supergraph compose`) reads.
pub fn subgraph_sdl() -> String {
    subgraph_builder().finish().sdl_with_options(federation::sdl_options())
}

/// The store: the database and its caches.
pub fn store<'a>(ctx: &async_graphql::Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

/// What `/metrics` reports.
pub fn metrics<'a>(ctx: &async_graphql::Context<'a>) -> &'a Metrics {
    ctx.data_unchecked::<Arc<Metrics>>()
}
