//! Who may see and change the expert pool.
//!
//! The centre's staff (`agency_staff` of the `centre` organisation) and the platform
//! administrator manage the pool; the centre's supervisors read it; nobody else learns that it
//! exists: every pool page and endpoint answers them 404. An expert sees only its own record
//! (`/expert`).

use crate::{
    accounts::model::{Actor, OrgKind, Role},
    error::{AppError, AppResult},
};

/// The administrator and the centre's staff manage the pool.
pub fn can_manage(actor: &Actor) -> bool {
    actor.role == Role::PlatformAdmin || (actor.org_kind == OrgKind::Centre && actor.role == Role::AgencyStaff)
}

/// Those who manage the pool, and the centre's supervisors, read it.
pub fn can_read(actor: &Actor) -> bool {
    can_manage(actor) || (actor.org_kind == OrgKind::Centre && actor.role == Role::Supervisor)
}

/// Refuses anyone who may not read the pool with 404.
pub fn require_read(actor: &Actor) -> AppResult<()> {
    if can_read(actor) { Ok(()) } else { Err(AppError::not_found()) }
}

/// Refuses a change: 403 for supervisors (who read the pool), 404 for everyone else.
pub fn require_manage(actor: &Actor) -> AppResult<()> {
    require_read(actor)?;
    if can_manage(actor) { Ok(()) } else { Err(AppError::forbidden()) }
}
