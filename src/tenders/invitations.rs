//! Invited tenders (邀请招标): the suppliers a tender's managers invite on its draft.
//!
//! An invited tender is published only with at least [`MIN_INVITED`] invited suppliers; at its
//! publication each is sent the invitation to bid (投标邀请书, the `bid_invitation` notice), in
//! the publication's own unit of work, and only they may obtain its documents (`invited_only`).
//! A tender of another method may invite suppliers too: they are told, and anyone may still
//! obtain the documents.

use super::{Tenders, model::ProcurementMethod};
use crate::{
    accounts::model::{Actor, OrgKind, Status},
    audit::{Action, AuditEntry},
    entities::{organisation, tender, tender_invitation},
    error::{AppError, AppResult, FieldError},
    ids::{OrgId, TenderId},
    notify::{Notice, NoticeKind},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The least number of suppliers an invited tender invites.
pub const MIN_INVITED: usize = 3;
/// The most suppliers one tender invites.
pub const MAX_INVITED: usize = 100;

/// The suppliers to invite, as the managers send them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationsInput {
    /// The public ids of the supplier organisations.
    pub suppliers: Vec<Uuid>,
}

/// An invited supplier.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Invited {
    /// The organisation's public id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}

/// The organisations invited to `tender_id`.
pub async fn invited<C: ConnectionTrait>(db: &C, tender_id: TenderId) -> AppResult<Vec<OrgId>> {
    Ok(tender_invitation::Entity::find()
        .filter(tender_invitation::Column::TenderId.eq(tender_id))
        .order_by_asc(tender_invitation::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.org_id)
        .collect())
}

/// The invited suppliers of `tender_id` with their names.
pub async fn list<C: ConnectionTrait>(db: &C, tender_id: TenderId) -> AppResult<Vec<Invited>> {
    let ids = invited(db, tender_id).await?;
    let orgs = organisation::Entity::find().filter(organisation::Column::Id.is_in(ids.clone())).all(db).await?;
    Ok(ids
        .iter()
        .filter_map(|id| orgs.iter().find(|o| o.id == *id))
        .map(|o| Invited { id: o.public_id, name: o.name.clone() })
        .collect())
}

/// The suppliers a manager may invite: every active supplier organisation, by name (the
/// first [`MAX_INVITED`] × 5).
pub async fn choices<C: ConnectionTrait>(db: &C) -> AppResult<Vec<Invited>> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrgKind::Supplier))
        .filter(organisation::Column::Status.eq(Status::Active))
        .order_by_asc(organisation::Column::Name)
        .limit((MAX_INVITED * 5) as u64)
        .all(db)
        .await?
        .into_iter()
        .map(|o| Invited { id: o.public_id, name: o.name })
        .collect())
}

/// Sets the suppliers invited to a draft: its managers only; each must be an active supplier.
pub async fn set(state: &Tenders, actor: &Actor, id: Uuid, input: InvitationsInput) -> AppResult<Vec<Invited>> {
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let t = super::service::load_managed(&txn, actor, id).await?;
    super::service::require_state(&t, &[super::model::TenderState::Draft])?;
    let mut wanted: Vec<Uuid> = Vec::new();
    for s in input.suppliers {
        if !wanted.contains(&s) {
            wanted.push(s);
        }
    }
    if wanted.len() > MAX_INVITED {
        return Err(AppError::validation(vec![FieldError::new("suppliers", "too_many").with_arg("max", MAX_INVITED)]));
    }
    let orgs =
        organisation::Entity::find().filter(organisation::Column::PublicId.is_in(wanted.clone())).all(&txn).await?;
    let mut ids = Vec::new();
    for w in &wanted {
        match orgs.iter().find(|o| o.public_id == *w) {
            Some(o) if o.kind == OrgKind::Supplier && o.status == Status::Active => ids.push(o.id),
            _ => return Err(AppError::invalid_field("suppliers", "unknown_supplier")),
        }
    }
    tender_invitation::Entity::delete_many().filter(tender_invitation::Column::TenderId.eq(t.id)).exec(&txn).await?;
    for org in &ids {
        tender_invitation::ActiveModel {
            tender_id: Set(t.id),
            org_id: Set(*org),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let details = serde_json::json!({"suppliers": wanted});
    txn.record(&actor.audit(), AuditEntry::new(Action::TenderInvitations, t.public_id, details)).await?;
    txn.commit().await?;
    list(&state.db, t.id).await
}

/// Whether `t` may be published as far as its invitations go: an invited tender needs
/// [`MIN_INVITED`] of them (`too_few_invited`).
pub async fn check_publish<C: ConnectionTrait>(db: &C, t: &tender::Model) -> AppResult<Vec<OrgId>> {
    let orgs = invited(db, t.id).await?;
    if t.procurement_method == ProcurementMethod::InvitedTender && orgs.len() < MIN_INVITED {
        return Err(AppError::rule("too_few_invited", "an invited tender invites at least 3 suppliers")
            .with_arg("min", MIN_INVITED)
            .with_arg("invited", orgs.len()));
    }
    Ok(orgs)
}

/// Whether `org` may obtain the documents of `t`: anyone for an open tender, only the invited
/// for an invited one (`invited_only`).
pub async fn check_obtain<C: ConnectionTrait>(db: &C, t: &tender::Model, org: OrgId) -> AppResult<()> {
    if t.procurement_method == ProcurementMethod::InvitedTender && !invited(db, t.id).await?.contains(&org) {
        return Err(AppError::forbidden_because(
            "invited_only",
            "only the invited suppliers take part in an invited tender",
        ));
    }
    Ok(())
}

/// The invitation to bid on `t`.
pub(crate) fn invitation_notice(t: &tender::Model) -> Notice {
    Notice::new(NoticeKind::BidInvitation)
        .arg("title", &t.title)
        .arg("code", &t.code)
        .arg_time("deadline", t.bid_deadline)
        .about_tender(t.id)
        .link(format!("/tenders/{}", t.public_id))
}
