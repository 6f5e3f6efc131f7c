//! Domain values parsed once, wherever they come from (GraphQL, REST, CSV):
//! an invalid [`Quantity`] or [`Priority`] cannot be constructed, so no
//! later layer checks them again. (Money and currencies: [`crate::money`].)

use std::fmt;

use crate::error::{UserError, UserErrorCode};

/// How many units are bought, or where a tier starts or ends: a whole
/// number from 1 to `i32::MAX` (the storage column's range).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i32);

impl Quantity {
    pub const ONE: Self = Self(1);

    /// Parses the `field` of an input; the error names the field.
    pub fn parse(field: &str, raw: i64) -> Result<Self, UserError> {
        i32::try_from(raw).ok().filter(|q| *q >= 1).map(Self).ok_or_else(|| {
            UserError::new(
                &[field],
                UserErrorCode::InvalidQuantity,
                format!("{field} must be a whole number from 1 to {}, got {raw}", i32::MAX),
            )
        })
    }

    /// A quantity read from storage, where a CHECK keeps it at 1 or more.
    pub fn stored(raw: i32) -> Option<Self> {
        (raw >= 1).then_some(Self(raw))
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A link's priority between a group and a price list: a whole number from
/// 0; the lower wins (SPEC §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(i32);

impl Priority {
    pub fn parse(raw: i64) -> Result<Self, UserError> {
        i32::try_from(raw).ok().filter(|p| *p >= 0).map(Self).ok_or_else(|| {
            UserError::new(
                &["priority"],
                UserErrorCode::InvalidPriority,
                format!("priority must be an integer from 0 to {}", i32::MAX),
            )
        })
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_whole_numbers_from_one() {
        let table: [(i64, Option<i32>); 7] = [
            (1, Some(1)),
            (50, Some(50)),
            (i64::from(i32::MAX), Some(i32::MAX)),
            (0, None),
            (-1, None),
            (i64::from(i32::MAX) + 1, None),
            (i64::MIN, None),
        ];
        for (raw, expected) in table {
            let parsed = Quantity::parse("quantity", raw);
            assert_eq!(parsed.as_ref().ok().map(|q| q.get()), expected, "{raw}");
            if let Err(error) = parsed {
                assert_eq!(error.code, UserErrorCode::InvalidQuantity);
                assert_eq!(error.field, vec!["quantity".to_owned()]);
                assert!(error.message.contains(&raw.to_string()), "{}", error.message);
            }
        }
        assert_eq!(Quantity::stored(0), None);
        assert_eq!(Quantity::stored(3).map(Quantity::get), Some(3));
    }

    #[test]
    fn priorities_are_whole_numbers_from_zero() {
        let table: [(i64, Option<i32>); 5] = [
            (0, Some(0)),
            (7, Some(7)),
            (i64::from(i32::MAX), Some(i32::MAX)),
            (-1, None),
            (i64::from(i32::MAX) + 1, None),
        ];
        for (raw, expected) in table {
            let parsed = Priority::parse(raw);
            assert_eq!(parsed.as_ref().ok().map(|p| p.get()), expected, "{raw}");
            if let Err(error) = parsed {
                assert_eq!(error.code, UserErrorCode::InvalidPriority);
                assert_eq!(error.field, vec!["priority".to_owned()]);
            }
        }
    }
}
