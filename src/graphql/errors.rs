//! How service results become GraphQL errors and `userErrors`.

use async_graphql::{Enum, ErrorExtensions, SimpleObject};

use crate::error::{ServiceError, UserError as ServiceUserError};

/// Why an input was refused: the `code` of a `userErrors` entry, and the
/// `extensions.reason` of a query error caused by an argument (whose
/// `extensions.code` is then `BAD_USER_INPUT` or `NOT_FOUND`).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::error::UserErrorCode")]
pub enum UserErrorCode {
    /// An id that names nothing, or that is not an id at all.
    NotFound,
    /// A value that must be unique is already someone else's (a group's
    /// name, a customer's email, a product's sku), or the input lists the
    /// same thing twice.
    Taken,
    /// A required text is empty or only spaces.
    Blank,
    /// A value that is malformed or not allowed: too long, a control
    /// character, an email or sku of the wrong shape, `metadata` that is not
    /// a JSON object, an organization under its own descendant, the same
    /// tier twice in a batch.
    Invalid,
    /// Not an ISO 4217 currency code with a minor unit (`USD`, `EUR`, `JPY`…).
    InvalidCurrency,
    /// Not a decimal string such as `"12.50"`, negative, too large, or with a
    /// digit finer than the currency's minor unit.
    InvalidAmount,
    /// A quantity or tier bound below 1 or too large, a `maxQuantity` below
    /// its `minQuantity`, or a `maxQuantity` on a base price.
    InvalidQuantity,
    /// A price list's `endsAt` not after its `startsAt`, or a date outside
    /// the years 1 to 9999.
    InvalidWindow,
    /// A priority below 0 or too large.
    InvalidPriority,
    /// A price list's rule that cannot be used: a `percentOff` that is not
    /// a decimal number above 0 and at most 100 with at most two decimals.
    InvalidRule,
    /// A group of the wrong kind: only `PRICING` groups have members, price
    /// lists, product lines and organizations; only `TYPE` groups classify
    /// customers.
    WrongGroupKind,
    /// The `version` sent is not the stored one: someone changed the record
    /// since you read it. Read it again, then retry.
    StaleVersion,
    /// The built-in groups `Default` and `Everyone` cannot be deleted;
    /// nobody is added to `Everyone`, and no organization is given it.
    BuiltIn,
    /// More items than one call takes (1,000 ids, prices or price items).
    TooMany,
}

/// Something the caller got wrong: which `input` field, what, and a stable code.
#[derive(SimpleObject, Clone, Debug)]
pub struct UserError {
    /// Path of the offending field inside `input`, e.g. `["prices", "3", "amount"]`;
    /// null when the error is about the input as a whole.
    pub field: Option<Vec<String>>,
    /// What is wrong, in English, for people. Match on `code`, not on the message.
    pub message: String,
    /// What is wrong, as a stable code.
    pub code: UserErrorCode,
}

impl From<ServiceUserError> for UserError {
    fn from(error: ServiceUserError) -> Self {
        Self {
            field: (!error.field.is_empty()).then_some(error.field),
            message: error.message,
            code: error.code.into(),
        }
    }
}

/// The masked error for anything that is not the caller's fault: the client
/// sees only `Internal server error`; the detail rides along as the error's
/// source, and the HTTP layer logs it once, under the request's id.
pub fn internal(error: impl std::fmt::Display) -> async_graphql::Error {
    let mut masked = async_graphql::Error::new("Internal server error").extend_with(|_, e| e.set("code", "INTERNAL"));
    masked.source = Some(std::sync::Arc::new(InternalDetail(error.to_string())));
    masked
}

/// The database could not be reached: the caller may retry (the HTTP layer
/// answers 503 with `Retry-After`). The detail goes to the log only, as for
/// [`internal`].
pub fn unavailable(error: impl std::fmt::Display) -> async_graphql::Error {
    let mut masked = async_graphql::Error::new(UNAVAILABLE_MESSAGE).extend_with(|_, e| e.set("code", UNAVAILABLE));
    masked.source = Some(std::sync::Arc::new(InternalDetail(error.to_string())));
    masked
}

/// The code of [`unavailable`].
pub const UNAVAILABLE: &str = "DATABASE_UNAVAILABLE";
const UNAVAILABLE_MESSAGE: &str = "the database is unavailable; retry after the time in `Retry-After`";

/// A database failure: [`unavailable`] when the database could not be
/// reached, [`internal`] otherwise.
fn database(error: &sea_orm::DbErr) -> async_graphql::Error {
    if crate::error::is_unavailable(error) {
        unavailable(error)
    } else {
        internal(error)
    }
}

/// What went wrong inside, for the log only.
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

/// An argument the caller got wrong, for queries.
pub fn bad_input(message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", "BAD_USER_INPUT"))
}

pub fn not_found(what: &str, id: &str) -> async_graphql::Error {
    async_graphql::Error::new(format!("no {what} with id '{id}'")).extend_with(|_, e| e.set("code", "NOT_FOUND"))
}

/// A service failure as a GraphQL error, the one place where its codes are
/// given. The caller's mistakes become `NOT_FOUND` or `BAD_USER_INPUT`,
/// with the precise code as `reason` and the argument path as `field`; a
/// database out of reach is [`unavailable`]; anything else is [`internal`].
impl ErrorExtensions for ServiceError {
    fn extend(&self) -> async_graphql::Error {
        match self {
            ServiceError::Invalid(errors) => {
                let Some(first) = errors.first() else {
                    return bad_input("invalid input");
                };
                let code = match first.code {
                    crate::error::UserErrorCode::NotFound => "NOT_FOUND",
                    _ => "BAD_USER_INPUT",
                };
                let (reason, field) = (first.code.as_str(), first.field.join("."));
                async_graphql::Error::new(first.message.clone()).extend_with(|_, e| {
                    e.set("code", code);
                    e.set("reason", reason);
                    if !field.is_empty() {
                        e.set("field", field.clone());
                    }
                })
            }
            ServiceError::Database(error) => database(error),
            ServiceError::Timeout(message) => timeout(message),
        }
    }
}

/// The request's deadline passed before a write could commit: nothing was written.
pub fn timeout(message: &str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", "TIMEOUT"))
}

/// A connection's `filter.<field>` search text, checked (length, control
/// characters) before it reaches a query.
pub fn search_text(field: &str, raw: Option<&str>) -> async_graphql::Result<Option<crate::domain::SearchText>> {
    crate::domain::SearchText::parse(&["filter", field], raw).map_err(|e| query_error(e.into()))
}

/// A service failure inside a query (for `map_err`).
pub fn query_error(error: ServiceError) -> async_graphql::Error {
    error.extend()
}

/// Splits a mutation's service result into its object and `userErrors`;
/// other failures become a masked GraphQL error.
pub fn mutation_result<T, U>(
    result: Result<T, ServiceError>,
    wrap: impl FnOnce(T) -> U,
) -> async_graphql::Result<(Option<U>, Vec<UserError>)> {
    match result {
        Ok(value) => Ok((Some(wrap(value)), vec![])),
        Err(ServiceError::Invalid(errors)) => Ok((None, errors.into_iter().map(UserError::from).collect())),
        Err(ServiceError::Database(error)) => Err(database(&error)),
        Err(ServiceError::Timeout(message)) => Err(timeout(&message)),
    }
}

/// Declares a mutation payload: the object (named after its type) and
/// `userErrors`, described as the result of `$mutation`, with `$object`
/// saying what the object is.
macro_rules! payload {
    ($name:ident, $field:ident: $ty:ty, $mutation:literal, $object:literal) => {
        #[doc = concat!("The result of `", $mutation, "`.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            #[doc = concat!($object, "; null when `userErrors` is not empty.")]
            pub $field: Option<$ty>,
            /// What was wrong with the input, if anything; when not empty, nothing was written.
            pub user_errors: Vec<$crate::graphql::errors::UserError>,
        }

        impl $name {
            pub fn from_result<T>(
                result: Result<T, $crate::error::ServiceError>,
                wrap: impl FnOnce(T) -> $ty,
            ) -> async_graphql::Result<Self> {
                let ($field, user_errors) = $crate::graphql::errors::mutation_result(result, wrap)?;
                Ok(Self { $field, user_errors })
            }
        }
    };
}
macro_rules! impact_payload {
    ($name:ident, $field:ident: $ty:ty, $mutation:literal, $object:literal) => {
        #[doc = concat!("The result of `", $mutation, "`.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            #[doc = concat!($object, "; null when `userErrors` is not empty. With `dryRun`, as it would be.")]
            pub $field: Option<$ty>,
            /// What was wrong with the input, if anything; when not empty, nothing was written.
            pub user_errors: Vec<$crate::graphql::errors::UserError>,
            /// With `dryRun`, what the change would do to prices (nothing was
            /// written); null otherwise, and when `userErrors` is not empty.
            pub impact: Option<$crate::graphql::impact::PriceImpact>,
        }

        impl $name {
            /// From a mutation run by [`crate::graphql::impact::run`].
            pub fn from_run<T>(
                (result, impact): (
                    Result<T, $crate::error::ServiceError>,
                    Option<$crate::graphql::impact::PriceImpact>,
                ),
                wrap: impl FnOnce(T) -> $ty,
            ) -> async_graphql::Result<Self> {
                let ($field, user_errors) = $crate::graphql::errors::mutation_result(result, wrap)?;
                Ok(Self {
                    $field,
                    user_errors,
                    impact,
                })
            }
        }
    };
}
pub(crate) use impact_payload;
pub(crate) use payload;

/// The result of every delete: the id that was deleted.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// The id of the deleted record; null when `userErrors` is not empty.
    /// With `dryRun`, the id that would be deleted.
    pub deleted_id: Option<async_graphql::ID>,
    /// What was wrong with the input, if anything; when not empty, nothing was written.
    pub user_errors: Vec<UserError>,
    /// With `dryRun`, what the delete would do to prices (nothing was
    /// written); null otherwise, and when `userErrors` is not empty.
    pub impact: Option<crate::graphql::impact::PriceImpact>,
}

impl DeletePayload {
    /// From a delete run by [`crate::graphql::impact::run`].
    pub fn from_run(
        (result, impact): (
            Result<uuid::Uuid, ServiceError>,
            Option<crate::graphql::impact::PriceImpact>,
        ),
    ) -> async_graphql::Result<Self> {
        let (deleted_id, user_errors) = mutation_result(result, |id| async_graphql::ID(id.to_string()))?;
        Ok(Self {
            deleted_id,
            user_errors,
            impact,
        })
    }
}
