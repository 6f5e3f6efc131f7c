use entity::price_list;
use sea_orm::{ConnectionTrait, EntityTrait};

use super::parse_id;
use crate::error::{ServiceResult, UserError};

/// Loads a price list for a change, or says it does not exist.
pub(crate) async fn existing(
    db: &impl ConnectionTrait,
    field: &[&str],
    raw_id: &str,
) -> ServiceResult<price_list::Model> {
    let id = parse_id(field, "price list", raw_id)?;
    price_list::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| UserError::not_found(field, "price list", raw_id).into())
}
