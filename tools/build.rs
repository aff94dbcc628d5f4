//! Embeds the sample events (`events/*.json`) in `local-api`: its banner shows
//! one sample request per operation, read from `events/<function>.json`, so
//! a new operation's event is in the banner without another file to edit.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("events/")
        .map(|e| e.expect("events/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = String::from("/// Every sample event: (file stem, API Gateway event JSON).\n");
    out += "pub const EVENTS: &[(&str, &str)] = &[\n";
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy();
        let path = file.canonicalize().unwrap();
        out += &format!(
            "    ({stem:?}, include_str!({:?})),\n",
            path.display().to_string()
        );
    }
    out += "];\n";
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("events.rs");
    std::fs::write(target, out).unwrap();
}
