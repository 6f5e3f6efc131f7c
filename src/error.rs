//! The error policy.
//!
//! - Anything the caller got wrong is a [`UserError`]: a stable `code`, the
//!   input `field` it concerns and a sentence saying what to do. Mutations
//!   return these in `userErrors`; queries raise them with `extensions.code`.
//! - Anything else (the database, a bug) is internal: it is logged in full and
//!   the client sees only `Internal server error` with `code: INTERNAL`. No SQL,
//!   connection string or file path ever reaches a response.
//! - Unique and foreign-key violations that slip past validation (two writers
//!   racing) are recognised through `DbErr::sql_err()` and become user errors.
//! - A database that cannot be reached (refused or broken connections, a
//!   restart, a pool that found no connection in time) is neither the
//!   caller's fault nor a bug: it is [`is_unavailable`], answered 503
//!   `DATABASE_UNAVAILABLE` with `Retry-After`, and logged as a warning.

use sea_orm::sqlx::Error as SqlxError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserErrorCode {
    NotFound,
    Taken,
    Blank,
    Invalid,
    InvalidCurrency,
    InvalidAmount,
    InvalidQuantity,
    InvalidWindow,
    InvalidPriority,
    InvalidRule,
    WrongGroupKind,
    StaleVersion,
    BuiltIn,
    TooMany,
}

impl UserErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "NOT_FOUND",
            Self::Taken => "TAKEN",
            Self::Blank => "BLANK",
            Self::Invalid => "INVALID",
            Self::InvalidCurrency => "INVALID_CURRENCY",
            Self::InvalidAmount => "INVALID_AMOUNT",
            Self::InvalidQuantity => "INVALID_QUANTITY",
            Self::InvalidWindow => "INVALID_WINDOW",
            Self::InvalidPriority => "INVALID_PRIORITY",
            Self::InvalidRule => "INVALID_RULE",
            Self::WrongGroupKind => "WRONG_GROUP_KIND",
            Self::StaleVersion => "STALE_VERSION",
            Self::BuiltIn => "BUILT_IN",
            Self::TooMany => "TOO_MANY",
        }
    }
}

/// One thing wrong with the caller's input. `field` is the path inside the
/// mutation's `input`, e.g. `["prices", "3", "amount"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserError {
    pub field: Vec<String>,
    pub message: String,
    pub code: UserErrorCode,
}

impl UserError {
    pub fn new(field: &[&str], code: UserErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: field.iter().map(|s| (*s).to_owned()).collect(),
            message: message.into(),
            code,
        }
    }

    /// The same error, under a parent path (`prices`, `3`, ...).
    pub fn under(mut self, prefix: &[&str]) -> Self {
        let mut field: Vec<String> = prefix.iter().map(|s| (*s).to_owned()).collect();
        field.append(&mut self.field);
        self.field = field;
        self
    }

    pub fn not_found(field: &[&str], what: &str, id: &str) -> Self {
        Self::new(field, UserErrorCode::NotFound, format!("no {what} with id '{id}'"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input was refused; nothing was written.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<UserError>),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// The request's deadline passed first; nothing was written.
    #[error("{0}")]
    Timeout(String),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl From<UserError> for ServiceError {
    fn from(error: UserError) -> Self {
        Self::Invalid(vec![error])
    }
}

impl From<Vec<UserError>> for ServiceError {
    fn from(errors: Vec<UserError>) -> Self {
        Self::Invalid(errors)
    }
}

impl ServiceError {
    /// Whether the database could not be reached (see [`is_unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Database(error) if is_unavailable(error))
    }

    /// Turns a unique-constraint violation into the user error `on_conflict`,
    /// for the writer that lost a race the validation could not see.
    pub fn unique_violation(error: DbErr, on_conflict: impl FnOnce() -> UserError) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Invalid(vec![on_conflict()]),
            _ => Self::Database(error),
        }
    }
}

/// Collects user errors while validating a whole input, so the caller hears
/// about every problem at once rather than one per round trip.
#[derive(Debug, Default)]
pub struct Problems(Vec<UserError>);

impl Problems {
    pub fn push(&mut self, error: UserError) {
        self.0.push(error);
    }

    /// Keeps the value, or records the error and returns `None`.
    pub fn check<T>(&mut self, result: Result<T, UserError>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// Keeps the value of a lookup, or records its user errors and returns
    /// `None`; a database failure still ends the call.
    pub fn gather<T>(&mut self, result: ServiceResult<T>) -> ServiceResult<Option<T>> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(ServiceError::Invalid(errors)) => {
                self.0.extend(errors);
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The refusal, for when a value that validation would have produced is
    /// missing: validation recorded why.
    pub fn refused(self) -> ServiceError {
        ServiceError::Invalid(self.0)
    }

    pub fn into_result(self) -> Result<(), ServiceError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Invalid(self.0))
        }
    }
}

/// Whether a database error says the database could not be reached, or the
/// connection broke under the statement, rather than that the statement was
/// wrong: a retry may succeed. Typed, never by message: sqlx's I/O, TLS and
/// pool errors, and PostgreSQL's connection-exception SQLSTATEs (class `08`,
/// and `57P01`–`57P03`: the server is shutting down, crashed or starting).
pub fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error)) => match &**error {
            SqlxError::Io(_)
            | SqlxError::Tls(_)
            | SqlxError::PoolTimedOut
            | SqlxError::PoolClosed
            | SqlxError::WorkerCrashed => true,
            SqlxError::Database(error) => error
                .code()
                .is_some_and(|code| code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")),
            _ => false,
        },
        _ => false,
    }
}
