//! Sealed bids (投标): suppliers' signing keys, reserving a bid, receiving its envelope,
//! receipts, replacing and withdrawing.
//!
//! Owns the `bidder_keys` and `bids` tables and the envelope blobs. Before the opening nobody
//! but the bidder learns anything about a bid, not even that it exists: every read here is
//! scoped to the bidder's own organisation and answers 404 otherwise. The server stores
//! ciphertext only (see [`crate::envelope`]); it never holds a key that opens a bid before the
//! bidder releases it. This module must not move the tender's state: the tenders module does.

mod api;
pub mod receipt;
pub mod service;

pub use api::api_routes;

/// What the bid services and routes use.
#[derive(Clone, Debug)]
pub struct Bids {
    /// The database.
    pub db: sea_orm::DatabaseConnection,
    /// The clock.
    pub clock: crate::clock::SharedClock,
    /// Starts units of work.
    pub writer: crate::uow::Writer,
    /// Stored envelopes.
    pub blobs: std::sync::Arc<dyn crate::blob::BlobStore>,
    /// The platform's key, which signs receipts.
    pub key: std::sync::Arc<crate::keys::PlatformKey>,
    /// Envelope limits.
    pub settings: crate::config::BidSettings,
    /// The texts, for the receipts printed in both languages.
    pub texts: std::sync::Arc<crate::web::i18n::I18n>,
}

/// The recurring job that removes uploads that can no longer be completed.
pub const ABANDONED_UPLOADS_JOB: &str = "bids.abandoned_uploads";

/// Removes the partial uploads (`blob` `partial/`) of bids still only reserved whose tender's
/// bid deadline has passed: no envelope can be received for them any more, so what arrived of
/// one only fills the disk. Withdrawing a bid removes its upload at once; this catches the
/// uploads a bidder simply left.
pub struct DropAbandonedUploads(pub std::sync::Arc<dyn crate::blob::BlobStore>);

#[async_trait::async_trait]
impl crate::jobs::JobHandler for DropAbandonedUploads {
    async fn run(&self, uow: &mut crate::uow::UnitOfWork, _args: &serde_json::Value) -> crate::error::AppResult<()> {
        use crate::entities::{bid, tender};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
        let closed: Vec<crate::ids::TenderId> = tender::Entity::find()
            .select_only()
            .column(tender::Column::Id)
            .filter(tender::Column::BidDeadline.lte(uow.now()))
            .into_tuple()
            .all(&*uow)
            .await?;
        let mut removed = 0usize;
        for chunk in closed.chunks(500) {
            let left = bid::Entity::find()
                .filter(bid::Column::Status.eq(service::status::RESERVED))
                .filter(bid::Column::TenderId.is_in(chunk.iter().copied()))
                .all(&*uow)
                .await?;
            for b in left {
                match self.0.partial_state(&b.public_id.to_string()).await {
                    Ok(st) if st.offset > 0 => {}
                    _ => continue,
                }
                match self.0.drop_partial(&b.public_id.to_string()).await {
                    Ok(()) => removed += 1,
                    Err(e) => tracing::warn!(bid = %b.public_id, error = %e, "could not remove an abandoned upload"),
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "abandoned bid uploads removed");
        }
        Ok(())
    }
}
