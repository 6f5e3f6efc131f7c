use async_graphql::Object;

#[derive(Default)]
pub struct PriceListQuery;

#[Object]
impl PriceListQuery {
    async fn placeholder_price_lists(&self) -> bool {
        true
    }
}

#[derive(Default)]
pub struct PriceListMutation;

#[Object]
impl PriceListMutation {
    async fn placeholder_price_lists(&self) -> bool {
        true
    }
}
