//! SeaORM entities: the shape of each table and nothing more.
//!
//! Behaviour lives in the domain modules' services; these types are only read and written there.
//! Each entity mirrors a table created in `migrations/`. Field docs live with the migrations.
#![allow(missing_docs)]

pub mod audit_checkpoint;
pub mod audit_head;
pub mod audit_record;
pub mod award_lot;
pub mod bid;
pub mod bidder_key;
pub mod calendar_day;
pub mod challenge;
pub mod clarification;
pub mod delivery;
pub mod document_obtained;
pub mod draw;
pub mod draw_call;
pub mod draw_exclusion;
pub mod draw_pick;
pub mod evaluation;
pub mod evaluation_member;
pub mod evaluation_remark;
pub mod evaluation_score;
pub mod evaluation_vote;
pub mod expert;
pub mod expert_conflict;
pub mod expert_employment;
pub mod expert_fee;
pub mod expert_rating;
pub mod expert_specialty;
pub mod expert_unavailable;
pub mod fee_rate;
pub mod held_registration;
pub mod job;
pub mod login_failure;
pub mod lot;
pub mod mall_agreement;
pub mod mall_item;
pub mod mall_order;
pub mod mall_order_line;
pub mod mall_order_prefix;
pub mod mall_order_step;
pub mod mall_price_change;
pub mod mall_price_flag;
pub mod mall_quotation;
pub mod mall_quote;
pub mod notice_pref;
pub mod notification;
pub mod objection;
pub mod opening;
pub mod opening_bid;
pub mod organisation;
pub mod peer_message;
pub mod procurement_result;
pub mod question;
pub mod remote_draw;
pub mod remote_draw_expert;
pub mod remote_seat;
pub mod room_event;
pub mod session;
pub mod site;
pub mod site_member;
pub mod subscription;
pub mod tender;
pub mod tender_document;
pub mod user;
