//! Who may do what with a tender. Every tender page and endpoint asks here; nowhere else decides.

use super::model::{Permissions, TenderState};
use crate::{
    accounts::model::{Actor, Role},
    entities::tender,
};
use chrono::{DateTime, Utc};

/// The tender's state, read from its row.
pub fn state_of(t: &tender::Model) -> TenderState {
    t.state
}

/// Whether the actor runs this tender: staff of its procuring unit or of its agency.
pub fn is_manager(actor: &Actor, t: &tender::Model) -> bool {
    matches!(actor.role, Role::AgencyStaff | Role::ProcuringStaff)
        && (actor.org_id == t.procuring_org_id || Some(actor.org_id) == t.agency_org_id)
}

/// Whether the actor oversees every tender (read-only).
pub fn is_overseer(actor: &Actor) -> bool {
    matches!(actor.role, Role::Supervisor | Role::PlatformAdmin)
}

/// Whether the tender can be seen at all: published ones by anyone, drafts by their managers
/// and overseers.
pub fn can_view(actor: Option<&Actor>, t: &tender::Model) -> bool {
    state_of(t).is_public() || actor.is_some_and(|a| is_manager(a, t) || is_overseer(a))
}

/// What the actor may do now.
pub fn permissions(actor: Option<&Actor>, t: &tender::Model, obtained: bool, now: DateTime<Utc>) -> Permissions {
    let state = state_of(t);
    let Some(a) = actor else { return Permissions::default() };
    let manage = is_manager(a, t);
    let supplier = a.role == Role::Supplier;
    let open = state == TenderState::Published && now < t.bid_deadline;
    Permissions {
        manage,
        obtain: supplier && open && !obtained && in_obtain_period(t, now),
        obtained,
        download: manage || is_overseer(a) || (supplier && obtained),
        ask: supplier && obtained && open && now < t.question_cutoff,
        clarify: manage && open,
        publish: manage && state == TenderState::Draft,
        cancel: manage && state.can_become(TenderState::Cancelled),
        edit: manage && state == TenderState::Draft,
        bid: supplier && obtained && open,
        my_bids: supplier && obtained,
        hall: now >= t.bid_deadline
            && matches!(
                state,
                TenderState::Published
                    | TenderState::ClosedForBidding
                    | TenderState::Opening
                    | TenderState::Evaluating
                    | TenderState::Failed
            )
            && (manage || is_overseer(a) || (supplier && obtained)),
    }
}

/// Whether `now` is within the tender's period for obtaining the documents (a tender drafted
/// before the period existed has none, and its documents are obtained while bidding is open).
pub fn in_obtain_period(t: &tender::Model, now: DateTime<Utc>) -> bool {
    t.documents_from.is_none_or(|from| from <= now) && t.documents_until.is_none_or(|until| now < until)
}

/// Whether the actor may see who asked a question.
pub fn sees_askers(actor: &Actor) -> bool {
    is_overseer(actor)
}
