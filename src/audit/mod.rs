//! The audit chain (审计日志): an append-only, hash-linked record of every state-changing action.
//!
//! Owns: writing a record in the same transaction as the change it records
//! ([`AuditLog::record`]), signed checkpoints, verification (`tenderhall audit verify`), the
//! published platform key, and the supervisors' audit pages. It must not decide whether an
//! action is allowed: the calling module does that before it records.
//!
//! Each record holds the actor, organisation, action, object, time and the SHA-256 of a JSON
//! description of the change, and the hash of the previous record; every
//! `audit.checkpoint_every` records the head is signed with the platform's Ed25519 key.
//! `docs/audit.md` describes the format and what verification can and cannot detect.

mod handlers;
pub mod model;
pub mod service;

pub use handlers::{api_routes, router};
pub use model::{Action, AuditActor, AuditEntry, ObjectType, VerifyReport};
pub use service::{AuditLog, verify};

/// The recurring job that signs a checkpoint of the chain's head every
/// `jobs.checkpoint_minutes` (if records were added since the last one).
pub const CHECKPOINT_JOB: &str = "audit.checkpoint";

/// Signs a checkpoint: the [`CHECKPOINT_JOB`]'s work.
pub struct Checkpoint;

#[async_trait::async_trait]
impl crate::jobs::JobHandler for Checkpoint {
    async fn run(&self, uow: &mut crate::uow::UnitOfWork, _args: &serde_json::Value) -> crate::error::AppResult<()> {
        uow.checkpoint().await.map(|_| ())
    }
}

/// What the audit pages use: the chain and the key that signs its checkpoints.
#[derive(Clone, Debug)]
pub struct Trail {
    /// The database.
    pub db: sea_orm::DatabaseConnection,
    /// The platform's key.
    pub key: std::sync::Arc<crate::keys::PlatformKey>,
}
