//! Typed ids of the main tables.
//!
//! Each main table's internal key is its own type, so that a function taking a tender and an
//! organisation cannot be handed them the other way round:
//!
//! ```
//! use tenderhall::ids::{OrgId, TenderId};
//! fn obtained(tender: TenderId, org: OrgId) -> (TenderId, OrgId) { (tender, org) }
//! let (tender, org) = (TenderId(1), OrgId(2));
//! assert_eq!(obtained(tender, org), (TenderId(1), OrgId(2)));
//! ```
//!
//! while the same call with the two swapped is refused by the compiler:
//!
//! ```compile_fail,E0308
//! use tenderhall::ids::{OrgId, TenderId};
//! fn obtained(tender: TenderId, org: OrgId) -> (TenderId, OrgId) { (tender, org) }
//! let (tender, org) = (TenderId(1), OrgId(2));
//! obtained(org, tender);
//! ```
//!
//! The ids are stored as `BIGINT` (SeaORM value types); on the wire a record is named by its
//! public UUID, never by these numbers, which stay inside the server.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_types {
    ($($(#[$meta:meta])* $name:ident;)*) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            sea_orm::DeriveValueType,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_types! {
    /// A row of `tenders`.
    TenderId;
    /// A row of `lots`.
    LotId;
    /// A row of `organisations`.
    OrgId;
    /// A row of `users`.
    UserId;
    /// A row of `bids`.
    BidId;
    /// A row of `openings`.
    OpeningId;
    /// A row of `mall_orders`.
    OrderId;
    /// A row of `mall_quotations`.
    QuotationId;
    /// A row of `mall_agreements`.
    AgreementId;
    /// A row of `mall_items`.
    ItemId;
    /// A row of `sites`.
    SiteId;
    /// A row of `subscriptions`.
    SubscriptionId;
    /// A row of `experts`.
    ExpertId;
    /// A row of `draws`.
    DrawId;
    /// A row of `evaluations`.
    EvaluationId;
    /// A row of `evaluation_members`.
    MemberId;
    /// A row of `award_lots`.
    AwardLotId;
    /// A row of `challenges`.
    ChallengeId;
    /// A row of `remote_draws`.
    RemoteDrawId;
}
