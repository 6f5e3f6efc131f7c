//! What both data sets are made of: rows with what every fresh row has, the
//! integer money arithmetic their prices use, and the order in which a
//! [`Sink`] writes them.

use chrono::{DateTime, Utc};
use entity::values::{GroupKind, PriceListStatus, PriceListType};
use entity::{
    base_price, customer, customer_group, customer_group_price_list as list_link,
    customer_group_product_line as line_link, membership, organization, organization_group, price, price_list, product,
    product_line,
};
use sea_orm::ActiveValue::Set;
use sea_orm::{DbErr, IntoActiveModel};
use serde_json::json;
use uuid::Uuid;

use super::sink::Sink;
use crate::service::new_id;

/// Rows waiting to be written, one vector per table.
#[derive(Default)]
pub(super) struct Rows {
    pub(super) groups: Vec<customer_group::ActiveModel>,
    /// Parents before their children.
    pub(super) organizations: Vec<organization::ActiveModel>,
    pub(super) organization_groups: Vec<organization_group::ActiveModel>,
    pub(super) customers: Vec<customer::ActiveModel>,
    pub(super) memberships: Vec<membership::ActiveModel>,
    pub(super) product_lines: Vec<product_line::ActiveModel>,
    pub(super) products: Vec<product::ActiveModel>,
    pub(super) base_prices: Vec<base_price::ActiveModel>,
    pub(super) price_lists: Vec<price_list::ActiveModel>,
    pub(super) prices: Vec<price::ActiveModel>,
    pub(super) list_links: Vec<list_link::ActiveModel>,
    pub(super) line_links: Vec<line_link::ActiveModel>,
}

impl Rows {
    /// Writes every table after the tables it refers to.
    pub(super) async fn write(self, sink: &mut Sink) -> Result<(), DbErr> {
        sink.table(self.groups).await?;
        sink.table(self.organizations).await?;
        sink.table(self.organization_groups).await?;
        sink.table(self.customers).await?;
        sink.table(self.memberships).await?;
        sink.table(self.product_lines).await?;
        sink.table(self.products).await?;
        sink.table(self.base_prices).await?;
        sink.table(self.price_lists).await?;
        sink.table(self.prices).await?;
        sink.table(self.list_links).await?;
        sink.table(self.line_links).await
    }

    pub(super) fn summary(&self) -> String {
        format!(
            "{} groups, {} organizations, {} customers, {} memberships, {} product lines, {} products, \
             {} base prices, {} price lists, {} prices, {} group–price list links, {} group–product line links",
            self.groups.len(),
            self.organizations.len(),
            self.customers.len(),
            self.memberships.len(),
            self.product_lines.len(),
            self.products.len(),
            self.base_prices.len(),
            self.price_lists.len(),
            self.prices.len(),
            self.list_links.len(),
            self.line_links.len(),
        )
    }
}

// New rows with what every fresh row has (a new id, version 1, an empty
// metadata object, active and without exemptions); callers set the rest.

pub(super) fn new_group(name: String, kind: GroupKind, now: DateTime<Utc>) -> customer_group::Model {
    customer_group::Model {
        id: new_id(),
        name_key: name.to_lowercase(),
        name,
        description: None,
        kind,
        is_active: true,
        commission_exempt: false,
        free_freight: false,
        metadata: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub(super) fn new_organization(name: String, now: DateTime<Utc>) -> organization::Model {
    organization::Model {
        id: new_id(),
        name,
        parent_id: None,
        metadata: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub(super) fn new_customer(email: String, name: String, type_group_id: Uuid, now: DateTime<Utc>) -> customer::Model {
    customer::Model {
        id: new_id(),
        email,
        name,
        organization_id: None,
        type_group_id,
        commission_exempt: false,
        free_freight: false,
        metadata: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub(super) fn new_product(sku: String, name: String, now: DateTime<Utc>) -> product::Model {
    product::Model {
        id: new_id(),
        sku,
        name,
        product_line_id: None,
        metadata: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub(super) fn new_price_list(
    name: String,
    list_type: PriceListType,
    status: PriceListStatus,
    now: DateTime<Utc>,
) -> price_list::Model {
    price_list::Model {
        id: new_id(),
        name,
        description: None,
        list_type,
        status,
        starts_at: None,
        ends_at: None,
        percent_off: None,
        metadata: json!({}),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub(super) fn base_price_row(
    product_id: Uuid,
    currency: &str,
    min_quantity: i32,
    amount_minor: i64,
    now: DateTime<Utc>,
) -> base_price::ActiveModel {
    let currency = currency.to_owned();
    let row = base_price::Model {
        id: new_id(),
        product_id,
        currency,
        min_quantity,
        amount_minor,
        created_at: now,
        updated_at: now,
    };
    row.into_active_model()
}

/// `tier` is (min quantity, max quantity).
pub(super) fn price_row(
    price_list_id: Uuid,
    product_id: Uuid,
    currency: &str,
    (min_quantity, max_quantity): (i32, Option<i32>),
    amount_minor: i64,
    now: DateTime<Utc>,
) -> price::ActiveModel {
    price::Model {
        id: new_id(),
        price_list_id,
        product_id,
        currency: currency.to_owned(),
        min_quantity,
        max_quantity,
        amount_minor,
        created_at: now,
        updated_at: now,
    }
    .into_active_model()
}

pub(super) fn membership_row(customer_id: Uuid, group_id: Uuid, now: DateTime<Utc>) -> membership::ActiveModel {
    membership::ActiveModel {
        customer_id: Set(customer_id),
        group_id: Set(group_id),
        created_at: Set(now),
    }
}

pub(super) fn organization_group_row(
    organization_id: Uuid,
    group_id: Uuid,
    now: DateTime<Utc>,
) -> organization_group::ActiveModel {
    organization_group::ActiveModel {
        organization_id: Set(organization_id),
        group_id: Set(group_id),
        created_at: Set(now),
    }
}

pub(super) fn list_link_row(
    group_id: Uuid,
    price_list_id: Uuid,
    priority: i32,
    now: DateTime<Utc>,
) -> list_link::ActiveModel {
    list_link::ActiveModel {
        group_id: Set(group_id),
        price_list_id: Set(price_list_id),
        priority: Set(priority),
        created_at: Set(now),
    }
}

// ---------------------------------------------------------------------------
// Amounts, in integer minor units
// ---------------------------------------------------------------------------

/// `amount × percent / 100`, rounded half up (amounts are never negative).
pub(super) fn percent_of(amount: i64, percent: i64) -> i64 {
    (amount * percent + 50) / 100
}

/// Yen in round tens; cents as they are.
pub(super) fn round_minor(currency: &str, amount: i64) -> i64 {
    if currency == "JPY" {
        (amount + 5) / 10 * 10
    } else {
        amount
    }
}

/// A shelf price: dollars and euros ending in .99 (at least 0.99), yen in
/// round tens; free stays free.
pub(super) fn shelf_price(currency: &str, amount: i64) -> i64 {
    match currency {
        _ if amount == 0 => 0,
        "JPY" => round_minor(currency, amount).max(10),
        _ => ((amount + 50) / 100 * 100 - 1).max(99),
    }
}
