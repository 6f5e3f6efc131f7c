//! Scalars: `Decimal` as an exact string in both directions.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// An exact decimal number written as a string, such as `"12.50"`.
///
/// JSON numbers are refused on input: they pass through a float on the way
/// and lose digits, which is no way to carry money.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal(pub String);

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
