//! The font embedded in generated PDFs.
//!
//! WenQuanYi Micro Hei (`frontend/fonts/wqy-microhei.ttc`, face 0: the proportional face; face 1
//! is its monospaced sibling) covers Simplified and Traditional Chinese together with Latin,
//! digits and signs such as `¥`, all as TrueType (`glyf`) outlines. See `frontend/fonts/README.md`
//! for its origin and licence.
//!
//! Two small, pure-Rust crates do the font work: `ttf-parser` reads the character map, advance
//! widths and vertical metrics, and `subsetter` (from the Typst project, written for embedding
//! fonts in PDFs) cuts the font down to the glyphs a document uses. Both are built without their
//! default features: no variable-font support is needed for this font.

use ttf_parser::{Face, GlyphId};

/// The font file, a TrueType collection.
static DATA: &[u8] = include_bytes!("../../frontend/fonts/wqy-microhei.ttc");

/// The face used within the collection.
const FACE_INDEX: u32 = 0;

/// The PostScript name of the face, used for `/BaseFont` and `/FontName`.
pub(super) const POSTSCRIPT_NAME: &str = "WenQuanYiMicroHei";

/// Metrics in thousandths of an em, the unit of PDF font dictionaries.
#[derive(Debug, Clone, Copy)]
pub(super) struct Metrics {
    /// Height above the baseline.
    pub ascent: f32,
    /// Depth below the baseline (negative).
    pub descent: f32,
    /// Height of capital letters.
    pub cap_height: f32,
    /// Bounding box of all glyphs: x min, y min, x max, y max.
    pub bbox: [f32; 4],
    /// Italic angle in degrees.
    pub italic_angle: f32,
}

/// The parsed font.
pub(super) struct Font {
    face: Face<'static>,
    units_per_em: f32,
}

impl Font {
    /// Parses the embedded font.
    pub(super) fn load() -> Result<Font, String> {
        let face = Face::parse(DATA, FACE_INDEX).map_err(|e| e.to_string())?;
        let units_per_em = f32::from(face.units_per_em());
        if units_per_em <= 0.0 {
            return Err("units per em is zero".to_owned());
        }
        Ok(Font { face, units_per_em })
    }

    /// The glyph for `c`, or `None` if the font has none (glyph 0, `.notdef`, counts as none).
    pub(super) fn glyph(&self, c: char) -> Option<u16> {
        self.face.glyph_index(c).map(|g| g.0).filter(|g| *g != 0)
    }

    /// Advance width of glyph `gid` in thousandths of an em, rounded to a whole number so that
    /// layout and the `/W` array use the very same value.
    pub(super) fn width(&self, gid: u16) -> u16 {
        let advance = self.face.glyph_hor_advance(GlyphId(gid)).unwrap_or(0);
        (f32::from(advance) * 1000.0 / self.units_per_em).round() as u16
    }

    /// Advance width of `c` in thousandths of an em; a character without a glyph is drawn as
    /// `.notdef` and measured as such.
    pub(super) fn char_width(&self, c: char) -> u16 {
        self.width(self.glyph(c).unwrap_or(0))
    }

    fn scale(&self, v: i16) -> f32 {
        (f32::from(v) * 1000.0 / self.units_per_em).round()
    }

    /// Vertical metrics and bounding box.
    pub(super) fn metrics(&self) -> Metrics {
        let f = &self.face;
        let bbox = f.global_bounding_box();
        Metrics {
            ascent: self.scale(f.ascender()),
            descent: self.scale(f.descender()),
            cap_height: self.scale(f.capital_height().unwrap_or(f.ascender())),
            bbox: [self.scale(bbox.x_min), self.scale(bbox.y_min), self.scale(bbox.x_max), self.scale(bbox.y_max)],
            italic_angle: f.italic_angle(),
        }
    }

    /// A subset of the font holding glyph 0 and `glyphs`, in that order: the glyph `glyphs[i]`
    /// gets the id `i + 1` in the subset. Glyphs that composite glyphs are built from are added
    /// after those. The subset has no `cmap` table; it is meant for a CID-keyed PDF font only.
    pub(super) fn subset(&self, glyphs: &[u16]) -> Result<Vec<u8>, String> {
        let mut remapper = subsetter::GlyphRemapper::new();
        for (i, g) in glyphs.iter().enumerate() {
            let new = remapper.remap(*g);
            if usize::from(new) != i + 1 {
                return Err("duplicate or zero glyph in the subset request".to_owned());
            }
        }
        subsetter::subset(DATA, FACE_INDEX, &remapper).map_err(|e| e.to_string())
    }
}
