//! Typed columns: enums stored as their stable text.
//!
//! [`string_enum!`] makes an enum with a stable snake_case text (`as_str`, `parse`, `Display`,
//! serde). Written with `stored in` and the entities whose tables hold it, the enum is also a
//! SeaORM column type: it is written as its text and read back from it, and reading a text that
//! is not one of its values is an error naming the table, the row and the value, for example
//!
//! ```text
//! tenders.state of row 17: unknown value "opned"
//! ```
//!
//! (a [`sea_orm::DbErr::Type`], which the services turn into the coded 500 with a reference id
//! like any other database error). There is no default for an unknown value: a row that does not
//! read is not shown as something it is not.
//!
//! [`EmptyOr`] is such an enum in a column that holds the empty text when there is no value.
//! `Money` (src/money.rs) is the other typed column: integer fen stored as `BIGINT`.

use sea_orm::{ColIdx, DbErr, EntityTrait, IdenStatic, Iterable, QueryResult, TryGetError, TryGetable};

/// A table that stores a typed column: its name and the names of all its columns.
///
/// The column names tell which table a row came from when one enum is stored in several tables
/// (the organisations' and the users' `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableShape {
    /// Table name.
    pub name: &'static str,
    /// All column names of the table.
    pub columns: Vec<&'static str>,
}

impl TableShape {
    /// The shape of an entity's table.
    pub fn of<E: EntityTrait>() -> Self {
        TableShape { name: E::default().table_name(), columns: E::Column::iter().map(|c| c.as_str()).collect() }
    }
}

/// An enum stored as its stable text (implemented by [`string_enum!`] with `stored in`).
pub trait StoredText: Copy + Sized + 'static {
    /// The stored text of the value.
    fn stored(self) -> &'static str;

    /// The value of a stored text, if it is one.
    fn from_stored(text: &str) -> Option<Self>;

    /// The tables that store this type.
    fn tables() -> Vec<TableShape>;
}

/// Reads a stored enum from column `idx` of a row; an unknown text is a [`DbErr::Type`] that
/// names the table, the row and the text ([`unknown_value`]).
pub fn decode<T: StoredText, I: ColIdx>(res: &QueryResult, idx: I) -> Result<T, TryGetError> {
    decode_with(res, idx, T::from_stored, T::tables)
}

/// Reads the text of column `idx` and turns it into a value with `parse`; a text that `parse`
/// refuses is the error of [`decode`].
fn decode_with<V, I: ColIdx>(
    res: &QueryResult,
    idx: I,
    parse: impl Fn(&str) -> Option<V>,
    tables: fn() -> Vec<TableShape>,
) -> Result<V, TryGetError> {
    let text = String::try_get_by(res, idx)?;
    parse(&text)
        .ok_or_else(|| TryGetError::DbErr(DbErr::Type(unknown_value(res, &column_name(res, idx), &tables(), &text))))
}

/// A stored enum, or nothing, stored as the empty text: for a `NOT NULL` text column whose row
/// may have no value (the status an order came from at its submission). Any other text that is
/// not a value of `T` is the error of [`decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmptyOr<T>(pub Option<T>);

impl<T> Default for EmptyOr<T> {
    fn default() -> Self {
        EmptyOr(None)
    }
}

impl<T: StoredText> EmptyOr<T> {
    /// The stored text: the value's, or the empty text.
    pub fn stored(self) -> &'static str {
        match self.0 {
            Some(v) => v.stored(),
            None => "",
        }
    }

    /// The value of a stored text: `Some(EmptyOr(None))` for the empty text.
    pub fn from_stored(text: &str) -> Option<Self> {
        if text.is_empty() { Some(EmptyOr(None)) } else { T::from_stored(text).map(|v| EmptyOr(Some(v))) }
    }
}

impl<T: StoredText> From<EmptyOr<T>> for sea_orm::Value {
    fn from(v: EmptyOr<T>) -> Self {
        sea_orm::Value::from(v.stored())
    }
}

impl<T: StoredText> TryGetable for EmptyOr<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        decode_with(res, idx, Self::from_stored, T::tables)
    }
}

impl<T: StoredText> sea_orm::sea_query::ValueType for EmptyOr<T> {
    fn try_from(v: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
        let text = <String as sea_orm::sea_query::ValueType>::try_from(v)?;
        Self::from_stored(&text).ok_or(sea_orm::sea_query::ValueTypeErr)
    }

    fn type_name() -> String {
        format!("EmptyOr<{}>", std::any::type_name::<T>())
    }

    fn array_type() -> sea_orm::sea_query::ArrayType {
        sea_orm::sea_query::ArrayType::String
    }

    fn column_type() -> sea_orm::sea_query::ColumnType {
        sea_orm::sea_query::ColumnType::String(sea_orm::sea_query::StringLen::None)
    }
}

impl<T: StoredText> sea_orm::sea_query::Nullable for EmptyOr<T> {
    fn null() -> sea_orm::Value {
        sea_orm::Value::String(None)
    }
}

impl<T: StoredText> sea_orm::sea_query::postgres_array::NotU8 for EmptyOr<T> {}

impl<T: StoredText> sea_orm::IntoActiveValue<EmptyOr<T>> for EmptyOr<T> {
    fn into_active_value(self) -> sea_orm::ActiveValue<EmptyOr<T>> {
        sea_orm::ActiveValue::Set(self)
    }
}

/// The name of the column `idx` points at.
fn column_name<I: ColIdx>(res: &QueryResult, idx: I) -> String {
    if let Some(name) = idx.as_str() {
        return name.to_string();
    }
    match idx.as_usize() {
        Some(i) => res.column_names().get(*i).cloned().unwrap_or_else(|| format!("#{i}")),
        None => "?".into(),
    }
}

/// The text of the error for an unknown stored value: `table.column of row id: unknown value
/// "text"`.
///
/// `column` is the name as selected, possibly with the prefix of a joined select (`A_state`).
/// The table is the one of `tables` that has that column; if several do, the one whose columns
/// the row has; if that still leaves several, all of them (`organisations.status or
/// users.status`). The row is the `id` column of the row, with the same prefix, or `?` when the
/// row has none.
pub fn unknown_value(res: &QueryResult, column: &str, tables: &[TableShape], text: &str) -> String {
    let names = res.column_names();
    locate(&names, column, tables, text, |pre| res.try_get::<i64>(pre, "id").ok())
}

/// [`unknown_value`] with the row's column names and its `id` reader given, so that it can be
/// checked without a database.
fn locate(
    names: &[String],
    column: &str,
    tables: &[TableShape],
    text: &str,
    id: impl Fn(&str) -> Option<i64>,
) -> String {
    // Each table with a column that the selected name ends with, and the prefix before it.
    let candidates: Vec<(&TableShape, &str, &str)> = tables
        .iter()
        .filter_map(|t| {
            let c = t.columns.iter().filter(|c| column.ends_with(**c)).max_by_key(|c| c.len())?;
            Some((t, *c, &column[..column.len() - c.len()]))
        })
        .collect();
    let whole: Vec<&(&TableShape, &str, &str)> = candidates
        .iter()
        .filter(|(t, _, pre)| t.columns.iter().all(|c| names.iter().any(|n| n.strip_prefix(pre) == Some(*c))))
        .collect();
    let chosen: Vec<&(&TableShape, &str, &str)> = if whole.is_empty() { candidates.iter().collect() } else { whole };
    let place = if chosen.is_empty() {
        column.to_string()
    } else {
        chosen.iter().map(|(t, c, _)| format!("{}.{c}", t.name)).collect::<Vec<_>>().join(" or ")
    };
    let pre = chosen.first().map(|(_, _, pre)| *pre).unwrap_or("");
    let row = id(pre).map(|i| i.to_string()).unwrap_or_else(|| "?".into());
    format!("{place} of row {row}: unknown value {text:?}")
}

/// Defines an enum with a stable snake_case text for each value: `ALL`, `as_str`, `parse`,
/// `Display`, serde (the same text) and an OpenAPI schema. The calling module imports serde's
/// `Serialize` and `Deserialize`.
///
/// With `stored in` and entity paths after the name, the enum is also a SeaORM column type
/// stored as its text (see the module documentation):
///
/// ```text
/// string_enum! {
///     /// Where a tender is in its life.
///     TenderState stored in crate::entities::tender::Entity {
///         /// 草稿.
///         Draft = "draft",
///     }
/// }
/// ```
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident stored in $($entity:path),+ { $($(#[$vmeta:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $crate::column::string_enum! { $(#[$meta])* $name { $($(#[$vmeta])* $variant = $s),+ } }

        impl $crate::column::StoredText for $name {
            fn stored(self) -> &'static str {
                self.as_str()
            }

            fn from_stored(text: &str) -> Option<Self> {
                Self::parse(text)
            }

            fn tables() -> Vec<$crate::column::TableShape> {
                vec![$($crate::column::TableShape::of::<$entity>()),+]
            }
        }

        impl From<$name> for sea_orm::Value {
            fn from(v: $name) -> Self {
                sea_orm::Value::from(v.as_str())
            }
        }

        impl sea_orm::TryGetable for $name {
            fn try_get_by<I: sea_orm::ColIdx>(res: &sea_orm::QueryResult, idx: I) -> Result<Self, sea_orm::TryGetError> {
                $crate::column::decode(res, idx)
            }
        }

        impl sea_orm::sea_query::ValueType for $name {
            fn try_from(v: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let text = <String as sea_orm::sea_query::ValueType>::try_from(v)?;
                Self::parse(&text).ok_or(sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($name).to_owned()
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::String(sea_orm::sea_query::StringLen::None)
            }
        }

        impl sea_orm::sea_query::Nullable for $name {
            fn null() -> sea_orm::Value {
                sea_orm::Value::String(None)
            }
        }

        impl sea_orm::sea_query::postgres_array::NotU8 for $name {}

        impl sea_orm::IntoActiveValue<$name> for $name {
            fn into_active_value(self) -> sea_orm::ActiveValue<$name> {
                sea_orm::ActiveValue::Set(self)
            }
        }
    };
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored, snake_case form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// Reads the stored form.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Money;
    use sea_orm::{
        ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, QueryFilter, QuerySelect, Set,
        Statement,
        sea_query::{ColumnType, Nullable, StringLen, ValueType},
    };
    use serde::{Deserialize, Serialize};

    string_enum! {
        /// A test enum stored in the `swatches` table.
        Shade stored in swatch::Entity {
            /// Light.
            Light = "light",
            /// Dark.
            Dark = "dark",
            /// Two words, snake_case.
            DeepSea = "deep_sea",
        }
    }

    /// A test table with typed columns.
    mod swatch {
        use super::Shade;
        use crate::{column::EmptyOr, money::Money};
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "swatches")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i64,
            pub shade: Shade,
            pub tint: Option<Shade>,
            pub prior: EmptyOr<Shade>,
            pub price_fen: Money,
            pub discount_fen: Option<Money>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    async fn swatches() -> (tempfile::TempDir, DatabaseConnection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = Database::connect(&url).await.expect("connect");
        db.execute_unprepared(
            "CREATE TABLE swatches (id INTEGER PRIMARY KEY AUTOINCREMENT, shade VARCHAR NOT NULL, tint VARCHAR NULL, \
             prior VARCHAR NOT NULL, price_fen BIGINT NOT NULL, discount_fen BIGINT NULL)",
        )
        .await
        .expect("create table");
        (dir, db)
    }

    async fn insert(db: &DatabaseConnection, shade: Shade, tint: Option<Shade>) -> swatch::Model {
        swatch::ActiveModel {
            shade: Set(shade),
            tint: Set(tint),
            prior: Set(EmptyOr(tint)),
            price_fen: Set(Money::from_fen(123_456)),
            discount_fen: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert")
    }

    async fn raw_row(db: &DatabaseConnection, id: i64) -> (String, Option<String>, String, i64) {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT shade, tint, prior, price_fen FROM swatches WHERE id = {id}"),
            ))
            .await
            .expect("query")
            .expect("row");
        (
            row.try_get("", "shade").expect("shade"),
            row.try_get("", "tint").expect("tint"),
            row.try_get("", "prior").expect("prior"),
            row.try_get("", "price_fen").expect("price"),
        )
    }

    fn type_error(e: &DbErr) -> &str {
        match e {
            DbErr::Type(s) => s,
            other => panic!("not a type error: {other}"),
        }
    }

    #[test]
    fn enum_values_round_trip() {
        for s in Shade::ALL {
            let v = sea_orm::Value::from(*s);
            assert_eq!(v, sea_orm::Value::String(Some(s.as_str().to_string())));
            assert_eq!(<Shade as ValueType>::try_from(v).ok(), Some(*s));
            assert_eq!(Shade::from_stored(s.stored()), Some(*s));
            // serde, Display and the stored text agree.
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::Value::String(s.as_str().into())));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert!(<Shade as ValueType>::try_from(sea_orm::Value::from("opned")).is_err());
        assert!(<Shade as ValueType>::try_from(sea_orm::Value::BigInt(Some(1))).is_err());
        assert_eq!(<Shade as Nullable>::null(), sea_orm::Value::String(None));
        assert_eq!(<Shade as ValueType>::column_type(), ColumnType::String(StringLen::None));
        assert_eq!(
            Shade::tables(),
            vec![TableShape {
                name: "swatches",
                columns: vec!["id", "shade", "tint", "prior", "price_fen", "discount_fen"]
            }]
        );
    }

    #[test]
    fn empty_or_values_round_trip() {
        let none: EmptyOr<Shade> = EmptyOr(None);
        assert_eq!(sea_orm::Value::from(none), sea_orm::Value::String(Some(String::new())));
        assert_eq!(sea_orm::Value::from(EmptyOr(Some(Shade::DeepSea))), sea_orm::Value::from("deep_sea"));
        assert_eq!(<EmptyOr<Shade> as ValueType>::try_from(sea_orm::Value::from("")).ok(), Some(none));
        assert_eq!(
            <EmptyOr<Shade> as ValueType>::try_from(sea_orm::Value::from("dark")).ok(),
            Some(EmptyOr(Some(Shade::Dark)))
        );
        assert!(<EmptyOr<Shade> as ValueType>::try_from(sea_orm::Value::from("pale")).is_err());
        assert_eq!(EmptyOr::<Shade>::default(), none);
        assert_eq!((none.stored(), EmptyOr(Some(Shade::Light)).stored()), ("", "light"));
    }

    #[tokio::test]
    async fn enums_and_money_round_trip_through_the_database() {
        let (_dir, db) = swatches().await;
        let a = insert(&db, Shade::DeepSea, Some(Shade::Light)).await;
        let b = insert(&db, Shade::Dark, None).await;
        assert_eq!(swatch::Entity::find_by_id(a.id).one(&db).await.expect("read"), Some(a.clone()));
        assert_eq!(a.shade, Shade::DeepSea);
        assert_eq!(a.tint, Some(Shade::Light));
        assert_eq!(b.tint, None);
        assert_eq!((a.prior, b.prior), (EmptyOr(Some(Shade::Light)), EmptyOr(None)));
        assert_eq!(a.price_fen, Money::from_fen(123_456));
        assert_eq!(a.discount_fen, None);
        // Stored as the stable text and as integer fen: the same as when the columns were String and i64.
        assert_eq!(raw_row(&db, a.id).await, ("deep_sea".into(), Some("light".into()), "light".into(), 123_456));
        assert_eq!(raw_row(&db, b.id).await, ("dark".into(), None, String::new(), 123_456));
        // Filters take the typed value.
        let dark = swatch::Entity::find().filter(swatch::Column::Shade.eq(Shade::Dark)).all(&db).await.expect("filter");
        assert_eq!(dark, vec![b.clone()]);
        let dear = swatch::Entity::find()
            .filter(swatch::Column::PriceFen.gte(Money::from_fen(123_456)))
            .all(&db)
            .await
            .expect("filter");
        assert_eq!(dear.len(), 2);
        let shades: Vec<Shade> = swatch::Entity::find()
            .select_only()
            .column(swatch::Column::Shade)
            .into_tuple()
            .all(&db)
            .await
            .expect("select");
        assert_eq!(shades, vec![Shade::DeepSea, Shade::Dark]);
        // An update writes the typed values.
        let mut c: swatch::ActiveModel = b.into();
        c.shade = Set(Shade::Light);
        c.discount_fen = Set(Some(Money::from_fen(5)));
        let c = c.update(&db).await.expect("update");
        assert_eq!((c.shade, c.discount_fen), (Shade::Light, Some(Money::from_fen(5))));
    }

    #[tokio::test]
    async fn an_unknown_stored_value_is_an_error_naming_table_row_and_value() {
        let (_dir, db) = swatches().await;
        let a = insert(&db, Shade::Light, None).await;
        db.execute_unprepared(&format!("UPDATE swatches SET shade = 'opned' WHERE id = {}", a.id))
            .await
            .expect("update");
        let err = swatch::Entity::find_by_id(a.id).one(&db).await.expect_err("unknown value");
        let expected = format!(r#"swatches.shade of row {}: unknown value "opned""#, a.id);
        assert_eq!(type_error(&err), expected);
        assert_eq!(err.to_string(), format!("Type Error: {expected}"));
        // The same for a list, a nullable column, and a partial select that has no id.
        assert!(swatch::Entity::find().all(&db).await.is_err());
        // The empty text is no value; any other unknown text is an error.
        db.execute_unprepared(&format!("UPDATE swatches SET shade = 'dark', prior = 'pale' WHERE id = {}", a.id))
            .await
            .expect("update");
        let err = swatch::Entity::find_by_id(a.id).one(&db).await.expect_err("unknown prior");
        assert_eq!(type_error(&err), format!(r#"swatches.prior of row {}: unknown value "pale""#, a.id));
        db.execute_unprepared(&format!("UPDATE swatches SET prior = '' WHERE id = {}", a.id)).await.expect("update");
        let read = swatch::Entity::find_by_id(a.id).one(&db).await.expect("read").expect("row");
        assert_eq!(read.prior, EmptyOr(None));
        db.execute_unprepared(&format!("UPDATE swatches SET shade = 'dark', tint = 'Dark' WHERE id = {}", a.id))
            .await
            .expect("update");
        let err = swatch::Entity::find_by_id(a.id).one(&db).await.expect_err("unknown tint");
        assert_eq!(type_error(&err), format!(r#"swatches.tint of row {}: unknown value "Dark""#, a.id));
        let err = swatch::Entity::find()
            .select_only()
            .column(swatch::Column::Tint)
            .into_tuple::<Option<Shade>>()
            .all(&db)
            .await
            .expect_err("unknown tint");
        assert_eq!(type_error(&err), r#"swatches.tint of row ?: unknown value "Dark""#);
        // Answered as the coded 500 with a reference, the cause only logged.
        let app = crate::error::AppError::from(err);
        assert_eq!((app.status.as_u16(), app.code), (500, "internal"));
        assert!(app.message.starts_with("internal error (reference "), "{}", app.message);
        assert!(!app.message.contains("Dark"));
    }

    fn shape(name: &'static str, columns: &[&'static str]) -> TableShape {
        TableShape { name, columns: columns.to_vec() }
    }

    fn names(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn names_table_row_and_value() {
        let tenders = [shape("tenders", &["id", "code", "state"])];
        let text = locate(&names(&["id", "code", "state"]), "state", &tenders, "opned", |_| Some(17));
        assert_eq!(text, r#"tenders.state of row 17: unknown value "opned""#);
    }

    #[test]
    fn picks_the_table_whose_columns_the_row_has() {
        let tables =
            [shape("organisations", &["id", "name", "kind", "status"]), shape("users", &["id", "role", "status"])];
        let users = locate(&names(&["id", "role", "status"]), "status", &tables, "gone", |_| Some(3));
        assert_eq!(users, r#"users.status of row 3: unknown value "gone""#);
        let orgs = locate(&names(&["id", "name", "kind", "status"]), "status", &tables, "x", |_| Some(4));
        assert_eq!(orgs, r#"organisations.status of row 4: unknown value "x""#);
        // A partial select cannot tell them apart: both are named.
        let both = locate(&names(&["status"]), "status", &tables, "x", |_| None);
        assert_eq!(both, r#"organisations.status or users.status of row ?: unknown value "x""#);
    }

    #[test]
    fn longest_column_and_prefixes() {
        let tables = [shape("mall_orders", &["id", "status"]), shape("mall_order_steps", &["id", "to_status"])];
        let step =
            locate(&names(&["id", "to_status"]), "to_status", &tables, "lost", |pre| (pre.is_empty()).then_some(9));
        assert_eq!(step, r#"mall_order_steps.to_status of row 9: unknown value "lost""#);
        // A joined select prefixes the columns; the row id is read with the same prefix.
        let joined = locate(&names(&["A_id", "A_status", "B_id", "B_to_status"]), "B_to_status", &tables, "?", |pre| {
            (pre == "B_").then_some(5)
        });
        assert_eq!(joined, r#"mall_order_steps.to_status of row 5: unknown value "?""#);
    }

    #[test]
    fn unknown_column_and_row() {
        let text = locate(&names(&["x"]), "x", &[shape("tenders", &["id", "state"])], "a\"b", |_| None);
        assert_eq!(text, r#"x of row ?: unknown value "a\"b""#);
    }
}
