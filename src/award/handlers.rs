//! The award's pages: a tender's award page (`/tenders/{id}/award`: candidates, challenges,
//! the decision, notices, the contract, with the forms each reader may use) and the public
//! result lists (`/results`: 结果公示 and 中标公告).

use super::{
    Awards,
    api::{parse_tab, read_form},
    model::{AwardView, LotAwardView, PublicResult},
    service::{
        self, AnswerInput, AwardInput, ChallengeInput, ComplaintInput, ContractInput, DecisionInput, PublicList,
    },
};
use crate::{
    accounts::model::Actor,
    error::{AppError, AppResult},
    web::{
        auth::MaybeActor,
        extract::{Multipart, Path, Query},
        flash::{self, Flash},
        form::{FormState, Values},
        page::{PageCtx, render_form, render_public},
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

/// Page routes.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Awards: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/tenders/{id}/award", get(show))
        .route("/tenders/{id}/award/publish", post(publish))
        .route("/tenders/{id}/award/challenge", post(challenge))
        .route("/tenders/{id}/award/challenges/{c}/answer", post(answer))
        .route("/tenders/{id}/award/challenges/{c}/complaint", post(complain))
        .route("/tenders/{id}/award/challenges/{c}/decision", post(decide))
        .route("/tenders/{id}/award/lots/{lot}", post(award))
        .route("/tenders/{id}/award/lots/{lot}/contract", post(contract))
        .route("/tenders/{id}/award/ratings", post(rate))
        .route("/results", get(results))
}

#[derive(Template)]
#[template(path = "award/show.html")]
struct ShowPage {
    ctx: PageCtx,
    a: AwardView,
    f: FormState,
}

impl ShowPage {
    fn is_state(&self, l: &LotAwardView, s: &str) -> bool {
        l.state.as_str() == s
    }

    /// Hundredths of a point as a decimal.
    fn points(&self, hundredths: &i64) -> String {
        format!("{}.{:02}", hundredths / 100, (hundredths % 100).abs())
    }
}

async fn show_page(state: &Awards, ctx: PageCtx, actor: Option<&Actor>, id: Uuid, f: FormState) -> AppResult<Response> {
    let a = service::view(state, actor, id).await?;
    let page = ShowPage { ctx, a, f };
    Ok(render_form(&page, &page.f))
}

async fn show(
    State(state): State<Awards>,
    ctx: PageCtx,
    MaybeActor(actor): MaybeActor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    show_page(&state, ctx, actor.as_ref(), id, FormState::blank()).await
}

/// A step taken from the page: the page again with its message on success, else with the form
/// as sent and the refusal.
async fn done_or_refused(
    state: &Awards,
    ctx: PageCtx,
    actor: &Actor,
    id: Uuid,
    form: &'static str,
    values: Values,
    result: AppResult<Flash>,
) -> AppResult<Response> {
    match result {
        Ok(fl) => Ok(flash::to(&format!("/tenders/{id}/award"), fl)),
        Err(e) => {
            let f = FormState::refused(form, &ctx.t, values, e)?;
            show_page(state, ctx, Some(actor), id, f).await
        }
    }
}

async fn publish(
    State(state): State<Awards>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let r = service::publish(&state, &actor, id).await.map(|()| Flash::CandidatesPublished);
    done_or_refused(&state, ctx, &actor, id, "publish", values, r).await
}

async fn challenge(
    State(state): State<Awards>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    multipart: Multipart,
) -> AppResult<Response> {
    let (fields, file) = read_form(multipart).await?;
    let values =
        Values::from_pairs(fields.iter().filter(|(k, _)| k.as_str() != "_csrf").map(|(k, v)| (k.clone(), v.clone())));
    let r = async {
        let lot = Uuid::parse_str(values.get("lot").trim()).map_err(|_| AppError::invalid_field("lot", "required"))?;
        let input = ChallengeInput { lot, body: values.get("body").to_string(), evidence: file };
        service::file_challenge(&state, &actor, id, input).await.map(|_| Flash::ChallengeFiled)
    }
    .await;
    done_or_refused(&state, ctx, &actor, id, "challenge", values, r).await
}

async fn answer(
    State(state): State<Awards>,
    ctx: PageCtx,
    actor: Actor,
    Path((id, c)): Path<(Uuid, Uuid)>,
    values: Values,
) -> AppResult<Response> {
    let input =
        AnswerInput { answer: values.get("answer").to_string(), changes_result: values.has("changes_result", "on") };
    let r = service::answer(&state, &actor, c, input).await.map(|()| Flash::ChallengeAnswered);
    let values = values.with("challenge", c.to_string());
    done_or_refused(&state, ctx, &actor, id, "answer", values, r).await
}

async fn complain(
    State(state): State<Awards>,
    ctx: PageCtx,
    actor: Actor,
    Path((id, c)): Path<(Uuid, Uuid)>,
    values: Values,
) -> AppResult<Response> {
    let input = ComplaintInput { complaint: values.get("complaint").to_string() };
    let r = service::complain(&state, &actor, c, input).await.map(|()| Flash::ComplaintFiled);
    let values = values.with("challenge", c.to_string());
    done_or_refused(&state, ctx, &actor, id, "complaint", values, r).await
}

async fn decide(
    State(state): State<Awards>,
    ctx: PageCtx,
    actor: Actor,
    Path((id, c)): Path<(Uuid, Uuid)>,
    values: Values,
) -> AppResult<Response> {
    let input =
        DecisionInput { decision: values.get("decision").to_string(), reason: values.get("reason").to_string() };
    let r = service::decide(&state, &actor, c, input).await.map(|()| Flash::ComplaintDecided);
    let values = values.with("challenge", c.to_string());
    done_or_refused(&state, ctx, &actor, id, "decision", values, r).await
}

async fn award(
    State(state): State<Awards>,
    ctx: PageCtx,
    actor: Actor,
    Path((id, lot)): Path<(Uuid, Uuid)>,
    values: Values,
) -> AppResult<Response> {
    let r = async {
        let bid = Uuid::parse_str(values.get("bid").trim()).map_err(|_| AppError::invalid_field("bid", "required"))?;
        let reason = Some(values.get("reason").to_string()).filter(|r| !r.trim().is_empty());
        service::award(&state, &actor, id, lot, AwardInput { bid, reason }).await.map(|()| Flash::LotAwarded)
    }
    .await;
    let values = values.with("lot", lot.to_string());
    done_or_refused(&state, ctx, &actor, id, "award", values, r).await
}

async fn contract(
    State(state): State<Awards>,
    ctx: PageCtx,
    actor: Actor,
    Path((id, lot)): Path<(Uuid, Uuid)>,
    multipart: Multipart,
) -> AppResult<Response> {
    let (fields, file) = read_form(multipart).await?;
    let values =
        Values::from_pairs(fields.iter().filter(|(k, _)| k.as_str() != "_csrf").map(|(k, v)| (k.clone(), v.clone())))
            .with("lot", lot.to_string());
    let input = ContractInput {
        amount: values.get("amount").to_string(),
        signed_on: values.get("signed_on").to_string(),
        file,
    };
    let r = service::record_contract(&state, &actor, id, lot, input).await.map(|()| Flash::ContractRecorded);
    done_or_refused(&state, ctx, &actor, id, "contract", values, r).await
}

async fn rate(
    State(state): State<Awards>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let r = async {
        let member =
            Uuid::parse_str(values.get("member").trim()).map_err(|_| AppError::invalid_field("member", "required"))?;
        let mark = |name: &'static str| {
            values.get(name).trim().parse::<i32>().map_err(|_| AppError::invalid_field(name, "out_of_range"))
        };
        let input = crate::experts::ratings::RatingInput {
            member,
            punctuality: mark("punctuality")?,
            expertise: mark("expertise")?,
            conduct: mark("conduct")?,
            note: values.get("note").to_string(),
        };
        crate::experts::ratings::rate(&state.experts, &actor, id, input).await.map(|()| Flash::ExpertRated)
    }
    .await;
    done_or_refused(&state, ctx, &actor, id, "rating", values, r).await
}

/// The tab the page shows.
#[derive(Debug, serde::Deserialize)]
struct TabQuery {
    tab: Option<String>,
}

#[derive(Template)]
#[template(path = "award/results.html")]
struct ResultsPage {
    ctx: PageCtx,
    awards: bool,
    rows: Vec<PublicResult>,
}

async fn results(State(state): State<Awards>, ctx: PageCtx, Query(q): Query<TabQuery>) -> AppResult<Response> {
    let which = parse_tab(q.tab.as_deref())?;
    let rows = service::public_list(&state, which).await?;
    Ok(render_public(&ResultsPage { ctx, awards: which == PublicList::Awards, rows }))
}
