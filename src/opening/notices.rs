//! What the opening tells the bidders outside the hall: the hall is open (sign in), the
//! decryption window opened, it closes in [`CLOSING_WARNING_MINUTES`] minutes (to the bidders
//! whose bids are still sealed; urgent, so sent by SMS in quiet hours too), a bid was not
//! decrypted, an objection was answered (to the bidder's user who raised it).

use super::model::{BidOutcome, Phase};
use crate::{
    entities::{opening, opening_bid, tender},
    error::{AppError, AppResult},
    ids::{OpeningId, OrgId},
    jobs::{JobHandler, NewJob},
    notify::{Notice, NoticeKind},
    uow::UnitOfWork,
};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The job that warns the bidders whose bids are still sealed that the decryption window
/// closes soon; its arguments are `{"opening_id", "ends"}`.
pub const CLOSING_JOB: &str = "opening.decrypt_closing";

/// How long before the decryption window closes the warning goes out.
pub const CLOSING_WARNING_MINUTES: i64 = 5;

fn about(kind: NoticeKind, t: &tender::Model) -> Notice {
    Notice::new(kind)
        .arg("title", &t.title)
        .arg("code", &t.code)
        .about_tender(t.id)
        .link(format!("/tenders/{}/opening", t.public_id))
}

/// The hall of `t` is open: sign in.
pub(crate) fn started_notice(t: &tender::Model) -> Notice {
    about(NoticeKind::OpeningStarted, t)
}

/// The decryption window of `t` opened, or closes soon (`kind`), at `ends`.
pub(crate) fn window_notice(kind: NoticeKind, t: &tender::Model, ends: DateTime<Utc>) -> Notice {
    about(kind, t).arg_time("until", ends)
}

/// A bid on `lot` of `t` was not decrypted in the window.
pub(crate) fn failed_notice(t: &tender::Model, lot: &str) -> Notice {
    about(NoticeKind::DecryptionFailed, t).arg("lot", lot)
}

/// An objection at the opening of `t` was answered.
pub(crate) fn answered_notice(t: &tender::Model) -> Notice {
    about(NoticeKind::ObjectionAnswered, t)
}

/// The organisations with a bid in the hall, or only those with a bid in `outcome`.
pub(crate) async fn bidders<C: ConnectionTrait>(
    db: &C,
    opening_id: OpeningId,
    outcome: Option<BidOutcome>,
) -> AppResult<Vec<OrgId>> {
    let mut q = opening_bid::Entity::find().filter(opening_bid::Column::OpeningId.eq(opening_id));
    if let Some(o) = outcome {
        q = q.filter(opening_bid::Column::Outcome.eq(o));
    }
    let orgs: BTreeSet<OrgId> = q.all(db).await?.into_iter().map(|b| b.org_id).collect();
    Ok(orgs.into_iter().collect())
}

/// The warning job of a decryption window ending at `ends`, if its time is still ahead of `now`.
pub(crate) fn closing_job(o: &opening::Model, ends: DateTime<Utc>, now: DateTime<Utc>) -> Option<NewJob> {
    let due = ends - TimeDelta::minutes(CLOSING_WARNING_MINUTES);
    (due > now).then(|| {
        NewJob::new(
            CLOSING_JOB,
            format!("{CLOSING_JOB}:{}:{}", o.id, ends.timestamp()),
            due,
            json!({"opening_id": o.id, "ends": ends}),
        )
    })
}

/// Warns the bidders whose bids are still sealed, if the window the job was made for is still
/// open.
pub struct DecryptionClosing;

#[async_trait::async_trait]
impl JobHandler for DecryptionClosing {
    async fn run(&self, uow: &mut UnitOfWork, args: &Value) -> AppResult<()> {
        let id = args["opening_id"].as_i64().ok_or_else(|| AppError::internal("a warning without opening_id"))?;
        let ends: DateTime<Utc> = serde_json::from_value(args["ends"].clone())
            .map_err(|e| AppError::internal(format!("a warning's window end: {e}")))?;
        let Some(o) = opening::Entity::find_by_id(OpeningId(id)).one(uow.txn()).await? else { return Ok(()) };
        if o.phase != Phase::Decryption || o.window_ends_at != Some(ends) || uow.now() >= ends {
            return Ok(());
        }
        let t = tender::Entity::find_by_id(o.tender_id).one(uow.txn()).await?.ok_or_else(AppError::not_found)?;
        let sealed = bidders(uow.txn(), o.id, Some(BidOutcome::Pending)).await?;
        uow.notify(&sealed, window_notice(NoticeKind::DecryptionClosing, &t, ends)).await
    }
}
