//! The remote opening hall (不见面开标).
//!
//! At a tender's bid deadline its opening hall opens, with every bid that counts. The host
//! (staff of the agency or procuring unit) starts the decryption window; each bidder releases the
//! content key of its bids, and the platform opens each envelope with the opening primitive as a
//! stream, checking every chunk and file, keeping only the bid form, sealed with the platform's
//! vault key so that nobody reads a price before the reading. When the window closes (or every
//! bid is decided) the host moves on: all bid forms are read out at once to everyone, bids not
//! opened are listed with the reason, and a tender with fewer valid bids than its least number
//! fails (流标). Then the objection window, the bidders' signed confirmations of the record, and
//! the close.
//!
//! The hall is the first kind of [`crate::live`] room ([`service::Openings`] implements
//! [`crate::live::RoomKind`]): every change is a unit of work that writes the hall's typed,
//! numbered events ([`model::HallEvent`]), published to connected participants after the
//! commit; a participant that reconnects resumes from its last number. The hall opens at the
//! deadline and its windows close by themselves as jobs ([`service::OPEN_JOB`],
//! [`service::WINDOW_JOB`]), never because someone looked. The bidders are told when the hall
//! opens, when the decryption starts and five minutes before it closes, when their bid was not
//! decrypted and when their objection is answered ([`notices`]). Participants connect over the
//! room's websocket or use the JSON API (`api`); both call the same `service`.

pub mod api;
pub mod handlers;
pub mod model;
pub mod notices;
pub mod service;

pub use service::Openings;
