//! Placeholder: sampling (being written).
