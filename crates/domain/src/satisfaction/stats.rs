//! Satisfaction statistics (DOMAIN.md §7). Scores are put on 0-100 by the item's own scale.

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

#[cfg(test)]
mod tests {
    use super::*;

    fn a(value: f64, weight: f64) -> ScaleAnswer {
        ScaleAnswer {
            value,
            scale_min: 1.0,
            scale_max: 5.0,
            weight,
        }
    }

    #[test]
    fn response_score_weights_answered_items() {
        // 5 → 100 with weight 3, 1 → 0 with weight 1: 75.
        assert_eq!(response_score(&[a(5.0, 3.0), a(1.0, 1.0)]), Some(75.0));
        assert_eq!(response_score(&[]), None);
        assert_eq!(response_score(&[a(3.0, 0.0)]), None);
        assert_eq!(normalise(7.0, 0.0, 10.0), 70.0);
    }
}
