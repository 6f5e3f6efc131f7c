//! The demo data set as tables: a hospitality supplier with retail, trade and
//! contract customers, so that every rule of docs/pricing.md has an example to look
//! at. The tables are laid out by hand (`rustfmt::skip`) so that each row
//! reads as one; they name things (groups, lines, organizations) rather than
//! holding ids, which [`super`] resolves when it turns them into rows.
//!
//! Apart from the builder so that the data reads without the code, and the
//! code without scrolling past the data.

use entity::values::{GroupKind, PriceListStatus, PriceListType};

/// The exchange rates the demo converts its USD prices at, as minor units
/// per 100 US cents: EUR 0.92, JPY 150 yen to the dollar.
pub(super) const CURRENCIES: [(&str, i64); 3] = [("USD", 100), ("EUR", 92), ("JPY", 150)];

// SKU prefixes name the product lines in the tables.
const COFFEE: &str = "COF";
const KITCHEN: &str = "KIT";
const TABLEWARE: &str = "TAB";
const CLEANING: &str = "CLN";
const LINENS: &str = "LIN";
const FURNITURE: &str = "FUR";

pub(super) struct LineSpec {
    pub(super) name: &'static str,
    pub(super) sku_prefix: &'static str,
    /// Bulky goods are not shipped to Japan: no JPY price, so resolving one
    /// in JPY answers `NONE`.
    pub(super) sold_in_japan: bool,
    /// Consumables are cheaper by the case: quantity breaks in the base price.
    pub(super) quantity_breaks: bool,
    /// Items with their usual price in US cents.
    pub(super) items: [(&'static str, i64); 7],
    /// Variants with the percentage of the usual price they sell at.
    pub(super) variants: [(&'static str, i64); 7],
}

/// Six lines of 7 × 7 = 49 products.
#[rustfmt::skip]
pub(super) const DEMO_LINES: [LineSpec; 6] = [
    LineSpec {
        name: "Coffee & Tea", sku_prefix: COFFEE, sold_in_japan: true, quantity_breaks: true,
        items: [("Whole Bean Coffee 1 kg", 2400), ("Ground Coffee 500 g", 1300), ("Espresso Pods, box of 50", 1900),
                ("Cold Brew Concentrate 1 L", 1500), ("Loose Leaf Tea 250 g", 1100), ("Tea Bags, box of 100", 900),
                ("Hot Chocolate Mix 1 kg", 1400)],
        variants: [("House", 85), ("Signature", 100), ("Organic", 120), ("Fair Trade", 110), ("Single Origin", 135),
                   ("Reserve", 160), ("Decaf", 105)],
    },
    LineSpec {
        name: "Kitchen Equipment", sku_prefix: KITCHEN, sold_in_japan: true, quantity_breaks: false,
        items: [("Chef's Knife 8\"", 8900), ("Stockpot 20 qt", 12900), ("Half Sheet Pan", 1800), ("Cutting Board", 3200),
                ("Immersion Blender", 14900), ("Food Storage Set", 4500), ("Probe Thermometer", 2900)],
        variants: [("Essentials", 70), ("Pro", 100), ("Commercial", 140), ("Stainless", 110), ("Heavy-Duty", 130),
                   ("Compact", 90), ("Chef Series", 160)],
    },
    LineSpec {
        name: "Tableware", sku_prefix: TABLEWARE, sold_in_japan: true, quantity_breaks: true,
        items: [("Dinner Plate 11\"", 1200), ("Salad Bowl 24 oz", 900), ("Wine Glass 12 oz", 800),
                ("Coffee Mug 12 oz", 700), ("Flatware Set, 20 pieces", 6500), ("Serving Platter", 3400),
                ("Tumbler 16 oz", 600)],
        variants: [("Classic White", 100), ("Bistro", 90), ("Porcelain", 125), ("Stoneware", 110), ("Crystal", 180),
                   ("Matte Black", 115), ("Rustic", 105)],
    },
    LineSpec {
        name: "Cleaning Supplies", sku_prefix: CLEANING, sold_in_japan: true, quantity_breaks: true,
        items: [("All-Purpose Cleaner 1 gal", 1600), ("Dish Detergent 5 L", 2200), ("Microfiber Cloths, pack of 24", 1900),
                ("Glass Cleaner 1 gal", 1400), ("Sanitizing Wipes, pack of 6", 2600),
                ("Floor Cleaner Concentrate 1 gal", 2800), ("Trash Bags, box of 100", 2400)],
        variants: [("Basic", 80), ("Eco", 115), ("Concentrated", 130), ("Fragrance-Free", 105), ("Lemon", 100),
                   ("Hospital-Grade", 150), ("Value", 70)],
    },
    LineSpec {
        name: "Linens", sku_prefix: LINENS, sold_in_japan: true, quantity_breaks: false,
        items: [("Bath Towel", 1400), ("Hand Towel", 700), ("Queen Sheet Set", 5900), ("Pillowcase Pair", 1800),
                ("King Duvet Cover", 7900), ("Table Napkins, pack of 12", 2400), ("Round Tablecloth 90\"", 3900)],
        variants: [("Cotton", 100), ("Egyptian Cotton", 160), ("Bamboo", 130), ("Linen Blend", 140), ("Percale", 110),
                   ("Sateen", 120), ("Hotel Collection", 150)],
    },
    LineSpec {
        name: "Furniture", sku_prefix: FURNITURE, sold_in_japan: false, quantity_breaks: false,
        items: [("Bistro Chair", 14900), ("Bar Stool", 17900), ("Café Table 30\"", 24900), ("Lounge Sofa", 129900),
                ("Patio Umbrella", 21900), ("Banquet Table 6 ft", 18900), ("Side Table", 9900)],
        variants: [("Oak", 100), ("Walnut", 130), ("Teak", 150), ("Aluminum", 85), ("Rattan", 95), ("Steel", 90),
                   ("Stackable", 80)],
    },
];

/// Products outside every line (always orderable, docs/pricing.md#product-access): sku, name, price
/// in US cents, sold in every currency. Gift cards are dollars only; the
/// sample box is free.
#[rustfmt::skip]
pub(super) const UNLINED_PRODUCTS: [(&str, &str, i64, bool); 6] = [
    ("SVC-0001", "Gift Wrapping",    499,  true),
    ("SVC-0002", "Rush Handling",    1500, true),
    ("PRM-0001", "Sample Box",       0,    true),
    ("PRM-0002", "Branded Tote Bag", 1499, true),
    ("GFT-0025", "Gift Card $25",    2500, false),
    ("GFT-0050", "Gift Card $50",    5000, false),
];

#[derive(Clone, Copy)]
pub(super) struct GroupSpec {
    pub(super) name: &'static str,
    pub(super) kind: GroupKind,
    pub(super) description: &'static str,
    pub(super) is_active: bool,
    pub(super) commission_exempt: bool,
    pub(super) free_freight: bool,
    /// Product lines (SKU prefixes) the group may order; none: every product.
    pub(super) lines: &'static [&'static str],
}

#[rustfmt::skip]
impl GroupSpec {
    const fn new(kind: GroupKind, name: &'static str, description: &'static str) -> Self {
        Self { name, kind, description, is_active: true, commission_exempt: false, free_freight: false, lines: &[] }
    }
    const fn inactive(self) -> Self { Self { is_active: false, ..self } }
    const fn commission_exempt(self) -> Self { Self { commission_exempt: true, ..self } }
    const fn free_freight(self) -> Self { Self { free_freight: true, ..self } }
    const fn lines(self, lines: &'static [&'static str]) -> Self { Self { lines, ..self } }
}

const fn type_group(name: &'static str, description: &'static str) -> GroupSpec {
    GroupSpec::new(GroupKind::Type, name, description)
}

const fn pricing_group(name: &'static str, description: &'static str) -> GroupSpec {
    GroupSpec::new(GroupKind::Pricing, name, description)
}

/// Besides the built-in `Default` and `Everyone`. Names are unique across
/// both kinds, hence "Wholesale Trade" (TYPE) beside "Wholesale" (PRICING).
#[rustfmt::skip]
pub(super) const DEMO_GROUPS: [GroupSpec; 11] = [
    type_group("Retail", "Individual shoppers buying for their own use"),
    type_group("Wholesale Trade", "Businesses buying for resale or for their own operations"),
    type_group("Distributor", "Distribution partners; no sales commission is paid on their orders").commission_exempt(),
    pricing_group("VIP", "Top customers: member prices and early access to sales"),
    pricing_group("Wholesale", "Trade prices with quantity breaks; consumables and kitchen equipment only")
        .lines(&[COFFEE, KITCHEN, TABLEWARE, CLEANING]),
    pricing_group("Employee", "Staff prices on everything; orders ship free").free_freight(),
    pricing_group("Legacy Partners", "The retired partner program, kept for reference").inactive(),
    pricing_group("Acme Contract", "Negotiated contract pricing for Acme Hospitality Group")
        .lines(&[COFFEE, TABLEWARE, LINENS, CLEANING]),
    pricing_group("Acme Corporate", "Head-office purchasing rates for Acme Holdings"),
    pricing_group("Café Partners", "Coffee program for partner cafés; coffee and tea only").lines(&[COFFEE]).free_freight(),
    // No lists yet: a finding of the pricing health report (docs/api.md#pricing-health).
    pricing_group("Trade Show Leads", "Leads from the spring trade show; their prices are not set up yet"),
];

/// When a list applies, relative to the moment of seeding.
#[derive(Clone, Copy)]
pub(super) enum Window {
    Always,
    /// Days from now to the start and to the end; `None` is open.
    Days(Option<i64>, Option<i64>),
    /// The next Black Friday through Cyber Monday.
    BlackFriday,
}

#[derive(Clone, Copy)]
pub(super) struct ListSpec {
    pub(super) name: &'static str,
    pub(super) description: &'static str,
    pub(super) list_type: PriceListType,
    pub(super) status: PriceListStatus,
    pub(super) window: Window,
    /// Groups the list is linked to, with the priority of each link.
    pub(super) links: &'static [(&'static str, i32)],
    /// Product lines it prices (SKU prefixes); none: every product.
    pub(super) lines: &'static [&'static str],
    /// Percentage of those products it prices (chosen at random).
    pub(super) share: u32,
    /// Quantity tiers: (min, max, percentage of the product's unit base price).
    pub(super) tiers: &'static [(i32, Option<i32>, i64)],
    /// A derived list's discount in hundredths of a percent.
    pub(super) percent_off: Option<i32>,
}

#[rustfmt::skip]
impl ListSpec {
    const fn new(list_type: PriceListType, name: &'static str, description: &'static str) -> Self {
        Self {
            name, description, list_type, status: PriceListStatus::Active, window: Window::Always,
            links: &[], lines: &[], share: 100, tiers: &[], percent_off: None,
        }
    }
    const fn draft(self) -> Self { Self { status: PriceListStatus::Draft, ..self } }
    const fn window(self, window: Window) -> Self { Self { window, ..self } }
    const fn links(self, links: &'static [(&'static str, i32)]) -> Self { Self { links, ..self } }
    const fn lines(self, lines: &'static [&'static str]) -> Self { Self { lines, ..self } }
    const fn share(self, share: u32) -> Self { Self { share, ..self } }
    const fn tiers(self, tiers: &'static [(i32, Option<i32>, i64)]) -> Self { Self { tiers, ..self } }
    const fn percent_off(self, hundredths: i32) -> Self { Self { percent_off: Some(hundredths), ..self } }
}

const fn sale(name: &'static str, description: &'static str) -> ListSpec {
    ListSpec::new(PriceListType::Sale, name, description)
}

const fn override_list(name: &'static str, description: &'static str) -> ListSpec {
    ListSpec::new(PriceListType::Override, name, description)
}

/// Priorities: lower wins (docs/pricing.md#step-4-order), so a group's promotions sit above its
/// everyday prices, and storewide lists come after every group's own. A draft still linked, a
/// list linked only to an inactive group and an ended list still linked are findings of the
/// pricing health report (docs/api.md#pricing-health), as in a real catalog.
#[rustfmt::skip]
pub(super) const DEMO_LISTS: [ListSpec; 16] = [
    override_list("VIP Everyday", "Member prices on much of the catalog")
        .links(&[("VIP", 10)]).share(60).tiers(&[(1, None, 90)]),
    sale("VIP Double Discount Days", "Twice the member discount, for a long weekend")
        .window(Window::Days(Some(7), Some(10))).links(&[("VIP", 5)]).share(40).tiers(&[(1, None, 80)]),
    sale("VIP 20 % Off", "Seed 002's VIP discount: 20 % off every base price, following it when it changes")
        .links(&[("VIP", 30)]).share(0).percent_off(2000),
    sale("VIP Autumn Preview", "Next season's member sale, still being planned")
        .draft().links(&[("VIP", 20)]).share(30).tiers(&[(1, None, 85)]),
    override_list("Wholesale Tier Pricing", "Trade prices with quantity breaks at 10 and 50")
        .links(&[("Wholesale", 10)]).lines(&[COFFEE, KITCHEN, TABLEWARE, CLEANING])
        .tiers(&[(1, Some(9), 85), (10, Some(49), 80), (50, None, 75)]),
    sale("Wholesale Clearance", "End-of-line kitchen equipment and tableware")
        .links(&[("Wholesale", 5)]).lines(&[KITCHEN, TABLEWARE]).share(25).tiers(&[(1, None, 70)]),
    override_list("Employee Pricing", "Staff prices on everything")
        .links(&[("Employee", 0)]).tiers(&[(1, None, 60)]),
    override_list("Legacy Partner Pricing", "Terms of the retired partner program")
        .links(&[("Legacy Partners", 10)]).share(50).tiers(&[(1, None, 80)]),
    override_list("Acme Hospitality Contract", "Contract prices for the year; case prices from 24 units")
        .window(Window::Days(Some(-90), Some(275))).links(&[("Acme Contract", 10)])
        .lines(&[COFFEE, TABLEWARE, LINENS, CLEANING]).tiers(&[(1, Some(23), 82), (24, None, 76)]),
    sale("Acme Linen Program", "Linen replacement program for Acme properties")
        .links(&[("Acme Contract", 5)]).lines(&[LINENS]).tiers(&[(1, None, 70)]),
    override_list("Acme Corporate Rates", "Head-office purchasing rates")
        .links(&[("Acme Corporate", 10)]).share(30).tiers(&[(1, None, 88)]),
    override_list("Café Partner Pricing", "Coffee and tea for partner cafés; case prices from 12 units")
        .links(&[("Café Partners", 10)]).lines(&[COFFEE]).tiers(&[(1, Some(11), 88), (12, None, 80)]),
    sale("Everyday Low Prices", "Storewide markdowns for every shopper")
        .links(&[("Everyone", 100)]).share(15).tiers(&[(1, None, 90)]),
    sale("Black Friday", "Storewide sale from Black Friday through Cyber Monday; VIPs first in line")
        .window(Window::BlackFriday).links(&[("Everyone", 50), ("VIP", 1)]).share(35).tiers(&[(1, None, 70)]),
    sale("End-of-Season Clearance", "The last storewide clearance (ended)")
        .window(Window::Days(Some(-75), Some(-45))).links(&[("Everyone", 60)]).share(20).tiers(&[(1, None, 75)]),
    override_list("Holiday Catalog", "Prices for the next holiday catalog; not linked to any group yet")
        .draft().share(20).tiers(&[(1, None, 95)]),
];

const ACME_HOLDINGS: &str = "Acme Holdings";
const ACME_HOSPITALITY: &str = "Acme Hospitality Group";
const ACME_LOUNGES: &str = "Acme Airport Lounges";
const BLUEBIRD: &str = "Bluebird Café Co.";

/// Organizations, parents first: name, parent, pricing groups, account
/// manager. Acme Holdings' group does not reach its subsidiaries (only the
/// direct organization counts, docs/pricing.md#effective-groups); Acme Airport Lounges has no groups,
/// so its customers keep their own.
#[rustfmt::skip]
pub(super) const DEMO_ORGANIZATIONS: [(&str, Option<&str>, &[&str], &str); 4] = [
    (ACME_HOLDINGS,    None,                &["Acme Corporate"],             "Dana Whitfield"),
    (ACME_HOSPITALITY, Some(ACME_HOLDINGS), &["Acme Contract", "Wholesale"], "Dana Whitfield"),
    (ACME_LOUNGES,     Some(ACME_HOLDINGS), &[],                             "Luis Ortega"),
    (BLUEBIRD,         None,                &["Café Partners"],              "Luis Ortega"),
];

#[derive(Clone, Copy)]
pub(super) struct CustomerSpec {
    pub(super) name: &'static str,
    pub(super) email: &'static str,
    pub(super) type_group: &'static str,
    pub(super) organization: Option<&'static str>,
    pub(super) groups: &'static [&'static str],
    pub(super) commission_exempt: bool,
    pub(super) free_freight: bool,
    pub(super) preferred_currency: Option<&'static str>,
}

#[rustfmt::skip]
impl CustomerSpec {
    const fn org(self, organization: &'static str) -> Self { Self { organization: Some(organization), ..self } }
    const fn groups(self, groups: &'static [&'static str]) -> Self { Self { groups, ..self } }
    const fn commission_exempt(self) -> Self { Self { commission_exempt: true, ..self } }
    const fn free_freight(self) -> Self { Self { free_freight: true, ..self } }
    const fn prefers(self, currency: &'static str) -> Self { Self { preferred_currency: Some(currency), ..self } }
}

const fn customer(name: &'static str, email: &'static str, type_group: &'static str) -> CustomerSpec {
    CustomerSpec {
        name,
        email,
        type_group,
        organization: None,
        groups: &[],
        commission_exempt: false,
        free_freight: false,
        preferred_currency: None,
    }
}

/// James Carter at Acme Hospitality is a VIP member, but his organization's
/// groups replace his own (docs/pricing.md#effective-groups); Jenny Park at Bluebird likewise.
#[rustfmt::skip]
pub(super) const DEMO_CUSTOMERS: [CustomerSpec; 36] = [
    customer("Olivia Martin", "olivia.martin@example.com", "Retail").groups(&["VIP"]),
    customer("Liam Johnson", "liam.johnson@example.com", "Retail"),
    customer("Emma Williams", "emma.williams@example.com", "Retail").groups(&["VIP"]).free_freight(),
    customer("Noah Brown", "noah.brown@example.com", "Retail"),
    customer("Ava Jones", "ava.jones@example.com", "Retail").groups(&["Legacy Partners"]),
    customer("Sophia Garcia", "sophia.garcia@example.com", "Retail").groups(&["VIP"]),
    customer("Mason Miller", "mason.miller@example.com", "Retail").groups(&["Trade Show Leads"]),
    customer("Lucas Rodriguez", "lucas.rodriguez@example.com", "Retail"),
    customer("Mia Wilson", "mia.wilson@example.com", "Retail").groups(&["VIP"]),
    customer("Ethan Moore", "ethan.moore@example.com", "Default"),
    customer("Harper Taylor", "harper.taylor@example.com", "Default"),
    customer("Yuki Tanaka", "yuki.tanaka@example.com", "Retail").groups(&["VIP"]).prefers("JPY"),
    customer("Sofia Rossi", "sofia.rossi@example.com", "Retail").prefers("EUR"),
    customer("Lukas Schneider", "lukas.schneider@example.com", "Retail").groups(&["VIP"]).prefers("EUR"),
    customer("Chloé Dubois", "chloe.dubois@example.com", "Retail").groups(&["VIP"]).prefers("EUR"),
    customer("Hannah Lee", "hannah.lee@staff.example.com", "Retail").groups(&["Employee"]),
    customer("Daniel Kim", "daniel.kim@staff.example.com", "Retail").groups(&["Employee", "VIP"]),
    customer("Grace Chen", "grace.chen@staff.example.com", "Retail").groups(&["Employee"]).commission_exempt(),
    customer("Northwind Traders", "orders@northwind.example.com", "Wholesale Trade").groups(&["Wholesale"]),
    customer("Contoso Kitchens", "purchasing@contoso-kitchens.example.com", "Wholesale Trade")
        .groups(&["Wholesale", "VIP"]),
    customer("Fabrikam Catering", "buyer@fabrikam-catering.example.com", "Wholesale Trade")
        .groups(&["Wholesale"]).free_freight(),
    customer("Tailspin Deli", "accounts@tailspin-deli.example.com", "Wholesale Trade")
        .groups(&["Wholesale", "Legacy Partners"]),
    customer("Lakeside Bistro", "hello@lakeside-bistro.example.com", "Wholesale Trade").groups(&["Trade Show Leads"]),
    customer("Global Foodservice Supply", "procurement@globalfoodservice.example.com", "Distributor")
        .groups(&["Wholesale"]),
    customer("Pacific Rim Distribution", "orders@pacificrim.example.com", "Distributor")
        .groups(&["Wholesale"]).prefers("JPY"),
    customer("EuroHospitality GmbH", "einkauf@eurohospitality.example.com", "Distributor")
        .groups(&["Legacy Partners"]).prefers("EUR"),
    customer("James Carter", "james.carter@acmehospitality.example.com", "Wholesale Trade")
        .org(ACME_HOSPITALITY).groups(&["VIP"]),
    customer("Priya Patel", "priya.patel@acmehospitality.example.com", "Wholesale Trade").org(ACME_HOSPITALITY),
    customer("Marcus Webb", "marcus.webb@acmehospitality.example.com", "Wholesale Trade")
        .org(ACME_HOSPITALITY).commission_exempt(),
    customer("Elena Petrova", "elena.petrova@acmehospitality.example.com", "Wholesale Trade")
        .org(ACME_HOSPITALITY).prefers("EUR"),
    customer("Chen Wei", "chen.wei@acmehospitality.example.com", "Wholesale Trade").org(ACME_HOSPITALITY),
    customer("Sarah O'Neil", "sarah.oneil@acmelounges.example.com", "Wholesale Trade")
        .org(ACME_LOUNGES).groups(&["VIP"]),
    customer("Tom Becker", "tom.becker@acmelounges.example.com", "Wholesale Trade").org(ACME_LOUNGES),
    customer("Richard Hale", "richard.hale@acmeholdings.example.com", "Retail").org(ACME_HOLDINGS),
    customer("Jenny Park", "jenny.park@bluebirdcafe.example.com", "Wholesale Trade").org(BLUEBIRD).groups(&["Wholesale"]),
    customer("Omar Haddad", "omar.haddad@bluebirdcafe.example.com", "Wholesale Trade").org(BLUEBIRD),
];
