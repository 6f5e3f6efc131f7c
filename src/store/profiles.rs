//! Customers' shopper profiles as rows, for the API's
//! `Customer.effectiveGroups` and `Customer.exemptions`: the groups
//! themselves (names, flags), how each was reached, and the type group.
//! Resolution reads the leaner [`super::shopper`] instead.

use std::collections::{BTreeSet, HashMap};

use entity::values::{PriceListStatus, PriceListType};
use entity::{
    customer, customer_group, customer_group_price_list as link, customer_group_product_line as group_line, membership,
    organization_group, price_list,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, UnionType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryFilter,
};
use uuid::Uuid;

use crate::error::ServiceResult;
use crate::pricing::{
    EffectiveGroup, Link, ListInfo, ListStatus, ListType, Membership, PercentOff, Shopper, effective_groups,
};
use migration::EVERYONE_GROUP_ID;

/// Effective pricing groups with how each was reached.
pub type EffectiveGroups = Vec<(customer_group::Model, Membership)>;

/// Everything known about one shopper: a customer, or the anonymous shopper.
#[derive(Clone, Debug)]
pub struct Profile {
    pub customer: Option<customer::Model>,
    pub type_group: Option<customer_group::Model>,
    /// Effective pricing groups (docs/pricing.md#effective-groups), `Everyone` last, active or not.
    pub groups: EffectiveGroups,
    /// What the pricing core reads.
    pub shopper: Shopper,
}

/// One source of an exemption: the customer's own flag, or a group's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExemptionSource {
    Customer,
    TypeGroup(customer_group::Model),
    PricingGroup(customer_group::Model),
}

impl Profile {
    /// Where `flag` comes from: the customer, its active type group and its
    /// active effective pricing groups: the OR of all of them
    /// (docs/pricing.md#exemptions).
    pub fn exemption_sources(&self, flag: impl Fn(bool, bool) -> bool) -> Vec<ExemptionSource> {
        let mut sources = Vec::new();
        if let Some(customer) = &self.customer
            && flag(customer.commission_exempt, customer.free_freight)
        {
            sources.push(ExemptionSource::Customer);
        }
        if let Some(group) = &self.type_group
            && group.is_active
            && flag(group.commission_exempt, group.free_freight)
        {
            sources.push(ExemptionSource::TypeGroup(group.clone()));
        }
        for (group, _) in &self.groups {
            if group.is_active && flag(group.commission_exempt, group.free_freight) {
                sources.push(ExemptionSource::PricingGroup(group.clone()));
            }
        }
        sources
    }

    pub fn commission_exempt_sources(&self) -> Vec<ExemptionSource> {
        self.exemption_sources(|commission, _| commission)
    }

    pub fn free_freight_sources(&self) -> Vec<ExemptionSource> {
        self.exemption_sources(|_, freight| freight)
    }
}

/// Loads the profiles of `customers` (and of the anonymous shopper, keyed by
/// `None`, when `anonymous` is set) in at most six statements; type groups,
/// which only exemptions need, when `with_type_groups` is set.
pub async fn profiles(
    db: &DatabaseConnection,
    customers: &[customer::Model],
    anonymous: bool,
    with_type_groups: bool,
) -> ServiceResult<HashMap<Option<Uuid>, Profile>> {
    // The organization's groups replace the customer's own; only the direct
    // organization counts. Inactive groups are absent everywhere, so an
    // organization whose groups are all inactive has none, and its customers
    // keep their own (docs/pricing.md#effective-groups).
    let organizations: BTreeSet<Uuid> = customers.iter().filter_map(|c| c.organization_id).collect();
    let reachable = reachable_groups(db, customers, &organizations).await?;
    let mut everyone = None;
    let mut groups_by_organization: HashMap<Uuid, Vec<customer_group::Model>> = HashMap::new();
    let mut groups_by_customer: HashMap<Uuid, Vec<customer_group::Model>> = HashMap::new();
    for (reach, group) in reachable {
        match reach {
            Reach::Everyone => everyone = Some(group),
            Reach::Organization(id) => groups_by_organization.entry(id).or_default().push(group),
            Reach::Member(id) => groups_by_customer.entry(id).or_default().push(group),
        }
    }
    let type_groups: HashMap<Uuid, customer_group::Model> = if customers.is_empty() || !with_type_groups {
        HashMap::new()
    } else {
        customer_group::Entity::find()
            .filter(customer_group::Column::Id.is_in(customers.iter().map(|c| c.type_group_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|g| (g.id, g))
            .collect()
    };

    let effective = |customer: Option<&customer::Model>| {
        let by_name = |groups: Option<&Vec<customer_group::Model>>| {
            let mut groups = groups.cloned().unwrap_or_default();
            groups.sort_by(|a, b| a.name_key.cmp(&b.name_key));
            groups
        };
        let organization = customer
            .and_then(|c| c.organization_id)
            .and_then(|id| groups_by_organization.get(&id));
        let own = customer.and_then(|c| groups_by_customer.get(&c.id));
        effective_groups(by_name(organization), by_name(own), everyone.clone(), |g| g.is_active)
    };
    let mut shoppers: Vec<(Option<customer::Model>, EffectiveGroups)> = customers
        .iter()
        .map(|c| (Some(c.clone()), effective(Some(c))))
        .collect();
    if anonymous {
        shoppers.push((None, effective(None)));
    }

    let group_ids: BTreeSet<Uuid> = shoppers
        .iter()
        .flat_map(|(_, groups)| groups.iter().map(|(g, _)| g.id))
        .collect();
    let mut lines_by_group: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut links_by_group: HashMap<Uuid, Vec<Link>> = HashMap::new();
    if !group_ids.is_empty() {
        for row in group_line::Entity::find()
            .filter(group_line::Column::GroupId.is_in(group_ids.iter().copied()))
            .all(db)
            .await?
        {
            lines_by_group
                .entry(row.group_id)
                .or_default()
                .push(row.product_line_id);
        }
        for (row, list) in link::Entity::find()
            .filter(link::Column::GroupId.is_in(group_ids.iter().copied()))
            .find_also_related(price_list::Entity)
            .all(db)
            .await?
        {
            if let Some(list) = list {
                links_by_group.entry(row.group_id).or_default().push(Link {
                    group_id: row.group_id,
                    priority: row.priority,
                    list: list_info(&list),
                });
            }
        }
    }

    Ok(shoppers
        .into_iter()
        .map(|(customer, groups)| {
            let shopper = Shopper {
                groups: groups
                    .iter()
                    .map(|(g, via)| EffectiveGroup {
                        id: g.id,
                        is_active: g.is_active,
                        via: *via,
                        product_lines: lines_by_group.get(&g.id).cloned().unwrap_or_default(),
                    })
                    .collect(),
                links: groups
                    .iter()
                    .flat_map(|(g, _)| links_by_group.get(&g.id).into_iter().flatten().cloned())
                    .collect(),
            };
            let key = customer.as_ref().map(|c| c.id);
            let type_group = customer
                .as_ref()
                .and_then(|c| type_groups.get(&c.type_group_id).cloned());
            (
                key,
                Profile {
                    customer,
                    type_group,
                    groups,
                    shopper,
                },
            )
        })
        .collect())
}

/// A list as the pricing core sees it (which takes its own enums, not the
/// entity crate's).
pub(super) fn list_info(list: &price_list::Model) -> ListInfo {
    ListInfo {
        id: list.id,
        list_type: match list.list_type {
            PriceListType::Sale => ListType::Sale,
            PriceListType::Override => ListType::Override,
        },
        status: match list.status {
            PriceListStatus::Active => ListStatus::Active,
            PriceListStatus::Draft => ListStatus::Draft,
        },
        starts_at: list.starts_at,
        ends_at: list.ends_at,
        created_at: list.created_at,
        rule: list
            .percent_off
            .and_then(|hundredths| PercentOff::from_hundredths(hundredths.into())),
    }
}

/// How a group is reachable for the shoppers of one call.
enum Reach {
    Everyone,
    Organization(Uuid),
    Member(Uuid),
}

/// `Everyone`, the organizations' groups and the customers' own groups, in
/// one statement (`UNION ALL` of the three, each row tagged with its owner).
async fn reachable_groups(
    db: &DatabaseConnection,
    customers: &[customer::Model],
    organizations: &BTreeSet<Uuid>,
) -> ServiceResult<Vec<(Reach, customer_group::Model)>> {
    let groups = |reach: &str, owner: Expr| {
        let mut select = Query::select();
        select
            .expr_as(Expr::val(reach), Alias::new("reach"))
            .expr_as(owner, Alias::new("owner"));
        for column in customer_group::Column::iter() {
            select.expr_as(Expr::col((customer_group::Entity, column)), Alias::new(column.as_str()));
        }
        select.from(customer_group::Entity).to_owned()
    };
    let mut statement = groups("E", Expr::val(Option::<Uuid>::None))
        .and_where(Expr::col((customer_group::Entity, customer_group::Column::Id)).eq(EVERYONE_GROUP_ID))
        .to_owned();
    if !organizations.is_empty() {
        let by_organization = groups(
            "O",
            Expr::col((organization_group::Entity, organization_group::Column::OrganizationId)),
        )
        .inner_join(
            organization_group::Entity,
            Expr::col((organization_group::Entity, organization_group::Column::GroupId))
                .equals((customer_group::Entity, customer_group::Column::Id)),
        )
        .and_where(
            Expr::col((organization_group::Entity, organization_group::Column::OrganizationId))
                .is_in(organizations.iter().copied()),
        )
        .to_owned();
        statement.union(UnionType::All, by_organization);
    }
    if !customers.is_empty() {
        let by_membership = groups("M", Expr::col((membership::Entity, membership::Column::CustomerId)))
            .inner_join(
                membership::Entity,
                Expr::col((membership::Entity, membership::Column::GroupId))
                    .equals((customer_group::Entity, customer_group::Column::Id)),
            )
            .and_where(
                Expr::col((membership::Entity, membership::Column::CustomerId)).is_in(customers.iter().map(|c| c.id)),
            )
            .to_owned();
        statement.union(UnionType::All, by_membership);
    }
    let mut reachable = Vec::new();
    for row in db.query_all(&statement).await? {
        let group = customer_group::Model::from_query_result(&row, "")?;
        let owner: Option<Uuid> = row.try_get("", "owner")?;
        let reach = match (row.try_get::<String>("", "reach")?.as_str(), owner) {
            ("O", Some(id)) => Reach::Organization(id),
            ("M", Some(id)) => Reach::Member(id),
            _ => Reach::Everyone,
        };
        reachable.push((reach, group));
    }
    Ok(reachable)
}
