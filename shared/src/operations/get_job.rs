//! `GET /jobs/{id}`: one of the caller's paced jobs — status, counts, a
//! pause and its end; `?results=1` pages its per-participant results in
//! request order (`cursor`, `limit` ≤ 500). Another tenant's job is 404.

use lambda_http::Request;

use super::jobs::{
    DEFAULT_RESULTS_PAGE, find, path_job_id, query_number, query_params, results, view,
};
use super::{body_bytes, invite::check_no_body};
use crate::engine::Engine;
use crate::error::ApiError;
use crate::jobs::MAX_RESULTS_PAGE;
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

pub struct GetJob;

/// The job, and which results to show.
#[derive(serde::Serialize)]
pub struct JobQuery {
    id: String,
    /// `Some((from, limit))` with `?results=1`.
    results: Option<(u32, u32)>,
}

impl Operation for GetJob {
    const ROUTE: Route = Route::read("GET", "/jobs/{id}", "get-job").without_engine();
    type Command = JobQuery;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<JobQuery, ApiError> {
        check_no_body(body_bytes(req)?)?;
        let query = query_params(req, &["results", "cursor", "limit"])?;
        let id = path_job_id(params.get("id"))?.to_string();
        let with_results = query_number(&query, "results", 0..=1, 0)? == 1;
        let from = query_number(&query, "cursor", 0..=u32::MAX, 0)?;
        let limit = query_number(&query, "limit", 1..=MAX_RESULTS_PAGE, DEFAULT_RESULTS_PAGE)?;
        Ok(JobQuery {
            id,
            results: with_results.then_some((from, limit)),
        })
    }

    fn subject(_: &JobQuery) -> Subject<'_> {
        Subject {
            action: "get_job",
            group: None,
            participants: &[],
        }
    }

    async fn execute<E: Engine + ?Sized>(
        query: &JobQuery,
        on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let jobs = on.jobs()?;
        let job = find(jobs, &query.id).await?;
        let mut reply = serde_json::json!({"success": true, "job": view(jobs, &job)});
        if let Some((from, limit)) = query.results {
            let page = results(jobs, &job, from, limit).await?;
            let next = from.saturating_add(page.len() as u32);
            reply["results"] = serde_json::to_value(&page)
                .map_err(|e| ApiError::internal(format!("serialising results: {e}")))?;
            reply["next_cursor"] = if next < job.total {
                next.to_string().into()
            } else {
                serde_json::Value::Null
            };
        }
        on.ok(&reply)
    }
}
