//! The workspace's own binaries (`admin`, `local-api`, `wuts-fake`, the
//! functions' debug builds), found in the target directory this test
//! executable was built into: `target/<profile>/deps/it-…` sits two levels
//! below them. The tests that run them need them built first
//! (`cargo build --workspace --bins`, which `scripts/test.sh` does); a bare
//! `cargo test` without them prints one `SKIPPED` line per such test, as
//! the moto-backed tests do without moto ([`bins_or_skip!`]).

use std::path::PathBuf;

/// The target profile directory (`target/debug`) this process was built in.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the executable's directory");
    match deps.file_name() {
        Some(name) if name == "deps" => deps.parent().expect("the profile directory").into(),
        _ => deps.into(),
    }
}

/// The path of the workspace binary `name`, which must exist.
pub fn built(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the workspace's binaries first \
         (`cargo build --workspace --bins`, which scripts/test.sh does)",
        path.display()
    );
    path
}

/// The workspace binaries a test runs, or: print one line naming the test
/// and return from it.
#[macro_export]
macro_rules! bins_or_skip {
    ($($name:literal),+ $(,)?) => {
        for name in [$($name),+] {
            if !$crate::bins::profile_dir().join(name).is_file() {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED {}:{}: {name} is not built beside the test binary \
                     (cargo build --workspace --bins; scripts/test.sh does)",
                    file!(),
                    line!(),
                );
                return;
            }
        }
    };
}
