//! The statements of the health checks, one per check, each set-based
//! over whole tables (aggregates, `EXISTS` on indexed columns), so none
//! runs per group or list. Each returns at most `cap` findings, in name
//! order, with the number found in all (`total`, counted before the
//! `LIMIT`). A check that names related objects (the groups a list is
//! linked to) first picks its findings, then joins their relations, one
//! row per related object.
//!
//! `:now` and `:everyone` are bound by [`super::bind`]. Written for both
//! backends: `TRUE`, `COUNT(*) OVER ()`, `AS MATERIALIZED` and `SUBSTR`
//! mean the same in SQLite and PostgreSQL, and SQLite's instants are
//! RFC 3339 text in UTC, which compares as the instants do.

use super::priced::{TIERS, covers, prices};

/// A link of the list `list` to an active group.
fn linked_to_active_group(list: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM customer_group_price_list k JOIN customer_group g ON g.id = k.group_id
                 WHERE k.price_list_id = {list}.id AND g.is_active = TRUE)"
    )
}

/// The list `list` has not ended: it can apply now or later.
fn not_ended(list: &str) -> String {
    format!("({list}.ends_at IS NULL OR {list}.ends_at > :now)")
}

/// Active `PRICING` groups (but `Everyone`) that match `condition` on `g`.
pub(super) fn groups_where(condition: &str, cap: u64) -> String {
    format!(
        "SELECT g.id, g.name, COUNT(*) OVER () AS total
         FROM customer_group g
         WHERE g.kind = 'PRICING' AND g.is_active = TRUE AND g.id <> :everyone AND {condition}
         ORDER BY g.name_key, g.id
         LIMIT {cap}"
    )
}

pub(super) const WITHOUT_LISTS: &str = "NOT EXISTS (SELECT 1 FROM customer_group_price_list k WHERE k.group_id = g.id)";

pub(super) const WITHOUT_MEMBERS: &str =
    "NOT EXISTS (SELECT 1 FROM customer_group_membership m WHERE m.group_id = g.id)
     AND NOT EXISTS (SELECT 1 FROM organization_group o WHERE o.group_id = g.id)";

/// Lists that match `condition` on `l`, each with the groups it is linked
/// to (active ones only when `active_groups`): one row per list and link,
/// with null group columns for a link left out and for a list linked to none.
pub(super) fn lists_with_groups(condition: &str, active_groups: bool, cap: u64) -> String {
    let group_filter = if active_groups { "AND g.is_active = TRUE" } else { "" };
    format!(
        "WITH found AS (
           SELECT l.id, l.name, l.ends_at, COUNT(*) OVER () AS total
           FROM price_list l
           WHERE {condition}
           ORDER BY l.name, l.id
           LIMIT {cap})
         SELECT f.id, f.name, f.ends_at, f.total, g.id AS group_id, g.name AS group_name
         FROM found f
         LEFT JOIN customer_group_price_list k ON k.price_list_id = f.id
         LEFT JOIN customer_group g ON g.id = k.group_id {group_filter}
         ORDER BY f.name, f.id, g.name_key"
    )
}

/// Active lists that have not ended and reach nobody: linked to no active group.
pub(super) fn without_active_group() -> String {
    format!(
        "l.status = 'ACTIVE' AND {} AND NOT {}",
        not_ended("l"),
        linked_to_active_group("l")
    )
}

pub(super) fn expired_but_linked() -> String {
    format!("l.ends_at <= :now AND {}", linked_to_active_group("l"))
}

pub(super) fn draft_but_linked() -> String {
    format!("l.status = 'DRAFT' AND {}", linked_to_active_group("l"))
}

/// Both lists (rows of `candidates`) can apply at the same instant, now or later.
fn open_together(a: &str, b: &str) -> String {
    format!(
        "({a}.starts_at IS NULL OR {b}.ends_at IS NULL OR {a}.starts_at < {b}.ends_at)
         AND ({b}.starts_at IS NULL OR {a}.ends_at IS NULL OR {b}.starts_at < {a}.ends_at)"
    )
}

/// Whether the candidate `list` prices the product and currency of
/// `shared`: with a row of its own, or by its rule from a base price.
fn prices_or_derives(list: &str, shared: &str) -> String {
    format!(
        "({own} OR ({list}.percent_off IS NOT NULL AND EXISTS (
           SELECT 1 FROM base_price b WHERE b.product_id = {shared}.product_id AND b.currency = {shared}.currency)))",
        own = prices(
            &format!("{list}.price_list_id"),
            &format!("{shared}.product_id"),
            &format!("{shared}.currency")
        ),
    )
}

/// Pairs of lists linked to one active group at one priority that price
/// the same products in the same currencies (a derived list prices every
/// product with a base price): how many, and the first such in currency
/// and SKU order as an example.
///
/// Set-based rather than pair by pair: first the links that share their
/// group and priority with another (`candidates`, few unless priorities are
/// left at one value), then the products and currencies two of them price
/// (`shared`, one pass over their tiers), and only then the pairs. Pair by
/// pair cost the number of pairs times the tiers of a list: 3 s on
/// PostgreSQL with the benchmark's links all at priority 0, against 0.4 s.
pub(super) fn same_priority_ties(cap: u64) -> String {
    format!(
        "WITH candidates AS MATERIALIZED (
           SELECT k.group_id, k.priority, k.price_list_id, l.created_at, l.starts_at, l.ends_at, l.percent_off
           FROM customer_group_price_list k
           JOIN customer_group g ON g.id = k.group_id
           JOIN price_list l ON l.id = k.price_list_id
           WHERE g.is_active = TRUE AND l.status = 'ACTIVE' AND {l_open}
             AND EXISTS (SELECT 1 FROM customer_group_price_list s
                         WHERE s.group_id = k.group_id AND s.priority = k.priority
                           AND s.price_list_id <> k.price_list_id)),
         priced AS (
           SELECT c.group_id, c.priority, c.price_list_id, t.product_id, t.currency
           FROM candidates c
           JOIN {TIERS} t ON t.price_list_id = c.price_list_id
           UNION
           SELECT c.group_id, c.priority, c.price_list_id, b.product_id, b.currency
           FROM candidates c
           JOIN base_price b ON c.percent_off IS NOT NULL),
         shared AS (
           SELECT group_id, priority, product_id, currency
           FROM priced
           GROUP BY group_id, priority, product_id, currency
           HAVING COUNT(DISTINCT price_list_id) > 1),
         ties AS (
           SELECT s.group_id, s.priority, a.price_list_id AS first_id, b.price_list_id AS second_id,
                  COUNT(*) AS shared, MIN(s.currency || ' ' || pr.sku) AS example
           FROM shared s
           JOIN candidates a ON a.group_id = s.group_id AND a.priority = s.priority
           JOIN candidates b ON b.group_id = s.group_id AND b.priority = s.priority
           JOIN product pr ON pr.id = s.product_id
           WHERE (a.created_at < b.created_at OR (a.created_at = b.created_at AND a.price_list_id < b.price_list_id))
             AND {open} AND {a_prices} AND {b_prices}
           GROUP BY s.group_id, s.priority, a.price_list_id, b.price_list_id)
         SELECT t.group_id, g.name AS group_name, t.priority, t.first_id, la.name AS first_name,
                t.second_id, lb.name AS second_name, t.shared, SUBSTR(t.example, 1, 3) AS currency,
                SUBSTR(t.example, 5) AS sku, ex.name AS product_name, COUNT(*) OVER () AS total
         FROM ties t
         JOIN customer_group g ON g.id = t.group_id
         JOIN price_list la ON la.id = t.first_id
         JOIN price_list lb ON lb.id = t.second_id
         LEFT JOIN product ex ON ex.sku = SUBSTR(t.example, 5)
         ORDER BY g.name_key, t.group_id, t.priority, la.name, t.first_id, lb.name, t.second_id
         LIMIT {cap}",
        l_open = not_ended("l"),
        open = open_together("a", "b"),
        a_prices = prices_or_derives("a", "s"),
        b_prices = prices_or_derives("b", "s"),
    )
}

/// `SALE` lists that have not ended and have prices, none of which is
/// below the base tier that applies at its `min_quantity` (a price whose
/// product has no base price in its currency applies, so it counts as
/// below). With the number of their prices.
pub(super) fn sales_never_below_base(cap: u64) -> String {
    format!(
        "SELECT l.id, l.name, COUNT(*) OVER () AS total,
                (SELECT COUNT(*) FROM price n WHERE n.price_list_id = l.id) AS prices
         FROM price_list l
         WHERE l.type = 'SALE' AND {not_ended} AND l.percent_off IS NULL
           AND EXISTS (SELECT 1 FROM price t WHERE t.price_list_id = l.id)
           AND NOT EXISTS (
             SELECT 1 FROM price t WHERE t.price_list_id = l.id
               AND NOT EXISTS (
                 SELECT 1 FROM base_price b
                 WHERE b.product_id = t.product_id AND b.currency = t.currency
                   AND b.min_quantity <= t.min_quantity AND b.amount_minor <= t.amount_minor
                   AND NOT EXISTS (SELECT 1 FROM base_price h
                                   WHERE h.product_id = t.product_id AND h.currency = t.currency
                                     AND h.min_quantity > b.min_quantity AND h.min_quantity <= t.min_quantity)))
         ORDER BY l.name, l.id
         LIMIT {cap}",
        not_ended = not_ended("l"),
    )
}

/// Lists that have not ended with prices in a currency in which their
/// product has no base price at all: how many, and the first in currency
/// and SKU order as an example.
pub(super) fn prices_without_base(cap: u64) -> String {
    format!(
        "WITH orphans AS (
           SELECT t.price_list_id, COUNT(*) AS prices, MIN(t.currency || ' ' || pr.sku) AS example
           FROM price t
           JOIN price_list l ON l.id = t.price_list_id
           JOIN product pr ON pr.id = t.product_id
           WHERE {not_ended}
             AND NOT EXISTS (SELECT 1 FROM base_price b WHERE b.product_id = t.product_id AND b.currency = t.currency)
           GROUP BY t.price_list_id)
         SELECT o.price_list_id AS id, l.name, o.prices, SUBSTR(o.example, 1, 3) AS currency,
                SUBSTR(o.example, 5) AS sku, ex.name AS product_name, COUNT(*) OVER () AS total
         FROM orphans o
         JOIN price_list l ON l.id = o.price_list_id
         LEFT JOIN product ex ON ex.sku = SUBSTR(o.example, 5)
         ORDER BY l.name, l.id
         LIMIT {cap}",
        not_ended = not_ended("l"),
    )
}

/// Lists that never win (docs/api.md#pricing-health): active, not ended,
/// with prices, linked to at least one active group, and in every active
/// group they are linked to, an `OVERRIDE` list ahead in the walk —
/// active, started by the time this one can apply, ending no earlier —
/// prices everything they price. One row per list, group and list ahead.
///
/// `shadows` is computed once for every link (materialized), so each
/// pair is checked once and PostgreSQL estimates the statement for what
/// it is (a correlated form was estimated high enough to be compiled by
/// its JIT, which cost more than running it). Its `COALESCE(NOT EXISTS
/// …)` keeps PostgreSQL from turning the check into an anti join that
/// hashes every price of every list: as a subquery per pair, it stops at
/// the first tier the list ahead leaves uncovered, which for most pairs
/// is the first (twice as fast on the benchmark data, and it does not
/// grow with the number of prices).
pub(super) fn never_winning_lists(cap: u64) -> String {
    format!(
        "WITH shadows AS MATERIALIZED (
           SELECT k.price_list_id AS list_id, k.group_id, a.price_list_id AS ahead_id, a.priority
           FROM customer_group_price_list k
           JOIN customer_group g ON g.id = k.group_id
           JOIN price_list l ON l.id = k.price_list_id
           JOIN customer_group_price_list a
             ON a.group_id = k.group_id AND a.price_list_id <> k.price_list_id AND a.priority <= k.priority
           JOIN price_list m ON m.id = a.price_list_id
           WHERE g.is_active = TRUE AND l.status = 'ACTIVE' AND {l_open} AND l.percent_off IS NULL
             AND (a.priority < k.priority OR m.created_at < l.created_at
                  OR (m.created_at = l.created_at AND m.id < l.id))
             AND m.type = 'OVERRIDE' AND m.status = 'ACTIVE'
             AND (m.starts_at IS NULL OR m.starts_at <= :now OR (l.starts_at IS NOT NULL AND m.starts_at <= l.starts_at))
             AND (m.ends_at IS NULL OR (l.ends_at IS NOT NULL AND m.ends_at >= l.ends_at))
             AND COALESCE(NOT EXISTS (SELECT 1 FROM {TIERS} t WHERE t.price_list_id = l.id AND NOT ({covers})), FALSE)),
         found AS (
           SELECT l.id, l.name, COUNT(*) OVER () AS total
           FROM price_list l
           WHERE EXISTS (SELECT 1 FROM shadows s WHERE s.list_id = l.id)
             AND EXISTS (SELECT 1 FROM {TIERS} t WHERE t.price_list_id = l.id)
             AND NOT EXISTS (
               SELECT 1 FROM customer_group_price_list k JOIN customer_group g ON g.id = k.group_id
               WHERE k.price_list_id = l.id AND g.is_active = TRUE
                 AND NOT EXISTS (SELECT 1 FROM shadows s WHERE s.list_id = l.id AND s.group_id = k.group_id))
           ORDER BY l.name, l.id
           LIMIT {cap})
         SELECT f.id, f.name, f.total, g.id AS group_id, g.name AS group_name, m.id AS ahead_id,
                m.name AS ahead_name, s.priority
         FROM found f
         JOIN shadows s ON s.list_id = f.id
         JOIN customer_group g ON g.id = s.group_id
         JOIN price_list m ON m.id = s.ahead_id
         ORDER BY f.name, f.id, g.name_key, g.id, s.priority, m.created_at, m.id",
        l_open = not_ended("l"),
        covers = covers("m.id", "t"),
    )
}

/// Organizations with pricing groups, none of them active; with those groups.
pub(super) fn organizations_with_inactive_groups(cap: u64) -> String {
    format!(
        "WITH found AS (
           SELECT o.id, o.name, COUNT(*) OVER () AS total
           FROM organization o
           WHERE EXISTS (SELECT 1 FROM organization_group og WHERE og.organization_id = o.id)
             AND NOT EXISTS (SELECT 1 FROM organization_group og JOIN customer_group g ON g.id = og.group_id
                             WHERE og.organization_id = o.id AND g.is_active = TRUE)
           ORDER BY o.name, o.id
           LIMIT {cap})
         SELECT f.id, f.name, f.total, g.id AS group_id, g.name AS group_name
         FROM found f
         JOIN organization_group og ON og.organization_id = f.id
         JOIN customer_group g ON g.id = og.group_id
         ORDER BY f.name, f.id, g.name_key"
    )
}

#[cfg(test)]
mod tests {
    /// Prints the statements, for `bench/health.sh` to time them with
    /// `sqlite3` and `psql`.
    #[test]
    #[ignore]
    fn print_statements() {
        let statements = [
            ("groups_without_lists", super::groups_where(super::WITHOUT_LISTS, 100)),
            ("empty_groups", super::groups_where(super::WITHOUT_MEMBERS, 100)),
            (
                "lists_without_active_group",
                super::lists_with_groups(&super::without_active_group(), false, 100),
            ),
            (
                "expired_but_linked",
                super::lists_with_groups(&super::expired_but_linked(), true, 100),
            ),
            (
                "draft_but_linked",
                super::lists_with_groups(&super::draft_but_linked(), true, 100),
            ),
            ("same_priority_ties", super::same_priority_ties(100)),
            ("sales_never_below_base", super::sales_never_below_base(100)),
            ("prices_without_base", super::prices_without_base(100)),
            ("never_winning_lists", super::never_winning_lists(100)),
            (
                "organizations_with_inactive_groups",
                super::organizations_with_inactive_groups(100),
            ),
        ];
        for (name, sql) in statements {
            println!("-- {name}\n{sql};\n");
        }
    }
}
