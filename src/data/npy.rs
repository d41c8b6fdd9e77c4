//! NumPy `.npy` input (via ndarray-npy): images as f32 / f64 / u8 arrays of
//! shape (n, h, w), (n, h, w, c) or (n, h·w); labels as a 1-D integer (or
//! integer-valued float) array.

use crate::data::dataset::{labels_from_values, resolve_image_size};
use crate::error::{Result, UdllError};
use ndarray::ArrayD;
use ndarray_npy::{ReadNpyError, read_npy};
use std::path::Path;

fn npy_err(path: &Path, e: ReadNpyError) -> UdllError {
    match e {
        ReadNpyError::Io(io) => UdllError::io(path, io),
        other => UdllError::format(path, format!("not a readable .npy array: {other}")),
    }
}

/// Read an n-D array of any supported dtype as f64, with a flag saying
/// whether the dtype was an integer type.
fn read_any(path: &Path) -> Result<(Vec<usize>, Vec<f64>, bool)> {
    if !path.exists() {
        return Err(UdllError::io(path, std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")));
    }
    crate::io::npy_out::check_npy_header(path)?;
    macro_rules! attempt {
        ($t:ty, $int:expr) => {
            match read_npy::<_, ArrayD<$t>>(path) {
                Ok(a) => return Ok((a.shape().to_vec(), a.iter().map(|&v| v as f64).collect(), $int)),
                Err(ReadNpyError::WrongDescriptor(_)) => {}
                Err(e) => return Err(npy_err(path, e)),
            }
        };
    }
    attempt!(f32, false);
    attempt!(f64, false);
    attempt!(u8, true);
    attempt!(i64, true);
    attempt!(i32, true);
    attempt!(u16, true);
    Err(UdllError::format(path, "unsupported .npy dtype (expected f32, f64, u8, u16, i32 or i64)"))
}

/// Returns (n, h, w, c, pixels NHWC, stored_integer).
pub fn read_npy_images(path: &Path, size: Option<(usize, usize)>) -> Result<(usize, usize, usize, usize, Vec<f32>, bool)> {
    let (shape, data, integer) = read_any(path)?;
    let (n, h, w, c) = match shape.as_slice() {
        [n, d] => {
            let (h, w) = resolve_image_size(*d, size, path)?;
            (*n, h, w, 1)
        }
        [n, h, w] => (*n, *h, *w, 1),
        [n, h, w, c] => (*n, *h, *w, *c),
        s => return Err(UdllError::format(path, format!("image array of shape {s:?}; expected (n, h, w), (n, h, w, c) or (n, h*w)"))),
    };
    Ok((n, h, w, c, data.into_iter().map(|v| v as f32).collect(), integer))
}

/// A 1-D label array of exactly `n` entries, mapped to 0..K−1.
pub fn read_npy_labels(path: &Path, n: usize) -> Result<Vec<usize>> {
    let (shape, data, _) = read_any(path)?;
    if shape.iter().filter(|&&d| d != 1).count() > 1 {
        return Err(UdllError::format(path, format!("labels must be a 1-D array, got shape {shape:?}")));
    }
    if data.len() != n {
        return Err(UdllError::format(path, format!("{} labels for {n} images", data.len())));
    }
    labels_from_values(&data, &path.display().to_string())
}
