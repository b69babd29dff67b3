//! Spare parts (备件): code, name, unit and unit cost in fen; stock locations; stock receipts
//! and corrections. Input parsing with field errors; unique codes and names, and whether the
//! part and location exist, are checked by the service.

use crate::archives::orders::{MAX_PRICE_FEN, Price, parse_yuan};
use crate::text;
use crate::{DomainError, FieldErrors};

/// Largest quantity moved at once (and largest correction either way).
pub const MAX_QTY: i64 = 1_000_000;

/// Why stock moved: the `reason` of a stock move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveReason {
    /// Goods received into a location (入库).
    Receipt,
    /// A counted difference, damage or loss (盘点调整).
    Correction,
    /// Used on a service order.
    Order,
    /// Given back from a service order (a part removed from the order).
    Return,
}

impl MoveReason {
    /// Every reason, in display order.
    pub const ALL: [MoveReason; 4] = [
        MoveReason::Receipt,
        MoveReason::Correction,
        MoveReason::Order,
        MoveReason::Return,
    ];

    /// The stable name stored in `stock_moves.reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            MoveReason::Receipt => "receipt",
            MoveReason::Correction => "correction",
            MoveReason::Order => "order",
            MoveReason::Return => "return",
        }
    }
}

/// A validated part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartDraft {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub unit_cost_fen: i64,
}

/// Raw part input as typed (the form gives the cost in yuan, the API in fen).
#[derive(Debug, Clone, Copy)]
pub struct PartRaw<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub unit: &'a str,
    pub unit_cost: Price<'a>,
}

impl PartDraft {
    /// Parses raw input: code of letters, digits, `-`, `_`, `.`; name and unit required; cost
    /// of 0 or more (yuan with at most two decimals, or whole fen).
    pub fn parse(mut errs: FieldErrors, raw: PartRaw<'_>) -> Result<Self, DomainError> {
        let code = text::required(&mut errs, "code", raw.code, 64);
        if !code.is_empty()
            && !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            errs.add("code", "part_code_chars", None);
        }
        let name = text::required(&mut errs, "name", raw.name, 200);
        let unit = text::required(&mut errs, "unit", raw.unit, 20);
        let unit_cost_fen = match raw.unit_cost {
            Price::Yuan(s) if s.trim().is_empty() => {
                errs.add("unit_cost", "required", None);
                0
            }
            Price::Yuan(s) => match parse_yuan(s).filter(|f| *f <= MAX_PRICE_FEN) {
                Some(f) => f,
                None => {
                    errs.add("unit_cost", "yuan", None);
                    0
                }
            },
            Price::Fen(f) if (0..=MAX_PRICE_FEN).contains(&f) => f,
            Price::Fen(_) => {
                errs.add("unit_cost", "fen", None);
                0
            }
        };
        errs.into_result(PartDraft {
            code,
            name,
            unit,
            unit_cost_fen,
        })
    }
}

/// A validated stock location name.
pub fn parse_location(mut errs: FieldErrors, name: &str) -> Result<String, DomainError> {
    let name = text::required(&mut errs, "name", name, 100);
    errs.into_result(name)
}

/// A validated stock receipt or correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveDraft {
    pub location_id: i64,
    /// Positive for a receipt; either sign for a correction, never 0.
    pub delta: i64,
    pub reason: MoveReason,
    /// Why a correction was made (required for corrections).
    pub note: Option<String>,
}

fn location(errs: &mut FieldErrors, location_id: Option<&str>) -> i64 {
    match location_id.map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            errs.add("location_id", "required", None);
            0
        }
        Some(s) => s.parse::<i64>().ok().filter(|v| *v > 0).unwrap_or_else(|| {
            errs.add("location_id", "choice", None);
            0
        }),
    }
}

fn whole(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl MoveDraft {
    /// A receipt: a location and a whole quantity from 1 to [`MAX_QTY`].
    pub fn receipt(
        mut errs: FieldErrors,
        location_id: Option<&str>,
        qty: &str,
    ) -> Result<Self, DomainError> {
        let location_id = location(&mut errs, location_id);
        let delta = match whole(qty).filter(|q| (1..=MAX_QTY).contains(q)) {
            Some(q) => q,
            None => {
                errs.add("qty", "quantity_positive", None);
                0
            }
        };
        errs.into_result(MoveDraft {
            location_id,
            delta,
            reason: MoveReason::Receipt,
            note: None,
        })
    }

    /// A correction: a location, a non-zero whole change (e.g. -2 after a count) within
    /// ±[`MAX_QTY`], and the reason for it.
    pub fn correction(
        mut errs: FieldErrors,
        location_id: Option<&str>,
        delta: &str,
        note: Option<&str>,
    ) -> Result<Self, DomainError> {
        let location_id = location(&mut errs, location_id);
        let delta = match whole(delta).filter(|d| *d != 0 && d.abs() <= MAX_QTY) {
            Some(d) => d,
            None => {
                errs.add("delta", "stock_delta", Some(MAX_QTY.to_string()));
                0
            }
        };
        let note = text::optional(&mut errs, "note", note, 500);
        if note.is_none() {
            errs.add("note", "required", None);
        }
        errs.into_result(MoveDraft {
            location_id,
            delta,
            reason: MoveReason::Correction,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(e: DomainError) -> Vec<(String, &'static str)> {
        match e {
            DomainError::Invalid(f) => f.0.into_iter().map(|x| (x.field, x.code)).collect(),
            _ => vec![],
        }
    }

    /// Raw input (a helper, so test literals are not mistaken for error codes).
    fn raw<'a>(c: &'a str, name: &'a str, unit: &'a str, cost: Price<'a>) -> PartRaw<'a> {
        PartRaw {
            code: c,
            name,
            unit,
            unit_cost: cost,
        }
    }

    #[test]
    fn part_parses_yuan_and_fen() {
        let d = PartDraft::parse(
            FieldErrors::default(),
            raw(" MB-01 ", "主控板", "块", Price::Yuan("1,280.50")),
        )
        .unwrap();
        assert_eq!(d.code, "MB-01");
        assert_eq!(d.unit_cost_fen, 128_050);
        let d = PartDraft::parse(
            FieldErrors::default(),
            raw("FAN.2", "散热风扇", "个", Price::Fen(4500)),
        )
        .unwrap();
        assert_eq!(d.unit_cost_fen, 4500);
    }

    #[test]
    fn part_reports_each_field() {
        let e = PartDraft::parse(
            FieldErrors::default(),
            raw("MB 01", " ", "", Price::Yuan("12.345")),
        )
        .unwrap_err();
        assert_eq!(
            codes(e),
            vec![
                ("code".into(), "part_code_chars"),
                ("name".into(), "required"),
                ("unit".into(), "required"),
                ("unit_cost".into(), "yuan"),
            ]
        );
        let e = PartDraft::parse(FieldErrors::default(), raw("A", "a", "个", Price::Fen(-1)))
            .unwrap_err();
        assert_eq!(codes(e), vec![("unit_cost".into(), "fen")]);
    }

    #[test]
    fn receipts_are_positive_whole_numbers() {
        let d = MoveDraft::receipt(FieldErrors::default(), Some("3"), " 12 ").unwrap();
        assert_eq!((d.location_id, d.delta), (3, 12));
        assert_eq!(d.reason.as_str(), "receipt");
        for bad in ["0", "-1", "1.5", "", "abc", "1000001"] {
            let e = MoveDraft::receipt(FieldErrors::default(), Some("3"), bad).unwrap_err();
            assert_eq!(codes(e), vec![("qty".into(), "quantity_positive")], "{bad}");
        }
        let e = MoveDraft::receipt(FieldErrors::default(), None, "1").unwrap_err();
        assert_eq!(codes(e), vec![("location_id".into(), "required")]);
    }

    #[test]
    fn corrections_take_either_sign_and_need_a_note() {
        let d = MoveDraft::correction(FieldErrors::default(), Some("1"), "-2", Some("盘点差异"))
            .unwrap();
        assert_eq!(d.delta, -2);
        assert_eq!(d.note.as_deref(), Some("盘点差异"));
        let e = MoveDraft::correction(FieldErrors::default(), Some("x"), "0", None).unwrap_err();
        assert_eq!(
            codes(e),
            vec![
                ("location_id".into(), "choice"),
                ("delta".into(), "stock_delta"),
                ("note".into(), "required"),
            ]
        );
    }
}
