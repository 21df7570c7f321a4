//! Bid rules: keys, reservation, receiving an envelope, replacement, withdrawal, receipts.

use super::receipt::{Receipt, ReceiptNames};
use crate::{
    accounts::model::{Actor, Role},
    audit::{Action, AuditEntry},
    bids::Bids,
    blob::{ByteStream, PartialState, StoredBlob},
    column::string_enum,
    entities::{bid, bidder_key, document_obtained, lot, organisation, tender},
    envelope::{self, Header, MAGIC},
    error::{AppError, AppResult},
    ids::LotId,
    notify::{Notice, NoticeKind},
    tenders::{model::TenderState, policy::state_of},
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chrono::{DateTime, Utc};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    /// Where a bid is.
    BidStatus stored in crate::entities::bid::Entity {
        /// Reserved: an id was handed out, no envelope yet.
        Reserved = "reserved",
        /// Submitted and receipted; the latest one of a bidder and lot counts.
        Submitted = "submitted",
        /// Replaced by a later submission; kept for audit, never opened.
        Replaced = "replaced",
        /// Withdrawn by the bidder before the deadline.
        Withdrawn = "withdrawn",
    }
}

/// The bid statuses as constants.
pub mod status {
    use super::BidStatus;

    /// Reserved: an id was handed out, no envelope yet.
    pub const RESERVED: BidStatus = BidStatus::Reserved;
    /// Submitted and receipted; the latest one of a bidder and lot counts.
    pub const SUBMITTED: BidStatus = BidStatus::Submitted;
    /// Replaced by a later submission; kept for audit, never opened.
    pub const REPLACED: BidStatus = BidStatus::Replaced;
    /// Withdrawn by the bidder before the deadline.
    pub const WITHDRAWN: BidStatus = BidStatus::Withdrawn;
}

fn require_supplier(actor: &Actor) -> AppResult<()> {
    if actor.role == Role::Supplier { Ok(()) } else { Err(AppError::forbidden()) }
}

/// Registers a supplier's ECDSA P-256 public key (65-byte uncompressed point, base64).
pub async fn register_key(state: &Bids, actor: &Actor, public_key_b64: &str) -> AppResult<String> {
    require_supplier(actor)?;
    let raw = B64.decode(public_key_b64.trim()).map_err(|_| AppError::invalid_field("public_key", "invalid"))?;
    if raw.len() != 65 || raw[0] != 4 {
        return Err(AppError::invalid_field("public_key", "not_p256_uncompressed"));
    }
    if !is_p256_point(&raw) {
        return Err(AppError::invalid_field("public_key", "invalid"));
    }
    let key_id = crate::keys::key_id(&raw);
    let mut txn = state.writer.begin().await?;
    if bidder_key::Entity::find().filter(bidder_key::Column::KeyId.eq(&key_id)).count(&txn).await? > 0 {
        return Err(AppError::conflict("key_exists", "this key is already registered"));
    }
    let now = txn.now();
    bidder_key::ActiveModel {
        key_id: Set(key_id.clone()),
        org_id: Set(actor.org_id),
        user_id: Set(actor.user_id),
        algorithm: Set("ecdsa-p256-sha256".into()),
        public_key: Set(B64.encode(&raw)),
        created_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.record(
        &actor.audit(),
        AuditEntry::new(Action::BidderKeyRegister, actor.org_public_id, json!({"key_id": key_id})),
    )
    .await?;
    txn.commit().await?;
    Ok(key_id)
}

/// Whether `raw` is a valid point of P-256: ring validates the peer's point in an ECDH
/// agreement, which is the one public operation that tells.
fn is_p256_point(raw: &[u8]) -> bool {
    use ring::agreement;
    let rng = ring::rand::SystemRandom::new();
    let Ok(mine) = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng) else { return false };
    agreement::agree_ephemeral(mine, &agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, raw), |_| ()).is_ok()
}

/// What a bidder needs to seal: the identity to put in the envelope header.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BidTicket {
    /// The bid's id (goes into the envelope).
    pub bid: Uuid,
    /// The tender.
    pub tender: Uuid,
    /// The lot.
    pub lot: Uuid,
    /// The bidder organisation.
    pub bidder: Uuid,
    /// The bid deadline.
    pub deadline: DateTime<Utc>,
}

async fn open_tender<C: ConnectionTrait>(db: &C, tender_id: Uuid, now: DateTime<Utc>) -> AppResult<tender::Model> {
    let t = tender::Entity::find()
        .filter(tender::Column::PublicId.eq(tender_id))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !state_of(&t).is_public() {
        return Err(AppError::not_found());
    }
    if state_of(&t) != TenderState::Published {
        return Err(AppError::conflict("wrong_state", "the tender is not open for bids"));
    }
    if now >= t.bid_deadline {
        return Err(AppError::rule("deadline_passed", "the bid deadline has passed; nothing is accepted"));
    }
    Ok(t)
}

/// Reserves a bid id for a lot: the bidder puts it in the envelope it seals.
pub async fn reserve(state: &Bids, actor: &Actor, tender_id: Uuid, lot_id: Uuid) -> AppResult<BidTicket> {
    require_supplier(actor)?;
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let t = open_tender(&txn, tender_id, now).await?;
    let l = lot::Entity::find()
        .filter(lot::Column::PublicId.eq(lot_id))
        .filter(lot::Column::TenderId.eq(t.id))
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    let obtained = document_obtained::Entity::find()
        .filter(document_obtained::Column::TenderId.eq(t.id))
        .filter(document_obtained::Column::OrgId.eq(actor.org_id))
        .count(&txn)
        .await?;
    if obtained == 0 {
        return Err(AppError::forbidden_because("obtain_first", "obtain the tender documents before bidding"));
    }
    let b = bid::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        tender_id: Set(t.id),
        lot_id: Set(l.id),
        org_id: Set(actor.org_id),
        user_id: Set(actor.user_id),
        status: Set(status::RESERVED),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.record(&actor.audit(), AuditEntry::new(Action::BidReserve, b.public_id, json!({}))).await?;
    txn.commit().await?;
    Ok(BidTicket {
        bid: b.public_id,
        tender: t.public_id,
        lot: l.public_id,
        bidder: actor.org_public_id,
        deadline: t.bid_deadline,
    })
}

/// The actor's own bid, or 404: nobody else learns that it exists.
async fn own_bid<C: ConnectionTrait>(db: &C, actor: &Actor, bid_id: Uuid) -> AppResult<bid::Model> {
    bid::Entity::find()
        .filter(bid::Column::PublicId.eq(bid_id))
        .filter(bid::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .filter(|_| actor.role == Role::Supplier)
        .ok_or_else(AppError::not_found)
}

/// What has been checked before an envelope is taken: the bid is the actor's own and still
/// reserved, the tender is open, the signing key is the bidder's and the signature decodes.
struct Receivable {
    bid: bid::Model,
    tender: tender::Model,
    lot: lot::Model,
    key: bidder_key::Model,
    signature: Vec<u8>,
}

async fn receivable(
    state: &Bids,
    actor: &Actor,
    bid_id: Uuid,
    key_id: &str,
    signature_b64: &str,
) -> AppResult<Receivable> {
    let (b, t) = reserved_bid(state, actor, bid_id).await?;
    let key = bidder_key::Entity::find()
        .filter(bidder_key::Column::KeyId.eq(key_id))
        .filter(bidder_key::Column::OrgId.eq(actor.org_id))
        .filter(bidder_key::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::invalid_field("x-bidder-key", "not_registered"))?;
    let signature =
        B64.decode(signature_b64.trim()).map_err(|_| AppError::invalid_field("x-bid-signature", "invalid"))?;
    let l = lot::Entity::find_by_id(b.lot_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    Ok(Receivable { bid: b, tender: t, lot: l, key, signature })
}

/// The actor's own bid, still waiting for its envelope, on a tender still open for bids.
async fn reserved_bid(state: &Bids, actor: &Actor, bid_id: Uuid) -> AppResult<(bid::Model, tender::Model)> {
    let b = own_bid(&state.db, actor, bid_id).await?;
    if b.status != status::RESERVED {
        return Err(AppError::conflict(
            "bid_not_reserved",
            "this bid already has an envelope or was withdrawn; reserve a new bid to replace it",
        ));
    }
    let t = tender::Entity::find_by_id(b.tender_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let t = open_tender(&state.db, t.public_id, state.clock.now()).await?;
    Ok((b, t))
}

fn blob_error(e: crate::blob::BlobError) -> AppError {
    use crate::blob::BlobError;
    match e {
        BlobError::TooLarge => AppError::too_large("envelope_too_large", "the envelope is larger than allowed"),
        BlobError::OffsetMismatch { current } => AppError::conflict(
            "upload_offset_mismatch",
            format!("the upload continues at byte {current}; ask for the upload's state and resume from there"),
        ),
        BlobError::Busy => AppError::conflict(
            "upload_busy",
            "another request is still uploading this envelope; wait for it to end, then resume",
        ),
        BlobError::NotFound => AppError::conflict("upload_empty", "nothing has been uploaded for this bid"),
        other => AppError::internal(other),
    }
}

/// Receives an envelope in one request: streams it to storage while hashing, then
/// [`accept`]s it. Refused after the deadline by the platform's clock, with nothing kept.
pub async fn receive(
    state: &Bids,
    actor: &Actor,
    bid_id: Uuid,
    key_id: &str,
    signature_b64: &str,
    body: ByteStream<'_>,
) -> AppResult<Receipt> {
    let r = receivable(state, actor, bid_id, key_id, signature_b64).await?;
    let stored = state.blobs.put_stream(body, state.settings.max_envelope_bytes).await.map_err(blob_error)?;
    accept(state, actor, r, stored).await
}

/// The state of a resumable envelope upload: where it continues, and the SHA-256 of what is
/// stored so far.
pub async fn upload_state(state: &Bids, actor: &Actor, bid_id: Uuid) -> AppResult<PartialState> {
    own_bid(&state.db, actor, bid_id).await?;
    state.blobs.partial_state(&bid_id.to_string()).await.map_err(blob_error)
}

/// Appends bytes to a resumable envelope upload at `offset` (which must be where it ends).
/// Whatever arrives is kept, also when the connection breaks, so the bidder resumes from there.
pub async fn append(
    state: &Bids,
    actor: &Actor,
    bid_id: Uuid,
    offset: u64,
    body: ByteStream<'_>,
) -> AppResult<PartialState> {
    reserved_bid(state, actor, bid_id).await?;
    state
        .blobs
        .append_partial(&bid_id.to_string(), offset, body, state.settings.max_envelope_bytes)
        .await
        .map_err(blob_error)
}

/// Completes a resumable upload: the stored bytes become the envelope, which is then
/// [`accept`]ed (or refused) as if it had come in one request.
pub async fn complete(
    state: &Bids,
    actor: &Actor,
    bid_id: Uuid,
    key_id: &str,
    signature_b64: &str,
) -> AppResult<Receipt> {
    let r = receivable(state, actor, bid_id, key_id, signature_b64).await?;
    let stored = state.blobs.finish_partial(&bid_id.to_string()).await.map_err(blob_error)?;
    accept(state, actor, r, stored).await
}

/// Checks a durably stored envelope (its header names this very bid, the bidder's signature
/// matches its SHA-256) and records it with a signed receipt, or discards it with the reason.
async fn accept(state: &Bids, actor: &Actor, r: Receivable, stored: StoredBlob) -> AppResult<Receipt> {
    let Receivable { bid: b, tender: t, lot: l, key, signature } = r;
    // A refused envelope is not kept, unless the same bytes were already stored for another
    // record (a replayed envelope), which must stay.
    let refuse = |e: AppError| async {
        if stored.created {
            let _ = state.blobs.discard(&stored.sha256).await;
        }
        Err::<Receipt, AppError>(e)
    };
    let header = match Header::parse(&stored.head) {
        Ok(h) => h,
        Err(e) if stored.head.len() < MAGIC.len() || !stored.head.starts_with(MAGIC) => {
            return refuse(AppError::rule("envelope_invalid", format!("not an envelope: {e}"))).await;
        }
        Err(e) => return refuse(AppError::rule("envelope_invalid", e.to_string())).await,
    };
    let expected =
        envelope::BidIdentity { tender: t.public_id, lot: l.public_id, bidder: actor.org_public_id, bid: b.public_id };
    if header.identity != expected {
        return refuse(AppError::rule(
            "envelope_wrong_bid",
            "the envelope was sealed for another tender, lot, bidder or bid",
        ))
        .await;
    }
    let digest = match hex::decode(&stored.sha256) {
        Ok(d) => d,
        Err(e) => return refuse(AppError::internal(e)).await,
    };
    let public = match B64.decode(&key.public_key) {
        Ok(p) => p,
        Err(e) => return refuse(AppError::internal(e)).await,
    };
    if UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public).verify(&digest, &signature).is_err() {
        return refuse(AppError::rule(
            "signature_invalid",
            "the signature does not match the envelope's SHA-256 and the key",
        ))
        .await;
    }

    // Durably stored; now the deadline by the platform's clock decides, in the same transaction
    // that records the bid, so a receipt exists exactly when the bid counts.
    let mut txn = state.writer.begin().await?;
    let now = txn.now();
    if now >= t.bid_deadline {
        drop(txn);
        return refuse(AppError::rule(
            "deadline_passed",
            "the bid deadline passed before the upload finished; nothing is accepted",
        ))
        .await;
    }
    let current = bid::Entity::find_by_id(b.id).one(&txn).await?.ok_or_else(AppError::not_found)?;
    if current.status != status::RESERVED {
        drop(txn);
        return refuse(AppError::conflict("bid_not_reserved", "this bid already has an envelope")).await;
    }
    let replaced = bid::Entity::update_many()
        .col_expr(bid::Column::Status, sea_orm::sea_query::Expr::value(status::REPLACED))
        .filter(bid::Column::OrgId.eq(actor.org_id))
        .filter(bid::Column::LotId.eq(b.lot_id))
        .filter(bid::Column::Status.eq(status::SUBMITTED))
        .exec(&txn)
        .await?
        .rows_affected;
    let seq = txn
        .record(
            &actor.audit(),
            AuditEntry::new(
                Action::BidSubmit,
                b.public_id,
                json!({"sha256": stored.sha256, "size": stored.size, "key_id": key.key_id, "replaced": replaced}),
            ),
        )
        .await?;
    let receipt = Receipt {
        version: 1,
        tender: t.public_id,
        lot: l.public_id,
        bidder: actor.org_public_id,
        bid: b.public_id,
        envelope_sha256: stored.sha256.clone(),
        size: stored.size,
        received_at: now,
        audit_seq: seq,
        key_id: String::new(),
        signature: String::new(),
    }
    .sign(&state.key);
    bid::ActiveModel {
        id: Set(b.id),
        status: Set(status::SUBMITTED),
        envelope_sha256: Set(Some(stored.sha256.clone())),
        size_bytes: Set(Some(stored.size as i64)),
        bidder_key_id: Set(Some(key.key_id.clone())),
        signature: Set(Some(B64.encode(&signature))),
        receipt: Set(Some(serde_json::to_string(&receipt).map_err(AppError::internal)?)),
        received_at: Set(Some(now)),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    // The bidder is told, by its own channels, that the bid arrived; nobody else learns of it.
    txn.notify(&[actor.org_id], receipt_notice(&t, &l.name, now, &stored.sha256)).await?;
    txn.commit().await?;
    Ok(receipt)
}

/// The notice to a bidder that its bid for lot `lot` of tender `t` was received at `at` with
/// the envelope digest `sha256` (its first 16 hex digits shown).
pub(crate) fn receipt_notice(t: &tender::Model, lot: &str, at: DateTime<Utc>, sha256: &str) -> Notice {
    Notice::new(NoticeKind::BidReceipt)
        .arg("title", &t.title)
        .arg("lot", lot)
        .arg_time("at", at)
        .arg("sha", sha256.chars().take(16).collect::<String>())
        .about_tender(t.id)
        .link(format!("/tenders/{}", t.public_id))
}

/// Withdraws the bidder's reserved or submitted bid before the deadline.
pub async fn withdraw(state: &Bids, actor: &Actor, bid_id: Uuid) -> AppResult<()> {
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let b = own_bid(&txn, actor, bid_id).await?;
    let t = tender::Entity::find_by_id(b.tender_id).one(&txn).await?.ok_or_else(AppError::not_found)?;
    open_tender(&txn, t.public_id, now).await?;
    if b.status != status::SUBMITTED && b.status != status::RESERVED {
        return Err(AppError::conflict("bid_not_active", "only a reserved or submitted bid can be withdrawn"));
    }
    bid::ActiveModel { id: Set(b.id), status: Set(status::WITHDRAWN), ..Default::default() }.update(&txn).await?;
    txn.record(&actor.audit(), AuditEntry::new(Action::BidWithdraw, b.public_id, json!({}))).await?;
    txn.commit().await?;
    // An upload in progress for the withdrawn bid is of no further use.
    if let Err(e) = state.blobs.drop_partial(&bid_id.to_string()).await {
        tracing::warn!(error = %e, "could not remove the partial upload of a withdrawn bid");
    }
    Ok(())
}

/// A bid as its bidder sees it (我的投标): where it stands, what was received, and what the bidder
/// may still do with it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BidView {
    /// The bid.
    pub id: Uuid,
    /// The tender.
    pub tender: Uuid,
    /// The tender's title.
    pub tender_title: String,
    /// The tender's code (项目编号).
    pub tender_code: String,
    /// The lot.
    pub lot: Uuid,
    /// The lot's number within the tender.
    pub lot_no: i32,
    /// The lot's name.
    pub lot_name: String,
    /// `reserved` (upload not finished), `submitted`, `replaced` or `withdrawn`.
    pub status: String,
    /// SHA-256 of the envelope.
    pub envelope_sha256: Option<String>,
    /// Size of the envelope.
    pub size: Option<i64>,
    /// When received.
    pub received_at: Option<DateTime<Utc>>,
    /// Whether the bid has a signed receipt (JSON at `…/receipt`, PDF at `…/receipt.pdf`).
    pub receipt: bool,
    /// What the bidder may do with it now.
    pub actions: BidActions,
}

/// What a bidder may still do with one of its bids: only while bidding is open.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct BidActions {
    /// Submit a new bid for the same lot, which replaces this one (a submitted bid).
    pub replace: bool,
    /// Withdraw it (a reserved or submitted bid).
    pub withdraw: bool,
}

/// Most bids listed across tenders.
pub const MAX_LISTED: u64 = 200;

/// The views of `bids` (all of the actor's organisation), with their tenders' and lots' names and
/// the actions open at `now`.
async fn views<C: ConnectionTrait>(db: &C, bids: Vec<bid::Model>, now: DateTime<Utc>) -> AppResult<Vec<BidView>> {
    let tender_ids: Vec<_> = bids.iter().map(|b| b.tender_id).collect();
    let lot_ids: Vec<LotId> = bids.iter().map(|b| b.lot_id).collect();
    let tenders: std::collections::HashMap<_, tender::Model> = tender::Entity::find()
        .filter(tender::Column::Id.is_in(tender_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let lots: std::collections::HashMap<LotId, lot::Model> = lot::Entity::find()
        .filter(lot::Column::Id.is_in(lot_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let mut out = Vec::with_capacity(bids.len());
    for b in bids {
        let (Some(t), Some(l)) = (tenders.get(&b.tender_id), lots.get(&b.lot_id)) else {
            return Err(AppError::internal(format!("bid {} without its tender or lot", b.public_id)));
        };
        let open = state_of(t) == TenderState::Published && now < t.bid_deadline;
        out.push(BidView {
            id: b.public_id,
            tender: t.public_id,
            tender_title: t.title.clone(),
            tender_code: t.code.clone(),
            lot: l.public_id,
            lot_no: l.lot_no,
            lot_name: l.name.clone(),
            status: b.status.as_str().into(),
            envelope_sha256: b.envelope_sha256,
            size: b.size_bytes,
            received_at: b.received_at,
            receipt: b.receipt.is_some(),
            actions: BidActions {
                replace: open && b.status == status::SUBMITTED,
                withdraw: open && matches!(b.status, BidStatus::Reserved | BidStatus::Submitted),
            },
        });
    }
    Ok(out)
}

/// The actor's bids on a published (or later) tender, in the order they were reserved; anyone
/// but a supplier gets 404.
pub async fn list_own(state: &Bids, actor: &Actor, tender_id: Uuid) -> AppResult<Vec<BidView>> {
    if actor.role != Role::Supplier {
        return Err(AppError::not_found());
    }
    let Some(t) = tender::Entity::find()
        .filter(tender::Column::PublicId.eq(tender_id))
        .one(&state.db)
        .await?
        .filter(|t| state_of(t).is_public())
    else {
        return Err(AppError::not_found());
    };
    let bids = bid::Entity::find()
        .filter(bid::Column::TenderId.eq(t.id))
        .filter(bid::Column::OrgId.eq(actor.org_id))
        .order_by_asc(bid::Column::Id)
        .all(&state.db)
        .await?;
    views(&state.db, bids, state.clock.now()).await
}

/// Every bid of the actor's organisation, on any tender, newest first (at most [`MAX_LISTED`]):
/// the supplier's 我的投标. Suppliers only.
pub async fn list_all_own(state: &Bids, actor: &Actor) -> AppResult<Vec<BidView>> {
    require_supplier(actor)?;
    let bids = bid::Entity::find()
        .filter(bid::Column::OrgId.eq(actor.org_id))
        .order_by_desc(bid::Column::Id)
        .limit(MAX_LISTED)
        .all(&state.db)
        .await?;
    views(&state.db, bids, state.clock.now()).await
}

/// The receipt of the actor's own bid.
pub async fn receipt(state: &Bids, actor: &Actor, bid_id: Uuid) -> AppResult<Receipt> {
    let b = own_bid(&state.db, actor, bid_id).await?;
    let text = b.receipt.ok_or_else(AppError::not_found)?;
    serde_json::from_str(&text).map_err(AppError::internal)
}

/// The receipt of the actor's own bid as a PDF.
pub async fn receipt_pdf(state: &Bids, actor: &Actor, bid_id: Uuid) -> AppResult<Vec<u8>> {
    let b = own_bid(&state.db, actor, bid_id).await?;
    let text = b.receipt.ok_or_else(AppError::not_found)?;
    let receipt: Receipt = serde_json::from_str(&text).map_err(AppError::internal)?;
    let t = tender::Entity::find_by_id(b.tender_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let l = lot::Entity::find_by_id(b.lot_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let org = organisation::Entity::find_by_id(b.org_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let names = ReceiptNames {
        tender_code: t.code,
        tender_title: t.title,
        lot_no: l.lot_no,
        lot_name: l.name,
        bidder_name: org.name,
    };
    let texts = state.texts.clone();
    tokio::task::spawn_blocking(move || receipt.to_pdf(&names, &texts))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// The header of the actor's own stored envelope (its first bytes, no ciphertext): the bidder
/// recovers the content key from it with its bid key at the opening.
pub async fn envelope_head(state: &Bids, actor: &Actor, bid_id: Uuid) -> AppResult<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let b = own_bid(&state.db, actor, bid_id).await?;
    let sha = b.envelope_sha256.ok_or_else(AppError::not_found)?;
    let f = state.blobs.open(&sha).await.map_err(|_| AppError::not_found())?;
    let mut head = Vec::with_capacity(MAGIC.len() + envelope::HEADER_LEN);
    f.take((MAGIC.len() + envelope::HEADER_LEN) as u64).read_to_end(&mut head).await.map_err(AppError::internal)?;
    Ok(head)
}
