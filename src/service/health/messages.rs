//! What each finding says: what is wrong, naming the objects by name,
//! why it matters to the prices shoppers get, and what to do. And the
//! objects it names, as its subjects: the one it is about first.

use uuid::Uuid;

use crate::store::health::{CountedList, Example, LinkedList, Named, OrganizationGroups, Outranked, Tie};
use crate::store::kinds::Kind;

type Described = (String, Vec<(Uuid, Kind)>);

/// Names listed in a message before "and N more".
const NAMES_SHOWN: usize = 3;

pub(super) fn group_without_lists(group: &Named) -> Described {
    let message = format!(
        "The pricing group {} has no price lists, so its members pay what everyone else pays (base prices \
         and storewide lists). Link a price list to it, unless the group exists only for its exemptions or \
         product lines.",
        quoted(&group.name)
    );
    (message, vec![(group.id, Kind::CustomerGroup)])
}

pub(super) fn empty_group(group: &Named) -> Described {
    let message = format!(
        "The pricing group {} has no members and no organizations, so its price lists, exemptions and \
         product lines reach nobody. Add customers or organizations to it, or deactivate it.",
        quoted(&group.name)
    );
    (message, vec![(group.id, Kind::CustomerGroup)])
}

pub(super) fn without_active_group(found: &LinkedList) -> Described {
    let list = quoted(&found.list.name);
    let message = if found.groups.is_empty() {
        format!(
            "The price list {list} is active but linked to no group, so nobody gets its prices. Link it to a \
             pricing group, or set it to DRAFT until it should apply."
        )
    } else {
        format!(
            "The price list {list} is active but linked only to the inactive {} {}, and inactive groups count \
             for nobody, so nobody gets its prices. Link it to an active group, or reactivate {}.",
            if found.groups.len() == 1 { "group" } else { "groups" },
            names(&found.groups),
            if found.groups.len() == 1 {
                "that group"
            } else {
                "one of them"
            },
        )
    };
    (message, list_and_groups(found))
}

pub(super) fn expired_but_linked(found: &LinkedList) -> Described {
    let ended = found
        .ends_at
        .map(|at| format!(" on {}", at.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_default();
    let message = format!(
        "The price list {} ended{ended} but is still linked to {}: it no longer applies there and only adds \
         to their price explanations. Unlink it, or move its end if it should still apply.",
        quoted(&found.list.name),
        names(&found.groups),
    );
    (message, list_and_groups(found))
}

pub(super) fn draft_but_linked(found: &LinkedList) -> Described {
    let message = format!(
        "The price list {} is linked to {} but is a DRAFT, and a draft never applies, so {} do not get its \
         prices. Set it to ACTIVE when it should apply, or unlink it.",
        quoted(&found.list.name),
        names(&found.groups),
        if found.groups.len() == 1 {
            "the group's customers"
        } else {
            "their customers"
        },
    );
    (message, list_and_groups(found))
}

pub(super) fn tie(tie: &Tie) -> Described {
    let (first, second) = (quoted(&tie.first.name), quoted(&tie.second.name));
    let example = tie
        .example
        .as_ref()
        .map(|e| format!(", such as {}", example(e)))
        .unwrap_or_default();
    let message = format!(
        "In the group {}, the price lists {first} and {second} are both at priority {} and both price {}{example}: \
         for those, {first} is tried first only because it was created first. Give one of them another priority.",
        quoted(&tie.group.name),
        tie.priority,
        plural(
            tie.shared,
            "product in the same currency",
            "products in the same currencies"
        ),
    );
    let subjects = vec![
        (tie.group.id, Kind::CustomerGroup),
        (tie.first.id, Kind::PriceList),
        (tie.second.id, Kind::PriceList),
    ];
    (message, subjects)
}

pub(super) fn sale_never_below_base(found: &CountedList) -> Described {
    let list = quoted(&found.list.name);
    let prices = if found.prices == 1 {
        "The one price".to_owned()
    } else {
        format!("None of the {} prices", found.prices)
    };
    let verb = if found.prices == 1 { "is not" } else { "is" };
    let message = format!(
        "{prices} of the sale list {list} {verb} below the base price, and a sale never raises a price, so the \
         list never applies. Lower its prices below the base prices, or make it an OVERRIDE list if they \
         should apply anyway."
    );
    (message, vec![(found.list.id, Kind::PriceList)])
}

pub(super) fn no_base_price(found: &CountedList) -> Described {
    let example = found
        .example
        .as_ref()
        .map(|e| format!(" (such as {})", example(e)))
        .unwrap_or_default();
    let message = format!(
        "The price list {} has {} in a currency in which the product has no base price{example}. Shoppers who \
         do not get this list find no price at all for those products, and a sale price there always \
         applies. Add base prices in those currencies.",
        quoted(&found.list.name),
        plural(found.prices, "price", "prices"),
    );
    (message, vec![(found.list.id, Kind::PriceList)])
}

pub(super) fn never_wins(found: &Outranked) -> Described {
    let list = quoted(&found.list.name);
    // The first list ahead in each group, in walk order (the store's order).
    let mut firsts: Vec<&crate::store::health::Ahead> = Vec::new();
    for ahead in &found.ahead {
        if firsts.last().is_none_or(|last| last.group.id != ahead.group.id) {
            firsts.push(ahead);
        }
    }
    let mut places: Vec<String> = firsts
        .iter()
        .take(NAMES_SHOWN)
        .map(|a| {
            format!(
                "in {}, {} at priority {}",
                quoted(&a.group.name),
                quoted(&a.list.name),
                a.priority
            )
        })
        .collect();
    if firsts.len() > NAMES_SHOWN {
        places.push(format!("and in {} more groups", firsts.len() - NAMES_SHOWN));
    }
    let message = format!(
        "The price list {list} never wins: in every group it is linked to, an OVERRIDE list that always \
         applies and prices everything {list} prices comes first ({}). Move {list} ahead of it, narrow the \
         list ahead, or remove {list}.",
        places.join("; "),
    );
    let mut subjects = vec![(found.list.id, Kind::PriceList)];
    for ahead in firsts {
        subjects.push((ahead.group.id, Kind::CustomerGroup));
        if !subjects.contains(&(ahead.list.id, Kind::PriceList)) {
            subjects.push((ahead.list.id, Kind::PriceList));
        }
    }
    (message, subjects)
}

pub(super) fn organization_groups_inactive(found: &OrganizationGroups) -> Described {
    let message = format!(
        "The organization {} has pricing groups, but {} inactive, so its customers silently get the prices \
         of their own groups instead. Reactivate one, or remove {} from the organization if that is intended.",
        quoted(&found.organization.name),
        if found.groups.len() == 1 {
            format!("its only one, {}, is", names(&found.groups))
        } else {
            format!("all of them ({}) are", names(&found.groups))
        },
        if found.groups.len() == 1 { "it" } else { "them" },
    );
    let mut subjects = vec![(found.organization.id, Kind::Organization)];
    subjects.extend(found.groups.iter().map(|g| (g.id, Kind::CustomerGroup)));
    (message, subjects)
}

fn list_and_groups(found: &LinkedList) -> Vec<(Uuid, Kind)> {
    let mut subjects = vec![(found.list.id, Kind::PriceList)];
    subjects.extend(found.groups.iter().map(|g| (g.id, Kind::CustomerGroup)));
    subjects
}

fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

/// `"A"`, `"A" and "B"`, `"A", "B" and "C"`, `"A", "B", "C" and 2 more`.
fn names(named: &[Named]) -> String {
    let shown: Vec<String> = named.iter().take(NAMES_SHOWN).map(|n| quoted(&n.name)).collect();
    let more = named.len().saturating_sub(NAMES_SHOWN);
    match (shown.split_last(), more) {
        (None, _) => "no group".to_owned(),
        (Some((last, [])), 0) => last.clone(),
        (Some((last, rest)), 0) => format!("{} and {last}", rest.join(", ")),
        (Some(_), more) => format!("{} and {more} more", shown.join(", ")),
    }
}

fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn example(example: &Example) -> String {
    match &example.product_name {
        Some(name) => format!("{} ({}) in {}", quoted(name), example.sku, example.currency),
        None => format!("{} in {}", example.sku, example.currency),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Vec<Named> {
        names
            .iter()
            .map(|name| Named {
                id: Uuid::nil(),
                name: (*name).to_owned(),
            })
            .collect()
    }

    #[test]
    fn names_are_listed_as_a_sentence_would() {
        let table: [(&[&str], &str); 5] = [
            (&[], "no group"),
            (&["A"], "\"A\""),
            (&["A", "B"], "\"A\" and \"B\""),
            (&["A", "B", "C"], "\"A\", \"B\" and \"C\""),
            (&["A", "B", "C", "D", "E"], "\"A\", \"B\", \"C\" and 2 more"),
        ];
        for (given, expected) in table {
            assert_eq!(names(&named(given)), expected);
        }
    }
}
