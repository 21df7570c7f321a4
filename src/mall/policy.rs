//! Who may do what in the e-mall, and when an agreement sells. Every e-mall service asks here.

use crate::{
    accounts::model::{Actor, OrgKind, Role},
    entities::mall_agreement,
    mall::model::AgreementStatus,
};
use chrono::{DateTime, Utc};

/// Staff of the centre (the centralized procurement agency), who run agreements and reports.
pub fn is_centre_staff(actor: &Actor) -> bool {
    actor.org_kind == OrgKind::Centre && actor.role == Role::AgencyStaff
}

/// Supervisors and administrators: read everything, change nothing.
pub fn is_overseer(actor: &Actor) -> bool {
    matches!(actor.role, Role::Supervisor | Role::PlatformAdmin)
}

/// Staff of a procuring unit, who buy.
pub fn is_buyer(actor: &Actor) -> bool {
    actor.role == Role::ProcuringStaff && actor.org_kind == OrgKind::ProcuringUnit
}

/// A supplier's user.
pub fn is_supplier(actor: &Actor) -> bool {
    actor.role == Role::Supplier && actor.org_kind == OrgKind::Supplier
}

/// Whether the agreement sells at `now`: active (not suspended) and within its validity.
pub fn sells(a: &mall_agreement::Model, now: DateTime<Utc>) -> bool {
    a.status == AgreementStatus::Active && a.valid_from <= now && now < a.valid_to
}
