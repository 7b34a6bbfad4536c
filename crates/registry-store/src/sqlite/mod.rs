//! The embedded backend: one SQLite file in WAL mode for the registry, another for its
//! governance tables.
//!
//! `connection` is the layer the others stand on; `records` how rows are laid out; `store`,
//! `governance` and `writer` implement the boundary's traits; `dump` is `copy`'s near end.

mod connection;
mod dump;
mod governance;
mod quality;
mod records;
mod store;
mod writer;

pub use governance::SqliteGovernance;
pub use store::SqliteStore;
