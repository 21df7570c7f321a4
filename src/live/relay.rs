//! Room events between server processes that share one database, so that two servers serve one
//! room: a bidder connected to one sees what the host does on the other.
//!
//! Each process publishes the events it writes on its own hub at once; this relay also publishes
//! those written by other processes. On PostgreSQL the writing transaction sends
//! `NOTIFY tenderhall_live` (delivered only when it commits) and every process `LISTEN`s; on
//! SQLite, which has no notifications, the relay looks for new rows four times a second. Either
//! way it reads the events from the table, so it publishes nothing that is not stored, and a
//! participant's connection drops what it already has (by number).
//!
//! Ended sessions travel the same way on PostgreSQL: the transaction that ends a user's
//! sessions sends `NOTIFY tenderhall_live, 'session:<user>'`, and every process tells its
//! connections of that user to check their session. SQLite has no notifications: there a
//! connection finds a session ended by another process at its next periodic check
//! (`live.session_check_seconds`) or before its next command.

use super::{LiveHub, store::to_stored};
use crate::entities::room_event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::time::Duration;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "tenderhall_live";

/// The payload prefix of an ended-session notification.
const SESSION_PREFIX: &str = "session:";

/// Starts the relay for this process, for rooms of the given kinds; it runs until the returned
/// task is aborted.
pub fn spawn(db: DatabaseConnection, hub: LiveHub, kinds: Vec<&'static str>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let relay = Relay { db, hub, kinds };
        let mut last = relay.newest().await;
        if relay.db.get_database_backend() == DbBackend::Postgres {
            relay.listen(&mut last).await;
        } else {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                last = relay.forward(last).await;
            }
        }
    })
}

struct Relay {
    db: DatabaseConnection,
    hub: LiveHub,
    kinds: Vec<&'static str>,
}

impl Relay {
    async fn newest(&self) -> i64 {
        room_event::Entity::find()
            .order_by_desc(room_event::Column::Id)
            .one(&self.db)
            .await
            .ok()
            .flatten()
            .map(|e| e.id)
            .unwrap_or(0)
    }

    /// Publishes the stored events after row `last`; returns the new last row.
    async fn forward(&self, last: i64) -> i64 {
        let rows = match room_event::Entity::find()
            .filter(room_event::Column::Id.gt(last))
            .order_by_asc(room_event::Column::Id)
            .limit(1000)
            .all(&self.db)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "live relay could not read events");
                return last;
            }
        };
        let mut newest = last;
        for r in rows {
            newest = newest.max(r.id);
            let Some(kind) = self.kinds.iter().copied().find(|k| *k == r.room_kind) else {
                tracing::warn!(row = r.id, kind = %r.room_kind, "live relay: event of an unknown room kind");
                continue;
            };
            match to_stored(kind, r) {
                Ok(e) => self.hub.publish(e),
                Err(e) => tracing::error!(error = %e.message, "live relay: stored event does not read"),
            }
        }
        newest
    }

    async fn listen(&self, last: &mut i64) {
        use sea_orm::sqlx::postgres::PgListener;
        loop {
            let pool = self.db.get_postgres_connection_pool();
            let mut listener = match PgListener::connect_with(pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "live relay cannot listen; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "live relay cannot listen; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            // Whatever was written while not listening.
            *last = self.forward(*last).await;
            loop {
                // A notification, or every few seconds anyway, in case one was lost.
                match tokio::time::timeout(Duration::from_secs(5), listener.recv()).await {
                    Ok(Ok(n)) if n.payload().starts_with(SESSION_PREFIX) => {
                        match n.payload()[SESSION_PREFIX.len()..].parse::<i64>() {
                            Ok(user) => self.hub.sessions_ended(crate::ids::UserId(user)),
                            Err(_) => tracing::warn!(payload = n.payload(), "live relay: unreadable notification"),
                        }
                    }
                    Ok(Ok(_)) | Err(_) => *last = self.forward(*last).await,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "live relay lost its connection; reconnecting");
                        break;
                    }
                }
            }
        }
    }
}

/// Tells the other processes, from inside the writing transaction, that sessions of `user_id`
/// (internal id) ended.
pub async fn notify_session_end<C: ConnectionTrait>(db: &C, user_id: crate::ids::UserId) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("NOTIFY {CHANNEL}, '{SESSION_PREFIX}{user_id}'")).await?;
    }
    Ok(())
}

/// Tells the other processes, from inside the writing transaction, that events were written.
pub async fn notify<C: ConnectionTrait>(db: &C) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(())
}
