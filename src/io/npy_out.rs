//! NPY and CSV outputs, written atomically.

use crate::error::{Result, UdllError};
use crate::io::atomic::write_atomic_with;
use crate::io::sink::Sink;
use ndarray::{Array2, ArrayView2};
use ndarray_npy::WriteNpyExt;
use std::path::Path;

/// Write a row-major `rows × cols` f32 matrix as a C-order .npy file.
pub fn write_npy_f32(path: &Path, data: &[f32], rows: usize, cols: usize) -> Result<()> {
    let view = ArrayView2::from_shape((rows, cols), data).map_err(|e| UdllError::shape(format!("{}: {e}", path.display())))?;
    write_atomic_with(path, |w| view.write_npy(w).map_err(std::io::Error::other))
}

/// Put a row-major `rows × cols` f32 matrix as the .npy artefact `name`.
pub fn put_npy_f32(out: &Sink, name: &str, data: &[f32], rows: usize, cols: usize) -> Result<()> {
    let view = ArrayView2::from_shape((rows, cols), data).map_err(|e| UdllError::shape(format!("{name}: {e}")))?;
    out.put_with(name, |w| view.write_npy(w).map_err(std::io::Error::other))
}

/// Put a 1-D array as the .npy artefact `name`.
pub fn put_npy_vec<T: ndarray_npy::WritableElement>(out: &Sink, name: &str, data: &[T]) -> Result<()> {
    let view = ndarray::ArrayView1::from(data);
    out.put_with(name, |w| view.write_npy(w).map_err(std::io::Error::other))
}

/// A `rows × cols` f32 .npy file written a block of rows at a time (codes
/// of more images than memory holds), under a temporary name until
/// [`NpyRowWriter::finish`] renames it into place.
pub struct NpyRowWriter {
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    cols: usize,
    left: usize,
}

/// The header of a C-order .npy array of `descr` (numpy's type string,
/// e.g. `<f4`, `|u1`) and `shape`, as ndarray-npy writes it (format 1.0,
/// padded to 64 bytes).
pub fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}}}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut head = b"\x93NUMPY\x01\x00".to_vec();
    head.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    head.extend_from_slice(dict.as_bytes());
    head
}

impl NpyRowWriter {
    /// Start `path` with the header of a `rows × cols` little-endian f32
    /// C-order array ([`npy_header`]).
    pub fn create(path: &Path, rows: usize, cols: usize) -> Result<Self> {
        use std::io::Write;
        let tmp = path.with_extension("npy.partial");
        let f = std::fs::File::create(&tmp).map_err(|e| UdllError::io(&tmp, e))?;
        let mut file = std::io::BufWriter::new(f);
        file.write_all(&npy_header("<f4", &[rows, cols])).map_err(|e| UdllError::io(&tmp, e))?;
        Ok(NpyRowWriter { path: path.to_path_buf(), tmp, file, cols, left: rows })
    }

    /// Append rows (a whole number of them).
    pub fn append(&mut self, values: &[f32]) -> Result<()> {
        use std::io::Write;
        let rows = values.len() / self.cols.max(1);
        if !values.len().is_multiple_of(self.cols.max(1)) || rows > self.left {
            return Err(UdllError::shape(format!(
                "{}: {} values are not whole rows of {} within the {} left",
                self.path.display(),
                values.len(),
                self.cols,
                self.left
            )));
        }
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.file.write_all(&bytes).map_err(|e| UdllError::io(&self.tmp, e))?;
        self.left -= rows;
        Ok(())
    }

    /// Check every row was written, then move the file into place.
    pub fn finish(mut self) -> Result<()> {
        use std::io::Write;
        if self.left != 0 {
            return Err(UdllError::shape(format!("{}: {} rows were never written", self.path.display(), self.left)));
        }
        self.file.flush().map_err(|e| UdllError::io(&self.tmp, e))?;
        self.file.get_ref().sync_all().map_err(|e| UdllError::io(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| UdllError::io(&self.path, e))
    }
}

/// Write a 1-D array as a .npy file (a CSR matrix's `indptr`, `indices`
/// and `data`, say).
pub fn write_npy_vec<T: ndarray_npy::WritableElement>(path: &Path, data: &[T]) -> Result<()> {
    let view = ndarray::ArrayView1::from(data);
    write_atomic_with(path, |w| view.write_npy(w).map_err(std::io::Error::other))
}

/// Check a .npy file's header before a reader parses it: the magic, a
/// header of at most 64 KiB that is one flat Python dict (one pair of
/// braces, one shape tuple, no lists), and a declared shape whose data the
/// file holds. The dict parser behind ndarray-npy takes exponential time on
/// nested brackets (AFL found headers of `{{{{…` that took over 20 s), and
/// a shape is a size to check before anything is allocated from it.
pub fn check_npy_header(path: &Path) -> Result<()> {
    use std::io::Read;
    let file_len = std::fs::metadata(path).map_err(|e| UdllError::io(path, e))?.len();
    let mut head = Vec::new();
    std::fs::File::open(path).and_then(|f| f.take(10 + 65_536).read_to_end(&mut head)).map_err(|e| UdllError::io(path, e))?;
    check_npy_head(path, &head, file_len)
}

/// [`check_npy_header`] on the first bytes `head` of a .npy array of
/// `file_len` bytes (`path` names it in errors).
fn check_npy_head(path: &Path, head: &[u8], file_len: u64) -> Result<()> {
    let bad = |m: String| UdllError::format(path, format!("not a readable .npy array: {m}"));
    if head.len() < 10 || &head[..6] != b"\x93NUMPY" {
        return Err(bad("no .npy magic".into()));
    }
    let (len, start) = match head[6] {
        1 => (u16::from_le_bytes([head[8], head[9]]) as usize, 10),
        2 | 3 if head.len() >= 12 => (u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize, 12),
        v => return Err(bad(format!("format version {v}"))),
    };
    let text = head.get(start..start + len).ok_or_else(|| bad(format!("a header of {len} bytes (at most 65536, and within the file)")))?;
    let text = std::str::from_utf8(text).map_err(|_| bad("the header is not text".into()))?;
    let count = |c: char| text.matches(c).count();
    if count('{') != 1 || count('}') != 1 || count('(') != 1 || count(')') != 1 || count('[') + count(']') != 0 {
        return Err(bad("the header is not one flat dict with a shape tuple".into()));
    }
    let open = text.find('(').expect("counted") + 1;
    let shape = text[open..].find(')').map(|close| &text[open..open + close]).ok_or_else(|| bad("the shape tuple is not closed".into()))?;
    let mut elements = 1u64;
    for dim in shape.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let d: u64 = dim.parse().map_err(|_| bad(format!("shape entry '{dim}'")))?;
        elements = elements.checked_mul(d).ok_or_else(|| bad(format!("shape ({shape}) overflows")))?;
    }
    let item = ["1'", "2'", "4'", "8'"].iter().zip([1u64, 2, 4, 8]).find(|(t, _)| text.contains(*t)).map_or(1, |(_, b)| b);
    let data = file_len.saturating_sub((start + len) as u64);
    if elements.checked_mul(item).is_none_or(|need| need > data) {
        return Err(bad(format!("the header declares shape ({shape}) of {item}-byte items, the file holds {data} bytes of data")));
    }
    Ok(())
}

/// Read a 1-D .npy array of `T` (a CSR matrix's parts, say).
pub fn read_npy_vec<T: ndarray_npy::ReadableElement>(path: &Path) -> Result<Vec<T>> {
    let bytes = std::fs::read(path).map_err(|e| UdllError::io(path, e))?;
    npy_vec_from_bytes(path, &bytes)
}

/// [`read_npy_vec`] on the bytes of a .npy file.
pub fn npy_vec_from_bytes<T: ndarray_npy::ReadableElement>(path: &Path, bytes: &[u8]) -> Result<Vec<T>> {
    use ndarray_npy::ReadNpyExt;
    check_npy_head(path, &bytes[..bytes.len().min(10 + 65_536)], bytes.len() as u64)?;
    let a = ndarray::Array1::<T>::read_npy(bytes)
        .map_err(|e| UdllError::format(path, format!("expected a 1-D .npy array of {}: {e}", std::any::type_name::<T>())))?;
    Ok(a.into_raw_vec_and_offset().0)
}

/// Read a 2-D f32 .npy matrix (features, coefficient matrices).
pub fn read_npy_matrix(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    let bytes = std::fs::read(path).map_err(|e| UdllError::io(path, e))?;
    npy_matrix_from_bytes(path, &bytes)
}

/// [`read_npy_matrix`] on the bytes of a .npy file (`path` names it in
/// errors).
pub fn npy_matrix_from_bytes(path: &Path, bytes: &[u8]) -> Result<(Vec<f32>, usize, usize)> {
    use ndarray_npy::ReadNpyExt;
    check_npy_head(path, &bytes[..bytes.len().min(10 + 65_536)], bytes.len() as u64)?;
    let a: Array2<f32> = match Array2::<f32>::read_npy(bytes) {
        Ok(a) => a,
        Err(ndarray_npy::ReadNpyError::WrongDescriptor(_)) => {
            let b = Array2::<f64>::read_npy(bytes).map_err(|e| UdllError::format(path, format!("expected a 2-D f32 or f64 .npy matrix: {e}")))?;
            b.mapv(|v| v as f32)
        }
        Err(e) => return Err(UdllError::format(path, format!("expected a 2-D f32 .npy matrix: {e}"))),
    };
    let (r, c) = a.dim();
    // The array's own buffer when it is in row-major order (a copy of a
    // 300 MB matrix is a third of a shard's memory).
    let data: Vec<f32> = if a.is_standard_layout() { a.into_raw_vec_and_offset().0 } else { a.iter().copied().collect() };
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite(format!("{}: entry {i} is NaN or infinite", path.display())));
    }
    Ok((data, r, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An input AFL found (fixtures/fuzz/): a header of nested braces on
    /// which ndarray-npy's dict parser ran for over 20 s. It is refused by
    /// the header check at once; valid files still read.
    #[test]
    fn npy_headers_are_checked_first() {
        let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz/npy-nested-braces.npy");
        let t = std::time::Instant::now();
        let e = read_npy_matrix(&bad).unwrap_err().to_string();
        assert!(e.contains("not one flat dict"), "{e}");
        assert!(t.elapsed().as_secs_f64() < 1.0);
        // AFL again, on the check itself: a ')' before the '(' made it
        // slice backwards and panic.
        let swapped = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz/npy-paren-order.npy");
        assert!(read_npy_matrix(&swapped).unwrap_err().to_string().contains("not closed"));
        let dir = std::env::temp_dir().join(format!("udll-npy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("m.npy");
        write_npy_f32(&good, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3).unwrap();
        assert_eq!(read_npy_matrix(&good).unwrap(), (vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3));
        let mut short = std::fs::read(&good).unwrap();
        short.truncate(short.len() - 4);
        std::fs::write(&good, short).unwrap();
        assert!(read_npy_matrix(&good).unwrap_err().to_string().contains("the file holds 20 bytes of data"));
        // Written a block of rows at a time: what write_npy_f32 writes.
        let rows = dir.join("rows.npy");
        let mut w = NpyRowWriter::create(&rows, 3, 2).unwrap();
        w.append(&[1.0, 2.0]).unwrap();
        w.append(&[3.0, 4.0, 5.0, 6.0]).unwrap();
        assert!(w.append(&[7.0, 8.0]).is_err(), "more rows than declared");
        w.finish().unwrap();
        write_npy_f32(&good, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, 2).unwrap();
        assert_eq!(std::fs::read(&rows).unwrap(), std::fs::read(&good).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
