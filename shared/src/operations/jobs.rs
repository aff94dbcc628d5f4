//! What the jobs routes share (`pacing.md`, "Paced bulk jobs"): the create
//! (`create_group_participants_job.rs`, `create_community_participants_job.rs`),
//! the job's id in the path, the job's answer and the query parameters.

use std::collections::HashMap;

use lambda_http::Request;
use lambda_http::http::{HeaderValue, StatusCode, header::LOCATION};

use crate::engine::{Action, Engine, GroupKind, OneCall, UpdateParticipants};
use crate::error::{ApiError, FieldError};
use crate::jobs::{
    Job, JobEntry, JobMessage, JobStatus, MAX_JOB_PARTICIPANTS, Owner, StatusChange, new_job_id,
};
use crate::operation::{Executed, Jobs, On, Subject};
use crate::routes::Params;

/// A job's body: up to 5,000 participants of about 35 bytes each.
pub const MAX_JOB_BODY_BYTES: usize = 256 * 1024;

/// One create route: its method and path, its function, and the kind of
/// group its engine calls name.
macro_rules! job_operation {
    ($(#[$doc:meta])* $name:ident: $path:literal => $function:literal, $kind:ident) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::operation::Operation for $name {
            const ROUTE: $crate::routes::Route =
                $crate::routes::Route::write("POST", $path, $function)
                    .without_engine()
                    .queueing_jobs();
            type Command = $crate::engine::UpdateParticipants;

            fn prepare(
                params: &$crate::routes::Params<'_>,
                req: &lambda_http::Request,
            ) -> Result<Self::Command, $crate::error::ApiError> {
                $crate::operations::jobs::prepare($crate::engine::GroupKind::$kind, params, req)
            }

            fn subject(call: &Self::Command) -> $crate::operation::Subject<'_> {
                $crate::operations::jobs::subject(call)
            }

            async fn execute<E: $crate::engine::Engine + ?Sized>(
                call: &Self::Command,
                on: $crate::operation::On<'_, E>,
            ) -> Result<$crate::operation::Executed, $crate::error::ApiError> {
                $crate::operations::jobs::create(call, on).await
            }
        }
    };
}
pub(crate) use job_operation;

/// The path and body of a create: `{participants: 1–5,000, action?}`
/// (default `add`), validated like the participants routes.
pub fn prepare(
    kind: GroupKind,
    params: &Params<'_>,
    req: &Request,
) -> Result<UpdateParticipants, ApiError> {
    let limits = (MAX_JOB_PARTICIPANTS, MAX_JOB_BODY_BYTES);
    super::participants::prepare_up_to(kind, Action::Add, params, req, limits)
}

pub fn subject(call: &UpdateParticipants) -> Subject<'_> {
    Subject {
        action: "create_job",
        group: Some(&call.group),
        participants: &[],
    }
}

/// Stores the job and queues it: `202` with the job and `Location`.
/// What the tenant's engine cannot do is refused now (`501`), not by the
/// worker later.
pub async fn create<E: Engine + ?Sized>(
    call: &UpdateParticipants,
    on: On<'_, E>,
) -> Result<Executed, ApiError> {
    let first = UpdateParticipants {
        participants: call.participants.iter().take(1).cloned().collect(),
        ..call.clone()
    };
    on.engine.check(on.target, first.borrowed())?;
    let jobs = on.jobs()?;
    let owner = Owner {
        tenant_id: jobs.tenant_id,
        user_id: jobs.user_id,
        token_id: jobs.token_id,
        lane: &jobs.lane,
    };
    let (job, entries) = Job::queued(new_job_id(), &owner, call, crate::clock::now_ms());
    jobs.store.create_job(&job, &entries).await?;
    let message = JobMessage {
        tenant_id: job.tenant_id.clone(),
        job_id: job.id.clone(),
        lane: job.lane.clone(),
    };
    if let Err(e) = jobs.queue.enqueue(&message).await {
        // Never left queued with nothing to run it.
        let mut change = StatusChange::to(JobStatus::Failed, crate::clock::now_ms());
        change.error = Some("the job could not be queued".into());
        let _ = jobs
            .store
            .set_status(&job.tenant_id, &job.id, &JobStatus::LIVE, &change)
            .await;
        return Err(e.into());
    }
    let body = serde_json::json!({"success": true, "job": view(jobs, &job)});
    let mut response = super::respond(on.ctx, StatusCode::ACCEPTED, &body)?;
    if let Ok(location) = HeaderValue::from_str(&format!("/jobs/{}", job.id)) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(Executed::plain(response))
}

/// The job as answered, its estimate at the caller's pace.
pub fn view(jobs: &Jobs<'_>, job: &Job) -> serde_json::Value {
    let interval = if jobs.pacing.off {
        0
    } else {
        jobs.pacing.budget(job.action.pacing_class()).interval_ms
    };
    job.view(interval)
}

/// The `{id}` path parameter: a job id this API gave, or 404 (like an id
/// of another tenant's job).
pub fn path_job_id(raw: &str) -> Result<&str, ApiError> {
    let valid = raw
        .strip_prefix("job_")
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if valid { Ok(raw) } else { Err(not_found()) }
}

pub fn not_found() -> ApiError {
    ApiError::NotFound {
        message: "no such job",
    }
}

/// The caller's job, or 404.
pub async fn find(jobs: &Jobs<'_>, id: &str) -> Result<Job, ApiError> {
    jobs.store
        .get_job(jobs.tenant_id, id)
        .await?
        .ok_or_else(not_found)
}

/// A page of a job's results from `from`, as answered.
pub async fn results(
    jobs: &Jobs<'_>,
    job: &Job,
    from: u32,
    limit: u32,
) -> Result<Vec<JobEntry>, ApiError> {
    Ok(jobs
        .store
        .entries(jobs.tenant_id, &job.id, from, limit)
        .await?
        .into_iter()
        .map(|e| e.as_seen_in(job.status))
        .collect())
}

/// The query's parameters, each at most once and each one of `allowed`;
/// anything else is a 400 naming it.
pub fn query_params(
    req: &Request,
    allowed: &[&'static str],
) -> Result<HashMap<&'static str, String>, ApiError> {
    let mut errors = Vec::new();
    let mut out = HashMap::new();
    let query = req.uri().query().unwrap_or("");
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match allowed.iter().find(|a| **a == key) {
            Some(name) => {
                if out.insert(*name, value.into_owned()).is_some() {
                    errors.push(FieldError::new(key.to_string(), "given more than once"));
                }
            }
            None => errors.push(
                FieldError::new(
                    "query",
                    format!("unknown parameter; allowed: {}", allowed.join(", ")),
                )
                .with_value(key.as_ref()),
            ),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::validation("invalid query parameters", errors))
    }
}

/// An integer query parameter in `range`, or `default` when absent.
pub fn query_number(
    params: &HashMap<&'static str, String>,
    name: &'static str,
    range: std::ops::RangeInclusive<u32>,
    default: u32,
) -> Result<u32, ApiError> {
    let Some(raw) = params.get(name) else {
        return Ok(default);
    };
    match raw.parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ApiError::validation(
            "invalid query parameters",
            vec![
                FieldError::new(
                    name,
                    format!(
                        "must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
                .with_value(raw),
            ],
        )),
    }
}

/// Results a page holds by default.
pub const DEFAULT_RESULTS_PAGE: u32 = 100;
