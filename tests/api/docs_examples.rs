//! The worked examples of `docs/pricing.md`, checked against the server.
//!
//! The page marks each example's tables with `<!-- checked: NAME -->`; this
//! file reads them out of the page itself, builds the world they describe
//! through the GraphQL API, and compares every answer with the page. A
//! number changed on one side only fails here, so the page and the server
//! cannot drift apart. What a table cannot say (who is a member of what,
//! which group lists which product line) is the example's prose; the test
//! for it names the section and does what the prose says.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::fixtures::{
    UPSERT_BASE_PRICES, UPSERT_PRICES, add_customers, base_price, create_group, customer, link_price_list,
    organization, price_list, product, product_line, type_group,
};
use crate::helpers::{TestApp, id, on_each_backend};

const PAGE: &str = include_str!("../../docs/pricing.md");

/// A table of the page, by its `<!-- checked: NAME -->` marker: cells
/// without their Markdown emphasis, `—` as an empty cell.
struct Table {
    name: &'static str,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn table(name: &'static str) -> Table {
    let marker = format!("<!-- checked: {name} -->");
    let mut found = PAGE.split(marker.as_str());
    let after = match (found.next(), found.next(), found.next()) {
        (Some(_), Some(after), None) => after,
        _ => panic!("docs/pricing.md must mark exactly one table `{marker}`"),
    };
    let lines: Vec<Vec<String>> = after
        .lines()
        .map(|line| line.trim_start().trim_start_matches('>').trim())
        .skip_while(|line| line.is_empty())
        .take_while(|line| line.starts_with('|'))
        .map(cells)
        .collect();
    let (header, rows) = lines
        .split_first()
        .unwrap_or_else(|| panic!("no table after `{marker}`"));
    assert!(
        rows.first()
            .is_some_and(|sep| sep.iter().all(|c| c.chars().all(|ch| ch == '-'))),
        "`{name}`: a table's second line separates its header"
    );
    Table {
        name,
        header: header.clone(),
        rows: rows[1..].to_vec(),
    }
}

fn cells(line: &str) -> Vec<String> {
    line.trim_matches('|')
        .split('|')
        .map(|cell| cell.replace(['`', '*'], "").trim().to_owned())
        .collect()
}

/// One row of a [`Table`], read by column name.
struct Row<'t> {
    table: &'t Table,
    cells: &'t [String],
}

impl Table {
    fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|cells| Row { table: self, cells })
    }

    fn has(&self, column: &str) -> bool {
        self.header.iter().any(|h| h == column)
    }
}

impl Row<'_> {
    /// The cell under `column`; `None` when it is `—` (or the table has no such column).
    fn get(&self, column: &str) -> Option<&str> {
        let at = self.table.header.iter().position(|h| h == column)?;
        let cell = self.cells.get(at).map(String::as_str).unwrap_or_default();
        (cell != "—" && !cell.is_empty()).then_some(cell)
    }

    /// The cell under `column`, which must not be empty.
    fn cell(&self, column: &str) -> &str {
        self.get(column)
            .unwrap_or_else(|| panic!("`{}`: no `{column}` in {:?}", self.table.name, self.cells))
    }

    fn context(&self) -> String {
        format!("docs/pricing.md `{}`: {:?}", self.table.name, self.cells)
    }
}

/// `VIP (20), Staff (1)` → `[("VIP", 20), ("Staff", 1)]`.
fn links(cell: &str) -> Vec<(String, i32)> {
    cell.split(", ")
        .map(|link| {
            let (group, priority) = link
                .strip_suffix(')')
                .and_then(|l| l.split_once(" ("))
                .unwrap_or_else(|| panic!("`{link}` is not `Group (priority)`"));
            (group.to_owned(), priority.parse().expect("a priority"))
        })
        .collect()
}

/// `Older: APPLIED; Newer: OUTRANKED` → `[("Older", "APPLIED"), ("Newer", "OUTRANKED")]`.
fn outcomes_cell(cell: &str) -> Vec<(String, String)> {
    cell.split("; ")
        .map(|entry| {
            let (list, outcome) = entry.split_once(": ").expect("`List: OUTCOME`");
            (list.to_owned(), outcome.to_owned())
        })
        .collect()
}

fn outcomes(price: &Value) -> Vec<(String, String)> {
    price["explanation"]
        .as_array()
        .expect("explanation")
        .iter()
        .map(|e| {
            let list = e["priceList"]["name"].as_str().unwrap_or_default().to_owned();
            (list, e["outcome"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

const RESOLVE: &str = "query DocsExample($c: ID, $p: ID!, $q: Int!, $at: DateTime, $s: PricingStrategy!) {
    resolvedPrice(customerId: $c, productId: $p, currency: \"USD\", quantity: $q, at: $at, strategy: $s) {
        amount { amount } basePrice { amount } source priceList { id name } customerGroup { id name }
        priority tierMinQuantity rule { percentOff }
        explanation { customerGroup { id name } priceList { id name } priority outcome amount { amount } } } }";

/// The groups, products, lists and shoppers of one example, by the names
/// the page gives them.
struct World<'a> {
    app: &'a TestApp,
    groups: HashMap<String, String>,
    products: HashMap<String, String>,
    lists: HashMap<String, String>,
    shoppers: HashMap<String, String>,
}

impl<'a> World<'a> {
    async fn new(app: &'a TestApp) -> Self {
        let everyone = app
            .data(
                "query Everyone { customerGroups(first: 1, filter: { nameContains: \"everyone\" }) { edges { node { id } } } }",
                json!({}),
            )
            .await;
        let everyone = id(&everyone["customerGroups"]["edges"][0]["node"]);
        Self {
            app,
            groups: HashMap::from([("Everyone".to_owned(), everyone)]),
            products: HashMap::new(),
            lists: HashMap::new(),
            shoppers: HashMap::new(),
        }
    }

    /// A `PRICING` group by name, created active on first mention.
    async fn group(&mut self, name: &str) -> String {
        if let Some(id) = self.groups.get(name) {
            return id.clone();
        }
        let group = id(&create_group(self.app, json!({ "name": name })).await);
        self.groups.insert(name.to_owned(), group.clone());
        group
    }

    /// A product by name (`gift card` is sku `GIFT-CARD`), created on first
    /// mention, in `line` when given.
    async fn product(&mut self, name: &str, line: Option<&str>) -> String {
        if let Some(id) = self.products.get(name) {
            return id.clone();
        }
        let mut extra = json!({ "name": name });
        if let Some(line) = line {
            extra["productLineId"] = json!(line);
        }
        let sku = name.to_uppercase().replace(' ', "-");
        let id = product(self.app, &sku, extra).await;
        self.products.insert(name.to_owned(), id.clone());
        id
    }

    /// A customer named `name`, a member of `groups`.
    async fn shopper(&mut self, name: &str, groups: &[&str], extra: Value) -> String {
        let email = format!("{}@example.com", name.to_lowercase());
        let id = customer(self.app, &email, extra).await;
        for group in groups {
            let group = self.group(group).await;
            add_customers(self.app, &group, &[&id]).await;
        }
        self.shoppers.insert(name.to_owned(), id.clone());
        id
    }

    /// Builds a table of price lists: `price list`, `type`, optional
    /// `status` and `window` (`START to END`), `linked to` (`Group
    /// (priority), …`), and one column per product with its price from
    /// quantity 1. The row `base price` gives base prices.
    async fn lists(&mut self, table: &Table) {
        let known = ["price list", "type", "status", "window", "rule", "linked to"];
        let product_columns: Vec<&String> = table.header.iter().filter(|h| !known.contains(&h.as_str())).collect();
        for column in &product_columns {
            self.product(column, None).await;
        }
        for row in table.rows() {
            let name = row.cell("price list");
            if name == "base price" {
                for column in &product_columns {
                    if let Some(amount) = row.get(column) {
                        base_price(self.app, &self.products[column.as_str()], 1, amount).await;
                    }
                }
                continue;
            }
            let mut input = json!({ "type": row.cell("type") });
            if let Some(status) = row.get("status") {
                input["status"] = json!(status);
            }
            if let Some(rule) = row.get("rule") {
                let percent_off = rule.strip_suffix(" % off").expect("`N % off`");
                input["rule"] = json!({ "percentOff": percent_off });
            }
            if let Some(window) = row.get("window") {
                let (starts, ends) = window.split_once(" to ").expect("`START to END`");
                input["startsAt"] = json!(starts);
                input["endsAt"] = json!(ends);
            }
            let list = price_list(self.app, name, input).await;
            self.lists.insert(name.to_owned(), list.clone());
            for column in &product_columns {
                if let Some(amount) = row.get(column) {
                    self.list_price(&list, &self.products[column.as_str()], 1, None, amount)
                        .await;
                }
            }
            for (group, priority) in links(row.cell("linked to")) {
                let group = self.group(&group).await;
                link_price_list(self.app, &group, &list, priority).await;
            }
        }
    }

    async fn list_price(&self, list: &str, product: &str, min: i32, max: Option<i32>, amount: &str) {
        let prices = json!([{ "productId": product, "currency": "USD", "minQuantity": min, "maxQuantity": max, "amount": amount }]);
        self.app
            .mutate(
                "upsertPrices",
                UPSERT_PRICES,
                json!({ "input": { "priceListId": list, "prices": prices } }),
            )
            .await;
    }

    /// `anonymous`, or a shopper's id.
    fn customer_id(&self, shopper: &str) -> Option<String> {
        match shopper {
            "anonymous" | "an anonymous shopper" => None,
            name => Some(
                self.shoppers
                    .get(name)
                    .unwrap_or_else(|| panic!("no shopper {name}"))
                    .clone(),
            ),
        }
    }

    /// The price a row asks for: `shopper`, and optionally `product`
    /// (the chair), `quantity` (1), `at` (now) and `strategy` (`PRIORITY`).
    async fn resolve(&self, row: &Row<'_>) -> Value {
        let product = row.get("product").unwrap_or("chair");
        let variables = json!({
            "c": self.customer_id(row.cell("shopper")),
            "p": self.products.get(product).unwrap_or_else(|| panic!("no product {product}")),
            "q": row.get("quantity").map_or(1, |q| q.parse::<i32>().expect("a quantity")),
            "at": row.get("at"),
            "s": row.get("strategy").unwrap_or("PRIORITY"),
        });
        self.app.data(RESOLVE, variables).await["resolvedPrice"].clone()
    }

    /// Resolves a row's price and compares it with every answer column the
    /// table has: `pays`, `source`, `list`, `through`, `priority`, `tier`,
    /// `base price`, `outcomes`.
    async fn check(&self, row: &Row<'_>) {
        let price = self.resolve(row).await;
        let at = row.context();
        let text = |cell: Option<&str>| cell.map_or(Value::Null, |c| json!(c));
        let number = |cell: Option<&str>| cell.map_or(Value::Null, |c| json!(c.parse::<i64>().expect("a number")));
        let table = row.table;
        if table.has("pays") {
            assert_eq!(price["amount"]["amount"], text(row.get("pays")), "{at}: {price}");
        }
        if table.has("source") {
            assert_eq!(price["source"], text(row.get("source")), "{at}: {price}");
        }
        if table.has("list") {
            assert_eq!(price["priceList"]["name"], text(row.get("list")), "{at}: {price}");
        }
        if table.has("through") {
            assert_eq!(
                price["customerGroup"]["name"],
                text(row.get("through")),
                "{at}: {price}"
            );
        }
        if table.has("priority") {
            assert_eq!(price["priority"], number(row.get("priority")), "{at}: {price}");
        }
        if table.has("tier") {
            assert_eq!(price["tierMinQuantity"], number(row.get("tier")), "{at}: {price}");
        }
        if table.has("rule") {
            let rule = row.get("rule").map(|r| r.strip_suffix(" % off").expect("`N % off`"));
            assert_eq!(price["rule"]["percentOff"], text(rule), "{at}: {price}");
        }
        if table.has("base price") {
            assert_eq!(
                price["basePrice"]["amount"],
                text(row.get("base price")),
                "{at}: {price}"
            );
        }
        if table.has("outcomes") {
            // In order: links that never became candidates first, then the
            // candidates, each part in the walk's order (docs/pricing.md#explanation).
            let expected = row.get("outcomes").map(outcomes_cell).unwrap_or_default();
            let actual = outcomes(&price);
            assert_eq!(actual, expected, "{at}: {price}");
        }
    }

    async fn check_all(&self, table: &Table) {
        for row in table.rows() {
            self.check(&row).await;
        }
    }

    async fn set_active(&self, group: &str, active: bool) {
        self.app
            .mutate(
                "updateCustomerGroup",
                "mutation Deactivate($input: UpdateCustomerGroupInput!) { updateCustomerGroup(input: $input) {
                    customerGroup { id isActive } userErrors { field message code } } }",
                json!({ "input": { "id": self.groups[group], "isActive": active } }),
            )
            .await;
    }
}

/// `Trade (ORGANIZATION), Everyone (EVERYONE)` → pairs of (group, via).
fn effective_cell(cell: &str) -> Vec<(String, String)> {
    cell.split(", ")
        .map(|entry| {
            let (name, via) = entry
                .strip_suffix(')')
                .and_then(|e| e.split_once(" ("))
                .unwrap_or_else(|| panic!("`{entry}` is not `Name (WHAT)`"));
            (name.to_owned(), via.to_owned())
        })
        .collect()
}

/// docs/pricing.md#effective-groups: Ada works for Acme, whose group Trade
/// replaces her own VIP while it is active.
#[tokio::test]
async fn effective_groups_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("effective-groups-lists")).await;
        let acme = organization(&app, "Acme", json!({})).await;
        let trade = world.group("Trade").await;
        app.mutate(
            "setOrganizationGroups",
            "mutation AcmeGroups($input: SetOrganizationGroupsInput!) { setOrganizationGroups(input: $input) {
                organization { id } userErrors { field message code } } }",
            json!({ "input": { "organizationId": acme, "groupIds": [trade] } }),
        )
        .await;
        world.shopper("Ada", &["VIP"], json!({ "organizationId": acme })).await;

        let effective =
            "query Effective($id: ID!) { customer(id: $id) { id effectiveGroups { customerGroup { id name } via } } }";
        for row in table("effective-groups").rows() {
            let (shopper, expected) = (
                row.cell("situation"),
                effective_cell(row.cell("effective groups (via)")),
            );
            let asked = match shopper {
                "Ada, while Trade is active" => "Ada",
                "Ada, once Trade is deactivated" => {
                    world.set_active("Trade", false).await;
                    "Ada"
                }
                "an anonymous shopper" => "anonymous",
                other => panic!("{}: no such situation in the test: {other}", row.context()),
            };
            let price = world
                .app
                .data(
                    RESOLVE,
                    json!({ "c": world.customer_id(asked), "p": world.products["chair"], "q": 1, "s": "PRIORITY" }),
                )
                .await["resolvedPrice"]
                .clone();
            assert_eq!(
                price["amount"]["amount"],
                row.cell("pays for the chair"),
                "{}",
                row.context()
            );
            match world.customer_id(asked) {
                Some(customer) => {
                    let data = app.data(effective, json!({ "id": customer })).await;
                    let actual: Vec<(String, String)> = data["customer"]["effectiveGroups"]
                        .as_array()
                        .expect("effectiveGroups")
                        .iter()
                        .map(|g| {
                            (
                                g["customerGroup"]["name"].as_str().unwrap_or_default().to_owned(),
                                g["via"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect();
                    assert_eq!(actual, expected, "{}", row.context());
                }
                // An anonymous shopper has no `effectiveGroups` to ask; the
                // groups its price went through must be among the row's.
                None => {
                    for entry in price["explanation"].as_array().expect("explanation") {
                        let group = entry["customerGroup"]["name"].as_str().unwrap_or_default();
                        assert!(expected.iter().any(|(name, _)| name == group), "{}", row.context());
                    }
                }
            }
        }
    })
    .await;
}

/// docs/pricing.md#storewide-lists: a list linked to `Everyone` prices
/// every shopper, until `Everyone` is deactivated.
#[tokio::test]
async fn storewide_lists_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("storewide-lists")).await;
        world.shopper("Ada", &["VIP"], json!({})).await;
        world.shopper("Bob", &[], json!({})).await;
        world.check_all(&table("storewide-answers")).await;
        world.set_active("Everyone", false).await;
        world.check_all(&table("storewide-off")).await;
    })
    .await;
}

/// `TYPE_GROUP Distributor` → `("TYPE_GROUP", Some("Distributor"))`.
fn sources_cell(cell: Option<&str>) -> Vec<(String, Option<String>)> {
    cell.map(|cell| {
        cell.split(", ")
            .map(|source| match source.split_once(' ') {
                Some((kind, group)) => (kind.to_owned(), Some(group.to_owned())),
                None => (source.to_owned(), None),
            })
            .collect()
    })
    .unwrap_or_default()
}

fn sources(value: &Value) -> Vec<(String, Option<String>)> {
    value
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap_or_default().to_owned(),
                s["customerGroup"]["name"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// docs/pricing.md#exemptions: the OR of the customer's flag, its type
/// group's and its active pricing groups', with where each comes from.
#[tokio::test]
async fn exemptions_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        let distributor = id(&create_group(
            &app,
            json!({ "name": "Distributor", "kind": "TYPE", "commissionExempt": true }),
        )
        .await);
        let retail = type_group(&app, "Retail").await;
        let employees = id(&create_group(&app, json!({ "name": "Employees", "freeFreight": true })).await);
        world.groups.insert("Employees".into(), employees);
        let old = json!({ "name": "Old perks", "isActive": false, "commissionExempt": true, "freeFreight": true });
        let old = id(&create_group(&app, old).await);
        world.groups.insert("Old perks".into(), old);
        world
            .shopper(
                "Ada",
                &["Employees", "Old perks"],
                json!({ "typeGroupId": distributor, "freeFreight": true }),
            )
            .await;
        world.shopper("Bob", &["Old perks"], json!({ "typeGroupId": retail })).await;

        let query = "query Exemptions($id: ID!) { customer(id: $id) { id exemptions { commissionExempt freeFreight
            commissionExemptSources { kind customerGroup { id name } } freeFreightSources { kind customerGroup { id name } } } } }";
        let exemptions = table("exemptions");
        assert_eq!(
            exemptions.header,
            ["customer", "commissionExempt", "from", "freeFreight", "from"]
        );
        for row in exemptions.rows() {
            let customer = world.customer_id(row.cell("customer"));
            let data = app.data(query, json!({ "id": customer })).await;
            let actual = &data["customer"]["exemptions"];
            // Two columns are named `from`: read them by position.
            let cell = |at: usize| Some(row.cells[at].as_str()).filter(|c| *c != "—");
            assert_eq!(actual["commissionExempt"].to_string(), row.cells[1], "{}", row.context());
            assert_eq!(sources(&actual["commissionExemptSources"]), sources_cell(cell(2)), "{}", row.context());
            assert_eq!(actual["freeFreight"].to_string(), row.cells[3], "{}", row.context());
            assert_eq!(sources(&actual["freeFreightSources"]), sources_cell(cell(4)), "{}", row.context());
        }
    })
    .await;
}

/// docs/pricing.md#product-access and #step-1-orderable: product lines
/// restrict ordering as the union of the active groups' lines; a product
/// the shopper may not order has no price.
#[tokio::test]
async fn product_access_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        let access = table("product-access");
        // The product columns are `name (Line)`, or `name (no line)`.
        let mut lines: HashMap<String, String> = HashMap::new();
        let mut columns = Vec::new();
        for column in &access.header[2..] {
            let (name, line) = column
                .strip_suffix(')')
                .and_then(|c| c.split_once(" ("))
                .expect("`product (Line)`");
            let line = match line {
                "no line" => None,
                line => {
                    if !lines.contains_key(line) {
                        lines.insert(line.to_owned(), product_line(&app, line).await);
                    }
                    Some(lines[line].clone())
                }
            };
            let product = world.product(name, line.as_deref()).await;
            // Step 1's example: every product has a base price of 10.00.
            base_price(&app, &product, 1, "10.00").await;
            columns.push((column.clone(), name.to_owned()));
        }
        // The prose: which group lists which line, and which is inactive.
        let listing = [
            ("Trade", "Furniture", true),
            ("Lamp club", "Lighting", true),
            ("Old catalog", "Furniture", false),
        ];
        for (group, line, active) in listing {
            let group_id = id(&create_group(&app, json!({ "name": group, "isActive": active })).await);
            world.groups.insert(group.to_owned(), group_id.clone());
            app.mutate(
                "setGroupProductLines",
                "mutation Lines($input: SetGroupProductLinesInput!) { setGroupProductLines(input: $input) {
                    customerGroup { id } userErrors { field message code } } }",
                json!({ "input": { "groupId": group_id, "productLineIds": [lines[line]] } }),
            )
            .await;
        }
        let can_order = "query CanOrder($c: ID!, $p: ID!) { customer(id: $c) { id canOrder(productId: $p) } }";
        for row in access.rows() {
            let groups: Vec<&str> = row.get("groups").map(|g| g.split(", ").collect()).unwrap_or_default();
            let shopper = row.cell("customer");
            let customer = world.shopper(shopper, &groups, json!({})).await;
            for (column, product) in &columns {
                let allowed = match row.cell(column) {
                    "yes" => true,
                    "no" => false,
                    other => panic!("{}: `{other}` is not yes or no", row.context()),
                };
                let data = app
                    .data(can_order, json!({ "c": customer, "p": world.products[product] }))
                    .await;
                assert_eq!(data["customer"]["canOrder"], allowed, "{} {product}", row.context());
            }
        }
        world.check_all(&table("step-1")).await;
    })
    .await;
}

/// docs/pricing.md#step-3-candidates: drafts never apply; a window
/// includes its start and excludes its end.
#[tokio::test]
async fn candidates_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("step-3-lists")).await;
        world.shopper("Ada", &["VIP"], json!({})).await;
        world.check_all(&table("step-3-answers")).await;
    })
    .await;
}

/// docs/pricing.md#step-3-candidates: a list reached through two groups
/// counts once, at its smallest priority.
#[tokio::test]
async fn list_through_several_groups_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("step-3-shared-lists")).await;
        world.shopper("Ada", &["VIP", "Staff"], json!({})).await;
        world.check_all(&table("step-3-shared-answers")).await;
    })
    .await;
}

/// docs/pricing.md#step-4-order: priority, then age.
#[tokio::test]
async fn candidate_order_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("step-4-lists")).await;
        world.shopper("Ada", &["VIP", "Staff"], json!({})).await;
        world.check_all(&table("step-4-answers")).await;
    })
    .await;
}

/// docs/pricing.md#step-5-first-price: a sale must be below the base
/// price; an override always applies. Each row first sets Black Friday's
/// chair price to its own.
#[tokio::test]
async fn first_list_with_a_price_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("step-5-lists")).await;
        world.shopper("Ada", &["Trade"], json!({})).await;
        for row in table("step-5-answers").rows() {
            let amount = row.cell("Black Friday's chair price");
            world
                .list_price(&world.lists["Black Friday"], &world.products["chair"], 1, None, amount)
                .await;
            world.check(&row).await;
        }
    })
    .await;
}

/// docs/pricing.md#derived-lists: a rule prices what the list's rows do
/// not, follows the base price, and a derived sale still never raises one.
#[tokio::test]
async fn derived_lists_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("derived-lists")).await;
        world.shopper("Ada", &["VIP"], json!({})).await;
        world.check_all(&table("derived-answers")).await;
        base_price(&app, &world.products["lamp"], 1, "25.00").await;
        world.check_all(&table("derived-followed")).await;
    })
    .await;
}

/// docs/pricing.md#step-6-no-list-price: the base price, or nothing.
#[tokio::test]
async fn no_list_price_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("step-6")).await;
        world.shopper("Bob", &[], json!({})).await;
        world.check_all(&table("step-6-answers")).await;
    })
    .await;
}

/// docs/pricing.md#step-7-lowest-price: both strategies, before and after
/// an override joins.
#[tokio::test]
async fn strategies_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("step-7-lists")).await;
        world.shopper("Ada", &["VIP"], json!({})).await;
        world.check_all(&table("step-7-answers")).await;
        world.lists(&table("step-7-override-lists")).await;
        world.check_all(&table("step-7-override-answers")).await;
    })
    .await;
}

/// docs/pricing.md#tiers: base tiers run to the next one; list tiers cover
/// their range, the larger minimum winning, and a gap falls through.
#[tokio::test]
async fn quantity_tiers_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("tiers-lists")).await;
        let tiers = table("tiers");
        let mug = world.product("mug", None).await;
        for row in tiers.rows() {
            let min: i32 = row.cell("from").parse().expect("a quantity");
            let max: Option<i32> = row.get("to").map(|to| to.parse().expect("a quantity"));
            match row.cell("tier of") {
                "base price" => {
                    assert_eq!(max, None, "{}: base tiers have no end", row.context());
                    base_price(&app, &mug, min, row.cell("mug")).await;
                }
                list => {
                    world
                        .list_price(&world.lists[list], &mug, min, max, row.cell("mug"))
                        .await
                }
            }
        }
        world.shopper("Ada", &["Wholesale"], json!({})).await;
        for row in table("tiers-answers").rows() {
            let price = world
                .app
                .data(
                    RESOLVE,
                    json!({ "c": world.customer_id(row.cell("shopper")), "p": mug,
                        "q": row.cell("quantity").parse::<i32>().expect("a quantity"), "s": "PRIORITY" }),
                )
                .await["resolvedPrice"]
                .clone();
            let at = row.context();
            assert_eq!(price["amount"]["amount"], row.cell("pays"), "{at}");
            assert_eq!(price["source"], row.cell("source"), "{at}");
            assert_eq!(price["tierMinQuantity"].to_string(), row.cell("tier"), "{at}");
            assert_eq!(price["basePrice"]["amount"], row.cell("base price"), "{at}");
        }
    })
    .await;
}

/// docs/pricing.md#money: exact amounts with the currency's digits; more
/// digits, or a negative amount, refused.
#[tokio::test]
async fn money_example() {
    on_each_backend(|app| async move {
        let coin = product(&app, "COIN", json!({})).await;
        for row in table("money").rows() {
            let sent = row.cell("amount sent").trim_matches('"');
            let prices = json!([{ "productId": coin, "currency": row.cell("currency"), "amount": sent }]);
            let data = app
                .data(UPSERT_BASE_PRICES, json!({ "input": { "prices": prices } }))
                .await;
            let payload = &data["upsertBasePrices"];
            let shown = row.cell("amount shown");
            match shown.strip_prefix("refused: ") {
                Some(code) => {
                    assert_eq!(payload["userErrors"][0]["code"], code, "{}: {payload}", row.context());
                    assert_eq!(payload["basePrices"], Value::Null, "{}", row.context());
                }
                None => {
                    assert_eq!(payload["userErrors"], json!([]), "{}: {payload}", row.context());
                    let amount = &payload["basePrices"][0]["amount"];
                    assert_eq!(amount["amount"], shown.trim_matches('"'), "{}", row.context());
                    assert_eq!(amount["currencyCode"], row.cell("currency"), "{}", row.context());
                }
            }
        }
    })
    .await;
}

/// The `graphql` block that follows a marker.
fn operation_after(marker: &str) -> &'static str {
    let after = PAGE
        .split_once(&format!("<!-- checked: {marker} -->"))
        .expect("the marker")
        .1;
    let start = after.find("```graphql\n").expect("a graphql block") + "```graphql\n".len();
    let end = after[start..].find("```").expect("the block's end");
    &after[start..start + end]
}

/// docs/pricing.md#explanation: the step 5 example's explanation, asked
/// with the page's own `WhyThisPrice` query.
#[tokio::test]
async fn explanation_example() {
    on_each_backend(|app| async move {
        let mut world = World::new(&app).await;
        world.lists(&table("step-5-lists")).await;
        let ada = world.shopper("Ada", &["Trade"], json!({})).await;
        let query = operation_after("explanation");
        let data = app
            .data(query, json!({ "customer": ada, "product": world.products["chair"] }))
            .await;
        let explanation = data["resolvedPrice"]["explanation"]
            .as_array()
            .expect("explanation")
            .clone();
        let expected = table("explanation");
        assert_eq!(explanation.len(), expected.rows.len(), "{explanation:?}");
        for (entry, row) in explanation.iter().zip(expected.rows()) {
            let at = row.context();
            assert_eq!(entry["customerGroup"]["name"], row.cell("group"), "{at}");
            assert_eq!(entry["priceList"]["name"], row.cell("list"), "{at}");
            assert_eq!(entry["priority"].to_string(), row.cell("priority"), "{at}");
            assert_eq!(entry["outcome"], row.cell("outcome"), "{at}");
            assert_eq!(
                entry["amount"]["amount"],
                row.get("amount").map_or(Value::Null, |a| json!(a)),
                "{at}"
            );
        }
    })
    .await;
}
