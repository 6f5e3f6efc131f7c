//! `pricingHealth` (docs/api.md#pricing-health): the report of what makes
//! prices surprising. The checks and their words are the service's
//! ([`crate::service::health`]); here they become types, and each
//! finding's subjects become `Node`s through the request's loaders, one
//! statement per kind for the whole report.

use async_graphql::{Context, Enum, Object, Result};
use chrono::{DateTime, Utc};

use super::errors::query_error;
use super::loaders::loaders;
use super::node::{Node, nodes_of_kinds};
use super::store;
use crate::service::health::{self, CheckSummary, Finding, Health};

#[derive(Default)]
pub struct HealthQuery;

#[Object]
impl HealthQuery {
    /// What makes prices surprising, found before a customer finds it:
    /// groups and lists that reach nobody, lists that never apply or never
    /// win, ties settled by creation order, prices without a base price
    /// (docs/api.md#pricing-health). Each finding has a stable `code`, a
    /// `severity` and a `message` saying what to do. At most 100 findings
    /// per check; `checks` says how many each found in all. Admin only.
    async fn pricing_health(&self, ctx: &Context<'_>) -> Result<PricingHealth> {
        let report = health::pricing_health(store(ctx), loaders(ctx).now())
            .await
            .map_err(query_error)?;
        Ok(PricingHealth(report))
    }
}

/// The pricing health report: findings, most serious first.
pub struct PricingHealth(Health);

/// The pricing health report (docs/api.md#pricing-health): what the
/// checks found, most serious first, and what each check found in all.
#[Object]
impl PricingHealth {
    /// The instant the report is about: lists' windows are judged at it.
    async fn checked_at(&self) -> DateTime<Utc> {
        self.0.checked_at
    }

    /// What the checks found: `ERROR`s first, then `WARNING`s, then
    /// `INFO`s; within a severity, by check, then by the name of what the
    /// finding is about. At most 100 per check. Empty when all is well.
    async fn findings(&self) -> Vec<PricingFinding> {
        self.0.findings.iter().cloned().map(PricingFinding).collect()
    }

    /// Every check, also those that found nothing, with how many findings
    /// each made in all and how many `findings` lists.
    async fn checks(&self) -> Vec<PricingHealthCheck> {
        self.0.checks.iter().copied().map(PricingHealthCheck).collect()
    }
}

/// One thing the report found.
pub struct PricingFinding(Finding);

/// One thing that makes prices surprising, with what to do about it.
#[Object]
impl PricingFinding {
    /// Which check found it; stable, for filtering and automation.
    async fn code(&self) -> PricingFindingCode {
        self.0.code.into()
    }

    /// How much it matters; each code always has the same severity.
    async fn severity(&self) -> PricingFindingSeverity {
        self.0.code.severity().into()
    }

    /// What is wrong, why it matters and what to do, naming the groups,
    /// lists, organizations and products involved. For people: the
    /// wording may change; rely on `code` and `subjects`.
    async fn message(&self) -> &str {
        &self.0.message
    }

    /// The objects involved, the one the finding is about first (a group,
    /// price list or organization), then the others it names. An object
    /// deleted since the report was made is left out.
    async fn subjects(&self, ctx: &Context<'_>) -> Result<Vec<Node>> {
        let subjects = &self.0.subjects;
        let mut found = nodes_of_kinds(ctx, subjects.iter().copied()).await?;
        Ok(subjects.iter().filter_map(|(id, _)| found.remove(id)).collect())
    }
}

/// What one check found.
pub struct PricingHealthCheck(CheckSummary);

/// One check of the report, and how many findings it made.
#[Object]
impl PricingHealthCheck {
    /// The check.
    async fn code(&self) -> PricingFindingCode {
        self.0.code.into()
    }

    /// The severity of its findings.
    async fn severity(&self) -> PricingFindingSeverity {
        self.0.code.severity().into()
    }

    /// How many findings it made in all.
    async fn found(&self) -> u64 {
        self.0.found
    }

    /// How many of them `findings` lists: all, up to 100.
    async fn listed(&self) -> u64 {
        self.0.listed
    }
}

/// How much a finding matters.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::service::health::Severity")]
pub enum PricingFindingSeverity {
    /// Harmless now, but untidy or easy to get wrong later.
    Info,
    /// Probably not what someone intended: some shoppers may not get the
    /// prices they were meant to.
    Warning,
    /// Prices are certainly not what someone intended.
    Error,
}

/// Which check made a finding (docs/api.md#pricing-health).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::service::health::FindingCode")]
pub enum PricingFindingCode {
    /// `INFO`: an active pricing group (not `Everyone`) with no price list
    /// linked: its members pay what everyone else pays.
    GroupWithoutLists,
    /// `INFO`: an active pricing group (not `Everyone`) with no members and
    /// no organizations: its lists reach nobody.
    EmptyGroup,
    /// `WARNING`: an active list that has not ended, linked to no group or
    /// only to inactive ones: nobody gets its prices.
    ListWithoutActiveGroup,
    /// `INFO`: a list whose `endsAt` has passed, still linked to an active group.
    ListExpiredButLinked,
    /// `WARNING`: a `DRAFT` list linked to an active group: it never applies there.
    ListDraftButLinked,
    /// `ERROR`: two lists linked to one active group at the same priority
    /// that price the same product in the same currency: creation order
    /// decides between them.
    SamePriorityOverlap,
    /// `ERROR`: a `SALE` list none of whose prices is below the base price:
    /// it never applies.
    SaleNeverBelowBase,
    /// `WARNING`: a list with prices in a currency in which their product
    /// has no base price at all.
    NoBasePrice,
    /// `WARNING`: a list that never wins, because in every group it is
    /// linked to an `OVERRIDE` list ahead of it prices everything it prices.
    ListNeverWins,
    /// `WARNING`: an organization whose pricing groups are all inactive: its
    /// customers get their own groups' prices instead.
    OrganizationGroupsAllInactive,
}
