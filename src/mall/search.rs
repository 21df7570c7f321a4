//! Full-text index of the e-mall catalogue (framework-agreement items), with filters.
//!
//! Built on tantivy. Chinese text is indexed as overlapping character bigrams (the approach of
//! Lucene's `CJKAnalyzer`): no dictionary, deterministic, and it finds brand names and product
//! words no segmentation dictionary knows. A query word of two or more ideographs becomes a
//! phrase of its bigrams, so it matches exactly where the word occurs as a substring: 办公椅
//! finds 人体工学办公椅 but neither 办公桌 nor 会议椅. One-ideograph words are looked up in a
//! second field holding single ideographs. Runs of ASCII letters and digits (full-width ones
//! folded to ASCII) are lowercased words; the last one of a query also matches as a prefix
//! (M404 finds M404dn) through a third field holding the first 1..=20 characters of each word.
//!
//! Queries are built directly from the pieces of the user's text, never parsed, so no input can
//! cause a syntax error. Exact filters (category, brand, supplier, size) are term queries on the
//! inverted index; range filters (price, validity) are checked on fast fields for each matching
//! item as it is collected, which is cheaper than intersecting with a fast-field range query
//! (that re-reads a block of the column at every skip). Sorting by price uses the price fast
//! field.
//!
//! The index is derived data: [`CatalogueIndex::revision`] tells the caller up to which change
//! it is current, and an index whose schema differs from this version's is wiped and rebuilt
//! from revision 0.

use std::collections::HashMap;
use std::fmt::Display;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};

use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::{Column, StrColumn};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Score, Searcher, SegmentReader,
    TantivyDocument, TantivyError, Term,
};

/// One catalogue item as the index holds it.
#[derive(Debug, Clone)]
pub struct ItemDoc {
    /// Database id, the unique key for upserts.
    pub id: i64,
    /// Product name, e.g. 人体工学办公椅.
    pub name: String,
    /// Brand, e.g. 得力; also an exact filter.
    pub brand: String,
    /// Model, e.g. M404dn.
    pub model: String,
    /// Specification, e.g. "A4 70g 500张/包".
    pub spec: String,
    /// Category code, an exact filter, e.g. "A020201".
    pub category: String,
    /// Supplier's database id.
    pub supplier_id: i64,
    /// Supplier's name (not searched).
    pub supplier_name: String,
    /// Supplier's size: "large", "medium", "small", "micro" or "".
    pub supplier_size: String,
    /// Agreement price in integer fen.
    pub price_fen: i64,
    /// Start of the agreement's validity, unix seconds (inclusive).
    pub valid_from: i64,
    /// End of the agreement's validity, unix seconds (exclusive).
    pub valid_to: i64,
    /// False if the agreement is suspended or the item withdrawn.
    pub sellable: bool,
}

/// Sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best match first (BM25); with no text, index order (roughly the order items were
    /// added or last replaced).
    #[default]
    Relevance,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
}

/// A search.
///
/// Blank optional strings (`Some("")`) are treated as absent. Non-blank text that holds nothing
/// searchable (only punctuation or emoji) finds nothing; blank text finds every item that passes
/// the filters.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// What the user typed; at most 100 characters and 10 pieces.
    pub text: String,
    /// Exact category code.
    pub category: Option<String>,
    /// Exact brand.
    pub brand: Option<String>,
    /// Only this supplier's items.
    pub supplier_id: Option<i64>,
    /// Any of these supplier sizes; empty means all.
    pub supplier_sizes: Vec<String>,
    /// Lowest price in fen, inclusive.
    pub min_price_fen: Option<i64>,
    /// Highest price in fen, inclusive.
    pub max_price_fen: Option<i64>,
    /// Only items sellable at this time, unix seconds: `sellable && valid_from <= t < valid_to`.
    pub sellable_at: Option<i64>,
    /// Result order.
    pub sort: Sort,
    /// Results to skip; past 10,000 only the total is returned.
    pub offset: usize,
    /// Results to return, capped at 100; 0 returns only the total.
    pub limit: usize,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct Hits {
    /// Number of matching items.
    pub total: usize,
    /// Ids of the requested page, in result order.
    pub ids: Vec<i64>,
}

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query text is longer than 100 characters or has more than 10 pieces.
    #[error("query too long")]
    QueryTooLong,
    /// The index could not be opened, written or read.
    #[error("index: {0}")]
    Index(String),
}

impl From<TantivyError> for SearchError {
    fn from(e: TantivyError) -> Self {
        SearchError::Index(e.to_string())
    }
}

fn index_err(e: impl Display) -> SearchError {
    SearchError::Index(e.to_string())
}

/// Longest query text, in characters.
const MAX_QUERY_CHARS: usize = 100;
/// Most pieces (words) in a query.
const MAX_QUERY_PIECES: usize = 10;
/// Most results per page.
const MAX_LIMIT: usize = 100;
/// Deepest page start; beyond it only the total is returned.
const MAX_OFFSET: usize = 10_000;
/// Longest prefix of an ASCII word that is indexed for prefix matching.
const EDGE_MAX: usize = 20;
/// Memory of the index writer, shared by its threads.
const WRITER_HEAP_BYTES: usize = 64 * 1024 * 1024;

// Tokenizer names are part of the schema: a change in tokenization must change the name, so an
// index built by an older version is detected as different and rebuilt.
const TOK_BIGRAM: &str = "cjk_bigram_v1";
const TOK_UNIGRAM: &str = "cjk_unigram_v1";
const TOK_EDGE: &str = "ascii_edge_v1";

const F_ID: &str = "id";
const F_TEXT: &str = "text";
const F_UNI: &str = "uni";
const F_EDGE: &str = "edge";
const F_CATEGORY: &str = "category";
const F_BRAND: &str = "brand";
const F_SUPPLIER: &str = "supplier_id";
const F_SIZE: &str = "supplier_size";
const F_PRICE: &str = "price";
const F_VALID_FROM: &str = "valid_from";
/// End of sellability: `valid_to` for sellable items, `valid_from` for the others (an empty
/// window), so that "sellable at t" is two range conditions. (Not `i64::MIN`: values far from the
/// others would widen the column's bit packing and slow every read.)
const F_SELL_TO: &str = "sell_to";

// ---------------------------------------------------------------------------------------------
// Text analysis

/// Whether `c` is a CJK ideograph: Unified Ideographs, Extension A, the compatibility block,
/// the supplementary planes' extensions (B and later, compatibility supplement) and 〇.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3007 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x323AF)
}

/// ASCII letter or digit (full-width ones folded to ASCII), lowercased.
fn ascii_alnum(c: char) -> Option<char> {
    if c.is_ascii_alphanumeric() {
        return Some(c.to_ascii_lowercase());
    }
    match c as u32 {
        0xFF10..=0xFF19 | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A => {
            char::from_u32(c as u32 - 0xFEE0).map(|a| a.to_ascii_lowercase())
        }
        _ => None,
    }
}

/// A character of a CJK run with its byte offsets in the source text.
#[derive(Debug, Clone, Copy)]
struct CjkChar {
    from: usize,
    to: usize,
    c: char,
}

/// A maximal run of ideographs or of ASCII letters and digits.
#[derive(Debug)]
enum Run {
    Cjk(Vec<CjkChar>),
    Alnum { from: usize, to: usize, text: String },
}

/// Splits text into runs; every other character separates runs.
fn runs(text: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut current: Option<Run> = None;
    for (from, c) in text.char_indices() {
        let to = from + c.len_utf8();
        if is_cjk(c) {
            if let Some(Run::Cjk(chars)) = &mut current {
                chars.push(CjkChar { from, to, c });
                continue;
            }
            out.extend(current.take());
            current = Some(Run::Cjk(vec![CjkChar { from, to, c }]));
        } else if let Some(a) = ascii_alnum(c) {
            if let Some(Run::Alnum { to: end, text, .. }) = &mut current {
                *end = to;
                text.push(a);
                continue;
            }
            out.extend(current.take());
            current = Some(Run::Alnum { from, to, text: a.to_string() });
        } else {
            out.extend(current.take());
        }
    }
    out.extend(current);
    out
}

/// What a tokenizer emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// Ideograph bigrams (a lone ideograph as itself) and ASCII words, with positions; one free
    /// position after each ideograph run so that phrases never span two runs.
    Bigram,
    /// Each ideograph alone.
    Unigram,
    /// The prefixes (1..=20 characters) of each ASCII word.
    Edge,
}

/// The catalogue's tokenizers (one per [`TokenKind`]).
#[derive(Debug, Clone)]
struct CatalogueTokenizer(TokenKind);

fn push_token(tokens: &mut Vec<Token>, from: usize, to: usize, position: usize, text: String) {
    tokens.push(Token { offset_from: from, offset_to: to, position, text, position_length: 1 });
}

fn tokenize(kind: TokenKind, text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut position = 0;
    for run in runs(text) {
        match (kind, run) {
            (TokenKind::Bigram, Run::Cjk(chars)) => {
                if let [one] = chars.as_slice() {
                    push_token(&mut tokens, one.from, one.to, position, one.c.to_string());
                    position += 1;
                } else {
                    for pair in chars.windows(2) {
                        let text: String = [pair[0].c, pair[1].c].iter().collect();
                        push_token(&mut tokens, pair[0].from, pair[1].to, position, text);
                        position += 1;
                    }
                }
                position += 1;
            }
            (TokenKind::Bigram, Run::Alnum { from, to, text }) => {
                push_token(&mut tokens, from, to, position, text);
                position += 1;
            }
            (TokenKind::Unigram, Run::Cjk(chars)) => {
                for ch in chars {
                    push_token(&mut tokens, ch.from, ch.to, position, ch.c.to_string());
                    position += 1;
                }
            }
            (TokenKind::Edge, Run::Alnum { from, to, text }) => {
                // ASCII only, so every byte index is a character boundary.
                for len in 1..=text.len().min(EDGE_MAX) {
                    push_token(&mut tokens, from, to, position, text[..len].to_string());
                }
                position += 1;
            }
            (TokenKind::Unigram, Run::Alnum { .. }) | (TokenKind::Edge, Run::Cjk(_)) => {}
        }
    }
    tokens
}

/// Token stream over tokens computed up front.
struct VecTokenStream {
    tokens: Vec<Token>,
    /// Index of the current token; `None` before the first `advance`.
    current: Option<usize>,
    /// Returned by `token()` before the first `advance` or after the end.
    empty: Token,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        let next = self.current.map_or(0, |i| i + 1);
        self.current = Some(next.min(self.tokens.len()));
        next < self.tokens.len()
    }

    fn token(&self) -> &Token {
        self.current.and_then(|i| self.tokens.get(i)).unwrap_or(&self.empty)
    }

    fn token_mut(&mut self) -> &mut Token {
        match self.current {
            Some(i) if i < self.tokens.len() => &mut self.tokens[i],
            _ => &mut self.empty,
        }
    }
}

impl Tokenizer for CatalogueTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream { tokens: tokenize(self.0, text), current: None, empty: Token::default() }
    }
}

/// One piece of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Two or more ideographs, as their bigrams.
    Bigrams(Vec<String>),
    /// One ideograph.
    Unigram(String),
    /// An ASCII word; `prefix` for the last one of the query.
    Ascii { text: String, prefix: bool },
}

/// Splits query text into pieces. Blank text gives no pieces.
fn query_pieces(text: &str) -> Result<Vec<Piece>, SearchError> {
    let text = text.trim();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(SearchError::QueryTooLong);
    }
    let runs = runs(text);
    if runs.len() > MAX_QUERY_PIECES {
        return Err(SearchError::QueryTooLong);
    }
    let last_ascii = runs.iter().rposition(|r| matches!(r, Run::Alnum { .. }));
    let mut pieces = Vec::with_capacity(runs.len());
    for (i, run) in runs.into_iter().enumerate() {
        let piece = match run {
            Run::Cjk(chars) if chars.len() == 1 => Piece::Unigram(chars[0].c.to_string()),
            Run::Cjk(chars) => Piece::Bigrams(chars.windows(2).map(|p| [p[0].c, p[1].c].iter().collect()).collect()),
            Run::Alnum { text, .. } => Piece::Ascii { text, prefix: Some(i) == last_ascii },
        };
        if !pieces.contains(&piece) {
            pieces.push(piece);
        }
    }
    Ok(pieces)
}

/// Whether `text` matches `query` as the catalogue search matches an item's text: every piece
/// of the query occurs (a word of two or more ideographs as a substring of one run of
/// ideographs, one ideograph anywhere, an ASCII word as a word, the last one also as the start
/// of a word). A blank or too long query matches nothing. The supplier's subscriptions match
/// their keywords with it, so a keyword finds a tender exactly where it would find an item.
pub fn text_matches(query: &str, text: &str) -> bool {
    let Ok(pieces) = query_pieces(query) else { return false };
    if pieces.is_empty() {
        return false;
    }
    let runs = runs(text);
    let mut cjk: Vec<String> = Vec::new();
    let mut words: Vec<&str> = Vec::new();
    for r in &runs {
        match r {
            Run::Cjk(chars) => cjk.push(chars.iter().map(|c| c.c).collect()),
            Run::Alnum { text, .. } => words.push(text),
        }
    }
    pieces.iter().all(|p| match p {
        Piece::Bigrams(bigrams) => {
            let mut word: String = bigrams.iter().filter_map(|b| b.chars().next()).collect();
            word.extend(bigrams.last().and_then(|b| b.chars().nth(1)));
            cjk.iter().any(|r| r.contains(&word))
        }
        Piece::Unigram(c) => cjk.iter().any(|r| r.contains(c.as_str())),
        Piece::Ascii { text, prefix } => {
            words.iter().any(|w| *w == text || (*prefix && text.len() <= EDGE_MAX && w.starts_with(text.as_str())))
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Schema

/// The fields of the index.
#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    text: Field,
    uni: Field,
    edge: Field,
    category: Field,
    brand: Field,
    supplier_id: Field,
    supplier_size: Field,
    price: Field,
    valid_from: Field,
    sell_to: Field,
}

fn text_options(tokenizer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default()
        .set_indexing_options(TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(record))
}

fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_i64_field(F_ID, INDEXED | FAST),
        text: b.add_text_field(F_TEXT, text_options(TOK_BIGRAM, IndexRecordOption::WithFreqsAndPositions)),
        uni: b.add_text_field(F_UNI, text_options(TOK_UNIGRAM, IndexRecordOption::WithFreqs)),
        edge: b.add_text_field(F_EDGE, text_options(TOK_EDGE, IndexRecordOption::WithFreqs)),
        category: b.add_text_field(F_CATEGORY, STRING),
        brand: b.add_text_field(F_BRAND, STRING | FAST),
        supplier_id: b.add_i64_field(F_SUPPLIER, INDEXED),
        supplier_size: b.add_text_field(F_SIZE, STRING),
        price: b.add_i64_field(F_PRICE, FAST),
        valid_from: b.add_i64_field(F_VALID_FROM, FAST),
        sell_to: b.add_i64_field(F_SELL_TO, FAST),
    };
    (b.build(), fields)
}

fn register_tokenizers(index: &Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(TOK_BIGRAM, CatalogueTokenizer(TokenKind::Bigram));
    tokenizers.register(TOK_UNIGRAM, CatalogueTokenizer(TokenKind::Unigram));
    tokenizers.register(TOK_EDGE, CatalogueTokenizer(TokenKind::Edge));
}

/// Removes everything in `dir` (the directory belongs to the index).
fn wipe_dir(dir: &Path) -> Result<(), SearchError> {
    for entry in std::fs::read_dir(dir).map_err(index_err)? {
        let path = entry.map_err(index_err)?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(index_err)?;
        } else {
            std::fs::remove_file(&path).map_err(index_err)?;
        }
    }
    Ok(())
}

/// What a directory holds.
enum OnDisk {
    /// No index.
    Nothing,
    /// An index with this version's schema.
    Current(Index),
    /// An index this version cannot use (other schema, other format, damaged).
    Other,
}

fn on_disk(dir: &Path, schema: &Schema) -> Result<OnDisk, SearchError> {
    let directory = MmapDirectory::open(dir).map_err(index_err)?;
    if !Index::exists(&directory).map_err(index_err)? {
        return Ok(OnDisk::Nothing);
    }
    match Index::open(directory) {
        Ok(index) if index.schema() == *schema => Ok(OnDisk::Current(index)),
        Ok(_) => Ok(OnDisk::Other),
        Err(TantivyError::IncompatibleIndex(_) | TantivyError::DataCorruption(_) | TantivyError::SchemaError(_)) => {
            Ok(OnDisk::Other)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Range filters on fast fields

/// An inclusive range of an i64 fast field that an item must fall in.
#[derive(Debug, Clone, Copy)]
struct RangeFilter {
    field: &'static str,
    min: i64,
    max: i64,
}

/// Passes to `inner` only the documents within all `ranges`.
struct Filtered<C> {
    inner: C,
    ranges: Vec<RangeFilter>,
}

/// Documents buffered by [`FilteredSegment::collect`] before their values are read at once.
const FILTER_BLOCK: usize = 64;

/// [`Filtered`] for one segment. Column values are read a block of documents at a time.
struct FilteredSegment<S> {
    inner: S,
    columns: Vec<(Column<i64>, i64, i64)>,
    /// Documents passed one by one (scored collection), not yet filtered.
    pending: Vec<(DocId, Score)>,
    /// Scratch: documents of a block, their values in one column, and whether they pass.
    docs: Vec<DocId>,
    values: Vec<Option<i64>>,
    keep: Vec<bool>,
}

impl<S: SegmentCollector> FilteredSegment<S> {
    /// Sets `keep[i]` to whether `docs[i]` is within every range.
    fn mark(&mut self) {
        self.keep.clear();
        self.keep.resize(self.docs.len(), true);
        for (column, min, max) in &self.columns {
            self.values.clear();
            self.values.resize(self.docs.len(), None);
            column.first_vals(&self.docs, &mut self.values);
            for (keep, value) in self.keep.iter_mut().zip(&self.values) {
                *keep = *keep && value.is_some_and(|v| *min <= v && v <= *max);
            }
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        self.docs.clear();
        self.docs.extend(pending.iter().map(|(doc, _)| *doc));
        self.mark();
        for (&(doc, score), &keep) in pending.iter().zip(&self.keep) {
            if keep {
                self.inner.collect(doc, score);
            }
        }
        self.pending = pending;
        self.pending.clear();
    }
}

impl<C: Collector> Collector for Filtered<C> {
    type Fruit = C::Fruit;
    type Child = FilteredSegment<C::Child>;

    fn for_segment(&self, segment: u32, reader: &SegmentReader) -> tantivy::Result<Self::Child> {
        let columns = self
            .ranges
            .iter()
            .map(|r| Ok((reader.fast_fields().i64(r.field)?, r.min, r.max)))
            .collect::<tantivy::Result<_>>()?;
        let inner = self.inner.for_segment(segment, reader)?;
        Ok(FilteredSegment {
            inner,
            columns,
            pending: Vec::new(),
            docs: Vec::new(),
            values: Vec::new(),
            keep: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(&self, segments: Vec<<C::Child as SegmentCollector>::Fruit>) -> tantivy::Result<Self::Fruit> {
        self.inner.merge_fruits(segments)
    }
}

impl<S: SegmentCollector> SegmentCollector for FilteredSegment<S> {
    type Fruit = S::Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.columns.is_empty() {
            self.inner.collect(doc, score);
            return;
        }
        self.pending.push((doc, score));
        if self.pending.len() >= FILTER_BLOCK {
            self.flush();
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        if self.columns.is_empty() {
            self.inner.collect_block(docs);
            return;
        }
        self.flush();
        // Column by column, keeping the documents that pass so far.
        self.docs.clear();
        self.docs.extend_from_slice(docs);
        for (column, min, max) in &self.columns {
            self.values.clear();
            self.values.resize(self.docs.len(), None);
            column.first_vals(&self.docs, &mut self.values);
            let mut values = self.values.iter();
            self.docs.retain(|_| values.next().copied().flatten().is_some_and(|v| *min <= v && v <= *max));
        }
        self.inner.collect_block(&self.docs);
    }

    fn harvest(mut self) -> Self::Fruit {
        self.flush();
        self.inner.harvest()
    }
}

/// The first `.0` matching documents in index order (segment, then document).
struct FirstDocs(usize);

/// [`FirstDocs`] for one segment.
struct FirstDocsSegment {
    segment: u32,
    wanted: usize,
    docs: Vec<DocAddress>,
}

impl Collector for FirstDocs {
    type Fruit = Vec<DocAddress>;
    type Child = FirstDocsSegment;

    fn for_segment(&self, segment: u32, _reader: &SegmentReader) -> tantivy::Result<FirstDocsSegment> {
        Ok(FirstDocsSegment { segment, wanted: self.0, docs: Vec::new() })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Vec<DocAddress>>) -> tantivy::Result<Vec<DocAddress>> {
        let mut docs: Vec<DocAddress> = segments.into_iter().flatten().collect();
        docs.sort_unstable();
        docs.truncate(self.0);
        Ok(docs)
    }
}

impl SegmentCollector for FirstDocsSegment {
    type Fruit = Vec<DocAddress>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if self.docs.len() < self.wanted {
            self.docs.push(DocAddress::new(self.segment, doc));
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        let room = self.wanted.saturating_sub(self.docs.len()).min(docs.len());
        self.docs.extend(docs[..room].iter().map(|&doc| DocAddress::new(self.segment, doc)));
    }

    fn harvest(self) -> Self::Fruit {
        self.docs
    }
}

/// What to search for: a query and the range filters its matches must pass.
struct Plan {
    query: Box<dyn Query>,
    ranges: Vec<RangeFilter>,
}

impl Plan {
    fn collector<C: Collector>(&self, inner: C) -> Filtered<C> {
        Filtered { inner, ranges: self.ranges.clone() }
    }
}

// ---------------------------------------------------------------------------------------------
// Brand facet

/// Counts matching documents per brand.
struct BrandCounts;

/// Per-segment brand counts, by term ordinal of the brand column.
struct BrandSegmentCounts {
    column: Option<StrColumn>,
    counts: Vec<u64>,
}

impl Collector for BrandCounts {
    type Fruit = Vec<(String, u64)>;
    type Child = BrandSegmentCounts;

    fn for_segment(&self, _segment: u32, reader: &SegmentReader) -> tantivy::Result<BrandSegmentCounts> {
        let column = reader.fast_fields().str(F_BRAND)?;
        let counts = vec![0; column.as_ref().map_or(0, |c| c.num_terms())];
        Ok(BrandSegmentCounts { column, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<(Option<StrColumn>, Vec<u64>)>) -> tantivy::Result<Vec<(String, u64)>> {
        let mut totals: HashMap<String, u64> = HashMap::new();
        let mut name = String::new();
        for (column, counts) in segments {
            let Some(column) = column else { continue };
            for (ord, count) in counts.into_iter().enumerate() {
                if count == 0 {
                    continue;
                }
                name.clear();
                if column.ord_to_str(ord as u64, &mut name)? && !name.is_empty() {
                    *totals.entry(name.clone()).or_default() += count;
                }
            }
        }
        Ok(totals.into_iter().collect())
    }
}

impl SegmentCollector for BrandSegmentCounts {
    type Fruit = (Option<StrColumn>, Vec<u64>);

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(column) = &self.column
            && let Some(ord) = column.ords().first(doc)
            && let Some(count) = self.counts.get_mut(ord as usize)
        {
            *count += 1;
        }
    }

    fn harvest(self) -> Self::Fruit {
        (self.column, self.counts)
    }
}

// ---------------------------------------------------------------------------------------------
// The index

/// The index. `Send + Sync`: searches run concurrently; writes are serialised.
pub struct CatalogueIndex {
    fields: Fields,
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    revision: AtomicI64,
}

impl std::fmt::Debug for CatalogueIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogueIndex").field("revision", &self.revision()).finish_non_exhaustive()
    }
}

impl CatalogueIndex {
    /// Opens the index in `dir`, creating the directory and the index if missing. An index
    /// written with a different schema (an older version) is wiped and recreated empty, at
    /// revision 0. The directory belongs to the index: nothing else may be kept in it.
    pub fn open_in_dir(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(index_err)?;
        let (schema, fields) = build_schema();
        let index = match on_disk(dir, &schema)? {
            OnDisk::Current(index) => index,
            OnDisk::Nothing => Index::builder().schema(schema).create_in_dir(dir)?,
            OnDisk::Other => {
                wipe_dir(dir)?;
                Index::builder().schema(schema).create_in_dir(dir)?
            }
        };
        Self::from_index(index, fields)
    }

    /// An empty index in memory (tests, demos).
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = build_schema();
        Self::from_index(Index::builder().schema(schema).create_in_ram()?, fields)
    }

    fn from_index(index: Index, fields: Fields) -> Result<Self, SearchError> {
        register_tokenizers(&index);
        let writer = index.writer(WRITER_HEAP_BYTES)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let revision = index.load_metas()?.payload.and_then(|p| p.parse().ok()).unwrap_or(0);
        Ok(CatalogueIndex { fields, writer: Mutex::new(writer), reader, revision: AtomicI64::new(revision) })
    }

    /// The highest revision committed (0 for a new index); it survives restarts.
    pub fn revision(&self) -> i64 {
        self.revision.load(Ordering::Acquire)
    }

    /// Inserts or replaces items by id and commits them with `revision` (the stored revision
    /// becomes the higher of it and the current one). Within one call, the last item with an
    /// id wins. On error nothing of the call is kept.
    pub fn apply(&self, docs: Vec<ItemDoc>, revision: i64) -> Result<(), SearchError> {
        let mut writer = self.lock_writer()?;
        let result = self.apply_locked(&mut writer, docs, revision);
        undo_on_error(&mut writer, result)
    }

    /// Removes items by id and commits with `revision`. Unknown ids are ignored.
    pub fn remove(&self, ids: &[i64], revision: i64) -> Result<(), SearchError> {
        let mut writer = self.lock_writer()?;
        for &id in ids {
            writer.delete_term(Term::from_field_i64(self.fields.id, id));
        }
        let result = self.commit(&mut writer, revision);
        undo_on_error(&mut writer, result)
    }

    /// Searches: the total number of matches and the ids of the requested page.
    pub fn search(&self, q: &SearchQuery) -> Result<Hits, SearchError> {
        let Some(plan) = self.plan(q, true)? else { return Ok(Hits::default()) };
        let searcher = self.reader.searcher();
        let limit = q.limit.min(MAX_LIMIT);
        if limit == 0 || q.offset > MAX_OFFSET {
            let total = searcher.search(&plan.query, &plan.collector(Count))?;
            return Ok(Hits { total, ids: Vec::new() });
        }
        let top = TopDocs::with_limit(limit).and_offset(q.offset);
        let (total, addresses): (usize, Vec<DocAddress>) = match q.sort {
            // Without text every item scores the same: index order, unscored, cheapest.
            Sort::Relevance if q.text.trim().is_empty() => {
                let first = FirstDocs(q.offset + limit);
                let (total, docs) = searcher.search(&plan.query, &plan.collector((Count, first)))?;
                (total, docs.into_iter().skip(q.offset).collect())
            }
            Sort::Relevance => {
                let (total, docs) = searcher.search(&plan.query, &plan.collector((Count, top)))?;
                (total, docs.into_iter().map(|(_, a)| a).collect())
            }
            Sort::PriceAsc | Sort::PriceDesc => {
                let order = if q.sort == Sort::PriceAsc { Order::Asc } else { Order::Desc };
                let by_price = top.order_by_fast_field::<i64>(F_PRICE, order);
                let (total, docs) = searcher.search(&plan.query, &plan.collector((Count, by_price)))?;
                (total, docs.into_iter().map(|(_, a)| a).collect())
            }
        };
        Ok(Hits { total, ids: ids_of(&searcher, &addresses)? })
    }

    /// Brand counts over the items matching `text_query` (its brand filter is ignored, so the
    /// other brands stay visible), most frequent first (ties by name), at most `max`. Items
    /// without a brand are not counted.
    pub fn brands(&self, text_query: &SearchQuery, max: usize) -> Result<Vec<(String, u64)>, SearchError> {
        let Some(plan) = self.plan(text_query, false)? else { return Ok(Vec::new()) };
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut counts = self.reader.searcher().search(&plan.query, &plan.collector(BrandCounts))?;
        counts.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts.truncate(max);
        Ok(counts)
    }

    /// The writer, recovered (uncommitted work discarded) if a panic poisoned its lock.
    fn lock_writer(&self) -> Result<MutexGuard<'_, IndexWriter>, SearchError> {
        match self.writer.lock() {
            Ok(guard) => Ok(guard),
            Err(poisoned) => {
                let mut guard = poisoned.into_inner();
                guard.rollback()?;
                self.writer.clear_poison();
                Ok(guard)
            }
        }
    }

    fn apply_locked(&self, writer: &mut IndexWriter, docs: Vec<ItemDoc>, revision: i64) -> Result<(), SearchError> {
        // The last version of each id in this call wins.
        let mut last: HashMap<i64, usize> = HashMap::with_capacity(docs.len());
        for (i, doc) in docs.iter().enumerate() {
            last.insert(doc.id, i);
        }
        // Bulk loads add ids that are not in the index yet; deleting each of them would cost a
        // term lookup per segment at commit. If no indexed id falls within this call's id range,
        // no delete is needed.
        let need_deletes = match (docs.iter().map(|d| d.id).min(), docs.iter().map(|d| d.id).max()) {
            (Some(min), Some(max)) => {
                self.reader.reload()?;
                let in_range = RangeQuery::new(
                    Bound::Included(Term::from_field_i64(self.fields.id, min)),
                    Bound::Included(Term::from_field_i64(self.fields.id, max)),
                );
                self.reader.searcher().search(&in_range, &Count)? > 0
            }
            _ => false,
        };
        for (i, doc) in docs.iter().enumerate() {
            if last.get(&doc.id) != Some(&i) {
                continue;
            }
            if need_deletes {
                writer.delete_term(Term::from_field_i64(self.fields.id, doc.id));
            }
            writer.add_document(self.document(doc))?;
        }
        self.commit(writer, revision)
    }

    fn document(&self, item: &ItemDoc) -> TantivyDocument {
        let f = &self.fields;
        let text = [item.name.as_str(), &item.brand, &item.model, &item.spec].join("\n");
        let mut doc = TantivyDocument::new();
        doc.add_i64(f.id, item.id);
        doc.add_text(f.text, &text);
        doc.add_text(f.uni, &text);
        doc.add_text(f.edge, &text);
        doc.add_text(f.category, item.category.trim());
        doc.add_text(f.brand, item.brand.trim());
        doc.add_i64(f.supplier_id, item.supplier_id);
        doc.add_text(f.supplier_size, item.supplier_size.trim());
        doc.add_i64(f.price, item.price_fen);
        doc.add_i64(f.valid_from, item.valid_from);
        doc.add_i64(f.sell_to, if item.sellable { item.valid_to } else { item.valid_from });
        doc
    }

    fn commit(&self, writer: &mut IndexWriter, revision: i64) -> Result<(), SearchError> {
        let revision = revision.max(self.revision());
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&revision.to_string());
        prepared.commit()?;
        self.revision.store(revision, Ordering::Release);
        self.reader.reload()?;
        Ok(())
    }

    /// The query and range filters for `q`, or `None` if nothing can match.
    fn plan(&self, q: &SearchQuery, with_brand: bool) -> Result<Option<Plan>, SearchError> {
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if !q.text.trim().is_empty() {
            let pieces = query_pieces(&q.text)?;
            if pieces.is_empty() {
                return Ok(None);
            }
            clauses.extend(pieces.into_iter().map(|p| (Occur::Must, self.piece_query(p))));
        }
        let filter = |query: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
        };
        let exact = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
        };
        if let Some(category) = non_blank(&q.category) {
            clauses.push(filter(exact(f.category, category)));
        }
        if with_brand && let Some(brand) = non_blank(&q.brand) {
            clauses.push(filter(exact(f.brand, brand)));
        }
        if let Some(supplier) = q.supplier_id {
            let term = Term::from_field_i64(f.supplier_id, supplier);
            clauses.push(filter(Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
        }
        if !q.supplier_sizes.is_empty() {
            let terms = q.supplier_sizes.iter().map(|s| Term::from_field_text(f.supplier_size, s.trim()));
            clauses.push(filter(Box::new(TermSetQuery::new(terms))));
        }
        let mut ranges = Vec::new();
        if q.min_price_fen.is_some() || q.max_price_fen.is_some() {
            let (min, max) = (q.min_price_fen.unwrap_or(i64::MIN), q.max_price_fen.unwrap_or(i64::MAX));
            if min > max {
                return Ok(None);
            }
            ranges.push(RangeFilter { field: F_PRICE, min, max });
        }
        if let Some(t) = q.sellable_at {
            // valid_from <= t < sell_to
            let Some(after) = t.checked_add(1) else { return Ok(None) };
            ranges.push(RangeFilter { field: F_VALID_FROM, min: i64::MIN, max: t });
            ranges.push(RangeFilter { field: F_SELL_TO, min: after, max: i64::MAX });
        }
        let query: Box<dyn Query> =
            if clauses.is_empty() { Box::new(AllQuery) } else { Box::new(BooleanQuery::new(clauses)) };
        Ok(Some(Plan { query, ranges }))
    }

    fn piece_query(&self, piece: Piece) -> Box<dyn Query> {
        let f = &self.fields;
        let term = |field: Field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
        };
        match piece {
            Piece::Bigrams(bigrams) if bigrams.len() == 1 => term(f.text, &bigrams[0]),
            Piece::Bigrams(bigrams) => {
                Box::new(PhraseQuery::new(bigrams.iter().map(|b| Term::from_field_text(f.text, b)).collect()))
            }
            Piece::Unigram(c) => term(f.uni, &c),
            Piece::Ascii { text, prefix: true } if text.len() <= EDGE_MAX => term(f.edge, &text),
            Piece::Ascii { text, .. } => term(f.text, &text),
        }
    }
}

/// Discards the uncommitted work of a failed write, keeping the write's error.
fn undo_on_error(writer: &mut IndexWriter, result: Result<(), SearchError>) -> Result<(), SearchError> {
    match result {
        Err(e) => match writer.rollback() {
            Ok(_) => Err(e),
            Err(r) => Err(SearchError::Index(format!("{e}; rollback failed: {r}"))),
        },
        ok => ok,
    }
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The item ids of documents, in the same order.
fn ids_of(searcher: &Searcher, addresses: &[DocAddress]) -> Result<Vec<i64>, SearchError> {
    let mut columns = HashMap::new();
    let mut ids = Vec::with_capacity(addresses.len());
    for address in addresses {
        let column = match columns.entry(address.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(searcher.segment_reader(address.segment_ord).fast_fields().i64(F_ID)?)
            }
        };
        let id = column.first(address.doc_id).ok_or_else(|| index_err("document without id"))?;
        ids.push(id);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_text_matches_a_query_as_the_index_would() {
        use super::text_matches as m;
        assert!(m("办公椅", "人体工学办公椅采购"));
        assert!(!m("办公椅", "办公桌及会议椅"), "the word, not its characters");
        assert!(!m("办公椅", "办公，椅子"), "not across two runs");
        assert!(m("椅", "会议椅"));
        assert!(m("M404", "HP LaserJet M404dn 打印机"), "the last ASCII word as a prefix");
        assert!(m("ｍ４０４ 打印机", "HP m404dn 打印机"), "full-width folded, every piece");
        assert!(!m("M404 复印机", "HP M404dn 打印机"), "every piece must occur");
        assert!(!m("laser hp", "HP LaserJet 打印机"), "an ASCII word that is not last is whole");
        assert!(m("laserjet hp", "HP LaserJet 打印机"));
        assert!(!m("  ", "anything"));
    }

    use super::*;

    fn toks(kind: TokenKind, text: &str) -> Vec<(String, usize)> {
        let mut stream = CatalogueTokenizer(kind).token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.position));
        }
        out
    }

    fn texts(kind: TokenKind, text: &str) -> Vec<String> {
        toks(kind, text).into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn bigram_tokens_with_positions() {
        let got = toks(TokenKind::Bigram, "人体工学办公椅 M404dn，Ａ４纸");
        let want: Vec<(String, usize)> = [
            ("人体", 0),
            ("体工", 1),
            ("工学", 2),
            ("学办", 3),
            ("办公", 4),
            ("公椅", 5),
            ("m404dn", 7),
            ("a4", 8),
            ("纸", 9),
        ]
        .iter()
        .map(|(t, p)| (t.to_string(), *p))
        .collect();
        assert_eq!(got, want);
        // A one-ideograph run is itself; separated runs leave a free position between them.
        assert_eq!(toks(TokenKind::Bigram, "椅"), vec![("椅".to_string(), 0)]);
        assert_eq!(toks(TokenKind::Bigram, "打印 印机"), vec![("打印".to_string(), 0), ("印机".to_string(), 2)]);
        assert_eq!(texts(TokenKind::Bigram, "A4 70g 500张/包"), ["a4", "70g", "500", "张", "包"]);
        // Extension A, compatibility ideographs and Extension B are ideographs.
        assert_eq!(texts(TokenKind::Bigram, "㐀豈𠀀"), ["㐀豈", "豈𠀀"]);
        assert!(toks(TokenKind::Bigram, "").is_empty());
        assert!(toks(TokenKind::Bigram, "！？，。🪑 —").is_empty());
    }

    #[test]
    fn unigram_and_edge_tokens() {
        assert_eq!(texts(TokenKind::Unigram, "办公椅 M404dn 纸"), ["办", "公", "椅", "纸"]);
        assert_eq!(
            texts(TokenKind::Edge, "办公椅 M404dn 纸 A4"),
            ["m", "m4", "m40", "m404", "m404d", "m404dn", "a", "a4"]
        );
        let long = "x".repeat(30);
        let edges = texts(TokenKind::Edge, &long);
        assert_eq!(edges.len(), EDGE_MAX);
        assert_eq!(edges.last().map(String::len), Some(EDGE_MAX));
    }

    #[test]
    fn token_stream_before_and_after_the_end() {
        let mut stream = CatalogueTokenizer(TokenKind::Bigram).token_stream("ab");
        assert_eq!(stream.token().text, "");
        assert!(stream.advance());
        assert_eq!(stream.token().text, "ab");
        assert!(!stream.advance());
        assert!(!stream.advance());
        stream.token_mut().text.push('x');
    }

    #[test]
    fn query_pieces_split() {
        let pieces = query_pieces(" 复印纸，Ａ4  得力 椅 m404 ").expect("pieces");
        assert_eq!(
            pieces,
            vec![
                Piece::Bigrams(vec!["复印".into(), "印纸".into()]),
                Piece::Ascii { text: "a4".into(), prefix: false },
                Piece::Bigrams(vec!["得力".into()]),
                Piece::Unigram("椅".into()),
                Piece::Ascii { text: "m404".into(), prefix: true },
            ]
        );
        assert!(query_pieces("！！！").expect("pieces").is_empty());
    }

    #[allow(clippy::too_many_arguments)]
    fn item(
        id: i64,
        name: &str,
        brand: &str,
        model: &str,
        spec: &str,
        category: &str,
        supplier: i64,
        size: &str,
        price: i64,
    ) -> ItemDoc {
        ItemDoc {
            id,
            name: name.into(),
            brand: brand.into(),
            model: model.into(),
            spec: spec.into(),
            category: category.into(),
            supplier_id: supplier,
            supplier_name: format!("供应商{supplier}"),
            supplier_size: size.into(),
            price_fen: price,
            valid_from: 0,
            valid_to: 1_000_000,
            sellable: true,
        }
    }

    fn fixture() -> Vec<ItemDoc> {
        vec![
            item(1, "黑白激光打印机", "惠普", "M404dn", "A4 38页/分钟 双面", "A020201", 10, "large", 199_900),
            item(2, "激光打印机", "佳能", "LBP2900", "A4 黑白", "A020201", 11, "medium", 129_900),
            item(3, "打印纸", "得力", "7401", "A4 70g 500张/包", "A090101", 12, "small", 2_500),
            item(4, "人体工学办公椅", "永艺", "XY-100", "网布 可调扶手", "A060101", 13, "medium", 89_900),
            item(5, "钢木办公桌", "圣奥", "ZD-1400", "1400*700*750mm", "A060102", 13, "medium", 120_000),
            item(6, "会议椅", "震旦", "HY-01", "皮面 弓形", "A060101", 14, "large", 45_000),
            item(7, "订书机", "得力", "0414", "12号 可订20页", "A090201", 12, "small", 1_800),
            item(8, "订书机", "晨光", "ABS91639", "24/6 可订25页", "A090201", 15, "micro", 1_500),
            item(9, "复印纸", "得力", "7391", "A4 80g 500张/包 5包/箱", "A090101", 12, "small", 12_900),
            item(10, "碳粉", "惠普", "CF226A", "适用 M402 M426", "A090301", 10, "large", 45_900),
            item(11, "笔记本电脑", "联想", "ThinkPad E14", "14英寸 i5 16G 512G", "A020102", 16, "large", 529_900),
            item(12, "壁挂式空调", "格力", "KFR-35GW", "1.5匹 一级能效 冷暖", "A020601", 17, "", 329_900),
            item(13, "打印 印机架", "齐心", "", "", "A060103", 18, "micro", 9_900),
            item(14, "嘻嘻嘻", "", "", "", "Z", 19, "", 100),
        ]
    }

    fn index() -> CatalogueIndex {
        let index = CatalogueIndex::in_memory().expect("index");
        index.apply(fixture(), 1).expect("apply");
        index
    }

    fn text(text: &str) -> SearchQuery {
        SearchQuery { text: text.into(), limit: 100, ..SearchQuery::default() }
    }

    fn ids(index: &CatalogueIndex, q: &SearchQuery) -> Vec<i64> {
        let hits = index.search(q).expect("search");
        let mut ids = hits.ids.clone();
        ids.sort_unstable();
        assert_eq!(hits.total, ids.len(), "total for {q:?}");
        ids
    }

    fn find(index: &CatalogueIndex, t: &str) -> Vec<i64> {
        ids(index, &text(t))
    }

    #[test]
    fn index_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<CatalogueIndex>();
    }

    #[test]
    fn chinese_words_are_substring_precise() {
        let ix = index();
        assert_eq!(find(&ix, "打印机"), [1, 2]); // not 打印纸, nor "打印 印机架"
        assert_eq!(find(&ix, "打印"), [1, 2, 3, 13]);
        assert_eq!(find(&ix, "办公椅"), [4]); // not 办公桌 or 会议椅
        assert_eq!(find(&ix, "办公"), [4, 5]);
        assert_eq!(find(&ix, "椅"), [4, 6]);
        assert_eq!(find(&ix, "笔记本电脑"), [11]);
        assert_eq!(find(&ix, "碳粉"), [10]);
        assert_eq!(find(&ix, "空调"), [12]);
        assert_eq!(find(&ix, "嘻嘻嘻"), [14]);
        assert_eq!(find(&ix, "嘻嘻嘻嘻"), Vec::<i64>::new());
        assert_eq!(find(&ix, "投影仪"), Vec::<i64>::new());
    }

    #[test]
    fn mixed_and_ascii_queries() {
        let ix = index();
        assert_eq!(find(&ix, "得力 订书机"), [7]);
        assert_eq!(find(&ix, "订书机 得力"), [7]);
        assert_eq!(find(&ix, "得力订书机"), Vec::<i64>::new()); // no such substring
        assert_eq!(find(&ix, "复印纸 A4"), [9]);
        assert_eq!(find(&ix, "A4 复印纸"), [9]);
        assert_eq!(find(&ix, "M404"), [1]);
        assert_eq!(find(&ix, "m404DN"), [1]);
        assert_eq!(find(&ix, "Ｍ４０４"), [1]);
        assert_eq!(find(&ix, "M40"), [1, 10]);
        assert_eq!(find(&ix, "M404 打印机"), [1]);
        // Only the last ASCII word is a prefix.
        assert_eq!(find(&ix, "M40 A4"), Vec::<i64>::new());
        assert_eq!(find(&ix, "thinkpad e14"), [11]);
        assert_eq!(find(&ix, "KFR-35"), [12]);
        assert_eq!(find(&ix, "1.5匹"), [12]);
        assert_eq!(find(&ix, "惠普"), [1, 10]);
    }

    #[test]
    fn relevance_pages_and_totals() {
        let ix = index();
        let all = ix.search(&text("")).expect("search");
        assert_eq!(all.total, 14);
        assert_eq!(all.ids.len(), 14);
        let page = ix.search(&SearchQuery { limit: 5, offset: 10, ..text("") }).expect("search");
        assert_eq!((page.total, page.ids.len()), (14, 4));
        let count_only = ix.search(&SearchQuery { limit: 0, ..text("打印") }).expect("search");
        assert_eq!((count_only.total, count_only.ids.len()), (4, 0));
        let deep = ix.search(&SearchQuery { offset: usize::MAX, ..text("打印") }).expect("search");
        assert_eq!((deep.total, deep.ids.len()), (4, 0));
        let capped = ix.search(&SearchQuery { limit: usize::MAX, ..text("") }).expect("search");
        assert_eq!(capped.ids.len(), 14);
    }

    #[test]
    fn pages_cover_every_match_once() {
        // Several segments, and deleted documents, exercise both collection paths.
        let ix = CatalogueIndex::in_memory().expect("index");
        for (i, chunk) in fixture().chunks(5).enumerate() {
            ix.apply(chunk.to_vec(), i as i64).expect("apply");
        }
        ix.remove(&[2], 9).expect("remove");
        for sort in [Sort::Relevance, Sort::PriceAsc, Sort::PriceDesc] {
            for t in ["", "打印", "a4"] {
                let whole = ix.search(&SearchQuery { sort, ..text(t) }).expect("search");
                let mut paged = Vec::new();
                for offset in (0..whole.total + 3).step_by(3) {
                    let page = ix.search(&SearchQuery { sort, offset, limit: 3, ..text(t) }).expect("search");
                    assert_eq!(page.total, whole.total);
                    paged.extend(page.ids);
                }
                assert_eq!(paged, whole.ids, "{sort:?} {t:?}");
            }
        }
        assert_eq!(ix.search(&text("")).expect("search").total, 13);
    }

    #[test]
    fn extreme_filter_values() {
        let ix = index();
        let all = |q: SearchQuery| ix.search(&q).expect("search").total;
        assert_eq!(all(SearchQuery { sellable_at: Some(i64::MAX), ..text("") }), 0);
        assert_eq!(all(SearchQuery { sellable_at: Some(i64::MIN), ..text("") }), 0);
        assert_eq!(all(SearchQuery { sellable_at: Some(0), ..text("") }), 14);
        assert_eq!(all(SearchQuery { min_price_fen: Some(i64::MIN), max_price_fen: Some(i64::MAX), ..text("") }), 14);
        assert_eq!(all(SearchQuery { supplier_id: Some(-1), ..text("") }), 0);
        assert_eq!(all(SearchQuery { supplier_sizes: vec![String::new()], ..text("") }), 2);
        let brands = ix.brands(&SearchQuery { max_price_fen: Some(2_500), sellable_at: Some(5), ..text("") }, 9);
        assert_eq!(brands.expect("brands"), vec![("得力".to_string(), 2), ("晨光".to_string(), 1)]);
    }

    #[test]
    fn filters() {
        let ix = index();
        let q = |f: fn(&mut SearchQuery)| {
            let mut q = text("");
            f(&mut q);
            ids(&ix, &q)
        };
        assert_eq!(q(|q| q.category = Some("A060101".into())), [4, 6]);
        assert_eq!(q(|q| q.category = Some("A0601".into())), Vec::<i64>::new());
        assert_eq!(q(|q| q.category = Some(" ".into())).len(), 14);
        assert_eq!(q(|q| q.brand = Some("得力".into())), [3, 7, 9]);
        assert_eq!(q(|q| q.brand = Some("得".into())), Vec::<i64>::new());
        assert_eq!(q(|q| q.supplier_id = Some(13)), [4, 5]);
        assert_eq!(q(|q| q.supplier_sizes = vec!["micro".into()]), [8, 13]);
        assert_eq!(q(|q| q.supplier_sizes = vec!["micro".into(), "large".into()]), [1, 6, 8, 10, 11, 13]);
        assert_eq!(q(|q| (q.min_price_fen, q.max_price_fen) = (Some(1_500), Some(2_500))), [3, 7, 8]);
        assert_eq!(q(|q| (q.min_price_fen, q.max_price_fen) = (Some(1_501), Some(2_499))), [7]);
        assert_eq!(q(|q| q.min_price_fen = Some(329_900)), [11, 12]);
        assert_eq!(q(|q| q.max_price_fen = Some(1_500)), [8, 14]);
        assert_eq!(q(|q| (q.min_price_fen, q.max_price_fen) = (Some(10), Some(5))), Vec::<i64>::new());
        // Text and filters together.
        let mut printers = text("打印机");
        printers.min_price_fen = Some(129_901);
        assert_eq!(ids(&ix, &printers), [1]);
        printers.min_price_fen = None;
        printers.max_price_fen = Some(129_900);
        assert_eq!(ids(&ix, &printers), [2]);
        let paper = SearchQuery { category: Some("A090101".into()), ..text("A4") };
        assert_eq!(ids(&ix, &paper), [3, 9]);
    }

    #[test]
    fn sellable_at() {
        let ix = CatalogueIndex::in_memory().expect("index");
        let mk = |id, from, to, sellable| ItemDoc {
            valid_from: from,
            valid_to: to,
            sellable,
            ..item(id, "复印纸", "得力", "", "A4", "A090101", 1, "small", 100)
        };
        ix.apply(
            vec![
                mk(1, 100, 200, true),  // valid
                mk(2, 0, 100, true),    // expired
                mk(3, 100, 200, false), // suspended
                mk(4, 300, 400, true),  // not yet valid
                mk(5, 150, 151, true),  // valid exactly at 150
            ],
            1,
        )
        .expect("apply");
        let at = |t| ids(&ix, &SearchQuery { sellable_at: Some(t), ..text("复印纸") });
        assert_eq!(at(150), [1, 5]);
        assert_eq!(at(100), [1]);
        assert_eq!(at(99), [2]);
        assert_eq!(at(200), Vec::<i64>::new());
        assert_eq!(at(300), [4]);
        assert_eq!(ids(&ix, &text("复印纸")), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn sorts() {
        let ix = index();
        let sorted = |sort, t: &str| ix.search(&SearchQuery { sort, ..text(t) }).expect("search").ids;
        assert_eq!(sorted(Sort::PriceAsc, "打印机"), [2, 1]);
        assert_eq!(sorted(Sort::PriceDesc, "打印机"), [1, 2]);
        assert_eq!(sorted(Sort::PriceAsc, ""), [14, 8, 7, 3, 13, 9, 6, 10, 4, 5, 2, 1, 12, 11]);
        assert_eq!(sorted(Sort::PriceDesc, "")[..3], [11, 12, 1]);
        let page = ix.search(&SearchQuery { sort: Sort::PriceAsc, offset: 1, limit: 2, ..text("") }).expect("search");
        assert_eq!((page.total, page.ids), (14, vec![8, 7]));
        // Same words, shorter text: higher BM25 score.
        assert_eq!(sorted(Sort::Relevance, "打印机"), [2, 1]);
        let sort: Sort = serde_json_like("price_desc");
        assert_eq!(sort, Sort::PriceDesc);
    }

    /// Deserialises a unit variant name without a JSON dependency.
    fn serde_json_like(name: &str) -> Sort {
        use serde::Deserialize;
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        let de: StrDeserializer<'_, Error> = name.into_deserializer();
        Sort::deserialize(de).expect("sort")
    }

    #[test]
    fn upsert_replaces_and_remove_removes() {
        let ix = index();
        let mut chair = fixture().remove(3);
        chair.name = "网布转椅".into();
        ix.apply(vec![chair], 2).expect("apply");
        assert_eq!(find(&ix, "办公椅"), Vec::<i64>::new());
        assert_eq!(find(&ix, "转椅"), [4]);
        assert_eq!(ix.search(&text("")).expect("search").total, 14);

        ix.remove(&[7, 999], 3).expect("remove");
        assert_eq!(find(&ix, "订书机"), [8]);
        assert_eq!(ix.search(&text("")).expect("search").total, 13);
        assert_eq!(ix.revision(), 3);

        // Within one call the last version wins; a lower revision does not lower it.
        let mut a = fixture().remove(0);
        a.id = 100;
        let mut b = a.clone();
        b.name = "彩色激光打印机".into();
        ix.apply(vec![a, b], 2).expect("apply");
        assert_eq!(find(&ix, "彩色"), [100]);
        assert_eq!(find(&ix, "黑白激光"), [1]);
        assert_eq!(ix.revision(), 3);
        ix.apply(Vec::new(), 9).expect("apply");
        assert_eq!(ix.revision(), 9);
    }

    #[test]
    fn brand_facet() {
        let ix = index();
        let brands = ix.brands(&text("订书机"), 10).expect("brands");
        assert_eq!(brands, vec![("得力".to_string(), 1), ("晨光".to_string(), 1)]);
        let all = ix.brands(&SearchQuery { brand: Some("得力".into()), ..text("") }, 2).expect("brands");
        assert_eq!(all, vec![("得力".to_string(), 3), ("惠普".to_string(), 2)]);
        assert!(ix.brands(&text("订书机"), 0).expect("brands").is_empty());
        assert!(ix.brands(&text("！"), 5).expect("brands").is_empty());
    }

    #[test]
    fn revision_survives_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("catalogue");
        {
            let ix = CatalogueIndex::open_in_dir(&path).expect("open");
            assert_eq!(ix.revision(), 0);
            ix.apply(fixture(), 5).expect("apply");
            ix.remove(&[1], 7).expect("remove");
        }
        let ix = CatalogueIndex::open_in_dir(&path).expect("reopen");
        assert_eq!(ix.revision(), 7);
        assert_eq!(find(&ix, "打印机"), [2]);
        ix.apply(vec![fixture().remove(0)], 8).expect("apply");
        assert_eq!(find(&ix, "打印机"), [1, 2]);
    }

    #[test]
    fn other_schema_is_wiped() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let mut b = Schema::builder();
            let title = b.add_text_field("title", tantivy::schema::TEXT);
            let index = Index::create_in_dir(dir.path(), b.build()).expect("create");
            let mut writer: IndexWriter = index.writer(15_000_000).expect("writer");
            writer.add_document(tantivy::doc!(title => "old")).expect("add");
            let mut commit = writer.prepare_commit().expect("prepare");
            commit.set_payload("42");
            commit.commit().expect("commit");
        }
        let ix = CatalogueIndex::open_in_dir(dir.path()).expect("open");
        assert_eq!(ix.revision(), 0);
        assert_eq!(ix.search(&text("")).expect("search").total, 0);
        ix.apply(fixture(), 1).expect("apply");
        assert_eq!(find(&ix, "打印机"), [1, 2]);
    }

    #[test]
    fn a_new_directory_keeps_its_files_and_a_damaged_index_is_rebuilt() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("README"), "kept").expect("write");
        drop(CatalogueIndex::open_in_dir(dir.path()).expect("open"));
        assert!(dir.path().join("README").exists());

        let damaged = tempfile::tempdir().expect("tempdir");
        std::fs::write(damaged.path().join("meta.json"), "{not json").expect("write");
        let ix = CatalogueIndex::open_in_dir(damaged.path()).expect("open");
        assert_eq!(ix.revision(), 0);
        ix.apply(fixture(), 1).expect("apply");
        assert_eq!(find(&ix, "办公椅"), [4]);
    }

    #[test]
    fn over_long_queries_are_refused() {
        let ix = index();
        let long = "椅".repeat(MAX_QUERY_CHARS + 1);
        assert!(matches!(ix.search(&text(&long)), Err(SearchError::QueryTooLong)));
        assert!(ix.search(&text(&"椅".repeat(MAX_QUERY_CHARS))).is_ok());
        assert!(matches!(ix.search(&text("a b c d e f g h i j k")), Err(SearchError::QueryTooLong)));
        assert!(ix.search(&text("a b c d e f g h i j")).is_ok());
        assert!(matches!(ix.brands(&text(&"x ".repeat(20)), 5), Err(SearchError::QueryTooLong)));
        assert_eq!(SearchError::QueryTooLong.to_string(), "query too long");
    }

    #[test]
    fn weird_input_never_panics() {
        let ix = index();
        let inputs = [
            "！！！？？".to_string(),
            "...---***".to_string(),
            "🪑🪑🖨️".to_string(),
            "\u{0}\u{200b}\u{feff}\t\n".to_string(),
            "办\u{301}公".to_string(),
            "a".repeat(10_000),
            "椅 ".repeat(5_000),
            " ".repeat(10_000),
            "(打印机) AND OR NOT \"* ~2 ^3 field:x [a TO b]".to_string(),
            "x".repeat(100),
        ];
        for input in &inputs {
            let q = text(input);
            match ix.search(&q) {
                Ok(_) | Err(SearchError::QueryTooLong) => {}
                Err(e) => panic!("{input:?}: {e}"),
            }
            let _ = ix.brands(&q, 5);
        }
        assert_eq!(ix.search(&text("！！！")).expect("search").total, 0);
        assert_eq!(ix.search(&text("🪑")).expect("search").total, 0);
        assert_eq!(ix.search(&text(&" ".repeat(10_000))).expect("search").total, 14);
        assert_eq!(ix.search(&text(&"x".repeat(100))).expect("search").total, 0);
    }
}
