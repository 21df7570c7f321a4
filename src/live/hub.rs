//! Delivering stored events to the connected participants of this server process.
//!
//! Every event is written to the database before it is published here, so the hub may drop
//! events without losing any: a subscriber that falls behind (or sees a gap in the numbers)
//! reads the missing ones from the database. One channel carries the events of every room;
//! subscribers keep those of their own. An event reaches the hub both from the process that
//! wrote it and from the relay (which reads what every process wrote); the hub sends each event
//! once, and never one older than what it already sent for that room.
//!
//! A second channel carries the users some of whose sessions ended (logout, password change,
//! disabled account), from this process's units of work and from the relay: every connection
//! of such a user checks its own session again and closes if it ended.

use super::{RoomKey, StoredEvent};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use tokio::sync::broadcast;

/// Events waiting for a slow subscriber before it must catch up from the database.
const CAPACITY: usize = 8192;

/// Ended-session signals waiting for a slow subscriber (one that falls behind checks anyway).
const SESSION_CAPACITY: usize = 1024;

/// The in-process event hub of all live rooms.
#[derive(Debug, Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<Arc<StoredEvent>>,
    /// The newest event number sent, per room.
    sent: Arc<Mutex<HashMap<RoomKey, i64>>>,
    /// Users (internal ids) some of whose sessions ended.
    ended: broadcast::Sender<crate::ids::UserId>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self { tx: broadcast::channel(CAPACITY).0, sent: Arc::default(), ended: broadcast::channel(SESSION_CAPACITY).0 }
    }
}

impl LiveHub {
    /// Publishes an event that is already stored, unless it (or a later one of its room) has
    /// been published already.
    pub fn publish(&self, event: StoredEvent) {
        {
            let mut sent = self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let newest = sent.entry(event.room).or_insert(0);
            if event.event.seq <= *newest {
                return;
            }
            *newest = event.event.seq;
        }
        // No subscriber is not an error: nobody is connected.
        let _ = self.tx.send(Arc::new(event));
    }

    /// Receives every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.tx.subscribe()
    }

    /// Tells the connections of user `user_id` (internal id) that some of their sessions ended.
    pub fn sessions_ended(&self, user_id: crate::ids::UserId) {
        // No subscriber is not an error: nobody is connected.
        let _ = self.ended.send(user_id);
    }

    /// Receives the users whose sessions end from now on.
    pub fn subscribe_sessions(&self) -> broadcast::Receiver<crate::ids::UserId> {
        self.ended.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{Audience, Event};

    fn ev(kind: &'static str, id: i64, seq: i64) -> StoredEvent {
        StoredEvent {
            room: RoomKey { kind, id },
            audience: Audience::All,
            event: Event { seq, kind: "x".into(), at: chrono::Utc::now(), data: serde_json::Value::Null },
        }
    }

    #[tokio::test]
    async fn sends_each_event_once_per_room() {
        let hub = LiveHub::default();
        let mut rx = hub.subscribe();
        hub.publish(ev("opening", 1, 1));
        hub.publish(ev("opening", 1, 1)); // again, from the relay
        hub.publish(ev("evaluation", 1, 1)); // another room with the same id
        hub.publish(ev("opening", 1, 2));
        let got: Vec<(&str, i64)> =
            (0..3).map(|_| rx.try_recv().map(|e| (e.room.kind, e.event.seq)).expect("event")).collect();
        assert_eq!(got, vec![("opening", 1), ("evaluation", 1), ("opening", 2)]);
        assert!(rx.try_recv().is_err());
    }
}
