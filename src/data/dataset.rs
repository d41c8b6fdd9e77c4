//! The dataset type: n images, each h × w × c f32 pixels (NHWC, channel
//! fastest), nominally in [0, 1], with optional 0-based integer labels.
//!
//! Pixel order follows the reference code (DSC-Net / UDLL): a MATLAB row of
//! 1024 pixels is reshaped *row-major* to 32 × 32, which is the transposed
//! picture. The published pretrained weights were trained that way; only
//! pictures meant for people need transposing back.

use crate::error::{Result, UdllError};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
/// n images of h × w × c f32 pixels (NHWC, channel fastest), nominally in [0, 1], with optional 0-based labels.
pub struct Dataset {
    /// A name for reports: the file stem, or `synthetic`.
    pub name: String,
    /// The number of images.
    pub n: usize,
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// Channels per pixel (1 for grey).
    pub channels: usize,
    /// n × height × width × channels.
    pub pixels: Vec<f32>,
    /// 0-based class of each image, when known.
    pub labels: Option<Vec<usize>>,
    /// Where it was read from (None for generated data).
    pub source: Option<PathBuf>,
    /// Notes on how the stored values were converted (for `udll info`).
    pub notes: Vec<String>,
    /// Each image's values, read column-major as height × width, give the
    /// picture as people see it. True for the 2-D MAT layouts: the reference
    /// code reshapes MATLAB's column-major pixel vector row-major (the
    /// transposed picture for square images), and the network is trained
    /// on that order; only pictures for people are turned back.
    pub column_major_picture: bool,
    /// Each image's file, relative to the folder read (image folders only).
    pub files: Option<Vec<String>>,
    /// Each image's index in the input it was drawn from, when the dataset
    /// is a sample of a larger one (`udll run --fit-sample`).
    pub indices: Option<Vec<usize>>,
}

impl Dataset {
    /// Values per image, h·w·c.
    pub fn image_len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// The number of classes (largest label + 1), when labelled.
    pub fn num_classes(&self) -> Option<usize> {
        self.labels.as_ref().map(|l| l.iter().copied().max().map_or(0, |m| m + 1))
    }

    /// Check the invariants every consumer relies on.
    pub fn validate(&self) -> Result<()> {
        let what = self.source.as_ref().map_or(self.name.clone(), |p| p.display().to_string());
        if self.n == 0 || self.image_len() == 0 {
            return Err(UdllError::shape(format!("{what}: the dataset is empty")));
        }
        if self.pixels.len() != self.n * self.image_len() {
            return Err(UdllError::shape(format!(
                "{what}: {} pixel values for {} images of {}×{}×{}",
                self.pixels.len(),
                self.n,
                self.height,
                self.width,
                self.channels
            )));
        }
        if let Some(i) = self.pixels.iter().position(|v| !v.is_finite()) {
            return Err(UdllError::NonFinite(format!("{what}: image {} has a NaN or infinite pixel", i / self.image_len())));
        }
        if let Some(l) = &self.labels
            && l.len() != self.n
        {
            return Err(UdllError::shape(format!("{what}: {} labels for {} images", l.len(), self.n)));
        }
        Ok(())
    }

    /// The facts a manifest records about the data (the file itself is
    /// recorded with its hash among the inputs).
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({"name": self.name, "n": self.n, "height": self.height, "width": self.width, "channels": self.channels, "classes": self.num_classes()})
    }

    /// Image `i` as people see it: height × width × channels values,
    /// row-major, channel fastest (see [`Dataset::column_major_picture`]).
    pub fn picture(&self, i: usize) -> Vec<f32> {
        picture_of(&self.pixels[i * self.image_len()..][..self.image_len()], self.height, self.width, self.channels, self.column_major_picture)
    }

    /// A dataset from an array of images: (n, height, width) for grey,
    /// (n, height, width, channels) for colour, in any memory layout;
    /// values in [0, 1], or 0..255 (divided by 255, as the file readers
    /// do). `labels`, when given, are one class per image, any integers
    /// (mapped to 0..K−1 in sorted order).
    pub fn from_array(name: &str, images: ndarray::ArrayViewD<'_, f32>, labels: Option<&[i64]>) -> Result<Dataset> {
        let (n, h, w, c) = match *images.shape() {
            [n, h, w] => (n, h, w, 1),
            [n, h, w, c] => (n, h, w, c),
            ref s => return Err(UdllError::shape(format!("images of shape {s:?}: expected (n, height, width) or (n, height, width, channels)"))),
        };
        let mut pixels: Vec<f32> = images.iter().copied().collect();
        let mut notes = vec![format!("{n} images of {h} × {w} × {c} from an array")];
        if let Some(note) = normalise_pixels(&mut pixels, false, name)? {
            notes.push(note);
        }
        let labels = match labels {
            Some(l) if l.len() != n => return Err(UdllError::shape(format!("{name}: {} labels for {n} images", l.len()))),
            Some(l) => Some(labels_from_values(&l.iter().map(|&v| v as f64).collect::<Vec<_>>(), name)?),
            None => None,
        };
        let ds = Dataset {
            name: name.to_string(),
            n,
            height: h,
            width: w,
            channels: c,
            pixels,
            labels,
            source: None,
            notes,
            column_major_picture: false,
            files: None,
            indices: None,
        };
        ds.validate()?;
        Ok(ds)
    }

    /// The same dataset's description with no images (name, size,
    /// source, layout), to build a subset from.
    pub fn clone_header(&self) -> Dataset {
        Dataset {
            name: self.name.clone(),
            source: self.source.clone(),
            column_major_picture: self.column_major_picture,
            ..Dataset::empty(self.height, self.width, self.channels)
        }
    }

    /// No images of `height` × `width` × `channels`, unnamed, row-major.
    pub fn empty(height: usize, width: usize, channels: usize) -> Dataset {
        Dataset {
            name: String::new(),
            n: 0,
            height,
            width,
            channels,
            pixels: Vec::new(),
            labels: None,
            source: None,
            notes: Vec::new(),
            column_major_picture: false,
            files: None,
            indices: None,
        }
    }

    /// Pixels multiplied by `scale` (a preset's input scale: the references
    /// feed ORL and Yale B as raw 0..255).
    pub fn scaled_pixels(&self, scale: f32) -> Vec<f32> {
        if scale == 1.0 { self.pixels.clone() } else { self.pixels.iter().map(|v| v * scale).collect() }
    }
}

/// One image's stored values (h × w × c, as the network reads them) as
/// people see it: unchanged, or read column-major when `column_major`.
pub fn picture_of(values: &[f32], h: usize, w: usize, c: usize, column_major: bool) -> Vec<f32> {
    if !column_major {
        return values.to_vec();
    }
    let mut out = vec![0f32; values.len()];
    for y in 0..h {
        for x in 0..w {
            let q = y + x * h;
            out[(y * w + x) * c..][..c].copy_from_slice(&values[q * c..][..c]);
        }
    }
    out
}

/// Map arbitrary integer-valued labels to 0..K−1 in sorted order of value.
pub fn labels_from_values(values: &[f64], what: &str) -> Result<Vec<usize>> {
    if let Some(v) = values.iter().find(|v| !v.is_finite() || v.fract() != 0.0) {
        return Err(UdllError::config(format!("{what}: labels must be integers, found {v}")));
    }
    let mut uniq: Vec<i64> = values.iter().map(|v| *v as i64).collect();
    uniq.sort_unstable();
    uniq.dedup();
    Ok(values.iter().map(|v| uniq.binary_search(&(*v as i64)).unwrap_or(0)).collect())
}

/// Bring stored pixel values to [0, 1]: integer storage (uint8) is divided
/// by 255, as are floating values that are plainly on a 0..255 scale.
/// Returns a note describing what was done, if anything.
pub fn normalise_pixels(values: &mut [f32], stored_integer: bool, what: &str) -> Result<Option<String>> {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite(format!("{what}: pixel value {i} is NaN or infinite")));
    }
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if lo < 0.0 || hi > 255.0 {
        return Err(UdllError::config(format!("{what}: pixel values span [{lo}, {hi}]; expected [0, 1] or 0..255")));
    }
    if stored_integer || hi > 1.0 {
        values.iter_mut().for_each(|v| *v /= 255.0);
        return Ok(Some(format!("pixels stored in 0..255 (max {hi}) were divided by 255")));
    }
    Ok(None)
}

/// Parse "32x32" / "48x42" / "32".
pub fn parse_image_size(s: &str) -> Result<(usize, usize)> {
    let parts: Vec<&str> = s.split(['x', 'X', '×']).collect();
    let nums: Vec<usize> = parts
        .iter()
        .map(|p| p.trim().parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| UdllError::config(format!("image size '{s}': expected HxW, e.g. 32x32")))?;
    let (h, w) = match nums.as_slice() {
        [s] if *s > 0 => (*s, *s),
        [h, w] if *h > 0 && *w > 0 => (*h, *w),
        _ => return Err(UdllError::config(format!("image size '{s}': expected HxW, e.g. 32x32"))),
    };
    // Pixels per image are h·w: refuse sizes whose product overflows or
    // that no image file could hold, before anything is sized from them.
    match h.checked_mul(w) {
        Some(p) if p <= MAX_PIXELS_PER_IMAGE => Ok((h, w)),
        _ => Err(UdllError::config(format!("image size '{s}': {h} × {w} pixels is more than the {MAX_PIXELS_PER_IMAGE} an image may have"))),
    }
}

/// The most pixels one image may have (65 536 × 65 536): far above any
/// dataset udll is for, far below what overflows a size computation.
pub const MAX_PIXELS_PER_IMAGE: usize = 1 << 32;

/// Height × width for d pixels: the given size (checked) or the square root.
pub fn resolve_image_size(d: usize, given: Option<(usize, usize)>, path: &Path) -> Result<(usize, usize)> {
    match given {
        Some((h, w)) if h.checked_mul(w) == Some(d) => Ok((h, w)),
        Some((h, w)) => Err(UdllError::format(path, format!("{d} pixels per image do not make {h}×{w} images"))),
        None => {
            let s = (d as f64).sqrt().round() as usize;
            if s * s == d {
                Ok((s, s))
            } else if d == 48 * 42 {
                // The cropped Extended Yale B release (YaleBCrop025.mat).
                Ok((48, 42))
            } else {
                Err(UdllError::format(path, format!("{d} pixels per image is not a square; give the image size (height × width, e.g. 48x42)")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `2x9223372036854776320` wraps to 1024 pixels in unchecked arithmetic:
    /// it was accepted for 32 × 32 images and then aborted on a capacity
    /// overflow (and `udll info` printed a nonsense size).
    #[test]
    fn image_sizes_are_checked_before_use() {
        assert_eq!(parse_image_size("48x42").unwrap(), (48, 42));
        assert_eq!(parse_image_size("32").unwrap(), (32, 32));
        for bad in ["2x9223372036854776320", "4294967296x2", "0x4", "x", "3x4x5"] {
            assert!(parse_image_size(bad).is_err(), "{bad}");
        }
        let wraps = (2, 9223372036854776320usize);
        assert!(resolve_image_size(1024, Some(wraps), Path::new("f")).is_err());
    }
}
