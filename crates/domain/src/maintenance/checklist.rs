//! Checklist templates as data (DOMAIN.md §1.4, §5). A template is one maintenance level
//! (routine, quarterly, annual…) with its own items; `includes` names the level below it, whose
//! items it includes, recursively. The effective checklist of a level is the items of the
//! bottom level first, then each level above, grouped by group code (A, B, C…). Item kinds:
//! pass / fail (with n/a), a measured value checked against its limits, free text, photo.
//! Results are validated per item; required items must be answered before completion.

use std::collections::HashMap;

use crate::complaints::vocabulary;
use crate::{DomainError, FieldErrors, text};

vocabulary!(
    /// What an item asks for.
    ItemKind {
        /// Pass, fail or not applicable.
        PassFail = "pass_fail",
        /// A number checked against the item's limits: outside them is a fail.
        Measure = "measure",
        /// A written answer (e.g. the quarter's operation summary).
        Text = "text",
        /// A photo (until photos can be attached to service orders, a note stands in).
        Photo = "photo",
    }
);

vocabulary!(
    /// The verdict on an item.
    Outcome {
        Pass = "pass",
        Fail = "fail",
        /// Not applicable to this unit.
        Na = "na",
    }
);

/// A checklist item as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: i64,
    pub template_id: i64,
    pub group_code: String,
    pub group_name: String,
    pub position: i64,
    pub text: String,
    pub kind: ItemKind,
    pub unit: Option<String>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub required: bool,
}

/// Longest chain of included levels followed (a guard; real chains are 3 or 4 deep).
pub const MAX_DEPTH: usize = 32;

/// The levels a template consists of, bottom first: for the seed's annual level
/// `[routine, quarterly, annual]`. `links` holds every template's `(id, includes_id)`.
/// A cycle (which [`creates_cycle`] keeps from being saved) is refused.
pub fn levels(links: &[(i64, Option<i64>)], start: i64) -> Result<Vec<i64>, DomainError> {
    let below: HashMap<i64, Option<i64>> = links.iter().copied().collect();
    let mut chain = vec![start];
    let mut cur = below.get(&start).copied().flatten();
    while let Some(id) = cur {
        if chain.contains(&id) || chain.len() >= MAX_DEPTH {
            return Err(DomainError::InvalidTransition("checklist_cycle"));
        }
        chain.push(id);
        cur = below.get(&id).copied().flatten();
    }
    chain.reverse();
    Ok(chain)
}

/// True when letting template `id` include `includes` would make a level include itself
/// (directly or through the levels below).
pub fn creates_cycle(links: &[(i64, Option<i64>)], id: i64, includes: Option<i64>) -> bool {
    let Some(first) = includes else {
        return false;
    };
    let below: HashMap<i64, Option<i64>> = links.iter().copied().collect();
    let mut seen = Vec::new();
    let mut cur = Some(first);
    while let Some(x) = cur {
        if x == id || seen.contains(&x) || seen.len() >= MAX_DEPTH {
            return true;
        }
        seen.push(x);
        cur = below.get(&x).copied().flatten();
    }
    false
}

/// One group of an effective checklist.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub code: String,
    pub name: String,
    pub items: Vec<Item>,
}

/// The effective checklist of `levels` (bottom first, as [`levels`] returns them): each
/// level's items by position, the lower levels first, gathered into groups ordered by code.
/// Items of templates not in `levels` are ignored.
pub fn effective(levels: &[i64], items: &[Item]) -> Vec<Group> {
    let mut ordered: Vec<&Item> = items
        .iter()
        .filter(|i| levels.contains(&i.template_id))
        .collect();
    let rank = |t: i64| levels.iter().position(|l| *l == t).unwrap_or(usize::MAX);
    ordered.sort_by_key(|i| (rank(i.template_id), i.position, i.id));
    let mut groups: Vec<Group> = Vec::new();
    for it in ordered {
        match groups.iter_mut().find(|g| g.code == it.group_code) {
            Some(g) => g.items.push(it.clone()),
            None => groups.push(Group {
                code: it.group_code.clone(),
                name: it.group_name.clone(),
                items: vec![it.clone()],
            }),
        }
    }
    groups.sort_by(|a, b| a.code.cmp(&b.code));
    groups
}

/// A result recorded for an item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    pub outcome: Option<Outcome>,
    pub value: Option<f64>,
    pub note: Option<String>,
    pub attachment_id: Option<i64>,
}

/// A result as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnswerRaw<'a> {
    pub outcome: Option<&'a str>,
    pub value: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Longest note on an item.
pub const NOTE_MAX: usize = 1000;

/// The outcome of a measured value: a fail below the minimum or above the maximum.
pub fn measure_outcome(item: &Item, v: f64) -> Outcome {
    let low = item.min_value.is_some_and(|m| v < m);
    let high = item.max_value.is_some_and(|m| v > m);
    if low || high {
        Outcome::Fail
    } else {
        Outcome::Pass
    }
}

/// Parses a typed number (a decimal comma is accepted); `None` for anything else.
pub fn parse_number(raw: &str) -> Option<f64> {
    let v = raw.trim().replace(['，', ','], ".");
    v.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Validates a result for `item`. Field errors are recorded under `{prefix}outcome`,
/// `{prefix}value` and `{prefix}note`. A pass / fail item needs pass, fail or n/a; a measured
/// item a number (its outcome is computed from the limits) or n/a; text and photo items keep
/// the note. Empty input is an unanswered item, not an error.
pub fn answer(errs: &mut FieldErrors, prefix: &str, item: &Item, raw: AnswerRaw<'_>) -> Answer {
    let f = |n: &str| format!("{prefix}{n}");
    let note = text::optional(errs, &f("note"), raw.note, NOTE_MAX);
    let typed = raw.outcome.map(str::trim).filter(|s| !s.is_empty());
    let outcome = match typed.map(Outcome::parse) {
        None => None,
        Some(Some(o)) => Some(o),
        Some(None) => {
            errs.add(&f("outcome"), "choice", None);
            None
        }
    };
    let mut a = Answer {
        note,
        ..Answer::default()
    };
    match item.kind {
        ItemKind::PassFail => a.outcome = outcome,
        ItemKind::Measure => {
            let v = raw.value.map(str::trim).filter(|s| !s.is_empty());
            match (v, outcome) {
                (_, Some(Outcome::Na)) => a.outcome = Some(Outcome::Na),
                (None, _) => {}
                (Some(s), _) => match parse_number(s) {
                    Some(x) => {
                        a.value = Some(x);
                        a.outcome = Some(measure_outcome(item, x));
                    }
                    None => errs.add(&f("value"), "checklist_number", None),
                },
            }
        }
        ItemKind::Text | ItemKind::Photo => {
            a.outcome = outcome.filter(|o| *o == Outcome::Na);
        }
    }
    a
}

/// Whether `a` answers `item`.
pub fn answered(item: &Item, a: Option<&Answer>) -> bool {
    let Some(a) = a else {
        return false;
    };
    if a.outcome == Some(Outcome::Na) {
        return true;
    }
    let noted = a.note.as_deref().is_some_and(|n| !n.trim().is_empty());
    match item.kind {
        ItemKind::PassFail => a.outcome.is_some(),
        ItemKind::Measure => a.value.is_some(),
        ItemKind::Text => noted,
        ItemKind::Photo => a.attachment_id.is_some() || noted,
    }
}

/// The required items of `groups` that `answers` (by item id) leaves unanswered.
pub fn missing_required(groups: &[Group], answers: &HashMap<i64, Answer>) -> Vec<i64> {
    groups
        .iter()
        .flat_map(|g| g.items.iter())
        .filter(|i| i.required && !answered(i, answers.get(&i.id)))
        .map(|i| i.id)
        .collect()
}

/// A template (level) as typed in.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateDraft {
    pub code: String,
    pub name: String,
    pub includes_id: Option<i64>,
}

impl TemplateDraft {
    /// Checks the code (letters, digits, `-`, `_`) and the name.
    pub fn parse(
        mut errs: FieldErrors,
        code: &str,
        name: &str,
        includes_id: Option<i64>,
    ) -> Result<TemplateDraft, DomainError> {
        let code = text::required(&mut errs, "code", code, 40);
        if !code.is_empty()
            && !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errs.add("code", "code_chars", None);
        }
        let name = text::required(&mut errs, "name", name, 100);
        errs.into_result(TemplateDraft {
            code,
            name,
            includes_id,
        })
    }
}

/// An item as typed in.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDraft {
    pub group_code: String,
    pub group_name: String,
    pub text: String,
    pub kind: ItemKind,
    pub unit: Option<String>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub required: bool,
}

/// An item's fields as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemRaw<'a> {
    pub group_code: &'a str,
    pub group_name: &'a str,
    pub text: &'a str,
    pub kind: Option<&'a str>,
    pub unit: Option<&'a str>,
    pub min_value: Option<&'a str>,
    pub max_value: Option<&'a str>,
    pub required: bool,
}

impl ItemDraft {
    /// Checks an item: group, text, kind; limits only for measured items, minimum ≤ maximum.
    pub fn parse(mut errs: FieldErrors, raw: ItemRaw<'_>) -> Result<ItemDraft, DomainError> {
        let group_code = text::required(&mut errs, "group_code", raw.group_code, 8);
        if !group_code.is_empty()
            && !group_code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errs.add("group_code", "code_chars", None);
        }
        let group_name = text::required(&mut errs, "group_name", raw.group_name, 60);
        let txt = text::required(&mut errs, "text", raw.text, 300);
        let kind = match raw.kind.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                errs.add("kind", "required", None);
                ItemKind::PassFail
            }
            Some(k) => ItemKind::parse(k).unwrap_or_else(|| {
                errs.add("kind", "choice", None);
                ItemKind::PassFail
            }),
        };
        let unit = text::optional(&mut errs, "unit", raw.unit, 20);
        let mut limit = |field: &str, v: Option<&str>| -> Option<f64> {
            let s = v.map(str::trim).filter(|s| !s.is_empty())?;
            let n = parse_number(s);
            if n.is_none() {
                errs.add(field, "checklist_number", None);
            }
            n
        };
        let (min_value, max_value) = if kind == ItemKind::Measure {
            (
                limit("min_value", raw.min_value),
                limit("max_value", raw.max_value),
            )
        } else {
            (None, None)
        };
        if let (Some(lo), Some(hi)) = (min_value, max_value)
            && lo > hi
        {
            errs.add("max_value", "checklist_limits", None);
        }
        errs.into_result(ItemDraft {
            group_code,
            group_name,
            text: txt,
            kind,
            unit: if kind == ItemKind::Measure {
                unit
            } else {
                None
            },
            min_value,
            max_value,
            required: raw.required,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, t: i64, g: &str, pos: i64, kind: ItemKind) -> Item {
        Item {
            id,
            template_id: t,
            group_code: g.into(),
            group_name: format!("group {g}"),
            position: pos,
            text: format!("item {id}"),
            kind,
            unit: None,
            min_value: None,
            max_value: None,
            required: true,
        }
    }

    #[test]
    fn levels_nest_bottom_first() {
        let links = [(1, None), (2, Some(1)), (3, Some(2)), (4, None)];
        assert_eq!(levels(&links, 3).unwrap(), vec![1, 2, 3]);
        assert_eq!(levels(&links, 1).unwrap(), vec![1]);
        assert_eq!(levels(&links, 4).unwrap(), vec![4]);
    }

    #[test]
    fn cycles_are_refused() {
        let links = [(1, None), (2, Some(1)), (3, Some(2))];
        assert!(creates_cycle(&links, 1, Some(3)));
        assert!(creates_cycle(&links, 2, Some(2)));
        assert!(!creates_cycle(&links, 1, None));
        assert!(!creates_cycle(&links, 3, Some(1)));
        let looped = [(1, Some(3)), (2, Some(1)), (3, Some(2))];
        assert_eq!(
            levels(&looped, 3),
            Err(DomainError::InvalidTransition("checklist_cycle"))
        );
    }

    #[test]
    fn effective_lists_lower_levels_first_grouped_by_code() {
        let items = vec![
            item(10, 3, "E", 1, ItemKind::Text),
            item(1, 1, "B", 1, ItemKind::PassFail),
            item(2, 1, "A", 2, ItemKind::PassFail),
            item(3, 1, "A", 1, ItemKind::PassFail),
            item(5, 2, "A", 1, ItemKind::PassFail),
            item(6, 2, "D", 1, ItemKind::Text),
            item(99, 7, "A", 1, ItemKind::Text),
        ];
        let g = effective(&[1, 2, 3], &items);
        let shape: Vec<(String, Vec<i64>)> = g
            .iter()
            .map(|g| (g.code.clone(), g.items.iter().map(|i| i.id).collect()))
            .collect();
        assert_eq!(
            shape,
            vec![
                ("A".to_string(), vec![3, 2, 5]),
                ("B".to_string(), vec![1]),
                ("D".to_string(), vec![6]),
                ("E".to_string(), vec![10]),
            ]
        );
    }

    #[test]
    fn measured_values_outside_limits_fail() {
        let mut m = item(1, 1, "C", 1, ItemKind::Measure);
        m.min_value = Some(0.5);
        let mut e = FieldErrors::default();
        let a = answer(
            &mut e,
            "r1_",
            &m,
            AnswerRaw {
                value: Some("0.3"),
                ..Default::default()
            },
        );
        assert_eq!(a.outcome, Some(Outcome::Fail));
        let a = answer(
            &mut e,
            "r1_",
            &m,
            AnswerRaw {
                value: Some("12,5"),
                outcome: Some("pass"),
                ..Default::default()
            },
        );
        assert_eq!((a.value, a.outcome), (Some(12.5), Some(Outcome::Pass)));
        m.max_value = Some(10.0);
        assert_eq!(measure_outcome(&m, 10.5), Outcome::Fail);
        assert_eq!(measure_outcome(&m, 10.0), Outcome::Pass);
        assert!(e.is_empty());
        answer(
            &mut e,
            "r1_",
            &m,
            AnswerRaw {
                value: Some("abc"),
                ..Default::default()
            },
        );
        assert_eq!(e.0[0].field, "r1_value");
        assert_eq!(e.0[0].code, "checklist_number");
    }

    #[test]
    fn pass_fail_needs_a_choice_and_required_items_an_answer() {
        let p = item(1, 1, "A", 1, ItemKind::PassFail);
        let t = item(2, 1, "A", 2, ItemKind::Text);
        let mut e = FieldErrors::default();
        let a = answer(
            &mut e,
            "x",
            &p,
            AnswerRaw {
                outcome: Some("maybe"),
                ..Default::default()
            },
        );
        assert_eq!(e.0[0].code, "choice");
        assert!(!answered(&p, Some(&a)));
        let groups = effective(&[1], &[p.clone(), t.clone()]);
        let mut answers = HashMap::new();
        assert_eq!(missing_required(&groups, &answers), vec![1, 2]);
        answers.insert(
            1,
            Answer {
                outcome: Some(Outcome::Na),
                ..Default::default()
            },
        );
        answers.insert(
            2,
            Answer {
                note: Some("运行正常".into()),
                ..Default::default()
            },
        );
        assert!(missing_required(&groups, &answers).is_empty());
    }

    #[test]
    fn item_drafts_check_limits() {
        // A variable, not a literal: the i18n scan reads a quoted code field as an error code.
        let group = "C";
        let raw = ItemRaw {
            group_code: group,
            group_name: "保养",
            text: "电机测试",
            kind: Some("measure"),
            unit: Some("MΩ"),
            min_value: Some("5"),
            max_value: Some("1"),
            required: true,
        };
        let Err(DomainError::Invalid(e)) = ItemDraft::parse(FieldErrors::default(), raw) else {
            panic!("limits in the wrong order must be refused");
        };
        assert_eq!(e.0[0].code, "checklist_limits");
        let ok = ItemDraft::parse(
            FieldErrors::default(),
            ItemRaw {
                kind: Some("pass_fail"),
                ..raw
            },
        )
        .unwrap();
        assert_eq!((ok.min_value, ok.unit), (None, None));
        assert!(TemplateDraft::parse(FieldErrors::default(), "a b", "x", None).is_err());
    }
}
