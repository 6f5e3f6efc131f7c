//! The service layer: every write and every top-level read of pricegraph,
//! shared by GraphQL, REST and the CLI. One module per aggregate; each
//! validates its whole input (collecting every problem as a [`UserError`]),
//! writes in a transaction, and knows nothing of GraphQL or HTTP.

pub mod bulk;
pub mod catalog;
pub mod customers;
pub mod groups;
pub mod health;
pub mod impact;
pub mod organizations;
pub mod price_lists;
pub mod prices;
pub mod resolution;
pub mod simulation;
pub mod subscriptions;
pub mod usage;
pub mod webhooks;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, JsonValue, PrimaryKeyTrait,
    QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::domain::no_control_characters;
use crate::error::{Problems, ServiceError, ServiceResult, UserError, UserErrorCode};

pub use migration::{DEFAULT_TYPE_GROUP_ID, EVERYONE_GROUP_ID};

/// Names, emails and skus longer than this are refused.
pub const MAX_TEXT_LEN: usize = 255;
/// Longest description accepted.
pub const MAX_DESCRIPTION_LEN: usize = 4096;

/// A change to an optional field of an update: leave it, clear it, or set it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Self::Keep => current,
            Self::Clear => None,
            Self::Set(value) => Some(value),
        }
    }
}

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Ids are v7 UUIDs: unique without coordination, and ordered by creation,
/// which keyset pagination relies on.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

pub fn parse_id(field: &[&str], what: &str, raw: &str) -> Result<Uuid, UserError> {
    Uuid::parse_str(raw.trim()).map_err(|_| UserError::not_found(field, what, raw))
}

/// A required one-line text: trimmed, not blank, not too long.
pub fn required_text(field: &str, raw: &str) -> Result<String, UserError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(UserError::new(
            &[field],
            UserErrorCode::Blank,
            format!("{field} must not be blank"),
        ));
    }
    if value.chars().count() > MAX_TEXT_LEN {
        return Err(UserError::new(
            &[field],
            UserErrorCode::Invalid,
            format!("{field} must be at most {MAX_TEXT_LEN} characters"),
        ));
    }
    no_control_characters(&[field], value, false)?;
    Ok(value.to_owned())
}

/// An optional description: blank means none.
pub fn description(field: &str, raw: Option<String>) -> Result<Option<String>, UserError> {
    let Some(raw) = raw else { return Ok(None) };
    let value = raw.trim();
    if value.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(UserError::new(
            &[field],
            UserErrorCode::Invalid,
            format!("{field} must be at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
    no_control_characters(&[field], value, true)?;
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// `metadata` is a JSON object that clients use freely.
pub fn metadata(raw: Option<JsonValue>) -> Result<JsonValue, UserError> {
    match raw {
        None | Some(JsonValue::Null) => Ok(JsonValue::Object(Default::default())),
        Some(value @ JsonValue::Object(_)) => match nul_in_json(&value) {
            None => Ok(value),
            Some(path) => Err(UserError::new(
                &["metadata"],
                UserErrorCode::Invalid,
                format!("metadata must not contain a NUL character (found in {path})"),
            )),
        },
        Some(_) => Err(UserError::new(
            &["metadata"],
            UserErrorCode::Invalid,
            "metadata must be a JSON object",
        )),
    }
}

/// Where a JSON value holds a NUL character, in a key or a string (the
/// databases cannot store one in JSON): a path such as `a.b[2]`. Walked
/// with a stack of its own; the request's nesting is bounded before it
/// gets here.
fn nul_in_json(value: &JsonValue) -> Option<String> {
    let mut stack: Vec<(&JsonValue, String)> = vec![(value, String::new())];
    while let Some((value, path)) = stack.pop() {
        match value {
            JsonValue::String(text) if text.contains('\0') => return Some(path),
            JsonValue::Array(items) => {
                stack.extend(items.iter().enumerate().map(|(i, item)| (item, format!("{path}[{i}]"))));
            }
            JsonValue::Object(fields) => {
                for (key, field) in fields {
                    let at = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if key.contains('\0') {
                        return Some(at.replace('\0', "\\0"));
                    }
                    stack.push((field, at));
                }
            }
            _ => {}
        }
    }
    None
}

/// An update's new required text (a name): set when valid, else recorded.
pub(crate) fn update_text(problems: &mut Problems, field: &str, raw: Option<&str>, target: &mut String) {
    if let Some(raw) = raw
        && let Some(value) = problems.check(required_text(field, raw))
    {
        *target = value;
    }
}

/// An update's new `metadata`: set when it is an object, else recorded.
pub(crate) fn update_metadata(problems: &mut Problems, raw: Option<JsonValue>, target: &mut JsonValue) {
    if let Some(raw) = raw
        && let Some(value) = problems.check(metadata(Some(raw)))
    {
        *target = value;
    }
}

/// An update's `description`: kept, cleared, or set when valid.
pub(crate) fn update_description(problems: &mut Problems, patch: Patch<String>, target: &mut Option<String>) {
    match patch {
        Patch::Keep => {}
        Patch::Clear => *target = None,
        Patch::Set(text) => {
            if let Some(text) = problems.check(description("description", Some(text))) {
                *target = text;
            }
        }
    }
}

/// Refuses an update that names a version other than the stored one.
pub fn check_version(expected: Option<i32>, stored: i32, what: &str) -> Result<(), UserError> {
    match expected {
        Some(expected) if expected != stored => Err(stale(what, stored)),
        _ => Ok(()),
    }
}

pub fn stale(what: &str, stored: i32) -> UserError {
    UserError::new(
        &["version"],
        UserErrorCode::StaleVersion,
        format!("the {what} was changed by someone else (now at version {stored}); reload it and try again"),
    )
}

/// Finds the row `raw` names, or reports it missing at `field`.
pub(crate) async fn find_ref<E>(
    db: &impl ConnectionTrait,
    field: &[&str],
    what: &str,
    raw: &str,
) -> ServiceResult<E::Model>
where
    E: EntityTrait,
    Uuid: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    let id = parse_id(field, what, raw)?;
    E::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| UserError::not_found(field, what, raw).into())
}

/// Refuses `value` in a unique `column` when a row other than `except` holds it.
pub(crate) async fn check_unique<E: Versioned>(
    db: &impl ConnectionTrait,
    column: E::Column,
    value: &str,
    except: Option<Uuid>,
    taken: impl FnOnce() -> UserError,
) -> ServiceResult<Result<(), UserError>> {
    let holder: Option<Uuid> = E::find()
        .select_only()
        .column(E::ID)
        .filter(column.eq(value))
        .into_tuple()
        .one(db)
        .await?;
    Ok(match holder {
        Some(id) if Some(id) != except => Err(taken()),
        _ => Ok(()),
    })
}

/// Entities whose rows admins edit: an `id` key and a `version` that every
/// update increases.
pub(crate) trait Versioned: EntityTrait {
    const ID: Self::Column;
    const VERSION: Self::Column;
}

macro_rules! versioned {
    ($($module:ident),*) => {$(
        impl Versioned for entity::$module::Entity {
            const ID: Self::Column = entity::$module::Column::Id;
            const VERSION: Self::Column = entity::$module::Column::Version;
        }
    )*};
}
versioned!(
    customer,
    customer_group,
    organization,
    product_line,
    product,
    price_list
);

/// Writes `next` over the row `id` if it is still at `read_version`, the
/// version the change was validated against; otherwise the change is stale.
/// A unique violation (a racing writer took the name) becomes `on_unique`.
pub(crate) async fn save_versioned<E>(
    db: &impl ConnectionTrait,
    next: E::Model,
    id: Uuid,
    read_version: i32,
    what: &str,
    on_unique: impl FnOnce() -> UserError,
) -> ServiceResult<E::Model>
where
    E: Versioned,
    E::Model: IntoActiveModel<E::ActiveModel> + Clone,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let result = E::update_many()
        .set(next.clone().into_active_model().reset_all())
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(read_version))
        .exec(db)
        .await
        .map_err(|error| ServiceError::unique_violation(error, on_unique))?;
    if result.rows_affected == 0 {
        return Err(stale(what, read_version + 1).into());
    }
    Ok(next)
}
