//! An `Idempotency-Key` a client sent with a mutation, and the answer it got
//! (docs/api.md#idempotency). Keyed by the credential's scope and the key.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_key")]
pub struct Model {
    /// The SHA-256 (hex) of the credential that sent the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    /// The client's key, as sent.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The SHA-256 (hex) of the request body the key was first sent with.
    pub request_hash: String,
    /// The HTTP status of the answer; `None` while the request runs.
    pub status: Option<i32>,
    /// The answer's body; `None` while the request runs.
    #[sea_orm(column_type = "Text", nullable)]
    pub response: Option<String>,
    /// When the request started (or was taken over after it was abandoned).
    pub created_at: DateTimeUtc,
    /// After this the key is forgotten (and the row pruned).
    pub expires_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
