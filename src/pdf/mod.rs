//! Checking uploaded PDFs, which are untrusted input.
//!
//! A file is accepted only if it
//!
//! - is within the size limit and starts like a PDF;
//! - is complete: `%%EOF` within its last 1024 bytes, cross-reference data that resolves as
//!   written (not rebuilt by scanning for objects) and every object it names readable
//!   (`pdf_truncated`);
//! - is not encrypted, and does not even name `/Encrypt` (`pdf_encrypted`);
//! - parses with lopdf (`pdf_invalid`) within the time limit (`pdf_timeout`), with at most
//!   `max_objects` objects and no object or cross-reference stream inflating past 16 MiB
//!   (`pdf_too_complex`);
//! - carries no active content (`pdf_active_content`, naming what was found): no JavaScript
//!   (`/JavaScript`, `/JS`, `javascript:` links), no additional actions (`/AA`), no
//!   `/OpenAction` that runs something, no `/Launch` or `/ImportData` actions, no embedded files
//!   (`/EmbeddedFiles`, `/EF`, `/EmbeddedFile`), no `/RichMedia`, no XFA forms (`/XFA`). Every
//!   object is looked at, those packed in object streams included, with names decoded
//!   (`/J#61vaScript` is `/JavaScript`). Such files are refused, not cleaned or flagged;
//! - has at least one and at most `max_pages` pages.
//!
//! Parsing runs on a blocking thread, and stops when the time limit is reached: see
//! `inspect` for what is guaranteed. A panic inside the parser is answered as `pdf_invalid`
//! and never takes the server down. Nesting is bounded by lopdf's parser (100 levels) and by
//! the walk here.
//!
//! [`writer`] produces PDFs (receipts, opening records) with embedded Chinese text.

mod font;
mod inspect;
pub mod writer;

use crate::{config::PdfSettings, error::AppError};
use bytes::Bytes;
use inspect::Budget;
use std::time::{Duration, Instant};

/// What was learnt from a valid PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfInfo {
    /// Number of pages.
    pub pages: usize,
}

/// Checks `data` against `limits`.
pub async fn check(data: Bytes, limits: &PdfSettings) -> Result<PdfInfo, AppError> {
    if data.is_empty() {
        return Err(AppError::invalid_field("file", "empty"));
    }
    if data.len() > limits.max_bytes {
        return Err(AppError::too_large("pdf_too_large", format!("PDF larger than {} bytes", limits.max_bytes)));
    }
    let head = &data[..data.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(AppError::rule("pdf_invalid", "the file is not a PDF"));
    }
    inspect::check_complete(&data)?;
    let limit = Duration::from_millis(limits.parse_timeout_ms);
    let budget = Budget::new(Instant::now() + limit, limits.max_objects);
    let max_pages = limits.max_pages;
    let job = tokio::task::spawn_blocking({
        let budget = budget.clone();
        move || examine(&data, max_pages, &budget)
    });
    let answer = match tokio::time::timeout(limit, job).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => {
            tracing::warn!("PDF parser panicked: {join}");
            Err(AppError::rule("pdf_invalid", "the PDF cannot be read"))
        }
        Err(_) => Err(inspect::Stop::TimeUp.into()),
    };
    // Whatever the answer, the blocking thread stops at its next look at the budget.
    budget.cancel();
    answer
}

/// Everything after the first quick looks, on the blocking thread.
fn examine(data: &[u8], max_pages: usize, budget: &Budget) -> Result<PdfInfo, AppError> {
    if inspect::names_encrypt(data, budget)? {
        return Err(AppError::rule("pdf_encrypted", "encrypted PDFs are not accepted"));
    }
    let doc = inspect::load(data, budget)?;
    if doc.is_encrypted() || doc.was_encrypted() {
        return Err(AppError::rule("pdf_encrypted", "encrypted PDFs are not accepted"));
    }
    inspect::check_structure(&doc, budget)?;
    if doc.objects.len() > budget.max_objects() {
        return Err(inspect::Stop::TooManyObjects.into());
    }
    let found = inspect::active_content(&doc, budget)?;
    if !found.is_empty() {
        return Err(AppError::rule(
            "pdf_active_content",
            format!("PDFs with active content are not accepted; found {}", found.join(", ")),
        ));
    }
    let pages = inspect::count_pages(&doc, max_pages, budget)?;
    if pages == 0 {
        return Err(AppError::rule("pdf_invalid", "the PDF has no pages"));
    }
    if pages > max_pages {
        return Err(AppError::rule("pdf_too_many_pages", format!("the PDF has more than {max_pages} pages")));
    }
    Ok(PdfInfo { pages })
}

/// A small valid PDF with `pages` pages; for tests and demo data.
pub fn sample(title: &str, pages: usize) -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for i in 0..pages.max(1) {
        let text: String = title.chars().filter(|c| c.is_ascii() && *c != '(' && *c != ')' && *c != '\\').collect();
        let content = format!("BT /F1 18 Tf 72 720 Td ({text} - page {}) Tj ET", i + 1);
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(Object::Reference(page_id));
    }
    let count = kids.len() as i64;
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    if doc.save_to(&mut out).is_err() {
        return Vec::new();
    }
    out
}

#[cfg(test)]
mod tests;
