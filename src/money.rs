//! Money as integer minor units beside an ISO 4217 currency (docs/pricing.md#money).
//!
//! Amounts cross the API as exact decimal strings and are stored as a 64-bit
//! count of minor units, so no value ever passes through a float. A
//! [`CurrencyCode`] can only hold a currency that has a minor unit, and a
//! [`Money`] can only hold a non-negative amount that its currency can express.

use std::fmt;
use std::str::FromStr;

use iso_currency::Currency;
use rust_decimal::Decimal;

/// The largest amount accepted, in minor units: far above any real price and
/// far below where `i64` or `Decimal` arithmetic could overflow.
pub const MAX_MINOR_UNITS: i64 = 1_000_000_000_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CurrencyCode(Currency);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    #[error("'{0}' is not an ISO 4217 currency code")]
    Unknown(String),
    #[error("{0} has no minor unit, so it cannot carry prices")]
    NoMinorUnit(&'static str),
}

impl CurrencyCode {
    /// Accepts the three-letter code in any case (`usd` means `USD`).
    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        let upper = code.trim().to_ascii_uppercase();
        let currency = Currency::from_code(&upper).ok_or_else(|| CurrencyError::Unknown(code.to_owned()))?;
        match currency.exponent() {
            Some(_) => Ok(Self(currency)),
            None => Err(CurrencyError::NoMinorUnit(currency.code())),
        }
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point: USD 2, JPY 0, KWD 3.
    pub fn exponent(self) -> u32 {
        // `parse` admits only currencies with an exponent.
        u32::from(self.0.exponent().unwrap_or(0))
    }
}

/// By code, alphabetically: the order answers list currencies in.
impl Ord for CurrencyCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.code().cmp(other.code())
    }
}

impl PartialOrd for CurrencyCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for CurrencyCode {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    minor_units: i64,
    currency: CurrencyCode,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amount must not be negative")]
    Negative,
    #[error("{currency} allows at most {exponent} decimal places")]
    TooManyDecimals { currency: &'static str, exponent: u32 },
    #[error("amount is too large")]
    TooLarge,
    #[error("'{0}' is not a decimal number such as \"12.50\"")]
    NotADecimal(String),
}

impl Money {
    /// An amount in the currency's major unit ("12.50" USD). Trailing zeros
    /// beyond the minor unit are harmless ("12.500" USD is 1250 cents); a
    /// digit that the currency cannot express is refused, never rounded.
    pub fn from_decimal(amount: Decimal, currency: CurrencyCode) -> Result<Self, AmountError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(AmountError::Negative);
        }
        let exponent = currency.exponent();
        let normalized = amount.normalize();
        if normalized.scale() > exponent {
            return Err(AmountError::TooManyDecimals {
                currency: currency.code(),
                exponent,
            });
        }
        let scaled = normalized
            .checked_mul(Decimal::from(10_i64.pow(exponent)))
            .ok_or(AmountError::TooLarge)?;
        let minor_units = i64::try_from(scaled.trunc()).map_err(|_| AmountError::TooLarge)?;
        Self::from_minor_units(minor_units, currency)
    }

    /// Parses an exact decimal string: digits with an optional fraction and no
    /// exponent, sign, spaces or separators.
    pub fn parse(amount: &str, currency: CurrencyCode) -> Result<Self, AmountError> {
        Self::from_decimal(parse_decimal(amount)?, currency)
    }

    pub fn from_minor_units(minor_units: i64, currency: CurrencyCode) -> Result<Self, AmountError> {
        if minor_units < 0 {
            return Err(AmountError::Negative);
        }
        if minor_units > MAX_MINOR_UNITS {
            return Err(AmountError::TooLarge);
        }
        Ok(Self { minor_units, currency })
    }

    pub fn minor_units(self) -> i64 {
        self.minor_units
    }

    pub fn currency(self) -> CurrencyCode {
        self.currency
    }

    /// The amount in major units with exactly the currency's decimals.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.minor_units, self.currency.exponent())
    }
}

impl fmt::Display for Money {
    /// "10.50" for USD, "1050" for JPY, "1.050" for KWD.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

/// The strict decimal grammar of the API: `-?[0-9]+(\.[0-9]+)?`.
pub fn parse_decimal(text: &str) -> Result<Decimal, AmountError> {
    let not_decimal = || AmountError::NotADecimal(text.chars().take(40).collect());
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(not_decimal());
    }
    Decimal::from_str_exact(text).map_err(|_| AmountError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str) -> CurrencyCode {
        CurrencyCode::parse(code).expect("known currency")
    }

    #[test]
    fn formats_with_the_currency_exponent() {
        for (code, minor, shown) in [
            ("USD", 1050, "10.50"),
            ("JPY", 1050, "1050"),
            ("KWD", 1050, "1.050"),
            ("USD", 0, "0.00"),
        ] {
            let money = Money::from_minor_units(minor, currency(code)).expect("valid");
            assert_eq!(money.to_string(), shown);
        }
    }

    #[test]
    fn parses_exact_strings_and_refuses_the_rest() {
        let usd = currency("USD");
        assert_eq!(Money::parse("12.5", usd).map(Money::minor_units), Ok(1250));
        assert_eq!(Money::parse("12.500", usd).map(Money::minor_units), Ok(1250));
        assert_eq!(
            Money::parse("12.505", usd),
            Err(AmountError::TooManyDecimals {
                currency: "USD",
                exponent: 2
            })
        );
        assert_eq!(
            Money::parse("1.5", currency("JPY")),
            Err(AmountError::TooManyDecimals {
                currency: "JPY",
                exponent: 0
            })
        );
        assert_eq!(Money::parse("-1", usd), Err(AmountError::Negative));
        assert_eq!(Money::parse("-0.00", usd).map(Money::minor_units), Ok(0));
        for bad in ["", "1e3", "+1", " 1", "1.", ".5", "1,000", "abc", "NaN"] {
            assert!(
                matches!(Money::parse(bad, usd), Err(AmountError::NotADecimal(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            Money::parse("99999999999999999999999999", usd),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn currency_codes_are_iso_4217_with_a_minor_unit() {
        assert_eq!(currency("usd").code(), "USD");
        assert_eq!(currency("KWD").exponent(), 3);
        assert!(matches!(CurrencyCode::parse("ABC"), Err(CurrencyError::Unknown(_))));
        assert!(matches!(
            CurrencyCode::parse("XAU"),
            Err(CurrencyError::NoMinorUnit("XAU"))
        ));
    }

    proptest::proptest! {
        #[test]
        fn decimal_strings_round_trip(minor in 0_i64..=1_000_000_000_000_000, code in proptest::sample::select(vec!["USD", "JPY", "KWD"])) {
            let money = Money::from_minor_units(minor, currency(code)).expect("in range");
            let again = Money::parse(&money.to_string(), currency(code)).expect("own output parses");
            proptest::prop_assert_eq!(again, money);
        }
    }
}
