//! Small SVG charts computed here (the templates only place them): grouped bars of budget and
//! deal per month with the savings rate, horizontal bars of savings per group, and a price
//! history line. Labels are escaped; no script, no inline style (the CSP forbids both).

use super::{model::PricePoint, reports::SavingsRow};
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Fen as a short 万元 label ("1234.5万").
fn wan_label(fen: i64) -> String {
    let wan_tenths = (fen as i128 * 10 + if fen >= 0 { 500_000 } else { -500_000 }) / 1_000_000;
    format!("{}.{}万", wan_tenths / 10, (wan_tenths % 10).abs())
}

/// Fen as a short label in millions of yuan ("147.02M"), for English readers, who do not count
/// in 万.
fn million_label(fen: i64) -> String {
    let hundredths = (fen as i128 + if fen >= 0 { 500_000 } else { -500_000 }) / 1_000_000;
    let sign = if hundredths < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}M", hundredths.abs() / 100, hundredths.abs() % 100)
}

/// The axis and bar label of an amount in the reader's language.
fn amount_label(fen: i64, english: bool) -> String {
    if english { million_label(fen) } else { wan_label(fen) }
}

/// Budget and deal bars per month, with the savings rate above each pair.
pub fn monthly_bars(rows: &[SavingsRow], budget_label: &str, deal_label: &str, english: bool) -> String {
    let (w, h, left, bottom, top) = (760.0f64, 280.0f64, 70.0f64, 40.0f64, 30.0f64);
    let max = rows.iter().map(|r| r.savings.budget.fen().max(r.savings.deal.fen())).max().unwrap_or(0).max(1) as f64;
    let plot_h = h - bottom - top;
    let slot = (w - left - 10.0) / rows.len().max(1) as f64;
    let bar = (slot * 0.35).min(28.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(budget_label)
    );
    for i in 0..=4 {
        let y = top + plot_h * (1.0 - i as f64 / 4.0);
        let v = (max * i as f64 / 4.0) as i64;
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#e3e6ea"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end" fill="#666">{}</text>"##,
            w - 10.0,
            left - 4.0,
            y + 3.0,
            esc(&amount_label(v, english))
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let x = left + slot * i as f64 + slot / 2.0;
        let bh = plot_h * r.savings.budget.fen().max(0) as f64 / max;
        let dh = plot_h * r.savings.deal.fen().max(0) as f64 / max;
        let _ = write!(
            s,
            r##"<rect class="bar-budget" x="{:.1}" y="{:.1}" width="{bar:.1}" height="{bh:.1}" fill="#9db7d5"><title>{} {} {}</title></rect>"##,
            x - bar,
            top + plot_h - bh,
            esc(&r.label),
            esc(budget_label),
            r.savings.budget
        );
        let _ = write!(
            s,
            r##"<rect class="bar-deal" x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{dh:.1}" fill="#2f6fb0"><title>{} {} {}</title></rect>"##,
            top + plot_h - dh,
            esc(&r.label),
            esc(deal_label),
            r.savings.deal
        );
        if r.count > 0 {
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#b5462f">{}%</text>"##,
                top + plot_h - bh - 4.0,
                esc(&r.rate)
            );
        }
        let _ = write!(
            s,
            r##"<text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#333">{}</text>"##,
            h - bottom + 14.0,
            esc(&r.label)
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{left}" y="6" width="10" height="10" fill="#9db7d5"/><text x="{}" y="15" font-size="11">{}</text><rect x="{}" y="6" width="10" height="10" fill="#2f6fb0"/><text x="{}" y="15" font-size="11">{}</text>"##,
        left + 14.0,
        esc(budget_label),
        left + 110.0,
        left + 124.0,
        esc(deal_label)
    );
    s.push_str("</svg>");
    s
}

/// Horizontal bars of savings for the first `max_rows` rows.
pub fn savings_bars(rows: &[SavingsRow], max_rows: usize, english: bool) -> String {
    let rows = &rows[..rows.len().min(max_rows)];
    let (w, row_h, left) = (760.0f64, 24.0f64, 220.0f64);
    let h = row_h * rows.len().max(1) as f64 + 10.0;
    let max = rows.iter().map(|r| r.saved.fen().max(0)).max().unwrap_or(0).max(1) as f64;
    let mut s = String::new();
    let _ = write!(s, r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" xmlns="http://www.w3.org/2000/svg">"#);
    for (i, r) in rows.iter().enumerate() {
        let y = 5.0 + row_h * i as f64;
        let bw = (w - left - 150.0) * r.saved.fen().max(0) as f64 / max;
        let label: String = r.label.chars().take(16).collect();
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text><rect x="{left}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#3d8b5a"><title>{}</title></rect><text x="{:.1}" y="{:.1}" font-size="10" fill="#333">{} ({}%)</text>"##,
            left - 6.0,
            y + 15.0,
            esc(&label),
            y + 3.0,
            row_h - 8.0,
            esc(&r.label),
            left + bw + 4.0,
            y + 15.0,
            esc(&amount_label(r.saved.fen(), english)),
            esc(&r.rate)
        );
    }
    s.push_str("</svg>");
    s
}

/// The agreement price over time, with the market reference as a dashed line.
pub fn price_line(points: &[PricePoint]) -> String {
    let (w, h, left, pad) = (560.0f64, 180.0f64, 70.0f64, 20.0f64);
    if points.is_empty() {
        return String::new();
    }
    let max = points.iter().map(|p| p.price.fen().max(p.market_price.fen())).max().unwrap_or(1).max(1) as f64 * 1.1;
    let n = points.len().max(2) as f64 - 1.0;
    let xy = |i: usize, v: i64| (left + (w - left - pad) * i as f64 / n, h - pad - (h - 2.0 * pad) * v as f64 / max);
    let path = |f: &dyn Fn(&PricePoint) -> i64| {
        let mut d = String::new();
        for (i, p) in points.iter().enumerate() {
            let (x, y) = xy(i, f(p));
            let _ = write!(d, "{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" });
            if points.len() == 1 {
                let _ = write!(d, "L{:.1},{y:.1}", w - pad);
            }
        }
        d
    };
    let mut s = String::new();
    let _ = write!(s, r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" xmlns="http://www.w3.org/2000/svg">"#);
    let _ = write!(
        s,
        r##"<path d="{}" fill="none" stroke="#999" stroke-dasharray="4 3"/>"##,
        path(&|p| p.market_price.fen())
    );
    let _ = write!(s, r##"<path d="{}" fill="none" stroke="#2f6fb0" stroke-width="2"/>"##, path(&|p| p.price.fen()));
    for (i, p) in points.iter().enumerate() {
        let (x, y) = xy(i, p.price.fen());
        let _ = write!(
            s,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="#2f6fb0"><title>{} ¥{}</title></circle><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle">¥{}</text>"##,
            p.at.format("%Y-%m-%d"),
            p.price,
            y - 6.0,
            p.price
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{mall::model::Savings, money::Money};

    #[test]
    fn charts_escape_labels_and_scale() {
        let row = SavingsRow {
            label: "<script>".into(),
            count: 1,
            savings: Savings { budget: Money::from_fen(1_000_000), deal: Money::from_fen(900_000) },
            saved: Money::from_fen(100_000),
            rate: "10.00".into(),
        };
        let svg = monthly_bars(std::slice::from_ref(&row), "预算", "成交", false);
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        assert!(svg.contains("10.00%"));
        assert!(savings_bars(std::slice::from_ref(&row), 10, false).contains("0.1万"));
        assert_eq!(wan_label(14_701_801_900), "14701.8万");
        // English readers get millions, not 万.
        let en = savings_bars(&[row], 10, true);
        assert!(en.contains("0.00M (10.00%)") && !en.contains('万'), "{en}");
        assert_eq!(million_label(14_701_801_900), "147.02M");
        assert_eq!(million_label(-150_000_000), "-1.50M");
        assert!(!monthly_bars(&[], "Budget", "Deal", true).contains('万'));
    }
}
