//! How REST answers a refusal: `{"error": {"code", "message", "field"}}`, and
//! for the service's user errors also `"errors"`, every problem it found.
//!
//! Statuses follow what went wrong, with the service's code kept as `code`:
//!
//! | what                                                     | status |
//! |----------------------------------------------------------|--------|
//! | malformed JSON, wrong type, unknown or missing field, bad query parameter | 400 |
//! | no credentials, or ones that do not check out            | 401    |
//! | credentials that are not an admin key                    | 403    |
//! | body not `application/json`                              | 415    |
//! | body over the server's limit                             | 413    |
//! | `NOT_FOUND` for an id in the path                        | 404    |
//! | `TAKEN` on a field of the resource (a name in use)       | 409    |
//! | `STALE_VERSION`, `BUILT_IN`                              | 409    |
//! | every other user error (blank name, bad priority, an unknown price list in the body, ...) | 422 |
//! | the database out of reach (`DATABASE_UNAVAILABLE`, with `Retry-After`) | 503 |
//! | anything else (`INTERNAL`)                               | 500    |
//!
//! A `TAKEN` deeper in the body (the same price list listed twice) is the
//! request contradicting itself, not the stored data: 422. When the service
//! reports several problems, the first decides the status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{ServiceError, UserError, UserErrorCode};

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: Problem,
    /// Every user error of a service refusal; `None` for other errors.
    errors: Option<Vec<Problem>>,
    /// Seconds to wait, for a 429 or a 503.
    retry_after: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
struct Problem {
    code: &'static str,
    message: String,
    field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a Problem,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [Problem]>,
}

/// How an endpoint's path parameters appear in the service's error fields:
/// (service field, path parameter), e.g. `("groupId", "id")`.
pub type PathFields = &'static [(&'static str, &'static str)];

impl ApiError {
    fn new(status: StatusCode, code: &'static str, field: Option<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            error: Problem {
                code,
                message: message.into(),
                field,
            },
            errors: None,
            retry_after: None,
        }
    }

    /// The request itself is wrong: its JSON, a field's type, a query parameter.
    pub fn bad_request(field: Option<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", field, message)
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            None,
            "send the body as JSON, with `Content-Type: application/json`",
        )
    }

    /// No credentials, or ones that prove nothing; the response says how to
    /// authenticate (`WWW-Authenticate`).
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None, message)
    }

    /// Credentials that are good, but not for this: the admin endpoints take
    /// admin keys only.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", None, message)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            None,
            format!("the request body is over the limit of {limit} bytes"),
        )
    }

    /// The body did not arrive in time (a client dripping it byte by byte).
    pub fn body_timeout(timeout: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "BODY_TIMEOUT",
            None,
            format!("the request body did not arrive within {timeout:?}"),
        )
    }

    /// Past the credential's request rate; `Retry-After` says when to come back.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            None,
            "too many requests with this credential; retry after the time in `Retry-After`",
        );
        error.retry_after = Some(crate::http::rate::retry_after(wait));
        error
    }

    /// A path that names nothing, decided here rather than by the service.
    pub fn not_found(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", Some(field.to_owned()), message)
    }

    /// Not the caller's fault: the detail goes to the log, never to the client.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "internal error in a REST request");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            None,
            "Internal server error",
        )
    }

    /// A database failure: 503 `DATABASE_UNAVAILABLE` when the database
    /// could not be reached (the caller may retry), [`Self::internal`] otherwise.
    pub fn database(error: sea_orm::DbErr) -> Self {
        if !crate::error::is_unavailable(&error) {
            return Self::internal(error);
        }
        tracing::warn!(error = %error, "the database is unavailable to a REST request");
        let mut unavailable = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "DATABASE_UNAVAILABLE",
            None,
            "the database is unavailable; retry after the time in `Retry-After`",
        );
        unavailable.retry_after = Some("1".to_owned());
        unavailable
    }

    /// Maps a service failure for an endpoint whose path parameters are `path`.
    pub fn service(path: PathFields) -> impl FnOnce(ServiceError) -> Self {
        move |error| match error {
            ServiceError::Invalid(errors) => Self::refused(path, errors),
            ServiceError::Database(error) => Self::database(error),
            ServiceError::Timeout(message) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "TIMEOUT", None, message),
        }
    }

    fn refused(path: PathFields, errors: Vec<UserError>) -> Self {
        let status = errors
            .first()
            .map_or(StatusCode::UNPROCESSABLE_ENTITY, |first| status_of(first, path));
        let all: Vec<Problem> = errors.into_iter().map(|e| problem(path, e)).collect();
        let error = all.first().cloned().unwrap_or_else(|| Problem {
            code: UserErrorCode::Invalid.as_str(),
            message: "invalid input".to_owned(),
            field: None,
        });
        Self {
            status,
            error,
            errors: Some(all),
            retry_after: None,
        }
    }
}

fn status_of(error: &UserError, path: PathFields) -> StatusCode {
    match error.code {
        UserErrorCode::NotFound if path_parameter(path, &error.field).is_some() => StatusCode::NOT_FOUND,
        UserErrorCode::Taken if error.field.len() == 1 => StatusCode::CONFLICT,
        UserErrorCode::StaleVersion | UserErrorCode::BuiltIn => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The path parameter a service field stands for, if it is one.
fn path_parameter(path: PathFields, field: &[String]) -> Option<&'static str> {
    match field {
        [name] => path
            .iter()
            .find(|(service, _)| service == name)
            .map(|(_, parameter)| *parameter),
        _ => None,
    }
}

/// A service user error as REST shows it: the field as a dotted path
/// (`priceLists.0.priority`), named after the path parameter when it is one.
fn problem(path: PathFields, error: UserError) -> Problem {
    let field = match path_parameter(path, &error.field) {
        Some(parameter) => Some(parameter.to_owned()),
        None => (!error.field.is_empty()).then(|| error.field.join(".")),
    };
    Problem {
        code: error.code.as_str(),
        message: error.message,
        field,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: &self.error,
            errors: self.errors.as_deref(),
        };
        let mut response = (self.status, Json(body)).into_response();
        // A 401 must say which scheme would do (RFC 9110 §11.6.1).
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after.as_deref().and_then(|s| HeaderValue::from_str(s).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
    }
}

/// A method the path does not take; axum adds the `Allow` header.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        None,
        "this path does not take that method",
    )
}
