use async_graphql::Object;

#[derive(Default)]
pub struct ProductQuery;

#[Object]
impl ProductQuery {
    async fn placeholder_products(&self) -> bool {
        true
    }
}

#[derive(Default)]
pub struct ProductMutation;

#[Object]
impl ProductMutation {
    async fn placeholder_products(&self) -> bool {
        true
    }
}
