//! The codes of the e-mall's orders and quotations: a series' letters, the period (the day for
//! orders, the month for quotations, in China time), the procuring unit's own prefix and the
//! unit's own number in the period (`DD20261215-K7Q2M-0001`, `JJ202612-K7Q2M-0001`). A code
//! counts the unit's orders or quotations only, so a supplier that deals with several units
//! learns from it nothing of how many any other unit, or the platform, made.
//!
//! Codes of the earlier form (`DD2026121500001`, `JJ20261200001`: a number of the whole
//! platform) stay as they were; they have no prefix, so they are never counted as a unit's.

use crate::{
    entities::{mall_order, mall_order_prefix, mall_quotation},
    error::{AppError, AppResult},
    ids::OrgId,
};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

/// The characters of a unit's prefix: digits and capitals without the look-alikes
/// (0, 1, I, L, O, U).
const PREFIX_CHARS: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a unit's prefix: 30^5, some 24 million prefixes.
const PREFIX_LEN: usize = 5;

/// What a code numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Series {
    /// Orders (`DD`), numbered per day.
    Order,
    /// Competitive quotations (`JJ`), numbered per month.
    Quotation,
}

impl Series {
    /// The code's stem before the prefix: letters and period.
    fn period(self, now: DateTime<Utc>) -> String {
        let local = now.with_timezone(&crate::web::cst());
        match self {
            Series::Order => format!("DD{}", local.format("%Y%m%d")),
            Series::Quotation => format!("JJ{}", local.format("%Y%m")),
        }
    }

    /// How many of the unit's codes start with `stem`.
    async fn count<C: ConnectionTrait>(self, db: &C, unit: OrgId, stem: &str) -> AppResult<u64> {
        Ok(match self {
            Series::Order => {
                mall_order::Entity::find()
                    .filter(mall_order::Column::ProcuringOrgId.eq(unit))
                    .filter(mall_order::Column::Code.starts_with(stem))
                    .count(db)
                    .await?
            }
            Series::Quotation => {
                mall_quotation::Entity::find()
                    .filter(mall_quotation::Column::ProcuringOrgId.eq(unit))
                    .filter(mall_quotation::Column::Code.starts_with(stem))
                    .count(db)
                    .await?
            }
        })
    }
}

/// The procuring unit's prefix, given to it (at random, unique) with its first order or
/// quotation, and the same in both series.
///
/// Called in the change's unit of work, which holds the write lock, so two first codes of one
/// unit, or two units drawing the same prefix, are one after the other.
async fn unit_prefix<C: ConnectionTrait>(db: &C, unit: OrgId) -> AppResult<String> {
    if let Some(p) = mall_order_prefix::Entity::find().filter(mall_order_prefix::Column::OrgId.eq(unit)).one(db).await?
    {
        return Ok(p.prefix);
    }
    let rng = ring::rand::SystemRandom::new();
    // The largest multiple of the alphabet's size below 256: bytes from it on are skipped, so
    // that every character is as likely.
    let below = 256 - 256 % PREFIX_CHARS.len();
    for _ in 0..16 {
        let mut bytes = [0u8; 32];
        ring::rand::SecureRandom::fill(&rng, &mut bytes)
            .map_err(|_| AppError::internal("operating system random number generator unavailable"))?;
        let prefix: String = bytes
            .iter()
            .map(|b| usize::from(*b))
            .filter(|b| *b < below)
            .take(PREFIX_LEN)
            .map(|b| PREFIX_CHARS[b % PREFIX_CHARS.len()] as char)
            .collect();
        if prefix.len() < PREFIX_LEN {
            continue;
        }
        let taken = mall_order_prefix::Entity::find()
            .filter(mall_order_prefix::Column::Prefix.eq(prefix.as_str()))
            .count(db)
            .await?
            > 0;
        if !taken {
            mall_order_prefix::ActiveModel { org_id: Set(unit), prefix: Set(prefix.clone()), ..Default::default() }
                .insert(db)
                .await?;
            return Ok(prefix);
        }
    }
    Err(AppError::internal("no free unit prefix found"))
}

/// The procuring unit's next code in `series` for the period of `now`: the series' letters and
/// period, the unit's prefix and the unit's own number in the period, four digits or more.
///
/// Called in the change's unit of work (the write lock is held), so two codes given at once
/// get consecutive numbers; `code` is unique in both tables besides.
pub(super) async fn next_code<C: ConnectionTrait>(
    db: &C,
    series: Series,
    now: DateTime<Utc>,
    unit: OrgId,
) -> AppResult<String> {
    let stem = format!("{}-{}-", series.period(now), unit_prefix(db, unit).await?);
    // Every code with this stem is the unit's (the prefix is its own) and none is removed, so
    // their number is the highest given.
    let n = series.count(db, unit, &stem).await? + 1;
    Ok(format!("{stem}{n:04}"))
}
