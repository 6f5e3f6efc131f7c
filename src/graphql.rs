//! The GraphQL API (SPEC §5): schema building, and the conventions every
//! resolver follows. Resolvers stay thin: arguments in, a service call or a
//! loader out. Relations always load through the request's [`loaders::Loaders`].

pub mod access;
pub mod batching;
pub mod connection;
pub mod customers;
pub mod errors;
pub mod groups;
pub mod loaders;
pub mod organizations;
pub mod price_lists;
pub mod pricing;
pub mod products;
pub mod scalars;
pub mod types;

use async_graphql::{EmptySubscription, MergedObject, Schema};

use crate::db::Db;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    groups::GroupQuery,
    customers::CustomerQuery,
    organizations::OrganizationQuery,
    products::ProductQuery,
    price_lists::PriceListQuery,
    pricing::PricingQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    groups::GroupMutation,
    customers::CustomerMutation,
    organizations::OrganizationMutation,
    products::ProductMutation,
    price_lists::PriceListMutation,
);

pub type PricegraphSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// How the schema is served.
#[derive(Clone, Copy, Debug, Default)]
pub struct SchemaOptions {
    /// The production profile: no introspection, no field suggestions.
    pub production: bool,
    pub limits: access::QueryLimits,
}

/// The schema, holding only the database handle. Per-request state (the
/// loaders, the principal) is attached to each request by the HTTP handler.
pub fn build_schema(db: Db, options: SchemaOptions) -> PricegraphSchema {
    let mut schema = Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription)
        .data(db)
        .extension(access::Access(options.limits));
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

/// The request's database handle.
pub fn db<'a>(ctx: &async_graphql::Context<'a>) -> &'a Db {
    ctx.data_unchecked::<Db>()
}
