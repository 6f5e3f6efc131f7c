//! Domain values parsed once, wherever they come from (GraphQL, REST, CSV):
//! an invalid [`Quantity`], [`Priority`], [`SearchText`] or a stored [`instant`]
//! cannot be constructed, so no later layer checks them again. (Money and
//! currencies: [`crate::money`].)

use std::fmt;

use chrono::{DateTime, Datelike, Utc};

use crate::error::{UserError, UserErrorCode};
use crate::pricing::PercentOff;

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
/// 0; the lower wins (docs/pricing.md#step-4-order).
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

/// A derived list's `percentOff` (docs/pricing.md#derived-lists), as the
/// caller wrote it: a plain decimal above 0 and at most 100 with at most
/// two decimals ("20", "12.5", "0.25"). No sign, exponent or spaces, so
/// one value has few spellings and none is surprising.
pub fn percent_off(field: &[&str], raw: &str) -> Result<PercentOff, UserError> {
    let refuse = |why: &str| {
        UserError::new(
            field,
            UserErrorCode::InvalidRule,
            format!(
                "percentOff must be a number above 0 and at most 100 with at most two decimals, like \"20\" or \"12.5\": {why}"
            ),
        )
    };
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if raw.starts_with('-') {
        return Err(refuse("it is negative"));
    }
    if whole.is_empty() || !digits(whole) || !digits(fraction) || (raw.contains('.') && fraction.is_empty()) {
        return Err(refuse("it is not a decimal number"));
    }
    if fraction.len() > 2 {
        return Err(refuse("it has more than two decimals"));
    }
    // At most 3 significant whole digits matter; more is over 100 anyway.
    let whole = whole.trim_start_matches('0');
    if whole.len() > 3 {
        return Err(refuse("it is over 100"));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| refuse("it is not a decimal number"))?
    };
    let fraction: i64 = format!("{fraction:0<2}")
        .parse()
        .map_err(|_| refuse("it is not a decimal number"))?;
    let hundredths = whole * 100 + fraction;
    match hundredths {
        0 => Err(refuse("it is 0, which discounts nothing")),
        h if h > 10_000 => Err(refuse("it is over 100")),
        h => PercentOff::from_hundredths(h).ok_or_else(|| refuse("it is out of range")),
    }
}

/// Longest substring a search filter (`nameContains`, `emailContains`,
/// `search`) takes: far above any name, far below what makes a `LIKE`
/// pattern expensive.
pub const MAX_SEARCH_LEN: usize = 100;

/// A substring to search for, case-insensitively: at most
/// [`MAX_SEARCH_LEN`] characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SearchText(String);

impl SearchText {
    /// `None` when there is nothing to search for (absent or empty).
    pub fn parse(field: &[&str], raw: Option<&str>) -> Result<Option<Self>, UserError> {
        let Some(raw) = raw.filter(|raw| !raw.is_empty()) else {
            return Ok(None);
        };
        let name = field.last().copied().unwrap_or("filter");
        let length = raw.chars().count();
        if length > MAX_SEARCH_LEN {
            return Err(UserError::new(
                field,
                UserErrorCode::Invalid,
                format!("{name} must be at most {MAX_SEARCH_LEN} characters, got {length}"),
            ));
        }
        no_control_characters(field, raw, false)?;
        Ok(Some(Self(raw.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Refuses NUL and other control characters in a text (PostgreSQL refuses
/// NUL outright, SQLite cuts a string at it); tabs and line breaks only
/// where `multiline`.
pub fn no_control_characters(field: &[&str], raw: &str, multiline: bool) -> Result<(), UserError> {
    let name = field.last().copied().unwrap_or("text");
    let allowed = |c: char| multiline && matches!(c, '\t' | '\n' | '\r');
    match raw.chars().position(|c| c.is_control() && !allowed(c)) {
        None => Ok(()),
        Some(at) => {
            let what = if raw.chars().nth(at) == Some('\0') {
                "a NUL character".to_owned()
            } else {
                "a control character".to_owned()
            };
            Err(UserError::new(
                field,
                UserErrorCode::Invalid,
                format!("{name} must not contain {what} (found at character {})", at + 1),
            ))
        }
    }
}

/// The years a stored date-time may fall in: what both databases keep and
/// compare as instants (SQLite compares the text, PostgreSQL refuses
/// negative years).
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A date-time an admin stores (a list's `startsAt`, `endsAt`): within
/// [`YEARS`].
pub fn instant(field: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>, UserError> {
    if YEARS.contains(&at.year()) {
        return Ok(at);
    }
    Err(UserError::new(
        &[field],
        UserErrorCode::InvalidWindow,
        format!(
            "{field} must be in the years {} to {}, got {}",
            YEARS.start(),
            YEARS.end(),
            at.to_rfc3339()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_off_is_a_decimal_above_0_up_to_100_with_two_decimals() {
        let table: [(&str, Option<u16>); 22] = [
            ("20", Some(2000)),
            ("12.5", Some(1250)),
            ("0.25", Some(25)),
            ("0.01", Some(1)),
            ("100", Some(10_000)),
            ("100.00", Some(10_000)),
            ("007", Some(700)),
            ("0", None),
            ("0.00", None),
            ("100.01", None),
            ("101", None),
            ("99999999999999999999999", None),
            ("-5", None),
            ("12.345", None),
            ("12.", None),
            (".5", None),
            ("", None),
            ("abc", None),
            ("1e2", None),
            (" 20", None),
            ("+20", None),
            ("２０", None),
        ];
        for (raw, expected) in table {
            let parsed = percent_off(&["rule", "percentOff"], raw);
            assert_eq!(parsed.as_ref().ok().map(|p| p.hundredths()), expected, "{raw:?}");
            if let Err(error) = parsed {
                assert_eq!(error.code, UserErrorCode::InvalidRule, "{raw:?}");
                assert_eq!(error.field, ["rule", "percentOff"], "{raw:?}");
            }
        }
    }

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

    #[test]
    fn search_texts_are_short_and_plain() {
        let field = ["filter", "nameContains"];
        assert_eq!(SearchText::parse(&field, None), Ok(None));
        assert_eq!(SearchText::parse(&field, Some("")), Ok(None));
        assert_eq!(
            SearchText::parse(&field, Some("Gold")).map(|t| t.map(|t| t.0)),
            Ok(Some("Gold".to_owned()))
        );
        let longest = "é".repeat(MAX_SEARCH_LEN);
        assert!(SearchText::parse(&field, Some(&longest)).is_ok());
        let refused = [
            ("é".repeat(MAX_SEARCH_LEN + 1), "at most 100 characters"),
            ("x".repeat(60_000), "got 60000"),
            ("a\0b".to_owned(), "NUL character (found at character 2)"),
            ("\u{1b}[31m".to_owned(), "control character"),
            ("two\nlines".to_owned(), "control character"),
        ];
        for (raw, says) in refused {
            let error = SearchText::parse(&field, Some(&raw)).expect_err("refused");
            assert_eq!(error.field, vec!["filter".to_owned(), "nameContains".to_owned()]);
            assert!(error.message.starts_with("nameContains must"), "{}", error.message);
            assert!(error.message.contains(says), "{}", error.message);
        }
        assert!(no_control_characters(&["description"], "two\nlines\tand a tab", true).is_ok());
        assert!(no_control_characters(&["description"], "nul\0", true).is_err());
    }

    #[test]
    fn stored_instants_fall_in_years_1_to_9999() {
        use chrono::TimeZone;
        let table = [
            (1, true),
            (2026, true),
            (9999, true),
            (0, false),
            (-1, false),
            (10_000, false),
            (200_000, false),
        ];
        for (year, ok) in table {
            let at = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single().expect("a date");
            let checked = instant("startsAt", at);
            assert_eq!(checked.is_ok(), ok, "{year}");
            if let Err(error) = checked {
                assert_eq!(error.code, UserErrorCode::InvalidWindow);
                assert!(error.message.contains("years 1 to 9999"), "{}", error.message);
            }
        }
    }
}
