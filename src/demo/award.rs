//! The demo's award show: once the evaluation show's report is signed, the agency publishes the
//! candidates, the second candidate challenges the result and the agency answers; after the
//! (short) publicity, the procuring unit awards the first candidate unless the newcomer, logged
//! in as `buyer`, has done so first. The contract is left to the newcomer.
//!
//! Every step goes through the award's services and looks at where the tender stands first, so
//! a show stopped halfway is played on by the next launch.

use super::actor;
use crate::{
    accounts::model::Actor,
    app::AppState,
    award::{
        model::{AwardState, ChallengeState},
        service::{self as awards, AnswerInput, AwardInput, ChallengeInput},
    },
    error::AppResult,
    tenders::{model::TenderState, service as tenders},
};
use std::time::Duration;
use uuid::Uuid;

/// The login the show leaves the award to first.
pub const NEWCOMER: &str = "buyer";

/// How many of the show's pauses the newcomer has to award after the publicity.
pub const NEWCOMER_WAIT: u32 = 120;

/// One show: a tender and the pace of its steps.
#[derive(Debug, Clone, Copy)]
pub struct Show {
    /// The tender (public id).
    pub tender: Uuid,
    /// The unit of the show's pauses.
    pub pace: Duration,
}

/// The demo's opening-show tenders still in evaluation: each gets its award show.
pub async fn unfinished(state: &AppState) -> AppResult<Vec<Uuid>> {
    let centre = actor(state, "centre").await?;
    let mut out = Vec::new();
    for t in crate::draw::service::awaiting(&state.draws, &centre).await? {
        if !t.title.starts_with(super::evaluation::TITLE_PREFIX) {
            continue;
        }
        if tenders::detail(&state.tenders, Some(&centre), t.tender).await?.summary.state == TenderState::Evaluating {
            out.push(t.tender);
        }
    }
    Ok(out)
}

/// Plays the show in the background.
pub fn spawn(state: AppState, show: Show) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = run(&state, show).await {
            tracing::warn!(error = %e.message, code = e.code, "the demo award stopped");
        }
    })
}

/// The whole show, from the signed report to the award.
pub async fn run(state: &AppState, show: Show) -> AppResult<()> {
    let agency = actor(state, "agency").await?;
    let buyer = actor(state, NEWCOMER).await?;
    let pause = |n: u32| tokio::time::sleep(show.pace * n);
    // Wait for the signed report.
    loop {
        let d = tenders::detail(&state.tenders, Some(&agency), show.tender).await?;
        if d.summary.state != TenderState::Evaluating {
            return Ok(());
        }
        if state.evaluations.signed_candidates(&state.db, show.tender).await.ok().flatten().is_some() {
            break;
        }
        pause(2).await;
    }
    let mut newcomer_wait = 0;
    loop {
        let v = awards::view(&state.awards, Some(&agency), show.tender).await?;
        if v.can_publish {
            pause(5).await;
            awards::publish(&state.awards, &agency, show.tender).await?;
            continue;
        }
        let Some(lot) = v.lots.first() else { return Ok(()) };
        match lot.state {
            AwardState::Publicity => {}
            _ => return Ok(()),
        }
        if lot.challenges.is_empty() {
            // The second candidate challenges (the third, when the second is the newcomer's).
            let challenger =
                challenger(state, &lot.candidates.iter().map(|c| (c.rank, c.name.clone())).collect::<Vec<_>>()).await?;
            if let Some(c) = challenger {
                pause(10).await;
                let input = ChallengeInput {
                    lot: lot.lot,
                    body: "我方认为第一中标候选人提供的类似项目业绩证明不符合招标文件第三章的要求，请予复核。".into(),
                    evidence: None,
                };
                awards::file_challenge(&state.awards, &c, show.tender, input).await?;
                continue;
            }
        }
        if let Some(c) = lot.challenges.iter().find(|c| c.state == ChallengeState::Open) {
            pause(15).await;
            let input = AnswerInput {
                answer: "经复核，第一中标候选人提交的三项类似项目业绩均附有合同和验收证明，符合招标文件要求，质疑事项不成立。".into(),
                changes_result: false,
            };
            awards::answer(&state.awards, &agency, c.id, input).await?;
            continue;
        }
        let now = state.writer.clock().now();
        if now < lot.publicity_until || lot.challenges.iter().any(|c| c.state.is_pending()) {
            pause(5).await;
            continue;
        }
        if newcomer_wait < NEWCOMER_WAIT {
            newcomer_wait += 5;
            pause(5).await;
            continue;
        }
        let Some(first) = lot.candidates.first() else { return Ok(()) };
        return match awards::award(
            &state.awards,
            &buyer,
            show.tender,
            lot.lot,
            AwardInput { bid: first.bid, reason: None },
        )
        .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.code == "already_awarded" => Ok(()),
            Err(e) => Err(e),
        };
    }
}

/// The simulated supplier who challenges: the best-ranked candidate after the first that is
/// not `supplier1` (the opening show's newcomer).
async fn challenger(state: &AppState, candidates: &[(u32, String)]) -> AppResult<Option<Actor>> {
    let mut suppliers = Vec::new();
    for (login, _) in super::opening::BIDDERS.iter().filter(|(u, _)| *u != "supplier1") {
        suppliers.push(actor(state, login).await?);
    }
    let mut ranked: Vec<&(u32, String)> = candidates.iter().filter(|(r, _)| *r > 1).collect();
    ranked.sort();
    Ok(ranked.into_iter().find_map(|(_, name)| suppliers.iter().find(|s| &s.org_name == name).cloned()))
}
