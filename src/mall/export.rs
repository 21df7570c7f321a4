//! Report exports: CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese)
//! and XLSX (one sheet per table, written with `rust_xlsxwriter`).
//!
//! Amounts are computed in integer fen. The CSV carries them as exact decimal text. In the XLSX
//! a money cell is a number of 元 with the format `#,##0.00` (a spreadsheet's only kind of
//! number); each sheet also carries the 万元 figure as exact text next to it.

use super::reports::{Report, SavingsRow};
use crate::{
    error::{AppError, AppResult},
    web::i18n::{I18n, Lang},
};
use rust_xlsxwriter::{Format, Workbook, Worksheet};

/// The texts of an export, in the reader's language (the `[export]` table of the catalogues).
struct Words<'a> {
    i18n: &'a I18n,
    lang: Lang,
}

impl Words<'_> {
    fn get(&self, key: &str) -> String {
        self.i18n.text(self.lang, &format!("export.{key}")).to_string()
    }

    fn group(&self, report: &Report) -> String {
        self.i18n.text(self.lang, &format!("reportgroup.{}", report.group.as_str())).to_string()
    }
}

fn header(w: &Words, group_label: &str) -> [String; 8] {
    [
        group_label.to_string(),
        w.get("count"),
        w.get("budget_yuan"),
        w.get("deal_yuan"),
        w.get("savings_yuan"),
        w.get("rate"),
        w.get("budget_wan"),
        w.get("deal_wan"),
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

/// A decimal text (a rate, a 万元 figure) as the spreadsheet number that shows as that text with
/// its number of decimals; a text that is not a number stays text.
fn decimal_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: &Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    match text.replace(',', "").parse::<f64>() {
        Ok(v) if v.is_finite() => ws.write_number_with_format(row, col, v, format).map(|_| ()),
        _ => ws.write_string(row, col, text).map(|_| ()),
    }
}

/// The e-mall and centralized-procurement tables of the report as one CSV.
pub fn csv(report: &Report, i18n: &I18n, lang: Lang) -> AppResult<Vec<u8>> {
    let words = Words { i18n, lang };
    let total = words.get("total");
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new().flexible(true).from_writer(&mut out);
        let err = |e: csv::Error| AppError::internal(e);
        w.write_record([words.get("mall"), format!("{} — {}", report.from, report.to)]).map_err(err)?;
        w.write_record(header(&words, &words.group(report))).map_err(err)?;
        for r in &report.mall_rows {
            w.write_record(fields(r, &r.label)).map_err(err)?;
        }
        w.write_record(fields(&report.mall_total, &total)).map_err(err)?;
        w.write_record([""]).map_err(err)?;
        w.write_record([words.get("central"), format!("{} — {}", report.from, report.to)]).map_err(err)?;
        w.write_record(header(&words, &words.group(report))).map_err(err)?;
        for r in &report.central_rows {
            w.write_record(fields(r, &r.label)).map_err(err)?;
        }
        w.write_record(fields(&report.central_total, &total)).map_err(err)?;
        if let Some(s) = &report.suppliers {
            w.write_record([""]).map_err(err)?;
            w.write_record([
                words.get("suppliers"),
                words.get("new_suppliers"),
                words.get("new_sme"),
                words.get("sme_share"),
                words.get("suppliers_total"),
            ])
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
    words: &Words,
    title: &str,
    group_label: &str,
    rows: &[SavingsRow],
    total: &SavingsRow,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let rate = Format::new().set_num_format("0.00");
    let wan = Format::new().set_num_format("#,##0.0000");
    ws.write_string_with_format(0, 0, title, &bold)?;
    for (c, h) in header(words, group_label).iter().enumerate() {
        ws.write_string_with_format(1, c as u16, h, &bold)?;
    }
    let total_label = words.get("total");
    let all = rows.iter().map(|r| (r, r.label.as_str())).chain(std::iter::once((total, total_label.as_str())));
    for (i, (r, label)) in all.enumerate() {
        let row = 2 + i as u32;
        ws.write_string(row, 0, label)?;
        ws.write_number(row, 1, r.count as f64)?;
        // A cell's number of 元: exact to the fen for any amount below 2^53 fen.
        for (c, m) in [(2u16, r.savings.budget), (3, r.savings.deal), (4, r.saved)] {
            ws.write_number_with_format(row, c, m.fen() as f64 / 100.0, &money)?;
        }
        // Rates and 万元 figures are numbers too, each the nearest to its exact decimal text, so
        // that they show as that text and can be summed and charted.
        decimal_cell(ws, row, 5, &r.rate, &rate)?;
        decimal_cell(ws, row, 6, &r.savings.budget.wan_string(), &wan)?;
        decimal_cell(ws, row, 7, &r.savings.deal.wan_string(), &wan)?;
    }
    ws.set_column_width(0, 28)?;
    for c in 1..8 {
        ws.set_column_width(c, 18)?;
    }
    Ok(())
}

/// The whole report as a workbook: e-mall by the breakdown, by month, centralized procurement,
/// and supplier statistics.
pub fn xlsx(report: &Report, i18n: &I18n, lang: Lang) -> AppResult<Vec<u8>> {
    let words = Words { i18n, lang };
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut wb = Workbook::new();
        let period = format!("{} — {}", report.from, report.to);
        let group = words.group(report);
        sheet(
            wb.add_worksheet().set_name(words.get("sheet_mall"))?,
            &words,
            &format!("{} {period}", words.get("mall")),
            &group,
            &report.mall_rows,
            &report.mall_total,
        )?;
        sheet(
            wb.add_worksheet().set_name(words.get("sheet_months"))?,
            &words,
            &format!("{} {period}", words.get("mall_months")),
            words.i18n.text(lang, "reportgroup.month"),
            &report.mall_months,
            &report.mall_total,
        )?;
        sheet(
            wb.add_worksheet().set_name(words.get("sheet_central"))?,
            &words,
            &format!("{} {period}", words.get("central")),
            &group,
            &report.central_rows,
            &report.central_total,
        )?;
        if let Some(s) = &report.suppliers {
            let ws = wb.add_worksheet().set_name(words.get("sheet_suppliers"))?;
            let bold = Format::new().set_bold();
            let share = Format::new().set_num_format("0.00");
            for (c, h) in
                [words.get("new_suppliers"), words.get("new_sme"), words.get("sme_share"), words.get("suppliers_total")]
                    .iter()
                    .enumerate()
            {
                ws.write_string_with_format(0, c as u16, h, &bold)?;
            }
            ws.write_number(1, 0, s.new as f64)?;
            ws.write_number(1, 1, s.new_sme as f64)?;
            decimal_cell(ws, 1, 2, &s.new_sme_percent, &share)?;
            ws.write_number(1, 3, s.total as f64)?;
        }
        wb.save_to_buffer()
    };
    build().map_err(AppError::internal)
}
