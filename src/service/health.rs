//! The pricing health report (docs/api.md#pricing-health): what makes
//! prices surprising, found before a customer finds it. Each check is one
//! statement of [`crate::store::health`], whatever the size of the
//! catalog; this module decides how serious each finding is and says, in
//! a sentence, what is wrong, why it matters and what to do.
//!
//! Inactive groups are absent everywhere (docs/pricing.md#effective-groups):
//! no check reports an inactive group, and a link to one reaches nobody.
//! Ended lists never apply again: only `LIST_EXPIRED_BUT_LINKED` mentions
//! them.

mod messages;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ServiceResult;
use crate::store::Store;
use crate::store::health::{self, Found, Reading};
use crate::store::kinds::Kind;

/// The most findings of one check a report lists; `PricingHealth.checks`
/// says how many each found in all. Keeps the answer bounded on a
/// catalog where one mistake repeats thousands of times.
pub const MAX_FINDINGS_PER_CHECK: u64 = 100;

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Harmless now, but untidy or easy to get wrong later.
    Info,
    /// Probably not what someone intended: some shoppers may not get the
    /// prices they were meant to.
    Warning,
    /// Prices are certainly not what someone intended.
    Error,
}

/// What a finding is about: a stable code per check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FindingCode {
    GroupWithoutLists,
    EmptyGroup,
    ListWithoutActiveGroup,
    ListExpiredButLinked,
    ListDraftButLinked,
    SamePriorityOverlap,
    SaleNeverBelowBase,
    NoBasePrice,
    ListNeverWins,
    OrganizationGroupsAllInactive,
}

impl FindingCode {
    /// Every check, in the order the report runs and lists them.
    pub const ALL: [FindingCode; 10] = [
        FindingCode::SamePriorityOverlap,
        FindingCode::SaleNeverBelowBase,
        FindingCode::ListWithoutActiveGroup,
        FindingCode::ListDraftButLinked,
        FindingCode::ListNeverWins,
        FindingCode::NoBasePrice,
        FindingCode::OrganizationGroupsAllInactive,
        FindingCode::GroupWithoutLists,
        FindingCode::EmptyGroup,
        FindingCode::ListExpiredButLinked,
    ];

    /// Each code's one severity (the table in docs/api.md#pricing-health).
    pub fn severity(self) -> Severity {
        match self {
            // The walk settles the tie by creation order, which nobody chose.
            Self::SamePriorityOverlap => Severity::Error,
            // The list can never apply: nobody prepares a sale for that.
            Self::SaleNeverBelowBase => Severity::Error,
            Self::ListWithoutActiveGroup
            | Self::ListDraftButLinked
            | Self::ListNeverWins
            | Self::NoBasePrice
            | Self::OrganizationGroupsAllInactive => Severity::Warning,
            // A group may exist for its exemptions or product lines alone;
            // a new group is empty; an ended list no longer applies.
            Self::GroupWithoutLists | Self::EmptyGroup | Self::ListExpiredButLinked => Severity::Info,
        }
    }
}

/// One thing the report found.
#[derive(Clone, Debug)]
pub struct Finding {
    pub code: FindingCode,
    /// What is wrong, why it matters and what to do, naming the objects.
    pub message: String,
    /// The objects involved, the one the finding is about first.
    pub subjects: Vec<(Uuid, Kind)>,
}

/// What one check found.
#[derive(Clone, Copy, Debug)]
pub struct CheckSummary {
    pub code: FindingCode,
    /// Findings in all.
    pub found: u64,
    /// Findings in the report: at most [`MAX_FINDINGS_PER_CHECK`].
    pub listed: u64,
}

/// The report: findings, most serious first, then by check and name.
#[derive(Clone, Debug)]
pub struct Health {
    pub checked_at: DateTime<Utc>,
    pub findings: Vec<Finding>,
    /// One per check, in [`FindingCode::ALL`]'s order, also when it found nothing.
    pub checks: Vec<CheckSummary>,
}

/// Runs every check as of `now`. The checks' statements run at once, each
/// on a connection of its own: the report is not one snapshot, which a
/// list of advice need not be, and it costs the slowest statement rather
/// than the sum of all.
pub async fn pricing_health(store: &Store, now: DateTime<Utc>) -> ServiceResult<Health> {
    let db = store.conn();
    let reading = Reading {
        now,
        cap: MAX_FINDINGS_PER_CHECK,
    };
    let (ties, sales, unlinked, drafts, outranked, no_base, organizations, no_lists, empty, expired) = futures_util::try_join!(
        health::same_priority_ties(db, reading),
        health::sales_never_below_base(db, reading),
        health::lists_without_active_group(db, reading),
        health::draft_lists_linked(db, reading),
        health::never_winning_lists(db, reading),
        health::prices_without_base(db, reading),
        health::organizations_with_inactive_groups(db, reading),
        health::groups_without_lists(db, reading),
        health::empty_groups(db, reading),
        health::expired_lists_linked(db, reading),
    )?;
    let mut report = Report::default();
    report.add(FindingCode::SamePriorityOverlap, ties, messages::tie);
    report.add(FindingCode::SaleNeverBelowBase, sales, messages::sale_never_below_base);
    report.add(
        FindingCode::ListWithoutActiveGroup,
        unlinked,
        messages::without_active_group,
    );
    report.add(FindingCode::ListDraftButLinked, drafts, messages::draft_but_linked);
    report.add(FindingCode::ListNeverWins, outranked, messages::never_wins);
    report.add(FindingCode::NoBasePrice, no_base, messages::no_base_price);
    report.add(
        FindingCode::OrganizationGroupsAllInactive,
        organizations,
        messages::organization_groups_inactive,
    );
    report.add(FindingCode::GroupWithoutLists, no_lists, messages::group_without_lists);
    report.add(FindingCode::EmptyGroup, empty, messages::empty_group);
    report.add(FindingCode::ListExpiredButLinked, expired, messages::expired_but_linked);
    Ok(report.finish(now))
}

#[derive(Default)]
struct Report {
    findings: Vec<Finding>,
    checks: Vec<CheckSummary>,
}

impl Report {
    fn add<T>(&mut self, code: FindingCode, found: Found<T>, describe: impl Fn(&T) -> (String, Vec<(Uuid, Kind)>)) {
        self.checks.push(CheckSummary {
            code,
            found: found.total,
            listed: found.items.len() as u64,
        });
        self.findings.extend(found.items.iter().map(|item| {
            let (message, subjects) = describe(item);
            Finding {
                code,
                message,
                subjects,
            }
        }));
    }

    fn finish(mut self, checked_at: DateTime<Utc>) -> Health {
        let rank = |code: FindingCode| FindingCode::ALL.iter().position(|c| *c == code);
        // Stable: within a check, the store's name order stays.
        self.findings
            .sort_by_key(|f| (std::cmp::Reverse(f.code.severity()), rank(f.code)));
        self.checks.sort_by_key(|c| rank(c.code));
        Health {
            checked_at,
            findings: self.findings,
            checks: self.checks,
        }
    }
}
