//! The random draw of an evaluation committee (专家抽取), verifiable by anyone holding its record.
//!
//! [`algorithm`] is the draw itself: pure and deterministic, from a request, the eligible experts
//! in canonical order, the platform's committed secret and the supervisor's contribution to the
//! experts drawn, replacements included; [`algorithm::verify`] runs a record again.

pub mod algorithm;
pub mod api;
pub mod avoidance;
pub mod handlers;
pub mod model;
pub mod service;

pub use service::Draws;
