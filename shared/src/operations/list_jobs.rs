//! `GET /jobs`: the caller's paced jobs, newest first; `?limit=` (1–100,
//! default 20) and `?cursor=` from the previous page's `next_cursor`.

use lambda_http::Request;

use super::jobs::{path_job_id, query_number, query_params, view};
use super::{body_bytes, invite::check_no_body};
use crate::engine::Engine;
use crate::error::{ApiError, FieldError};
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

pub struct ListJobs;

pub const DEFAULT_JOBS_PAGE: u32 = 20;
pub const MAX_JOBS_PAGE: u32 = 100;

/// Which page.
#[derive(serde::Serialize)]
pub struct JobsPage {
    after: Option<String>,
    limit: u32,
}

impl Operation for ListJobs {
    const ROUTE: Route = Route::read("GET", "/jobs", "list-jobs").without_engine();
    type Command = JobsPage;

    fn prepare(_params: &Params<'_>, req: &Request) -> Result<JobsPage, ApiError> {
        check_no_body(body_bytes(req)?)?;
        let query = query_params(req, &["limit", "cursor"])?;
        let limit = query_number(&query, "limit", 1..=MAX_JOBS_PAGE, DEFAULT_JOBS_PAGE)?;
        let after = match query.get("cursor") {
            None => None,
            Some(raw) => Some(
                path_job_id(raw)
                    .map_err(|_| {
                        ApiError::validation(
                            "invalid query parameters",
                            vec![
                                FieldError::new("cursor", "not a cursor this API gave")
                                    .with_value(raw),
                            ],
                        )
                    })?
                    .to_string(),
            ),
        };
        Ok(JobsPage { after, limit })
    }

    fn subject(_: &JobsPage) -> Subject<'_> {
        Subject {
            action: "list_jobs",
            group: None,
            participants: &[],
        }
    }

    async fn execute<E: Engine + ?Sized>(
        page: &JobsPage,
        on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let jobs = on.jobs()?;
        let found = jobs
            .store
            .list_jobs(jobs.tenant_id, page.after.as_deref(), page.limit)
            .await?;
        let list: Vec<serde_json::Value> = found.jobs.iter().map(|j| view(jobs, j)).collect();
        on.ok(&serde_json::json!({
            "success": true,
            "jobs": list,
            "next_cursor": found.next,
        }))
    }
}
