//! Database migrations for Tenderhall.
//!
//! Migrations are append-only: once a migration has been applied anywhere, it is never edited;
//! a change to the schema is a new migration. Every migration must run on both SQLite and
//! PostgreSQL, so only portable column types are used (money is `BIGINT` fen, times are
//! timestamps with time zone, identifiers exposed to users are UUIDs).

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_initial;
mod m20261122_000001_bids;
mod m20261122_000002_openings;
mod m20261122_000003_mall;
mod m20261201_000001_backbone;
mod m20261202_000001_notice_args;
mod m20261205_000001_audit_filters;
mod m20261205_000002_tender_notice;
mod m20261205_000003_org_status_reason;
mod m20261210_000001_opening_windows;
mod m20261212_000001_opening_reason_codes;
mod m20261215_000001_held_registrations;
mod m20261215_000002_order_prefixes;
mod m20261216_000001_quotation_codes;
mod m20261221_000001_sites_experts;
mod m20261222_000001_draws;
mod m20261223_000001_criteria;
mod m20261224_000001_evaluations;
mod m20261225_000001_award;
mod m20261226_000001_fees;
mod m20261227_000001_re_evaluation;
mod m20261228_000001_federation;
mod m20261229_000001_guest_fees;
mod m20261230_000001_deliveries;
mod m20261231_000001_subscriptions;
mod m20270101_000001_login_codes;
mod m20270102_000001_tender_invitations;
mod util;

/// The list of migrations, in the order they are applied.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_initial::Migration),
            Box::new(m20261122_000001_bids::Migration),
            Box::new(m20261122_000002_openings::Migration),
            Box::new(m20261122_000003_mall::Migration),
            Box::new(m20261201_000001_backbone::Migration),
            Box::new(m20261202_000001_notice_args::Migration),
            Box::new(m20261205_000001_audit_filters::Migration),
            Box::new(m20261205_000002_tender_notice::Migration),
            Box::new(m20261205_000003_org_status_reason::Migration),
            Box::new(m20261210_000001_opening_windows::Migration),
            Box::new(m20261212_000001_opening_reason_codes::Migration),
            Box::new(m20261215_000001_held_registrations::Migration),
            Box::new(m20261215_000002_order_prefixes::Migration),
            Box::new(m20261216_000001_quotation_codes::Migration),
            Box::new(m20261221_000001_sites_experts::Migration),
            Box::new(m20261222_000001_draws::Migration),
            Box::new(m20261223_000001_criteria::Migration),
            Box::new(m20261224_000001_evaluations::Migration),
            Box::new(m20261225_000001_award::Migration),
            Box::new(m20261226_000001_fees::Migration),
            Box::new(m20261227_000001_re_evaluation::Migration),
            Box::new(m20261228_000001_federation::Migration),
            Box::new(m20261229_000001_guest_fees::Migration),
            Box::new(m20261230_000001_deliveries::Migration),
            Box::new(m20261231_000001_subscriptions::Migration),
            Box::new(m20270101_000001_login_codes::Migration),
            Box::new(m20270102_000001_tender_invitations::Migration),
        ]
    }
}
