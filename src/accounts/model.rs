//! Roles, organisation kinds, size classes and the acting user.

use crate::ids::{OrgId, UserId};
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
    pub user_id: UserId,
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
    pub org_id: OrgId,
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

    /// The catalogue key (under `role`) of how the actor's role is shown: the role, except that
    /// the trading centre's own staff, who hold the agency staff role for the e-mall and the
    /// centre's projects, are shown as the centre's.
    pub fn role_label(&self) -> &'static str {
        match (self.role, self.org_kind) {
            (Role::AgencyStaff, OrgKind::Centre) => "centre_staff",
            (role, _) => role.as_str(),
        }
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
    fn the_centres_staff_are_shown_as_the_centres_not_as_an_agency() {
        let actor = |role, org_kind| Actor {
            user_id: UserId(1),
            user_public_id: Uuid::nil(),
            username: "u".into(),
            display_name: "u".into(),
            role,
            org_id: OrgId(1),
            org_public_id: Uuid::nil(),
            org_name: "o".into(),
            org_kind,
        };
        assert_eq!(actor(Role::AgencyStaff, OrgKind::Centre).role_label(), "centre_staff");
        assert_eq!(actor(Role::AgencyStaff, OrgKind::Agency).role_label(), "agency_staff");
        assert_eq!(actor(Role::Supervisor, OrgKind::Centre).role_label(), "supervisor");
        let texts = crate::web::i18n::I18n::load().expect("texts");
        for lang in [crate::web::i18n::Lang::Zh, crate::web::i18n::Lang::En] {
            assert!(texts.lookup(lang, "role.centre_staff").is_some(), "{lang:?}");
        }
    }

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
