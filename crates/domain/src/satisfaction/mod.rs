//! Return visits and satisfaction measurement (DOMAIN.md §6, §7): survey template rules,
//! sample sizes and seeded samples, the statistics (CSI, CSAT, NPS, CES with confidence
//! intervals, Cronbach's alpha, the importance-performance matrix), visit rules.

pub mod sampling;
pub mod stats;
pub mod survey;
pub mod visits;
