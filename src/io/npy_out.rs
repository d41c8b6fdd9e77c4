//! NPY and CSV outputs, written atomically.

use crate::error::{Result, UdllError};
use crate::io::atomic::write_atomic_with;
use ndarray::{Array2, ArrayView2};
use ndarray_npy::WriteNpyExt;
use std::path::Path;

/// Write a row-major `rows × cols` f32 matrix as a C-order .npy file.
pub fn write_npy_f32(path: &Path, data: &[f32], rows: usize, cols: usize) -> Result<()> {
    let view = ArrayView2::from_shape((rows, cols), data).map_err(|e| UdllError::shape(format!("{}: {e}", path.display())))?;
    write_atomic_with(path, |w| view.write_npy(w).map_err(std::io::Error::other))
}

/// Read a 2-D f32 .npy matrix (features, coefficient matrices).
pub fn read_npy_matrix(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    if !path.exists() {
        return Err(UdllError::io(path, std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")));
    }
    let a: Array2<f32> = match ndarray_npy::read_npy(path) {
        Ok(a) => a,
        Err(ndarray_npy::ReadNpyError::WrongDescriptor(_)) => {
            let b: Array2<f64> = ndarray_npy::read_npy(path).map_err(|e| UdllError::format(path, format!("expected a 2-D f32 or f64 .npy matrix: {e}")))?;
            b.mapv(|v| v as f32)
        }
        Err(e) => return Err(UdllError::format(path, format!("expected a 2-D f32 .npy matrix: {e}"))),
    };
    let (r, c) = a.dim();
    let data: Vec<f32> = a.iter().copied().collect();
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite(format!("{}: entry {i} is NaN or infinite", path.display())));
    }
    Ok((data, r, c))
}
