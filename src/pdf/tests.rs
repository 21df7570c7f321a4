//! Checking PDFs: limits, truncation, active content, encryption and the time limit.

use super::inspect::{self, Budget, Stop};
use super::*;
use lopdf::{Dictionary, Document, Object, ObjectId, SaveOptions, Stream, StringFormat, dictionary};

fn limits() -> PdfSettings {
    PdfSettings { max_bytes: 16 * 1024 * 1024, max_pages: 5, max_objects: 1000, parse_timeout_ms: 5000 }
}

async fn code(data: Vec<u8>) -> &'static str {
    match check(Bytes::from(data), &limits()).await {
        Ok(_) => "accepted",
        Err(e) => e.code,
    }
}

async fn refusal(data: Vec<u8>) -> AppError {
    check(Bytes::from(data), &limits()).await.expect_err("refused")
}

/// How a changed document is written: a classic cross-reference table, or object streams with
/// a cross-reference stream (the catalog and pages then sit compressed inside object streams).
#[derive(Debug, Clone, Copy)]
enum Layout {
    Classic,
    ObjectStreams,
}

const LAYOUTS: [Layout; 2] = [Layout::Classic, Layout::ObjectStreams];

fn save(doc: &mut Document, layout: Layout) -> Vec<u8> {
    let mut out = Vec::new();
    match layout {
        Layout::Classic => doc.save_to(&mut out).expect("save"),
        Layout::ObjectStreams => doc
            .save_with_options(&mut out, SaveOptions::builder().use_object_streams(true).use_xref_streams(true).build())
            .expect("save"),
    }
    out
}

/// The sample PDF, changed by `change(document, catalog, first page)` and written in `layout`.
fn changed(layout: Layout, change: impl FnOnce(&mut Document, ObjectId, ObjectId)) -> Vec<u8> {
    let mut doc = Document::load_mem(&sample("Tender", 2)).expect("sample loads");
    let catalog = doc.trailer.get(b"Root").and_then(Object::as_reference).expect("root");
    let page = *doc.get_pages().get(&1).expect("first page");
    change(&mut doc, catalog, page);
    save(&mut doc, layout)
}

fn set(doc: &mut Document, id: ObjectId, key: &str, value: impl Into<Object>) {
    doc.get_dictionary_mut(id).expect("dictionary").set(key, value);
}

fn text(s: &str) -> Object {
    Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
}

fn annotate(doc: &mut Document, page: ObjectId, annotation: Dictionary) {
    let id = doc.add_object(annotation);
    set(doc, page, "Annots", vec![Object::Reference(id)]);
}

#[tokio::test]
async fn accepts_real_pdfs_in_either_layout() {
    let info = check(Bytes::from(sample("Tender", 3)), &limits()).await.unwrap();
    assert_eq!(info.pages, 3);
    for layout in LAYOUTS {
        let data = changed(layout, |_, _, _| {});
        assert_eq!(check(Bytes::from(data), &limits()).await.unwrap().pages, 2, "{layout:?}");
    }
    // Ordinary navigation is no active content: opening at a page, a link to a web site, an
    // outline entry going to a page, trailing white space after %%EOF.
    for layout in LAYOUTS {
        let mut data = changed(layout, |doc, catalog, page| {
            set(doc, catalog, "OpenAction", vec![Object::Reference(page), "Fit".into()]);
            let link = dictionary! {
                "Type" => "Annot", "Subtype" => "Link", "Rect" => vec![0.into(), 0.into(), 10.into(), 10.into()],
                "A" => dictionary! { "S" => "URI", "URI" => text("https://www.ccgp.gov.cn/") },
            };
            annotate(doc, page, link);
            let go = doc.add_object(dictionary! { "S" => "GoTo", "D" => vec![Object::Reference(page), "Fit".into()] });
            set(doc, catalog, "Outlines", dictionary! { "First" => go });
        });
        data.extend_from_slice(b"\r\n\n  \n");
        assert_eq!(code(data).await, "accepted", "{layout:?}");
    }
}

#[tokio::test]
async fn refuses_hostile_or_wrong_files() {
    let l = limits();
    assert_eq!(check(Bytes::from_static(b"hello"), &l).await.unwrap_err().code, "pdf_invalid");
    assert_eq!(check(Bytes::new(), &l).await.unwrap_err().code, "validation_failed");
    assert_eq!(check(Bytes::from(sample("T", 6)), &l).await.unwrap_err().code, "pdf_too_many_pages");
    let big = vec![b'%'; 17 * 1024 * 1024];
    assert_eq!(check(Bytes::from(big), &l).await.unwrap_err().code, "pdf_too_large");
    // Deeply nested arrays must not overflow the stack.
    let mut nested = b"%PDF-1.4\n1 0 obj\n".to_vec();
    nested.extend(std::iter::repeat_n(b'[', 100_000));
    nested.extend(b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    assert!(check(Bytes::from(nested), &l).await.is_err());
    // No pages.
    let mut doc = Document::with_version("1.5");
    let pages = doc.add_object(dictionary! { "Type" => "Pages", "Kids" => Vec::<Object>::new(), "Count" => 0 });
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    assert_eq!(code(save(&mut doc, Layout::Classic)).await, "pdf_invalid");
}

#[tokio::test]
async fn refuses_files_cut_off_anywhere() {
    for layout in LAYOUTS {
        let whole = changed(layout, |_, _, _| {});
        let n = whole.len();
        let startxref = whole.windows(9).rposition(|w| w == b"startxref").expect("startxref");
        let mut cuts: Vec<usize> = (1..20).map(|i| n * i / 20).collect();
        cuts.extend([20, n / 2 + 1, startxref - 1, startxref + 3, n - 8, n - 6, n - 3, n - 2]);
        for cut in cuts {
            let part = whole[..cut].to_vec();
            assert_eq!(code(part.clone()).await, "pdf_truncated", "{layout:?} cut at {cut} of {n}");
            if cut >= startxref {
                continue;
            }
            // A new end-of-file marker does not make it whole: its cross-reference data is gone or
            // points past the end.
            let mut patched = part;
            patched.extend_from_slice(b"\n%%EOF\n");
            let got = code(patched).await;
            assert!(matches!(got, "pdf_truncated" | "pdf_invalid"), "{layout:?} cut at {cut} of {n} + %%EOF: {got}");
        }
    }
    // The cross-reference table of a whole file pointing at the wrong places (bytes taken out in
    // the middle) is refused too.
    let whole = sample("Tender", 2);
    let mid = whole.len() / 2;
    let mut holed = whole[..mid - 30].to_vec();
    holed.extend_from_slice(&whole[mid..]);
    assert!(matches!(code(holed).await, "pdf_truncated" | "pdf_invalid"));
}

/// Documents with active content, each with what must be named.
fn active_documents(layout: Layout) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "/OpenAction",
            changed(layout, |doc, catalog, _| {
                let js = doc.add_object(dictionary! { "S" => "JavaScript", "JS" => text("app.alert(1)") });
                set(doc, catalog, "OpenAction", js);
            }),
        ),
        (
            "/JavaScript",
            changed(layout, |doc, catalog, _| {
                let js = doc.add_object(dictionary! { "S" => "JavaScript", "JS" => text("app.alert(1)") });
                let tree = dictionary! { "Names" => vec![text("a"), Object::Reference(js)] };
                set(doc, catalog, "Names", dictionary! { "JavaScript" => tree });
            }),
        ),
        (
            "/JS",
            changed(layout, |doc, _, page| {
                let stream = doc.add_object(Stream::new(dictionary! {}, b"app.alert(1)".to_vec()));
                let link = dictionary! { "Type" => "Annot", "Subtype" => "Link",
                "A" => dictionary! { "S" => "Rendition", "JS" => stream } };
                annotate(doc, page, link);
            }),
        ),
        (
            "/AA",
            changed(layout, |doc, _, page| {
                set(
                    doc,
                    page,
                    "AA",
                    dictionary! { "O" => dictionary! { "S" => "GoTo", "D" => vec![Object::Reference(page)] } },
                );
            }),
        ),
        (
            "/Launch",
            changed(layout, |doc, _, page| {
                let link = dictionary! { "Type" => "Annot", "Subtype" => "Link",
                "A" => dictionary! { "S" => "Launch", "F" => text("calc.exe") } };
                annotate(doc, page, link);
            }),
        ),
        (
            "/JavaScript",
            changed(layout, |doc, _, page| {
                let link = dictionary! { "Type" => "Annot", "Subtype" => "Link",
                "A" => dictionary! { "S" => "URI", "URI" => text("  JavaScript:app.alert(1)") } };
                annotate(doc, page, link);
            }),
        ),
        (
            "/EmbeddedFile",
            changed(layout, |doc, catalog, _| {
                let file = doc.add_object(Stream::new(dictionary! { "Type" => "EmbeddedFile" }, b"MZ".to_vec()));
                let spec =
                    dictionary! { "Type" => "Filespec", "F" => text("a.exe"), "EF" => dictionary! { "F" => file } };
                let tree = dictionary! { "Names" => vec![text("a.exe"), spec.into()] };
                set(doc, catalog, "Names", dictionary! { "EmbeddedFiles" => tree });
            }),
        ),
        (
            "/RichMedia",
            changed(layout, |doc, _, page| {
                let media = dictionary! { "Type" => "Annot", "Subtype" => "RichMedia",
                "RichMediaContent" => dictionary! {} };
                annotate(doc, page, media);
            }),
        ),
        (
            "/XFA",
            changed(layout, |doc, catalog, _| {
                let xfa = doc.add_object(Stream::new(dictionary! {}, b"<xdp:xdp/>".to_vec()));
                set(doc, catalog, "AcroForm", dictionary! { "Fields" => Vec::<Object>::new(), "XFA" => xfa });
            }),
        ),
    ]
}

#[tokio::test]
async fn refuses_active_content_and_names_it() {
    for layout in LAYOUTS {
        for (name, data) in active_documents(layout) {
            let e = refusal(data).await;
            assert_eq!((e.code, e.status.as_u16()), ("pdf_active_content", 422), "{layout:?} {name}: {e}");
            assert!(e.message.contains(name), "{layout:?}: {name} named in {:?}", e.message);
        }
    }
}

#[tokio::test]
async fn names_spelt_with_escapes_are_still_found() {
    // Written with placeholders of the same length, then spelt with `#xx` escapes, so that the
    // cross-reference offsets stay right.
    let data = changed(Layout::Classic, |doc, catalog, _| {
        let js = doc.add_object(dictionary! { "S" => "JQQQvaScript" });
        set(doc, catalog, "OpQQQnAction", js);
    });
    let mut escaped = data.clone();
    for (from, to) in [(&b"JQQQvaScript"[..], &b"J#61vaScript"[..]), (b"OpQQQnAction", b"Op#65nAction")] {
        let at = escaped.windows(from.len()).position(|w| w == from).expect("placeholder");
        escaped[at..at + from.len()].copy_from_slice(to);
    }
    assert_eq!(code(data).await, "accepted", "placeholders are harmless");
    let e = refusal(escaped).await;
    assert_eq!(e.code, "pdf_active_content");
    assert!(e.message.contains("/OpenAction") && e.message.contains("/JavaScript"), "{}", e.message);
}

#[tokio::test]
async fn refuses_encrypted_files_even_without_a_user_password() {
    let mut doc = Document::load_mem(&sample("Tender", 1)).expect("sample");
    doc.trailer.set(
        "ID",
        vec![
            Object::string_literal(b"0123456789abcdef".to_vec()),
            Object::string_literal(b"0123456789abcdef".to_vec()),
        ],
    );
    let version = lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "",
        key_length: 128,
        permissions: lopdf::Permissions::default(),
    };
    let state = lopdf::EncryptionState::try_from(version).expect("encryption");
    doc.encrypt(&state).expect("encrypt");
    let mut data = Vec::new();
    doc.save_to(&mut data).expect("save");
    assert!(Document::load_mem(&data).is_ok(), "lopdf opens it with the empty password");
    assert_eq!(code(data).await, "pdf_encrypted");
    // Also when the trailer spells the name with an escape.
    let mut doc = Document::load_mem(&sample("Tender", 1)).expect("sample");
    let handler = doc.add_object(dictionary! { "Filter" => "Standard" });
    doc.trailer.set("EncrQpt", handler);
    let mut data = Vec::new();
    doc.save_to(&mut data).expect("save");
    let at = data.windows(7).position(|w| w == b"EncrQpt").expect("key");
    let mut escaped = data[..at].to_vec();
    escaped.extend_from_slice(b"Encr#79pt");
    escaped.extend_from_slice(&data[at + 7..]);
    assert_eq!(code(escaped).await, "pdf_encrypted");
}

#[tokio::test]
async fn object_limit_stops_the_parse() {
    let l = PdfSettings { max_objects: 10, max_pages: 100, ..limits() };
    let e = check(Bytes::from(sample("Tender", 20)), &l).await.unwrap_err();
    assert_eq!(e.code, "pdf_too_complex");
    let data = sample("Tender", 20);
    let stop = inspect::load(&data, &Budget::new(Instant::now() + Duration::from_secs(60), 10)).unwrap_err();
    assert_eq!(stop.code, "pdf_too_complex", "stopped while parsing");
}

/// A valid PDF with one page and `n` small objects besides it.
fn many_objects(n: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(n + 3);
    let mut obj = |out: &mut Vec<u8>, body: &str| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", offsets.len()).as_bytes());
    };
    obj(&mut out, "<< /Type /Catalog /Pages 2 0 R >>");
    obj(&mut out, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    obj(&mut out, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>");
    for i in 0..n {
        obj(&mut out, &format!("<< /N {i} /A [1 2 3 4 5 6 7 8 9 10] /B (filler text) /C << /D /E >> >>"));
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1).as_bytes(),
    );
    out
}

#[test]
fn the_parse_stops_when_the_time_is_up() {
    let n = 60_000;
    let data = many_objects(n);
    let far = Instant::now() + Duration::from_secs(600);
    // Given time, it is a valid document.
    let started = Instant::now();
    let doc = inspect::load(&data, &Budget::new(far, n + 10)).expect("loads");
    let whole = started.elapsed();
    assert_eq!(doc.objects.len(), n + 3);
    // With 20 ms, the parse stops soon after them, long before it would have ended.
    let started = Instant::now();
    let e = inspect::load(&data, &Budget::new(Instant::now() + Duration::from_millis(20), n + 10)).unwrap_err();
    let cut = started.elapsed();
    assert_eq!(e.code, "pdf_timeout");
    assert!(cut < whole / 2, "stopped after {cut:?}; the whole parse takes {whole:?}");
    // Cancelled from another thread, it stops too.
    let budget = Budget::new(far, n + 10);
    let worker = std::thread::spawn({
        let budget = budget.clone();
        let data = data.clone();
        move || {
            let started = Instant::now();
            (inspect::load(&data, &budget).map(|_| ()), started.elapsed())
        }
    });
    std::thread::sleep(Duration::from_millis(20));
    budget.cancel();
    let (result, cancelled) = worker.join().expect("no panic");
    assert_eq!(result.unwrap_err().code, "pdf_timeout");
    assert!(cancelled < whole / 2, "stopped after {cancelled:?}; the whole parse takes {whole:?}");
    // The walks of this module stop the same way.
    let spent = Budget::new(Instant::now(), n + 10);
    assert_eq!(inspect::active_content(&doc, &spent).unwrap_err().code, "pdf_timeout");
    assert_eq!(inspect::check_structure(&doc, &spent).unwrap_err().code, "pdf_timeout");
    assert_eq!(spent.look(), Err(Stop::TimeUp));
}

#[tokio::test]
async fn the_answer_comes_at_the_time_limit() {
    let data = many_objects(60_000);
    let l = PdfSettings { max_bytes: 64 << 20, max_objects: 500_000, parse_timeout_ms: 30, ..limits() };
    let started = Instant::now();
    assert_eq!(check(Bytes::from(data), &l).await.unwrap_err().code, "pdf_timeout");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}
