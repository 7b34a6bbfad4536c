//! The production backend: PostgreSQL, through a pool of connections. The schema
//! (`migrations/postgres`) is laid out for Citus: everything about a subject is keyed by
//! `subject_key`, a shared account's records are stored with each of its subjects, and a
//! report reads one subject's rows only (docs/scale-out.md).
//!
//! A submission is one transaction on one connection, serialised with other submissions by a
//! transaction-scoped advisory lock (the same one-writer rule as SQLite, so both backends give
//! the same keys for the same files).
//!
//! `connection` is the layer the others stand on; `records` how rows are laid out; `store`,
//! `governance` and `writer` implement the boundary's traits; `load` is `copy`'s far end.

mod connection;
mod governance;
mod load;
mod quality;
mod records;
mod store;
mod supervision;
mod writer;

pub use connection::PostgresStore;
