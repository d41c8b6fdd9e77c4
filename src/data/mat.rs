//! MATLAB Level 5 MAT-files: a reader for numeric arrays (compressed and
//! uncompressed elements, any numeric storage type, either byte order) and a
//! small writer used by the tests and by anyone who wants a MAT output.
//!
//! Format facts (MathWorks, "MAT-File Format", Level 5): a 128-byte header
//! (116 bytes of text, 8 of subsystem offset, version 0x0100, endian "IM"),
//! then data elements. An element is an 8-byte tag (type, byte count) and
//! its data padded to 8 bytes; a "small" element packs type and count into
//! 4 bytes and its ≤ 4 data bytes into the other 4. miCOMPRESSED (15) is a
//! zlib stream holding one element. miMATRIX (14) holds array flags (class),
//! dimensions, name and the real part, whose *stored* type (e.g. miUINT8)
//! may differ from the array class (e.g. mxDOUBLE). Data is column-major.

use crate::error::{Result, UdllError};
use std::path::Path;

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;

/// Array classes that hold plain numbers (mxDOUBLE .. mxUINT64).
const NUMERIC_CLASSES: std::ops::RangeInclusive<u8> = 6..=15;
/// Refuse to inflate a single variable beyond this (a corrupt length field
/// must not exhaust memory).
const MAX_INFLATED_BYTES: usize = 4 << 30;

/// One numeric variable of a MAT-file, converted to f64.
#[derive(Clone, Debug)]
pub struct MatVar {
    /// The variable's name.
    pub name: String,
    /// MATLAB dimensions (column-major).
    pub dims: Vec<usize>,
    /// Values in column-major order.
    pub data: Vec<f64>,
    /// The array class (e.g. "double").
    pub class: &'static str,
    /// The element type the values were stored as (e.g. "uint8").
    pub stored_as: &'static str,
}

impl MatVar {
    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.dims.iter().product()
    }
    /// True for stored integer types (values are counts / 0..255 pixels).
    pub fn stored_integer(&self) -> bool {
        !matches!(self.stored_as, "double" | "single")
    }
    /// Is this a vector (all dimensions but one equal to 1)?
    pub fn is_vector(&self) -> bool {
        self.dims.iter().filter(|&&d| d != 1).count() <= 1
    }
}

fn class_name(c: u8) -> &'static str {
    match c {
        1 => "cell",
        2 => "struct",
        3 => "object",
        4 => "char",
        5 => "sparse",
        6 => "double",
        7 => "single",
        8 => "int8",
        9 => "uint8",
        10 => "int16",
        11 => "uint16",
        12 => "int32",
        13 => "uint32",
        14 => "int64",
        15 => "uint64",
        _ => "unknown",
    }
}

fn type_name(t: u32) -> &'static str {
    match t {
        MI_INT8 => "int8",
        MI_UINT8 => "uint8",
        MI_INT16 => "int16",
        MI_UINT16 => "uint16",
        MI_INT32 => "int32",
        MI_UINT32 => "uint32",
        MI_SINGLE => "single",
        MI_DOUBLE => "double",
        MI_INT64 => "int64",
        MI_UINT64 => "uint64",
        _ => "unknown",
    }
}

/// A bounds-checked view of bytes in the file's byte order.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    big_endian: bool,
    path: &'a Path,
}

struct Element<'a> {
    ty: u32,
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn err(&self, msg: impl Into<String>) -> UdllError {
        UdllError::format(self.path, msg.into())
    }
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.err(format!("truncated: {what} needs {n} bytes at offset {}, only {} left", self.pos, self.remaining())));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.big_endian { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) }
    }
    /// The next element; `pad` says whether its data is padded to 8 bytes.
    fn element(&mut self) -> Result<Element<'a>> {
        let tag = self.take(8, "an element tag")?;
        let first = self.u32(&tag[0..4]);
        if first >> 16 != 0 {
            // Small data element: 2 bytes count, 2 bytes type, 4 bytes data.
            let (ty, n) = (first & 0xffff, (first >> 16) as usize);
            if n > 4 {
                return Err(self.err(format!("corrupt small element of {n} bytes")));
            }
            return Ok(Element { ty, data: &tag[4..4 + n] });
        }
        let ty = first;
        let n = self.u32(&tag[4..8]) as usize;
        let data = self.take(n, "element data")?;
        if ty != MI_COMPRESSED {
            let pad = (8 - n % 8) % 8;
            let pad = pad.min(self.remaining());
            self.pos += pad;
        }
        Ok(Element { ty, data })
    }
}

/// Decode numeric element data of stored type `ty` to f64.
fn decode_numbers(r: &Reader, ty: u32, d: &[u8]) -> Result<Vec<f64>> {
    let be = r.big_endian;
    macro_rules! conv {
        ($t:ty, $n:expr) => {{
            if d.len() % $n != 0 {
                return Err(r.err(format!("{} bytes is not a whole number of {}", d.len(), type_name(ty))));
            }
            d.chunks_exact($n)
                .map(|c| {
                    let a: [u8; $n] = c.try_into().unwrap();
                    (if be { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) }) as f64
                })
                .collect()
        }};
    }
    Ok(match ty {
        MI_INT8 => d.iter().map(|&b| b as i8 as f64).collect(),
        MI_UINT8 => d.iter().map(|&b| b as f64).collect(),
        MI_INT16 => conv!(i16, 2),
        MI_UINT16 => conv!(u16, 2),
        MI_INT32 => conv!(i32, 4),
        MI_UINT32 => conv!(u32, 4),
        MI_SINGLE => conv!(f32, 4),
        MI_DOUBLE => conv!(f64, 8),
        MI_INT64 => conv!(i64, 8),
        MI_UINT64 => conv!(u64, 8),
        _ => return Err(r.err(format!("unsupported numeric storage type {ty}"))),
    })
}

/// Parse one miMATRIX body. Returns None for non-numeric arrays (cells,
/// structs, chars, sparse), which a dataset never needs.
fn parse_matrix(path: &Path, body: &[u8], big_endian: bool) -> Result<Option<MatVar>> {
    if body.is_empty() {
        return Ok(None);
    }
    let mut r = Reader { buf: body, pos: 0, big_endian, path };
    let flags = r.element()?;
    if flags.ty != MI_UINT32 || flags.data.len() < 8 {
        return Err(r.err("corrupt array: bad array-flags sub-element"));
    }
    let flag_word = r.u32(&flags.data[0..4]);
    let class = (flag_word & 0xff) as u8;
    let complex = flag_word & 0x0800 != 0;
    let dims_el = r.element()?;
    if dims_el.ty != MI_INT32 || dims_el.data.len() % 4 != 0 || dims_el.data.is_empty() {
        return Err(r.err("corrupt array: bad dimensions sub-element"));
    }
    let mut dims = Vec::new();
    for c in dims_el.data.chunks_exact(4) {
        let v = r.u32(c) as i32;
        if v < 0 {
            return Err(r.err(format!("corrupt array: negative dimension {v}")));
        }
        dims.push(v as usize);
    }
    let name_el = r.element()?;
    let name = String::from_utf8_lossy(name_el.data).trim_end_matches('\0').to_string();
    if !NUMERIC_CLASSES.contains(&class) {
        return Ok(None);
    }
    if complex {
        return Err(r.err(format!("variable '{name}' is complex; only real arrays are supported")));
    }
    let real = r.element()?;
    let data = decode_numbers(&r, real.ty, real.data)?;
    let numel = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(usize::MAX);
    if data.len() != numel {
        return Err(r.err(format!("variable '{name}': dimensions {:?} need {numel} values, the file holds {}", dims, data.len())));
    }
    Ok(Some(MatVar { name, dims, data, class: class_name(class), stored_as: type_name(real.ty) }))
}

/// Read every numeric variable of a Level 5 MAT-file.
pub fn read_mat(path: &Path) -> Result<Vec<MatVar>> {
    let bytes = std::fs::read(path).map_err(|e| UdllError::io(path, e))?;
    parse_mat(path, &bytes)
}

/// Inflate one miCOMPRESSED element: first its 8-byte tag, which declares
/// the size of the element it holds, then exactly that much (at most
/// [`MAX_INFLATED_BYTES`]). A zlib stream that inflates past its declared
/// size is refused without allocating beyond it (a 130 KB stream used to
/// inflate to 1.6 GB).
fn inflate_element(path: &Path, data: &[u8], big_endian: bool) -> Result<Vec<u8>> {
    use miniz_oxide::inflate::{TINFLStatus, decompress_to_vec_zlib_with_limit};
    let corrupt = |status: TINFLStatus| UdllError::format(path, format!("corrupt compressed variable (zlib: {status:?})"));
    let head = match decompress_to_vec_zlib_with_limit(data, 8) {
        Ok(all) => all,
        Err(e) if e.status == TINFLStatus::HasMoreOutput => e.output,
        Err(e) => return Err(corrupt(e.status)),
    };
    if head.len() < 8 {
        return Err(UdllError::format(path, "compressed variable holds no element"));
    }
    let declared =
        if big_endian { u32::from_be_bytes(head[4..8].try_into().expect("4 bytes")) } else { u32::from_le_bytes(head[4..8].try_into().expect("4 bytes")) }
            as usize;
    let needed = 8 + declared;
    if needed > MAX_INFLATED_BYTES {
        return Err(UdllError::format(path, format!("a compressed variable declares {declared} bytes, more than the {MAX_INFLATED_BYTES} udll inflates")));
    }
    crate::memory::check(Some(needed as u64), &format!("{}: a compressed variable of {declared} bytes", path.display()))?;
    match decompress_to_vec_zlib_with_limit(data, needed) {
        Ok(all) => Ok(all),
        Err(e) if e.status == TINFLStatus::HasMoreOutput => {
            Err(UdllError::format(path, format!("a compressed variable inflates past the {declared} bytes it declares")))
        }
        Err(e) => Err(corrupt(e.status)),
    }
}

/// Whether `bytes` are a MATLAB v7.3 file: HDF5 with MATLAB's 512-byte
/// user block in front (its text header says "MATLAB 7.3", its version
/// field is 0x0200, and the HDF5 signature follows at byte 512), or HDF5
/// with no user block.
fn is_hdf5_mat(bytes: &[u8]) -> bool {
    const HDF5: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
    let at = |offset: usize| bytes.get(offset..offset + 8) == Some(HDF5.as_slice());
    let version_0x0200 = matches!(&bytes[124..128], [0x00, 0x02, b'I', b'M'] | [0x02, 0x00, b'M', b'I']);
    at(0) || at(512) || bytes.starts_with(b"MATLAB 7.3") || version_0x0200
}

/// Parse MAT-file bytes (`path` is only used in error messages).
pub fn parse_mat(path: &Path, bytes: &[u8]) -> Result<Vec<MatVar>> {
    if bytes.len() < 128 {
        return Err(UdllError::format(path, format!("not a MAT-file: {} bytes, shorter than the 128-byte header", bytes.len())));
    }
    if is_hdf5_mat(bytes) {
        return Err(UdllError::format(path, "MATLAB v7.3 (HDF5) files are not supported; save with -v7"));
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        _ => return Err(UdllError::format(path, "not a MATLAB Level 5 MAT-file (no endian indicator in the header)")),
    };
    let mut r = Reader { buf: bytes, pos: 128, big_endian, path };
    let mut vars = Vec::new();
    while r.remaining() >= 8 {
        let el = r.element()?;
        let var = match el.ty {
            MI_MATRIX => parse_matrix(path, el.data, big_endian)?,
            MI_COMPRESSED => {
                let inflated = inflate_element(path, el.data, big_endian)?;
                let mut inner = Reader { buf: &inflated, pos: 0, big_endian, path };
                let el = inner.element()?;
                if el.ty != MI_MATRIX {
                    return Err(UdllError::format(path, format!("compressed element holds type {} instead of a matrix", el.ty)));
                }
                parse_matrix(path, el.data, big_endian)?
            }
            other => return Err(UdllError::format(path, format!("unexpected top-level element type {other} at offset {}", r.pos))),
        };
        if let Some(v) = var {
            vars.push(v);
        }
    }
    Ok(vars)
}

/// How a variable is stored by [`mat_bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Stored as miDOUBLE (f64).
    Double,
    /// Stored as miUINT8 (values rounded to 0..255).
    Uint8,
}

/// A variable to write: MATLAB dims and column-major data.
pub struct MatOut<'a> {
    /// The variable's name.
    pub name: &'a str,
    /// Its dimensions (MATLAB order).
    pub dims: Vec<usize>,
    /// Its values, column-major.
    pub data: &'a [f64],
    /// The element type to store.
    pub storage: Storage,
}

fn push_element(out: &mut Vec<u8>, ty: u32, data: &[u8]) {
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out.resize(out.len() + (8 - data.len() % 8) % 8, 0);
}

fn matrix_bytes(v: &MatOut) -> Vec<u8> {
    let mut body = Vec::new();
    let mut flags = vec![0u8; 8];
    flags[0] = 6; // mxDOUBLE_CLASS, whatever the storage (as MATLAB does)
    push_element(&mut body, MI_UINT32, &flags);
    let dims: Vec<u8> = v.dims.iter().flat_map(|&d| (d as i32).to_le_bytes()).collect();
    push_element(&mut body, MI_INT32, &dims);
    push_element(&mut body, MI_INT8, v.name.as_bytes());
    match v.storage {
        Storage::Double => {
            let d: Vec<u8> = v.data.iter().flat_map(|x| x.to_le_bytes()).collect();
            push_element(&mut body, MI_DOUBLE, &d);
        }
        Storage::Uint8 => {
            let d: Vec<u8> = v.data.iter().map(|&x| x.clamp(0.0, 255.0).round() as u8).collect();
            push_element(&mut body, MI_UINT8, &d);
        }
    }
    let mut el = Vec::new();
    push_element(&mut el, MI_MATRIX, &body);
    el
}

/// Serialise variables as a little-endian Level 5 MAT-file, each variable
/// zlib-compressed (as MATLAB's default -v7) or plain.
pub fn mat_bytes(vars: &[MatOut], compressed: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut text = b"MATLAB 5.0 MAT-file, Platform: udll".to_vec();
    text.resize(116, b' ');
    out.extend_from_slice(&text);
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&0x0100u16.to_le_bytes());
    out.extend_from_slice(b"IM");
    for v in vars {
        assert_eq!(v.data.len(), v.dims.iter().product::<usize>(), "write_mat: '{}' data does not match its dims", v.name);
        let el = matrix_bytes(v);
        if compressed {
            let z = miniz_oxide::deflate::compress_to_vec_zlib(&el, 6);
            out.extend_from_slice(&MI_COMPRESSED.to_le_bytes());
            out.extend_from_slice(&(z.len() as u32).to_le_bytes());
            out.extend_from_slice(&z);
        } else {
            out.extend_from_slice(&el);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v7.3 file has MATLAB's 128-byte text header, padding to 512 bytes
    /// and the HDF5 signature only there: it was read as a Level 5 file and
    /// failed with a message about its contents.
    #[test]
    fn matlab_v73_files_are_named() {
        let mut bytes = format!("{:<116}", "MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Nov 30 12:00:00 2026 HDF5 schema 1.00 .").into_bytes();
        bytes.extend_from_slice(&[0u8; 8]);
        bytes.extend_from_slice(&[0x00, 0x02, b'I', b'M']);
        bytes.resize(512, 0);
        bytes.extend_from_slice(b"\x89HDF\r\n\x1a\n");
        bytes.resize(2048, 7);
        let e = parse_mat(Path::new("v73.mat"), &bytes).unwrap_err().to_string();
        assert!(e.contains("MATLAB v7.3 (HDF5) files are not supported; save with -v7"), "{e}");
        // The signature alone, after a header that does not say 7.3, is enough.
        bytes[..10].copy_from_slice(b"MATLAB 5.0");
        bytes[124..126].copy_from_slice(&[0x00, 0x01]);
        assert!(parse_mat(Path::new("v73.mat"), &bytes).unwrap_err().to_string().contains("v7.3"));
    }

    /// A compressed variable inflates to exactly the element its tag
    /// declares; a stream that goes on (a zlib bomb) is refused at that size.
    #[test]
    fn inflation_stops_at_the_declared_size() {
        let header = |payload: &[u8]| {
            let mut b = format!("{:<116}", "MATLAB 5.0 MAT-file, test").into_bytes();
            b.extend_from_slice(&[0u8; 8]);
            b.extend_from_slice(&[0x00, 0x01, b'I', b'M']);
            let z = miniz_oxide::deflate::compress_to_vec_zlib(payload, 6);
            b.extend_from_slice(&15u32.to_le_bytes());
            b.extend_from_slice(&(z.len() as u32).to_le_bytes());
            b.extend_from_slice(&z);
            b
        };
        let mut bomb = 14u32.to_le_bytes().to_vec();
        bomb.extend_from_slice(&16u32.to_le_bytes());
        bomb.resize(8 << 20, 0);
        let file = header(&bomb);
        assert!(file.len() < 64 << 10, "the test's bomb is small on disk ({} bytes)", file.len());
        let e = parse_mat(Path::new("bomb.mat"), &file).unwrap_err().to_string();
        assert!(e.contains("inflates past the 16 bytes it declares"), "{e}");
        let mut huge = 14u32.to_le_bytes().to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        let e = parse_mat(Path::new("huge.mat"), &header(&huge)).unwrap_err().to_string();
        assert!(e.contains("declares 4294967295 bytes"), "{e}");
    }
}
