//! The aftersales server: web UI, JSON API, background jobs and the command line, in one
//! binary. Modules are named for the feature they hold (`org`, `audit`, `admin`…).

pub mod admin;
pub mod api;
pub mod app;
pub mod archives;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod complaints;
pub mod config;
pub mod demo;
pub mod error;
pub mod i18n;
pub mod jobs;
pub mod maintenance;
pub mod memory;
pub mod metrics;
pub mod notices;
pub mod ops;
pub mod org;
pub mod satisfaction;
pub mod session;
pub mod web;

/// Current Unix time in whole seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
