//! Conventions test: the DSC-Net COIL-20 autoencoder, imported, must
//! reconstruct COIL20.mat (rows reshaped row-major, as the references do)
//! with a total squared error ≈ 0.578. That pins padding, cropping, filter
//! layouts and pixel order. Skips visibly when ../shared/data is absent.

use std::path::PathBuf;
use udll::AeArch;
use udll::data::{LoadOptions, load_dataset};
use udll::import_reference;

fn shared_data() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.join("COIL20.mat").exists() && p.join("dsc_pretrained/manifest.json").exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: ../shared/data (COIL20.mat, dsc_pretrained/) is absent");
        None
    }
}

#[test]
fn reference_coil20_autoencoder_reconstructs_with_the_published_error() {
    let Some(dir) = shared_data() else { return };
    let ds = load_dataset(&dir.join("COIL20.mat"), &LoadOptions::default()).unwrap();
    let arch = AeArch { height: 32, width: 32, channels_in: 1, channels: vec![15], kernels: vec![3], final_relu: true };
    let mut ae = import_reference(&dir.join("dsc_pretrained"), "coil20", &arch).unwrap();
    let z = ae.encode(&ds.pixels, ds.n);
    assert_eq!(z.len(), ds.n * 3840);
    let recon = ae.decode(&z, ds.n);
    let err: f64 = recon.iter().zip(&ds.pixels).map(|(a, b)| ((a - b) as f64).powi(2)).sum();
    let total: f64 = ds.pixels.iter().map(|v| (*v as f64).powi(2)).sum();
    eprintln!("COIL-20 reference reconstruction: total squared error {err:.4} (relative {:.2e})", err / total);
    assert!((err - 0.578).abs() < 0.01, "total squared error {err}, expected ≈ 0.578");
}

#[test]
fn reference_import_refuses_a_mismatched_architecture() {
    let Some(dir) = shared_data() else { return };
    let arch = AeArch { height: 32, width: 32, channels_in: 1, channels: vec![3, 3, 5], kernels: vec![3, 3, 3], final_relu: true };
    let err = import_reference(&dir.join("dsc_pretrained"), "coil20", &arch).unwrap_err().to_string();
    assert!(err.contains("coil20"), "{err}");
}

#[test]
fn reference_orl_autoencoder_reconstructs_raw_orl() {
    let Some(dir) = shared_data() else { return };
    let ds = load_dataset(&dir.join("ORL_32x32.mat"), &LoadOptions::default()).unwrap();
    let arch = AeArch { height: 32, width: 32, channels_in: 1, channels: vec![3, 3, 5], kernels: vec![3, 3, 3], final_relu: true };
    let mut ae = import_reference(&dir.join("dsc_pretrained"), "orl", &arch).unwrap();
    let x = ds.scaled_pixels(255.0);
    let z = ae.encode(&x, ds.n);
    assert_eq!(z.len(), ds.n * 80);
    let recon = ae.decode(&z, ds.n);
    let err: f64 = recon.iter().zip(&x).map(|(a, b)| ((a - b) as f64).powi(2)).sum();
    let total: f64 = x.iter().map(|v| (*v as f64).powi(2)).sum();
    eprintln!("ORL reference reconstruction: relative squared error {:.4}", err / total);
    assert!(err / total < 0.03, "relative error {}", err / total);
}
