//! Bid endpoints of the JSON API. Every answer about a bid goes only to its bidder; anyone else
//! gets 404, so not even a bid's existence leaks before the opening.

use super::{
    receipt::Receipt,
    service::{self, BidTicket, BidView},
};
use crate::{
    bids::Bids,
    error::{AppError, AppResult, ErrorBody},
    web::{
        auth::{Require, Suppliers},
        extract::{Json, Path},
    },
};
use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    super::Bids: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(register_key))
        .routes(routes!(reserve))
        .routes(routes!(upload))
        .routes(routes!(upload_state, append))
        .routes(routes!(complete))
        .routes(routes!(withdraw))
        .routes(routes!(list))
        .routes(routes!(list_all))
        .routes(routes!(receipt))
        .routes(routes!(receipt_pdf))
        .routes(routes!(envelope_head))
}

/// A public key to register.
#[derive(Deserialize, ToSchema)]
pub struct KeyRequest {
    /// ECDSA P-256 public key: the 65-byte uncompressed point (WebCrypto `exportKey("raw")`), base64.
    pub public_key: String,
}

/// A registered key.
#[derive(Serialize, ToSchema)]
pub struct KeyResponse {
    /// Its identifier: first 16 hex digits of the SHA-256 of the point.
    pub key_id: String,
}

/// Registers the supplier's bid-signing public key.
#[utoipa::path(post, path = "/api/v1/me/bidder-keys", tag = "bids", request_body = KeyRequest,
    responses(
        (status = 201, body = KeyResponse),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not a supplier", body = ErrorBody),
        (status = 409, description = "key_exists", body = ErrorBody),
        (status = 422, description = "validation_failed: public_key", body = ErrorBody)
    ))]
async fn register_key(
    State(state): State<Bids>,
    actor: Require<Suppliers>,
    Json(req): Json<KeyRequest>,
) -> AppResult<(StatusCode, Json<KeyResponse>)> {
    let key_id = service::register_key(&state, &actor, &req.public_key).await?;
    Ok((StatusCode::CREATED, Json(KeyResponse { key_id })))
}

/// Reserves a bid id for a lot (suppliers who obtained the documents, before the deadline).
#[utoipa::path(post, path = "/api/v1/tenders/{id}/lots/{lot}/bids", tag = "bids", params(("id" = Uuid, Path), ("lot" = Uuid, Path)),
    responses(
        (status = 201, body = BidTicket),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden / obtain_first", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state", body = ErrorBody),
        (status = 422, description = "deadline_passed", body = ErrorBody)
    ))]
async fn reserve(
    State(state): State<Bids>,
    actor: Require<Suppliers>,
    Path((id, lot)): Path<(Uuid, Uuid)>,
) -> AppResult<(StatusCode, Json<BidTicket>)> {
    Ok((StatusCode::CREATED, Json(service::reserve(&state, &actor, id, lot).await?)))
}

/// Uploads the sealed envelope of a reserved bid. The body is the envelope; headers
/// `X-Bidder-Key` (key id) and `X-Bid-Signature` (base64 ECDSA P-256 signature, r‖s, over the
/// envelope's SHA-256). Answers the signed receipt only once the envelope is durably stored.
#[utoipa::path(put, path = "/api/v1/bids/{bid}/envelope", tag = "bids", params(("bid" = Uuid, Path)),
    request_body(content_type = "application/octet-stream", description = "the envelope (docs/envelope.md)"),
    responses(
        (status = 201, body = Receipt),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not a supplier", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "bid_not_reserved / wrong_state", body = ErrorBody),
        (status = 413, description = "envelope_too_large", body = ErrorBody),
        (status = 422, description = "deadline_passed / envelope_invalid / envelope_wrong_bid / signature_invalid; validation_failed: x-bidder-key, x-bid-signature, key_id, signature", body = ErrorBody)
    ))]
async fn upload(
    State(state): State<Bids>,
    actor: Require<Suppliers>,
    Path(bid): Path<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(StatusCode, Json<Receipt>)> {
    let (key_id, signature) = signing_headers(&headers)?;
    let mut stream = body.into_data_stream().map_err(std::io::Error::other);
    let receipt = service::receive(&state, &actor, bid, &key_id, &signature, &mut stream).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// Where a resumable upload stands.
#[derive(Serialize, ToSchema)]
pub struct UploadState {
    /// Bytes stored so far: the next `PATCH` sends `Upload-Offset` equal to this.
    pub offset: u64,
    /// SHA-256 (hex) of the bytes stored so far, so the client can check it resumes the same bytes.
    pub sha256: String,
}

impl From<crate::blob::PartialState> for UploadState {
    fn from(p: crate::blob::PartialState) -> Self {
        Self { offset: p.offset, sha256: p.sha256 }
    }
}

fn signing_headers(headers: &HeaderMap) -> AppResult<(String, String)> {
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| AppError::invalid_field(name, "required"))
    };
    Ok((header("x-bidder-key")?, header("x-bid-signature")?))
}

/// Where the resumable upload of a reserved bid's envelope stands (offset 0 before any byte).
#[utoipa::path(get, path = "/api/v1/bids/{bid}/upload", tag = "bids", params(("bid" = Uuid, Path)),
    responses(
        (status = 200, body = UploadState),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not a supplier", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn upload_state(
    State(state): State<Bids>,
    actor: Require<Suppliers>,
    Path(bid): Path<Uuid>,
) -> AppResult<Json<UploadState>> {
    Ok(Json(service::upload_state(&state, &actor, bid).await?.into()))
}

/// Appends the next bytes of the envelope to a resumable upload. Header `Upload-Offset` must
/// equal the bytes already stored (else 409 `upload_offset_mismatch`). What arrives is kept even
/// if the connection breaks; ask `GET …/upload` and continue from its offset.
#[utoipa::path(patch, path = "/api/v1/bids/{bid}/upload", tag = "bids", params(("bid" = Uuid, Path), ("Upload-Offset" = u64, Header)),
    request_body(content_type = "application/octet-stream", description = "the next bytes of the envelope"),
    responses(
        (status = 200, body = UploadState),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not a supplier", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "upload_offset_mismatch / upload_busy / bid_not_reserved / wrong_state", body = ErrorBody),
        (status = 413, description = "envelope_too_large", body = ErrorBody),
        (status = 422, description = "deadline_passed; validation_failed: upload-offset required or invalid", body = ErrorBody)
    ))]
async fn append(
    State(state): State<Bids>,
    actor: Require<Suppliers>,
    Path(bid): Path<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<UploadState>> {
    let offset = headers
        .get("upload-offset")
        .ok_or_else(|| AppError::invalid_field("upload-offset", "required"))?
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| AppError::invalid_field("upload-offset", "invalid"))?;
    let mut stream = body.into_data_stream().map_err(std::io::Error::other);
    Ok(Json(service::append(&state, &actor, bid, offset, &mut stream).await?.into()))
}

/// Completes a resumable upload: the stored bytes are the envelope. Headers as for `PUT
/// …/envelope`; answers the signed receipt once the envelope is checked and recorded.
#[utoipa::path(post, path = "/api/v1/bids/{bid}/upload/complete", tag = "bids", params(("bid" = Uuid, Path)),
    responses(
        (status = 201, body = Receipt),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not a supplier", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "upload_empty / bid_not_reserved / wrong_state", body = ErrorBody),
        (status = 422, description = "deadline_passed / envelope_invalid / envelope_wrong_bid / signature_invalid; validation_failed", body = ErrorBody)
    ))]
async fn complete(
    State(state): State<Bids>,
    actor: Require<Suppliers>,
    Path(bid): Path<Uuid>,
    headers: HeaderMap,
) -> AppResult<(StatusCode, Json<Receipt>)> {
    let (key_id, signature) = signing_headers(&headers)?;
    Ok((StatusCode::CREATED, Json(service::complete(&state, &actor, bid, &key_id, &signature).await?)))
}

/// Withdraws a bid before the deadline.
#[utoipa::path(post, path = "/api/v1/bids/{bid}/withdraw", tag = "bids", params(("bid" = Uuid, Path)),
    responses(
        (status = 204, description = "withdrawn"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not a supplier", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "bid_not_active / wrong_state", body = ErrorBody),
        (status = 422, description = "deadline_passed", body = ErrorBody)
    ))]
async fn withdraw(
    State(state): State<Bids>,
    actor: Require<Suppliers>,
    Path(bid): Path<Uuid>,
) -> AppResult<StatusCode> {
    service::withdraw(&state, &actor, bid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own bids on a tender, in the order they were reserved: status, receipt and the
/// actions open. Anyone but a supplier gets 404.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/my-bids", tag = "bids", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<BidView>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn list(
    State(state): State<Bids>,
    actor: crate::accounts::model::Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<Vec<BidView>>> {
    Ok(Json(service::list_own(&state, &actor, id).await?))
}

/// Every bid of the caller's organisation, on any tender, newest first (at most 200): status,
/// receipt and the actions open. Suppliers only.
#[utoipa::path(get, path = "/api/v1/my-bids", tag = "bids",
    responses((status = 200, body = Vec<BidView>), (status = 403, description = "forbidden: not a supplier", body = ErrorBody)))]
async fn list_all(State(state): State<Bids>, actor: Require<Suppliers>) -> AppResult<Json<Vec<BidView>>> {
    Ok(Json(service::list_all_own(&state, &actor).await?))
}

/// The signed receipt of the caller's own bid.
#[utoipa::path(get, path = "/api/v1/bids/{bid}/receipt", tag = "bids", params(("bid" = Uuid, Path)),
    responses(
        (status = 200, body = Receipt),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn receipt(
    State(state): State<Bids>,
    actor: crate::accounts::model::Actor,
    Path(bid): Path<Uuid>,
) -> AppResult<Json<Receipt>> {
    Ok(Json(service::receipt(&state, &actor, bid).await?))
}

/// The signed receipt of the caller's own bid as a PDF (Chinese, with the signed JSON inside).
#[utoipa::path(get, path = "/api/v1/bids/{bid}/receipt.pdf", tag = "bids", params(("bid" = Uuid, Path)),
    responses(
        (status = 200, description = "the receipt", content_type = "application/pdf"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn receipt_pdf(
    State(state): State<Bids>,
    actor: crate::accounts::model::Actor,
    Path(bid): Path<Uuid>,
) -> AppResult<impl axum::response::IntoResponse> {
    let pdf = service::receipt_pdf(&state, &actor, bid).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"receipt-{bid}.pdf\"")),
        ],
        pdf,
    ))
}

/// The header of the caller's own stored envelope (no ciphertext), from which its bid key
/// recovers the content key to release at the opening.
#[utoipa::path(get, path = "/api/v1/bids/{bid}/envelope/head", tag = "bids", params(("bid" = Uuid, Path)),
    responses(
        (status = 200, description = "the envelope's header", content_type = "application/octet-stream"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn envelope_head(
    State(state): State<Bids>,
    actor: crate::accounts::model::Actor,
    Path(bid): Path<Uuid>,
) -> AppResult<impl axum::response::IntoResponse> {
    let head = service::envelope_head(&state, &actor, bid).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/octet-stream")], head))
}
