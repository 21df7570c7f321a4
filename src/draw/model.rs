//! The states of a draw and of each expert drawn.

use super::algorithm::Role;
use crate::column::string_enum;
use serde::{Deserialize, Serialize};

string_enum! {
    /// Where a draw stands.
    DrawState stored in crate::entities::draw::Entity {
        /// The platform has committed to its secret (its SHA-256 is recorded); no request yet.
        Committed = "committed",
        /// The request is recorded with the eligible experts and the exclusions; waiting for the
        /// supervisor's contribution.
        Requested = "requested",
        /// Drawn: the experts are invited and answer; replacements are called.
        Drawn = "drawn",
        /// Every seat is confirmed and the result is published: the secret is revealed and the
        /// committee's names are shown to the tender's managers.
        Published = "published",
    }
}

string_enum! {
    /// How an expert was drawn (the algorithm's [`Role`]).
    PickRole stored in crate::entities::draw_pick::Entity {
        /// A member from the start.
        Member = "member",
        /// A reserve, called when a member of its group leaves.
        Reserve = "reserve",
        /// Drawn further along its group's order after the reserves were used up.
        Replacement = "replacement",
    }
}

impl From<Role> for PickRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Member => PickRole::Member,
            Role::Reserve => PickRole::Reserve,
            Role::Replacement => PickRole::Replacement,
        }
    }
}

impl From<PickRole> for Role {
    fn from(r: PickRole) -> Self {
        match r {
            PickRole::Member => Role::Member,
            PickRole::Reserve => Role::Reserve,
            PickRole::Replacement => Role::Replacement,
        }
    }
}

string_enum! {
    /// Where an expert drawn stands.
    PickStatus stored in crate::entities::draw_pick::Entity {
        /// A reserve not called (yet).
        Standby = "standby",
        /// Invited: must confirm or decline before its deadline.
        Invited = "invited",
        /// Confirmed: holds a seat.
        Confirmed = "confirmed",
        /// Declined: a replacement was called.
        Declined = "declined",
        /// Did not answer in time: a replacement was called.
        TimedOut = "timed_out",
        /// Declared a conflict at the evaluation session and left (回避).
        Withdrawn = "withdrawn",
    }
}

impl PickStatus {
    /// Whether the expert holds or is offered a seat.
    pub fn seated(self) -> bool {
        matches!(self, PickStatus::Invited | PickStatus::Confirmed)
    }
}

string_enum! {
    /// Why a replacement was called.
    CallCause stored in crate::entities::draw_call::Entity {
        /// The expert declined.
        Declined = "declined",
        /// The expert did not answer in time.
        TimedOut = "timed_out",
        /// Declared a conflict at the session.
        Withdrew = "withdrew",
    }
}
