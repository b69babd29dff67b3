//! Orders (订单): order number, customer, delivery note number (交货单号), ship date
//! (交运日期) and lines of products by part number with quantity and unit price in fen.
//! Money is integer fen everywhere; forms show and take yuan ("12.50").

use crate::org::valid_date;
use crate::text;
use crate::{DomainError, FieldErrors};

/// Most lines an order may carry.
pub const MAX_LINES: usize = 200;
/// Largest unit price accepted, in fen (one hundred million yuan).
pub const MAX_PRICE_FEN: i64 = 10_000_000_000;
/// Largest quantity on one line.
pub const MAX_QUANTITY: i64 = 1_000_000;

/// A validated order line: the product is named by part number and resolved by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDraft {
    /// Position of the line in the input (form row or API array index), for field errors.
    pub index: usize,
    pub part_no: String,
    pub quantity: i64,
    pub unit_price_fen: i64,
}

/// A validated order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDraft {
    pub order_no: String,
    pub customer_id: i64,
    pub delivery_no: Option<String>,
    pub ship_date: Option<String>,
    pub notes: Option<String>,
    pub lines: Vec<LineDraft>,
}

/// A unit price as typed in a form (yuan text) or sent by the API (integer fen).
#[derive(Debug, Clone, Copy)]
pub enum Price<'a> {
    Yuan(&'a str),
    Fen(i64),
}

/// One raw line. A line with every field blank is ignored (the empty rows of a form).
#[derive(Debug, Clone, Copy)]
pub struct LineRaw<'a> {
    pub part_no: &'a str,
    /// Whole number as text; the API passes its integer formatted.
    pub quantity: &'a str,
    pub unit_price: Price<'a>,
}

impl LineRaw<'_> {
    fn blank(&self) -> bool {
        self.part_no.trim().is_empty()
            && self.quantity.trim().is_empty()
            && matches!(self.unit_price, Price::Yuan(p) if p.trim().is_empty())
    }
}

/// Raw order input.
#[derive(Debug, Clone, Default)]
pub struct OrderRaw<'a> {
    pub order_no: &'a str,
    /// Already parsed by the caller (`customer_id` errors recorded there).
    pub customer_id: Option<i64>,
    pub delivery_no: Option<&'a str>,
    pub ship_date: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub lines: Vec<LineRaw<'a>>,
}

impl OrderDraft {
    /// Parses raw input; line errors are recorded as `lines.{index}.{field}`.
    pub fn parse(mut errs: FieldErrors, raw: OrderRaw<'_>) -> Result<Self, DomainError> {
        let order_no = text::required(&mut errs, "order_no", raw.order_no, 64);
        if raw.customer_id.is_none() && errs.get("customer_id").is_none() {
            errs.add("customer_id", "required", None);
        }
        let delivery_no = text::optional(&mut errs, "delivery_no", raw.delivery_no, 64);
        let ship_date = text::optional(&mut errs, "ship_date", raw.ship_date, 10);
        if let Some(d) = &ship_date
            && !valid_date(d)
        {
            errs.add("ship_date", "date", None);
        }
        let notes = text::optional(&mut errs, "notes", raw.notes, 2000);
        let mut lines = Vec::new();
        for (i, l) in raw.lines.iter().enumerate() {
            if l.blank() {
                continue;
            }
            if let Some(d) = parse_line(&mut errs, i, l) {
                lines.push(d);
            }
        }
        if lines.is_empty() && !errs.0.iter().any(|e| e.field.starts_with("lines.")) {
            errs.add("lines", "order_no_lines", None);
        } else if lines.len() > MAX_LINES {
            errs.add("lines", "too_many", Some(MAX_LINES.to_string()));
        }
        errs.into_result(OrderDraft {
            order_no,
            customer_id: raw.customer_id.unwrap_or(0),
            delivery_no,
            ship_date,
            notes,
            lines,
        })
    }

    /// The order total in fen (saturating).
    pub fn total_fen(&self) -> i64 {
        self.lines.iter().fold(0i64, |t, l| {
            t.saturating_add(l.quantity.saturating_mul(l.unit_price_fen))
        })
    }
}

fn parse_line(errs: &mut FieldErrors, i: usize, l: &LineRaw<'_>) -> Option<LineDraft> {
    let before = errs.0.len();
    let part_no = super::products::parse_part_no(errs, &format!("lines.{i}.part_no"), l.part_no);
    let qf = format!("lines.{i}.quantity");
    let q = l.quantity.trim();
    let quantity = if q.is_empty() {
        errs.add(&qf, "required", None);
        0
    } else {
        match q.parse::<i64>() {
            Ok(n) if (1..=MAX_QUANTITY).contains(&n) => n,
            _ => {
                errs.add(&qf, "quantity_positive", None);
                0
            }
        }
    };
    let unit_price_fen = match l.unit_price {
        Price::Yuan(y) => {
            let pf = format!("lines.{i}.unit_price");
            if y.trim().is_empty() {
                errs.add(&pf, "required", None);
                0
            } else {
                match parse_yuan(y) {
                    Some(f) if f <= MAX_PRICE_FEN => f,
                    _ => {
                        errs.add(&pf, "yuan", None);
                        0
                    }
                }
            }
        }
        Price::Fen(f) => {
            if !(0..=MAX_PRICE_FEN).contains(&f) {
                errs.add(&format!("lines.{i}.unit_price_fen"), "fen", None);
            }
            f
        }
    };
    (errs.0.len() == before).then_some(LineDraft {
        index: i,
        part_no,
        quantity,
        unit_price_fen,
    })
}

/// Parses an amount in yuan ("12.50", "12.5", "12", "¥1,234.50") into fen; `None` for
/// negative amounts, more than two decimals, or anything that is not a number.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s
        .strip_prefix('¥')
        .or_else(|| s.strip_prefix('￥'))
        .unwrap_or(s)
        .trim();
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    // Thousands separators only between groups of three digits.
    let groups: Vec<&str> = int.split(',').collect();
    if groups.len() > 1
        && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3))
    {
        return None;
    }
    let digits: String = groups.concat();
    if !digits.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || (digits.is_empty() && s.starts_with(','))
    {
        return None;
    }
    let yuan: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let fen: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    yuan.checked_mul(100)?.checked_add(fen)
}

/// Formats fen as yuan with two decimals ("12.50", "-0.05").
pub fn format_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: &DomainError) -> Vec<(String, &'static str)> {
        match e {
            DomainError::Invalid(f) => f.0.iter().map(|x| (x.field.clone(), x.code)).collect(),
            _ => vec![],
        }
    }

    fn line<'a>(p: &'a str, q: &'a str, y: &'a str) -> LineRaw<'a> {
        LineRaw {
            part_no: p,
            quantity: q,
            unit_price: Price::Yuan(y),
        }
    }

    #[test]
    fn yuan_parsing() {
        assert_eq!(parse_yuan("12.50"), Some(1250));
        assert_eq!(parse_yuan("12.5"), Some(1250));
        assert_eq!(parse_yuan(" 12 "), Some(1200));
        assert_eq!(parse_yuan("0.01"), Some(1));
        assert_eq!(parse_yuan(".5"), Some(50));
        assert_eq!(parse_yuan("12."), Some(1200));
        assert_eq!(parse_yuan("0"), Some(0));
        assert_eq!(parse_yuan("¥1,234.56"), Some(123456));
        assert_eq!(parse_yuan("1,234,567"), Some(123456700));
        for bad in [
            "",
            ".",
            "-1",
            "12.345",
            "abc",
            "1,23",
            "1.2.3",
            "12,3456",
            "1e3",
            "+5",
            " ",
            "99999999999999999999",
        ] {
            assert_eq!(parse_yuan(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fen_formatting_round_trips() {
        assert_eq!(format_fen(1250), "12.50");
        assert_eq!(format_fen(5), "0.05");
        assert_eq!(format_fen(0), "0.00");
        assert_eq!(format_fen(-5), "-0.05");
        assert_eq!(format_fen(i64::MIN), "-92233720368547758.08");
        for f in [0, 1, 10, 99, 100, 123456, 10_000_000_000] {
            assert_eq!(parse_yuan(&format_fen(f)), Some(f));
        }
    }

    #[test]
    fn blank_rows_are_ignored_and_errors_name_the_row() {
        let raw = OrderRaw {
            order_no: "SO-1",
            customer_id: Some(3),
            lines: vec![
                line("HX-200", "2", "12.50"),
                line("", "", ""),
                line("HX-300", "0", "1.999"),
                line(" ", "", " "),
            ],
            ..Default::default()
        };
        let e = OrderDraft::parse(FieldErrors::default(), raw).unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                ("lines.2.quantity".to_string(), "quantity_positive"),
                ("lines.2.unit_price".to_string(), "yuan")
            ]
        );
        let raw = OrderRaw {
            order_no: "SO-1",
            customer_id: Some(3),
            lines: vec![
                line("", "", ""),
                line("HX-200", "2", "12.50"),
                line("HX-9", "3", "1"),
            ],
            ..Default::default()
        };
        let d = OrderDraft::parse(FieldErrors::default(), raw).unwrap();
        assert_eq!(d.lines.len(), 2);
        assert_eq!(d.lines[0].index, 1);
        assert_eq!(d.total_fen(), 2 * 1250 + 300);
    }

    #[test]
    fn order_needs_number_customer_and_a_line() {
        let e = OrderDraft::parse(
            FieldErrors::default(),
            OrderRaw {
                ship_date: Some("2026-02-30"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                ("order_no".to_string(), "required"),
                ("customer_id".to_string(), "required"),
                ("ship_date".to_string(), "date"),
                ("lines".to_string(), "order_no_lines")
            ]
        );
    }

    #[test]
    fn api_prices_are_fen() {
        let raw = OrderRaw {
            order_no: "SO-2",
            customer_id: Some(1),
            lines: vec![
                LineRaw {
                    part_no: "A",
                    quantity: "1",
                    unit_price: Price::Fen(-1),
                },
                LineRaw {
                    part_no: "B",
                    quantity: "1",
                    unit_price: Price::Fen(0),
                },
            ],
            ..Default::default()
        };
        let e = OrderDraft::parse(FieldErrors::default(), raw).unwrap_err();
        assert_eq!(
            fields(&e),
            vec![("lines.0.unit_price_fen".to_string(), "fen")]
        );
    }
}
