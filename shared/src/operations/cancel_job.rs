//! `DELETE /jobs/{id}`: cancels one of the caller's paced jobs. Nothing
//! more is sent (a chunk already handed to the engine keeps its outcome);
//! the entries not sent become `cancelled`. A job that already finished is
//! answered as it is.

use lambda_http::Request;

use super::jobs::{find, path_job_id, view};
use super::{body_bytes, invite::check_no_body};
use crate::engine::Engine;
use crate::error::ApiError;
use crate::jobs::{JobStatus, StatusChange};
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

pub struct CancelJob;

impl Operation for CancelJob {
    const ROUTE: Route = Route::write("DELETE", "/jobs/{id}", "cancel-job").without_engine();
    type Command = String;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<String, ApiError> {
        check_no_body(body_bytes(req)?)?;
        Ok(path_job_id(params.get("id"))?.to_string())
    }

    fn subject(_: &String) -> Subject<'_> {
        Subject {
            action: "cancel_job",
            group: None,
            participants: &[],
        }
    }

    async fn execute<E: Engine + ?Sized>(id: &String, on: On<'_, E>) -> Result<Executed, ApiError> {
        let jobs = on.jobs()?;
        let change = StatusChange::to(JobStatus::Cancelled, crate::clock::now_ms());
        let job = match jobs
            .store
            .set_status(jobs.tenant_id, id, &JobStatus::LIVE, &change)
            .await?
        {
            Some(job) => job,
            // Not live: finished already, or not the caller's.
            None => find(jobs, id).await?,
        };
        on.ok(&serde_json::json!({"success": true, "job": view(jobs, &job)}))
    }
}
