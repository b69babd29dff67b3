//! Placeholder: visits (being written).
