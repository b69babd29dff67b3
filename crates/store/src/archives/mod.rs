//! Archive repositories: customers (with contacts and sites), products, orders (with lines),
//! equipment (with meter readings) and service outlets. Every query carries `org_id`.

pub mod bulk;
pub mod customers;
pub mod equipment;
pub mod export;
pub mod lookup;
pub mod orders;
pub mod outlets;
pub mod products;
