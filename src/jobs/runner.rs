//! The job runner: one per process.

use super::{Registry, store};
use crate::{config::JobSettings, entities::job, error::AppResult, uow::Writer};
use chrono::TimeDelta;
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

/// Claims and runs due jobs.
#[derive(Debug, Clone)]
pub struct Runner {
    writer: Writer,
    registry: Arc<Registry>,
    settings: JobSettings,
    worker: Arc<str>,
    recurring_ready: Arc<AtomicBool>,
}

impl Runner {
    /// The kinds this runner runs (each has a label in the catalogues, `jobs.kinds.<kind>`).
    pub fn kinds(&self) -> Vec<&'static str> {
        self.registry.kinds()
    }

    /// A runner of the registered kinds, writing through `writer`.
    pub fn new(writer: Writer, registry: Registry, settings: JobSettings) -> Self {
        let worker = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Self { writer, registry: Arc::new(registry), settings, worker: worker.into(), recurring_ready: Arc::default() }
    }

    /// Starts running jobs in the background: whenever one is due, checking every
    /// `jobs.poll_ms` and at once after a change that scheduled one.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let wake = self.writer.job_signal();
            let poll = Duration::from_millis(self.settings.poll_ms.max(10));
            loop {
                if let Err(e) = self.run_due().await {
                    tracing::warn!(error = %e.message, "job runner: claiming jobs failed");
                }
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
        })
    }

    /// Runs every job due now, until none is left; returns how many ran (successfully or not).
    pub async fn run_due(&self) -> AppResult<usize> {
        self.ensure_recurring().await?;
        let mut ran = 0;
        loop {
            let now = self.writer.clock().now();
            let lease = now + TimeDelta::seconds(self.settings.lease_seconds.max(1));
            let claimed = store::claim(self.writer.db(), &self.worker, now, lease, self.settings.batch.max(1)).await?;
            if claimed.is_empty() {
                return Ok(ran);
            }
            for job in claimed {
                self.run_one(job).await;
                ran += 1;
            }
        }
    }

    /// Schedules the first job of each repeating kind that has none waiting.
    async fn ensure_recurring(&self) -> AppResult<()> {
        if self.recurring_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        for r in self.registry.recurring() {
            if !store::has_open(self.writer.db(), r.kind).await? {
                let mut uow = self.writer.begin().await?;
                let next = r.next_after(uow.now());
                uow.schedule(next).await?;
                uow.commit().await?;
            }
        }
        self.recurring_ready.store(true, Ordering::Release);
        Ok(())
    }

    async fn run_one(&self, job: job::Model) {
        let outcome = self.attempt(&job).await;
        if let Err(message) = outcome {
            let now = self.writer.clock().now();
            let retry_at = (job.attempts < self.settings.max_attempts).then(|| {
                let exp = u32::try_from(job.attempts.saturating_sub(1)).unwrap_or(0).min(16);
                now + TimeDelta::seconds(self.settings.backoff_seconds.max(1).saturating_mul(1 << exp))
            });
            match retry_at {
                Some(t) => {
                    tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, retry_at = %t, error = %message, "job failed; will retry")
                }
                None => {
                    tracing::error!(job = job.id, kind = %job.kind, attempts = job.attempts, error = %message, "job failed for good")
                }
            }
            if let Err(e) = store::fail(self.writer.db(), job.id, &self.worker, &message, retry_at, now).await {
                tracing::error!(job = job.id, error = %e.message, "job failure could not be recorded");
            }
        }
    }

    /// One attempt: the handler's work and the job's completion in one unit of work.
    async fn attempt(&self, job: &job::Model) -> Result<(), String> {
        let handler = self.registry.handler(&job.kind).ok_or_else(|| format!("unknown job kind {:?}", job.kind))?;
        let args: serde_json::Value =
            serde_json::from_str(&job.args).map_err(|e| format!("arguments do not read: {e}"))?;
        let text = |e: crate::error::AppError| format!("{}: {}", e.code, e.message);
        let mut uow = self.writer.begin().await.map_err(text)?;
        handler.run(&mut uow, &args).await.map_err(text)?;
        if let Some(r) = self.registry.recurring().iter().find(|r| r.kind == job.kind) {
            let next = r.next_after(job.due_at.max(uow.now()));
            uow.schedule(next).await.map_err(text)?;
        }
        let now = uow.now();
        if !store::finish(uow.txn(), job.id, &self.worker, now).await.map_err(text)? {
            // Another runner holds it now; dropping the unit of work rolls this attempt back.
            tracing::warn!(job = job.id, "job lease lost; its effect is left to the runner holding it");
            return Ok(());
        }
        uow.commit().await.map_err(text)
    }
}
