//! The engines behind the port: every scenario on every engine's fake, what
//! each engine's answers prove (`outcomes`), hostile replies, and the real
//! Evolution API 2.3.7.

mod every_engine;
mod hostile;
mod outcomes;
mod real_evolution;
mod replies;
