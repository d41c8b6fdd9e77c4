//! The built-in synthetic dataset: K objects × P poses, like COIL-20.
//!
//! Each object is a distinct procedurally drawn shape — a closed outline
//! r(φ) = R·(1 + Σ_m a_m cos(mφ + φ_m)) with an internal texture of its own —
//! shown rotated through P poses evenly spread over a full turn, so each
//! class is a closed 1-D manifold in pixel space. Pixels are anti-aliased
//! (4 × 4 supersampling), in [0, 1], on a black background. Everything comes
//! from the `synthetic` stream of the seed.

use crate::data::dataset::Dataset;
use crate::error::{Result, UdllError};
use crate::rng::Rng;
use rayon::prelude::*;
use std::f64::consts::TAU;

#[derive(Clone, Debug, PartialEq)]
/// The size of the built-in synthetic set.
pub struct SyntheticSpec {
    /// Objects (classes).
    pub objects: usize,
    /// Poses per object.
    pub poses: usize,
    /// Image side length in pixels.
    pub size: usize,
    /// The seed of the shapes and textures.
    pub seed: u64,
    /// Standard deviation of additive Gaussian pixel noise.
    pub noise: f64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        SyntheticSpec { objects: 20, poses: 72, size: 32, seed: 0, noise: 0.0 }
    }
}

struct Shape {
    radius: f64,
    harmonics: Vec<(f64, f64, f64)>, // (m, amplitude, phase)
    stripe_freq: f64,
    stripe_phase: f64,
    radial_freq: f64,
    brightness: f64,
    contrast: f64,
    offset: (f64, f64),
}

impl Shape {
    fn draw(rng: &mut Rng) -> Shape {
        let n_harm = 2 + rng.below(3);
        let harmonics = (0..n_harm).map(|_| (2.0 + rng.below(5) as f64, rng.uniform_range(0.08, 0.3), rng.uniform_range(0.0, TAU))).collect();
        Shape {
            radius: rng.uniform_range(0.45, 0.7),
            harmonics,
            stripe_freq: 1.0 + rng.below(4) as f64,
            stripe_phase: rng.uniform_range(0.0, TAU),
            radial_freq: rng.uniform_range(1.0, 4.0),
            brightness: rng.uniform_range(0.45, 0.85),
            contrast: rng.uniform_range(0.15, 0.45),
            offset: (rng.uniform_range(-0.15, 0.15), rng.uniform_range(-0.15, 0.15)),
        }
    }

    /// Intensity at object-frame point (u, v) in units of half the image.
    fn intensity(&self, u: f64, v: f64) -> f64 {
        let (u, v) = (u - self.offset.0, v - self.offset.1);
        let rho = (u * u + v * v).sqrt();
        let phi = v.atan2(u);
        let outline = self.radius * (1.0 + self.harmonics.iter().map(|(m, a, p)| a * (m * phi + p).cos()).sum::<f64>());
        if rho > outline {
            return 0.0;
        }
        let texture = (self.stripe_freq * phi + self.stripe_phase).cos() * (self.radial_freq * rho * TAU).cos();
        (self.brightness + self.contrast * texture).clamp(0.0, 1.0)
    }
}

/// Draw object `shape` at pose `pose` of `poses` (evenly spread over a
/// full turn) into the `s` × `s` image `img`.
fn render(shape: &Shape, pose: usize, poses: usize, s: usize, img: &mut [f32]) {
    let ss = 4usize; // supersampling per axis
    let angle = TAU * pose as f64 / poses as f64;
    let (ca, sa) = (angle.cos(), angle.sin());
    for y in 0..s {
        for x in 0..s {
            let mut acc = 0.0;
            for sy in 0..ss {
                for sx in 0..ss {
                    // Pixel-centre coordinates in [-1, 1].
                    let px = ((x * ss + sx) as f64 + 0.5) / (s * ss) as f64 * 2.0 - 1.0;
                    let py = ((y * ss + sy) as f64 + 0.5) / (s * ss) as f64 * 2.0 - 1.0;
                    // Rotate the sample point back into the object frame.
                    let u = ca * px + sa * py;
                    let v = -sa * px + ca * py;
                    acc += shape.intensity(u, v);
                }
            }
            img[y * s + x] = (acc / (ss * ss) as f64) as f32;
        }
    }
}

/// Write `n` synthetic images of 32 × 32 as a uint8 `.npy` file at `path`
/// (each pixel rounded from the [0, 1] value `generate` draws) and their
/// classes (object i / poses) as int64 to `STEM_labels.npy` beside it,
/// rendering and writing [`crate::data::stream::CHUNK_IMAGES`] images at a
/// time, so no n-image array is ever held. The objects are `generate`'s
/// for the same seed (the first ⌈n / poses⌉ of its stream). Returns the
/// labels' path.
pub fn write_synthetic_npy(path: &std::path::Path, n: usize, poses: usize, seed: u64, observer: &dyn crate::progress::Observer) -> Result<std::path::PathBuf> {
    use std::io::Write;
    if n == 0 || poses == 0 {
        return Err(UdllError::config("synthetic: need at least one image and one pose"));
    }
    let s = 32;
    let objects = n.div_ceil(poses);
    let mut rng = Rng::stream(seed, "synthetic");
    let shapes: Vec<Shape> = (0..objects).map(|_| Shape::draw(&mut rng)).collect();
    let stem = path.file_stem().and_then(|x| x.to_str()).unwrap_or("synthetic");
    let labels_path = path.with_file_name(format!("{stem}_labels.npy"));
    let labels: Vec<i64> = (0..n).map(|i| (i / poses) as i64).collect();
    crate::io::npy_out::write_npy_vec(&labels_path, &labels)?;
    let progress = crate::progress::Progress::new("synth", n, observer);
    crate::io::write_atomic_with(path, |w| {
        w.write_all(&crate::io::npy_out::npy_header("|u1", &[n, s, s]))?;
        let mut start = 0;
        while start < n {
            let end = (start + crate::data::stream::CHUNK_IMAGES).min(n);
            let mut chunk = vec![0f32; (end - start) * s * s];
            chunk.par_chunks_mut(s * s).enumerate().for_each(|(k, img)| {
                let i = start + k;
                render(&shapes[i / poses], i % poses, poses, s, img)
            });
            let bytes: Vec<u8> = chunk.iter().map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8).collect();
            w.write_all(&bytes)?;
            progress.update(end, "images written");
            start = end;
        }
        Ok(())
    })?;
    Ok(labels_path)
}

/// Generate the dataset described by `spec`.
pub fn generate(spec: &SyntheticSpec) -> Result<Dataset> {
    if spec.objects < 1 || spec.poses < 1 || spec.size < 4 {
        return Err(UdllError::config(format!("synthetic: need ≥ 1 object, ≥ 1 pose and size ≥ 4 (got {} × {} at {})", spec.objects, spec.poses, spec.size)));
    }
    let mut rng = Rng::stream(spec.seed, "synthetic");
    let shapes: Vec<Shape> = (0..spec.objects).map(|_| Shape::draw(&mut rng)).collect();
    let s = spec.size;
    let n = spec.objects * spec.poses;
    let mut pixels = vec![0f32; n * s * s];
    pixels.par_chunks_mut(s * s).enumerate().for_each(|(i, img)| render(&shapes[i / spec.poses], i % spec.poses, spec.poses, s, img));
    if spec.noise > 0.0 {
        let mut noise = Rng::stream(spec.seed, "synthetic-noise");
        for p in pixels.iter_mut() {
            *p = (*p as f64 + spec.noise * noise.normal()).clamp(0.0, 1.0) as f32;
        }
    }
    let labels = (0..n).map(|i| i / spec.poses).collect();
    Ok(Dataset {
        name: format!("synthetic-{}x{}-{}px-seed{}", spec.objects, spec.poses, s, spec.seed),
        n,
        height: s,
        width: s,
        channels: 1,
        pixels,
        labels: Some(labels),
        source: None,
        column_major_picture: false,
        files: None,
        indices: None,
        notes: vec![format!("built-in synthetic dataset: {} objects × {} poses, {s}×{s}, seed {}", spec.objects, spec.poses, spec.seed)],
    })
}
