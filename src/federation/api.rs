//! The federation's JSON API: the peers and their links, the draws asked of guests and drawn
//! for hosts.

use super::{
    Direction, Federation, LinkState,
    draw::{self, AskInput, RemoteDrawView},
    session::{self, GuestSession},
};
use crate::{
    accounts::model::Actor,
    draw::service::watches_draws,
    entities::peer_message,
    error::{AppError, AppResult, ErrorBody},
    web::extract::{Json, Path},
};
use axum::extract::State;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Federation: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(peers))
        .routes(routes!(draws, ask))
        .routes(routes!(one_draw))
        .routes(routes!(seat))
        .routes(routes!(guest_sessions))
        .routes(routes!(guest_events))
        .routes(routes!(guest_view))
        .routes(routes!(guest_ws))
        .routes(routes!(guest_report))
        .routes(routes!(statistics))
        .routes(routes!(guest_command))
}

/// A peer and the messages exchanged with it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeerView {
    /// Its name in the federation.
    pub name: String,
    /// Where it listens.
    pub address: String,
    /// The SHA-256 fingerprint of the certificate it must present.
    pub fingerprint: String,
    /// The link to it, as this process sees it.
    pub link: LinkState,
    /// The last number sent to it.
    pub sent: i64,
    /// Messages sent and not yet acknowledged.
    pub waiting: u64,
    /// The last number received from it and applied.
    pub received: i64,
}

async fn last_seq(fed: &Federation, peer: &str, dir: Direction) -> AppResult<i64> {
    Ok(peer_message::Entity::find()
        .filter(peer_message::Column::Peer.eq(peer))
        .filter(peer_message::Column::Direction.eq(dir))
        .order_by_desc(peer_message::Column::Seq)
        .limit(1)
        .one(&fed.db)
        .await?
        .map(|m| m.seq)
        .unwrap_or(0))
}

/// This deployment's peers with their links (the centre's staff, supervisors, the administrator).
pub async fn peer_views(fed: &Federation, actor: &Actor) -> AppResult<Vec<PeerView>> {
    if !watches_draws(actor) {
        return Err(AppError::forbidden());
    }
    let links = fed.links();
    let mut out = Vec::new();
    for p in fed.peers.iter() {
        use sea_orm::PaginatorTrait;
        let waiting = peer_message::Entity::find()
            .filter(peer_message::Column::Peer.eq(&p.name))
            .filter(peer_message::Column::Direction.eq(Direction::Out))
            .filter(peer_message::Column::DoneAt.is_null())
            .count(&fed.db)
            .await?;
        out.push(PeerView {
            name: p.name.clone(),
            address: p.address.clone(),
            fingerprint: p.fingerprint.clone(),
            link: links.get(&p.name).cloned().unwrap_or_default(),
            sent: last_seq(fed, &p.name, Direction::Out).await?,
            waiting,
            received: last_seq(fed, &p.name, Direction::In).await?,
        });
    }
    Ok(out)
}

/// The peers and the links to them.
#[utoipa::path(get, path = "/api/v1/federation/peers", tag = "federation",
    responses((status = 200, body = Vec<PeerView>), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody)))]
async fn peers(State(fed): State<Federation>, actor: Actor) -> AppResult<Json<Vec<PeerView>>> {
    Ok(Json(peer_views(&fed, &actor).await?))
}

/// The remote draws of this deployment, as host and as guest.
#[utoipa::path(get, path = "/api/v1/federation/draws", tag = "federation",
    responses((status = 200, body = Vec<RemoteDrawView>), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody)))]
async fn draws(State(fed): State<Federation>, actor: Actor) -> AppResult<Json<Vec<RemoteDrawView>>> {
    Ok(Json(draw::list(&fed, &actor).await?))
}

/// The id of a remote draw asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Asked {
    /// Its id.
    pub id: Uuid,
}

/// Asks a peer for experts for a tender's committee (the centre's staff).
#[utoipa::path(post, path = "/api/v1/federation/draws", tag = "federation", request_body = AskInput,
    responses((status = 200, body = Asked), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody),
              (status = 409, description = "federation_off, wrong_state", body = ErrorBody),
              (status = 422, description = "validation_failed: unknown_peer, out_of_range, in_past, invalid, not_found", body = ErrorBody)))]
async fn ask(State(fed): State<Federation>, actor: Actor, Json(input): Json<AskInput>) -> AppResult<Json<Asked>> {
    Ok(Json(Asked { id: draw::ask(&fed, &actor, input).await? }))
}

/// One remote draw.
#[utoipa::path(get, path = "/api/v1/federation/draws/{id}", tag = "federation", params(("id" = Uuid, Path)),
    responses((status = 200, body = RemoteDrawView), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
async fn one_draw(
    State(fed): State<Federation>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<RemoteDrawView>> {
    Ok(Json(draw::view(&fed, &actor, id).await?))
}

/// The members seated.
#[derive(Debug, Serialize, ToSchema)]
pub struct Seated {
    /// The members of the session the guest's experts are.
    pub members: Vec<Uuid>,
}

/// Seats the members of a verified remote draw in the tender's open session (the centre's
/// staff); the session is relayed to the guest from then on.
#[utoipa::path(post, path = "/api/v1/federation/draws/{id}/seat", tag = "federation", params(("id" = Uuid, Path)),
    responses((status = 200, body = Seated), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "wrong_state, session_not_open, out_of_turn", body = ErrorBody)))]
async fn seat(State(fed): State<Federation>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<Seated>> {
    Ok(Json(Seated { members: session::seat(&fed, &actor, id).await? }))
}

/// The host sessions this deployment's experts take part in (its supervisors and centre staff:
/// all; an expert: its own).
#[utoipa::path(get, path = "/api/v1/federation/sessions", tag = "federation",
    responses((status = 200, body = Vec<GuestSession>), (status = 401, description = "login_required", body = ErrorBody)))]
async fn guest_sessions(State(fed): State<Federation>, actor: Actor) -> AppResult<Json<Vec<GuestSession>>> {
    Ok(Json(session::sessions(&fed, &actor).await?))
}

/// Where to read from.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct After {
    /// The number of the last event already read (0: from the start).
    #[serde(default)]
    pub after: i64,
}

/// The relayed events of a host's session, as the reader may see them.
#[utoipa::path(get, path = "/api/v1/federation/sessions/{id}/events", tag = "federation",
    params(("id" = Uuid, Path), After),
    responses((status = 200, body = Vec<crate::live::Event>), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
async fn guest_events(
    State(fed): State<Federation>,
    actor: Actor,
    Path(id): Path<Uuid>,
    crate::web::extract::Query(q): crate::web::extract::Query<After>,
) -> AppResult<Json<Vec<crate::live::Event>>> {
    Ok(Json(session::events(&fed, &actor, id, q.after).await?))
}

/// The id of a relayed command.
#[derive(Debug, Serialize, ToSchema)]
pub struct Relayed {
    /// Its id; its outcome comes as a `command_result` event with it.
    pub command_id: Uuid,
}

/// A member's command for the host's session (the evaluation room's commands, `{"op": …}`),
/// relayed to the host.
#[utoipa::path(post, path = "/api/v1/federation/sessions/{id}/commands", tag = "federation", params(("id" = Uuid, Path)),
    request_body = crate::evaluation::model::Command,
    responses((status = 202, body = Relayed), (status = 400, description = "invalid_frame", body = ErrorBody),
              (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "not_a_member", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 422, description = "password_wrong", body = ErrorBody)))]
async fn guest_command(
    State(fed): State<Federation>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<serde_json::Value>,
) -> AppResult<(axum::http::StatusCode, Json<Relayed>)> {
    let command_id = session::command(&fed, &actor, id, body).await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(Relayed { command_id })))
}

/// The host's session as the reader's member sees it (bids by letter, criteria, its own votes
/// and scores), as the host last sent it.
#[utoipa::path(get, path = "/api/v1/federation/sessions/{id}", tag = "federation", params(("id" = Uuid, Path)),
    responses((status = 200, body = Object), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
async fn guest_view(
    State(fed): State<Federation>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<serde_json::Value>> {
    Ok(Json(session::brief(&fed, &actor, id).await?))
}

/// A period of days (China time).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// The first day, `YYYY-MM-DD`.
    pub from: chrono::NaiveDate,
    /// The last day, `YYYY-MM-DD`.
    pub to: chrono::NaiveDate,
}

/// This deployment's remote evaluations in a period: sessions, as host, as guest, by partner.
#[utoipa::path(get, path = "/api/v1/federation/statistics", tag = "federation", params(Period),
    responses((status = 200, body = session::RemoteStatistics), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody),
              (status = 422, description = "validation_failed: before_from", body = ErrorBody)))]
async fn statistics(
    State(fed): State<Federation>,
    actor: Actor,
    crate::web::extract::Query(p): crate::web::extract::Query<Period>,
) -> AppResult<Json<session::RemoteStatistics>> {
    Ok(Json(session::statistics(&fed, &actor, p.from, p.to).await?))
}

/// The guest's room of a host's session, live: the relayed events as they arrive, and a
/// member's commands (relayed like those of the API).
#[utoipa::path(get, path = "/api/v1/federation/sessions/{id}/ws", tag = "federation", params(("id" = Uuid, Path), After),
    responses(
        (status = 101, description = "Switching Protocols: the websocket; JSON text frames (`hello`, `event`, `clock`, `ok`, `error`) as in docs/api.md"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "origin_not_allowed", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 426, description = "websocket_required", body = ErrorBody)))]
async fn guest_ws(
    State(fed): State<Federation>,
    origin: crate::web::origin::SameOrigin,
    participant: crate::web::auth::SessionActor,
    Path(id): Path<Uuid>,
    crate::web::extract::Query(after): crate::web::extract::Query<After>,
    ws: Result<axum::extract::WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> AppResult<axum::response::Response> {
    let ws = ws.map_err(|_| AppError::websocket_required())?;
    crate::live::ws::upgrade(fed.clone(), fed.wiring(), origin, participant, id, after.after, ws).await
}

/// The host's signed evaluation report, as this deployment received it.
#[utoipa::path(get, path = "/api/v1/federation/sessions/{id}/report.pdf", tag = "federation", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the PDF", content_type = "application/pdf"),
              (status = 401, description = "login_required", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "out_of_turn", body = ErrorBody)))]
async fn guest_report(
    State(fed): State<Federation>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let pdf = session::report(&fed, &actor, id).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}
