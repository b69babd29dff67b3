//! Writes the equipment import file of `bench/run.sh`: `--rows` units of part number
//! `--part-no`, spread over the demo customers C000001…C{--customers}, as XLSX.
//!
//! ```text
//! gen-xlsx --out FILE.xlsx [--rows 100000] [--part-no BENCH-PM] [--customers 200]
//! ```

use anyhow::anyhow;
use bench::Args;
use rust_xlsxwriter::Workbook;

fn main() -> anyhow::Result<()> {
    let a = Args::from_env();
    let out = a.get("out").ok_or_else(|| anyhow!("--out is required"))?;
    let rows: u32 = a.num("rows", 100_000)?;
    let customers: u32 = a.num("customers", 200)?;
    let part = a.or("part-no", "BENCH-PM");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["序列号", "料号", "客户", "安装日期"].iter().enumerate() {
        ws.write_string(0, c as u16, *h)?;
    }
    for i in 0..rows {
        let r = i + 1;
        // Serials carry the part number, so a second import (`run.sh --reuse`) does not clash.
        ws.write_string(r, 0, format!("{part}-{:08}", i + 1))?;
        ws.write_string(r, 1, &part)?;
        ws.write_string(r, 2, format!("C{:06}", i % customers.max(1) + 1))?;
        ws.write_string(r, 3, format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1))?;
    }
    wb.save(&out)?;
    println!("{rows} rows written to {out}");
    Ok(())
}
