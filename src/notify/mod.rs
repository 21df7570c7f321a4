//! Notifications (消息提醒) inside the platform.
//!
//! Owns the `notifications` table: each notice is addressed to an organisation, stored in the
//! same transaction as the event that caused it, and shown in the organisation's inbox. A notice
//! is stored as its kind and named arguments ([`model`]), not as a sentence; it is rendered when
//! read, in the reader's language, from the kind's template in the message catalogues
//! ([`render`]). Outside
//! channels (SMS) will read from here later; this module must not decide who deserves a notice,
//! the module raising the event does.

mod handlers;
pub mod live;
pub mod model;
pub mod render;
pub mod service;
#[cfg(test)]
pub(crate) mod tests;

pub use handlers::{api_routes, router};
pub use model::{Notice, NoticeKind};
