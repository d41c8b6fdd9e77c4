//! Fixed front ends: features computed from the images without training
//! (the wavelet scattering transform), and the post-processing the
//! subspace-clustering literature applies to them (per-path normalisation,
//! a projection on the top directions of XᵀX).
//!
//! [`FrontEnd`] is the setting a run records; [`front_features`] computes
//! [`Features`], which either feed EDSC directly or become the dataset a
//! learned autoencoder is trained on ([`Features::as_dataset`]).

pub mod scattering;

use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::linalg::eigen::{EigenOptions, Which, symmetric_top_eigen};
use crate::linalg::{Trans, dgemm};
use crate::progress::Observer;
use rayon::prelude::*;
use scattering::{ScatterMaps, ScatteringParams, scatter};
use serde::{Deserialize, Serialize};

/// What a run's network (or EDSC) sees of each image.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum FrontEnd {
    /// The pixels, at the params' input scale (the paper's setting).
    #[default]
    Pixels,
    /// The scattering transform, post-processed.
    Scattering(ScatteringFront),
}

/// The scattering front end: the transform and its post-processing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScatteringFront {
    /// The transform's settings.
    pub transform: ScatteringParams,
    /// Divide each map (one path of one image) by its largest magnitude.
    pub normalise: bool,
    /// Project on the top `pca` eigenvectors of XᵀX (no centering), or keep
    /// the maps (0).
    pub pca: usize,
}

impl Default for ScatteringFront {
    fn default() -> Self {
        ScatteringFront { transform: ScatteringParams::default(), normalise: true, pca: 0 }
    }
}

impl FrontEnd {
    /// The pixel front end (the paper's).
    pub fn is_pixels(&self) -> bool {
        matches!(self, FrontEnd::Pixels)
    }

    /// Refuse settings that cannot apply to height × width images.
    pub fn check(&self, height: usize, width: usize) -> Result<()> {
        match self {
            FrontEnd::Pixels => Ok(()),
            FrontEnd::Scattering(s) => s.transform.check(height, width),
        }
    }

    /// One line for logs and reports.
    pub fn describe(&self) -> String {
        match self {
            FrontEnd::Pixels => "pixels".into(),
            FrontEnd::Scattering(s) => format!(
                "scattering ({}{}{})",
                s.transform.describe(),
                if s.normalise { ", each path divided by its largest magnitude" } else { "" },
                if s.pca > 0 { format!(", projected on the top {} directions of XᵀX", s.pca) } else { String::new() }
            ),
        }
    }
}

/// Features of n images: n × d values, with the layout they came in.
#[derive(Clone, Debug)]
pub struct Features {
    /// n × d, row-major.
    pub values: Vec<f32>,
    /// Rows (images).
    pub n: usize,
    /// Columns.
    pub d: usize,
    /// (maps, h, w) when the values are maps (Kymatio's layout per row),
    /// None when they were projected.
    pub maps: Option<(usize, usize, usize)>,
    /// The projection's basis, D × d row-major, when one was applied (new
    /// images are projected on it).
    pub basis: Option<Basis>,
}

/// The D × k basis of a projection (top eigenvectors of XᵀX).
#[derive(Clone, Debug, PartialEq)]
pub struct Basis {
    /// D × k, row-major.
    pub values: Vec<f32>,
    /// Input dimension D.
    pub rows: usize,
    /// Output dimension k.
    pub cols: usize,
}

impl Features {
    /// The features as a dataset for the autoencoder: maps as an h × w
    /// image of `maps` channels (channel fastest), projected features as a
    /// 1 × 1 image of d channels. Labels and provenance are `ds`'s.
    pub fn as_dataset(&self, ds: &Dataset) -> Dataset {
        let (height, width, channels, pixels) = match self.maps {
            Some((maps, h, w)) => {
                let mut nhwc = vec![0f32; self.values.len()];
                nhwc.par_chunks_mut(self.d).zip(self.values.par_chunks(self.d)).for_each(|(o, x)| {
                    for c in 0..maps {
                        for q in 0..h * w {
                            o[q * maps + c] = x[c * h * w + q];
                        }
                    }
                });
                (h, w, maps, nhwc)
            }
            None => (1, 1, self.d, self.values.clone()),
        };
        let mut notes = ds.notes.clone();
        notes.push(format!("{} features of {} × {} × {}", ds.name, height, width, channels));
        Dataset {
            name: ds.name.clone(),
            n: self.n,
            height,
            width,
            channels,
            pixels,
            labels: ds.labels.clone(),
            source: ds.source.clone(),
            notes,
            column_major_picture: ds.column_major_picture,
            files: ds.files.clone(),
            indices: ds.indices.clone(),
        }
    }
}

/// Divide each map of `maps` by its largest magnitude (maps that are all
/// zero stay zero).
pub fn normalise_maps(maps: &mut ScatterMaps) {
    let plane = maps.h * maps.w;
    maps.values.par_chunks_mut(plane).for_each(|m| {
        let top = m.iter().fold(0f32, |a, v| a.max(v.abs()));
        if top > 0.0 {
            m.iter_mut().for_each(|v| *v /= top);
        }
    });
}

/// The top `k` eigenvectors of XᵀX for the n × dim rows of `x` (no
/// centering, as EnSC's and SENet's feature scripts do it), each with its
/// largest entry positive. When n < dim they come from the smaller XXᵀ:
/// XXᵀu = λu gives XᵀX(Xᵀu) = λ(Xᵀu), so v = Xᵀu/√λ (COIL-20 at J = 2:
/// a 1440² decomposition instead of a 5184² one, 18 s → 1 s).
pub fn fit_basis(x: &[f32], n: usize, dim: usize, k: usize) -> Result<Basis> {
    if k == 0 || k > dim.min(n) {
        return Err(UdllError::config(format!("a projection on {k} directions of {n} samples of dimension {dim}: it must be 1..={}", dim.min(n))));
    }
    let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let side = dim.min(n);
    let mut gram = vec![0.0; side * side];
    if dim <= n {
        dgemm(dim, n, dim, 1.0, &x64, Trans::Yes, &x64, Trans::No, 0.0, &mut gram);
    } else {
        dgemm(n, dim, n, 1.0, &x64, Trans::No, &x64, Trans::Yes, 0.0, &mut gram);
    }
    let pairs = symmetric_top_eigen(&gram, side, k, Which::Largest, &EigenOptions::default())?;
    if let Some(i) = pairs.values.iter().position(|&l| l.is_nan() || l <= 0.0) {
        return Err(UdllError::Numeric(format!("a projection on {k} directions: XᵀX has only {i} positive eigenvalues")));
    }
    let mut v = if dim <= n {
        pairs.vectors
    } else {
        // V = XᵀU diag(1/√λ): dim × k.
        let mut v = vec![0.0; dim * k];
        dgemm(dim, n, k, 1.0, &x64, Trans::Yes, &pairs.vectors, Trans::No, 0.0, &mut v);
        for row in v.chunks_exact_mut(k) {
            for (e, l) in row.iter_mut().zip(&pairs.values) {
                *e /= l.sqrt();
            }
        }
        v
    };
    // Each column's largest entry positive, so the basis does not depend
    // on the solver's sign choices.
    for c in 0..k {
        let top = (0..dim).max_by(|&a, &b| v[a * k + c].abs().total_cmp(&v[b * k + c].abs())).unwrap_or(0);
        if v[top * k + c] < 0.0 {
            (0..dim).for_each(|r| v[r * k + c] = -v[r * k + c]);
        }
    }
    Ok(Basis { values: v.iter().map(|&e| e as f32).collect(), rows: dim, cols: k })
}

impl Basis {
    /// Project the n × rows matrix `x` on the basis: n × cols.
    pub fn project(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        if x.len() != n * self.rows {
            return Err(UdllError::shape(format!("a projection from dimension {}: {} values for {n} samples", self.rows, x.len())));
        }
        let mut y = vec![0f32; n * self.cols];
        crate::linalg::sgemm(n, self.rows, self.cols, 1.0, x, Trans::No, &self.values, Trans::No, 0.0, &mut y);
        Ok(y)
    }
}

/// The front end's features of `ds`: for the scattering, the transform,
/// the per-path normalisation and the projection, on `basis` when given
/// (a fitted run's, for new images), else on one fitted to `ds`. `None`
/// for the pixel front end.
pub fn front_features(ds: &Dataset, front: &FrontEnd, basis: Option<&Basis>, observer: &dyn Observer) -> Result<Option<Features>> {
    let FrontEnd::Scattering(s) = front else { return Ok(None) };
    let t0 = std::time::Instant::now();
    let mut maps = scatter(ds, &s.transform, observer)?;
    if s.normalise {
        normalise_maps(&mut maps);
    }
    let d = maps.image_len();
    observer.line(&format!(
        "scattering: {} images → {} maps of {} × {} ({d} values each) in {:.1}s",
        ds.n,
        maps.maps,
        maps.h,
        maps.w,
        t0.elapsed().as_secs_f64()
    ));
    if s.pca == 0 {
        if basis.is_some() {
            return Err(UdllError::config("the front end keeps the maps, yet a projection basis was given"));
        }
        return Ok(Some(Features { n: ds.n, d, maps: Some((maps.maps, maps.h, maps.w)), values: maps.values, basis: None }));
    }
    let basis = match basis {
        Some(b) if b.rows == d && b.cols == s.pca => b.clone(),
        Some(b) => {
            return Err(UdllError::shape(format!("the projection basis is {} × {}, the front end gives {d} values projected on {}", b.rows, b.cols, s.pca)));
        }
        None => {
            let t1 = std::time::Instant::now();
            let b = fit_basis(&maps.values, ds.n, d, s.pca)?;
            observer.line(&format!("projection: top {} directions of XᵀX ({d} × {d}) in {:.1}s", s.pca, t1.elapsed().as_secs_f64()));
            b
        }
    };
    let values = basis.project(&maps.values, ds.n)?;
    Ok(Some(Features { values, n: ds.n, d: basis.cols, maps: None, basis: Some(basis) }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The basis holds the top eigenvectors, XᵀX v = λ v with λ the
    /// largest and unit columns, whether it comes from XᵀX (n ≥ dim) or
    /// from XXᵀ (n < dim).
    #[test]
    fn the_basis_holds_the_top_eigenvectors_of_the_gram_matrix() {
        let mut r = Rng::from_seed(9);
        for (n, dim, k) in [(40, 12, 3), (10, 12, 3)] {
            let x: Vec<f32> = (0..n * dim).map(|i| (r.normal() * if i % dim < 3 { 5.0 } else { 1.0 }) as f32).collect();
            let b = fit_basis(&x, n, dim, k).unwrap();
            let g = |i: usize, j: usize| (0..n).map(|s| f64::from(x[s * dim + i]) * f64::from(x[s * dim + j])).sum::<f64>();
            let mut lambdas = vec![];
            for c in 0..k {
                let v: Vec<f64> = (0..dim).map(|i| f64::from(b.values[i * k + c])).collect();
                let gv: Vec<f64> = (0..dim).map(|i| (0..dim).map(|j| g(i, j) * v[j]).sum()).collect();
                let lambda: f64 = gv.iter().zip(&v).map(|(a, b)| a * b).sum();
                for i in 0..dim {
                    assert!((gv[i] - lambda * v[i]).abs() < 1e-3 * lambda, "column {c}");
                }
                assert!((v.iter().map(|a| a * a).sum::<f64>() - 1.0).abs() < 1e-5);
                lambdas.push(lambda);
            }
            assert!(lambdas.windows(2).all(|w| w[0] >= w[1]));
            // The trace of XᵀX bounds the sum, and the top three carry most of it.
            let trace: f64 = (0..dim).map(|i| g(i, i)).sum();
            assert!(lambdas.iter().sum::<f64>() > 0.5 * trace);
            assert!(fit_basis(&x, n, dim, 0).is_err() && fit_basis(&x, n, dim, 13).is_err());
        }
    }

    /// Maps are divided by their own largest magnitude; a zero map stays.
    #[test]
    fn each_map_is_normalised_on_its_own() {
        let mut m = ScatterMaps { n: 1, maps: 3, h: 1, w: 2, values: vec![1.0, -4.0, 0.0, 0.0, 0.5, 0.25] };
        normalise_maps(&mut m);
        assert_eq!(m.values, vec![0.25, -1.0, 0.0, 0.0, 1.0, 0.5]);
    }

    /// As a dataset, maps become channels of an h × w image.
    #[test]
    fn maps_become_channels() {
        let ds = crate::data::generate(&crate::data::SyntheticSpec { objects: 2, poses: 2, size: 16, seed: 0, noise: 0.0 }).unwrap();
        let front = FrontEnd::Scattering(ScatteringFront::default());
        let f = front_features(&ds, &front, None, &crate::progress::Silent).unwrap().unwrap();
        let (maps, h, w) = f.maps.unwrap();
        let as_ds = f.as_dataset(&ds);
        as_ds.validate().unwrap();
        assert_eq!((as_ds.height, as_ds.width, as_ds.channels), (h, w, maps));
        // Image 3, map 5, position 2.
        assert_eq!(as_ds.pixels[3 * f.d + 2 * maps + 5], f.values[3 * f.d + 5 * h * w + 2]);
        let projected = FrontEnd::Scattering(ScatteringFront { pca: 3, ..Default::default() });
        let p = front_features(&ds, &projected, None, &crate::progress::Silent).unwrap().unwrap();
        assert_eq!((p.d, p.maps.is_none()), (3, true));
        let again = front_features(&ds, &projected, p.basis.as_ref(), &crate::progress::Silent).unwrap().unwrap();
        assert_eq!(again.values, p.values);
    }
}
