//! Each operation through the pipeline, on the WUTS fake and the simulator.

mod beyond;
mod groups_family;
mod handlers;
mod idempotency_audit;
