//! What the random draw reads: the pool's experts with everything the avoidance rules need.
//!
//! [`candidates`] lists the active experts that meet a request (a specialty, optionally some
//! sites, a day on which they must be available), each as a [`PoolExpert`] carrying its
//! specialties, site, employments with dates, declared conflicts and unavailable days; the
//! methods of [`PoolExpert`] answer the avoidance questions (employed by an organisation within
//! a period, a conflict declared with it, unavailable on a day). Reading changes nothing.

use super::{model::ExpertStatus, specialties};
use crate::{
    entities::{expert, expert_conflict, expert_employment, expert_specialty, expert_unavailable},
    error::AppResult,
    ids::{ExpertId, SiteId, UserId},
};
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Query};
use std::collections::HashMap;
use uuid::Uuid;

/// An expert of the pool as the draw sees it. The identity number is not part of it.
#[derive(Debug, Clone)]
pub struct PoolExpert {
    /// Internal id.
    pub id: ExpertId,
    /// Public id.
    pub public_id: Uuid,
    /// Name.
    pub name: String,
    /// Title (职称).
    pub title: String,
    /// Site.
    pub site_id: SiteId,
    /// Status.
    pub status: ExpertStatus,
    /// The login bound to the record, if any (notices and the expert's page go to it).
    pub user_id: Option<UserId>,
    /// Specialty codes.
    pub specialties: Vec<String>,
    /// Employments (employer, credit code, from, until or current).
    pub employments: Vec<expert_employment::Model>,
    /// Declared conflicts (credit code, name).
    pub conflicts: Vec<expert_conflict::Model>,
    /// Days the expert cannot evaluate.
    pub unavailable: Vec<NaiveDate>,
}

impl PoolExpert {
    /// Whether the expert meets a request for `code` ([`specialties::covers`]).
    pub fn covers(&self, code: &str) -> bool {
        self.specialties.iter().any(|s| specialties::covers(code, s))
    }

    /// Whether the expert was employed by the organisation of `credit_code` on any day from
    /// `since` on (a current employment counts; an employment without a credit code matches
    /// nothing).
    pub fn employed_by_since(&self, credit_code: &str, since: NaiveDate) -> bool {
        self.employments
            .iter()
            .any(|e| e.credit_code.as_deref() == Some(credit_code) && e.until_date.is_none_or(|until| until >= since))
    }

    /// Whether the expert declared a conflict with the organisation of `credit_code`.
    pub fn declared_conflict(&self, credit_code: &str) -> bool {
        self.conflicts.iter().any(|c| c.credit_code == credit_code)
    }

    /// Whether the expert noted `day` as unavailable.
    pub fn unavailable_on(&self, day: NaiveDate) -> bool {
        self.unavailable.contains(&day)
    }
}

/// What the draw asks for.
#[derive(Debug, Clone, Default)]
pub struct PoolQuery {
    /// Specialty codes: an expert meets the request when it covers any of them (none: all).
    pub specialties: Vec<String>,
    /// Only experts of these sites (none: every site).
    pub sites: Option<Vec<SiteId>>,
    /// Only experts not unavailable on this day.
    pub available_on: Option<NaiveDate>,
}

/// The active experts meeting `q`, by id, with their employments, conflicts and days.
pub async fn candidates<C: ConnectionTrait>(db: &C, q: &PoolQuery) -> AppResult<Vec<PoolExpert>> {
    select(db, q, true).await
}

/// Every expert meeting `q`, suspended ones included, by id: the draw records why each one it
/// cannot take is excluded.
pub async fn everyone_for<C: ConnectionTrait>(db: &C, q: &PoolQuery) -> AppResult<Vec<PoolExpert>> {
    select(db, q, false).await
}

async fn select<C: ConnectionTrait>(db: &C, q: &PoolQuery, only_active: bool) -> AppResult<Vec<PoolExpert>> {
    let mut query = expert::Entity::find();
    if only_active {
        query = query.filter(expert::Column::Status.eq(ExpertStatus::Active));
    }
    if let Some(sites) = &q.sites {
        query = query.filter(expert::Column::SiteId.is_in(sites.clone()));
    }
    let codes: Vec<&String> = q.specialties.iter().filter(|c| specialties::well_formed(c)).collect();
    if !q.specialties.is_empty() {
        let mut any = sea_orm::Condition::any();
        for c in &codes {
            any = any.add(expert_specialty::Column::Code.like(format!("{c}%")));
        }
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let sub = Query::select()
            .column(expert_specialty::Column::ExpertId)
            .from(expert_specialty::Entity)
            .cond_where(any)
            .to_owned();
        query = query.filter(expert::Column::Id.in_subquery(sub));
    }
    if let Some(day) = q.available_on {
        let sub = Query::select()
            .column(expert_unavailable::Column::ExpertId)
            .from(expert_unavailable::Entity)
            .and_where(expert_unavailable::Column::Day.eq(day))
            .to_owned();
        query = query.filter(expert::Column::Id.not_in_subquery(sub));
    }
    let rows = query.order_by_asc(expert::Column::Id).all(db).await?;
    load(db, rows).await
}

/// One expert of the pool as the draw sees it, whatever its status.
pub async fn get<C: ConnectionTrait>(db: &C, id: ExpertId) -> AppResult<Option<PoolExpert>> {
    let rows: Vec<expert::Model> = expert::Entity::find_by_id(id).all(db).await?;
    Ok(load(db, rows).await?.pop())
}

async fn load<C: ConnectionTrait>(db: &C, rows: Vec<expert::Model>) -> AppResult<Vec<PoolExpert>> {
    let mut specs: HashMap<ExpertId, Vec<String>> = HashMap::new();
    let mut emps: HashMap<ExpertId, Vec<expert_employment::Model>> = HashMap::new();
    let mut confs: HashMap<ExpertId, Vec<expert_conflict::Model>> = HashMap::new();
    let mut days: HashMap<ExpertId, Vec<NaiveDate>> = HashMap::new();
    let ids: Vec<ExpertId> = rows.iter().map(|e| e.id).collect();
    for chunk in ids.chunks(500) {
        let chunk = chunk.to_vec();
        for s in expert_specialty::Entity::find()
            .filter(expert_specialty::Column::ExpertId.is_in(chunk.clone()))
            .order_by_asc(expert_specialty::Column::Code)
            .all(db)
            .await?
        {
            specs.entry(s.expert_id).or_default().push(s.code);
        }
        for e in expert_employment::Entity::find()
            .filter(expert_employment::Column::ExpertId.is_in(chunk.clone()))
            .order_by_desc(expert_employment::Column::FromDate)
            .all(db)
            .await?
        {
            emps.entry(e.expert_id).or_default().push(e);
        }
        for c in expert_conflict::Entity::find()
            .filter(expert_conflict::Column::ExpertId.is_in(chunk.clone()))
            .all(db)
            .await?
        {
            confs.entry(c.expert_id).or_default().push(c);
        }
        for d in expert_unavailable::Entity::find()
            .filter(expert_unavailable::Column::ExpertId.is_in(chunk))
            .order_by_asc(expert_unavailable::Column::Day)
            .all(db)
            .await?
        {
            days.entry(d.expert_id).or_default().push(d.day);
        }
    }
    Ok(rows
        .into_iter()
        .map(|e| PoolExpert {
            specialties: specs.remove(&e.id).unwrap_or_default(),
            employments: emps.remove(&e.id).unwrap_or_default(),
            conflicts: confs.remove(&e.id).unwrap_or_default(),
            unavailable: days.remove(&e.id).unwrap_or_default(),
            id: e.id,
            public_id: e.public_id,
            name: e.name,
            title: e.title,
            site_id: e.site_id,
            status: e.status,
            user_id: e.user_id,
        })
        .collect())
}
