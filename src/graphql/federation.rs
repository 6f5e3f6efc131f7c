//! Apollo Federation v2 (README: Federation): with `--federation` the schema also
//! serves as a subgraph. `Customer`, `CustomerGroup`, `Product` and
//! `PriceList` are entities keyed by `id`; a router resolves its references
//! to them through `_entities`, and reads the subgraph SDL from `_service`
//! (or from `pricegraph export-schema --federation`).
//!
//! Each representation is a lookup by id in disguise, so it loads through the
//! request's loaders (any number of one type cost one statement) and passes
//! the rules of the root field that looks its type up
//! ([`access::check_entity`]; a customer token resolves only its own
//! `Customer`, as with `customer(id)`).
//!
//! An id that parses but names no row resolves to `null`, the federation
//! convention for a reference this subgraph cannot resolve. A malformed id, a
//! representation without an `id` or of a type that is no entity here is an
//! error that names the representation; async-graphql answers `_entities`
//! all or nothing, so such an error fails the whole list.

use std::borrow::Cow;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::parser::types::Field;
use async_graphql::registry::{Registry, SDLExportOptions};
use async_graphql::resolver_utils::ContainerType;
use async_graphql::{
    Context, ContextSelectionSet, ID, MergedObjectTail, Object, ObjectType, OutputType, Positioned, Result,
    ServerResult, Value,
};
use uuid::Uuid;

use super::access;
use super::errors::bad_input;
use super::loaders::{LoadError, loaders};
use super::types::{Customer, CustomerGroup, PriceList, Product, load_failed};

/// The entities, each with the root field that looks it up by id.
const ENTITIES: &[(&str, &str)] = &[
    ("Customer", "customer"),
    ("CustomerGroup", "customerGroup"),
    ("PriceList", "priceList"),
    ("Product", "product"),
];

/// How `_service { sdl }` writes the subgraph SDL.
pub fn sdl_options() -> SDLExportOptions {
    SDLExportOptions::new().federation().compose_directive()
}

/// The entity resolvers: the key is the argument, `id`.
#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn customer_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Customer>> {
        access::check_entity(ctx, "Customer", "customer")?;
        access::check_customer(ctx, Some(id.as_str()))?;
        Ok(load(&loaders(ctx).customers, "Customer", &id).await?.map(Customer))
    }

    #[graphql(entity)]
    async fn customer_group_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CustomerGroup>> {
        access::check_entity(ctx, "CustomerGroup", "customerGroup")?;
        Ok(load(&loaders(ctx).groups, "CustomerGroup", &id)
            .await?
            .map(CustomerGroup))
    }

    #[graphql(entity)]
    async fn price_list_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PriceList>> {
        access::check_entity(ctx, "PriceList", "priceList")?;
        Ok(load(&loaders(ctx).price_lists, "PriceList", &id).await?.map(PriceList))
    }

    #[graphql(entity)]
    async fn product_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>> {
        access::check_entity(ctx, "Product", "product")?;
        Ok(load(&loaders(ctx).products, "Product", &id).await?.map(Product::from))
    }
}

/// The row a representation names, through the request's loader.
async fn load<L>(loader: &DataLoader<L>, typename: &str, id: &ID) -> Result<Option<L::Value>>
where
    L: Loader<Uuid, Error = LoadError>,
{
    let key = Uuid::parse_str(id.trim()).map_err(|_| {
        bad_input(format!(
            "a `{typename}` representation's id '{}' is not an id",
            id.as_str()
        ))
    })?;
    loader.load_one(key).await.map_err(load_failed)
}

/// Asked last in the subgraph's query root: takes the representations no entity
/// resolver took (an unknown `__typename`, no usable `id`) and says what is
/// wrong with them, where async-graphql would only say "Entity not found.".
/// It has no fields, so it borrows the type of async-graphql's own empty
/// merge member.
#[derive(Default)]
pub struct UnresolvedRepresentation;

impl ContainerType for UnresolvedRepresentation {
    async fn resolve_field(&self, _ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        Ok(None)
    }

    async fn find_entity(&self, ctx: &Context<'_>, representation: &Value) -> ServerResult<Option<Value>> {
        let error = bad_input(what_is_wrong(representation)).into_server_error(ctx.item.pos);
        Err(ctx.set_error_path(error))
    }
}

impl OutputType for UnresolvedRepresentation {
    fn type_name() -> Cow<'static, str> {
        MergedObjectTail::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        MergedObjectTail::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        MergedObjectTail.resolve(ctx, field).await
    }
}

impl ObjectType for UnresolvedRepresentation {}

/// Why no entity resolver took `representation`.
fn what_is_wrong(representation: &Value) -> String {
    let Value::Object(fields) = representation else {
        return format!("a representation is an object with `__typename` and `id`, not {representation}");
    };
    let typename = match fields.get("__typename") {
        Some(Value::String(typename)) => typename.as_str(),
        _ => return "a representation needs a `__typename` string".to_owned(),
    };
    if !ENTITIES.iter().any(|(entity, _)| *entity == typename) {
        let entities: Vec<&str> = ENTITIES.iter().map(|(entity, _)| *entity).collect();
        return format!(
            "`{typename}` is not an entity of this subgraph (its entities: {})",
            entities.join(", ")
        );
    }
    match fields.get("id") {
        None | Some(Value::Null) => format!("a `{typename}` representation needs an `id`"),
        Some(id) => format!("a `{typename}` representation's `id` is a string, not {id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entity's root field exists, so the access rules it borrows do.
    #[test]
    fn each_entity_borrows_an_existing_root_field() {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let sdl = crate::graphql::sdl();
        let document = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
        let query = document
            .definitions
            .iter()
            .find_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) if ty.node.name.node == "Query" => match &ty.node.kind {
                    TypeKind::Object(object) => Some(object),
                    _ => None,
                },
                _ => None,
            })
            .expect("a Query type");
        for (entity, field) in ENTITIES {
            assert!(
                sdl.contains(&format!("type {entity} {{")) || sdl.contains(&format!("type {entity} implements")),
                "no type {entity}"
            );
            let root = query
                .fields
                .iter()
                .find(|f| f.node.name.node == *field)
                .unwrap_or_else(|| panic!("no root field {field}"));
            let arguments: Vec<String> = root
                .node
                .arguments
                .iter()
                .map(|a| format!("{}: {}", a.node.name.node, a.node.ty.node))
                .collect();
            assert_eq!(arguments, ["id: ID!"], "{field} takes the id alone");
            assert_eq!(root.node.ty.node.to_string(), *entity, "{field} answers a {entity}");
        }
    }
}
