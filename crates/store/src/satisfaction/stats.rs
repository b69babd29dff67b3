//! Placeholder: stats (being written).
