//! Mutation test of every reader: from small valid files of each input
//! format udll reads (MAT in several layouts, NPY images and labels, a
//! coefficient matrix, a checkpoint, a prior graph CSV, a manifest, image
//! files of each decoded format, an NPY read by rows, a fitted run's model
//! files, a shard's manifest and labels), a
//! seeded generator makes thousands of corrupted variants — bit flips,
//! truncations, spliced and duplicated blocks, header fields set to 0, −1,
//! 2³¹ and 2⁶³ — and feeds each to its reader. Every one must come back as
//! `Ok` or a clean error: no panic (the readers run under `catch_unwind`),
//! no abort, and the process's peak memory stays below a bound.

mod common;
use common::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use udll::data::mat::{MatOut, Storage, mat_bytes};
use udll::internal::Rng;

/// Variants per seed file.
const VARIANTS: usize = 1000;
/// The most the whole test may hold at once (peak RSS).
const PEAK_RSS_BOUND_KB: u64 = 1 << 20;

/// Copy `bytes` over `b` from `at`, as far as `b` reaches.
fn overwrite(b: &mut [u8], at: usize, bytes: &[u8]) {
    let end = (at + bytes.len()).min(b.len());
    if at < end {
        b[at..end].copy_from_slice(&bytes[..end - at]);
    }
}

/// One corruption of `good`, drawn from `rng`.
fn mutate(good: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = good.to_vec();
    let below = |rng: &mut Rng, n: usize| (rng.next_u64() % n.max(1) as u64) as usize;
    match below(rng, 6) {
        // Flip one to eight bits.
        0 => {
            for _ in 0..1 + below(rng, 8) {
                let i = below(rng, b.len());
                b[i] ^= 1 << below(rng, 8);
            }
        }
        // Truncate.
        1 => b.truncate(below(rng, b.len())),
        // Overwrite a block with another part of the file.
        2 => {
            let (from, to, len) = (below(rng, b.len()), below(rng, b.len()), 1 + below(rng, 64));
            let chunk: Vec<u8> = b[from..(from + len).min(b.len())].to_vec();
            overwrite(&mut b, to, &chunk);
        }
        // Duplicate a block in place (the file grows).
        3 => {
            let (from, len) = (below(rng, b.len()), 1 + below(rng, 256));
            let chunk: Vec<u8> = b[from..(from + len).min(b.len())].to_vec();
            b.splice(from..from, chunk);
        }
        // A 4-byte header field set to 0, -1 or 2^31.
        4 => {
            let at = 4 * below(rng, b.len().min(512) / 4);
            let v: [u8; 4] = [0u32, u32::MAX, 1 << 31][below(rng, 3)].to_le_bytes();
            overwrite(&mut b, at, &v);
        }
        // An 8-byte header field set to 0, -1 or 2^63.
        _ => {
            let at = 8 * below(rng, b.len().min(512) / 8);
            let v: [u8; 8] = [0u64, u64::MAX, 1 << 63][below(rng, 3)].to_le_bytes();
            overwrite(&mut b, at, &v);
        }
    }
    b
}

/// Feed `VARIANTS` corruptions of `good` to `read`; count the clean errors.
/// A panic fails the test with the seed and variant that caused it.
fn fuzz(name: &str, good: &[u8], seed: u64, read: impl Fn(&[u8]) -> udll::Result<()>) -> usize {
    read(good).unwrap_or_else(|e| panic!("{name}: the seed file itself is refused: {e}"));
    let mut rng = Rng::stream(seed, name);
    let mut errors = 0;
    for v in 0..VARIANTS {
        let bytes = mutate(good, &mut rng);
        match catch_unwind(AssertUnwindSafe(|| read(&bytes))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                assert!(!e.to_string().is_empty());
                errors += 1;
            }
            Err(_) => panic!("{name}: variant {v} (seed {seed}) made the reader panic"),
        }
    }
    eprintln!("{name}: {errors} of {VARIANTS} variants refused cleanly, the rest read");
    errors
}

/// Peak resident memory of this process, from /proc (None elsewhere).
fn peak_rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn mat_file(compressed: bool, transposed: bool) -> Vec<u8> {
    let (n, d) = (6, 16);
    let fea: Vec<f64> = (0..n * d).map(|i| (i % 7) as f64 / 7.0).collect();
    let gnd: Vec<f64> = (0..n).map(|i| (i / 3 + 1) as f64).collect();
    let dims = if transposed { vec![d, n] } else { vec![n, d] };
    let gdims = if transposed { vec![1, n] } else { vec![n, 1] };
    mat_bytes(
        &[
            MatOut { name: "fea", dims, data: &fea, storage: if transposed { Storage::Uint8 } else { Storage::Double } },
            MatOut { name: "gnd", dims: gdims, data: &gnd, storage: Storage::Uint8 },
        ],
        compressed,
    )
}

/// Write `bytes` to a scratch file and run `read` on its path.
fn through_file(dir: &Path, name: &str, bytes: &[u8], read: impl Fn(&Path) -> udll::Result<()>) -> udll::Result<()> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    read(&p)
}

#[test]
fn every_reader_survives_corrupted_input() {
    let dir = scratch("mutation");
    let mut total = 0;

    // MAT-files: compressed and plain, samples as rows and as columns.
    for (k, (compressed, transposed)) in [(false, false), (true, false), (false, true), (true, true)].into_iter().enumerate() {
        let good = mat_file(compressed, transposed);
        total += fuzz(&format!("mat-{k}"), &good, 1, |b| through_file(&dir, "m.mat", b, |p| udll::load_dataset(p, &udll::LoadOptions::default()).map(|_| ())));
    }

    // NPY images, labels and a coefficient matrix.
    let images = dir.join("images.npy");
    udll::io::npy_out::write_npy_f32(&images, &(0..6 * 16).map(|i| i as f32 / 96.0).collect::<Vec<_>>(), 6, 16).unwrap();
    let good = std::fs::read(&images).unwrap();
    total += fuzz("npy-images", &good, 2, |b| through_file(&dir, "i.npy", b, |p| udll::data::npy::read_npy_images(p, None).map(|_| ())));
    total += fuzz("npy-coef", &good, 3, |b| through_file(&dir, "c.npy", b, |p| udll::io::npy_out::read_npy_matrix(p).map(|_| ())));
    let labels_npy = {
        // A 1-D int64 array of 6 labels, as numpy writes it.
        let header = "{'descr': '<i8', 'fortran_order': False, 'shape': (6,), }";
        let mut h = format!("{header:<117}\n").into_bytes();
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.append(&mut h);
        (0..6i64).for_each(|v| b.extend_from_slice(&(v / 3).to_le_bytes()));
        b
    };
    total += fuzz("npy-labels", &labels_npy, 4, |b| through_file(&dir, "l.npy", b, |p| udll::data::npy::read_npy_labels(p, 6).map(|_| ())));

    // A checkpoint: each variant is re-signed (its SHA-256 recomputed), so
    // the parser behind the checksum is what is exercised.
    let arch = udll::AeArch { height: 8, width: 8, channels_in: 1, channels: vec![3], kernels: vec![3], final_relu: true };
    let ae = udll::ConvAutoencoder::<f32>::new(&arch).unwrap();
    let good = udll::Checkpoint::from_autoencoder(&ae, "autoencoder", serde_json::json!({"n": 6})).to_bytes();
    total += fuzz("checkpoint", &good, 5, |b| {
        let mut signed = b.get(..b.len().saturating_sub(32)).unwrap_or_default().to_vec();
        let sum = udll::io::hash::sha256_bytes(&signed);
        signed.extend_from_slice(&sum);
        let c = udll::Checkpoint::from_bytes(Path::new("c.ckpt"), &signed)?;
        c.autoencoder(Path::new("c.ckpt")).map(|_| ())
    });

    // A prior graph CSV and a manifest (text).
    let graph = "# udll prior graph (UDLL Eq. 17): n=4 k=1\nj,i,a_ij\n0,1,1e0\n1,0,1e0\n2,3,1e0\n3,2,1e0\n";
    total += fuzz("graph-csv", graph.as_bytes(), 6, |b| udll::PriorGraph::from_csv(Path::new("g.csv"), &String::from_utf8_lossy(b)).map(|_| ()));
    let out = dir.join("run");
    let o = run(
        &["run", "--synthetic-objects", "3", "--synthetic-poses", "4", "--pretrain-epochs", "2", "--epochs", "2", "--out", out.to_str().unwrap(), "--quiet"],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let good = std::fs::read(out.join("manifest.json")).unwrap();
    total += fuzz("manifest", &good, 7, |b| through_file(&dir, "manifest.json", b, |p| udll::io::manifest::Manifest::load(p).map(|_| ())));

    // Image files of each format a folder may hold, read as a folder.
    let img = image::GrayImage::from_fn(12, 10, |x, y| image::Luma([(x * 20 + y * 7) as u8]));
    for (k, ext) in ["png", "jpg", "bmp", "tif", "pgm"].into_iter().enumerate() {
        let folder = dir.join(format!("folder-{ext}"));
        std::fs::create_dir_all(&folder).unwrap();
        let file = folder.join(format!("a.{ext}"));
        img.save(&file).unwrap();
        let good = std::fs::read(&file).unwrap();
        let files = vec![format!("a.{ext}")];
        total += fuzz(&format!("image-{ext}"), &good, 8 + k as u64, |b| {
            std::fs::write(&file, b).unwrap();
            udll::data::folder::load_folder_files(&folder, &files, &udll::FolderOptions::default(), None).map(|_| ())
        });
    }

    // A uint8 NPY read by rows (what --fit-sample and the shards read):
    // opened, then a slice and a gather of rows.
    let big = dir.join("big.npy");
    let o = run(&["synth", "--n", "40", "--poses", "10", "--out", big.to_str().unwrap(), "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let good = std::fs::read(&big).unwrap();
    total += fuzz("npy-rows", &good, 13, |b| {
        through_file(&dir, "rows.npy", b, |p| {
            let src = udll::data::stream::ImageSource::open(p, &udll::LoadOptions::default())?;
            src.slice(src.n / 2..src.n)?;
            src.gather(&[0, src.n.saturating_sub(1)]).map(|_| ())
        })
    });

    // A landmark run's model files, as `udll assign` builds its model from
    // them: landmarks.csv, landmark_codes.npy, labels.csv, the checkpoint.
    let model = dir.join("model");
    let o = run(
        &[
            "run",
            "--synthetic-objects",
            "3",
            "--synthetic-poses",
            "8",
            "--landmarks",
            "12",
            "--pretrain-epochs",
            "2",
            "--epochs",
            "2",
            "--out",
            model.to_str().unwrap(),
            "--quiet",
            "--no-report",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run_dir = udll::app::run_dir::RunDir::open(&model).unwrap();
    for (k, name) in ["landmarks.csv", "landmark_codes.npy", "labels.csv", "finetuned.ckpt"].into_iter().enumerate() {
        let good = std::fs::read(model.join(name)).unwrap();
        total += fuzz(&format!("model-{name}"), &good, 14 + k as u64, |b| {
            let get = |f: &str| if f == name { Ok(Some(b.to_vec())) } else { Ok(std::fs::read(model.join(f)).ok()) };
            udll::app::assign::AssignModel::from_artefacts(&run_dir.manifest.config, &get, &model, udll::app::assign::DEFAULT_RIDGE).map(|_| ())
        });
    }

    // A shard (`udll assign --shard 0/1`): its manifest, as `udll merge`
    // reads it, and its labels.csv rows.
    let shard = dir.join("shard");
    let o = run(
        &["assign", "--model", model.to_str().unwrap(), "--data", big.to_str().unwrap(), "--shard", "0/1", "--out", shard.to_str().unwrap(), "--quiet"],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let good = std::fs::read(shard.join("manifest.json")).unwrap();
    let merged = dir.join("merged");
    total += fuzz("shard-manifest", &good, 18, |b| {
        std::fs::write(shard.join("manifest.json"), b).unwrap();
        udll::app::merge::merge(std::slice::from_ref(&shard), &merged, &[], 1, &udll::Silent).map(|_| ())
    });
    std::fs::write(shard.join("manifest.json"), &good).unwrap();
    let good = std::fs::read(shard.join("labels.csv")).unwrap();
    total += fuzz("shard-labels", &good, 19, |b| udll::io::labels::parse_labels_rows(Path::new("labels.csv"), &String::from_utf8_lossy(b)).map(|_| ()));

    assert!(total > VARIANTS, "the corruptions are refused, not all read back ({total} errors)");
    if let Some(kb) = peak_rss_kb() {
        assert!(kb < PEAK_RSS_BOUND_KB, "peak RSS {kb} kB");
    }
}
