//! A draw asked of a guest deployment (远程抽取): the host sends the counts per specialty, the
//! session's time and the organisations to avoid; the guest screens its own pool with its own
//! avoidance rules and commits to a secret; the host contributes 32 random bytes; the guest
//! runs the verifiable draw of step 6 (`draw::algorithm`) and answers with the secret, the
//! eligible list and the picks, every expert named by a pseudonymous id made for this draw; the
//! host runs the draw again from them and accepts it only if it gives the same picks. Names
//! never cross: the guest keeps who stands behind each pseudonym (`remote_draw_experts`).
//!
//! Messages: `draw.request` (host → guest), `draw.commitment` or `draw.refused` (guest → host),
//! `draw.contribution` (host → guest), `draw.result` (guest → host).

use super::Federation;
use crate::{
    accounts::model::Actor,
    audit::{Action, AuditActor, AuditEntry},
    column::string_enum,
    draw::{
        algorithm::{self, Candidate, Draw, Group, Inputs, Pick, Request},
        avoidance::{Party, PartyRole},
        service::{enough, parties, rules, runs_draws, screen, watches_draws},
    },
    entities::{expert, remote_draw, remote_draw_expert, tender},
    error::{AppError, AppResult, FieldError},
    ids::ExpertId,
    uow::UnitOfWork,
    web::cst,
};
use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// The host asks for experts.
pub const REQUEST: &str = "draw.request";
/// The guest has screened its pool and commits to its secret.
pub const COMMITMENT: &str = "draw.commitment";
/// The guest cannot serve the request (with the reason's code).
pub const REFUSED: &str = "draw.refused";
/// The host's contribution to the seed.
pub const CONTRIBUTION: &str = "draw.contribution";
/// The guest's draw: the secret, the eligible list and the picks, by pseudonym.
pub const RESULT: &str = "draw.result";

string_enum! {
    /// Which side of a remote draw this deployment is on.
    Side stored in crate::entities::remote_draw::Entity {
        /// The host: asked the peer for experts.
        Host = "host",
        /// The guest: draws from its pool for the peer.
        Guest = "guest",
    }
}

string_enum! {
    /// Where a remote draw stands.
    RemoteDrawState stored in crate::entities::remote_draw::Entity {
        /// Asked; waiting for the guest's commitment.
        Asked = "asked",
        /// The guest has committed to its secret (host: the contribution is sent).
        Committed = "committed",
        /// Drawn (host: and verified from the guest's answer).
        Drawn = "drawn",
        /// Its members are seated in the host's session, which is relayed to the guest.
        Seated = "seated",
        /// The guest could not serve the request.
        Refused = "refused",
        /// The guest's answer does not verify: the host does not take it.
        Failed = "failed",
    }
}

/// One group asked of the guest: so many experts of a specialty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AskGroup {
    /// The specialty code (`A02` takes `A02` and its sub-codes).
    pub specialty: String,
    /// How many members.
    pub count: u32,
}

/// An organisation the guest's experts must not be tied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Avoid {
    /// `bidder`, `procuring_unit` or `agency`.
    pub role: String,
    /// Its name.
    pub name: String,
    /// Its 统一社会信用代码, if known.
    pub credit_code: Option<String>,
}

/// The body of `draw.request`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Asked {
    /// The host's id of the request.
    pub request: Uuid,
    /// The tender's code (its title and parties' roles stay with the host).
    pub tender_code: String,
    /// When the session starts.
    pub session_at: DateTime<Utc>,
    /// How long it is planned to last, in minutes.
    pub duration_minutes: u32,
    /// The groups.
    pub groups: Vec<AskGroup>,
    /// Reserves per group.
    pub reserve: u32,
    /// The organisations to avoid.
    pub avoid: Vec<Avoid>,
}

/// What the centre asks a peer for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskInput {
    /// The tender (public id).
    pub tender: Uuid,
    /// The peer deployment asked.
    pub peer: String,
    /// The groups.
    pub groups: Vec<AskGroup>,
    /// Reserves per group.
    #[serde(default)]
    pub reserve: u32,
    /// When the session starts.
    pub session_at: DateTime<Utc>,
    /// How long it is planned to last, in minutes (30 to 1440).
    pub duration_minutes: u32,
}

fn bad_body(e: impl std::fmt::Display) -> AppError {
    AppError::bad_request("invalid_body", format!("the message's body is not what its kind says: {e}"))
}

/// A message's body as its kind's type, or `invalid_body`.
pub(crate) fn parse<T: for<'de> Deserialize<'de>>(body: &Value) -> AppResult<T> {
    T::deserialize(body).map_err(bad_body)
}

fn random32() -> AppResult<[u8; 32]> {
    let mut b = [0u8; 32];
    SystemRandom::new().fill(&mut b).map_err(|_| AppError::internal("no randomness"))?;
    Ok(b)
}

fn seal_context(id: Uuid) -> String {
    format!("remote-draw-secret:{id}")
}

fn to_json<T: Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(AppError::internal)
}

/// The remote draw of `peer`'s request on this deployment's `side`, or `unknown_request`.
pub(crate) async fn find<C: sea_orm::ConnectionTrait>(
    db: &C,
    peer: &str,
    side: Side,
    request: Uuid,
) -> AppResult<remote_draw::Model> {
    remote_draw::Entity::find()
        .filter(remote_draw::Column::Peer.eq(peer))
        .filter(remote_draw::Column::Side.eq(side))
        .filter(remote_draw::Column::RequestRef.eq(request))
        .one(db)
        .await?
        .ok_or_else(|| AppError::rule("unknown_request", "no such draw request from this peer"))
}

fn check_ask(fed: &Federation, input: &AskInput, now: DateTime<Utc>) -> AppResult<()> {
    let s = &fed.draw_settings;
    let mut fields = Vec::new();
    if input.groups.is_empty() || input.groups.len() as u32 > s.max_groups {
        fields.push(FieldError::new("groups", "out_of_range").with_arg("min", 1).with_arg("max", s.max_groups));
    }
    for g in &input.groups {
        if !crate::experts::specialties::well_formed(&g.specialty) {
            fields.push(FieldError::new("groups.specialty", "invalid"));
        }
        if g.count == 0 || g.count > s.max_group_count {
            fields.push(
                FieldError::new("groups.count", "out_of_range").with_arg("min", 1).with_arg("max", s.max_group_count),
            );
        }
    }
    crate::draw::service::session_fields(&mut fields, s, input.reserve, input.session_at, input.duration_minutes, now);
    if fields.is_empty() { Ok(()) } else { Err(AppError::validation(fields)) }
}

// ---------------------------------------------------------------------------------------------
// The host

/// Asks `input.peer` for experts for a tender's committee (the centre's staff). The request
/// names the organisations the guest's experts must avoid: the procuring unit, the agency and
/// the bidders whose bids were opened.
pub async fn ask(fed: &Federation, actor: &Actor, input: AskInput) -> AppResult<Uuid> {
    if !runs_draws(actor) {
        return Err(AppError::forbidden());
    }
    fed.site()?;
    fed.peer(&input.peer)?;
    let mut uow = fed.writer.begin().await?;
    check_ask(fed, &input, uow.now())?;
    let t = tender::Entity::find()
        .filter(tender::Column::PublicId.eq(input.tender))
        .one(&uow)
        .await?
        .ok_or_else(|| AppError::invalid_field("tender", "not_found"))?;
    if matches!(t.state, crate::tenders::model::TenderState::Draft | crate::tenders::model::TenderState::Cancelled) {
        return Err(AppError::conflict("wrong_state", "a committee is drawn for a published tender"));
    }
    let avoid = parties(&uow, &t)
        .await?
        .into_iter()
        .map(|p| Avoid { role: p.role.as_str().to_string(), name: p.name, credit_code: p.credit_code })
        .collect();
    let id = Uuid::new_v4();
    let body = Asked {
        request: id,
        tender_code: t.code.clone(),
        session_at: input.session_at,
        duration_minutes: input.duration_minutes,
        groups: input.groups.clone(),
        reserve: input.reserve,
        avoid,
    };
    let now = uow.now();
    remote_draw::ActiveModel {
        public_id: Set(id),
        peer: Set(input.peer.clone()),
        side: Set(Side::Host),
        request_ref: Set(id),
        tender_id: Set(Some(t.id)),
        tender_code: Set(t.code.clone()),
        state: Set(RemoteDrawState::Asked),
        asked: Set(to_json(&body)?),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&uow)
    .await?;
    let seq = fed.send(&mut uow, &input.peer, REQUEST, &json!(body)).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::RemoteDrawAsk,
            t.public_id,
            json!({"request": id, "peer": input.peer, "seq": seq, "groups": input.groups, "reserve": input.reserve}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(id)
}

#[derive(Deserialize)]
struct Committed {
    request: Uuid,
    commitment: String,
    eligible_digest: String,
}

/// The guest committed: the host contributes 32 random bytes it could not have known.
pub(crate) async fn on_commitment(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    let c: Committed = parse(body)?;
    for (v, what) in [(&c.commitment, "commitment"), (&c.eligible_digest, "eligible digest")] {
        algorithm::hex32(v, what).map_err(bad_body)?;
    }
    let d = find(&*uow, peer, Side::Host, c.request).await?;
    if d.state != RemoteDrawState::Asked {
        return Err(AppError::conflict("wrong_state", "the commitment comes once, after the request"));
    }
    let contribution = hex::encode(random32()?);
    let mut m: remote_draw::ActiveModel = d.into();
    m.commitment = Set(Some(c.commitment));
    m.eligible_digest = Set(Some(c.eligible_digest));
    m.contribution = Set(Some(contribution.clone()));
    m.state = Set(RemoteDrawState::Committed);
    m.updated_at = Set(uow.now());
    m.update(&*uow).await?;
    fed.send(uow, peer, CONTRIBUTION, &json!({"request": c.request, "contribution": contribution})).await?;
    Ok(())
}

#[derive(Deserialize)]
struct Answered {
    request: Uuid,
    secret: String,
    drawn_for: Request,
    eligible: Vec<Candidate>,
    picks: Vec<Pick>,
}

/// Whether the guest's answer is the draw it committed to, for what the host asked; why not.
fn verify(d: &remote_draw::Model, asked: &Asked, a: &Answered) -> Result<(), String> {
    let secret = algorithm::hex32(&a.secret, "secret").map_err(|e| e.to_string())?;
    if Some(algorithm::commitment(&secret)) != d.commitment {
        return Err("secret_mismatch".into());
    }
    if Some(hex::encode(algorithm::eligible_digest(&a.eligible))) != d.eligible_digest {
        return Err("eligible_mismatch".into());
    }
    let same = a.drawn_for.reserve == asked.reserve
        && a.drawn_for.groups.len() == asked.groups.len()
        && a.drawn_for.groups.iter().zip(&asked.groups).all(|(g, h)| g.specialty == h.specialty && g.count == h.count);
    if !same {
        return Err("request_mismatch".into());
    }
    let inputs = Inputs {
        request: a.drawn_for.clone(),
        eligible: a.eligible.clone(),
        commitment: d.commitment.clone().unwrap_or_default(),
        contribution: d.contribution.clone().unwrap_or_default(),
    };
    let drawn = Draw::start(&inputs, &secret).map_err(|e| format!("draw_error: {e}"))?;
    if drawn.picks() != a.picks.as_slice() {
        return Err("picks_mismatch".into());
    }
    Ok(())
}

/// The guest's draw: taken only if the host, running the draw again from the revealed secret,
/// the committed eligible list and its own contribution, gets the same picks.
pub(crate) async fn on_result(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    let _ = fed;
    let a: Answered = parse(body)?;
    let d = find(&*uow, peer, Side::Host, a.request).await?;
    if d.state != RemoteDrawState::Committed {
        return Err(AppError::conflict("wrong_state", "the result comes once, after the contribution"));
    }
    let asked: Asked = serde_json::from_str(&d.asked).map_err(AppError::internal)?;
    let verdict = verify(&d, &asked, &a);
    let tender_public = match d.tender_id {
        Some(t) => tender::Entity::find_by_id(t).one(&*uow).await?.map(|t| t.public_id.to_string()),
        None => None,
    }
    .unwrap_or_default();
    let mut m: remote_draw::ActiveModel = d.clone().into();
    m.updated_at = Set(uow.now());
    match &verdict {
        Ok(()) => {
            let inputs = Inputs {
                request: a.drawn_for.clone(),
                eligible: a.eligible.clone(),
                commitment: d.commitment.clone().unwrap_or_default(),
                contribution: d.contribution.clone().unwrap_or_default(),
            };
            m.inputs = Set(Some(to_json(&inputs)?));
            m.secret = Set(Some(a.secret.clone()));
            m.picks = Set(Some(to_json(&a.picks)?));
            m.state = Set(RemoteDrawState::Drawn);
        }
        Err(why) => {
            m.failure = Set(Some(why.clone()));
            m.state = Set(RemoteDrawState::Failed);
        }
    }
    m.update(&*uow).await?;
    let (action, details) = match verdict {
        Ok(()) => (
            Action::RemoteDrawVerified,
            json!({"request": a.request, "peer": peer, "picks": a.picks.iter().map(|p| json!({"seq": p.seq, "group": p.group, "expert": p.expert, "role": p.role})).collect::<Vec<_>>()}),
        ),
        Err(why) => (Action::RemoteDrawFailed, json!({"request": a.request, "peer": peer, "reason": why})),
    };
    uow.record(&AuditActor::system(), AuditEntry::new(action, tender_public, details)).await?;
    Ok(())
}

#[derive(Deserialize)]
struct Refusal {
    request: Uuid,
    code: String,
    #[serde(default)]
    args: HashMap<String, String>,
}

/// The guest could not serve the request.
pub(crate) async fn on_refused(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    let _ = fed;
    let r: Refusal = parse(body)?;
    let d = find(&*uow, peer, Side::Host, r.request).await?;
    if d.state != RemoteDrawState::Asked {
        return Err(AppError::conflict("wrong_state", "a refusal answers the request"));
    }
    let code: String = r.code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(60).collect();
    let tender_public = match d.tender_id {
        Some(t) => tender::Entity::find_by_id(t).one(&*uow).await?.map(|t| t.public_id.to_string()),
        None => None,
    }
    .unwrap_or_default();
    let mut m: remote_draw::ActiveModel = d.into();
    m.state = Set(RemoteDrawState::Refused);
    m.failure = Set(Some(code.clone()));
    m.updated_at = Set(uow.now());
    m.update(&*uow).await?;
    uow.record(
        &AuditActor::system(),
        AuditEntry::new(
            Action::RemoteDrawFailed,
            tender_public,
            json!({"request": r.request, "peer": peer, "refused": code, "args": r.args}),
        ),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The guest

/// The local site whose experts serve the peers: `federation.expert_site`, or the first.
async fn expert_site<C: sea_orm::ConnectionTrait>(fed: &Federation, db: &C) -> AppResult<crate::entities::site::Model> {
    let all = crate::sites::service::all(db).await?;
    let wanted = fed.settings.expert_site.trim();
    all.into_iter()
        .find(|s| wanted.is_empty() || s.name == wanted)
        .ok_or_else(|| AppError::rule("no_expert_site", "this deployment has no site whose experts serve peers"))
}

/// A host asks for experts: screen the pool, make a pseudonym for every eligible expert, commit
/// to a secret.
pub(crate) async fn on_request(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    let a: Asked = parse(body)?;
    if a.groups.is_empty()
        || a.groups.iter().any(|g| g.count == 0 || !crate::experts::specialties::well_formed(&g.specialty))
    {
        return Err(bad_body("the groups"));
    }
    if find(&*uow, peer, Side::Guest, a.request).await.is_ok() {
        return Err(AppError::conflict("duplicate_request", "this request was answered already"));
    }
    let site = expert_site(fed, &*uow).await?;
    let req = Request {
        groups: a
            .groups
            .iter()
            .map(|g| Group { specialty: g.specialty.clone(), site: site.public_id, count: g.count })
            .collect(),
        reserve: a.reserve,
    };
    let avoid: Vec<Party> = a
        .avoid
        .iter()
        .map(|p| Party {
            role: match p.role.as_str() {
                "bidder" => PartyRole::Bidder,
                "agency" => PartyRole::Agency,
                _ => PartyRole::ProcuringUnit,
            },
            name: p.name.clone(),
            credit_code: p.credit_code.clone(),
        })
        .collect();
    let day = a.session_at.with_timezone(&cst()).date_naive();
    let all_sites = crate::sites::service::by_id(&*uow).await?;
    let screened =
        screen(&*uow, &all_sites, &req, &avoid, day, rules(&fed.draw_settings), &HashMap::new(), Some(vec![site.id]))
            .await?;
    let experts: HashMap<Uuid, ExpertId> = expert::Entity::find()
        .filter(expert::Column::PublicId.is_in(screened.eligible.iter().map(|c| c.expert)))
        .all(&*uow)
        .await?
        .into_iter()
        .map(|e| (e.public_id, e.id))
        .collect();
    let mut behind = Vec::new();
    let mut eligible: Vec<Candidate> = screened
        .eligible
        .iter()
        .map(|c| {
            let pseudonym = Uuid::new_v4();
            behind.push((pseudonym, experts.get(&c.expert).copied()));
            Candidate { expert: pseudonym, specialties: c.specialties.clone(), site: c.site }
        })
        .collect();
    eligible.sort_by_key(|c| c.expert);
    enough(&req, &eligible)?;
    let id = Uuid::new_v4();
    let secret = random32()?;
    let inputs =
        Inputs { request: req, eligible, commitment: algorithm::commitment(&secret), contribution: String::new() };
    let eligible_digest = hex::encode(inputs.eligible_digest());
    let now = uow.now();
    let row = remote_draw::ActiveModel {
        public_id: Set(id),
        peer: Set(peer.to_string()),
        side: Set(Side::Guest),
        request_ref: Set(a.request),
        tender_id: Set(None),
        tender_code: Set(a.tender_code.chars().take(100).collect()),
        state: Set(RemoteDrawState::Committed),
        asked: Set(to_json(&a)?),
        inputs: Set(Some(to_json(&inputs)?)),
        commitment: Set(Some(inputs.commitment.clone())),
        eligible_digest: Set(Some(eligible_digest.clone())),
        secret: Set(Some(fed.vault.seal(&seal_context(id), &secret))),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&*uow)
    .await?;
    for (pseudonym, expert) in behind {
        let Some(expert_id) = expert else { continue };
        remote_draw_expert::ActiveModel {
            draw_id: Set(row.id),
            pseudonym: Set(pseudonym),
            expert_id: Set(expert_id),
            ..Default::default()
        }
        .insert(&*uow)
        .await?;
    }
    fed.send(
        uow,
        peer,
        COMMITMENT,
        &json!({"request": a.request, "commitment": inputs.commitment, "eligible_digest": eligible_digest,
                "eligible": inputs.eligible.len()}),
    )
    .await?;
    uow.record(
        &AuditActor::system(),
        AuditEntry::new(
            Action::RemoteDrawCommit,
            peer,
            json!({"draw": id, "request": a.request, "commitment": inputs.commitment, "eligible_digest": eligible_digest,
                   "eligible": inputs.eligible.len(), "excluded": screened.excluded.len()}),
        ),
    )
    .await?;
    Ok(())
}

/// A request this deployment could not serve is answered with the refusal's code and numbers.
pub(crate) async fn refuse_request(
    fed: &Federation,
    uow: &mut UnitOfWork,
    peer: &str,
    body: &Value,
    error: &AppError,
) -> AppResult<()> {
    let Some(request) = body.get("request").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok()) else {
        return Ok(());
    };
    if error.code == "duplicate_request" {
        return Ok(());
    }
    let args: HashMap<&str, &String> = error.rule_args().iter().map(|(k, v)| (*k, v)).collect();
    fed.send(uow, peer, REFUSED, &json!({"request": request, "code": error.code, "args": args})).await?;
    Ok(())
}

#[derive(Deserialize)]
struct Contributed {
    request: Uuid,
    contribution: String,
}

/// The host's contribution: run the draw and reveal the secret.
pub(crate) async fn on_contribution(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    let c: Contributed = parse(body)?;
    let contribution = c.contribution.trim().to_ascii_lowercase();
    algorithm::hex32(&contribution, "contribution").map_err(bad_body)?;
    let d = find(&*uow, peer, Side::Guest, c.request).await?;
    if d.state != RemoteDrawState::Committed {
        return Err(AppError::conflict("wrong_state", "the contribution comes once, after the commitment"));
    }
    let mut inputs: Inputs =
        serde_json::from_str(d.inputs.as_deref().unwrap_or_default()).map_err(AppError::internal)?;
    inputs.contribution = contribution.clone();
    let secret = fed
        .vault
        .open(&seal_context(d.public_id), d.secret.as_deref().unwrap_or_default())
        .and_then(|s| <[u8; 32]>::try_from(s.as_slice()).ok())
        .ok_or_else(|| AppError::internal(format!("the secret of remote draw {} does not open", d.public_id)))?;
    let drawn = Draw::start(&inputs, &secret).map_err(|e| AppError::internal(format!("the remote draw: {e}")))?;
    let picks = drawn.picks().to_vec();
    let mut m: remote_draw::ActiveModel = d.clone().into();
    m.inputs = Set(Some(to_json(&inputs)?));
    m.contribution = Set(Some(contribution));
    m.picks = Set(Some(to_json(&picks)?));
    m.state = Set(RemoteDrawState::Drawn);
    m.updated_at = Set(uow.now());
    m.update(&*uow).await?;
    fed.send(
        uow,
        peer,
        RESULT,
        &json!({"request": c.request, "secret": hex::encode(secret), "drawn_for": inputs.request,
                "eligible": inputs.eligible, "picks": picks}),
    )
    .await?;
    uow.record(
        &AuditActor::system(),
        AuditEntry::new(
            Action::RemoteDrawRun,
            peer,
            json!({"draw": d.public_id, "request": c.request,
                   "picks": picks.iter().map(|p| json!({"seq": p.seq, "group": p.group, "expert": p.expert, "role": p.role})).collect::<Vec<_>>()}),
        ),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reading

/// One expert of a remote draw as a reader sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PickView {
    /// The order in which the draw produced it.
    pub seq: u32,
    /// The group (index into the request's groups).
    pub group: u32,
    /// The pseudonymous id the guest gave.
    pub expert: Uuid,
    /// `member`, `reserve` or `replacement`.
    pub role: algorithm::Role,
    /// The expert's name: only on the guest, for its own staff.
    pub name: Option<String>,
}

/// A remote draw as the centre and the supervisors see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemoteDrawView {
    /// This deployment's id of it.
    pub id: Uuid,
    /// The host's id of the request.
    pub request: Uuid,
    /// The other deployment.
    pub peer: String,
    /// `host` or `guest`.
    pub side: Side,
    /// The tender's code.
    pub tender_code: String,
    /// Where it stands.
    pub state: RemoteDrawState,
    /// When the session starts.
    pub session_at: DateTime<Utc>,
    /// What was asked.
    pub groups: Vec<AskGroup>,
    /// The guest's commitment (SHA-256 of its secret).
    pub commitment: Option<String>,
    /// The host's contribution.
    pub contribution: Option<String>,
    /// The experts drawn, by pseudonym.
    pub picks: Vec<PickView>,
    /// Why it was refused or failed (a code).
    pub failure: Option<String>,
    /// Asked or received.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

async fn view_of<C: sea_orm::ConnectionTrait>(db: &C, d: remote_draw::Model) -> AppResult<RemoteDrawView> {
    let asked: Asked = serde_json::from_str(&d.asked).map_err(AppError::internal)?;
    let picks: Vec<Pick> = match &d.picks {
        Some(p) => serde_json::from_str(p).map_err(AppError::internal)?,
        None => vec![],
    };
    let mut names: HashMap<Uuid, String> = HashMap::new();
    if d.side == Side::Guest && !picks.is_empty() {
        let behind = remote_draw_expert::Entity::find()
            .filter(remote_draw_expert::Column::DrawId.eq(d.id))
            .filter(remote_draw_expert::Column::Pseudonym.is_in(picks.iter().map(|p| p.expert)))
            .all(db)
            .await?;
        let experts: HashMap<ExpertId, String> = expert::Entity::find()
            .filter(expert::Column::Id.is_in(behind.iter().map(|b| b.expert_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.id, e.name))
            .collect();
        for b in behind {
            if let Some(n) = experts.get(&b.expert_id) {
                names.insert(b.pseudonym, n.clone());
            }
        }
    }
    Ok(RemoteDrawView {
        id: d.public_id,
        request: d.request_ref,
        peer: d.peer,
        side: d.side,
        tender_code: d.tender_code,
        state: d.state,
        session_at: asked.session_at,
        groups: asked.groups,
        commitment: d.commitment,
        contribution: d.contribution,
        picks: picks
            .into_iter()
            .map(|p| PickView {
                seq: p.seq,
                group: p.group,
                name: names.get(&p.expert).cloned(),
                expert: p.expert,
                role: p.role,
            })
            .collect(),
        failure: d.failure,
        created_at: d.created_at,
        updated_at: d.updated_at,
    })
}

/// Every remote draw of this deployment, newest first: the centre's staff and supervisors.
pub async fn list(fed: &Federation, actor: &Actor) -> AppResult<Vec<RemoteDrawView>> {
    if !watches_draws(actor) {
        return Err(AppError::forbidden());
    }
    let rows = remote_draw::Entity::find().order_by_desc(remote_draw::Column::Id).all(&fed.db).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(view_of(&fed.db, r).await?);
    }
    Ok(out)
}

/// One remote draw (this deployment's id): the centre's staff and supervisors.
pub async fn view(fed: &Federation, actor: &Actor, id: Uuid) -> AppResult<RemoteDrawView> {
    if !watches_draws(actor) {
        return Err(AppError::not_found());
    }
    let d = remote_draw::Entity::find()
        .filter(remote_draw::Column::PublicId.eq(id))
        .one(&fed.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    view_of(&fed.db, d).await
}
