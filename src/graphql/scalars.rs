//! Scalars: `Decimal` as an exact string in both directions, and what the
//! schema says about the scalars async-graphql defines (`DateTime`, `JSON`),
//! whose own descriptions speak of Rust types.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// An exact decimal number written as a string, such as `"12.50"`.
///
/// JSON numbers are refused on input: they pass through a float on the way
/// and lose digits, which is no way to carry money.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal(pub String);

/// An exact decimal number as a string: digits, optionally a point and more
/// digits, such as `"12.50"`; never a JSON number, which would lose digits.
/// An amount of money has exactly its currency's decimals: `"10.50"` USD,
/// `"1050"` JPY, `"1.050"` KWD.
#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(text) => match crate::money::parse_decimal(&text) {
                Ok(_) => Ok(Self(text)),
                Err(error) => Err(InputValueError::custom(error.to_string())),
            },
            Value::Number(number) => Err(InputValueError::custom(format!(
                "Decimal must be a string such as \"{number}\", not a JSON number (numbers lose precision)"
            ))),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// `DateTime`: async-graphql's scalar for instants (already `@specifiedBy`
/// RFC 3339), described for the API's users.
pub const DATE_TIME_DESCRIPTION: &str = "An instant as an RFC 3339 date-time string with an offset, such as \
`\"2026-06-01T09:30:00Z\"` or `\"2026-06-01T11:30:00+02:00\"`. Answers are in UTC \
(`\"2026-06-01T09:30:00+00:00\"`), with fractional seconds only when the instant has them.";

/// `JSON`: async-graphql's scalar for free-form JSON, described for the
/// API's users.
pub const JSON_DESCRIPTION: &str = "Any JSON value: plain JSON in variables, or the same value as a \
GraphQL literal in a query (`{ tier: \"gold\" }`). A string stays a string, even if it holds JSON. \
The API uses it for `metadata`: a JSON object of your own, stored and answered as given; \
pricing never reads it.";
