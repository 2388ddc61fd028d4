//! Correct glyph placement for bitmap charts (issue 10: "Mar 1 0 1 2:00" for "Mar 10 12:00").
//!
//! plotters 0.3.7's `ab_glyph` text drawing places each glyph's bitmap at the pen position but
//! forgets the glyph's left side bearing (`px_bounds().min.x`), so a narrow glyph centred in a wide
//! advance — DejaVu's `1` above all — is drawn too far left and leaves a gap after it. Its width
//! estimate is right, so only drawing is wrong. [`GlyphFix`] wraps a bitmap backend and draws text
//! itself, positioning every outline at its pen position (with kerning) like any text engine does;
//! everything else is passed through. SVG is not affected: the viewer lays its `<text>` out.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::style::FontStyle;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};

/// The embedded fonts, parsed once (the same bytes as registered with plotters).
fn font_for(style: FontStyle) -> Option<&'static FontRef<'static>> {
    static REGULAR: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    static BOLD: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    let (cell, bytes) = match style {
        FontStyle::Bold => (&BOLD, dejavu::sans::bold()),
        _ => (&REGULAR, dejavu::sans::regular()),
    };
    cell.get_or_init(|| FontRef::try_from_slice(bytes).ok()).as_ref()
}

/// One coverage pixel of laid-out text: offset from the text's origin and coverage 0..1.
pub type Coverage = (i32, i32, f32);

/// Rasterises `text` at `size` pixels the way plotters' layout measures it: pen advances with
/// kerning, each outline at its pen position, baseline at `size / 2` below the origin (as plotters
/// draws, so vertical placement does not move).
pub fn rasterise(text: &str, size: f64, style: FontStyle) -> Vec<Coverage> {
    let Some(font) = font_for(style) else { return Vec::new() };
    let scaled = font.as_scaled(PxScale::from(size as f32));
    let mut out = Vec::new();
    let mut pen = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        prev = Some(id);
        let mut glyph = scaled.scaled_glyph(c);
        glyph.position = point(pen, 0.0);
        if let Some(outline) = scaled.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            let x0 = bounds.min.x as i32;
            let y0 = ((size as f32) / 2.0 + bounds.min.y) as i32;
            outline.draw(|x, y, a| {
                if a > 0.0 {
                    out.push((x0 + x as i32, y0 + y as i32, a.min(1.0)));
                }
            });
        }
        pen += scaled.h_advance(id);
    }
    out
}

/// A drawing backend that forwards everything to `inner` but draws text with [`rasterise`].
pub struct GlyphFix<DB> {
    inner: DB,
}

impl<DB> GlyphFix<DB> {
    /// Wraps a (bitmap) backend.
    pub fn new(inner: DB) -> Self {
        Self { inner }
    }
}

impl<DB: DrawingBackend> DrawingBackend for GlyphFix<DB> {
    type ErrorType = DB::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        // Anchoring and rotation exactly as plotters' default `draw_text`; only the glyphs differ.
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) =
            style.layout_box(text).map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        for (x, y, a) in rasterise(text, style.size(), style.style()) {
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let mixed = BackendColor { alpha: color.alpha * f64::from(a), rgb: color.rgb };
                self.inner.draw_pixel((x, y), mixed)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inked columns of `text` as runs `(first, last)`, left to right.
    fn ink_runs(text: &str) -> Vec<(i32, i32)> {
        let mut cols: Vec<i32> =
            rasterise(text, 14.0, FontStyle::Normal).into_iter().filter(|p| p.2 > 0.25).map(|p| p.0).collect();
        cols.sort_unstable();
        cols.dedup();
        let mut runs: Vec<(i32, i32)> = Vec::new();
        for c in cols {
            match runs.last_mut() {
                Some(r) if c == r.1 + 1 => r.1 = c,
                _ => runs.push((c, c)),
            }
        }
        runs
    }

    #[test]
    fn digit_one_is_not_followed_by_a_gap() {
        // "10": the gap between the 1 and the 0 is as narrow as between 2 and 0, not a space wide.
        let ten = ink_runs("10");
        let twenty = ink_runs("20");
        assert_eq!(ten.len(), 2, "{ten:?}");
        assert_eq!(twenty.len(), 2, "{twenty:?}");
        let gap_ten = ten[1].0 - ten[0].1;
        let gap_twenty = twenty[1].0 - twenty[0].1;
        assert!(gap_ten <= gap_twenty + 2, "10 gap {gap_ten} px, 20 gap {gap_twenty} px");
        // And the text is as wide as plotters measures it, so anchoring and wrapping agree.
        let font = font_for(FontStyle::Normal).unwrap().as_scaled(PxScale::from(14.0));
        let advance: f32 = "10".chars().map(|c| font.h_advance(font.glyph_id(c))).sum();
        assert!((ten[1].1 as f32) < advance + 1.0 && ten[0].0 >= 0, "{ten:?} within {advance}");
    }

    #[test]
    fn rasterising_is_deterministic() {
        assert_eq!(
            rasterise("May 10 12:00", 14.0, FontStyle::Normal),
            rasterise("May 10 12:00", 14.0, FontStyle::Normal)
        );
        assert!(rasterise("", 14.0, FontStyle::Normal).is_empty());
    }
}
