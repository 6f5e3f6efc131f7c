//! What a group holds: its members, its price lists (with priorities) and
//! the product lines it may order. Each call validates all of its input,
//! writes in one transaction, then invalidates what the change touched.

use std::collections::HashSet;

use entity::values::GroupKind;
use entity::{
    customer, customer_group, customer_group_price_list as link, customer_group_product_line as group_line, membership,
    product_line,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{EVERYONE_GROUP_ID, Linked, PriceListLink, existing, parse_ids, report_missing, require_kind};
use crate::domain::Priority;
use crate::error::{Problems, ServiceError, ServiceResult, UserError, UserErrorCode};
use crate::events::{Action, Event};
use crate::service::now;
use crate::store::Store;

async fn pricing_group_for_links(
    db: &impl ConnectionTrait,
    raw_id: &str,
    purpose: &str,
) -> ServiceResult<customer_group::Model> {
    let group = existing(db, &["groupId"], raw_id).await?;
    require_kind(&["groupId"], &group, GroupKind::Pricing, purpose)?;
    Ok(group)
}

fn everyone_is_implicit(group: &customer_group::Model) -> Result<(), UserError> {
    if group.id == EVERYONE_GROUP_ID {
        return Err(UserError::new(
            &["groupId"],
            UserErrorCode::BuiltIn,
            format!(
                "every shopper belongs to '{}' implicitly; nobody is added to or removed from it",
                group.name
            ),
        ));
    }
    Ok(())
}

/// Adds customers to a `PRICING` group; customers already in it are left as they are.
pub async fn add_customers(
    store: &Store,
    raw_group_id: &str,
    raw_customer_ids: &[String],
) -> ServiceResult<customer_group::Model> {
    let db = store.conn();
    let group = pricing_group_for_links(db, raw_group_id, "have members").await?;
    everyone_is_implicit(&group)?;
    let mut problems = Problems::default();
    let ids = parse_ids("customerIds", "customer", raw_customer_ids, &mut problems);
    let found: HashSet<Uuid> = customer::Entity::find()
        .filter(customer::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    report_missing("customerIds", "customer", &ids, &found, raw_customer_ids, &mut problems);
    problems.into_result()?;
    let now = now();
    let changed = ids.clone();
    let rows = ids.into_iter().map(|customer_id| membership::ActiveModel {
        customer_id: Set(customer_id),
        group_id: Set(group.id),
        created_at: Set(now),
    });
    let mut txn = store.begin().await?;
    for chunk in rows.collect::<Vec<_>>().chunks(200) {
        membership::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([membership::Column::CustomerId, membership::Column::GroupId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&*txn)
            .await?;
    }
    txn.customers_changed(&changed);
    txn.emit(Event::membership_changed(group.id, &changed));
    txn.commit().await?;
    Ok(group)
}

pub async fn remove_customers(
    store: &Store,
    raw_group_id: &str,
    raw_customer_ids: &[String],
) -> ServiceResult<customer_group::Model> {
    let db = store.conn();
    let group = existing(db, &["groupId"], raw_group_id).await?;
    let mut problems = Problems::default();
    let ids = parse_ids("customerIds", "customer", raw_customer_ids, &mut problems);
    problems.into_result()?;
    let mut txn = store.begin().await?;
    membership::Entity::delete_many()
        .filter(membership::Column::GroupId.eq(group.id))
        .filter(membership::Column::CustomerId.is_in(ids.clone()))
        .exec(&*txn)
        .await?;
    txn.customers_changed(&ids);
    txn.emit(Event::membership_changed(group.id, &ids));
    txn.commit().await?;
    Ok(group)
}

/// Links a price list to a `PRICING` group at a priority. Linking a pair that
/// is already linked changes its priority: there is one link per pair.
pub async fn add_price_list(
    store: &Store,
    raw_group_id: &str,
    raw_price_list_id: &str,
    raw_priority: i64,
) -> ServiceResult<Linked> {
    let db = store.conn();
    let mut problems = Problems::default();
    let group = pricing_group_for_links(db, raw_group_id, "have price lists").await;
    let list = crate::service::price_lists::existing(db, &["priceListId"], raw_price_list_id).await;
    let priority = problems.check(Priority::parse(raw_priority));
    let group = problems.gather(group)?;
    let list = problems.gather(list)?;
    let (Some(group), Some(list), Some(priority)) = (group, list, priority) else {
        return Err(problems.refused());
    };
    problems.into_result()?;
    let priority = priority.get();
    // The writes and the read that follows them are one transaction: what
    // is answered is what was written, whatever races it.
    let mut txn = store.begin().await?;
    let inserted = link::Entity::insert(link::ActiveModel {
        group_id: Set(group.id),
        price_list_id: Set(list.id),
        priority: Set(priority),
        created_at: Set(now()),
    })
    .on_conflict(
        OnConflict::columns([link::Column::GroupId, link::Column::PriceListId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&*txn)
    .await?;
    let created = inserted > 0;
    if !created {
        link::Entity::update_many()
            .col_expr(link::Column::Priority, priority.into())
            .filter(link::Column::GroupId.eq(group.id))
            .filter(link::Column::PriceListId.eq(list.id))
            .exec(&*txn)
            .await?;
    }
    let link = link::Entity::find_by_id((group.id, list.id))
        .one(&*txn)
        .await?
        .ok_or_else(|| ServiceError::Database(sea_orm::DbErr::RecordNotFound("link just written".into())))?;
    txn.groups_changed(&[link.group_id]);
    txn.emit([Event::group_changed(link.group_id, Action::Updated)]);
    txn.commit().await?;
    Ok(Linked {
        created,
        link: PriceListLink { link, price_list: list },
    })
}

/// What [`remove_price_list`] did: the group, and whether a link went.
#[derive(Clone, Debug)]
pub struct Unlinked {
    pub group: customer_group::Model,
    pub removed: bool,
}

/// Unlinks a price list from a group; unlinking a pair that is not linked is a no-op.
pub async fn remove_price_list(store: &Store, raw_group_id: &str, raw_price_list_id: &str) -> ServiceResult<Unlinked> {
    let db = store.conn();
    let group = existing(db, &["groupId"], raw_group_id).await?;
    let list = crate::service::price_lists::existing(db, &["priceListId"], raw_price_list_id).await?;
    let mut txn = store.begin().await?;
    let deleted = link::Entity::delete_many()
        .filter(link::Column::GroupId.eq(group.id))
        .filter(link::Column::PriceListId.eq(list.id))
        .exec(&*txn)
        .await?;
    let removed = deleted.rows_affected > 0;
    if removed {
        txn.groups_changed(&[group.id]);
        txn.emit([Event::group_changed(group.id, Action::Updated)]);
    }
    txn.commit().await?;
    Ok(Unlinked { group, removed })
}

/// Replaces the product lines a `PRICING` group may order from (docs/pricing.md#product-access).
/// An empty list lifts the group's restriction.
pub async fn set_product_lines(
    store: &Store,
    raw_group_id: &str,
    raw_line_ids: &[String],
) -> ServiceResult<customer_group::Model> {
    let db = store.conn();
    let group = pricing_group_for_links(db, raw_group_id, "restrict product lines").await?;
    let mut problems = Problems::default();
    let ids = parse_ids("productLineIds", "product line", raw_line_ids, &mut problems);
    let found: HashSet<Uuid> = product_line::Entity::find()
        .filter(product_line::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    report_missing(
        "productLineIds",
        "product line",
        &ids,
        &found,
        raw_line_ids,
        &mut problems,
    );
    problems.into_result()?;
    let now = now();
    let mut txn = store.begin().await?;
    group_line::Entity::delete_many()
        .filter(group_line::Column::GroupId.eq(group.id))
        .exec(&*txn)
        .await?;
    let rows: Vec<_> = ids
        .into_iter()
        .map(|product_line_id| group_line::ActiveModel {
            group_id: Set(group.id),
            product_line_id: Set(product_line_id),
            created_at: Set(now),
        })
        .collect();
    if !rows.is_empty() {
        group_line::Entity::insert_many(rows)
            .exec_without_returning(&*txn)
            .await?;
    }
    txn.groups_changed(&[group.id]);
    txn.emit([Event::group_changed(group.id, Action::Updated)]);
    txn.commit().await?;
    Ok(group)
}
