//! Tests: org.
