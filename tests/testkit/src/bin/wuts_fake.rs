//! The local engine stand-in as a process on loopback: the simulator behind
//! an engine's wire format, for `sam local` (scripts/sam-local.sh), the
//! coldstart harness and load runs. By default it speaks the WUTS public API
//! (the sample tenant's engine, so every sample event succeeds);
//! `--engine NAME` picks another fake (`session-service`, `wuts`,
//! `evolution`, `waha/GOWS`, `waha/NOWEB`, `waha/WEBJS`). Prints its URL,
//! engine, session and API key, one per line.

use testkit::fakes::Flavour;
use testkit::wuts_fake::{API_KEY, WutsFake};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let flavour = match (args.next().as_deref(), args.next()) {
        (None, _) => Flavour::Wuts,
        (Some("--engine"), Some(name)) => Flavour::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .unwrap_or_else(|| {
                let names: Vec<_> = Flavour::ALL.iter().map(|f| f.name()).collect();
                eprintln!("unknown engine {name:?}; one of {}", names.join(", "));
                std::process::exit(2);
            }),
        _ => {
            eprintln!("usage: wuts-fake [--engine NAME]");
            std::process::exit(2);
        }
    };
    let fake = WutsFake::start_engine(flavour).await;
    println!("wuts fake on {}", fake.base_url());
    println!("engine: {}", flavour.engine());
    println!("session id: {}", flavour.session());
    println!("api key: {API_KEY}");
    let _ = tokio::signal::ctrl_c().await;
}
