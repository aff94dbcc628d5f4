//! The shared crate: everything the Lambda functions, `local-api` and `admin`
//! are built on. A request goes `pipeline` → `auth` (+ scope) → the
//! operation's `prepare` (`operations/`, `jid`) → `idempotency` → the engine
//! port (`engine`) → `audit` → the envelope in `error`.

pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod context;
pub mod engine;
pub mod error;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod jid;
pub mod jobs;
#[cfg(feature = "adapters")]
pub mod lambda;
#[cfg(feature = "adapters")]
pub mod net;
pub mod operation;
pub mod operations;
pub mod pacing;
pub mod pipeline;
pub mod provision;
pub mod routes;
pub mod scope;
pub mod state;
pub mod store;
pub mod telemetry;
#[cfg(feature = "adapters")]
pub mod warm;

pub use error::ApiError;
#[cfg(feature = "adapters")]
pub use lambda::{run_lambda, run_unmatched};
pub use operation::Operation;
pub use pipeline::{serve, serve_detached, serve_operation, serve_unmatched};
pub use state::AppState;
