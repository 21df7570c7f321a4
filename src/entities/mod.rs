//! SeaORM entities: the shape of each table and nothing more.
//!
//! Behaviour lives in the domain modules' services; these types are only read and written there.
//! Each entity mirrors a table created in `migrations/`. Field docs live with the migrations.
#![allow(missing_docs)]

pub mod audit_checkpoint;
pub mod audit_head;
pub mod audit_record;
pub mod bid;
pub mod bidder_key;
pub mod clarification;
pub mod document_obtained;
pub mod hall_event;
pub mod login_failure;
pub mod lot;
pub mod notification;
pub mod objection;
pub mod opening;
pub mod opening_bid;
pub mod organisation;
pub mod question;
pub mod session;
pub mod tender;
pub mod tender_document;
pub mod user;
