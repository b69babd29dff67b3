//! Survey templates (DOMAIN.md §7): dimensions (service stages) and items. An item is a scale
//! question with an importance weight, the overall satisfaction question (CSAT), the
//! recommendation question (NPS, 0-10), the effort question (CES, 1-7) or free text. A draft is
//! validated as a whole; field errors are named per row (`items[3].scale_max`,
//! `dimensions[1].name`) so a form can show each next to its row.

use std::collections::HashSet;

use crate::complaints::vocabulary;
use crate::{DomainError, FieldErrors, text};

vocabulary!(
    /// What an item asks for.
    ItemKind {
        /// A rated question of a dimension, with an importance weight (counts in the CSI).
        Scale = "scale",
        /// Overall satisfaction (CSAT: share of the top two boxes).
        Csat = "csat",
        /// Likelihood to recommend, 0-10 (NPS).
        Nps = "nps",
        /// Customer effort, 1-7 (CES: the mean).
        Ces = "ces",
        /// A free-text answer.
        Text = "text",
    }
);

vocabulary!(
    /// The life of one version of a template.
    TemplateStatus {
        /// The version new studies use.
        Active = "active",
        /// A newer version exists; studies that used this one keep its questions.
        Superseded = "superseded",
        /// Not offered for new studies.
        Retired = "retired",
    }
);

/// The scales a scale item may use.
pub const SCALES: &[(i64, i64)] = &[(1, 5), (1, 7), (0, 10)];

/// Longest code, name, intro, dimension name and item text (characters).
pub const CODE_MAX: usize = 40;
pub const NAME_MAX: usize = 100;
pub const INTRO_MAX: usize = 2000;
pub const DIMENSION_MAX: usize = 60;
pub const TEXT_MAX: usize = 300;
/// Most dimensions and items of one template.
pub const MAX_DIMENSIONS: usize = 20;
pub const MAX_ITEMS: usize = 100;

impl ItemKind {
    /// The scale used when none is given (`None`: free text has no scale).
    pub fn default_scale(self) -> Option<(i64, i64)> {
        match self {
            ItemKind::Scale | ItemKind::Csat => Some((1, 5)),
            ItemKind::Nps => Some((0, 10)),
            ItemKind::Ces => Some((1, 7)),
            ItemKind::Text => None,
        }
    }

    /// The scales this kind accepts.
    pub fn allowed_scales(self) -> &'static [(i64, i64)] {
        match self {
            ItemKind::Scale => SCALES,
            ItemKind::Csat => &[(1, 5), (1, 7)],
            ItemKind::Nps => &[(0, 10)],
            ItemKind::Ces => &[(1, 7)],
            ItemKind::Text => &[],
        }
    }

    /// True for the kinds answered on a scale.
    pub fn has_scale(self) -> bool {
        self != ItemKind::Text
    }
}

/// An item as typed in (numbers already parsed by the caller, which records its own
/// `not a number` errors).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemRaw<'a> {
    pub kind: &'a str,
    pub text: &'a str,
    /// Index into the draft's dimensions.
    pub dimension: Option<usize>,
    /// Both `None`: the kind's default scale.
    pub scale_min: Option<i64>,
    pub scale_max: Option<i64>,
    /// `None`: 1 for a scale item.
    pub weight: Option<f64>,
    pub required: bool,
}

/// A template as typed in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateRaw<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub intro: Option<&'a str>,
    pub dimensions: Vec<&'a str>,
    pub items: Vec<ItemRaw<'a>>,
}

/// A valid item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDraft {
    pub kind: ItemKind,
    pub text: String,
    /// Index into [`TemplateDraft::dimensions`].
    pub dimension: Option<usize>,
    pub scale_min: Option<i64>,
    pub scale_max: Option<i64>,
    /// The importance weight of a scale item; 0 for the other kinds.
    pub weight: f64,
    pub required: bool,
}

/// A valid template: code, name, intro, dimension names and items in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateDraft {
    pub code: String,
    pub name: String,
    pub intro: Option<String>,
    pub dimensions: Vec<String>,
    pub items: Vec<ItemDraft>,
}

impl TemplateDraft {
    /// Checks a template: code (letters, digits, `-`, `_`), name, unique non-empty dimension
    /// names, and items: a known kind, a text (unique), an existing dimension, a scale allowed
    /// for the kind (scale 1-5, 1-7 or 0-10; CSAT 1-5 or 1-7; NPS 0-10; CES 1-7; text none),
    /// a finite weight ≥ 0, at most one CSAT, NPS and CES item, and at least one scale item
    /// with a positive weight. Errors already in `errs` (the caller's parsing) are kept.
    pub fn parse(
        mut errs: FieldErrors,
        raw: TemplateRaw<'_>,
    ) -> Result<TemplateDraft, DomainError> {
        let code = text::required(&mut errs, "code", raw.code, CODE_MAX);
        if !code.is_empty()
            && !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errs.add("code", "code_chars", None);
        }
        let name = text::required(&mut errs, "name", raw.name, NAME_MAX);
        let intro = text::optional(&mut errs, "intro", raw.intro, INTRO_MAX);

        if raw.dimensions.len() > MAX_DIMENSIONS {
            errs.add("dimensions", "too_many", Some(MAX_DIMENSIONS.to_string()));
        }
        let mut seen = HashSet::new();
        let dimensions: Vec<String> = raw
            .dimensions
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let f = format!("dimensions[{i}].name");
                let n = text::required(&mut errs, &f, d, DIMENSION_MAX);
                if !n.is_empty() && !seen.insert(n.clone()) {
                    errs.add(&f, "taken", None);
                }
                n
            })
            .collect();

        if raw.items.is_empty() {
            errs.add("items", "required", None);
        } else if raw.items.len() > MAX_ITEMS {
            errs.add("items", "too_many", Some(MAX_ITEMS.to_string()));
        }
        let mut texts = HashSet::new();
        let mut once: Vec<ItemKind> = vec![];
        let mut items = Vec::with_capacity(raw.items.len());
        for (i, r) in raw.items.iter().enumerate() {
            let f = |n: &str| format!("items[{i}].{n}");
            let kind = match ItemKind::parse(r.kind.trim()) {
                Some(k) => k,
                None => {
                    let code = if r.kind.trim().is_empty() {
                        "required"
                    } else {
                        "choice"
                    };
                    errs.add(&f("kind"), code, None);
                    ItemKind::Scale
                }
            };
            if matches!(kind, ItemKind::Csat | ItemKind::Nps | ItemKind::Ces) {
                if once.contains(&kind) {
                    errs.add(&f("kind"), "survey_one_each", None);
                }
                once.push(kind);
            }
            let txt = text::required(&mut errs, &f("text"), r.text, TEXT_MAX);
            if !txt.is_empty() && !texts.insert(txt.clone()) {
                errs.add(&f("text"), "taken", None);
            }
            if let Some(d) = r.dimension
                && d >= dimensions.len()
            {
                errs.add(&f("dimension"), "survey_dimension", None);
            }
            let scale = match (r.scale_min, r.scale_max) {
                (None, None) => kind.default_scale(),
                (Some(lo), Some(hi)) => Some((lo, hi)),
                _ => {
                    errs.add(&f("scale_max"), scale_code(kind), None);
                    kind.default_scale()
                }
            };
            if let Some(s) = scale
                && !kind.allowed_scales().contains(&s)
            {
                errs.add(&f("scale_max"), scale_code(kind), None);
            }
            let weight = match r.weight {
                Some(w) if !w.is_finite() || w < 0.0 => {
                    errs.add(&f("weight"), "survey_weight", None);
                    0.0
                }
                Some(w) => w,
                None => 1.0,
            };
            items.push(ItemDraft {
                kind,
                text: txt,
                dimension: r.dimension,
                scale_min: scale.map(|s| s.0),
                scale_max: scale.map(|s| s.1),
                weight: if kind == ItemKind::Scale { weight } else { 0.0 },
                required: r.required,
            });
        }
        if !items.is_empty()
            && !items
                .iter()
                .any(|i| i.kind == ItemKind::Scale && i.weight > 0.0)
        {
            errs.add("items", "survey_no_weight", None);
        }
        errs.into_result(TemplateDraft {
            code,
            name,
            intro,
            dimensions,
            items,
        })
    }

    /// The normalised weights of the scale items, by item index (other kinds are left out).
    pub fn scale_weights(&self) -> Vec<(usize, f64)> {
        let idx: Vec<usize> = (0..self.items.len())
            .filter(|&i| self.items[i].kind == ItemKind::Scale)
            .collect();
        let w: Vec<f64> = idx.iter().map(|&i| self.items[i].weight).collect();
        normalised_weights(&w)
            .map(|n| idx.into_iter().zip(n).collect())
            .unwrap_or_default()
    }
}

/// The error code of a scale not allowed for `kind`.
fn scale_code(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Scale => "survey_scale",
        ItemKind::Csat => "survey_scale_csat",
        ItemKind::Nps => "survey_scale_nps",
        ItemKind::Ces => "survey_scale_ces",
        ItemKind::Text => "survey_scale_text",
    }
}

/// Importance weights divided by their sum, so they sum to 1 and keep their proportions
/// (negative or non-finite weights count as 0); `None` when no weight is positive.
pub fn normalised_weights(weights: &[f64]) -> Option<Vec<f64>> {
    let clean: Vec<f64> = weights
        .iter()
        .map(|w| if w.is_finite() && *w > 0.0 { *w } else { 0.0 })
        .collect();
    let sum: f64 = clean.iter().sum();
    if !(sum > 0.0 && sum.is_finite()) {
        return None;
    }
    Some(clean.into_iter().map(|w| w / sum).collect())
}

/// Parses a scale written as `min-max` (`1-5`, `0-10`); `None` for anything else.
pub fn parse_scale(raw: &str) -> Option<(i64, i64)> {
    let (lo, hi) = raw.trim().split_once('-')?;
    Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // (named constants: the i18n test reads a string literal after `code:` as an error code)
    const CODE_OK: &str = "after_sales";
    const CODE_SPACE: &str = "a b";

    fn item(kind: &'static str, text: &'static str) -> ItemRaw<'static> {
        ItemRaw {
            kind,
            text,
            ..ItemRaw::default()
        }
    }

    fn raw(items: Vec<ItemRaw<'static>>) -> TemplateRaw<'static> {
        TemplateRaw {
            code: CODE_OK,
            name: "售后服务满意度调查",
            intro: None,
            dimensions: vec!["服务响应", "服务人员"],
            items,
        }
    }

    fn errors(r: TemplateRaw<'_>) -> FieldErrors {
        match TemplateDraft::parse(FieldErrors::default(), r) {
            Err(DomainError::Invalid(e)) => e,
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn a_full_template_parses_with_default_scales() {
        let mut a = item("scale", "响应及时");
        a.dimension = Some(0);
        a.weight = Some(3.0);
        let mut b = item("scale", "态度");
        b.dimension = Some(1);
        b.scale_min = Some(1);
        b.scale_max = Some(7);
        let d = TemplateDraft::parse(
            FieldErrors::default(),
            raw(vec![
                a,
                b,
                item("csat", "总体满意度"),
                item("nps", "推荐意愿"),
                item("ces", "办理便捷程度"),
                item("text", "建议"),
            ]),
        )
        .unwrap();
        let scales: Vec<_> = d.items.iter().map(|i| (i.scale_min, i.scale_max)).collect();
        assert_eq!(
            scales,
            vec![
                (Some(1), Some(5)),
                (Some(1), Some(7)),
                (Some(1), Some(5)),
                (Some(0), Some(10)),
                (Some(1), Some(7)),
                (None, None)
            ]
        );
        assert_eq!(d.items[0].weight, 3.0);
        assert_eq!(d.items[1].weight, 1.0);
        assert_eq!(d.items[2].weight, 0.0);
        assert_eq!(d.scale_weights(), vec![(0, 0.75), (1, 0.25)]);
    }

    #[test]
    fn errors_are_named_per_row() {
        let mut bad_scale = item("scale", "a");
        bad_scale.scale_min = Some(1);
        bad_scale.scale_max = Some(4);
        let mut nps = item("nps", "b");
        nps.scale_min = Some(1);
        nps.scale_max = Some(10);
        let mut ces = item("ces", "c");
        ces.scale_min = Some(1);
        ces.scale_max = Some(5);
        let mut txt = item("text", "d");
        txt.scale_min = Some(1);
        txt.scale_max = Some(5);
        let mut neg = item("scale", "e");
        neg.weight = Some(-1.0);
        let mut nan = item("scale", "f");
        nan.weight = Some(f64::NAN);
        let mut dim = item("scale", "g");
        dim.dimension = Some(2);
        let mut csat = item("csat", "h");
        csat.scale_min = Some(0);
        csat.scale_max = Some(10);
        let e = errors(raw(vec![
            bad_scale,
            nps,
            ces,
            txt,
            neg,
            nan,
            dim,
            item("nps", "i"),
            item("bogus", "j"),
            item("scale", "a"),
            csat,
        ]));
        let code = |f: &str| e.get(f).map(|x| x.code);
        assert_eq!(code("items[0].scale_max"), Some("survey_scale"));
        assert_eq!(code("items[1].scale_max"), Some("survey_scale_nps"));
        assert_eq!(code("items[2].scale_max"), Some("survey_scale_ces"));
        assert_eq!(code("items[3].scale_max"), Some("survey_scale_text"));
        assert_eq!(code("items[4].weight"), Some("survey_weight"));
        assert_eq!(code("items[5].weight"), Some("survey_weight"));
        assert_eq!(code("items[6].dimension"), Some("survey_dimension"));
        assert_eq!(code("items[7].kind"), Some("survey_one_each"));
        assert_eq!(code("items[8].kind"), Some("choice"));
        assert_eq!(code("items[9].text"), Some("taken"));
        assert_eq!(code("items[10].scale_max"), Some("survey_scale_csat"));
        assert_eq!(code("items[1].kind"), None);
    }

    #[test]
    fn needs_a_positive_scale_weight_and_valid_header() {
        let mut z = item("scale", "a");
        z.weight = Some(0.0);
        let e = errors(raw(vec![z, item("csat", "b")]));
        assert_eq!(e.get("items").map(|x| x.code), Some("survey_no_weight"));
        let e = errors(TemplateRaw {
            code: CODE_SPACE,
            name: " ",
            intro: None,
            dimensions: vec!["x", " x ", ""],
            items: vec![],
        });
        assert_eq!(e.get("code").map(|x| x.code), Some("code_chars"));
        assert_eq!(e.get("name").map(|x| x.code), Some("required"));
        assert_eq!(e.get("dimensions[1].name").map(|x| x.code), Some("taken"));
        assert_eq!(
            e.get("dimensions[2].name").map(|x| x.code),
            Some("required")
        );
        assert_eq!(e.get("items").map(|x| x.code), Some("required"));
        // a one-sided scale is refused on the row
        let mut half = item("scale", "a");
        half.scale_max = Some(5);
        let e = errors(raw(vec![half]));
        assert_eq!(
            e.get("items[0].scale_max").map(|x| x.code),
            Some("survey_scale")
        );
    }

    #[test]
    fn scales_parse() {
        assert_eq!(parse_scale("1-5"), Some((1, 5)));
        assert_eq!(parse_scale(" 0 - 10 "), Some((0, 10)));
        assert_eq!(parse_scale(""), None);
        assert_eq!(parse_scale("1-x"), None);
        assert_eq!(normalised_weights(&[0.0, -1.0]), None);
        assert_eq!(normalised_weights(&[]), None);
        assert_eq!(
            normalised_weights(&[2.0, f64::NAN, 2.0]),
            Some(vec![0.5, 0.0, 0.5])
        );
    }

    proptest! {
        #[test]
        fn normalised_weights_sum_to_one_and_keep_proportions(
            w in proptest::collection::vec(0.0f64..1000.0, 1..30)
        ) {
            match normalised_weights(&w) {
                None => prop_assert!(w.iter().all(|x| *x <= 0.0)),
                Some(n) => {
                    prop_assert_eq!(n.len(), w.len());
                    let sum: f64 = n.iter().sum();
                    prop_assert!((sum - 1.0).abs() < 1e-9, "sum {}", sum);
                    prop_assert!(n.iter().all(|x| (0.0..=1.0).contains(x)));
                    let total: f64 = w.iter().sum();
                    for (a, b) in w.iter().zip(&n) {
                        prop_assert!((a / total - b).abs() < 1e-9);
                    }
                    for i in 1..w.len() {
                        // proportions: n_i * w_0 == n_0 * w_i
                        prop_assert!((n[i] * w[0] - n[0] * w[i]).abs() < 1e-9 * (1.0 + w[0] + w[i]));
                    }
                }
            }
        }

        #[test]
        fn only_allowed_scales_pass(kind in 0usize..5, lo in -2i64..12, hi in -2i64..12) {
            let k = ItemKind::ALL[kind];
            let mut it = ItemRaw { kind: k.as_str(), text: "q", scale_min: Some(lo), scale_max: Some(hi), ..ItemRaw::default() };
            if k != ItemKind::Scale {
                it.weight = None;
            }
            let items = if k == ItemKind::Scale { vec![it] } else { vec![it, ItemRaw { kind: "scale", text: "w", ..ItemRaw::default() }] };
            let r = TemplateDraft::parse(FieldErrors::default(), TemplateRaw { code: CODE_OK, name: "n", items, ..TemplateRaw::default() });
            prop_assert_eq!(r.is_ok(), k.allowed_scales().contains(&(lo, hi)));
        }
    }
}
