//! What a request needs, built once per cold start and shared by every
//! request of the container.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Authenticator;
use crate::config::Settings;
use crate::engine::Engine;
#[cfg(feature = "adapters")]
use crate::engine::transport::HttpEngine;
use crate::jobs::JobQueue;
use crate::store::Store;
#[cfg(feature = "adapters")]
use crate::store::dynamo::{DynamoStore, client_for_config};

/// Everything a request needs, built once per cold start and shared by every
/// request of the container. `E` is the engine port's implementation: a
/// concrete type in the Lambda binaries (static calls, so each links only
/// what its operation uses), `dyn Engine` where it is chosen at run time
/// (`local-api`, tests).
pub struct AppState<E: Engine + ?Sized = dyn Engine, S: Store + ?Sized = dyn Store> {
    pub store: Arc<S>,
    pub engine: Arc<E>,
    pub auth: Authenticator<S>,
    pub settings: Settings,
    /// Where paced jobs go to run ([`crate::jobs::NoQueue`] until wired).
    pub queue: Arc<dyn JobQueue>,
    /// Where a stored event's deliveries go
    /// ([`crate::events::outbox::NoEventQueue`] until wired).
    pub events_queue: Arc<dyn crate::events::outbox::EventQueue>,
}

impl AppState {
    /// A state over any engine, chosen at run time.
    pub fn new(store: Arc<dyn Store>, engine: Arc<dyn Engine>, auth_cache_ttl: Duration) -> Self {
        Self::with_engine(store, engine, auth_cache_ttl)
    }
}

impl<E: Engine + ?Sized, S: Store + ?Sized> AppState<E, S> {
    pub fn with_engine(store: Arc<S>, engine: Arc<E>, auth_cache_ttl: Duration) -> Self {
        Self {
            auth: Authenticator::new(store.clone(), auth_cache_ttl),
            store,
            engine,
            settings: Settings::default(),
            queue: Arc::new(crate::jobs::queue::NoQueue),
            events_queue: Arc::new(crate::events::outbox::NoEventQueue),
        }
    }
}

impl<E: Engine + 'static, S: Store + 'static> AppState<E, S> {
    /// The same state with the engine and the store behind `dyn` (a server
    /// that picks them at run time, like `local-api`).
    pub fn into_dyn(self) -> AppState {
        AppState {
            store: self.store,
            engine: self.engine,
            auth: self.auth.into_dyn(),
            settings: self.settings,
            queue: self.queue,
            events_queue: self.events_queue,
        }
    }
}

#[cfg(feature = "adapters")]
impl AppState<HttpEngine, DynamoStore> {
    /// Production wiring for the tools: configuration from the environment,
    /// DynamoDB by the SDK's default chains and the reqwest engine client.
    /// Neither blocks on the network.
    pub async fn from_env() -> Result<Self, crate::config::ConfigError> {
        Self::from_sdk_config(&crate::store::dynamo::sdk_config_from_env().await?)
    }

    /// Production wiring on an SDK configuration built once per process (a
    /// Lambda function's: [`crate::store::dynamo::sdk_config_for_lambda`]).
    pub fn from_sdk_config(aws: &aws_types::SdkConfig) -> Result<Self, crate::config::ConfigError> {
        let config = crate::config::Config::from_env()?;
        let engine = HttpEngine::new(config.engine.clone())
            .map_err(|e| crate::config::ConfigError::HttpClient(e.to_string()))?;
        let store = DynamoStore::new(client_for_config(aws), config.tables.clone());
        let mut state = Self::with_engine(Arc::new(store), Arc::new(engine), config.auth_cache_ttl);
        state.settings = config.settings;
        Ok(state)
    }
}
