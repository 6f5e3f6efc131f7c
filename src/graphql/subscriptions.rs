//! `Subscription.priceChanges` (docs/api.md#subscriptions): the arguments
//! checked like `resolvePrices`', then the feed of that question. The
//! transports (graphql-ws, SSE) and their bounds live in `http::graphql`.

use async_graphql::{Context, ErrorExtensions, ID, Result, Subscription};
use futures_util::Stream;
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;

use super::access;
use super::errors::query_error;
use super::types::pricing::ResolvedPrice;
use crate::error::Problems;
use crate::pricing::Resolved;
use crate::service::subscriptions::{Answer, PriceFeeds, Watch};

#[derive(Default)]
pub struct SubscriptionRoot;

/// Everything you can be told as it happens, over graphql-ws (WebSocket) or
/// Server-Sent Events on `/graphql` (docs/api.md#subscriptions).
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// What the shopper pays for each of `productIds`: first the answer now
    /// for every product, then a new answer each time one changes — after a
    /// write on any instance, or when a price list's `startsAt` or `endsAt`
    /// passes (within a second). A write that changes no answer sends
    /// nothing. Open to every credential; a customer token may name only its
    /// own customer (or none): another is a `FORBIDDEN` error. Bad arguments
    /// are `BAD_USER_INPUT` (or `NOT_FOUND` for an unknown product) errors
    /// whose `extensions.field` names them, such as `productIds.2`. A
    /// subscriber that does not read its messages gets a `SLOW_CONSUMER`
    /// error and the subscription ends.
    async fn price_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer who buys; omitted: an anonymous shopper, whose only group is `Everyone`.")]
        customer_id: Option<ID>,
        #[graphql(desc = "The products to watch: 1 to 100.")] product_ids: Vec<ID>,
        #[graphql(desc = "An ISO 4217 code such as \"USD\", in any case.")] currency: String,
        #[graphql(default = 1, desc = "How many units are bought, 1 or more; the answer is per unit.")] quantity: i64,
    ) -> Result<impl Stream<Item = Result<ResolvedPrice>> + use<>> {
        let customer_id = customer_id.as_deref().map(String::as_str);
        access::check_customer(ctx, customer_id)?;
        let raw: Vec<String> = product_ids.into_iter().map(|id| id.0).collect();
        let explain = ctx.look_ahead().field("explanation").exists();
        let mut problems = Problems::default();
        let watch = Watch::parse(customer_id, &raw, &currency, quantity, explain, &mut problems);
        let Some(watch) = watch else {
            return Err(query_error(problems.refused()));
        };
        problems.into_result().map_err(query_error)?;
        let feeds = ctx.data_unchecked::<PriceFeeds>();
        // Subscribed before the first answers are read: a change in between
        // is sent, or already in them (and then dropped as seen).
        let receiver = feeds.subscribe(&watch);
        let first = feeds.current(&watch, &raw).await.map_err(query_error)?;
        let state = Subscriber {
            receiver,
            first: first.into_iter().collect(),
            seen: Default::default(),
            done: false,
        };
        Ok(stream::unfold(state, Subscriber::next))
    }
}

/// One subscriber's side of a feed.
struct Subscriber {
    receiver: tokio::sync::broadcast::Receiver<Answer>,
    /// The answers at subscription, not yet sent.
    first: std::collections::VecDeque<crate::service::resolution::PricedItem>,
    /// What this subscriber last got, per product.
    seen: std::collections::HashMap<uuid::Uuid, Resolved>,
    done: bool,
}

impl Subscriber {
    async fn next(mut self) -> Option<(Result<ResolvedPrice>, Self)> {
        if self.done {
            return None;
        }
        if let Some(item) = self.first.pop_front() {
            self.seen.insert(item.product_id, item.resolved.clone());
            return Some((Ok(one(item)), self));
        }
        loop {
            match self.receiver.recv().await {
                Ok(answer) => {
                    if self.seen.get(&answer.product_id) == Some(&answer.resolved) {
                        continue;
                    }
                    self.seen.insert(answer.product_id, answer.resolved.clone());
                    return Some((Ok(one(crate::service::resolution::PricedItem::clone(&answer))), self));
                }
                Err(RecvError::Lagged(missed)) => {
                    self.done = true;
                    let error = async_graphql::Error::new(format!(
                        "this subscriber fell {missed} answers behind (it does not read its messages); the subscription ends"
                    ))
                    .extend_with(|_, e| e.set("code", "SLOW_CONSUMER"));
                    return Some((Err(error), self));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

fn one(item: crate::service::resolution::PricedItem) -> ResolvedPrice {
    ResolvedPrice::watched(item)
}

#[cfg(test)]
mod tests {
    use tokio::sync::broadcast;

    use super::*;
    use crate::domain::Quantity;
    use crate::money::CurrencyCode;
    use crate::pricing::Source;
    use crate::service::resolution::PricedItem;

    fn answer(product_id: uuid::Uuid, amount: i64) -> Answer {
        std::sync::Arc::new(PricedItem {
            product_id,
            product: None,
            quantity: Quantity::parse("quantity", 1).expect("a quantity"),
            currency: CurrencyCode::parse("USD").expect("a currency"),
            resolved: Resolved {
                amount: Some(amount),
                base_price: Some(amount),
                source: Source::Base,
                price_list_id: None,
                customer_group_id: None,
                priority: None,
                tier_min_quantity: Some(1),
                rule: None,
                explanation: Vec::new(),
            },
        })
    }

    fn subscriber(receiver: broadcast::Receiver<Answer>) -> Subscriber {
        Subscriber {
            receiver,
            first: Default::default(),
            seen: Default::default(),
            done: false,
        }
    }

    /// A subscriber that does not keep up is told so and ends: its
    /// backlog never grows past the feed's.
    #[tokio::test]
    async fn a_subscriber_that_falls_behind_gets_slow_consumer_and_ends() {
        let (sender, receiver) = broadcast::channel(2);
        let product = uuid::Uuid::now_v7();
        for amount in 1..=5 {
            sender.send(answer(product, amount)).expect("a receiver");
        }
        let (first, next) = subscriber(receiver).next().await.expect("an error");
        let error = first.err().expect("an error");
        let code = error.extensions.as_ref().and_then(|e| e.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from("SLOW_CONSUMER")));
        assert!(next.next().await.is_none(), "the subscription ends");
    }

    /// An answer equal to the one a subscriber last got is not sent again.
    #[tokio::test]
    async fn an_answer_is_never_sent_twice_in_a_row() {
        let (sender, receiver) = broadcast::channel(8);
        let product = uuid::Uuid::now_v7();
        for amount in [100, 100, 80, 80, 100] {
            sender.send(answer(product, amount)).expect("a receiver");
        }
        drop(sender);
        let mut subscriber = subscriber(receiver);
        let mut amounts = Vec::new();
        while let Some((item, next)) = subscriber.next().await {
            amounts.push(item.map(|price| price.0.resolved.amount).ok().flatten());
            subscriber = next;
        }
        assert_eq!(amounts, vec![Some(100), Some(80), Some(100)]);
    }
}
