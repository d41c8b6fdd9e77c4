//! The MAT reader on files the tests write: compressed and plain
//! elements, double and uint8 storage, samples on rows or on columns, and
//! the 3-D pixels × images × classes layout of the Yale B release.

use udll::data::mat::{MatOut, Storage, mat_bytes, parse_mat};
use udll::data::{LoadOptions, load_dataset};

fn write(dir: &std::path::Path, name: &str, vars: &[MatOut], compressed: bool) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&p, mat_bytes(vars, compressed)).unwrap();
    p
}

fn dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mat_layouts")
}

#[test]
fn rows_columns_storage_and_compression() {
    let (n, h, w) = (4usize, 3usize, 3usize);
    let d = h * w;
    // Sample s, pixel q has value (10·s + q); stored column-major.
    let rows: Vec<f64> = (0..d).flat_map(|q| (0..n).map(move |s| (10 * s + q) as f64)).collect();
    let labels: Vec<f64> = vec![3.0, 3.0, 7.0, 7.0];
    for compressed in [false, true] {
        for storage in [Storage::Double, Storage::Uint8] {
            let p = write(
                &dir(),
                &format!("rows_{compressed}_{storage:?}.mat"),
                &[
                    MatOut { name: "fea", dims: vec![n, d], data: &rows, storage },
                    MatOut { name: "gnd", dims: vec![n, 1], data: &labels, storage: Storage::Uint8 },
                ],
                compressed,
            );
            let ds = load_dataset(&p, &LoadOptions::default()).unwrap();
            assert_eq!((ds.n, ds.height, ds.width), (n, h, w));
            assert_eq!(ds.labels.as_deref(), Some(&[0, 0, 1, 1][..]));
            // Values are 0..255 → divided by 255; pixel q of sample s.
            assert!((ds.pixels[2 * d + 5] - (25.0 / 255.0)).abs() < 1e-6);
        }
    }
    // Samples on columns (Deng Cai's YaleB_32x32): fea is pixels × images.
    let cols: Vec<f64> = (0..n).flat_map(|s| (0..d).map(move |q| (10 * s + q) as f64)).collect();
    let p = write(
        &dir(),
        "cols.mat",
        &[
            MatOut { name: "fea", dims: vec![d, n], data: &cols, storage: Storage::Uint8 },
            MatOut { name: "gnd", dims: vec![1, n], data: &labels, storage: Storage::Uint8 },
        ],
        true,
    );
    let ds = load_dataset(&p, &LoadOptions::default()).unwrap();
    assert_eq!((ds.n, ds.height), (n, h));
    assert!((ds.pixels[2 * d + 5] - (25.0 / 255.0)).abs() < 1e-6);
}

#[test]
fn yale_b_three_dimensional_layout() {
    // Y: pixels × images × people, 6 × 2 × 3, images 3 × 2 column-major.
    let (h, w, per, people) = (3usize, 2usize, 2usize, 3usize);
    let d = h * w;
    let y: Vec<f64> = (0..people).flat_map(|p| (0..per).flat_map(move |j| (0..d).map(move |q| (100 * p + 10 * j + q) as f64))).collect();
    let path = write(&dir(), "yaleb.mat", &[MatOut { name: "Y", dims: vec![d, per, people], data: &y, storage: Storage::Uint8 }], true);
    let ds = load_dataset(&path, &LoadOptions { image_size: Some((h, w)), ..Default::default() }).unwrap();
    assert_eq!(ds.n, per * people);
    assert_eq!(ds.labels.as_deref(), Some(&[0, 0, 1, 1, 2, 2][..]));
    // Person 2, image 1, pixel q = 4 sits at column-major (y, x) = (1, 1).
    let s = 2 * per + 1;
    assert!((ds.pixels[s * d + w + 1] - (214.0 / 255.0)).abs() < 1e-6);
}

#[test]
fn yale_b_crop_size_and_coil100_layout_need_no_flags() {
    // YaleBCrop025: 2016 pixels per image are 48 × 42 without --image-size.
    let (d, per, people) = (48 * 42, 2usize, 2usize);
    let y: Vec<f64> = (0..d * per * people).map(|i| (i % 256) as f64).collect();
    let path = write(&dir(), "yaleb_crop.mat", &[MatOut { name: "Y", dims: vec![d, per, people], data: &y, storage: Storage::Uint8 }], true);
    let ds = load_dataset(&path, &LoadOptions::default()).unwrap();
    assert_eq!((ds.n, ds.height, ds.width, ds.num_classes()), (4, 48, 42, Some(2)));
    // COIL-100 as released: fea (images × 1024, 0..255) and gnd 1..K.
    let (n, d) = (6usize, 1024usize);
    let fea: Vec<f64> = (0..n * d).map(|i| (i * 7 % 256) as f64).collect();
    let gnd: Vec<f64> = vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
    let path = write(
        &dir(),
        "coil100_like.mat",
        &[
            MatOut { name: "fea", dims: vec![n, d], data: &fea, storage: Storage::Uint8 },
            MatOut { name: "gnd", dims: vec![n, 1], data: &gnd, storage: Storage::Double },
        ],
        true,
    );
    let ds = load_dataset(&path, &LoadOptions::default()).unwrap();
    assert_eq!((ds.n, ds.height, ds.width), (n, 32, 32));
    assert_eq!(ds.labels.as_deref(), Some(&[0, 0, 1, 1, 2, 2][..]));
}

#[test]
fn parse_reports_variables_and_storage() {
    let a: Vec<f64> = vec![1.5, 2.5];
    let b: Vec<f64> = vec![1.0, 2.0, 3.0];
    let bytes = mat_bytes(
        &[
            MatOut { name: "a", dims: vec![1, 2], data: &a, storage: Storage::Double },
            MatOut { name: "bb", dims: vec![3, 1], data: &b, storage: Storage::Uint8 },
        ],
        true,
    );
    let vars = parse_mat(std::path::Path::new("x.mat"), &bytes).unwrap();
    assert_eq!(vars.len(), 2);
    assert_eq!(vars[0].data, a);
    assert_eq!(vars[1].stored_as, "uint8");
    assert_eq!(vars[1].dims, vec![3, 1]);
}

#[test]
fn shared_datasets_have_the_documented_shapes() {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if !p.join("COIL20.mat").exists() {
        eprintln!("SKIPPED: ../shared/data is absent");
        return;
    }
    for (file, n, k) in [("COIL20.mat", 1440, 20), ("ORL_32x32.mat", 400, 40), ("YaleB_32x32.mat", 2414, 38)] {
        let ds = load_dataset(&p.join(file), &LoadOptions::default()).unwrap();
        assert_eq!((ds.n, ds.height, ds.width, ds.num_classes()), (n, 32, 32, Some(k)), "{file}");
        assert!(ds.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
