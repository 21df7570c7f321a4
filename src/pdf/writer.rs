//! Producing PDFs: receipts, opening records and other documents the platform issues.
//!
//! [`Document`] lays out a simple flow of blocks (title, headings, paragraphs, label/value
//! tables, grid tables, rules) on A4 portrait pages with automatic page breaks and a footer on
//! every page ("n / N" and an optional text). Text is set in one embedded font that covers
//! Simplified Chinese and Latin (see the `font` module), so a document looks the same in every
//! viewer and its text can be copied and extracted:
//!
//! - The font is a `Type0` font with `Identity-H` encoding over a `CIDFontType2` descendant
//!   whose `FontFile2` is a subset of the TrueType font holding only the glyphs used; the
//!   character ids are the glyph ids of the subset.
//! - `/W` gives every glyph's width, and a `ToUnicode` CMap maps every glyph back to its
//!   character. Where several characters share one glyph, the glyph maps back to the lowest of
//!   them.
//! - A character the font has no glyph for is drawn as the font's `.notdef` box but still
//!   extracts as itself: it gets a character id of its own past the subset's glyphs, which
//!   `CIDToGIDMap` sends to glyph 0 and `ToUnicode` maps back to the character.
//!
//! Lines wrap by the glyphs' advance widths: Chinese, Japanese and Korean text between any two
//! characters (except before closing and after opening punctuation), other text at spaces, and
//! a word too long for the line (a SHA-256 digest in a narrow column, say) is broken wherever
//! needed. Tabs count as spaces and other control characters are dropped; `\n` starts a new
//! line.
//!
//! The output is deterministic: with the same build, the same calls give the same bytes (no
//! dates, no random document ids), so a document can be hashed and signed. A different font file
//! or compression library may change the bytes, not the text.
//!
//! ```
//! use tenderhall::pdf::writer::Document;
//!
//! let mut doc = Document::new("投标回执");
//! doc.footer("Tenderhall")
//!     .key_values(&[("项目编号", "ZB-2025-001"), ("投标金额", "¥1,234,500.00")])
//!     .paragraph("本回执由平台自动生成。");
//! let pdf = doc.finish().unwrap();
//! assert!(pdf.starts_with(b"%PDF-"));
//! ```

use super::font::{Font, Metrics, POSTSCRIPT_NAME};
use lopdf::{Dictionary, Object, Stream, StringFormat, dictionary};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// A4 width in points.
const PAGE_WIDTH: f32 = 595.28;
/// A4 height in points.
const PAGE_HEIGHT: f32 = 841.89;
/// Left and right margin (20 mm).
const MARGIN_X: f32 = 56.69;
/// Top of the text area (20 mm below the top edge).
const TOP: f32 = PAGE_HEIGHT - 56.69;
/// Bottom of the text area (25 mm above the bottom edge); the footer sits below it.
const BOTTOM: f32 = 70.87;
/// Width of the text area.
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;

const TITLE_SIZE: f32 = 18.0;
const HEADING_SIZE: f32 = 13.5;
const BODY_SIZE: f32 = 10.5;
const TABLE_SIZE: f32 = 9.5;
const FOOTER_SIZE: f32 = 8.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.5;
/// Line height in tables, as a multiple of the font size.
const TABLE_LEADING: f32 = 1.4;
/// Horizontal padding inside table cells.
const CELL_PAD_X: f32 = 4.0;
/// Vertical padding inside table cells.
const CELL_PAD_Y: f32 = 3.0;
/// Line width of table grids.
const GRID_WIDTH: f32 = 0.5;
/// Fill of header and label cells.
const SHADE: f32 = 0.92;
/// Space after a paragraph or table.
const BLOCK_GAP: f32 = 6.0;
/// Share of the width taken by the label column of [`Document::key_values`].
const LABEL_FRACTION: f32 = 0.28;
/// The footer's rule and its first and second baselines.
const FOOTER_RULE_Y: f32 = 56.0;
const FOOTER_BASELINES: [f32; 2] = [44.0, 34.0];

/// Why a document could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The embedded font could not be read.
    #[error("the embedded font cannot be read: {0}")]
    Font(String),
    /// The font could not be cut down to the glyphs used.
    #[error("the font cannot be subset: {0}")]
    Subset(String),
    /// The document uses more distinct characters than a font can address.
    #[error("the document uses too many distinct characters")]
    TooManyCharacters,
    /// Serialising the PDF failed.
    #[error("the PDF cannot be written: {0}")]
    Write(String),
}

/// How a piece of text is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Regular,
    /// Filled and stroked, standing in for a bold face the font does not have.
    Bold,
    /// Grey, for the footer.
    Muted,
}

/// One drawing operation, in page coordinates (points, origin bottom left).
#[derive(Debug, Clone)]
enum Op {
    /// A line of text starting at (`x`, `y`) on the baseline.
    Text { x: f32, y: f32, size: f32, style: Style, text: String },
    /// A straight line.
    Line { x1: f32, y1: f32, x2: f32, y2: f32, width: f32 },
    /// A rectangle, filled with a grey level or stroked.
    Rect { x: f32, y: f32, w: f32, h: f32, fill: Option<f32> },
}

/// What kind of row a table row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKind {
    /// Shaded and bold.
    Header,
    /// Plain.
    Body,
    /// The first cell is shaded (label/value tables).
    Labelled,
}

/// A PDF document under construction.
///
/// Blocks are added in reading order with the methods below (each returns `&mut Self` so calls
/// can be chained); [`Document::finish`] numbers the pages and produces the file.
pub struct Document {
    title: String,
    footer: String,
    font: Result<Font, Error>,
    layout: Layout,
    attachments: Vec<Attachment>,
}

/// A file carried inside the document.
#[derive(Debug, Clone)]
struct Attachment {
    name: String,
    mime: String,
    description: String,
    data: Vec<u8>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("title", &self.title)
            .field("footer", &self.footer)
            .field("pages", &self.layout.pages.len())
            .finish_non_exhaustive()
    }
}

impl Document {
    /// Starts a document. A non-empty `title` is set large and centred at the top of the first
    /// page, and is the document title in the PDF's metadata (shown by viewers in the window
    /// title).
    ///
    /// The embedded font is read here; should that ever fail, the block methods do nothing and
    /// [`Document::finish`] returns [`Error::Font`].
    pub fn new(title: &str) -> Self {
        let title = clean(title);
        let mut doc = Document {
            font: Font::load().map_err(Error::Font),
            footer: String::new(),
            layout: Layout { pages: vec![Vec::new()], y: TOP },
            title: title.trim().to_owned(),
            attachments: Vec::new(),
        };
        if let (Ok(font), false) = (&doc.font, doc.title.is_empty()) {
            let layout = &mut doc.layout;
            let lh = TITLE_SIZE * LEADING;
            for line in wrap(font, &doc.title, TITLE_SIZE, CONTENT_WIDTH) {
                layout.ensure(lh);
                let x = MARGIN_X + (CONTENT_WIDTH - text_width(font, &line, TITLE_SIZE)) / 2.0;
                let y = baseline(font, layout.y, lh, TITLE_SIZE);
                layout.push(Op::Text { x, y, size: TITLE_SIZE, style: Style::Bold, text: line });
                layout.y -= lh;
            }
            layout.y -= 2.0 * BLOCK_GAP;
        }
        doc
    }

    /// Sets the text printed at the bottom of every page, left of the page number (at most two
    /// lines; longer text is cut short with "…"). Can be called at any time before
    /// [`Document::finish`]; the last call wins.
    pub fn footer(&mut self, text: &str) -> &mut Self {
        self.footer = clean(text).trim().to_owned();
        self
    }

    /// Adds a section heading. It is kept on the same page as the first lines after it.
    pub fn heading(&mut self, text: &str) -> &mut Self {
        let Ok(font) = &self.font else { return self };
        let layout = &mut self.layout;
        let lh = HEADING_SIZE * LEADING;
        let lines = wrap(font, &clean(text), HEADING_SIZE, CONTENT_WIDTH);
        if !layout.at_top() {
            layout.y -= BLOCK_GAP;
        }
        // Keep the heading with at least two lines of what follows.
        layout.ensure(lines.len() as f32 * lh + 2.0 * BODY_SIZE * LEADING);
        for line in lines {
            layout.ensure(lh);
            let y = baseline(font, layout.y, lh, HEADING_SIZE);
            layout.push(Op::Text { x: MARGIN_X, y, size: HEADING_SIZE, style: Style::Bold, text: line });
            layout.y -= lh;
        }
        layout.y -= BLOCK_GAP / 2.0;
        self
    }

    /// Adds a paragraph of body text, wrapped to the text width and broken across pages as
    /// needed. `\n` starts a new line; an empty string adds an empty line.
    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        let Ok(font) = &self.font else { return self };
        let layout = &mut self.layout;
        let lh = BODY_SIZE * LEADING;
        for line in wrap(font, &clean(text), BODY_SIZE, CONTENT_WIDTH) {
            layout.ensure(lh);
            let y = baseline(font, layout.y, lh, BODY_SIZE);
            if !line.is_empty() {
                layout.push(Op::Text { x: MARGIN_X, y, size: BODY_SIZE, style: Style::Regular, text: line });
            }
            layout.y -= lh;
        }
        layout.y -= BLOCK_GAP;
        self
    }

    /// Adds a two-column table of labels (shaded, left) and values; both wrap, and rows
    /// continue on the next page when they do not fit.
    pub fn key_values(&mut self, pairs: &[(&str, &str)]) -> &mut Self {
        let Ok(font) = &self.font else { return self };
        let widths = column_widths(&[LABEL_FRACTION, 1.0 - LABEL_FRACTION], 2);
        let rows: Vec<Vec<String>> = pairs.iter().map(|(k, v)| vec![clean(k), clean(v)]).collect();
        self.layout.grid(font, None, &rows, &widths, RowKind::Labelled);
        self
    }

    /// Adds a table with grid lines and a shaded header row, which is repeated at the top of
    /// every page the table continues on; cells wrap.
    ///
    /// `column_widths_in_fractions` are the columns' shares of the text width (they are scaled to add up to
    /// one). If there is not one positive share per column, the columns get equal widths. The
    /// number of columns is the number of `headers`, or with no headers the length of the
    /// longest row; missing cells are empty and extra cells are ignored.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>], column_widths_in_fractions: &[f32]) -> &mut Self {
        let Ok(font) = &self.font else { return self };
        let columns = if headers.is_empty() { rows.iter().map(Vec::len).max().unwrap_or(0) } else { headers.len() };
        if columns == 0 {
            return self;
        }
        let widths = column_widths(column_widths_in_fractions, columns);
        let header: Vec<String> = headers.iter().map(|h| clean(h)).collect();
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| (0..columns).map(|i| r.get(i).map(|c| clean(c)).unwrap_or_default()).collect())
            .collect();
        let header = (!header.is_empty()).then_some(header);
        self.layout.grid(font, header.as_deref(), &rows, &widths, RowKind::Body);
        self
    }

    /// Adds a thin horizontal line across the text width.
    pub fn rule(&mut self) -> &mut Self {
        let layout = &mut self.layout;
        layout.ensure(BLOCK_GAP * 2.0);
        layout.y -= BLOCK_GAP;
        layout.push(Op::Line { x1: MARGIN_X, y1: layout.y, x2: MARGIN_X + CONTENT_WIDTH, y2: layout.y, width: 0.75 });
        layout.y -= BLOCK_GAP;
        self
    }

    /// Adds vertical space of one line of body text (nothing at the top of a page).
    pub fn spacer(&mut self) -> &mut Self {
        if !self.layout.at_top() {
            self.layout.y -= BODY_SIZE * LEADING;
        }
        self
    }

    /// Starts a new page, unless the current one is still empty.
    pub fn page_break(&mut self) -> &mut Self {
        if !self.layout.at_top() {
            self.layout.new_page();
        }
        self
    }

    /// Carries a file inside the document (a PDF embedded file, listed in a viewer's attachments
    /// and not printed): data meant for programs rather than readers, such as the signed JSON of a
    /// receipt. [`attachment`] reads it back. A second file of the same name replaces the first.
    pub fn attach(&mut self, name: &str, mime: &str, description: &str, data: &[u8]) -> &mut Self {
        self.attachments.retain(|a| a.name != name);
        self.attachments.push(Attachment {
            name: name.to_owned(),
            mime: mime.to_owned(),
            description: clean(description),
            data: data.to_vec(),
        });
        self.attachments.sort_by(|a, b| a.name.cmp(&b.name));
        self
    }

    /// The number of pages so far.
    pub fn page_count(&self) -> usize {
        self.layout.pages.len()
    }

    /// Adds the footers and produces the PDF file.
    pub fn finish(self) -> Result<Vec<u8>, Error> {
        let font = self.font?;
        let mut pages = self.layout.pages;
        let total = pages.len();
        let footer_lines = footer_lines(&font, &self.footer);
        for (i, page) in pages.iter_mut().enumerate() {
            let number = format!("{} / {}", i + 1, total);
            let number_x = MARGIN_X + CONTENT_WIDTH - text_width(&font, &number, FOOTER_SIZE);
            page.push(Op::Line {
                x1: MARGIN_X,
                y1: FOOTER_RULE_Y,
                x2: MARGIN_X + CONTENT_WIDTH,
                y2: FOOTER_RULE_Y,
                width: 0.5,
            });
            for (line, y) in footer_lines.iter().zip(FOOTER_BASELINES) {
                page.push(Op::Text { x: MARGIN_X, y, size: FOOTER_SIZE, style: Style::Muted, text: line.clone() });
            }
            page.push(Op::Text {
                x: number_x,
                y: FOOTER_BASELINES[0],
                size: FOOTER_SIZE,
                style: Style::Muted,
                text: number,
            });
        }
        let encoder = Encoder::new(&font, &pages)?;
        write_pdf(&font, &encoder, &self.title, &pages, &self.attachments)
    }
}

/// Largest attachment [`attachment`] reads back.
const MAX_ATTACHMENT: usize = 1 << 20;

/// The file named `name` that [`Document::attach`] carried inside a PDF, if the PDF has one (at
/// most 1 MiB).
pub fn attachment(pdf: &[u8], name: &str) -> Option<Vec<u8>> {
    let doc = lopdf::Document::load_mem(pdf).ok()?;
    fn resolve<'a>(doc: &'a lopdf::Document, o: &'a Object) -> Option<&'a Object> {
        doc.dereference(o).ok().map(|(_, o)| o)
    }
    let resolve = |o| resolve(&doc, o);
    let names = resolve(doc.catalog().ok()?.get(b"Names").ok()?)?.as_dict().ok()?;
    let tree = resolve(names.get(b"EmbeddedFiles").ok()?)?.as_dict().ok()?;
    let entries = resolve(tree.get(b"Names").ok()?)?.as_array().ok()?;
    entries.chunks(2).find_map(|pair| {
        let [key, spec] = pair else { return None };
        if resolve(key)?.as_str().ok()? != name.as_bytes() {
            return None;
        }
        let spec = resolve(spec)?.as_dict().ok()?;
        let files = resolve(spec.get(b"EF").ok()?)?.as_dict().ok()?;
        let file = resolve(files.get(b"F").ok()?)?.as_stream().ok()?;
        file.get_plain_content_with_limit(MAX_ATTACHMENT).ok()
    })
}

/// The pages laid out so far and the position of the next block.
struct Layout {
    pages: Vec<Vec<Op>>,
    /// Top of the next block.
    y: f32,
}

impl Layout {
    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn at_top(&self) -> bool {
        self.y >= TOP
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` fits above the bottom margin (or the page is empty).
    fn ensure(&mut self, height: f32) {
        if self.y - height < BOTTOM && !self.at_top() {
            self.new_page();
        }
    }

    /// Lays out a table: an optional header row, then `rows`, each cell wrapped to its column.
    fn grid(&mut self, font: &Font, header: Option<&[String]>, rows: &[Vec<String>], widths: &[f32], kind: RowKind) {
        if header.is_none() && rows.is_empty() {
            return;
        }
        let lh = TABLE_SIZE * TABLE_LEADING;
        let wrap_cells = |cells: &[String]| -> Vec<Vec<String>> {
            cells
                .iter()
                .zip(widths)
                .map(|(c, w)| {
                    let mut lines = wrap(font, c, TABLE_SIZE, w - 2.0 * CELL_PAD_X);
                    while lines.last().is_some_and(String::is_empty) {
                        lines.pop();
                    }
                    lines
                })
                .collect()
        };
        let row_lines = |cells: &[Vec<String>]| cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let header = header.map(wrap_cells);
        let header_height = header.as_ref().map_or(0.0, |h| row_lines(h) as f32 * lh + 2.0 * CELL_PAD_Y);
        let draw_header = |layout: &mut Layout| {
            if let Some(h) = &header {
                layout.row(font, h, widths, 0, row_lines(h), RowKind::Header);
            }
        };
        // The header and the first line of the first row start on the same page.
        self.ensure(header_height + lh + 2.0 * CELL_PAD_Y);
        draw_header(self);
        for cells in rows {
            let cells = wrap_cells(cells);
            let total = row_lines(&cells);
            let mut start = 0;
            while start < total {
                let left = total - start;
                let available = self.y - BOTTOM - 2.0 * CELL_PAD_Y;
                let fit = if available > 0.0 { (available / lh + 1e-3).floor() as usize } else { 0 };
                if fit >= left {
                    self.row(font, &cells, widths, start, left, kind);
                    break;
                }
                // The row does not fit. Move it to a new page whole if it fits there; otherwise,
                // or if a part of it is already drawn, fill this page and continue overleaf.
                let fresh = ((TOP - BOTTOM - header_height - 2.0 * CELL_PAD_Y) / lh + 1e-3).floor() as usize;
                if fit > 0 && left > fresh {
                    self.row(font, &cells, widths, start, fit, kind);
                    start += fit;
                }
                self.new_page();
                draw_header(self);
            }
        }
        self.y -= BLOCK_GAP;
    }

    /// Draws lines `start..start + count` of a row's cells as one row of the grid.
    fn row(&mut self, font: &Font, cells: &[Vec<String>], widths: &[f32], start: usize, count: usize, kind: RowKind) {
        let lh = TABLE_SIZE * TABLE_LEADING;
        let height = count as f32 * lh + 2.0 * CELL_PAD_Y;
        let bottom = self.y - height;
        let mut x = MARGIN_X;
        for (i, w) in widths.iter().enumerate() {
            if kind == RowKind::Header || (kind == RowKind::Labelled && i == 0) {
                self.push(Op::Rect { x, y: bottom, w: *w, h: height, fill: Some(SHADE) });
            }
            x += w;
        }
        let mut x = MARGIN_X;
        for w in widths {
            self.push(Op::Rect { x, y: bottom, w: *w, h: height, fill: None });
            x += w;
        }
        let style = if kind == RowKind::Header { Style::Bold } else { Style::Regular };
        let mut x = MARGIN_X;
        for (cell, w) in cells.iter().zip(widths) {
            for (j, line) in cell.iter().skip(start).take(count).enumerate() {
                if line.is_empty() {
                    continue;
                }
                let top = self.y - CELL_PAD_Y - j as f32 * lh;
                let y = baseline(font, top, lh, TABLE_SIZE);
                self.push(Op::Text { x: x + CELL_PAD_X, y, size: TABLE_SIZE, style, text: line.clone() });
            }
            x += w;
        }
        self.y = bottom;
    }
}

/// Replaces tabs by spaces and line-break variants by `\n`, and drops other control characters.
fn clean(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            '\r' | '\u{2028}' | '\u{2029}' => Some('\n'),
            '\n' => Some('\n'),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// The column widths in points for `fractions` of the text width.
fn column_widths(fractions: &[f32], columns: usize) -> Vec<f32> {
    let valid = fractions.len() == columns && fractions.iter().all(|f| f.is_finite() && *f > 0.0);
    let shares = if valid { fractions.to_vec() } else { vec![1.0; columns] };
    let sum: f32 = shares.iter().sum();
    shares.iter().map(|s| s / sum * CONTENT_WIDTH).collect()
}

/// The width of `c` in points at `size`.
fn char_width(font: &Font, c: char, size: f32) -> f32 {
    f32::from(font.char_width(c)) * size / 1000.0
}

/// The width of `text` in points at `size`.
fn text_width(font: &Font, text: &str, size: f32) -> f32 {
    text.chars().map(|c| char_width(font, c, size)).sum()
}

/// The baseline of a line of text set at `size` in a line box of height `lh` whose top is at
/// `top`: the font's ascent-to-descent extent is centred in the box.
fn baseline(font: &Font, top: f32, lh: f32, size: f32) -> f32 {
    let Metrics { ascent, descent, .. } = font.metrics();
    let extent = (ascent - descent) / 1000.0 * size;
    top - (lh - extent) / 2.0 - ascent / 1000.0 * size
}

/// Whether `c` belongs to the scripts written without spaces between words (CJK ideographs,
/// kana, Hangul, and their punctuation and full-width forms), where a line may break between
/// any two characters.
fn is_wide(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7AF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE10}'..='\u{FE1F}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FFEF}'
        | '\u{20000}'..='\u{3FFFF}')
}

/// Characters a line must not start with.
fn is_closing(c: char) -> bool {
    "，。、；：？！）】》」』〉〕〗〙〛｝］”’…‥・·％,.;:?!)]}%".contains(c)
}

/// Characters a line must not end with.
fn is_opening(c: char) -> bool {
    "（【《「『〈〔〖〘〚｛［“‘([{¥￥$".contains(c)
}

/// Whether a line may break between `a` and `b`.
fn can_break(a: char, b: char) -> bool {
    if b == ' ' || is_closing(b) || is_opening(a) {
        return false;
    }
    a == ' ' || is_wide(a) || is_wide(b)
}

/// Breaks `text` into lines no wider than `max_width` points at `size`. Every `\n` starts a new
/// line. Lines break at spaces (which are dropped at the break) and around CJK characters; a
/// stretch without such a place that is too wide is broken before the character that overflows.
/// Every line holds at least one character, however narrow `max_width` is.
fn wrap(font: &Font, text: &str, size: f32, max_width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let chars: Vec<char> = para.chars().collect();
        if chars.is_empty() {
            lines.push(String::new());
            continue;
        }
        let mut start = 0;
        while start < chars.len() {
            let mut width = 0.0;
            let mut last_break = None;
            let mut i = start;
            while i < chars.len() {
                if i > start && can_break(chars[i - 1], chars[i]) {
                    last_break = Some(i);
                }
                let w = char_width(font, chars[i], size);
                // Spaces may hang past the margin: they are dropped at a break.
                if i > start && chars[i] != ' ' && width + w > max_width {
                    break;
                }
                width += w;
                i += 1;
            }
            let end = if i >= chars.len() { chars.len() } else { last_break.unwrap_or(i) };
            let line: String = chars[start..end].iter().collect();
            lines.push(line.trim_end_matches(' ').to_owned());
            start = end;
            if start > 0 {
                while start < chars.len() && chars[start] == ' ' {
                    start += 1;
                }
            }
        }
    }
    lines
}

/// The footer text broken into at most as many lines as the footer has room for, leaving space
/// for the page number; text that does not fit ends in "…".
fn footer_lines(font: &Font, text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let max = CONTENT_WIDTH - text_width(font, "9999 / 9999", FOOTER_SIZE) - 12.0;
    let mut lines = wrap(font, text, FOOTER_SIZE, max);
    if lines.len() > FOOTER_BASELINES.len() {
        lines.truncate(FOOTER_BASELINES.len());
        if let Some(last) = lines.last_mut() {
            let ellipsis = text_width(font, "…", FOOTER_SIZE);
            while !last.is_empty() && text_width(font, last, FOOTER_SIZE) + ellipsis > max {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

/// Maps characters to the character ids of the embedded font.
struct Encoder {
    /// Original glyph ids in the order of the subset, from id 1 (id 0 is `.notdef`).
    glyphs: Vec<u16>,
    /// Subset glyph id (= character id) of each original glyph id.
    cid_of_glyph: BTreeMap<u16, u16>,
    /// The character each glyph maps back to.
    char_of_glyph: BTreeMap<u16, char>,
    /// Character ids of the characters without a glyph, which follow the subset's glyphs.
    missing: BTreeMap<char, u16>,
    /// The font subset.
    subset: Vec<u8>,
}

impl Encoder {
    fn new(font: &Font, pages: &[Vec<Op>]) -> Result<Self, Error> {
        let mut char_of_glyph: BTreeMap<u16, char> = BTreeMap::new();
        let mut missing_chars = BTreeSet::new();
        for op in pages.iter().flatten() {
            if let Op::Text { text, .. } = op {
                for c in text.chars() {
                    match font.glyph(c) {
                        Some(g) => {
                            let mapped = char_of_glyph.entry(g).or_insert(c);
                            *mapped = (*mapped).min(c);
                        }
                        None => {
                            missing_chars.insert(c);
                        }
                    }
                }
            }
        }
        let glyphs: Vec<u16> = char_of_glyph.keys().copied().collect();
        if glyphs.len() + 1 + missing_chars.len() > usize::from(u16::MAX) {
            return Err(Error::TooManyCharacters);
        }
        let mut cid_of_glyph = BTreeMap::new();
        let mut next: u16 = 1;
        for g in &glyphs {
            cid_of_glyph.insert(*g, next);
            next += 1;
        }
        let mut missing = BTreeMap::new();
        for c in missing_chars {
            missing.insert(c, next);
            next += 1;
        }
        let subset = font.subset(&glyphs).map_err(Error::Subset)?;
        Ok(Encoder { glyphs, cid_of_glyph, char_of_glyph, missing, subset })
    }

    /// The character id of `c`.
    fn cid(&self, font: &Font, c: char) -> u16 {
        match font.glyph(c) {
            Some(g) => self.cid_of_glyph.get(&g).copied().unwrap_or(0),
            None => self.missing.get(&c).copied().unwrap_or(0),
        }
    }

    /// `text` as a hexadecimal string of two-byte character ids.
    fn encode(&self, font: &Font, text: &str) -> String {
        let mut out = String::with_capacity(text.len() * 4 + 2);
        out.push('<');
        for c in text.chars() {
            let _ = write!(out, "{:04X}", self.cid(font, c));
        }
        out.push('>');
        out
    }

    /// Number of character ids in use, including 0.
    fn cid_count(&self) -> usize {
        1 + self.glyphs.len() + self.missing.len()
    }

    /// The width of every character id, in thousandths of an em.
    fn widths(&self, font: &Font) -> Vec<Object> {
        let notdef = i64::from(font.width(0));
        let mut widths = vec![Object::Integer(notdef)];
        widths.extend(self.glyphs.iter().map(|g| Object::Integer(i64::from(font.width(*g)))));
        widths.extend(self.missing.iter().map(|_| Object::Integer(notdef)));
        widths
    }

    /// `CIDToGIDMap`: character ids are the subset's glyph ids, except the ids of characters
    /// without a glyph, which all show glyph 0.
    fn cid_to_gid_map(&self) -> Option<Vec<u8>> {
        if self.missing.is_empty() {
            return None;
        }
        let mut map = Vec::with_capacity(self.cid_count() * 2);
        for cid in 0..=self.glyphs.len() {
            map.extend((cid as u16).to_be_bytes());
        }
        map.extend(self.missing.iter().flat_map(|_| [0, 0]));
        Some(map)
    }

    /// The `ToUnicode` CMap.
    fn to_unicode(&self) -> Vec<u8> {
        let mut entries: Vec<(u16, char)> = Vec::new();
        for (g, c) in &self.char_of_glyph {
            if let Some(cid) = self.cid_of_glyph.get(g) {
                entries.push((*cid, *c));
            }
        }
        entries.extend(self.missing.iter().map(|(c, cid)| (*cid, *c)));
        entries.sort_unstable();
        let mut out = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        for chunk in entries.chunks(100) {
            let _ = writeln!(out, "{} beginbfchar", chunk.len());
            for (cid, c) in chunk {
                let mut units = [0u16; 2];
                let hex: String = c.encode_utf16(&mut units).iter().map(|u| format!("{u:04X}")).collect();
                let _ = writeln!(out, "<{cid:04X}> <{hex}>");
            }
            out.push_str("endbfchar\n");
        }
        out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        out.into_bytes()
    }

    /// The subset's tag (six capital letters before the font name), derived from its content so
    /// that equal documents get equal tags.
    fn tag(&self) -> String {
        // FNV-1a over the glyph list and the characters without glyphs.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let bytes = self.glyphs.iter().flat_map(|g| g.to_be_bytes()).chain(self.missing.keys().flat_map(|c| {
            let v = u32::from(*c);
            v.to_be_bytes()
        }));
        for b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        (0..6)
            .map(|i| {
                let letter = ((hash >> (i * 8)) % 26) as u8;
                char::from(b'A' + letter)
            })
            .collect()
    }
}

/// A number for a content stream or dictionary: at most two decimals, no trailing zeros.
fn num(v: f32) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

/// The content stream of one page.
fn content(font: &Font, encoder: &Encoder, ops: &[Op]) -> Vec<u8> {
    let mut out = String::new();
    for op in ops {
        match op {
            Op::Text { x, y, size, style, text } => {
                let stroke = num(*size * 0.03);
                let (x, y, size, hex) = (num(*x), num(*y), num(*size), encoder.encode(font, text));
                let text = format!("BT /F1 {size} Tf {x} {y} Td {hex} Tj ET");
                let _ = match style {
                    Style::Regular => writeln!(out, "{text}"),
                    Style::Bold => writeln!(out, "q 2 Tr {stroke} w {text} Q"),
                    Style::Muted => writeln!(out, "q 0.35 g {text} Q"),
                };
            }
            Op::Line { x1, y1, x2, y2, width } => {
                let _ = writeln!(out, "{} w {} {} m {} {} l S", num(*width), num(*x1), num(*y1), num(*x2), num(*y2));
            }
            Op::Rect { x, y, w, h, fill: Some(gray) } => {
                let _ = writeln!(out, "q {} g {} {} {} {} re f Q", num(*gray), num(*x), num(*y), num(*w), num(*h));
            }
            Op::Rect { x, y, w, h, fill: None } => {
                let _ = writeln!(out, "{} w {} {} {} {} re S", num(GRID_WIDTH), num(*x), num(*y), num(*w), num(*h));
            }
        }
    }
    out.into_bytes()
}

/// A PDF text string: UTF-16BE with a byte order mark, written in hexadecimal.
fn text_string(s: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
    Object::String(bytes, StringFormat::Hexadecimal)
}

/// A stream, compressed if that makes it smaller.
fn stream(dict: Dictionary, content: Vec<u8>) -> Result<Stream, Error> {
    let mut stream = Stream::new(dict, content);
    stream.compress().map_err(|e| Error::Write(e.to_string()))?;
    Ok(stream)
}

/// Assembles the PDF file.
fn write_pdf(
    font: &Font,
    encoder: &Encoder,
    title: &str,
    pages: &[Vec<Op>],
    attachments: &[Attachment],
) -> Result<Vec<u8>, Error> {
    let mut doc = lopdf::Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let metrics = font.metrics();
    let name = format!("{}+{}", encoder.tag(), POSTSCRIPT_NAME);

    let file_len = encoder.subset.len() as i64;
    let font_file = doc.add_object(stream(dictionary! { "Length1" => file_len }, encoder.subset.clone())?);
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => Object::Name(name.clone().into_bytes()),
        // Symbolic: the glyphs are addressed by id, not by a standard encoding.
        "Flags" => 4,
        "FontBBox" => metrics.bbox.iter().map(|v| Object::Integer(*v as i64)).collect::<Vec<_>>(),
        "ItalicAngle" => Object::Integer(metrics.italic_angle.round() as i64),
        "Ascent" => Object::Integer(metrics.ascent as i64),
        "Descent" => Object::Integer(metrics.descent as i64),
        "CapHeight" => Object::Integer(metrics.cap_height as i64),
        // Not recorded in TrueType fonts; a usual value for a regular weight.
        "StemV" => 80,
        "FontFile2" => font_file,
    });
    let cid_to_gid = match encoder.cid_to_gid_map() {
        Some(map) => Object::Reference(doc.add_object(stream(dictionary! {}, map)?)),
        None => Object::Name(b"Identity".to_vec()),
    };
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => Object::Name(name.clone().into_bytes()),
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor,
        "DW" => i64::from(font.width(0)),
        "W" => vec![Object::Integer(0), Object::Array(encoder.widths(font))],
        "CIDToGIDMap" => cid_to_gid,
    });
    let to_unicode = doc.add_object(stream(dictionary! {}, encoder.to_unicode())?);
    let type0 = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => Object::Name(name.into_bytes()),
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![Object::Reference(cid_font)],
        "ToUnicode" => to_unicode,
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => type0 } });

    let mut kids = Vec::with_capacity(pages.len());
    for ops in pages {
        let contents = doc.add_object(stream(dictionary! {}, content(font, encoder, ops))?);
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
            "Resources" => resources,
            "Contents" => contents,
        });
        kids.push(Object::Reference(page));
    }
    let count = kids.len() as i64;
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let mut catalog = dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "ViewerPreferences" => dictionary! { "DisplayDocTitle" => true },
    };
    if !attachments.is_empty() {
        // Embedded files, in a name tree sorted by name (PDF 1.7, 7.11.4), also listed as the
        // document's associated files.
        let mut names = Vec::new();
        let mut associated = Vec::new();
        for a in attachments {
            let size = a.data.len() as i64;
            let dict = dictionary! {
                "Type" => "EmbeddedFile",
                "Subtype" => Object::Name(a.mime.clone().into_bytes()),
                "Params" => dictionary! { "Size" => size },
            };
            let file = doc.add_object(stream(dict, a.data.clone())?);
            let spec = doc.add_object(dictionary! {
                "Type" => "Filespec",
                "F" => Object::string_literal(a.name.clone()),
                "UF" => text_string(&a.name),
                "Desc" => text_string(&a.description),
                "EF" => dictionary! { "F" => file, "UF" => file },
                "AFRelationship" => "Data",
            });
            names.push(Object::string_literal(a.name.clone()));
            names.push(Object::Reference(spec));
            associated.push(Object::Reference(spec));
        }
        catalog.set("Names", dictionary! { "EmbeddedFiles" => dictionary! { "Names" => names } });
        catalog.set("AF", associated);
    }
    let catalog = doc.add_object(catalog);
    let info = doc.add_object(dictionary! {
        "Title" => text_string(title),
        "Producer" => Object::string_literal("Tenderhall"),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| Error::Write(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attached_files_are_carried_but_not_printed_and_read_back() {
        let json = br#"{"version":1,"signed":"data"}"#;
        let mut doc = Document::new("回执");
        doc.paragraph("正文").attach("receipt.json", "application/json", "签名数据", json);
        let pdf = doc.finish().unwrap();
        assert_eq!(attachment(&pdf, "receipt.json").as_deref(), Some(&json[..]));
        assert_eq!(attachment(&pdf, "other.json"), None);
        let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
        assert!(text.contains("正文") && !text.contains("signed"), "{text}");
        // The same document twice gives the same bytes; one without attachments has none.
        let mut again = Document::new("回执");
        again.paragraph("正文").attach("receipt.json", "application/json", "签名数据", json);
        assert_eq!(again.finish().unwrap(), pdf);
        let mut plain = Document::new("回执");
        plain.paragraph("正文");
        assert_eq!(attachment(&plain.finish().unwrap(), "receipt.json"), None);
        assert_eq!(attachment(b"not a pdf", "receipt.json"), None);
    }

    /// Rows of the opening record: enough for a second page.
    const ROWS: usize = 25;

    const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn font() -> Font {
        Font::load().unwrap()
    }

    /// Extracted text with all whitespace removed, so that wrapped lines join up again.
    fn squeezed(pdf: &[u8]) -> String {
        let text = pdf_extract::extract_text_from_mem(pdf).unwrap();
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn bid_rows(n: usize) -> Vec<Vec<String>> {
        (1..=n)
            .map(|i| {
                vec![
                    i.to_string(),
                    format!("供应商{i}有限责任公司"),
                    format!("¥{},{:03},500.00", i, i * 7 % 1000),
                    format!("{DIGEST}"),
                ]
            })
            .collect()
    }

    fn receipt() -> Vec<u8> {
        let mut doc = Document::new("投标回执");
        doc.footer("Tenderhall 电子招标投标交易平台 · 本回执由系统生成，可凭摘要核验")
            .heading("一、投标信息")
            .key_values(&[
                ("项目名称", "某市第一人民医院门诊楼改造工程（施工）"),
                ("项目编号", "ZB-2025-0042"),
                ("投标人", "北京某某建设集团有限公司"),
                ("投标金额", "¥1,234,500.00"),
                ("文件摘要 (SHA-256)", DIGEST),
                ("递交时间", "2025-03-18 09:41:07 (UTC+8)"),
            ])
            .rule()
            .paragraph("本平台已收到上述投标文件。投标文件在开标前保持密封，任何人（包括平台运营方）均无法查看其内容。")
            .spacer()
            .paragraph("Bids are sealed until the opening; the digest above identifies the file received.");
        doc.finish().unwrap()
    }

    fn opening_record() -> Vec<u8> {
        let mut doc = Document::new("开标记录表");
        doc.footer("开标记录").heading("开标结果").table(
            &["序号", "投标人", "投标报价", "文件摘要"],
            &bid_rows(ROWS),
            &[0.08, 0.3, 0.22, 0.4],
        );
        doc.paragraph(&format!("记录摘要：{DIGEST}{DIGEST}"));
        doc.finish().unwrap()
    }

    #[test]
    fn the_font_covers_the_usual_characters() {
        let f = font();
        for c in "开标记录表投标回执金额人民币元¥￥0123456789,.:;()（）【】《》，。、：；？！ABCxyz-/#%".chars()
        {
            assert!(f.glyph(c).is_some(), "no glyph for {c:?}");
        }
    }

    #[test]
    fn wraps_cjk_latin_and_long_tokens() {
        let f = font();
        let cjk = "本平台已收到上述投标文件。投标文件在开标前保持密封，任何人均无法查看其内容。";
        let lines = wrap(&f, cjk, 10.0, 100.0);
        assert!(lines.len() > 3);
        assert_eq!(lines.concat(), cjk);
        assert!(lines.iter().all(|l| text_width(&f, l, 10.0) <= 100.0));
        assert!(lines.iter().skip(1).all(|l| !l.starts_with(is_closing)), "{lines:?}");

        let latin = "the quick brown fox jumps over the lazy dog";
        let lines = wrap(&f, latin, 10.0, 80.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), latin);

        let lines = wrap(&f, DIGEST, 10.0, 100.0);
        assert!(lines.len() > 2);
        assert_eq!(lines.concat(), DIGEST);
        assert!(lines.iter().all(|l| text_width(&f, l, 10.0) <= 100.0));

        assert_eq!(wrap(&f, "a\n\nb", 10.0, 100.0), ["a", "", "b"]);
        assert_eq!(wrap(&f, "一二", 10.0, 1.0), ["一", "二"]);
    }

    #[test]
    fn a_receipt_is_one_small_page_with_extractable_text() {
        let pdf = receipt();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        assert!(pdf.len() < 200 * 1024, "{} bytes", pdf.len());
        let text = squeezed(&pdf);
        for expected in ["投标回执", "一、投标信息", "投标金额", "¥1,234,500.00", DIGEST, "ZB-2025-0042", "1/1"]
        {
            assert!(text.contains(expected), "{expected:?} not in {text:?}");
        }
        assert!(text.contains("Bidsaresealeduntiltheopening"), "{text:?}");
    }

    #[test]
    fn a_long_table_continues_on_the_next_page_with_its_header() {
        let pdf = opening_record();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 2);
        let pages = pdf_extract::extract_text_from_mem_by_pages(&pdf).unwrap();
        assert_eq!(pages.len(), 2);
        let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert!(squeeze(&pages[0]).contains("开标记录表"));
        for (i, page) in pages.iter().enumerate() {
            let page = squeeze(page);
            assert!(page.contains("序号投标人投标报价文件摘要"), "header on page {}", i + 1);
            assert!(page.contains(&format!("{}/2", i + 1)));
        }
        let text = squeezed(&pdf);
        for i in 1..=ROWS {
            assert!(text.contains(&format!("供应商{i}有限责任公司")), "row {i}");
        }
        assert!(text.contains(&format!("¥1,007,500.00{DIGEST}")));
        assert!(text.contains(&format!("记录摘要：{DIGEST}{DIGEST}")));
    }

    #[test]
    fn a_document_can_be_built_across_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<Document>();
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(receipt(), receipt());
        assert_eq!(opening_record(), opening_record());
    }

    #[test]
    fn the_font_is_embedded_as_a_subset_with_a_unicode_map() {
        let pdf = receipt();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        let fonts: Vec<&Dictionary> = doc
            .objects
            .values()
            .filter_map(|o| o.as_dict().ok())
            .filter(|d| d.get(b"Subtype").and_then(Object::as_name).is_ok_and(|n| n == b"Type0"))
            .collect();
        assert_eq!(fonts.len(), 1);
        let type0 = fonts[0];
        assert_eq!(type0.get(b"Encoding").unwrap().as_name().unwrap(), b"Identity-H");
        let to_unicode = doc.get_object(type0.get(b"ToUnicode").unwrap().as_reference().unwrap()).unwrap();
        let cmap = to_unicode.as_stream().unwrap().decompressed_content().unwrap();
        let cmap = String::from_utf8(cmap).unwrap();
        assert!(cmap.contains("<6295>"), "投 (U+6295) is mapped");
        let base = type0.get(b"BaseFont").unwrap().as_name().unwrap();
        assert!(base.ends_with(b"+WenQuanYiMicroHei") && base.len() == 7 + POSTSCRIPT_NAME.len());

        let descendants = type0.get(b"DescendantFonts").unwrap().as_array().unwrap();
        let cid = doc.get_dictionary(descendants[0].as_reference().unwrap()).unwrap();
        assert_eq!(cid.get(b"Subtype").unwrap().as_name().unwrap(), b"CIDFontType2");
        let descriptor = doc.get_dictionary(cid.get(b"FontDescriptor").unwrap().as_reference().unwrap()).unwrap();
        let file = doc.get_object(descriptor.get(b"FontFile2").unwrap().as_reference().unwrap()).unwrap();
        let file = file.as_stream().unwrap().decompressed_content().unwrap();
        // A subset: far smaller than the font, yet a font that parses, with as many glyphs as
        // the document uses plus .notdef (and any composite glyphs' components).
        assert!(file.len() < 100 * 1024, "{}", file.len());
        let subset = ttf_parser::Face::parse(&file, 0).unwrap();
        let widths = cid.get(b"W").unwrap().as_array().unwrap()[1].as_array().unwrap();
        assert!(usize::from(subset.number_of_glyphs()) >= widths.len());
        assert!(widths.len() > 60);
    }

    #[test]
    fn characters_without_a_glyph_still_extract() {
        let f = font();
        let odd = '\u{10FFFD}';
        assert!(f.glyph(odd).is_none());
        let mut doc = Document::new("");
        doc.paragraph(&format!("缺字{odd}测试"));
        let pdf = doc.finish().unwrap();
        let text = squeezed(&pdf);
        assert!(text.contains(&format!("缺字{odd}测试")), "{text:?}");
    }

    #[test]
    fn edge_cases_do_not_fail() {
        let mut doc = Document::new("");
        doc.table(&[], &[], &[]).table(&["a"], &[vec![]], &[0.0]).key_values(&[]).paragraph("").spacer().rule();
        doc.table(&["a", "b"], &[vec!["1".into(), "2".into(), "3".into()]], &[1.0]);
        // A single cell taller than a page is split across pages.
        let tall = "长".repeat(6000);
        doc.table(&["x"], &[vec![tall.clone()]], &[1.0]);
        assert!(doc.page_count() >= 3);
        let pdf = doc.finish().unwrap();
        // Header and footer lines come between the parts of the cell.
        let text = squeezed(&pdf);
        assert_eq!(text.matches('长').count(), 6000);
        assert!(text.contains(&format!("x{}", "长".repeat(1000))));
        assert_eq!(Document::new("").page_break().page_count(), 1);
        assert_eq!(Document::new("x").page_break().page_break().page_count(), 2);
    }
}
