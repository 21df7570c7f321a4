//! The demo's evaluation show: once the opening show's tender is in evaluation, the centre
//! draws its committee (one cost expert and two furniture experts at the host site, two
//! furniture experts at the guest site), the supervisor adds the contribution, the drawn experts
//! answer, and the session runs from sign-in to the signed report with simulated experts, so
//! that a newcomer can watch as `supervisor` or `supervisor2`, or take part as `expert1`.
//!
//! `expert1` is the only cost expert (`D01`) of the host site, so the first group of the request
//! always draws it: the draw stays the verifiable one, with nothing chosen by hand. The show
//! leaves `expert1`'s part to the newcomer for a while in every phase (see [`NEWCOMER_WAIT`]) and
//! plays it when nobody has; it never changes what the newcomer entered. Drawn experts without a
//! login are declined by phone on the centre's record, and the draw calls the next.
//!
//! Every step goes through the same services as real use, and each looks at where the tender,
//! the draw and the session stand before acting, so a show stopped halfway (the demo was
//! stopped) is played on by the next launch (see [`unfinished`]).

use super::actor;
use crate::{
    accounts::model::Actor,
    app::AppState,
    draw::{
        model::{DrawState, PickStatus},
        service::{self as draws, AnswerInput, ContributionInput, RequestInput},
    },
    error::{AppError, AppResult},
    evaluation::{
        model::{Command, Phase, SessionView, Stage},
        service::OpenInput,
    },
    tenders::{model::TenderState, service as tenders},
};
use chrono::TimeDelta;
use ring::rand::{SecureRandom, SystemRandom};
use std::time::Duration;
use uuid::Uuid;

/// The login the show leaves to the newcomer first.
pub const NEWCOMER: &str = "expert1";

/// How many of the show's pauses the newcomer has in each phase before the show plays its part.
pub const NEWCOMER_WAIT: u32 = 90;

/// The prefix of the opening show's tender titles (how a later launch finds unfinished shows).
pub const TITLE_PREFIX: &str = "开标演示";

/// The specialty of the request's first group: cost engineering (工程造价).
const COST_SPECIALTY: &str = "D01";

/// One show: a tender and the pace of its steps.
#[derive(Debug, Clone, Copy)]
pub struct Show {
    /// The tender (public id).
    pub tender: Uuid,
    /// The unit of the show's pauses (a second when watched; tests make it short).
    pub pace: Duration,
}

/// A simulated member: its login, its actor, and whether the newcomer may play it.
struct Player {
    login: &'static str,
    actor: Actor,
    newcomer: bool,
}

/// The opening shows' tenders of earlier launches that are in evaluation with a session not yet
/// signed: each is played on from where it stands.
pub async fn unfinished(state: &AppState) -> AppResult<Vec<Uuid>> {
    let centre = actor(state, "centre").await?;
    let mut out = Vec::new();
    for t in draws::awaiting(&state.draws, &centre).await? {
        if !t.title.starts_with(TITLE_PREFIX) {
            continue;
        }
        let d = tenders::detail(&state.tenders, Some(&centre), t.tender).await?;
        if d.summary.state != TenderState::Evaluating {
            continue;
        }
        match state.evaluations.view(&centre, t.tender).await {
            Ok(v) if v.phase == Phase::Signed => {}
            _ => out.push(t.tender),
        }
    }
    Ok(out)
}

/// Plays the show in the background until the report is signed (or the tender went elsewhere).
pub fn spawn(state: AppState, show: Show) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = run(&state, show).await {
            tracing::warn!(error = %e.message, code = e.code, "the demo evaluation stopped");
        }
    })
}

/// The whole show: wait for the evaluation, draw the committee, run the session.
pub async fn run(state: &AppState, show: Show) -> AppResult<()> {
    let centre = actor(state, "centre").await?;
    loop {
        let d = tenders::detail(&state.tenders, Some(&centre), show.tender).await?;
        match d.summary.state {
            TenderState::Evaluating => break,
            TenderState::Published | TenderState::ClosedForBidding | TenderState::Opening => {
                tokio::time::sleep(show.pace.min(Duration::from_millis(500))).await;
            }
            // The opening failed, or the tender has moved on.
            _ => return Ok(()),
        }
    }
    convene(state, show, &centre).await?;
    session(state, show, &centre).await
}

/// The draw, from the commitment to the published committee.
pub async fn convene(state: &AppState, show: Show, centre: &Actor) -> AppResult<()> {
    let pause = |n: u32| tokio::time::sleep(show.pace * n);
    let draw = match draws::of_tender(&state.draws, centre, show.tender).await? {
        Some(v) => v.id,
        None => draws::prepare(&state.draws, centre, show.tender).await?,
    };
    let experts = logins(state).await?;
    loop {
        let v = draws::view(&state.draws, centre, draw).await?;
        match v.state {
            DrawState::Committed => {
                pause(5).await;
                let sites = draws::site_choices(&state.draws).await?;
                let site = |name: &str| -> AppResult<Uuid> {
                    sites
                        .iter()
                        .find(|(_, n)| n.starts_with(&format!("{name}（")))
                        .and_then(|(id, _)| id.parse().ok())
                        .ok_or_else(|| AppError::internal(format!("demo site {name} missing")))
                };
                let (host, guest) = (site(super::experts::HOST_SITE)?, site(super::experts::GUEST_SITE)?);
                let group = |specialty: &str, site: Uuid, count: u32| crate::draw::algorithm::Group {
                    specialty: specialty.into(),
                    site,
                    count,
                };
                let input = RequestInput {
                    groups: vec![
                        group(COST_SPECIALTY, host, 1),
                        group(super::experts::SHOW_SPECIALTY, host, 2),
                        group(super::experts::SHOW_SPECIALTY, guest, 2),
                    ],
                    reserve: 2,
                    session_at: state.clock.now() + TimeDelta::minutes(10),
                    duration_minutes: 120,
                    purchaser_rep: false,
                };
                draws::request(&state.draws, centre, draw, input).await?;
            }
            DrawState::Requested => {
                pause(5).await;
                let supervisor = actor(state, "supervisor").await?;
                let mut bytes = [0u8; 32];
                SystemRandom::new().fill(&mut bytes).map_err(|_| AppError::internal("no randomness"))?;
                draws::contribute(
                    &state.draws,
                    &supervisor,
                    draw,
                    ContributionInput { contribution: hex::encode(bytes) },
                )
                .await?;
            }
            DrawState::Drawn => {
                let invited: Vec<_> = v.picks.iter().filter(|p| p.status == PickStatus::Invited).collect();
                if invited.is_empty() {
                    pause(3).await;
                    draws::publish(&state.draws, centre, draw).await?;
                    continue;
                }
                for p in invited {
                    pause(2).await;
                    let answer = match experts.iter().find(|(_, id, _)| *id == p.expert) {
                        Some((_, _, a)) => {
                            draws::answer(&state.draws, a, p.id, AnswerInput { accept: true, note: None })
                        }
                        None => draws::answer(
                            &state.draws,
                            centre,
                            p.id,
                            AnswerInput {
                                accept: false, note: Some("电话联系：当日另有安排，不能参加".into())
                            },
                        ),
                    };
                    match answer.await {
                        Ok(()) => {}
                        // Answered meanwhile (by the newcomer, or the deadline passed).
                        Err(e) if e.status.is_client_error() => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            DrawState::Published => return Ok(()),
        }
    }
}

/// The demo experts with logins: login, pool record's public id and actor.
async fn logins(state: &AppState) -> AppResult<Vec<(&'static str, Uuid, Actor)>> {
    let mut out = Vec::new();
    for (login, _) in super::experts::expert_logins() {
        let a = actor(state, login).await?;
        let me = crate::experts::service::own(&state.db, &a).await?;
        out.push((login, me.summary.id, a));
    }
    Ok(out)
}

/// The session, from its opening to the last signature.
async fn session(state: &AppState, show: Show, centre: &Actor) -> AppResult<()> {
    let ev = &state.evaluations;
    match ev.open(centre, show.tender, OpenInput::default()).await {
        Ok(()) => {}
        Err(e) if e.code == "session_exists" => {}
        Err(e) => return Err(e),
    }
    let mut players = Vec::new();
    for (login, _, a) in logins(state).await? {
        // The committee's experts are the ones the room lets in.
        if ev.view(&a, show.tender).await.is_ok() {
            players.push(Player { login, actor: a, newcomer: login == NEWCOMER });
        }
    }
    // The newcomer's part comes last.
    players.sort_by_key(|p| (p.newcomer, p.login));
    let supervisor = actor(state, "supervisor").await?;
    let mut noted = false;
    loop {
        let v = ev.view(centre, show.tender).await?;
        let phase = v.phase;
        if phase == Phase::Signed {
            return Ok(());
        }
        let started = tokio::time::Instant::now();
        let newcomer_wait = show.pace * NEWCOMER_WAIT;
        loop {
            let newcomers_turn = started.elapsed() >= newcomer_wait;
            for p in players.iter().filter(|p| !p.newcomer || newcomers_turn) {
                play(state, show, p, &players, phase).await?;
            }
            if phase == Phase::Scoring && !noted {
                let text = "已核对各评委评分，客观分一致，未发现倾向性评分。".to_string();
                noted = ev.execute(&supervisor, show.tender, Command::Note { text }).await.is_ok();
            }
            if phase == Phase::Signing {
                let now = ev.view(centre, show.tender).await?.phase;
                if now != Phase::Signing {
                    break;
                }
                tokio::time::sleep(show.pace * 3).await;
                continue;
            }
            tokio::time::sleep(show.pace * 3).await;
            match ev.execute(centre, show.tender, Command::Advance { from: phase }).await {
                Ok(()) => break,
                // Someone moved the session on meanwhile.
                Err(e) if e.code == "out_of_turn" => break,
                // Still waiting for a member (the newcomer, most likely).
                Err(e) if e.status == axum::http::StatusCode::CONFLICT => continue,
                // Too many commands at once: wait as asked.
                Err(e) if e.status == axum::http::StatusCode::TOO_MANY_REQUESTS => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Hundredths as the points a member types ("12.5").
fn typed(v: i64) -> String {
    crate::tenders::criteria::show_points(v)
}

/// The simulated score of member `m` for bid `b` on an item: objective items the same for
/// everyone; subjective ones around the bid's level, one step apart between members, well
/// inside the deviation the consistency check allows.
fn score_of(item: &crate::tenders::criteria::ScoringItem, b: usize, i: usize, m: usize) -> i64 {
    let step = item.step.max(1);
    let snap = |v: i64| (v / step * step).clamp(0, item.max);
    if item.objective {
        return snap(item.max * [60, 80, 40, 100][b % 4] / 100);
    }
    let level = item.max * [85, 75, 80, 70][(b + i) % 4] / 100;
    snap(level + step * (m as i64 % 3 - 1))
}

/// What a member does in `phase` that it has not done yet. Nothing it entered is changed,
/// except to answer a consistency flag on its own score.
async fn play(state: &AppState, show: Show, p: &Player, players: &[Player], phase: Phase) -> AppResult<()> {
    let ev = &state.evaluations;
    let pause = || tokio::time::sleep(show.pace * 2);
    let v: SessionView = ev.view(&p.actor, show.tender).await?;
    let me = v.members.iter().find(|m| Some(m.id) == v.me);
    let ignore_refusal = |r: AppResult<()>| match r {
        Ok(()) => Ok(()),
        Err(e) if e.status.is_client_error() => {
            tracing::debug!(code = e.code, login = p.login, "the demo's member was refused");
            Ok(())
        }
        Err(e) => Err(e),
    };
    match phase {
        Phase::SignIn => {
            if me.is_none() {
                pause().await;
                ignore_refusal(ev.execute(&p.actor, show.tender, Command::SignIn).await)?;
            }
            let v = ev.view(&p.actor, show.tender).await?;
            if v.members.iter().any(|m| Some(m.id) == v.me && !m.declared) {
                pause().await;
                let cmd = Command::Declare { conflict: false, note: None };
                ignore_refusal(ev.execute(&p.actor, show.tender, cmd).await)?;
            }
        }
        Phase::Chair => {
            if me.is_some_and(|m| !m.voted_chair) {
                // Everyone votes for the first simulated member who signed in.
                let first = players.iter().find(|q| !q.newcomer).unwrap_or(p);
                let chair = ev.view(&first.actor, show.tender).await?.me;
                if let Some(member) = chair {
                    pause().await;
                    ignore_refusal(ev.execute(&p.actor, show.tender, Command::VoteChair { member }).await)?;
                }
            }
        }
        Phase::Qualification | Phase::Compliance => {
            let (stage, items) = if phase == Phase::Qualification {
                (Stage::Qualification, &v.criteria.qualification)
            } else {
                (Stage::Compliance, &v.criteria.compliance)
            };
            for b in v.bids.iter().filter(|b| !b.out) {
                for item in items {
                    let done = v.my_votes.iter().any(|x| {
                        x["stage"] == stage.as_str() && x["bid"] == b.id.to_string() && x["item"] == item.key.as_str()
                    });
                    if !done {
                        let cmd = Command::Vote { stage, bid: b.id, item: item.key.clone(), pass: true, reason: None };
                        ignore_refusal(ev.execute(&p.actor, show.tender, cmd).await)?;
                    }
                }
            }
            pause().await;
        }
        Phase::Scoring => {
            let m = players.iter().position(|q| q.login == p.login).unwrap_or(0);
            let scored = |bid: Uuid, item: &str| {
                v.my_scores.iter().find(|x| x["bid"] == bid.to_string() && x["item"] == item).cloned()
            };
            for (b, bid) in v.bids.iter().filter(|b| !b.out).enumerate() {
                for (i, item) in v.criteria.scoring.iter().enumerate() {
                    let flagged = v.flags.iter().find(|f| f.bid == bid.id && f.item == item.key);
                    let mine = scored(bid.id, &item.key);
                    let value = score_of(item, b, i, m);
                    let score = |points: i64, reason: Option<String>| Command::Score {
                        bid: bid.id,
                        item: item.key.clone(),
                        points: typed(points),
                        reason,
                    };
                    let cmd = match (mine, flagged) {
                        (None, _) => Some(score(value, None)),
                        // An objective item scored differently: the show's value is the
                        // committee's reading of the bid.
                        (Some(s), Some(f)) if f.code == "objective_disagrees" && s["points"] != value => {
                            Some(score(value, None))
                        }
                        (Some(s), Some(f)) if f.code == "needs_reason" && f.member == v.me && s["reason"].is_null() => {
                            let kept = s["points"].as_i64().unwrap_or(value);
                            Some(score(kept, Some("综合该投标文件的实际响应情况，维持本人评分。".into())))
                        }
                        _ => None,
                    };
                    if let Some(cmd) = cmd {
                        ignore_refusal(ev.execute(&p.actor, show.tender, cmd).await)?;
                    }
                }
            }
            pause().await;
        }
        Phase::Signing => {
            if me.is_some_and(|m| m.signed_at.is_none()) {
                pause().await;
                let cmd = Command::Sign { password: super::PASSWORD.into() };
                ignore_refusal(ev.execute(&p.actor, show.tender, cmd).await)?;
            }
        }
        Phase::Signed => {}
    }
    Ok(())
}
