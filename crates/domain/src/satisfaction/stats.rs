//! Satisfaction statistics (DOMAIN.md §7). Scores are put on 0-100 by the item's own scale.
//!
//! Everything here works from sufficient statistics that the database aggregates (counts,
//! Σx, Σx²), never from answer rows, so a study of millions of answers costs the same here as
//! one of ten. Conventions, so that an auditor can redo every number:
//!
//! - 95% intervals use z = 1.96 exactly (DOMAIN.md §7: "mean ± 1.96 s / √n"), also inside the
//!   Wilson interval. The normal approximation is used for means (not Student's t), as the
//!   formula in the domain text says; for n < 2 a mean has no interval.
//! - s is the sample standard deviation (divisor n − 1).
//! - An interval is clipped to what the quantity can be (a scale's range, 0-100, −100..100):
//!   the normal approximation can reach past it for small samples.
//! - Shares are reported in percent; their Wilson interval likewise.
//! - NPS's interval is the normal approximation of a difference of two shares of one
//!   multinomial sample: Var(p₊ − p₋) = (p₊ + p₋ − (p₊ − p₋)²) / n, NPS ± 1.96 √Var, × 100.
//! - CSI = Σ wᵢ scoreᵢ with the weights normalised (wᵢ / Σ w) over the template's scale
//!   items that have at least one answer; its interval has the CSI at its centre and the
//!   half-width 1.96 s / √n of the responses' own scores (`survey_responses.score`).
//! - Cronbach's α of a dimension is computed over its complete cases (responses that
//!   answered every scale item of the dimension), from raw answer values.

use serde::{Deserialize, Serialize};

/// The 95% normal quantile as written in DOMAIN.md §7.
pub const Z95: f64 = 1.96;

/// One answer to a scale item, with the item's scale and importance weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleAnswer {
    pub value: f64,
    pub scale_min: f64,
    pub scale_max: f64,
    pub weight: f64,
}

/// An answer on its item's scale put on 0-100: (v - min) / (max - min) × 100.
pub fn normalise(value: f64, scale_min: f64, scale_max: f64) -> f64 {
    if scale_max <= scale_min {
        return 0.0;
    }
    ((value - scale_min) / (scale_max - scale_min) * 100.0).clamp(0.0, 100.0)
}

/// A response's own weighted score on 0-100: Σ wᵢ sᵢ / Σ wᵢ over the scale items it
/// answered (weights renormalised over those answers); `None` when it answered none or the
/// weights of its answers sum to zero.
pub fn response_score(answers: &[ScaleAnswer]) -> Option<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for a in answers {
        let w = a.weight.max(0.0);
        num += w * normalise(a.value, a.scale_min, a.scale_max);
        den += w;
    }
    (den > 0.0).then(|| num / den)
}

/// Sufficient statistics of a set of values: n, Σx, Σx².
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Sums {
    pub n: i64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Sums {
    /// The sums of `values` (tests and small sets; the database sums the big ones).
    pub fn of(values: &[f64]) -> Sums {
        values.iter().fold(Sums::default(), |s, v| Sums {
            n: s.n + 1,
            sum: s.sum + v,
            sum_sq: s.sum_sq + v * v,
        })
    }

    /// The arithmetic mean; `None` for no values.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// The sample variance (divisor n − 1); `None` for fewer than two values. Rounding in
    /// Σx² − (Σx)²/n can leave a tiny negative or positive rest for constant values: anything
    /// below 1e-12 of the mean square counts as zero.
    pub fn variance(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        let ss = self.sum_sq - self.sum * self.sum / n;
        let scale = (self.sum_sq / n).abs().max(1.0);
        Some(if ss <= 1e-12 * scale * n {
            0.0
        } else {
            ss / (n - 1.0)
        })
    }

    /// The sample standard deviation s (divisor n − 1).
    pub fn sd(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// Half the width of the 95% interval of the mean: 1.96 s / √n.
    pub fn half_width(&self) -> Option<f64> {
        self.sd().map(|s| Z95 * s / (self.n as f64).sqrt())
    }
}

/// A point estimate with its sample size and 95% interval; `value` is `None` without data,
/// `low` / `high` are `None` when no interval can be given (n < 2 for a mean).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub n: i64,
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Estimate {
    /// No data.
    pub fn empty(n: i64) -> Estimate {
        Estimate {
            n,
            ..Estimate::default()
        }
    }

    /// Every number mapped by `f` (a monotone increasing map: the interval stays ordered).
    pub fn map(self, f: impl Fn(f64) -> f64) -> Estimate {
        Estimate {
            n: self.n,
            value: self.value.map(&f),
            low: self.low.map(&f),
            high: self.high.map(&f),
        }
    }
}

/// The mean of `s` with 1.96 s / √n, the interval clipped to [lo, hi] (the values' range).
pub fn mean_ci(s: &Sums, lo: f64, hi: f64) -> Estimate {
    let Some(m) = s.mean() else {
        return Estimate::empty(s.n);
    };
    let m = m.clamp(lo, hi);
    let h = s.half_width();
    Estimate {
        n: s.n,
        value: Some(m),
        low: h.map(|h| (m - h).clamp(lo, hi)),
        high: h.map(|h| (m + h).clamp(lo, hi)),
    }
}

/// An item's mean on its own scale and its score on 0-100, each with the 95% interval; the
/// score's interval is the mean's interval put on 0-100 the same way as the mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemScore {
    pub mean: Estimate,
    pub sd: Option<f64>,
    pub score: Estimate,
}

/// The mean and 0-100 score of a scale item answered with the sums `s`.
pub fn item_score(s: &Sums, scale_min: f64, scale_max: f64) -> ItemScore {
    let mean = mean_ci(s, scale_min, scale_max.max(scale_min));
    ItemScore {
        mean,
        sd: s.sd(),
        score: mean.map(|v| normalise(v, scale_min, scale_max)),
    }
}

/// The Wilson score 95% interval of the share k / n, as fractions 0..1:
/// (p + z²/2n ± z √(p(1−p)/n + z²/4n²)) / (1 + z²/n).
pub fn wilson(k: i64, n: i64) -> Option<(f64, f64)> {
    if n <= 0 {
        return None;
    }
    let (k, n) = (k.clamp(0, n) as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let den = 1.0 + z2 / n;
    let centre = p + z2 / (2.0 * n);
    let h = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some((
        ((centre - h) / den).clamp(0.0, 1.0).min(p),
        ((centre + h) / den).clamp(0.0, 1.0).max(p),
    ))
}

/// The share k / n in percent with its Wilson 95% interval.
pub fn share(k: i64, n: i64) -> Estimate {
    match wilson(k, n) {
        None => Estimate::empty(n.max(0)),
        Some((lo, hi)) => Estimate {
            n,
            value: Some(k.clamp(0, n) as f64 / n as f64 * 100.0),
            low: Some(lo * 100.0),
            high: Some(hi * 100.0),
        },
    }
}

/// CSAT: the share of answers in the top two boxes of the csat item (answers ≥ max − 1), in
/// percent with the Wilson interval.
pub fn csat(top_two: i64, n: i64) -> Estimate {
    share(top_two, n)
}

/// NPS = % promoters (9-10) − % detractors (0-6), −100..100, with the normal-approximation
/// interval of a difference of two shares of one sample (see the module notes).
pub fn nps(promoters: i64, detractors: i64, n: i64) -> Estimate {
    if n <= 0 {
        return Estimate::empty(n.max(0));
    }
    let nf = n as f64;
    let pp = promoters.clamp(0, n) as f64 / nf;
    let pd = detractors.clamp(0, n) as f64 / nf;
    let d = pp - pd;
    let var = ((pp + pd - d * d) / nf).max(0.0);
    let h = Z95 * var.sqrt();
    let v = (d * 100.0).clamp(-100.0, 100.0);
    Estimate {
        n,
        value: Some(v),
        low: Some(((d - h) * 100.0).clamp(-100.0, 100.0).min(v)),
        high: Some(((d + h) * 100.0).clamp(-100.0, 100.0).max(v)),
    }
}

/// CES: the mean of the ces item on its scale (1-7) with its interval.
pub fn ces(s: &Sums, scale_min: f64, scale_max: f64) -> Estimate {
    mean_ci(s, scale_min, scale_max.max(scale_min))
}

/// Weights normalised to sum to 1 (negative weights count as 0; all zero: equal weights);
/// empty for no items.
pub fn normalised_weights(weights: &[f64]) -> Vec<f64> {
    let clean: Vec<f64> = weights
        .iter()
        .map(|w| if w.is_finite() { w.max(0.0) } else { 0.0 })
        .collect();
    let total: f64 = clean.iter().sum();
    if clean.is_empty() {
        return clean;
    }
    if total <= 0.0 {
        let n = clean.len() as f64;
        return clean.iter().map(|_| 1.0 / n).collect();
    }
    clean.iter().map(|w| w / total).collect()
}

/// CSI = Σ wᵢ scoreᵢ over the scale items with a score, the weights normalised over those
/// items; the interval from the responses' own scores (`responses`: n, Σ, Σ² of
/// survey_responses.score): CSI ± 1.96 s / √n, clipped to 0-100. `n` is the responses'
/// count. Items are (weight, score on 0-100 or `None` when unanswered).
pub fn csi(items: &[(f64, Option<f64>)], responses: &Sums) -> Estimate {
    let scored: Vec<(f64, f64)> = items
        .iter()
        .filter_map(|(w, s)| s.map(|s| (*w, s)))
        .collect();
    if scored.is_empty() {
        return Estimate::empty(responses.n);
    }
    let w = normalised_weights(&scored.iter().map(|x| x.0).collect::<Vec<_>>());
    let v = scored
        .iter()
        .zip(&w)
        .map(|((_, s), w)| w * s)
        .sum::<f64>()
        .clamp(0.0, 100.0);
    let h = responses.half_width();
    Estimate {
        n: responses.n,
        value: Some(v),
        low: h.map(|h| (v - h).clamp(0.0, 100.0)),
        high: h.map(|h| (v + h).clamp(0.0, 100.0)),
    }
}

/// The response rate: answered / invited in percent with the Wilson interval.
pub fn response_rate(answered: i64, invited: i64) -> Estimate {
    share(answered, invited)
}

/// Cronbach's α of k items over n complete cases, from each item's sums and the sums of
/// the per-case totals: α = k/(k−1) · (1 − Σ s²ᵢ / s²ₜ). `None` for k < 2, n < 2, or zero
/// variance (of the totals or of every item). Capped at 1 against rounding (α ≤ 1 holds
/// exactly since s²ₜ ≤ k Σ s²ᵢ).
pub fn cronbach_alpha(items: &[Sums], total: &Sums) -> Option<f64> {
    let k = items.len();
    if k < 2 || total.n < 2 {
        return None;
    }
    let vt = total.variance()?;
    let vi: f64 = items.iter().map(|s| s.variance()).sum::<Option<f64>>()?;
    if vt <= 0.0 || vi <= 0.0 {
        return None;
    }
    let k = k as f64;
    Some((k / (k - 1.0) * (1.0 - vi / vt)).min(1.0))
}

/// Reliability judged acceptable from this α up (DOMAIN.md §7).
pub const ALPHA_ACCEPTABLE: f64 = 0.7;

/// The quadrant of an item in the importance-performance matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// Important, low score: improve first.
    FixFirst,
    /// Important, high score.
    Keep,
    /// Unimportant, low score.
    Opportunity,
    /// Unimportant, high score.
    Maintain,
}

impl Quadrant {
    /// Every quadrant, in display order.
    pub const ALL: [Quadrant; 4] = [
        Quadrant::FixFirst,
        Quadrant::Keep,
        Quadrant::Opportunity,
        Quadrant::Maintain,
    ];

    /// The stored / JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Quadrant::FixFirst => "fix_first",
            Quadrant::Keep => "keep",
            Quadrant::Opportunity => "opportunity",
            Quadrant::Maintain => "maintain",
        }
    }

    /// The quadrant of (importance, performance) with the axes cut at (ci, cp); a point on
    /// a cut line counts as important / high.
    pub fn of(importance: f64, performance: f64, ci: f64, cp: f64) -> Quadrant {
        match (importance >= ci, performance >= cp) {
            (true, false) => Quadrant::FixFirst,
            (true, true) => Quadrant::Keep,
            (false, false) => Quadrant::Opportunity,
            (false, true) => Quadrant::Maintain,
        }
    }
}

/// The importance-performance matrix: the cuts and each item's place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ipa {
    /// Mean importance of the items placed (= 1 / their count).
    pub importance_cut: f64,
    /// Mean score of the items placed.
    pub performance_cut: f64,
    /// Per input item in input order: (importance, performance, quadrant); `None` for
    /// items without a score.
    pub points: Vec<Option<(f64, f64, Quadrant)>>,
}

/// Places scale items (weight, score 0-100 or `None`) in the matrix: importance is the
/// weight normalised over the items with a score, performance the score; the axes are cut
/// at the mean importance and the mean score. `None` when no item has a score.
pub fn ipa(items: &[(f64, Option<f64>)]) -> Option<Ipa> {
    let scored: Vec<usize> = (0..items.len()).filter(|&i| items[i].1.is_some()).collect();
    if scored.is_empty() {
        return None;
    }
    let w = normalised_weights(&scored.iter().map(|&i| items[i].0).collect::<Vec<_>>());
    let k = scored.len() as f64;
    let ci = w.iter().sum::<f64>() / k;
    let cp = scored.iter().filter_map(|&i| items[i].1).sum::<f64>() / k;
    let mut points = vec![None; items.len()];
    for (j, &i) in scored.iter().enumerate() {
        let p = items[i].1.unwrap_or(0.0);
        // Compare with a tolerance: equal weights must all land on the cut (important),
        // not on either side of it by rounding.
        let imp_side = if (w[j] - ci).abs() <= 1e-12 { ci } else { w[j] };
        let perf_side = if (p - cp).abs() <= 1e-9 { cp } else { p };
        points[i] = Some((w[j], p, Quadrant::of(imp_side, perf_side, ci, cp)));
    }
    Some(Ipa {
        importance_cut: ci,
        performance_cut: cp,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(value: f64, weight: f64) -> ScaleAnswer {
        ScaleAnswer {
            value,
            scale_min: 1.0,
            scale_max: 5.0,
            weight,
        }
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[track_caller]
    fn near(got: Option<f64>, want: f64) {
        let g = got.expect("a value");
        assert!(close(g, want, 1e-9), "got {g}, want {want}");
    }

    #[test]
    fn response_score_weights_answered_items() {
        // 5 → 100 with weight 3, 1 → 0 with weight 1: 75.
        assert_eq!(response_score(&[a(5.0, 3.0), a(1.0, 1.0)]), Some(75.0));
        assert_eq!(response_score(&[]), None);
        assert_eq!(response_score(&[a(3.0, 0.0)]), None);
        assert_eq!(normalise(7.0, 0.0, 10.0), 70.0);
    }

    // ---- Reference data set R (the same set the server test sat_stats.rs stores) ----
    //
    // Ten responses to a template with dimension A (items a1, a2, a3 on 1-5, weights 3, 2, 1),
    // dimension B (items b1, b2 on 1-5, weights 2, 2), a csat item (1-5), an nps item (0-10)
    // and a ces item (1-7). Response 10 skipped a3 (so it is not a complete case of A).
    pub(crate) const A1: [f64; 10] = [4., 5., 3., 4., 2., 5., 4., 3., 5., 4.];
    pub(crate) const A2: [f64; 10] = [4., 4., 3., 5., 2., 5., 3., 3., 4., 4.];
    pub(crate) const A3: [f64; 9] = [5., 4., 2., 4., 1., 5., 4., 3., 4.]; // response 10: none
    pub(crate) const B1: [f64; 10] = [3., 5., 4., 4., 3., 5., 2., 4., 5., 3.];
    pub(crate) const B2: [f64; 10] = [3., 4., 4., 5., 2., 5., 3., 4., 4., 4.];
    pub(crate) const CSAT: [f64; 10] = [4., 5., 3., 4., 2., 5., 4., 3., 5., 4.];
    pub(crate) const NPS: [f64; 10] = [9., 10., 7., 8., 3., 10., 6., 7., 9., 8.];
    pub(crate) const CES: [f64; 10] = [2., 1., 4., 3., 6., 1., 3., 4., 2., 3.];

    // Expected values, computed independently of this code with Python 3.11, numpy 2.x,
    // scipy, statsmodels and pingouin (`pip install numpy scipy pingouin statsmodels`); the
    // script's core is quoted in the module notes of crates/server/tests/it/sat_stats.rs:
    //   means / SDs: numpy.mean, numpy.std(ddof=1); intervals mean ± 1.96·s/√n;
    //   Wilson: statsmodels.stats.proportion.proportion_confint(k, n,
    //           alpha=2*(1-scipy.stats.norm.cdf(1.96)), method='wilson') (z exactly 1.96);
    //   Cronbach: pingouin.cronbach_alpha(data=DataFrame(...).dropna());
    //   NPS: (p₊ − p₋) ± 1.96·√((p₊ + p₋ − (p₊ − p₋)²)/n), evaluated with numpy.
    fn check(e: Estimate, n: i64, v: f64, lo: f64, hi: f64) {
        assert_eq!(e.n, n);
        near(e.value, v);
        near(e.low, lo);
        near(e.high, hi);
    }

    #[test]
    fn reference_items() {
        // (values, n, mean, sd, low, high) from the script's "a1: n=10 mean=…" lines
        type Case<'a> = (&'a [f64], i64, f64, f64, f64, f64);
        let cases: [Case; 5] = [
            (
                &A1,
                10,
                3.9,
                0.9944289260117533,
                3.2836465660389687,
                4.516353433961031,
            ),
            (&A2, 10, 3.7, 0.9486832980505138, 3.112, 4.288),
            (
                &A3,
                9,
                3.5555555555555554,
                1.3333333333333333,
                2.6844444444444444,
                4.426666666666667,
            ),
            (
                &B1,
                10,
                3.8,
                1.0327955589886446,
                3.1598666805526623,
                4.440133319447337,
            ),
            (
                &B2,
                10,
                3.8,
                0.9189365834726815,
                3.230437204710685,
                4.369562795289315,
            ),
        ];
        for (v, n, m, sd, lo, hi) in cases {
            let r = item_score(&Sums::of(v), 1.0, 5.0);
            check(r.mean, n, m, lo, hi);
            near(r.sd, sd);
        }
        // scores on 0-100: a1 72.5 [57.091164150974215, 87.90883584902578]
        let r = item_score(&Sums::of(&A1), 1.0, 5.0);
        check(r.score, 10, 72.5, 57.091164150974215, 87.90883584902578);
        let r = item_score(&Sums::of(&A3), 1.0, 5.0);
        check(
            r.score,
            9,
            63.888888888888886,
            42.11111111111111,
            85.66666666666667,
        );
    }

    #[test]
    fn reference_headline_figures() {
        // CSAT: 7 of 10 in the top two boxes → 70 % [39.67732199795653, 89.22107125137882]
        let top2 = CSAT.iter().filter(|v| **v >= 4.0).count() as i64;
        check(
            csat(top2, 10),
            10,
            70.0,
            39.67732199795653,
            89.22107125137882,
        );
        // NPS: 4 promoters, 2 detractors → 20 [-26.38206549950099, 66.38206549950098]
        let p = NPS.iter().filter(|v| **v >= 9.0).count() as i64;
        let d = NPS.iter().filter(|v| **v <= 6.0).count() as i64;
        check(
            nps(p, d, 10),
            10,
            20.0,
            -26.38206549950099,
            66.38206549950098,
        );
        // CES: 2.9 [1.9554869567396707, 3.844513043260329]
        check(
            ces(&Sums::of(&CES), 1.0, 7.0),
            10,
            2.9,
            1.9554869567396707,
            3.844513043260329,
        );
        // response rate 10 of 16: 62.5 % [38.64064709793481, 81.5190174452472]
        check(
            response_rate(10, 16),
            16,
            62.5,
            38.64064709793481,
            81.5190174452472,
        );
    }

    /// The responses' own scores of R, each from [`response_score`].
    fn response_scores() -> Vec<f64> {
        (0..10)
            .filter_map(|r| {
                let mut v = vec![a(A1[r], 3.0), a(A2[r], 2.0), a(B1[r], 2.0), a(B2[r], 2.0)];
                if let Some(x) = A3.get(r) {
                    v.push(a(*x, 1.0));
                }
                response_score(&v)
            })
            .collect()
    }

    #[test]
    fn reference_csi() {
        // response scores: 67.5, 87.5, 57.5, 85, 27.5, 100, 55, 60, 87.5, 69.444…
        let rs = response_scores();
        let want = [
            67.5,
            87.5,
            57.5,
            85.0,
            27.5,
            100.0,
            55.0,
            60.0,
            87.5,
            69.44444444444444,
        ];
        for (g, w) in rs.iter().zip(want) {
            assert!(close(*g, w, 1e-9), "{g} vs {w}");
        }
        let s = Sums::of(&rs);
        near(s.mean(), 69.69444444444444);
        near(s.sd(), 21.162401145007678);
        let score = |v: &[f64]| item_score(&Sums::of(v), 1.0, 5.0).score.value;
        let items = [
            (3.0, score(&A1)),
            (2.0, score(&A2)),
            (1.0, score(&A3)),
            (2.0, score(&B1)),
            (2.0, score(&B2)),
        ];
        // CSI 69.63888888888889 [56.522296767118505, 82.75548101065927]
        check(
            csi(&items, &s),
            10,
            69.63888888888889,
            56.522296767118505,
            82.75548101065927,
        );
        // IPA: cuts 0.2 and 68.77777777777779; a1 keep, a2 fix_first, a3 opportunity,
        // b1 keep, b2 keep
        let m = ipa(&items).expect("matrix");
        assert!(close(m.importance_cut, 0.2, 1e-12));
        assert!(close(m.performance_cut, 68.77777777777779, 1e-9));
        let q: Vec<Quadrant> = m.points.iter().map(|p| p.expect("placed").2).collect();
        use Quadrant::*;
        assert_eq!(q, [Keep, FixFirst, Opportunity, Keep, Keep]);
        assert!(close(m.points[0].unwrap().0, 0.3, 1e-12));
    }

    #[test]
    fn reference_cronbach() {
        // Dimension A over its 9 complete cases (response 10 skipped a3):
        // pingouin 0.9230769230769231; dimension B over all 10: 0.788732394366197.
        let a: Vec<Sums> = [&A1[..9], &A2[..9], &A3[..]]
            .iter()
            .map(|v| Sums::of(v))
            .collect();
        let ta: Vec<f64> = (0..9).map(|r| A1[r] + A2[r] + A3[r]).collect();
        near(cronbach_alpha(&a, &Sums::of(&ta)), 0.9230769230769231);
        let b = [Sums::of(&B1), Sums::of(&B2)];
        let tb: Vec<f64> = (0..10).map(|r| B1[r] + B2[r]).collect();
        near(cronbach_alpha(&b, &Sums::of(&tb)), 0.788732394366197);
        // one item, one case, constant answers: no alpha
        assert_eq!(cronbach_alpha(&b[..1], &Sums::of(&tb)), None);
        assert_eq!(cronbach_alpha(&b, &Sums::of(&tb[..1])), None);
        let c = Sums::of(&[3.0, 3.0, 3.0]);
        assert_eq!(cronbach_alpha(&[c, c], &Sums::of(&[6.0, 6.0, 6.0])), None);
    }

    #[test]
    fn edges() {
        assert_eq!(mean_ci(&Sums::default(), 1.0, 5.0), Estimate::empty(0));
        let one = mean_ci(&Sums::of(&[4.0]), 1.0, 5.0);
        assert_eq!((one.value, one.low, one.high), (Some(4.0), None, None));
        // two extreme answers: the interval is clipped to the scale
        let two = mean_ci(&Sums::of(&[1.0, 5.0]), 1.0, 5.0);
        assert_eq!((two.low, two.high), (Some(1.0), Some(5.0)));
        assert_eq!(share(0, 0).value, None);
        let all = share(5, 5);
        assert_eq!(all.value, Some(100.0));
        assert_eq!(all.high, Some(100.0));
        assert_eq!(nps(0, 0, 0).value, None);
        assert_eq!(nps(3, 0, 3).value, Some(100.0));
        assert_eq!(normalised_weights(&[0.0, 0.0]), vec![0.5, 0.5]);
        assert!(normalised_weights(&[]).is_empty());
        assert_eq!(csi(&[(1.0, None)], &Sums::default()).value, None);
        assert!(ipa(&[(1.0, None)]).is_none());
        // a point on the cut lines is important and high
        assert_eq!(Quadrant::of(0.2, 50.0, 0.2, 50.0), Quadrant::Keep);
        assert_eq!(Quadrant::of(0.1, 80.0, 0.2, 50.0), Quadrant::Maintain);
    }

    proptest! {
        #[test]
        fn item_scores_and_intervals_stay_in_bounds(
            values in proptest::collection::vec(1u8..=5, 0..60)
        ) {
            let v: Vec<f64> = values.iter().map(|x| *x as f64).collect();
            let r = item_score(&Sums::of(&v), 1.0, 5.0);
            prop_assert_eq!(r.score.n, v.len() as i64);
            if let Some(s) = r.score.value {
                prop_assert!((0.0..=100.0).contains(&s));
                if let (Some(lo), Some(hi)) = (r.score.low, r.score.high) {
                    prop_assert!(0.0 <= lo && lo <= s + 1e-9 && s <= hi + 1e-9 && hi <= 100.0);
                }
            } else {
                prop_assert!(v.is_empty());
            }
        }

        #[test]
        fn order_of_answers_does_not_matter(
            values in proptest::collection::vec(0u8..=10, 1..60),
            seed in any::<u64>()
        ) {
            let v: Vec<f64> = values.iter().map(|x| *x as f64).collect();
            let mut w = v.clone();
            // a deterministic shuffle from the seed
            let mut x = seed | 1;
            for i in (1..w.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                w.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let (r1, r2) = (item_score(&Sums::of(&v), 0.0, 10.0), item_score(&Sums::of(&w), 0.0, 10.0));
            let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => close(a, b, 1e-9),
                (None, None) => true,
                _ => false,
            };
            prop_assert!(same(r1.score.value, r2.score.value));
            prop_assert!(same(r1.score.low, r2.score.low));
            prop_assert!(same(r1.score.high, r2.score.high));
            let cnt = |v: &[f64]| (v.iter().filter(|x| **x >= 9.0).count() as i64, v.iter().filter(|x| **x <= 6.0).count() as i64);
            let ((p1, d1), (p2, d2)) = (cnt(&v), cnt(&w));
            prop_assert_eq!(nps(p1, d1, v.len() as i64), nps(p2, d2, w.len() as i64));
        }

        #[test]
        fn weights_normalise_to_one(ws in proptest::collection::vec(-5.0f64..100.0, 1..30)) {
            let n = normalised_weights(&ws);
            prop_assert_eq!(n.len(), ws.len());
            prop_assert!(close(n.iter().sum::<f64>(), 1.0, 1e-9));
            prop_assert!(n.iter().all(|w| (0.0..=1.0).contains(w)));
        }

        #[test]
        fn nps_stays_within_minus_100_and_100(n in 1i64..500, p in 0i64..500, d in 0i64..500) {
            let p = p.min(n);
            let d = d.min(n - p);
            let e = nps(p, d, n);
            let (v, lo, hi) = (e.value.unwrap(), e.low.unwrap(), e.high.unwrap());
            prop_assert!((-100.0..=100.0).contains(&v));
            prop_assert!(-100.0 <= lo && lo <= v && v <= hi && hi <= 100.0);
        }

        #[test]
        fn wilson_contains_the_share(n in 1i64..2000, k in 0i64..2000) {
            let k = k.min(n);
            let e = share(k, n);
            let (v, lo, hi) = (e.value.unwrap(), e.low.unwrap(), e.high.unwrap());
            prop_assert!(0.0 <= lo && lo <= v && v <= hi && hi <= 100.0);
        }

        #[test]
        fn alpha_is_at_most_one(
            rows in proptest::collection::vec(proptest::collection::vec(1u8..=5, 3), 2..40)
        ) {
            let items: Vec<Sums> = (0..3)
                .map(|j| Sums::of(&rows.iter().map(|r| r[j] as f64).collect::<Vec<_>>()))
                .collect();
            let total = Sums::of(&rows.iter().map(|r| r.iter().map(|x| *x as f64).sum()).collect::<Vec<_>>());
            if let Some(al) = cronbach_alpha(&items, &total) {
                prop_assert!(al <= 1.0);
            }
        }

        #[test]
        fn csi_and_ipa_stay_in_bounds(
            items in proptest::collection::vec((0.0f64..10.0, proptest::option::of(0.0f64..=100.0)), 1..12),
            scores in proptest::collection::vec(0.0f64..=100.0, 0..50)
        ) {
            let e = csi(&items, &Sums::of(&scores));
            if let Some(v) = e.value {
                prop_assert!((0.0..=100.0).contains(&v));
                if let (Some(lo), Some(hi)) = (e.low, e.high) {
                    prop_assert!(0.0 <= lo && lo <= v && v <= hi && hi <= 100.0);
                }
            }
            if let Some(m) = ipa(&items) {
                let imp: f64 = m.points.iter().flatten().map(|p| p.0).sum();
                prop_assert!(close(imp, 1.0, 1e-9));
            }
        }
    }
}
