//! One unit of work: every change to the data goes through it.
//!
//! [`Writer::begin`] opens the write transaction (taking the audit chain's head lock, see
//! [`crate::db::begin_write`]) and reads the clock once. The change then makes its rows through
//! [`UnitOfWork::txn`] and hands the unit of work what it produces besides them: audit records
//! ([`UnitOfWork::record`]), notices ([`UnitOfWork::notify`]), live events
//! ([`UnitOfWork::emit`]), jobs ([`UnitOfWork::schedule`]) and ended sessions
//! ([`UnitOfWork::sessions_ended`]). [`UnitOfWork::commit`] commits all of it at once and only
//! then publishes the events and the ended sessions to the live rooms and wakes the job runner. Dropped without a commit, nothing happened: the transaction rolls back and
//! nothing is published.

use crate::{
    audit::{AuditActor, AuditEntry, AuditLog},
    clock::SharedClock,
    db::begin_write,
    error::{AppError, AppResult},
    jobs::NewJob,
    live::{Audience, Event, LiveHub, RoomKey, StoredEvent, store},
    notify::service::Notice,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use std::{collections::HashMap, sync::Arc};

/// Starts units of work; one per application, cloned into the services that change data.
#[derive(Debug, Clone)]
pub struct Writer {
    db: DatabaseConnection,
    clock: SharedClock,
    audit: AuditLog,
    hub: LiveHub,
    wake: Arc<tokio::sync::Notify>,
    changes: Changes,
}

/// How many units of work this process has committed: a reader that remembers the count can
/// tell later whether anything changed since (the public page cache, `web::public_pages`).
/// Changes made by another process are not counted.
#[derive(Debug, Clone, Default)]
pub struct Changes(Arc<std::sync::atomic::AtomicU64>);

impl Changes {
    /// The count now.
    pub fn count(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }

    fn committed(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl Writer {
    /// A writer on `db`, timing changes by `clock`, recording them in `audit`, publishing live
    /// events on `hub`.
    pub fn new(db: DatabaseConnection, clock: SharedClock, audit: AuditLog, hub: LiveHub) -> Self {
        Self { db, clock, audit, hub, wake: Arc::default(), changes: Changes::default() }
    }

    /// The count of this writer's commits.
    pub fn changes(&self) -> Changes {
        self.changes.clone()
    }

    /// Opens a unit of work, reading the clock for its time once the write lock is held (so a
    /// change that waited for the lock past a deadline is timed after it).
    pub async fn begin(&self) -> AppResult<UnitOfWork> {
        let txn = begin_write(&self.db).await?;
        Ok(self.unit(txn, self.clock.now()))
    }

    /// Opens a unit of work whose time is `now`: for a change that checked its input against
    /// the time it read (once) before taking the write lock.
    pub async fn begin_at(&self, now: DateTime<Utc>) -> AppResult<UnitOfWork> {
        let txn = begin_write(&self.db).await?;
        Ok(self.unit(txn, now))
    }

    fn unit(&self, txn: DatabaseTransaction, now: DateTime<Utc>) -> UnitOfWork {
        UnitOfWork {
            txn,
            now,
            audit: self.audit.clone(),
            hub: self.hub.clone(),
            wake: self.wake.clone(),
            events: Vec::new(),
            next_seq: HashMap::new(),
            scheduled: false,
            ended_sessions: Vec::new(),
            after: Vec::new(),
            changes: self.changes.clone(),
        }
    }

    /// The database, for reads.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The live hub (subscribing to events).
    pub fn hub(&self) -> &LiveHub {
        &self.hub
    }

    /// Woken after a commit that scheduled a job.
    pub fn job_signal(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }
}

/// Work to run once a change has committed.
struct Deferred(Box<dyn FnOnce() + Send + Sync>);

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Deferred")
    }
}

/// One change in progress: its transaction, its time, and what it produces besides its rows.
#[derive(Debug)]
pub struct UnitOfWork {
    txn: DatabaseTransaction,
    now: DateTime<Utc>,
    audit: AuditLog,
    hub: LiveHub,
    wake: Arc<tokio::sync::Notify>,
    events: Vec<StoredEvent>,
    next_seq: HashMap<RoomKey, i64>,
    scheduled: bool,
    /// Users some of whose sessions this change ends (internal ids).
    ended_sessions: Vec<crate::ids::UserId>,
    changes: Changes,
    /// Run once the change has committed (a link woken to send what the change wrote).
    after: Vec<Deferred>,
}

impl UnitOfWork {
    /// The transaction, for the change's own reads and writes.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// The time of this change, read once when it began.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Appends an audit record; returns its sequence number.
    pub async fn record(&mut self, actor: &AuditActor, entry: AuditEntry) -> AppResult<i64> {
        self.audit.record(&self.txn, self.now, actor, entry).await
    }

    /// Signs a checkpoint of the audit chain at its head, if records were added since the last
    /// one; returns the sequence number signed.
    pub async fn checkpoint(&mut self) -> AppResult<Option<i64>> {
        self.audit.checkpoint_in(&self.txn, self.now).await
    }

    /// Sends `notice` to each organisation in `orgs`: stored, with its deliveries, and told to
    /// the inbox room of every user it reaches.
    pub async fn notify(&mut self, orgs: &[crate::ids::OrgId], notice: Notice) -> AppResult<()> {
        let reached = crate::notify::service::notify(&self.txn, self.now, orgs, notice).await?;
        self.tell_inboxes(&reached).await
    }

    /// Sends `notice` to each user in `users` (with its organisation) alone.
    pub async fn notify_users(
        &mut self,
        users: &[(crate::ids::OrgId, crate::ids::UserId)],
        notice: Notice,
    ) -> AppResult<()> {
        let reached = crate::notify::service::notify_users(&self.txn, self.now, users, notice).await?;
        self.tell_inboxes(&reached).await
    }

    async fn tell_inboxes(&mut self, users: &[crate::ids::UserId]) -> AppResult<()> {
        for u in users {
            self.emit(crate::notify::live::room(*u), Audience::All, &serde_json::json!({"kind": "notice", "data": {}}))
                .await?;
        }
        Ok(())
    }

    /// Adds an event to a room, numbered after the room's last one; stored now, published after
    /// the commit. Returns its number.
    pub async fn emit<E: serde::Serialize>(&mut self, room: RoomKey, audience: Audience, event: &E) -> AppResult<i64> {
        let (kind, data) = store::encode(event)?;
        let seq = match self.next_seq.get(&room) {
            Some(n) => *n,
            None => store::newest_seq(&self.txn, room).await? + 1,
        };
        self.next_seq.insert(room, seq + 1);
        let stored = StoredEvent { room, audience, event: Event { seq, kind, at: self.now, data } };
        store::write(&self.txn, std::slice::from_ref(&stored)).await?;
        self.events.push(stored);
        Ok(seq)
    }

    /// The events added so far (number and name), for the change's audit record.
    pub fn emitted(&self) -> Vec<(i64, String)> {
        self.events.iter().map(|e| (e.event.seq, e.event.kind.clone())).collect()
    }

    /// Schedules a job; a job with the same idempotency key that has not run yet is moved to
    /// the new due time and arguments instead.
    pub async fn schedule(&mut self, job: NewJob) -> AppResult<()> {
        crate::jobs::store::schedule(&self.txn, self.now, &job).await?;
        self.scheduled = true;
        Ok(())
    }

    /// Tells the live rooms, once committed, that sessions of `user_id` ended (logout, password
    /// change, disabled account): their connections check their own session and close if it
    /// is one of them, in this process and, through the relay, in the others.
    pub fn sessions_ended(&mut self, user_id: crate::ids::UserId) {
        if !self.ended_sessions.contains(&user_id) {
            self.ended_sessions.push(user_id);
        }
    }

    /// Runs `f` once the change has committed (never if it does not).
    pub fn after_commit(&mut self, f: Box<dyn FnOnce() + Send + Sync>) {
        self.after.push(Deferred(f));
    }

    /// Gives the change up: nothing of it is kept or published.
    pub async fn rollback(self) -> AppResult<()> {
        self.txn.rollback().await.map_err(AppError::from)
    }

    /// Commits everything, then publishes the events and wakes the job runner.
    pub async fn commit(self) -> AppResult<()> {
        if !self.events.is_empty() {
            crate::live::relay::notify(&self.txn).await?;
        }
        for user in &self.ended_sessions {
            crate::live::relay::notify_session_end(&self.txn, *user).await?;
        }
        self.txn.commit().await.map_err(AppError::from)?;
        self.changes.committed();
        for e in self.events {
            self.hub.publish(e);
        }
        for user in self.ended_sessions {
            self.hub.sessions_ended(user);
        }
        if self.scheduled {
            self.wake.notify_one();
        }
        for f in self.after {
            (f.0)();
        }
        Ok(())
    }
}

/// A unit of work reads and writes as its transaction does, so the change's own queries take
/// `&uow` wherever they take a connection.
#[async_trait::async_trait]
impl ConnectionTrait for UnitOfWork {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}
