//! Hall events between server processes that share one database, so that two servers serve one
//! hall: a bidder connected to one sees what the host does on the other.
//!
//! Each process publishes the events it writes on its own bus at once; this relay also publishes
//! those written by other processes. On PostgreSQL the writing transaction sends
//! `NOTIFY tenderhall_hall` (delivered only when it commits) and every process `LISTEN`s; on
//! SQLite, which has no notifications, the relay looks for new rows four times a second. Either
//! way it reads the events from the table, so it publishes nothing that is not stored, and a
//! participant's connection drops what it already has (by number).

use super::service::to_event;
use crate::{app::AppState, entities::hall_event};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::time::Duration;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "tenderhall_hall";

/// Starts the relay for this process; it runs until the returned task is aborted.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = newest(&state).await;
        if state.db.get_database_backend() == DbBackend::Postgres {
            listen(&state, &mut last).await;
        } else {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                last = forward(&state, last).await;
            }
        }
    })
}

async fn newest(state: &AppState) -> i64 {
    hall_event::Entity::find()
        .order_by_desc(hall_event::Column::Id)
        .one(&state.db)
        .await
        .ok()
        .flatten()
        .map(|e| e.id)
        .unwrap_or(0)
}

/// Publishes the stored events after row `last`; returns the new last row.
async fn forward(state: &AppState, last: i64) -> i64 {
    use sea_orm::ColumnTrait;
    let rows = match hall_event::Entity::find()
        .filter(hall_event::Column::Id.gt(last))
        .order_by_asc(hall_event::Column::Id)
        .limit(1000)
        .all(&state.db)
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "hall relay could not read events");
            return last;
        }
    };
    let mut newest = last;
    for r in rows {
        newest = newest.max(r.id);
        state.halls.publish(to_event(r));
    }
    newest
}

async fn listen(state: &AppState, last: &mut i64) {
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        let pool = state.db.get_postgres_connection_pool();
        let mut listener = match PgListener::connect_with(pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "hall relay cannot listen; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "hall relay cannot listen; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Whatever was written while not listening.
        *last = forward(state, *last).await;
        loop {
            // A notification, or every few seconds anyway, in case one was lost.
            match tokio::time::timeout(Duration::from_secs(5), listener.recv()).await {
                Ok(Ok(_)) | Err(_) => *last = forward(state, *last).await,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "hall relay lost its connection; reconnecting");
                    break;
                }
            }
        }
    }
}

/// Tells the other processes, from inside the writing transaction, that events were written.
pub async fn notify<C: ConnectionTrait>(db: &C) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(())
}
