//! The opening's rules: who is in the hall, the phases driven by the host and the platform's
//! clock, releasing keys and opening envelopes, the reading, objections, confirmations, and the
//! numbered events, each written in the same transaction as the change it reports and published
//! only after that transaction commits.

use super::model::{BidOutcome, Command, HallEvent, HallState, Phase, Viewer};
use crate::{
    accounts::model::{Actor, Role},
    app::AppState,
    audit::AuditEntry,
    db::begin_write,
    entities::{bid, bidder_key, hall_event, lot, objection, opening, opening_bid, organisation, tender},
    envelope::{self, BidIdentity, ContentKey, payload::PayloadCheck},
    error::{AppError, AppResult},
    tenders::{
        model::TenderState,
        policy::{is_manager, is_overseer, state_of},
        service::move_state,
    },
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

/// Longest objection, answer or note.
const MAX_TEXT: usize = 2000;

/// The tender behind an id, if the actor may know it.
async fn load_tender(state: &AppState, tender_id: Uuid) -> AppResult<tender::Model> {
    tender::Entity::find()
        .filter(tender::Column::PublicId.eq(tender_id))
        .one(&state.db)
        .await?
        .filter(|t| state_of(t).is_public())
        .ok_or_else(AppError::not_found)
}

/// Finds (or, once the deadline has passed, creates) the tender's opening, and who the actor is
/// in it. Before the deadline there is no hall (`hall_not_open`); someone with no part in the
/// tender gets 404.
pub async fn enter(state: &AppState, actor: &Actor, tender_id: Uuid) -> AppResult<(opening::Model, Viewer)> {
    let t = load_tender(state, tender_id).await?;
    let viewer = if is_manager(actor, &t) {
        Viewer::Host
    } else if is_overseer(actor) {
        Viewer::Supervisor
    } else if actor.role == Role::Supplier {
        Viewer::Bidder { org_id: actor.org_id }
    } else {
        return Err(AppError::not_found());
    };
    let o = ensure(state, &t).await?;
    if let Viewer::Bidder { org_id } = viewer {
        let mine = opening_bid::Entity::find()
            .filter(opening_bid::Column::OpeningId.eq(o.id))
            .filter(opening_bid::Column::OrgId.eq(org_id))
            .one(&state.db)
            .await?;
        if mine.is_none() {
            return Err(AppError::not_found());
        }
    }
    Ok((o, viewer))
}

/// The opening of a tender whose deadline has passed, created on first use with every bid that
/// counts (the latest `submitted` one of each bidder and lot).
async fn ensure(state: &AppState, t: &tender::Model) -> AppResult<opening::Model> {
    if let Some(o) = opening::Entity::find().filter(opening::Column::TenderId.eq(t.id)).one(&state.db).await? {
        return Ok(o);
    }
    let now = state.clock.now();
    if now < t.bid_deadline || state_of(t) != TenderState::Published {
        return Err(AppError::rule("hall_not_open", "the opening hall opens at the bid deadline"));
    }
    let txn = begin_write(&state.db).await?;
    if let Some(o) = opening::Entity::find().filter(opening::Column::TenderId.eq(t.id)).one(&txn).await? {
        return Ok(o);
    }
    let o = opening::ActiveModel {
        tender_id: Set(t.id),
        phase: Set(Phase::SignIn.as_str().into()),
        decrypt_minutes: Set(state.settings.opening.decrypt_minutes),
        objection_minutes: Set(state.settings.opening.objection_minutes),
        min_valid_bids: Set(t.min_valid_bids),
        phase_started_at: Set(now),
        window_ends_at: Set(None),
        host_user_id: Set(None),
        last_seq: Set(0),
        outcome: Set(None),
        record_sha256: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let bids = bid::Entity::find()
        .filter(bid::Column::TenderId.eq(t.id))
        .filter(bid::Column::Status.eq(crate::bids::service::status::SUBMITTED))
        .order_by_asc(bid::Column::Id)
        .all(&txn)
        .await?;
    let names = org_names(&txn, bids.iter().map(|b| b.org_id)).await?;
    let lots = lot_names(&txn, t.id).await?;
    let mut listed = Vec::new();
    for b in &bids {
        opening_bid::ActiveModel {
            opening_id: Set(o.id),
            bid_id: Set(b.id),
            org_id: Set(b.org_id),
            lot_id: Set(b.lot_id),
            outcome: Set(BidOutcome::Pending.as_str().into()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        listed.push(json!({"bidder": names.get(&b.org_id), "lot": lots.get(&b.lot_id)}));
    }
    move_state(&txn, t, TenderState::ClosedForBidding, now).await?;
    let mut pending = Pending::new(&o);
    pending.push(
        "opened",
        "all",
        now,
        json!({"tender": t.public_id, "title": t.title, "code": t.code, "deadline": t.bid_deadline, "bids": listed}),
    );
    let o = pending.write(&txn).await?;
    state
        .audit
        .record(
            &txn,
            now,
            &crate::audit::AuditActor { user_id: None, org_id: None, label: "platform clock".into() },
            AuditEntry::new("opening.open", "tender", t.public_id, json!({"bids": bids.len()})),
        )
        .await?;
    txn.commit().await?;
    pending.publish(state);
    Ok(o)
}

async fn org_names<C: ConnectionTrait>(db: &C, ids: impl Iterator<Item = i64>) -> AppResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.collect();
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

async fn lot_names<C: ConnectionTrait>(db: &C, tender_id: i64) -> AppResult<HashMap<i64, String>> {
    Ok(lot::Entity::find()
        .filter(lot::Column::TenderId.eq(tender_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, format!("{}. {}", l.lot_no, l.name)))
        .collect())
}

/// Events being written in one transaction, published after it commits.
struct Pending {
    opening_id: i64,
    next: i64,
    events: Vec<HallEvent>,
}

impl Pending {
    fn new(o: &opening::Model) -> Self {
        Self { opening_id: o.id, next: o.last_seq + 1, events: Vec::new() }
    }

    fn push(&mut self, kind: &str, audience: &str, at: DateTime<Utc>, data: Value) {
        self.events.push(HallEvent {
            seq: self.next,
            kind: kind.into(),
            at,
            data,
            audience: audience.into(),
            opening_id: self.opening_id,
        });
        self.next += 1;
    }

    /// Writes the events and the opening's new last number; returns the opening as updated.
    async fn write(&self, txn: &DatabaseTransaction) -> AppResult<opening::Model> {
        for e in &self.events {
            hall_event::ActiveModel {
                opening_id: Set(e.opening_id),
                seq: Set(e.seq),
                kind: Set(e.kind.clone()),
                audience: Set(e.audience.clone()),
                payload: Set(e.data.to_string()),
                created_at: Set(e.at),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
        super::relay::notify(txn).await?;
        Ok(opening::ActiveModel { id: Set(self.opening_id), last_seq: Set(self.next - 1), ..Default::default() }
            .update(txn)
            .await?)
    }

    fn publish(self, state: &AppState) {
        for e in self.events {
            state.halls.publish(e);
        }
    }
}

/// The events of an opening after `after` that `viewer` may see, in order.
pub async fn events_after<C: ConnectionTrait>(
    db: &C,
    opening_id: i64,
    viewer: Viewer,
    after: i64,
) -> AppResult<Vec<HallEvent>> {
    Ok(hall_event::Entity::find()
        .filter(hall_event::Column::OpeningId.eq(opening_id))
        .filter(hall_event::Column::Seq.gt(after))
        .order_by_asc(hall_event::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .filter(|e| viewer.sees(&e.audience))
        .map(to_event)
        .collect())
}

/// The events every participant sees (audience `all`): what the record is made of.
async fn public_events<C: ConnectionTrait>(db: &C, opening_id: i64) -> AppResult<Vec<HallEvent>> {
    Ok(hall_event::Entity::find()
        .filter(hall_event::Column::OpeningId.eq(opening_id))
        .filter(hall_event::Column::Audience.eq("all"))
        .order_by_asc(hall_event::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(to_event)
        .collect())
}

/// A stored event as sent.
pub fn to_event(e: hall_event::Model) -> HallEvent {
    HallEvent {
        seq: e.seq,
        kind: e.kind,
        at: e.created_at,
        data: serde_json::from_str(&e.payload).unwrap_or(Value::Null),
        audience: e.audience,
        opening_id: e.opening_id,
    }
}

/// The hall as `viewer` sees it now.
pub async fn hall_state(state: &AppState, actor: &Actor, tender_id: Uuid) -> AppResult<(HallState, i64, Viewer)> {
    let (o, viewer) = enter(state, actor, tender_id).await?;
    let t = tender::Entity::find_by_id(o.tender_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let mut mine = Vec::new();
    if let Viewer::Bidder { org_id } = viewer {
        let lots = lot_names(&state.db, t.id).await?;
        for ob in my_bids(&state.db, o.id, org_id).await? {
            let Some(b) = bid::Entity::find_by_id(ob.bid_id).one(&state.db).await? else { continue };
            mine.push(json!({"bid": b.public_id, "lot": lots.get(&ob.lot_id), "outcome": ob.outcome,
                "reason": ob.reason, "signed_in": ob.signed_in_at.is_some(), "confirmed": ob.confirmed_at.is_some()}));
        }
    }
    Ok((
        HallState {
            tender: t.public_id,
            title: t.title,
            phase: o.phase.clone(),
            window_ends_at: o.window_ends_at,
            server_time: state.clock.now(),
            role: viewer.as_str().into(),
            last_seq: o.last_seq,
            my_bids: mine,
            record_sha256: o.record_sha256.clone(),
        },
        o.id,
        viewer,
    ))
}

fn phase_of(o: &opening::Model) -> Phase {
    Phase::parse(&o.phase).unwrap_or(Phase::SignIn)
}

fn out_of_turn(what: &str) -> AppError {
    AppError::conflict("out_of_turn", format!("{what} is not possible in this phase of the opening"))
}

fn host_only(viewer: Viewer) -> AppResult<()> {
    if viewer == Viewer::Host { Ok(()) } else { Err(AppError::forbidden()) }
}

fn bidder_only(viewer: Viewer) -> AppResult<i64> {
    match viewer {
        Viewer::Bidder { org_id } => Ok(org_id),
        _ => Err(AppError::forbidden()),
    }
}

fn text(value: &str, field: &'static str) -> AppResult<String> {
    Ok(crate::error::required_text(field, value, MAX_TEXT)?.to_string())
}

/// Carries out a participant's command. Refusals change nothing.
pub async fn execute(state: &AppState, actor: &Actor, tender_id: Uuid, cmd: Command) -> AppResult<()> {
    let (o, viewer) = enter(state, actor, tender_id).await?;
    // Opening an envelope takes time and needs no lock: it is done before the transaction.
    let opened = match &cmd {
        Command::ReleaseKey { bid, key } => Some(open_released(state, &o, viewer, *bid, key).await?),
        _ => None,
    };
    let txn = begin_write(&state.db).await?;
    let o = opening::Entity::find_by_id(o.id).one(&txn).await?.ok_or_else(AppError::not_found)?;
    let t = tender::Entity::find_by_id(o.tender_id).one(&txn).await?.ok_or_else(AppError::not_found)?;
    let now = state.clock.now();
    let mut ev = Pending::new(&o);
    let phase = phase_of(&o);
    let action = match cmd {
        Command::SignIn => {
            let org = bidder_only(viewer)?;
            if !matches!(phase, Phase::SignIn | Phase::Decryption) {
                return Err(out_of_turn("signing in"));
            }
            let mine = my_bids(&txn, o.id, org).await?;
            if mine.iter().all(|b| b.signed_in_at.is_some()) {
                return Ok(());
            }
            for b in mine {
                opening_bid::ActiveModel { id: Set(b.id), signed_in_at: Set(Some(now)), ..Default::default() }
                    .update(&txn)
                    .await?;
            }
            ev.push("signed_in", "all", now, json!({"bidder": org_name(&txn, org).await?}));
            "opening.sign_in"
        }
        Command::StartDecryption => {
            host_only(viewer)?;
            if phase != Phase::SignIn {
                return Err(out_of_turn("starting the decryption"));
            }
            let ends = now + TimeDelta::minutes(i64::from(o.decrypt_minutes));
            set_phase(&txn, &o, Phase::Decryption, now, Some(ends), Some(actor.user_id)).await?;
            move_state(&txn, &t, TenderState::Opening, now).await?;
            ev.push("decryption_started", "all", now, json!({"window_ends_at": ends, "minutes": o.decrypt_minutes}));
            "opening.start_decryption"
        }
        Command::ReleaseKey { bid, .. } => {
            let org = bidder_only(viewer)?;
            if phase != Phase::Decryption {
                return Err(out_of_turn("releasing a key"));
            }
            if o.window_ends_at.is_some_and(|end| now >= end) {
                return Err(AppError::rule("window_closed", "the decryption window has closed"));
            }
            let (b, ob) = my_bid(&txn, o.id, org, bid).await?;
            if ob.outcome != BidOutcome::Pending.as_str() {
                return Err(AppError::conflict("already_decided", "this bid has already been opened"));
            }
            let lot = lot_names(&txn, t.id).await?.get(&ob.lot_id).cloned();
            let bidder = org_name(&txn, org).await?;
            match opened.ok_or_else(|| AppError::internal("no opening result"))? {
                Opened::Valid { key, form } => {
                    let ctx = vault_context(&b);
                    opening_bid::ActiveModel {
                        id: Set(ob.id),
                        released_at: Set(Some(now)),
                        signed_in_at: Set(Some(ob.signed_in_at.unwrap_or(now))),
                        outcome: Set(BidOutcome::Valid.as_str().into()),
                        sealed_key: Set(Some(state.vault.seal(&format!("{ctx} key"), &key.0))),
                        sealed_form: Set(Some(state.vault.seal(&format!("{ctx} form"), form.to_string().as_bytes()))),
                        ..Default::default()
                    }
                    .update(&txn)
                    .await?;
                    ev.push("key_accepted", "all", now, json!({"bidder": bidder, "lot": lot}));
                }
                Opened::WrongKey(reason) => {
                    // The bidder may try again with the right key while the window is open.
                    ev.push(
                        "key_refused",
                        &format!("org:{org}"),
                        now,
                        json!({"bidder": bidder, "lot": lot, "reason": reason}),
                    );
                }
                Opened::Invalid(reason) => {
                    opening_bid::ActiveModel {
                        id: Set(ob.id),
                        released_at: Set(Some(now)),
                        outcome: Set(BidOutcome::Invalid.as_str().into()),
                        reason: Set(Some(reason.clone())),
                        ..Default::default()
                    }
                    .update(&txn)
                    .await?;
                    ev.push("bid_invalid", "all", now, json!({"bidder": bidder, "lot": lot, "reason": reason}));
                }
            }
            "opening.release_key"
        }
        Command::Advance => {
            host_only(viewer)?;
            advance(state, &txn, &o, &t, now, &mut ev).await?
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
            .insert(&txn)
            .await?;
            ev.push("objection", "all", now, json!({"id": id, "bidder": org_name(&txn, org).await?, "text": body}));
            "opening.object"
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
                .one(&txn)
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
            .update(&txn)
            .await?;
            ev.push("answer", "all", now, json!({"objection": id, "text": body}));
            "opening.answer"
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
                .all(&txn)
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
            for b in my_bids(&txn, o.id, org).await? {
                opening_bid::ActiveModel {
                    id: Set(b.id),
                    confirmed_at: Set(Some(now)),
                    confirm_signature: Set(Some(B64.encode(&sig))),
                    ..Default::default()
                }
                .update(&txn)
                .await?;
            }
            ev.push("confirmed", "all", now, json!({"bidder": org_name(&txn, org).await?}));
            "opening.confirm"
        }
        Command::Note { text: body } => {
            if matches!(viewer, Viewer::Bidder { .. }) {
                return Err(AppError::forbidden());
            }
            if matches!(phase, Phase::Closed | Phase::Failed) {
                return Err(out_of_turn("adding a note"));
            }
            let body = text(&body, "text")?;
            ev.push("note", "all", now, json!({"by": actor.display_name, "role": viewer.as_str(), "text": body}));
            "opening.note"
        }
    };
    ev.write(&txn).await?;
    let details = json!({"events": ev.events.iter().map(|e| (e.seq, e.kind.clone())).collect::<Vec<_>>()});
    state.audit.record(&txn, now, &actor.audit(), AuditEntry::new(action, "tender", t.public_id, details)).await?;
    txn.commit().await?;
    ev.publish(state);
    Ok(())
}

/// What opening a released key gave.
enum Opened {
    Valid { key: ContentKey, form: Value },
    WrongKey(String),
    Invalid(String),
}

fn vault_context(b: &bid::Model) -> String {
    format!("tenderhall opening bid {}", b.public_id)
}

/// Opens the bid's stored envelope with the released key, as a stream, checking every chunk and
/// the payload; keeps only the bid form. Nothing is written in the clear.
async fn open_released(
    state: &AppState,
    o: &opening::Model,
    viewer: Viewer,
    bid_id: Uuid,
    key_hex: &str,
) -> AppResult<Opened> {
    let org = bidder_only(viewer)?;
    // Refusals that need no decryption come first (and are checked again in the transaction).
    if phase_of(o) != Phase::Decryption {
        return Err(out_of_turn("releasing a key"));
    }
    if o.window_ends_at.is_some_and(|end| state.clock.now() >= end) {
        return Err(AppError::rule("window_closed", "the decryption window has closed"));
    }
    let key: [u8; 32] = hex::decode(key_hex.trim())
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| AppError::invalid_field("key", "invalid"))?;
    let (b, ob) = my_bid(&state.db, o.id, org, bid_id).await?;
    if ob.outcome != BidOutcome::Pending.as_str() {
        return Err(AppError::conflict("already_decided", "this bid has already been opened"));
    }
    let t = tender::Entity::find_by_id(b.tender_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let l = lot::Entity::find_by_id(b.lot_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let bidder = organisation::Entity::find_by_id(b.org_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let id = BidIdentity { tender: t.public_id, lot: l.public_id, bidder: bidder.public_id, bid: b.public_id };
    let sha = b.envelope_sha256.clone().ok_or_else(|| AppError::internal("submitted bid without envelope"))?;
    let file = match state.blobs.open(&sha).await {
        Ok(f) => f.into_std().await,
        Err(crate::blob::BlobError::NotFound) => return Ok(Opened::Invalid("the stored envelope is missing".into())),
        Err(e) => return Err(AppError::internal(e)),
    };
    tokio::task::spawn_blocking(move || {
        let cek = ContentKey(key);
        let mut check = PayloadCheck::new();
        match envelope::open(&cek, &id, std::io::BufReader::with_capacity(1 << 20, file), &mut check) {
            Ok(_) => match check.finish() {
                Ok(manifest) => Ok(Opened::Valid {
                    key: cek,
                    form: json!({"form": manifest.form, "files": manifest.files.iter().map(|f| json!({"name": f.name, "size": f.size, "sha256": f.sha256})).collect::<Vec<_>>()}),
                }),
                Err(e) => Ok(Opened::Invalid(format!("the bid inside the envelope is malformed: {e}"))),
            },
            Err(e @ (envelope::OpenError::KeyCommitmentMismatch | envelope::OpenError::WrongBidderKey)) => {
                Ok(Opened::WrongKey(e.to_string()))
            }
            Err(e) => Ok(Opened::Invalid(e.to_string())),
        }
    })
    .await
    .map_err(AppError::internal)?
}

async fn my_bids<C: ConnectionTrait>(db: &C, opening_id: i64, org: i64) -> AppResult<Vec<opening_bid::Model>> {
    Ok(opening_bid::Entity::find()
        .filter(opening_bid::Column::OpeningId.eq(opening_id))
        .filter(opening_bid::Column::OrgId.eq(org))
        .all(db)
        .await?)
}

async fn my_bid<C: ConnectionTrait>(
    db: &C,
    opening_id: i64,
    org: i64,
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

async fn org_name<C: ConnectionTrait>(db: &C, org: i64) -> AppResult<String> {
    Ok(organisation::Entity::find_by_id(org).one(db).await?.map(|o| o.name).unwrap_or_default())
}

async fn set_phase(
    txn: &DatabaseTransaction,
    o: &opening::Model,
    phase: Phase,
    now: DateTime<Utc>,
    window_ends_at: Option<DateTime<Utc>>,
    host: Option<i64>,
) -> AppResult<()> {
    opening::ActiveModel {
        id: Set(o.id),
        phase: Set(phase.as_str().into()),
        phase_started_at: Set(now),
        window_ends_at: Set(window_ends_at),
        host_user_id: Set(host.or(o.host_user_id)),
        ..Default::default()
    }
    .update(txn)
    .await?;
    Ok(())
}

/// The host moves on: decryption → reading and objections (or 流标), objections →
/// confirmation, confirmation → closed.
async fn advance(
    state: &AppState,
    txn: &DatabaseTransaction,
    o: &opening::Model,
    t: &tender::Model,
    now: DateTime<Utc>,
    ev: &mut Pending,
) -> AppResult<&'static str> {
    let bids = opening_bid::Entity::find().filter(opening_bid::Column::OpeningId.eq(o.id)).all(txn).await?;
    match phase_of(o) {
        Phase::SignIn => Err(out_of_turn("moving on before the decryption")),
        Phase::Decryption => {
            let window_open = o.window_ends_at.is_some_and(|end| now < end);
            let waiting = bids.iter().filter(|b| b.outcome == BidOutcome::Pending.as_str()).count();
            if window_open && waiting > 0 {
                return Err(AppError::rule(
                    "window_open",
                    format!("{waiting} bid(s) may still be decrypted until the window closes"),
                ));
            }
            let names = org_names(txn, bids.iter().map(|b| b.org_id)).await?;
            let lots = lot_names(txn, t.id).await?;
            let mut read = Vec::new();
            let mut failed = Vec::new();
            let mut valid_per_lot: HashMap<i64, i32> = HashMap::new();
            for b in &bids {
                let (bidder, lot) = (names.get(&b.org_id).cloned(), lots.get(&b.lot_id).cloned());
                match BidOutcome::parse(&b.outcome) {
                    Some(BidOutcome::Valid) => {
                        let bid = bid::Entity::find_by_id(b.bid_id).one(txn).await?.ok_or_else(AppError::not_found)?;
                        let sealed = b.sealed_form.clone().unwrap_or_default();
                        let form = state
                            .vault
                            .open(&format!("{} form", vault_context(&bid)), &sealed)
                            .and_then(|f| serde_json::from_slice::<Value>(&f).ok())
                            .ok_or_else(|| AppError::internal("a sealed bid form does not open with the vault key"))?;
                        *valid_per_lot.entry(b.lot_id).or_default() += 1;
                        read.push(json!({"bidder": bidder, "lot": lot, "form": form["form"], "files": form["files"]}));
                    }
                    Some(BidOutcome::Pending) => {
                        opening_bid::ActiveModel {
                            id: Set(b.id),
                            outcome: Set(BidOutcome::DecryptFailed.as_str().into()),
                            reason: Set(Some("no valid key released in the decryption window".into())),
                            ..Default::default()
                        }
                        .update(txn)
                        .await?;
                        failed.push(json!({"bidder": bidder, "lot": lot, "outcome": "decrypt_failed",
                            "reason": "no valid key released in the decryption window"}));
                    }
                    _ => failed.push(json!({"bidder": bidder, "lot": lot, "outcome": b.outcome, "reason": b.reason})),
                }
            }
            let lot_results: Vec<Value> = lots
                .iter()
                .map(|(id, name)| {
                    let n = valid_per_lot.get(id).copied().unwrap_or(0);
                    json!({"lot": name, "valid": n, "failed": n < o.min_valid_bids})
                })
                .collect();
            let all_failed = lots.keys().all(|id| valid_per_lot.get(id).copied().unwrap_or(0) < o.min_valid_bids);
            ev.push(
                "reading",
                "all",
                now,
                json!({"bids": read, "not_opened": failed, "lots": lot_results, "min_valid_bids": o.min_valid_bids}),
            );
            if all_failed {
                set_phase(txn, o, Phase::Failed, now, None, None).await?;
                opening::ActiveModel { id: Set(o.id), outcome: Set(Some("failed".into())), ..Default::default() }
                    .update(txn)
                    .await?;
                move_state(txn, t, TenderState::Failed, now).await?;
                ev.push(
                    "failed",
                    "all",
                    now,
                    json!({"reason": format!("fewer than {} valid bids (流标)", o.min_valid_bids)}),
                );
            } else {
                let ends = now + TimeDelta::minutes(i64::from(o.objection_minutes));
                set_phase(txn, o, Phase::Objections, now, Some(ends), None).await?;
                ev.push("objections_started", "all", now, json!({"window_ends_at": ends}));
            }
            Ok("opening.read")
        }
        Phase::Objections => {
            if o.window_ends_at.is_some_and(|end| now < end) {
                return Err(AppError::rule("window_open", "the objection window is still open"));
            }
            let record = record_digest(txn, o.id).await?;
            set_phase(txn, o, Phase::Confirmation, now, None, None).await?;
            opening::ActiveModel { id: Set(o.id), record_sha256: Set(Some(record.clone())), ..Default::default() }
                .update(txn)
                .await?;
            ev.push("confirmation_started", "all", now, json!({"record_sha256": record}));
            Ok("opening.confirmation")
        }
        Phase::Confirmation => {
            set_phase(txn, o, Phase::Closed, now, None, None).await?;
            opening::ActiveModel { id: Set(o.id), outcome: Set(Some("opened".into())), ..Default::default() }
                .update(txn)
                .await?;
            move_state(txn, t, TenderState::Evaluating, now).await?;
            let unconfirmed = org_names(
                txn,
                bids.iter()
                    .filter(|b| b.outcome == BidOutcome::Valid.as_str() && b.confirmed_at.is_none())
                    .map(|b| b.org_id),
            )
            .await?;
            ev.push(
                "closed",
                "all",
                now,
                json!({"record_sha256": o.record_sha256, "unconfirmed": unconfirmed.values().collect::<Vec<_>>()}),
            );
            Ok("opening.close")
        }
        Phase::Closed | Phase::Failed => Err(out_of_turn("moving on")),
    }
}

/// SHA-256 (hex) of the opening record: every event shown to all so far, in order, as JSON.
/// Bidders sign it to confirm the record; the record PDF prints it.
pub async fn record_digest<C: ConnectionTrait>(db: &C, opening_id: i64) -> AppResult<String> {
    let events = public_events(db, opening_id).await?;
    let canonical: Vec<Value> =
        events.iter().map(|e| json!({"seq": e.seq, "kind": e.kind, "at": e.at, "data": e.data})).collect();
    let bytes = serde_json::to_vec(&canonical).map_err(AppError::internal)?;
    Ok(hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes)))
}

/// The opening record (开标记录表) as a PDF, made from the hall's events: valid bids and their
/// bid forms, bids not opened and why, each lot's result, objections and answers, notes,
/// confirmations, the timeline, and the record's SHA-256 that the bidders signed. The same
/// events always give the same bytes. Available from the reading on.
pub async fn record_pdf(state: &AppState, actor: &Actor, tender_id: Uuid) -> AppResult<Vec<u8>> {
    let (o, _) = enter(state, actor, tender_id).await?;
    if matches!(phase_of(&o), Phase::SignIn | Phase::Decryption) {
        return Err(out_of_turn("the record before the reading"));
    }
    let t = tender::Entity::find_by_id(o.tender_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let events = public_events(&state.db, o.id).await?;
    let digest = match &o.record_sha256 {
        Some(d) => d.clone(),
        None => record_digest(&state.db, o.id).await?,
    };
    let phase = o.phase.clone();
    tokio::task::spawn_blocking(move || render_record(&t, &phase, &events, &digest))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

fn cst(t: &DateTime<Utc>) -> String {
    t.with_timezone(&crate::web::cst()).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn render_record(
    t: &tender::Model,
    phase: &str,
    events: &[HallEvent],
    digest: &str,
) -> Result<Vec<u8>, crate::pdf::writer::Error> {
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let find = |kind: &str| events.iter().find(|e| e.kind == kind);
    let mut doc = crate::pdf::writer::Document::new("开标记录表 Opening record");
    doc.footer(&format!("Tenderhall · {} · 记录摘要 SHA-256 {digest}", t.code));
    let opened = find("opened").map(|e| cst(&e.at)).unwrap_or_default();
    let started = find("decryption_started").map(|e| cst(&e.at)).unwrap_or_default();
    let read = find("reading").map(|e| cst(&e.at)).unwrap_or_default();
    let status = match phase {
        "failed" => "流标 Failed: too few valid bids",
        "closed" => "开标结束 Closed",
        _ => "开标进行中 In progress",
    };
    doc.key_values(&[
        ("项目编号 Code", &t.code),
        ("项目名称 Title", &t.title),
        ("投标截止 Bid deadline", &cst(&t.bid_deadline)),
        ("开标大厅开启 Hall opened", &opened),
        ("开始解密 Decryption started", &started),
        ("唱标 Reading", &read),
        ("状态 Status", status),
    ]);
    if let Some(r) = find("reading") {
        doc.heading("有效投标 Valid bids");
        let mut rows = Vec::new();
        for b in r.data["bids"].as_array().into_iter().flatten() {
            let form = b["form"].as_object();
            let price = form.and_then(|f| f.get("total_price")).map(s).unwrap_or_default();
            let others = form
                .map(|f| {
                    f.iter()
                        .filter(|(k, _)| *k != "total_price")
                        .map(|(k, v)| format!("{k}: {}", s(v)))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
                .join("; ");
            let files = b["files"].as_array().map(|f| f.len()).unwrap_or(0);
            rows.push(vec![s(&b["bidder"]), s(&b["lot"]), price, others, files.to_string()]);
        }
        doc.table(
            &["投标人 Bidder", "标段 Lot", "投标总价（元）Total price", "其他 Other items", "文件 Files"],
            &rows,
            &[0.26, 0.18, 0.2, 0.26, 0.1],
        );
        let not_opened: Vec<Vec<String>> = r.data["not_opened"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                let outcome = match b["outcome"].as_str() {
                    Some("decrypt_failed") => "解密失败 Not decrypted".to_string(),
                    Some("invalid") => "无效 Invalid".to_string(),
                    other => other.unwrap_or("").to_string(),
                };
                vec![s(&b["bidder"]), s(&b["lot"]), outcome, s(&b["reason"])]
            })
            .collect();
        if !not_opened.is_empty() {
            doc.heading("未能开启的投标 Bids not opened");
            doc.table(
                &["投标人 Bidder", "标段 Lot", "结果 Outcome", "原因 Reason"],
                &not_opened,
                &[0.28, 0.2, 0.2, 0.32],
            );
        }
        doc.heading("标段结果 Lots");
        let min = s(&r.data["min_valid_bids"]);
        let lots: Vec<Vec<String>> = r.data["lots"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| {
                let verdict =
                    if l["failed"] == Value::Bool(true) { "流标 Failed" } else { "进入评标 To evaluation" };
                vec![s(&l["lot"]), s(&l["valid"]), min.clone(), verdict.to_string()]
            })
            .collect();
        doc.table(&["标段 Lot", "有效投标 Valid", "最少 Minimum", "结果 Result"], &lots, &[0.4, 0.15, 0.15, 0.3]);
    }
    let objections: Vec<&HallEvent> = events.iter().filter(|e| e.kind == "objection").collect();
    if !objections.is_empty() {
        doc.heading("异议与答复 Objections and answers");
        let rows: Vec<Vec<String>> = objections
            .iter()
            .map(|o| {
                let answer = events
                    .iter()
                    .find(|a| a.kind == "answer" && a.data["objection"] == o.data["id"])
                    .map(|a| format!("{}（{}）", s(&a.data["text"]), cst(&a.at)))
                    .unwrap_or_else(|| "未答复 Not answered".into());
                vec![s(&o.data["bidder"]), format!("{}（{}）", s(&o.data["text"]), cst(&o.at)), answer]
            })
            .collect();
        doc.table(&["投标人 Bidder", "异议 Objection", "答复 Answer"], &rows, &[0.24, 0.38, 0.38]);
    }
    let notes: Vec<(&str, String)> = events
        .iter()
        .filter(|e| e.kind == "note")
        .map(|e| ("", format!("{}（{}，{}）", s(&e.data["text"]), s(&e.data["by"]), cst(&e.at))))
        .collect();
    if !notes.is_empty() {
        doc.heading("监督记录 Notes");
        for (_, n) in &notes {
            doc.paragraph(n);
        }
    }
    let confirmed: Vec<Vec<String>> =
        events.iter().filter(|e| e.kind == "confirmed").map(|e| vec![s(&e.data["bidder"]), cst(&e.at)]).collect();
    if !confirmed.is_empty() {
        doc.heading("投标人确认 Confirmations (signed)");
        doc.table(&["投标人 Bidder", "确认时间 Confirmed at"], &confirmed, &[0.6, 0.4]);
    }
    doc.heading("过程记录 Timeline");
    let rows: Vec<Vec<String>> = events.iter().map(|e| vec![e.seq.to_string(), cst(&e.at), e.kind.clone()]).collect();
    doc.table(&["#", "时间 Time (UTC+8)", "事件 Event"], &rows, &[0.1, 0.4, 0.5]);
    doc.rule();
    doc.paragraph(&format!(
        "本记录的 SHA-256 摘要（投标人签名确认的内容）The record's SHA-256, which the bidders signed: {digest}"
    ));
    doc.finish()
}
