//! Durable jobs: work that must happen at a time whether or not anyone is looking.
//!
//! A job is a row of `jobs` with a kind, JSON arguments, a due time and an idempotency key that
//! names the work (scheduling the same key twice is one job; scheduling it again before it ran
//! moves it). It is written by the unit of work of the change that makes its time known
//! ([`crate::uow::UnitOfWork::schedule`]), so a job exists exactly when its cause was committed.
//!
//! One [`runner::Runner`] per process claims due jobs (on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so processes sharing a database never claim the same one; on
//! SQLite the claiming statement holds the database's write lock), runs each in a unit of work
//! that also marks it done, so its effect and its completion commit together, retries a failure
//! with exponential backoff, and after the last attempt keeps it as `failed` with its error, for
//! staff to see (`/admin/jobs`). A claim is a lease: a job whose process died is claimed again
//! when the lease runs out.
//!
//! This module knows no job kind: the domain modules register theirs in a [`Registry`]
//! ([`crate::app`] assembles it), each a [`JobHandler`].

pub mod handlers;
pub mod runner;
pub mod store;

use crate::{error::AppResult, uow::UnitOfWork};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::{collections::HashMap, sync::Arc};

pub use runner::Runner;

crate::column::string_enum! {
    /// Where a job stands.
    JobStatus stored in crate::entities::job::Entity {
        /// Waiting for its due time (or for a retry).
        Pending = "pending",
        /// Claimed by a runner, which holds it until `claimed_until`.
        Running = "running",
        /// Done; its effect is committed.
        Done = "done",
        /// Failed at every attempt; `last_error` says why.
        Failed = "failed",
    }
}

/// A job to schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Its kind, as registered.
    pub kind: &'static str,
    /// Its arguments.
    pub args: Value,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// Names the work: one job per key.
    pub key: String,
}

impl NewJob {
    /// A job of `kind` due at `due_at`, named `key`.
    pub fn new(kind: &'static str, key: impl Into<String>, due_at: DateTime<Utc>, args: Value) -> Self {
        Self { kind, args, due_at, key: key.into() }
    }
}

/// What a job kind does. The runner calls it in a unit of work that it commits afterwards
/// (with the job marked done); an error rolls everything back and counts as a failed attempt.
/// A handler must accept being called for work that is no longer needed (a tender cancelled
/// before its deadline) and then do nothing.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync {
    /// Does the job.
    async fn run(&self, uow: &mut UnitOfWork, args: &Value) -> AppResult<()>;
}

/// A job that repeats at a fixed interval (the audit checkpoint).
#[derive(Clone)]
pub struct Recurring {
    /// Its kind.
    pub kind: &'static str,
    /// How often.
    pub every: TimeDelta,
}

impl Recurring {
    /// The job of this kind due at the first multiple of the interval after `after`; its key is
    /// the kind and that time, so processes that schedule it at once schedule one job.
    pub fn next_after(&self, after: DateTime<Utc>) -> NewJob {
        let step = self.every.num_seconds().max(1);
        let due_secs = (after.timestamp().div_euclid(step) + 1) * step;
        let due = DateTime::from_timestamp(due_secs, 0).unwrap_or(after + self.every);
        NewJob::new(self.kind, format!("{}@{}", self.kind, due.timestamp()), due, Value::Null)
    }
}

/// The job kinds of the application and their handlers.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
    recurring: Vec<Recurring>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kinds: Vec<_> = self.handlers.keys().collect();
        kinds.sort();
        f.debug_struct("Registry").field("kinds", &kinds).finish()
    }
}

impl Registry {
    /// Registers the handler of a kind.
    pub fn add(mut self, kind: &'static str, handler: impl JobHandler + 'static) -> Self {
        self.handlers.insert(kind, Arc::new(handler));
        self
    }

    /// Registers the handler of a kind that repeats every `every`.
    pub fn add_recurring(self, kind: &'static str, every: TimeDelta, handler: impl JobHandler + 'static) -> Self {
        let mut me = self.add(kind, handler);
        me.recurring.push(Recurring { kind, every });
        me
    }

    /// The handler of a kind.
    pub fn handler(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }

    /// Every registered kind, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }

    /// The repeating kinds.
    pub fn recurring(&self) -> &[Recurring] {
        &self.recurring
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_recurring_job_is_due_at_the_next_multiple_of_its_interval() {
        let r = Recurring { kind: "audit.checkpoint", every: TimeDelta::minutes(10) };
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 2, 3, 17).single().expect("time");
        let j = r.next_after(at);
        assert_eq!(j.due_at, Utc.with_ymd_and_hms(2026, 11, 2, 2, 10, 0).single().expect("time"));
        // Two processes starting in the same interval schedule the same job.
        assert_eq!(j.key, r.next_after(at + TimeDelta::minutes(5)).key);
        // On the boundary, the next one.
        assert_eq!(r.next_after(j.due_at).due_at, j.due_at + TimeDelta::minutes(10));
    }
}
