//! Webhooks (docs/api.md#webhooks): the endpoints admins register, the
//! outbox of events (written in the same transaction as the change they
//! describe), one delivery per event and subscribed endpoint, every
//! attempt of it, and the window edges (a price list starting or ending)
//! already announced.
//!
//! A delivery is claimed by one instance for a lease (`claimed_until`,
//! `claim`): an instance that dies mid-delivery leaves a claim that
//! expires, and the delivery is claimed again. `price_list_edge`'s primary
//! key is what makes one instance, and only one, announce each edge.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    integer, integer_null, pk_uuid, text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
    uuid_null,
};

use crate::columns::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ENDPOINT: &str = "webhook_endpoint";
const EVENT: &str = "webhook_event";
const DELIVERY: &str = "webhook_delivery";
const ATTEMPT: &str = "webhook_attempt";
const EDGE: &str = "price_list_edge";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ENDPOINT)
                    .col(pk_uuid("id"))
                    .col(text("url"))
                    // The subscribed event types, as `,A,B,`.
                    .col(text("events"))
                    .col(text("secret"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EVENT)
                    .col(pk_uuid("id"))
                    .col(text("event_type"))
                    // The payload's `data`, as JSON text.
                    .col(text("data"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(EVENT, &["created_at"])).await?;
        manager
            .create_table(
                Table::create()
                    .table(DELIVERY)
                    .col(pk_uuid("id"))
                    .col(uuid("event_id"))
                    .col(uuid("endpoint_id"))
                    .col(text("event_type"))
                    .col(text("status"))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    // Retries go on until `retry_from` + the retry window.
                    .col(timestamp_with_time_zone("retry_from"))
                    .col(timestamp_with_time_zone_null("claimed_until"))
                    .col(uuid_null("claim"))
                    .col(integer_null("last_response_status"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .foreign_key(&mut fk(DELIVERY, "event_id", EVENT, ForeignKeyAction::Cascade))
                    .foreign_key(&mut fk(DELIVERY, "endpoint_id", ENDPOINT, ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        // The worker's claim: due deliveries by time.
        manager
            .create_index(index(DELIVERY, &["status", "next_attempt_at"]))
            .await?;
        manager.create_index(index(DELIVERY, &["endpoint_id", "id"])).await?;
        manager.create_index(index(DELIVERY, &["event_id"])).await?;
        manager
            .create_table(
                Table::create()
                    .table(ATTEMPT)
                    .col(pk_uuid("id"))
                    .col(uuid("delivery_id"))
                    .col(timestamp_with_time_zone("attempted_at"))
                    .col(integer_null("response_status"))
                    .col(text_null("error"))
                    .col(integer("duration_ms"))
                    .foreign_key(&mut fk(ATTEMPT, "delivery_id", DELIVERY, ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(ATTEMPT, &["delivery_id", "id"])).await?;
        manager
            .create_table(
                Table::create()
                    .table(EDGE)
                    .col(uuid("price_list_id"))
                    // `STARTED` or `ENDED`.
                    .col(text("edge"))
                    .col(timestamp_with_time_zone("at"))
                    .col(timestamp_with_time_zone("emitted_at"))
                    .primary_key(Index::create().col("price_list_id").col("edge").col("at"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(EDGE, &["emitted_at"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [EDGE, ATTEMPT, DELIVERY, EVENT, ENDPOINT] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
