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
pub mod health;
pub mod hooks;
pub mod impact;
pub mod loaders;
pub mod node;
pub mod nulls;
pub mod order;
pub mod organizations;
pub mod parsed;
pub mod price_lists;
pub mod pricing;
pub mod products;
pub mod scalars;
pub mod shape;
pub mod subscriptions;
pub mod types;
pub mod variables;
pub mod webhooks;

use async_graphql::registry::SDLExportOptions;
use async_graphql::{
    BatchRequest, BatchResponse, Data, EmptySubscription, MergedObject, ObjectType, Request, Response, Schema,
    SchemaBuilder, SubscriptionType,
};
use futures_util::stream::BoxStream;

use std::sync::Arc;

use crate::metrics::Metrics;
use crate::service::subscriptions::PriceFeeds;
use crate::store::Store;
use subscriptions::SubscriptionRoot;

/// The `Query` type's description, in both schemas.
macro_rules! query_description {
    () => {
        "Everything you can read. The catalog (`product`, `products`, `productLine`, `productLines`) and \
         prices (`resolvedPrice`, `resolvePrices`) are open to every credential: admin and storefront keys, \
         and customer tokens, which may price only for their own customer or as an anonymous shopper. \
         `customer` is also open to a customer token, for its own customer; everything else is for \
         admins. The plural fields (`customers`, `products`…) are cursor connections: ask for `first` or \
         `last`, 1 to 100 items at a time."
    };
}

/// The `Mutation` type's description, in both schemas.
macro_rules! mutation_description {
    () => {
        "Everything you can change: for admins only. Each mutation takes one `input` and answers a payload \
         with what it did and `userErrors`. When `userErrors` is not empty, nothing was written and the \
         payload's other fields are null; each entry names the offending `input` field, says what is wrong \
         and has a stable `code`. Failures that are not the input's fault (a timeout, the database out of \
         reach) are errors with an `extensions.code` instead."
    };
}

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
    pricing::SimulationQuery,
    health::HealthQuery,
    node::NodeQuery,
    webhooks::WebhookQuery,
);

// Named `Query`, as GraphQL clients expect (docs/api.md). Its doc comment
// is the root type's description.
#[doc = query_description!()]
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(Queries);

// The federation subgraph's roots: the same queries plus the entity
// resolvers, and the same mutations, under the root names Apollo composition
// expects (a federation SDL has no `schema { query: … }` to rename them).
// A merged object asks its members for entities last to first, so the
// catch-all comes first. (A doc comment here becomes the root type's
// description: the same as the plain schema's.)
#[doc = query_description!()]
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct SubgraphQueryRoot(federation::UnresolvedRepresentation, Queries, federation::EntityQuery);

#[doc = mutation_description!()]
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
    webhooks::WebhookMutation,
);

#[doc = mutation_description!()]
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(Mutations);

/// The served schema: the API, or the same API as a federation subgraph.
/// The subgraph has no subscriptions (a federation router does not pass
/// them on to subgraphs the way it composes queries).
/// Two Rust types, because async-graphql gives every schema whose query root
/// has entity resolvers `_entities` and `_service`; the default schema must
/// have neither.
#[derive(Clone)]
pub enum PricegraphSchema {
    Plain(Schema<QueryRoot, MutationRoot, SubscriptionRoot>),
    Subgraph(Schema<SubgraphQueryRoot, SubgraphMutationRoot, EmptySubscription>),
}

impl PricegraphSchema {
    pub async fn execute_batch(&self, batch: BatchRequest) -> BatchResponse {
        match self {
            Self::Plain(schema) => schema.execute_batch(batch).await,
            Self::Subgraph(schema) => schema.execute_batch(batch).await,
        }
    }

    pub async fn execute(&self, request: Request) -> Response {
        match self {
            Self::Plain(schema) => schema.execute(request).await,
            Self::Subgraph(schema) => schema.execute(request).await,
        }
    }

    /// Runs any operation as a stream (a subscription's answers, or a
    /// query's one answer), for the streaming transports.
    pub fn execute_stream(&self, request: Request, session: Arc<Data>) -> BoxStream<'static, Response> {
        match self {
            Self::Plain(schema) => schema.execute_stream_with_session_data(request, session),
            Self::Subgraph(schema) => schema.execute_stream_with_session_data(request, session),
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
        PricegraphSchema::Plain(configured(plain_builder(), store, metrics, options))
    }
}

fn plain_builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    described(Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    ))
}

fn subgraph_builder() -> SchemaBuilder<SubgraphQueryRoot, SubgraphMutationRoot, EmptySubscription> {
    described(
        Schema::build(
            SubgraphQueryRoot::default(),
            SubgraphMutationRoot::default(),
            EmptySubscription,
        )
        .enable_federation(),
    )
}

/// The scalars async-graphql defines describe themselves in Rust terms;
/// the schema says what they hold instead.
fn described<Q: ObjectType + 'static, M: ObjectType + 'static, S: SubscriptionType + 'static>(
    builder: SchemaBuilder<Q, M, S>,
) -> SchemaBuilder<Q, M, S> {
    builder
        .override_output_type_description::<chrono::DateTime<chrono::Utc>>(scalars::DATE_TIME_DESCRIPTION)
        .override_output_type_description::<serde_json::Value>(scalars::JSON_DESCRIPTION)
}

fn configured<Q: ObjectType + 'static, M: ObjectType + 'static, S: SubscriptionType + 'static>(
    builder: SchemaBuilder<Q, M, S>,
    store: Store,
    metrics: Arc<Metrics>,
    options: SchemaOptions,
) -> Schema<Q, M, S> {
    let mut schema = builder
        .data(PriceFeeds::new(store.clone()))
        .data(store)
        .data(metrics)
        .extension(hooks::Hooks(options.limits));
    if options.production {
        schema = schema.disable_introspection().disable_suggestions();
    }
    schema.finish()
}

/// The SDL as `schema.graphql` holds it, with each scalar's `@specifiedBy`.
pub fn sdl() -> String {
    plain_builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().include_specified_by())
}

/// The subgraph SDL, exactly as `_service { sdl }` answers it: the schema
/// without `_entities` and `_service`, its entities marked `@key`, under the
/// federation v2 `@link`. What a router's composition (e.g. `rover
/// supergraph compose`) reads. Unlike [`sdl`], it writes no `@specifiedBy`:
/// async-graphql answers `_service` with export options of its own.
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
