//! Peak memory of `GET /groups`'s mapping for a 5,000-group reply, per
//! engine shape, in a process of its own: the reply's bytes (as the adapter
//! holds them) → one page of our groups (the default 500) → our JSON
//! answer. Prints the reply size, the time of one mapping, and VmHWM (peak
//! RSS) before and after.
//! `cargo run --release -p shared --example list_rss [engine] [groups]`
//! `engine` may also be `hostile:waha` (`[0,0,…]`), `hostile:evolution`
//! (`[{},{},…]`) or `hostile:wuts` (groups of 200 participants each): a
//! 16 MiB reply of that shape (issue 21).

#[path = "../benches/support/shapes.rs"]
mod shapes;

use std::time::Instant;

use shared::engine::ListPage;
use shared::engine::calls::ListGroups;
use shared::engine::transport;
use shared::engine::wire::Reply;
use shared::operations::list_groups;

/// A 16 MiB reply of a hostile shape.
fn hostile(kind: &str) -> Vec<u8> {
    const SIZE: usize = 16 << 20;
    let mut out = Vec::with_capacity(SIZE);
    match kind {
        "waha" => {
            out.push(b'[');
            while out.len() + 2 < SIZE {
                out.extend_from_slice(b"0,");
            }
            out.extend_from_slice(b"0]");
        }
        "evolution" => {
            out.push(b'[');
            while out.len() + 3 < SIZE {
                out.extend_from_slice(b"{},");
            }
            out.extend_from_slice(b"{}]");
        }
        _ => {
            out.extend_from_slice(b"{\"success\":true,\"groups\":[");
            let mut i = 0u64;
            loop {
                let mut g =
                    format!("{{\"jid\":\"1203630{i:011}@g.us\",\"name\":\"G\",\"participants\":[");
                for p in 0..200 {
                    g.push_str(&format!(
                        "{}{{\"jid\":\"55119{p:08}@s.whatsapp.net\",\"is_admin\":false}}",
                        if p == 0 { "" } else { "," }
                    ));
                }
                g.push_str("]},");
                if out.len() + g.len() + 2 > SIZE {
                    break;
                }
                out.extend_from_slice(g.as_bytes());
                i += 1;
            }
            out.pop();
            out.extend_from_slice(b"]}");
        }
    }
    out
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let only = args.next().unwrap_or_else(|| "evolution".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let Ok(file) = std::env::var("LIST_RSS_FILE") else {
        // Build the reply here, then measure in a fresh process that only
        // reads its bytes: building it costs more memory than mapping it.
        let body = match only.strip_prefix("hostile:") {
            Some(kind) => hostile(kind),
            None => {
                shapes::list_of(&only, n)
                    .expect("engine: wuts, evolution, waha/GOWS, waha/NOWEB or waha/WEBJS")
                    .2
            }
        };
        let file = std::env::temp_dir().join(format!("list_rss_{}.json", std::process::id()));
        std::fs::write(&file, body).unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([&only, &n.to_string()])
            .env("LIST_RSS_FILE", &file)
            .status()
            .unwrap();
        let _ = std::fs::remove_file(&file);
        std::process::exit(status.code().unwrap_or(1));
    };
    let engine = match only.trim_start_matches("hostile:") {
        "wuts" => shared::engine::EngineKind::Wuts,
        "evolution" => shared::engine::EngineKind::Evolution,
        _ => shared::engine::EngineKind::Waha,
    };
    let body = std::fs::read(&file).unwrap();
    let reply_bytes = body.len();
    let reply = Reply {
        status: 200,
        retry_after: None,
        content_type: Some("application/json".into()),
        body,
    };
    let page = ListPage {
        after: None,
        limit: list_groups::DEFAULT_LIMIT,
    };
    let before = vm_hwm_kib();
    let started = Instant::now();
    let got = transport::read(engine, &ListGroups { page }, &reply).unwrap();
    let answer = serde_json::to_string(&list_groups::reply(&got.groups, got.more)).unwrap();
    let elapsed = started.elapsed();
    let after = vm_hwm_kib();
    println!(
        "{only}: {n} groups, reply {:.2} MB, answer {:.2} MB, mapped in {:.1} ms; peak RSS {} KiB holding the reply, {} KiB after mapping (+{} KiB)",
        reply_bytes as f64 / 1e6,
        answer.len() as f64 / 1e6,
        elapsed.as_secs_f64() * 1e3,
        before,
        after,
        after - before
    );
}
