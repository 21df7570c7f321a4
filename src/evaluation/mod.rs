//! Evaluation (评标): the rules of scoring and the 清标 checks (`scoring`, `precheck`, pure),
//! and the evaluation session, the second kind of live room (`model`, `service`, `api`,
//! `handlers`).

pub mod api;
pub mod handlers;
pub mod model;
pub mod precheck;
pub mod scoring;
pub mod service;

pub use service::Evaluations;
