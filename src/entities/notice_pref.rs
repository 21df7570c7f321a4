//! The `notice_prefs` table: a user's choices about notices outside the platform.

use crate::ids::UserId;
use sea_orm::entity::prelude::*;

/// A row of `notice_prefs`; a user without one gets e-mail of every kind in Chinese.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notice_prefs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: UserId,
    /// `zh-CN` or `en`.
    pub lang: String,
    /// The kinds not sent by e-mail, as a JSON array of kind names (`"*"`: none is).
    #[sea_orm(column_type = "Text")]
    pub email_muted: String,
    /// The mobile number SMS go to (11 digits), if any.
    pub phone: Option<String>,
    /// The kinds sent by SMS, as a JSON array of kind names (none unless chosen).
    #[sea_orm(column_type = "Text")]
    pub sms_kinds: String,
    /// The secret of the user's one-click unsubscribe links.
    pub unsubscribe_token: String,
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
