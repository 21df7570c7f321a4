//! Database connection, migrations, and writing transactions.
//!
//! SQLite (one file, nothing to install) is the default; a `postgres://` URL switches to
//! PostgreSQL with no other change. Every transaction that changes data is opened with
//! [`begin_write`], which first takes the lock on the audit chain's head row. That one
//! statement does two jobs: it keeps the audit chain from forking under concurrent writers
//! (PostgreSQL row lock), and on SQLite it takes the write lock at the start of the
//! transaction, so that a transaction never has to upgrade a read lock (which SQLite answers
//! with `SQLITE_BUSY` instead of waiting).

use crate::config::DatabaseSettings;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    TransactionTrait,
};
use std::time::Duration;
use tenderhall_migrations::{Migrator, MigratorTrait};

/// Opens a connection pool for the configured database, creating the SQLite file's directory.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(&settings.url)
        && let Some(parent) = std::path::Path::new(&path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| DbErr::Custom(format!("creating {}: {e}", parent.display())))?;
    }
    let mut opts = ConnectOptions::new(settings.url.clone());
    opts.max_connections(settings.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    Database::connect(opts).await
}

/// The file path of a SQLite URL, if it is one.
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" { None } else { Some(path.to_string()) }
}

/// Applies all pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a transaction that will write, taking the audit head lock first (see module docs).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    let sql = match txn.get_database_backend() {
        DbBackend::Postgres => "SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE",
        _ => "UPDATE audit_head SET seq = seq WHERE id = 1",
    };
    txn.execute_unprepared(sql).await?;
    Ok(txn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sqlite_paths() {
        assert_eq!(sqlite_path("sqlite://data/t.db?mode=rwc").as_deref(), Some("data/t.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
