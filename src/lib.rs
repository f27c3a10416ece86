//! seaworthy: a Kubernetes production-readiness auditor.
//!
//! Pipeline: source → inventory → facts → rules → results → score → report. Each
//! stage is one module with plain data at its boundary: sources and collectors do
//! I/O and never judge; the engine is a pure function of the facts; reporters only
//! format. [`scan`] strings the stages together.
//!
//! The library starts no async runtime: the live source ([`source::live::collect`]),
//! the probes ([`probe::run::run`]) and the sinks ([`sink::deliver`]) are `async` and
//! run on the caller's (the binary's `main` owns the one runtime). CPU-bound stages
//! (reading manifests, judging) use every core through rayon.
//!
//! # What is a stable contract
//!
//! The JSON report (`docs/report.schema.json`, `schemaVersion`) and the facts layout
//! (`docs/facts.schema.json`, `schemaVersion`, which rules and snapshots are written
//! against) are stable: a breaking change bumps their version. The command line and its
//! exit codes are documented in the README. The Rust API is not a contract: it serves
//! the binary and the tests and changes with them.

pub mod cli;
pub mod compact_map;
pub mod compliance;
pub mod config;
pub mod drift;
pub mod engine;
pub mod exception;
pub mod facts;
pub mod inventory;
pub mod paths;
pub mod probe;
pub mod progress;
pub mod redact;
pub mod report;
pub mod retry;
pub mod scan;
pub mod score;
pub mod sink;
pub mod source;
mod walk;
mod yaml;
