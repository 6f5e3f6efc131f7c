use async_graphql::Object;

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    async fn placeholder_customers(&self) -> bool {
        true
    }
}

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    async fn placeholder_customers(&self) -> bool {
        true
    }
}
