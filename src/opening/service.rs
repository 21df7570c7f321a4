//! The opening's rules: who is in the hall, the phases driven by the host and the platform's
//! clock, releasing keys and opening envelopes, the reading, objections, confirmations. Every
//! change is one unit of work that writes the hall's events (published after the commit); the
//! times are jobs: the hall opens at the bid deadline ([`OPEN_JOB`], scheduled by the tender
//! when it is published) and each window closes by itself ([`WINDOW_JOB`]).

use super::model::{
    BidOutcome, BidderLot, Command, HallEvent, HallEventView, HallState, LotResult, NotOpened, Phase, ReadAmount,
    ReadBid, ReadFile, ReasonItem, Viewer,
};
use crate::{
    accounts::model::{Actor, Role},
    audit::{Action, AuditActor, AuditEntry},
    blob::BlobStore,
    config::OpeningSettings,
    entities::{bid, bidder_key, lot, objection, opening, opening_bid, organisation, tender},
    envelope::{self, BidIdentity, ContentKey, payload::PayloadCheck},
    error::{AppError, AppResult},
    ids::{LotId, OpeningId, OrgId, TenderId, UserId},
    jobs::{JobHandler, NewJob},
    keys::VaultKey,
    live::{self, Audience, Entry, RoomKey, RoomKind, Viewer as _},
    notify::NoticeKind,
    tenders::{
        bid_form::{self, FormProblem},
        model::{BidFormField, FieldKind, TenderState},
        policy::{is_manager, is_overseer, state_of},
        service::move_state,
    },
    uow::{UnitOfWork, Writer},
    web::i18n::I18n,
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};
use uuid::Uuid;

/// Longest objection, answer or note.
const MAX_TEXT: usize = 2000;

/// The job that opens a tender's hall at its bid deadline; its arguments are
/// `{"tender_id": <internal id>}` (see [`crate::tenders::service::deadline_job`]).
pub const OPEN_JOB: &str = crate::tenders::service::DEADLINE_JOB;

/// The job that closes a hall's decryption or objection window when it ends.
pub const WINDOW_JOB: &str = "opening.window";

/// The opening halls: what the hall's service needs, and nothing else.
#[derive(Clone)]
pub struct Openings {
    writer: Writer,
    vault: Arc<VaultKey>,
    blobs: Arc<dyn BlobStore>,
    /// The participants' command allowances (per process).
    limits: crate::live::limit::CommandLimits,
    /// How often a hall connection checks its session besides when told.
    session_check: std::time::Duration,
    settings: OpeningSettings,
    texts: Arc<I18n>,
}

impl std::fmt::Debug for Openings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Openings").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// The opening hall as a live room kind.
impl RoomKind for Openings {
    const KIND: &'static str = "opening";
    type Event = HallEvent;
    type Viewer = Viewer;
    type Command = Command;
    type Id = OpeningId;

    async fn enter(&self, actor: &Actor, id: Uuid) -> AppResult<Entry<Viewer>> {
        let (state, o, viewer) = self.hall_state(actor, id).await?;
        Ok(Entry { room: room(o), viewer, hello: serde_json::to_value(state).map_err(AppError::internal)? })
    }

    async fn execute(&self, actor: &Actor, id: Uuid, cmd: Command) -> AppResult<()> {
        Openings::execute(self, actor, id, cmd).await
    }

    /// Objections and notes are texts that go to everyone and into the record: they cost
    /// [`TEXT_COST`]; every other command 1.
    fn cost(cmd: &Command) -> u32 {
        match cmd {
            Command::Object { .. } | Command::Note { .. } => TEXT_COST,
            _ => 1,
        }
    }
}

/// What an objection or a note takes from its sender's command allowance (`[live]`).
pub const TEXT_COST: u32 = 10;

/// The live room of an opening.
pub fn room(opening_id: OpeningId) -> RoomKey {
    Openings::key(opening_id)
}

fn platform() -> AuditActor {
    AuditActor { user_id: None, org_id: None, label: "platform clock".into() }
}

async fn emit(uow: &mut UnitOfWork, o: &opening::Model, audience: Audience, e: HallEvent) -> AppResult<i64> {
    uow.emit(room(o.id), audience, &e).await
}

impl Openings {
    /// The halls' service.
    pub fn new(
        writer: Writer,
        vault: Arc<VaultKey>,
        blobs: Arc<dyn BlobStore>,
        settings: OpeningSettings,
        live: &crate::config::LiveSettings,
        texts: Arc<I18n>,
    ) -> Self {
        Self {
            writer,
            vault,
            blobs,
            settings,
            limits: crate::live::limit::CommandLimits::new(live),
            session_check: std::time::Duration::from_secs(live.session_check_seconds),
            texts,
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

    fn db(&self) -> &sea_orm::DatabaseConnection {
        self.writer.db()
    }

    /// What the halls' websockets need.
    pub fn wiring(&self) -> crate::live::ws::Wiring {
        crate::live::ws::Wiring::of(&self.writer, &self.limits, self.session_check)
    }

    /// The tender behind an id, if the actor may know it.
    async fn load_tender(&self, tender_id: Uuid) -> AppResult<tender::Model> {
        tender::Entity::find()
            .filter(tender::Column::PublicId.eq(tender_id))
            .one(self.db())
            .await?
            .filter(|t| state_of(t).is_public())
            .ok_or_else(AppError::not_found)
    }

    /// The tender's opening and who the actor is in it. Until the hall has opened at the
    /// deadline there is none (`hall_not_open`); someone with no part in the tender gets 404.
    /// Reads only: the hall is opened by the deadline's job, never by a visit.
    pub async fn enter(&self, actor: &Actor, tender_id: Uuid) -> AppResult<(opening::Model, Viewer)> {
        let t = self.load_tender(tender_id).await?;
        let viewer = if is_manager(actor, &t) {
            Viewer::Host
        } else if is_overseer(actor) {
            Viewer::Supervisor
        } else if actor.role == Role::Supplier {
            Viewer::Bidder { org_id: actor.org_id }
        } else {
            return Err(AppError::not_found());
        };
        let Some(o) = opening::Entity::find().filter(opening::Column::TenderId.eq(t.id)).one(self.db()).await? else {
            return Err(AppError::rule("hall_not_open", "the opening hall opens at the bid deadline"));
        };
        if let Viewer::Bidder { org_id } = viewer
            && my_bids(self.db(), o.id, org_id).await?.is_empty()
        {
            return Err(AppError::not_found());
        }
        Ok((o, viewer))
    }

    /// The events of a hall after `after` that the actor may see, in order.
    pub async fn events(&self, actor: &Actor, tender_id: Uuid, after: i64) -> AppResult<Vec<HallEventView>> {
        let (o, viewer) = self.enter(actor, tender_id).await?;
        live::store::events_after(self.db(), room(o.id), &viewer, after).await
    }

    /// The hall as the actor sees it now, with the opening's internal id and the viewer.
    pub async fn hall_state(&self, actor: &Actor, tender_id: Uuid) -> AppResult<(HallState, OpeningId, Viewer)> {
        let db = self.db();
        let (o, viewer) = self.enter(actor, tender_id).await?;
        let t = tender::Entity::find_by_id(o.tender_id).one(db).await?.ok_or_else(AppError::not_found)?;
        let mut mine = Vec::new();
        if let Viewer::Bidder { org_id } = viewer {
            let lots = lot_names(db, t.id).await?;
            for ob in my_bids(db, o.id, org_id).await? {
                let Some(b) = bid::Entity::find_by_id(ob.bid_id).one(db).await? else { continue };
                mine.push(json!({"bid": b.public_id, "lot": lots.get(&ob.lot_id), "outcome": ob.outcome,
                    "reason": ob.reason, "code": ob.reason_code, "signed_in": ob.signed_in_at.is_some(), "confirmed": ob.confirmed_at.is_some()}));
            }
        }
        let last_seq = live::store::newest_seq(db, room(o.id)).await?;
        Ok((
            HallState {
                tender: t.public_id,
                title: t.title,
                phase: o.phase,
                window_ends_at: o.window_ends_at,
                server_time: self.writer.clock().now(),
                role: viewer.role().into(),
                org: match viewer {
                    Viewer::Bidder { org_id } => Some(org_of(db, org_id).await?.1),
                    _ => None,
                },
                last_seq,
                my_bids: mine,
                record_sha256: o.record_sha256.clone(),
            },
            o.id,
            viewer,
        ))
    }

    /// Opens the hall of a tender whose deadline has come, with every bid that counts (the
    /// latest `submitted` one of each bidder and lot): the deadline job's work. Nothing happens
    /// for a tender that is not published any more, whose hall exists, or whose deadline moved
    /// later (its job was moved with it).
    pub async fn open_at_deadline(&self, uow: &mut UnitOfWork, tender_id: TenderId) -> AppResult<()> {
        let now = uow.now();
        let Some(t) = tender::Entity::find_by_id(tender_id).one(uow.txn()).await? else { return Ok(()) };
        if state_of(&t) != TenderState::Published || now < t.bid_deadline {
            return Ok(());
        }
        if opening::Entity::find().filter(opening::Column::TenderId.eq(t.id)).one(uow.txn()).await?.is_some() {
            return Ok(());
        }
        let o = opening::ActiveModel {
            tender_id: Set(t.id),
            phase: Set(Phase::SignIn),
            decrypt_minutes: Set(self.settings.decrypt_minutes),
            objection_minutes: Set(self.settings.objection_minutes),
            min_valid_bids: Set(t.min_valid_bids),
            phase_started_at: Set(now),
            window_ends_at: Set(window_end(now, self.settings.sign_in_minutes)),
            sign_in_minutes: Set(self.settings.sign_in_minutes.max(0)),
            confirm_minutes: Set(self.settings.confirm_minutes.max(0)),
            host_user_id: Set(None),
            outcome: Set(None),
            record_sha256: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(uow.txn())
        .await?;
        if let Some(ends) = o.window_ends_at {
            uow.schedule(window_job(&o, Phase::SignIn, ends)).await?;
        }
        let bids = bid::Entity::find()
            .filter(bid::Column::TenderId.eq(t.id))
            .filter(bid::Column::Status.eq(crate::bids::service::status::SUBMITTED))
            .order_by_asc(bid::Column::Id)
            .all(uow.txn())
            .await?;
        let names = orgs(uow.txn(), bids.iter().map(|b| b.org_id)).await?;
        let lots = lot_names(uow.txn(), t.id).await?;
        let mut listed = Vec::new();
        for b in &bids {
            opening_bid::ActiveModel {
                opening_id: Set(o.id),
                bid_id: Set(b.id),
                org_id: Set(b.org_id),
                lot_id: Set(b.lot_id),
                outcome: Set(BidOutcome::Pending),
                ..Default::default()
            }
            .insert(uow.txn())
            .await?;
            let (bidder, org) = names.get(&b.org_id).cloned().unzip();
            listed.push(BidderLot { bidder, lot: lots.get(&b.lot_id).cloned(), org });
        }
        move_state(uow.txn(), &t, TenderState::ClosedForBidding, now).await?;
        let opened = HallEvent::Opened {
            tender: t.public_id,
            title: t.title.clone(),
            code: t.code.clone(),
            deadline: t.bid_deadline,
            bids: listed,
            window_ends_at: o.window_ends_at,
        };
        emit(uow, &o, Audience::All, opened).await?;
        let bidders = super::notices::bidders(uow.txn(), o.id, None).await?;
        uow.notify(&bidders, super::notices::started_notice(&t)).await?;
        uow.record(&platform(), AuditEntry::new(Action::OpeningOpen, t.public_id, json!({"bids": bids.len()}))).await?;
        Ok(())
    }

    /// Closes a window that has ended, as the host moving on would: the window job's work.
    /// Nothing happens if the opening has left the phase the job was for.
    pub async fn close_window(&self, uow: &mut UnitOfWork, opening_id: OpeningId, phase: Phase) -> AppResult<()> {
        let Some(o) = opening::Entity::find_by_id(opening_id).one(uow.txn()).await? else { return Ok(()) };
        if o.phase != phase || o.window_ends_at.is_none_or(|end| uow.now() < end) {
            return Ok(());
        }
        let t = tender::Entity::find_by_id(o.tender_id).one(uow.txn()).await?.ok_or_else(AppError::not_found)?;
        let action = match phase {
            // The sign-in window's end is the decryption's start, if the host has not started it.
            Phase::SignIn => start_decryption(uow, &o, &t, None).await?,
            _ => self.advance(uow, &o, &t).await?,
        };
        let details = json!({"events": uow.emitted(), "window_closed": phase.as_str()});
        uow.record(&platform(), AuditEntry::new(action, t.public_id, details)).await?;
        Ok(())
    }

    /// Carries out a participant's command. Refusals change nothing.
    pub async fn execute(&self, actor: &Actor, tender_id: Uuid, cmd: Command) -> AppResult<()> {
        let (o, viewer) = self.enter(actor, tender_id).await?;
        // Opening an envelope takes time and needs no lock: it is done before the transaction.
        let opened = match &cmd {
            Command::ReleaseKey { bid, key } => Some(self.open_released(&o, viewer, *bid, key).await?),
            _ => None,
        };
        let mut uow = self.writer.begin().await?;
        let o = opening::Entity::find_by_id(o.id).one(uow.txn()).await?.ok_or_else(AppError::not_found)?;
        let t = tender::Entity::find_by_id(o.tender_id).one(uow.txn()).await?.ok_or_else(AppError::not_found)?;
        let now = uow.now();
        let phase = o.phase;
        let action = match cmd {
            Command::SignIn => {
                let org = bidder_only(viewer)?;
                if !matches!(phase, Phase::SignIn | Phase::Decryption) {
                    return Err(out_of_turn("signing in"));
                }
                let mine = my_bids(uow.txn(), o.id, org).await?;
                if mine.iter().all(|b| b.signed_in_at.is_some()) {
                    return Ok(());
                }
                for b in mine {
                    opening_bid::ActiveModel { id: Set(b.id), signed_in_at: Set(Some(now)), ..Default::default() }
                        .update(uow.txn())
                        .await?;
                }
                let (bidder, org) = org_of(uow.txn(), org).await?;
                emit(&mut uow, &o, Audience::All, HallEvent::SignedIn { bidder, org: Some(org) }).await?;
                Action::OpeningSignIn
            }
            Command::StartDecryption => {
                host_only(viewer)?;
                if phase != Phase::SignIn {
                    return Err(out_of_turn("starting the decryption"));
                }
                start_decryption(&mut uow, &o, &t, Some(actor.user_id)).await?
            }
            Command::ReleaseKey { bid, .. } => {
                let org = bidder_only(viewer)?;
                if phase != Phase::Decryption {
                    return Err(out_of_turn("releasing a key"));
                }
                if o.window_ends_at.is_some_and(|end| now >= end) {
                    return Err(AppError::rule("window_closed", "the decryption window has closed"));
                }
                let (b, ob) = my_bid(uow.txn(), o.id, org, bid).await?;
                if ob.outcome != BidOutcome::Pending {
                    return Err(AppError::conflict("already_decided", "this bid has already been opened"));
                }
                let lot = lot_names(uow.txn(), t.id).await?.get(&ob.lot_id).cloned();
                let (bidder, org_public) = org_of(uow.txn(), org).await?;
                match opened.ok_or_else(|| AppError::internal("no opening result"))? {
                    Opened::Valid { key, form } => {
                        let ctx = vault_context(&b);
                        let form = serde_json::to_vec(&form).map_err(AppError::internal)?;
                        opening_bid::ActiveModel {
                            id: Set(ob.id),
                            released_at: Set(Some(now)),
                            signed_in_at: Set(Some(ob.signed_in_at.unwrap_or(now))),
                            outcome: Set(BidOutcome::Valid),
                            sealed_key: Set(Some(self.vault.seal(&format!("{ctx} key"), &key.0))),
                            sealed_form: Set(Some(self.vault.seal(&format!("{ctx} form"), &form))),
                            ..Default::default()
                        }
                        .update(uow.txn())
                        .await?;
                        let accepted = HallEvent::KeyAccepted { bidder, lot, org: Some(org_public) };
                        emit(&mut uow, &o, Audience::All, accepted).await?;
                    }
                    Opened::WrongKey(reason) => {
                        // The bidder may try again with the right key while the window is open.
                        let refused = HallEvent::KeyRefused { bidder, lot, reason, org: Some(org_public) };
                        emit(&mut uow, &o, Audience::Org(org), refused).await?;
                    }
                    Opened::Invalid(why) => {
                        opening_bid::ActiveModel {
                            id: Set(ob.id),
                            released_at: Set(Some(now)),
                            outcome: Set(BidOutcome::Invalid),
                            reason: Set(Some(why.reason.clone())),
                            reason_code: Set(Some(why.code.to_string())),
                            reason_item: Set(why.item.clone()),
                            ..Default::default()
                        }
                        .update(uow.txn())
                        .await?;
                        let items = bid_form(&t)?;
                        let invalid = HallEvent::BidInvalid {
                            bidder,
                            lot,
                            reason: why.reason,
                            code: Some(why.code.to_string()),
                            item: why.item.map(|key| reason_item(&items, key)),
                            org: Some(org_public),
                        };
                        emit(&mut uow, &o, Audience::All, invalid).await?;
                    }
                }
                Action::OpeningReleaseKey
            }
            Command::Advance { from } => {
                host_only(viewer)?;
                if from.is_some_and(|f| f != phase) {
                    return Err(out_of_turn("moving on from a phase the opening has left"));
                }
                self.advance(&mut uow, &o, &t).await?
            }
            Command::Object { text: body } => {
                let org = bidder_only(viewer)?;
                if phase != Phase::Objections || o.window_ends_at.is_some_and(|end| now >= end) {
                    return Err(out_of_turn("objecting"));
                }
                let body = text(&body, "text")?;
                let id = Uuid::new_v4();
                objection::ActiveModel {
                    public_id: Set(id),
                    opening_id: Set(o.id),
                    org_id: Set(org),
                    user_id: Set(actor.user_id),
                    text: Set(body.clone()),
                    raised_at: Set(now),
                    ..Default::default()
                }
                .insert(uow.txn())
                .await?;
                let (bidder, _) = org_of(uow.txn(), org).await?;
                emit(&mut uow, &o, Audience::All, HallEvent::Objection { id, bidder, text: body }).await?;
                Action::OpeningObject
            }
            Command::Answer { objection: id, text: body } => {
                host_only(viewer)?;
                if !matches!(phase, Phase::Objections | Phase::Confirmation) {
                    return Err(out_of_turn("answering"));
                }
                let body = text(&body, "text")?;
                let obj = objection::Entity::find()
                    .filter(objection::Column::PublicId.eq(id))
                    .filter(objection::Column::OpeningId.eq(o.id))
                    .one(uow.txn())
                    .await?
                    .ok_or_else(AppError::not_found)?;
                if obj.answer.is_some() {
                    return Err(AppError::conflict("already_answered", "this objection has been answered"));
                }
                objection::ActiveModel {
                    id: Set(obj.id),
                    answer: Set(Some(body.clone())),
                    answered_at: Set(Some(now)),
                    answered_by: Set(Some(actor.user_id)),
                    ..Default::default()
                }
                .update(uow.txn())
                .await?;
                emit(&mut uow, &o, Audience::All, HallEvent::Answer { objection: id, text: body }).await?;
                uow.notify_users(&[(obj.org_id, obj.user_id)], super::notices::answered_notice(&t)).await?;
                Action::OpeningAnswer
            }
            Command::Confirm { signature } => {
                let org = bidder_only(viewer)?;
                if phase != Phase::Confirmation {
                    return Err(out_of_turn("confirming"));
                }
                let digest = hex::decode(o.record_sha256.clone().unwrap_or_default()).map_err(AppError::internal)?;
                let sig = B64.decode(signature.trim()).map_err(|_| AppError::invalid_field("signature", "invalid"))?;
                let keys = bidder_key::Entity::find()
                    .filter(bidder_key::Column::OrgId.eq(org))
                    .filter(bidder_key::Column::RevokedAt.is_null())
                    .all(uow.txn())
                    .await?;
                let valid = keys.iter().any(|k| {
                    B64.decode(&k.public_key).is_ok_and(|p| {
                        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, p)
                            .verify(&digest, &sig)
                            .is_ok()
                    })
                });
                if !valid {
                    return Err(AppError::rule(
                        "signature_invalid",
                        "the signature does not match the record's SHA-256 and your registered keys",
                    ));
                }
                for b in my_bids(uow.txn(), o.id, org).await? {
                    opening_bid::ActiveModel {
                        id: Set(b.id),
                        confirmed_at: Set(Some(now)),
                        confirm_signature: Set(Some(B64.encode(&sig))),
                        ..Default::default()
                    }
                    .update(uow.txn())
                    .await?;
                }
                let (bidder, org) = org_of(uow.txn(), org).await?;
                emit(&mut uow, &o, Audience::All, HallEvent::Confirmed { bidder, org: Some(org) }).await?;
                Action::OpeningConfirm
            }
            Command::Note { text: body } => {
                if matches!(viewer, Viewer::Bidder { .. }) {
                    return Err(AppError::forbidden());
                }
                if matches!(phase, Phase::Closed | Phase::Failed) {
                    return Err(out_of_turn("adding a note"));
                }
                let body = text(&body, "text")?;
                let note = HallEvent::Note { by: actor.display_name.clone(), role: viewer.role().into(), text: body };
                emit(&mut uow, &o, Audience::All, note).await?;
                Action::OpeningNote
            }
        };
        let details = json!({"events": uow.emitted()});
        uow.record(&actor.audit(), AuditEntry::new(action, t.public_id, details)).await?;
        uow.commit().await
    }

    /// Moves on: decryption → reading and objections (or 流标), objections → confirmation,
    /// confirmation → closed. By the host, or by the platform when a window ends.
    async fn advance(&self, uow: &mut UnitOfWork, o: &opening::Model, t: &tender::Model) -> AppResult<Action> {
        let now = uow.now();
        let bids = opening_bid::Entity::find().filter(opening_bid::Column::OpeningId.eq(o.id)).all(uow.txn()).await?;
        match o.phase {
            Phase::SignIn => Err(out_of_turn("moving on before the decryption")),
            Phase::Decryption => {
                let window_open = o.window_ends_at.is_some_and(|end| now < end);
                let waiting = bids.iter().filter(|b| b.outcome == BidOutcome::Pending).count();
                if window_open && waiting > 0 {
                    return Err(AppError::rule(
                        "window_open",
                        format!("{waiting} bid(s) may still be decrypted until the window closes"),
                    ));
                }
                let names = orgs(uow.txn(), bids.iter().map(|b| b.org_id)).await?;
                let lots = lot_names(uow.txn(), t.id).await?;
                let items = bid_form(t)?;
                let mut read = Vec::new();
                let mut failed = Vec::new();
                let mut valid_per_lot: HashMap<LotId, i32> = HashMap::new();
                for b in &bids {
                    let ((bidder, org), lot) = (names.get(&b.org_id).cloned().unzip(), lots.get(&b.lot_id).cloned());
                    match b.outcome {
                        BidOutcome::Valid => {
                            let bid = bid::Entity::find_by_id(b.bid_id)
                                .one(uow.txn())
                                .await?
                                .ok_or_else(AppError::not_found)?;
                            let sealed = b.sealed_form.clone().unwrap_or_default();
                            let form: SealedForm = self
                                .vault
                                .open(&format!("{} form", vault_context(&bid)), &sealed)
                                .and_then(|f| serde_json::from_slice(&f).ok())
                                .ok_or_else(|| {
                                    AppError::internal("a sealed bid form does not open with the vault key")
                                })?;
                            *valid_per_lot.entry(b.lot_id).or_default() += 1;
                            let amounts = amounts(&items, &form.form);
                            read.push(ReadBid { bidder, lot, form: form.form, files: form.files, org, amounts });
                        }
                        BidOutcome::Pending => {
                            let reason = "no valid key released in the decryption window".to_string();
                            opening_bid::ActiveModel {
                                id: Set(b.id),
                                outcome: Set(BidOutcome::DecryptFailed),
                                reason: Set(Some(reason.clone())),
                                ..Default::default()
                            }
                            .update(uow.txn())
                            .await?;
                            let notice = super::notices::failed_notice(t, lot.as_deref().unwrap_or_default());
                            uow.notify(&[b.org_id], notice).await?;
                            failed.push(NotOpened {
                                bidder,
                                lot,
                                outcome: BidOutcome::DecryptFailed,
                                reason: Some(reason),
                                code: None,
                                item: None,
                                org,
                            });
                        }
                        other => failed.push(NotOpened {
                            bidder,
                            lot,
                            outcome: other,
                            reason: b.reason.clone(),
                            code: b.reason_code.clone(),
                            item: b.reason_item.clone().map(|key| reason_item(&items, key)),
                            org,
                        }),
                    }
                }
                let lot_results: Vec<LotResult> = lots
                    .iter()
                    .map(|(id, name)| {
                        let n = valid_per_lot.get(id).copied().unwrap_or(0);
                        LotResult { lot: name.clone(), valid: n, failed: n < o.min_valid_bids }
                    })
                    .collect();
                let all_failed = lots.keys().all(|id| valid_per_lot.get(id).copied().unwrap_or(0) < o.min_valid_bids);
                let reading = HallEvent::Reading {
                    bids: read,
                    not_opened: failed,
                    lots: lot_results,
                    min_valid_bids: o.min_valid_bids,
                    items,
                };
                emit(uow, o, Audience::All, reading).await?;
                if all_failed {
                    set_phase(uow, o, Phase::Failed, None, None).await?;
                    opening::ActiveModel { id: Set(o.id), outcome: Set(Some("failed".into())), ..Default::default() }
                        .update(uow.txn())
                        .await?;
                    move_state(uow.txn(), t, TenderState::Failed, now).await?;
                    let reason = format!("fewer than {} valid bids (流标)", o.min_valid_bids);
                    emit(uow, o, Audience::All, HallEvent::Failed { reason }).await?;
                } else {
                    let ends = now + TimeDelta::minutes(i64::from(o.objection_minutes));
                    set_phase(uow, o, Phase::Objections, Some(ends), None).await?;
                    uow.schedule(window_job(o, Phase::Objections, ends)).await?;
                    emit(uow, o, Audience::All, HallEvent::ObjectionsStarted { window_ends_at: ends }).await?;
                }
                Ok(Action::OpeningRead)
            }
            Phase::Objections => {
                if o.window_ends_at.is_some_and(|end| now < end) {
                    return Err(AppError::rule("window_open", "the objection window is still open"));
                }
                let record = record_digest(uow.txn(), o.id).await?;
                let ends = window_end(now, o.confirm_minutes);
                set_phase(uow, o, Phase::Confirmation, ends, None).await?;
                opening::ActiveModel { id: Set(o.id), record_sha256: Set(Some(record.clone())), ..Default::default() }
                    .update(uow.txn())
                    .await?;
                if let Some(ends) = ends {
                    uow.schedule(window_job(o, Phase::Confirmation, ends)).await?;
                }
                let started = HallEvent::ConfirmationStarted { record_sha256: record, window_ends_at: ends };
                emit(uow, o, Audience::All, started).await?;
                Ok(Action::OpeningConfirmation)
            }
            Phase::Confirmation => {
                set_phase(uow, o, Phase::Closed, None, None).await?;
                opening::ActiveModel { id: Set(o.id), outcome: Set(Some("opened".into())), ..Default::default() }
                    .update(uow.txn())
                    .await?;
                move_state(uow.txn(), t, TenderState::Evaluating, now).await?;
                let unconfirmed = orgs(
                    uow.txn(),
                    bids.iter()
                        .filter(|b| b.outcome == BidOutcome::Valid && b.confirmed_at.is_none())
                        .map(|b| b.org_id),
                )
                .await?;
                let closed = HallEvent::Closed {
                    record_sha256: o.record_sha256.clone(),
                    unconfirmed: {
                        let mut names: Vec<String> = unconfirmed.into_values().map(|(name, _)| name).collect();
                        names.sort();
                        names
                    },
                };
                emit(uow, o, Audience::All, closed).await?;
                Ok(Action::OpeningClose)
            }
            Phase::Closed | Phase::Failed => Err(out_of_turn("moving on")),
        }
    }

    /// Opens the bid's stored envelope with the released key, as a stream, checking every chunk
    /// and the payload; keeps only the bid form. Nothing is written in the clear.
    async fn open_released(
        &self,
        o: &opening::Model,
        viewer: Viewer,
        bid_id: Uuid,
        key_hex: &str,
    ) -> AppResult<Opened> {
        let db = self.db();
        let org = bidder_only(viewer)?;
        // Refusals that need no decryption come first (and are checked again in the transaction).
        if o.phase != Phase::Decryption {
            return Err(out_of_turn("releasing a key"));
        }
        if o.window_ends_at.is_some_and(|end| self.writer.clock().now() >= end) {
            return Err(AppError::rule("window_closed", "the decryption window has closed"));
        }
        let key: [u8; 32] = hex::decode(key_hex.trim())
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| AppError::invalid_field("key", "invalid"))?;
        let (b, ob) = my_bid(db, o.id, org, bid_id).await?;
        if ob.outcome != BidOutcome::Pending {
            return Err(AppError::conflict("already_decided", "this bid has already been opened"));
        }
        let t = tender::Entity::find_by_id(b.tender_id).one(db).await?.ok_or_else(AppError::not_found)?;
        let l = lot::Entity::find_by_id(b.lot_id).one(db).await?.ok_or_else(AppError::not_found)?;
        let bidder = organisation::Entity::find_by_id(b.org_id).one(db).await?.ok_or_else(AppError::not_found)?;
        let id = BidIdentity { tender: t.public_id, lot: l.public_id, bidder: bidder.public_id, bid: b.public_id };
        let sha = b.envelope_sha256.clone().ok_or_else(|| AppError::internal("submitted bid without envelope"))?;
        let file = match self.blobs.open(&sha).await {
            Ok(f) => f.into_std().await,
            Err(crate::blob::BlobError::NotFound) => {
                return Ok(Opened::Invalid(Invalid::new("envelope_missing", "the stored envelope is missing")));
            }
            Err(e) => return Err(AppError::internal(e)),
        };
        let items = bid_form(&t)?;
        tokio::task::spawn_blocking(move || {
            let cek = ContentKey(key);
            let mut check = PayloadCheck::new();
            match envelope::open(&cek, &id, std::io::BufReader::with_capacity(1 << 20, file), &mut check) {
                Ok(_) => match check.finish() {
                    // The bidder sealed whatever its client put in the form: the tender's items
                    // decide whether it is a bid that can be read out.
                    Ok(manifest) => match bid_form::check(&items, &manifest.form) {
                        Ok(form) => Ok(Opened::Valid {
                            key: cek,
                            form: SealedForm {
                                form,
                                files: manifest
                                    .files
                                    .iter()
                                    .map(|f| ReadFile { name: f.name.clone(), size: f.size, sha256: f.sha256.clone() })
                                    .collect(),
                            },
                        }),
                        Err(problems) => Ok(Opened::Invalid(Invalid::form(&problems))),
                    },
                    Err(e) => Ok(Opened::Invalid(Invalid::new(
                        e.code(),
                        format!("the bid inside the envelope is malformed: {e}"),
                    ))),
                },
                Err(e @ (envelope::OpenError::KeyCommitmentMismatch | envelope::OpenError::WrongBidderKey)) => {
                    Ok(Opened::WrongKey(e.to_string()))
                }
                Err(envelope::OpenError::Io(e)) => Err(AppError::internal(e)),
                Err(e) => Ok(Opened::Invalid(Invalid::new(e.code(), e.to_string()))),
            }
        })
        .await
        .map_err(AppError::internal)?
    }

    /// The opening record (开标记录表) as a PDF, made from the hall's events: valid bids and their
    /// bid forms, bids not opened and why, each lot's result, objections and answers, notes,
    /// confirmations, the timeline, and the record's SHA-256 that the bidders signed. The same
    /// events always give the same bytes. Available from the reading on.
    pub async fn record_pdf(&self, actor: &Actor, tender_id: Uuid) -> AppResult<Vec<u8>> {
        let db = self.db();
        let (o, _) = self.enter(actor, tender_id).await?;
        if matches!(o.phase, Phase::SignIn | Phase::Decryption) {
            return Err(out_of_turn("the record before the reading"));
        }
        let t = tender::Entity::find_by_id(o.tender_id).one(db).await?.ok_or_else(AppError::not_found)?;
        let events = live::store::typed::<Openings, _>(db, room(o.id), Audience::All).await?;
        let digest = match &o.record_sha256 {
            Some(d) => d.clone(),
            None => record_digest(db, o.id).await?,
        };
        let phase = o.phase;
        let form = bid_form(&t)?;
        let texts = self.texts.clone();
        tokio::task::spawn_blocking(move || render_record(&t, &form, phase, &events, &digest, &texts))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)
    }
}

/// The window job of an opening's phase, due when its window ends.
fn window_job(o: &opening::Model, phase: Phase, ends: DateTime<Utc>) -> NewJob {
    NewJob::new(
        WINDOW_JOB,
        format!("{WINDOW_JOB}:{}:{}", o.id, phase.as_str()),
        ends,
        json!({"opening_id": o.id, "phase": phase.as_str()}),
    )
}

/// The hall opens at the deadline.
pub struct OpenAtDeadline(pub Openings);

#[async_trait::async_trait]
impl JobHandler for OpenAtDeadline {
    async fn run(&self, uow: &mut UnitOfWork, args: &Value) -> AppResult<()> {
        let tender = args["tender_id"].as_i64().ok_or_else(|| AppError::internal("opening job without tender_id"))?;
        self.0.open_at_deadline(uow, TenderId(tender)).await
    }
}

/// A window closes when it ends.
pub struct CloseWindow(pub Openings);

#[async_trait::async_trait]
impl JobHandler for CloseWindow {
    async fn run(&self, uow: &mut UnitOfWork, args: &Value) -> AppResult<()> {
        let opening = args["opening_id"].as_i64().ok_or_else(|| AppError::internal("window job without opening_id"))?;
        let phase = args["phase"]
            .as_str()
            .and_then(Phase::parse)
            .ok_or_else(|| AppError::internal(format!("window job with an unknown phase: {}", args["phase"])))?;
        self.0.close_window(uow, OpeningId(opening), phase).await
    }
}

/// The bid form and files as kept sealed with the vault key until the reading.
#[derive(serde::Serialize, serde::Deserialize)]
struct SealedForm {
    form: std::collections::BTreeMap<String, String>,
    files: Vec<ReadFile>,
}

async fn lot_names<C: ConnectionTrait>(db: &C, tender_id: TenderId) -> AppResult<HashMap<LotId, String>> {
    Ok(lot::Entity::find()
        .filter(lot::Column::TenderId.eq(tender_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, format!("{}. {}", l.lot_no, l.name)))
        .collect())
}

/// A valid bid as read out at the opening: what the evaluation works from.
#[derive(Debug, Clone)]
pub struct ReadForm {
    /// The bid.
    pub bid: bid::Model,
    /// Its lot.
    pub lot_id: LotId,
    /// Its bidder.
    pub org_id: OrgId,
    /// The bid form's values by item key, as read out.
    pub form: BTreeMap<String, String>,
}

impl Openings {
    /// The valid bids of a tender whose opening has read them out (objections and after), with
    /// their forms: what was read out in public is no secret any more, and the evaluation
    /// starts from it. Before the reading: `out_of_turn`.
    pub async fn read_forms<C: ConnectionTrait>(&self, db: &C, tender_id: TenderId) -> AppResult<Vec<ReadForm>> {
        let o = opening::Entity::find()
            .filter(opening::Column::TenderId.eq(tender_id))
            .one(db)
            .await?
            .ok_or_else(|| AppError::conflict("out_of_turn", "the tender has not been opened"))?;
        if !matches!(o.phase, Phase::Objections | Phase::Confirmation | Phase::Closed) {
            return Err(AppError::conflict("out_of_turn", "the bids have not been read out"));
        }
        let rows = opening_bid::Entity::find()
            .filter(opening_bid::Column::OpeningId.eq(o.id))
            .filter(opening_bid::Column::Outcome.eq(BidOutcome::Valid))
            .order_by_asc(opening_bid::Column::Id)
            .all(db)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let bid = bid::Entity::find_by_id(r.bid_id).one(db).await?.ok_or_else(AppError::not_found)?;
            let sealed = r.sealed_form.clone().unwrap_or_default();
            let form: SealedForm = self
                .vault
                .open(&format!("{} form", vault_context(&bid)), &sealed)
                .and_then(|f| serde_json::from_slice(&f).ok())
                .ok_or_else(|| AppError::internal("a sealed bid form does not open with the vault key"))?;
            out.push(ReadForm { bid, lot_id: r.lot_id, org_id: r.org_id, form: form.form });
        }
        Ok(out)
    }
}

fn bid_form(t: &tender::Model) -> AppResult<Vec<BidFormField>> {
    serde_json::from_str(&t.bid_form).map_err(|e| AppError::internal(format!("tender {} bid form: {e}", t.public_id)))
}

/// The money items of a bid form read as amounts: the figure and in capitals (大写).
fn amounts(items: &[BidFormField], form: &BTreeMap<String, String>) -> BTreeMap<String, ReadAmount> {
    items
        .iter()
        .filter(|i| i.kind == FieldKind::Money)
        .filter_map(|i| Some((i.key.clone(), ReadAmount::parse(form.get(&i.key)?)?)))
        .collect()
}

fn out_of_turn(what: &str) -> AppError {
    AppError::conflict("out_of_turn", format!("{what} is not possible in this phase of the opening"))
}

fn host_only(viewer: Viewer) -> AppResult<()> {
    if viewer == Viewer::Host { Ok(()) } else { Err(AppError::forbidden()) }
}

fn bidder_only(viewer: Viewer) -> AppResult<OrgId> {
    match viewer {
        Viewer::Bidder { org_id } => Ok(org_id),
        _ => Err(AppError::forbidden()),
    }
}

fn text(value: &str, field: &'static str) -> AppResult<String> {
    Ok(crate::error::required_text(field, value, MAX_TEXT)?.to_string())
}

/// What opening a released key gave.
enum Opened {
    Valid { key: ContentKey, form: SealedForm },
    WrongKey(String),
    Invalid(Invalid),
}

/// Why a bid is invalid: a stable code, the bid form item it is about, and the reason in words.
struct Invalid {
    code: &'static str,
    item: Option<String>,
    reason: String,
}

/// The longest item key an invalid bid's reason repeats (the tender's keys are at most 40).
const MAX_REASON_KEY: usize = 40;

impl Invalid {
    fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Self { code, item: None, reason: reason.into() }
    }

    /// A bid form that does not match the tender's items: the first problem is the reason's code,
    /// the reason in words lists them all.
    fn form(problems: &[FormProblem]) -> Self {
        let key = |k: &str| {
            let mut cut: String = k.chars().take(MAX_REASON_KEY).collect();
            if cut.len() < k.len() {
                cut.push('…');
            }
            cut
        };
        let listed: Vec<String> =
            problems.iter().take(5).map(|p| format!("{} {}", key(&p.item), p.problem.code())).collect();
        let more = if problems.len() > 5 { format!(" and {} more", problems.len() - 5) } else { String::new() };
        let first = problems.first();
        Self {
            code: first.map_or("bad_manifest", |p| p.problem.code()),
            item: first.map(|p| key(&p.item)),
            reason: format!("the bid form does not match the tender's items: {}{more}", listed.join(", ")),
        }
    }
}

/// An invalid bid's item by its key, with its labels if the tender's bid form has it.
fn reason_item(items: &[BidFormField], key: String) -> ReasonItem {
    match items.iter().find(|i| i.key == key) {
        Some(i) => ReasonItem { key, label_zh: i.label_zh.clone(), label_en: i.label_en.clone() },
        None => ReasonItem { key, label_zh: String::new(), label_en: String::new() },
    }
}

/// An invalid bid's reason as the record prints it: from its code in both languages (a bid form
/// problem with the item's labels), or, for a reason without a code, in the words recorded.
fn reason_text(texts: &I18n, code: Option<&str>, item: Option<&ReasonItem>, reason: Option<&str>) -> String {
    let Some(code) = code else { return reason.unwrap_or_default().to_string() };
    if bid_form::Problem::parse(code).is_some() {
        let item = item.map(|i| match (i.label_zh.as_str(), i.label_en.as_str()) {
            ("", _) => i.key.clone(),
            (zh, en) if en.is_empty() || en == zh => zh.to_string(),
            (zh, en) => format!("{zh} {en}"),
        });
        let what = texts.both(&format!("bid_form.{code}"));
        return match item {
            Some(item) => format!("{}: {item} — {what}", texts.both("bid_form.mismatch")),
            None => format!("{}: {what}", texts.both("bid_form.mismatch")),
        };
    }
    let key = format!("invalid_reason.{code}");
    if texts.has(&key) { texts.both(&key) } else { reason.unwrap_or(code).to_string() }
}

/// The codes of an invalid bid's reason besides the bid form's problems (each has its text,
/// `invalid_reason.<code>`, in the catalogues).
pub const INVALID_CODES: [&str; 10] = [
    "envelope_missing",
    "not_an_envelope",
    "unsupported_version",
    "malformed_header",
    "wrong_bid",
    "corrupted_chunk",
    "truncated",
    "not_a_payload",
    "bad_manifest",
    "file_mismatch",
];

fn vault_context(b: &bid::Model) -> String {
    format!("tenderhall opening bid {}", b.public_id)
}

async fn my_bids<C: ConnectionTrait>(db: &C, opening_id: OpeningId, org: OrgId) -> AppResult<Vec<opening_bid::Model>> {
    Ok(opening_bid::Entity::find()
        .filter(opening_bid::Column::OpeningId.eq(opening_id))
        .filter(opening_bid::Column::OrgId.eq(org))
        .all(db)
        .await?)
}

async fn my_bid<C: ConnectionTrait>(
    db: &C,
    opening_id: OpeningId,
    org: OrgId,
    bid_id: Uuid,
) -> AppResult<(bid::Model, opening_bid::Model)> {
    let b = bid::Entity::find()
        .filter(bid::Column::PublicId.eq(bid_id))
        .filter(bid::Column::OrgId.eq(org))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let ob = opening_bid::Entity::find()
        .filter(opening_bid::Column::OpeningId.eq(opening_id))
        .filter(opening_bid::Column::BidId.eq(b.id))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok((b, ob))
}

/// An organisation's name and public id.
async fn org_of<C: ConnectionTrait>(db: &C, org: OrgId) -> AppResult<(String, Uuid)> {
    let o = organisation::Entity::find_by_id(org).one(db).await?.ok_or_else(AppError::not_found)?;
    Ok((o.name, o.public_id))
}

/// Organisations' names and public ids.
async fn orgs<C: ConnectionTrait>(
    db: &C,
    ids: impl Iterator<Item = OrgId>,
) -> AppResult<HashMap<OrgId, (String, Uuid)>> {
    let ids: Vec<OrgId> = ids.collect();
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, (o.name, o.public_id)))
        .collect())
}

/// When a window of `minutes` opened at `now` ends; none for 0 minutes.
fn window_end(now: DateTime<Utc>, minutes: i32) -> Option<DateTime<Utc>> {
    (minutes > 0).then(|| now + TimeDelta::minutes(i64::from(minutes)))
}

/// Opens the decryption window: by the host, or by the platform when the sign-in window ends.
async fn start_decryption(
    uow: &mut UnitOfWork,
    o: &opening::Model,
    t: &tender::Model,
    host: Option<UserId>,
) -> AppResult<Action> {
    let ends = uow.now() + TimeDelta::minutes(i64::from(o.decrypt_minutes));
    set_phase(uow, o, Phase::Decryption, Some(ends), host).await?;
    move_state(uow.txn(), t, TenderState::Opening, uow.now()).await?;
    uow.schedule(window_job(o, Phase::Decryption, ends)).await?;
    let started = HallEvent::DecryptionStarted { window_ends_at: ends, minutes: o.decrypt_minutes };
    emit(uow, o, Audience::All, started).await?;
    let bidders = super::notices::bidders(uow.txn(), o.id, None).await?;
    uow.notify(&bidders, super::notices::window_notice(NoticeKind::DecryptionOpened, t, ends)).await?;
    if let Some(job) = super::notices::closing_job(o, ends, uow.now()) {
        uow.schedule(job).await?;
    }
    Ok(Action::OpeningStartDecryption)
}

async fn set_phase(
    uow: &UnitOfWork,
    o: &opening::Model,
    phase: Phase,
    window_ends_at: Option<DateTime<Utc>>,
    host: Option<UserId>,
) -> AppResult<()> {
    opening::ActiveModel {
        id: Set(o.id),
        phase: Set(phase),
        phase_started_at: Set(uow.now()),
        window_ends_at: Set(window_ends_at),
        host_user_id: Set(host.or(o.host_user_id)),
        ..Default::default()
    }
    .update(uow.txn())
    .await?;
    Ok(())
}

/// SHA-256 (hex) of the opening record: every event shown to all so far, in order, as JSON.
/// Bidders sign it to confirm the record; the record PDF prints it.
pub async fn record_digest<C: ConnectionTrait>(db: &C, opening_id: OpeningId) -> AppResult<String> {
    let events = live::store::typed::<Openings, _>(db, room(opening_id), Audience::All).await?;
    let canonical: Vec<Value> =
        events.iter().map(|(e, _)| json!({"seq": e.seq, "kind": e.kind, "at": e.at, "data": e.data})).collect();
    let bytes = serde_json::to_vec(&canonical).map_err(AppError::internal)?;
    Ok(hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes)))
}

fn cst(t: &DateTime<Utc>) -> String {
    t.with_timezone(&crate::web::cst()).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A bid form's value as the record prints it: an amount as ¥ with grouping and, on the next line,
/// in capitals (大写); anything else as given.
fn record_value(texts: &I18n, kind: Option<FieldKind>, value: &str) -> String {
    match (kind, ReadAmount::parse(value)) {
        (Some(FieldKind::Money), Some(a)) => format!("¥{}\n{} {}", a.yuan, texts.both("record.capitals"), a.capitals),
        _ => value.to_string(),
    }
}

/// The people and things an event names, for its line in the record's timeline.
fn subject(e: &HallEvent) -> Vec<String> {
    let lot = |l: &Option<String>| l.clone().into_iter();
    match e {
        HallEvent::SignedIn { bidder, .. }
        | HallEvent::Confirmed { bidder, .. }
        | HallEvent::Objection { bidder, .. } => {
            vec![bidder.clone()]
        }
        HallEvent::KeyAccepted { bidder, lot: l, .. } => std::iter::once(bidder.clone()).chain(lot(l)).collect(),
        HallEvent::KeyRefused { bidder, lot: l, .. } | HallEvent::BidInvalid { bidder, lot: l, .. } => {
            std::iter::once(bidder.clone()).chain(lot(l)).collect()
        }
        HallEvent::DecryptionStarted { window_ends_at, .. } | HallEvent::ObjectionsStarted { window_ends_at } => {
            vec![format!("→ {}", cst(window_ends_at))]
        }
        HallEvent::Note { by, .. } => vec![by.clone()],
        HallEvent::Failed { reason } => vec![reason.clone()],
        _ => Vec::new(),
    }
}

fn render_record(
    t: &tender::Model,
    form: &[BidFormField],
    phase: Phase,
    events: &[(HallEventView, HallEvent)],
    digest: &str,
    texts: &I18n,
) -> Result<Vec<u8>, crate::pdf::writer::Error> {
    let tx = |key: &str| texts.both(key);
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let at_of = |f: fn(&HallEvent) -> bool| events.iter().find(|(_, e)| f(e)).map(|(v, _)| cst(&v.at));
    let mut doc = crate::pdf::writer::Document::new(&tx("record.title"));
    doc.footer(&format!("Tenderhall · {} · {} SHA-256 {digest}", t.code, tx("record.digest_short")));
    let opened = at_of(|e| matches!(e, HallEvent::Opened { .. })).unwrap_or_default();
    let started = at_of(|e| matches!(e, HallEvent::DecryptionStarted { .. })).unwrap_or_default();
    let read_at = at_of(|e| matches!(e, HallEvent::Reading { .. })).unwrap_or_default();
    let status = tx(match phase {
        Phase::Failed => "record.status_failed",
        Phase::Closed => "record.status_closed",
        _ => "record.status_in_progress",
    });
    doc.key_values(&[
        (&tx("record.code"), &t.code),
        (&tx("record.tender_title"), &t.title),
        (&tx("record.deadline"), &cst(&t.bid_deadline)),
        (&tx("record.opened"), &opened),
        (&tx("record.decryption_started"), &started),
        (&tx("record.read_at"), &read_at),
        (&tx("record.status"), &status),
    ]);
    let reading = events.iter().find_map(|(_, e)| match e {
        HallEvent::Reading { bids, not_opened, lots, min_valid_bids, items } => {
            Some((bids, not_opened, lots, *min_valid_bids, items))
        }
        _ => None,
    });
    if let Some((bids, not_opened, lots, min, items)) = reading {
        // The items as the reading named them; a reading from before they were named, by the
        // tender's form.
        let items: &[BidFormField] = if items.is_empty() { form } else { items };
        let kind_of = |key: &str| items.iter().find(|i| i.key == key).map(|i| i.kind);
        doc.heading(&tx("record.valid_bids"));
        let rows: Vec<Vec<String>> = bids
            .iter()
            .map(|b| {
                let price = b
                    .form
                    .get(crate::tenders::model::TOTAL_PRICE)
                    .map(|v| record_value(texts, Some(FieldKind::Money), v))
                    .unwrap_or_default();
                let mut keys: Vec<&String> = items.iter().map(|i| &i.key).filter(|k| b.form.contains_key(*k)).collect();
                keys.extend(b.form.keys().filter(|k| !items.iter().any(|i| &i.key == *k)));
                let others = keys
                    .into_iter()
                    .filter(|k| k.as_str() != crate::tenders::model::TOTAL_PRICE)
                    .map(|k| {
                        let label = match items.iter().find(|i| &i.key == k) {
                            Some(i) if i.label_en.is_empty() || i.label_en == i.label_zh => i.label_zh.clone(),
                            Some(i) => format!("{} {}", i.label_zh, i.label_en),
                            None => k.clone(),
                        };
                        format!("{label}: {}", record_value(texts, kind_of(k), &b.form[k]))
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                vec![opt(&b.bidder), opt(&b.lot), price, others, b.files.len().to_string()]
            })
            .collect();
        doc.table(
            &[
                &tx("record.bidder"),
                &tx("record.lot"),
                &tx("record.total_price"),
                &tx("record.other_items"),
                &tx("record.files"),
            ],
            &rows,
            &[0.22, 0.16, 0.26, 0.28, 0.08],
        );
        let rows: Vec<Vec<String>> = not_opened
            .iter()
            .map(|b| {
                let outcome = match b.outcome {
                    BidOutcome::DecryptFailed => tx("record.decrypt_failed"),
                    BidOutcome::Invalid => tx("record.invalid"),
                    other => other.as_str().to_string(),
                };
                let reason = reason_text(texts, b.code.as_deref(), b.item.as_ref(), b.reason.as_deref());
                vec![opt(&b.bidder), opt(&b.lot), outcome, reason]
            })
            .collect();
        if !rows.is_empty() {
            doc.heading(&tx("record.not_opened"));
            doc.table(
                &[&tx("record.bidder"), &tx("record.lot"), &tx("record.outcome"), &tx("record.reason")],
                &rows,
                &[0.28, 0.2, 0.2, 0.32],
            );
        }
        doc.heading(&tx("record.lots"));
        let rows: Vec<Vec<String>> = lots
            .iter()
            .map(|l| {
                let verdict = tx(if l.failed { "record.lot_failed" } else { "record.lot_to_evaluation" });
                vec![l.lot.clone(), l.valid.to_string(), min.to_string(), verdict]
            })
            .collect();
        doc.table(
            &[&tx("record.lot"), &tx("record.valid"), &tx("record.minimum"), &tx("record.result")],
            &rows,
            &[0.4, 0.15, 0.15, 0.3],
        );
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .filter_map(|(v, e)| match e {
            HallEvent::Objection { id, bidder, text } => {
                let answer = events
                    .iter()
                    .find_map(|(av, a)| match a {
                        HallEvent::Answer { objection, text } if objection == id => {
                            Some(format!("{text}（{}）", cst(&av.at)))
                        }
                        _ => None,
                    })
                    .unwrap_or_else(|| tx("record.not_answered"));
                Some(vec![bidder.clone(), format!("{text}（{}）", cst(&v.at)), answer])
            }
            _ => None,
        })
        .collect();
    if !rows.is_empty() {
        doc.heading(&tx("record.objections"));
        doc.table(&[&tx("record.bidder"), &tx("record.objection"), &tx("record.answer")], &rows, &[0.24, 0.38, 0.38]);
    }
    let notes: Vec<String> = events
        .iter()
        .filter_map(|(v, e)| match e {
            HallEvent::Note { by, text, .. } => Some(format!("{text}（{by}，{}）", cst(&v.at))),
            _ => None,
        })
        .collect();
    if !notes.is_empty() {
        doc.heading(&tx("record.notes"));
        for n in &notes {
            doc.paragraph(n);
        }
    }
    let confirmed: Vec<Vec<String>> = events
        .iter()
        .filter_map(|(v, e)| match e {
            HallEvent::Confirmed { bidder, .. } => Some(vec![bidder.clone(), cst(&v.at)]),
            _ => None,
        })
        .collect();
    if !confirmed.is_empty() {
        doc.heading(&tx("record.confirmations"));
        doc.table(&[&tx("record.bidder"), &tx("record.confirmed_at")], &confirmed, &[0.6, 0.4]);
    }
    doc.heading(&tx("record.timeline"));
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|(v, e)| {
            let what = std::iter::once(tx(&format!("hall.ev_{}", v.kind))).chain(subject(e)).collect::<Vec<_>>();
            vec![v.seq.to_string(), cst(&v.at), what.join(" · ")]
        })
        .collect();
    doc.table(&["#", &tx("record.time"), &tx("record.event")], &rows, &[0.08, 0.27, 0.65]);
    doc.rule();
    doc.paragraph(&format!("{}: {digest}", tx("record.digest_text")));
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_code_has_its_texts_and_the_record_prints_them() {
        let texts = I18n::load().expect("catalogues");
        for code in INVALID_CODES {
            assert!(texts.has(&format!("invalid_reason.{code}")), "invalid_reason.{code} in both catalogues");
        }
        // Every failure that makes a bid invalid has a code of the list.
        let failures = [
            envelope::OpenError::NotAnEnvelope.code(),
            envelope::OpenError::UnsupportedVersion(2, 1).code(),
            envelope::OpenError::MalformedHeader("chunk size").code(),
            envelope::OpenError::WrongBid("bid").code(),
            envelope::OpenError::CorruptedChunk(3).code(),
            envelope::OpenError::Truncated.code(),
            envelope::payload::PayloadError::NotAPayload.code(),
            envelope::payload::PayloadError::BadManifest("x".into()).code(),
            envelope::payload::PayloadError::FileMismatch("a.pdf".into()).code(),
        ];
        for code in failures {
            assert!(INVALID_CODES.contains(&code), "{code} is listed");
        }
        let item =
            ReasonItem { key: "delivery_days".into(), label_zh: "交货期".into(), label_en: "Delivery".into() };
        assert_eq!(
            reason_text(&texts, Some("missing_item"), Some(&item), Some("words")),
            "开标一览表与招标文件不符 The bid form does not match the tender's: 交货期 Delivery — 此项为必填项 This item is required"
        );
        let unknown = ReasonItem { key: "bonus".into(), label_zh: String::new(), label_en: String::new() };
        assert!(reason_text(&texts, Some("unknown_item"), Some(&unknown), None).contains(": bonus — "));
        assert_eq!(
            reason_text(&texts, Some("truncated"), None, Some("words")),
            "加密投标文件不完整 The sealed bid is incomplete"
        );
        assert_eq!(reason_text(&texts, None, None, Some("no valid key")), "no valid key", "a reason from before codes");
        assert_eq!(reason_text(&texts, Some("later_code"), None, Some("words")), "words");
    }

    #[test]
    fn a_form_reason_names_the_first_problem_and_cuts_long_keys() {
        use crate::tenders::bid_form::Problem;
        let long = "k".repeat(500);
        let problems: Vec<FormProblem> = (0..7)
            .map(|i| FormProblem {
                item: if i == 0 { long.clone() } else { format!("x{i}") },
                problem: Problem::UnknownItem,
            })
            .collect();
        let why = Invalid::form(&problems);
        assert_eq!(why.code, "unknown_item");
        assert_eq!(why.item.as_deref().map(|k| k.chars().count()), Some(MAX_REASON_KEY + 1));
        assert!(why.reason.ends_with("and 2 more"), "{}", why.reason);
        assert!(why.reason.len() < 200, "{}", why.reason);
    }
}
