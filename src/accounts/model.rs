//! Roles, organisation kinds, size classes and the acting user.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) use crate::column::string_enum;

string_enum! {
    /// What a user does on the platform.
    Role stored in crate::entities::user::Entity {
        /// 平台管理员: accounts, approvals, configuration. Cannot read sealed bids.
        PlatformAdmin = "platform_admin",
        /// 采购人: staff of a procuring unit.
        ProcuringStaff = "procuring_staff",
        /// 采购代理机构: staff of an agency (or of the centre acting as one).
        AgencyStaff = "agency_staff",
        /// 供应商/投标人.
        Supplier = "supplier",
        /// 评标专家.
        Expert = "expert",
        /// 监督人员: read-only view of everything, audit.
        Supervisor = "supervisor",
    }
}

string_enum! {
    /// What kind of organisation.
    OrgKind stored in crate::entities::organisation::Entity {
        /// 采购人/招标人.
        ProcuringUnit = "procuring_unit",
        /// 采购代理机构.
        Agency = "agency",
        /// 供应商.
        Supplier = "supplier",
        /// 公共资源交易中心 / 集中采购机构.
        Centre = "centre",
        /// 专家 (individual experts are grouped under a pool organisation).
        ExpertPool = "expert_pool",
    }
}

string_enum! {
    /// Enterprise size class (企业规模), used by procurement policy.
    SizeClass stored in crate::entities::organisation::Entity {
        /// 大型.
        Large = "large",
        /// 中型.
        Medium = "medium",
        /// 小型.
        Small = "small",
        /// 微型.
        Micro = "micro",
    }
}

string_enum! {
    /// Whether an organisation or user may act.
    Status stored in crate::entities::organisation::Entity, crate::entities::user::Entity {
        /// Waiting for the centre's approval.
        Pending = "pending",
        /// Active.
        Active = "active",
        /// Refused by the centre.
        Rejected = "rejected",
        /// Disabled.
        Disabled = "disabled",
    }
}

impl Role {
    /// The roles a user of this organisation kind may have.
    pub fn allowed_for(kind: OrgKind) -> &'static [Role] {
        match kind {
            OrgKind::ProcuringUnit => &[Role::ProcuringStaff],
            OrgKind::Agency => &[Role::AgencyStaff],
            OrgKind::Supplier => &[Role::Supplier],
            OrgKind::Centre => &[Role::PlatformAdmin, Role::AgencyStaff, Role::Supervisor],
            OrgKind::ExpertPool => &[Role::Expert],
        }
    }
}

/// The user acting on a request, with their organisation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Actor {
    /// Internal id of the user.
    #[serde(skip)]
    pub user_id: i64,
    /// Public id of the user.
    pub user_public_id: Uuid,
    /// Login name.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Internal id of the organisation.
    #[serde(skip)]
    pub org_id: i64,
    /// Public id of the organisation.
    pub org_public_id: Uuid,
    /// Organisation name.
    pub org_name: String,
    /// Organisation kind.
    pub org_kind: OrgKind,
}

/// The session a request was made with, by the SHA-256 of its token (the token itself stays in
/// the cookie): what a connection that outlives its request checks again later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRef(pub(crate) String);

impl Actor {
    /// Whether the actor has one of `roles`.
    pub fn has_role(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }

    /// The actor as recorded in the audit chain.
    pub fn audit(&self) -> crate::audit::AuditActor {
        crate::audit::AuditActor {
            user_id: Some(self.user_id),
            org_id: Some(self.org_id),
            label: format!("{} ({})", self.username, self.org_name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(Role::allowed_for(OrgKind::Supplier).contains(&Role::Supplier));
        assert!(!Role::allowed_for(OrgKind::Supplier).contains(&Role::Supervisor));
    }
}
