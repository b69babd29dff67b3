//! Placeholder: survey (being written).
