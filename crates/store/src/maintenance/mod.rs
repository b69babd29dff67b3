//! Maintenance repositories: plans, service orders with results and parts used, checklist
//! templates, spare parts and stock, dispatch (engineer profiles and load), figures.

pub mod checklists;
pub mod dispatch;
pub mod figures;
pub mod numbers;
pub mod orders;
pub mod parts;
pub mod plans;
