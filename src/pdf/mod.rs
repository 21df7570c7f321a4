//! Checking uploaded PDFs, which are untrusted input.
//!
//! A file must start like a PDF, be within the size limit, parse with lopdf within the time
//! limit, have at least one and at most `max_pages` pages and at most `max_objects` objects, and
//! not be encrypted. Parsing runs on a blocking thread; a panic inside the parser or a parse that
//! runs out of time is answered with a clear error and never takes the server down. (A parse
//! that times out keeps its thread until it ends; the size limit bounds how long that can be.)
//!
//! [`writer`] produces PDFs (receipts, opening records) with embedded Chinese text.

mod font;
pub mod writer;

use crate::{config::PdfSettings, error::AppError};
use bytes::Bytes;
use std::time::Duration;

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
    let max_pages = limits.max_pages;
    let max_objects = limits.max_objects;
    let job = tokio::task::spawn_blocking(move || -> Result<PdfInfo, AppError> {
        let doc = lopdf::Document::load_mem(&data)
            .map_err(|e| AppError::rule("pdf_invalid", format!("the PDF cannot be read: {e}")))?;
        if doc.is_encrypted() {
            return Err(AppError::rule("pdf_encrypted", "encrypted PDFs are not accepted"));
        }
        if doc.objects.len() > max_objects {
            return Err(AppError::rule("pdf_too_complex", "the PDF has too many objects"));
        }
        let pages = doc.get_pages().len();
        if pages == 0 {
            return Err(AppError::rule("pdf_invalid", "the PDF has no pages"));
        }
        if pages > max_pages {
            return Err(AppError::rule("pdf_too_many_pages", format!("the PDF has more than {max_pages} pages")));
        }
        Ok(PdfInfo { pages })
    });
    match tokio::time::timeout(Duration::from_millis(limits.parse_timeout_ms), job).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => {
            tracing::warn!("PDF parser panicked: {join}");
            Err(AppError::rule("pdf_invalid", "the PDF cannot be read"))
        }
        Err(_) => Err(AppError::rule("pdf_timeout", "the PDF took too long to read")),
    }
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
mod tests {
    use super::*;

    fn limits() -> PdfSettings {
        PdfSettings { max_bytes: 1024 * 1024, max_pages: 5, max_objects: 1000, parse_timeout_ms: 5000 }
    }

    #[tokio::test]
    async fn accepts_a_real_pdf() {
        let info = check(Bytes::from(sample("Tender", 3)), &limits()).await.unwrap();
        assert_eq!(info.pages, 3);
    }

    #[tokio::test]
    async fn refuses_hostile_or_wrong_files() {
        let l = limits();
        assert_eq!(check(Bytes::from_static(b"hello"), &l).await.unwrap_err().code, "pdf_invalid");
        assert_eq!(check(Bytes::new(), &l).await.unwrap_err().code, "validation_failed");
        let mut trunc = sample("T", 1);
        trunc.truncate(trunc.len() / 3);
        assert_eq!(check(Bytes::from(trunc), &l).await.unwrap_err().code, "pdf_invalid");
        assert_eq!(check(Bytes::from(sample("T", 6)), &l).await.unwrap_err().code, "pdf_too_many_pages");
        let big = vec![b'%'; 2 * 1024 * 1024];
        assert_eq!(check(Bytes::from(big), &l).await.unwrap_err().code, "pdf_too_large");
        // Deeply nested arrays must not overflow the stack.
        let mut nested = b"%PDF-1.4\n1 0 obj\n".to_vec();
        nested.extend(std::iter::repeat_n(b'[', 100_000));
        nested.extend(b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
        assert!(check(Bytes::from(nested), &l).await.is_err());
    }
}
