//! The shared crate: everything the Lambda functions, `local-api` and `admin`
//! are built on. A request goes `handler::serve` → `endpoints` → `auth` →
//! `jid` validation → `wuts` → the envelope in `error`.

pub mod auth;
pub mod clock;
pub mod config;
pub mod endpoints;
pub mod error;
pub mod handler;
pub mod http;
pub mod jid;
#[cfg(feature = "adapters")]
pub mod net;
pub mod provision;
pub mod routes;
pub mod store;
pub mod telemetry;
pub mod wuts;

use std::sync::Arc;
use std::time::Duration;

pub use error::ApiError;
pub use handler::{serve, serve_unmatched};
pub use routes::Endpoint;

use auth::Authenticator;
use config::Settings;
use store::Store;
#[cfg(feature = "adapters")]
use store::dynamo::{DynamoStore, client_from_env};
use wuts::WutsClient;
#[cfg(feature = "adapters")]
use wuts::http::HttpWuts;

/// Everything a request needs, built once per cold start and shared by every
/// request of the container.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub wuts: Arc<dyn WutsClient>,
    pub auth: Authenticator,
    pub settings: Settings,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, wuts: Arc<dyn WutsClient>, auth_cache_ttl: Duration) -> Self {
        Self {
            auth: Authenticator::new(store.clone(), auth_cache_ttl),
            store,
            wuts,
            settings: Settings::default(),
        }
    }

    /// Production wiring: configuration from the environment, DynamoDB and
    /// the reqwest WUTS client. Neither blocks on the network.
    #[cfg(feature = "adapters")]
    pub async fn from_env() -> Result<Self, config::ConfigError> {
        let config = config::Config::from_env()?;
        let wuts = HttpWuts::new(config.wuts.clone())
            .map_err(|e| config::ConfigError::HttpClient(e.to_string()))?;
        let store = DynamoStore::new(client_from_env().await?, config.tables.clone());
        let mut state = Self::new(Arc::new(store), Arc::new(wuts), config.auth_cache_ttl);
        state.settings = config.settings;
        Ok(state)
    }
}

/// The whole `main` of a Lambda binary: logging, state once, then the runtime
/// loop calling [`serve`] for `endpoint`. Missing configuration ends the cold
/// start with one clear log line.
#[cfg(feature = "adapters")]
pub async fn run_lambda(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
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
        async move { Ok::<_, std::convert::Infallible>(serve(&state, Some(endpoint), req).await) }
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
