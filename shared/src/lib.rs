//! The shared crate: everything the Lambda functions, `local-api` and `admin`
//! are built on. A request goes `pipeline` → `auth` (+ scope) → the
//! operation's `prepare` (`operations/`, `jid`) → `idempotency` → the engine
//! port (`wuts`) → `audit` → the envelope in `error`.

pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod context;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod jid;
#[cfg(feature = "adapters")]
pub mod net;
pub mod operation;
pub mod operations;
pub mod pipeline;
pub mod provision;
pub mod routes;
pub mod scope;
pub mod store;
pub mod telemetry;
pub mod wuts;

use std::sync::Arc;
use std::time::Duration;

pub use error::ApiError;
pub use operation::Operation;
pub use pipeline::{serve, serve_operation, serve_unmatched};

use auth::Authenticator;
use config::Settings;
use store::Store;
#[cfg(feature = "adapters")]
use store::dynamo::{DynamoStore, client_from_env};
use wuts::WutsClient;
#[cfg(feature = "adapters")]
use wuts::http::HttpWuts;

/// Everything a request needs, built once per cold start and shared by every
/// request of the container. `E` is the engine port's implementation: a
/// concrete type in the Lambda binaries (static calls, so each links only
/// what its operation uses), `dyn WutsClient` where it is chosen at run time
/// (`local-api`, tests).
pub struct AppState<E: WutsClient + ?Sized = dyn WutsClient> {
    pub store: Arc<dyn Store>,
    pub wuts: Arc<E>,
    pub auth: Authenticator,
    pub settings: Settings,
}

impl AppState {
    /// A state over any engine, chosen at run time.
    pub fn new(store: Arc<dyn Store>, wuts: Arc<dyn WutsClient>, auth_cache_ttl: Duration) -> Self {
        Self::with_engine(store, wuts, auth_cache_ttl)
    }
}

impl<E: WutsClient + ?Sized> AppState<E> {
    pub fn with_engine(store: Arc<dyn Store>, wuts: Arc<E>, auth_cache_ttl: Duration) -> Self {
        Self {
            auth: Authenticator::new(store.clone(), auth_cache_ttl),
            store,
            wuts,
            settings: Settings::default(),
        }
    }
}

impl<E: WutsClient + 'static> AppState<E> {
    /// The same state with the engine behind `dyn` (a server that serves
    /// several engines, or picks one at run time).
    pub fn into_dyn(self) -> AppState {
        AppState {
            store: self.store,
            wuts: self.wuts,
            auth: self.auth,
            settings: self.settings,
        }
    }
}

#[cfg(feature = "adapters")]
impl AppState<HttpWuts> {
    /// Production wiring: configuration from the environment, DynamoDB and
    /// the reqwest engine client. Neither blocks on the network.
    pub async fn from_env() -> Result<Self, config::ConfigError> {
        let config = config::Config::from_env()?;
        let wuts = HttpWuts::new(config.wuts.clone())
            .map_err(|e| config::ConfigError::HttpClient(e.to_string()))?;
        let store = DynamoStore::new(client_from_env().await?, config.tables.clone());
        let mut state = Self::with_engine(Arc::new(store), Arc::new(wuts), config.auth_cache_ttl);
        state.settings = config.settings;
        Ok(state)
    }
}

/// The whole `main` of an operation's Lambda binary: logging, state once,
/// then the runtime loop calling [`serve_operation`] for `Op`. Missing
/// configuration ends the cold start with one clear log line.
#[cfg(feature = "adapters")]
pub async fn run_lambda<Op: Operation>() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let state = match AppState::from_env().await {
        Ok(state) => Arc::new(state),
        Err(err) => {
            tracing::error!(error = %err, "configuration error; cannot start");
            return Err(err.into());
        }
    };
    lambda_http::run(lambda_http::service_fn(move |req| {
        let state = state.clone();
        async move {
            Ok::<_, std::convert::Infallible>(serve_operation::<Op, HttpWuts>(&state, req).await)
        }
    }))
    .await
}

/// The whole `main` of the `$default`-route function: logging, then the
/// runtime loop calling [`serve_unmatched`]. It builds no state (no AWS
/// configuration, no HTTP client), so its cold start is the runtime's own.
pub async fn run_unmatched() -> Result<(), lambda_http::Error> {
    telemetry::init();
    lambda_http::run(lambda_http::service_fn(|req| async move {
        Ok::<_, std::convert::Infallible>(serve_unmatched(req))
    }))
    .await
}
