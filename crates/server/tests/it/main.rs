//! The one integration-test binary of the server crate (one binary links once).
//! Every test that touches storage runs on SQLite, and also on PostgreSQL when
//! `TEST_DATABASE_URL` is set (a fresh database per test; unreachable is a failure).

mod helpers;
mod webdriver;

mod api;
mod archives_customers;
mod archives_equipment;
mod archives_search;
mod archives_transfer;
mod audit;
mod auth;
mod bench_volume;
mod complaints;
mod complaints_attachments;
mod complaints_capa;
mod complaints_figures;
mod complaints_settings;
mod e2e;
mod e2e_complaints;
mod e2e_maintenance;
mod e2e_satisfaction;
mod i18n;
mod isolation;
mod jobs;
mod maint_figures;
mod maint_orders;
mod maint_parts;
mod maint_plans;
mod org;
mod platform;
mod sat_stats;
mod sat_studies;
mod sat_surveys;
mod sat_visits;
