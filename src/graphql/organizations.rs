use async_graphql::Object;

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    async fn placeholder_organizations(&self) -> bool {
        true
    }
}

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    async fn placeholder_organizations(&self) -> bool {
        true
    }
}
