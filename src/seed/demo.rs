//! The demo data set (`pricegraph seed --demo`, `serve --demo`): the tables
//! in [`tables`] turned into rows, with fresh ids, dates relative to the
//! moment of seeding, and list prices drawn from a fixed seed so that every
//! load prices the same products the same way.

mod tables;

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use entity::{customer_group_product_line as line_link, product_line};
use migration::{DEFAULT_TYPE_GROUP_ID, EVERYONE_GROUP_ID};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::ActiveValue::Set;
use sea_orm::{IntoActiveModel, JsonValue};
use serde_json::json;
use uuid::Uuid;

use super::rows::{
    Rows, base_price_row, list_link_row, membership_row, new_customer, new_group, new_organization, new_price_list,
    new_product, organization_group_row, percent_of, price_row, round_minor, shelf_price,
};
use crate::service::new_id;
use tables::{
    CURRENCIES, DEMO_CUSTOMERS, DEMO_GROUPS, DEMO_LINES, DEMO_LISTS, DEMO_ORGANIZATIONS, UNLINED_PRODUCTS, Window,
};

const DEMO_SEED: u64 = 20_261_123;

/// The demo's group names (besides the built-in ones): finding any of them
/// means the demo is already loaded.
pub(super) fn group_names() -> impl Iterator<Item = &'static str> {
    DEMO_GROUPS.iter().map(|group| group.name)
}

/// The whole demo data set as rows, ready for one transaction.
pub(super) fn rows(now: DateTime<Utc>) -> anyhow::Result<Rows> {
    DemoBuilder::new(now).build()
}

/// A demo product and its base prices for one unit, which its list prices
/// are percentages of.
struct DemoProduct {
    id: Uuid,
    line: Option<&'static str>,
    unit_prices: Vec<(&'static str, i64)>,
}

/// Turns the tables into rows, resolving names to fresh ids.
struct DemoBuilder {
    now: DateTime<Utc>,
    rng: StdRng,
    rows: Rows,
    group_ids: HashMap<&'static str, Uuid>,
    line_ids: HashMap<&'static str, Uuid>,
    organization_ids: HashMap<&'static str, Uuid>,
    products: Vec<DemoProduct>,
}

impl DemoBuilder {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            rng: StdRng::seed_from_u64(DEMO_SEED),
            rows: Rows::default(),
            group_ids: HashMap::from([("Default", DEFAULT_TYPE_GROUP_ID), ("Everyone", EVERYONE_GROUP_ID)]),
            line_ids: HashMap::new(),
            organization_ids: HashMap::new(),
            products: Vec::new(),
        }
    }

    fn build(mut self) -> anyhow::Result<Rows> {
        self.catalog();
        self.groups()?;
        self.price_lists()?;
        self.organizations()?;
        self.customers()?;
        Ok(self.rows)
    }

    fn group_id(&self, name: &str) -> anyhow::Result<Uuid> {
        let id = self.group_ids.get(name).copied();
        id.with_context(|| format!("the demo has no group named {name}"))
    }

    fn catalog(&mut self) {
        for line in &DEMO_LINES {
            let line_id = new_id();
            self.line_ids.insert(line.sku_prefix, line_id);
            let row = product_line::Model {
                id: line_id,
                name: line.name.to_owned(),
                version: 1,
                created_at: self.now,
                updated_at: self.now,
            };
            self.rows.product_lines.push(row.into_active_model());
            let currencies = if line.sold_in_japan {
                &CURRENCIES[..]
            } else {
                &CURRENCIES[..2]
            };
            let combinations = line
                .items
                .iter()
                .flat_map(|item| line.variants.iter().map(move |variant| (item, variant)));
            for (n, (&(item, usual), &(variant, percent))) in combinations.enumerate() {
                let jitter = self.rng.random_range(95..=105);
                let usd = shelf_price("USD", percent_of(percent_of(usual, percent), jitter));
                let sku = format!("{}-{:04}", line.sku_prefix, n + 1);
                let metadata = json!({ "item": item, "variant": variant });
                let product = self.product(
                    sku,
                    format!("{variant} {item}"),
                    Some(line.sku_prefix),
                    metadata,
                    usd,
                    currencies,
                );
                if line.quantity_breaks {
                    for &(currency, unit) in &product.unit_prices {
                        for (min_quantity, percent) in [(12, 95), (48, 90)] {
                            let amount = round_minor(currency, percent_of(unit, percent));
                            self.rows.base_prices.push(base_price_row(
                                product.id,
                                currency,
                                min_quantity,
                                amount,
                                self.now,
                            ));
                        }
                    }
                }
                self.products.push(product);
            }
        }
        for (sku, name, usd, everywhere) in UNLINED_PRODUCTS {
            let currencies = if everywhere { &CURRENCIES[..] } else { &CURRENCIES[..1] };
            let product = self.product(sku.to_owned(), name.to_owned(), None, json!({}), usd, currencies);
            self.products.push(product);
        }
    }

    /// One product row and its base prices for one unit, converted from USD.
    fn product(
        &mut self,
        sku: String,
        name: String,
        line: Option<&'static str>,
        metadata: JsonValue,
        usd: i64,
        currencies: &[(&'static str, i64)],
    ) -> DemoProduct {
        let mut row = new_product(sku, name, self.now);
        row.product_line_id = line.and_then(|prefix| self.line_ids.get(prefix).copied());
        row.metadata = metadata;
        let id = row.id;
        self.rows.products.push(row.into_active_model());
        let unit_prices: Vec<(&'static str, i64)> = currencies
            .iter()
            .map(|&(currency, rate)| match currency {
                "USD" => (currency, usd),
                _ => (currency, shelf_price(currency, percent_of(usd, rate))),
            })
            .collect();
        for &(currency, amount) in &unit_prices {
            self.rows
                .base_prices
                .push(base_price_row(id, currency, 1, amount, self.now));
        }
        DemoProduct { id, line, unit_prices }
    }

    fn groups(&mut self) -> anyhow::Result<()> {
        for spec in &DEMO_GROUPS {
            let mut row = new_group(spec.name.to_owned(), spec.kind, self.now);
            row.description = Some(spec.description.to_owned());
            row.is_active = spec.is_active;
            row.commission_exempt = spec.commission_exempt;
            row.free_freight = spec.free_freight;
            self.group_ids.insert(spec.name, row.id);
            for prefix in spec.lines {
                let line_id = self
                    .line_ids
                    .get(prefix)
                    .copied()
                    .with_context(|| format!("the demo has no line {prefix}"))?;
                self.rows.line_links.push(line_link::ActiveModel {
                    group_id: Set(row.id),
                    product_line_id: Set(line_id),
                    created_at: Set(self.now),
                });
            }
            self.rows.groups.push(row.into_active_model());
        }
        Ok(())
    }

    fn price_lists(&mut self) -> anyhow::Result<()> {
        let now = self.now;
        for spec in &DEMO_LISTS {
            let mut row = new_price_list(spec.name.to_owned(), spec.list_type, spec.status, now);
            row.description = Some(spec.description.to_owned());
            row.percent_off = spec.percent_off;
            match spec.window {
                Window::Always => {}
                Window::Days(start, end) => {
                    row.starts_at = start.map(|days| now + Duration::days(days));
                    row.ends_at = end.map(|days| now + Duration::days(days));
                }
                Window::BlackFriday => {
                    let start = next_black_friday(now).unwrap_or(now + Duration::days(30));
                    row.name = format!("{} {}", spec.name, start.year());
                    row.starts_at = Some(start);
                    row.ends_at = Some(start + Duration::days(4));
                }
            }
            let list_id = row.id;
            self.rows.price_lists.push(row.into_active_model());
            for &(group, priority) in spec.links {
                let group_id = self.group_id(group)?;
                self.rows
                    .list_links
                    .push(list_link_row(group_id, list_id, priority, now));
            }
            for product in &self.products {
                let in_lines = spec.lines.is_empty() || product.line.is_some_and(|line| spec.lines.contains(&line));
                if !in_lines || !self.rng.random_ratio(spec.share, 100) {
                    continue;
                }
                for &(currency, unit) in &product.unit_prices {
                    for &(min_quantity, max_quantity, percent) in spec.tiers {
                        let amount = round_minor(currency, percent_of(unit, percent));
                        let tier = (min_quantity, max_quantity);
                        self.rows
                            .prices
                            .push(price_row(list_id, product.id, currency, tier, amount, now));
                    }
                }
            }
        }
        Ok(())
    }

    fn organizations(&mut self) -> anyhow::Result<()> {
        for (name, parent, groups, account_manager) in DEMO_ORGANIZATIONS {
            let mut row = new_organization(name.to_owned(), self.now);
            row.metadata = json!({ "accountManager": account_manager });
            if let Some(parent) = parent {
                let parent_id = self.organization_ids.get(parent).copied();
                row.parent_id =
                    Some(parent_id.with_context(|| format!("organization {parent} must come before {name}"))?);
            }
            self.organization_ids.insert(name, row.id);
            for group in groups {
                let group_id = self.group_id(group)?;
                self.rows
                    .organization_groups
                    .push(organization_group_row(row.id, group_id, self.now));
            }
            self.rows.organizations.push(row.into_active_model());
        }
        Ok(())
    }

    fn customers(&mut self) -> anyhow::Result<()> {
        for spec in &DEMO_CUSTOMERS {
            let mut row = new_customer(
                spec.email.to_owned(),
                spec.name.to_owned(),
                self.group_id(spec.type_group)?,
                self.now,
            );
            if let Some(name) = spec.organization {
                let organization_id = self.organization_ids.get(name).copied();
                row.organization_id =
                    Some(organization_id.with_context(|| format!("the demo has no organization {name}"))?);
            }
            row.commission_exempt = spec.commission_exempt;
            row.free_freight = spec.free_freight;
            if let Some(currency) = spec.preferred_currency {
                row.metadata = json!({ "preferredCurrency": currency });
            }
            for group in spec.groups {
                let group_id = self.group_id(group)?;
                self.rows.memberships.push(membership_row(row.id, group_id, self.now));
            }
            self.rows.customers.push(row.into_active_model());
        }
        Ok(())
    }
}

/// Midnight UTC on the next Black Friday (the day after the fourth Thursday
/// of November) that is still ahead.
fn next_black_friday(now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (now.year()..=now.year() + 1).find_map(|year| {
        let thanksgiving = NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Thu, 4)?;
        let start = thanksgiving.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc();
        (start > now).then_some(start)
    })
}
