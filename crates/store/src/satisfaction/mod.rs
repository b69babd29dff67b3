//! Return visits and satisfaction measurement: visit rules and records, versioned survey
//! templates, studies with invitations (answer links), responses and answers, statistics.

pub mod stats;
pub mod studies;
pub mod surveys;
pub mod visits;
