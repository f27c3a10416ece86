//! seaworthy: a Kubernetes production-readiness auditor.
//!
//! Pipeline: source → inventory → facts → rules → results → score → report. Each
//! stage is one module with plain data at its boundary: sources and collectors do
//! I/O and never judge; the engine is a pure function of the facts; reporters only
//! format. [`scan`] strings the stages together.

pub mod cli;
pub mod config;
pub mod drift;
pub mod engine;
pub mod exception;
pub mod facts;
pub mod inventory;
pub mod probe;
pub mod progress;
pub mod redact;
pub mod report;
pub mod scan;
pub mod score;
pub mod sink;
pub mod source;
mod walk;
mod yaml;
