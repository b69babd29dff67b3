//! Tests: isolation.
