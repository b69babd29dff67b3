//! Complaint figures, aggregated in SQL.
