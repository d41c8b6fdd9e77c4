//! Image folders as datasets: PNG, JPEG, BMP, TIFF and PGM/PPM files found
//! recursively under a directory, in the order of their sorted relative
//! paths (byte order, the same on every machine), decoded by the `image`
//! crate with only those decoders built in.
//!
//! Every image must have the same size unless a size is given, to which
//! each is resized with a triangle (bilinear) filter. Images are read as
//! grey (luma, Rec. 709 weights as `image` computes it) or as RGB, at
//! [0, 1] (8-bit values / 255, 16-bit / 65 535). With
//! [`FolderOptions::labels_from_folders`] the first-level sub-folder of
//! each file is its class (the ImageFolder convention), classes numbered in
//! the sorted order of the folder names.
//!
//! Hostile files: a file whose header declares more than
//! [`MAX_DECLARED_PIXELS`] pixels is refused before it is decoded (a
//! decompression bomb), the decoder's allocations are capped, and the
//! whole array is checked against the memory budget before the first
//! image is decoded. A file that cannot be read or decoded is an error
//! naming it, or, with [`FolderOptions::skip_unreadable`], left out and
//! listed in the dataset's notes.

use crate::data::dataset::Dataset;
use crate::error::{Result, UdllError};
use crate::io::hash::tree_files;
use image::{DynamicImage, ImageReader, Limits, imageops::FilterType};
use std::path::Path;

/// File extensions read as images (compared without case).
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "bmp", "tif", "tiff", "pgm", "ppm", "pnm"];

/// The most pixels an image file may declare (8192 × 8192).
pub const MAX_DECLARED_PIXELS: u64 = 1 << 26;

/// How to read an image folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FolderOptions {
    /// Resize every image to height × width; None: all must share a size.
    pub size: Option<(usize, usize)>,
    /// Read three channels (RGB) instead of one (grey).
    pub rgb: bool,
    /// The first-level sub-folder names are the classes.
    pub labels_from_folders: bool,
    /// Leave out files that cannot be decoded (listed in the notes)
    /// instead of failing.
    pub skip_unreadable: bool,
}

/// Whether `path` has one of [`IMAGE_EXTENSIONS`].
pub fn is_image_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The image files under `dir`, as paths relative to it, sorted.
pub fn image_files(dir: &Path) -> Result<Vec<String>> {
    Ok(tree_files(dir)?.into_iter().filter(|p| is_image_file(Path::new(p))).collect())
}

/// Open one image with the decoder's limits, refusing a declared size
/// above [`MAX_DECLARED_PIXELS`] before decoding.
fn decode(path: &Path) -> std::result::Result<DynamicImage, String> {
    decode_inner(path).map_err(|e| e.trim().replace('\n', " "))
}

fn decode_inner(path: &Path) -> std::result::Result<DynamicImage, String> {
    let open = || ImageReader::open(path).map_err(|e| e.to_string())?.with_guessed_format().map_err(|e| e.to_string());
    let (w, h) = open()?.into_dimensions().map_err(|e| e.to_string())?;
    if (w as u64) * (h as u64) > MAX_DECLARED_PIXELS {
        return Err(format!("it declares {w} × {h} pixels, more than the {MAX_DECLARED_PIXELS} udll decodes"));
    }
    let mut reader = open()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(MAX_DECLARED_PIXELS * 8);
    reader.limits(limits);
    reader.decode().map_err(|e| e.to_string())
}

/// Read the image folder `dir` as a dataset (see the module's doc).
pub fn load_folder(dir: &Path, opts: &FolderOptions) -> Result<Dataset> {
    let files = image_files(dir)?;
    if files.is_empty() {
        return Err(UdllError::format(dir, format!("no image files ({}) in the folder or below it", IMAGE_EXTENSIONS.join(", "))));
    }
    load_folder_files(dir, &files, opts, None)
}

/// The class of each of `files` (paths relative to `dir`): its
/// first-level sub-folder, numbered in the sorted order of their names.
pub fn classes_of(dir: &Path, files: &[String]) -> Result<Vec<usize>> {
    Ok(class_names(dir, files)?.1)
}

/// The sorted class names and each file's class.
fn class_names(dir: &Path, files: &[String]) -> Result<(Vec<String>, Vec<usize>)> {
    let names = files
        .iter()
        .map(|rel| {
            rel.split_once('/')
                .map(|(d, _)| d.to_string())
                .ok_or_else(|| UdllError::format(&dir.join(rel), "is not in a sub-folder, so it has no class (labels from folders)"))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut classes = names.clone();
    classes.sort();
    classes.dedup();
    let of = names.iter().map(|d| classes.binary_search(d).expect("a class of the list")).collect();
    Ok((classes, of))
}

/// Read `files` (paths relative to `dir`, in this order) as a dataset.
/// With `expect` = (height, width, channels), every image must come out
/// that size (after the resize the options ask for), as the chunks of one
/// input must.
pub fn load_folder_files(dir: &Path, files: &[String], opts: &FolderOptions, expect: Option<(usize, usize, usize)>) -> Result<Dataset> {
    let c = if opts.rgb { 3 } else { 1 };
    // The size: the one given, else the expected one, else the first
    // readable image's.
    let mut notes = Vec::new();
    let mut skipped = Vec::new();
    let mut size = opts.size.or(expect.map(|(h, w, _)| (h, w)));
    let mut kept: Vec<(String, DynamicImage)> = Vec::new();
    for rel in files {
        let path = dir.join(rel);
        let img = match decode(&path) {
            Ok(img) => img,
            Err(e) if opts.skip_unreadable => {
                skipped.push(format!("{rel} ({e})"));
                continue;
            }
            Err(e) => return Err(UdllError::format(&path, format!("cannot read the image: {e} (skip such files with the skip-unreadable option)"))),
        };
        let (w, h) = (img.width() as usize, img.height() as usize);
        let (th, tw) = *size.get_or_insert((h, w));
        if kept.is_empty() {
            // The whole array, before more than one image is decoded.
            let bytes = (files.len() as u64).checked_mul((th * tw * c) as u64).and_then(|v| v.checked_mul(4));
            crate::memory::check(bytes, &format!("{} images of {th} × {tw} × {c}", files.len()))?;
        }
        let img = if (h, w) == (th, tw) {
            img
        } else if opts.size.is_some() {
            img.resize_exact(tw as u32, th as u32, FilterType::Triangle)
        } else {
            let other = kept.first().map_or_else(|| "the input's first image".to_string(), |(f, _)| f.clone());
            return Err(UdllError::format(&path, format!("{h} × {w} pixels, but {other} has {th} × {tw}: give an image size to resize them all")));
        };
        kept.push((rel.clone(), img));
    }
    let (h, w) = size.ok_or_else(|| UdllError::format(dir, "no image in the folder could be read"))?;
    if kept.is_empty() {
        return Err(UdllError::format(dir, "no image in the folder could be read"));
    }
    if let Some((_, _, ec)) = expect.filter(|&(_, _, ec)| ec != c) {
        return Err(UdllError::shape(format!("{}: {c} channels read, {ec} expected", dir.display())));
    }
    let n = kept.len();
    let mut pixels = Vec::with_capacity(n * h * w * c);
    for (_, img) in &kept {
        if opts.rgb {
            pixels.extend_from_slice(img.to_rgb32f().as_raw());
        } else {
            pixels.extend_from_slice(img.to_luma32f().as_raw());
        }
    }
    let files: Vec<String> = kept.into_iter().map(|(rel, _)| rel).collect();
    let labels = if opts.labels_from_folders {
        let (classes, of) = class_names(dir, &files)?;
        notes.push(format!("{} classes from the sub-folder names: {}", classes.len(), preview(&classes)));
        Some(of)
    } else {
        None
    };
    notes.insert(0, format!("{n} image files read in sorted path order, {}", if opts.rgb { "RGB" } else { "grey" }));
    if opts.size.is_some() {
        notes.push(format!("every image resized to {h} × {w} (triangle filter) where it differed"));
    }
    if !skipped.is_empty() {
        notes.push(format!("{} unreadable files left out: {}", skipped.len(), skipped.join("; ")));
    }
    let name = dir.file_name().and_then(|s| s.to_str()).unwrap_or("images").to_string();
    Ok(Dataset {
        name,
        n,
        height: h,
        width: w,
        channels: c,
        pixels,
        labels,
        source: None,
        notes,
        column_major_picture: false,
        files: Some(files),
        indices: None,
    })
}

/// The first few names, then how many more.
fn preview(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
    if names.len() > shown.len() { format!("{}, … ({} more)", shown.join(", "), names.len() - shown.len()) } else { shown.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey_png(path: &Path, w: u32, h: u32, fill: impl Fn(u32, u32) -> u8) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::GrayImage::from_fn(w, h, |x, y| image::Luma([fill(x, y)])).save(path).unwrap();
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("udll-folder-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Sorted order, class per sub-folder, pixel values and orientation.
    #[test]
    fn a_folder_reads_in_sorted_order_with_classes() {
        let d = scratch("order");
        grey_png(&d.join("b/2.png"), 3, 2, |x, y| (10 * x + 100 * y) as u8);
        grey_png(&d.join("a/9.png"), 3, 2, |_, _| 255);
        grey_png(&d.join("b/10.png"), 3, 2, |_, _| 0);
        std::fs::write(d.join("b/notes.txt"), "not an image").unwrap();
        let ds = load_folder(&d, &FolderOptions { labels_from_folders: true, ..Default::default() }).unwrap();
        assert_eq!(ds.files.as_deref().unwrap(), ["a/9.png", "b/10.png", "b/2.png"]);
        assert_eq!(ds.labels.as_deref().unwrap(), [0, 1, 1]);
        assert_eq!((ds.n, ds.height, ds.width, ds.channels), (3, 2, 3, 1));
        // Row-major: the pixel at (x = 2, y = 1) is 20 + 100.
        assert_eq!(ds.pixels[2 * 6 + 5], 120.0 / 255.0);
        assert_eq!(&ds.pixels[..6], &[1.0; 6]);
        std::fs::remove_dir_all(&d).ok();
    }

    /// Sizes must agree unless a size is given; a corrupt file is named,
    /// or skipped and listed; a file at the top has no class.
    #[test]
    fn mixed_sizes_corrupt_files_and_missing_classes() {
        let d = scratch("bad");
        grey_png(&d.join("x/a.png"), 4, 4, |_, _| 9);
        grey_png(&d.join("x/b.png"), 6, 5, |_, _| 9);
        let e = load_folder(&d, &FolderOptions::default()).unwrap_err().to_string();
        assert!(e.contains("x/b.png") && e.contains("5 × 6 pixels, but x/a.png has 4 × 4"), "{e}");
        let ds = load_folder(&d, &FolderOptions { size: Some((8, 8)), ..Default::default() }).unwrap();
        assert_eq!((ds.height, ds.width), (8, 8));
        std::fs::write(d.join("x/c.png"), b"\x89PNG\r\n\x1a\nbroken").unwrap();
        let e = load_folder(&d, &FolderOptions { size: Some((8, 8)), ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("x/c.png") && e.contains("cannot read the image"), "{e}");
        let ds = load_folder(&d, &FolderOptions { size: Some((8, 8)), skip_unreadable: true, ..Default::default() }).unwrap();
        assert_eq!(ds.n, 2);
        assert!(ds.notes.iter().any(|n| n.contains("1 unreadable files left out: x/c.png")), "{:?}", ds.notes);
        std::fs::remove_file(d.join("x/c.png")).unwrap();
        grey_png(&d.join("top.png"), 4, 4, |_, _| 1);
        let e = load_folder(&d, &FolderOptions { size: Some((8, 8)), labels_from_folders: true, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("top.png") && e.contains("not in a sub-folder"), "{e}");
        std::fs::remove_dir_all(&d).ok();
    }

    /// A PNG whose header declares 100 000 × 100 000 pixels is refused
    /// from its header, before any pixel is decoded.
    #[test]
    fn a_decompression_bomb_is_refused_by_its_declared_size() {
        let d = scratch("bomb");
        // A real 1 × 1 PNG whose IHDR is rewritten to 100 000 × 100 000
        // (with its CRC): its one IDAT chunk could never fill that.
        let mut png = Vec::new();
        image::GrayImage::from_pixel(1, 1, image::Luma([7])).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = png[12..29].iter().fold(!0u32, |mut c, &b| {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
            }
            c
        });
        png[29..33].copy_from_slice(&(!crc).to_be_bytes());
        std::fs::write(d.join("bomb.png"), &png).unwrap();
        let e = load_folder(&d, &FolderOptions::default()).unwrap_err().to_string();
        assert!(e.contains("bomb.png") && e.contains("declares 100000 × 100000 pixels"), "{e}");
        std::fs::remove_dir_all(&d).ok();
    }
}
