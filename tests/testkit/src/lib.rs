//! Test doubles and the suites run over them, in a crate of their own so no
//! Lambda binary can contain them (no function crate depends on this one;
//! `tests/it/deploy` checks the bootstraps):
//! - [`sim::Simulator`]: the engine port in process, stateful (groups,
//!   members, invites), for `local-api`'s embedded default and the tests;
//! - [`memory::MemoryStore`]: every store port in memory;
//! - [`fakes`]: one HTTP fake per engine on loopback, each speaking
//!   that engine's wire format over the simulator; [`wuts_fake`]: the WUTS
//!   public API over HTTP (the `wuts-fake` binary);
//! - [`contract`]: the store contract suite, run on the memory store and on
//!   DynamoDB (moto, [`moto`]); [`harness`] and [`events`]: the in-process
//!   pipeline and the `events/*.json` samples.

pub mod bins;
pub mod contract;
pub mod events;
pub mod fakes;
pub mod harness;
pub mod memory;
pub mod moto;
pub mod sim;
pub mod wuts_fake;

/// A text every test double puts into the binary that builds one
/// ([`mark`]): `tests/it/deploy` finds it in `local-api` and in no
/// function's bootstrap.
pub const MARK: &str = "testkit: a test double; never in a Lambda bootstrap";

/// Called by the doubles' constructors so [`MARK`] is linked wherever one is.
pub fn mark() {
    std::hint::black_box(MARK);
}

/// The calling thread's CPU time so far (user + system), in ns, from
/// `CLOCK_THREAD_CPUTIME_ID`: exact at any moment, unlike the scheduler
/// statistics in /proc, which a running thread sees only as of its last
/// tick. The benchmarks that keep their servers on other threads use it.
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// This process's CPU time so far (user + system), in clock ticks (1/100 s
/// on Linux), from `/proc/self/stat`: the benchmarks' CPU per request.
pub fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rfind(')').map_or("", |i| &stat[i + 2..]);
    let fields: Vec<&str> = after.split(' ').collect();
    // utime and stime: fields 14 and 15 of the whole line, 12 and 13 here.
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}
