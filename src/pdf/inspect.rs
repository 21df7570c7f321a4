//! Reading an untrusted PDF within a budget of time and objects, and the rules it must pass.
//!
//! Everything here runs on one blocking thread per file (see [`super::check`]).
//!
//! **Stopping at the time limit.** lopdf cannot be interrupted from outside, so the work is
//! cut into steps that each look at the [`Budget`] before going on:
//!
//! - lopdf calls [`on_object`] for every object it has read, those it unpacks from object
//!   streams included; when the time is up (or the file has more objects than allowed) the hook
//!   unwinds out of the parser with a [`Stop`], which [`load`] catches. Nothing of the parse is
//!   kept.
//! - The scans written here (the search for `/Encrypt` before parsing, the walk over every object
//!   for active content, the page count) look at the budget every few thousand steps.
//!
//! What cannot be cut is one step of lopdf between two objects: reading the cross-reference data
//! and trailer, reading one object (both at most the file, which is at most `pdf.max_bytes`), or
//! inflating one object or cross-reference stream (at most [`MAX_INFLATED`]). So the thread
//! stops within one such step after the limit, instead of parsing the rest of the file; and
//! since [`Budget::cancel`] is also set when the answer has been sent, an inspection that only
//! got its thread after the limit stops at its first look. Encrypted files are refused before
//! lopdf sees them (it would read their objects without calling the hook).

use crate::error::AppError;
use lopdf::{
    DecompressError, Dictionary, Document, LoadOptions, Object, ObjectId, xref::XrefEntry, xref::XrefRecovery,
};
use std::{
    cell::RefCell,
    collections::{BTreeSet, HashSet},
    panic::AssertUnwindSafe,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

/// Largest size one object stream or cross-reference stream may inflate to. Such streams hold
/// small objects or fixed-width entries; real files stay far below this (500,000 objects take
/// some 4 MiB of cross-reference stream).
pub const MAX_INFLATED: usize = 16 * 1024 * 1024;

/// Deepest nesting of arrays and dictionaries the walk accepts (lopdf parses at most 100).
const MAX_DEPTH: usize = 256;

/// Steps of a scan between two looks at the clock.
const STEPS_PER_LOOK: usize = 4096;

/// Why an inspection stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The time limit passed, or the inspection was cancelled.
    TimeUp,
    /// The file has more objects than allowed.
    TooManyObjects,
}

impl From<Stop> for AppError {
    fn from(s: Stop) -> Self {
        match s {
            Stop::TimeUp => AppError::rule("pdf_timeout", "the PDF took too long to read"),
            Stop::TooManyObjects => AppError::rule("pdf_too_complex", "the PDF has too many objects"),
        }
    }
}

/// The time and the number of objects one inspection may use.
#[derive(Debug, Clone)]
pub struct Budget {
    deadline: Instant,
    cancelled: Arc<AtomicBool>,
    max_objects: usize,
}

impl Budget {
    /// Until `deadline`, with at most `max_objects` objects.
    pub fn new(deadline: Instant, max_objects: usize) -> Self {
        Self { deadline, cancelled: Arc::default(), max_objects }
    }

    /// The most objects allowed.
    pub fn max_objects(&self) -> usize {
        self.max_objects
    }

    /// Stops the inspection at its next look at the budget, from any thread.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// [`Stop::TimeUp`] once the deadline has passed or the inspection was cancelled.
    pub fn look(&self) -> Result<(), Stop> {
        if self.cancelled.load(Ordering::Relaxed) || Instant::now() >= self.deadline {
            return Err(Stop::TimeUp);
        }
        Ok(())
    }
}

thread_local! {
    /// The budget of the parse running on this thread, and the objects it has read so far: the
    /// hook lopdf calls is a plain function, so this is how it finds them.
    static PARSE: RefCell<Option<(Budget, usize)>> = const { RefCell::new(None) };
}

/// Installs a budget for the parse on this thread; removed when dropped (also on unwinding).
struct Installed;

impl Installed {
    fn new(budget: &Budget) -> Self {
        PARSE.with(|p| *p.borrow_mut() = Some((budget.clone(), 0)));
        Installed
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        PARSE.with(|p| *p.borrow_mut() = None);
    }
}

/// lopdf's per-object hook: counts the object, and ends the parse when the budget is spent.
///
/// lopdf keeps the object it passed in for objects read from the file and the one returned for
/// objects unpacked from an object stream, so a copy is returned.
fn on_object(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let stop = PARSE.with(|p| {
        let mut p = p.borrow_mut();
        let (budget, seen) = p.as_mut()?;
        *seen += 1;
        if *seen > budget.max_objects {
            return Some(Stop::TooManyObjects);
        }
        budget.look().err()
    });
    if let Some(stop) = stop {
        // Unwinds out of lopdf without the panic hook (nothing is printed); `load` catches it.
        std::panic::resume_unwind(Box::new(stop));
    }
    Some((id, object.clone()))
}

/// Parses `data` with lopdf within `budget`.
pub fn load(data: &[u8], budget: &Budget) -> Result<Document, AppError> {
    budget.look()?;
    let _installed = Installed::new(budget);
    let options =
        LoadOptions { filter: Some(on_object), max_decompressed_size: Some(MAX_INFLATED), ..LoadOptions::default() };
    match std::panic::catch_unwind(AssertUnwindSafe(|| Document::load_mem_with_options(data, options))) {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }))) => Err(AppError::rule(
            "pdf_too_complex",
            format!("a stream of the PDF inflates to more than {} MiB", MAX_INFLATED >> 20),
        )),
        Ok(Err(e)) => Err(AppError::rule("pdf_invalid", format!("the PDF cannot be read: {e}"))),
        Err(payload) => match payload.downcast::<Stop>() {
            Ok(stop) => Err((*stop).into()),
            // A panic of the parser itself: the caller answers it.
            Err(other) => std::panic::resume_unwind(other),
        },
    }
}

/// Refuses a file that does not end like a complete PDF: the end-of-file marker `%%EOF` must be
/// within its last 1024 bytes (where readers look for it). A file cut off anywhere before its
/// end loses it.
pub fn check_complete(data: &[u8]) -> Result<(), AppError> {
    let tail = &data[data.len().saturating_sub(1024)..];
    if tail.windows(5).any(|w| w == b"%%EOF") { Ok(()) } else { Err(truncated("it does not end with %%EOF")) }
}

fn truncated(why: &str) -> AppError {
    AppError::rule("pdf_truncated", format!("the PDF is cut off or damaged: {why}"))
}

/// Refuses a document whose structure lopdf had to repair: cross-reference data that does not
/// resolve (rebuilt by scanning the file), or objects it names that could not be read.
pub fn check_structure(doc: &Document, budget: &Budget) -> Result<(), AppError> {
    if doc.xref_recovery == Some(XrefRecovery::Reconstructed) {
        return Err(truncated("its cross-reference table does not resolve"));
    }
    let loaded: HashSet<u32> = doc.objects.keys().map(|id| id.0).collect();
    for (i, (number, entry)) in doc.reference_table.entries.iter().enumerate() {
        if i.is_multiple_of(STEPS_PER_LOOK) {
            budget.look()?;
        }
        let in_use = matches!(entry, XrefEntry::Normal { .. } | XrefEntry::Compressed { .. });
        if in_use && !loaded.contains(number) {
            return Err(truncated(&format!("object {number} cannot be read")));
        }
    }
    Ok(())
}

/// Whether `data` names `/Encrypt` anywhere, read as PDF reads names (`#xx` escapes decoded).
/// The trailer of an encrypted file always does, in plain text (a trailer is never compressed).
pub fn names_encrypt(data: &[u8], budget: &Budget) -> Result<bool, AppError> {
    let mut i = 0;
    let mut steps = 0usize;
    while let Some(at) = data[i..].iter().position(|b| *b == b'/') {
        steps += 1;
        if steps.is_multiple_of(STEPS_PER_LOOK) {
            budget.look()?;
        }
        let (name, end) = read_name(data, i + at + 1);
        if name == b"Encrypt" {
            return Ok(true);
        }
        i = end;
    }
    Ok(false)
}

/// The name starting at `start` (after its `/`), decoded, and where it ends.
fn read_name(data: &[u8], start: usize) -> (Vec<u8>, usize) {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut name = Vec::new();
    let mut i = start;
    while let Some(&c) = data.get(i) {
        if c.is_ascii_whitespace() || c == 0 || b"()<>[]{}/%".contains(&c) || name.len() > 64 {
            break;
        }
        if c == b'#' {
            match (data.get(i + 1).copied().and_then(hex), data.get(i + 2).copied().and_then(hex)) {
                (Some(h), Some(l)) => {
                    name.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => break,
            }
        }
        name.push(c);
        i += 1;
    }
    (name, i)
}

/// Actions that run something: a script, a program, embedded media, imported data.
const RUNNING_ACTIONS: &[(&[u8], &str)] = &[
    (b"JavaScript", "/JavaScript"),
    (b"Launch", "/Launch"),
    (b"RichMediaExecute", "/RichMedia"),
    (b"ImportData", "/ImportData"),
];

/// Dictionary keys that hold active content.
const ACTIVE_KEYS: &[(&[u8], &str)] = &[
    (b"JavaScript", "/JavaScript"),
    (b"JS", "/JS"),
    (b"AA", "/AA"),
    (b"XFA", "/XFA"),
    (b"EmbeddedFiles", "/EmbeddedFile"),
    (b"EmbeddedFile", "/EmbeddedFile"),
    (b"EF", "/EmbeddedFile"),
    (b"RichMedia", "/RichMedia"),
    (b"RichMediaContent", "/RichMedia"),
    (b"RichMediaSettings", "/RichMedia"),
];

/// What active content the document carries, by name (`/JavaScript`, `/OpenAction`, ...),
/// sorted; empty if none. Every object is looked at, those from object streams included, and
/// the trailer; names are compared as lopdf decoded them, so `#xx` escapes do not hide them.
pub fn active_content(doc: &Document, budget: &Budget) -> Result<Vec<&'static str>, AppError> {
    let mut found = BTreeSet::new();
    let mut steps = 0usize;
    let mut stack: Vec<(&Object, usize)> = Vec::new();
    let trailer = Object::Dictionary(doc.trailer.clone());
    let roots = std::iter::once(&trailer).chain(doc.objects.values());
    for root in roots {
        stack.push((root, 0));
        while let Some((object, depth)) = stack.pop() {
            steps += 1;
            if steps.is_multiple_of(STEPS_PER_LOOK) {
                budget.look()?;
            }
            if depth > MAX_DEPTH {
                return Err(AppError::rule("pdf_too_complex", "the PDF nests its objects too deeply"));
            }
            let dict = match object {
                Object::Dictionary(d) => d,
                Object::Stream(s) => &s.dict,
                Object::Array(items) => {
                    stack.extend(items.iter().map(|o| (o, depth + 1)));
                    continue;
                }
                _ => continue,
            };
            look_at(doc, dict, &mut found);
            stack.extend(dict.iter().map(|(_, v)| (v, depth + 1)));
        }
    }
    Ok(found.into_iter().collect())
}

/// The findings of one dictionary (not of what it contains).
fn look_at(doc: &Document, dict: &Dictionary, found: &mut BTreeSet<&'static str>) {
    for (key, value) in dict.iter() {
        if let Some((_, label)) = ACTIVE_KEYS.iter().find(|(k, _)| k == key) {
            found.insert(label);
        }
        if key == b"OpenAction" && runs_something(doc, value) {
            found.insert("/OpenAction");
        }
    }
    if let Some(label) = running_action(dict) {
        found.insert(label);
    }
    let name = |key: &[u8]| dict.get(key).ok().and_then(|o| o.as_name().ok());
    if name(b"Type") == Some(&b"EmbeddedFile"[..]) {
        found.insert("/EmbeddedFile");
    }
    if name(b"Subtype") == Some(&b"RichMedia"[..]) {
        found.insert("/RichMedia");
    }
}

/// The kind of a running action, if `dict` is one: `/S` names a running action, or a `URI`
/// action opens a `javascript:` address.
fn running_action(dict: &Dictionary) -> Option<&'static str> {
    let s = dict.get(b"S").ok()?.as_name().ok()?;
    if let Some((_, label)) = RUNNING_ACTIONS.iter().find(|(k, _)| *k == s) {
        return Some(label);
    }
    if s == b"URI"
        && let Ok(Object::String(uri, _)) = dict.get(b"URI")
        && uri.trim_ascii_start().to_ascii_lowercase().starts_with(b"javascript:")
    {
        return Some("/JavaScript");
    }
    None
}

/// Whether an `/OpenAction` value (an action, directly or by reference, or a destination) runs
/// something when the document is opened.
fn runs_something(doc: &Document, value: &Object) -> bool {
    let value = match value {
        Object::Reference(id) => match doc.get_object(*id) {
            Ok(o) => o,
            Err(_) => return false,
        },
        v => v,
    };
    match value {
        Object::Dictionary(d) => running_action(d).is_some() || d.has(b"JS"),
        _ => false,
    }
}

/// The number of pages, stopping past `max_pages` (the caller refuses that many).
pub fn count_pages(doc: &Document, max_pages: usize, budget: &Budget) -> Result<usize, AppError> {
    let mut pages = 0usize;
    for _ in doc.page_iter() {
        pages += 1;
        if pages.is_multiple_of(STEPS_PER_LOOK) {
            budget.look()?;
        }
        if pages > max_pages {
            break;
        }
    }
    Ok(pages)
}
