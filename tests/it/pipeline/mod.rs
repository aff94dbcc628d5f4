//! What every route shares: the cross-cutting behaviour tested route by
//! route, and the failures of the parts around the engine.

mod cross_cutting;
pub mod delivery;
mod failures;
mod hooks;
mod jobs;
mod pacing;
