//! Report exports: CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese)
//! and XLSX (one sheet per table, written with `rust_xlsxwriter`).
//!
//! Amounts are computed in integer fen. The CSV carries them as exact decimal text. In the XLSX
//! a money cell is a number of 元 with the format `#,##0.00` (a spreadsheet's only kind of
//! number); each sheet also carries the 万元 figure as exact text next to it.

use super::reports::{Report, SavingsRow};
use crate::error::{AppError, AppResult};
use rust_xlsxwriter::{Format, Workbook, Worksheet};

fn header(group_label: &str) -> [String; 8] {
    [
        group_label.to_string(),
        "笔数/项目数 count".into(),
        "预算(元) budget".into(),
        "成交(元) deal".into(),
        "节支(元) savings".into(),
        "节支率% rate".into(),
        "预算(万元) budget wan".into(),
        "成交(万元) deal wan".into(),
    ]
}

fn fields(r: &SavingsRow, label: &str) -> [String; 8] {
    let plain = |m: crate::money::Money| m.yuan_string().replace(',', "");
    [
        label.to_string(),
        r.count.to_string(),
        plain(r.savings.budget),
        plain(r.savings.deal),
        plain(r.saved),
        r.rate.clone(),
        r.savings.budget.wan_string(),
        r.savings.deal.wan_string(),
    ]
}

/// The e-mall and centralized-procurement tables of the report as one CSV.
pub fn csv(report: &Report) -> AppResult<Vec<u8>> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new().flexible(true).from_writer(&mut out);
        let err = |e: csv::Error| AppError::internal(e);
        w.write_record(["电子商城 e-mall", &format!("{} — {}", report.from, report.to)]).map_err(err)?;
        w.write_record(header(report.group.as_str())).map_err(err)?;
        for r in &report.mall_rows {
            w.write_record(fields(r, &r.label)).map_err(err)?;
        }
        w.write_record(fields(&report.mall_total, "合计 total")).map_err(err)?;
        w.write_record([""]).map_err(err)?;
        w.write_record(["集中采购 centralized procurement", &format!("{} — {}", report.from, report.to)])
            .map_err(err)?;
        w.write_record(header(report.group.as_str())).map_err(err)?;
        for r in &report.central_rows {
            w.write_record(fields(r, &r.label)).map_err(err)?;
        }
        w.write_record(fields(&report.central_total, "合计 total")).map_err(err)?;
        if let Some(s) = &report.suppliers {
            w.write_record([""]).map_err(err)?;
            w.write_record(["供应商 suppliers", "新增 new", "其中中小微 SME", "占比% share", "总数 total"])
                .map_err(err)?;
            w.write_record(["", &s.new.to_string(), &s.new_sme.to_string(), &s.new_sme_percent, &s.total.to_string()])
                .map_err(err)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}

fn sheet(
    ws: &mut Worksheet,
    title: &str,
    group_label: &str,
    rows: &[SavingsRow],
    total: &SavingsRow,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    ws.write_string_with_format(0, 0, title, &bold)?;
    for (c, h) in header(group_label).iter().enumerate() {
        ws.write_string_with_format(1, c as u16, h, &bold)?;
    }
    let all = rows.iter().map(|r| (r, r.label.as_str())).chain(std::iter::once((total, "合计 total")));
    for (i, (r, label)) in all.enumerate() {
        let row = 2 + i as u32;
        ws.write_string(row, 0, label)?;
        ws.write_number(row, 1, r.count as f64)?;
        // A cell's number of 元: exact to the fen for any amount below 2^53 fen.
        for (c, m) in [(2u16, r.savings.budget), (3, r.savings.deal), (4, r.saved)] {
            ws.write_number_with_format(row, c, m.fen() as f64 / 100.0, &money)?;
        }
        ws.write_string(row, 5, &r.rate)?;
        ws.write_string(row, 6, r.savings.budget.wan_string())?;
        ws.write_string(row, 7, r.savings.deal.wan_string())?;
    }
    ws.set_column_width(0, 28)?;
    for c in 1..8 {
        ws.set_column_width(c, 18)?;
    }
    Ok(())
}

/// The whole report as a workbook: e-mall by the breakdown, by month, centralized procurement,
/// and supplier statistics.
pub fn xlsx(report: &Report) -> AppResult<Vec<u8>> {
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut wb = Workbook::new();
        let period = format!("{} — {}", report.from, report.to);
        sheet(
            wb.add_worksheet().set_name("电子商城")?,
            &format!("电子商城节支 e-mall savings {period}"),
            report.group.as_str(),
            &report.mall_rows,
            &report.mall_total,
        )?;
        sheet(
            wb.add_worksheet().set_name("按月")?,
            &format!("电子商城按月 e-mall by month {period}"),
            "month",
            &report.mall_months,
            &report.mall_total,
        )?;
        sheet(
            wb.add_worksheet().set_name("集中采购")?,
            &format!("集中采购节支 centralized procurement {period}"),
            report.group.as_str(),
            &report.central_rows,
            &report.central_total,
        )?;
        if let Some(s) = &report.suppliers {
            let ws = wb.add_worksheet().set_name("供应商")?;
            let bold = Format::new().set_bold();
            for (c, h) in ["新增供应商 new", "其中中小微 SME", "占比% share", "供应商总数 total"].iter().enumerate()
            {
                ws.write_string_with_format(0, c as u16, *h, &bold)?;
            }
            ws.write_number(1, 0, s.new as f64)?;
            ws.write_number(1, 1, s.new_sme as f64)?;
            ws.write_string(1, 2, &s.new_sme_percent)?;
            ws.write_number(1, 3, s.total as f64)?;
        }
        wb.save_to_buffer()
    };
    build().map_err(AppError::internal)
}
