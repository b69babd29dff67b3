//! Archives (档案): customers with contacts and sites, products, orders, installed
//! equipment, service outlets; input parsing and the rules that need no database.

pub mod customers;
pub mod equipment;
pub mod orders;
pub mod outlets;
pub mod products;
