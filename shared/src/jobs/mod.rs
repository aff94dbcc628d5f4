//! Paced bulk jobs (`pacing.md`): a participants change too big for one
//! call, run at the lane's pace by a worker — in Lambda on an SQS FIFO
//! event (`MessageGroupId` = the lane), in `local-api` on a task per lane.
//!
//! Each participant is sent exactly once, in request order. The worker
//! writes a chunk's range *ahead* (`inflight`) before its engine call and
//! commits the outcomes after it; a worker that died between the two leaves
//! `inflight` behind, and the next one marks that chunk `unconfirmed`
//! instead of sending it again.

#[cfg(feature = "adapters")]
pub mod lambda;
pub mod queue;
#[cfg(feature = "adapters")]
pub mod sqs;
pub mod worker;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::engine::{Action, AddRequest, GroupKind};
use crate::store::StoreError;

pub use queue::{JobMessage, JobQueue, in_process};

/// Participants a job may hold.
pub const MAX_JOB_PARTICIPANTS: usize = 5_000;
/// Entries per stored results item (and the most one engine call of a job
/// carries).
pub const SLOT: u32 = 50;
/// Results a page of `GET /jobs/{id}?results=1` holds at most.
pub const MAX_RESULTS_PAGE: u32 = 500;
/// Jobs and their results are kept this long (TTL).
pub const RETENTION_SECS: i64 = 30 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Paused,
    Completed,
    Cancelled,
    Failed,
}

impl JobStatus {
    /// The states a job can still send from.
    pub const LIVE: [JobStatus; 3] = [Self::Queued, Self::Running, Self::Paused];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    pub fn is_live(self) -> bool {
        Self::LIVE.contains(&self)
    }
}

/// A job as stored (one item) and, through [`Job::view`], as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub tenant_id: String,
    pub id: String,
    /// The participants route its calls take: the group's or the community's.
    pub kind: GroupKind,
    pub group_jid: String,
    pub action: Action,
    /// An add job's `invite_on_privacy`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invite_on_privacy: bool,
    pub status: JobStatus,
    /// The lane (`pacing::lane_id`): the SQS message group.
    pub lane: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    pub total: u32,
    /// Entries before it are done (sent, or resolved `unconfirmed`).
    pub cursor: u32,
    /// Entries from `cursor` written ahead of an engine call whose
    /// outcome is not stored yet (0: none).
    #[serde(default)]
    pub inflight: u32,
    #[serde(default)]
    pub ok: u32,
    #[serde(default)]
    pub failed: u32,
    #[serde(default)]
    pub unconfirmed: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_reason: Option<String>,
    /// Why a job failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Who created it: every engine call of the job is audited in their name.
    pub user_id: String,
    pub token_id: String,
    /// Epoch seconds (TTL).
    pub expires_at: i64,
}

/// The route that created a job of `kind`, as the audit trail names it.
pub fn route_of(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Group => "POST /groups/{jid}/participants/jobs",
        GroupKind::Community => "POST /communities/{jid}/participants/jobs",
    }
}

/// Who owns a new job, and the lane it runs on.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub token_id: &'a str,
    pub lane: &'a str,
}

impl Job {
    /// A new job of `call`'s participants, `queued`, and its entries (all
    /// `pending`, in request order).
    pub fn queued(
        id: String,
        owner: &Owner<'_>,
        call: &crate::engine::UpdateParticipants,
        now_ms: i64,
    ) -> (Job, Vec<JobEntry>) {
        let job = Job {
            tenant_id: owner.tenant_id.to_string(),
            id,
            kind: call.kind,
            group_jid: call.group.as_str().to_string(),
            action: call.action,
            invite_on_privacy: call.invite_on_privacy,
            status: JobStatus::Queued,
            lane: owner.lane.to_string(),
            created_at: now_ms,
            updated_at: now_ms,
            total: call.participants.len() as u32,
            cursor: 0,
            inflight: 0,
            ok: 0,
            failed: 0,
            unconfirmed: 0,
            paused_until: None,
            pause_reason: None,
            error: None,
            user_id: owner.user_id.to_string(),
            token_id: owner.token_id.to_string(),
            expires_at: now_ms / 1000 + RETENTION_SECS,
        };
        let entries = call
            .participants
            .iter()
            .map(|p| JobEntry::pending(p.as_str(), p.phone_number()))
            .collect();
        (job, entries)
    }
}

/// `job.counts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub total: u32,
    pub pending: u32,
    pub ok: u32,
    pub failed: u32,
    pub unconfirmed: u32,
    pub cancelled: u32,
}

impl Job {
    /// Entries that will not be sent: those left when a job was cancelled
    /// or failed.
    fn unsent(&self) -> u32 {
        self.total.saturating_sub(self.cursor + self.inflight)
    }

    pub fn counts(&self) -> Counts {
        let (pending, cancelled) = if self.status.is_live() {
            (self.unsent() + self.inflight, 0)
        } else {
            (self.inflight, self.unsent())
        };
        Counts {
            total: self.total,
            pending,
            ok: self.ok,
            failed: self.failed,
            unconfirmed: self.unconfirmed,
            cancelled,
        }
    }

    /// The job as the API answers it.
    pub fn view(&self, interval_ms: u64) -> serde_json::Value {
        let mut view = serde_json::json!({
            "id": self.id,
            "kind": self.kind,
            "group_jid": self.group_jid,
            "action": self.action,
            "status": self.status,
            "created_at": crate::clock::format_epoch_ms(self.created_at),
            "updated_at": crate::clock::format_epoch_ms(self.updated_at),
            "counts": self.counts(),
        });
        if let (true, Some(until)) = (self.status == JobStatus::Paused, self.paused_until) {
            view["paused_until"] = crate::clock::format_epoch_ms(until).into();
            view["pause_reason"] = self.pause_reason.clone().into();
        }
        if let Some(error) = &self.error {
            view["error"] = error.clone().into();
        }
        if self.invite_on_privacy {
            view["invite_on_privacy"] = true.into();
        }
        let left = u64::from(self.counts().pending);
        if self.status.is_live() && left > 0 {
            // At the lane's rate from now (or from the pause's end); the
            // burst and the daily cap are left out: an estimate.
            let start = self
                .paused_until
                .filter(|_| self.status == JobStatus::Paused)
                .unwrap_or_else(crate::clock::now_ms)
                .max(crate::clock::now_ms());
            let eta = start + i64::try_from(left * interval_ms).unwrap_or(i64::MAX / 2);
            view["eta"] = crate::clock::format_epoch_ms(eta).into();
        }
        view
    }
}

/// One participant's result: the per-participant entry of `api.md`, or
/// `pending` / `cancelled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEntry {
    pub jid: String,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub is_super_admin: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lid: Option<String>,
    pub status: EntryState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EntryFailure>,
    /// `invite_on_privacy`: whether the private invitation went (as the
    /// participants routes answer it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_sent: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryState {
    Pending,
    Ok,
    Failed,
    Unconfirmed,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryFailure {
    pub code: i64,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_request: Option<AddRequest>,
}

impl JobEntry {
    /// A participant not sent yet.
    pub fn pending(jid: &str, phone_number: Option<&str>) -> Self {
        Self {
            jid: jid.to_string(),
            phone_number: phone_number.map(str::to_string),
            is_admin: false,
            is_super_admin: false,
            lid: None,
            status: EntryState::Pending,
            error: None,
            invite_sent: None,
            invite_error: None,
        }
    }

    /// The same participant, with an outcome that says nothing more.
    pub fn with(&self, status: EntryState, error: Option<EntryFailure>) -> Self {
        Self {
            status,
            error,
            ..self.clone()
        }
    }

    /// As answered for a job in `status`: what will never be sent is
    /// `cancelled`.
    pub fn as_seen_in(mut self, status: JobStatus) -> Self {
        if self.status == EntryState::Pending && !status.is_live() {
            self.status = EntryState::Cancelled;
        }
        self
    }
}

/// A page of a tenant's jobs, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPage {
    pub jobs: Vec<Job>,
    /// The last id of the page when more may follow.
    pub next: Option<String>,
}

/// The jobs' store: a job item and its results, kept together per tenant
/// (so another tenant's job is not found).
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores a new job (status `queued`, cursor 0) and its entries, all
    /// `pending`, in request order.
    async fn create_job(&self, job: &Job, entries: &[JobEntry]) -> Result<(), StoreError>;
    async fn get_job(&self, tenant_id: &str, id: &str) -> Result<Option<Job>, StoreError>;
    /// The tenant's jobs, newest first, after the job `after`.
    async fn list_jobs(
        &self,
        tenant_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<JobPage, StoreError>;
    /// Entries `from..from + limit` (fewer at the end), in request order.
    async fn entries(
        &self,
        tenant_id: &str,
        id: &str,
        from: u32,
        limit: u32,
    ) -> Result<Vec<JobEntry>, StoreError>;
    /// Writes `n` entries from `cursor` ahead of their engine call, if the
    /// job is live, at `cursor` and has nothing in flight; the job becomes
    /// `running`. `false`: it was not (cancelled, or another worker moved).
    async fn begin_chunk(
        &self,
        tenant_id: &str,
        id: &str,
        cursor: u32,
        n: u32,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Stores the in-flight chunk's outcomes (`entries`, from `cursor`),
    /// moves the cursor past them and counts them, if the chunk at
    /// `cursor` is still the one in flight.
    async fn commit_chunk(
        &self,
        tenant_id: &str,
        id: &str,
        cursor: u32,
        entries: &[JobEntry],
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Moves a job in one of the `from` states to `change.status`; the job
    /// after it, or `None` if it was in no such state (or is not there).
    async fn set_status(
        &self,
        tenant_id: &str,
        id: &str,
        from: &[JobStatus],
        change: &StatusChange,
    ) -> Result<Option<Job>, StoreError>;
    /// The engine reported the change of entry `index` (an event from its
    /// webhooks): an `unconfirmed` entry becomes `ok`, and the job's counts
    /// follow. Whether it was unconfirmed.
    async fn confirm_entry(
        &self,
        tenant_id: &str,
        id: &str,
        index: u32,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
}

/// A status move, with what it says about a pause or a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: JobStatus,
    pub now_ms: i64,
    /// With `paused`: until when, and why.
    pub paused: Option<(i64, String)>,
    /// With `failed`: why.
    pub error: Option<String>,
}

impl StatusChange {
    pub fn to(status: JobStatus, now_ms: i64) -> Self {
        Self {
            status,
            now_ms,
            paused: None,
            error: None,
        }
    }
}

/// A committed chunk's outcomes, as the job's counters add them up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub ok: u32,
    pub failed: u32,
    pub unconfirmed: u32,
}

impl Tally {
    pub fn of(entries: &[JobEntry]) -> Self {
        let mut tally = Self::default();
        for e in entries {
            match e.status {
                EntryState::Ok => tally.ok += 1,
                EntryState::Failed => tally.failed += 1,
                _ => tally.unconfirmed += 1,
            }
        }
        tally
    }

    /// Adds the chunk to the job's counters and moves its cursor past it.
    pub fn apply(self, job: &mut Job, n: u32, now_ms: i64) {
        job.ok += self.ok;
        job.failed += self.failed;
        job.unconfirmed += self.unconfirmed;
        job.cursor += n;
        job.inflight = 0;
        job.updated_at = now_ms;
    }
}

/// A new job's id: time-ordered (UUID v7), so ids sort newest last.
pub fn new_job_id() -> String {
    format!("job_{}", uuid::Uuid::now_v7().simple())
}
