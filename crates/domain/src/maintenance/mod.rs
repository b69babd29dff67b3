//! Maintenance and service orders (DOMAIN.md §1.4, §5): schedule expansion of plans, the
//! service-order lifecycle, nested checklists and their results, spare parts.

pub mod checklist;
pub mod orders;
pub mod parts;
pub mod schedule;
