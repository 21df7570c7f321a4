//! Reminders of a tender's bid deadline (投标截止提醒): 24 hours and 2 hours before it, to the
//! suppliers that obtained the documents and have no bid in yet.
//!
//! The jobs are scheduled when the tender is published and again whenever an amendment moves
//! the deadline. A job names the deadline it was made for (in its key and its arguments), so a
//! moved deadline gets its own reminders and the old deadline's jobs, when their time comes,
//! find the tender's deadline changed and do nothing: each deadline is reminded of once.

use crate::{
    entities::{bid, tender},
    error::{AppError, AppResult},
    ids::{OrgId, TenderId},
    jobs::{JobHandler, NewJob},
    notify::{Notice, NoticeKind},
    tenders::{model::TenderState, policy::state_of},
    uow::UnitOfWork,
};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The job of one reminder; its arguments are `{"tender_id", "hours", "deadline"}`.
pub const REMINDER_JOB: &str = "tender.deadline_reminder";

/// How many hours before the bid deadline the reminders go out.
pub const REMINDER_HOURS: [i64; 2] = [24, 2];

/// The reminder jobs of a tender whose bid deadline is `deadline`, as known at `now`: one per
/// entry of [`REMINDER_HOURS`] whose time is still ahead.
pub fn reminder_jobs(tender_id: TenderId, deadline: DateTime<Utc>, now: DateTime<Utc>) -> Vec<NewJob> {
    REMINDER_HOURS
        .iter()
        .filter_map(|h| {
            let due = deadline - TimeDelta::hours(*h);
            (due > now).then(|| {
                NewJob::new(
                    REMINDER_JOB,
                    format!("{REMINDER_JOB}:{tender_id}:{h}h:{}", deadline.timestamp()),
                    due,
                    json!({"tender_id": tender_id, "hours": h, "deadline": deadline}),
                )
            })
        })
        .collect()
}

/// Schedules the reminders of `t`'s deadline `deadline` in the change `uow`.
pub async fn schedule(uow: &mut UnitOfWork, tender_id: TenderId, deadline: DateTime<Utc>) -> AppResult<()> {
    for job in reminder_jobs(tender_id, deadline, uow.now()) {
        uow.schedule(job).await?;
    }
    Ok(())
}

/// The notice that the bid deadline of `t` is `hours` away.
pub(crate) fn deadline_notice(t: &tender::Model, hours: i64) -> Notice {
    Notice::new(NoticeKind::BidDeadlineNear)
        .arg("title", &t.title)
        .arg("code", &t.code)
        .arg("hours", hours.to_string())
        .arg_time("deadline", t.bid_deadline)
        .about_tender(t.id)
        .link(format!("/tenders/{}", t.public_id))
}

/// The organisations to remind: those that obtained the documents of the tender and have no
/// submitted bid on any of its lots.
pub async fn to_remind<C: sea_orm::ConnectionTrait>(db: &C, tender_id: TenderId) -> AppResult<Vec<OrgId>> {
    let bidders: BTreeSet<OrgId> = bid::Entity::find()
        .filter(bid::Column::TenderId.eq(tender_id))
        .filter(bid::Column::Status.eq(crate::bids::service::status::SUBMITTED))
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.org_id)
        .collect();
    let obtainers: BTreeSet<OrgId> = super::service::obtainers(db, tender_id).await?.into_iter().collect();
    Ok(obtainers.difference(&bidders).copied().collect())
}

/// Sends one reminder, if the tender is still open for bids with the deadline it was made for.
pub struct DeadlineReminder;

#[async_trait::async_trait]
impl JobHandler for DeadlineReminder {
    async fn run(&self, uow: &mut UnitOfWork, args: &Value) -> AppResult<()> {
        let id = args["tender_id"].as_i64().ok_or_else(|| AppError::internal("a reminder without tender_id"))?;
        let hours = args["hours"].as_i64().ok_or_else(|| AppError::internal("a reminder without hours"))?;
        let deadline: DateTime<Utc> = serde_json::from_value(args["deadline"].clone())
            .map_err(|e| AppError::internal(format!("a reminder's deadline: {e}")))?;
        let Some(t) = tender::Entity::find_by_id(TenderId(id)).one(uow.txn()).await? else { return Ok(()) };
        // Cancelled, or the deadline moved (its own reminders are scheduled), or already passed.
        if state_of(&t) != TenderState::Published || t.bid_deadline != deadline || uow.now() >= deadline {
            return Ok(());
        }
        let orgs = to_remind(uow.txn(), t.id).await?;
        uow.notify(&orgs, deadline_notice(&t, hours)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn reminders_are_only_made_for_times_still_ahead_and_name_their_deadline() {
        let deadline = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).single().expect("time");
        let early = deadline - TimeDelta::days(10);
        let jobs = reminder_jobs(TenderId(7), deadline, early);
        assert_eq!(
            jobs.iter().map(|j| j.due_at).collect::<Vec<_>>(),
            vec![deadline - TimeDelta::hours(24), deadline - TimeDelta::hours(2)]
        );
        assert!(jobs.iter().all(|j| j.key.ends_with(&deadline.timestamp().to_string())));
        // Ten hours before: only the 2-hour one; after it: none.
        let late = reminder_jobs(TenderId(7), deadline, deadline - TimeDelta::hours(10));
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].args["hours"], 2);
        assert!(reminder_jobs(TenderId(7), deadline, deadline - TimeDelta::hours(1)).is_empty());
        // A moved deadline makes other jobs, not the same ones moved.
        let moved = reminder_jobs(TenderId(7), deadline + TimeDelta::days(3), early);
        assert!(moved.iter().all(|m| jobs.iter().all(|j| j.key != m.key)));
    }
}
