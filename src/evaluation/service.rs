//! The evaluation session (评标): the second kind of live room. Opened by the centre's staff
//! once the committee's draw is published; the experts sign in at their site and sign the
//! avoidance declaration (a conflict makes the expert leave and calls a replacement from the
//! draw), elect a chair (not the procuring unit's representative), review each bid's
//! qualification and compliance item by item, score the bids that pass, resolve the
//! consistency flags and sign their sheets with their password. The price score is computed,
//! never entered. Every step is a command in one unit of work, audited, and a live event.

use super::{
    model::*,
    precheck::{self, LotLimits, OpenedBid},
    scoring::{self, Points, Standing},
};
use crate::{
    accounts::{
        model::{Actor, Role, SizeClass},
        service::verify_password,
    },
    audit::{Action, AuditActor, AuditEntry},
    config::EvaluationSettings,
    draw::{
        model::{DrawState, PickStatus},
        service::{self as draws, Draws},
    },
    entities::{
        draw, evaluation, evaluation_member, evaluation_remark, evaluation_score, evaluation_vote, expert, lot,
        organisation, site, tender, user,
    },
    error::{AppError, AppResult, FieldError, check_text},
    ids::{BidId, EvaluationId, LotId, MemberId, OrgId, SiteId, UserId},
    live::{Audience, Entry, RoomKey, RoomKind, Viewer as _},
    money::Money,
    opening::{Openings, service::ReadForm},
    tenders::{
        criteria::Criteria,
        model::{EvaluationMethod, TOTAL_PRICE, TenderState},
        service::criteria_of,
    },
    uow::{UnitOfWork, Writer},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use utoipa::ToSchema;
use uuid::Uuid;

/// What the evaluation services and routes use.
#[derive(Clone)]
pub struct Evaluations {
    writer: Writer,
    openings: Openings,
    draws: Draws,
    settings: EvaluationSettings,
    limits: crate::live::limit::CommandLimits,
    session_check: std::time::Duration,
    texts: std::sync::Arc<crate::web::i18n::I18n>,
    /// The bid forms read out at each tender's opening, which never change once the tender is
    /// in evaluation: read (one vault decryption per bid) once, not on every command and view.
    forms: FormCache,
    /// Each open session's bids, fixed once it is open.
    bids: BidCache,
}

/// The read-out bid forms by tender, at most [`FORM_CACHE`] tenders (then emptied and refilled).
type FormCache = std::sync::Arc<std::sync::Mutex<HashMap<crate::ids::TenderId, std::sync::Arc<Vec<ReadForm>>>>>;

/// A session's bids (with their letters and evaluated prices) by session, as many sessions as
/// [`FORM_CACHE`]: fixed once the session is open, and read by every command.
type BidCache = std::sync::Arc<std::sync::Mutex<HashMap<EvaluationId, std::sync::Arc<Vec<SessionBid>>>>>;

/// How many tenders' bid forms are kept.
const FORM_CACHE: usize = 256;

impl std::fmt::Debug for Evaluations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluations").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// What a supervisor's note, a dissent or a reopening takes from the sender's allowance.
pub const TEXT_COST: u32 = 10;

/// Longest note, dissent or reason.
const MAX_TEXT: usize = 2000;

impl Evaluations {
    /// The sessions' service.
    pub fn new(
        writer: Writer,
        openings: Openings,
        draws: Draws,
        settings: EvaluationSettings,
        live: &crate::config::LiveSettings,
        texts: std::sync::Arc<crate::web::i18n::I18n>,
    ) -> Self {
        Self {
            writer,
            openings,
            draws,
            settings,
            texts,
            limits: crate::live::limit::CommandLimits::new(live),
            session_check: std::time::Duration::from_secs(live.session_check_seconds),
            forms: FormCache::default(),
            bids: BidCache::default(),
        }
    }

    /// The participants' command allowances.
    pub fn limits(&self) -> &crate::live::limit::CommandLimits {
        &self.limits
    }

    /// The platform's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.writer.clock().now()
    }

    /// What the sessions' websockets need.
    pub fn wiring(&self) -> crate::live::ws::Wiring {
        crate::live::ws::Wiring::of(&self.writer, &self.limits, self.session_check)
    }

    fn db(&self) -> &sea_orm::DatabaseConnection {
        self.writer.db()
    }
}

impl RoomKind for Evaluations {
    const KIND: &'static str = "evaluation";
    type Event = EvalEvent;
    type Viewer = Viewer;
    type Command = Command;
    type Id = EvaluationId;

    async fn enter(&self, actor: &Actor, id: Uuid) -> AppResult<Entry<Viewer>> {
        let (view, ev_id, viewer) = self.view_with(actor, id).await?;
        Ok(Entry { room: room(ev_id), viewer, hello: serde_json::to_value(view).map_err(AppError::internal)? })
    }

    async fn execute(&self, actor: &Actor, id: Uuid, cmd: Command) -> AppResult<()> {
        Evaluations::execute(self, actor, id, cmd).await
    }

    fn cost(cmd: &Command) -> u32 {
        match cmd {
            Command::Note { .. } | Command::Dissent { .. } | Command::Reopen { .. } => TEXT_COST,
            _ => 1,
        }
    }
}

/// The live room of a session.
pub fn room(id: EvaluationId) -> RoomKey {
    Evaluations::key(id)
}

/// Whether the actor hosts sessions: the centre's staff (and the platform's administrator).
pub fn hosts(a: &Actor) -> bool {
    draws::runs_draws(a)
}

fn platform() -> AuditActor {
    AuditActor { user_id: None, org_id: None, label: "platform (evaluation)".into() }
}

/// Opening a session.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct OpenInput {
    /// The user name of the procuring unit's representative, when the draw says one sits.
    #[serde(default)]
    pub representative: Option<String>,
}

/// Everything a session works from, loaded in one place.
/// Where a signer's password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Here, against the member's own account.
    Here,
    /// By the guest deployment the member signs in at, which signed the relayed command with
    /// its site key (checked by the link) for a member it seated.
    AtGuest,
}

struct Loaded {
    t: tender::Model,
    ev: evaluation::Model,
    criteria: Criteria,
    members: Vec<evaluation_member::Model>,
    bids: std::sync::Arc<Vec<SessionBid>>,
}

/// The code of each session's tender, by session: what the records about sessions (ratings,
/// fees) show.
pub async fn tender_codes<C: ConnectionTrait>(
    db: &C,
    sessions: impl IntoIterator<Item = EvaluationId>,
) -> AppResult<HashMap<EvaluationId, String>> {
    let evs: HashMap<EvaluationId, crate::ids::TenderId> = evaluation::Entity::find()
        .filter(evaluation::Column::Id.is_in(sessions))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e.tender_id))
        .collect();
    let codes: HashMap<crate::ids::TenderId, String> = tender::Entity::find()
        .filter(tender::Column::Id.is_in(evs.values().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.code))
        .collect();
    Ok(evs.into_iter().filter_map(|(e, t)| codes.get(&t).map(|c| (e, c.clone()))).collect())
}

/// A bid ranked by a signed evaluation ([`Evaluations::signed_candidates`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedBid {
    /// The bid.
    pub bid_id: BidId,
    /// Its public id.
    pub bid: Uuid,
    /// Its lot.
    pub lot_id: LotId,
    /// Its bidder.
    pub org_id: crate::ids::OrgId,
    /// The bidder's name.
    pub name: String,
    /// The bid's price as read out (before any deduction).
    pub price: Money,
    /// Its total score, hundredths (0 under the lowest evaluated price method).
    pub total: i64,
    /// Its rank in the lot, from 1.
    pub rank: u32,
}

/// A bid in the session.
#[derive(Debug, Clone)]
struct SessionBid {
    id: BidId,
    public_id: Uuid,
    lot_id: LotId,
    lot: String,
    lot_public: Uuid,
    org_id: crate::ids::OrgId,
    bidder: String,
    letter: String,
    price: Money,
    sme: bool,
    evaluated: Money,
}

impl Loaded {
    fn seated(&self) -> impl Iterator<Item = &evaluation_member::Model> {
        self.members.iter().filter(|m| m.status == MemberStatus::Seated)
    }

    fn member_by_public(&self, id: Uuid) -> AppResult<&evaluation_member::Model> {
        self.members
            .iter()
            .find(|m| m.public_id == id && m.status == MemberStatus::Seated)
            .ok_or_else(|| AppError::invalid_field("member", "unknown"))
    }

    fn bid_by_public(&self, id: Uuid) -> AppResult<&SessionBid> {
        self.bids.iter().find(|b| b.public_id == id).ok_or_else(|| AppError::invalid_field("bid", "unknown"))
    }

    /// The lots given back for re-evaluation while it runs (none otherwise).
    fn given_back(&self) -> AppResult<Vec<LotId>> {
        match &self.ev.reopened_lots {
            None => Ok(Vec::new()),
            Some(s) => serde_json::from_str::<Vec<i64>>(s)
                .map(|v| v.into_iter().map(LotId).collect())
                .map_err(|e| AppError::internal(format!("evaluations.reopened_lots of row {}: {e}", self.ev.id))),
        }
    }

    /// During a re-evaluation only the bids of the lots given back may be voted on or scored
    /// again: the other lots' results stand.
    fn may_change(&self, b: &SessionBid) -> AppResult<()> {
        if lot_may_change(&self.given_back()?, b.lot_id) {
            Ok(())
        } else {
            Err(AppError::conflict("lot_closed", "only the lots given back for re-evaluation may change")
                .with_arg("lot", b.lot.clone()))
        }
    }
}

/// Whether a bid of `lot` may be voted on or scored, `given_back` being the lots of a
/// re-evaluation (none outside one).
fn lot_may_change(given_back: &[LotId], lot: LotId) -> bool {
    given_back.is_empty() || given_back.contains(&lot)
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        h.update(&(p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finish().as_ref())
}

fn rank_key_bytes(ev: &evaluation::Model) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(v) = hex::decode(&ev.rank_key)
        && v.len() == 32
    {
        out.copy_from_slice(&v);
    }
    out
}

/// Letters for anonymous bids: A…Z, then AA, AB…
fn letter(n: usize) -> String {
    let mut n = n;
    let mut s = String::new();
    loop {
        s.insert(0, (b'A' + (n % 26) as u8) as char);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s
}

async fn org_names<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = OrgId>,
) -> AppResult<HashMap<OrgId, organisation::Model>> {
    let ids: Vec<OrgId> = ids.into_iter().collect();
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect())
}

fn is_sme(o: Option<&organisation::Model>) -> bool {
    o.and_then(|o| o.size_class).is_some_and(|s| matches!(s, SizeClass::Small | SizeClass::Micro))
}

impl Evaluations {
    async fn tender_by_public<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<tender::Model> {
        tender::Entity::find().filter(tender::Column::PublicId.eq(id)).one(db).await?.ok_or_else(AppError::not_found)
    }

    /// The bid forms read out at the tender's opening, from the cache once read. Only a tender in
    /// evaluation is cached: its opening is over and its reading final.
    async fn forms_of<C: ConnectionTrait>(
        &self,
        db: &C,
        t: &tender::Model,
    ) -> AppResult<std::sync::Arc<Vec<ReadForm>>> {
        let cached = self.forms.lock().map_err(|_| AppError::internal("form cache poisoned"))?.get(&t.id).cloned();
        if let Some(f) = cached {
            return Ok(f);
        }
        let forms = std::sync::Arc::new(self.openings.read_forms(db, t.id).await?);
        if t.state == TenderState::Evaluating {
            let mut cache = self.forms.lock().map_err(|_| AppError::internal("form cache poisoned"))?;
            if cache.len() >= FORM_CACHE {
                cache.clear();
            }
            cache.insert(t.id, forms.clone());
        }
        Ok(forms)
    }

    /// The session's bids: the valid bids read out at the opening, with their letters (a
    /// recorded shuffle by the session's rank key) and evaluated prices.
    async fn bids_of<C: ConnectionTrait>(
        &self,
        db: &C,
        t: &tender::Model,
        criteria: &Criteria,
        labels: &BTreeMap<Uuid, String>,
    ) -> AppResult<(Vec<SessionBid>, std::sync::Arc<Vec<ReadForm>>)> {
        let forms = self.forms_of(db, t).await?;
        let lots: HashMap<LotId, lot::Model> = lot::Entity::find()
            .filter(lot::Column::TenderId.eq(t.id))
            .all(db)
            .await?
            .into_iter()
            .map(|l| (l.id, l))
            .collect();
        let orgs = org_names(db, forms.iter().map(|f| f.org_id)).await?;
        let mut bids = Vec::new();
        for f in forms.iter() {
            let price = f.form.get(TOTAL_PRICE).and_then(|p| Money::parse_yuan(p).ok()).unwrap_or(Money::ZERO);
            let org = orgs.get(&f.org_id);
            let sme = is_sme(org) && !criteria.sme_reserved;
            let l = lots.get(&f.lot_id);
            bids.push(SessionBid {
                id: f.bid.id,
                public_id: f.bid.public_id,
                lot_id: f.lot_id,
                lot: l.map(|l| l.name.clone()).unwrap_or_default(),
                lot_public: l.map(|l| l.public_id).unwrap_or_default(),
                org_id: f.org_id,
                bidder: org.map(|o| o.name.clone()).unwrap_or_default(),
                letter: labels.get(&f.bid.public_id).cloned().unwrap_or_default(),
                price,
                sme,
                evaluated: scoring::evaluated_price(price, sme, criteria.sme_deduction_percent),
            });
        }
        Ok((bids, forms))
    }

    async fn load<C: ConnectionTrait>(&self, db: &C, tender_id: Uuid) -> AppResult<Loaded> {
        let t = Self::tender_by_public(db, tender_id).await?;
        let ev = evaluation::Entity::find()
            .filter(evaluation::Column::TenderId.eq(t.id))
            .one(db)
            .await?
            .ok_or_else(AppError::not_found)?;
        let criteria = criteria_of(&t)?.ok_or_else(|| AppError::internal("a session of a tender without criteria"))?;
        let members = evaluation_member::Entity::find()
            .filter(evaluation_member::Column::EvaluationId.eq(ev.id))
            .order_by_asc(evaluation_member::Column::Seq)
            .all(db)
            .await?;
        let cached = self.bids.lock().map_err(|_| AppError::internal("bid cache poisoned"))?.get(&ev.id).cloned();
        let bids = match cached {
            Some(b) => b,
            None => {
                let labels: BTreeMap<Uuid, String> = serde_json::from_str(&ev.labels)
                    .map_err(|e| AppError::internal(format!("evaluations.labels of row {}: {e}", ev.id)))?;
                let bids = std::sync::Arc::new(self.bids_of(db, &t, &criteria, &labels).await?.0);
                if t.state == TenderState::Evaluating {
                    let mut cache = self.bids.lock().map_err(|_| AppError::internal("bid cache poisoned"))?;
                    if cache.len() >= FORM_CACHE {
                        cache.clear();
                    }
                    cache.insert(ev.id, bids.clone());
                }
                bids
            }
        };
        Ok(Loaded { t, ev, criteria, members, bids })
    }

    /// Who the actor is in the session, or 404.
    async fn viewer_of<C: ConnectionTrait>(&self, db: &C, actor: &Actor, l: &Loaded) -> AppResult<Viewer> {
        if l.seated().any(|m| m.user_id == actor.user_id) {
            return Ok(Viewer::Member { user_id: actor.user_id });
        }
        if actor.role == Role::Expert {
            let seats = draws::committee(db, l.ev.draw_id).await?;
            if seats.iter().any(|s| s.expert.user_id == Some(actor.user_id) && s.pick.status == PickStatus::Confirmed) {
                return Ok(Viewer::Expert { user_id: actor.user_id });
            }
        }
        if hosts(actor) {
            return Ok(Viewer::Host);
        }
        if actor.role == Role::Supervisor {
            return Ok(Viewer::Supervisor);
        }
        Err(AppError::not_found())
    }

    // -----------------------------------------------------------------------------------------
    // Opening the session

    /// Opens the session of a tender in evaluation whose committee's draw is published: the
    /// bids read out, their 清标 findings, the letters of the anonymous part and the key of the
    /// tie-breaking draw are fixed now.
    pub async fn open(&self, actor: &Actor, tender_id: Uuid, input: OpenInput) -> AppResult<()> {
        if !hosts(actor) {
            return Err(AppError::forbidden());
        }
        let mut uow = self.writer.begin().await?;
        let t = Self::tender_by_public(&uow, tender_id).await?;
        if t.state != TenderState::Evaluating {
            return Err(AppError::conflict("wrong_state", "only a tender in evaluation has a session"));
        }
        if evaluation::Entity::find().filter(evaluation::Column::TenderId.eq(t.id)).one(&uow).await?.is_some() {
            return Err(AppError::conflict("session_exists", "this tender's session is already open"));
        }
        let d = draw::Entity::find()
            .filter(draw::Column::TenderId.eq(t.id))
            .one(&uow)
            .await?
            .filter(|d| d.state == DrawState::Published)
            .ok_or_else(|| AppError::conflict("draw_not_published", "the committee's draw must be published first"))?;
        let criteria =
            criteria_of(&t)?.ok_or_else(|| AppError::rule("criteria_missing", "the tender has no criteria"))?;
        let secret = d.secret.clone().unwrap_or_default();
        let rank_key = hex_sha256(&[b"tenderhall.evaluation.v1", secret.as_bytes(), t.public_id.as_bytes()]);
        let (mut bids, forms) = self.bids_of(&uow, &t, &criteria, &BTreeMap::new()).await?;
        // The letters: the bids ordered by SHA-256(rank key ‖ bid id), a shuffle anyone holding
        // the published secret can repeat.
        bids.sort_by_key(|b| hex_sha256(&[rank_key.as_bytes(), b.public_id.as_bytes()]));
        let labels: BTreeMap<Uuid, String> = bids.iter().enumerate().map(|(i, b)| (b.public_id, letter(i))).collect();
        let lots: HashMap<LotId, lot::Model> = lot::Entity::find()
            .filter(lot::Column::TenderId.eq(t.id))
            .all(&uow)
            .await?
            .into_iter()
            .map(|l| (l.id, l))
            .collect();
        let mut findings = Vec::new();
        for (lot_id, l) in &lots {
            let opened: Vec<OpenedBid<Uuid>> = forms
                .iter()
                .filter(|f| f.lot_id == *lot_id)
                .map(|f| OpenedBid {
                    key: f.bid.public_id,
                    total_price: f.form.get(TOTAL_PRICE).and_then(|p| Money::parse_yuan(p).ok()).unwrap_or(Money::ZERO),
                    total_in_words: f.form.get("total_price_words").cloned(),
                    lines: Vec::new(),
                })
                .collect();
            let limits = LotLimits { budget: l.budget_fen, ceiling: l.ceiling_fen };
            for (bid, f) in precheck::precheck(&limits, &opened, self.settings.abnormal_low_percent) {
                findings.push(FindingView {
                    bid,
                    code: f.code().to_string(),
                    data: serde_json::to_value(&f).map_err(AppError::internal)?,
                });
            }
        }
        findings.sort_by(|a, b| (labels.get(&a.bid), &a.code).cmp(&(labels.get(&b.bid), &b.code)));
        let site = crate::sites::service::site_of_user(&uow, actor.user_id).await?;
        let ev = evaluation::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            tender_id: Set(t.id),
            draw_id: Set(d.id),
            phase: Set(Phase::SignIn),
            chair_member_id: Set(None),
            host_site_id: Set(site.as_ref().map(|s| s.id)),
            labels: Set(serde_json::to_string(&labels).map_err(AppError::internal)?),
            rank_key: Set(rank_key.clone()),
            findings: Set(serde_json::to_string(&findings).map_err(AppError::internal)?),
            opened_by: Set(actor.user_id),
            opened_at: Set(uow.now()),
            signed_at: Set(None),
            report_sha256: Set(None),
            ..Default::default()
        }
        .insert(&uow)
        .await?;
        let mut rep_name = None;
        if d.purchaser_rep {
            let name = input
                .representative
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| AppError::invalid_field("representative", "required"))?;
            let rep = user::Entity::find()
                .filter(user::Column::Username.eq(name))
                .one(&uow)
                .await?
                .filter(|u| u.org_id == t.procuring_org_id && u.role == Role::ProcuringStaff)
                .ok_or_else(|| AppError::invalid_field("representative", "not_procuring_staff"))?;
            evaluation_member::ActiveModel {
                public_id: Set(Uuid::new_v4()),
                evaluation_id: Set(ev.id),
                seq: Set(0),
                user_id: Set(rep.id),
                expert_id: Set(None),
                pick_id: Set(None),
                site_id: Set(ev.host_site_id),
                is_rep: Set(true),
                status: Set(MemberStatus::Seated),
                ..Default::default()
            }
            .insert(&uow)
            .await?;
            rep_name = Some(rep.display_name);
        }
        let seats = draws::committee(&uow, d.id).await?.len() + usize::from(d.purchaser_rep);
        uow.emit(room(ev.id), Audience::All, &EvalEvent::Opened { seats }).await?;
        uow.record(
            &actor.audit(),
            AuditEntry::new(
                Action::EvaluationOpen,
                t.public_id,
                json!({"session": ev.public_id, "bids": labels.len(), "findings": findings.len(), "rank_key": rank_key,
                       "labels": labels, "representative": rep_name}),
            ),
        )
        .await?;
        uow.commit().await
    }

    // -----------------------------------------------------------------------------------------
    // Commands

    /// Seats a member taking part from the peer deployment `peer` (drawn there, named here by a
    /// pseudonym) in the session of `tender_id`, still in its sign-in, as the account `user_id` at
    /// `site_id`. It signs in, declares, votes, scores and signs through the commands the peer
    /// relays. Returns the member's public id.
    pub async fn seat_remote(
        &self,
        uow: &mut UnitOfWork,
        tender_id: Uuid,
        user_id: UserId,
        site_id: SiteId,
        peer: &str,
    ) -> AppResult<Uuid> {
        let l = self.load(&*uow, tender_id).await?;
        if l.ev.phase != Phase::SignIn {
            return Err(AppError::conflict("out_of_turn", "members are seated while the session signs in"));
        }
        if l.members.iter().any(|m| m.user_id == user_id) {
            return Err(AppError::conflict("already_seated", "this member is already seated"));
        }
        let m = evaluation_member::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            evaluation_id: Set(l.ev.id),
            seq: Set(l.members.iter().map(|m| m.seq).max().unwrap_or(0) + 1),
            user_id: Set(user_id),
            expert_id: Set(None),
            pick_id: Set(None),
            site_id: Set(Some(site_id)),
            is_rep: Set(false),
            status: Set(MemberStatus::Seated),
            peer: Set(Some(peer.to_string())),
            ..Default::default()
        }
        .insert(&*uow)
        .await?;
        Ok(m.public_id)
    }

    /// The internal id of the session of a tender (public id).
    pub async fn session_of<C: ConnectionTrait>(&self, db: &C, tender_id: Uuid) -> AppResult<EvaluationId> {
        Ok(self.load(db, tender_id).await?.ev.id)
    }

    /// Carries out a participant's command; a refusal changes nothing.
    pub async fn execute(&self, actor: &Actor, tender_id: Uuid, cmd: Command) -> AppResult<()> {
        let mut uow = self.writer.begin().await?;
        self.execute_in(&mut uow, actor, tender_id, cmd, Checked::Here).await?;
        uow.commit().await
    }

    /// Carries out a participant's command in `uow` (a command relayed by a guest deployment
    /// is applied in the unit of work that receives it); `checked` says where the signer's
    /// password was checked.
    pub async fn execute_in(
        &self,
        uow: &mut UnitOfWork,
        actor: &Actor,
        tender_id: Uuid,
        cmd: Command,
        checked: Checked,
    ) -> AppResult<()> {
        let l = self.load(&*uow, tender_id).await?;
        let viewer = self.viewer_of(&*uow, actor, &l).await?;
        let me = l.seated().find(|m| m.user_id == actor.user_id).cloned();
        let member = || {
            me.clone().ok_or_else(|| {
                AppError::forbidden_because("not_a_member", "only a member of the committee may do this")
            })
        };
        let in_phase = |phases: &[Phase]| {
            if phases.contains(&l.ev.phase) {
                Ok(())
            } else {
                Err(AppError::conflict("out_of_turn", format!("not possible while the session is in {}", l.ev.phase)))
            }
        };
        let now = uow.now();
        let audit = actor.audit();
        let tp = l.t.public_id;
        let r = room(l.ev.id);
        match cmd {
            Command::SignIn => {
                in_phase(&[Phase::SignIn])?;
                if let Some(m) = me.as_ref().filter(|m| m.peer.is_some() && m.signed_in_at.is_none()) {
                    // A member seated for a peer deployment signs in there; this is its arrival.
                    let mut am: evaluation_member::ActiveModel = m.clone().into();
                    am.signed_in_at = Set(Some(now));
                    am.update(&*uow).await?;
                    let site = match m.site_id {
                        Some(s) => site::Entity::find_by_id(s).one(&*uow).await?.map(|s| s.name),
                        None => None,
                    };
                    let name = self.member_name(&*uow, m).await?;
                    uow.emit(r, Audience::All, &EvalEvent::SignedIn { member: m.public_id, name, site: site.clone() })
                        .await?;
                    uow.record(
                        &audit,
                        AuditEntry::new(
                            Action::EvaluationSignIn,
                            tp,
                            json!({"member": m.public_id, "site": site, "peer": m.peer}),
                        ),
                    )
                    .await?;
                    return Ok(());
                }
                if me.is_some() {
                    return Err(AppError::conflict("already_signed_in", "already signed in"));
                }
                if !matches!(viewer, Viewer::Expert { .. }) {
                    return Err(AppError::forbidden_because(
                        "not_a_member",
                        "only an expert of the committee signs in",
                    ));
                }
                let seat = draws::committee(&*uow, l.ev.draw_id)
                    .await?
                    .into_iter()
                    .find(|s| s.expert.user_id == Some(actor.user_id) && s.pick.status == PickStatus::Confirmed)
                    .ok_or_else(AppError::not_found)?;
                let seq = l.members.iter().map(|m| m.seq).max().unwrap_or(0) + 1;
                let m = evaluation_member::ActiveModel {
                    public_id: Set(Uuid::new_v4()),
                    evaluation_id: Set(l.ev.id),
                    seq: Set(seq),
                    user_id: Set(actor.user_id),
                    expert_id: Set(Some(seat.expert.id)),
                    pick_id: Set(Some(seat.pick.id)),
                    site_id: Set(Some(seat.expert.site_id)),
                    is_rep: Set(false),
                    status: Set(MemberStatus::Seated),
                    signed_in_at: Set(Some(now)),
                    ..Default::default()
                }
                .insert(&*uow)
                .await?;
                let site = site::Entity::find_by_id(seat.expert.site_id).one(&*uow).await?.map(|s| s.name);
                uow.emit(
                    r,
                    Audience::All,
                    &EvalEvent::SignedIn { member: m.public_id, name: seat.expert.name.clone(), site: site.clone() },
                )
                .await?;
                uow.record(
                    &audit,
                    AuditEntry::new(Action::EvaluationSignIn, tp, json!({"member": m.public_id, "site": site})),
                )
                .await?;
            }
            Command::Declare { conflict, note } => {
                in_phase(&[Phase::SignIn])?;
                let m = member()?;
                if m.declared_at.is_some() {
                    return Err(AppError::conflict("already_declared", "the declaration is already signed"));
                }
                if m.is_rep && m.signed_in_at.is_none() {
                    // The representative signs in with the declaration.
                }
                let note = note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
                if conflict {
                    let text = note.ok_or_else(|| AppError::invalid_field("note", "required"))?;
                    check_len("note", &text)?;
                    let mut am: evaluation_member::ActiveModel = m.clone().into();
                    am.status = Set(MemberStatus::Withdrawn);
                    am.left_reason = Set(Some(text.clone()));
                    am.declared_at = Set(Some(now));
                    am.update(&*uow).await?;
                    if let Some(e) = m.expert_id {
                        draws::withdraw(&self.draws, &mut *uow, l.ev.draw_id, e).await?;
                    }
                    uow.emit(r, Audience::All, &EvalEvent::Withdrew { member: m.public_id }).await?;
                    uow.record(
                        &audit,
                        AuditEntry::new(
                            Action::EvaluationDeclare,
                            tp,
                            json!({"member": m.public_id, "conflict": true, "note": text}),
                        ),
                    )
                    .await?;
                } else {
                    let mut am: evaluation_member::ActiveModel = m.clone().into();
                    am.declared_at = Set(Some(now));
                    if m.signed_in_at.is_none() {
                        am.signed_in_at = Set(Some(now));
                    }
                    am.update(&*uow).await?;
                    uow.emit(r, Audience::All, &EvalEvent::Declared { member: m.public_id }).await?;
                    uow.record(
                        &audit,
                        AuditEntry::new(
                            Action::EvaluationDeclare,
                            tp,
                            json!({"member": m.public_id, "conflict": false}),
                        ),
                    )
                    .await?;
                }
            }
            Command::VoteChair { member: choice } => {
                in_phase(&[Phase::Chair])?;
                let m = member()?;
                let target = l.member_by_public(choice)?;
                if target.is_rep {
                    return Err(AppError::rule(
                        "rep_cannot_chair",
                        "the procuring unit's representative cannot be the chair",
                    ));
                }
                let mut am: evaluation_member::ActiveModel = m.clone().into();
                am.chair_vote = Set(Some(target.id));
                am.update(&*uow).await?;
                uow.emit(r, Audience::All, &EvalEvent::ChairVoted { member: m.public_id }).await?;
                uow.record(
                    &audit,
                    AuditEntry::new(
                        Action::EvaluationChair,
                        tp,
                        json!({"member": m.public_id, "for": target.public_id}),
                    ),
                )
                .await?;
                let mut votes: Vec<(MemberId, Option<MemberId>)> =
                    l.seated().map(|s| (s.id, if s.id == m.id { Some(target.id) } else { s.chair_vote })).collect();
                if votes.iter().all(|(_, v)| v.is_some()) {
                    let mut tally: BTreeMap<MemberId, usize> = BTreeMap::new();
                    for (_, v) in votes.drain(..) {
                        *tally.entry(v.unwrap_or(target.id)).or_default() += 1;
                    }
                    // Most votes; between equals, the earlier seat.
                    let seq_of = |id: &MemberId| l.members.iter().find(|x| x.id == *id).map_or(i32::MAX, |x| x.seq);
                    let chair = tally
                        .iter()
                        .max_by(|a, b| a.1.cmp(b.1).then_with(|| seq_of(b.0).cmp(&seq_of(a.0))))
                        .map(|(id, _)| *id)
                        .unwrap_or(target.id);
                    evaluation::ActiveModel {
                        id: Set(l.ev.id),
                        chair_member_id: Set(Some(chair)),
                        ..Default::default()
                    }
                    .update(&*uow)
                    .await?;
                    let c = l
                        .members
                        .iter()
                        .find(|x| x.id == chair)
                        .ok_or_else(|| AppError::internal("chair not a member"))?;
                    let name = self.member_name(&*uow, c).await?;
                    uow.emit(r, Audience::All, &EvalEvent::ChairElected { member: c.public_id, name: name.clone() })
                        .await?;
                    uow.record(
                        &platform(),
                        AuditEntry::new(
                            Action::EvaluationChair,
                            tp,
                            json!({"elected": c.public_id, "name": name, "votes": tally.get(&chair)}),
                        ),
                    )
                    .await?;
                }
            }
            Command::Advance { from } => {
                if viewer != Viewer::Host {
                    return Err(AppError::forbidden());
                }
                if l.ev.phase != from {
                    return Err(AppError::conflict("out_of_turn", format!("the session is in {}", l.ev.phase)));
                }
                self.check_can_leave(&*uow, &l).await?;
                let next = from.next().filter(|p| *p != Phase::Signed).ok_or_else(|| {
                    AppError::conflict("sheets_unsigned", "the session ends when every member has signed")
                })?;
                evaluation::ActiveModel { id: Set(l.ev.id), phase: Set(next), ..Default::default() }
                    .update(&*uow)
                    .await?;
                uow.emit(r, Audience::All, &EvalEvent::Phase { phase: next }).await?;
                uow.record(&audit, AuditEntry::new(Action::EvaluationPhase, tp, json!({"from": from, "to": next})))
                    .await?;
            }
            Command::Vote { stage, bid, item, pass, reason } => {
                let phase = match stage {
                    Stage::Qualification => Phase::Qualification,
                    Stage::Compliance => Phase::Compliance,
                };
                in_phase(&[phase])?;
                let m = member()?;
                let b = l.bid_by_public(bid)?.clone();
                l.may_change(&b)?;
                let items = match stage {
                    Stage::Qualification => &l.criteria.qualification,
                    Stage::Compliance => &l.criteria.compliance,
                };
                if !items.iter().any(|i| i.key == item) {
                    return Err(AppError::invalid_field("item", "unknown"));
                }
                if stage == Stage::Compliance && !self.passed(&*uow, &l, Stage::Qualification).await?.contains(&b.id) {
                    return Err(AppError::conflict("bid_out", "this bid did not pass the qualification review"));
                }
                let reason = reason.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
                if !pass && reason.is_none() {
                    return Err(AppError::invalid_field("reason", "required"));
                }
                if let Some(t) = &reason {
                    check_len("reason", t)?;
                }
                let existing = evaluation_vote::Entity::find()
                    .filter(evaluation_vote::Column::MemberId.eq(m.id))
                    .filter(evaluation_vote::Column::BidId.eq(b.id))
                    .filter(evaluation_vote::Column::Stage.eq(stage))
                    .filter(evaluation_vote::Column::ItemKey.eq(item.as_str()))
                    .one(&*uow)
                    .await?;
                match existing {
                    Some(v) => {
                        let mut am: evaluation_vote::ActiveModel = v.into();
                        am.pass = Set(pass);
                        am.reason = Set(reason.clone());
                        am.at = Set(now);
                        am.update(&*uow).await?;
                    }
                    None => {
                        evaluation_vote::ActiveModel {
                            evaluation_id: Set(l.ev.id),
                            member_id: Set(m.id),
                            bid_id: Set(b.id),
                            stage: Set(stage),
                            item_key: Set(item.clone()),
                            pass: Set(pass),
                            reason: Set(reason.clone()),
                            at: Set(now),
                            ..Default::default()
                        }
                        .insert(&*uow)
                        .await?;
                    }
                }
                let (done, of) = self.progress(&*uow, &l, &m, phase).await?;
                uow.emit(r, Audience::All, &EvalEvent::Progress { member: m.public_id, done, of }).await?;
                uow.record(
                    &audit,
                    AuditEntry::new(
                        Action::EvaluationVote,
                        tp,
                        json!({"member": m.public_id, "stage": stage, "bid": b.public_id, "item": item, "pass": pass, "reason": reason}),
                    ),
                )
                .await?;
            }
            Command::Score { bid, item, points, reason } => {
                in_phase(&[Phase::Scoring, Phase::Signing])?;
                let m = member()?;
                if m.signed_at.is_some() {
                    return Err(AppError::conflict(
                        "sheet_signed",
                        "your sheets are signed; the chair may reopen them",
                    ));
                }
                if l.ev.phase == Phase::Signing && !self.reopened(&*uow, &l, &m).await? {
                    return Err(AppError::conflict(
                        "out_of_turn",
                        "scores change in the signing phase only on a reopened sheet",
                    ));
                }
                let b = l.bid_by_public(bid)?.clone();
                l.may_change(&b)?;
                let it = l
                    .criteria
                    .scoring_item(&item)
                    .cloned()
                    .ok_or_else(|| AppError::invalid_field("item", "unknown"))?;
                let scoring_bids = self.in_scoring(&*uow, &l).await?;
                if !scoring_bids.contains(&b.id) {
                    return Err(AppError::conflict("bid_out", "this bid did not pass the reviews"));
                }
                let p = Points::parse(&points).map_err(|_| AppError::invalid_field("points", "invalid_points"))?;
                scoring::check_score(p, Points::from_hundredths(it.max), Points::from_hundredths(it.step)).map_err(
                    |e| {
                        AppError::rule(
                            e.code(),
                            format!("{} is not a score of this item (0 to {}, step {})", points, it.max, it.step),
                        )
                        .with_arg("max", crate::tenders::criteria::show_points(it.max))
                        .with_arg("step", crate::tenders::criteria::show_points(it.step))
                    },
                )?;
                let reason = reason.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
                if let Some(t) = &reason {
                    check_len("reason", t)?;
                }
                let existing = evaluation_score::Entity::find()
                    .filter(evaluation_score::Column::MemberId.eq(m.id))
                    .filter(evaluation_score::Column::BidId.eq(b.id))
                    .filter(evaluation_score::Column::ItemKey.eq(item.as_str()))
                    .one(&*uow)
                    .await?;
                match existing {
                    Some(s) => {
                        let mut am: evaluation_score::ActiveModel = s.into();
                        am.points = Set(p.hundredths());
                        am.reason = Set(reason.clone());
                        am.at = Set(now);
                        am.update(&*uow).await?;
                    }
                    None => {
                        evaluation_score::ActiveModel {
                            evaluation_id: Set(l.ev.id),
                            member_id: Set(m.id),
                            bid_id: Set(b.id),
                            item_key: Set(item.clone()),
                            points: Set(p.hundredths()),
                            reason: Set(reason.clone()),
                            at: Set(now),
                            ..Default::default()
                        }
                        .insert(&*uow)
                        .await?;
                    }
                }
                let (missing, of) = self.scores_missing_of(&*uow, &l, Some(&m), &scoring_bids).await?;
                let done = of - missing;
                uow.emit(r, Audience::All, &EvalEvent::Progress { member: m.public_id, done, of }).await?;
                uow.record(
                    &audit,
                    AuditEntry::new(
                        Action::EvaluationScore,
                        tp,
                        json!({"member": m.public_id, "bid": b.public_id, "item": item, "points": p.hundredths(), "reason": reason}),
                    ),
                )
                .await?;
            }
            Command::Sign { password } => {
                in_phase(&[Phase::Signing])?;
                let m = member()?;
                if m.signed_at.is_some() {
                    return Err(AppError::conflict("sheet_signed", "your sheets are already signed"));
                }
                if checked == Checked::Here {
                    let u = user::Entity::find_by_id(m.user_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
                    if !verify_password(&password, &u.password_hash) {
                        return Err(AppError::rule("password_wrong", "the password is not right"));
                    }
                }
                let (missing, _) = self.scores_missing(&*uow, &l, Some(&m)).await?;
                if missing > 0 {
                    return Err(AppError::conflict("scores_missing", format!("{missing} scores are missing"))
                        .with_arg("missing", missing));
                }
                let flags = self.flags(&*uow, &l).await?;
                if flags.iter().any(|f| f.member.is_none() || f.member == Some(m.public_id)) {
                    return Err(AppError::conflict("consistency_open", "resolve the consistency flags before signing"));
                }
                let mut am: evaluation_member::ActiveModel = m.clone().into();
                am.signed_at = Set(Some(now));
                am.update(&*uow).await?;
                uow.emit(r, Audience::All, &EvalEvent::Signed { member: m.public_id }).await?;
                uow.record(&audit, AuditEntry::new(Action::EvaluationSign, tp, json!({"member": m.public_id}))).await?;
                let others_signed = l.seated().filter(|s| s.id != m.id).all(|s| s.signed_at.is_some());
                if others_signed {
                    self.complete(&mut *uow, &l).await?;
                }
            }
            Command::Reopen { member: target, reason, note } => {
                in_phase(&[Phase::Signing])?;
                let m = member()?;
                if l.ev.chair_member_id != Some(m.id) {
                    return Err(AppError::forbidden_because("not_chair", "only the chair reopens a sheet"));
                }
                let note = note.trim().to_string();
                if note.is_empty() {
                    return Err(AppError::invalid_field("note", "required"));
                }
                check_len("note", &note)?;
                let target = l.member_by_public(target)?.clone();
                if target.signed_at.is_none() {
                    return Err(AppError::conflict("not_signed", "this sheet is not signed"));
                }
                let mut am: evaluation_member::ActiveModel = target.clone().into();
                am.signed_at = Set(None);
                am.update(&*uow).await?;
                self.remark(&*uow, &l, actor, Some(target.id), RemarkKind::Reopen, Some(reason.as_str()), &note)
                    .await?;
                uow.emit(r, Audience::All, &EvalEvent::Reopened { member: target.public_id, reason }).await?;
                uow.record(
                    &audit,
                    AuditEntry::new(
                        Action::EvaluationReopen,
                        tp,
                        json!({"member": target.public_id, "reason": reason, "note": note}),
                    ),
                )
                .await?;
            }
            Command::Dissent { text } => {
                in_phase(&[Phase::Signing])?;
                let m = member()?;
                let text = text.trim().to_string();
                if text.is_empty() {
                    return Err(AppError::invalid_field("text", "required"));
                }
                check_len("text", &text)?;
                self.remark(&*uow, &l, actor, Some(m.id), RemarkKind::Dissent, None, &text).await?;
                uow.emit(r, Audience::All, &EvalEvent::Dissent { member: m.public_id }).await?;
                uow.record(
                    &audit,
                    AuditEntry::new(
                        Action::EvaluationRemark,
                        tp,
                        json!({"member": m.public_id, "kind": "dissent", "text": text}),
                    ),
                )
                .await?;
            }
            Command::Note { text } => {
                if viewer != Viewer::Supervisor {
                    return Err(AppError::forbidden());
                }
                let text = text.trim().to_string();
                if text.is_empty() {
                    return Err(AppError::invalid_field("text", "required"));
                }
                check_len("text", &text)?;
                self.remark(&*uow, &l, actor, None, RemarkKind::Note, None, &text).await?;
                uow.emit(r, Audience::Staff, &EvalEvent::Note { by: actor.display_name.clone(), text: text.clone() })
                    .await?;
                uow.record(
                    &audit,
                    AuditEntry::new(Action::EvaluationRemark, tp, json!({"kind": "note", "text": text})),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn member_name<C: ConnectionTrait>(&self, db: &C, m: &evaluation_member::Model) -> AppResult<String> {
        if let Some(e) = m.expert_id
            && let Some(e) = expert::Entity::find_by_id(e).one(db).await?
        {
            return Ok(e.name);
        }
        Ok(user::Entity::find_by_id(m.user_id).one(db).await?.map(|u| u.display_name).unwrap_or_default())
    }

    #[allow(clippy::too_many_arguments)]
    async fn remark(
        &self,
        uow: &UnitOfWork,
        l: &Loaded,
        actor: &Actor,
        member: Option<MemberId>,
        kind: RemarkKind,
        code: Option<&str>,
        body: &str,
    ) -> AppResult<()> {
        evaluation_remark::ActiveModel {
            evaluation_id: Set(l.ev.id),
            user_id: Set(actor.user_id),
            member_id: Set(member),
            kind: Set(kind),
            code: Set(code.map(str::to_string)),
            body: Set(body.to_string()),
            at: Set(uow.now()),
            ..Default::default()
        }
        .insert(uow)
        .await?;
        Ok(())
    }

    async fn reopened<C: ConnectionTrait>(&self, db: &C, l: &Loaded, m: &evaluation_member::Model) -> AppResult<bool> {
        Ok(evaluation_remark::Entity::find()
            .filter(evaluation_remark::Column::EvaluationId.eq(l.ev.id))
            .filter(evaluation_remark::Column::MemberId.eq(m.id))
            .filter(evaluation_remark::Column::Kind.eq(RemarkKind::Reopen))
            .one(db)
            .await?
            .is_some())
    }

    /// Whether the session may leave its phase: refuses with what is still missing.
    async fn check_can_leave<C: ConnectionTrait>(&self, db: &C, l: &Loaded) -> AppResult<()> {
        match l.ev.phase {
            Phase::SignIn => {
                let seats = draws::committee(db, l.ev.draw_id).await?.len()
                    + l.members.iter().filter(|m| m.is_rep || m.peer.is_some()).count();
                let ready = l.seated().filter(|m| m.declared_at.is_some()).count();
                let waiting = l.seated().filter(|m| m.declared_at.is_none()).count();
                if ready < seats || waiting > 0 {
                    return Err(AppError::conflict(
                        "committee_incomplete",
                        format!("{ready} of {seats} members have signed in and declared"),
                    )
                    .with_arg("ready", ready)
                    .with_arg("seats", seats));
                }
            }
            Phase::Chair => {
                if l.ev.chair_member_id.is_none() {
                    return Err(AppError::conflict("no_chair", "the committee has not elected its chair"));
                }
            }
            Phase::Qualification | Phase::Compliance => {
                let stage = if l.ev.phase == Phase::Qualification { Stage::Qualification } else { Stage::Compliance };
                let missing = self.votes_missing(db, l, stage).await?;
                if missing > 0 {
                    return Err(AppError::conflict("votes_missing", format!("{missing} votes are missing"))
                        .with_arg("missing", missing));
                }
            }
            Phase::Scoring => {
                let (missing, _) = self.scores_missing(db, l, None).await?;
                if missing > 0 {
                    return Err(AppError::conflict("scores_missing", format!("{missing} scores are missing"))
                        .with_arg("missing", missing));
                }
                let flags = self.flags(db, l).await?;
                if !flags.is_empty() {
                    return Err(AppError::conflict(
                        "consistency_open",
                        format!("{} consistency flags are open", flags.len()),
                    )
                    .with_arg("flags", flags.len()));
                }
            }
            Phase::Signing | Phase::Signed => {}
        }
        Ok(())
    }

    async fn votes<C: ConnectionTrait>(
        &self,
        db: &C,
        l: &Loaded,
        stage: Stage,
    ) -> AppResult<Vec<evaluation_vote::Model>> {
        Ok(evaluation_vote::Entity::find()
            .filter(evaluation_vote::Column::EvaluationId.eq(l.ev.id))
            .filter(evaluation_vote::Column::Stage.eq(stage))
            .all(db)
            .await?)
    }

    async fn scores<C: ConnectionTrait>(&self, db: &C, l: &Loaded) -> AppResult<Vec<evaluation_score::Model>> {
        Ok(evaluation_score::Entity::find().filter(evaluation_score::Column::EvaluationId.eq(l.ev.id)).all(db).await?)
    }

    /// The bids a stage reviews: every bid for the qualification, those that passed it for
    /// the compliance.
    async fn reviewed_in<C: ConnectionTrait>(&self, db: &C, l: &Loaded, stage: Stage) -> AppResult<Vec<BidId>> {
        Ok(match stage {
            Stage::Qualification => l.bids.iter().map(|b| b.id).collect(),
            Stage::Compliance => self.passed(db, l, Stage::Qualification).await?,
        })
    }

    async fn votes_missing<C: ConnectionTrait>(&self, db: &C, l: &Loaded, stage: Stage) -> AppResult<usize> {
        let items = match stage {
            Stage::Qualification => &l.criteria.qualification,
            Stage::Compliance => &l.criteria.compliance,
        };
        let bids = self.reviewed_in(db, l, stage).await?;
        let votes = self.votes(db, l, stage).await?;
        let mut missing = 0;
        for m in l.seated() {
            for b in &bids {
                for i in items {
                    if !votes.iter().any(|v| v.member_id == m.id && v.bid_id == *b && v.item_key == i.key) {
                        missing += 1;
                    }
                }
            }
        }
        Ok(missing)
    }

    /// The bids that passed every item of `stage` (and the stages before), by the majority of
    /// the seated members' votes.
    async fn passed<C: ConnectionTrait>(&self, db: &C, l: &Loaded, stage: Stage) -> AppResult<Vec<BidId>> {
        let q = self.votes(db, l, Stage::Qualification).await?;
        let mut ok: Vec<BidId> =
            l.bids.iter().map(|b| b.id).filter(|b| stage_passes(l, &q, *b, &l.criteria.qualification)).collect();
        if stage == Stage::Compliance {
            let c = self.votes(db, l, Stage::Compliance).await?;
            ok.retain(|b| stage_passes(l, &c, *b, &l.criteria.compliance));
        }
        Ok(ok)
    }

    async fn in_scoring<C: ConnectionTrait>(&self, db: &C, l: &Loaded) -> AppResult<Vec<BidId>> {
        self.passed(db, l, Stage::Compliance).await
    }

    /// Scores missing from the seated members' sheets (or `only` one member's), of how many.
    async fn scores_missing<C: ConnectionTrait>(
        &self,
        db: &C,
        l: &Loaded,
        only: Option<&evaluation_member::Model>,
    ) -> AppResult<(usize, usize)> {
        let bids = self.in_scoring(db, l).await?;
        self.scores_missing_of(db, l, only, &bids).await
    }

    /// As [`Self::scores_missing`], for the bids in scoring already known. Reads only the sheets
    /// counted: this runs with every score, under the write lock.
    async fn scores_missing_of<C: ConnectionTrait>(
        &self,
        db: &C,
        l: &Loaded,
        only: Option<&evaluation_member::Model>,
        bids: &[BidId],
    ) -> AppResult<(usize, usize)> {
        let mut q = evaluation_score::Entity::find().filter(evaluation_score::Column::EvaluationId.eq(l.ev.id));
        if let Some(m) = only {
            q = q.filter(evaluation_score::Column::MemberId.eq(m.id));
        }
        let given: HashSet<(MemberId, BidId, String)> =
            q.all(db).await?.into_iter().map(|s| (s.member_id, s.bid_id, s.item_key)).collect();
        let (mut missing, mut of) = (0, 0);
        for m in l.seated().filter(|m| only.is_none_or(|o| o.id == m.id)) {
            for b in bids {
                for i in &l.criteria.scoring {
                    of += 1;
                    if !given.contains(&(m.id, *b, i.key.clone())) {
                        missing += 1;
                    }
                }
            }
        }
        Ok((missing, of))
    }

    async fn progress<C: ConnectionTrait>(
        &self,
        db: &C,
        l: &Loaded,
        m: &evaluation_member::Model,
        phase: Phase,
    ) -> AppResult<(usize, usize)> {
        match phase {
            Phase::Qualification | Phase::Compliance => {
                let stage = if phase == Phase::Qualification { Stage::Qualification } else { Stage::Compliance };
                let items =
                    if stage == Stage::Qualification { &l.criteria.qualification } else { &l.criteria.compliance };
                let bids = self.reviewed_in(db, l, stage).await?;
                let votes = self.votes(db, l, stage).await?;
                let of = bids.len() * items.len();
                let done = votes.iter().filter(|v| v.member_id == m.id && bids.contains(&v.bid_id)).count();
                Ok((done, of))
            }
            _ => {
                let (missing, of) = self.scores_missing(db, l, Some(m)).await?;
                Ok((of - missing, of))
            }
        }
    }

    /// The open consistency flags: objective items scored differently, and subjective scores
    /// far from the others' mean without a written reason.
    async fn flags<C: ConnectionTrait>(&self, db: &C, l: &Loaded) -> AppResult<Vec<FlagView>> {
        let bids = self.in_scoring(db, l).await?;
        let scores = self.scores(db, l).await?;
        let seated: Vec<&evaluation_member::Model> = l.seated().collect();
        let mut out = Vec::new();
        for b in l.bids.iter().filter(|b| bids.contains(&b.id)) {
            for i in &l.criteria.scoring {
                let given: Vec<(&evaluation_member::Model, &evaluation_score::Model)> = seated
                    .iter()
                    .filter_map(|m| {
                        scores
                            .iter()
                            .find(|s| s.member_id == m.id && s.bid_id == b.id && s.item_key == i.key)
                            .map(|s| (*m, s))
                    })
                    .collect();
                if i.objective {
                    let pts: Vec<Points> = given.iter().map(|(_, s)| Points::from_hundredths(s.points)).collect();
                    if scoring::objective_disagrees(&pts) {
                        out.push(FlagView {
                            code: "objective_disagrees".into(),
                            bid: b.public_id,
                            item: i.key.clone(),
                            member: None,
                        });
                    }
                } else {
                    let keyed: Vec<(MemberId, Points)> =
                        given.iter().map(|(m, s)| (m.id, Points::from_hundredths(s.points))).collect();
                    for who in scoring::subjective_outliers(
                        &keyed,
                        Points::from_hundredths(i.max),
                        self.settings.subjective_deviation_percent,
                    ) {
                        let Some((m, s)) = given.iter().find(|(m, _)| m.id == who) else { continue };
                        if s.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                            out.push(FlagView {
                                code: "needs_reason".into(),
                                bid: b.public_id,
                                item: i.key.clone(),
                                member: Some(m.public_id),
                            });
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The results: each bid's reviews, mean item scores, price score, total and rank in its
    /// lot.
    async fn results<C: ConnectionTrait>(&self, db: &C, l: &Loaded) -> AppResult<Vec<ResultRow>> {
        let q = self.votes(db, l, Stage::Qualification).await?;
        let c = self.votes(db, l, Stage::Compliance).await?;
        let scores = self.scores(db, l).await?;
        let seated: Vec<&evaluation_member::Model> = l.seated().collect();
        let key = rank_key_bytes(&l.ev);
        let mut rows = Vec::new();
        let mut lots: Vec<LotId> = l.bids.iter().map(|b| b.lot_id).collect();
        lots.dedup();
        lots.sort();
        lots.dedup();
        for lot in lots {
            let in_lot: Vec<&SessionBid> = l.bids.iter().filter(|b| b.lot_id == lot).collect();
            let mut lot_rows = Vec::new();
            for b in &in_lot {
                let mut failed = failed_items(l, &q, b.id, &l.criteria.qualification);
                if failed.is_empty() {
                    failed = failed_items(l, &c, b.id, &l.criteria.compliance);
                }
                let passed = failed.is_empty();
                let item_means: Vec<i64> = l
                    .criteria
                    .scoring
                    .iter()
                    .map(|i| {
                        let pts: Vec<Points> = seated
                            .iter()
                            .filter_map(|m| {
                                scores.iter().find(|s| s.member_id == m.id && s.bid_id == b.id && s.item_key == i.key)
                            })
                            .map(|s| Points::from_hundredths(s.points))
                            .collect();
                        scoring::mean(&pts).hundredths()
                    })
                    .collect();
                lot_rows.push(ResultRow {
                    bid: b.public_id,
                    label: b.bidder.clone(),
                    lot: b.lot.clone(),
                    passed,
                    failed_items: failed,
                    item_means,
                    price_score: 0,
                    total: 0,
                    evaluated_price: b.evaluated,
                    rank: None,
                    tie_broken_by_draw: false,
                });
            }
            let valid: Vec<(Uuid, Money)> =
                lot_rows.iter().filter(|r| r.passed).map(|r| (r.bid, r.evaluated_price)).collect();
            let price = scoring::price_scores(&valid, Points::from_hundredths(l.criteria.price_weight));
            for r in lot_rows.iter_mut() {
                if let Some((_, p)) = price.iter().find(|(k, _)| *k == r.bid) {
                    r.price_score = p.hundredths();
                }
                r.total = r.item_means.iter().sum::<i64>() + r.price_score;
            }
            let ranked = match l.t.evaluation_method {
                EvaluationMethod::ComprehensiveScoring => {
                    let standings: Vec<Standing<Uuid>> = lot_rows
                        .iter()
                        .filter(|r| r.passed)
                        .map(|r| Standing {
                            key: r.bid,
                            total: Points::from_hundredths(r.total),
                            evaluated_price: r.evaluated_price,
                            technical: Points::from_hundredths(
                                l.criteria
                                    .scoring
                                    .iter()
                                    .zip(&r.item_means)
                                    .filter(|(i, _)| i.technical)
                                    .map(|(_, m)| *m)
                                    .sum(),
                            ),
                        })
                        .collect();
                    scoring::rank_comprehensive(&standings, &key)
                }
                EvaluationMethod::LowestPrice => scoring::rank_lowest_price(&valid, &key),
            };
            for rk in ranked {
                if let Some(r) = lot_rows.iter_mut().find(|r| r.bid == rk.key) {
                    r.rank = Some(rk.rank);
                    r.tie_broken_by_draw = rk.tie_broken_by_draw;
                }
            }
            lot_rows.sort_by_key(|r| (r.rank.is_none(), r.rank, r.label.clone()));
            rows.extend(lot_rows);
        }
        Ok(rows)
    }

    /// The report as canonical JSON: the tender, the method, the criteria, the members with
    /// their times, the results and the rank key. Its SHA-256 is the report's digest; the PDF
    /// carries it as an attachment. A member still unsigned counts as signing at `now` (the
    /// last signature, inside its own unit of work).
    async fn report_value<C: ConnectionTrait>(
        &self,
        db: &C,
        l: &Loaded,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<serde_json::Value> {
        let results = self.results(db, l).await?;
        let mut members = Vec::new();
        for m in l.seated() {
            members.push(json!({"member": m.public_id, "name": self.member_name(db, m).await?, "rep": m.is_rep,
                                "signed_in_at": m.signed_in_at, "signed_at": m.signed_at.unwrap_or(now)}));
        }
        let mut report = json!({"tender": l.t.public_id, "session": l.ev.public_id, "method": l.t.evaluation_method,
                  "criteria": l.criteria, "members": members, "results": results, "rank_key": l.ev.rank_key});
        // A first round's report keeps the form it was signed in, so its digest still checks.
        if l.ev.round > 1 {
            report["round"] = json!(l.ev.round);
        }
        Ok(report)
    }

    /// Every sheet is signed: the result stands, the report's digest is fixed.
    async fn complete(&self, uow: &mut UnitOfWork, l: &Loaded) -> AppResult<()> {
        let now = uow.now();
        let report = self.report_value(&*uow, l, now).await?;
        let sha = hex::encode(
            ring::digest::digest(&ring::digest::SHA256, &serde_json::to_vec(&report).map_err(AppError::internal)?)
                .as_ref(),
        );
        evaluation::ActiveModel {
            id: Set(l.ev.id),
            phase: Set(Phase::Signed),
            signed_at: Set(Some(now)),
            report_sha256: Set(Some(sha.clone())),
            reopened_lots: Set(None),
            ..Default::default()
        }
        .update(&*uow)
        .await?;
        uow.emit(room(l.ev.id), Audience::All, &EvalEvent::Phase { phase: Phase::Signed }).await?;
        uow.emit(room(l.ev.id), Audience::All, &EvalEvent::Completed { report_sha256: sha.clone() }).await?;
        // The experts' fees, computed and paid at once (即评即走).
        uow.schedule(crate::fees::compute_job(l.ev.id, now)).await?;
        uow.record(
            &platform(),
            AuditEntry::new(
                Action::EvaluationComplete,
                l.t.public_id,
                json!({"report_sha256": sha, "results": report["results"]}),
            ),
        )
        .await?;
        Ok(())
    }

    /// Gives a lot of the tender's session back to its committee: the supervisors upheld a
    /// complaint and ordered a re-evaluation (重新评审). A signed session starts its next round
    /// at the qualification review with every signature taken off, keeping what was entered;
    /// only the bids of the lots given back may be voted on and scored again, and the members
    /// sign again. The reason is kept as a remark of the session, the members are told.
    pub async fn give_back(
        &self,
        uow: &mut UnitOfWork,
        tender_id: Uuid,
        lot: &lot::Model,
        reason: &str,
        by: &AuditActor,
    ) -> AppResult<()> {
        let l = self.load(&*uow, tender_id).await?;
        let mut lots = l.given_back()?;
        if !lots.contains(&lot.id) {
            lots.push(lot.id);
        }
        let round = if l.ev.phase == Phase::Signed { l.ev.round + 1 } else { l.ev.round };
        let phase = match l.ev.phase {
            Phase::Compliance | Phase::Scoring | Phase::Signing | Phase::Signed => Phase::Qualification,
            p => p,
        };
        let ids: Vec<i64> = lots.iter().map(|l| l.0).collect();
        evaluation::ActiveModel {
            id: Set(l.ev.id),
            phase: Set(phase),
            signed_at: Set(None),
            report_sha256: Set(None),
            round: Set(round),
            reopened_lots: Set(Some(serde_json::to_string(&ids).map_err(AppError::internal)?)),
            ..Default::default()
        }
        .update(&*uow)
        .await?;
        for m in l.seated().filter(|m| m.signed_at.is_some()) {
            let mut am: evaluation_member::ActiveModel = m.clone().into();
            am.signed_at = Set(None);
            am.update(&*uow).await?;
        }
        evaluation_remark::ActiveModel {
            evaluation_id: Set(l.ev.id),
            user_id: Set(by.user_id.unwrap_or(l.ev.opened_by)),
            member_id: Set(None),
            kind: Set(RemarkKind::Returned),
            code: Set(Some(lot.public_id.to_string())),
            body: Set(format!("{}：{reason}", lot.name)),
            at: Set(uow.now()),
            ..Default::default()
        }
        .insert(&*uow)
        .await?;
        let r = room(l.ev.id);
        uow.emit(r, Audience::All, &EvalEvent::Returned { lot: lot.public_id, round }).await?;
        if phase != l.ev.phase {
            uow.emit(r, Audience::All, &EvalEvent::Phase { phase }).await?;
        }
        let users: Vec<crate::ids::UserId> = l.seated().map(|m| m.user_id).collect();
        let to: Vec<(OrgId, crate::ids::UserId)> = user::Entity::find()
            .filter(user::Column::Id.is_in(users))
            .all(&*uow)
            .await?
            .into_iter()
            .map(|u| (u.org_id, u.id))
            .collect();
        let label = format!("{} {}", lot.lot_no, lot.name);
        uow.notify_users(&to, re_evaluation_notice(&l.t, &label, reason)).await?;
        uow.record(
            by,
            AuditEntry::new(
                Action::EvaluationReturn,
                l.t.public_id,
                json!({"lot": lot.public_id, "round": round, "phase": phase, "reason": reason}),
            ),
        )
        .await?;
        Ok(())
    }

    /// The ranked bids of a tender's signed evaluation, lot by lot in rank order, with the time
    /// the report was signed: what the award starts from. `None` while it is not signed.
    pub async fn signed_candidates<C: ConnectionTrait>(
        &self,
        db: &C,
        tender_id: Uuid,
    ) -> AppResult<Option<(chrono::DateTime<chrono::Utc>, Vec<RankedBid>)>> {
        let l = self.load(db, tender_id).await?;
        let Some(signed_at) = l.ev.signed_at.filter(|_| l.ev.phase == Phase::Signed) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for r in self.results(db, &l).await? {
            let (Some(rank), Ok(b)) = (r.rank, l.bid_by_public(r.bid)) else { continue };
            out.push(RankedBid {
                bid_id: b.id,
                bid: b.public_id,
                lot_id: b.lot_id,
                org_id: b.org_id,
                name: b.bidder.clone(),
                price: b.price,
                total: r.total,
                rank,
            });
        }
        Ok(Some((signed_at, out)))
    }

    /// The signed evaluation report as a PDF (评标报告), in both languages, with its canonical
    /// JSON attached: for the committee, the centre and supervisors, and the tender's managers.
    pub async fn report_pdf(&self, actor: &Actor, tender_id: Uuid) -> AppResult<Vec<u8>> {
        let db = self.db();
        let l = self.load(db, tender_id).await?;
        if self.viewer_of(db, actor, &l).await.is_err() && !crate::tenders::policy::is_manager(actor, &l.t) {
            return Err(AppError::not_found());
        }
        if l.ev.phase != Phase::Signed {
            return Err(AppError::conflict("out_of_turn", "the report exists once every member has signed"));
        }
        let report = self.report_value(db, &l, self.now()).await?;
        let json_bytes = serde_json::to_vec(&report).map_err(AppError::internal)?;
        let sites: HashMap<crate::ids::SiteId, String> =
            site::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect();
        let mut committee = Vec::new();
        for m in l.seated() {
            let role = if l.ev.chair_member_id == Some(m.id) {
                "report.chair"
            } else if m.is_rep {
                "report.rep"
            } else {
                "report.member"
            };
            committee.push((
                self.member_name(db, m).await?,
                m.site_id.and_then(|s| sites.get(&s).cloned()).unwrap_or_default(),
                role,
                m.signed_in_at.as_ref().map(cst).unwrap_or_default(),
                m.signed_at.as_ref().map(cst).unwrap_or_default(),
            ));
        }
        let remarks: Vec<(RemarkKind, Option<String>, String)> = evaluation_remark::Entity::find()
            .filter(evaluation_remark::Column::EvaluationId.eq(l.ev.id))
            .order_by_asc(evaluation_remark::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .filter(|r| r.kind != RemarkKind::Note)
            .map(|r| (r.kind, r.code, r.body))
            .collect();
        let results = self.results(db, &l).await?;
        let findings: Vec<FindingView> = serde_json::from_str(&l.ev.findings).map_err(AppError::internal)?;
        let texts = self.texts.clone();
        let digest = l.ev.report_sha256.clone().unwrap_or_default();
        let (t, criteria) = (l.t.clone(), l.criteria.clone());
        let bidders: HashMap<Uuid, String> = l.bids.iter().map(|b| (b.public_id, b.bidder.clone())).collect();
        tokio::task::spawn_blocking(move || {
            let tx = |k: &str| texts.both(k);
            let mut doc = crate::pdf::writer::Document::new(&tx("report.title"));
            doc.footer(&format!("Tenderhall · {} · SHA-256 {digest}", t.code));
            doc.key_values(&[
                (&tx("report.code"), &t.code),
                (&tx("report.tender_title"), &t.title),
                (&tx("report.method"), &texts.both(&format!("evaluation.{}", t.evaluation_method.as_str()))),
                (&tx("report.digest"), &digest),
            ]);
            doc.heading(&tx("report.committee"));
            let rows: Vec<Vec<String>> = committee
                .iter()
                .map(|(n, s, r, a, b)| vec![n.clone(), s.clone(), texts.both(r), a.clone(), b.clone()])
                .collect();
            doc.table(
                &[
                    &tx("report.name"),
                    &tx("report.site"),
                    &tx("report.role"),
                    &tx("report.signed_in"),
                    &tx("report.signed_at"),
                ],
                &rows,
                &[0.22, 0.22, 0.16, 0.2, 0.2],
            );
            if !findings.is_empty() {
                doc.heading(&tx("report.findings"));
                let rows: Vec<Vec<String>> = findings
                    .iter()
                    .map(|f| {
                        vec![
                            bidders.get(&f.bid).cloned().unwrap_or_default(),
                            texts.both(&format!("session.finding.{}", f.code)),
                        ]
                    })
                    .collect();
                doc.table(&[&tx("report.bidder"), &tx("report.finding")], &rows, &[0.4, 0.6]);
            }
            doc.heading(&tx("report.results"));
            let rows: Vec<Vec<String>> = results
                .iter()
                .map(|r| {
                    vec![
                        r.rank
                            .map(|k| format!("{k}{}", if r.tie_broken_by_draw { "*" } else { "" }))
                            .unwrap_or_else(|| "—".into()),
                        r.label.clone(),
                        r.lot.clone(),
                        format!("¥{}", r.evaluated_price.yuan_string()),
                        Points::from_hundredths(r.price_score).to_string(),
                        Points::from_hundredths(r.total).to_string(),
                        if r.passed { String::new() } else { r.failed_items.join("；") },
                    ]
                })
                .collect();
            doc.table(
                &[
                    &tx("report.rank"),
                    &tx("report.bidder"),
                    &tx("report.lot"),
                    &tx("report.evaluated_price"),
                    &tx("report.price_score"),
                    &tx("report.total"),
                    &tx("report.failed"),
                ],
                &rows,
                &[0.07, 0.2, 0.15, 0.16, 0.1, 0.1, 0.22],
            );
            if !criteria.scoring.is_empty() {
                doc.heading(&tx("report.item_means"));
                let rows: Vec<Vec<String>> = results
                    .iter()
                    .filter(|r| r.passed)
                    .flat_map(|r| {
                        criteria
                            .scoring
                            .iter()
                            .zip(&r.item_means)
                            .map(|(i, m)| {
                                vec![
                                    r.label.clone(),
                                    i.label.clone(),
                                    Points::from_hundredths(*m).to_string(),
                                    Points::from_hundredths(i.max).to_string(),
                                ]
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect();
                doc.table(
                    &[&tx("report.bidder"), &tx("report.item"), &tx("report.mean"), &tx("report.max")],
                    &rows,
                    &[0.25, 0.45, 0.15, 0.15],
                );
            }
            doc.paragraph(&tx("session.rounding"));
            if !remarks.is_empty() {
                doc.heading(&tx("report.remarks"));
                for (kind, code, body) in &remarks {
                    let reason = code
                        .as_deref()
                        .map(|c| format!("（{}）", texts.both(&format!("session.reopen.{c}"))))
                        .unwrap_or_default();
                    doc.paragraph(&format!(
                        "{}{reason}：{body}",
                        texts.both(&format!("session.remark.{}", kind.as_str()))
                    ));
                }
            }
            doc.attach(
                "evaluation-report.json",
                "application/json",
                "the report as canonical JSON; its SHA-256 is the digest above",
                &json_bytes,
            );
            doc.finish()
        })
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
    }

    // -----------------------------------------------------------------------------------------
    // Reading

    /// The session of a tender as the actor may see it.
    pub async fn view(&self, actor: &Actor, tender_id: Uuid) -> AppResult<SessionView> {
        Ok(self.view_with(actor, tender_id).await?.0)
    }

    async fn view_with(&self, actor: &Actor, tender_id: Uuid) -> AppResult<(SessionView, EvaluationId, Viewer)> {
        let db = self.db();
        let l = self.load(db, tender_id).await?;
        let viewer = self.viewer_of(db, actor, &l).await?;
        let staff = matches!(viewer, Viewer::Host | Viewer::Supervisor);
        let me = l.seated().find(|m| m.user_id == actor.user_id);
        let sites: HashMap<crate::ids::SiteId, String> =
            site::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect();
        let mut members = Vec::new();
        for m in &l.members {
            members.push(MemberView {
                id: m.public_id,
                name: self.member_name(db, m).await?,
                site: m.site_id.and_then(|s| sites.get(&s).cloned()),
                is_rep: m.is_rep,
                status: m.status,
                signed_in_at: m.signed_in_at,
                declared: m.declared_at.is_some(),
                voted_chair: m.chair_vote.is_some(),
                chair: l.ev.chair_member_id == Some(m.id),
                signed_at: m.signed_at,
            });
        }
        // 暗标: while the bids are scored, the experts see letters, not bidders.
        let anonymous =
            l.criteria.technical_anonymous && !staff && matches!(l.ev.phase, Phase::Scoring | Phase::Signing);
        let out: Vec<BidId> = if matches!(l.ev.phase, Phase::Scoring | Phase::Signing | Phase::Signed) {
            let inn = self.in_scoring(db, &l).await?;
            l.bids.iter().map(|b| b.id).filter(|b| !inn.contains(b)).collect()
        } else {
            Vec::new()
        };
        let bids = l
            .bids
            .iter()
            .map(|b| BidView {
                id: b.public_id,
                label: if anonymous { b.letter.clone() } else { b.bidder.clone() },
                bidder: (!anonymous).then(|| b.bidder.clone()),
                lot: b.lot.clone(),
                lot_id: b.lot_public,
                price: b.price,
                sme: b.sme,
                evaluated_price: b.evaluated,
                out: out.contains(&b.id),
            })
            .collect();
        let findings: Vec<FindingView> = serde_json::from_str(&l.ev.findings)
            .map_err(|e| AppError::internal(format!("evaluations.findings of row {}: {e}", l.ev.id)))?;
        let (my_votes, my_scores) = match me {
            Some(m) => {
                let votes =
                    evaluation_vote::Entity::find().filter(evaluation_vote::Column::MemberId.eq(m.id)).all(db).await?;
                let scores = evaluation_score::Entity::find()
                    .filter(evaluation_score::Column::MemberId.eq(m.id))
                    .all(db)
                    .await?;
                let pid = |id: BidId| l.bids.iter().find(|b| b.id == id).map(|b| b.public_id);
                (
                    votes.iter().map(|v| json!({"stage": v.stage, "bid": pid(v.bid_id), "item": v.item_key, "pass": v.pass, "reason": v.reason})).collect(),
                    scores.iter().map(|s| json!({"bid": pid(s.bid_id), "item": s.item_key, "points": s.points, "reason": s.reason})).collect(),
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        let flags =
            if matches!(l.ev.phase, Phase::Scoring | Phase::Signing) { self.flags(db, &l).await? } else { Vec::new() };
        let results_shown = match l.ev.phase {
            Phase::Signed => true,
            Phase::Signing => true,
            Phase::Scoring => staff,
            _ => false,
        };
        let mut results = if results_shown { self.results(db, &l).await? } else { Vec::new() };
        if anonymous {
            for r in &mut results {
                if let Some(b) = l.bids.iter().find(|b| b.public_id == r.bid) {
                    r.label = b.letter.clone();
                }
            }
        }
        let remarks = evaluation_remark::Entity::find()
            .filter(evaluation_remark::Column::EvaluationId.eq(l.ev.id))
            .order_by_asc(evaluation_remark::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .filter(|r| staff || r.kind != RemarkKind::Note)
            .map(|r| {
                let member = r.member_id.and_then(|id| l.members.iter().find(|m| m.id == id)).map(|m| m.public_id);
                json!({"kind": r.kind, "code": r.code, "text": r.body, "member": member, "at": r.at})
            })
            .collect();
        let seats = draws::committee(db, l.ev.draw_id).await?.len()
            + l.members.iter().filter(|m| m.is_rep || m.peer.is_some()).count();
        let given_back = l.given_back()?;
        let mut reopened_lots = Vec::new();
        for id in given_back {
            if let Some(b) = l.bids.iter().find(|b| b.lot_id == id) {
                reopened_lots.push(ReopenedLot { id: b.lot_public, name: b.lot.clone() });
            }
        }
        let view = SessionView {
            id: l.ev.public_id,
            tender: l.t.public_id,
            title: l.t.title.clone(),
            phase: l.ev.phase,
            role: viewer.role().into(),
            me: me.map(|m| m.public_id),
            seats,
            members,
            bids,
            criteria: l.criteria.clone(),
            findings,
            my_votes,
            my_scores,
            flags,
            results,
            remarks,
            last_seq: crate::live::store::newest_seq(db, room(l.ev.id)).await?,
            server_time: self.now(),
            report_sha256: l.ev.report_sha256.clone(),
            round: l.ev.round,
            reopened_lots,
        };
        Ok((view, l.ev.id, viewer))
    }

    /// The session's events after `after`, as the actor may see them.
    pub async fn events(&self, actor: &Actor, tender_id: Uuid, after: i64) -> AppResult<Vec<crate::live::Event>> {
        let db = self.db();
        let l = self.load(db, tender_id).await?;
        let viewer = self.viewer_of(db, actor, &l).await?;
        crate::live::store::events_after(db, room(l.ev.id), &viewer, after).await
    }
}

/// Whether a bid passes every item of a review by the seated members' majority.
fn stage_passes(
    l: &Loaded,
    votes: &[evaluation_vote::Model],
    bid: BidId,
    items: &[crate::tenders::criteria::ReviewItem],
) -> bool {
    failed_items(l, votes, bid, items).is_empty()
}

/// The items a bid fails by the majority, each with the reasons given.
fn failed_items(
    l: &Loaded,
    votes: &[evaluation_vote::Model],
    bid: BidId,
    items: &[crate::tenders::criteria::ReviewItem],
) -> Vec<String> {
    let seated: Vec<MemberId> = l.seated().map(|m| m.id).collect();
    let mut out = Vec::new();
    for i in items {
        let given: Vec<&evaluation_vote::Model> =
            votes.iter().filter(|v| v.bid_id == bid && v.item_key == i.key && seated.contains(&v.member_id)).collect();
        if given.is_empty() {
            continue; // not reviewed yet
        }
        let passes: Vec<bool> = given.iter().map(|v| v.pass).collect();
        if !scoring::majority_passes(&passes) {
            let reasons: Vec<String> = given.iter().filter_map(|v| v.reason.clone()).collect();
            out.push(if reasons.is_empty() {
                i.label.clone()
            } else {
                format!("{}：{}", i.label, reasons.join("；"))
            });
        }
    }
    out
}

fn cst(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&crate::web::cst()).format("%Y-%m-%d %H:%M").to_string()
}

fn check_len(field: &'static str, text: &str) -> AppResult<()> {
    let mut fields: Vec<FieldError> = Vec::new();
    check_text(&mut fields, field, text, 1, MAX_TEXT);
    if fields.is_empty() { Ok(()) } else { Err(AppError::validation(fields)) }
}

/// To the committee's members: a lot is given back to them for re-evaluation, for `reason`.
pub fn re_evaluation_notice(t: &tender::Model, lot: &str, reason: &str) -> crate::notify::Notice {
    crate::notify::Notice::new(crate::notify::NoticeKind::ReEvaluation)
        .arg("title", &t.title)
        .arg("code", &t.code)
        .arg("lot", lot)
        .arg("reason", reason)
        .about_tender(t.id)
        .link(format!("/tenders/{}/evaluation", t.public_id))
}

#[cfg(test)]
mod tests {
    use super::{letter, lot_may_change};
    use crate::ids::LotId;

    #[test]
    fn a_re_evaluation_changes_only_the_lots_given_back() {
        assert!(lot_may_change(&[], LotId(7)), "outside a re-evaluation every lot");
        assert!(lot_may_change(&[LotId(2), LotId(7)], LotId(7)));
        assert!(!lot_may_change(&[LotId(2)], LotId(7)), "another lot's result stands");
    }

    #[test]
    fn letters_run_past_z() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(letter(27), "AB");
    }
}
