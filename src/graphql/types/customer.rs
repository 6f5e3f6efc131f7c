use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{customer, customer_group};
use serde_json::Value as JsonValue;

use super::pricing::{EffectiveGroup, ExemptionSource, Exemptions};
use super::{CustomerGroup, Organization, dangling, load_failed};
use crate::graphql::connection::{CountedConnection, TotalCount, connection, page_request};
use crate::graphql::errors::not_found;
use crate::graphql::groups::id_arg;
use crate::graphql::loaders::loaders;
use crate::page::Page;
use crate::service::customers::Owner;
use crate::store::profiles::Profile;

/// A shopper or buyer, with one type group and any number of pricing groups.
#[derive(Clone)]
pub struct Customer(pub customer::Model);

/// A shopper or buyer: one `TYPE` group that classifies it, any number of
/// `PRICING` groups, and perhaps an organization. Admins read every
/// customer; a customer token reads only its own.
#[Object]
impl Customer {
    /// The customer's id; pass it as `customerId` to price for this customer.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The customer's email address, lower-cased; no two customers share one.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// The customer's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The customer's own commission exemption. Whether the customer is
    /// exempt in the end, through its groups too, is `exemptions.commissionExempt`.
    async fn commission_exempt(&self) -> bool {
        self.0.commission_exempt
    }
    /// The customer's own free-freight flag. Whether the customer ships
    /// free in the end, through its groups too, is `exemptions.freeFreight`.
    async fn free_freight(&self) -> bool {
        self.0.free_freight
    }
    /// Your own data about the customer: a JSON object, `{}` when none was given.
    async fn metadata(&self) -> &JsonValue {
        &self.0.metadata
    }
    /// Increases by one with every update; pass it back as `version` to refuse stale edits.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the customer was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the customer was last updated (adding it to a group or removing
    /// it does not count).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The customer's own `PRICING` groups (its memberships), by name,
    /// inactive ones included. They price the customer only when its
    /// organization has no active group: see `effectiveGroups`.
    async fn groups(&self, ctx: &Context<'_>) -> Result<Vec<CustomerGroup>> {
        let groups = loaders(ctx)
            .groups_by_customer
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?;
        Ok(groups
            .unwrap_or_default()
            .into_iter()
            .map(|g| CustomerGroup(customer_group::Model::clone(&g)))
            .collect())
    }

    /// The one `TYPE` group that classifies this customer.
    async fn type_group(&self, ctx: &Context<'_>) -> Result<CustomerGroup> {
        let group = loaders(ctx)
            .groups
            .load_one(self.0.type_group_id)
            .await
            .map_err(load_failed)?;
        group
            .map(CustomerGroup)
            .ok_or_else(|| dangling("customer group", self.0.type_group_id))
    }

    /// The pricing groups that price this customer: its
    /// organization's when the organization has an active one, else its own;
    /// then `Everyone`. Inactive groups are listed, and ignored by pricing
    /// (docs/pricing.md#effective-groups).
    async fn effective_groups(&self, ctx: &Context<'_>) -> Result<Vec<EffectiveGroup>> {
        let profile = self.profile(ctx).await?;
        Ok(profile
            .groups
            .into_iter()
            .map(|(group, via)| EffectiveGroup {
                customer_group: CustomerGroup(group),
                via: via.into(),
            })
            .collect())
    }

    /// Commission and freight exemptions, and where each comes from
    /// (docs/pricing.md#exemptions).
    async fn exemptions(&self, ctx: &Context<'_>) -> Result<Exemptions> {
        let profile = self.profile(ctx).await?;
        let commission: Vec<ExemptionSource> = profile
            .commission_exempt_sources()
            .into_iter()
            .map(Into::into)
            .collect();
        let freight: Vec<ExemptionSource> = profile.free_freight_sources().into_iter().map(Into::into).collect();
        Ok(Exemptions {
            commission_exempt: !commission.is_empty(),
            free_freight: !freight.is_empty(),
            commission_exempt_sources: commission,
            free_freight_sources: freight,
        })
    }

    /// Whether this customer may order the product, given the product lines
    /// its effective groups allow (docs/pricing.md#product-access). An id
    /// that names no product is a `NOT_FOUND` error.
    async fn can_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product to check.")] product_id: ID,
    ) -> Result<bool> {
        let id = id_arg("product", &product_id)?;
        let (profile, product) = futures_util::try_join!(self.profile(ctx), async {
            loaders(ctx).products.load_one(id).await.map_err(load_failed)
        })?;
        let product = product.ok_or_else(|| not_found("product", &product_id))?;
        Ok(profile.shopper.may_order(product.model.product_line_id))
    }

    /// The organization the customer belongs to; null when none.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        let organization = loaders(ctx).organizations.load_one(id).await.map_err(load_failed)?;
        Ok(organization.map(Organization))
    }
}

impl Customer {
    async fn profile(&self, ctx: &Context<'_>) -> Result<Profile> {
        loaders(ctx)
            .profiles
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?
            .ok_or_else(|| dangling("customer", self.0.id))
    }
}

/// A nested connection of customers (`CustomerGroup.customers`,
/// `Organization.customers`), loaded and counted in batches with its siblings.
pub async fn customers_of(
    ctx: &Context<'_>,
    owner: Owner,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<CountedConnection<Customer>> {
    let request = page_request(first, after, last, before)?;
    let loaders = loaders(ctx);
    let page = loaders
        .customer_pages
        .load_one((owner, request))
        .await
        .map_err(load_failed)?
        .unwrap_or_else(Page::empty);
    let counts = loaders.customer_counts.clone();
    let total = TotalCount::new(move || {
        let counts = counts.clone();
        Box::pin(async move { Ok(counts.load_one(owner).await.map_err(load_failed)?.unwrap_or_default()) })
    });
    Ok(connection(page, |c| c.id, Customer, total))
}
