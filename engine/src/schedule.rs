//! The cron scheduler of a node's jobs (recommendations, snapshots, page retention), with an
//! injectable clock.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A clock, injectable for the scheduler's tests.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The time now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Runs `job` every time the cron `schedule` (UTC) comes due by `clock`, checking every `tick`.
/// A job that fails is logged (as `name`); the next one runs at the next due time.
pub fn spawn_schedule(
    name: &'static str,
    schedule: &str,
    clock: Arc<dyn Clock>,
    tick: Duration,
    job: impl Fn() -> anyhow::Result<()> + Send + Sync + 'static,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let schedule = cron::Schedule::from_str(schedule).map_err(|e| anyhow::anyhow!("schedule `{schedule}`: {e}"))?;
    let job = Arc::new(job);
    Ok(tokio::spawn(async move {
        let mut next = schedule.after(&clock.now()).next();
        loop {
            tokio::time::sleep(tick).await;
            let Some(due) = next else { return };
            let now = clock.now();
            if now < due {
                continue;
            }
            let job = job.clone();
            match tokio::task::spawn_blocking(move || job()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(job = name, error = %e, "scheduled job failed; what it replaces stays"),
                Err(e) => tracing::error!(job = name, error = %e, "scheduled job panicked; what it replaces stays"),
            }
            next = schedule.after(&now).next();
        }
    }))
}
