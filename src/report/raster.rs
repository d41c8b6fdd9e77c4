//! Raster figures as PNG bytes: a matrix as a heat map, and montages of
//! images with a coloured frame per tile.

use crate::error::{Result, UdllError};

/// An RGB image being drawn.
pub struct Canvas {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    rgb: Vec<u8>,
}

/// Grey for tiles with nothing to say, red for a marked one.
pub const FRAME_PLAIN: [u8; 3] = [200, 200, 200];
/// The frame of an image whose true class is not its cluster's class.
pub const FRAME_MARKED: [u8; 3] = [220, 30, 30];

impl Canvas {
    /// A canvas of `width` × `height` filled with `colour`.
    pub fn new(width: usize, height: usize, colour: [u8; 3]) -> Self {
        Canvas { width, height, rgb: colour.repeat(width * height) }
    }

    /// Set one pixel (outside the canvas: ignored).
    pub fn put(&mut self, x: usize, y: usize, colour: [u8; 3]) {
        if x < self.width && y < self.height {
            self.rgb[(y * self.width + x) * 3..][..3].copy_from_slice(&colour);
        }
    }

    /// Fill a rectangle.
    pub fn fill(&mut self, x0: usize, y0: usize, w: usize, h: usize, colour: [u8; 3]) {
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                self.put(x, y, colour);
            }
        }
    }

    /// Draw a picture of `(h, w, c)` values in [0, 1] (row-major, channel
    /// fastest; grey when c ≠ 3) with its corner at `(x0, y0)`, each pixel
    /// `scale` × `scale`.
    pub fn picture(&mut self, (x0, y0): (usize, usize), values: &[f32], (h, w, c): (usize, usize, usize), scale: usize) {
        for y in 0..h {
            for x in 0..w {
                let px = &values[(y * w + x) * c..][..c];
                let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                let colour = if c == 3 { [byte(px[0]), byte(px[1]), byte(px[2])] } else { [byte(px[0]); 3] };
                self.fill(x0 + x * scale, y0 + y * scale, scale, scale, colour);
            }
        }
    }

    /// Encode as an 8-bit RGB PNG.
    pub fn png(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let err = |e: png::EncodingError| UdllError::Numeric(format!("encoding a PNG figure: {e}"));
        {
            let mut enc = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().map_err(err)?;
            writer.write_image_data(&self.rgb).map_err(err)?;
            writer.finish().map_err(err)?;
        }
        Ok(out)
    }
}

/// White at 0 through blue to near-black at 1.
pub fn heat_colour(v: f64) -> [u8; 3] {
    const STOPS: [(f64, [f64; 3]); 4] = [(0.0, [255.0, 255.0, 255.0]), (0.35, [120.0, 170.0, 225.0]), (0.7, [30.0, 70.0, 160.0]), (1.0, [10.0, 15.0, 50.0])];
    let v = v.clamp(0.0, 1.0);
    let i = STOPS.iter().rposition(|(s, _)| *s <= v).unwrap_or(0).min(STOPS.len() - 2);
    let ((s0, c0), (s1, c1)) = (STOPS[i], STOPS[i + 1]);
    let t = (v - s0) / (s1 - s0);
    [0, 1, 2].map(|k| (c0[k] + t * (c1[k] - c0[k])).round() as u8)
}

/// |M| of the n × n row-major matrix `m` with rows and columns taken in the
/// order `order`, averaged down to at most `max_side` pixels a side, drawn
/// as a heat map, linear up to the 99.5th percentile of the non-zero
/// pixels (the few larger ones saturate). `boundaries` are positions in
/// `order` where a group starts: lines are drawn there.
#[cfg(test)]
pub fn heat_map(m: &[f32], n: usize, order: &[usize], max_side: usize, boundaries: &[usize]) -> Result<Vec<u8>> {
    if m.len() != n * n {
        return Err(UdllError::shape(format!("a heat map of {} values, for n = {n}", m.len())));
    }
    heat_map_rows(n, order, max_side, boundaries, &|i, visit| m[i * n..][..n].iter().enumerate().for_each(|(j, &v)| visit(j, v)))
}

/// `rows(i, visit)`: calls `visit(j, m_ij)` for row i's stored entries.
pub type RowVisitor<'a> = dyn Fn(usize, &mut dyn FnMut(usize, f32)) + 'a;

/// [`heat_map`] of a matrix given row by row: `rows(i, visit)` calls
/// `visit(j, m_ij)` for the stored entries of row i (the others are zero;
/// a sparse matrix's rows, say).
pub fn heat_map_rows(n: usize, order: &[usize], max_side: usize, boundaries: &[usize], rows: &RowVisitor) -> Result<Vec<u8>> {
    if order.len() != n || n == 0 {
        return Err(UdllError::shape(format!("a heat map in the order of {} rows, for n = {n}", order.len())));
    }
    let side = n.min(max_side.max(1));
    let bin = |r: usize| r * side / n;
    let mut position = vec![usize::MAX; n];
    for (r, &i) in order.iter().enumerate() {
        if i >= n {
            return Err(UdllError::shape(format!("a heat map's order names row {i} of {n}")));
        }
        position[i] = r;
    }
    let mut per_bin = vec![0u32; side];
    (0..n).for_each(|r| per_bin[bin(r)] += 1);
    let mut sum = vec![0f64; side * side];
    for (r, &i) in order.iter().enumerate() {
        let base = bin(r) * side;
        rows(i, &mut |j, v| {
            if let Some(&c) = position.get(j).filter(|&&c| c != usize::MAX) {
                sum[base + bin(c)] += v.abs() as f64;
            }
        });
    }
    let count: Vec<u32> = (0..side * side).map(|e| per_bin[e / side] * per_bin[e % side]).collect();
    let mean: Vec<f64> = sum.iter().zip(&count).map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 }).collect();
    let mut nonzero: Vec<f64> = mean.iter().copied().filter(|v| *v > 0.0).collect();
    let top = if nonzero.is_empty() {
        1.0
    } else {
        let k = ((nonzero.len() - 1) as f64 * 0.995) as usize;
        *nonzero.select_nth_unstable_by(k, f64::total_cmp).1
    };
    let mut canvas = Canvas::new(side, side, [255, 255, 255]);
    for y in 0..side {
        for x in 0..side {
            // 64 shades: plenty for the eye, and a PNG a fraction the size.
            let v = (mean[y * side + x] / top * 64.0).round() / 64.0;
            canvas.put(x, y, heat_colour(v));
        }
    }
    for &b in boundaries.iter().filter(|&&b| b > 0 && b < n) {
        let p = bin(b);
        for t in 0..side {
            canvas.put(p, t, [230, 60, 40]);
            canvas.put(t, p, [230, 60, 40]);
        }
    }
    canvas.png()
}

/// A picture to place in a montage: its values (h × w × c in [0, 1]) and
/// the colour of its frame.
pub struct Tile<'a> {
    /// The picture, as [`Canvas::picture`] reads it.
    pub values: &'a [f32],
    /// The frame's colour.
    pub frame: [u8; 3],
}

/// Tiles of h × w × c pictures in rows of `per_row`, each enlarged to at
/// least 64 pixels a side and framed.
pub fn montage(tiles: &[Tile<'_>], h: usize, w: usize, c: usize, per_row: usize) -> Result<Vec<u8>> {
    if tiles.is_empty() || per_row == 0 {
        return Err(UdllError::shape("a montage of no images"));
    }
    let scale = (64 / h.max(w)).max(1);
    let frame = 3;
    let (tw, th) = (w * scale + 2 * frame, h * scale + 2 * frame);
    let gap = 4;
    let cols = per_row.min(tiles.len());
    let rows = tiles.len().div_ceil(per_row);
    let mut canvas = Canvas::new(cols * (tw + gap) - gap, rows * (th + gap) - gap, [255, 255, 255]);
    for (i, t) in tiles.iter().enumerate() {
        let (x0, y0) = ((i % per_row) * (tw + gap), (i / per_row) * (th + gap));
        canvas.fill(x0, y0, tw, th, t.frame);
        canvas.picture((x0 + frame, y0 + frame), t.values, (h, w, c), scale);
    }
    canvas.png()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode a PNG written here back to (width, height, RGB bytes).
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn heat_map_orders_downsamples_and_scales() {
        // Two 2 × 2 blocks, stored interleaved: in the order 0, 2, 1, 3
        // they sit on the diagonal.
        let n = 4;
        let mut m = vec![0f32; 16];
        for (i, j) in [(0, 2), (2, 0), (1, 3), (3, 1), (0, 0), (2, 2), (1, 1), (3, 3)] {
            m[i * n + j] = -1.0;
        }
        let (w, h, rgb) = decode(&heat_map(&m, n, &[0, 2, 1, 3], 1000, &[]).unwrap());
        assert_eq!((w, h), (4, 4));
        let px = |x: usize, y: usize| &rgb[(y * 4 + x) * 3..][..3];
        assert_eq!(px(1, 0), heat_colour(1.0), "|−1| at the top of the scale");
        assert_eq!(px(2, 0), [255, 255, 255], "zero off the blocks");
        // Downsampled to 2 × 2: each pixel is a block's mean.
        let (w, _, rgb) = decode(&heat_map(&m, n, &[0, 2, 1, 3], 2, &[]).unwrap());
        assert_eq!(w, 2);
        assert_eq!(&rgb[..3], heat_colour(1.0));
        assert_eq!(&rgb[3..6], [255, 255, 255]);
        assert!(heat_map(&m, n, &[0, 1], 10, &[]).is_err());
    }

    #[test]
    fn montage_frames_and_enlarges() {
        let a = vec![1.0f32; 4];
        let b = vec![0.0f32; 4];
        let tiles = [Tile { values: &a, frame: FRAME_PLAIN }, Tile { values: &b, frame: FRAME_MARKED }, Tile { values: &a, frame: FRAME_PLAIN }];
        let (w, h, rgb) = decode(&montage(&tiles, 2, 2, 1, 2).unwrap());
        // 2 × 2 pictures enlarged 32 times, framed by 3, 4 apart, two per row.
        assert_eq!((w, h), (2 * 70 + 4, 2 * 70 + 4));
        let px = |x: usize, y: usize| rgb[(y * w as usize + x) * 3..][..3].to_vec();
        assert_eq!(px(74, 0), FRAME_MARKED, "the second tile's frame");
        assert_eq!(px(74 + 10, 10), vec![0, 0, 0], "the second picture");
        assert_eq!(px(10, 10), vec![255, 255, 255], "the first picture");
        assert!(montage(&[], 2, 2, 1, 2).is_err());
    }
}
