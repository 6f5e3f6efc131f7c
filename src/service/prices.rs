//! Prices of price lists, and base prices of products, written in batches.

use entity::price;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

use super::page::{Page, PageRequest, fetch_page};
use crate::error::{ServiceResult, UserError, UserErrorCode};
use crate::money::CurrencyCode;

#[derive(Clone, Debug)]
pub struct PriceFilter {
    pub price_list_id: Uuid,
    pub product_id: Option<Uuid>,
    pub currency: Option<CurrencyCode>,
}

impl PriceFilter {
    pub fn parse(price_list_id: Uuid, product_id: Option<&str>, currency: Option<&str>) -> Result<Self, UserError> {
        let product_id = product_id
            .map(|raw| super::parse_id(&["productId"], "product", raw))
            .transpose()?;
        let currency = currency
            .map(|raw| {
                CurrencyCode::parse(raw)
                    .map_err(|e| UserError::new(&["currency"], UserErrorCode::InvalidCurrency, e.to_string()))
            })
            .transpose()?;
        Ok(Self {
            price_list_id,
            product_id,
            currency,
        })
    }

    fn select(&self) -> Select<price::Entity> {
        let mut select = price::Entity::find().filter(price::Column::PriceListId.eq(self.price_list_id));
        if let Some(product_id) = self.product_id {
            select = select.filter(price::Column::ProductId.eq(product_id));
        }
        if let Some(currency) = self.currency {
            select = select.filter(price::Column::Currency.eq(currency.code()));
        }
        select
    }
}

pub async fn page(
    db: &DatabaseConnection,
    filter: &PriceFilter,
    request: PageRequest,
) -> ServiceResult<Page<price::Model>> {
    Ok(fetch_page(db, filter.select(), price::Column::Id, request).await?)
}

pub async fn count(db: &DatabaseConnection, filter: &PriceFilter) -> ServiceResult<u64> {
    Ok(super::page::count(db, filter.select()).await?)
}
