//! Image folders as data (`--data DIR`): the 1 440 COIL-20 images written
//! as PNG files give the same clustering as the MAT file, `labels.csv`
//! names each file, `udll assign --data DIR` reads a folder the same way,
//! and the manifest's hash of the folder covers every file.

mod common;
use common::*;
use std::path::Path;

/// Write every image of `ds` as a 16-bit grey PNG `cNN/IIII.png` (class,
/// row index) under `dir`, from its stored values (the order the network
/// reads; for COIL20.mat that is the transposed picture). Returns the
/// largest rounding error of the 16-bit values (COIL20.mat's doubles are
/// not all multiples of 1/255, so 8 bits would round them).
fn write_png_folder(ds: &udll::Dataset, dir: &Path) -> f32 {
    let labels = ds.labels.as_ref().unwrap();
    let mut worst = 0f32;
    for i in 0..ds.n {
        let px = &ds.pixels[i * ds.image_len()..][..ds.image_len()];
        let words: Vec<u16> = px.iter().map(|v| (v * 65535.0).round() as u16).collect();
        worst = px.iter().zip(&words).map(|(v, &b)| (v - b as f32 / 65535.0).abs()).fold(worst, f32::max);
        let path = dir.join(format!("c{:02}/{i:04}.png", labels[i]));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::ImageBuffer::<image::Luma<u16>, _>::from_raw(ds.width as u32, ds.height as u32, words).unwrap().save(&path).unwrap();
    }
    worst
}

fn metric(dir: &Path, key: &str) -> f64 {
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    m[key].as_f64().unwrap()
}

#[test]
fn coil20_as_png_files_clusters_as_the_mat_file_does() {
    let Some(data) = shared_data() else { return };
    let mat = data.join("COIL20.mat");
    let ds = udll::load_dataset(&mat, &Default::default()).unwrap();
    let labels = ds.labels.clone().unwrap();
    assert!(labels.windows(2).all(|w| w[0] <= w[1]), "COIL20.mat is in class order, so the sorted paths keep its order");
    let root = scratch("folders_coil20");
    let images = root.join("coil20");
    let worst = write_png_folder(&ds, &images);
    assert!(worst < 1e-5, "{worst}");

    let from_mat = root.join("mat");
    let o = run(
        &["run", "--data", mat.to_str().unwrap(), "--preset", "coil20-scat", "--seed", "0", "--out", from_mat.to_str().unwrap(), "--quiet", "--no-report"],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let from_dir = root.join("dir");
    let o = run(
        &[
            "run",
            "--data",
            images.to_str().unwrap(),
            "--labels-from-folders",
            "--preset",
            "coil20-scat",
            "--seed",
            "0",
            "--out",
            from_dir.to_str().unwrap(),
            "--quiet",
            "--no-report",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (acc_mat, acc_dir) = (metric(&from_mat, "acc"), metric(&from_dir, "acc"));
    assert_eq!(acc_mat, acc_dir, "the same pixels and order give the same clustering");
    assert!(acc_dir > 0.9, "{acc_dir}");
    // The same labels, and the folder's labels.csv names each file.
    let csv = std::fs::read_to_string(from_dir.join("labels.csv")).unwrap();
    let mat_csv = std::fs::read_to_string(from_mat.join("labels.csv")).unwrap();
    assert!(csv.starts_with("index,predicted,true,matched,file\n"), "{}", &csv[..80]);
    for (a, b) in csv.lines().skip(1).zip(mat_csv.lines().skip(1)) {
        assert!(a.starts_with(&format!("{b},")), "{a} / {b}");
    }
    assert!(csv.lines().nth(1).unwrap().ends_with(",c00/0000.png"));
    assert_eq!(csv.lines().count(), 1441);

    // The manifest records the folder with one hash over every file; the
    // run audits clean, and a renamed file is caught.
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(from_dir.join("manifest.json")).unwrap()).unwrap();
    let input = &manifest["inputs"][0];
    assert_eq!(input["path"].as_str().unwrap(), images.to_str().unwrap());
    let (hash, bytes) = udll::io::hash::sha256_tree(&images).unwrap();
    assert_eq!(input["sha256"].as_str().unwrap(), hash);
    assert!(input["bytes"].as_u64().unwrap() == bytes && bytes > 100_000);
    let o = run(&["audit", from_dir.to_str().unwrap(), "--threads", "2"], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));

    // New images from a folder: the odd poses of the first two classes.
    let new = root.join("new");
    for i in (0..144).filter(|i| i % 2 == 1) {
        let name = format!("c{:02}/{i:04}.png", labels[i]);
        std::fs::create_dir_all(new.join(&name).parent().unwrap()).unwrap();
        std::fs::copy(images.join(&name), new.join(&name)).unwrap();
    }
    let assigned = root.join("assigned");
    let o = run(
        &[
            "assign",
            "--model",
            from_dir.to_str().unwrap(),
            "--data",
            new.to_str().unwrap(),
            "--labels-from-folders",
            "--out",
            assigned.to_str().unwrap(),
            "--quiet",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(assigned.join("labels.csv")).unwrap();
    assert_eq!(csv.lines().count(), 73);
    assert!(csv.lines().nth(1).unwrap().ends_with(",c00/0001.png"), "{csv}");

    std::fs::rename(images.join("c00/0000.png"), images.join("c00/renamed.png")).unwrap();
    assert_ne!(udll::io::hash::sha256_tree(&images).unwrap().0, hash, "a renamed file changes the folder's hash");
    let o = run(&["audit", from_dir.to_str().unwrap(), "--threads", "1"], &[]);
    assert_clean_error(&o, "has changed since the run");
}

/// A folder without images, or with an unreadable one, is a clean error
/// naming it; with `--skip-unreadable` the run goes on and says which.
#[test]
fn bad_folders_are_clean_errors() {
    let root = scratch("folders_bad");
    let empty = root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("readme.txt"), "no images here").unwrap();
    let out = root.join("out");
    assert_clean_error(&run(&["run", "--data", empty.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"], &[]), "no image files");
    let imgs = root.join("imgs");
    for c in 0..3 {
        for k in 0..6 {
            let p = imgs.join(format!("class{c}/{k}.png"));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            image::GrayImage::from_fn(16, 16, |x, y| image::Luma([((x * (c + 1) + y * k) % 256) as u8])).save(&p).unwrap();
        }
    }
    std::fs::write(imgs.join("class1/broken.jpg"), b"\xff\xd8\xff not a jpeg").unwrap();
    let args = ["run", "--data", imgs.to_str().unwrap(), "--method", "edsc", "--labels-from-folders", "--out", out.to_str().unwrap()];
    assert_clean_error(&run(&args, &[]), "class1/broken.jpg");
    assert!(!out.exists());
    let mut skipping = args.to_vec();
    skipping.push("--skip-unreadable");
    let o = run(&skipping, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("labels.csv")).unwrap();
    assert_eq!(csv.lines().count(), 19);
    assert!(!csv.contains("broken.jpg"));
}
