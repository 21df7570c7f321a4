//! Types of the audit chain.

use serde::Serialize;

/// Who did it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditActor {
    /// The user, if a person acted.
    pub user_id: Option<crate::ids::UserId>,
    /// The user's organisation.
    pub org_id: Option<crate::ids::OrgId>,
    /// A readable label ("agency1 (某某招标代理)", "system").
    pub label: String,
}

impl AuditActor {
    /// The platform itself (scheduled work, start-up, demo data).
    pub fn system() -> Self {
        Self { user_id: None, org_id: None, label: "system".into() }
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Dotted action name (`tender.publish`).
    pub action: &'static str,
    /// Kind of object (`tender`).
    pub object_type: &'static str,
    /// Public identifier of the object.
    pub object_id: String,
    /// What changed, as JSON; its SHA-256 is the record's change digest.
    pub details: serde_json::Value,
}

impl AuditEntry {
    /// An entry.
    pub fn new(
        action: &'static str,
        object_type: &'static str,
        object_id: impl ToString,
        details: serde_json::Value,
    ) -> Self {
        Self { action, object_type, object_id: object_id.to_string(), details }
    }
}

/// One problem found by verification.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Problem {
    /// Sequence number of the record where the problem shows.
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

impl Problem {
    /// A problem at `seq`.
    pub fn at(seq: i64, reason: String) -> Self {
        Self { seq, reason }
    }
}

/// The result of verifying the chain.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// Records read.
    pub records: i64,
    /// Last sequence number read.
    pub last_seq: i64,
    /// Checkpoints read.
    pub checkpoints: i64,
    /// Highest record covered by a valid signed checkpoint.
    pub signed_upto: i64,
    /// Problems, in the order found.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    pub(crate) fn problem(&mut self, p: Problem) {
        if self.problems.len() < 1000 {
            self.problems.push(p);
        }
    }

    /// Whether the chain is intact.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first bad record (lowest sequence number with a problem).
    pub fn first_bad(&self) -> Option<&Problem> {
        self.problems.iter().min_by_key(|p| p.seq)
    }
}
