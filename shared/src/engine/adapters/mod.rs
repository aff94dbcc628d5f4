//! One module per engine: its requests, its replies, its error shapes,
//! turned into ours (`docs/ENGINES.md` has the tables and the sources).

pub mod evolution;
#[doc(hidden)]
pub mod hostile;
pub mod session_service;
pub mod waha;
pub mod wuts;

pub use evolution::Evolution;
pub use session_service::SessionService;
pub use waha::Waha;
pub use wuts::Wuts;
