//! The loaders of webhook endpoints' deliveries and their attempts.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::{LoadError, by_request, load_error};
use crate::page::{Page, PageRequest};

/// A webhook delivery's most recent attempts, oldest first.
pub struct AttemptsByDeliveryLoader(pub(super) DatabaseConnection);

impl Loader<Uuid> for AttemptsByDeliveryLoader {
    type Value = Vec<entity::webhook_attempt::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        crate::service::webhooks::attempts(&self.0, keys)
            .await
            .map_err(load_error)
    }
}

/// Pages of `WebhookEndpoint.deliveries`: one statement per page request.
pub struct DeliveryPagesLoader(pub(super) DatabaseConnection);

impl Loader<(Uuid, PageRequest)> for DeliveryPagesLoader {
    type Value = Page<entity::webhook_delivery::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(Uuid, PageRequest)],
    ) -> Result<HashMap<(Uuid, PageRequest), Self::Value>, Self::Error> {
        let mut pages = HashMap::new();
        for (request, endpoints) in by_request(keys) {
            let found = crate::service::webhooks::deliveries_by_endpoint(&self.0, &endpoints, request)
                .await
                .map_err(load_error)?;
            pages.extend(found.into_iter().map(|(endpoint, page)| ((endpoint, request), page)));
        }
        Ok(pages)
    }
}

/// `totalCount` of `WebhookEndpoint.deliveries`.
pub struct DeliveryCountsLoader(pub(super) DatabaseConnection);

impl Loader<Uuid> for DeliveryCountsLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, u64>, Self::Error> {
        crate::service::webhooks::count_deliveries(&self.0, keys)
            .await
            .map_err(load_error)
    }
}
