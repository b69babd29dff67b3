//! Placeholder: studies (being written).
