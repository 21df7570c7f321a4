//! Taking part in a host's evaluation session from a guest deployment (异地评标).
//!
//! **On the host.** Once the guest's draw is verified and the session is open, the centre seats
//! the guest's members (`seat`): each becomes a member of the session acting as an account of
//! the peer's organisation that cannot log in, at a site named after the peer, and the guest is
//! told which member each pseudonym is (`session.seated`). Every event of the session's room is
//! relayed to the guest in order (`session.event`, by [`spawn_relay`], the room's cursor kept
//! with the draw), with its audience: everyone, the staff, or one guest member. A command the
//! guest relays for one of its members (`session.command`, signed with the guest's site key like
//! every message) is carried out by the session as that member in the unit of work that receives
//! it, so it is applied at most once; its outcome goes back (`session.result`): done, or refused
//! with the same code as on one site. The host's room is the authority.
//!
//! **On the guest.** The relayed events are kept in a room of the guest's own
//! (`remote_session`), which its supervisors watch whole and each of its members sees as a
//! member would; a member's command is checked for form (and, to sign, against the member's own
//! password) and relayed; the outcome arrives as a `command_result` event for that member.

use super::{
    Federation,
    draw::{RemoteDrawState, Side, find as draw_of, parse},
};
use crate::{
    accounts::model::{Actor, Role},
    audit::{Action, AuditEntry},
    draw::{algorithm, service::runs_draws},
    entities::{expert, remote_draw, remote_draw_expert, remote_seat, site, tender},
    error::{AppError, AppResult},
    evaluation::{model::Command, service::Checked},
    ids::{RemoteDrawId, UserId},
    live::{Audience, Event, RoomKey, store},
    uow::UnitOfWork,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// The host tells the guest which member each pseudonym is.
pub const SEATED: &str = "session.seated";
/// An event of the host's session.
pub const EVENT: &str = "session.event";
/// The session as one guest member sees it (its bids, criteria, its own votes and scores).
pub const BRIEF: &str = "session.brief";
/// The signed evaluation report, once every member has signed (a PDF, base64, with its SHA-256).
pub const REPORT: &str = "session.report";
/// A guest member's command.
pub const COMMAND: &str = "session.command";
/// The outcome of a command.
pub const RESULT: &str = "session.result";

/// The guest's room of a host's session (internal id: the guest's remote draw).
pub const GUEST_ROOM: &str = "remote_session";

/// The guest's room of a remote draw.
pub fn guest_room(id: RemoteDrawId) -> RoomKey {
    RoomKey { kind: GUEST_ROOM, id: id.0 }
}

// ---------------------------------------------------------------------------------------------
// The host

/// Seats the members of a verified remote draw (this deployment's id) in its tender's session,
/// which must be open and signing in (the centre's staff).
pub async fn seat(fed: &Federation, actor: &Actor, id: Uuid) -> AppResult<Vec<Uuid>> {
    if !runs_draws(actor) {
        return Err(AppError::forbidden());
    }
    let mut uow = fed.writer.begin().await?;
    let d = remote_draw::Entity::find()
        .filter(remote_draw::Column::PublicId.eq(id))
        .filter(remote_draw::Column::Side.eq(Side::Host))
        .one(&uow)
        .await?
        .ok_or_else(AppError::not_found)?;
    if d.state != RemoteDrawState::Drawn {
        return Err(AppError::conflict("wrong_state", "a verified draw that is not seated yet is seated"));
    }
    let t = match d.tender_id {
        Some(t) => tender::Entity::find_by_id(t).one(&uow).await?,
        None => None,
    }
    .ok_or_else(|| AppError::internal("a host's remote draw without its tender"))?;
    let session = fed.evaluations.session_of(&uow, t.public_id).await.map_err(|e| {
        if e.code == "not_found" {
            AppError::conflict("session_not_open", "the tender's session must be open first")
        } else {
            e
        }
    })?;
    let picks: Vec<algorithm::Pick> =
        serde_json::from_str(d.picks.as_deref().unwrap_or("[]")).map_err(AppError::internal)?;
    let site = peer_site(&mut uow, &d.peer).await?;
    let mut seats = Vec::new();
    for (n, p) in picks.iter().filter(|p| p.role == algorithm::Role::Member).enumerate() {
        let name = format!("{} 专家 {}", d.peer, n + 1);
        let user = crate::accounts::service::remote_participant(&mut uow, &d.peer, p.expert, &name).await?;
        let member = fed.evaluations.seat_remote(&mut uow, t.public_id, user, site, &d.peer).await?;
        let member_id = crate::entities::evaluation_member::Entity::find()
            .filter(crate::entities::evaluation_member::Column::PublicId.eq(member))
            .one(&uow)
            .await?
            .ok_or_else(|| AppError::internal("a member just seated is not found"))?
            .id;
        remote_seat::ActiveModel {
            draw_id: Set(d.id),
            pseudonym: Set(p.expert),
            member_id: Set(member_id),
            user_id: Set(user),
            ..Default::default()
        }
        .insert(&uow)
        .await?;
        seats.push(json!({"pseudonym": p.expert, "member": member}));
    }
    let mut m: remote_draw::ActiveModel = d.clone().into();
    m.state = Set(RemoteDrawState::Seated);
    m.session_id = Set(Some(session));
    m.updated_at = Set(uow.now());
    m.update(&uow).await?;
    fed.send(&mut uow, &d.peer, SEATED, &json!({"request": d.request_ref, "seats": seats})).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::RemoteDrawSeat,
            t.public_id,
            json!({"request": d.request_ref, "peer": d.peer, "seats": seats}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(seats.iter().filter_map(|s| s["member"].as_str().and_then(|m| Uuid::parse_str(m).ok())).collect())
}

/// The site standing for a peer deployment (named after it), made on first use.
async fn peer_site(uow: &mut UnitOfWork, peer: &str) -> AppResult<crate::ids::SiteId> {
    if let Some(s) = crate::sites::service::find_by_name(&*uow, peer).await? {
        return Ok(s.id);
    }
    let now = uow.now();
    let s = site::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        name: Set(peer.to_string()),
        city: Set(String::new()),
        seats: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&*uow)
    .await?;
    Ok(s.id)
}

#[derive(Deserialize)]
struct Relayed {
    request: Uuid,
    pseudonym: Uuid,
    command_id: Uuid,
    command: Value,
}

/// A guest member's command, carried out by the session in `uow` as the member.
pub(crate) async fn on_command(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    let c: Relayed = parse(body)?;
    let d = draw_of(&*uow, peer, Side::Host, c.request).await?;
    let seat = remote_seat::Entity::find()
        .filter(remote_seat::Column::DrawId.eq(d.id))
        .filter(remote_seat::Column::Pseudonym.eq(c.pseudonym))
        .one(&*uow)
        .await?
        .ok_or_else(|| AppError::forbidden_because("not_a_member", "only a member of the committee may do this"))?;
    let cmd = Command::deserialize(&c.command)
        .map_err(|e| AppError::bad_request("invalid_frame", format!("not a command: {e}")))?;
    let actor = crate::accounts::service::actor_of_user(&*uow, seat.user_id)
        .await?
        .ok_or_else(|| AppError::forbidden_because("not_a_member", "the member's account is not active"))?;
    let t = match d.tender_id {
        Some(t) => tender::Entity::find_by_id(t).one(&*uow).await?,
        None => None,
    }
    .ok_or_else(|| AppError::internal("a host's remote draw without its tender"))?;
    fed.evaluations.execute_in(uow, &actor, t.public_id, cmd, Checked::AtGuest).await?;
    fed.send(
        uow,
        peer,
        RESULT,
        &json!({"request": c.request, "pseudonym": c.pseudonym, "command_id": c.command_id, "ok": true}),
    )
    .await?;
    Ok(())
}

/// A refused command's outcome goes back to the guest with the refusal's code.
pub(crate) async fn refuse_command(
    fed: &Federation,
    uow: &mut UnitOfWork,
    peer: &str,
    body: &Value,
    error: &AppError,
) -> AppResult<()> {
    let field = |k: &str| body.get(k).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
    let (Some(request), Some(pseudonym), Some(command_id)) =
        (field("request"), field("pseudonym"), field("command_id"))
    else {
        return Ok(());
    };
    let fields: Vec<Value> = error.fields.iter().map(|f| json!({"field": f.field, "code": f.code})).collect();
    fed.send(
        uow,
        peer,
        RESULT,
        &json!({"request": request, "pseudonym": pseudonym, "command_id": command_id, "ok": false,
                "code": error.code, "message": error.message, "fields": fields}),
    )
    .await?;
    Ok(())
}

/// Relays the new events of every seated session to its guest, each room in one unit of work
/// with its cursor. Returns how many were relayed.
pub async fn relay_once(fed: &Federation) -> AppResult<usize> {
    let seated = remote_draw::Entity::find()
        .filter(remote_draw::Column::Side.eq(Side::Host))
        .filter(remote_draw::Column::State.eq(RemoteDrawState::Seated))
        .all(&fed.db)
        .await?;
    let mut relayed = 0;
    for d in seated {
        let Some(session) = d.session_id else { continue };
        let room = crate::evaluation::service::room(session);
        let mut upto = store::newest_seq(&fed.db, room).await?;
        if upto <= d.relayed_seq {
            continue;
        }
        // What each guest member sees of the session now, read before the unit of work (which
        // holds the write lock): the bids with their letters, the criteria, its own entries.
        // The briefs go with the events up to `upto`, the session's newest event while they were
        // read (read again if an event came meanwhile), so that a brief never shows the
        // session at another point than the events before it: not the named bids of a review
        // after the anonymous part began, nor the names of the result before it completed.
        let tender_public = match d.tender_id {
            Some(t) => tender::Entity::find_by_id(t).one(&fed.db).await?.map(|t| t.public_id),
            None => None,
        };
        let mut briefs = briefs_of(fed, &d, tender_public).await?;
        for _ in 0..3 {
            let newest = store::newest_seq(&fed.db, room).await?;
            if newest == upto {
                break;
            }
            upto = newest;
            briefs = briefs_of(fed, &d, tender_public).await?;
        }
        // The signed report goes to the guest with the event that completes the session.
        let completes = store::rows(&fed.db, room, d.relayed_seq)
            .await?
            .iter()
            .any(|e| e.event.seq <= upto && e.event.kind == "completed");
        let mut report = None;
        if completes
            && let (Some(t), Some(s)) = (
                tender_public,
                remote_seat::Entity::find().filter(remote_seat::Column::DrawId.eq(d.id)).one(&fed.db).await?,
            )
            && let Some(actor) = crate::accounts::service::actor_of_user(&fed.db, s.user_id).await?
        {
            use base64::Engine;
            let pdf = fed.evaluations.report_pdf(&actor, t).await?;
            let (attendance, rate) = attendance(fed, &d, session).await?;
            report = Some(json!({"request": d.request_ref,
                "sha256": hex::encode(ring::digest::digest(&ring::digest::SHA256, &pdf)),
                "pdf": base64::engine::general_purpose::STANDARD.encode(&pdf),
                "attendance": attendance, "rate": rate}));
        }
        let mut uow = fed.writer.begin().await?;
        let Some(current) = remote_draw::Entity::find_by_id(d.id).one(&uow).await? else { continue };
        let mut events = store::rows(&uow, room, current.relayed_seq).await?;
        events.retain(|e| e.event.seq <= upto);
        let Some(last) = events.last().map(|e| e.event.seq) else { continue };
        let members: HashMap<UserId, Uuid> = remote_seat::Entity::find()
            .filter(remote_seat::Column::DrawId.eq(d.id))
            .all(&uow)
            .await?
            .into_iter()
            .map(|s| (s.user_id, s.pseudonym))
            .collect();
        for e in events {
            let audience = match e.audience {
                Audience::All => "all".to_string(),
                Audience::User(u) => match members.get(&u) {
                    Some(p) => p.to_string(),
                    None => continue,
                },
                _ => "staff".to_string(),
            };
            fed.send(
                &mut uow,
                &d.peer,
                EVENT,
                &json!({"request": d.request_ref, "seq": e.event.seq, "kind": e.event.kind, "at": e.event.at,
                        "data": e.event.data, "audience": audience}),
            )
            .await?;
            relayed += 1;
        }
        for b in &briefs {
            fed.send(&mut uow, &d.peer, BRIEF, b).await?;
        }
        if let Some(r) = &report {
            fed.send(&mut uow, &d.peer, REPORT, r).await?;
        }
        let mut m: remote_draw::ActiveModel = current.into();
        m.relayed_seq = Set(last);
        m.update(&uow).await?;
        uow.commit().await?;
    }
    Ok(relayed)
}

/// What each guest member of the remote draw `d` sees of its session now.
async fn briefs_of(fed: &Federation, d: &remote_draw::Model, tender: Option<Uuid>) -> AppResult<Vec<Value>> {
    let Some(t) = tender else { return Ok(Vec::new()) };
    let mut briefs = Vec::new();
    for s in remote_seat::Entity::find().filter(remote_seat::Column::DrawId.eq(d.id)).all(&fed.db).await? {
        let Some(actor) = crate::accounts::service::actor_of_user(&fed.db, s.user_id).await? else { continue };
        let view = fed.evaluations.view(&actor, t).await?;
        briefs.push(json!({"request": d.request_ref, "pseudonym": s.pseudonym, "view": view}));
    }
    Ok(briefs)
}

/// The guest members' times in the host's session `session` (by pseudonym, for their fees at
/// the guest), and the host site's rate.
async fn attendance(
    fed: &Federation,
    d: &remote_draw::Model,
    session: crate::ids::EvaluationId,
) -> AppResult<(Vec<Value>, crate::fees::Rate)> {
    use crate::entities::{evaluation, evaluation_member};
    let ev = evaluation::Entity::find_by_id(session).one(&fed.db).await?.ok_or_else(AppError::not_found)?;
    let now = fed.writer.clock().now();
    let mut out = Vec::new();
    for s in remote_seat::Entity::find().filter(remote_seat::Column::DrawId.eq(d.id)).all(&fed.db).await? {
        let m = evaluation_member::Entity::find()
            .filter(evaluation_member::Column::EvaluationId.eq(session))
            .filter(evaluation_member::Column::UserId.eq(s.user_id))
            .one(&fed.db)
            .await?;
        if let Some(a) = m.and_then(|m| crate::fees::Attendance::of_member(&m, &ev, now)) {
            out.push(json!({"pseudonym": s.pseudonym, "signed_in_at": a.signed_in_at, "until": a.until,
                            "withdrawn": a.withdrawn}));
        }
    }
    Ok((out, crate::fees::host_rate(&fed.db, &fed.fees, ev.host_site_id).await?))
}

/// Relays the seated sessions' events as soon as a session's event is published in this
/// process (its own or, through the live relay, another process's), and every `poll_ms` besides.
pub fn spawn_relay(fed: &Federation) -> Option<tokio::task::JoinHandle<()>> {
    use crate::live::RoomKind;
    fed.identity.as_ref()?;
    let fed = fed.clone();
    let mut events = fed.writer.hub().subscribe();
    Some(tokio::spawn(async move {
        let poll = std::time::Duration::from_millis(fed.settings.poll_ms.max(10));
        loop {
            if let Err(e) = relay_once(&fed).await {
                tracing::warn!(error = %e.message, "federation: relaying a session's events failed");
            }
            let session_event = async {
                loop {
                    match events.recv().await {
                        Ok(e) if e.room.kind == crate::evaluation::Evaluations::KIND => return,
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                    }
                }
            };
            tokio::select! {
                () = session_event => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }))
}

// ---------------------------------------------------------------------------------------------
// The guest

#[derive(Deserialize)]
struct SeatedBody {
    request: Uuid,
    seats: Vec<SeatBody>,
}

#[derive(Deserialize)]
struct SeatBody {
    pseudonym: Uuid,
    member: Uuid,
}

/// The host seated this deployment's experts: who is which member.
pub(crate) async fn on_seated(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    let _ = fed;
    let s: SeatedBody = parse(body)?;
    let d = draw_of(&*uow, peer, Side::Guest, s.request).await?;
    if d.state != RemoteDrawState::Drawn {
        return Err(AppError::conflict("wrong_state", "a draw is seated once, after it is drawn"));
    }
    for seat in s.seats {
        let row = remote_draw_expert::Entity::find()
            .filter(remote_draw_expert::Column::DrawId.eq(d.id))
            .filter(remote_draw_expert::Column::Pseudonym.eq(seat.pseudonym))
            .one(&*uow)
            .await?
            .ok_or_else(|| AppError::rule("unknown_pseudonym", "no expert of this draw has this pseudonym"))?;
        let mut m: remote_draw_expert::ActiveModel = row.into();
        m.member = Set(Some(seat.member));
        m.update(&*uow).await?;
    }
    let mut m: remote_draw::ActiveModel = d.into();
    m.state = Set(RemoteDrawState::Seated);
    m.updated_at = Set(uow.now());
    m.update(&*uow).await?;
    Ok(())
}

/// The user behind a pseudonym of a guest draw, if the expert has a login.
async fn user_behind<C: sea_orm::ConnectionTrait>(
    db: &C,
    draw: RemoteDrawId,
    pseudonym: Uuid,
) -> AppResult<Option<UserId>> {
    let Some(row) = remote_draw_expert::Entity::find()
        .filter(remote_draw_expert::Column::DrawId.eq(draw))
        .filter(remote_draw_expert::Column::Pseudonym.eq(pseudonym))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(expert::Entity::find_by_id(row.expert_id).one(db).await?.and_then(|e| e.user_id))
}

#[derive(Deserialize)]
struct EventBody {
    request: Uuid,
    seq: i64,
    kind: String,
    data: Value,
    audience: String,
}

/// An event of the host's session, kept in this deployment's room of it.
pub(crate) async fn on_event(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    let _ = fed;
    let e: EventBody = parse(body)?;
    let d = draw_of(&*uow, peer, Side::Guest, e.request).await?;
    let audience = match e.audience.as_str() {
        "all" => Audience::All,
        "staff" => Audience::Staff,
        p => match Uuid::parse_str(p) {
            Ok(p) => user_behind(&*uow, d.id, p).await?.map(Audience::User).unwrap_or(Audience::Staff),
            Err(_) => return Err(AppError::bad_request("invalid_body", "an unknown audience")),
        },
    };
    let mut data = e.data;
    if let Value::Object(o) = &mut data {
        o.insert("host_seq".into(), json!(e.seq));
    }
    uow.emit(guest_room(d.id), audience, &json!({"kind": e.kind, "data": data})).await?;
    Ok(())
}

#[derive(Deserialize)]
struct ReportBody {
    request: Uuid,
    sha256: String,
    pdf: String,
    /// The guest members' times, for their fees.
    #[serde(default)]
    attendance: Vec<Attended>,
    /// The host site's rate.
    #[serde(default)]
    rate: Option<crate::fees::Rate>,
}

#[derive(Deserialize)]
struct Attended {
    pseudonym: Uuid,
    #[serde(flatten)]
    at: crate::fees::Attendance,
}

/// The host's signed report, kept for this deployment's supervisors and members; with it, the
/// fees of this deployment's experts, which it pays: at their own site's rate, or at the host's
/// where that is higher and this peer is one with which the centre agreed so.
pub(crate) async fn on_report(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    use base64::Engine;
    let r: ReportBody = parse(body)?;
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(&r.pdf)
        .map_err(|_| AppError::bad_request("invalid_body", "the report is not base64"))?;
    if hex::encode(ring::digest::digest(&ring::digest::SHA256, &pdf)) != r.sha256 || !pdf.starts_with(b"%PDF-") {
        return Err(AppError::bad_request("invalid_body", "the report is not the PDF its digest names"));
    }
    let d = draw_of(&*uow, peer, Side::Guest, r.request).await?;
    let mut m: remote_draw::ActiveModel = d.clone().into();
    m.report = Set(Some(r.pdf));
    m.updated_at = Set(uow.now());
    m.update(&*uow).await?;
    let mut attended = Vec::new();
    for a in &r.attendance {
        let who = remote_draw_expert::Entity::find()
            .filter(remote_draw_expert::Column::DrawId.eq(d.id))
            .filter(remote_draw_expert::Column::Pseudonym.eq(a.pseudonym))
            .one(&*uow)
            .await?
            .ok_or_else(|| AppError::rule("unknown_pseudonym", "no expert of this draw has this pseudonym"))?;
        attended.push((who, a.at));
    }
    let agreed = fed.peers.iter().any(|p| p.name == peer && p.higher_rate);
    let host_rate = r.rate.filter(|_| agreed).filter(|rate| match rate.check() {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(peer, error = %e.message, "federation: the host's rate is out of bounds; own rates apply");
            false
        }
    });
    crate::fees::compute_guest(uow, &fed.fees, &d, peer, &attended, host_rate).await?;
    uow.emit(guest_room(d.id), Audience::All, &json!({"kind": "report", "data": {"sha256": r.sha256}})).await?;
    Ok(())
}

/// The host's signed report of a session, as the guest received it (its supervisors, centre
/// staff and members).
pub async fn report(fed: &Federation, actor: &Actor, id: Uuid) -> AppResult<Vec<u8>> {
    use base64::Engine;
    let (d, _, _) = guest_session(fed, actor, id).await?;
    let b64 =
        d.report.ok_or_else(|| AppError::conflict("out_of_turn", "the report exists once every member has signed"))?;
    base64::engine::general_purpose::STANDARD.decode(b64).map_err(AppError::internal)
}

#[derive(Deserialize)]
struct BriefBody {
    request: Uuid,
    pseudonym: Uuid,
    view: Value,
}

/// What one of this deployment's members sees of the host's session, kept for it.
pub(crate) async fn on_brief(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    let _ = fed;
    let b: BriefBody = parse(body)?;
    let d = draw_of(&*uow, peer, Side::Guest, b.request).await?;
    let row = remote_draw_expert::Entity::find()
        .filter(remote_draw_expert::Column::DrawId.eq(d.id))
        .filter(remote_draw_expert::Column::Pseudonym.eq(b.pseudonym))
        .one(&*uow)
        .await?
        .ok_or_else(|| AppError::rule("unknown_pseudonym", "no expert of this draw has this pseudonym"))?;
    let pseudonym = row.pseudonym;
    let mut m: remote_draw_expert::ActiveModel = row.into();
    m.brief = Set(Some(b.view.to_string()));
    m.update(&*uow).await?;
    // The member's page is drawn from its brief: it is told that a new one is here.
    if let Some(u) = user_behind(&*uow, d.id, pseudonym).await? {
        uow.emit(guest_room(d.id), Audience::User(u), &json!({"kind": "brief", "data": {}})).await?;
    }
    Ok(())
}

/// The session as the reader's member sees it, as the host last sent it (for a supervisor or
/// the centre's staff: as the first member sees it).
pub async fn brief(fed: &Federation, actor: &Actor, id: Uuid) -> AppResult<Value> {
    let (d, _, pseudonym) = guest_session(fed, actor, id).await?;
    let mut q = remote_draw_expert::Entity::find()
        .filter(remote_draw_expert::Column::DrawId.eq(d.id))
        .filter(remote_draw_expert::Column::Brief.is_not_null());
    if let Some(p) = pseudonym {
        q = q.filter(remote_draw_expert::Column::Pseudonym.eq(p));
    }
    let row = q.order_by_asc(remote_draw_expert::Column::Id).one(&fed.db).await?.ok_or_else(AppError::not_found)?;
    serde_json::from_str(row.brief.as_deref().unwrap_or("null")).map_err(AppError::internal)
}

#[derive(Deserialize)]
struct ResultBody {
    request: Uuid,
    pseudonym: Uuid,
    command_id: Uuid,
    ok: bool,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    fields: Vec<Value>,
}

/// A command's outcome, for the member who sent it.
pub(crate) async fn on_result(fed: &Federation, uow: &mut UnitOfWork, peer: &str, body: &Value) -> AppResult<()> {
    let _ = fed;
    let r: ResultBody = parse(body)?;
    let d = draw_of(&*uow, peer, Side::Guest, r.request).await?;
    let audience = user_behind(&*uow, d.id, r.pseudonym).await?.map(Audience::User).unwrap_or(Audience::Staff);
    uow.emit(
        guest_room(d.id),
        audience,
        &json!({"kind": "command_result", "data": {"command_id": r.command_id, "ok": r.ok, "code": r.code,
                 "message": r.message, "fields": r.fields}}),
    )
    .await?;
    Ok(())
}

/// Who reads a guest room: its supervisors and centre staff whole, its members as members.
#[derive(Debug, Clone, Copy)]
pub enum GuestViewer {
    /// A supervisor or the centre's staff of the guest deployment.
    Staff,
    /// A member drawn from the guest's pool (its user).
    Member(UserId),
}

impl crate::live::Viewer for GuestViewer {
    fn sees(&self, audience: &Audience) -> bool {
        match self {
            GuestViewer::Staff => true,
            GuestViewer::Member(u) => matches!(audience, Audience::All) || *audience == Audience::User(*u),
        }
    }

    fn role(&self) -> &'static str {
        match self {
            GuestViewer::Staff => "supervisor",
            GuestViewer::Member(_) => "expert",
        }
    }
}

/// A guest's seated draw and who the actor is in it (404 for anyone else).
async fn guest_session(
    fed: &Federation,
    actor: &Actor,
    id: Uuid,
) -> AppResult<(remote_draw::Model, GuestViewer, Option<Uuid>)> {
    let d = remote_draw::Entity::find()
        .filter(remote_draw::Column::PublicId.eq(id))
        .filter(remote_draw::Column::Side.eq(Side::Guest))
        .one(&fed.db)
        .await?
        .filter(|d| d.state == RemoteDrawState::Seated)
        .ok_or_else(AppError::not_found)?;
    if actor.role == Role::Supervisor || runs_draws(actor) {
        return Ok((d, GuestViewer::Staff, None));
    }
    if actor.role == Role::Expert
        && let Some(e) = expert::Entity::find().filter(expert::Column::UserId.eq(actor.user_id)).one(&fed.db).await?
        && let Some(row) = remote_draw_expert::Entity::find()
            .filter(remote_draw_expert::Column::DrawId.eq(d.id))
            .filter(remote_draw_expert::Column::ExpertId.eq(e.id))
            .one(&fed.db)
            .await?
            .filter(|r| r.member.is_some())
    {
        return Ok((d, GuestViewer::Member(actor.user_id), Some(row.pseudonym)));
    }
    Err(AppError::not_found())
}

/// The session as this deployment's member `actor` sees it, as the host last sent it, with the
/// number of the guest room's last event; none for a reader who is not a member, or before the
/// host sent anything.
pub async fn member_view(
    fed: &Federation,
    actor: &Actor,
    id: Uuid,
) -> AppResult<Option<(crate::evaluation::model::SessionView, i64)>> {
    let (d, viewer, pseudonym) = guest_session(fed, actor, id).await?;
    let (GuestViewer::Member(_), Some(p)) = (viewer, pseudonym) else { return Ok(None) };
    let row = remote_draw_expert::Entity::find()
        .filter(remote_draw_expert::Column::DrawId.eq(d.id))
        .filter(remote_draw_expert::Column::Pseudonym.eq(p))
        .one(&fed.db)
        .await?;
    let Some(brief) = row.and_then(|r| r.brief) else { return Ok(None) };
    let view = serde_json::from_str(&brief)
        .map_err(|e| AppError::internal(format!("the brief of draw {} does not read: {e}", d.id.0)))?;
    Ok(Some((view, store::newest_seq(&fed.db, guest_room(d.id)).await?)))
}

/// What became of commands relayed to the host, as far as a member waited for it.
#[derive(Debug)]
pub enum Outcome {
    /// The host applied every one.
    Applied,
    /// The host has not answered every one yet (the link may be down): they wait, in order.
    Waiting,
    /// The host refused one: its code, message and field errors.
    Refused {
        /// The host's code.
        code: String,
        /// Its message.
        message: String,
        /// Its field errors.
        fields: Vec<crate::error::FieldError>,
    },
}

/// Relays a member's commands in order ([`command`]) and waits up to `wait` for the host's
/// answers to all of them.
pub async fn command_and_wait(
    fed: &Federation,
    actor: &Actor,
    id: Uuid,
    commands: Vec<Value>,
    wait: std::time::Duration,
) -> AppResult<Outcome> {
    let (d, viewer, _) = guest_session(fed, actor, id).await?;
    let room = guest_room(d.id);
    let after = store::newest_seq(&fed.db, room).await?;
    let mut ids = Vec::with_capacity(commands.len());
    for c in commands {
        ids.push(command(fed, actor, id, c).await?);
    }
    let until = tokio::time::Instant::now() + wait;
    loop {
        let results: Vec<Event> = store::events_after(&fed.db, room, &viewer, after)
            .await?
            .into_iter()
            .filter(|e| e.kind == "command_result")
            .filter(|e| ids.iter().any(|i| e.data["command_id"].as_str() == Some(i.to_string().as_str())))
            .collect();
        if let Some(r) = results.iter().find(|e| e.data["ok"] == false) {
            let text = |k: &str| r.data[k].as_str().unwrap_or_default().to_string();
            let fields = r.data["fields"]
                .as_array()
                .map(|fs| {
                    fs.iter()
                        .filter_map(|f| {
                            Some(crate::error::FieldError::new(
                                f["field"].as_str()?.to_string(),
                                f["code"].as_str()?.to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            return Ok(Outcome::Refused { code: text("code"), message: text("message"), fields });
        }
        if results.len() >= ids.len() {
            return Ok(Outcome::Applied);
        }
        if tokio::time::Instant::now() >= until {
            return Ok(Outcome::Waiting);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A host's session as the guest deployment shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GuestSession {
    /// The guest's id of it (its remote draw).
    pub id: Uuid,
    /// The host.
    pub peer: String,
    /// The tender's code.
    pub tender_code: String,
    /// The reader's member id in the host's session, if the reader is a member.
    pub member: Option<Uuid>,
}

/// The host sessions this deployment's experts take part in: every one for its supervisors and
/// centre staff, an expert's own for an expert.
pub async fn sessions(fed: &Federation, actor: &Actor) -> AppResult<Vec<GuestSession>> {
    let rows = remote_draw::Entity::find()
        .filter(remote_draw::Column::Side.eq(Side::Guest))
        .filter(remote_draw::Column::State.eq(RemoteDrawState::Seated))
        .order_by_desc(remote_draw::Column::Id)
        .all(&fed.db)
        .await?;
    let mut out = Vec::new();
    for d in rows {
        if let Ok((_, viewer, pseudonym)) = guest_session(fed, actor, d.public_id).await {
            let member = match (viewer, pseudonym) {
                (GuestViewer::Member(_), Some(p)) => remote_draw_expert::Entity::find()
                    .filter(remote_draw_expert::Column::Pseudonym.eq(p))
                    .one(&fed.db)
                    .await?
                    .and_then(|r| r.member),
                _ => None,
            };
            out.push(GuestSession { id: d.public_id, peer: d.peer, tender_code: d.tender_code, member });
        }
    }
    Ok(out)
}

/// The relayed events of a host's session after `after`, as the reader may see them.
pub async fn events(fed: &Federation, actor: &Actor, id: Uuid, after: i64) -> AppResult<Vec<Event>> {
    let (d, viewer, _) = guest_session(fed, actor, id).await?;
    store::events_after(&fed.db, guest_room(d.id), &viewer, after.max(0)).await
}

/// A guest member's command, relayed to the host: its form is checked here (and, to sign, the
/// member's own password); the outcome comes back as a `command_result` event. Returns the
/// command's id.
pub async fn command(fed: &Federation, actor: &Actor, id: Uuid, body: Value) -> AppResult<Uuid> {
    let (d, viewer, pseudonym) = guest_session(fed, actor, id).await?;
    let (GuestViewer::Member(_), Some(pseudonym)) = (viewer, pseudonym) else {
        return Err(AppError::forbidden_because("not_a_member", "only a member of the committee may do this"));
    };
    let cmd = Command::deserialize(&body)
        .map_err(|e| AppError::bad_request("invalid_frame", format!("not a command: {e}")))?;
    let mut relayed = body.clone();
    if let Command::Sign { password } = &cmd {
        let u = crate::entities::user::Entity::find_by_id(actor.user_id)
            .one(&fed.db)
            .await?
            .ok_or_else(AppError::not_found)?;
        if !crate::accounts::service::verify_password(password, &u.password_hash) {
            return Err(AppError::rule("password_wrong", "the password is not right"));
        }
        // The password stays here: the host takes this deployment's signed word for it.
        relayed["password"] = json!("");
    }
    let command_id = Uuid::new_v4();
    let mut uow = fed.writer.begin().await?;
    let seq = fed
        .send(
            &mut uow,
            &d.peer,
            COMMAND,
            &json!({"request": d.request_ref, "pseudonym": pseudonym, "command_id": command_id, "command": relayed}),
        )
        .await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::RemoteCommand,
            &d.peer,
            json!({"draw": d.public_id, "command_id": command_id, "op": body.get("op"), "seq": seq}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(command_id)
}

// ---------------------------------------------------------------------------------------------
// Statistics

/// Remote evaluations with one partner.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Partner {
    /// The peer deployment.
    pub peer: String,
    /// Sessions this deployment hosted with the peer's experts.
    pub as_host: u32,
    /// Sessions of the peer this deployment's experts took part in.
    pub as_guest: u32,
}

/// This deployment's remote evaluations in a period.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct RemoteStatistics {
    /// The first day (China time).
    pub from: chrono::NaiveDate,
    /// The last day.
    pub to: chrono::NaiveDate,
    /// Sessions with another deployment, as host or as guest.
    pub sessions: u32,
    /// As host.
    pub as_host: u32,
    /// As guest.
    pub as_guest: u32,
    /// By partner, by name.
    pub partners: Vec<Partner>,
}

/// The remote evaluations whose sessions fall in `from..=to` (China dates): every session whose
/// members include a peer's (as host) or in which this deployment's experts took part (as guest),
/// each counted once, by partner (the centre's staff, supervisors, the administrator).
pub async fn statistics(
    fed: &Federation,
    actor: &Actor,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> AppResult<RemoteStatistics> {
    if !crate::draw::service::watches_draws(actor) {
        return Err(AppError::forbidden());
    }
    if to < from {
        return Err(AppError::invalid_field("to", "before_from"));
    }
    let rows =
        remote_draw::Entity::find().filter(remote_draw::Column::State.eq(RemoteDrawState::Seated)).all(&fed.db).await?;
    let mut seen = std::collections::BTreeSet::new();
    let mut partners: std::collections::BTreeMap<String, Partner> = Default::default();
    for d in rows {
        let asked: super::draw::Asked = serde_json::from_str(&d.asked).map_err(AppError::internal)?;
        let day = asked.session_at.with_timezone(&crate::web::cst()).date_naive();
        if day < from || day > to {
            continue;
        }
        // One session per tender and side, however many draws filled it.
        let session = match d.side {
            Side::Host => format!("host:{}", d.session_id.map(|s| s.0).unwrap_or_default()),
            Side::Guest => format!("guest:{}:{}", d.peer, d.tender_code),
        };
        if !seen.insert(session) {
            continue;
        }
        let p =
            partners.entry(d.peer.clone()).or_insert_with(|| Partner { peer: d.peer.clone(), as_host: 0, as_guest: 0 });
        match d.side {
            Side::Host => p.as_host += 1,
            Side::Guest => p.as_guest += 1,
        }
    }
    let partners: Vec<Partner> = partners.into_values().collect();
    let as_host = partners.iter().map(|p| p.as_host).sum();
    let as_guest = partners.iter().map(|p| p.as_guest).sum();
    Ok(RemoteStatistics { from, to, sessions: as_host + as_guest, as_host, as_guest, partners })
}

// ---------------------------------------------------------------------------------------------
// The guest's room, live

/// The guest's rooms of host sessions are a live room kind: the relayed events reach its
/// supervisors and members over the platform's websocket as they arrive, and a member's
/// commands sent there are relayed like those of the API.
impl crate::live::RoomKind for Federation {
    const KIND: &'static str = GUEST_ROOM;
    type Event = Value;
    type Viewer = GuestViewer;
    type Command = Value;
    type Id = RemoteDrawId;

    async fn enter(&self, actor: &Actor, id: Uuid) -> AppResult<crate::live::Entry<GuestViewer>> {
        let (d, viewer, _) = guest_session(self, actor, id).await?;
        Ok(crate::live::Entry {
            room: guest_room(d.id),
            viewer,
            hello: json!({"peer": d.peer, "tender_code": d.tender_code,
                          "last_seq": store::newest_seq(&self.db, guest_room(d.id)).await?}),
        })
    }

    async fn execute(&self, actor: &Actor, id: Uuid, cmd: Value) -> AppResult<()> {
        command(self, actor, id, cmd).await.map(|_| ())
    }
}

impl Federation {
    /// What the guest rooms' websockets use.
    pub fn wiring(&self) -> crate::live::ws::Wiring {
        crate::live::ws::Wiring::of(&self.writer, &self.limits, self.session_check)
    }
}

/// A member of a host's session as the guest's page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PageMember {
    /// The member's id in the host's session.
    pub id: Uuid,
    /// Its name (a guest member: its pseudonymous label).
    pub name: String,
    /// Its site.
    pub site: String,
    /// Signed in.
    pub signed_in: bool,
    /// Declared no conflict.
    pub declared: bool,
    /// Signed its sheets.
    pub signed: bool,
    /// Its latest progress in the phase: done, of.
    pub progress: Option<(u64, u64)>,
}

/// What the guest's page of a host's session shows.
#[derive(Debug, Clone)]
pub struct PageData {
    /// The session (the guest's id).
    pub session: GuestSession,
    /// The phase, as the host last sent it.
    pub phase: String,
    /// The members.
    pub members: Vec<PageMember>,
    /// The events the reader may see, newest first (at most 100): number, kind, data.
    pub events: Vec<Event>,
    /// The number of the newest event.
    pub last_seq: i64,
}

/// The guest's page of a host's session: the members with their progress, and the events.
pub async fn page(fed: &Federation, actor: &Actor, id: Uuid) -> AppResult<PageData> {
    let (d, viewer, _) = guest_session(fed, actor, id).await?;
    let session = sessions(fed, actor).await?.into_iter().find(|s| s.id == id).ok_or_else(AppError::not_found)?;
    let view = brief(fed, actor, id).await.unwrap_or(Value::Null);
    let events = store::events_after(&fed.db, guest_room(d.id), &viewer, 0).await?;
    let last_seq = events.last().map(|e| e.seq).unwrap_or(0);
    let events: Vec<Event> = events.into_iter().filter(|e| e.kind != "brief").collect();
    let mut progress: HashMap<String, (u64, u64)> = HashMap::new();
    for e in &events {
        // Progress counts within a phase: a new phase starts every member afresh.
        if e.kind == "phase" {
            progress.clear();
        }
        if e.kind != "progress" {
            continue;
        }
        if let (Some(m), Some(done), Some(of)) =
            (e.data["member"].as_str(), e.data["done"].as_u64(), e.data["of"].as_u64())
        {
            progress.insert(m.to_string(), (done, of));
        }
    }
    let members = view["members"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .filter_map(|m| {
                    let id = m["id"].as_str().and_then(|s| Uuid::parse_str(s).ok())?;
                    Some(PageMember {
                        id,
                        name: m["name"].as_str().unwrap_or_default().to_string(),
                        site: m["site"].as_str().unwrap_or_default().to_string(),
                        signed_in: !m["signed_in_at"].is_null(),
                        declared: m["declared"] == true,
                        signed: !m["signed_at"].is_null(),
                        progress: progress.get(&id.to_string()).copied(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut events = events;
    events.reverse();
    events.truncate(100);
    Ok(PageData { session, phase: view["phase"].as_str().unwrap_or("sign_in").to_string(), members, events, last_seq })
}
