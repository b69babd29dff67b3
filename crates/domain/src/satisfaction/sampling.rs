//! Sampling for satisfaction studies (DOMAIN.md §7): the sample size for a confidence level
//! and margin of error with the finite-population correction, a seeded random sample that
//! is reproducible on every platform and version (our own SplitMix64, not `rand`'s StdRng,
//! whose algorithm may change between releases), and the validated design of a study.

use crate::FieldErrors;
use crate::org::valid_date;

/// A confidence level offered by the calculator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confidence {
    P90,
    P95,
    P99,
}

impl Confidence {
    /// Every level, in the calculator's order.
    pub const ALL: [Confidence; 3] = [Confidence::P90, Confidence::P95, Confidence::P99];

    /// The level of a percentage (90, 95 or 99).
    pub fn from_percent(p: i64) -> Option<Confidence> {
        match p {
            90 => Some(Confidence::P90),
            95 => Some(Confidence::P95),
            99 => Some(Confidence::P99),
            _ => None,
        }
    }

    /// The percentage.
    pub fn percent(self) -> i64 {
        match self {
            Confidence::P90 => 90,
            Confidence::P95 => 95,
            Confidence::P99 => 99,
        }
    }

    /// The two-sided standard normal quantile z.
    pub fn z(self) -> f64 {
        match self {
            Confidence::P90 => 1.645,
            Confidence::P95 => 1.96,
            Confidence::P99 => 2.576,
        }
    }
}

/// The sample size before the finite-population correction: n0 = z² p (1 - p) / e²
/// (`margin` as a fraction, e.g. 0.05).
pub fn n0(z: f64, p: f64, margin: f64) -> f64 {
    z * z * p * (1.0 - p) / (margin * margin)
}

/// The sample size for a population of `population` at `confidence` and `margin` (a
/// fraction) with expected proportion `p` (0.5 when unknown, the most cautious value):
/// n = n0 / (1 + (n0 - 1) / N), rounded up and never more than N. `None` for an infinite
/// population uses n0 itself (rounded up).
pub fn sample_size(population: Option<i64>, confidence: Confidence, margin: f64, p: f64) -> i64 {
    let n0 = n0(confidence.z(), p, margin);
    if !n0.is_finite() || margin <= 0.0 {
        return population.unwrap_or(0).max(0);
    }
    let n = match population {
        None => n0,
        Some(big_n) if big_n <= 0 => return 0,
        Some(big_n) => n0 / (1.0 + (n0 - 1.0) / big_n as f64),
    };
    // A tiny epsilon keeps 278.0000000001 (float noise) from becoming 279.
    let k = (n - 1e-9).ceil().max(1.0) as i64;
    match population {
        Some(big_n) => k.min(big_n),
        None => k,
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014; Vigna's reference `splitmix64.c`): a tiny,
/// fully specified generator, so a seed draws the same sample everywhere, forever.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (n > 0), without modulo bias (Lemire's multiply-and-reject).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

/// A simple random sample of `k` members of `population` drawn with `seed`: the population
/// is sorted and deduplicated first (so the order it was read in does not matter), then a
/// partial Fisher-Yates shuffle picks the first `k`. The sample comes back sorted. With
/// `k >= N` every member is returned.
pub fn draw(population: &[i64], k: usize, seed: u64) -> Vec<i64> {
    let mut v = population.to_vec();
    v.sort_unstable();
    v.dedup();
    if k >= v.len() {
        return v;
    }
    let mut rng = SplitMix64::new(seed);
    let n = v.len();
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        v.swap(i, j);
    }
    v.truncate(k);
    v.sort_unstable();
    v
}

/// Who may be invited: every filter that is set narrows the population.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Population {
    /// Customers of this region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Customers with a unit of this product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<i64>,
    /// Customers with a unit under this contract level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_level: Option<String>,
    /// Customers with a service order completed in the study's period.
    #[serde(default)]
    pub served: bool,
}

/// A validated study design (name, template, period, population, calculator, seed).
#[derive(Debug, Clone, PartialEq)]
pub struct StudyDraft {
    pub name: String,
    pub template_id: i64,
    pub period_start: String,
    pub period_end: String,
    pub population: Population,
    pub confidence: Confidence,
    /// Margin of error in percent (e.g. 5.0).
    pub margin_percent: f64,
    /// The size asked for; `None` takes the calculator's.
    pub sample_size: Option<i64>,
    pub seed: i64,
    pub link_days: i64,
}

/// The raw fields of a study form or API body.
#[derive(Debug, Clone, Default)]
pub struct StudyRaw<'a> {
    pub name: &'a str,
    pub template_id: &'a str,
    pub period_start: &'a str,
    pub period_end: &'a str,
    pub region: &'a str,
    pub product_id: &'a str,
    pub contract_level: &'a str,
    pub served: bool,
    pub confidence: &'a str,
    pub margin: &'a str,
    pub sample_size: &'a str,
    pub seed: &'a str,
    pub link_days: &'a str,
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl StudyDraft {
    /// Parses a study; every invalid field is reported at once. The sample size is checked
    /// against the population later (it needs the database).
    pub fn parse(mut errs: FieldErrors, r: StudyRaw<'_>) -> Result<StudyDraft, crate::DomainError> {
        let name = r.name.trim().to_string();
        if name.is_empty() {
            errs.add("name", "required", None);
        } else if name.chars().count() > 200 {
            errs.add("name", "too_long", Some("200".into()));
        }
        let template_id = match r.template_id.trim().parse::<i64>() {
            Ok(v) if v > 0 => v,
            _ => {
                errs.add("template_id", "required", None);
                0
            }
        };
        let (ps, pe) = (r.period_start.trim(), r.period_end.trim());
        if ps.is_empty() {
            errs.add("period_start", "required", None);
        } else if !valid_date(ps) {
            errs.add("period_start", "date", None);
        }
        if pe.is_empty() {
            errs.add("period_end", "required", None);
        } else if !valid_date(pe) {
            errs.add("period_end", "date", None);
        } else if valid_date(ps) && pe < ps {
            errs.add("period_end", "study_period_order", None);
        }
        let product_id = match opt(r.product_id) {
            None => None,
            Some(v) => match v.parse::<i64>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    errs.add("product_id", "choice", None);
                    None
                }
            },
        };
        let confidence = match r.confidence.trim() {
            "" => Confidence::P95,
            v => match v.parse::<i64>().ok().and_then(Confidence::from_percent) {
                Some(c) => c,
                None => {
                    errs.add("confidence", "choice", None);
                    Confidence::P95
                }
            },
        };
        let margin_percent = match r.margin.trim() {
            "" => 5.0,
            v => match v.parse::<f64>() {
                Ok(m) if m.is_finite() && m > 0.0 && m <= 50.0 => m,
                _ => {
                    errs.add("margin", "study_margin", None);
                    5.0
                }
            },
        };
        let sample_size = match r.sample_size.trim() {
            "" => None,
            v => match v.parse::<i64>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    errs.add("sample_size", "study_sample_size", None);
                    None
                }
            },
        };
        let seed = match r.seed.trim() {
            "" => {
                errs.add("seed", "required", None);
                0
            }
            v => match v.parse::<i64>() {
                Ok(s) if s >= 0 => s,
                _ => {
                    errs.add("seed", "study_seed", None);
                    0
                }
            },
        };
        let link_days = match r.link_days.trim() {
            "" => 30,
            v => match v.parse::<i64>() {
                Ok(d) if (1..=365).contains(&d) => d,
                _ => {
                    errs.add("link_days", "study_link_days", None);
                    30
                }
            },
        };
        errs.into_result(StudyDraft {
            name,
            template_id,
            period_start: ps.to_string(),
            period_end: pe.to_string(),
            population: Population {
                region: opt(r.region),
                product_id,
                contract_level: opt(r.contract_level),
                served: r.served,
            },
            confidence,
            margin_percent,
            sample_size,
            seed,
            link_days,
        })
    }

    /// The calculator's size for a population of `n`.
    pub fn computed_size(&self, n: i64) -> i64 {
        sample_size(Some(n), self.confidence, self.margin_percent / 100.0, 0.5)
    }
}

/// Study statuses and their moves: draft → open → closed.
pub mod status {
    /// Being designed; no answers accepted yet.
    pub const DRAFT: &str = "draft";
    /// Answer links work.
    pub const OPEN: &str = "open";
    /// Finished; links no longer accept answers.
    pub const CLOSED: &str = "closed";
    /// Every status, in lifecycle order.
    pub const ALL: [&str; 3] = [DRAFT, OPEN, CLOSED];
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sample_sizes_match_published_tables() {
        // n0 at 95% and ±5% with p = 0.5: 1.96² × 0.25 / 0.05² = 384.16 → 385 (DOMAIN.md §7;
        // Cochran, Sampling Techniques, 3rd ed. 1977, §4.4).
        assert_eq!(sample_size(None, Confidence::P95, 0.05, 0.5), 385);
        // 90%: 1.645² × 100 = 270.60 → 271; 99%: 2.576² × 100 = 663.58 → 664.
        assert_eq!(sample_size(None, Confidence::P90, 0.05, 0.5), 271);
        assert_eq!(sample_size(None, Confidence::P99, 0.05, 0.5), 664);
        // ±3% at 95%: 1.96² × 0.25 / 0.0009 = 1067.1 → 1068.
        assert_eq!(sample_size(None, Confidence::P95, 0.03, 0.5), 1068);
        // Finite populations, n = n0 / (1 + (n0 - 1) / N) with the unrounded n0, computed by
        // hand (and the same as the Raosoft and SurveyMonkey calculators give at 95% / 5% /
        // 50%): N = 1000 → 277.74 → 278; 500 → 217.49 → 218; 100 → 79.51 → 80;
        // 10000 → 369.98 → 370; 50 → 44.34 → 45.
        for (n, want) in [(1000, 278), (500, 218), (100, 80), (10_000, 370), (50, 45)] {
            assert_eq!(
                sample_size(Some(n), Confidence::P95, 0.05, 0.5),
                want,
                "N = {n}"
            );
        }
        // Never more than the population; nothing to draw from nobody.
        assert_eq!(sample_size(Some(3), Confidence::P99, 0.01, 0.5), 3);
        assert_eq!(sample_size(Some(0), Confidence::P95, 0.05, 0.5), 0);
        assert_eq!(sample_size(Some(1), Confidence::P95, 0.05, 0.5), 1);
    }

    #[test]
    fn splitmix64_matches_the_reference() {
        // The first outputs of Vigna's splitmix64.c started at 0.
        let mut g = SplitMix64::new(0);
        assert_eq!(g.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(g.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(g.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn a_seed_draws_the_same_sample_forever() {
        // Pinned: a change of the generator or the shuffle would silently change every
        // stored study's sample, so it must fail here first.
        let pop: Vec<i64> = (1..=20).collect();
        let s = draw(&pop, 5, 42);
        assert_eq!(s, [2, 5, 8, 9, 15]);
        let mut shuffled = pop.clone();
        shuffled.reverse();
        assert_eq!(draw(&shuffled, 5, 42), s, "read order does not matter");
        assert_eq!(draw(&pop, 50, 1), pop);
        assert_eq!(draw(&[], 3, 1), Vec::<i64>::new());
    }

    #[test]
    fn drafts_report_every_bad_field() {
        let e = StudyDraft::parse(
            FieldErrors::default(),
            StudyRaw {
                period_start: "2026-02-01",
                period_end: "2026-01-01",
                confidence: "97",
                margin: "0",
                seed: "x",
                link_days: "0",
                ..Default::default()
            },
        )
        .unwrap_err();
        let crate::DomainError::Invalid(f) = e else {
            panic!("not invalid")
        };
        let fields: Vec<&str> = f.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "template_id",
                "period_end",
                "confidence",
                "margin",
                "seed",
                "link_days"
            ]
        );
        let d = StudyDraft::parse(
            FieldErrors::default(),
            StudyRaw {
                name: " 2026 Q1 ",
                template_id: "3",
                period_start: "2026-01-01",
                period_end: "2026-03-31",
                region: "华东",
                served: true,
                seed: "7",
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(d.name, "2026 Q1");
        assert_eq!(d.confidence, Confidence::P95);
        assert_eq!(d.margin_percent, 5.0);
        assert_eq!(d.computed_size(1000), 278);
        assert_eq!(d.population.region.as_deref(), Some("华东"));
    }

    proptest! {
        #[test]
        fn samples_are_distinct_members(
            pop in proptest::collection::vec(0i64..10_000, 0..300),
            k in 0usize..400,
            seed in any::<u64>(),
        ) {
            let s = draw(&pop, k, seed);
            let mut uniq = pop.clone();
            uniq.sort_unstable();
            uniq.dedup();
            prop_assert_eq!(s.len(), k.min(uniq.len()));
            prop_assert!(s.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
            prop_assert!(s.iter().all(|x| uniq.binary_search(x).is_ok()));
            prop_assert_eq!(&s, &draw(&pop, k, seed));
            if k >= uniq.len() {
                prop_assert_eq!(s, uniq);
            }
        }

        #[test]
        fn different_seeds_mostly_differ(seed in any::<u64>()) {
            // 10 of 1000: two seeds agree with probability 1 / C(1000, 10), i.e. never.
            let pop: Vec<i64> = (0..1000).collect();
            prop_assert_ne!(draw(&pop, 10, seed), draw(&pop, 10, seed.wrapping_add(1)));
        }

        #[test]
        fn below_stays_in_range(seed in any::<u64>(), n in 1u64..1_000_000) {
            let mut g = SplitMix64::new(seed);
            for _ in 0..20 {
                prop_assert!(g.below(n) < n);
            }
        }

        #[test]
        fn sample_size_is_bounded_and_monotone(
            n in 1i64..1_000_000,
            margin in 1u32..=20,
            c in 0usize..3,
        ) {
            let conf = Confidence::ALL[c];
            let e = f64::from(margin) / 100.0;
            let k = sample_size(Some(n), conf, e, 0.5);
            prop_assert!(k >= 1 && k <= n);
            prop_assert!(k <= sample_size(None, conf, e, 0.5));
            prop_assert!(sample_size(Some(n + 1), conf, e, 0.5) >= k);
        }
    }
}
