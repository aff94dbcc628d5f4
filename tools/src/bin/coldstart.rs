//! `coldstart`: a cold-start harness. It plays the AWS Lambda Runtime API on
//! loopback (`/2018-06-01/runtime/invocation/next`, `.../response`,
//! `.../error`, `/runtime/init/error`), spawns any `bootstrap` executable with
//! the usual Lambda environment, hands it an API Gateway event, and reports
//! over N cold starts: spawn → first `/next` (Init), the CPU time the child
//! used by then (all its threads), the first invocation, warm invocations and
//! the child's peak RSS.
//!
//! Several `--bootstrap`s are measured in turns (run 1 of each, then run 2 of
//! each, …), so a comparison is not skewed by the machine's load drifting.
//!
//! `--cpu-quota 0.07` runs the child's invocations in a cgroup capped at 7%
//! of one CPU (what a 128 MB function gets); Init runs uncapped, as in
//! Lambda (`--cap-init` caps it too). It needs a writable cgroup (v1 `cpu`
//! or v2).
//!
//! `--tls-front LISTEN=UPSTREAM` (repeatable) serves a plain-HTTP server
//! (the engine fake, moto behind a keep-alive front) over TLS 1.3 on
//! `LISTEN`, with a fresh self-signed end-entity certificate for
//! `localhost` and `127.0.0.1` written to `--tls-cert-out` as PEM (give it
//! to the child as `ENGINE_CA_BUNDLE` / `AWS_CA_BUNDLE`).
//! Run by hand; see docs/PERFORMANCE.md.

use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clap::Parser;
use tokio::sync::{Mutex, mpsc};

const API: &str = "/2018-06-01/runtime";

#[derive(Parser)]
#[command(
    name = "coldstart",
    about = "Measure a Lambda bootstrap's cold start on loopback"
)]
struct Args {
    /// The `bootstrap` executable (any language); repeat it to compare
    /// several, measured in turns.
    #[arg(long, required = true)]
    bootstrap: Vec<PathBuf>,
    /// The invocation payload, e.g. events/get-group-invite-link.json.
    #[arg(long)]
    event: PathBuf,
    /// Cold starts to measure.
    #[arg(short = 'n', long, default_value_t = 10)]
    runs: usize,
    /// Warm invocations after the first one, per cold start.
    #[arg(long, default_value_t = 5)]
    warm: usize,
    /// Cap the child's invocations at this share of one CPU (e.g. 0.07 for
    /// 128 MB). Init runs uncapped, as Lambda gives Init a full CPU; the
    /// child joins the capped cgroup at its first `/next`.
    #[arg(long)]
    cpu_quota: Option<f64>,
    /// The cap's CFS period in ms: `--cpu-quota` × this much CPU per period,
    /// and a child that spends it waits for the next period. 100 is the
    /// kernel's default; Lambda has been observed throttling on 20 ms
    /// (docs/PERFORMANCE.md, session 16).
    #[arg(long, default_value_t = 100)]
    cpu_period_ms: u64,
    /// Cap Init too (the child is in the cgroup from its start): the
    /// harness's measure before session 13.
    #[arg(long)]
    cap_init: bool,
    /// Extra environment for the child, KEY=VALUE (repeatable).
    #[arg(long = "env", value_parser = parse_env)]
    envs: Vec<(String, String)>,
    /// AWS_LAMBDA_FUNCTION_MEMORY_SIZE given to the child.
    #[arg(long, default_value_t = 128)]
    memory_mb: u32,
    /// Give up on a run after this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    /// Serve UPSTREAM (host:port, plain HTTP) over TLS on LISTEN
    /// (host:port): `LISTEN=UPSTREAM`, repeatable.
    #[arg(long = "tls-front", value_parser = parse_front)]
    tls_fronts: Vec<(String, String)>,
    /// Where the fronts' certificate (PEM) is written.
    #[arg(long, default_value = "coldstart-cert.pem")]
    tls_cert_out: PathBuf,
}

fn parse_front(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(l, u)| (l.to_string(), u.to_string()))
        .ok_or_else(|| format!("{s:?} is not LISTEN=UPSTREAM"))
}

/// The TLS fronts: one certificate (an end-entity one: no `CA:TRUE`, which
/// webpki refuses for a server), each front relaying bytes to its upstream.
async fn tls_fronts(args: &Args) -> Result<(), String> {
    if args.tls_fronts.is_empty() {
        return Ok(());
    }
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let certified = rcgen::generate_simple_self_signed(names).map_err(|e| e.to_string())?;
    std::fs::write(&args.tls_cert_out, certified.cert.pem())
        .map_err(|e| format!("{}: {e}", args.tls_cert_out.display()))?;
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .map_err(|e| e.to_string())?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    for (listen, upstream) in &args.tls_fronts {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("--tls-front {listen}: {e}"))?;
        let (acceptor, to) = (acceptor.clone(), upstream.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let upstream = &to;
                let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                tokio::spawn(async move {
                    // No Nagle delays on either leg: they would be the front's.
                    let _ = tcp.set_nodelay(true);
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = plain.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        println!("tls front: {listen} -> {upstream}");
    }
    Ok(())
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

/// What the runtime API tells the controller.
#[derive(Debug)]
enum Signal {
    Next(Instant),
    Response(Instant, String),
    Error(String),
}

struct Api {
    signals: mpsc::UnboundedSender<Signal>,
    invocations: Mutex<mpsc::UnboundedReceiver<(String, Bytes)>>,
}

async fn next(State(api): State<Arc<Api>>) -> Response {
    let _ = api.signals.send(Signal::Next(Instant::now()));
    let Some((id, event)) = api.invocations.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 30_000)
        .unwrap_or(0);
    (
        [
            ("lambda-runtime-aws-request-id", id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:coldstart".to_string(),
            ),
            (
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Sampled=0".to_string(),
            ),
            ("content-type", "application/json".to_string()),
        ],
        event,
    )
        .into_response()
}

async fn response(State(api): State<Arc<Api>>, Path(_id): Path<String>, body: Bytes) -> StatusCode {
    let text = String::from_utf8_lossy(&body).into_owned();
    let _ = api.signals.send(Signal::Response(Instant::now(), text));
    StatusCode::ACCEPTED
}

async fn invocation_error(State(api): State<Arc<Api>>, body: Bytes) -> StatusCode {
    let _ = api
        .signals
        .send(Signal::Error(String::from_utf8_lossy(&body).into_owned()));
    StatusCode::ACCEPTED
}

async fn invocation_error_with_id(
    state: State<Arc<Api>>,
    Path(_id): Path<String>,
    body: Bytes,
) -> StatusCode {
    invocation_error(state, body).await
}

#[derive(Debug, Default, Clone)]
struct RunResult {
    init: Duration,
    init_cpu: Option<Duration>,
    first: Duration,
    /// CPU of all the child's threads over the first invocation.
    first_cpu: Option<Duration>,
    warm: Vec<Duration>,
    peak_rss_kb: Option<u64>,
    first_status: Option<u64>,
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time used so far by every live thread of `pid`, from
/// `/proc/PID/task/*/schedstat` (nanoseconds on the CPU, first field). At the
/// first `/next` the child is blocked on the harness, so this is Init's CPU.
fn cpu_time(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// A cgroup capping CPU; removed on drop.
struct CpuCap {
    dir: PathBuf,
    /// The CFS period: the cap allows `quota × period` of CPU per period.
    period: Duration,
}

impl CpuCap {
    fn new(quota: f64, period: Duration) -> Result<Self, String> {
        let name = format!("coldstart-{}", std::process::id());
        let v1 = PathBuf::from("/sys/fs/cgroup/cpu");
        let v2 = PathBuf::from("/sys/fs/cgroup");
        let period_us = period.as_micros() as u64;
        let max = (quota * period_us as f64).round() as u64;
        // The kernel refuses a quota under 1 ms (and a period under 1 ms).
        if max < 1_000 {
            return Err(format!(
                "{quota} of a {} ms period is under the kernel's 1 ms minimum quota",
                period.as_millis()
            ));
        }
        if v1.join("cpu.cfs_quota_us").exists() {
            let dir = v1.join(name);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            std::fs::write(dir.join("cpu.cfs_period_us"), period_us.to_string())
                .and_then(|_| std::fs::write(dir.join("cpu.cfs_quota_us"), max.to_string()))
                .map_err(|e| format!("setting the quota: {e}"))?;
            Ok(Self { dir, period })
        } else if std::fs::read_to_string(v2.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|x| x == "cpu"))
        {
            let dir = v2.join(name);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            std::fs::write(dir.join("cpu.max"), format!("{max} {period_us}"))
                .map_err(|e| format!("setting cpu.max: {e}"))?;
            Ok(Self { dir, period })
        } else {
            Err("no writable cgroup with a cpu controller".into())
        }
    }
}

impl Drop for CpuCap {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

async fn one_run(
    args: &Args,
    bootstrap: &std::path::Path,
    event: &Bytes,
    addr: std::net::SocketAddr,
    signals: &mut mpsc::UnboundedReceiver<Signal>,
    invocations: &mpsc::UnboundedSender<(String, Bytes)>,
    cap: Option<&CpuCap>,
) -> Result<RunResult, String> {
    while signals.try_recv().is_ok() {}
    let mut cmd = match cap.filter(|_| args.cap_init) {
        // The shell joins the cgroup, then becomes the bootstrap.
        Some(cap) => {
            let mut c = tokio::process::Command::new("sh");
            c.arg("-c")
                .arg("echo $$ > \"$0/cgroup.procs\" && exec \"$@\"")
                .arg(&cap.dir)
                .arg(bootstrap);
            c
        }
        None => tokio::process::Command::new(bootstrap),
    };
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "coldstart")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            args.memory_mb.to_string(),
        )
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/coldstart")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "coldstart")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("_HANDLER", "bootstrap")
        .env("LAMBDA_TASK_ROOT", "/var/task")
        .envs(args.envs.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let spawned = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("spawning: {e}"))?;
    let pid = child.id().ok_or("the child has no pid")?;
    let limit = Duration::from_secs(args.timeout_secs);

    let first_next = tokio::select! {
        r = wait_next(signals, limit) => r?,
        status = child.wait() => return Err(format!("the child exited during Init: {status:?}")),
    };
    if let (Some(cap), false) = (cap, args.cap_init) {
        // Init is over: the invocations run capped (the whole process moves).
        std::fs::write(cap.dir.join("cgroup.procs"), pid.to_string())
            .map_err(|e| format!("moving the child into the cgroup: {e}"))?;
    }
    let mut result = RunResult {
        init: first_next - spawned,
        init_cpu: cpu_time(pid),
        ..RunResult::default()
    };
    let before_first = result.init_cpu;
    for i in 0..=args.warm {
        let id = uuid_like(i);
        let sent = Instant::now();
        invocations
            .send((id, event.clone()))
            .map_err(|_| "runtime API closed".to_string())?;
        let got = tokio::time::timeout(limit, signals.recv())
            .await
            .map_err(|_| "no response in time".to_string())?;
        let took = match got {
            Some(Signal::Response(at, body)) => {
                if i == 0 {
                    result.first_status = serde_json::from_str::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["statusCode"].as_u64());
                }
                at - sent
            }
            Some(Signal::Error(e)) => return Err(format!("invocation error: {e}")),
            other => return Err(format!("unexpected {other:?}")),
        };
        if i == 0 {
            result.first = took;
            // The child's CPU over its first invocation (all threads).
            result.first_cpu = cpu_time(pid)
                .zip(before_first)
                .map(|(after, before)| after.saturating_sub(before));
        } else {
            result.warm.push(took);
        }
        // The runtime asks for the next event once it has answered.
        wait_next(signals, limit).await?;
    }
    result.peak_rss_kb = peak_rss_kb(pid);
    let _ = child.kill().await;
    Ok(result)
}

async fn wait_next(
    signals: &mut mpsc::UnboundedReceiver<Signal>,
    limit: Duration,
) -> Result<Instant, String> {
    match tokio::time::timeout(limit, signals.recv()).await {
        Ok(Some(Signal::Next(at))) => Ok(at),
        Ok(Some(Signal::Error(e))) => Err(format!("the function reported an error: {e}")),
        Ok(other) => Err(format!("unexpected {other:?} while waiting for /next")),
        Err(_) => Err("no /next in time".into()),
    }
}

fn uuid_like(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let event = match std::fs::read(&args.event) {
        Ok(bytes) => Bytes::from(bytes),
        Err(e) => {
            eprintln!("coldstart: {}: {e}", args.event.display());
            return ExitCode::FAILURE;
        }
    };
    let period = Duration::from_millis(args.cpu_period_ms);
    let cap = match args.cpu_quota.map(|q| CpuCap::new(q, period)).transpose() {
        Ok(cap) => cap,
        Err(e) => {
            eprintln!("coldstart: --cpu-quota: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = tls_fronts(&args).await {
        eprintln!("coldstart: --tls-front: {e}");
        return ExitCode::FAILURE;
    }
    let (signal_tx, mut signals) = mpsc::unbounded_channel();
    let (invocation_tx, invocation_rx) = mpsc::unbounded_channel();
    let api = Arc::new(Api {
        signals: signal_tx,
        invocations: Mutex::new(invocation_rx),
    });
    let app = Router::new()
        .route(&format!("{API}/invocation/next"), get(next))
        .route(&format!("{API}/invocation/{{id}}/response"), post(response))
        .route(
            &format!("{API}/invocation/{{id}}/error"),
            post(invocation_error_with_id),
        )
        .route(&format!("{API}/init/error"), post(invocation_error))
        .with_state(api);
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("coldstart: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(addr) = listener.local_addr() else {
        return ExitCode::FAILURE;
    };
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    for (i, bootstrap) in args.bootstrap.iter().enumerate() {
        println!("#{}: {}", i + 1, bootstrap.display());
    }
    println!(
        "event: {}  runs: {}  warm: {}  cpu quota: {}",
        args.event.display(),
        args.runs,
        args.warm,
        args.cpu_quota
            .map(|q| format!("{:.0}% of a CPU per {} ms", q * 100.0, args.cpu_period_ms))
            .unwrap_or_else(|| "none".into())
    );
    println!(
        "{:>4} {:>3} {:>10} {:>13} {:>12} {:>14} {:>12} {:>10} {:>7}",
        "run",
        "bin",
        "init_ms",
        "init_cpu_ms",
        "first_ms",
        "first_cpu_ms",
        "warm_p50_ms",
        "rss_mb",
        "status"
    );
    let mut all: Vec<Vec<RunResult>> = vec![Vec::new(); args.bootstrap.len()];
    for run in 1..=args.runs {
        for (i, bootstrap) in args.bootstrap.iter().enumerate() {
            if let Some(cap) = &cap {
                // Let the previous child's CPU use age out of the quota
                // period, so every run starts with a full budget.
                tokio::time::sleep(cap.period * 2).await;
            }
            let r = match one_run(
                &args,
                bootstrap,
                &event,
                addr,
                &mut signals,
                &invocation_tx,
                cap.as_ref(),
            )
            .await
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("coldstart: run {run} of #{}: {e}", i + 1);
                    return ExitCode::FAILURE;
                }
            };
            println!(
                "{:>4} {:>3} {:>10.2} {:>13.2} {:>12.2} {:>14.2} {:>12.3} {:>10.1} {:>7}",
                run,
                format!("#{}", i + 1),
                ms(r.init),
                r.init_cpu.map(ms).unwrap_or(f64::NAN),
                ms(r.first),
                r.first_cpu.map(ms).unwrap_or(f64::NAN),
                median(r.warm.iter().map(|d| ms(*d)).collect()),
                r.peak_rss_kb.map(|k| k as f64 / 1024.0).unwrap_or(f64::NAN),
                r.first_status.map(|s| s.to_string()).unwrap_or("-".into())
            );
            all[i].push(r);
        }
    }
    for (i, runs) in all.iter().enumerate() {
        println!(
            "#{} median init {:.2} ms (CPU {:.2} ms), first invocation {:.2} ms (CPU {:.2} ms), warm {:.3} ms, peak RSS {:.1} MB",
            i + 1,
            median(runs.iter().map(|r| ms(r.init)).collect()),
            median(runs.iter().filter_map(|r| r.init_cpu).map(ms).collect()),
            median(runs.iter().map(|r| ms(r.first)).collect()),
            median(runs.iter().filter_map(|r| r.first_cpu).map(ms).collect()),
            median(
                runs.iter()
                    .flat_map(|r| r.warm.iter().map(|d| ms(*d)))
                    .collect()
            ),
            median(
                runs.iter()
                    .filter_map(|r| r.peak_rss_kb)
                    .map(|k| k as f64 / 1024.0)
                    .collect()
            ),
        );
        // Under a CPU cap the first invocation is throttled in whole
        // periods, so its distribution is lumpy: the mean and the 90th
        // percentile say more than the median, and Init + first is what a
        // caller of a cold start waits.
        let first: Vec<f64> = runs.iter().map(|r| ms(r.first)).collect();
        println!(
            "#{} mean init {:.2} ms, first invocation {:.2} ms (p90 {:.2} ms), init + first {:.2} ms",
            i + 1,
            mean(runs.iter().map(|r| ms(r.init))),
            mean(first.iter().copied()),
            percentile(first, 0.9),
            mean(runs.iter().map(|r| ms(r.init) + ms(r.first))),
        );
    }
    ExitCode::SUCCESS
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// The nearest-rank percentile (`p` in 0..=1).
fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = (p * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}
