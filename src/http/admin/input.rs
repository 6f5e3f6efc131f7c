//! Reading a request: the JSON body, its fields, query and path parameters.
//! Every refusal names the field it concerns.
//!
//! Bodies are read field by field rather than through `#[derive(Deserialize)]`:
//! serde's errors do not say which field had the wrong type, and a PATCH must
//! tell a field that is absent (keep it) from one that is `null` (clear it).

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::http::AppState;
use crate::service::Patch;

/// A JSON request body, sent as `application/json` (or a `+json` type), of
/// at most the server's body limit (docs/api.md#limits).
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        // The only failure of a body being read that the caller can still
        // hear about is its length.
        let limit = state.options.body_limit;
        let bytes = match crate::http::read_body(request.into_body(), &state.options).await {
            Ok(bytes) => bytes,
            Err(crate::http::BodyError::TooLarge) => return Err(ApiError::payload_too_large(limit)),
            Err(crate::http::BodyError::TooSlow) => return Err(ApiError::body_timeout(state.options.body_timeout)),
        };
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|error| ApiError::bad_request(None, format!("the body is not valid JSON: {error}")))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The fields of one JSON object of the body, taken one at a time.
pub struct Fields {
    /// Where the object sits in the body (`priceLists.0`), empty at the top.
    path: String,
    map: Map<String, Value>,
}

impl Fields {
    /// The body's top-level object.
    pub fn body(body: JsonBody, known: &[&str]) -> Result<Self, ApiError> {
        Self::object(body.0, String::new(), known)
    }

    /// An object at `path`, refusing any field not in `known`: a misspelt
    /// optional field would otherwise be ignored without a word.
    fn object(value: Value, path: String, known: &[&str]) -> Result<Self, ApiError> {
        let Value::Object(map) = value else {
            let (field, what) = if path.is_empty() {
                (None, "the body".to_owned())
            } else {
                (Some(path.clone()), format!("`{path}`"))
            };
            return Err(ApiError::bad_request(field, format!("{what} must be a JSON object")));
        };
        let fields = Self { path, map };
        if let Some(unknown) = fields.map.keys().find(|key| !known.contains(&key.as_str())) {
            let field = fields.field(unknown);
            return Err(ApiError::bad_request(
                Some(field.clone()),
                format!("unknown field `{field}`; expected one of: {}", known.join(", ")),
            ));
        }
        Ok(fields)
    }

    fn field(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn parse<T: DeserializeOwned>(&self, name: &str, value: Value) -> Result<T, ApiError> {
        serde_json::from_value(value).map_err(|error| {
            let field = self.field(name);
            ApiError::bad_request(Some(field.clone()), format!("`{field}`: {error}"))
        })
    }

    /// A field that must be given, and not as `null`.
    pub fn required<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, ApiError> {
        match self.map.remove(name) {
            None | Some(Value::Null) => {
                let field = self.field(name);
                Err(ApiError::bad_request(
                    Some(field.clone()),
                    format!("`{field}` is required"),
                ))
            }
            Some(value) => self.parse(name, value),
        }
    }

    /// A field that may be left out; `null` counts as left out.
    pub fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, ApiError> {
        match self.map.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => self.parse(name, value).map(Some),
        }
    }

    /// A field of a partial update that cannot be cleared: absent keeps it,
    /// `null` is refused rather than guessed at.
    pub fn change<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, ApiError> {
        match self.map.remove(name) {
            None => Ok(None),
            Some(Value::Null) => {
                let field = self.field(name);
                Err(ApiError::bad_request(
                    Some(field.clone()),
                    format!("`{field}` cannot be null; leave it out to keep it"),
                ))
            }
            Some(value) => self.parse(name, value).map(Some),
        }
    }

    /// A field of a partial update that can be cleared: absent keeps it,
    /// `null` clears it.
    pub fn patch<T: DeserializeOwned>(&mut self, name: &str) -> Result<Patch<T>, ApiError> {
        match self.map.remove(name) {
            None => Ok(Patch::Keep),
            Some(Value::Null) => Ok(Patch::Clear),
            Some(value) => self.parse(name, value).map(Patch::Set),
        }
    }

    /// An optional list of objects, each with the fields `known`.
    pub fn objects(&mut self, name: &str, known: &[&str]) -> Result<Vec<Fields>, ApiError> {
        let items: Vec<Value> = self.optional(name)?.unwrap_or_default();
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| Self::object(item, self.field(&format!("{name}.{index}")), known))
            .collect()
    }
}

/// A request's query parameters, each given at most once, none unknown.
pub struct QueryParams(HashMap<String, String>);

impl QueryParams {
    pub fn parse(query: Option<&str>, known: &[&str]) -> Result<Self, ApiError> {
        let mut params = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if !known.contains(&name.as_ref()) {
                let expected = if known.is_empty() {
                    "this endpoint takes none".to_owned()
                } else {
                    format!("expected one of: {}", known.join(", "))
                };
                return Err(ApiError::bad_request(
                    Some(name.to_string()),
                    format!("unknown query parameter `{name}`; {expected}"),
                ));
            }
            if params.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(ApiError::bad_request(
                    Some(name.to_string()),
                    format!("query parameter `{name}` is given more than once"),
                ));
            }
        }
        Ok(Self(params))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// An integer parameter, if given.
    pub fn integer<T: std::str::FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|raw| {
                raw.trim().parse().map_err(|_| {
                    ApiError::bad_request(
                        Some(name.to_owned()),
                        format!("`{name}` must be {expected}, got '{raw}'"),
                    )
                })
            })
            .transpose()
    }
}

/// Path parameters. A segment that does not decode is refused here; one
/// that decodes but names nothing goes on to the service, which says so.
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(params)| Self(params))
            .map_err(|rejection| ApiError::bad_request(None, rejection.body_text()))
    }
}
