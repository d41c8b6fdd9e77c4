//! Inputs read a slice at a time: a `.npy` image array read by rows from
//! its file (seeking to them, never the whole array), and an image folder
//! read by files. `udll assign` goes through these in chunks, so its memory
//! does not grow with the input, and `udll run --fit-sample` reads only the
//! rows it samples.
//!
//! The pixels are the ones [`crate::load_dataset`] gives for the whole
//! input: integer arrays are divided by 255; a float array is divided by
//! 255 when its largest value is above 1 (decided by one streaming pass
//! over the file when it is opened, as the whole-file reader decides from
//! all the values).

use crate::data::dataset::{Dataset, resolve_image_size};
use crate::data::folder::{FolderOptions, image_files, load_folder_files};
use crate::data::load::LoadOptions;
use crate::data::npy::read_npy_labels;
use crate::error::{Result, UdllError};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The element types a streamed `.npy` image array may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dtype {
    U8,
    U16,
    F32,
    F64,
}

impl Dtype {
    fn bytes(self) -> usize {
        match self {
            Dtype::U8 => 1,
            Dtype::U16 => 2,
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

/// An image input read in slices: a `.npy` array or an image folder.
pub struct ImageSource {
    path: PathBuf,
    kind: Kind,
    /// The number of images.
    pub n: usize,
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// Channels per pixel.
    pub channels: usize,
    labels: Option<Vec<usize>>,
    name: String,
}

enum Kind {
    Npy {
        dtype: Dtype,
        data_start: u64,
        divide: bool,
    },
    Folder {
        files: Vec<String>,
        opts: FolderOptions,
    },
    /// A dataset already in memory (a MAT file, the synthetic set).
    Memory(Dataset),
}

/// Rows of values a chunk holds at most (about 32 MB of f32 at 32 × 32).
pub const CHUNK_IMAGES: usize = 8192;

impl ImageSource {
    /// Open `path` (a `.npy` file or an image folder) for slicing, with the
    /// labels `opts` names (a `.npy` label file, or the folder's
    /// sub-folders).
    pub fn open(path: &Path, opts: &LoadOptions) -> Result<Self> {
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("images").to_string();
        if path.is_dir() {
            let files = image_files(path)?;
            if files.is_empty() {
                return Err(UdllError::format(path, "no image files in the folder or below it"));
            }
            // Classes are numbered once over all files, not per chunk.
            let fo = FolderOptions { size: opts.image_size, rgb: opts.rgb, labels_from_folders: false, skip_unreadable: false };
            if opts.skip_unreadable {
                return Err(UdllError::config("skipping unreadable files would change which image each index is; it is not available when reading in slices"));
            }
            // The size and channels from the first image (every chunk is
            // held to them).
            let first = load_folder_files(path, &files[..1], &fo, None)?;
            let labels = if opts.labels_from_folders { Some(crate::data::folder::classes_of(path, &files)?) } else { None };
            if opts.labels_file.is_some() {
                return Err(UdllError::config("an image folder's classes come from its sub-folders, not a label file"));
            }
            return Ok(ImageSource {
                path: path.to_path_buf(),
                n: files.len(),
                height: first.height,
                width: first.width,
                channels: first.channels,
                kind: Kind::Folder { files, opts: fo },
                labels,
                name,
            });
        }
        let (dtype, shape, data_start) = npy_header(path)?;
        let (n, h, w, c) = match shape.as_slice() {
            [n, d] => {
                let (h, w) = resolve_image_size(*d, opts.image_size, path)?;
                (*n, h, w, 1)
            }
            [n, h, w] => (*n, *h, *w, 1),
            [n, h, w, c] => (*n, *h, *w, *c),
            s => return Err(UdllError::format(path, format!("image array of shape {s:?}; expected (n, h, w), (n, h, w, c) or (n, h*w)"))),
        };
        if n == 0 || h * w * c == 0 {
            return Err(UdllError::shape(format!("{}: the dataset is empty", path.display())));
        }
        let labels = opts.labels_file.as_deref().map(|f| read_npy_labels(f, n)).transpose()?;
        let mut src =
            ImageSource { path: path.to_path_buf(), kind: Kind::Npy { dtype, data_start, divide: true }, n, height: h, width: w, channels: c, labels, name };
        if matches!(dtype, Dtype::F32 | Dtype::F64) {
            // One pass for the range: the whole-file reader's rule.
            let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
            let mut start = 0;
            while start < n {
                let end = (start + CHUNK_IMAGES).min(n);
                for (i, &v) in src.raw(start..end)?.iter().enumerate() {
                    if !v.is_finite() {
                        return Err(UdllError::NonFinite(format!("{}: image {} has a NaN or infinite pixel", path.display(), start + i / src.image_len())));
                    }
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                start = end;
            }
            if lo < 0.0 || hi > 255.0 {
                return Err(UdllError::config(format!("{}: pixel values span [{lo}, {hi}]; expected [0, 1] or 0..255", path.display())));
            }
            src.kind = Kind::Npy { dtype, data_start, divide: hi > 1.0 };
        }
        Ok(src)
    }

    /// A dataset already in memory, sliced the same way.
    pub fn from_dataset(ds: Dataset) -> Self {
        let path = ds.source.clone().unwrap_or_else(|| PathBuf::from(&ds.name));
        ImageSource {
            path,
            n: ds.n,
            height: ds.height,
            width: ds.width,
            channels: ds.channels,
            labels: ds.labels.clone(),
            name: ds.name.clone(),
            kind: Kind::Memory(ds),
        }
    }

    /// A dataset of no images with this input's name, size, source and
    /// layout (an in-memory dataset's own, so a MAT file's column-major
    /// pictures stay so), to build a slice from.
    fn header(&self) -> Dataset {
        match &self.kind {
            Kind::Memory(ds) => ds.clone_header(),
            _ => Dataset { name: self.name.clone(), source: Some(self.path.clone()), ..Dataset::empty(self.height, self.width, self.channels) },
        }
    }

    /// Values per image.
    pub fn image_len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// The class of every image, when known.
    pub fn labels(&self) -> Option<&[usize]> {
        self.labels.as_deref()
    }

    /// The input's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The image files, for a folder (sorted relative paths).
    pub fn files(&self) -> Option<&[String]> {
        match &self.kind {
            Kind::Folder { files, .. } => Some(files),
            Kind::Memory(ds) => ds.files.as_deref(),
            Kind::Npy { .. } => None,
        }
    }

    /// The facts a manifest records about the input.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({"name": self.name, "n": self.n, "height": self.height, "width": self.width, "channels": self.channels,
            "classes": self.labels.as_ref().map(|l| l.iter().copied().max().map_or(0, |m| m + 1))})
    }

    /// The stored values of images `range`, as f32, before any scaling.
    fn raw(&self, range: Range<usize>) -> Result<Vec<f32>> {
        let Kind::Npy { dtype, data_start, .. } = self.kind else { unreachable!("raw reads a .npy source") };
        let len = self.image_len();
        let item = dtype.bytes();
        let mut f = std::fs::File::open(&self.path).map_err(|e| UdllError::io(&self.path, e))?;
        f.seek(SeekFrom::Start(data_start + (range.start * len * item) as u64)).map_err(|e| UdllError::io(&self.path, e))?;
        let mut bytes = vec![0u8; range.len() * len * item];
        f.read_exact(&mut bytes).map_err(|e| UdllError::io(&self.path, e))?;
        Ok(match dtype {
            Dtype::U8 => bytes.iter().map(|&b| b as f32).collect(),
            Dtype::U16 => bytes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]]) as f32).collect(),
            Dtype::F32 => bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect(),
            Dtype::F64 => bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32).collect(),
        })
    }

    /// Images `range` as a dataset (with their labels and files).
    pub fn slice(&self, range: Range<usize>) -> Result<Dataset> {
        if range.end > self.n || range.start > range.end {
            return Err(UdllError::shape(format!("images {range:?} of {}", self.n)));
        }
        let labels = self.labels.as_ref().map(|l| l[range.clone()].to_vec());
        match &self.kind {
            Kind::Memory(ds) => {
                let len = self.image_len();
                Ok(Dataset {
                    n: range.len(),
                    pixels: ds.pixels[range.start * len..range.end * len].to_vec(),
                    labels,
                    files: ds.files.as_ref().map(|f| f[range.clone()].to_vec()),
                    ..self.header()
                })
            }
            Kind::Folder { files, opts } => {
                let mut ds = load_folder_files(&self.path, &files[range], opts, Some((self.height, self.width, self.channels)))?;
                ds.labels = labels;
                ds.name = self.name.clone();
                Ok(ds)
            }
            Kind::Npy { dtype, divide, .. } => {
                let mut pixels = self.raw(range.clone())?;
                if matches!(dtype, Dtype::U8 | Dtype::U16)
                    && let Some(v) = pixels.iter().find(|v| **v > 255.0)
                {
                    return Err(UdllError::config(format!("{}: a pixel value {v} above 255", self.path.display())));
                }
                if *divide {
                    pixels.iter_mut().for_each(|v| *v /= 255.0);
                }
                let ds = Dataset { n: range.len(), pixels, labels, ..self.header() };
                ds.validate()?;
                Ok(ds)
            }
        }
    }

    /// The images at the increasing indices `idx`, as one dataset, read a
    /// chunk of the index range at a time.
    pub fn gather(&self, idx: &[usize]) -> Result<Dataset> {
        if idx.windows(2).any(|w| w[0] >= w[1]) || idx.last().is_some_and(|&i| i >= self.n) {
            return Err(UdllError::shape(format!("indices must increase and be below {}", self.n)));
        }
        let len = self.image_len();
        let mut pixels = Vec::with_capacity(idx.len() * len);
        let mut files = Vec::new();
        let mut k = 0;
        while k < idx.len() {
            // The next indices that fall in one window of CHUNK_IMAGES rows.
            let start = idx[k];
            let end = idx[k..].iter().take_while(|&&i| i < start + CHUNK_IMAGES).count() + k;
            let last = idx[end - 1];
            let part = match &self.kind {
                // A folder reads only the files asked for.
                Kind::Folder { files: all, opts } => {
                    let names: Vec<String> = idx[k..end].iter().map(|&i| all[i].clone()).collect();
                    load_folder_files(&self.path, &names, opts, Some((self.height, self.width, self.channels)))?
                }
                Kind::Npy { .. } | Kind::Memory(_) => self.slice(start..last + 1)?,
            };
            for (t, &i) in idx[k..end].iter().enumerate() {
                let j = match &self.kind {
                    Kind::Folder { .. } => t,
                    Kind::Npy { .. } | Kind::Memory(_) => i - start,
                };
                pixels.extend_from_slice(&part.pixels[j * len..][..len]);
                if let Some(f) = &part.files {
                    files.push(f[j].clone());
                }
            }
            k = end;
        }
        let labels = self.labels.as_ref().map(|l| idx.iter().map(|&i| l[i]).collect());
        let ds = Dataset {
            n: idx.len(),
            pixels,
            labels,
            notes: vec![format!("{} of the {} images of {}", idx.len(), self.n, self.path.display())],
            files: self.files().is_some().then_some(files),
            indices: Some(idx.to_vec()),
            ..self.header()
        };
        ds.validate()?;
        Ok(ds)
    }
}

/// The dtype, shape and data offset of a C-order little-endian `.npy`
/// image array (after [`crate::io::npy_out::check_npy_header`]).
fn npy_header(path: &Path) -> Result<(Dtype, Vec<usize>, u64)> {
    crate::io::npy_out::check_npy_header(path)?;
    let mut head = Vec::new();
    std::fs::File::open(path).and_then(|f| f.take(10 + 65_536).read_to_end(&mut head)).map_err(|e| UdllError::io(path, e))?;
    let bad = |m: &str| UdllError::format(path, format!("not a streamable .npy image array: {m}"));
    let (len, start) = match head[6] {
        1 => (u16::from_le_bytes([head[8], head[9]]) as usize, 10),
        _ => (u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize, 12),
    };
    let text = std::str::from_utf8(&head[start..start + len]).map_err(|_| bad("the header is not text"))?;
    let field = |key: &str| -> Option<&str> {
        let at = text.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest)
    };
    let descr = field("descr").and_then(|r| r.strip_prefix('\'')).and_then(|r| r.split('\'').next()).ok_or_else(|| bad("no descr"))?;
    let dtype = match descr {
        "|u1" | "<u1" => Dtype::U8,
        "<u2" => Dtype::U16,
        "<f4" => Dtype::F32,
        "<f8" => Dtype::F64,
        other => return Err(bad(&format!("dtype '{other}' (expected uint8, uint16, float32 or float64, little-endian)"))),
    };
    if field("fortran_order").is_some_and(|r| r.starts_with("True")) {
        return Err(bad("Fortran order (save it in C order)"));
    }
    let shape = field("shape").and_then(|r| r.strip_prefix('(')).and_then(|r| r.split(')').next()).ok_or_else(|| bad("no shape"))?;
    let shape =
        shape.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.parse::<usize>().map_err(|_| bad("a shape entry"))).collect::<Result<Vec<_>>>()?;
    Ok((dtype, shape, (start + len) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray_npy::WriteNpyExt;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("udll-stream-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Slices, gathers and whole-file loads agree bit for bit, for uint8
    /// and for float arrays on either scale.
    #[test]
    fn slices_are_the_whole_file_reader_s_pixels() {
        let d = scratch("npy");
        let a8 = ndarray::Array3::<u8>::from_shape_fn((37, 4, 5), |(i, y, x)| ((i * 7 + y * 5 + x) % 256) as u8);
        let af = a8.mapv(|v| v as f32 * 0.9);
        let a1 = a8.mapv(|v| v as f32 / 300.0);
        for (name, write) in [
            ("u8.npy", Box::new(|p: &Path| a8.write_npy(std::fs::File::create(p).unwrap()).unwrap()) as Box<dyn Fn(&Path)>),
            ("f255.npy", Box::new(|p: &Path| af.write_npy(std::fs::File::create(p).unwrap()).unwrap())),
            ("f1.npy", Box::new(|p: &Path| a1.write_npy(std::fs::File::create(p).unwrap()).unwrap())),
        ] {
            let p = d.join(name);
            write(&p);
            let whole = crate::data::load_dataset(&p, &LoadOptions::default()).unwrap();
            let src = ImageSource::open(&p, &LoadOptions::default()).unwrap();
            assert_eq!((src.n, src.height, src.width, src.channels), (37, 4, 5, 1));
            let mut pieces = Vec::new();
            for r in [0..10, 10..11, 11..37] {
                pieces.extend(src.slice(r).unwrap().pixels);
            }
            assert_eq!(pieces, whole.pixels, "{name}");
            let idx = [0, 3, 17, 36];
            let g = src.gather(&idx).unwrap();
            let want: Vec<f32> = idx.iter().flat_map(|&i| whole.pixels[i * 20..(i + 1) * 20].to_vec()).collect();
            assert_eq!(g.pixels, want, "{name}");
        }
        std::fs::remove_dir_all(&d).ok();
    }

    /// An in-memory dataset's slices and samples keep its layout (a MAT
    /// file's column-major pictures) and its labels.
    #[test]
    fn in_memory_slices_keep_the_layout() {
        let ds = Dataset {
            name: "m".into(),
            n: 4,
            pixels: (0..16).map(|v| v as f32 / 16.0).collect(),
            labels: Some(vec![0, 1, 0, 1]),
            column_major_picture: true,
            ..Dataset::empty(2, 2, 1)
        };
        let src = ImageSource::from_dataset(ds);
        let g = src.gather(&[1, 3]).unwrap();
        assert!(g.column_major_picture && src.slice(1..3).unwrap().column_major_picture);
        assert_eq!((g.labels.as_deref(), &g.pixels[..4]), (Some(&[1, 1][..]), &[0.25, 0.3125, 0.375, 0.4375][..]));
        assert_eq!(g.indices.as_deref(), Some(&[1, 3][..]));
    }
}
