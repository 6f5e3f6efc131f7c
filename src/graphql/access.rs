//! Who may resolve what (README: Security), and the size limits a query must pass
//! before anything executes — one schema extension, so that no resolver
//! can forget a rule:
//!
//! - `admin` resolves everything.
//! - `storefront` resolves the catalog (`product(s)`, `productLine(s)`) and
//!   prices (`resolvedPrice`, `resolvePrices`) for any customer, and what
//!   those answers lead to; never a mutation, a customer, a listing of
//!   customers, groups, organizations or price lists.
//! - a customer token resolves the catalog, `customer` (itself only, with
//!   its groups) and its own prices (checked where the customer id is an
//!   argument: see [`check_customer`]).
//! - Nobody but `admin` follows a relation to other customers
//!   (`CustomerGroup.customers`, `Organization.customers`) or from a price
//!   list to the groups that use it, or reads a group's usage
//!   (`CustomerGroup.usage`).
//! - A federation subgraph's `_entities`, and `node`/`nodes`, are open to
//!   every role; each object then passes the rules of the root field that
//!   looks its type up (see [`check_entity`]). `_service` (the whole SDL) is
//!   `admin`'s.
//!
//! Refusals are errors with `extensions.code` `FORBIDDEN`; the field is
//! `null` (see [`super::nulls`]) and its resolver never runs.

use async_graphql::extensions::{Extension, ExtensionContext, NextResolve, NextValidation, ResolveInfo};
use async_graphql::{ErrorExtensions, Pos, Response, ServerError, ServerResult, ValidationResult, Value};
use uuid::Uuid;

use super::nulls::Nulls;
use crate::auth::Principal;

/// The limits a query must stay within (checked after parsing, before execution).
#[derive(Clone, Copy, Debug)]
pub struct QueryLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 50_000,
        }
    }
}

/// The limits, and the request's spec-shaped nulls (see [`super::nulls`]),
/// which ride on the same per-field hook. Part of the schema's one
/// extension ([`super::hooks`]).
pub struct AccessExtension(QueryLimits, Nulls);

impl AccessExtension {
    pub fn new(limits: QueryLimits) -> Self {
        Self(limits, Nulls::default())
    }

    /// Once the operation has run: the nulls' last word (see [`Nulls::finish`]).
    pub fn finish(&self, response: &mut Response) {
        self.1.finish(response);
    }
}

/// The root types' names, in the plain schema and in the subgraph alike.
const QUERY: &str = "Query";
const MUTATION: &str = "Mutation";
const SUBSCRIPTION: &str = "Subscription";

/// The federation root field that resolves representations.
const ENTITIES: &str = "_entities";

/// Root fields open to every credential because each object they return
/// passes its own type's rules (see `graphql::node`).
const BY_ANY_ID: &[&str] = &[ENTITIES, "node", "nodes"];

const CATALOG_AND_PRICES: &[&str] = &[
    "product",
    "products",
    "productLine",
    "productLines",
    "resolvedPrice",
    "resolvePrices",
];

/// Fields that lead from what a non-admin may see to other customers' data.
fn leads_to_others(parent: &str, field: &str) -> bool {
    matches!(
        (parent, field),
        ("CustomerGroup", "customers") | ("Organization", "customers") | ("PriceList", "customerGroups")
    )
}

/// Fields of objects others may reach that only admins read: how the
/// business uses its groups is not a shopper's or a storefront's to see.
fn admin_only(parent: &str, field: &str) -> bool {
    matches!((parent, field), ("CustomerGroup", "usage"))
}

pub fn may_resolve(principal: Principal, parent: &str, field: &str) -> bool {
    match principal {
        Principal::Admin => true,
        _ if field.starts_with("__") => true,
        // Prices as they change: each field checks its customer (see [`check_customer`]).
        _ if parent == SUBSCRIPTION => field == "priceChanges",
        Principal::Storefront => match parent {
            QUERY => BY_ANY_ID.contains(&field) || CATALOG_AND_PRICES.contains(&field),
            MUTATION => false,
            _ => !leads_to_others(parent, field) && !admin_only(parent, field),
        },
        Principal::Customer(_) => match parent {
            QUERY => BY_ANY_ID.contains(&field) || field == "customer" || CATALOG_AND_PRICES.contains(&field),
            MUTATION => false,
            _ => !leads_to_others(parent, field) && !admin_only(parent, field),
        },
    }
}

pub fn forbidden(message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", "FORBIDDEN"))
}

fn limit_error(message: String, code: &'static str) -> ServerError {
    async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", code))
        .into_server_error(Pos::default())
}

/// The request's principal; a request that carries none may do nothing.
pub fn principal(ctx: &async_graphql::Context<'_>) -> Option<Principal> {
    ctx.data_opt::<Principal>().copied()
}

/// A customer token may name only its own customer; everyone else may name
/// any (the field itself was already allowed). `None` asks as the
/// anonymous shopper, which anyone may.
pub fn check_customer(ctx: &async_graphql::Context<'_>, customer_id: Option<&str>) -> async_graphql::Result<()> {
    match (principal(ctx), customer_id) {
        (Some(Principal::Customer(own)), Some(raw)) if Uuid::parse_str(raw.trim()).ok() != Some(own) => {
            Err(forbidden("a customer token may read only its own customer and prices"))
        }
        (Some(_), _) => Ok(()),
        (None, _) => Err(forbidden("no credentials")),
    }
}

/// A federation representation of `typename` is a lookup by id in disguise:
/// the principal may resolve it exactly when it may ask `root_field`, the
/// root field that looks that type up. The field's own checks (such as
/// [`check_customer`]) are the caller's, as in the field.
pub fn check_entity(ctx: &async_graphql::Context<'_>, typename: &str, root_field: &str) -> async_graphql::Result<()> {
    match principal(ctx) {
        Some(principal) if may_resolve(principal, QUERY, root_field) => Ok(()),
        Some(_) => Err(forbidden(format!(
            "this credential may not resolve `{typename}` entities (it may not read `{root_field}`)"
        ))),
        None => Err(forbidden("no credentials")),
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for AccessExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.depth > self.0.max_depth {
            return Err(vec![limit_error(
                format!(
                    "the query is nested {} levels deep; at most {} are allowed",
                    result.depth, self.0.max_depth
                ),
                "QUERY_TOO_DEEP",
            )]);
        }
        if result.complexity > self.0.max_complexity {
            return Err(vec![limit_error(
                format!(
                    "the query's complexity is {}; at most {} is allowed (a connection counts its page size times its fields)",
                    result.complexity, self.0.max_complexity
                ),
                "QUERY_TOO_COMPLEX",
            )]);
        }
        Ok(result)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let allowed = match ctx.data_opt::<Principal>() {
            Some(principal) => may_resolve(*principal, info.parent_type, info.name),
            None => info.is_for_introspection,
        };
        let (path_node, return_type) = (info.path_node, info.return_type);
        let result = if allowed {
            next.run(ctx, info).await
        } else {
            let what = format!("{}.{}", info.parent_type, info.name);
            Err(forbidden(format!("this credential may not read `{what}`")).into_server_error(info.field.name.pos))
        };
        self.1.settle(path_node, return_type, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules name the root types; a rename must not open them up.
    #[test]
    fn the_rules_name_the_schemas_root_types() {
        let sdl = crate::graphql::sdl();
        assert!(sdl.contains(&format!("type {QUERY} {{")), "no {QUERY} in the schema");
        assert!(
            sdl.contains(&format!("type {MUTATION} {{")),
            "no {MUTATION} in the schema"
        );
        let someone = Principal::Customer(Uuid::nil());
        assert!(!may_resolve(someone, MUTATION, "createCustomerGroup"));
        assert!(!may_resolve(Principal::Storefront, QUERY, "customers"));
        assert!(may_resolve(Principal::Admin, MUTATION, "createCustomerGroup"));
        assert!(may_resolve(Principal::Storefront, QUERY, ENTITIES));
        assert!(!may_resolve(Principal::Storefront, QUERY, "_service"));
        assert!(may_resolve(someone, SUBSCRIPTION, "priceChanges"));
        assert!(!may_resolve(someone, SUBSCRIPTION, "anythingElse"));
        assert!(
            sdl.contains(&format!("type {SUBSCRIPTION} {{")),
            "no {SUBSCRIPTION} in the schema"
        );
    }

    /// Both schemas name their roots as the rules do.
    #[test]
    fn the_rules_name_the_root_types_of_both_schemas() {
        for sdl in [crate::graphql::sdl(), crate::graphql::subgraph_sdl()] {
            for root in [QUERY, MUTATION] {
                assert!(sdl.contains(&format!("type {root} {{")), "no {root} in\n{sdl}");
            }
        }
    }
}
