//! Notifications (消息提醒) inside the platform.
//!
//! Owns the `notifications` table: each notice is addressed to an organisation, stored in the
//! same transaction as the event that caused it, and shown in the organisation's inbox. Outside
//! channels (SMS) will read from here later; this module must not decide who deserves a notice,
//! the module raising the event does.

mod handlers;
pub mod service;

pub use handlers::{api_routes, router};
pub use service::Notice;
