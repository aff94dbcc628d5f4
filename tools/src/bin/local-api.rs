//! `local-api`: serves every route on 127.0.0.1 by turning each HTTP request
//! into the `lambda_http::Request` the Lambda runtime would hand over and
//! calling the very `shared::serve` the Lambda binaries run (on a task of
//! its own, `serve_detached`, so a client that hangs up cancels nothing).
//!
//! With DynamoDB configuration (`TOKENS_TABLE`/`TENANTS_TABLE`, or
//! `AWS_ENDPOINT_URL_DYNAMODB`) it uses DynamoDB and each tenant's WUTS; with
//! none, an embedded default: an in-process store with a demo tenant and
//! token, and the in-process WUTS simulator with a demo group and community.

#[path = "../docs.rs"]
mod docs;

/// The sample events, embedded by `tools/build.rs`.
mod samples {
    include!(concat!(env!("OUT_DIR"), "/events.rs"));
}

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use clap::Parser;
use shared::provision::{self, NewTenant};
use shared::store::{TenantStatus, TenantStore};
use shared::{ApiError, AppState};
use testkit::memory::MemoryStore;
use testkit::sim::{
    DEMO_ANNOUNCEMENT_GROUP, DEMO_APPROVAL_GROUP, DEMO_COMMUNITY, DEMO_GROUP, DEMO_LINKED_GROUP,
    DEMO_MEMBERS, DEMO_REQUESTERS, DEMO_SPARE_GROUP, Simulator,
};

/// Bodies are read up to this size; larger ones get the 413 envelope at once
/// (the handlers' own limits are smaller still: 16 KiB, 2 MiB for a picture).
const MAX_READ_BYTES: usize = 4 << 20;

#[derive(Parser)]
#[command(
    name = "local-api",
    about = "Serve the API on 127.0.0.1 with the Lambda handlers",
    version
)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// DynamoDB mode: also run the paced-jobs worker in process, on the
    /// SQS queue named by `JOBS_QUEUE_URL`.
    #[arg(long)]
    worker: bool,
}

/// The state with its jobs wired: in DynamoDB mode with `JOBS_QUEUE_URL`,
/// the SQS queue (and with `--worker`, its worker in process); otherwise
/// jobs run in process, a task per lane.
async fn with_jobs(mut state: AppState, worker: bool) -> Result<Arc<AppState>, String> {
    // Event deliveries: through EVENTS_QUEUE_URL where it is set (with
    // --worker, run in process from it), else in process, on the real
    // retry schedule.
    match shared::events::sqs::SqsEventQueue::from_env()
        .await
        .map_err(|e| e.to_string())?
    {
        Some(queue) => {
            state.events_queue = Arc::new(queue.clone());
            if worker {
                tokio::spawn(shared::events::sqs::poll(state.store.clone(), queue));
                println!("events worker: polling EVENTS_QUEUE_URL");
            }
        }
        None => {
            state.events_queue = Arc::new(shared::events::outbox::LocalEventQueue::new(
                state.store.clone(),
                1.0,
            ));
        }
    }
    let queue_url = std::env::var("JOBS_QUEUE_URL").is_ok_and(|v| !v.trim().is_empty());
    if !queue_url {
        if worker {
            return Err("--worker needs JOBS_QUEUE_URL (the jobs queue)".into());
        }
        return Ok(shared::jobs::in_process(state));
    }
    let queue = shared::jobs::sqs::SqsQueue::from_env()
        .await
        .map_err(|e| e.to_string())?;
    state.queue = Arc::new(queue.clone());
    let state = Arc::new(state);
    if worker {
        tokio::spawn(shared::jobs::lambda::poll(state.clone(), queue));
        println!("jobs worker: polling JOBS_QUEUE_URL");
    }
    Ok(state)
}

fn dynamo_configured() -> bool {
    ["TOKENS_TABLE", "TENANTS_TABLE", "AWS_ENDPOINT_URL_DYNAMODB"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.trim().is_empty()))
}

/// The embedded default: demo tenant and token, simulator upstream.
async fn embedded() -> Result<(AppState, String), String> {
    let store = Arc::new(MemoryStore::new());
    let demo = NewTenant {
        tenant_id: "demo".into(),
        name: Some("Demo tenant".into()),
        status: TenantStatus::Active,
        engine: shared::engine::EngineKind::SessionService,
        wuts_base_url: None,
        wuts_session_id: "demo-session".into(),
        wuts_api_key: "demo-wuts-key".into(),
        // On, at demo-scaled rates (the banner says which).
        pacing: shared::pacing::Pacing::demo(),
    };
    provision::put_tenant(store.as_ref(), demo, true)
        .await
        .map_err(|e| e.to_string())?;
    let issued = provision::issue_token(store.as_ref(), "demo", "demo-user", None, None)
        .await
        .map_err(|e| e.to_string())?;
    let lane = shared::pacing::lane_id("demo", "demo-session");
    provision::seed_sample_job(store.as_ref(), "demo", &lane, DEMO_GROUP)
        .await
        .map_err(|e| e.to_string())?;
    // The demo tenant's engine-webhook ingress (the banner's hook curl).
    let tenant = store
        .get_tenant("demo")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the demo tenant is missing")?;
    provision::seed_sample_hook(store.as_ref(), &tenant)
        .await
        .map_err(|e| e.to_string())?;
    let state = AppState::new(store, Arc::new(Simulator::demo()), Duration::from_secs(30));
    Ok((state, issued.token))
}

fn banner(base: &str, token: &str) -> String {
    let auth = format!("-H \"Authorization: Bearer {token}\"");
    let demo_add = shared::pacing::Pacing::demo().budget(shared::pacing::Class::Add);
    let mut lines = vec![
        "Embedded demo: in-process store and WUTS simulator (nothing else needs to run)."
            .to_string(),
        format!("demo token: {token}"),
        format!(
            "demo group: {DEMO_GROUP} (members {})",
            DEMO_MEMBERS.join(", ")
        ),
        format!(
            "demo community: {DEMO_COMMUNITY} (linked: {DEMO_LINKED_GROUP}, announcements: {DEMO_ANNOUNCEMENT_GROUP})"
        ),
        format!(
            "a group that asks for approval: {DEMO_APPROVAL_GROUP} (pending: {})",
            DEMO_REQUESTERS.join(", ")
        ),
        format!("a group to leave: {DEMO_SPARE_GROUP}"),
        format!(
            "pacing: on, scaled for the demo (add: {} at once, then one per {} ms; GET /pacing shows the lane)",
            demo_add.burst, demo_add.interval_ms,
        ),
        "paced jobs run in process at those demo rates (POST .../participants/jobs, then GET /jobs/{id})"
            .to_string(),
        "try (one sample per operation, from events/):".to_string(),
    ];
    for route in shared::operations::ROUTES {
        lines.push(sample_curl(route.function, base, &auth));
    }
    lines.push(
        "engine webhooks in (no bearer token: the hook token names the tenant; admin events list shows what was stored):"
            .to_string(),
    );
    lines.push(hook_curl(base));
    lines.join("\n")
}

/// The demo tenant's session-service ingress, posting one change of the
/// demo group in the normalised shape session-service sends.
fn hook_curl(base: &str) -> String {
    let engine = shared::engine::EngineKind::SessionService;
    let token = provision::sample_hook_token(engine);
    let body = serde_json::json!({
        "type": "group.participants.added",
        "session": "demo-session",
        "data": {"group_jid": DEMO_GROUP, "participants": [{"jid": "5511977776666@s.whatsapp.net"}]},
    });
    format!(
        "curl -sS -X POST \"{base}/hooks/{}/{token}\" -H \"Content-Type: application/json\" -d '{body}'",
        engine.as_str()
    )
}

/// The curl command of `events/<function>.json`, the operation's sample
/// request: its method, path and query, `Idempotency-Key` and JSON body.
fn sample_curl(function: &str, base: &str, auth: &str) -> String {
    let (_, raw) = samples::EVENTS
        .iter()
        .find(|(stem, _)| *stem == function)
        .unwrap_or_else(|| panic!("events/{function}.json is missing"));
    let event: serde_json::Value = serde_json::from_str(raw).expect("a sample event is JSON");
    let method = event["requestContext"]["http"]["method"]
        .as_str()
        .unwrap_or("GET");
    let mut path = event["rawPath"].as_str().unwrap_or("/").to_string();
    if let Some(q) = event["rawQueryString"].as_str().filter(|q| !q.is_empty()) {
        path = format!("{path}?{q}");
    }
    let mut line = format!("curl -sS -X {method} \"{base}{path}\" {auth}");
    if let Some(key) = event["headers"]["idempotency-key"].as_str() {
        line += &format!(" -H \"Idempotency-Key: {key}\"");
    }
    if let Some(body) = event["body"].as_str().filter(|b| !b.is_empty()) {
        line += &format!(" -H \"Content-Type: application/json\" -d '{body}'");
    }
    line
}

/// The API's OpenAPI document, served at `GET /openapi.yaml` without auth.
const OPENAPI: &str = include_str!("../../../openapi.yaml");

/// What every request of the server sees.
struct Server {
    state: Arc<AppState>,
    docs: docs::Docs,
}

async fn handle(
    State(server): State<Arc<Server>>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let state = server.state.clone();
    let path = req.uri().path();
    if path == "/docs" || path.starts_with("/docs/") {
        if req.method() != axum::http::Method::GET && req.method() != axum::http::Method::HEAD {
            let mut response = to_axum(
                ApiError::MethodNotAllowed {
                    allow: "GET".into(),
                }
                .to_response(&shared::context::new_request_id()),
            );
            docs::secure(response.headers_mut());
            return response;
        }
        return match server.docs.serve(path) {
            Some(response) => response,
            None => {
                let mut response = to_axum(
                    ApiError::NotFound {
                        message: "no such page",
                    }
                    .to_response(&shared::context::new_request_id()),
                );
                docs::secure(response.headers_mut());
                response
            }
        };
    }
    if req.uri().path() == "/openapi.yaml" {
        if req.method() == axum::http::Method::GET {
            return (
                [(axum::http::header::CONTENT_TYPE, "application/yaml")],
                OPENAPI,
            )
                .into_response();
        }
        let request_id = shared::context::new_request_id();
        return to_axum(
            ApiError::MethodNotAllowed {
                allow: "GET".into(),
            }
            .to_response(&request_id),
        );
    }
    let (parts, body) = req.into_parts();
    let response = match to_bytes(body, MAX_READ_BYTES).await {
        Ok(bytes) => {
            let body = if bytes.is_empty() {
                lambda_http::Body::Empty
            } else {
                match String::from_utf8(bytes.to_vec()) {
                    Ok(text) => lambda_http::Body::Text(text),
                    Err(e) => lambda_http::Body::Binary(e.into_bytes()),
                }
            };
            // Detached: a client that goes away mid-call cancels nothing.
            shared::serve_detached(state, lambda_http::Request::from_parts(parts, body)).await
        }
        Err(_) => ApiError::PayloadTooLarge {
            limit: shared::operations::set_group_picture::MAX_PICTURE_BODY_BYTES,
        }
        .to_response(&shared::context::new_request_id()),
    };
    to_axum(response)
}

fn to_axum(response: lambda_http::Response<lambda_http::Body>) -> axum::response::Response {
    let (parts, body) = response.into_parts();
    let body = match body {
        lambda_http::Body::Text(text) => axum::body::Body::from(text),
        lambda_http::Body::Binary(bytes) => axum::body::Body::from(bytes),
        _ => axum::body::Body::empty(),
    };
    axum::response::Response::from_parts(parts, body)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    shared::telemetry::init();
    let args = Args::parse();
    let (state, token) = if dynamo_configured() {
        match AppState::from_env().await {
            Ok(state) => (state.into_dyn(), None),
            Err(e) => {
                eprintln!("local-api: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        match embedded().await {
            Ok((state, token)) => (state, Some(token)),
            Err(e) => {
                eprintln!("local-api: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    if args.worker && token.is_some() {
        eprintln!(
            "local-api: --worker is for DynamoDB mode (the embedded default runs jobs in process)"
        );
        return ExitCode::FAILURE;
    }
    let state = match with_jobs(state, args.worker).await {
        Ok(state) => state,
        Err(e) => {
            eprintln!("local-api: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("local-api: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(args.port);
    let base = format!("http://127.0.0.1:{port}");
    match &token {
        Some(token) => println!("{}", banner(&base, token)),
        None => println!("DynamoDB mode: tenants and tokens from TOKENS_TABLE / TENANTS_TABLE"),
    }
    let docs = match docs::Docs::new(OPENAPI, token.as_deref()) {
        Ok(docs) => docs,
        Err(e) => {
            eprintln!("local-api: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("API reference: {base}/docs");
    println!("listening on {base}");
    let server = Server { state, docs };
    let app = Router::new().fallback(handle).with_state(Arc::new(server));
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        eprintln!("local-api: server error: {e}");
        return ExitCode::FAILURE;
    }
    println!("local-api stopped");
    ExitCode::SUCCESS
}
