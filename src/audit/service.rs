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
            action: entry.action.code().to_string(),
            object_type: entry.action.object_type().as_str().to_string(),
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

/// An audit record as listed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RecordView {
    /// Sequence number.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who, as recorded.
    pub actor: String,
    /// The public id of the acting user, if a person acted.
    pub actor_user: Option<uuid::Uuid>,
    /// The public id of the acting user's organisation.
    pub actor_org: Option<uuid::Uuid>,
    /// What (`tender.publish`).
    pub action: String,
    /// Kind of object (`tender`).
    pub object_type: String,
    /// Object id.
    pub object_id: String,
    /// What changed (JSON text).
    pub details: String,
    /// Hash of the record.
    pub hash: String,
}

/// Filters and position of the record list. Filters combine (all must hold); the list is
/// newest first and paged by sequence number.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// Only records about this object id (a public id, or the user name a failed login tried).
    pub object: Option<String>,
    /// Only records about this tender (its opening hall included): its public id or its code.
    pub tender: Option<String>,
    /// Only records by a user of this organisation or about it: its public id, unified social
    /// credit code or exact name.
    pub org: Option<String>,
    /// Only records by this user or about them: the public id or the user name.
    pub user: Option<String>,
    /// Only records of this action (`tender.publish`).
    pub action: Option<String>,
    /// From this time on: a day `YYYY-MM-DD` (from its start) or a time `YYYY-MM-DDTHH:MM`, both
    /// China Standard Time, or an RFC 3339 time.
    pub from: Option<String>,
    /// Up to this time, included: a day (the whole day), a time to the minute (the whole
    /// minute) or an RFC 3339 time.
    pub to: Option<String>,
    /// Only records with a sequence number below this: the next (older) page starts below the
    /// last record of a page.
    pub before: Option<i64>,
    /// Only records with a sequence number above this: the previous (newer) page starts above
    /// the first record of a page; `after=0` is the oldest page.
    pub after: Option<i64>,
    /// Records per page: 1 to 500, 100 by default.
    pub limit: Option<u64>,
}

/// Records per page unless asked otherwise.
pub const RECORDS_PER_PAGE: u64 = 100;
/// Most records per page.
pub const MAX_RECORDS_PER_PAGE: u64 = 500;

/// Records of this object type are sealed like the bids they describe: they are in the chain
/// and its verification, never in a listing.
const SEALED_OBJECT_TYPE: super::model::ObjectType = super::model::ObjectType::Bid;

/// One page of records, newest first, and whether there are more either side.
#[derive(Debug, Clone, Default)]
pub struct RecordPage {
    /// The records.
    pub records: Vec<RecordView>,
    /// Whether records matching the filters come after the first of the page.
    pub has_newer: bool,
    /// Whether records matching the filters come before the last of the page.
    pub has_older: bool,
}

/// A bound of a time filter: a day, a time to the minute (China Standard Time) or an RFC 3339
/// time. `end` gives the first instant after the bound (the bound is included). A text that is
/// none of these is `invalid`; a time outside the platform's calendar (`bounds`) `out_of_range`.
fn time_bound(text: &str, end: bool) -> Result<DateTime<Utc>, &'static str> {
    let s = text.trim();
    let (start, length) = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        (t.with_timezone(&Utc), chrono::TimeDelta::microseconds(1))
    } else if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = d.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(crate::web::cst()).single());
        (t.ok_or("invalid")?.with_timezone(&Utc), chrono::TimeDelta::days(1))
    } else {
        (crate::web::parse_local_time(s).ok_or("invalid")?, chrono::TimeDelta::minutes(1))
    };
    if !crate::bounds::time_in_range(start) {
        return Err("out_of_range");
    }
    Ok(if end { start + length } else { start })
}

/// The filters of `q` as a condition, the unknown ones as field errors.
async fn record_filter<C: ConnectionTrait>(db: &C, q: &RecordQuery) -> AppResult<sea_orm::Condition> {
    use crate::entities::{organisation, tender, user};
    use crate::error::{AppError, FieldError};
    use audit_record::Column as R;
    use sea_orm::Condition;
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let mut fields = Vec::new();
    let mut cond = Condition::all().add(R::ObjectType.ne(SEALED_OBJECT_TYPE.as_str()));
    for (name, v) in [("object", &q.object), ("tender", &q.tender), ("org", &q.org), ("user", &q.user)] {
        if given(v).is_some_and(|s| s.chars().count() > 100) {
            fields.push(FieldError::new(name, "too_long"));
        }
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    if let Some(o) = given(&q.object) {
        cond = cond.add(R::ObjectId.eq(o));
    }
    if let Some(t) = given(&q.tender) {
        let by = match uuid::Uuid::parse_str(t) {
            Ok(id) => tender::Column::PublicId.eq(id),
            Err(_) => tender::Column::Code.eq(t),
        };
        match tender::Entity::find().filter(by).one(db).await? {
            Some(t) => {
                cond = cond
                    .add(R::ObjectType.eq(super::ObjectType::Tender.as_str()))
                    .add(R::ObjectId.eq(t.public_id.to_string()))
            }
            None => fields.push(FieldError::new("tender", "unknown")),
        }
    }
    if let Some(o) = given(&q.org) {
        let by = match uuid::Uuid::parse_str(o) {
            Ok(id) => Condition::all().add(organisation::Column::PublicId.eq(id)),
            Err(_) => {
                Condition::any().add(organisation::Column::CreditCode.eq(o)).add(organisation::Column::Name.eq(o))
            }
        };
        let orgs = organisation::Entity::find().filter(by).all(db).await?;
        if orgs.is_empty() {
            fields.push(FieldError::new("org", "unknown"));
        } else {
            cond = cond.add(
                Condition::any().add(R::ActorOrgId.is_in(orgs.iter().map(|o| o.id))).add(
                    Condition::all()
                        .add(R::ObjectType.eq(super::ObjectType::Organisation.as_str()))
                        .add(R::ObjectId.is_in(orgs.iter().map(|o| o.public_id.to_string()))),
                ),
            );
        }
    }
    if let Some(u) = given(&q.user) {
        let by = match uuid::Uuid::parse_str(u) {
            Ok(id) => user::Column::PublicId.eq(id),
            Err(_) => user::Column::Username.eq(u),
        };
        match user::Entity::find().filter(by).one(db).await? {
            Some(u) => {
                cond = cond.add(
                    Condition::any().add(R::ActorUserId.eq(u.id)).add(
                        Condition::all()
                            .add(R::ObjectType.eq(super::ObjectType::User.as_str()))
                            .add(R::ObjectId.is_in([u.public_id.to_string(), u.username.clone()])),
                    ),
                )
            }
            None => fields.push(FieldError::new("user", "unknown")),
        }
    }
    if let Some(a) = given(&q.action) {
        match super::Action::parse(a) {
            Some(a) => cond = cond.add(R::Action.eq(a.code())),
            None => fields.push(FieldError::new("action", "invalid")),
        }
    }
    let from = given(&q.from).map(|s| time_bound(s, false));
    let to = given(&q.to).map(|s| time_bound(s, true));
    match from {
        Some(Ok(t)) => cond = cond.add(R::At.gte(t)),
        Some(Err(code)) => fields.push(FieldError::new("from", code)),
        None => {}
    }
    match to {
        Some(Ok(t)) => {
            if matches!(from, Some(Ok(f)) if f >= t) {
                fields.push(FieldError::new("to", "before_start"));
            }
            cond = cond.add(R::At.lt(t));
        }
        Some(Err(code)) => fields.push(FieldError::new("to", code)),
        None => {}
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok(cond)
}

/// A page of the records matching `q`, newest first, without the sealed records about bids.
pub async fn records(db: &DatabaseConnection, q: &RecordQuery) -> AppResult<RecordPage> {
    use crate::entities::{organisation, user};
    use audit_record::Column as R;
    let limit = q.limit.unwrap_or(RECORDS_PER_PAGE);
    if !(1..=MAX_RECORDS_PER_PAGE).contains(&limit) {
        return Err(crate::error::AppError::invalid_field("limit", "out_of_range"));
    }
    let cond = record_filter(db, q).await?;
    let mut find = audit_record::Entity::find().filter(cond.clone());
    if let Some(b) = q.before {
        find = find.filter(R::Seq.lt(b));
    }
    if let Some(a) = q.after {
        find = find.filter(R::Seq.gt(a));
    }
    // Going forward from `after` (without `before`) reads the oldest of what follows first.
    let forward = q.after.is_some() && q.before.is_none();
    let mut rows =
        if forward { find.order_by_asc(R::Seq) } else { find.order_by_desc(R::Seq) }.limit(limit).all(db).await?;
    if forward {
        rows.reverse();
    }
    let exists = |c: sea_orm::Condition| {
        let find = audit_record::Entity::find().filter(c);
        async move { Ok::<bool, crate::error::AppError>(!find.limit(1).all(db).await?.is_empty()) }
    };
    let (has_newer, has_older) = match (rows.first(), rows.last()) {
        (Some(newest), Some(oldest)) => (
            exists(cond.clone().add(R::Seq.gt(newest.seq))).await?,
            exists(cond.clone().add(R::Seq.lt(oldest.seq))).await?,
        ),
        _ => (false, false),
    };
    let user_ids: Vec<_> = rows.iter().filter_map(|r| r.actor_user_id).collect();
    let org_ids: Vec<_> = rows.iter().filter_map(|r| r.actor_org_id).collect();
    let users: std::collections::HashMap<_, _> = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.public_id))
        .collect();
    let orgs: std::collections::HashMap<_, _> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.public_id))
        .collect();
    let records = rows
        .into_iter()
        .map(|r| RecordView {
            seq: r.seq,
            at: r.at,
            actor: r.actor_label,
            actor_user: r.actor_user_id.and_then(|id| users.get(&id).copied()),
            actor_org: r.actor_org_id.and_then(|id| orgs.get(&id).copied()),
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            details: r.details,
            hash: r.hash,
        })
        .collect();
    Ok(RecordPage { records, has_newer, has_older })
}
