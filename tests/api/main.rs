//! Integration tests: the real server on port 0 with a fresh database, driven over HTTP.
//! Run on SQLite by default; set `TENDERHALL_TEST_DATABASE_URL=postgres://...` for PostgreSQL.

#[path = "../support/mod.rs"]
mod support;

mod client;

mod accounts;
mod audit;
mod award;
mod backbone;
mod bids;
mod bounds;
mod caching;
mod columns;
mod criteria;
mod csrf;
mod deliveries;
mod draws;
mod evaluation;
mod experts;
mod extremes;
mod federation;
mod feedback;
mod fees;
mod forms;
mod live;
mod login_codes;
mod mall;
mod notices;
mod openapi;
mod opening;
mod platform;
mod redirects;
mod reminders;
mod resumable;
mod tenders;
mod tls;
