//! Amounts survive the trip into the database and back exactly, in currencies
//! with 0, 2 and 3 minor-unit digits, on every backend.

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::fixtures::{UPSERT_BASE_PRICES, product};
use crate::helpers::on_each_backend;

/// The decimal string of `minor` units with `exponent` digits after the point,
/// written independently of the code under test.
fn decimal(minor: u64, exponent: u32) -> String {
    if exponent == 0 {
        return minor.to_string();
    }
    let digits = format!("{minor:0>width$}", width = exponent as usize + 1);
    let (whole, fraction) = digits.split_at(digits.len() - exponent as usize);
    format!("{whole}.{fraction}")
}

#[tokio::test]
async fn random_amounts_up_to_10_to_the_15_round_trip_exactly() {
    let seed: u64 = rand::random();
    on_each_backend(|app| async move {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for (currency, exponent) in [("JPY", 0), ("USD", 2), ("KWD", 3)] {
            let product_id = product(&app, &format!("P-{currency}"), json!({})).await;
            let mut amounts: Vec<u64> = vec![0, 1, 9, 10, 99, 100, 1_000_000_000_000_000];
            amounts.extend((0..300).map(|_| {
                // Spread over every magnitude, not just the large ones.
                let digits = rng.random_range(1..=15);
                rng.random_range(0..10_u64.pow(digits))
            }));
            let prices: Vec<Value> = amounts
                .iter()
                .enumerate()
                .map(|(n, minor)| json!({ "productId": product_id, "currency": currency, "minQuantity": n + 1, "amount": decimal(*minor, exponent) }))
                .collect();
            let written = app.mutate("upsertBasePrices", UPSERT_BASE_PRICES, json!({ "input": { "prices": prices } })).await;
            let read = app
                .data("query($id: ID!) { product(id: $id) { basePrices { amount { amount currencyCode } minQuantity } } }", json!({ "id": product_id }))
                .await;
            let stored = read["product"]["basePrices"].as_array().expect("base prices");
            assert_eq!(stored.len(), amounts.len());
            for (n, minor) in amounts.iter().enumerate() {
                let expected = json!({ "amount": decimal(*minor, exponent), "currencyCode": currency });
                assert_eq!(stored[n]["minQuantity"], n + 1);
                assert_eq!(stored[n]["amount"], expected, "seed {seed}, {:?}", app.backend);
                assert_eq!(written["basePrices"][n]["amount"], expected, "seed {seed}, {:?}", app.backend);
            }
        }
    })
    .await;
}
