//! What each id names: ids are UUIDs, unique across every table, so one
//! statement over the tables of objects with an id tells which holds each
//! (the API's `node`/`nodes`, docs/api.md#object-identification).

use std::collections::HashMap;

use entity::{base_price, customer, customer_group, organization, price, price_list, product, product_line};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use uuid::Uuid;

use crate::error::ServiceResult;

/// The kinds of object that have an id of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Customer,
    CustomerGroup,
    Organization,
    PriceList,
    Price,
    Product,
    ProductLine,
    BasePrice,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Customer,
        Kind::CustomerGroup,
        Kind::Organization,
        Kind::PriceList,
        Kind::Price,
        Kind::Product,
        Kind::ProductLine,
        Kind::BasePrice,
    ];

    fn tag(self) -> i32 {
        self as i32
    }

    fn from_tag(tag: i32) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.tag() == tag)
    }

    fn select(self, ids: &[Uuid]) -> SelectStatement {
        fn ids_of<E: EntityTrait>(entity: E, kind: Kind, ids: &[Uuid]) -> SelectStatement {
            Query::select()
                .expr_as(Expr::col((entity, Alias::new("id"))), Alias::new("id"))
                .expr_as(Expr::val(kind.tag()), Alias::new("kind"))
                .from(entity)
                .and_where(Expr::col((entity, Alias::new("id"))).is_in(ids.iter().copied()))
                .to_owned()
        }
        match self {
            Kind::Customer => ids_of(customer::Entity, self, ids),
            Kind::CustomerGroup => ids_of(customer_group::Entity, self, ids),
            Kind::Organization => ids_of(organization::Entity, self, ids),
            Kind::PriceList => ids_of(price_list::Entity, self, ids),
            Kind::Price => ids_of(price::Entity, self, ids),
            Kind::Product => ids_of(product::Entity, self, ids),
            Kind::ProductLine => ids_of(product_line::Entity, self, ids),
            Kind::BasePrice => ids_of(base_price::Entity, self, ids),
        }
    }
}

/// The kind of every id that names something, in one statement; ids that
/// name nothing are absent.
pub async fn kinds(db: &DatabaseConnection, ids: &[Uuid]) -> ServiceResult<HashMap<Uuid, Kind>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut statement = Kind::ALL[0].select(ids);
    for kind in &Kind::ALL[1..] {
        statement.union(UnionType::All, kind.select(ids));
    }
    let mut found = HashMap::new();
    for row in db.query_all(&statement).await? {
        let id: Uuid = row.try_get("", "id")?;
        if let Some(kind) = Kind::from_tag(row.try_get("", "kind")?) {
            found.insert(id, kind);
        }
    }
    Ok(found)
}
