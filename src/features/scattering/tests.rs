//! The transform against Kymatio 0.3.0's outputs (../shared/data/scattering,
//! skipped where absent), on a constant image, and under 1, 2 and 4
//! threads.
#![allow(clippy::approx_constant)] // Kymatio's normalisation uses 3.1415, not π.

use super::*;
use crate::rng::Rng;
use ndarray::ArrayD;
use std::path::PathBuf;

fn reference_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/scattering");
    d.join("README.md").exists().then_some(d)
}

fn read(path: &std::path::Path) -> ArrayD<f64> {
    ndarray_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The largest difference on each path, relative to that path's largest
/// magnitude in the reference (the per-path normalisation features use),
/// the worst over paths and images.
fn worst_relative(ours: &[f64], theirs: &[f64], plane: usize) -> f64 {
    ours.chunks(plane)
        .zip(theirs.chunks(plane))
        .map(|(a, b)| {
            let scale = b.iter().fold(0f64, |m, v| m.max(v.abs()));
            let diff = a.iter().zip(b).fold(0f64, |m, (x, y)| m.max((x - y).abs()));
            if scale == 0.0 { diff } else { diff / scale }
        })
        .fold(0.0, f64::max)
}

/// All six shared references, to 1e-5 of each path's largest magnitude.
#[test]
fn matches_kymatio_on_the_shared_references() {
    let Some(dir) = reference_dir() else {
        eprintln!("skipped: ../shared/data/scattering is absent");
        return;
    };
    for (images, side) in [("coil20", 32), ("mnist", 28)] {
        let x = read(&dir.join(format!("{images}_3x{side}x{side}.npy")));
        let x: Vec<f64> = x.iter().copied().collect();
        for j in [2, 3] {
            let want = read(&dir.join(format!("{images}_J{j}_L8_order2.npy")));
            let p = ScatteringParams { j, l: 8, order: 2 };
            let got = scatter_f64(&x, 3, side, side, &p).unwrap();
            let shape = want.shape().to_vec();
            let (oh, ow) = p.out_size(side, side);
            assert_eq!(shape, vec![3, p.paths(), oh, ow], "{images} J={j}");
            let want: Vec<f64> = want.iter().copied().collect();
            let err = worst_relative(&got, &want, oh * ow);
            eprintln!("{images} J={j}: worst per-path relative difference {err:.2e}");
            assert!(err < 1e-5, "{images} J={j}: {err:e}");
        }
    }
}

/// The same bits under 1, 2 and 4 threads, for a dataset of several
/// channels (each channel transformed on its own, in order).
#[test]
fn same_bits_under_1_2_and_4_threads() {
    let mut r = Rng::from_seed(5);
    let (n, h, w, c) = (13, 20, 24, 2);
    let pixels: Vec<f32> = (0..n * h * w * c).map(|_| r.uniform() as f32).collect();
    let ds = Dataset {
        name: "t".into(),
        n,
        height: h,
        width: w,
        channels: c,
        pixels,
        labels: None,
        source: None,
        notes: vec![],
        column_major_picture: false,
        files: None,
        indices: None,
    };
    let p = ScatteringParams { j: 2, l: 6, order: 2 };
    let run = |t: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
        pool.install(|| scatter(&ds, &p, &crate::progress::Silent).unwrap())
    };
    let one = run(1);
    assert_eq!(one.maps, c * p.paths());
    assert_eq!((one.h, one.w), p.out_size(h, w));
    for t in [2, 4] {
        let other = run(t);
        assert!(one.values.iter().zip(&other.values).all(|(a, b)| a.to_bits() == b.to_bits()), "{t} threads");
    }
    // Channel 1 of each image is the transform of that channel alone.
    let plane: Vec<f64> = (0..h * w).map(|q| ds.pixels[q * c + 1] as f64).collect();
    let alone = scatter_f64(&plane, 1, h, w, &p).unwrap();
    let got = &one.values[p.paths() * one.h * one.w..][..alone.len()];
    assert!(got.iter().zip(&alone).all(|(a, b)| *a == *b as f32));
}

/// Order 0 is the image low-passed by φ and subsampled: a constant image
/// gives a constant map of that value times φ̂(0) (the Gabor's mass,
/// π/3.1415 with Kymatio's normalisation); its order-1 and order-2 paths
/// vanish (the wavelets have zero mean).
#[test]
fn a_constant_image_has_only_its_low_pass() {
    let p = ScatteringParams { j: 2, l: 8, order: 2 };
    let out = scatter_f64(&vec![0.5; 16 * 16], 1, 16, 16, &p).unwrap();
    let (oh, ow) = p.out_size(16, 16);
    let plane = oh * ow;
    let expect = 0.5 * std::f64::consts::PI / 3.1415;
    assert!(out[..plane].iter().all(|v| (v - expect).abs() < 1e-4), "{:?}", &out[..plane]);
    assert!(out[plane..].iter().all(|v| v.abs() < 1e-6));
}

/// Settings the transform cannot apply are refused, not panicked on.
#[test]
fn impossible_settings_are_refused() {
    let ok = ScatteringParams { j: 2, l: 8, order: 2 };
    ok.check(4, 4).unwrap();
    for (p, h, w) in [
        (ScatteringParams { j: 0, ..ok.clone() }, 32, 32),
        (ScatteringParams { j: 3, ..ok.clone() }, 32, 7),
        (ScatteringParams { j: 200, ..ok.clone() }, 32, 32),
        (ScatteringParams { l: 0, ..ok.clone() }, 32, 32),
        (ScatteringParams { order: 3, ..ok.clone() }, 32, 32),
    ] {
        assert!(p.check(h, w).is_err(), "{p:?} on {h} × {w}");
    }
    assert!(scatter_f64(&[0.0; 10], 1, 4, 4, &ok).is_err());
}
