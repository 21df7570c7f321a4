//! Site rules: creating and changing sites, binding the centre's users to them, and the reads
//! the other modules use (the expert pool's site of an expert, the draw's seats).

use super::{
    Sites,
    policy::{may_be_member, require_manage, require_read},
};
use crate::{
    accounts::model::{Actor, Role},
    audit::{Action, AuditEntry},
    entities::{organisation, site, site_member, user},
    error::{AppError, AppResult, FieldError, check_text},
    ids::{SiteId, UserId},
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// The most evaluation seats a site may have.
pub const MAX_SEATS: i64 = 10_000;

/// A site as created or changed.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SiteInput {
    /// Name (required, at most 100 characters, unique).
    pub name: String,
    /// City (required, at most 50 characters).
    pub city: String,
    /// Number of evaluation seats (工位), 1 to 10,000.
    pub seats: i64,
}

/// A site in the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteSummary {
    /// Public id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// City.
    pub city: String,
    /// Evaluation seats.
    pub seats: i32,
    /// How many centre users are bound to it.
    pub members: u64,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A centre user bound to a site.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    /// Public id of the user.
    pub user_id: Uuid,
    /// Login name.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// `agency_staff` (the centre's staff) or `supervisor`.
    pub role: Role,
}

/// A site with its members.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteView {
    /// The site.
    #[serde(flatten)]
    pub site: SiteSummary,
    /// Its staff and supervisors, by user name.
    pub member_list: Vec<Member>,
}

/// A user to bind to a site, by login name.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct MemberInput {
    /// The login name of a centre staff member or supervisor.
    pub username: String,
}

fn check(input: &SiteInput) -> AppResult<(String, String, i32)> {
    let mut fields = Vec::new();
    check_text(&mut fields, "name", &input.name, 1, 100);
    check_text(&mut fields, "city", &input.city, 1, 50);
    if !(1..=MAX_SEATS).contains(&input.seats) {
        fields.push(FieldError::new("seats", "out_of_range").with_arg("min", 1).with_arg("max", MAX_SEATS));
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok((input.name.trim().to_string(), input.city.trim().to_string(), input.seats as i32))
}

fn name_taken() -> AppError {
    AppError::conflict("site_name_taken", "a site of this name exists").with_field("name", "taken")
}

/// The site with this public id.
pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<site::Model> {
    site::Entity::find().filter(site::Column::PublicId.eq(id)).one(db).await?.ok_or_else(AppError::not_found)
}

/// The site of a name (exact, trimmed), if there is one: how the pool's import names a site.
pub async fn find_by_name<C: ConnectionTrait>(db: &C, name: &str) -> AppResult<Option<site::Model>> {
    Ok(site::Entity::find().filter(site::Column::Name.eq(name.trim())).one(db).await?)
}

/// Every site, by name.
pub async fn all<C: ConnectionTrait>(db: &C) -> AppResult<Vec<site::Model>> {
    Ok(site::Entity::find().order_by_asc(site::Column::Name).all(db).await?)
}

/// Sites by internal id.
pub async fn by_id<C: ConnectionTrait>(db: &C) -> AppResult<HashMap<SiteId, site::Model>> {
    Ok(all(db).await?.into_iter().map(|s| (s.id, s)).collect())
}

/// The site a centre user is bound to, if any (the host site of a staff member's evaluation).
pub async fn site_of_user<C: ConnectionTrait>(db: &C, user: UserId) -> AppResult<Option<site::Model>> {
    let Some(m) = site_member::Entity::find().filter(site_member::Column::UserId.eq(user)).one(db).await? else {
        return Ok(None);
    };
    Ok(site::Entity::find_by_id(m.site_id).one(db).await?)
}

async fn summary<C: ConnectionTrait>(db: &C, s: site::Model) -> AppResult<SiteSummary> {
    let members = site_member::Entity::find().filter(site_member::Column::SiteId.eq(s.id)).count(db).await?;
    Ok(SiteSummary { id: s.public_id, name: s.name, city: s.city, seats: s.seats, members, updated_at: s.updated_at })
}

/// The sites (the administrator, the centre's staff and supervisors; anyone else 404).
pub async fn list<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Vec<SiteSummary>> {
    require_read(actor)?;
    let mut out = Vec::new();
    for s in all(db).await? {
        out.push(summary(db, s).await?);
    }
    Ok(out)
}

/// The members of a site.
pub async fn members<C: ConnectionTrait>(db: &C, site: SiteId) -> AppResult<Vec<Member>> {
    let ids: Vec<UserId> = site_member::Entity::find()
        .filter(site_member::Column::SiteId.eq(site))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let users =
        user::Entity::find().filter(user::Column::Id.is_in(ids)).order_by_asc(user::Column::Username).all(db).await?;
    Ok(users
        .into_iter()
        .map(|u| Member { user_id: u.public_id, username: u.username, display_name: u.display_name, role: u.role })
        .collect())
}

/// One site with its members.
pub async fn view<C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<SiteView> {
    require_read(actor)?;
    let s = find(db, id).await?;
    let member_list = members(db, s.id).await?;
    Ok(SiteView { site: summary(db, s).await?, member_list })
}

/// Creates a site (the administrator). Refusals: field errors (`name`, `city` `required` /
/// `too_long`, `seats` `out_of_range`), 409 `site_name_taken`.
pub async fn create(state: &Sites, actor: &Actor, input: &SiteInput) -> AppResult<Uuid> {
    require_manage(actor)?;
    let (name, city, seats) = check(input)?;
    let mut uow = state.writer.begin().await?;
    if find_by_name(&uow, &name).await?.is_some() {
        return Err(name_taken());
    }
    let now = uow.now();
    let s = site::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        name: Set(name.clone()),
        city: Set(city.clone()),
        seats: Set(seats),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&uow)
    .await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(Action::SiteCreate, s.public_id, json!({"name": name, "city": city, "seats": seats})),
    )
    .await?;
    uow.commit().await?;
    Ok(s.public_id)
}

/// Changes a site's name, city and seats (the administrator); the same refusals as [`create`].
pub async fn update(state: &Sites, actor: &Actor, id: Uuid, input: &SiteInput) -> AppResult<()> {
    require_manage(actor)?;
    let mut uow = state.writer.begin().await?;
    let s = find(&uow, id).await?;
    let (name, city, seats) = check(input)?;
    if let Some(other) = find_by_name(&uow, &name).await?
        && other.id != s.id
    {
        return Err(name_taken());
    }
    site::ActiveModel {
        id: Set(s.id),
        name: Set(name.clone()),
        city: Set(city.clone()),
        seats: Set(seats),
        updated_at: Set(uow.now()),
        ..Default::default()
    }
    .update(&uow)
    .await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::SiteUpdate,
            s.public_id,
            json!({"name": name, "city": city, "seats": seats, "before": {"name": s.name, "city": s.city, "seats": s.seats}}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(())
}

/// Binds a centre staff member or supervisor to a site (the administrator); a user bound to
/// another site moves to this one. Refusals: `username` `required` / `unknown` /
/// `not_centre_staff`, 409 `already_member`.
pub async fn add_member(state: &Sites, actor: &Actor, id: Uuid, input: &MemberInput) -> AppResult<()> {
    require_manage(actor)?;
    let mut uow = state.writer.begin().await?;
    let s = find(&uow, id).await?;
    let username = input.username.trim();
    if username.is_empty() {
        return Err(AppError::invalid_field("username", "required"));
    }
    let Some(u) = user::Entity::find().filter(user::Column::Username.eq(username)).one(&uow).await? else {
        return Err(AppError::invalid_field("username", "unknown"));
    };
    let kind = organisation::Entity::find_by_id(u.org_id).one(&uow).await?.map(|o| o.kind);
    if !kind.is_some_and(|k| may_be_member(k, u.role)) {
        return Err(AppError::invalid_field("username", "not_centre_staff"));
    }
    let before = site_member::Entity::find().filter(site_member::Column::UserId.eq(u.id)).one(&uow).await?;
    let moved_from = match &before {
        Some(m) if m.site_id == s.id => {
            return Err(AppError::conflict("already_member", "this user is already bound to this site"));
        }
        Some(m) => {
            let from = site::Entity::find_by_id(m.site_id).one(&uow).await?.map(|f| f.public_id);
            site_member::Entity::delete_by_id(m.id).exec(&uow).await?;
            from
        }
        None => None,
    };
    site_member::ActiveModel {
        site_id: Set(s.id),
        user_id: Set(u.id),
        created_at: Set(uow.now()),
        ..Default::default()
    }
    .insert(&uow)
    .await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::SiteMemberAdd,
            s.public_id,
            json!({"user": u.public_id, "username": u.username, "role": u.role, "moved_from": moved_from}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(())
}

/// Unbinds a user from a site (the administrator); 404 if the user is not bound to it.
pub async fn remove_member(state: &Sites, actor: &Actor, id: Uuid, user_id: Uuid) -> AppResult<()> {
    require_manage(actor)?;
    let mut uow = state.writer.begin().await?;
    let s = find(&uow, id).await?;
    let u = user::Entity::find()
        .filter(user::Column::PublicId.eq(user_id))
        .one(&uow)
        .await?
        .ok_or_else(AppError::not_found)?;
    let m = site_member::Entity::find()
        .filter(site_member::Column::UserId.eq(u.id))
        .filter(site_member::Column::SiteId.eq(s.id))
        .one(&uow)
        .await?
        .ok_or_else(AppError::not_found)?;
    site_member::Entity::delete_by_id(m.id).exec(&uow).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(Action::SiteMemberRemove, s.public_id, json!({"user": u.public_id, "username": u.username})),
    )
    .await?;
    uow.commit().await?;
    Ok(())
}

/// The centre's staff and supervisors who may be bound to a site, for the page's choice.
pub async fn member_choices<C: ConnectionTrait>(db: &C) -> AppResult<Vec<(String, String, Role)>> {
    let centres: Vec<_> = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(crate::accounts::model::OrgKind::Centre))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let users = user::Entity::find()
        .filter(user::Column::OrgId.is_in(centres))
        .filter(user::Column::Role.is_in([Role::AgencyStaff, Role::Supervisor]))
        .order_by_asc(user::Column::Username)
        .all(db)
        .await?;
    Ok(users.into_iter().map(|u| (u.username, u.display_name, u.role)).collect())
}
