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
