//! Turning files into a [`Dataset`]: MAT-files (variables found by name or
//! guessed), NPY arrays, and the layout conventions of the common releases.

use crate::data::dataset::{Dataset, labels_from_values, normalise_pixels, resolve_image_size};
use crate::data::folder::{FolderOptions, load_folder};
use crate::data::mat::{MatVar, read_mat};
use crate::data::npy::{read_npy_images, read_npy_labels};
use crate::error::{Result, UdllError};
use std::path::{Path, PathBuf};

/// Image-variable names tried in order when the user names none.
pub const IMAGE_VAR_GUESSES: &[&str] = &["fea", "X", "x", "data", "images", "features", "Y"];
/// Label-variable names tried in order when the user names none.
pub const LABEL_VAR_GUESSES: &[&str] = &["gnd", "labels", "label", "Label", "y", "Y", "gt"];

#[derive(Clone, Debug, Default)]
/// How to read a dataset file.
pub struct LoadOptions {
    /// Name of the image variable (MAT) — guessed when None.
    pub images_var: Option<String>,
    /// Name of the label variable (MAT) — guessed when None.
    pub labels_var: Option<String>,
    /// Labels from a separate file (NPY), e.g. for an NPY image array.
    pub labels_file: Option<PathBuf>,
    /// Image height × width; inferred as square when None. For an image
    /// folder, the size every image is resized to.
    pub image_size: Option<(usize, usize)>,
    /// Image folders: read RGB instead of grey.
    pub rgb: bool,
    /// Image folders: the first-level sub-folder names are the classes.
    pub labels_from_folders: bool,
    /// Image folders: leave out (and list) files that cannot be decoded.
    pub skip_unreadable: bool,
}

/// Read a dataset from a `.mat` or `.npy` file, or an image folder
/// ([`crate::data::folder`]).
pub fn load_dataset(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    if path.is_dir() {
        if opts.images_var.is_some() || opts.labels_var.is_some() || opts.labels_file.is_some() {
            return Err(UdllError::config(format!(
                "{}: an image folder has no variables or label file; its classes can come from its sub-folders",
                path.display()
            )));
        }
        let fo = FolderOptions { size: opts.image_size, rgb: opts.rgb, labels_from_folders: opts.labels_from_folders, skip_unreadable: opts.skip_unreadable };
        let mut ds = load_folder(path, &fo)?;
        ds.source = Some(path.to_path_buf());
        ds.validate()?;
        return Ok(ds);
    }
    if opts.rgb || opts.labels_from_folders || opts.skip_unreadable {
        return Err(UdllError::config(format!("{}: RGB, labels from folders and skipping unreadable files apply to image folders only", path.display())));
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let mut ds = match ext.as_str() {
        "mat" => load_mat(path, opts)?,
        "npy" => load_npy(path, opts)?,
        _ => {
            // Decide by content when the extension does not tell.
            let head = std::fs::read(path).map_err(|e| UdllError::io(path, e))?;
            if head.starts_with(b"\x93NUMPY") {
                load_npy(path, opts)?
            } else if head.starts_with(b"MATLAB") {
                load_mat(path, opts)?
            } else {
                return Err(UdllError::format(path, "unknown dataset format (expected a .mat or .npy file)"));
            }
        }
    };
    ds.source = Some(path.to_path_buf());
    ds.validate()?;
    Ok(ds)
}

fn find_var<'a>(vars: &'a [MatVar], wanted: &Option<String>, guesses: &[&str], what: &str, path: &Path, skip: Option<&str>) -> Result<Option<&'a MatVar>> {
    if let Some(name) = wanted {
        return vars.iter().find(|v| &v.name == name).map(Some).ok_or_else(|| {
            let have: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
            UdllError::format(path, format!("no {what} variable '{name}' (the file has: {})", have.join(", ")))
        });
    }
    Ok(guesses.iter().filter(|g| Some(**g) != skip).find_map(|g| vars.iter().find(|v| v.name == *g)))
}

fn load_mat(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let vars = read_mat(path)?;
    let images = find_var(&vars, &opts.images_var, IMAGE_VAR_GUESSES, "image", path, None)?.ok_or_else(|| {
        let have: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
        UdllError::format(
            path,
            format!("no image variable found (tried {}; the file has: {}); name the images variable", IMAGE_VAR_GUESSES.join(", "), have.join(", ")),
        )
    })?;
    let mut labels_var = find_var(&vars, &opts.labels_var, LABEL_VAR_GUESSES, "label", path, Some(&images.name))?;
    if opts.labels_var.is_none() && labels_var.is_some_and(|l| !l.is_vector()) {
        labels_var = None;
    }
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("dataset").to_string();
    let mut notes = vec![format!("images from variable '{}' ({:?}, class {}, stored as {})", images.name, images.dims, images.class, images.stored_as)];

    let (n, h, w, mut pixels, mut labels, column_major) = match images.dims.as_slice() {
        // pixels × images × people (the YaleBCrop025 release): labels are
        // the last axis; each pixel vector is a column-major h × w image.
        [d, per, people] => {
            let (h, w) = resolve_image_size(*d, opts.image_size, path)?;
            let n = per * people;
            let mut px = vec![0f32; n * d];
            let mut lab = Vec::with_capacity(n);
            for p in 0..*people {
                for j in 0..*per {
                    let s = p * per + j;
                    let src = &images.data[(p * per + j) * d..][..*d];
                    for (q, v) in src.iter().enumerate() {
                        let (y, x) = (q % h, q / h);
                        px[s * d + y * w + x] = *v as f32;
                    }
                    lab.push(p);
                }
            }
            notes.push(format!("3-D layout: {d} pixels × {per} images × {people} classes, labels from the last axis"));
            (n, h, w, px, Some(lab), false)
        }
        [r, c] => {
            let label_count = labels_var.map(|l| l.numel());
            // Samples on rows (fea of COIL20/ORL) unless the label count
            // says they are on columns (Deng Cai's YaleB_32x32).
            let samples_on_rows = match label_count {
                Some(l) if l == *r => true,
                Some(l) if l == *c => false,
                Some(l) => {
                    return Err(UdllError::format(path, format!("{l} labels match neither axis of the {r}×{c} image matrix '{}'", images.name)));
                }
                None => true,
            };
            let (n, d) = if samples_on_rows { (*r, *c) } else { (*c, *r) };
            let (h, w) = resolve_image_size(d, opts.image_size, path)?;
            let mut px = vec![0f32; n * d];
            for s in 0..n {
                for q in 0..d {
                    // Column-major storage; the pixel vector is reshaped
                    // row-major, as the reference code does.
                    let v = if samples_on_rows { images.data[s + r * q] } else { images.data[q + r * s] };
                    px[s * d + q] = v as f32;
                }
            }
            if !samples_on_rows {
                notes.push(format!("samples are the columns of '{}' ({} × {})", images.name, r, c));
            }
            (n, h, w, px, None, true)
        }
        dims => {
            return Err(UdllError::format(
                path,
                format!("image variable '{}' has dimensions {:?}; expected a 2-D matrix (samples × pixels) or pixels × images × classes", images.name, dims),
            ));
        }
    };
    if labels.is_none()
        && let Some(l) = labels_var
    {
        if l.numel() != n {
            return Err(UdllError::format(path, format!("label variable '{}' has {} entries for {n} images", l.name, l.numel())));
        }
        labels = Some(labels_from_values(&l.data, &format!("{}: '{}'", path.display(), l.name))?);
        notes.push(format!("labels from variable '{}'", l.name));
    }
    if let Some(note) = normalise_pixels(&mut pixels, images.stored_integer(), &path.display().to_string())? {
        notes.push(note);
    }
    if let Some(f) = &opts.labels_file {
        labels = Some(read_npy_labels(f, n)?);
    }
    Ok(Dataset {
        name,
        n,
        height: h,
        width: w,
        channels: 1,
        pixels,
        labels,
        source: None,
        notes,
        column_major_picture: column_major,
        files: None,
        indices: None,
    })
}

fn load_npy(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let (n, h, w, c, mut pixels, integer) = read_npy_images(path, opts.image_size)?;
    let mut notes = Vec::new();
    if let Some(note) = normalise_pixels(&mut pixels, integer, &path.display().to_string())? {
        notes.push(note);
    }
    let labels = match &opts.labels_file {
        Some(f) => Some(read_npy_labels(f, n)?),
        None => None,
    };
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("dataset").to_string();
    Ok(Dataset { name, n, height: h, width: w, channels: c, pixels, labels, source: None, notes, column_major_picture: false, files: None, indices: None })
}
