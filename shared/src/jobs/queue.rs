//! Where a job goes to be run: the queue port. Adapters: SQS FIFO
//! ([`crate::jobs::sqs`], Lambda and `local-api --worker`), a task per lane
//! ([`LocalQueue`], `local-api`'s embedded default and the tests), and
//! [`NoQueue`] where jobs are not configured.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::store::StoreError;

/// A queue message: which job to run (the lane is its message group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMessage {
    pub tenant_id: String,
    pub job_id: String,
    pub lane: String,
}

#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Queues the job's next run (a new job, or a continuation).
    async fn enqueue(&self, message: &JobMessage) -> Result<(), StoreError>;
}

/// No queue configured: creating a job answers 503.
pub struct NoQueue;

#[async_trait]
impl JobQueue for NoQueue {
    async fn enqueue(&self, _: &JobMessage) -> Result<(), StoreError> {
        Err(StoreError::Unavailable(
            "no jobs queue is configured (JOBS_QUEUE_URL)".into(),
        ))
    }
}

/// Jobs run in process: one task per lane, its jobs one after the other in
/// the order queued, lanes side by side (what SQS FIFO's message groups do
/// in Lambda). The tasks are started by [`LocalQueue::start`] with what
/// runs a job.
#[derive(Clone, Default)]
pub struct LocalQueue {
    lanes: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<JobMessage>>>>,
    runner: Arc<Mutex<Option<Runner>>>,
}

type Runner = Arc<dyn Fn(mpsc::UnboundedReceiver<JobMessage>) + Send + Sync>;

impl LocalQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets what a lane's task does with its messages (usually
    /// [`crate::jobs::worker::run_lane`] over the application's state).
    pub fn start(
        &self,
        runner: impl Fn(mpsc::UnboundedReceiver<JobMessage>) + Send + Sync + 'static,
    ) {
        if let Ok(mut slot) = self.runner.lock() {
            *slot = Some(Arc::new(runner));
        }
    }
}

#[async_trait]
impl JobQueue for LocalQueue {
    async fn enqueue(&self, message: &JobMessage) -> Result<(), StoreError> {
        let runner = self
            .runner
            .lock()
            .ok()
            .and_then(|r| r.clone())
            .ok_or_else(|| {
                StoreError::Unavailable("the in-process job runner is not started".into())
            })?;
        let mut lanes = self
            .lanes
            .lock()
            .map_err(|_| StoreError::Other("the local queue's lock is poisoned".into()))?;
        let sender = lanes.entry(message.lane.clone()).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            runner(rx);
            tx
        });
        if sender.send(message.clone()).is_err() {
            // The lane's task ended (its runtime went away): start another.
            let (tx, rx) = mpsc::unbounded_channel();
            runner(rx);
            let _ = tx.send(message.clone());
            *sender = tx;
        }
        Ok(())
    }
}

/// `state` with its jobs run in process: a [`LocalQueue`] whose lane tasks
/// run [`crate::jobs::worker::run_lane`] on the state itself (`local-api`'s
/// embedded default, the tests). Call within a Tokio runtime.
pub fn in_process<E, S>(
    mut state: crate::state::AppState<E, S>,
) -> Arc<crate::state::AppState<E, S>>
where
    E: crate::engine::Engine + ?Sized + 'static,
    S: crate::store::Store + ?Sized + 'static,
{
    let queue = LocalQueue::new();
    state.queue = Arc::new(queue.clone());
    let state = Arc::new(state);
    let weak = Arc::downgrade(&state);
    queue.start(move |messages| {
        if let Some(state) = weak.upgrade() {
            tokio::spawn(crate::jobs::worker::run_lane(state, messages));
        }
    });
    state
}
