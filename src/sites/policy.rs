//! Who may read and change sites.

use crate::{
    accounts::model::{Actor, OrgKind, Role},
    error::{AppError, AppResult},
};

/// The platform administrator, the centre's staff and its supervisors read sites.
pub fn can_read(actor: &Actor) -> bool {
    actor.role == Role::PlatformAdmin
        || (actor.org_kind == OrgKind::Centre && matches!(actor.role, Role::AgencyStaff | Role::Supervisor))
}

/// Only the platform administrator changes sites.
pub fn can_manage(actor: &Actor) -> bool {
    actor.role == Role::PlatformAdmin
}

/// Refuses a reader who may not see sites at all: 404, so that sites stay unknown to them.
pub fn require_read(actor: &Actor) -> AppResult<()> {
    if can_read(actor) { Ok(()) } else { Err(AppError::not_found()) }
}

/// Refuses a change: 403 for those who read sites, 404 for everyone else.
pub fn require_manage(actor: &Actor) -> AppResult<()> {
    require_read(actor)?;
    if can_manage(actor) { Ok(()) } else { Err(AppError::forbidden()) }
}

/// Whether a user of this organisation kind and role may be bound to a site: the centre's
/// staff and supervisors.
pub fn may_be_member(kind: OrgKind, role: Role) -> bool {
    kind == OrgKind::Centre && matches!(role, Role::AgencyStaff | Role::Supervisor)
}
