//! Reading spreadsheets: XLSX (first worksheet) or CSV in UTF-8 (with or without BOM) or GBK
//! (GB 18030), into a header row and data rows of trimmed strings. Excel dates become
//! `YYYY-MM-DD`, whole numbers lose their `.0`.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// A sheet as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sheet {
    pub headers: Vec<String>,
    /// Data rows with their line number in the file (the header is line 1).
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Neither `.xlsx` nor `.csv`.
    Format,
    /// The file is damaged or not what its name says.
    Damaged(String),
    /// No header row.
    Empty,
}

/// Reads a file by its name's extension.
pub fn read(filename: &str, bytes: &[u8]) -> Result<Sheet, ReadError> {
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".xlsx") {
        read_xlsx(bytes)
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
        read_csv(bytes)
    } else {
        Err(ReadError::Format)
    }
}

/// Decodes CSV bytes: UTF-8 when valid (BOM removed), else GB 18030 (a superset of GBK).
pub fn decode(bytes: &[u8]) -> String {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(b).0.into_owned(),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Sheet, ReadError> {
    let text = decode(bytes);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut sheet = Sheet::default();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| ReadError::Damaged(e.to_string()))?;
        let cells: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
        if i == 0 {
            sheet.headers = cells;
        } else if cells.iter().any(|c| !c.is_empty()) {
            sheet.rows.push((i + 1, cells));
        }
    }
    if sheet.headers.iter().all(String::is_empty) {
        return Err(ReadError::Empty);
    }
    Ok(sheet)
}

/// An Excel serial day number as a calendar date (the 1900 system, as Excel writes it).
pub fn excel_date(serial: f64) -> Option<String> {
    let base = time::Date::from_calendar_date(1899, time::Month::December, 30).ok()?;
    let d = base.checked_add(time::Duration::days(serial.floor() as i64))?;
    Some(format!(
        "{:04}-{:02}-{:02}",
        d.year(),
        d.month() as u8,
        d.day()
    ))
}

fn cell(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => excel_date(dt.as_f64()).unwrap_or_default(),
        Data::DateTimeIso(s) => s.chars().take(10).collect(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, ReadError> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| ReadError::Damaged(e.to_string()))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or(ReadError::Empty)?
        .map_err(|e| ReadError::Damaged(e.to_string()))?;
    let mut sheet = Sheet::default();
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<String> = row.iter().map(cell).collect();
        if i == 0 {
            sheet.headers = cells;
        } else if cells.iter().any(|c| !c.is_empty()) {
            sheet.rows.push((i + 1, cells));
        }
    }
    if sheet.headers.iter().all(String::is_empty) {
        return Err(ReadError::Empty);
    }
    Ok(sheet)
}

/// Normalises a header for matching: lowercase, without spaces, `*`, `_`, `-` and brackets.
pub fn header_key(h: &str) -> String {
    domain::search::normalize(h)
        .chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(c, '*' | '_' | '-' | '(' | ')' | '（' | '）' | '：' | ':')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_utf8_with_bom_and_gbk() {
        let utf8 = "\u{FEFF}序列号,客户\nSN1,华东重工\n,\nSN2,\"上海, 机械\"\n";
        let s = read("a.csv", utf8.as_bytes()).unwrap();
        assert_eq!(s.headers, vec!["序列号", "客户"]);
        assert_eq!(s.rows.len(), 2, "blank lines skipped");
        assert_eq!(
            s.rows[1],
            (4, vec!["SN2".to_string(), "上海, 机械".to_string()])
        );
        let (gbk, _, _) = encoding_rs::GBK.encode("序列号,客户\nSN1,华东重工\n");
        let s = read("a.CSV", &gbk).unwrap();
        assert_eq!(s.headers[0], "序列号");
        assert_eq!(s.rows[0].1[1], "华东重工");
    }

    #[test]
    fn xlsx_round_trip_with_dates_and_numbers() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "序列号").unwrap();
        ws.write_string(0, 1, "安装日期").unwrap();
        ws.write_string(0, 2, "数量").unwrap();
        ws.write_string(1, 0, "SN-001").unwrap();
        let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 3, 15).unwrap();
        ws.write_datetime_with_format(1, 1, &date, &fmt).unwrap();
        ws.write_number(1, 2, 12.0).unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let s = read("units.xlsx", &bytes).unwrap();
        assert_eq!(s.headers, vec!["序列号", "安装日期", "数量"]);
        assert_eq!(
            s.rows,
            vec![(2, vec!["SN-001".into(), "2026-03-15".into(), "12".into()])]
        );
    }

    #[test]
    fn bad_files() {
        assert_eq!(read("a.pdf", b"x"), Err(ReadError::Format));
        assert!(matches!(
            read("a.xlsx", b"not a zip"),
            Err(ReadError::Damaged(_))
        ));
        assert_eq!(read("a.csv", b""), Err(ReadError::Empty));
    }

    #[test]
    fn headers_match_loosely() {
        assert_eq!(header_key(" Serial_No* "), "serialno");
        assert_eq!(header_key("料号（必填）"), "料号必填");
    }
}
