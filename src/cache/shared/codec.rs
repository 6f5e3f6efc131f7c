//! How entries are stored in Redis: JSON a person can read in
//! `redis-cli`, decoded leniently (a value this version cannot read is a
//! miss, not an error).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Entry, Key};
use crate::cache::{CustomerEntry, GroupEntry};
use crate::pricing::{BaseTier, ListInfo, ListStatus, ListType, Offer, PercentOff, Tier};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomerValue {
    organization_id: Option<Uuid>,
    group_ids: Vec<Uuid>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrganizationValue {
    group_ids: Vec<Uuid>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupValue {
    is_active: bool,
    price_lists: Vec<LinkValue>,
    product_line_ids: Vec<Uuid>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkValue {
    price_list_id: Uuid,
    priority: i32,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListValue {
    #[serde(rename = "type")]
    list_type: String,
    status: String,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    /// Hundredths of a percent; absent for a list without a rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent_off: Option<u16>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PricesValue {
    base: Vec<BaseTierValue>,
    lists: Vec<ListTierValue>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BaseTierValue {
    min_quantity: i32,
    amount_minor: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListTierValue {
    price_list_id: Uuid,
    min_quantity: i32,
    max_quantity: Option<std::num::NonZeroI32>,
    amount_minor: i64,
}

pub(super) fn encode(entry: &Entry) -> String {
    let value = match entry {
        Entry::Customer(customer) => serde_json::to_string(&CustomerValue {
            organization_id: customer.organization_id,
            group_ids: customer.groups.clone(),
        }),
        Entry::Organization(groups) => serde_json::to_string(&OrganizationValue {
            group_ids: groups.clone(),
        }),
        Entry::Group(group) => serde_json::to_string(&GroupValue {
            is_active: group.is_active,
            price_lists: group
                .links
                .iter()
                .map(|(price_list_id, priority)| LinkValue {
                    price_list_id: *price_list_id,
                    priority: *priority,
                })
                .collect(),
            product_line_ids: group.product_lines.clone(),
        }),
        Entry::List(list) => serde_json::to_string(&ListValue {
            list_type: list.list_type.code().to_owned(),
            status: list.status.code().to_owned(),
            starts_at: list.starts_at,
            ends_at: list.ends_at,
            created_at: list.created_at,
            percent_off: list.rule.map(PercentOff::hundredths),
        }),
        Entry::Prices(offer) => serde_json::to_string(&PricesValue {
            base: offer
                .base
                .iter()
                .map(|tier| BaseTierValue {
                    min_quantity: tier.min_quantity,
                    amount_minor: tier.amount,
                })
                .collect(),
            lists: offer
                .list_tiers
                .iter()
                .flat_map(|(list_id, tiers)| {
                    tiers.iter().map(|tier| ListTierValue {
                        price_list_id: *list_id,
                        min_quantity: tier.min_quantity,
                        max_quantity: tier.max_quantity,
                        amount_minor: tier.amount,
                    })
                })
                .collect(),
        }),
    };
    // Plain structs of ids, numbers and strings always serialize.
    value.unwrap_or_default()
}

/// `None` for a value this version cannot read: a miss, not an error.
pub(super) fn decode(key: &Key, value: &str) -> Option<Entry> {
    Some(match key {
        Key::Customer(_) => {
            let value: CustomerValue = serde_json::from_str(value).ok()?;
            Entry::Customer(CustomerEntry {
                organization_id: value.organization_id,
                groups: value.group_ids,
            })
        }
        Key::Organization(_) => {
            let value: OrganizationValue = serde_json::from_str(value).ok()?;
            Entry::Organization(value.group_ids)
        }
        Key::Group(_) => {
            let value: GroupValue = serde_json::from_str(value).ok()?;
            Entry::Group(GroupEntry {
                is_active: value.is_active,
                links: value
                    .price_lists
                    .into_iter()
                    .map(|link| (link.price_list_id, link.priority))
                    .collect(),
                product_lines: value.product_line_ids,
            })
        }
        Key::List(id) => {
            let value: ListValue = serde_json::from_str(value).ok()?;
            Entry::List(ListInfo {
                id: *id,
                list_type: ListType::from_code(&value.list_type)?,
                status: ListStatus::from_code(&value.status)?,
                starts_at: value.starts_at,
                ends_at: value.ends_at,
                created_at: value.created_at,
                rule: match value.percent_off {
                    Some(hundredths) => Some(PercentOff::from_hundredths(hundredths.into())?),
                    None => None,
                },
            })
        }
        Key::Prices(..) => {
            let value: PricesValue = serde_json::from_str(value).ok()?;
            Entry::Prices(Offer {
                base: value
                    .base
                    .into_iter()
                    .map(|tier| BaseTier {
                        min_quantity: tier.min_quantity,
                        amount: tier.amount_minor,
                    })
                    .collect(),
                list_tiers: value
                    .lists
                    .into_iter()
                    .map(|tier| {
                        let parsed = Tier {
                            min_quantity: tier.min_quantity,
                            max_quantity: tier.max_quantity,
                            amount: tier.amount_minor,
                        };
                        (tier.price_list_id, parsed)
                    })
                    .collect(),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_reads_back_as_written() {
        let list = Uuid::now_v7();
        let entries = [
            (
                Key::Customer(Uuid::now_v7()),
                Entry::Customer(CustomerEntry {
                    organization_id: Some(Uuid::now_v7()),
                    groups: vec![Uuid::now_v7()],
                }),
            ),
            (
                Key::Organization(Uuid::now_v7()),
                Entry::Organization(vec![Uuid::now_v7()]),
            ),
            (
                Key::Group(Uuid::now_v7()),
                Entry::Group(GroupEntry {
                    is_active: true,
                    links: vec![(list, 10)],
                    product_lines: vec![Uuid::now_v7()],
                }),
            ),
            (
                Key::List(list),
                Entry::List(ListInfo {
                    id: list,
                    list_type: ListType::Override,
                    status: ListStatus::Draft,
                    starts_at: Some(Utc::now()),
                    ends_at: None,
                    created_at: Utc::now(),
                    rule: PercentOff::from_hundredths(1250),
                }),
            ),
            (
                Key::Prices(Uuid::now_v7(), "JPY".parse().expect("a currency")),
                Entry::Prices(Offer {
                    base: vec![BaseTier {
                        min_quantity: 1,
                        amount: 1_000_000_000_000_000,
                    }],
                    list_tiers: [(
                        list,
                        Tier {
                            min_quantity: 5,
                            max_quantity: std::num::NonZeroI32::new(9),
                            amount: 7,
                        },
                    )]
                    .into_iter()
                    .collect(),
                }),
            ),
        ];
        for (key, entry) in entries {
            assert_eq!(decode(&key, &encode(&entry)), Some(entry), "{key}");
        }
    }
}
