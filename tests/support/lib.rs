//! Test support shared by the integration tests: a stateful WUTS fake over
//! real HTTP on loopback, moto-backed DynamoDB clients, the store contract
//! suite, and the `events/*.json` loader.

pub mod contract;
pub mod engine_fakes;
pub mod events;
pub mod harness;
pub mod moto;
pub mod wuts_fake;
