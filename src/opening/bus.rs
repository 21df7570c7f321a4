//! Delivering hall events to the connected participants of this server process.
//!
//! Every event is written to the database before it is published here, so the bus may drop
//! events without losing any: a subscriber that falls behind (or sees a gap in the numbers)
//! reads the missing ones from the database. One channel carries the events of every hall;
//! subscribers keep those of their own.

use super::model::HallEvent;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Events waiting for a slow subscriber before it must catch up from the database.
const CAPACITY: usize = 8192;

/// The in-process event bus of the opening halls.
#[derive(Debug, Clone)]
pub struct HallBus {
    tx: broadcast::Sender<Arc<HallEvent>>,
}

impl Default for HallBus {
    fn default() -> Self {
        Self { tx: broadcast::channel(CAPACITY).0 }
    }
}

impl HallBus {
    /// Publishes an event that is already stored.
    pub fn publish(&self, event: HallEvent) {
        // No subscriber is not an error: nobody is connected.
        let _ = self.tx.send(Arc::new(event));
    }

    /// Receives every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<HallEvent>> {
        self.tx.subscribe()
    }
}
