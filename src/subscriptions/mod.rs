//! Subscriptions (订阅): a supplier's standing request to be told of new tender notices by
//! procurement category, region and keywords.
//!
//! A subscription lists categories (货物, 服务, 工程), regions and keywords; an empty list does not
//! narrow it, and a subscription must list something. A published tender matches it when its
//! category is listed (or none is), one of the regions is part of the tender's region
//! (`南京市` covers `南京市江宁区`; a tender without a region matches only subscriptions without
//! regions), and one of the keywords matches the tender's title, description or a lot's name
//! exactly as the e-mall search matches an item ([`crate::mall::search::text_matches`]: a
//! Chinese word as a substring, never its characters apart). When a tender is published, the
//! tenders module asks [`matching`] for the users to tell and raises one notice per user, naming
//! the user's first matching subscription, in the publication's own unit of work: a user with
//! several matching subscriptions hears once.
//!
//! Owns the `subscriptions` table. Subscriptions are a user's own choices, like the notice
//! settings, and are not audited.

mod api;
mod handlers;

use crate::{
    accounts::model::{Actor, OrgKind, Role},
    entities::{lot, subscription, tender},
    error::{AppError, AppResult, FieldError},
    ids::{OrgId, UserId},
    notify::{Notice, NoticeKind},
    tenders::criteria::ProcurementCategory,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use api::api_routes;
pub use handlers::router;

/// The most subscriptions one user keeps.
pub const MAX_PER_USER: u64 = 20;
/// The most regions or keywords of one subscription.
pub const MAX_TERMS: usize = 10;
/// The longest name, region or keyword, in characters.
pub const MAX_TERM_CHARS: usize = 20;

/// What the subscriptions' services use.
#[derive(Clone, Debug)]
pub struct Subscriptions {
    /// The database.
    pub db: DatabaseConnection,
    /// The clock.
    pub clock: crate::clock::SharedClock,
}

/// A new subscription, as the supplier sends it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// Its name (at most 20 characters); the notice names it.
    pub name: String,
    /// Procurement categories: `goods`, `services`, `works`; empty: any.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Regions (`南京市`, `江宁区`); one must be part of the tender's region; empty: any.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Keywords (`办公椅`, `M404`); one must match the tender's texts; empty: any.
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// A subscription as its owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct SubscriptionView {
    /// Public id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Procurement categories.
    pub categories: Vec<ProcurementCategory>,
    /// Regions.
    pub regions: Vec<String>,
    /// Keywords.
    pub keywords: Vec<String>,
    /// When made.
    pub created_at: DateTime<Utc>,
}

/// A subscription's terms, read from its row.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Terms {
    categories: Vec<ProcurementCategory>,
    regions: Vec<String>,
    keywords: Vec<String>,
}

impl Terms {
    fn of(row: &subscription::Model) -> AppResult<Self> {
        let list = |col: &str, v: &str| -> AppResult<Vec<String>> {
            serde_json::from_str(v)
                .map_err(|e| AppError::internal(format!("subscriptions.{col} of row {}: {e}", row.id)))
        };
        let categories = list("categories", &row.categories)?
            .iter()
            .map(|c| {
                ProcurementCategory::parse(c)
                    .ok_or_else(|| AppError::internal(format!("subscriptions.categories of row {}: {c}", row.id)))
            })
            .collect::<AppResult<_>>()?;
        Ok(Terms { categories, regions: list("regions", &row.regions)?, keywords: list("keywords", &row.keywords)? })
    }

    /// Whether a tender of `category` in `region` whose texts are `texts` matches.
    fn matches(&self, category: Option<ProcurementCategory>, region: &str, texts: &[&str]) -> bool {
        let category_ok = self.categories.is_empty() || category.is_some_and(|c| self.categories.contains(&c));
        let region_ok =
            self.regions.is_empty() || self.regions.iter().any(|r| !region.is_empty() && region.contains(r.as_str()));
        let keyword_ok = self.keywords.is_empty()
            || self.keywords.iter().any(|k| texts.iter().any(|t| crate::mall::search::text_matches(k, t)));
        category_ok && region_ok && keyword_ok
    }
}

fn view(row: &subscription::Model) -> AppResult<SubscriptionView> {
    let t = Terms::of(row)?;
    Ok(SubscriptionView {
        id: row.public_id,
        name: row.name.clone(),
        categories: t.categories,
        regions: t.regions,
        keywords: t.keywords,
        created_at: row.created_at,
    })
}

/// Only users of a supplier organisation subscribe.
fn supplier_only(actor: &Actor) -> AppResult<()> {
    if actor.org_kind != OrgKind::Supplier || actor.role != Role::Supplier {
        return Err(AppError::forbidden_because("suppliers_only", "only suppliers subscribe to tender notices"));
    }
    Ok(())
}

/// Trimmed, blank entries dropped, duplicates dropped; a field error if there are too many or
/// one is too long.
fn terms(fields: &mut Vec<FieldError>, name: &'static str, items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        if i.chars().count() > MAX_TERM_CHARS {
            fields.push(FieldError::new(name, "too_long").with_arg("max", MAX_TERM_CHARS));
            return out;
        }
        if !out.iter().any(|o| o == i) {
            out.push(i.to_string());
        }
    }
    if out.len() > MAX_TERMS {
        fields.push(FieldError::new(name, "too_many").with_arg("max", MAX_TERMS));
    }
    out
}

/// The caller's subscriptions, oldest first.
pub async fn list(state: &Subscriptions, actor: &Actor) -> AppResult<Vec<SubscriptionView>> {
    supplier_only(actor)?;
    subscription::Entity::find()
        .filter(subscription::Column::UserId.eq(actor.user_id))
        .order_by_asc(subscription::Column::Id)
        .all(&state.db)
        .await?
        .iter()
        .map(view)
        .collect()
}

/// Makes a subscription for the caller; every wrong field is named.
pub async fn create(state: &Subscriptions, actor: &Actor, input: SubscriptionInput) -> AppResult<SubscriptionView> {
    supplier_only(actor)?;
    let mut fields = Vec::new();
    let name = input.name.trim().to_string();
    crate::error::check_text(&mut fields, "name", &name, 1, MAX_TERM_CHARS);
    let mut categories: Vec<ProcurementCategory> = Vec::new();
    for c in &input.categories {
        match ProcurementCategory::parse(c.trim()) {
            Some(c) if !categories.contains(&c) => categories.push(c),
            Some(_) => {}
            None => {
                fields.push(FieldError::new("categories", "unknown_category"));
                break;
            }
        }
    }
    let regions = terms(&mut fields, "regions", &input.regions);
    let keywords = terms(&mut fields, "keywords", &input.keywords);
    if let Some(k) = keywords.iter().find(|k| !crate::mall::search::text_matches(k, k)) {
        // A keyword of punctuation alone would match nothing.
        fields.push(FieldError::new("keywords", "no_words").with_arg("keyword", k.clone()));
    }
    if fields.is_empty() && categories.is_empty() && regions.is_empty() && keywords.is_empty() {
        fields.push(FieldError::new("keywords", "subscription_empty"));
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let held =
        subscription::Entity::find().filter(subscription::Column::UserId.eq(actor.user_id)).count(&state.db).await?;
    if held >= MAX_PER_USER {
        return Err(AppError::rule("too_many_subscriptions", "a user keeps at most 20 subscriptions")
            .with_arg("max", MAX_PER_USER));
    }
    let json = |v: &Vec<String>| serde_json::to_string(v).map_err(AppError::internal);
    let row = subscription::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        user_id: Set(actor.user_id),
        org_id: Set(actor.org_id),
        name: Set(name),
        categories: Set(json(&categories.iter().map(|c| c.as_str().to_string()).collect())?),
        regions: Set(json(&regions)?),
        keywords: Set(json(&keywords)?),
        created_at: Set(state.clock.now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    view(&row)
}

/// Deletes one of the caller's subscriptions; another user's is not found.
pub async fn delete(state: &Subscriptions, actor: &Actor, id: Uuid) -> AppResult<()> {
    supplier_only(actor)?;
    let row = subscription::Entity::find()
        .filter(subscription::Column::PublicId.eq(id))
        .filter(subscription::Column::UserId.eq(actor.user_id))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    subscription::Entity::delete_by_id(row.id).exec(&state.db).await?;
    Ok(())
}

/// The users to tell of the published tender `t` of `category`: each active supplier user with
/// a matching subscription, once, with the name of its first matching one.
pub async fn matching<C: ConnectionTrait>(
    db: &C,
    t: &tender::Model,
    category: Option<ProcurementCategory>,
) -> AppResult<Vec<(OrgId, UserId, String)>> {
    let lots = lot::Entity::find().filter(lot::Column::TenderId.eq(t.id)).all(db).await?;
    let mut texts: Vec<&str> = vec![t.title.as_str(), t.description.as_str()];
    texts.extend(lots.iter().map(|l| l.name.as_str()));
    let active: std::collections::HashSet<UserId> = crate::entities::user::Entity::find()
        .filter(crate::entities::user::Column::Status.eq(crate::accounts::model::Status::Active))
        .filter(crate::entities::user::Column::Role.eq(Role::Supplier))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for row in subscription::Entity::find().order_by_asc(subscription::Column::Id).all(db).await? {
        if !active.contains(&row.user_id) || seen.contains(&row.user_id) {
            continue;
        }
        if Terms::of(&row)?.matches(category, &t.region, &texts) {
            seen.insert(row.user_id);
            out.push((row.org_id, row.user_id, row.name));
        }
    }
    Ok(out)
}

/// The notice that the published tender `t` matches the subscription named `subscription`.
pub fn match_notice(t: &tender::Model, subscription: &str) -> Notice {
    Notice::new(NoticeKind::TenderMatch)
        .arg("title", &t.title)
        .arg("code", &t.code)
        .arg_time("deadline", t.bid_deadline)
        .arg("subscription", subscription)
        .about_tender(t.id)
        .link(format!("/tenders/{}", t.public_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(c: &[ProcurementCategory], r: &[&str], k: &[&str]) -> Terms {
        Terms {
            categories: c.to_vec(),
            regions: r.iter().map(|s| s.to_string()).collect(),
            keywords: k.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_subscription_matches_by_category_region_and_keyword_together() {
        use ProcurementCategory::*;
        let texts = ["南京市某中学人体工学办公椅采购", "", "办公椅"];
        let region = "南京市江宁区";
        assert!(terms(&[Goods], &["江宁区"], &["办公椅"]).matches(Some(Goods), region, &texts));
        assert!(terms(&[], &["南京市"], &[]).matches(Some(Services), region, &texts), "a region covers its parts");
        assert!(!terms(&[Services], &[], &[]).matches(Some(Goods), region, &texts), "another category");
        assert!(!terms(&[], &["鼓楼区"], &[]).matches(Some(Goods), region, &texts), "another region");
        assert!(!terms(&[], &["江宁区"], &[]).matches(Some(Goods), "", &texts), "a tender without a region");
        assert!(!terms(&[], &[], &["会议椅"]).matches(Some(Goods), region, &texts), "a word, not its characters");
        assert!(terms(&[], &[], &["会议桌", "办公椅"]).matches(Some(Goods), region, &texts), "any keyword");
        assert!(!terms(&[Goods], &[], &[]).matches(None, region, &texts), "a tender without criteria");
    }
}
