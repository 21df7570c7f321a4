//! Delivering hall events to the connected participants of this server process.
//!
//! Every event is written to the database before it is published here, so the bus may drop
//! events without losing any: a subscriber that falls behind (or sees a gap in the numbers)
//! reads the missing ones from the database. One channel carries the events of every hall;
//! subscribers keep those of their own. An event reaches the bus both from the process that
//! wrote it and from the relay (which reads what every process wrote); the bus sends each event
//! once, and never one older than what it already sent for that hall.

use super::model::HallEvent;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use tokio::sync::broadcast;

/// Events waiting for a slow subscriber before it must catch up from the database.
const CAPACITY: usize = 8192;

/// The in-process event bus of the opening halls.
#[derive(Debug, Clone)]
pub struct HallBus {
    tx: broadcast::Sender<Arc<HallEvent>>,
    /// The newest event number sent, per opening.
    sent: Arc<Mutex<HashMap<i64, i64>>>,
}

impl Default for HallBus {
    fn default() -> Self {
        Self { tx: broadcast::channel(CAPACITY).0, sent: Arc::default() }
    }
}

impl HallBus {
    /// Publishes an event that is already stored, unless it (or a later one of its hall) has
    /// been published already.
    pub fn publish(&self, event: HallEvent) {
        {
            let mut sent = self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let newest = sent.entry(event.opening_id).or_insert(0);
            if event.seq <= *newest {
                return;
            }
            *newest = event.seq;
        }
        // No subscriber is not an error: nobody is connected.
        let _ = self.tx.send(Arc::new(event));
    }

    /// Receives every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<HallEvent>> {
        self.tx.subscribe()
    }
}
