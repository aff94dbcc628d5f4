//! The WUTS fake as a standalone process on loopback, for runs by hand (the
//! coldstart harness, load runs): prints its URL, session id and API key.

use testkit::wuts_fake::{API_KEY, SESSION_ID, WutsFake};

#[tokio::main]
async fn main() {
    let fake = WutsFake::start().await;
    println!("wuts fake on {}", fake.base_url());
    println!("session id: {SESSION_ID}");
    println!("api key: {API_KEY}");
    let _ = tokio::signal::ctrl_c().await;
}
