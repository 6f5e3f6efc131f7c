//! Object identification (docs/api.md#object-identification): every object
//! with an id is a `Node`, and `node(id:)` / `nodes(ids:)` refetch any of
//! them by id. Ids are UUIDs, unique across all types, so one statement
//! tells which type each id names ([`kinds`]); each type then loads through
//! the request's loaders, one statement per type present, whatever the
//! number of ids.
//!
//! An id that names nothing is `null`, with no error; an id that is not an
//! id is a `BAD_USER_INPUT` error naming the argument. Each id passes the
//! access rules of the root field that looks its type up, so `node` opens
//! nothing that `customer(id:)`, `product(id:)`… keep closed.

use std::collections::{BTreeSet, HashMap};

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, ErrorExtensions, ID, Interface, Object, Result};
use uuid::Uuid;

use super::access::{self, check_entity};
use super::errors::{bad_input, query_error};
use super::loaders::{LoadError, loaders};
use super::store;
use super::types::{
    BasePrice, Customer, CustomerGroup, Organization, Price, PriceList, Product, ProductLine, load_failed,
};
use crate::store::kinds::{self, Kind};

/// The most ids one `nodes` call takes.
pub const MAX_NODE_IDS: usize = 100;

/// An object with an id of its own, which `node(id:)` and `nodes(ids:)` fetch again.
#[derive(Interface, Clone)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's id: a UUID, unique across all types."))]
pub enum Node {
    Customer(Customer),
    CustomerGroup(CustomerGroup),
    Organization(Organization),
    PriceList(PriceList),
    Price(Price),
    Product(Product),
    ProductLine(ProductLine),
    BasePrice(BasePrice),
}

/// An id argument: a UUID, or a `BAD_USER_INPUT` error naming `field`.
pub fn parse_id(field: &str, id: &ID) -> Result<Uuid> {
    Uuid::parse_str(id.trim()).map_err(|_| {
        bad_input(format!(
            "`{field}` must be an id (a UUID such as \"0191e3c2-7f7e-7d2a-9a51-3d1b6d0f4b1e\"); got \"{}\"",
            id.as_str().chars().take(60).collect::<String>()
        ))
        .extend_with(|_, e| e.set("field", field))
    })
}

/// The row `id` names, through `loader`: `None` when it names nothing.
pub async fn look_up<L>(loader: &DataLoader<L>, field: &str, id: &ID) -> Result<Option<L::Value>>
where
    L: Loader<Uuid, Error = LoadError>,
{
    let key = parse_id(field, id)?;
    loader.load_one(key).await.map_err(load_failed)
}

/// The root field whose access rules a node of `kind` follows.
fn root_field(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Customer => ("Customer", "customer"),
        Kind::CustomerGroup => ("CustomerGroup", "customerGroup"),
        Kind::Organization => ("Organization", "organization"),
        Kind::PriceList | Kind::Price => ("PriceList", "priceList"),
        Kind::Product | Kind::BasePrice => ("Product", "product"),
        Kind::ProductLine => ("ProductLine", "productLine"),
    }
}

/// The nodes `ids` name, in their order; `None` where an id names nothing.
/// Each position is its own result, so one refused id leaves the rest.
async fn load_nodes(ctx: &Context<'_>, ids: &[Uuid]) -> Result<Vec<Option<Result<Node>>>> {
    let distinct: Vec<Uuid> = ids.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
    let kinds = kinds::kinds(store(ctx).conn(), &distinct).await.map_err(query_error)?;
    let mut found = nodes_of_kinds(ctx, kinds.iter().map(|(id, kind)| (*id, *kind))).await?;
    Ok(ids
        .iter()
        .map(|id| {
            let kind = *kinds.get(id)?;
            let (typename, field) = root_field(kind);
            let allowed = check_entity(ctx, typename, field).and_then(|()| match kind {
                Kind::Customer => access::check_customer(ctx, Some(&id.to_string())),
                _ => Ok(()),
            });
            Some(allowed.and_then(|()| take_or_clone(&mut found, *id, ids)))
        })
        .collect())
}

/// The nodes of ids whose kind is known (a finding's subjects, or ids
/// [`kinds::kinds`] told apart), through the request's loaders: one
/// statement per kind present, whatever the number of ids, and none for
/// rows the cache holds. Ids that name nothing (any more) are absent.
/// Access is the caller's to check.
pub async fn nodes_of_kinds(
    ctx: &Context<'_>,
    ids: impl IntoIterator<Item = (Uuid, Kind)>,
) -> Result<HashMap<Uuid, Node>> {
    let mut wanted: HashMap<Kind, Vec<Uuid>> = HashMap::new();
    for (id, kind) in ids {
        wanted.entry(kind).or_default().push(id);
    }
    let mut of_kind = |kind: Kind| wanted.remove(&kind).unwrap_or_default();
    let loaders = loaders(ctx);
    // Every loader asked in the same poll: one statement per kind present.
    let (customers, groups, organizations, price_lists, prices, products, lines, base_prices) =
        futures_util::try_join!(
            loaders.customers.load_many(of_kind(Kind::Customer)),
            loaders.groups.load_many(of_kind(Kind::CustomerGroup)),
            loaders.organizations.load_many(of_kind(Kind::Organization)),
            loaders.price_lists.load_many(of_kind(Kind::PriceList)),
            loaders.prices.load_many(of_kind(Kind::Price)),
            loaders.products.load_many(of_kind(Kind::Product)),
            loaders.product_lines.load_many(of_kind(Kind::ProductLine)),
            loaders.base_prices.load_many(of_kind(Kind::BasePrice)),
        )
        .map_err(load_failed)?;
    let mut found: HashMap<Uuid, Node> = HashMap::new();
    found.extend(
        customers
            .into_iter()
            .map(|(id, row)| (id, Node::Customer(Customer(row)))),
    );
    found.extend(
        groups
            .into_iter()
            .map(|(id, row)| (id, Node::CustomerGroup(CustomerGroup(row)))),
    );
    found.extend(
        organizations
            .into_iter()
            .map(|(id, row)| (id, Node::Organization(Organization(row)))),
    );
    found.extend(
        price_lists
            .into_iter()
            .map(|(id, row)| (id, Node::PriceList(PriceList(row)))),
    );
    found.extend(prices.into_iter().map(|(id, row)| (id, Node::Price(Price(row)))));
    found.extend(
        products
            .into_iter()
            .map(|(id, row)| (id, Node::Product(Product::from(row)))),
    );
    found.extend(
        lines
            .into_iter()
            .map(|(id, row)| (id, Node::ProductLine(ProductLine(row)))),
    );
    found.extend(
        base_prices
            .into_iter()
            .map(|(id, row)| (id, Node::BasePrice(BasePrice(row)))),
    );
    Ok(found)
}

/// The node of `id`; a copy when `ids` asks for it more than once.
fn take_or_clone(found: &mut HashMap<Uuid, Node>, id: Uuid, ids: &[Uuid]) -> Result<Node> {
    let repeated = ids.iter().filter(|other| **other == id).count() > 1;
    let node = if repeated {
        found.get(&id).cloned()
    } else {
        found.remove(&id)
    };
    // Deleted between the two statements: as if it had never been there.
    node.ok_or_else(|| super::errors::not_found("object", &id.to_string()))
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this id, whatever its type; `null` when the id names
    /// nothing. Open to every credential, each object under the rules of the
    /// root field that looks its type up (`customer`, `product`, …): an
    /// object the credential may not read is `null` with a `FORBIDDEN` error.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A UUID, as any object's `id` gives it.")] id: ID,
    ) -> Result<Option<Node>> {
        let key = parse_id("id", &id)?;
        match load_nodes(ctx, &[key]).await?.pop().flatten() {
            Some(node) => node.map(Some),
            None => Ok(None),
        }
    }

    /// The objects with these ids, in the order asked (at most 100 ids);
    /// `null` where an id names nothing or names an object the credential
    /// may not read (then with a `FORBIDDEN` error at that position). A
    /// fixed number of statements, whatever the number of ids.
    #[graphql(complexity = "ids.len() * child_complexity")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "UUIDs, as objects' `id` fields give them; at most 100, repeats allowed.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Result<Node>>>> {
        if ids.len() > MAX_NODE_IDS {
            return Err(bad_input(format!(
                "`ids` holds {} ids; at most {MAX_NODE_IDS} are allowed",
                ids.len()
            ))
            .extend_with(|_, e| e.set("field", "ids")));
        }
        let keys = ids
            .iter()
            .enumerate()
            .map(|(index, id)| parse_id(&format!("ids[{index}]"), id))
            .collect::<Result<Vec<_>>>()?;
        load_nodes(ctx, &keys).await
    }
}
