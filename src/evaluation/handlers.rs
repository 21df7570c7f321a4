//! The evaluation session's page: what the viewer's role does in the current phase, as forms
//! that work without scripts (each form sends the session's commands, the page comes back
//! with what was refused and what was typed); `frontend/static/evaluation.js` keeps the page
//! current by reloading it when the session's websocket brings an event.

use super::{
    model::{Command, Phase, ReopenReason, SessionView, Stage},
    service::{Evaluations, OpenInput, hosts},
};
use crate::{
    accounts::model::Actor,
    error::{AppError, AppResult},
    tenders::criteria::show_points,
    web::{
        extract::Path,
        flash::{self, Flash},
        form::{FormState, Values},
        page::{PageCtx, render_form},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::State,
    response::Response,
    routing::{get, post},
};
use uuid::Uuid;

/// Page routes of this module.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Evaluations: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/tenders/{id}/evaluation", get(page))
        .route("/tenders/{id}/evaluation/open", post(open))
        .route("/tenders/{id}/evaluation/act", post(act))
}

/// Where a session page's forms, websocket and report are: this deployment's session, or (at a
/// guest deployment) the guest's room of a host's session.
pub struct SessionLinks {
    /// The page itself, where a reload goes (a page drawn after a refused form is the answer
    /// to a POST, which a reload would send again).
    pub page: String,
    /// Where the forms post.
    pub act: String,
    /// The websocket, if not the tender's session's.
    pub ws: Option<String>,
    /// The report's PDF.
    pub report: String,
    /// The number of the last event of the websocket's room the page shows.
    pub seq: i64,
}

impl SessionLinks {
    fn of_tender(tender: Uuid, s: Option<&SessionView>) -> Self {
        SessionLinks {
            page: format!("/tenders/{tender}/evaluation"),
            act: format!("/tenders/{tender}/evaluation/act"),
            ws: None,
            report: format!("/api/v1/tenders/{tender}/evaluation/report.pdf"),
            seq: s.map(|s| s.last_seq).unwrap_or(0),
        }
    }
}

#[derive(Template)]
#[template(path = "evaluation/session.html")]
struct SessionPage {
    ctx: PageCtx,
    tender: Uuid,
    /// None: no session yet (the host sees the form that opens it).
    s: Option<SessionView>,
    links: SessionLinks,
    f: FormState,
    reasons: Vec<&'static str>,
}

/// The session page of `s` as a member sees it, with its forms posting to `links` (a guest
/// deployment's page of a host's session, drawn from what the host last sent of it).
pub fn member_page(ctx: PageCtx, s: SessionView, links: SessionLinks, f: FormState) -> Response {
    let page = SessionPage {
        ctx,
        tender: s.tender,
        s: Some(s),
        links,
        f,
        reasons: ReopenReason::ALL.iter().map(|r| r.as_str()).collect(),
    };
    render_form(&page, &page.f)
}

impl SessionPage {
    fn pts(&self, v: &i64) -> String {
        show_points(*v)
    }

    fn phase_is(&self, p: &str) -> bool {
        self.s.as_ref().is_some_and(|s| s.phase.as_str() == p)
    }

    fn is_member(&self) -> bool {
        self.s.as_ref().is_some_and(|s| s.me.is_some())
    }

    /// The field name of a vote, a score or a reason.
    fn field(&self, kind: &str, bid: &Uuid, item: &str) -> String {
        format!("{kind}.{bid}.{item}")
    }

    /// What the viewer gave for a vote ("pass", "fail" or ""), or typed before a refusal.
    fn my_vote(&self, stage: &str, bid: &Uuid, item: &str) -> String {
        let name = self.field(stage, bid, item);
        if self.f.values().sent(&name) {
            return self.f.value(&name).to_string();
        }
        self.s
            .as_ref()
            .and_then(|s| {
                s.my_votes.iter().find(|v| v["stage"] == stage && v["bid"] == bid.to_string() && v["item"] == item)
            })
            .map(|v| if v["pass"] == true { "pass".to_string() } else { "fail".to_string() })
            .unwrap_or_default()
    }

    fn reason_field(&self, stage: &str, bid: &Uuid, item: &str) -> String {
        format!("{stage}_reason.{bid}.{item}")
    }

    fn review_stages(&self) -> Vec<(&'static str, Vec<crate::tenders::criteria::ReviewItem>)> {
        match &self.s {
            Some(s) => {
                vec![("qualification", s.criteria.qualification.clone()), ("compliance", s.criteria.compliance.clone())]
            }
            None => Vec::new(),
        }
    }

    fn my_reason(&self, stage: &str, bid: &Uuid, item: &str) -> String {
        let name = self.field(&format!("{stage}_reason"), bid, item);
        if self.f.values().sent(&name) {
            return self.f.value(&name).to_string();
        }
        self.s
            .as_ref()
            .and_then(|s| {
                s.my_votes.iter().find(|v| v["stage"] == stage && v["bid"] == bid.to_string() && v["item"] == item)
            })
            .and_then(|v| v["reason"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    fn my_score(&self, bid: &Uuid, item: &str) -> String {
        let name = self.field("score", bid, item);
        if self.f.values().sent(&name) {
            return self.f.value(&name).to_string();
        }
        self.s
            .as_ref()
            .and_then(|s| s.my_scores.iter().find(|v| v["bid"] == bid.to_string() && v["item"] == item))
            .and_then(|v| v["points"].as_i64())
            .map(show_points)
            .unwrap_or_default()
    }

    fn my_score_reason(&self, bid: &Uuid, item: &str) -> String {
        let name = self.field("score_reason", bid, item);
        if self.f.values().sent(&name) {
            return self.f.value(&name).to_string();
        }
        self.s
            .as_ref()
            .and_then(|s| s.my_scores.iter().find(|v| v["bid"] == bid.to_string() && v["item"] == item))
            .and_then(|v| v["reason"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    fn flagged(&self, bid: &Uuid, item: &str) -> Option<String> {
        let s = self.s.as_ref()?;
        s.flags
            .iter()
            .find(|f| f.bid == *bid && f.item == item && (f.member.is_none() || f.member == s.me))
            .map(|f| f.code.clone())
    }

    fn member_name(&self, id: &Option<uuid::Uuid>) -> String {
        let (Some(s), Some(id)) = (self.s.as_ref(), id) else { return String::new() };
        s.members.iter().find(|m| m.id == *id).map(|m| m.name.clone()).unwrap_or_default()
    }

    fn remark_member(&self, r: &serde_json::Value) -> String {
        let id = r["member"].as_str().and_then(|s| s.parse::<Uuid>().ok());
        self.member_name(&id)
    }

    fn remark_text(&self, r: &serde_json::Value, key: &str) -> String {
        r[key].as_str().unwrap_or("").to_string()
    }

    fn is_me(&self, id: &Uuid) -> bool {
        self.s.as_ref().is_some_and(|s| s.me == Some(*id))
    }

    fn am_chair(&self) -> bool {
        self.s.as_ref().is_some_and(|s| s.members.iter().any(|m| Some(m.id) == s.me && m.chair))
    }

    fn my_signed(&self) -> bool {
        self.s.as_ref().is_some_and(|s| s.members.iter().any(|m| Some(m.id) == s.me && m.signed_at.is_some()))
    }

    fn my_declared(&self) -> bool {
        self.s.as_ref().is_some_and(|s| s.members.iter().any(|m| Some(m.id) == s.me && m.declared))
    }

    fn bids_in(&self) -> Vec<super::model::BidView> {
        self.s.as_ref().map(|s| s.bids.iter().filter(|b| !b.out).cloned().collect()).unwrap_or_default()
    }

    fn finding_bid(&self, bid: &Uuid) -> String {
        self.s.as_ref().and_then(|s| s.bids.iter().find(|b| b.id == *bid)).map(|b| b.label.clone()).unwrap_or_default()
    }
}

async fn show(state: &Evaluations, ctx: PageCtx, actor: &Actor, id: Uuid, f: FormState) -> AppResult<Response> {
    let s = match state.view(actor, id).await {
        Ok(s) => Some(s),
        Err(e) if e.code == "not_found" && hosts(actor) => None,
        Err(e) => return Err(e),
    };
    let links = SessionLinks::of_tender(id, s.as_ref());
    let page =
        SessionPage { ctx, tender: id, s, links, f, reasons: ReopenReason::ALL.iter().map(|r| r.as_str()).collect() };
    Ok(render_form(&page, &page.f))
}

async fn page(
    State(state): State<Evaluations>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    show(&state, ctx, &actor, id, FormState::blank()).await
}

async fn open(
    State(state): State<Evaluations>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let rep = values.get("representative").trim().to_string();
    let input = OpenInput { representative: (!rep.is_empty()).then_some(rep) };
    match state.open(&actor, id, input).await {
        Ok(()) => Ok(flash::to(&format!("/tenders/{id}/evaluation"), Flash::EvaluationSaved)),
        Err(e) => {
            let f = FormState::refused("open", &ctx.t, values, e)?;
            show(&state, ctx, &actor, id, f).await
        }
    }
}

/// The commands a form sends: one, or (votes and scores) one per filled field.
pub fn commands(values: &Values) -> Result<Vec<Command>, AppError> {
    let op = values.get("op");
    let text = |k: &str| values.get(k).trim().to_string();
    let opt = |k: &str| Some(text(k)).filter(|s| !s.is_empty());
    let uuid = |k: &str| values.get(k).parse::<Uuid>().map_err(|_| AppError::invalid_field("member", "invalid"));
    Ok(match op {
        "sign_in" => vec![Command::SignIn],
        "declare" => vec![Command::Declare { conflict: values.get("conflict") == "yes", note: opt("note") }],
        "vote_chair" => vec![Command::VoteChair { member: uuid("member")? }],
        "advance" => vec![Command::Advance {
            from: Phase::parse(values.get("from")).ok_or_else(|| AppError::invalid_field("from", "invalid"))?,
        }],
        "votes" => {
            let mut out = Vec::new();
            for (k, v) in values.pairs() {
                let mut parts = k.splitn(3, '.');
                let (Some(stage), Some(bid), Some(item)) = (parts.next(), parts.next(), parts.next()) else { continue };
                let Some(stage) = Stage::parse(stage) else { continue };
                if v.is_empty() {
                    continue;
                }
                let bid = bid.parse::<Uuid>().map_err(|_| AppError::invalid_field("bid", "invalid"))?;
                let reason = opt(&format!("{}_reason.{bid}.{item}", stage.as_str()));
                out.push(Command::Vote { stage, bid, item: item.to_string(), pass: v == "pass", reason });
            }
            out
        }
        "scores" => {
            let mut out = Vec::new();
            for (k, v) in values.pairs() {
                let Some(rest) = k.strip_prefix("score.") else { continue };
                let Some((bid, item)) = rest.split_once('.') else { continue };
                if v.trim().is_empty() {
                    continue;
                }
                let bid = bid.parse::<Uuid>().map_err(|_| AppError::invalid_field("bid", "invalid"))?;
                let reason = opt(&format!("score_reason.{bid}.{item}"));
                out.push(Command::Score { bid, item: item.to_string(), points: v.trim().to_string(), reason });
            }
            out
        }
        "sign" => vec![Command::Sign { password: values.get("password").to_string() }],
        "reopen" => vec![Command::Reopen {
            member: uuid("member")?,
            reason: ReopenReason::parse(values.get("reason"))
                .ok_or_else(|| AppError::invalid_field("reason", "invalid"))?,
            note: text("note"),
        }],
        "dissent" => vec![Command::Dissent { text: text("text") }],
        "note" => vec![Command::Note { text: text("text") }],
        _ => return Err(AppError::invalid_field("op", "invalid")),
    })
}

async fn act(
    State(state): State<Evaluations>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    // A form may carry many commands (every vote of a review); they run in their own task, so
    // that a browser leaving the page meanwhile does not cut the batch off halfway.
    let result = async {
        let cmds = commands(&values)?;
        let (state, actor) = (state.clone(), actor.clone());
        tokio::spawn(async move {
            for cmd in cmds {
                crate::live::command(&state, state.limits(), state.now(), &actor, id, cmd).await?;
            }
            Ok::<(), AppError>(())
        })
        .await
        .map_err(AppError::internal)?
    }
    .await;
    match result {
        Ok(()) => Ok(flash::to(&format!("/tenders/{id}/evaluation"), Flash::EvaluationSaved)),
        Err(e) => {
            let f = FormState::refused("act", &ctx.t, values, e)?;
            show(&state, ctx, &actor, id, f).await
        }
    }
}
