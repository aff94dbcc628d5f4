//! What `admin` does beyond the shared crate, as a library so the tests can
//! do it too: creating the tables.

pub mod tables;
