//! Every function's `bootstrap` under AWS's own Lambda Runtime Interface
//! Emulator (the `aws-lambda-rie` that ships inside aws-sam-cli), fed every
//! `events/*.json` for that function plus events made by
//! `sam local generate-event apigateway http-api-proxy` and edited, so a
//! payload nobody here wrote is exercised (base64 body, stage-prefixed path,
//! percent-encoded JID, cookies, query string, JWT authorizer block).
//!
//! The functions reach DynamoDB on moto and the WUTS fake on loopback.
//! Which bootstraps: `LAMBDA_BOOTSTRAP_DIR/<function>/bootstrap` when set
//! (the cargo-lambda x86_64 release build in CI), else `target/debug/<function>`
//! (the test command builds them). Without the emulator (`LAMBDA_RIE`, or
//! aws-sam-cli in `.venv`) the test prints one line and skips.

use crate::support::root;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use shared::jobs::JobStore;
use shared::operations::ROUTES;
use shared::routes::UNMATCHED_BINARY;
use shared::store::dynamo::DynamoStore;
use shared::store::{AuditStore, TenantStore, TokenStore};
use testkit::events;
use testkit::fakes::Flavour;
use testkit::harness::{TOKEN, tenant_for, token_record};
use testkit::moto::{client_for, unique_tables};
use testkit::moto_or_skip;
use testkit::wuts_fake::WutsFake;
use tokio::process::{Child, Command};
use tools::tables::create_tables;

/// The emulator binary: `LAMBDA_RIE`, else the one inside `.venv`'s aws-sam-cli.
fn rie_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LAMBDA_RIE") {
        return Some(PathBuf::from(path));
    }
    let lib = root().join(".venv/lib");
    std::fs::read_dir(lib)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| {
            e.path()
                .join("site-packages/samcli/local/rapid/aws-lambda-rie-x86_64")
        })
        .find(|p| p.is_file())
}

fn sam_path() -> PathBuf {
    std::env::var_os("SAM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/sam"))
}

/// The function's bootstrap: the cargo-lambda x86_64 build where
/// `LAMBDA_BOOTSTRAP_DIR` names one (CI), else the debug binary.
pub(super) fn bootstrap(function: &str) -> PathBuf {
    let path = match std::env::var_os("LAMBDA_BOOTSTRAP_DIR") {
        Some(dir) => PathBuf::from(dir).join(function).join("bootstrap"),
        None => testkit::bins::built(function),
    };
    assert!(
        path.is_file(),
        "{} is missing: build the functions first (`cargo build --workspace --bins`, \
         which scripts/test.sh does)",
        path.display()
    );
    path
}

/// Test doubles never ship: no bootstrap the emulator runs (the release
/// builds in CI, else the debug ones) contains the `testkit` crate's mark,
/// which `local-api` (built on the simulator and the memory store) does.
#[test]
fn no_bootstrap_contains_a_test_double() {
    let contains = |path: &Path| {
        let bytes = std::fs::read(path).unwrap();
        memchr::memmem::find(&bytes, testkit::MARK.as_bytes()).is_some()
    };
    assert!(
        contains(&testkit::bins::built("local-api")),
        "local-api carries the mark (else this test proves nothing)"
    );
    let functions = ROUTES
        .iter()
        .map(|r| r.function)
        .chain([UNMATCHED_BINARY, "jobs-worker", "events-delivery"])
        .chain(shared::engine::EngineKind::ALL.map(hook_binary));
    let mut checked = 0;
    for function in functions {
        let path = bootstrap(function);
        assert!(
            !contains(&path),
            "{} contains a test double",
            path.display()
        );
        checked += 1;
    }
    assert_eq!(
        checked,
        ROUTES.len() + 3 + shared::engine::EngineKind::ALL.len()
    );
}

/// The function an event is for, by its route key: `$default` is the
/// unmatched-route function, anything else the route table's binary.
fn function_for(event: &Value) -> &'static str {
    let key = event["routeKey"].as_str().expect("routeKey");
    if key == "$default" {
        return UNMATCHED_BINARY;
    }
    if let Some(engine) = shared::engine::EngineKind::ALL
        .into_iter()
        .find(|e| key == format!("POST {}", shared::events::ingress::route_path_of(*e)))
    {
        return hook_binary(engine);
    }
    ROUTES
        .iter()
        .find(|r| format!("{} {}", r.method, r.path) == key)
        .unwrap_or_else(|| panic!("no route for routeKey {key:?}"))
        .function
}

/// The ingress binary of an engine (`hooks-<engine>`).
fn hook_binary(engine: shared::engine::EngineKind) -> &'static str {
    match engine {
        shared::engine::EngineKind::SessionService => "hooks-session-service",
        shared::engine::EngineKind::Wuts => "hooks-wuts",
        shared::engine::EngineKind::Evolution => "hooks-evolution",
        shared::engine::EngineKind::Waha => "hooks-waha",
    }
}

/// What each event in `events/` must get: an operation's sample
/// (`events/<function>.json`) its success status; any other event what
/// `tests/event-statuses.json` says (derived; `scripts/sam-local.sh` reads it
/// too).
struct ExpectedStatuses(BTreeMap<String, u16>);

impl ExpectedStatuses {
    fn load() -> Self {
        let path = root().join("tests/event-statuses.json");
        Self(serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap())
    }

    fn of(&self, name: &str) -> u16 {
        let stem = name.strip_suffix(".json").unwrap_or(name);
        // An operation's own sample succeeds, unless the sample tenant's
        // engine cannot make it (then the file says 501).
        if ROUTES.iter().any(|r| r.function == stem) && !self.0.contains_key(name) {
            return testkit::fakes::success_status(stem);
        }
        *self.0.get(name).unwrap_or_else(|| {
            panic!("events/{name} has no expected status in tests/event-statuses.json")
        })
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One function running under the emulator; killed on drop.
struct Emulated {
    child: Child,
    url: String,
    name: &'static str,
}

impl Drop for Emulated {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

impl Emulated {
    async fn start(rie: &Path, function: &'static str, env: &[(String, String)]) -> Self {
        let (api, runtime) = (free_port(), free_port());
        let child = Command::new(rie)
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{api}"))
            .arg("--runtime-api-address")
            .arg(format!("127.0.0.1:{runtime}"))
            .arg(bootstrap(function))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            // The template's timeouts: the worker's 120 s, 15 s for the rest.
            .env(
                "AWS_LAMBDA_FUNCTION_TIMEOUT",
                match function {
                    "jobs-worker" => "120",
                    "events-delivery" => "30",
                    _ => "15",
                },
            )
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function}"),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "emulator")
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("starting aws-lambda-rie");
        let url = format!("http://127.0.0.1:{api}/2015-03-31/functions/function/invocations");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", api))
                .await
                .is_ok()
            {
                return Self {
                    child,
                    url,
                    name: function,
                };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("aws-lambda-rie for {function} did not listen on {api}");
    }

    /// Invokes with `event`; returns (status, headers lower-cased, body JSON).
    async fn invoke(&self, event: &Value) -> (u16, BTreeMap<String, String>, Value) {
        let reply: Value = reqwest::Client::new()
            .post(&self.url)
            .body(event.to_string())
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("invoking {}: {e}", self.name))
            .bytes()
            .await
            .map(|b| serde_json::from_slice(&b))
            .unwrap_or_else(|e| panic!("reading {}'s answer: {e}", self.name))
            .unwrap_or_else(|e| panic!("{} answered no JSON: {e}", self.name));
        let status = reply["statusCode"]
            .as_u64()
            .unwrap_or_else(|| panic!("{} answered no statusCode: {reply}", self.name))
            as u16;
        let headers = reply["headers"]
            .as_object()
            .unwrap_or_else(|| panic!("no headers: {reply}"))
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string()))
            .collect();
        let text = reply["body"].as_str().unwrap_or_default();
        assert_ne!(reply["isBase64Encoded"], true, "JSON bodies go as text");
        let body = serde_json::from_str(text)
            .unwrap_or_else(|_| panic!("{}: body is not JSON: {text:?}", self.name));
        (status, headers, body)
    }
}

/// Status, envelope, `Content-Type` and `X-Request-Id` = the event's request id.
fn check(what: &str, event: &Value, want: u16, got: &(u16, BTreeMap<String, String>, Value)) {
    let (status, headers, body) = got;
    assert_eq!(*status, want, "{what}: {body}");
    let request_id = event["requestContext"]["requestId"].as_str().unwrap();
    assert_eq!(
        headers.get("x-request-id").map(String::as_str),
        Some(request_id),
        "{what}: X-Request-Id is the event's requestContext.requestId"
    );
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("application/json"),
        "{what}"
    );
    if want < 300 {
        assert_eq!(body["success"], true, "{what}: {body}");
    } else {
        assert_eq!(body["success"], false, "{what}: {body}");
        assert_eq!(body["request_id"], request_id, "{what}: {body}");
        for field in ["error", "error_code", "timestamp"] {
            assert!(
                body[field].is_string(),
                "{what}: envelope lacks {field}: {body}"
            );
        }
    }
}

/// `sam local generate-event apigateway http-api-proxy` with these options.
async fn generate_event(args: &[&str]) -> Value {
    let out = Command::new(sam_path())
        .args(["local", "generate-event", "apigateway", "http-api-proxy"])
        .args(args)
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {}: {e}", sam_path().display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("generate-event printed JSON")
}

/// A generated event edited into a request for us: our token added to the
/// headers it already has, and a request id of its own.
fn authorised(mut event: Value, request_id: &str) -> Value {
    event["headers"]["authorization"] = json!(format!("Bearer {TOKEN}"));
    event["requestContext"]["requestId"] = json!(request_id);
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_under_the_aws_lambda_emulator() {
    let Some(rie) = rie_path() else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED every_function_under_the_aws_lambda_emulator: no aws-lambda-rie \
             (set LAMBDA_RIE or run scripts/test.sh, which installs aws-sam-cli)"
        );
        return;
    };
    // The sample events' tenant runs WUTS, as under `sam local`: its fake
    // serves every operation.
    let fake = WutsFake::start_engine(Flavour::Wuts).await;
    let tables = unique_tables();
    let moto = moto_or_skip!();
    let client = client_for(&moto);
    create_tables(&client, &tables, Duration::from_secs(30))
        .await
        .expect("creating tables in moto");
    let store = DynamoStore::new(client, tables.clone());
    store
        .put_tenant(&tenant_for(Flavour::Wuts, &fake.base_url()))
        .await
        .unwrap();
    store.put_token(&token_record(TOKEN, "acme")).await.unwrap();
    testkit::harness::seed_sample_job(&store, &tenant_for(Flavour::Wuts, &fake.base_url())).await;
    shared::provision::seed_sample_hook(&store, &tenant_for(Flavour::Wuts, &fake.base_url()))
        .await
        .unwrap();
    // The jobs queues on moto's SQS, as `admin create-tables` makes them.
    let sqs = testkit::moto::sqs_client_for(&moto);
    let queues = tools::tables::create_queues(&sqs, &tables.jobs)
        .await
        .expect("creating the jobs queues in moto");
    let deliveries = tools::tables::create_event_queues(&sqs, &tables.events)
        .await
        .expect("creating the deliveries queues in moto");
    // One more tenant per engine, each on its own fake, each with a token.
    let mut engine_tenants = Vec::new();
    for flavour in [
        Flavour::SessionService,
        Flavour::Evolution,
        Flavour::WahaGows,
    ] {
        let engine_fake = WutsFake::start_engine(flavour).await;
        let mut tenant = tenant_for(flavour, &engine_fake.base_url());
        tenant.tenant_id = format!("t-{}", flavour.engine());
        store.put_tenant(&tenant).await.unwrap();
        testkit::harness::seed_sample_job(&store, &tenant).await;
        shared::provision::seed_sample_hook(&store, &tenant)
            .await
            .unwrap();
        let token = uuid::Uuid::new_v4().to_string();
        store
            .put_token(&token_record(&token, &tenant.tenant_id))
            .await
            .unwrap();
        engine_tenants.push((flavour, token, engine_fake));
    }
    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("TOKENS_TABLE", tables.tokens.as_str()),
        ("TENANTS_TABLE", tables.tenants.as_str()),
        ("IDEMPOTENCY_TABLE", tables.idempotency.as_str()),
        ("AUDIT_TABLE", tables.audit.as_str()),
        ("LANES_TABLE", tables.lanes.as_str()),
        ("JOBS_TABLE", tables.jobs.as_str()),
        ("EVENTS_TABLE", tables.events.as_str()),
        ("JOBS_QUEUE_URL", queues.url.as_str()),
        ("EVENTS_QUEUE_URL", deliveries.url.as_str()),
        ("AWS_ENDPOINT_URL_SQS", moto.as_str()),
        ("ENGINE_ALLOW_HTTP", "true"),
        ("ENGINE_TIMEOUT_MS", "5000"),
        ("AUTH_CACHE_TTL_SECS", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();

    // The events, grouped by the function their route key names.
    let mut by_function: BTreeMap<&'static str, Vec<(String, Value)>> = BTreeMap::new();
    for name in events::event_names() {
        let event: Value = serde_json::from_str(&events::raw(&name)).unwrap();
        by_function
            .entry(function_for(&event))
            .or_default()
            .push((name, event));
    }
    let every_function: Vec<&'static str> = ROUTES
        .iter()
        .map(|r| r.function)
        .chain([UNMATCHED_BINARY])
        .chain(shared::engine::EngineKind::ALL.map(hook_binary))
        .collect();
    for function in &every_function {
        assert!(
            by_function.contains_key(function),
            "events/ has no event for {function}"
        );
    }

    // Generated by SAM, then edited: a base64 body (the generator's default
    // encoding) on a percent-encoded JID, and a named stage in the path.
    let group = "120363039000000000@g.us";
    let encoded = "120363039000000000%40g.us";
    let participants_body = r#"{"participants":["+55 11 88888-8888"],"action":"promote"}"#;
    let path = format!("groups/{encoded}/participants");
    let generated_delete = authorised(
        generate_event(&[
            "--method",
            "DELETE",
            "--path",
            &path,
            "--body",
            participants_body,
        ])
        .await,
        "gen-delete-encoded-base64",
    );
    assert_eq!(
        generated_delete["isBase64Encoded"], true,
        "the generator encodes bodies"
    );
    let path = format!("v1/groups/{group}/invite");
    let mut generated_staged = authorised(
        generate_event(&["--method", "GET", "--stage", "v1", "--path", &path]).await,
        "gen-get-staged",
    );
    // A GET carries no body; the generator always writes one.
    let edited = generated_staged.as_object_mut().unwrap();
    edited.remove("body");
    edited.insert("isBase64Encoded".into(), json!(false));
    let path = format!("groups/{encoded}/invite/reset");
    let generated_reset = authorised(
        generate_event(&["--method", "POST", "--path", &path, "--body", "{}"]).await,
        "gen-reset-encoded",
    );
    let generated_unknown = authorised(
        generate_event(&["--method", "PATCH", "--path", "v1/nope", "--stage", "v1"]).await,
        "gen-unknown",
    );
    let mut extra: BTreeMap<&str, Vec<(String, Value, u16)>> = BTreeMap::new();
    extra.entry("remove-group-participants").or_default().push((
        "generated DELETE, base64 body, %40 in the JID".into(),
        generated_delete,
        200,
    ));
    extra.entry("get-group-invite-link").or_default().push((
        "generated GET on stage v1".into(),
        generated_staged.clone(),
        200,
    ));
    extra.entry("reset-group-invite-link").or_default().push((
        "generated POST, base64 {}, %40 in the JID".into(),
        generated_reset,
        200,
    ));
    extra.entry(UNMATCHED_BINARY).or_default().push((
        "generated PATCH /v1/nope".into(),
        generated_unknown,
        404,
    ));
    // A binary answers only its own route.
    let mut elsewhere = generated_staged;
    elsewhere["requestContext"]["requestId"] = json!("gen-wrong-function");
    extra.entry("remove-group-participants").or_default().push((
        "another route's event".into(),
        elsewhere,
        404,
    ));

    let expected = ExpectedStatuses::load();
    let functions = every_function.len();
    let generated_successes = extra
        .values()
        .flatten()
        .filter(|(_, _, want)| *want == 200)
        .count();
    let calls_before = fake.calls().len();
    let mut invoked = 0;
    for function in every_function {
        let emulated = Emulated::start(&rie, function, &env).await;
        for (name, event) in &by_function[function] {
            let got = emulated.invoke(event).await;
            check(
                &format!("{function} <- {name}"),
                event,
                expected.of(name),
                &got,
            );
            if name == "unmatched-route-method.json" {
                assert_eq!(got.1.get("allow").map(String::as_str), Some("GET"));
                assert_eq!(got.2["error_code"], "METHOD_NOT_ALLOWED");
            }
            invoked += 1;
        }
        // The function's own event, as each engine's tenant (an ingress
        // has no bearer token: its sample names its engine's hook).
        if function != UNMATCHED_BINARY && !function.starts_with("hooks-") {
            let own: Value =
                serde_json::from_str(&events::raw(&format!("{function}.json"))).unwrap();
            for (flavour, token, _) in &engine_tenants {
                let mut event = own.clone();
                event["headers"]["authorization"] = json!(format!("Bearer {token}"));
                event["requestContext"]["requestId"] =
                    json!(format!("eng-{}-{function}", flavour.engine()));
                let want = if flavour.supports(function) {
                    testkit::fakes::success_status(function)
                } else {
                    501
                };
                let got = emulated.invoke(&event).await;
                check(
                    &format!("{function} <- {}", flavour.name()),
                    &event,
                    want,
                    &got,
                );
                invoked += 1;
            }
        }
        for (what, event, want) in extra.remove(function).unwrap_or_default() {
            let got = emulated.invoke(&event).await;
            check(&format!("{function} <- {what}"), &event, want, &got);
            if what.starts_with("generated DELETE") {
                let entry = &got.2["participants"][0];
                assert_eq!(entry["jid"], "5511888888888@s.whatsapp.net", "{}", got.2);
            }
            invoked += 1;
        }
    }
    assert!(
        extra.is_empty(),
        "events for no function: {:?}",
        extra.keys()
    );
    // The ingress samples without an engine time (Evolution's clock is not
    // trusted; the session-service sample names none) were stored; the
    // others carry June's time, past the dedupe window: taken and ignored.
    use shared::events::EventStore;
    for (tenant, kind) in [
        ("t-evolution", "group.participants.added"),
        ("t-session-service", "group.participants.removed"),
    ] {
        let stored = store.list_events(tenant, 10, None).await.unwrap();
        assert_eq!(stored.len(), 1, "{tenant}: {stored:?}");
        assert_eq!(stored[0].kind.as_str(), kind);
        assert_eq!(stored[0].tenant_id, tenant);
    }
    assert!(
        store
            .list_events("acme", 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    // Every success above reached WUTS (one call each: WUTS takes an update
    // in one call); the 4xx ones did not.
    let sent = fake.calls().len() - calls_before;
    let successes = events::event_names()
        .iter()
        .filter(|n| expected.of(n) < 300)
        .filter(|n| testkit::fakes::calls_engine(n.strip_suffix(".json").unwrap_or(n)))
        .count()
        + generated_successes;
    assert_eq!(
        sent, successes,
        "upstream calls: one per success, none for a 4xx"
    );
    assert!(
        events::event_names()
            .iter()
            .filter(|n| !n.contains("invalid")
                && !n.contains("no-auth")
                && !n.contains("unknown-field")
                && !n.starts_with("unmatched-route"))
            .all(|n| expected.of(n) < 300
                || (expected.of(n) == 501
                    && !Flavour::Wuts.supports(n.strip_suffix(".json").unwrap_or(n)))),
        "every sample event of an operation succeeds on the sample tenant, \
         unless its engine cannot make the call"
    );
    assert!(invoked >= functions + 5);
    for (flavour, _, engine_fake) in &engine_tenants {
        let supported: usize = ROUTES
            .iter()
            .filter(|r| flavour.supports(r.function))
            .map(|r| flavour.calls_for(r.function))
            .sum();
        assert_eq!(
            engine_fake.calls().len(),
            supported,
            "{}: one call per supported function",
            flavour.name()
        );
    }

    // The jobs worker, on the SQS event of the sample tenant's job (the
    // shape of `sam local generate-event sqs receive-message`, with the
    // message as moto's SQS delivered it).
    let received = sqs
        .receive_message()
        .queue_url(&queues.url)
        .max_number_of_messages(10)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let message = received
        .messages()
        .iter()
        .find(|m| {
            m.body()
                .unwrap_or_default()
                .contains("\"tenant_id\":\"acme\"")
        })
        .expect("the sample tenant's job was queued");
    let body: Value = serde_json::from_str(message.body().unwrap()).unwrap();
    let job_id = body["job_id"].as_str().unwrap().to_string();
    let attributes: serde_json::Map<String, Value> = message
        .attributes()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), json!(v)))
        .collect();
    let event = json!({"Records": [{
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body(),
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs.fifo",
        "awsRegion": "us-east-1"
    }]});
    let before = fake.calls().len();
    let worker = Emulated::start(&rie, "jobs-worker", &env).await;
    let reply: Value = reqwest::Client::new()
        .post(&worker.url)
        .body(event.to_string())
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    assert_eq!(reply["batchItemFailures"], json!([]), "{reply}");
    let job = store.get_job("acme", &job_id).await.unwrap().unwrap();
    assert_eq!(job.status, shared::jobs::JobStatus::Completed, "{job:?}");
    assert_eq!(job.ok, job.total, "{job:?}");
    assert_eq!(
        fake.calls().len() - before,
        1,
        "pacing off: the six adds in one call"
    );
    let audit = store.list_audit("acme", None, 100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.job_id.as_deref() == Some(job_id.as_str())),
        "the job's engine call is audited with its job_id"
    );

    // An engine's change through its ingress function to a subscribed
    // endpoint: the ingress queues the delivery on SQS, the delivery
    // function (on that message) signs and sends it, and the official
    // Standard Webhooks library verifies it at the receiver.
    let Some(python) = crate::pipeline::delivery::python() else {
        testkit::moto::say_skipped("the delivery function under the emulator", "no TEST_PYTHON");
        return;
    };
    let endpoint = shared::events::delivery::add_endpoint(
        &store,
        "t-session-service",
        "http://127.0.0.1:9/hook",
        vec!["group.*".into()],
        true,
        shared::clock::now_epoch(),
    )
    .await
    .unwrap();
    let mut rx = crate::pipeline::delivery::Receiver::start(&python, &endpoint.secret, "200").await;
    let mut live = endpoint.clone();
    live.url = rx.url.clone();
    store.put_endpoint(&live).await.unwrap();
    let mut hook_event: Value =
        serde_json::from_str(&events::raw("hooks-session-service.json")).unwrap();
    hook_event["body"] = json!(json!({"type": "group.participants.demoted", "session": "sess-acme-1",
        "data": {"group_jid": "120363039000000000@g.us", "participants": [{"jid": "5511966665555@s.whatsapp.net"}]}}).to_string());
    hook_event["requestContext"]["requestId"] = json!("hook-to-delivery");
    let ingress = Emulated::start(&rie, "hooks-session-service", &env).await;
    let got = ingress.invoke(&hook_event).await;
    assert_eq!(got.0, 200, "{}", got.2);
    assert_eq!(got.2["stored"], 1, "{}", got.2);
    let received = sqs
        .receive_message()
        .queue_url(&deliveries.url)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    let message = received
        .messages()
        .first()
        .expect("the ingress queued a delivery");
    let sqs_event = json!({"Records": [{
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body(),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:events-deliveries",
        "awsRegion": "us-east-1"
    }]});
    let delivery = Emulated::start(&rie, "events-delivery", &env).await;
    let reply: Value = reqwest::Client::new()
        .post(&delivery.url)
        .body(sqs_event.to_string())
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    assert_eq!(reply["batchItemFailures"], json!([]), "{reply}");
    let seen = rx.next().await;
    assert_eq!(seen["verified"], true, "{seen}");
    let stored = store
        .list_events("t-session-service", 10, None)
        .await
        .unwrap();
    assert_eq!(seen["webhook_id"], stored[0].id.as_str());
}
