//! `/admin/pricing/customer-groups` (docs/api.md#rest), each a call of
//! [`crate::service::groups`], as the GraphQL mutations make them.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, SecondsFormat, Utc};
use entity::customer_group;
use entity::values::GroupKind;
use sea_orm::{DatabaseConnection, JsonValue};
use serde::Serialize;
use uuid::Uuid;

use super::error::{ApiError, PathFields};
use super::input::{Fields, JsonBody, PathParams, QueryParams};
use crate::http::AppState;
use crate::page::{Direction, MAX_PAGE_SIZE, PageRequest, encode_cursor};
use crate::service::groups;

pub const COLLECTION: &str = "/admin/pricing/customer-groups";

/// A page when the caller does not say `first`.
const DEFAULT_PAGE_SIZE: u64 = 50;

/// The group endpoints name the group `id` in the path; the service calls it
/// `id` (group calls) or `groupId` (link calls).
const GROUP_PATH: PathFields = &[("id", "id"), ("groupId", "id")];
const LINK_PATH: PathFields = &[("id", "id"), ("groupId", "id"), ("priceListId", "priceListId")];

/// A customer group as REST shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    id: Uuid,
    name: String,
    description: Option<String>,
    kind: &'static str,
    is_active: bool,
    commission_exempt: bool,
    free_freight: bool,
    metadata: JsonValue,
    version: i32,
    /// In the order resolution walks them.
    price_lists: Vec<PriceListLink>,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PriceListLink {
    price_list_id: Uuid,
    priority: i32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPage {
    customer_groups: Vec<Group>,
    total_count: u64,
    page_info: PageInfo,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

impl Group {
    fn new(group: customer_group::Model, links: Vec<groups::PriceListLink>) -> Self {
        Self {
            id: group.id,
            name: group.name,
            description: group.description,
            kind: match group.kind {
                GroupKind::Type => "TYPE",
                GroupKind::Pricing => "PRICING",
            },
            is_active: group.is_active,
            commission_exempt: group.commission_exempt,
            free_freight: group.free_freight,
            metadata: group.metadata,
            version: group.version,
            price_lists: links
                .into_iter()
                .map(|l| PriceListLink {
                    price_list_id: l.link.price_list_id,
                    priority: l.link.priority,
                })
                .collect(),
            created_at: timestamp(group.created_at),
            updated_at: timestamp(group.updated_at),
        }
    }
}

/// RFC 3339 in UTC, to the microsecond: what both databases keep, so a
/// group reads the same right after a write as on a later `GET`.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// One group with its links.
async fn with_links(db: &DatabaseConnection, group: customer_group::Model) -> Result<Group, ApiError> {
    let mut links = groups::price_list_links(db, &[group.id])
        .await
        .map_err(ApiError::database)?;
    let links = links.remove(&group.id).unwrap_or_default();
    Ok(Group::new(group, links))
}

async fn find_group(db: &DatabaseConnection, raw_id: &str) -> Result<customer_group::Model, ApiError> {
    groups::get(db, raw_id).await.map_err(ApiError::service(GROUP_PATH))
}

/// Cursors are GraphQL's ([`crate::page::encode_cursor`]), so a cursor
/// from either API pages the other.
fn decode_cursor(cursor: &str) -> Result<Uuid, ApiError> {
    crate::page::decode_cursor(cursor).ok_or_else(|| {
        ApiError::bad_request(
            Some("after".to_owned()),
            format!("`after`: '{cursor}' is not a cursor of this list"),
        )
    })
}

/// `?first=N&after=CURSOR`: `first` from 1 to 100 (docs/api.md#rest), 50 when left out.
fn page_request(query: Option<&str>) -> Result<PageRequest, ApiError> {
    let params = QueryParams::parse(query, &["first", "after"])?;
    let expected = format!("an integer from 1 to {MAX_PAGE_SIZE}");
    let size = params.integer::<u64>("first", &expected)?.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(ApiError::bad_request(
            Some("first".to_owned()),
            format!("`first` must be {expected}, got {size}"),
        ));
    }
    Ok(PageRequest {
        size,
        direction: Direction::Forward,
        after: params.get("after").map(decode_cursor).transpose()?,
        before: None,
    })
}

/// `GET /admin/pricing/customer-groups`: groups in creation order. Three
/// statements whatever the page size: the page, the count, the links.
pub async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<GroupPage>, ApiError> {
    let request = page_request(query.as_deref())?;
    let db = state.store.conn();
    let filter = groups::GroupFilter::default();
    let page = groups::page(db, &filter, request)
        .await
        .map_err(ApiError::service(&[]))?;
    let total_count = groups::count(db, &filter).await.map_err(ApiError::service(&[]))?;
    let ids: Vec<Uuid> = page.items.iter().map(|g| g.id).collect();
    let mut links = groups::price_list_links(db, &ids).await.map_err(ApiError::database)?;
    let end_cursor = ids.last().copied().map(encode_cursor);
    let customer_groups = page
        .items
        .into_iter()
        .map(|group| {
            let links = links.remove(&group.id).unwrap_or_default();
            Group::new(group, links)
        })
        .collect();
    Ok(Json(GroupPage {
        customer_groups,
        total_count,
        page_info: PageInfo {
            has_next_page: page.has_next_page,
            end_cursor,
        },
    }))
}

/// `POST /admin/pricing/customer-groups`: the fields of GraphQL's
/// `createCustomerGroup`, with `priceLists` linked in the same transaction.
pub async fn create(State(state): State<AppState>, body: JsonBody) -> Result<impl IntoResponse, ApiError> {
    let input = new_group(body)?;
    let group = groups::create(&state.store, input)
        .await
        .map_err(ApiError::service(&[]))?;
    let location = format!("{COLLECTION}/{}", group.id);
    let group = with_links(state.store.conn(), group).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(group)))
}

fn new_group(body: JsonBody) -> Result<groups::NewGroup, ApiError> {
    let mut fields = Fields::body(
        body,
        &[
            "name",
            "description",
            "kind",
            "isActive",
            "commissionExempt",
            "freeFreight",
            "metadata",
            "priceLists",
        ],
    )?;
    let name = fields.required("name")?;
    let description = fields.optional("description")?;
    let kind = fields.optional::<String>("kind")?.map(|k| kind(&k)).transpose()?;
    let is_active = fields.optional("isActive")?;
    let commission_exempt = fields.optional("commissionExempt")?;
    let free_freight = fields.optional("freeFreight")?;
    let metadata = fields.optional("metadata")?;
    let price_lists = fields
        .objects("priceLists", &["priceListId", "priority"])?
        .into_iter()
        .map(new_link)
        .collect::<Result<_, _>>()?;
    Ok(groups::NewGroup {
        name,
        description,
        kind,
        is_active,
        commission_exempt,
        free_freight,
        metadata,
        price_lists,
    })
}

/// `{"priceListId", "priority"}`; the service checks the list and the range.
fn new_link(mut fields: Fields) -> Result<groups::NewLink, ApiError> {
    Ok(groups::NewLink {
        price_list_id: fields.required("priceListId")?,
        priority: fields.required("priority")?,
    })
}

/// GraphQL's `GroupKind` values.
fn kind(raw: &str) -> Result<GroupKind, ApiError> {
    match raw {
        "PRICING" => Ok(GroupKind::Pricing),
        "TYPE" => Ok(GroupKind::Type),
        other => Err(ApiError::bad_request(
            Some("kind".to_owned()),
            format!("`kind` must be PRICING or TYPE, got '{other}'"),
        )),
    }
}

/// `GET /admin/pricing/customer-groups/:id`.
pub async fn show(State(state): State<AppState>, PathParams(id): PathParams<String>) -> Result<Json<Group>, ApiError> {
    let group = find_group(state.store.conn(), &id).await?;
    Ok(Json(with_links(state.store.conn(), group).await?))
}

/// `PATCH /admin/pricing/customer-groups/:id`: only the fields given change;
/// `"description": null` clears the description. `version`, when given, must
/// be the stored one.
pub async fn update(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    body: JsonBody,
) -> Result<Json<Group>, ApiError> {
    let mut fields = Fields::body(
        body,
        &[
            "version",
            "name",
            "description",
            "isActive",
            "commissionExempt",
            "freeFreight",
            "metadata",
        ],
    )?;
    let changes = groups::GroupChanges {
        id,
        version: fields.change("version")?,
        name: fields.change("name")?,
        description: fields.patch("description")?,
        is_active: fields.change("isActive")?,
        commission_exempt: fields.change("commissionExempt")?,
        free_freight: fields.change("freeFreight")?,
        metadata: fields.change("metadata")?,
    };
    let group = groups::update(&state.store, changes)
        .await
        .map_err(ApiError::service(GROUP_PATH))?;
    Ok(Json(with_links(state.store.conn(), group).await?))
}

/// `DELETE /admin/pricing/customer-groups/:id[?version=N]`.
pub async fn delete(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["version"])?;
    let version = params.integer("version", "an integer")?;
    groups::delete(&state.store, &id, version)
        .await
        .map_err(ApiError::service(GROUP_PATH))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /admin/pricing/customer-groups/:id/price-lists`: links a price list
/// at a priority (201), or changes the priority of a pair already linked
/// (200): there is one link per pair. Either way the answer is the group.
pub async fn add_price_list(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    body: JsonBody,
) -> Result<impl IntoResponse, ApiError> {
    let mut fields = Fields::body(body, &["priceListId", "priority"])?;
    let price_list_id: String = fields.required("priceListId")?;
    let priority: i64 = fields.required("priority")?;
    let linked = groups::add_price_list(&state.store, &id, &price_list_id, priority)
        .await
        .map_err(ApiError::service(GROUP_PATH))?;
    let status = if linked.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let group = find_group(state.store.conn(), &linked.link.link.group_id.to_string()).await?;
    Ok((status, Json(with_links(state.store.conn(), group).await?)))
}

/// `DELETE /admin/pricing/customer-groups/:id/price-lists/:priceListId`.
/// The service treats unlinking an unlinked pair as a no-op; here a link
/// that does not exist is a path that names nothing, so 404.
pub async fn remove_price_list(
    State(state): State<AppState>,
    PathParams((id, price_list_id)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let unlinked = groups::remove_price_list(&state.store, &id, &price_list_id)
        .await
        .map_err(ApiError::service(LINK_PATH))?;
    if !unlinked.removed {
        return Err(ApiError::not_found(
            "priceListId",
            format!(
                "price list '{price_list_id}' is not linked to customer group '{}'",
                unlinked.group.name
            ),
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}
