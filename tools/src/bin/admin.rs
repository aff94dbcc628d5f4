//! `admin`: the operator CLI over the same shared store code as the functions.
//! Every failure is one line on stderr and a non-zero exit.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;
use shared::config::{ConfigError, Tables, engine_from_lookup, tables_from_lookup};
use shared::engine::EngineKind;
use shared::pacing::{Class, Override};
use shared::provision::{self, NewTenant, ProvisionError};
use shared::store::dynamo::{DynamoStore, client_from_env};
use shared::store::{AuditStore, Store, Tenant, TenantStatus, TenantStore, TokenRecord};
use tools::tables::create_tables;

#[derive(Parser)]
#[command(
    name = "admin",
    about = "Operate the WhatsApp group management API's tenants and tokens",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The group the sample job adds to (the sample events' group).
const SAMPLE_GROUP: &str = "120363039000000000@g.us";

#[derive(Subcommand)]
enum Command {
    /// Create every table the service uses (idempotent) and wait until active.
    CreateTables,
    /// Tenants: their status, engine and session.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// API tokens: issue, revoke, list.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit trail of mutating calls.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The tenant's event endpoints (Standard Webhooks) and their failed
    /// deliveries.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Group events received from the tenant's engine.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Stores the hook the sample event of the tenant's engine names
    /// (`events/hooks-<engine>.json`), for demos and the sample-event runs.
    /// Prints its `hook_path=`.
    SampleHook {
        #[arg(long)]
        tenant_id: String,
    },
    /// Stores the job the sample events name (`events/get-job.json`,
    /// `cancel-job.json`) for a tenant: a queued job no queue runs, for
    /// demos and the sample-event runs.
    SampleJob {
        #[arg(long)]
        tenant_id: String,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Subscribe an endpoint. Prints `endpoint_id=` then `secret=whsec_…`
    /// (shown once) as the last two lines.
    Add {
        #[arg(long)]
        tenant_id: String,
        /// https only; private, loopback and link-local addresses refused.
        #[arg(long)]
        url: String,
        /// Event types or prefixes, comma-separated (group.*,job.completed);
        /// none: every type.
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        /// Allow plain http and private addresses (tests, receivers in a VPC).
        #[arg(long)]
        allow_private: bool,
    },
    /// The tenant's endpoints (no secrets), one JSON object per line.
    List {
        #[arg(long)]
        tenant_id: String,
    },
    /// Unsubscribe an endpoint.
    Remove {
        #[arg(long)]
        tenant_id: String,
        #[arg(long)]
        endpoint_id: String,
    },
    /// A new secret (printed once as `secret=`); the old one keeps signing
    /// for 24 h. Also enables an endpoint a 410 disabled.
    Rotate {
        #[arg(long)]
        tenant_id: String,
        #[arg(long)]
        endpoint_id: String,
    },
    /// Deliveries that used up their retries, one JSON object per line.
    Failures {
        #[arg(long)]
        tenant_id: String,
        #[arg(long)]
        endpoint_id: Option<String>,
    },
    /// Send the failed deliveries again (one attempt each).
    Replay {
        #[arg(long)]
        tenant_id: String,
        #[arg(long)]
        endpoint_id: Option<String>,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// A tenant's events, newest first, one JSON object per line.
    List {
        #[arg(long)]
        tenant_id: String,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Only events older than this event id.
        #[arg(long)]
        before: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// A tenant's audit records, oldest first, one JSON object per line.
    List {
        #[arg(long)]
        tenant_id: String,
        /// Only records at or after this RFC 3339 instant (e.g. 2026-11-25T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum StatusArg {
    Active,
    Suspended,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create or replace a tenant.
    Put {
        #[arg(long)]
        tenant_id: String,
        /// The engine's URL, whatever the engine.
        #[arg(long, visible_alias = "engine-url")]
        wuts_base_url: String,
        /// The session-service session (the `session-service` engine only).
        #[arg(long)]
        wuts_session_id: Option<String>,
        /// The engine's key, whatever the engine (never printed).
        #[arg(long, visible_alias = "engine-key")]
        wuts_api_key: String,
        /// session-service (default), wuts, evolution, waha.
        #[arg(long, default_value = "session-service", value_parser = parse_engine)]
        engine: EngineKind,
        /// The Evolution instance or the WAHA session.
        #[arg(long)]
        engine_session: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_enum, default_value = "active")]
        status: StatusArg,
    },
    /// Show a tenant (the WUTS key is never printed).
    Get {
        #[arg(long)]
        tenant_id: String,
    },
    /// Suspend a tenant: its tokens get 403 until it is activated again.
    Suspend {
        #[arg(long)]
        tenant_id: String,
    },
    /// Activate a suspended tenant.
    Activate {
        #[arg(long)]
        tenant_id: String,
    },
    /// The tenant's pacing (`pacing.md`): one class's budget (unset flags
    /// keep what is there), or pacing off / on. Prints the effective budgets.
    Pacing {
        #[arg(long)]
        tenant_id: String,
        /// add, change, create, settings, read.
        #[arg(long, value_parser = parse_class, required_unless_present_any = ["off", "on"])]
        class: Option<Class>,
        /// One unit per this many milliseconds.
        #[arg(long, requires = "class")]
        interval_ms: Option<u64>,
        /// At most this many at once.
        #[arg(long, requires = "class")]
        burst: Option<u32>,
        /// At most this many a UTC day.
        #[arg(long, requires = "class")]
        daily: Option<u32>,
        /// Turn pacing off: only WhatsApp's own answers limit the tenant.
        #[arg(long, conflicts_with_all = ["on", "class"])]
        off: bool,
        /// Turn pacing back on.
        #[arg(long, conflicts_with = "class")]
        on: bool,
    },
    /// Create (or rotate) the tenant's engine-webhook ingress token. Prints
    /// `hook_path=/hooks/<engine>/<token>` alone on the last line, once.
    Hook {
        #[arg(long)]
        tenant_id: String,
        /// The engine's own webhook signing secret (WAHA's HMAC key,
        /// Evolution's header value or JWT key, session-service's Standard
        /// Webhooks secret), checked on every call where set.
        #[arg(long)]
        engine_secret: Option<String>,
    },
}

fn parse_class(s: &str) -> Result<Class, String> {
    Class::parse(s).ok_or_else(|| "one of add, change, create, settings, read".to_string())
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a new token; the token itself is printed once, alone on the last line.
    Issue {
        #[arg(long)]
        tenant_id: String,
        #[arg(long)]
        user_id: String,
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// Comma-separated: groups:read, groups:write. Without it, both.
        #[arg(long)]
        scopes: Option<String>,
    },
    /// Revoke a token (given in clear).
    Revoke {
        #[arg(long)]
        token: String,
    },
    /// List a tenant's tokens (ids and metadata; never the tokens).
    List {
        #[arg(long)]
        tenant_id: String,
    },
}

#[derive(Debug)]
struct Failure(String);

impl From<ProvisionError> for Failure {
    fn from(e: ProvisionError) -> Self {
        Failure(e.to_string())
    }
}

impl From<shared::store::StoreError> for Failure {
    fn from(e: shared::store::StoreError) -> Self {
        Failure(e.to_string())
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure(e.to_string())
    }
}

fn tenant_json(t: &Tenant) -> serde_json::Value {
    let mut v = json!({
        "tenant_id": t.tenant_id,
        "name": t.name,
        "status": t.status,
        "engine": t.engine,
        "wuts_base_url": t.wuts_base_url,
        "wuts_session_id": t.wuts_session_id,
        "wuts_api_key": "<redacted>",
    });
    if matches!(t.engine, EngineKind::Evolution | EngineKind::Waha) {
        v["engine_session"] = json!(t.wuts_session_id);
    }
    v
}

fn parse_engine(s: &str) -> Result<EngineKind, String> {
    EngineKind::parse(s).ok_or_else(|| {
        format!("unknown engine {s:?}; expected session-service, wuts, evolution or waha")
    })
}

/// The session flag the engine takes, and only that one: `--wuts-session-id`
/// for session-service, `--engine-session` for evolution and waha, none for
/// wuts (its key names the device).
fn session_flag(
    engine: EngineKind,
    wuts_session_id: Option<String>,
    engine_session: Option<String>,
) -> Result<String, Failure> {
    match (engine, wuts_session_id, engine_session) {
        (EngineKind::SessionService, Some(s), None) => Ok(s),
        (EngineKind::SessionService, None, _) => Err(Failure(
            "the session-service engine needs --wuts-session-id".into(),
        )),
        (EngineKind::Wuts, None, None) => Ok(String::new()),
        (EngineKind::Evolution | EngineKind::Waha, None, Some(s)) => Ok(s),
        (EngineKind::Evolution | EngineKind::Waha, _, None) => Err(Failure(format!(
            "the {engine} engine needs --engine-session (its {})",
            engine.session_name().unwrap_or("session")
        ))),
        (engine, Some(_), _) => Err(Failure(format!(
            "--wuts-session-id is for the session-service engine, not {engine}"
        ))),
        (engine, _, Some(_)) => Err(Failure(format!(
            "--engine-session is not used by the {engine} engine"
        ))),
    }
}

fn token_json(t: &TokenRecord) -> serde_json::Value {
    json!({
        "token_id": t.token_id,
        "tenant_id": t.tenant_id,
        "user_id": t.user_id,
        "status": t.status,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        // A token from before scopes has every scope.
        "scopes": t.scopes.as_deref().unwrap_or(&shared::scope::Scope::ALL),
    })
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

async fn store(tables: Tables) -> Result<DynamoStore, Failure> {
    Ok(DynamoStore::new(client_from_env().await?, tables))
}

/// The table variables a command needs: only the tables it touches are
/// required, so `tenant put` works with `TENANTS_TABLE` alone.
fn needed_tables(command: &Command) -> &'static [&'static str] {
    const ALL: &[&str] = &[
        "TOKENS_TABLE",
        "TENANTS_TABLE",
        "IDEMPOTENCY_TABLE",
        "AUDIT_TABLE",
        "LANES_TABLE",
        "JOBS_TABLE",
        "EVENTS_TABLE",
    ];
    match command {
        Command::CreateTables => ALL,
        Command::Tenant {
            command: TenantCommand::Hook { .. },
        } => &["TENANTS_TABLE", "EVENTS_TABLE"],
        Command::Events { .. } => &["EVENTS_TABLE"],
        Command::Webhook { .. } => &["TENANTS_TABLE", "EVENTS_TABLE"],
        Command::SampleHook { .. } => &["TENANTS_TABLE", "EVENTS_TABLE"],
        Command::Tenant { .. } => &["TENANTS_TABLE"],
        // Issuing checks that the tenant exists.
        Command::Token {
            command: TokenCommand::Issue { .. },
        } => &["TOKENS_TABLE", "TENANTS_TABLE"],
        Command::Token { .. } => &["TOKENS_TABLE"],
        Command::Audit { .. } => &["AUDIT_TABLE"],
        Command::SampleJob { .. } => &["TENANTS_TABLE", "JOBS_TABLE"],
    }
}

/// The command's tables. A table it does not touch gets a name DynamoDB
/// refuses outright (`:` is not allowed), so a slip would fail loudly rather
/// than touch a real table.
fn tables_for(command: &Command) -> Result<Tables, ConfigError> {
    let needed = needed_tables(command);
    tables_from_lookup(&|key: &str| match env(key) {
        Some(value) if !value.trim().is_empty() => Some(value),
        _ if needed.contains(&key) => None,
        _ => Some(format!("unset:{key}")),
    })
}

async fn run(cli: Cli) -> Result<Vec<String>, Failure> {
    let tables = tables_for(&cli.command)?;
    let mut out = Vec::new();
    match cli.command {
        Command::CreateTables => {
            let client = client_from_env().await?;
            for report in create_tables(&client, &tables, Duration::from_secs(120)).await? {
                let what = if report.created { "created" } else { "exists" };
                out.push(format!("{what} {}", report.name));
            }
            // A local SQS stand-in: the deliveries' and the jobs' queues too
            // (in AWS, the template's).
            if env("AWS_ENDPOINT_URL_SQS").is_some_and(|v| !v.trim().is_empty()) {
                let config = shared::store::dynamo::sdk_config_from_env().await?;
                let sqs = shared::jobs::sqs::client_for_config(&config);
                let events = tools::tables::create_event_queues(&sqs, &tables.events).await?;
                out.push(format!(
                    "EVENTS_DEAD_LETTER_QUEUE_URL={}",
                    events.dead_letter_url
                ));
                out.push(format!("EVENTS_QUEUE_URL={}", events.url));
                let queues = tools::tables::create_queues(&sqs, &tables.jobs).await?;
                out.push(format!(
                    "JOBS_DEAD_LETTER_QUEUE_URL={}",
                    queues.dead_letter_url
                ));
                out.push(format!("JOBS_QUEUE_URL={}", queues.url));
            }
        }
        Command::Tenant { command } => {
            let store: Arc<dyn Store> = Arc::new(store(tables).await?);
            let tenant = match command {
                TenantCommand::Put {
                    tenant_id,
                    wuts_base_url,
                    wuts_session_id,
                    wuts_api_key,
                    engine,
                    engine_session,
                    name,
                    status,
                } => {
                    let allow_http = engine_from_lookup(&env)?.allow_http;
                    let wuts_session_id = session_flag(engine, wuts_session_id, engine_session)?;
                    let new = NewTenant {
                        tenant_id,
                        name,
                        status: match status {
                            StatusArg::Active => TenantStatus::Active,
                            StatusArg::Suspended => TenantStatus::Suspended,
                        },
                        engine,
                        wuts_base_url: Some(wuts_base_url),
                        wuts_session_id,
                        wuts_api_key,
                        pacing: Default::default(),
                    };
                    provision::put_tenant(store.as_ref(), new, allow_http).await?
                }
                TenantCommand::Get { tenant_id } => store
                    .get_tenant(&tenant_id)
                    .await?
                    .ok_or_else(|| Failure(format!("no tenant {tenant_id:?}")))?,
                TenantCommand::Suspend { tenant_id } => {
                    provision::set_tenant_status(
                        store.as_ref(),
                        &tenant_id,
                        TenantStatus::Suspended,
                    )
                    .await?
                }
                TenantCommand::Activate { tenant_id } => {
                    provision::set_tenant_status(store.as_ref(), &tenant_id, TenantStatus::Active)
                        .await?
                }
                TenantCommand::Hook {
                    tenant_id,
                    engine_secret,
                } => {
                    let path =
                        provision::create_hook(store.as_ref(), &tenant_id, engine_secret).await?;
                    out.push(format!("hook_path={path}"));
                    return Ok(out);
                }
                TenantCommand::Pacing {
                    tenant_id,
                    class,
                    interval_ms,
                    burst,
                    daily,
                    off,
                    on,
                } => {
                    let change = provision::PacingChange {
                        off: (off || on).then_some(off),
                        class: class.map(|c| {
                            (
                                c,
                                Override {
                                    interval_ms,
                                    burst,
                                    daily,
                                },
                            )
                        }),
                    };
                    let tenant =
                        provision::set_tenant_pacing(store.as_ref(), &tenant_id, change).await?;
                    let mut pacing = tenant.pacing.describe();
                    pacing["tenant_id"] = json!(tenant.tenant_id);
                    out.push(pacing.to_string());
                    return Ok(out);
                }
            };
            out.push(tenant_json(&tenant).to_string());
        }
        Command::Audit {
            command:
                AuditCommand::List {
                    tenant_id,
                    since,
                    limit,
                },
        } => {
            let since = since.map(|s| normalise_since(&s)).transpose()?;
            let store = store(tables).await?;
            for record in store
                .list_audit(&tenant_id, since.as_deref(), limit)
                .await?
            {
                out.push(serde_json::to_string(&record).map_err(|e| Failure(e.to_string()))?);
            }
        }
        Command::Webhook { command } => {
            use shared::events::delivery;
            let store = store(tables).await?;
            let now = shared::clock::now_epoch();
            let fail = |e: delivery::EndpointError| Failure(e.to_string());
            let json = |v: &serde_json::Value| v.to_string();
            match command {
                WebhookCommand::Add {
                    tenant_id,
                    url,
                    types,
                    allow_private,
                } => {
                    let types = types.into_iter().filter(|t| !t.trim().is_empty()).collect();
                    let e =
                        delivery::add_endpoint(&store, &tenant_id, &url, types, allow_private, now)
                            .await
                            .map_err(fail)?;
                    out.push(json(&e.describe()));
                    out.push(format!("endpoint_id={}", e.id));
                    out.push(format!("secret={}", e.secret));
                }
                WebhookCommand::List { tenant_id } => {
                    use shared::events::EventStore;
                    for e in store.list_endpoints(&tenant_id).await? {
                        out.push(json(&e.describe()));
                    }
                }
                WebhookCommand::Remove {
                    tenant_id,
                    endpoint_id,
                } => {
                    use shared::events::EventStore;
                    if !store.delete_endpoint(&tenant_id, &endpoint_id).await? {
                        return Err(Failure(format!(
                            "no endpoint {endpoint_id:?} for {tenant_id:?}"
                        )));
                    }
                    out.push(json(&serde_json::json!({"removed": endpoint_id})));
                }
                WebhookCommand::Rotate {
                    tenant_id,
                    endpoint_id,
                } => {
                    let e = delivery::rotate_endpoint(&store, &tenant_id, &endpoint_id, now)
                        .await
                        .map_err(fail)?;
                    out.push(json(&e.describe()));
                    out.push(format!("secret={}", e.secret));
                }
                WebhookCommand::Failures {
                    tenant_id,
                    endpoint_id,
                } => {
                    use shared::events::EventStore;
                    for f in store.list_failures(&tenant_id).await? {
                        if endpoint_id.as_ref().is_none_or(|id| *id == f.endpoint_id) {
                            out.push(
                                serde_json::to_string(&f).map_err(|e| Failure(e.to_string()))?,
                            );
                        }
                    }
                }
                WebhookCommand::Replay {
                    tenant_id,
                    endpoint_id,
                } => {
                    for r in delivery::replay(&store, &tenant_id, endpoint_id.as_deref(), now)
                        .await
                        .map_err(fail)?
                    {
                        out.push(json(&r));
                    }
                }
            }
        }
        Command::Events {
            command:
                EventsCommand::List {
                    tenant_id,
                    limit,
                    before,
                },
        } => {
            use shared::events::EventStore;
            let store = store(tables).await?;
            for event in store
                .list_events(&tenant_id, limit, before.as_deref())
                .await?
            {
                out.push(serde_json::to_string(&event).map_err(|e| Failure(e.to_string()))?);
            }
        }
        Command::SampleHook { tenant_id } => {
            let store = store(tables).await?;
            let tenant = store
                .get_tenant(&tenant_id)
                .await?
                .ok_or_else(|| Failure(format!("no tenant {tenant_id}")))?;
            let path = shared::provision::seed_sample_hook(&store, &tenant).await?;
            out.push(format!("hook_path={path}"));
        }
        Command::SampleJob { tenant_id } => {
            let store = store(tables).await?;
            let tenant = store
                .get_tenant(&tenant_id)
                .await?
                .ok_or_else(|| Failure(format!("no tenant {tenant_id}")))?;
            let lane = shared::pacing::lane_id(&tenant_id, &tenant.wuts_session_id);
            shared::provision::seed_sample_job(&store, &tenant_id, &lane, SAMPLE_GROUP).await?;
            out.push(format!("job_id={}", shared::provision::SAMPLE_JOB_ID));
        }
        Command::Token { command } => {
            let store: Arc<dyn Store> = Arc::new(store(tables).await?);
            match command {
                TokenCommand::Issue {
                    tenant_id,
                    user_id,
                    expires_in_days,
                    scopes,
                } => {
                    let scopes = scopes
                        .map(|list| shared::scope::Scope::parse_list(&list))
                        .transpose()
                        .map_err(|e| Failure(format!("--scopes: {e}")))?;
                    let issued = provision::issue_token(
                        store.as_ref(),
                        &tenant_id,
                        &user_id,
                        expires_in_days,
                        scopes,
                    )
                    .await?;
                    out.push(token_json(&issued.record).to_string());
                    out.push(issued.token);
                }
                TokenCommand::Revoke { token } => {
                    let record = provision::revoke_token(store.as_ref(), &token).await?;
                    out.push(format!(
                        "revoked {} (tenant {}, user {})",
                        record.token_id, record.tenant_id, record.user_id
                    ));
                }
                TokenCommand::List { tenant_id } => {
                    for record in store.list_tokens(&tenant_id).await? {
                        out.push(token_json(&record).to_string());
                    }
                }
            }
        }
    }
    Ok(out)
}

/// `--since` as the audit sort key's form (UTC, `Z`).
fn normalise_since(since: &str) -> Result<String, Failure> {
    use time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(since, &Rfc3339)
        .map_err(|_| Failure(format!("--since {since:?} is not an RFC 3339 instant")))?;
    Ok(shared::clock::format_rfc3339_millis(at))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("admin: {}", one_line(first.trim_start_matches("error: ")));
            return ExitCode::from(2);
        }
    };
    match run(cli).await {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(Failure(reason)) => {
            eprintln!("admin: {}", one_line(&reason));
            ExitCode::FAILURE
        }
    }
}
