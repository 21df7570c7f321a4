//! Writing, checkpointing and verifying the audit chain.

use super::model::{AuditActor, AuditEntry, Problem, VerifyReport};
use crate::{
    entities::{audit_checkpoint, audit_head, audit_record},
    error::AppResult,
    keys::{PlatformKey, PublicKey},
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chrono::{DateTime, Utc};
use ring::digest::{Context, SHA256, digest};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::sync::Arc;

/// The hash that precedes the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Writes audit records and checkpoints; one per application.
#[derive(Debug, Clone)]
pub struct AuditLog {
    key: Arc<PlatformKey>,
    checkpoint_every: i64,
}

fn put_field(ctx: &mut Context, bytes: &[u8]) {
    ctx.update(&(bytes.len() as u64).to_be_bytes());
    ctx.update(bytes);
}

/// SHA-256 of a record's stored details text, hex.
pub fn details_digest(details: &str) -> String {
    hex::encode(digest(&SHA256, details.as_bytes()))
}

/// The hash of a record: SHA-256 over its length-prefixed fields and the previous hash.
pub fn record_hash(r: &audit_record::Model) -> String {
    let mut ctx = Context::new(&SHA256);
    put_field(&mut ctx, b"tenderhall-audit-v1");
    ctx.update(&r.seq.to_be_bytes());
    ctx.update(&r.at.timestamp_micros().to_be_bytes());
    put_field(&mut ctx, r.actor_user_id.map(|v| v.to_string()).unwrap_or_default().as_bytes());
    put_field(&mut ctx, r.actor_org_id.map(|v| v.to_string()).unwrap_or_default().as_bytes());
    put_field(&mut ctx, r.actor_label.as_bytes());
    put_field(&mut ctx, r.action.as_bytes());
    put_field(&mut ctx, r.object_type.as_bytes());
    put_field(&mut ctx, r.object_id.as_bytes());
    put_field(&mut ctx, r.change_digest.as_bytes());
    put_field(&mut ctx, r.prev_hash.as_bytes());
    hex::encode(ctx.finish())
}

/// The message a checkpoint signature covers.
pub fn checkpoint_message(seq: i64, hash: &str, signed_at: DateTime<Utc>, key_id: &str) -> Vec<u8> {
    format!("tenderhall-audit-checkpoint-v1\n{seq}\n{hash}\n{}\n{key_id}\n", signed_at.timestamp_micros()).into_bytes()
}

impl AuditLog {
    /// An audit log signing checkpoints with `key` every `checkpoint_every` records.
    pub fn new(key: Arc<PlatformKey>, checkpoint_every: i64) -> Self {
        Self { key, checkpoint_every: checkpoint_every.max(1) }
    }

    /// Appends a record in the caller's transaction, which must have been opened with
    /// [`crate::db::begin_write`] (it holds the head lock). Returns the record's sequence number.
    pub async fn record<C: ConnectionTrait>(
        &self,
        txn: &C,
        at: DateTime<Utc>,
        actor: &AuditActor,
        entry: AuditEntry,
    ) -> AppResult<i64> {
        let head = audit_head::Entity::find_by_id(1)
            .one(txn)
            .await?
            .ok_or_else(|| crate::error::AppError::internal("audit head row missing"))?;
        let details = serde_json::to_string(&entry.details).map_err(crate::error::AppError::internal)?;
        let mut model = audit_record::Model {
            seq: head.seq + 1,
            at,
            actor_user_id: actor.user_id,
            actor_org_id: actor.org_id,
            actor_label: actor.label.clone(),
            action: entry.action.to_string(),
            object_type: entry.object_type.to_string(),
            object_id: entry.object_id,
            change_digest: details_digest(&details),
            details,
            prev_hash: head.hash.clone(),
            hash: String::new(),
        };
        model.hash = record_hash(&model);
        let seq = model.seq;
        let hash = model.hash.clone();
        audit_record::ActiveModel::from(model).insert(txn).await?;
        audit_head::ActiveModel { id: Set(1), seq: Set(seq), hash: Set(hash.clone()) }.update(txn).await?;
        if seq % self.checkpoint_every == 0 {
            self.write_checkpoint(txn, seq, &hash, at).await?;
        }
        Ok(seq)
    }

    async fn write_checkpoint<C: ConnectionTrait>(
        &self,
        txn: &C,
        seq: i64,
        hash: &str,
        at: DateTime<Utc>,
    ) -> AppResult<()> {
        let sig = self.key.sign(&checkpoint_message(seq, hash, at, self.key.key_id()));
        audit_checkpoint::ActiveModel {
            seq: Set(seq),
            hash: Set(hash.to_string()),
            signed_at: Set(at),
            key_id: Set(self.key.key_id().to_string()),
            signature: Set(B64.encode(sig)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(())
    }

    /// Signs a checkpoint at the current head if records were added since the last one, in the
    /// caller's transaction (opened with [`crate::db::begin_write`]). Returns the sequence
    /// number checkpointed, if any.
    pub async fn checkpoint_in<C: ConnectionTrait>(&self, txn: &C, at: DateTime<Utc>) -> AppResult<Option<i64>> {
        let head = audit_head::Entity::find_by_id(1).one(txn).await?;
        let last = audit_checkpoint::Entity::find()
            .order_by_desc(audit_checkpoint::Column::Seq)
            .one(txn)
            .await?
            .map(|c| c.seq)
            .unwrap_or(0);
        match head {
            Some(h) if h.seq > last => {
                self.write_checkpoint(txn, h.seq, &h.hash, at).await?;
                Ok(Some(h.seq))
            }
            _ => Ok(None),
        }
    }
}

/// Checks the whole chain against `public` (the platform's key, read from its key directory,
/// never from the database under test). Reads the records in pages so that memory stays flat.
pub async fn verify(db: &DatabaseConnection, public: &PublicKey) -> AppResult<VerifyReport> {
    let mut report = VerifyReport::default();
    let mut prev = GENESIS.to_string();
    let mut expected = 1i64;
    let mut hashes_at_checkpoints = std::collections::HashMap::new();
    let checkpoints = audit_checkpoint::Entity::find().order_by_asc(audit_checkpoint::Column::Seq).all(db).await?;
    let wanted: std::collections::HashSet<i64> = checkpoints.iter().map(|c| c.seq).collect();
    const PAGE: u64 = 2000;
    let mut after = 0i64;
    loop {
        let page = audit_record::Entity::find()
            .filter(audit_record::Column::Seq.gt(after))
            .order_by_asc(audit_record::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        if page.is_empty() {
            break;
        }
        for r in &page {
            report.records += 1;
            if r.seq != expected {
                report.problem(Problem::at(
                    expected,
                    if r.seq > expected {
                        format!("record {expected} is missing (deleted), next is {}", r.seq)
                    } else {
                        format!("record {} is out of order", r.seq)
                    },
                ));
            }
            if details_digest(&r.details) != r.change_digest {
                report.problem(Problem::at(r.seq, "details were altered (digest mismatch)".into()));
            }
            if r.prev_hash != prev {
                report.problem(Problem::at(
                    r.seq,
                    "does not follow the previous record (inserted, reordered or previous altered)".into(),
                ));
            }
            if record_hash(r) != r.hash {
                report.problem(Problem::at(r.seq, "record fields were altered (hash mismatch)".into()));
            }
            if wanted.contains(&r.seq) {
                hashes_at_checkpoints.insert(r.seq, r.hash.clone());
            }
            prev = r.hash.clone();
            expected = r.seq + 1;
            after = r.seq;
        }
    }
    report.last_seq = after;
    for c in &checkpoints {
        report.checkpoints += 1;
        let sig_ok = B64
            .decode(&c.signature)
            .map(|sig| {
                c.key_id == public.key_id()
                    && public.verify(&checkpoint_message(c.seq, &c.hash, c.signed_at, &c.key_id), &sig)
            })
            .unwrap_or(false);
        if !sig_ok {
            report
                .problem(Problem::at(c.seq, format!("checkpoint at {} has a bad signature or an unknown key", c.seq)));
            continue;
        }
        match hashes_at_checkpoints.get(&c.seq) {
            Some(h) if *h == c.hash => report.signed_upto = report.signed_upto.max(c.seq),
            Some(_) => {
                report.problem(Problem::at(c.seq, "differs from the signed checkpoint (chain rewritten)".into()))
            }
            None => {
                report.problem(Problem::at(c.seq, "signed checkpoint names a record that is gone (truncated)".into()))
            }
        }
    }
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    match head {
        Some(h) if h.seq == report.last_seq && h.hash == prev => {}
        Some(h) => report.problem(Problem::at(
            report.last_seq.min(h.seq) + 1,
            format!("chain head says record {} but the chain ends at {}", h.seq, report.last_seq),
        )),
        None => report.problem(Problem::at(1, "chain head row missing".into())),
    }
    Ok(report)
}
