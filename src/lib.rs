//! Tenderhall: a public-resource trading and e-procurement platform.
//!
//! The crate is a library with a thin binary (`src/main.rs`). Modules:
//!
//! - [`cli`]: the `tenderhall` command (serve, demo, migrate, certs, accounts, audit verify,
//!   receipt verify, bidder).
//! - [`config`]: layered settings (defaults, file, environment).
//! - [`app`]: the application state and the router assembling the domain modules.
//! - [`server`]: plain HTTP or TLS (rustls) with optional client certificates.
//! - [`web`]: sessions and role extractors, CSRF, languages, page rendering, error pages.
//! - [`error`]: the one error type with stable codes.
//! - Domain modules, each owning its tables, rules, pages and API:
//!   [`accounts`], [`tenders`], [`bids`], [`opening`] (the remote opening hall), [`mall`] (the
//!   e-mall and its savings reports), [`sites`] (the trading centres where experts evaluate),
//!   [`experts`] (the expert pool), [`draw`] (the verifiable random draw of experts), [`notify`],
//!   [`audit`].
//! - The backbone for live work: [`uow`] (one unit of work per change: transaction, audit
//!   records, notices, live events, jobs, one commit), [`live`] (live rooms with numbered events,
//!   relayed between processes, served over websockets), [`jobs`] (durable jobs with a due time
//!   and one runner per process).
//! - Infrastructure: [`db`] (connection, migrations, writing transactions), [`column`] (enum
//!   columns stored as text), [`blob`] (stored files), [`pdf`] (checking untrusted PDFs, writing
//!   PDFs with embedded Chinese fonts), [`keys`] (the platform's signing and vault keys),
//!   [`clock`] (injected time), [`money`] (exact fen amounts), [`bounds`] (the limits of the
//!   numbers, amounts and times that come from outside), [`ids`] (typed ids of the main tables),
//!   [`certs`] (development PKI).
//! - [`envelope`]: the sealed-bid envelope format, sealing and the opening primitive;
//!   [`bidder`]: the bidder's side of it (key files, sealing, releasing the key, and an HTTP
//!   client that submits with resumable uploads).
//! - [`demo`]: the demonstration data set.
//! - [`entities`]: SeaORM table shapes.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod award;
pub mod bidder;
pub mod bids;
pub mod blob;
pub mod bounds;
pub mod calendar;
pub mod certs;
pub mod cli;
pub mod clock;
pub mod column;
pub mod config;
pub mod db;
pub mod deliver;
pub mod demo;
pub mod draw;
pub mod entities;
pub mod envelope;
pub mod error;
pub mod evaluation;
pub mod experts;
pub mod federation;
pub mod fees;
pub mod ids;
pub mod jobs;
pub mod keys;
pub mod live;
pub mod mall;
pub mod money;
pub mod notify;
pub mod opening;
pub mod pdf;
pub mod server;
pub mod sites;
pub mod subscriptions;
pub mod tenders;
pub mod uow;
pub mod web;
