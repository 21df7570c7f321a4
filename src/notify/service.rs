//! Storing and reading notices.

use crate::{entities::notification, error::AppResult};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use serde::Serialize;
use uuid::Uuid;

/// A notice to send.
#[derive(Debug, Clone)]
pub struct Notice {
    /// Kind (`clarification_issued`, `tender_cancelled`, `question_received`, ...).
    pub kind: &'static str,
    /// The tender concerned.
    pub tender_id: Option<i64>,
    /// Text in Chinese.
    pub message_zh: String,
    /// Text in English.
    pub message_en: String,
    /// Where to look.
    pub link: Option<String>,
}

/// Stores `notice` for each organisation in `orgs`, in the caller's transaction.
pub async fn notify<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, orgs: &[i64], notice: Notice) -> AppResult<()> {
    let mut seen = std::collections::HashSet::new();
    for org in orgs.iter().filter(|o| seen.insert(**o)) {
        notification::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            org_id: Set(*org),
            kind: Set(notice.kind.into()),
            tender_id: Set(notice.tender_id),
            message_zh: Set(notice.message_zh.clone()),
            message_en: Set(notice.message_en.clone()),
            link: Set(notice.link.clone()),
            created_at: Set(now),
            read_at: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Unread notices of an organisation.
pub async fn unread_count(db: &DatabaseConnection, org_id: i64) -> AppResult<u64> {
    Ok(notification::Entity::find()
        .filter(notification::Column::OrgId.eq(org_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// A notice as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    /// Public id.
    pub id: Uuid,
    /// Kind.
    pub kind: String,
    /// Text in Chinese.
    pub message_zh: String,
    /// Text in English.
    pub message_en: String,
    /// Where to look.
    pub link: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Whether read.
    pub read: bool,
}

/// The latest notices of an organisation.
pub async fn list(db: &DatabaseConnection, org_id: i64) -> AppResult<Vec<NoticeView>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::OrgId.eq(org_id))
        .order_by_desc(notification::Column::Id)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(|n| NoticeView {
            id: n.public_id,
            kind: n.kind,
            message_zh: n.message_zh,
            message_en: n.message_en,
            link: n.link,
            created_at: n.created_at,
            read: n.read_at.is_some(),
        })
        .collect())
}

/// Marks all notices of an organisation read. Reading is not audited: it changes nothing of
/// substance.
pub async fn mark_all_read(db: &DatabaseConnection, org_id: i64, now: DateTime<Utc>) -> AppResult<()> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::OrgId.eq(org_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
