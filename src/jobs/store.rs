//! The `jobs` table: scheduling, claiming, finishing and failing jobs.

use super::{JobStatus, NewJob};
use crate::{entities::job, error::AppResult};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, Value,
};

/// The backend's placeholders: `$1, $2…` on PostgreSQL, `?` on SQLite.
fn sql(backend: DbBackend, text: &str) -> String {
    if backend != DbBackend::Postgres {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut n = 0;
    for c in text.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `job` as pending, or, if a job with its key has not run yet, moves that one to the new
/// due time and arguments. A job with the key that ran (or is running) is left as it is.
pub async fn schedule<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, job: &NewJob) -> AppResult<()> {
    let b = db.get_database_backend();
    let text = sql(
        b,
        "INSERT INTO jobs (kind, args, due_at, status, attempts, idempotency_key, created_at) \
         VALUES (?, ?, ?, 'pending', 0, ?, ?) \
         ON CONFLICT (idempotency_key) DO UPDATE SET due_at = excluded.due_at, args = excluded.args \
         WHERE jobs.status = 'pending'",
    );
    let values: Vec<Value> =
        vec![job.kind.into(), job.args.to_string().into(), job.due_at.into(), job.key.clone().into(), now.into()];
    db.execute_raw(Statement::from_sql_and_values(b, text, values)).await?;
    Ok(())
}

/// Claims up to `limit` jobs due at `now` (and jobs whose runner's lease ran out) for `worker`
/// until `lease_until`, counting an attempt for each.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<job::Model>> {
    let b = db.get_database_backend();
    // Looking is a read; only when something is due does the runner take a write lock.
    let due = job::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(job::Column::Status.eq(JobStatus::Pending))
                        .add(job::Column::DueAt.lte(now)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(job::Column::Status.eq(JobStatus::Running))
                        .add(job::Column::ClaimedUntil.lt(now)),
                ),
        )
        .count(db)
        .await?;
    if due == 0 {
        return Ok(Vec::new());
    }
    let lock = if b == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let text = sql(
        b,
        &format!(
            "UPDATE jobs SET status = 'running', claimed_by = ?, claimed_until = ?, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE (status = 'pending' AND due_at <= ?) \
             OR (status = 'running' AND claimed_until < ?) ORDER BY due_at, id LIMIT {limit}{lock}) \
             RETURNING *"
        ),
    );
    let values: Vec<Value> = vec![worker.into(), lease_until.into(), now.into(), now.into()];
    Ok(job::Entity::find().from_raw_sql(Statement::from_sql_and_values(b, text, values)).all(db).await?)
}

/// Marks a claimed job done, in the transaction of its effect. False if `worker` no longer holds
/// it (its lease ran out and another runner took it): then the effect must not commit.
pub async fn finish<C: ConnectionTrait>(db: &C, id: i64, worker: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let b = db.get_database_backend();
    let text = sql(
        b,
        "UPDATE jobs SET status = 'done', finished_at = ?, claimed_by = NULL, claimed_until = NULL, last_error = NULL \
         WHERE id = ? AND claimed_by = ? AND status = 'running'",
    );
    let r = db.execute_raw(Statement::from_sql_and_values(b, text, vec![now.into(), id.into(), worker.into()])).await?;
    Ok(r.rows_affected() == 1)
}

/// Records a failed attempt: the job is due again at `retry_at`, or, with no attempt left
/// (`retry_at` is `None`), failed for good.
pub async fn fail<C: ConnectionTrait>(
    db: &C,
    id: i64,
    worker: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let b = db.get_database_backend();
    let (status, due, finished) = match retry_at {
        Some(t) => (JobStatus::Pending, Some(t), None),
        None => (JobStatus::Failed, None, Some(now)),
    };
    let text = sql(
        b,
        "UPDATE jobs SET status = ?, due_at = COALESCE(?, due_at), last_error = ?, finished_at = ?, \
         claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?",
    );
    let values: Vec<Value> = vec![
        status.as_str().into(),
        due.into(),
        error.chars().take(2000).collect::<String>().into(),
        finished.into(),
        id.into(),
        worker.into(),
    ];
    db.execute_raw(Statement::from_sql_and_values(b, text, values)).await?;
    Ok(())
}

/// Whether a job of `kind` is waiting or running.
pub async fn has_open<C: ConnectionTrait>(db: &C, kind: &str) -> AppResult<bool> {
    Ok(job::Entity::find()
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Status.is_in([JobStatus::Pending, JobStatus::Running]))
        .count(db)
        .await?
        > 0)
}

/// The jobs in one status, newest due first.
pub async fn list<C: ConnectionTrait>(db: &C, status: JobStatus, limit: u64) -> AppResult<Vec<job::Model>> {
    Ok(job::Entity::find()
        .filter(job::Column::Status.eq(status))
        .order_by_desc(job::Column::DueAt)
        .order_by_desc(job::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// How many jobs are in each status.
pub async fn counts<C: ConnectionTrait>(db: &C) -> AppResult<Vec<(JobStatus, u64)>> {
    let mut out = Vec::new();
    for s in JobStatus::ALL {
        out.push((*s, job::Entity::find().filter(job::Column::Status.eq(*s)).count(db).await?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    async fn db() -> (tempfile::TempDir, sea_orm::DatabaseConnection) {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = crate::db::connect(&crate::config::DatabaseSettings { url, max_connections: 2 }).await.expect("db");
        crate::db::migrate(&db).await.expect("migrate");
        (dir, db)
    }

    #[tokio::test]
    async fn scheduling_again_moves_a_waiting_job_and_claims_are_exclusive() {
        let (_dir, db) = db().await;
        let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).single().expect("time");
        let job = NewJob::new("k", "k:1", t0 + TimeDelta::hours(1), serde_json::json!({"n": 1}));
        schedule(&db, t0, &job).await.expect("schedule");
        // Moved later: not due at +1 h any more.
        schedule(&db, t0, &NewJob { due_at: t0 + TimeDelta::hours(2), ..job.clone() }).await.expect("again");
        assert!(
            claim(&db, "a", t0 + TimeDelta::hours(1), t0 + TimeDelta::hours(9), 10).await.expect("claim").is_empty()
        );
        let got = claim(&db, "a", t0 + TimeDelta::hours(2), t0 + TimeDelta::hours(3), 10).await.expect("claim");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].attempts, 1);
        // Another runner finds nothing while the lease holds, and cannot finish it.
        assert!(
            claim(&db, "b", t0 + TimeDelta::hours(2), t0 + TimeDelta::hours(3), 10).await.expect("claim").is_empty()
        );
        assert!(!finish(&db, got[0].id, "b", t0).await.expect("finish"));
        // Scheduling a running job leaves it alone.
        schedule(&db, t0, &NewJob { due_at: t0 + TimeDelta::hours(5), ..job.clone() }).await.expect("again");
        assert!(finish(&db, got[0].id, "a", t0 + TimeDelta::hours(2)).await.expect("finish"));
        assert!(
            claim(&db, "b", t0 + TimeDelta::hours(9), t0 + TimeDelta::hours(10), 10).await.expect("claim").is_empty()
        );
    }

    #[tokio::test]
    async fn a_lease_that_ran_out_is_claimed_again() {
        let (_dir, db) = db().await;
        let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).single().expect("time");
        schedule(&db, t0, &NewJob::new("k", "k:2", t0, serde_json::Value::Null)).await.expect("schedule");
        let a = claim(&db, "a", t0, t0 + TimeDelta::minutes(5), 10).await.expect("claim");
        assert_eq!(a.len(), 1);
        let b = claim(&db, "b", t0 + TimeDelta::minutes(6), t0 + TimeDelta::minutes(11), 10).await.expect("claim");
        assert_eq!((b.len(), b[0].attempts), (1, 2));
        assert!(!finish(&db, a[0].id, "a", t0).await.expect("finish"), "the first runner lost it");
        fail(&db, b[0].id, "b", "boom", None, t0).await.expect("fail");
        let failed = list(&db, JobStatus::Failed, 10).await.expect("list");
        assert_eq!(failed[0].last_error.as_deref(), Some("boom"));
    }
}
