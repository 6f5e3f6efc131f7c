//! What a price list prices, as the health checks read it: the one place
//! that decides it. A list prices a product, in a currency, at a quantity
//! when it has a price there (docs/pricing.md#step-5-first-price): one of
//! its own tiers contains the quantity. The checks that compare what lists
//! price (ties, lists that never win) go through [`TIERS`], [`prices`],
//! [`has_price_at`] and [`covers`] only; the checks that read amounts (sales never below
//! base, prices without a base price) read the list's own `price` rows,
//! which a rule never adds to.
//!
//! A derived list (a rule, docs/pricing.md#derived-lists) prices more than
//! its rows: every product with a base price. [`TIERS`] does not list those
//! prices (a branch over every base price would keep SQLite from
//! flattening it into the statements that read it), so the checks stay
//! sound by leaving derived lists out where their rows would mislead: a
//! derived list is never reported as never winning (it prices what the
//! lists ahead may not) nor as a sale never below base (its rule is below
//! base). The ties check adds a derived list's base prices itself.

/// Every tier a list prices, as a table: `price_list_id`, `product_id`,
/// `currency`, `min_quantity`, `max_quantity` (null: open-ended). A plain
/// subquery, which SQLite and PostgreSQL both flatten into the statement
/// that reads it, so each lookup still uses `price`'s indexes.
pub(super) const TIERS: &str = "(SELECT price_list_id, product_id, currency, min_quantity, max_quantity FROM price)";

/// Whether the list whose id is `list` has a price for `product` and
/// `currency` at `quantity` (all SQL expressions).
pub(super) fn has_price_at(list: &str, product: &str, currency: &str, quantity: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM {TIERS} priced
                 WHERE priced.price_list_id = {list} AND priced.product_id = {product}
                   AND priced.currency = {currency} AND priced.min_quantity <= {quantity}
                   AND (priced.max_quantity IS NULL OR priced.max_quantity >= {quantity}))"
    )
}

/// Whether the list whose id is `list` has a price for `product` and
/// `currency` at some quantity.
pub(super) fn prices(list: &str, product: &str, currency: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM {TIERS} priced
                 WHERE priced.price_list_id = {list} AND priced.product_id = {product}
                   AND priced.currency = {currency})"
    )
}

/// Whether the list whose id is `list` has a price at every quantity of
/// the tier `tier` (an alias of [`TIERS`]): one of its tiers contains the
/// tier's first quantity, and none of its tiers ends inside the range
/// without another taking over at the next quantity. (The first quantity
/// the list leaves uncovered, if any, is either the tier's first or one
/// past the end of one of the list's own tiers.)
pub(super) fn covers(list: &str, tier: &str) -> String {
    let (product, currency) = (format!("{tier}.product_id"), format!("{tier}.currency"));
    let starts = has_price_at(list, &product, &currency, &format!("{tier}.min_quantity"));
    let resumes = has_price_at(list, &product, &currency, "ending.max_quantity + 1");
    // `max_quantity` below the largest quantity: the next one exists.
    format!(
        "{starts}
         AND NOT EXISTS (SELECT 1 FROM {TIERS} ending
                         WHERE ending.price_list_id = {list} AND ending.product_id = {product}
                           AND ending.currency = {currency}
                           AND ending.max_quantity >= {tier}.min_quantity
                           AND ending.max_quantity < COALESCE({tier}.max_quantity, {max})
                           AND NOT {resumes})",
        max = i32::MAX
    )
}
