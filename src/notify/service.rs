//! Storing and reading notices.

pub use super::model::Notice;
use super::{
    model::{Args, NoticeKind},
    render::render,
};
use crate::{
    entities::notification,
    error::{AppError, AppResult},
    ids::{OrgId, UserId},
    web::i18n::{I18n, Lang},
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use serde::Serialize;
use uuid::Uuid;

/// Stores `notice` for each organisation in `orgs`, in the caller's transaction, with its
/// deliveries ([`crate::deliver::enqueue`]); returns the users it reaches.
pub async fn notify<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    orgs: &[OrgId],
    notice: Notice,
) -> AppResult<Vec<UserId>> {
    let mut seen = std::collections::HashSet::new();
    let to: Vec<(OrgId, Option<UserId>)> = orgs.iter().filter(|o| seen.insert(**o)).map(|o| (*o, None)).collect();
    store(db, now, &to, notice).await
}

/// Stores `notice` for each user in `users` (each with its organisation) alone: the other users
/// of the organisation do not see it. Returns the users it reaches.
pub async fn notify_users<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    users: &[(OrgId, UserId)],
    notice: Notice,
) -> AppResult<Vec<UserId>> {
    let mut seen = std::collections::HashSet::new();
    let to: Vec<(OrgId, Option<UserId>)> =
        users.iter().filter(|u| seen.insert(u.1)).map(|(o, u)| (*o, Some(*u))).collect();
    store(db, now, &to, notice).await
}

async fn store<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    to: &[(OrgId, Option<UserId>)],
    notice: Notice,
) -> AppResult<Vec<UserId>> {
    let args = serde_json::to_string(&notice.args).map_err(AppError::internal)?;
    let mut reached = Vec::new();
    for (org, user) in to {
        let row = notification::ActiveModel {
            user_id: Set(*user),
            public_id: Set(Uuid::new_v4()),
            org_id: Set(*org),
            kind: Set(notice.kind),
            args: Set(args.clone()),
            tender_id: Set(notice.tender_id),
            link: Set(notice.link.clone()),
            created_at: Set(now),
            read_at: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
        // The active users it reaches: the one user, or everyone of the organisation.
        let mut q = crate::entities::user::Entity::find()
            .filter(crate::entities::user::Column::OrgId.eq(*org))
            .filter(crate::entities::user::Column::Status.eq(crate::accounts::model::Status::Active));
        if let Some(u) = user {
            q = q.filter(crate::entities::user::Column::Id.eq(*u));
        }
        let users = q.all(db).await?;
        // Its e-mails and SMS, in the same transaction: they exist exactly when the notice does.
        crate::deliver::enqueue(db, now, &row, &users).await?;
        reached.extend(users.iter().map(|u| u.id));
    }
    Ok(reached)
}

/// The text of a stored notice in `lang` (for the e-mail that carries it).
pub fn render_stored(i18n: &I18n, lang: Lang, n: &notification::Model) -> AppResult<String> {
    let v = view(i18n, lang, n.clone())?;
    Ok(v.text)
}

/// The notices a user reads: its organisation's for everyone, and its own.
fn readers(org_id: OrgId, user_id: UserId) -> sea_orm::Condition {
    sea_orm::Condition::all().add(notification::Column::OrgId.eq(org_id)).add(
        sea_orm::Condition::any()
            .add(notification::Column::UserId.is_null())
            .add(notification::Column::UserId.eq(user_id)),
    )
}

/// Unread notices of a user: its organisation's and its own.
pub async fn unread_count(db: &DatabaseConnection, org_id: OrgId, user_id: UserId) -> AppResult<u64> {
    Ok(notification::Entity::find()
        .filter(readers(org_id, user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// A notice as listed, rendered in the reader's language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    /// Public id.
    pub id: Uuid,
    /// What it says: its template is `notice.<kind>` in the message catalogues.
    pub kind: NoticeKind,
    /// The template's arguments by name, each `{"type": ..., "value": ...}`, for clients that
    /// render notices themselves.
    #[schema(value_type = std::collections::BTreeMap<String, super::model::Arg>)]
    pub args: Args,
    /// The text in the reader's language.
    pub text: String,
    /// The reader's language (`zh-CN` or `en`).
    pub lang: &'static str,
    /// The text in Chinese.
    pub message_zh: String,
    /// The text in English.
    pub message_en: String,
    /// Where to look.
    pub link: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Whether read.
    pub read: bool,
}

/// The latest notices a user reads (its organisation's and its own), rendered in `lang`.
pub async fn list(
    db: &DatabaseConnection,
    i18n: &I18n,
    lang: Lang,
    org_id: OrgId,
    user_id: UserId,
) -> AppResult<Vec<NoticeView>> {
    notification::Entity::find()
        .filter(readers(org_id, user_id))
        .order_by_desc(notification::Column::Id)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(|n| view(i18n, lang, n))
        .collect()
}

/// A stored notice rendered; arguments that do not read are an error naming the row.
fn view(i18n: &I18n, lang: Lang, n: notification::Model) -> AppResult<NoticeView> {
    let args: Args = serde_json::from_str(&n.args)
        .map_err(|e| AppError::internal(format!("notifications.args of row {}: {e}", n.id)))?;
    let text_in = |l: Lang| {
        let r = render(i18n, l, n.kind, &args);
        if !r.problems.is_empty() {
            tracing::warn!(row = n.id, kind = %n.kind, problems = ?r.problems, "notice does not fit its template");
        }
        r.text
    };
    let (message_zh, message_en) = (text_in(Lang::Zh), text_in(Lang::En));
    let text = match lang {
        Lang::Zh => message_zh.clone(),
        Lang::En => message_en.clone(),
    };
    Ok(NoticeView {
        id: n.public_id,
        kind: n.kind,
        args,
        text,
        lang: lang.code(),
        message_zh,
        message_en,
        link: n.link,
        created_at: n.created_at,
        read: n.read_at.is_some(),
    })
}

/// Marks all notices a user reads as read. Reading is not audited: it changes nothing of
/// substance.
pub async fn mark_all_read(
    db: &DatabaseConnection,
    org_id: OrgId,
    user_id: UserId,
    now: DateTime<Utc>,
) -> AppResult<()> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(readers(org_id, user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
